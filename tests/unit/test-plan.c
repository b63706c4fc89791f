/* Unit tests for the plan parser: uuu's own i.MX6 scripts, every command
 * and option, parameters, every error path and hostile input. Images are
 * generated at test time by tests/data/plans/mkimages.sh (mkimage, img2simg). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/image.h"
#include "flashd/plan.h"
#include "flashd/pool.h"
#include "plan-testlib.h"
#include "testutil.h"

static char *read_data(const char *name, size_t *len)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/tests/data/plans/%s", getenv("top_srcdir") ? getenv("top_srcdir") : ".", name);
	return testutil_slurp(path, len);
}

/* ---- NXP's own scripts ---- */

static void check_emmc_params(const struct plan *p);

static void test_uuu_emmc(void **state)
{
	size_t len;
	char *text = read_data("uuu-emmc.lst", &len);
	const char *args[] = {plantest_path("u-boot.imx")};
	struct plan *p = plantest_load_ok(text, args, 1);
	const struct plan_step *s;
	char want[65];

	assert_int_equal(plan_n_steps(p), 15);
	s = plan_step(p, 0);
	assert_int_equal(s->line, 7);
	assert_int_equal(s->proto, PLAN_PROTO_SDP);
	assert_int_equal(s->op, PLAN_OP_BOOT);
	assert_true(s->runs_on_imx6);
	assert_string_equal(s->text, "SDP: boot -f _flash.bin");
	assert_string_equal(s->file, plantest_path("u-boot.imx"));
	assert_non_null(s->image);
	assert_true(s->image->is_imx);
	assert_int_equal(s->image->imx.entry, 0x17800000);
	assert_int_equal(s->image_len, plantest_fsize("u-boot.imx"));
	testutil_sha256sum(plantest_path("u-boot.imx"), want);
	assert_string_equal(s->image->sha256, want);
	/* u-boot.imx is a full U-Boot: no SPL comes up, and the SPL lines
	 * (SDPU -offset 0x57c00 beyond its end, SDPV -skipspl with nothing
	 * after it) cannot be computed: display only */
	assert_false(plan_boots_spl(p));
	assert_false(plan_spl_reachable(p));
	for (size_t i = 1; i <= 7; i++)
		assert_false(plan_step(p, i)->runs_on_imx6);
	assert_null(plan_step(p, 1)->image);
	assert_int_equal(plan_step(p, 1)->proto, PLAN_PROTO_SDPS);
	assert_int_equal(plan_step(p, 3)->proto, PLAN_PROTO_SDPU);
	assert_int_equal(plan_step(p, 3)->image_offset, 0x57c00);
	assert_int_equal(plan_step(p, 6)->proto, PLAN_PROTO_SDPV);
	assert_true(plan_step(p, 6)->skipspl);
	s = plan_step(p, 8);
	assert_int_equal(s->op, PLAN_OP_UCMD);
	assert_string_equal(s->fb_cmd, "UCmd:setenv fastboot_dev mmc");
	assert_string_equal(plan_step(p, 9)->fb_cmd, "UCmd:setenv mmcdev ${emmc_dev}");
	s = plan_step(p, 11);
	assert_int_equal(s->line, 32);
	assert_int_equal(s->op, PLAN_OP_FLASH);
	assert_string_equal(s->arg, "bootloader");
	assert_string_equal(s->fb_cmd, "flash:bootloader");
	/* _image defaults to _flash.bin: the same file, opened once */
	assert_ptr_equal(s->image, plan_step(p, 0)->image);
	assert_int_equal(plan_n_images(p), 1);
	assert_string_equal(plan_step(p, 12)->fb_cmd, "UCmd:if env exists emmc_ack; then ; else setenv emmc_ack 0; fi;");
	assert_int_equal(plan_step(p, 14)->op, PLAN_OP_DONE);
	check_emmc_params(p);
	testutil_sha256sum(plantest_plan(), want);
	assert_string_equal(plan_sha256(p), want);
	assert_string_equal(plan_path(p), plantest_plan());
	plan_unref(p);
	/* without an argument uuu takes "_flash.bin" as a file name */
	plantest_expect_fail_len(text, len, NULL, 0,
				 "plan.lst:7: _flash.bin: No such file or directory (parameter "
				 "'_flash.bin' got no argument, so it is a file name, as in uuu)");
	free(text);
}

static void check_emmc_params(const struct plan *p)
{
	const char *name, *value;

	assert_int_equal(plan_n_params(p), 2);
	assert_int_equal(plan_param(p, 0, &name, &value), 0);
	assert_string_equal(name, "_flash.bin");
	assert_string_equal(value, plantest_path("u-boot.imx"));
	assert_int_equal(plan_param(p, 1, &name, &value), 0);
	assert_string_equal(name, "_image");
	assert_string_equal(value, plantest_path("u-boot.imx"));
	assert_int_equal(plan_param(p, 2, &name, &value), -ENOENT);
}

static void test_uuu_emmc_all(void **state)
{
	size_t len;
	char *text = read_data("uuu-emmc_all.lst", &len);
	const char *args[] = {plantest_path("u-boot.imx"), plantest_path("rootfs.img")};
	const char *tagged[] = {plantest_path("tagged.bin"), plantest_path("rootfs.img")};
	const char *wrong[] = {plantest_path("u-boot.imx"), plantest_path("rootfs.simg")};
	struct plan *p = plantest_load_ok(text, args, 2);
	const struct plan_step *s;

	assert_int_equal(plan_n_steps(p), 16);
	s = plan_step(p, 0);
	assert_int_equal(s->op, PLAN_OP_BOOT);
	assert_int_equal(s->scan_limit, 0x800000);
	s = plan_step(p, 11);
	assert_int_equal(s->line, 34);
	assert_true(s->raw2sparse);
	assert_string_equal(s->arg, "all");
	assert_false(s->image->sparse.sparse);
	assert_int_equal(s->image->sparse.expanded_size, 1 << 20);
	s = plan_step(p, 12);
	assert_true(s->scanterm);
	assert_int_equal(s->image_offset, 0); /* no tag: the whole file */
	assert_int_equal(s->image_len, plantest_fsize("u-boot.imx"));
	assert_int_equal(plan_n_images(p), 2);
	plan_unref(p);
	/* a bootloader extracted by its uuu tag from a disk image, IVT at 0x400 */
	p = plantest_load_ok(text, tagged, 2);
	s = plan_step(p, 0);
	assert_int_equal(s->image->imx.ivt_offset, 0x400);
	s = plan_step(p, 12);
	assert_int_equal(s->image_offset, 0x400);
	assert_int_equal(s->image_len, plantest_fsize("u-boot.imx"));
	plan_unref(p);
	plantest_expect_fail_len(text, len, wrong, 2, "plan.lst:34: ");
	plantest_expect_fail_len(text, len, wrong, 2,
				 "rootfs.simg: -raw2sparse given, but the image is already sparse");
	free(text);
}

/* the seed-style flow from design.md §4, trailing comments included */
static void test_design_example(void **state)
{
	char text[2048];
	struct plan *p;
	const struct plan_step *s;

	symlink(plantest_path("u-boot.imx"), plantest_path("uboot-fastboot.imx"));
	testutil_write_file(plantest_path("mbr.bin"), "\x55\xaa", 2);
	testutil_write_file(plantest_path("env-zero.bin"), "\0\0\0\0", 4);
	snprintf(text, sizeof(text),
		 "uuu_version 1.4.0\n"
		 "# fastboot-enabled U-Boot, loaded into RAM over SDP\n"
		 "SDP: boot -f uboot-fastboot.imx\n"
		 "FB: getvar version-bootloader\n"
		 "FB: flash mbr mbr.bin\n"
		 "FB: flash bootloader u-boot.imx        # raw region at 0x400 (U-Boot fastboot raw partition)\n"
		 "FB: flash uboot-env env-zero.bin       # zeroed file: U-Boot's erase of a small raw region may do nothing\n"
		 "FB: flash -raw2sparse rootfs rootfs.img\n"
		 "FB: reboot\n"
		 "FB: done\n");
	p = plantest_load_ok(text, NULL, 0);
	assert_int_equal(plan_n_steps(p), 8);
	s = plan_step(p, 3);
	assert_string_equal(s->text, "FB: flash bootloader u-boot.imx");
	assert_string_equal(s->file, "u-boot.imx");
	/* a symlink to the same file: one image, under the name it was first opened by */
	assert_string_equal(s->image->path, plantest_path("uboot-fastboot.imx"));
	assert_ptr_equal(s->image, plan_step(p, 0)->image);
	assert_string_equal(plan_step(p, 1)->fb_cmd, "getvar:version-bootloader");
	assert_string_equal(plan_step(p, 6)->fb_cmd, "reboot");
	assert_int_equal(plan_n_images(p), 4);
	plan_unref(p);
}

static void test_relative_to_plan_folder(void **state)
{
	char cwd[512];
	struct plan *p;

	mkdir(plantest_path("sub"), 0755);
	plantest_plan_at("sub/plan.lst");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	p = plantest_load_ok("SDP: boot -f ../u-boot.imx\nFB: flash a ../rootfs.img\n", NULL, 0);
	assert_string_equal(plan_step(p, 0)->image->path, plantest_path("sub/../u-boot.imx"));
	plan_unref(p);
	plantest_expect_fail("FB: flash a rootfs.img\n",
			     "sub/plan.lst:1: rootfs.img: No such file or directory");
	assert_int_equal(chdir(cwd), 0);
	plantest_plan_at("plan.lst");
}

/* ---- lexical rules ---- */

static void test_comments_blank_cr(void **state)
{
	struct plan *p = plantest_load_ok_nw("uuu_version 1.2.39\r\n"
					  "\r\n"
					  "   \t\n"
					  "# column 0 comment\n"
					  "   # indented comment\n"
					  "FB: ucmd echo \"a # b\"   # trailing\r\n"
					  "FB: ucmd echo a#b\n"
					  "FB: ucmd echo a\t# tab before\n"
					  "FB: getvar version", /* no final newline */
					  NULL, 0);

	assert_int_equal(plan_n_steps(p), 4);
	assert_int_equal(plan_step(p, 0)->line, 6);
	assert_string_equal(plan_step(p, 0)->arg, "echo \"a # b\"");
	assert_string_equal(plan_step(p, 0)->text, "FB: ucmd echo \"a # b\"");
	assert_string_equal(plan_step(p, 1)->arg, "echo a#b");
	assert_string_equal(plan_step(p, 2)->arg, "echo a");
	assert_int_equal(plan_step(p, 3)->line, 9);
	plan_unref(p);
	p = plantest_load_ok_nw("uuu_version 1.4\nuuu_version 1.4.193.1\nFB: done\n", NULL, 0);
	plan_unref(p);
	plantest_expect_fail("uuu_version\nFB: done\n", "plan.lst:1: bad uuu_version line");
	plantest_expect_fail("uuu_version 1\nFB: done\n", "bad uuu_version");
	plantest_expect_fail("uuu_version 1.x\nFB: done\n", "bad uuu_version");
	plantest_expect_fail("uuu_version 1.4.0 beta\nFB: done\n", "bad uuu_version");
	plantest_expect_fail("uuu_version1.2.3.4.5\nFB: done\n", "bad uuu_version");
}

static void test_protocols(void **state)
{
	struct plan *p = plantest_load_ok("fb: getvar a\n"
					  "Fastboot: getvar b\n"
					  "FB[-t 30000]: ucmd sleep 20\n"
					  "FB [ -t 0x10 ] : erase misc\n"
					  "sdp: status\n"
					  "SDP[-t 100]: delay 5\n",
					  NULL, 0);

	assert_int_equal(plan_step(p, 0)->proto, PLAN_PROTO_FB);
	assert_int_equal(plan_step(p, 1)->proto, PLAN_PROTO_FB);
	assert_int_equal(plan_step(p, 0)->timeout_ms, 0);
	assert_int_equal(plan_step(p, 2)->timeout_ms, 30000);
	assert_int_equal(plan_step(p, 3)->timeout_ms, 16);
	assert_string_equal(plan_step(p, 3)->fb_cmd, "erase:misc");
	assert_int_equal(plan_step(p, 4)->op, PLAN_OP_STATUS);
	assert_int_equal(plan_step(p, 5)->delay_ms, 5);
	assert_int_equal(plan_step(p, 5)->timeout_ms, 100);
	plan_unref(p);
	plantest_expect_fail("FB getvar a\n", "plan.lst:1: expected 'PROTOCOL: command'");
	plantest_expect_fail("\"FB: getvar\" a\n", "plan.lst:1: expected 'PROTOCOL: command'");
	plantest_expect_fail("XYZ: done\n", "plan.lst:1: unknown protocol 'XYZ:'");
	plantest_expect_fail(": done\n", "unknown protocol ':'");
	plantest_expect_fail("FBK: ucmd ls\n", "unsupported protocol 'FBK:'");
	plantest_expect_fail("FB[-t 10: done\n", "missing ']'");
	plantest_expect_fail("FB[-t 10]x: done\n", "unexpected text after ']'");
	plantest_expect_fail("FB[-x 10]: done\n", "bad protocol option '[-x 10]' (only [-t MS])");
	plantest_expect_fail("FB[-t]: done\n", "bad protocol option");
	plantest_expect_fail("FB[-t 0]: done\n", "-t: bad timeout '0'");
	plantest_expect_fail("FB[-t 4294967296]: done\n", "-t: bad timeout");
	plantest_expect_fail("FB:\n", "plan.lst:1: missing command after 'FB:'");
}

static void test_fb_commands(void **state)
{
	char text[2048];
	struct plan *p;
	const struct plan_step *s;

	snprintf(text, sizeof(text),
		 "FB: getvar partition-type:boot\n"
		 "FB: ucmd setenv bootargs \"console=ttymxc0 quiet\"\n"
		 "FB: acmd reset\n"
		 "FB: oem format\n"
		 "FB: flash -raw2sparse -no-bmap -S 0x1000000 rootfs %s\n"
		 "FB: flash -scanterm -scanlimited 0x100000 bootloader tagged.bin\n"
		 "FB: download -f small.bin\n"
		 "FB: erase misc\n"
		 "FB: continue\n"
		 "FB: reboot\n"
		 "FB: delay 0x10\n"
		 "FB: DONE\n",
		 plantest_path("rootfs.img"));
	p = plantest_load_ok(text, NULL, 0);
	assert_int_equal(plan_n_steps(p), 12);
	assert_string_equal(plan_step(p, 0)->fb_cmd, "getvar:partition-type:boot");
	assert_string_equal(plan_step(p, 0)->arg, "partition-type:boot");
	assert_string_equal(plan_step(p, 1)->fb_cmd, "UCmd:setenv bootargs \"console=ttymxc0 quiet\"");
	assert_string_equal(plan_step(p, 2)->fb_cmd, "ACmd:reset");
	assert_int_equal(plan_step(p, 2)->op, PLAN_OP_ACMD);
	assert_string_equal(plan_step(p, 3)->fb_cmd, "oem format");
	s = plan_step(p, 4);
	assert_true(s->raw2sparse && s->no_bmap);
	assert_int_equal(s->sparse_limit, 0x1000000);
	assert_string_equal(s->arg, "rootfs");
	s = plan_step(p, 5);
	assert_int_equal(s->image_offset, 0x400);
	assert_int_equal(s->image_len, plantest_fsize("u-boot.imx"));
	s = plan_step(p, 6);
	assert_int_equal(s->op, PLAN_OP_DOWNLOAD);
	assert_null(s->fb_cmd);
	assert_int_equal(s->image_len, 16);
	assert_string_equal(plan_step(p, 7)->fb_cmd, "erase:misc");
	assert_string_equal(plan_step(p, 8)->fb_cmd, "continue");
	assert_string_equal(plan_step(p, 9)->fb_cmd, "reboot");
	assert_int_equal(plan_step(p, 10)->op, PLAN_OP_DELAY);
	assert_int_equal(plan_step(p, 10)->delay_ms, 16);
	assert_int_equal(plan_step(p, 11)->op, PLAN_OP_DONE);
	plan_unref(p);
	/* malformed tags (no size; a size larger than what precedes the tag): the whole file */
	p = plantest_load_ok("FB: flash -scanterm bootloader notag.bin\n", NULL, 0);
	assert_int_equal(plan_step(p, 0)->image_offset, 0);
	assert_int_equal(plan_step(p, 0)->image_len, plantest_fsize("notag.bin"));
	plan_unref(p);
	/* -scanlimited shorter than an MBR: not a disk image, the whole file */
	p = plantest_load_ok("FB: flash -scanterm -scanlimited 0x100 bootloader tagged.bin\n", NULL,
			     0);
	assert_int_equal(plan_step(p, 0)->image_offset, 0);
	assert_int_equal(plan_step(p, 0)->image_len, 1 << 20);
	plan_unref(p);
	/* a disk image without the tag, or with the tag beyond the limit: uuu stops */
	plantest_expect_fail("FB: flash -scanterm bootloader notag-mbr.bin\n",
			     "plan.lst:1: notag-mbr.bin: -scanterm: a disk image (MBR) without "
			     "uuu's bootloader tag");
	plantest_expect_fail("FB: flash -scanterm -scanlimited 0x1000 bootloader tagged.bin\n",
			     "This wic have NOT terminate tag after bootloader");
	/* a tab is U-Boot text: sent as written; an acmd of 63 bytes fits */
	p = plantest_load_ok(
	    "FB: ucmd setenv a\tb\n"
	    "FB: acmd echo 0123456789012345678901234567890123456789012345678901234567\n",
	    NULL, 0);
	assert_string_equal(plan_step(p, 0)->fb_cmd, "UCmd:setenv a\tb");
	assert_int_equal(strlen(plan_step(p, 1)->arg), PLAN_ACMD_MAX);
	plan_unref(p);
}

static void test_sdp_commands(void **state)
{
	struct plan *p = plantest_load_ok_nw(
	    "SDP: boot -f u-boot.imx -nojump -cleardcd -dcdaddr 0x00910000 -scanlimited 0x1000\n"
	    "SDP: dcd -f u-boot.imx -dcdaddr 0x00911000\n"
	    "SDP: write -f u-boot.imx -ivt 0\n"
	    "SDP: write -f rootfs.img -addr 0x12000000 -offset 0x1000 -scanterm\n"
	    "SDP: jump -f u-boot-boot.bin -ivt 0 -cleardcd\n"
	    "SDP: status\n"
	    "SDP: delay 100\n"
	    "SDP: done\n",
	    NULL, 0);
	const struct plan_step *s = plan_step(p, 0);

	assert_true(s->nojump && s->cleardcd);
	assert_int_equal(s->dcd_addr, 0x910000);
	assert_int_equal(s->scan_limit, 0x1000);
	s = plan_step(p, 1);
	assert_int_equal(s->op, PLAN_OP_DCD);
	assert_int_equal(s->dcd_addr, 0x911000);
	s = plan_step(p, 2);
	assert_true(s->use_ivt);
	assert_false(s->has_addr);
	s = plan_step(p, 3);
	assert_true(s->has_addr);
	assert_int_equal(s->addr, 0x12000000);
	assert_int_equal(s->image_offset, 0x1000);
	assert_int_equal(s->image_len, (1 << 20) - 0x1000);
	assert_false(s->image->is_imx);
	s = plan_step(p, 4);
	assert_int_equal(s->op, PLAN_OP_JUMP);
	assert_int_equal(s->image->imx.ivt_offset, 0x400);
	assert_int_equal(plan_step(p, 6)->delay_ms, 100);
	assert_null(plan_step(p, 7)->fb_cmd);
	plan_unref(p);
}

static void test_not_run_protocols(void **state)
{
	struct plan *p =
	    plantest_load_ok_nw("SDPS: boot -scanterm -f missing.bin -scanlimited 0x800000 -skipfhdr\n"
			     "SDPS: delay 1000\n"
			     "SDPS: done\n"
			     "FB: done\n",
			     NULL, 0);

	for (size_t i = 0; i < 3; i++) {
		assert_false(plan_step(p, i)->runs_on_imx6);
		assert_null(plan_step(p, i)->image);
	}
	assert_true(plan_step(p, 3)->runs_on_imx6);
	plan_unref(p);
	plantest_expect_fail("SDPS: write -f x\nFB: done\n", "unknown command 'write' for SDPS:");
	plantest_expect_fail("SDPU: boot -f x\nFB: done\n", "unknown command 'boot' for SDPU:");
	plantest_expect_fail("SDPV: blog\nFB: done\n", "unsupported command 'blog' for SDPV:");
	/* only lines that never run is not a plan */
	plantest_expect_fail("SDPS: boot -f x\nCFG: FB: -vid 1 -pid 2\n",
			     "plan.lst: no SDP: or FB: steps");
}

static void test_command_errors(void **state)
{
	plantest_expect_fail("FB: frob\n", "plan.lst:1: unknown command 'frob' for FB:");
	plantest_expect_fail("FB: status\n", "unknown command 'status' for FB:");
	plantest_expect_fail("SDP: getvar version\n", "unknown command 'getvar' for SDP:");
	plantest_expect_fail("SDP: rdmem -addr 0 -format 32\n",
			     "unsupported command 'rdmem' for SDP: (memory reads");
	plantest_expect_fail("SDP: wrmem -addr 0\n", "unsupported command 'wrmem'");
	plantest_expect_fail("FB: boot\n", "unsupported command 'boot' for FB:");
	plantest_expect_fail("FB: set_active a\n", "unsupported command 'set_active'");
	plantest_expect_fail("FB: update-super super\n", "logical partitions are not supported");
	plantest_expect_fail("FB: sh ls\n", "unsupported command 'sh' for FB: (shell commands");
	plantest_expect_fail("SDP: < echo x\n", "unsupported command '<'");
	plantest_expect_fail("FB: @ x\n", "unsupported command '@'");
	plantest_expect_fail("FB: if x\n", "unsupported command 'if'");
	plantest_expect_fail("FB: getvar\n", "plan.lst:1: getvar: needs exactly one argument");
	plantest_expect_fail("FB: getvar a b\n", "getvar: needs exactly one argument");
	plantest_expect_fail("FB: erase\n", "erase: needs exactly one argument");
	plantest_expect_fail("FB: ucmd\n", "ucmd: needs an argument");
	plantest_expect_fail("FB: acmd\n", "acmd: needs an argument");
	plantest_expect_fail("FB: oem\n", "oem: needs an argument");
	plantest_expect_fail("FB: reboot now\n", "reboot: unexpected argument 'now'");
	plantest_expect_fail("FB: done 1\n", "done: unexpected argument '1'");
	plantest_expect_fail("SDP: status x\n", "status: unexpected argument 'x'");
	plantest_expect_fail("FB: delay\n", "delay: needs one number");
	plantest_expect_fail("FB: delay soon\n", "delay: bad number 'soon'");
	plantest_expect_fail("FB: delay 0x100000000\n", "delay: bad number");
	plantest_expect_fail("FB: ucmd echo \"open\n", "plan.lst:1: unterminated quote");
	plantest_expect_fail(
	    "FB: ucmd a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7\n",
	    "more than 32 words");
	/* U-Boot's acmd buffer: 63 bytes of text */
	plantest_expect_fail(
	    "FB: acmd echo 01234567890123456789012345678901234567890123456789012345678\n",
	    "plan.lst:1: acmd: 'echo 0123456789012345678…' is 64 bytes; U-Boot takes at most 63");
}

static void test_option_errors(void **state)
{
	plantest_expect_fail("SDP: boot\n", "plan.lst:1: boot: -f FILE missing");
	plantest_expect_fail("SDP: dcd\n", "dcd: -f FILE missing");
	plantest_expect_fail("SDP: jump\n", "jump: -f FILE missing");
	plantest_expect_fail("SDP: write -f u-boot.imx\n", "write: needs -addr ADDR or -ivt 0");
	plantest_expect_fail("SDP: boot -f\n", "boot: option -f needs a value");
	plantest_expect_fail("SDP: boot -f \"\"\n", "-f: empty file name");
	plantest_expect_fail("SDP: boot -f u-boot.imx -f u-boot.imx\n",
			     "boot: option -f given twice");
	plantest_expect_fail("SDP: boot -f u-boot.imx -frob\n", "boot: unknown option '-frob'");
	plantest_expect_fail("SDP: boot -f u-boot.imx extra\n",
			     "boot: unexpected argument 'extra'");
	plantest_expect_fail("SDP: boot -f u-boot.imx -barebox\n",
			     "boot: unsupported option -barebox (barebox");
	plantest_expect_fail("SDP: boot -f u-boot.imx -dcdaddr zz\n", "-dcdaddr: bad number 'zz'");
	plantest_expect_fail("SDP: boot -f u-boot.imx -dcdaddr 0x100000000\n",
			     "-dcdaddr: number '0x100000000' too large");
	plantest_expect_fail("SDP: boot -f u-boot.imx -dcdaddr 0x\n", "-dcdaddr: bad number '0x'");
	plantest_expect_fail("SDP: boot -f u-boot.imx -scanlimited 99999999999999999999\n",
			     "too large");
	plantest_expect_fail("SDP: write -f u-boot.imx -ivt 0 -skipspl\n",
			     "unsupported option -skipspl");
	plantest_expect_fail("SDP: write -f u-boot.imx -ivt 0 -skipfhdr\n",
			     "unsupported option -skipfhdr");
	plantest_expect_fail("SDP: jump -f u-boot.imx -plugin\n", "unsupported option -plugin");
	plantest_expect_fail("SDP: jump -f u-boot.imx -addr 0x1000\n",
			     "the i.MX6 boot ROM jumps to an IVT");
	plantest_expect_fail("FB: flash -bmap x.bmap a rootfs.img\n",
			     "flash: unsupported option -bmap");
	plantest_expect_fail("FB: flash a\n", "flash: needs PARTITION FILE");
	plantest_expect_fail("FB: flash\n", "flash: needs PARTITION FILE");
	plantest_expect_fail("FB: flash a rootfs.img b\n", "flash: unexpected argument 'b'");
	plantest_expect_fail("FB: flash -S a rootfs.img\n", "-S: bad number 'a'");
	plantest_expect_fail("FB: download\n", "download: -f FILE missing");
	plantest_expect_fail("FB: download small.bin\n",
			     "download: unexpected argument 'small.bin'");
}

/* A plan that writes nothing to the board is refused unless it says so. */
static void test_no_write(void **state)
{
	struct plan *p;

	(void)state;
	plantest_expect_fail("SDP: boot -f u-boot.imx\nFB: getvar version\nFB: reboot\n",
			     "plan.lst: no line writes to the board (FB: flash, erase, ucmd, acmd or oem)");
	plantest_expect_fail("SDP: boot -f u-boot.imx\n", "a plan meant for that says so with a line "
			     "\"# flashd: no-write\"");
	/* the directive is a line of its own, not a comment after a command */
	plantest_expect_fail("SDP: boot -f u-boot.imx   # flashd: no-write\n", "no line writes");
	plantest_expect_fail("SDP: boot -f u-boot.imx\n# flashd: no-write please\n", "no line writes");
	plantest_expect_fail("SDP: boot -f u-boot.imx\n# flashd: no\n", "no line writes");
	/* lines that are never run on i.MX6 write nothing */
	plantest_expect_fail("SDP: boot -f u-boot.imx\nSDPS: boot -f u-boot.imx\n", "no line writes");
	p = plantest_load_ok("SDP: boot -f u-boot.imx\n# flashd: no-write\n", NULL, 0);
	assert_true(plan_no_write(p));
	plan_unref(p);
	p = plantest_load_ok("  #flashd:no-write\r\nSDP: boot -f u-boot.imx\r\n", NULL, 0);
	assert_true(plan_no_write(p));
	plan_unref(p);
	p = plantest_load_ok("#  flashd:  no-write\nSDP: boot -f u-boot.imx\n", NULL, 0);
	plan_unref(p);
	/* any line that may write: no directive needed, and the plan writes */
	static const char *const writers[] = { "FB: flash a rootfs.img\n", "FB: erase misc\n",
					       "FB: ucmd setenv a b\n", "FB: acmd reset\n",
					       "FB: oem unlock\n" };
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "SDP: boot -f u-boot.imx\n%s", writers[i]);
		p = plantest_load_ok(text, NULL, 0);
		assert_false(plan_no_write(p));
		plan_unref(p);
	}
	/* the directive on a plan that writes: it writes */
	p = plantest_load_ok("# flashd: no-write\nFB: flash a rootfs.img\n", NULL, 0);
	assert_false(plan_no_write(p));
	plan_unref(p);
}

/* flash -verify, -verify-at, -verify-part, -no-verify (flashd-plan(5) "Verify") */
static void test_verify_options(void **state)
{
	struct plan_verify_target t;
	struct plan *p;
	const struct plan_step *s;

	(void)state;
	plantest_expect_fail("FB: flash -verify -no-verify a rootfs.img\n",
			     "plan.lst:1: flash: -no-verify contradicts -verify");
	plantest_expect_fail("FB: flash -verify-at 0x400 -no-verify a rootfs.img\n", "contradicts");
	plantest_expect_fail("FB: flash -verify-at 0x400 -verify-part 1 a rootfs.img\n",
			     "-verify-at and -verify-part both say where the region is");
	plantest_expect_fail("FB: flash -verify-at 0x401 a rootfs.img\n",
			     "-verify-at 0x401 is not a multiple of the eMMC's 512-byte blocks");
	plantest_expect_fail("FB: flash -verify-at x a rootfs.img\n", "-verify-at: bad number 'x'");
	plantest_expect_fail("FB: flash -verify-part \"a;b\" a rootfs.img\n",
			     "-verify-part 'a;b' is not a partition name or number");
	plantest_expect_fail("FB: flash -verify gpt rootfs.img\n",
			     "U-Boot writes a GPT of its own");
	plantest_expect_fail("FB: flash -verify a$b rootfs.img\n", "say where the region is");
	plantest_expect_fail("FB: flash -verify-part\n", "option -verify-part needs a value");

	p = plantest_load_ok("FB: flash -verify-at 0x400 bootloader rootfs.img\n"
			     "FB: flash -verify-part 1 rootfs rootfs.img\n"
			     "FB: flash -verify mbr rootfs.img\n"
			     "FB: flash mmc0boot1 rootfs.img\n"
			     "FB: flash gpt rootfs.img\n"
			     "FB: flash -no-verify misc rootfs.img\n"
			     "FB: flash a$b rootfs.img\n",
			     NULL, 0);
	s = plan_step(p, 0);
	assert_true(s->verify && s->has_verify_at);
	assert_int_equal(plan_verify_target(s, &t), 0);
	assert_int_equal(t.loc, PLAN_VERIFY_AT);
	assert_int_equal(t.at, 0x400);
	assert_false(plan_step_verify_skipped(s));
	s = plan_step(p, 1);
	assert_int_equal(plan_verify_target(s, &t), 0);
	assert_int_equal(t.loc, PLAN_VERIFY_PART);
	assert_string_equal(t.part, "1");
	assert_true(s->verify);
	s = plan_step(p, 2);
	assert_int_equal(plan_verify_target(s, &t), 0);
	assert_int_equal(t.loc, PLAN_VERIFY_AT);
	assert_int_equal(t.at, 0);
	assert_int_equal(t.max_len, 512);
	s = plan_step(p, 3);
	assert_false(s->verify); /* only verify = on reads it back */
	assert_int_equal(plan_verify_target(s, &t), 0);
	assert_int_equal(t.loc, PLAN_VERIFY_BOOT2);
	assert_false(plan_step_verify_skipped(s));
	assert_true(plan_step_verify_skipped(plan_step(p, 4)));  /* gpt */
	assert_true(plan_step_verify_skipped(plan_step(p, 5)));  /* -no-verify */
	assert_true(plan_step_verify_skipped(plan_step(p, 6)));  /* not a word for part */
	assert_int_equal(plan_verify_target(plan_step(p, 6), &t), 0);
	plan_unref(p);
	assert_true(plan_verify_word("rootfs"));
	assert_true(plan_verify_word("0:1"));
	assert_false(plan_verify_word(""));
	assert_false(plan_verify_word("a b"));
	assert_false(plan_verify_word("${x}"));
	assert_false(plan_verify_word("abcdefghijklmnopqrstuvwxyz0123456"));
}

static void test_image_errors(void **state)
{
	plantest_expect_fail("SDP: boot -f nothere.imx\n",
			     "plan.lst:1: nothere.imx: No such file or directory");
	plantest_expect_fail("SDP: boot -f sub\n", "sub: not a regular file");
	plantest_expect_fail("SDP: boot -f empty.bin\n", "empty.bin: empty file");
	plantest_expect_fail("SDP: boot -f fifo\n", "fifo: not a regular file");
	plantest_expect_fail("SDP: boot -f loop\n", "loop: Too many levels of symbolic links");
	plantest_expect_fail("SDP: boot -f rootfs.img\n", "plan.lst:1: rootfs.img: ");
	plantest_expect_fail("SDP: boot -f small.bin\n", "small.bin: ");
	plantest_expect_fail("SDP: jump -f rootfs.img\n", "rootfs.img: ");
	plantest_expect_fail("SDP: write -f rootfs.img -ivt 0\n", "rootfs.img: ");
	plantest_expect_fail("SDP: dcd -f nodcd.imx\n", "nodcd.imx: the image has no DCD");
	plantest_expect_fail("SDP: boot -f plugin.imx\n", "plan.lst:1: plugin.imx: ");
	plantest_expect_fail("SDP: boot -f u-boot-boot.bin -scanlimited 0x400\n",
			     "u-boot-boot.bin: IVT at 0x400 is beyond -scanlimited 0x400");
	plantest_expect_fail("SDP: write -f small.bin -addr 0 -offset 16\n",
			     "small.bin: -offset 0x10 is beyond the end of the file (16 bytes)");
	plantest_expect_fail("FB: flash a bad.simg\n", "plan.lst:1: bad.simg: ");
	plantest_expect_fail("FB: download -f bad.simg\n", "bad.simg: ");
	plantest_expect_fail("FB: flash a empty.bin\n", "empty.bin: empty file");
	plantest_expect_fail("FB: flash -raw2sparse a rootfs.simg\n",
			     "rootfs.simg: -raw2sparse given, but the image is already sparse");
	testutil_write_file(plantest_path("rootfs.img.bmap"), "<bmap/>", 7);
	plantest_expect_fail("FB: flash -raw2sparse a rootfs.img\n",
			     "rootfs.img.bmap exists and uuu would use it, but flashd does not "
			     "support bmap: add -no-bmap");
	plan_unref(plantest_load_ok("FB: flash -raw2sparse -no-bmap a rootfs.img\n", NULL, 0));
	plan_unref(plantest_load_ok("FB: flash a rootfs.img\n", NULL, 0));
	unlink(plantest_path("rootfs.img.bmap"));
}

static void test_cfg(void **state)
{
	struct plan *p = plantest_load_ok_nw("CFG: FB: -vid 0x1b67 -pid 0x4000\n"
					  "cfg: fb: -vid 0x1b67 -pid 0x4000\n"
					  "CFG: FASTBOOT: -vid 0x3016 -pid 1 -chip MX6Q "
					  "-compatible x -bcdmin 0x100 -bcdmax 0x200\n"
					  "CFG: SDP: -vid 0x15a2 -pid 0x0054 -chip MX6Q\n"
					  "CFG: FBK: -vid 0x066f -pid 0x9afe\n"
					  "CFG: SDPV: -vid 0x1b67 -pid 0x4001 -bcdversion 0x0500\n"
					  "CFG: SDPU: -vid 0x0525 -pid 0xb4a4 -bcdmax 0x04ff\n"
					  "CFG: -vid 1 -pid 2\n"
					  "FB: done\n",
					  NULL, 0);
	const struct plan_usb_id *ids;
	size_t n;

	ids = plan_usb_ids(p, &n);
	assert_int_equal(n, 4);
	assert_int_equal(ids[0].proto, PLAN_PROTO_FB);
	assert_int_equal(ids[0].vid, 0x1b67);
	assert_int_equal(ids[0].pid, 0x4000);
	assert_int_equal(ids[0].bcd_min, 0);
	assert_int_equal(ids[0].bcd_max, 0xffff);
	assert_int_equal(ids[0].line, 1);
	assert_int_equal(ids[1].vid, 0x3016);
	assert_int_equal(ids[1].bcd_min, 0x100);
	assert_int_equal(ids[1].bcd_max, 0x200);
	assert_int_equal(ids[2].proto, PLAN_PROTO_SDPV);
	assert_int_equal(ids[2].bcd_min, 0x500);
	assert_int_equal(ids[2].bcd_max, 0x500);
	assert_int_equal(ids[2].line, 6);
	assert_int_equal(ids[3].proto, PLAN_PROTO_SDPU);
	assert_int_equal(ids[3].bcd_min, 0);
	assert_int_equal(ids[3].bcd_max, 0x4ff);
	assert_int_equal(plan_step(p, 0)->proto, PLAN_PROTO_CFG);
	assert_int_equal(plan_step(p, 0)->op, PLAN_OP_CFG);
	assert_false(plan_step(p, 0)->runs_on_imx6);
	assert_string_equal(plan_step(p, 0)->arg, "FB: -vid 0x1b67 -pid 0x4000");
	/* no protocol: uuu's entry matches nothing; kept for display */
	assert_int_equal(plan_step(p, 7)->op, PLAN_OP_CFG);
	assert_string_equal(plan_step(p, 7)->arg, "-vid 1 -pid 2");
	plan_unref(p);
	p = plantest_load_ok_nw("CFG: fb : -vid 2 -pid 3\nFB: done\n", NULL, 0);
	assert_int_equal(plan_usb_ids(p, &n)[0].pid, 3);
	plan_unref(p);
	plantest_expect_fail("CFG: XX: -vid 1 -pid 2\nFB: done\n", "unknown protocol 'XX:'");
	plantest_expect_fail("CFG: FB: -vid 1\nFB: done\n", "CFG: needs -vid and -pid");
	plantest_expect_fail("CFG: FB: -vid 1 -pid 0x10000\nFB: done\n",
			     "CFG: -pid: bad 16-bit number '0x10000'");
	plantest_expect_fail("CFG: FB: -vid 1 -pid\nFB: done\n", "CFG: option -pid needs a value");
	plantest_expect_fail("CFG: FB: -vid 1 -pid 2 -frob 3\nFB: done\n",
			     "CFG: unknown option '-frob'");
	plantest_expect_fail("CFG: FB: -vid 1 -pid 2 \"-chip\nFB: done\n",
			     "CFG: unterminated quote");
	plantest_expect_fail("CFG: SDPV: -vid 1 -pid 2 -bcdmin 0x600 -bcdmax 0x500\nFB: done\n",
			     "CFG: -bcdmin 0x0600 is above -bcdmax 0x0500");
	{
		char text[2048];
		size_t o = 0;
		for (unsigned i = 0; i <= PLAN_USB_IDS_MAX; i++)
			o += (size_t)sprintf(text + o, "CFG: FB: -vid 1 -pid %u\n", i);
		strcpy(text + o, "FB: done\n");
		plantest_expect_fail(text,
				     "plan.lst:17: CFG: more than 16 FB:/SDPU:/SDPV: devices");
	}
}

/* ${pool:NAME[:K]} variables (flashd-plan(5) "Pool variables"): only in
 * FB: getvar, ucmd, acmd and oem lines, kept unexpanded, bound to the
 * configuration's pools by plan_bind_pools */
static struct plan *pool_parse(const char *text)
{
	struct plan *p = NULL;
	char err[1024];

	if (plan_parse("pools.lst", NULL, text, strlen(text), NULL, 0, NULL, &p, err,
		       sizeof(err)) < 0)
		fail_msg("unexpected: %s", err);
	return p;
}

static void expect_bind_fail(const char *text, const struct pool_def *defs, size_t n,
			     const char *msg)
{
	struct plan *p = pool_parse(text);
	char err[1024] = "";

	assert_int_equal(plan_bind_pools(p, defs, n, err, sizeof(err)), -EINVAL);
	if (strcmp(err, msg))
		fail_msg("expected '%s', got '%s'", msg, err);
	assert_int_equal(plan_n_pools(p), 0);
	plan_unref(p);
}

static void test_pool_vars(void **state)
{
	struct pool_def defs[] = {
		{ .name = "serial", .kind = POOL_KIND_SERIAL, .format = "SN%08u", .start = 1,
		  .end = 99999999, .count = 1 },
		{ .name = "eth", .kind = POOL_KIND_MAC, .start = 0x001122000000ULL,
		  .end = 0x00112200ffffULL, .count = 2 },
		{ .name = "long", .kind = POOL_KIND_SERIAL, .format = "%060u", .start = 0, .end = 9,
		  .count = 1 },
	};
	const char *text = "FB: ucmd setenv serial# ${pool:serial}\n"
			   "FB: ucmd setenv ethaddr ${pool:eth} ; setenv eth1addr ${pool:eth:1}\n"
			   "FB: ucmd setenv bootargs ${loadaddr} ${pool:serial}\n"
			   "FB: acmd echo ${pool:eth:1}\n"
			   "FB: oem set ${pool:serial}\n"
			   "FASTBOOT: getvar ${pool:eth}\n"
			   "FB: ucmd saveenv\n"
			   "FB: done\n";
	struct plan *p = pool_parse(text);
	const struct plan_step *s;
	char err[1024], big[PLAN_LINE_MAX];

	s = plan_step(p, 0);
	assert_true(s->pool_vars);
	/* kept as written: the station substitutes at send time */
	assert_string_equal(s->fb_cmd, "UCmd:setenv serial# ${pool:serial}");
	assert_string_equal(plan_step(p, 1)->fb_cmd,
			    "UCmd:setenv ethaddr ${pool:eth} ; setenv eth1addr ${pool:eth:1}");
	assert_string_equal(plan_step(p, 3)->fb_cmd, "ACmd:echo ${pool:eth:1}");
	assert_string_equal(plan_step(p, 4)->fb_cmd, "oem set ${pool:serial}");
	assert_string_equal(plan_step(p, 5)->fb_cmd, "getvar:${pool:eth}");
	assert_true(plan_step(p, 5)->pool_vars);
	assert_false(plan_step(p, 6)->pool_vars);
	assert_int_equal(plan_n_pools(p), 0); /* not bound yet */
	assert_int_equal(plan_bind_pools(p, defs, 3, err, sizeof(err)), 0);
	assert_int_equal(plan_n_pools(p), 2);
	assert_string_equal(plan_pool_name(p, 0), "serial");
	assert_string_equal(plan_pool_name(p, 1), "eth");
	assert_null(plan_pool_name(p, 2));
	/* binding again starts over */
	assert_int_equal(plan_bind_pools(p, defs, 3, err, sizeof(err)), 0);
	assert_int_equal(plan_n_pools(p), 2);
	plan_unref(p);

	/* a plan without variables binds to no pools */
	p = pool_parse("FB: ucmd setenv a ${loadaddr}\nFB: done\n");
	assert_false(plan_step(p, 0)->pool_vars);
	assert_int_equal(plan_bind_pools(p, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(plan_n_pools(p), 0);
	plan_unref(p);

	/* anywhere else: refused at parse */
	plantest_expect_fail("FB: flash ${pool:serial} rootfs.img\nFB: done\n",
			     "plan.lst:1: pool variables only in FB: getvar, ucmd, acmd and oem lines");
	plantest_expect_fail("FB: done\nFB: erase ${pool:x}\n",
			     ":2: pool variables only in FB: getvar, ucmd, acmd and oem lines");
	plantest_expect_fail("SDP: boot -f ${pool:x}\n", ":1: pool variables only in FB:");
	plantest_expect_fail("SDPS: boot -f ${pool:x}\n", ":1: pool variables only in FB:");
	plantest_expect_fail("CFG: FB: -vid ${pool:x} -pid 1\n", ":1: pool variables only in FB:");
	plantest_expect_fail("FB: download -f ${pool:x}\n", ":1: pool variables only in FB:");
	/* malformed */
	plantest_expect_fail("FB: ucmd setenv a ${pool:serial\n",
			     "plan.lst:1: '${pool:' not closed by '}'");
	plantest_expect_fail("FB: ucmd setenv a ${pool:9x}\n",
			     ":1: bad pool name '9x' in '${pool:9x}'");
	plantest_expect_fail("FB: done\nFB: acmd x ${pool:eth:x}\n", ":2: bad index in '${pool:eth:x}'");
	/* a plan loaded without a configuration has no pools */
	plantest_expect_fail("FB: ucmd setenv serial# ${pool:serial}\nFB: done\n",
			     "plan.lst:1: unknown pool 'serial' (flashd.conf declares no pool)");

	/* bind errors: at the line */
	expect_bind_fail("FB: ucmd a\nFB: ucmd setenv x ${pool:nope}\n", defs, 3,
			 "pools.lst:2: unknown pool 'nope' (flashd.conf declares: serial, eth, long)");
	expect_bind_fail("FB: ucmd setenv x ${pool:serial:1}\n", defs, 3,
			 "pools.lst:1: '${pool:serial:1}': pool 'serial' gives a board 1 value "
			 "(count = 1), numbered from 0");
	expect_bind_fail("FB: ucmd setenv x ${pool:eth:2}\n", defs, 3,
			 "pools.lst:1: '${pool:eth:2}': pool 'eth' gives a board 2 values "
			 "(count = 2), numbered from 0");
	/* ACmd's 63 bytes, with the longest values: "echo " + 60 digits */
	expect_bind_fail("FB: acmd echo ${pool:long}\n", defs, 3,
			 "pools.lst:1: acmd: 'echo ${pool:long}…' can be 65 bytes with the pools' "
			 "longest values; U-Boot takes at most 63 (fb_command.c: \"too long "
			 "command\")");
	p = pool_parse("FB: acmd ec ${pool:long}\n");
	assert_int_equal(plan_bind_pools(p, defs, 3, err, sizeof(err)), 0);
	plan_unref(p);
	/* an acmd longer than 63 bytes as written, shorter with the values */
	p = pool_parse("FB: acmd setenv s ${pool:serial}${pool:serial}${pool:serial}${pool:serial}\n");
	assert_int_equal(plan_bind_pools(p, defs, 3, err, sizeof(err)), 0);
	plan_unref(p);
	/* the whole command: 4095 bytes at most with the values in */
	{
		size_t n = 0;

		n += (size_t)sprintf(big, "FB: ucmd ");
		while (n + 20 < 4000)
			n += (size_t)sprintf(big + n, "${pool:long}");
		big[n++] = '\n';
		big[n] = '\0';
		p = pool_parse(big);
		assert_int_equal(plan_bind_pools(p, defs, 3, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "pools.lst:1: fastboot command 'UCmd:${pool:long}"));
		assert_non_null(strstr(err, "with the pools' longest values; U-Boot takes at most 4095"));
		plan_unref(p);
	}
}

static void test_hostile(void **state)
{
	size_t n = PLAN_LINE_MAX + 10;
	char *big = malloc(PLAN_FILE_MAX + 2);
	struct plan *p = (struct plan *)0x1;
	char err[256];

	/* over-long line: bounded error with its line number */
	strcpy(big, "FB: done\nFB: ucmd ");
	memset(big + 18, 'a', n);
	big[18 + n] = '\0';
	plantest_expect_fail(big, "plan.lst:2: line longer than 4096 bytes");
	/* exactly the limit: a line, and a command U-Boot's 4096-byte buffer takes */
	memset(big + 18, 'a', PLAN_LINE_MAX - 9);
	big[18 + PLAN_LINE_MAX - 9] = '\0';
	p = plantest_load_ok(big + 9, NULL, 0);
	assert_int_equal(strlen(plan_step(p, 0)->fb_cmd), 5 + PLAN_LINE_MAX - 9);
	assert_true(strlen(plan_step(p, 0)->fb_cmd) <= PLAN_FB_CMD_MAX);
	plan_unref(p);
	p = (struct plan *)0x1;
	plantest_expect_fail_len("FB: done\nFB: ucmd a\0b\n", 22, NULL, 0,
				 "plan.lst:2: NUL byte in line");
	plantest_expect_fail("FB: ucmd a\033[2Jb\n", "plan.lst:1: control character in line");
	plantest_expect_fail("FB: ucmd a\x7f\n", "control character in line");
	plantest_expect_fail("FB: ucmd \xff\xfe\n", "plan.lst:1: invalid UTF-8");
	plantest_expect_fail("FB: ucmd \xc0\xaf\n", "invalid UTF-8");	      /* overlong */
	plantest_expect_fail("FB: ucmd \xed\xa0\x80\n", "invalid UTF-8");     /* surrogate */
	plantest_expect_fail("FB: ucmd \xf4\x90\x80\x80\n", "invalid UTF-8"); /* > U+10FFFF */
	plantest_expect_fail("FB: ucmd \xe2\x82\n", "invalid UTF-8");	      /* truncated */
	/* valid UTF-8 passes the lexer (and U-Boot gets the bytes) */
	plan_unref(plantest_load_ok("# Größe\nFB: ucmd echo \xc3\xa9\xe2\x82\xac\n", NULL, 0));
	/* size limits */
	memset(big, '#', PLAN_FILE_MAX + 1);
	assert_int_equal(plan_parse("big", NULL, big, PLAN_FILE_MAX + 1, NULL, 0, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "big: larger than 1048576 bytes");
	testutil_write_file(plantest_plan(), big, PLAN_FILE_MAX + 1);
	assert_int_equal(image_plan_load(plantest_plan(), NULL, 0, NULL, &p, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "plan.lst: larger than 1 MiB"));
	assert_ptr_equal(p, (struct plan *)0x1);
	/* too many steps */
	big[0] = '\0';
	for (unsigned i = 0; i <= PLAN_STEPS_MAX; i++)
		strcat(big + (i ? (i - 1) * 9 : 0), "FB: done\n");
	plantest_expect_fail(big, "plan.lst:4097: more than 4096 steps");
	/* nothing to run */
	plantest_expect_fail("", "plan.lst: no SDP: or FB: steps");
	plantest_expect_fail("# only\n\n# comments\n", "no SDP: or FB: steps");
	free(big);
}

static void test_load_errors(void **state)
{
	struct plan *p = (struct plan *)0x1;
	char err[256], small[16];

	assert_int_equal(image_plan_load(plantest_path("none.lst"), NULL, 0, NULL, &p, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "none.lst: No such file or directory"));
	assert_int_equal(image_plan_load(plantest_dir(), NULL, 0, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));
	assert_int_equal(image_plan_load(plantest_path("fifo"), NULL, 0, NULL, &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(image_plan_load(plantest_path("loop"), NULL, 0, NULL, &p, err, sizeof(err)),
			 -ELOOP);
	assert_ptr_equal(p, (struct plan *)0x1);
	/* a small error buffer: truncated, terminated; none at all is fine too */
	assert_int_equal(image_plan_load(plantest_path("none.lst"), NULL, 0, NULL, &p, small, sizeof(small)),
			 -ENOENT);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(image_plan_load(plantest_path("none.lst"), NULL, 0, NULL, &p, NULL, 0), -ENOENT);
	assert_int_equal(plan_parse("x", NULL, "FB: frob\n", 9, NULL, 0, NULL, &p, NULL, 0), -EINVAL);
	assert_int_equal(image_plan_load(NULL, NULL, 0, NULL, &p, err, sizeof(err)), -EINVAL);
	/* a plan path without a folder, and one in / */
	{
		char cwd[512];
		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(plantest_dir()), 0);
		testutil_write_file(plantest_plan(), "FB: flash a rootfs.img\n", 23);
		assert_int_equal(image_plan_load("plan.lst", NULL, 0, NULL, &p, err, sizeof(err)), 0);
		assert_string_equal(plan_step(p, 0)->image->path, "./rootfs.img");
		plan_unref(p);
		p = (struct plan *)0x1;
		assert_int_equal(chdir(cwd), 0);
		if (image_plan_load("/nonexistent-flashd.lst", NULL, 0, NULL, &p, err, sizeof(err)) != -ENOENT)
			fail();
	}
	assert_int_equal(plan_parse("x", NULL, NULL, 5, NULL, 0, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(plan_parse("x", NULL, "FB: done\n", 9, NULL, 1, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(p, (struct plan *)0x1);
}

static void test_no_images_flag(void **state)
{
	const char *text = "SDP: boot -f missing.imx\nFB: flash a missing.img\nFB: download -f x\n";
	struct plan *p = NULL;
	char err[256];

	assert_int_equal(plan_parse("mem", "/nonexistent", text, strlen(text), NULL, 0, NULL,
				    &p, err, sizeof(err)), 0);
	assert_int_equal(plan_n_steps(p), 3);
	assert_null(plan_step(p, 0)->image);
	assert_string_equal(plan_step(p, 1)->fb_cmd, "flash:a");
	assert_int_equal(plan_n_images(p), 0);
	assert_null(plan_image(p, 0));
	assert_string_equal(plan_path(p), "mem");
	plan_unref(p);
	/* syntax is still checked */
	assert_int_equal(plan_parse("mem", NULL, "SDP: boot\n", 10, NULL, 0, NULL, &p, err,
				    sizeof(err)), -EINVAL);
	assert_string_equal(err, "mem:1: boot: -f FILE missing");
}

static void test_refcounts(void **state)
{
	struct plan *p =
	    plantest_load_ok("SDP: boot -f u-boot.imx\nFB: flash a u-boot.imx\n", NULL, 0);
	struct plan_image *img;
	char want[65];
	uint8_t first;

	assert_ptr_equal(plan_ref(p), p);
	assert_null(plan_unref(p)); /* still one reference */
	assert_int_equal(plan_n_steps(p), 2);
	assert_null(plan_step(p, 2));
	img = plan_image_ref(plan_image(p, 0));
	assert_int_equal(img->refs, 2);
	first = img->data[0];
	assert_null(plan_unref(p));
	/* the image outlives the plan */
	assert_int_equal(img->data[0], first);
	assert_int_equal(img->data[0], 0xd1);
	testutil_sha256sum(plantest_path("u-boot.imx"), want);
	assert_string_equal(img->sha256, want);
	assert_null(plan_image_unref(img));
	assert_null(plan_unref(NULL));
	assert_null(plan_image_unref(NULL));
	assert_null(plan_image_ref(NULL));
	assert_null(plan_ref(NULL));
}

static void test_names(void **state)
{
	static const char *const ops[] = { "boot", "dcd", "write", "jump", "status", "getvar", "ucmd", "acmd", "oem",
					   "flash", "download", "erase", "reboot", "continue", "delay", "done", "cfg" };
	static const char *const protos[] = { "SDP", "SDPS", "SDPU", "SDPV", "FB", "CFG" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		assert_string_equal(plan_op_to_string((enum plan_op)i), ops[i]);
	assert_null(plan_op_to_string((enum plan_op)17));
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		assert_string_equal(plan_proto_to_string((enum plan_proto)i), protos[i]);
	assert_null(plan_proto_to_string((enum plan_proto)6));
}

/* the shipped example plans load with the generated images */
static void test_shipped_plans(void **state)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	/* _fbuboot _mbr _uboot _env _rootfs; bootloader.lst: _fbuboot _env [_uboot] */
	const char *full[] = {plantest_path("u-boot.imx"), plantest_path("small.bin"),
			      plantest_path("nodcd.imx"), plantest_path("small.bin"),
			      plantest_path("rootfs.img")};
	const char *boot[] = {plantest_path("u-boot.imx"), plantest_path("small.bin")};
	char path[600], err[1024];
	struct plan *p = NULL;

	snprintf(path, sizeof(path), "%s/conf/plans/full.lst", top);
	if (image_plan_load(path, full, 5, NULL, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(plan_n_steps(p) > 6);
	plan_unref(p);
	snprintf(path, sizeof(path), "%s/conf/plans/bootloader.lst", top);
	if (image_plan_load(path, boot, 2, NULL, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	plan_unref(p);
	/* a missing argument is refused with file:line */
	snprintf(path, sizeof(path), "%s/conf/plans/bootloader.lst", top);
	assert_true(image_plan_load(path, boot, 1, NULL, &p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "bootloader.lst:"));
}

static int setup(void **state)
{
	if (plantest_setup("test-plan", true) < 0)
		return -1;
	if (mkfifo(plantest_path("fifo"), 0600) < 0 || symlink("loop", plantest_path("loop")) < 0)
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuu_emmc),
		cmocka_unit_test(test_uuu_emmc_all),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_relative_to_plan_folder),
		cmocka_unit_test(test_comments_blank_cr),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_fb_commands),
		cmocka_unit_test(test_sdp_commands),
		cmocka_unit_test(test_not_run_protocols),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_option_errors),
		cmocka_unit_test(test_image_errors),
		cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_pool_vars),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_verify_options),
		cmocka_unit_test(test_no_write),
		cmocka_unit_test(test_no_images_flag),
		cmocka_unit_test(test_refcounts),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shipped_plans),
	};
	return cmocka_run_group_tests(tests, setup, plantest_group_teardown);
}
