/* test-uboot: the U-Boot personalities (uboot.c, fb.c, fbmmc.c): how each build
 * loads its environment, which fastboot commands and partitions it has, and NXP's
 * emmc_all command lines (uuu's built-in script) on the nxp build */
#include "fb.h"

#include "env.h"
#include "uboot.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>

#define MAXDL (1u << 20)
#define UID 0x1122334455667788ull

static void ufx_board(struct tu_board *f, enum uboot_flavour fl, bool no_uuu)
{
	struct uboot_cfg uc = { soc_find("6q"), UID, MAXDL, false, NULL, 0, NULL, NULL, fl, no_uuu,
				0, 0 };
	struct fb_cfg fc = { MAXDL, NULL };

	tu_board_start(f, &uc, &fc);
}

static struct tu_board *ufx_new(enum uboot_flavour fl, bool no_uuu)
{
	struct tu_board *f = tu_board_new(16u << 20);

	ufx_board(f, fl, no_uuu);
	return f;
}

static void expect(struct tu_board *f, const char *cmd, const char *reply)
{
	fb_command(f->fb, (const uint8_t *)cmd, strlen(cmd), &f->out);
	if (f->out.n != 1 || strcmp(f->out.resp[0], reply))
		print_error("command \"%s\"\n", cmd);
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.resp[0], reply);
}

static void download(struct tu_board *f, const uint8_t *data, size_t len)
{
	char cmd[32], want[32];

	snprintf(cmd, sizeof(cmd), "download:%08zx", len);
	snprintf(want, sizeof(want), "DATA%08zx", len);
	expect(f, cmd, want);
	memcpy(fb_buffer(f->fb), data, len);
	fb_data(f->fb, 0, len, &f->out);
	assert_string_equal(f->out.resp[0], "OKAY");
}

/* mainline: the saved environment is loaded when its CRC is good (env/mmc.c) */
static void test_mainline_env(void **state)
{
	struct tu_board *f = ufx_new(UBOOT_MAINLINE, false);
	uint8_t junk[512];

	(void)state;
	assert_null(env_get(f->u->env, "fastboot_raw_partition_bootloader"));
	expect(f, "UCmd:setenv marker 42; setenv fastboot_raw_partition_boot 0x2 0x7fe", "OKAY");
	expect(f, "UCmd:saveenv", "OKAY");
	ufx_board(f, UBOOT_MAINLINE, false); /* power cycle */
	assert_string_equal(env_get(f->u->env, "marker"), "42");
	expect(f, "getvar:partition-size:boot", "OKAY0x00000000000ffc00");
	/* the flashd build ignores it (USB boot) */
	ufx_board(f, UBOOT_FLASHD, false);
	assert_null(env_get(f->u->env, "marker"));
	/* a broken CRC: the default environment */
	memset(junk, 0x5A, sizeof(junk));
	assert_int_equal(emmc_bwrite(f->m, 0xC0000 / 512, 1, junk), 1);
	ufx_board(f, UBOOT_MAINLINE, false);
	assert_null(env_get(f->u->env, "marker"));
	assert_non_null(env_get(f->u->env, "serial#"));
	tu_board_free(f);
}

/* mainline: no raw partitions of its own; UCmd/ACmd/oem run only when built in */
static void test_mainline_commands(void **state)
{
	struct tu_board *f = ufx_new(UBOOT_MAINLINE, true);

	(void)state;
	expect(f, "getvar:partition-size:bootloader", "FAILinvalid partition or device");
	expect(f, "UCmd:true", "FAILUnsupported command");
	expect(f, "ACmd:reset", "FAILUnsupported command");
	expect(f, "oem run:true", "FAILUnsupported command");
	expect(f, "getvar:serialno", "OKAY5566778811223344");
	ufx_board(f, UBOOT_MAINLINE, false); /* CONFIG_FASTBOOT_UUU_SUPPORT=y */
	expect(f, "UCmd:true", "OKAY");
	expect(f, "oem run:true", "FAILUnsupported command");
	tu_board_free(f);
}

/* nxp: fb_fsl partitions, getvar variants, the mfgtools environment rule */
static void test_nxp(void **state)
{
	struct tu_board *f = ufx_new(UBOOT_NXP, false);
	uint8_t img[4096], back[4096];

	(void)state;
	expect(f, "getvar:serialno", "OKAY1122334455667788"); /* CFG1, then CFG0 */
	expect(f, "getvar:product", "OKAYNXP i.MX");
	expect(f, "getvar:logical-block-size", "OKAY0x200");
	expect(f, "getvar:max-download-size", "OKAY0x100000");
	expect(f, "getvar:partition-size:all", "OKAY0x0000000001000000");
	tu_fill(img, sizeof(img), 9);
	download(f, img, sizeof(img));
	expect(f, "flash:bootloader", "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_BOOT0, 0x400, back, sizeof(back)), 0);
	assert_memory_equal(back, img, sizeof(img));
	expect(f, "flash:all", "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0, back, sizeof(back)), 0);
	assert_memory_equal(back, img, sizeof(img));
	/* a saved env with bootcmd_mfg (saved from the default one): default again */
	expect(f, "UCmd:setenv marker 1; saveenv", "OKAY");
	ufx_board(f, UBOOT_NXP, false);
	assert_null(env_get(f->u->env, "marker"));
	/* without bootcmd_mfg the saved env stays, bootcmd becomes "fastboot 0" */
	expect(f, "UCmd:setenv marker 1; env delete bootcmd_mfg; saveenv", "OKAY");
	ufx_board(f, UBOOT_NXP, false);
	assert_string_equal(env_get(f->u->env, "marker"), "1");
	assert_string_equal(env_get(f->u->env, "bootcmd"), "fastboot 0");
	tu_board_free(f);
}

/* serial# and ethaddr are write-once (env/flags.c); setenv -f overwrites
 * (cmd/nvedit.c), another option is a usage error */
static void test_setenv_force(void **state)
{
	struct tu_board *f = ufx_new(UBOOT_NXP, false);

	(void)state;
	assert_non_null(env_get(f->u->env, "serial#"));  /* from the fuses */
	expect(f, "UCmd:setenv serial# SN1", "FAIL");
	expect(f, "UCmd:setenv -f serial# SN1", "OKAY");
	assert_string_equal(env_get(f->u->env, "serial#"), "SN1");
	expect(f, "UCmd:setenv ethaddr 02:00:00:00:00:01", "OKAY");
	expect(f, "UCmd:setenv ethaddr 02:00:00:00:00:02", "FAIL");
	expect(f, "UCmd:env set -f ethaddr 02:00:00:00:00:02", "OKAY");
	assert_string_equal(env_get(f->u->env, "ethaddr"), "02:00:00:00:00:02");
	expect(f, "UCmd:setenv -x a b", "FAIL");
	tu_board_free(f);
}

/* the FB lines of uuu's built-in emmc_all (uuu -bshow emmc_all, uuu 1.4.193) */
static void test_nxp_emmc_all_lines(void **state)
{
	struct tu_board *f = ufx_new(UBOOT_NXP, false);

	(void)state;
	expect(f, "UCmd:setenv fastboot_dev mmc", "OKAY");
	expect(f, "UCmd:setenv mmcdev ${emmc_dev}", "OKAY");
	expect(f, "UCmd:mmc dev ${emmc_dev}", "OKAY");
	expect(f, "UCmd:if env exists emmc_ack; then ; else setenv emmc_ack 0; fi;", "OKAY");
	expect(f, "UCmd:mmc partconf ${emmc_dev} ${emmc_ack} 1 0", "OKAY");
	assert_string_equal(env_get(f->u->env, "mmcdev"), "0");
	assert_string_equal(env_get(f->u->env, "emmc_ack"), "0");
	assert_int_equal(emmc_boot_partition(f->m), 1);
	assert_int_equal(emmc_partconf(f->m), 0x08); /* ack 0, boot0 enabled, access 0 */
	tu_board_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mainline_env),
		cmocka_unit_test(test_mainline_commands),
		cmocka_unit_test(test_nxp),
		cmocka_unit_test(test_setenv_force),
		cmocka_unit_test(test_nxp_emmc_all_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
