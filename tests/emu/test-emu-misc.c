/* test-emu-misc: option parsing (opts.c), the environment store (env.c), the JSON
 * event log (log.c), FunctionFS descriptor blocks (ffs.c) and helpers (util.c) */
#include "env.h"
#include "ffs.h"
#include "log.h"
#include "opts.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>

static int parse(struct opts *o, const char *extra)
{
	static char buf[1024]; /* the parsed options point into it */
	char err[256], *argv[64], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "flashd-emu --udc dummy_udc.3 --name b3 --log /tmp/l --emmc /tmp/e %s",
		 extra);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return opts_parse(argc, argv, o, err, sizeof(err));
}

static void test_opts_defaults(void **state)
{
	struct opts o;
	char err[256];
	char *argv[] = { "flashd-emu", "--udc", "x", NULL };

	(void)state;
	assert_int_equal(parse(&o, ""), 0);
	assert_string_equal(o.udc, "dummy_udc.3");
	assert_string_equal(o.soc->name, "6q");
	assert_int_equal(o.emmc_size, 256u << 20);
	assert_int_equal(o.start, OPTS_START_ROM);
	assert_int_equal(o.reenum_delay_ms, 500);
	assert_int_equal(o.fb_vid, 0x0525);
	assert_int_equal(o.fb_pid, 0xa4a5);
	assert_int_equal(o.max_download, 0x7000000);
	assert_int_equal(o.exit_when, OPTS_EXIT_NEVER);
	assert_true(o.dram_check);
	assert_int_equal(o.uid, opts_default_uid("b3"));
	assert_int_not_equal(opts_default_uid("b3"), opts_default_uid("b4"));
	assert_int_equal(opts_parse(3, argv, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "required"));
}

static void test_opts_all(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(parse(&o, "--soc 6ull --uid 0x0123456789abcdef --emmc-size 1G --start fastboot "
				  "--reenum-delay 20 --fb-vid 0x1b67 --fb-pid 16384 --max-download-size 16M "
				  "--hab-closed --offset-names --runtime-gadget --emmc-mbps 40 --link-mbps 53 --env a=b "
				  "--env c=d --exit-when booted --no-dram-check --ram-cap 2M "
				  "--fault-disconnect-at-byte 1000 --fault-disconnect-at-sdp-byte 5000 --fault-disconnect-at-cmd 3 "
				  "--fault-disconnect-in fastboot --fault-stall out --fault-fail flash:* "
				  "--fault-bad-status --fault-no-reenum --fault-delay-reply 100 "
				  "--fault-hang-in rom"), 0);
	assert_string_equal(o.soc->name, "6ull");
	assert_int_equal(o.soc->pid, 0x0080);
	assert_int_equal(o.uid, 0x0123456789abcdefull);
	assert_int_equal(o.emmc_size, 1ull << 30);
	assert_int_equal(o.start, OPTS_START_FASTBOOT);
	assert_int_equal(o.reenum_delay_ms, 20);
	assert_int_equal(o.fb_vid, 0x1b67);
	assert_int_equal(o.fb_pid, 0x4000);
	assert_int_equal(o.max_download, 16u << 20);
	assert_true(o.hab_closed && o.offset_names && o.runtime_gadget);
	assert_int_equal(o.emmc_mbps, 40);
	assert_int_equal(o.link_mbps, 53);
	assert_int_equal(o.n_env, 2);
	assert_string_equal(o.env[1], "c=d");
	assert_int_equal(o.exit_when, OPTS_EXIT_BOOTED);
	assert_false(o.dram_check);
	assert_int_equal(o.ram_cap, 2u << 20);
	assert_int_equal(o.fault_byte, 1000);
	assert_int_equal(o.fault_sdp_byte, 5000);
	assert_int_equal(o.fault_cmd, 3);
	assert_int_equal(o.fault_disconnect_in, OPTS_PHASE_FASTBOOT);
	assert_int_equal(o.fault_stall, OPTS_STALL_OUT);
	assert_string_equal(o.fault_fail, "flash:*");
	assert_true(o.fault_bad_status && o.fault_no_reenum);
	assert_int_equal(o.fault_delay_reply_ms, 100);
	assert_int_equal(o.fault_hang_in, OPTS_PHASE_ROM);
	assert_int_equal(parse(&o, "--uid DEADBEEF"), 0);
	assert_int_equal(o.uid, 0xdeadbeef);
	assert_int_equal(parse(&o, "--exit-when rom --start rom --fault-stall ep0"), 0);
	assert_int_equal(o.exit_when, OPTS_EXIT_ROM);
	assert_int_equal(o.fault_stall, OPTS_STALL_EP0);
	assert_int_equal(parse(&o, "--help"), 1);
}

static void test_opts_spl_uboot(void **state)
{
	struct opts o;

	(void)state;
	/* the defaults: U-Boot's gadget IDs as SPL shows them, SDP_LOADADDR per SoC */
	assert_int_equal(parse(&o, ""), 0);
	assert_int_equal(o.spl_vid, 0x0525);
	assert_int_equal(o.spl_pid, 0xb4a4);
	assert_int_equal(o.spl_bcd, 0x0500);
	assert_int_equal(o.sdp_loadaddr, 0x177fffc0u);
	assert_int_equal(o.spl_uboot_sector, 0x8a);
	assert_int_equal(o.uboot, OPTS_UBOOT_FLASHD);
	assert_int_equal(o.uuu_support, 1);
	assert_int_equal(parse(&o, "--soc 6ull --uboot mainline"), 0);
	assert_int_equal(o.sdp_loadaddr, 0x877fffc0u);
	assert_int_equal(o.uuu_support, 0); /* CONFIG_FASTBOOT_UUU_SUPPORT default n */
	assert_string_equal(opts_uboot_to_string(o.uboot), "mainline");
	assert_int_equal(parse(&o, "--uboot nxp --spl-vid 0x1b67 --spl-pid 0x4fff --spl-bcd 0x0400 "
				  "--sdp-loadaddr 0 --spl-uboot-sector 0x88 --uuu-support no "
				  "--env-offset 0x100000 --env-size 0x4000 --fault-disconnect-in spl"), 0);
	assert_int_equal(o.uboot, OPTS_UBOOT_NXP);
	assert_int_equal(o.spl_pid, 0x4fff);
	assert_int_equal(o.spl_bcd, 0x0400);
	assert_int_equal(o.sdp_loadaddr, 0);
	assert_int_equal(o.spl_uboot_sector, 0x88);
	assert_int_equal(o.uuu_support, 0);
	assert_int_equal(o.env_offset, 0x100000);
	assert_int_equal(o.env_size, 0x4000);
	assert_int_equal(o.fault_disconnect_in, OPTS_PHASE_SPL);
}

static void test_opts_unplug(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(parse(&o, ""), 0);
	assert_int_equal(o.unplug_where, OPTS_UNPLUG_NONE);
	assert_int_equal(o.replug_ms, 2000);
	assert_int_equal(parse(&o, "--unplug-at before:rom:3 --replug-after 0"), 0);
	assert_int_equal(o.unplug_when, OPTS_UNPLUG_BEFORE);
	assert_int_equal(o.unplug_where, OPTS_UNPLUG_ROM);
	assert_int_equal(o.unplug_n, 3);
	assert_int_equal(o.replug_ms, 0);
	assert_int_equal(parse(&o, "--unplug-at middle:fb:12 --replug-after 8000"), 0);
	assert_int_equal(o.unplug_when, OPTS_UNPLUG_MIDDLE);
	assert_int_equal(o.unplug_where, OPTS_UNPLUG_FB);
	assert_int_equal(o.unplug_n, 12);
	assert_int_equal(o.replug_ms, 8000);
	assert_int_equal(parse(&o, "--unplug-at after:reenum:2"), 0);
	assert_int_equal(o.unplug_when, OPTS_UNPLUG_AFTER);
	assert_int_equal(o.unplug_where, OPTS_UNPLUG_REENUM);
	assert_int_equal(parse(&o, "--fault-garbage fastboot"), 0);
	assert_int_equal(o.fault_garbage, OPTS_PHASE_FASTBOOT);
	assert_int_equal(parse(&o, "--fault-garbage usb"), -EINVAL);
	assert_int_equal(parse(&o, "--unplug-at after:spl:1"), 0);
	assert_string_equal(opts_unplug_where_to_string(o.unplug_where), "spl");
	assert_string_equal(opts_unplug_when_to_string(o.unplug_when), "after");
}

/* the U-Boot build's commands and the eMMC bit-flip fault (test-verify.c runs them) */
static void test_opts_verify(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(parse(&o, ""), 0);
	assert_false(o.uboot_no_verify);
	assert_int_equal(o.n_uboot_no_cmd, 0);
	assert_false(o.fault_bitflip);
	assert_int_equal(parse(&o, "--uboot-no-verify --uboot-no-cmd hash --uboot-no-cmd setexpr "
				  "--fault-emmc-bitflip 0x100200"), 0);
	assert_true(o.uboot_no_verify);
	assert_int_equal(o.n_uboot_no_cmd, 2);
	assert_string_equal(o.uboot_no_cmd[0], "hash");
	assert_string_equal(o.uboot_no_cmd[1], "setexpr");
	assert_true(o.fault_bitflip);
	assert_int_equal(o.fault_bitflip_off, 0x100200);
	assert_int_equal(parse(&o, "--fault-emmc-bitflip 0"), 0);
	assert_true(o.fault_bitflip);
	assert_int_equal(o.fault_bitflip_off, 0);
	/* the last byte of the default 256 MiB user area, and one past it */
	assert_int_equal(parse(&o, "--fault-emmc-bitflip 268435455"), 0);
	assert_int_equal(parse(&o, "--fault-emmc-bitflip 0x10000000"), -EINVAL);
	assert_int_equal(parse(&o, "--emmc-size 512M --fault-emmc-bitflip 0x10000000"), 0);
	assert_int_equal(parse(&o, "--fault-emmc-bitflip x"), -EINVAL);
	assert_int_equal(parse(&o, "--uboot-no-cmd mmc"), -EINVAL);
	assert_int_equal(parse(&o, "--uboot-no-cmd crc32 --uboot-no-cmd part"), 0);
}

/* --bus-group NAME --bus-mbps N (bus.h): both or neither */
static void test_opts_bus(void **state)
{
	struct opts o;
	char err[256];
	char *argv[] = { "flashd-emu", "--udc", "u", "--name", "n", "--log", "l", "--emmc", "e",
			 "--bus-group", "hub-1.2_a", NULL, NULL };

	(void)state;
	assert_int_equal(parse(&o, ""), 0);
	assert_null(o.bus_group);
	assert_int_equal(o.bus_mbps, 0);
	assert_int_equal(parse(&o, "--bus-group hub-1.2_a --bus-mbps 53 --link-mbps 40"), 0);
	assert_string_equal(o.bus_group, "hub-1.2_a");
	assert_int_equal(o.bus_mbps, 53);
	assert_int_equal(o.link_mbps, 40);
	/* the longest name: 63 characters */
	assert_int_equal(parse(&o, "--bus-mbps 100000 --bus-group "
			 "012345678901234567890123456789012345678901234567890123456789012"), 0);
	assert_int_equal(o.bus_mbps, 100000);
	assert_int_equal(opts_parse(11, argv, &o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--bus-group and --bus-mbps go together");
	argv[9] = "--bus-mbps";
	argv[10] = "0";
	assert_int_equal(opts_parse(11, argv, &o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--bus-mbps: 1..100000 MB/s");
	argv[9] = "--bus-group";
	argv[10] = "a b";
	assert_int_equal(opts_parse(11, argv, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--bus-group: 1..63 characters"));
}

static void test_opts_bad(void **state)
{
	static const char *const bad[] = {
		"--soc 7d", "--uid xyz", "--uid 0x11112222333344445", "--emmc-size 1M",
		"--emmc-size 5000000", "--start u-boot", "--reenum-delay -1", "--fb-vid 0x10000",
		"--max-download-size 100", "--emmc-mbps lots", "--link-mbps 1e9", "--env novalue", "--env =x",
		"--exit-when sometimes", "--ram-cap 1K", "--fault-disconnect-at-byte 0",
		"--fault-disconnect-at-cmd 0", "--fault-disconnect-at-sdp-byte 0", "--fault-disconnect-in u-boot", "--fault-stall ep1",
		"--fault-delay-reply soon", "--fault-hang-in x", "--bogus", "stray", "--soc",
		"--uboot vendor", "--uuu-support maybe", "--spl-pid 0x10000", "--sdp-loadaddr 0x100000000",
		"--spl-uboot-sector 0", "--env-size 100", "--env-size 2M", "--env-offset 7",
		"--unplug-at before", "--unplug-at during:fb:1", "--unplug-at after:usb:1",
		"--unplug-at after:fb:0", "--unplug-at after:fb", "--unplug-at after:fb:x",
		"--unplug-at beforex:fb:1", "--unplug-at after:fbx:1", "--unplug-at middle:none:1",
		"--replug-after -5", "--replug-after 600001",
		"--bus-group line1", "--bus-mbps 53", "--bus-group line1 --bus-mbps 0",
		"--bus-group line1 --bus-mbps 100001", "--bus-group line1 --bus-mbps fast",
		"--bus-group a/b --bus-mbps 53", "--bus-group x*y --bus-mbps 53",
		"--bus-group 0123456789012345678901234567890123456789012345678901234567890123 --bus-mbps 1",
	};
	struct opts o;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(parse(&o, bad[i]), -EINVAL);
}

static void test_env(void **state)
{
	uint8_t region[256];
	const char *n, *v;
	struct env *e, *e2;
	char name[16];

	(void)state;
	assert_int_equal(env_new(&e), 0);
	assert_int_equal(env_set(e, "zeta", "1"), 0);
	assert_int_equal(env_set(e, "alpha", "2"), 0);
	assert_int_equal(env_set(e, "mid", "3"), 0);
	assert_int_equal(env_count(e), 3);
	env_at(e, 0, &n, &v);
	assert_string_equal(n, "alpha");
	env_at(e, 2, &n, &v);
	assert_string_equal(n, "zeta");
	assert_int_equal(env_set(e, "mid", "33"), 0);
	assert_string_equal(env_get(e, "mid"), "33");
	assert_int_equal(env_set(e, "mid", ""), 0);
	assert_null(env_get(e, "mid"));
	assert_int_equal(env_set(e, "gone", NULL), 0);
	assert_int_equal(env_set(e, "a=b", "1"), -EINVAL);
	assert_int_equal(env_set(e, "", "1"), -EINVAL);
	assert_int_equal(env_set(e, NULL, "1"), -EINVAL);
	assert_null(env_get(e, NULL));
	/* write-once */
	assert_int_equal(env_set(e, "serial#", "1"), 0);
	assert_int_equal(env_set(e, "serial#", "2"), -EPERM);
	assert_int_equal(env_set(e, "serial#", NULL), -EPERM);
	assert_int_equal(env_set_force(e, "serial#", "3"), 0);
	/* flash format round trip */
	assert_int_equal(env_export(e, region, sizeof(region)), 0);
	assert_int_equal(env_new(&e2), 0);
	assert_int_equal(env_import(e2, region, sizeof(region)), 0);
	assert_string_equal(env_get(e2, "serial#"), "3");
	assert_string_equal(env_get(e2, "zeta"), "1");
	assert_int_equal(env_count(e2), 3);
	region[10] ^= 1;
	assert_int_equal(env_import(e2, region, sizeof(region)), -EBADMSG);
	assert_int_equal(env_export(e, region, 16), -E2BIG);
	/* bounds */
	env_clear(e);
	for (int i = 0; i < ENV_MAX_VARS; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(env_set(e, name, "x"), 0);
	}
	assert_int_equal(env_set(e, "one-more", "x"), -E2BIG);
	{
		char *big = malloc(ENV_VALUE_MAX + 1);

		memset(big, 'x', ENV_VALUE_MAX);
		big[ENV_VALUE_MAX] = '\0';
		assert_int_equal(env_set(e, "v1", big), -E2BIG);
		free(big);
	}
	env_free(e);
	env_free(e2);
}

static void test_log(void **state)
{
	char *dir = tu_tmpdir(), path[512], *txt, *nl;
	char longv[4000];
	struct log *log;
	struct log_ev e;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/x.jsonl", dir);
	assert_int_equal(log_open(path, "brd\"1", &log), 0);
	log_begin(&e, log, "test");
	log_str(&e, "s", "a\"b\\c\n\x01\xff");
	log_u64(&e, "u", 42);
	log_i64(&e, "i", -3);
	log_hex32(&e, "h", 0xabc);
	log_bool(&e, "t", true);
	log_str(&e, "null", NULL);
	assert_int_equal(log_end(&e), 0);
	memset(longv, 'y', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	log_begin(&e, log, "long");
	log_str(&e, "v", longv);
	log_u64(&e, "after", 1);
	assert_int_equal(log_end(&e), 0);
	log_simple(log, "plain");
	assert_int_equal(log_count(log), 3);
	log_free(log);
	txt = tu_slurp(path, &len);
	assert_non_null(strstr(txt, "\"board\":\"brd\\\"1\",\"ev\":\"test\","
				    "\"s\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\""));
	assert_non_null(strstr(txt, "\"u\":42,\"i\":-3,\"h\":\"0x00000abc\",\"t\":true,\"null\":null}\n"));
	/* the long line is cut but stays one valid object */
	nl = strstr(txt, "\"ev\":\"long\"");
	assert_non_null(nl);
	nl = strchr(nl, '\n');
	assert_true(nl[-1] == '}');
	assert_true(nl - txt < LOG_LINE_MAX * 2);
	assert_non_null(strstr(txt, "\"ev\":\"plain\"}\n"));
	free(txt);
	/* a NULL log drops everything */
	log_begin(&e, NULL, "x");
	log_str(&e, "a", "b");
	assert_int_equal(log_end(&e), 0);
	assert_int_equal(log_open("/nonexistent/x", "b", &log), -ENOENT);
	tu_rmdir(dir);
}

static void test_ffs_blocks(void **state)
{
	uint8_t b[512];
	size_t len;

	(void)state;
	assert_int_equal(sizeof(ffs_hid_report_desc), 76);
	assert_int_equal(ffs_hid_desc[7], 76);
	assert_int_equal(ffs_build_descs(FFS_KIND_ROM, b, sizeof(b), &len), 0);
	assert_int_equal(util_le32(b), 3);
	assert_int_equal(util_le32(b + 4), len);
	assert_int_equal(util_le32(b + 12), 3); /* fs count */
	/* interface: HID, 1 endpoint; then the HID descriptor; then EP 0x81 interrupt */
	assert_int_equal(b[20 + 5], 3);
	assert_int_equal(b[20 + 4], 1);
	assert_int_equal(b[29 + 1], 0x21);
	assert_int_equal(b[38 + 2], 0x81);
	assert_int_equal(b[38 + 3], 3);
	assert_int_equal(ffs_build_descs(FFS_KIND_FASTBOOT, b, sizeof(b), &len), 0);
	assert_int_equal(b[20 + 5], 0xff);
	assert_int_equal(b[20 + 6], 0x42);
	assert_int_equal(b[20 + 7], 0x03);
	/* the high-speed set has 512-byte bulk endpoints */
	assert_int_equal(util_le16(b + 20 + 23 + 9 + 4), 512);
	assert_int_equal(ffs_build_descs(FFS_KIND_RUNTIME, b, sizeof(b), &len), 0);
	assert_int_equal(b[20 + 6], 0x00);
	assert_int_equal(ffs_build_descs(FFS_KIND_ROM, b, 10, &len), -ENOSPC);
	assert_int_equal(ffs_build_strings(FFS_KIND_FASTBOOT, b, sizeof(b), &len), 0);
	assert_int_equal(len, 16 + 2 + 17);
	assert_string_equal((char *)b + 18, "Android Fastboot");
	assert_int_equal(ffs_build_strings(FFS_KIND_ROM, b, sizeof(b), &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(ffs_build_strings(FFS_KIND_FASTBOOT, b, 20, &len), -ENOSPC);
}

static void test_util(void **state)
{
	const char *end;
	uint64_t v;

	(void)state;
	assert_int_equal(util_parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(util_parse_size("0x10M", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(util_parse_size("", &v), -EINVAL);
	assert_int_equal(util_parse_size("-1", &v), -EINVAL);
	assert_int_equal(util_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(util_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(util_parse_u64("12x", &v), -EINVAL);
	assert_int_equal(util_strtoul_uboot("0x1fZ", &end, 16), 0x1f);
	assert_string_equal(end, "Z");
	assert_int_equal(util_strtoul_uboot("0x10", NULL, 0), 16);
	assert_int_equal(util_strtoul_uboot("010", NULL, 0), 8);
	assert_int_equal(util_strtoul_uboot("zz", &end, 16), 0);
	assert_int_equal(util_strtoul_uboot("ffffffffffffffffff", NULL, 16), UINT64_MAX);
	assert_true(util_now_ns() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test(test_opts_all),
		cmocka_unit_test(test_opts_spl_uboot),
		cmocka_unit_test(test_opts_unplug),
		cmocka_unit_test(test_opts_verify),
		cmocka_unit_test(test_opts_bus),
		cmocka_unit_test(test_opts_bad),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_ffs_blocks),
		cmocka_unit_test(test_util),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
