/* Unit tests for plan_sdp: the U-Boot SPL stage (SDPU:/SDPV: lines), the
 * byte ranges writes send as uuu computes them, -scanterm, and the
 * boot-chain rules plan_load applies. Images come from
 * tests/data/plans/mkimages.sh: spl.imx is a mkimage SPL (entry 0x00908000),
 * u-boot.img a legacy U-Boot proper, spl-flash.bin the two back to back,
 * spl-disk.bin that behind uuu's tag in a disk image. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "flashd/plan.h"
#include "plan-testlib.h"
#include "testutil.h"

/* flash.bin style: SPL and U-Boot proper in one file, -skipspl splits it */
static void test_skipspl(void **state)
{
	struct plan *p = plantest_load_ok_nw("SDP: boot -f spl-flash.bin\n"
					  "SDPV: delay 1000\n"
					  "SDPV: write -f spl-flash.bin -skipspl\n"
					  "SDPV: jump\n"
					  "FB: done\n",
					  NULL, 0);
	const struct plan_step *s = plan_step(p, 2);

	assert_true(plan_image_is_spl(plan_step(p, 0)->image));
	assert_true(plan_boots_spl(p));
	assert_true(plan_has_spl_stage(p));
	assert_true(plan_spl_reachable(p));
	assert_int_equal(s->proto, PLAN_PROTO_SDPV);
	assert_int_equal(s->op, PLAN_OP_WRITE);
	assert_true(s->runs_on_imx6);
	assert_true(s->skipspl);
	/* U-Boot proper starts where the SPL file ended */
	assert_int_equal(s->image_offset, plantest_fsize("spl.imx"));
	assert_int_equal(s->image_len, plantest_fsize("u-boot.img"));
	assert_int_equal(memcmp(s->image->data + s->image_offset, "\x27\x05\x19\x56", 4), 0);
	assert_int_equal(s->addr, 0);
	assert_false(s->has_addr);
	assert_ptr_equal(s->image, plan_step(p, 0)->image);
	s = plan_step(p, 3);
	assert_int_equal(s->op, PLAN_OP_JUMP);
	assert_true(s->runs_on_imx6);
	assert_int_equal(s->addr, 0);
	assert_null(s->image);
	assert_int_equal(plan_step(p, 1)->op, PLAN_OP_DELAY);
	assert_true(plan_step(p, 1)->runs_on_imx6);
	plan_unref(p);
}

/* Yocto's disk image: -scanterm finds the bootloader, -skipspl U-Boot proper */
static void test_skipspl_scanterm(void **state)
{
	struct plan *p = plantest_load_ok(
	    "SDP: boot -f spl-disk.bin -scanlimited 0x800000\n"
	    "SDPV: write -f spl-disk.bin -skipspl -scanterm -scanlimited 0x800000\n"
	    "SDPV: jump -scanlimited 0x800000\n"
	    "FB: flash -scanterm -scanlimited 0x800000 bootloader spl-disk.bin\n",
	    NULL, 0);
	const struct plan_step *s = plan_step(p, 1);

	assert_true(plan_boots_spl(p));
	assert_int_equal(s->image_offset, 0x400 + plantest_fsize("spl.imx"));
	assert_int_equal(s->image_len, plantest_fsize("u-boot.img"));
	s = plan_step(p, 3);
	assert_int_equal(s->image_offset, 0x400);
	assert_int_equal(s->image_len, plantest_fsize("spl-flash.bin"));
	plan_unref(p);
}

/* SPL and u-boot.img as separate files; SDPU: -offset, -addr */
static void test_separate_files(void **state)
{
	struct plan *p = plantest_load_ok_nw(
	    "SDP: boot -f spl.imx\n"
	    "SDPU: write -f u-boot.img -addr 0x17800000\n"
	    "SDPU: jump -addr 0x17800000 -f ignored.bin -ivt 0 -plugin -cleardcd -scanlimited 1\n"
	    "SDPV: write -f spl-flash.bin -offset 0xac00\n"
	    "SDPV: jump\n"
	    "SDPV: done\n",
	    NULL, 0);
	const struct plan_step *s = plan_step(p, 0);

	assert_int_equal(s->image->imx.entry, 0x00908000);
	s = plan_step(p, 1);
	assert_int_equal(s->proto, PLAN_PROTO_SDPU);
	assert_int_equal(s->image_offset, 0);
	assert_int_equal(s->image_len, plantest_fsize("u-boot.img"));
	assert_true(s->has_addr);
	assert_int_equal(s->addr, 0x17800000);
	/* uuu sends only the address of an SPL jump and ignores the rest */
	s = plan_step(p, 2);
	assert_int_equal(s->addr, 0x17800000);
	assert_null(s->file);
	assert_null(s->image);
	assert_false(s->use_ivt);
	s = plan_step(p, 3);
	assert_int_equal(s->image_offset, 0xac00);
	assert_int_equal(s->image_len, plantest_fsize("spl-flash.bin") - 0xac00);
	assert_int_equal(plan_step(p, 5)->op, PLAN_OP_DONE);
	assert_true(plan_step(p, 5)->runs_on_imx6);
	plan_unref(p);
}

/* NXP's scripts carry both: SDPU: with i.MX8 offsets, SDPV: for i.MX6/7 SPLs */
static void test_sdpu_beside_sdpv(void **state)
{
	struct plan *p = plantest_load_ok_nw("SDP: boot -f spl-flash.bin\n"
					  "SDPU: write -f spl-flash.bin -offset 0x57c00\n"
					  "SDPU: jump\n"
					  "SDPV: write -f spl-flash.bin -skipspl\n"
					  "SDPV: jump\n",
					  NULL, 0);

	/* beyond the end of this file: SDPU: lines display only, SDPV: runs */
	assert_false(plan_step(p, 1)->runs_on_imx6);
	assert_false(plan_step(p, 2)->runs_on_imx6);
	assert_true(plan_step(p, 3)->runs_on_imx6);
	assert_true(plan_step(p, 4)->runs_on_imx6);
	assert_true(plan_has_spl_stage(p));
	plan_unref(p);
	/* SDPU: alone must work */
	plantest_expect_fail(
	    "SDP: boot -f spl-flash.bin\nSDPU: write -f spl-flash.bin -offset 0x57c00\nSDPU: "
	    "jump\n",
	    "plan.lst:2: spl-flash.bin: -offset 0x57c00 is beyond the end of the file");
}

/* a full U-Boot never comes up as SPL: its SPL lines stay, unreached */
static void test_full_uboot(void **state)
{
	struct plan *p = plantest_load_ok_nw("SDP: boot -f u-boot.imx\n"
					  "SDPV: write -f spl-flash.bin -skipspl\n"
					  "SDPV: jump\n"
					  "SDPU: write -f u-boot.imx -skipfhdr -offset 0x100000\n"
					  "SDPU: jump\n"
					  "FB: done\n",
					  NULL, 0);

	assert_false(plan_boots_spl(p));
	assert_false(plan_spl_reachable(p));
	assert_true(plan_step(p, 1)->runs_on_imx6); /* fine: runs if an SPL ever shows up */
	assert_int_equal(plan_step(p, 1)->image_offset, plantest_fsize("spl.imx"));
	assert_false(plan_step(p, 3)->runs_on_imx6); /* cannot be computed: display only */
	assert_false(plan_step(p, 4)->runs_on_imx6);
	plan_unref(p);
}

/* -skipfhdr: 0x1000 bytes skipped only behind a FlexSPI header's magic */
static void test_skipfhdr(void **state)
{
	uint8_t *buf = calloc(1, 0x3000);
	struct plan *p;

	memcpy(buf + 0x400, "FCFB", 4);
	memcpy(buf + 0x1000, "\x27\x05\x19\x56", 4); /* a uImage after the FlexSPI header */
	testutil_write_file(plantest_path("fspi.bin"), buf, 0x3000);
	p = plantest_load_ok_nw("SDPV: write -f fspi.bin -skipfhdr\nSDPV: jump\nFB: done\n", NULL, 0);
	assert_int_equal(plan_step(p, 0)->image_offset, 0x1000);
	assert_int_equal(plan_step(p, 0)->image_len, 0x2000);
	plan_unref(p);
	plantest_expect_fail(
	    "SDPV: write -f fspi.bin -skipfhdr -offset 0xfffffffffffffffe\nSDPV: jump\nFB: done\n",
	    "fspi.bin: -offset 0xfffffffffffffffe is beyond the end of the file");
	p = plantest_load_ok_nw("SDPV: write -f u-boot.img -skipfhdr\nSDPV: jump\nFB: done\n", NULL,
			     0);
	assert_int_equal(plan_step(p, 0)->image_offset, 0);
	plan_unref(p);
	free(buf);
}

/* what an SPL write to the load address sends must be an image U-Boot SPL
 * starts (common/spl/spl.c): a u-boot-with-spl.imx padded to
 * CONFIG_SPL_PAD_TO sends its padding under -skipspl */
static void test_spl_payload(void **state)
{
	uint8_t *buf = calloc(1, 0x3000);
	struct plan *p;

	(void)state;
	testutil_write_file(plantest_path("zeros.bin"), buf, 0x3000);
	plantest_expect_fail(
	    "SDP: boot -f spl.imx\nSDPV: write -f zeros.bin\nSDPV: jump\nFB: done\n",
	    "zeros.bin: the written data at offset 0x0 is no U-Boot image (no uImage, FIT or "
	    "IVT header): U-Boot SPL would not start it");
	/* at another address it is data the plan places itself */
	p = plantest_load_ok_nw(
	    "SDPV: write -f zeros.bin -addr 0x80000000\nSDPV: write -f u-boot.img\n"
	    "SDPV: jump\nFB: done\n",
	    NULL, 0);
	plan_unref(p);
	memcpy(buf + 0x100, "\xd0\x0d\xfe\xed", 4); /* a FIT */
	testutil_write_file(plantest_path("fit.bin"), buf, 0x3000);
	p = plantest_load_ok_nw("SDPV: write -f fit.bin -offset 0x100\nSDPV: jump\nFB: done\n", NULL,
			     0);
	plan_unref(p);
	free(buf);
}

/* the ROM's own write takes -scanterm and -scanlimited the same way */
static void test_sdp_write_range(void **state)
{
	struct plan *p = plantest_load_ok_nw(
	    "SDP: write -f tagged.bin -addr 0x10000000 -scanterm\n"
	    "SDP: write -f rootfs.img -addr 0x10000000 -offset 0x100 -scanlimited 0x1000\n"
	    "SDP: write -f u-boot.imx -addr 0x10000000 -scanterm\n",
	    NULL, 0);

	assert_int_equal(plan_step(p, 0)->image_offset, 0x400);
	assert_int_equal(plan_step(p, 0)->image_len, plantest_fsize("u-boot.imx"));
	assert_int_equal(plan_step(p, 1)->image_offset, 0x100);
	assert_int_equal(plan_step(p, 1)->image_len, 0x1000 - 0x100);
	/* not a disk image: -scanterm leaves the whole file, as uuu */
	assert_int_equal(plan_step(p, 2)->image_len, plantest_fsize("u-boot.imx"));
	plan_unref(p);
	plantest_expect_fail("SDP: write -f notag-mbr.bin -addr 0 -scanterm\n",
			     "plan.lst:1: notag-mbr.bin: -scanterm: a disk image (MBR) without "
			     "uuu's bootloader tag");
}

static void test_refused(void **state)
{
	plantest_expect_fail("SDP: boot -f spl.imx\nFB: done\n",
			     "plan.lst:1: spl.imx is a U-Boot SPL (entry 0x00908000 in OCRAM): the "
			     "plan needs SDPV: (or "
			     "SDPU:) write and jump lines for U-Boot proper");
	plantest_expect_fail(
	    "SDP: boot -f spl-flash.bin\nSDPU: write -f spl-flash.bin -skipspl\nSDPU: jump\n",
	    "plan.lst:2: write: -skipspl needs an SPL that uuu calls SDPV:");
	plantest_expect_fail(
	    "SDP: boot -f spl.imx\nSDPV: write -f spl.imx -skipspl\nSDPV: jump\n",
	    "plan.lst:2: spl.imx: -skipspl: the SPL at 0x0 ends at 0xac00, nothing follows it");
	plantest_expect_fail(
	    "SDP: boot -f spl.imx\nSDPV: write -f u-boot.img -skipspl\nSDPV: jump\n",
	    "u-boot.img: -skipspl: no IVT in the first 1 MiB from offset 0x0");
	plantest_expect_fail(
	    "SDP: boot -f spl.imx\nSDPV: write -f notag-mbr.bin -scanterm\nSDPV: jump\n",
	    "plan.lst:2: notag-mbr.bin: -scanterm: a disk image (MBR) without");
	plantest_expect_fail("SDP: boot -f spl.imx\nSDPV: write -f u-boot.img -ivt 0\nSDPV: jump\n",
			     "write: unsupported option -ivt (-ivt sends a boot ROM image");
	plantest_expect_fail("SDPV: write -f u-boot.img -barebox-bl33\n",
			     "unsupported option -barebox-bl33");
	plantest_expect_fail("SDPV: write -f u-boot.img -nojump\n",
			     "write: unknown option '-nojump'");
	plantest_expect_fail("SDPV: write -addr 0\nSDPV: jump\nFB: done\n",
			     "plan.lst:1: write: -f FILE missing");
	plantest_expect_fail("SDP: boot -f spl.imx\nSDPV: write -f u-boot.img\n",
			     "plan.lst:2: SDPV: write without SDPV: jump");
	plantest_expect_fail("SDP: boot -f spl.imx\nSDPV: delay 10\nSDPV: jump\n",
			     "plan.lst:2: SDPV: jump without SDPV: write");
	plantest_expect_fail("SDPV: write -f u-boot.img\nSDPV: jump\n",
			     "plan.lst: SDPU:/SDPV: lines but no SDP: boot: a board in the boot "
			     "ROM never reaches U-Boot SPL");
	plantest_expect_fail("SDP: status\nSDPV: write -f u-boot.img\nSDPV: jump\n",
			     "SDPU:/SDPV: lines but no SDP: boot");
	plantest_expect_fail(
	    "SDP: boot -f spl.imx\nSDPV: write -f u-boot.img -offset 0x1000000\nSDPV: jump\n",
	    "u-boot.img: -offset 0x1000000 is beyond the end of the file");
	plantest_expect_fail("SDP: write -f spl-flash.bin -addr 0 -skipspl\n",
			     "unsupported option -skipspl");
	plantest_expect_fail("FBK: ucmd ls\n", "unsupported protocol 'FBK:'");
}

/* SPL lines and no ROM stage: for boards that arrive as fastboot (or SPL) */
static void test_no_rom_stage(void **state)
{
	struct plan *p =
	    plantest_load_ok_nw("SDPV: write -f u-boot.img\nSDPV: jump\nFB: done\n", NULL, 0);

	assert_true(plan_spl_reachable(p));
	assert_false(plan_boots_spl(p));
	assert_true(plan_has_spl_stage(p));
	assert_int_equal(plan_step(p, 0)->image_len, plantest_fsize("u-boot.img"));
	plan_unref(p);
	/* syntax only: no images, the same rules on lines */
	{
		const char *t = "SDPV: write -f x -skipspl\nSDPV: jump\nFB: done\n" PLANTEST_NO_WRITE;
		assert_int_equal(plan_parse("mem", NULL, t, strlen(t), NULL, 0, NULL, &p, NULL, 0),
				 0);
	}
	assert_null(plan_step(p, 0)->image);
	assert_true(plan_step(p, 0)->runs_on_imx6);
	plan_unref(p);
}

static int setup(void **state)
{
	return plantest_setup("test-plan_sdp", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skipspl),
		cmocka_unit_test(test_skipspl_scanterm),
		cmocka_unit_test(test_separate_files),
		cmocka_unit_test(test_sdpu_beside_sdpv),
		cmocka_unit_test(test_full_uboot),
		cmocka_unit_test(test_skipfhdr),
		cmocka_unit_test(test_spl_payload),
		cmocka_unit_test(test_sdp_write_range),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_rom_stage),
	};
	return cmocka_run_group_tests(tests, setup, plantest_group_teardown);
}
