/* test-fb: U-Boot's fastboot command set as emulated (fb.c, fbmmc.c, fbresp.c),
 * the U-Boot command line (ucmd.c, ucmd_mmc.c), environment (env.c, uboot.c) */
#include "fb.h"

#include "crc32.h"
#include "env.h"
#include "fbsparse.h"
#include "part.h"
#include "ucmd.h"
#include "uboot.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>
#include <time.h>

#define MB (1u << 20)
#define MAXDL (4u * MB)

static struct tu_board *fx_new2(bool offset_names, const char *fault, const char *const *env,
				size_t nenv)
{
	struct tu_board *f = tu_board_new(64 * MB);
	struct uboot_cfg uc = { soc_find("6q"), 0x1122334455667788ull, MAXDL, offset_names,
				env, nenv, NULL, NULL, UBOOT_FLASHD, false, 0, 0 };
	struct fb_cfg fc = { MAXDL, fault };

	tu_board_start(f, &uc, &fc);
	return f;
}

static struct tu_board *fx_new(void)
{
	return fx_new2(false, NULL, NULL, 0);
}

/* the default board, as the test's *state */
static int fx_setup(void **state)
{
	*state = fx_new();
	return 0;
}

static int fx_teardown(void **state)
{
	tu_board_free(*state);
	return 0;
}

static struct fb_out *run(struct tu_board *f, const char *cmd)
{
	fb_command(f->fb, (const uint8_t *)cmd, strlen(cmd), &f->out);
	for (unsigned i = 0; i < f->out.n; i++)
		assert_true(strlen(f->out.resp[i]) <= 63);
	return &f->out;
}

/* one command, one reply */
static void expect(struct tu_board *f, const char *cmd, const char *reply)
{
	struct fb_out *o = run(f, cmd);

	if (o->n != 1 || strcmp(o->resp[0], reply))
		print_error("command \"%s\"\n", cmd);
	assert_int_equal(o->n, 1);
	assert_string_equal(o->resp[0], reply);
}

/* a script: commands, each answered by exactly one reply */
struct xchg {
	const char *cmd, *reply;
};

static void expect_all(struct tu_board *f, const struct xchg *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect(f, x[i].cmd, x[i].reply);
}

#define EXPECT_ALL(f, x) expect_all(f, x, ARRAY_SIZE(x))

/* a command that answers OKAY and leaves var = value (NULL: unset) */
static void expect_sets(struct tu_board *f, const char *cmd, const char *var, const char *value)
{
	expect(f, cmd, "OKAY");
	if (value)
		assert_string_equal(env_get(f->u->env, var), value);
	else
		assert_null(env_get(f->u->env, var));
}

static void download(struct tu_board *f, const uint8_t *data, size_t len)
{
	char cmd[32], want[32];
	size_t o = 0;

	snprintf(cmd, sizeof(cmd), "download:%08zx", len);
	snprintf(want, sizeof(want), "DATA%08zx", len);
	expect(f, cmd, want);
	assert_true(fb_downloading(f->fb));
	while (o < len) {
		size_t n = len - o < 100000 ? len - o : 100000;

		memcpy(fb_buffer(f->fb) + fb_received(f->fb), data + o, n);
		fb_data(f->fb, fb_received(f->fb), n, &f->out);
		o += n;
		if (o < len)
			assert_int_equal(f->out.n, 0);
	}
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.resp[0], "OKAY");
	assert_false(fb_downloading(f->fb));
}

static void flash(struct tu_board *f, const char *part, const uint8_t *data, size_t len,
		  const char *reply)
{
	char cmd[128];

	download(f, data, len);
	snprintf(cmd, sizeof(cmd), "flash:%s", part);
	expect(f, cmd, reply);
}

/* flash part (OKAY), then find the data at byte off of hardware partition hw */
static void flash_verify(struct tu_board *f, const char *part, const uint8_t *data, size_t len,
			 enum emmc_hwpart hw, uint64_t off)
{
	static uint8_t got[300000];

	assert_true(len <= sizeof(got));
	flash(f, part, data, len, "OKAY");
	assert_int_equal(emmc_pread(f->m, hw, off, got, len), 0);
	assert_memory_equal(data, got, len);
}

/* block blk of the user area: fill with byte, or check that it starts with it */
static void put_block(struct tu_board *f, uint64_t blk, uint8_t byte)
{
	uint8_t b[512];

	memset(b, byte, sizeof(b));
	assert_int_equal(emmc_bwrite(f->m, blk, 1, b), 1);
}

static void assert_block(struct tu_board *f, uint64_t blk, uint8_t byte)
{
	uint8_t b[512];

	assert_int_equal(emmc_pread(f->m, EMMC_USER, blk * 512, b, sizeof(b)), 0);
	assert_int_equal(b[0], byte);
}

static void test_getvar(void **state)
{
	static const struct xchg vars[] = {
		{ "getvar:version", "OKAY0.4" },
		{ "getvar:version-bootloader", "OKAYU-Boot 2023.04-flashd-emu" },
		{ "getvar:max-download-size", "OKAY0x00400000" },
		{ "getvar:downloadsize", "OKAY0x00400000" },
		/* serial# = CFG0, CFG1 as %08x%08x (mainline mx6 soc.c) */
		{ "getvar:serialno", "OKAY5566778811223344" },
		{ "getvar:product", "OKAYmx6sabresd" },
		{ "getvar:platform", "FAILplatform not set" },
		{ "getvar:current-slot", "OKAYa" },
		{ "getvar:version-baseband", "OKAYN/A" },
		{ "getvar:is-userspace", "OKAYno" },
		{ "getvar:nonsense", "FAILVariable not implemented" },
		{ "getvar", "FAILmissing var" },
		{ "getvar:", "FAILVariable not implemented" },
	};
	struct tu_board *f = *state;
	struct fb_out *o;

	EXPECT_ALL(f, vars);
	o = run(f, "getvar:all");
	assert_int_equal(o->n, 11);
	assert_string_equal(o->resp[0], "INFOversion: 0.4");
	assert_string_equal(o->resp[4], "INFOserialno: 5566778811223344");
	assert_string_equal(o->resp[7], "INFOplatform: platform not set");
	assert_string_equal(o->resp[10], "OKAY");
	/* fastboot.<var> in the environment overrides */
	assert_int_equal(ucmd_run(f->u, "setenv fastboot.version 9.9"), 0);
	expect(f, "getvar:version", "OKAY9.9");
	assert_int_equal(ucmd_run(f->u, "setenv fastboot.partition-type:x fat"), 0);
	expect(f, "getvar:partition-type:x", "OKAYfat");
	/* replies are cut at 63 bytes */
	assert_int_equal(ucmd_run(f->u, "setenv platform "
				  "0123456789012345678901234567890123456789012345678901234567890123456789"), 0);
	o = run(f, "getvar:platform");
	assert_int_equal(strlen(o->resp[0]), 63);
}

static void test_getvar_partitions(void **state)
{
	static const struct xchg vars[] = {
		/* the raw bootloader region from the default env: 0x7fe blocks */
		{ "getvar:partition-size:bootloader", "OKAY0x00000000000ffc00" },
		{ "getvar:partition-size:uboot-env", "OKAY0x0000000000002000" },
		/* whole-disk probe finds no filesystem */
		{ "getvar:partition-type:bootloader", "FAILfailed to set partition" },
		{ "getvar:partition-size:", "FAILpartition not given" },
		{ "getvar:partition-size", "FAILpartition not given" },
		{ "getvar:partition-size:rootfs", "FAILinvalid partition or device" },
		{ "getvar:partition-size:mmc0", "FAILinvalid partition or device" },
		/* "dev:part" syntax; no table yet: the whole device */
		{ "getvar:partition-size:0", "OKAY0x0000000004000000" },
		{ "getvar:partition-size:0:1", "FAILunknown partition table type" },
		{ "getvar:partition-size:1", "FAILno such device" },
		{ "getvar:partition-size:0.9", "FAILno such device" },
		{ "getvar:partition-size:0.1", "OKAY0x0000000000400000" },
		/* a bad partition number; "0:…" also selects the user area again */
		{ "getvar:partition-size:0:zz", "FAILno such partition" },
		{ "getvar:has-slot:bootloader", "OKAYno" },
		{ "getvar:has-slot:", "FAILinvalid partition name" },
	};

	EXPECT_ALL((struct tu_board *)*state, vars);
}

static void test_download(void **state)
{
	static const struct xchg refused[] = {
		{ "download", "FAILExpected command parameter" },
		{ "download:0", "FAILExpected nonzero image size" },
		{ "download:zz", "FAILExpected nonzero image size" },
		/* too big: FAIL followed by the parameter as sent */
		{ "download:00400001", "FAIL00400001" },
	};
	struct tu_board *f = *state;
	static uint8_t data[300000];
	struct fb_out *o;

	EXPECT_ALL(f, refused);
	assert_false(fb_downloading(f->fb));
	tu_fill(data, sizeof(data), 1);
	download(f, data, sizeof(data));
	assert_string_equal(env_get(f->u->env, "filesize"), "493e0");
	/* a zero-length packet inside the data phase */
	expect(f, "download:00000010", "DATA00000010");
	fb_data(f->fb, 0, 0, &f->out);
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.resp[0], "FAILReceived invalid data length");
	assert_true(fb_downloading(f->fb));
	assert_int_equal(fb_remaining(f->fb), 16);
	/* surplus in the last packet is dropped */
	memcpy(fb_buffer(f->fb), data, 512);
	fb_data(f->fb, 0, 512, &f->out);
	assert_string_equal(f->out.resp[0], "OKAY");
	assert_string_equal(env_get(f->u->env, "filesize"), "10");
	/* a short transfer followed by one that landed further up is moved down */
	expect(f, "download:00000400", "DATA00000400");
	memcpy(fb_buffer(f->fb), data, 100);
	fb_data(f->fb, 0, 100, &f->out);
	assert_int_equal(f->out.n, 0);
	memcpy(fb_buffer(f->fb) + 512, data + 100, 924);
	fb_data(f->fb, 512, 924, &f->out);
	assert_string_equal(f->out.resp[0], "OKAY");
	assert_memory_equal(fb_buffer(f->fb), data, 1024);
	/* the echo is the host's own text */
	expect(f, "download:0x10", "DATA0x10");
	fb_usb_reset(f->fb);
	assert_false(fb_downloading(f->fb));
	assert_int_equal(fb_remaining(f->fb), 0);
	o = run(f, "getvar:version");
	assert_string_equal(o->resp[0], "OKAY0.4");
}

static void test_commands(void **state)
{
	static const struct xchg simple[] = {
		{ "", "FAILunrecognized command" },
		{ "frobnicate", "FAILunrecognized command" },
		{ "oem unknown", "FAILunrecognized command" },
		{ "reboot-bootloader", "FAILCannot set reboot flag" },
		{ "reboot-fastboot", "FAILCannot set fastboot flag" },
		{ "reboot-recovery", "FAILCannot set recovery flag" },
		{ "set_active:a", "OKAY" },
	};
	struct tu_board *f = fx_new2(false, "flash:secret*", NULL, 0);
	static uint8_t big[FB_EP_BUFFER];
	struct fb_out *o;

	(void)state;
	EXPECT_ALL(f, simple);
	/* a full 4096-byte transfer overflows U-Boot's command buffer */
	memset(big, 'a', sizeof(big));
	fb_command(f->fb, big, sizeof(big), &f->out);
	assert_string_equal(f->out.resp[0], "FAILbuffer overflow");
	/* the injected fault */
	expect(f, "flash:secret-part", "FAILinjected fault");
	o = run(f, "reboot");
	assert_string_equal(o->resp[0], "OKAY");
	assert_int_equal(o->after, FB_AFTER_RESET);
	o = run(f, "reboot:");
	assert_int_equal(o->after, FB_AFTER_RESET);
	o = run(f, "continue");
	assert_int_equal(o->after, FB_AFTER_CONTINUE);
	o = run(f, "boot");
	assert_int_equal(o->after, FB_AFTER_BOOT);
	assert_int_equal(fb_command_count(f->fb), 13);
	tu_board_free(f);
}

static void test_ucmd(void **state)
{
	static const struct xchg refused[] = {
		{ "UCmd", "FAILmissing command" },
		{ "UCmd:frob", "FAIL" },
		{ "UCmd:setenv", "FAIL" },
		{ "UCmd:setenv a=b c", "FAIL" },
		/* serial# is write-once */
		{ "UCmd:setenv serial# 123", "FAIL" },
		{ "oem run:setenv x 1", "OKAY" },
	};
	static const struct xchg more[] = {
		{ "UCmd:run nothere", "FAIL" },
		{ "UCmd:setenv loop 'run loop'; run loop", "FAIL" },
		{ "UCmd:printenv board; echo hi; version; env print b; test 1 = 1", "OKAY" },
		{ "UCmd:printenv nothere", "FAIL" },
		{ "UCmd:env default -a; env exists a", "FAIL" },
	};
	static const struct xchg env_sleep[] = {
		{ "UCmd:env set z 1; env delete z; env exists z", "FAIL" },
		{ "UCmd:sleep 0.01", "OKAY" },
		{ "UCmd:sleep x", "FAIL" },
	};
	struct tu_board *f = *state;
	uint8_t region[UBOOT_ENV_SIZE];
	struct env *e;
	struct fb_out *o;

	expect_sets(f, "UCmd:setenv foo bar baz", "foo", "bar baz");
	expect_sets(f, "UCmd:setenv foo", "foo", NULL);
	EXPECT_ALL(f, refused);
	/* hush: lists, if/then/else, variables, quotes, $? */
	expect_sets(f, "UCmd:setenv a 1; setenv b ${a}2; setenv c \"$b x\"; setenv d '$b'", "b", "12");
	assert_string_equal(env_get(f->u->env, "c"), "12 x");
	assert_string_equal(env_get(f->u->env, "d"), "$b");
	/* uuu's emmc script line */
	expect_sets(f, "UCmd:if env exists emmc_ack; then ; else setenv emmc_ack 0; fi;", "emmc_ack", "0");
	expect_sets(f, "UCmd:if env exists emmc_ack; then setenv r yes; else setenv r no; fi", "r", "yes");
	expect(f, "UCmd:if test $a -eq 2; then true; else false; fi", "FAIL");
	expect(f, "UCmd:if test -n \"$a\" && x; then", "FAIL"); /* syntax error */
	expect_sets(f, "UCmd:false; setenv q $?", "q", "1");
	expect_sets(f, "UCmd:setenv cmd 'setenv ran yes'; run cmd", "ran", "yes");
	EXPECT_ALL(f, more);
	assert_string_equal(env_get(f->u->env, "board"), "mx6sabresd");
	EXPECT_ALL(f, env_sleep);
	/* saveenv: U-Boot's env format at 0xC0000 of the user area */
	expect(f, "UCmd:setenv saved yes; saveenv", "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_USER, UBOOT_ENV_OFFSET, region, sizeof(region)), 0);
	assert_int_equal(util_le32(region), crc32_update(0, region + 4, sizeof(region) - 4));
	assert_int_equal(env_new(&e), 0);
	assert_int_equal(env_import(e, region, sizeof(region)), 0);
	assert_string_equal(env_get(e, "saved"), "yes");
	assert_string_equal(env_get(e, "serial#"), "5566778811223344");
	env_free(e);
	/* a UCmd reset takes the board down without a reply */
	o = run(f, "UCmd:reset");
	assert_int_equal(o->n, 0);
	assert_int_equal(o->after, FB_AFTER_RESET_NOW);
}

static void test_acmd(void **state)
{
	struct tu_board *f = *state;
	struct fb_out *o;
	char cmd[128];

	expect(f, "ACmd", "FAILmissing command");
	/* 64 characters or more */
	snprintf(cmd, sizeof(cmd), "ACmd:setenv x %055d", 0); /* 64 chars */
	expect(f, cmd, "FAILtoo long command");
	o = run(f, "ACmd:setenv later 1");
	assert_string_equal(o->resp[0], "OKAY");
	assert_int_equal(o->after, FB_AFTER_ACMD);
	/* nothing ran yet: it runs once the OKAY is out */
	assert_null(env_get(f->u->env, "later"));
	fb_run_acmd(f->fb);
	assert_string_equal(env_get(f->u->env, "later"), "1");
	o = run(f, "ACmd:reset");
	fb_run_acmd(f->fb);
	assert_true(f->u->reset);
}

static void test_mmc_commands(void **state)
{
	static const struct xchg partconf[] = {
		{ "UCmd:mmc partconf 0", "OKAY" },
		{ "UCmd:mmc partconf 0 1 1", "FAIL" },
		{ "UCmd:mmc partconf 1 1 1 0", "FAIL" },
		{ "oem partconf:1 2", "OKAY" },
	};
	static const struct xchg oem[] = {
		{ "oem partconf:1", "FAILCannot set oem partconf" },
		{ "oem partconf", "FAILExpected command parameter" },
		{ "oem bootbus:2 0 0", "OKAY" },
		{ "oem bootbus:2", "FAILCannot set oem bootbus" },
		{ "oem format", "FAILpartitions not set" },
		{ "UCmd:setenv partitions name=a,size=1M", "OKAY" },
		{ "oem format", "FAIL" },
		{ "UCmd:mmc dev 0 2", "OKAY" },
	};
	static const struct xchg dev[] = {
		{ "UCmd:mmc dev 0 9", "FAIL" },
		{ "UCmd:mmc dev 0 3", "FAIL" },
		{ "UCmd:mmc dev 1", "FAIL" },
		{ "UCmd:mmc dev", "OKAY" },
	};
	static const struct xchg misc[] = {
		{ "UCmd:mmc list; mmc info; mmc rescan", "OKAY" },
		{ "UCmd:mmc frob", "FAIL" },
		{ "UCmd:mmc", "FAIL" },
	};
	struct tu_board *f = *state;

	expect(f, "UCmd:mmc partconf 0 1 1 0", "OKAY");
	assert_int_equal(emmc_boot_partition(f->m), 1);
	assert_int_equal(emmc_partconf(f->m), 0x48);
	EXPECT_ALL(f, partconf);
	assert_int_equal(emmc_partconf(f->m), 0x50);
	EXPECT_ALL(f, oem);
	assert_int_equal(emmc_current(f->m), EMMC_BOOT1);
	EXPECT_ALL(f, dev);
	assert_int_equal(emmc_current(f->m), EMMC_USER);
	EXPECT_ALL(f, misc);
	/* mmc erase: hex block numbers, exactly those blocks */
	put_block(f, 0x600, 0xAB);
	put_block(f, 0x610, 0xAB);
	expect(f, "UCmd:mmc erase 0x600 0x10", "OKAY");
	assert_block(f, 0x600, 0);
	assert_block(f, 0x610, 0xAB);
	expect(f, "UCmd:mmc erase 0x1000000 1", "FAIL");
	expect(f, "UCmd:mmc erase 1", "FAIL");
}

static void test_flash_raw(void **state)
{
	static const struct xchg unknown[] = {
		{ "flash:nothere", "FAILinvalid partition or device" },
		{ "flash:", "FAILpartition not given" },
		{ "flash", "FAILpartition not given" },
	};
	static const struct xchg odd[] = {
		/* a malformed raw descriptor is no partition */
		{ "UCmd:setenv fastboot_raw_partition_broken 0x2", "OKAY" },
		{ "flash:broken", "FAILinvalid partition or device" },
		/* "bad" is a valid hex device number for U-Boot's dev:part parser */
		{ "flash:bad", "FAILno such device" },
		{ "UCmd:setenv fastboot_raw_partition_far 0x1ffff 0x10", "OKAY" },
		{ "flash:far", "FAILfailed writing to device" },
	};
	struct tu_board *f = *state;
	static uint8_t img[300000];

	tu_fill(img, sizeof(img), 2);
	/* the bootloader raw region starts at block 2 = byte 0x400 */
	flash_verify(f, "bootloader", img, sizeof(img), EMMC_USER, 0x400);
	/* uboot-env is 8 KiB */
	flash(f, "uboot-env", img, 8192, "OKAY");
	expect(f, "flash:uboot-env", "OKAY"); /* same image again, still 8 KiB */
	flash(f, "uboot-env", img, 8193, "FAILtoo large for partition");
	EXPECT_ALL(f, unknown);
	/* a raw region in boot0 (mmcpart 1); the selection sticks */
	expect(f, "UCmd:setenv fastboot_raw_partition_spl 0x2 0x100 mmcpart 1", "OKAY");
	flash_verify(f, "spl", img, 4096, EMMC_BOOT0, 0x400);
	assert_int_equal(emmc_current(f->m), EMMC_BOOT0);
	/* an alias */
	expect(f, "UCmd:mmc dev 0 0; setenv fastboot_partition_alias_uboot bootloader", "OKAY");
	flash_verify(f, "uboot", img + 1, 1000, EMMC_USER, 0x400);
	EXPECT_ALL(f, odd);
}

static void test_flash_boot_user(void **state)
{
	struct tu_board *f = *state;
	static uint8_t img[100000], got[100000];

	tu_fill(img, sizeof(img), 3);
	/* mmc0boot0: the whole boot partition, from byte 0 */
	flash_verify(f, "mmc0boot0", img, sizeof(img), EMMC_BOOT0, 0);
	/* the boot partition stays selected: names are looked up there now */
	assert_int_equal(emmc_current(f->m), EMMC_BOOT0);
	flash_verify(f, "mmc0boot1", img, 5000, EMMC_BOOT1, 0);
	expect(f, "erase:mmc0boot1", "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_BOOT1, 0, got, 5000), 0);
	assert_int_equal(got[0] | got[4999], 0);
	/* mmc0 is the whole selected hardware partition */
	expect(f, "UCmd:mmc dev 0", "OKAY");
	flash_verify(f, "mmc0", img, sizeof(img), EMMC_USER, 0);
}

static void test_flash_offset_names(void **state)
{
	struct tu_board *f = fx_new2(true, NULL, NULL, 0), *plain = fx_new();
	static uint8_t img[10000];

	(void)state;
	tu_fill(img, sizeof(img), 4);
	flash_verify(f, "0x400", img, sizeof(img), EMMC_USER, 0x400);
	flash(f, "0x100000", img, sizeof(img), "OKAY");
	expect(f, "flash:0x401", "FAILinvalid partition or device");
	expect(f, "getvar:partition-size:0x4000000", "FAILinvalid partition or device");
	expect(f, "getvar:partition-size:4096", "OKAY0x0000000003fff000");
	/* names still work */
	expect(f, "flash:bootloader", "OKAY");
	/* mainline: "0x400" is a device number */
	flash(plain, "0x400", img, sizeof(img), "FAILno such device");
	tu_board_free(f);
	tu_board_free(plain);
}

static void test_flash_tables(void **state)
{
	static const char *const names[] = { "boot", "rootfs", NULL };
	static const uint64_t starts[] = { 2048, 4096 }, ends[] = { 4095, 40959 };
	struct tu_board *f = *state;
	static uint8_t gpt[34 * 512], mbr[512], img[20000], got[20000];
	uint64_t lba = emmc_lba(f->m);
	struct part_info pi;

	tu_mk_gpt(gpt, lba, names, starts, ends);
	flash(f, "gpt", gpt, sizeof(gpt), "OKAY");
	assert_int_equal(part_find(f->m, "rootfs", &pi), 2);
	/* the backup GPT was generated at the end of the disk */
	assert_int_equal(emmc_pread(f->m, EMMC_USER, (lba - 1) * 512, got, 8), 0);
	assert_memory_equal(got, "EFI PART", 8);
	/* the same buffer now holds the backup header: a second flash is refused */
	expect(f, "flash:gpt", "FAILinvalid GPT partition");
	expect(f, "getvar:partition-size:rootfs", "OKAY0x0000000001200000");
	tu_fill(img, sizeof(img), 5);
	flash_verify(f, "rootfs", img, sizeof(img), EMMC_USER, 4096 * 512);
	/* the alias "rootfs" -> mmcsda1 is not needed on GPT; getvar partition-type */
	expect(f, "getvar:partition-type:rootfs", "FAILfailed to set partition");
	memset(got, 0, 2048);
	util_put_le16(got + 1024 + 56, 0xEF53);
	assert_int_equal(emmc_bwrite(f->m, 4096, 4, got), 4);
	expect(f, "getvar:partition-type:rootfs", "OKAYext4");
	/* a DOS MBR; partition 1 is reached through the default alias "rootfs" */
	memset(mbr, 0, sizeof(mbr));
	tu_put_dos(mbr, 0, 0, 0x83, 8192, 16384);
	flash(f, "mbr", mbr, sizeof(mbr), "OKAY");
	expect(f, "getvar:partition-size:mmcsda1", "OKAY0x0000000000800000");
	flash_verify(f, "rootfs", img, sizeof(img), EMMC_USER, 8192 * 512);
	mbr[446] = 0x33;
	flash(f, "mbr", mbr, sizeof(mbr), "FAILinvalid MBR partition");
	flash(f, "gpt", mbr, sizeof(mbr), "FAILinvalid GPT partition");
	/* a FAT boot sector on partition 1 */
	memset(got, 0, 2048);
	memcpy(got + 0x36, "FAT16", 5);
	got[510] = 0x55;
	got[511] = 0xaa;
	assert_int_equal(emmc_bwrite(f->m, 8192, 4, got), 4);
	expect(f, "getvar:partition-type:rootfs", "OKAYfat");
}

static void test_flash_sparse(void **state)
{
	struct tu_board *f = *state;
	static uint8_t sp[28 + 12 + 8192 + 16 + 12], got[8192];
	size_t n = 28;

	util_put_le32(sp, FBSPARSE_MAGIC);
	util_put_le16(sp + 4, 1);
	util_put_le16(sp + 8, 28);
	util_put_le16(sp + 10, 12);
	util_put_le32(sp + 12, 4096);
	util_put_le32(sp + 16, 2 + 3 + 1);
	util_put_le32(sp + 20, 3);
	util_put_le16(sp + n, 0xCAC1);
	util_put_le32(sp + n + 4, 2);
	util_put_le32(sp + n + 8, 12 + 8192);
	tu_fill(sp + n + 12, 8192, 6);
	n += 12 + 8192;
	util_put_le16(sp + n, 0xCAC2);
	util_put_le32(sp + n + 4, 3);
	util_put_le32(sp + n + 8, 16);
	util_put_le32(sp + n + 12, 0xdeadbeef);
	n += 16;
	util_put_le16(sp + n, 0xCAC3);
	util_put_le32(sp + n + 4, 1);
	util_put_le32(sp + n + 8, 12);
	flash(f, "bootloader", sp, sizeof(sp), "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0x400, got, 8192), 0);
	assert_memory_equal(got, sp + 40, 8192);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0x400 + 8192, got, 8), 0);
	assert_int_equal(util_le32(got + 4), 0xdeadbeef);
	/* the same image does not fit the 8 KiB env region */
	expect(f, "flash:uboot-env", "FAILRequest would exceed partition size!");
	/* sparse into mmc0boot0 is written raw (fb_mmc_boot_ops has no sparse) */
	expect(f, "flash:mmc0boot0", "OKAY");
	assert_int_equal(emmc_pread(f->m, EMMC_BOOT0, 0, got, 4), 0);
	assert_int_equal(util_le32(got), FBSPARSE_MAGIC);
}

static void test_erase(void **state)
{
	static const struct xchg more[] = {
		{ "erase:mmc0", "OKAY" },
		{ "erase:mmc0boot0", "OKAY" },
		{ "erase:nothere", "FAILinvalid partition or device" },
		{ "erase", "FAILpartition not given" },
		{ "UCmd:setenv fastboot_raw_partition_out 0x1fc00 0x1000", "OKAY" },
		{ "erase:out", "FAILfailed erasing from device" },
	};
	struct tu_board *f = *state;

	put_block(f, 0x600, 0xCD);
	/* the 8 KiB env region is smaller than an erase group: nothing, but OKAY */
	expect(f, "erase:uboot-env", "OKAY");
	assert_block(f, 0x600, 0xCD);
	/* a region covering whole groups: start up, size down to 512 KiB */
	put_block(f, 1023, 0xCD);
	put_block(f, 1024, 0xCD);
	put_block(f, 3071, 0xCD);
	expect(f, "UCmd:setenv fastboot_raw_partition_data 1000 3000", "OKAY");
	expect(f, "erase:data", "OKAY");
	assert_block(f, 1023, 0xCD);
	assert_block(f, 1024, 0);
	assert_block(f, 3071, 0);
	EXPECT_ALL(f, more);
}

static void test_env_extra(void **state)
{
	const char *env[] = { "board=custom", "fastboot_partition_alias_x=bootloader", "serial#=abc" };
	const char *bad[] = { "=x" };
	struct tu_board *f = fx_new2(false, NULL, env, 3);
	struct uboot *u;
	struct uboot_cfg uc = { soc_find("6ul"), 1, MAXDL, false, bad, 1, NULL, NULL,
				UBOOT_FLASHD, false, 0, 0 };

	(void)state;
	expect(f, "getvar:product", "OKAYcustom");
	expect(f, "getvar:serialno", "OKAYabc");
	expect(f, "getvar:partition-size:x", "OKAY0x00000000000ffc00");
	assert_int_equal(uboot_new(&uc, f->m, NULL, &u), 0);
	assert_int_equal(uboot_start(u), -EINVAL);
	uboot_free(u);
	assert_int_equal(uboot_new(NULL, f->m, NULL, &u), -EINVAL);
	tu_board_free(f);
}

/* --emmc-mbps as U-Boot applies it: f_fastboot.c rx_handler_command() runs the
 * "flash" command (fb_command.c flash() -> fb_mmc.c fastboot_mmc_flash_write(),
 * whose blk_dwrite() calls write the medium before they return) and only then
 * sends the reply and queues the OUT request again, so OKAY comes once the data
 * is on the eMMC and the next download cannot begin before; rx_handler_dl_image()
 * only copies into the download buffer. The emulated medium sleeps for its write
 * time inside emmc_bwrite() (emmc.c emmc_throttle()): a test counts that time. */
struct emmc_clock {
	uint64_t slept_ns; /* the medium's write time */
	unsigned calls;
};

static void emmc_clock_sleep(void *ctx, uint64_t ns)
{
	struct emmc_clock *c = ctx;
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	c->slept_ns += ns;
	c->calls++;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void test_flash_emmc_speed(void **state)
{
	const unsigned mbps = 20;
	const size_t len = 2 * MB;
	const uint64_t write_ns = (uint64_t)len * 1000u / mbps; /* 104.9 ms */
	struct emmc_clock clk = { 0, 0 };
	struct tu_board *f = tu_board_new(64 * MB);
	struct emmc_cfg ec = { f->path, 64 * MB, mbps, emmc_clock_sleep, &clk };
	struct uboot_cfg uc = { soc_find("6q"), 1, MAXDL, false, NULL, 0, NULL, NULL,
				UBOOT_FLASHD, false, 0, 0 };
	struct fb_cfg fc = { MAXDL, NULL };
	uint8_t *img = malloc(len), *got = malloc(len);
	uint64_t t0, t1;

	(void)state;
	assert_non_null(img);
	assert_non_null(got);
	tu_fill(img, len, 42);
	/* the same eMMC file, now with its write speed */
	emmc_free(f->m);
	assert_int_equal(emmc_open(&ec, NULL, &f->m), 0);
	tu_board_start(f, &uc, &fc);
	clk.slept_ns = 0;
	clk.calls = 0;

	/* the download takes no eMMC time */
	download(f, img, len);
	assert_int_equal(clk.calls, 0);

	/* the flash command's reply comes after the whole write time */
	t0 = util_now_ns();
	run(f, "flash:mmc0");
	t1 = util_now_ns();
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.resp[0], "OKAY");
	/* the medium's wait fell inside the command; its rounding: < 1 us */
	assert_true(clk.calls > 0 && clk.slept_ns > 0);
	assert_true(t1 - t0 + 1000u >= write_ns);
	print_message("flash:mmc0 of %zu bytes at --emmc-mbps %u: OKAY after %llu ms "
		      "(the medium's write time: %llu ms)\n", len, mbps,
		      (unsigned long long)((t1 - t0) / 1000000u),
		      (unsigned long long)(write_ns / 1000000u));
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0, got, len), 0);
	assert_memory_equal(img, got, len);

	/* the medium was idle when OKAY went out: the next download does not wait */
	clk.calls = 0;
	download(f, img, len);
	assert_int_equal(clk.calls, 0);
	free(got);
	free(img);
	tu_board_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, fx_setup, fx_teardown)
		T(test_getvar),
		T(test_getvar_partitions),
		T(test_download),
		cmocka_unit_test(test_commands),
		T(test_ucmd),
		T(test_acmd),
		T(test_mmc_commands),
		T(test_flash_raw),
		T(test_flash_boot_user),
		cmocka_unit_test(test_flash_offset_names),
		T(test_flash_tables),
		T(test_flash_sparse),
		T(test_erase),
		cmocka_unit_test(test_env_extra),
		cmocka_unit_test(test_flash_emmc_speed),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
