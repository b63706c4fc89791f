/* Unit tests for the flashd.conf parser. */
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

#include "flashd/conf.h"
#include "testutil.h"

static char *tmpdir;

static struct conf *parse_ok(const char *text)
{
	struct conf *c = NULL;
	char *errors = NULL;
	int r = conf_parse("t.conf", "/etc/flashd", text, strlen(text), &c, &errors);

	if (r < 0)
		fprintf(stderr, "unexpected errors:\n%s", errors ? errors : "(none)\n");
	assert_int_equal(r, 0);
	assert_null(errors);
	assert_non_null(c);
	return c;
}

/* Parse len bytes that must fail; returns the error text (caller frees). */
static char *parse_bad_len(const char *text, size_t len)
{
	struct conf *c = (struct conf *)0x1;
	char *errors = NULL;
	int r = conf_parse("t.conf", "/etc/flashd", text, len, &c, &errors);

	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(c, (struct conf *)0x1);
	assert_non_null(errors);
	return errors;
}

static char *parse_bad(const char *text)
{
	return parse_bad_len(text, strlen(text));
}

static void expect_error(const char *text, const char *message)
{
	char *e = parse_bad(text);

	if (!strstr(e, message))
		fail_msg("expected '%s' in:\n%s", message, e);
	free(e);
}

/* Every setting of the global section: its built-in default, and its value
 * in test_full's file. */
#define CONF_FIELD(f) #f, offsetof(struct conf, f), sizeof(((struct conf *)0)->f)

static const struct conf_number {
	const char *name;
	size_t off, size;
	uint64_t def, full;
} conf_numbers[] = {
	{ CONF_FIELD(nplan_args), 0, 2 },
	{ CONF_FIELD(sdp_timeout_ms), 5000, 250 },
	{ CONF_FIELD(reenum_timeout_ms), 15000, 20000 },
	{ CONF_FIELD(fastboot_timeout_ms), 10000, 60000 },
	{ CONF_FIELD(flash_timeout_min_ms), 10000, 30000 },
	{ CONF_FIELD(flash_rate), 5u << 20, 8u << 20 },
	{ CONF_FIELD(erase_timeout_ms), 120000, 300000 },
	{ CONF_FIELD(settle_ms), 3000, 0 },
	{ CONF_FIELD(bootloop_guard_ms), 60000, 90000 },
	{ CONF_FIELD(usb_transfer_size), 256u << 10, 1u << 20 },
	{ CONF_FIELD(usb_transfers), 4, 8 },
	{ CONF_FIELD(sdp_reports), 4, 1 },
	{ CONF_FIELD(read_uid), false, true },
	{ CONF_FIELD(max_clients), 32, 100 },
	{ CONF_FIELD(client_queue), 1u << 20, 4096 },
	{ CONF_FIELD(max_clients_per_user), 8, 2 },
	{ CONF_FIELD(admin_clients), 4, 0 },
	{ CONF_FIELD(client_idle_timeout_ms), 60000, 0 },
	{ CONF_FIELD(nports), 0, 2 },
	{ CONF_FIELD(nslots), 0, 2 },
	{ CONF_FIELD(slots_only), false, true },
	{ CONF_FIELD(slot_alert), 3, 0 },
	{ CONF_FIELD(verify), false, true },
	{ CONF_FIELD(verify_sha256), false, true },
	{ CONF_FIELD(verify_mmc_dev), 0, 2 },
	{ CONF_FIELD(verify_piece), 8u << 20, 1u << 20 },
	{ CONF_FIELD(pool_retry_ms), 2000, 5000 },
	{ CONF_FIELD(pool_refresh_ms), 10000, 30000 },
	{ CONF_FIELD(npools), 0, 1 },
	{ CONF_FIELD(bus_scheduling), true, false },
	{ CONF_FIELD(bus_order), CONF_BUS_ORDER_FIFO, CONF_BUS_ORDER_SHORTEST },
	{ CONF_FIELD(bus_downloads), 2, 3 },
	{ CONF_FIELD(bus_starve_grants), 8, 0 },
	{ CONF_FIELD(bus_starve_ms), 0, 5000 },
	{ CONF_FIELD(bus_small), 1u << 20, 0 },
	{ CONF_FIELD(bus_piece), 16u << 20, 4u << 20 },
	{ CONF_FIELD(nbuses), 0, 2 },
};

static const struct conf_string {
	const char *name;
	size_t off, size;
	const char *def, *full;     /* NULL: the field is NULL */
} conf_strings[] = {
	{ CONF_FIELD(socket_path), "/run/flashd/flashd.sock", "/tmp/f.sock" },
	{ CONF_FIELD(socket_group), "flashd-operators", "line" },
	{ CONF_FIELD(admin_group), "flashd-admin", "" },
	{ CONF_FIELD(journal_path), "/var/lib/flashd/results.jsonl", "/srv/results.jsonl" },
	{ CONF_FIELD(plan), NULL, "/etc/flashd/plans/full.lst" },
	{ CONF_FIELD(station_id), NULL, "line1.st-2:a_b" },
	{ CONF_FIELD(pool_sqlite), "/var/lib/flashd/pools.sqlite", "/srv/pools.db" },
	/* a libpq connection string, kept as written (blanks, quotes) */
	{ CONF_FIELD(pool_postgresql), NULL, "host=db.line dbname=flashd user='st 1'" },
};

static uint64_t conf_number_get(const struct conf *c, const struct conf_number *n)
{
	const char *p = (const char *)c + n->off;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;

	switch (n->size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	case 8:
		memcpy(&u64, p, 8);
		return u64;
	}
	fail_msg("%s: a field of %zu bytes", n->name, n->size);
	return 0;
}

/* c holds the defaults, or (full) what test_full's file sets */
static void check_settings(const struct conf *c, bool full)
{
	for (size_t i = 0; i < sizeof(conf_numbers) / sizeof(conf_numbers[0]); i++) {
		const struct conf_number *n = &conf_numbers[i];
		uint64_t got = conf_number_get(c, n), want = full ? n->full : n->def;

		if (got != want)
			print_error("%s\n", n->name);
		assert_int_equal(got, want);
	}
	for (size_t i = 0; i < sizeof(conf_strings) / sizeof(conf_strings[0]); i++) {
		const struct conf_string *t = &conf_strings[i];
		const char *got = *(char *const *)((const char *)c + t->off);
		const char *want = full ? t->full : t->def;

		if (want ? !got || strcmp(got, want) : got != NULL)
			print_error("%s\n", t->name);
		if (want)
			assert_string_equal(got, want);
		else
			assert_null(got);
	}
}

static void test_defaults(void **state)
{
	struct conf *c = parse_ok("");

	check_settings(c, false);
	conf_free(c);
}

static void test_full(void **state)
{
	struct conf *c = parse_ok(
		"# comment\n"
		"; also a comment\n"
		"   \n"
		"socket = /tmp/f.sock\r\n"
		"socket-group=line\n"
		"admin-group =\n"
		"journal = /srv/results.jsonl\n"
		"station-id = line1.st-2:a_b\n"
		"plan = plans/full.lst\n"
		"plan-args = u-boot.imx \"my rootfs.img\" \t\n"
		"sdp-timeout = 250ms\n"
		"reenum-timeout = 20 s\n"
		"fastboot-timeout = 1min\n"
		"flash-timeout-min = 30s\n"
		"flash-rate = 8M\n"
		"erase-timeout = 5min\n"
		"settle = 0ms\n"
		"bootloop-guard = 90s\n"
		"usb-transfer-size = 1M\n"
		"usb-transfers = 8\n"
		"sdp-reports = 1\n"
		"read-uid = Yes\n"
		"max-clients = 100\n"
		"client-queue = 4K\n"
		"max-clients-per-user = 2\n"
		"admin-clients = 0\n"
		"client-idle-timeout = 0s\n"
		"slot A1 = 1-1.4\n"
		"slot\tB-2.x =2-1\n"
		"slots-only = yes\n"
		"slot-alert = 0\n"
		"verify = on\n"
		"verify-sha256 = yes\n"
		"verify-mmc-dev = 2\n"
		"verify-piece = 1M\n"
		"pool-sqlite = /srv/pools.db\n"
		"pool-postgresql =  host=db.line dbname=flashd user='st 1' \n"
		"pool-retry = 5s\n"
		"pool-refresh = 30s\n"
		"bus-scheduling = off\n"
		"bus-order = shortest\n"
		"bus-downloads = 3\n"
		"bus-starve-grants = 0\n"
		"bus-starve-time = 5s\n"
		"bus-small = 0\n"
		"bus-piece = 4M\n"
		"bus line = 1-1 1-2\t3-1.4\n"
		"bus\tb.2 = 4-1\n"
		"[port 1-1.4]\n"
		"plan = /abs/boot.lst\n"
		"[ port 2-1 ]\n"
		"plan = other.lst\n"
		"plan-args = a b c\n"
		"[pool sn]\n"
		"kind = serial\n"
		"format = SN%06u\n"
		"start = 1\n"
		"end = 999999\n"
		"backend = postgresql\n");

	check_settings(c, true);
	assert_int_equal(c->pools[0].line, 54);
	assert_int_equal(c->pools[0].backend, POOL_BACKEND_POSTGRESQL);
	assert_string_equal(c->plan_args[0], "u-boot.imx");
	assert_string_equal(c->plan_args[1], "my rootfs.img");
	assert_string_equal(c->ports[0].name, "1-1.4");
	assert_string_equal(c->ports[0].plan, "/abs/boot.lst");
	assert_int_equal(c->ports[0].nplan_args, 0);
	assert_int_equal(c->ports[0].line, 49);
	assert_string_equal(c->buses[0].name, "line");
	assert_int_equal(c->buses[0].nports, 3);
	assert_string_equal(c->buses[0].ports[2], "3-1.4");
	assert_int_equal(c->buses[0].line, 47);
	assert_string_equal(c->buses[1].name, "b.2");
	assert_string_equal(c->slots[1].name, "B-2.x");
	assert_string_equal(c->slots[1].port, "2-1");
	assert_int_equal(c->slots[1].line, 29);
	assert_string_equal(c->ports[1].plan, "/etc/flashd/other.lst");
	assert_int_equal(c->ports[1].nplan_args, 3);
	assert_string_equal(c->ports[1].plan_args[2], "c");
	assert_ptr_equal(conf_port_find(c, "2-1"), &c->ports[1]);
	assert_null(conf_port_find(c, "2-1.1"));
	assert_null(conf_port_find(c, NULL));
	conf_free(c);
}

/* plan-dirs: default "plans" beside the file, then the packaged folder;
 * given, relative folders are taken from the file's folder */
static void test_plan_dirs(void **state)
{
	struct conf *c = parse_ok("");
	const char *t = "plan-dirs = a\n";

	assert_int_equal(c->nplan_dirs, 2);
	assert_string_equal(c->plan_dirs[0], "/etc/flashd/plans");
	assert_string_equal(c->plan_dirs[1], PLANDIR);
	conf_free(c);
	c = parse_ok("plan-dirs = /srv/plans local \"with blank\"\n");
	assert_int_equal(c->nplan_dirs, 3);
	assert_string_equal(c->plan_dirs[0], "/srv/plans");
	assert_string_equal(c->plan_dirs[1], "/etc/flashd/local");
	assert_string_equal(c->plan_dirs[2], "/etc/flashd/with blank");
	conf_free(c);
	/* built-in defaults and a text without a folder: the packaged folder only */
	c = conf_new_default();
	assert_int_equal(c->nplan_dirs, 1);
	assert_string_equal(c->plan_dirs[0], PLANDIR);
	conf_free(c);
	c = NULL;
	assert_int_equal(conf_parse(NULL, NULL, "", 0, &c, NULL), 0);
	assert_int_equal(c->nplan_dirs, 1);
	conf_free(c);
	assert_int_equal(conf_parse(NULL, NULL, t, strlen(t), &c, NULL), 0);
	assert_string_equal(c->plan_dirs[0], "a");
	conf_free(c);
	expect_error("plan-dirs =\n", "t.conf:1: plan-dirs: no folder given");
	expect_error("plan-dirs = \"a\n", "plan-dirs: unterminated quote");
	expect_error("plan-dirs = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
		     "plan-dirs: more than 16 folders");
	expect_error("[port 1-1]\nplan = x\nplan-dirs = y\n", "unknown key 'plan-dirs' in [port 1-1]");
}

static void test_no_dir_keeps_relative_plan(void **state)
{
	struct conf *c = NULL;
	const char *t = "plan = rel.lst\n";

	assert_int_equal(conf_parse(NULL, NULL, t, strlen(t), &c, NULL), 0);
	assert_string_equal(c->plan, "rel.lst");
	conf_free(c);
	/* not NUL-terminated: only len bytes count */
	assert_int_equal(conf_parse(NULL, NULL, "plan = x.lst garbage", 12, &c, NULL), 0);
	assert_string_equal(c->plan, "x.lst");
	conf_free(c);
	/* an empty global plan means no plan */
	c = parse_ok("plan =\n");
	assert_null(c->plan);
	conf_free(c);
}

static void test_value_errors(void **state)
{
	expect_error("sdp-timeout = 5\n", "t.conf:1: sdp-timeout: bad duration '5'");
	expect_error("sdp-timeout = 5h\n", "bad duration");
	expect_error("sdp-timeout = s\n", "bad duration");
	expect_error("sdp-timeout = 99ms\n", "sdp-timeout: out of range (100ms to 60000ms)");
	expect_error("sdp-timeout = 99999999999999999999999s\n", "out of range");
	expect_error("erase-timeout = 71583min\n", "out of range");
	expect_error("flash-rate = 5X\n", "flash-rate: bad size '5X'");
	expect_error("flash-rate = 1\n", "flash-rate: out of range");
	expect_error("client-queue = 99999999999G\n", "out of range");
	expect_error("max-clients-per-user = 0\n", "max-clients-per-user: out of range (1 to 1024)");
	expect_error("admin-clients = 1024\n", "admin-clients: out of range (0 to 1023)");
	expect_error("client-idle-timeout = 2d\n", "client-idle-timeout: bad duration");
	expect_error("usb-transfer-size = 1000\n", "usb-transfer-size: must be a multiple of 512");
	expect_error("usb-transfer-size = 32M\n", "out of range");
	expect_error("usb-transfers = 0\n", "usb-transfers: out of range (1 to 64)");
	expect_error("usb-transfers = 4x\n", "usb-transfers: bad number '4x'");
	expect_error("usb-transfers = -1\n", "bad number");
	expect_error("sdp-reports = 0\n", "sdp-reports: out of range (1 to 16)");
	expect_error("sdp-reports = 17\n", "sdp-reports: out of range (1 to 16)");
	expect_error("read-uid = maybe\n", "read-uid: bad boolean 'maybe'");
	expect_error("socket = run/flashd.sock\n", "socket: must be an absolute path");
	expect_error("journal =\n", "journal: must be an absolute path");
	expect_error("socket-group = 9lives\n", "socket-group: bad group name '9lives'");
	expect_error("socket-group =\n", "bad group name ''");
	expect_error("admin-group = a b\n", "admin-group: bad group name");
	expect_error("station-id =\n", "t.conf:1: station-id: bad station id '' (1 to 64 letters");
	expect_error("station-id = a/b\n", "station-id: bad station id 'a/b'");
	expect_error("station-id = "
		     "01234567890123456789012345678901234567890123456789012345678901234\n",
		     "station-id: bad station id");
	expect_error("plan-args = \"unterminated\n", "plan-args: unterminated quote");
}

static void test_syntax_errors(void **state)
{
	char *e;

	expect_error("frobnicate = 1\n", "t.conf:1: unknown key 'frobnicate'");
	expect_error("just words\n", "t.conf:1: expected 'key = value'");
	expect_error(" = value\n", "expected 'key = value'");
	expect_error("settle = 1s\nsettle = 2s\n", "t.conf:2: settle: set twice in this section");
	expect_error("[port 1-1\n", "bad section header");
	expect_error("[port 1-1] x\n", "bad section header");
	expect_error("[ports 1-1]\nplan = a\n", "unknown section '[ports 1-1]'");
	expect_error("[global]\n", "unknown section");
	expect_error("[port 1]\nplan = a\n", "bad port name '1'");
	expect_error("[port 1-1..2]\nplan = a\n", "bad port name");
	expect_error("[port a-1]\nplan = a\n", "bad port name");
	expect_error("[port 1-1.]\nplan = a\n", "bad port name");
	expect_error("[port 1-1:1.0]\nplan = a\n", "bad port name");
	expect_error("[port 1-1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1]\nplan = a\n", "bad port name");
	expect_error("[port 1-1]\nplan = a\n[port 1-1]\nplan = b\n", "t.conf:3: duplicate section [port 1-1]");
	expect_error("[port 1-1]\nplan-args = x\n", "t.conf:1: [port 1-1]: no plan");
	expect_error("[port 1-1]\nplan =\n", "t.conf:2: plan: empty");
	expect_error("[port 1-1]\nplan = a\nsettle = 1s\n",
		     "t.conf:3: unknown key 'settle' in [port 1-1] (only plan and plan-args)");
	expect_error("plan-args = a b\n", "t.conf:1: plan-args given without plan");
	e = parse_bad_len("a\0b = c\nx = 1\n", 14);
	assert_non_null(strstr(e, "t.conf:1: NUL byte"));
	assert_non_null(strstr(e, "t.conf:2: unknown key 'x'"));
	free(e);
}

/* "slot NAME = PORT", slots-only, slot-alert: lookups, and errors with file:line */
/* [pool NAME] sections (flashd.conf(5) "Pools") */
static void test_pools(void **state)
{
	char path[512], text[2048], fp[256];
	struct conf *c;
	char *e = NULL;

	c = parse_ok("[port 1-1]\nplan = a.lst\n"
		     "[pool serial]\nkind = serial\nformat = SN%08u\nstart = 1\nend = 99999999\n"
		     "low = 1000\n"
		     "[pool eth]\nkind = mac\nrange = 00:11:22:00:00:00 - 00:11:22:00:FF:ff\n"
		     "count = 2\nreturn-unused = yes\n");
	assert_int_equal(c->npools, 2);
	assert_int_equal(c->nports, 1);
	assert_string_equal(c->pools[0].name, "serial");
	assert_int_equal(c->pools[0].kind, POOL_KIND_SERIAL);
	assert_int_equal(c->pools[0].backend, POOL_BACKEND_SQLITE);
	assert_int_equal(c->pools[0].count, 1);
	assert_int_equal(c->pools[0].low, 1000);
	assert_false(c->pools[0].return_unused);
	assert_int_equal(c->pools[0].line, 3);
	assert_int_equal(pool_fingerprint(&c->pools[0], fp, sizeof(fp)), 0);
	assert_string_equal(fp, "serial SN%08u from 1 count 1");
	assert_int_equal(c->pools[1].kind, POOL_KIND_MAC);
	assert_int_equal(c->pools[1].start, 0x001122000000ULL);
	assert_int_equal(c->pools[1].end, 0x00112200ffffULL);
	assert_int_equal(c->pools[1].count, 2);
	assert_true(c->pools[1].return_unused);
	assert_int_equal(pool_fingerprint(&c->pools[1], fp, sizeof(fp)), 0);
	assert_string_equal(fp, "mac from 001122000000 count 2");
	assert_ptr_equal(pool_find(c->pools, c->npools, "eth"), &c->pools[1]);
	conf_free(c);

	/* a list: its file relative to the configuration's folder, loaded now */
	snprintf(path, sizeof(path), "%s/keys.txt", tmpdir);
	testutil_write_file(path, "# batch 3\nKEY-1\nKEY-2\nKEY-3\n", 27);
	snprintf(text, sizeof(text), "[pool keys]\nkind = list\nfile = keys.txt\n");
	assert_int_equal(conf_parse("t.conf", tmpdir, text, strlen(text), &c, &e), 0);
	assert_string_equal(c->pools[0].file, path);
	assert_int_equal(c->pools[0].nvalues, 3);
	assert_string_equal(c->pools[0].values[2], "KEY-3");
	conf_free(c);
	/* a bad list file: the file's own FILE:LINE, at the section's line */
	testutil_write_file(path, "KEY-1\nKEY-2\nKEY-1\n", 18);
	snprintf(text, sizeof(text), "settle = 1s\n[pool keys]\nkind = list\nfile = %s\n", path);
	assert_int_equal(conf_parse("t.conf", tmpdir, text, strlen(text), &c, &e), -EINVAL);
	snprintf(text, sizeof(text),
		 "t.conf:2: [pool keys]: %s:3: duplicate value 'KEY-1' (first at %s:1)\n", path,
		 path);
	assert_string_equal(e, text);
	free(e);
	e = NULL;
	snprintf(text, sizeof(text), "[pool keys]\nkind = list\nfile = nothere.txt\n");
	assert_int_equal(conf_parse("t.conf", tmpdir, text, strlen(text), &c, &e), -EINVAL);
	assert_non_null(strstr(e, "t.conf:1: [pool keys]: "));
	assert_non_null(strstr(e, "/nothere.txt: No such file or directory"));
	free(e);
}

static void test_pool_errors(void **state)
{
	/* keys, on their own lines */
	expect_error("[pool a]\nkind = serials\n",
		     "t.conf:2: kind: 'serials' is not serial, mac or list");
	expect_error("[pool a]\nkind = serial\nformat = SN%u%u\nstart = 1\nend = 2\n",
		     "t.conf:3: format: format 'SN%u%u' has more than one conversion");
	expect_error("[pool a]\nkind = serial\nformat = SN\nstart = 1\nend = 2\n",
		     "t.conf:3: format: format 'SN' has no conversion");
	expect_error("[pool a]\nkind = serial\nformat = SN%d\n",
		     "t.conf:3: format: format 'SN%d': bad conversion");
	expect_error("[pool a]\nstart = -1\n", "t.conf:2: start: bad number '-1'");
	expect_error("[pool a]\nend = 99999999999999999999\n", "t.conf:2: end: bad number");
	expect_error("[pool a]\nrange = 00:11:22:00:00-00:11:22:00:00:01\n",
		     "t.conf:2: range: bad MAC address range");
	expect_error("[pool a]\nrange = 00:11:22:00:00:02-00:11:22:00:00:01\n",
		     "t.conf:2: range: start is above the end");
	expect_error("[pool a]\nrange = 00:11:22:00:00:00-00:11:22:00:00:01:02\n",
		     "t.conf:2: range: bad MAC address range");
	expect_error("[pool a]\ncount = 17\n", "t.conf:2: count: '17' is not 1 … 16");
	expect_error("[pool a]\ncount = 0\n", "t.conf:2: count: '0' is not 1 … 16");
	expect_error("[pool a]\nbackend = mysql\n",
		     "t.conf:2: backend: 'mysql' is not sqlite or postgresql");
	expect_error("[pool a]\nlow = some\n", "t.conf:2: low: bad number 'some'");
	expect_error("[pool a]\nreturn-unused = perhaps\n",
		     "t.conf:2: return-unused: bad boolean 'perhaps'");
	expect_error("[pool a]\nfile =\n", "t.conf:2: file: empty");
	expect_error("[pool a]\nplan = x\n", "t.conf:2: unknown key 'plan' in [pool a]");
	expect_error("[pool a]\nkind = mac\nkind = mac\n",
		     "t.conf:3: kind: set twice in this section");
	/* names */
	expect_error("[pool 9a]\nkind = mac\n", "t.conf:1: bad pool name '9a'");
	expect_error("[pool a.b]\n", "t.conf:1: bad pool name 'a.b'");
	expect_error("[pool abcdefghijklmnopqrstuvwxyz0123456]\n", "bad pool name");
	expect_error("[pool a]\nkind = mac\nrange = 00:00:00:00:00:00-00:00:00:00:00:09\n"
		     "[pool a]\nkind = mac\nrange = 00:00:00:00:00:00-00:00:00:00:00:09\n",
		     "t.conf:4: [pool a] declared twice (first on line 1)");
	/* at the section's end, at its header's line */
	expect_error("settle = 1s\n[pool a]\ncount = 2\n",
		     "t.conf:2: [pool a]: no kind (serial, mac or list)");
	expect_error("[pool a]\nkind = serial\nformat = %u\nstart = 1\n[port 1-1]\nplan = p\n",
		     "t.conf:1: [pool a]: a serial pool needs end");
	expect_error("[pool a]\nkind = mac\n", "t.conf:1: [pool a]: a mac pool needs range");
	expect_error("[pool a]\nkind = list\n", "t.conf:1: [pool a]: a list pool needs file");
	expect_error(
	    "[pool a]\nkind = mac\nrange = 00:00:00:00:00:00-00:00:00:00:00:09\nformat = %u\n",
	    "t.conf:1: [pool a]: format (line 4) is for serial pools, not mac");
	expect_error("[pool a]\nkind = serial\nformat = %u\nstart = 9\nend = 8\n",
		     "t.conf:1: [pool a]: start 9 is above end 8");
	expect_error("[pool a]\nkind = serial\nformat = %u\nstart = 1\nend = 3\ncount = 4\n",
		     "t.conf:1: [pool a]: count 4 is larger than the pool (3 values)");
	expect_error(
	    "[pool a]\nkind = mac\nrange = 00:00:00:00:00:00-00:00:00:00:00:00\ncount = 2\n",
	    "t.conf:1: [pool a]: count 2 is larger than the pool (1 values)");
	expect_error(
	    "[pool a]\nkind = serial\nformat = %u\nstart = 1\nend = 3\nbackend = postgresql\n",
	    "t.conf:1: [pool a]: backend postgresql needs pool-postgresql");
	{
		char text[600] = "[pool a]\nkind = serial\nformat = ";
		size_t n = strlen(text);

		memset(text + n, 'x', 250);
		strcpy(text + n + 250, "%u\nstart = 1\nend = 10000000\n");
		expect_error(text, "t.conf:1: [pool a]: format 'xxx");
		expect_error(text, "' makes values of 258 bytes (at most 256)");
	}
	/* global keys */
	expect_error("pool-sqlite = pools.db\n", "t.conf:1: pool-sqlite: must be an absolute path");
	expect_error("pool-postgresql =\n", "t.conf:1: pool-postgresql: empty");
	expect_error("pool-retry = 50ms\n",
		     "t.conf:1: pool-retry: out of range (100ms to 600000ms)");
	expect_error("pool-retry = 11min\n", "pool-retry: out of range");
	/* every error collected, section by section */
	{
		char *e = parse_bad("[pool a]\nkind = x\n[pool b]\nkind = mac\n[pool 1]\n");

		assert_non_null(strstr(e, "t.conf:2: kind: 'x'"));
		assert_non_null(strstr(e, "t.conf:3: [pool b]: a mac pool needs range"));
		assert_non_null(strstr(e, "t.conf:5: bad pool name '1'"));
		free(e);
	}
	expect_error("[pools a]\n",
		     "unknown section '[pools a]' (expected [port NAME] or [pool NAME])");
}

static void test_pool_max(void **state)
{
	char *text = malloc((POOL_MAX + 1) * 100), *e;
	size_t n = 0;

	assert_non_null(text);
	for (unsigned i = 0; i <= POOL_MAX; i++)
		n += (size_t)sprintf(
		    text + n,
		    "[pool p%u]\nkind = mac\nrange = 00:00:00:00:00:00-00:00:00:00:00:09\n", i);
	e = parse_bad(text);
	assert_non_null(strstr(e, "t.conf:97: more than 32 [pool] sections"));
	free(e);
	free(text);
}

static void test_slots(void **state)
{
	struct conf *c = parse_ok("slot A3 = 1-1.4.2\nslot A10 = 1-1.4.3\nslot a_1 = 2-1\n"
				  "slot-alert = 5\n");
	char *e;

	assert_int_equal(c->nslots, 3);
	assert_false(c->slots_only);
	assert_int_equal(c->slot_alert, 5);
	assert_string_equal(conf_slot_of_port(c, "1-1.4.3")->name, "A10");
	assert_string_equal(conf_slot_find(c, "A3")->port, "1-1.4.2");
	assert_int_equal(conf_slot_find(c, "a_1")->line, 3);
	assert_null(conf_slot_find(c, "a3"));        /* names are case-sensitive */
	assert_null(conf_slot_of_port(c, "1-1.4"));
	assert_null(conf_slot_find(c, NULL));
	conf_free(c);
	/* names: letters, digits, '_', '-', '.', first a letter or digit, at most 16 bytes */
	assert_true(conf_slot_name_valid("A3"));
	assert_true(conf_slot_name_valid("3"));
	assert_true(conf_slot_name_valid("row2.left-7_b"));
	assert_true(conf_slot_name_valid("ABCDEFGHIJKLMNOP"));
	assert_false(conf_slot_name_valid("ABCDEFGHIJKLMNOPQ"));
	assert_false(conf_slot_name_valid(""));
	assert_false(conf_slot_name_valid("-A"));
	assert_false(conf_slot_name_valid("A 3"));
	assert_false(conf_slot_name_valid("A/3"));
	assert_false(conf_slot_name_valid("Ä3"));
	assert_false(conf_slot_name_valid("1-1.4"));  /* a port path: ambiguous */
	expect_error("settle = 1s\nslot A3 = 1-1\nslot A3 = 1-2\n",
		     "t.conf:3: slot A3: declared twice (first on line 2)");
	expect_error("slot A3 = 1-1\n\nslot B1 = 1-1\n",
		     "t.conf:3: slot B1: port 1-1 is already slot A3 (line 1)");
	expect_error("slot A 3 = 1-1\n", "t.conf:1: bad slot name 'A 3'");
	expect_error("slot 1-2 = 1-1\n", "t.conf:1: bad slot name '1-2'");
	expect_error("slot A3 = usb1\n", "t.conf:1: slot A3: bad port name 'usb1'");
	expect_error("slot A3 =\n", "t.conf:1: slot A3: bad port name ''");
	expect_error("slot = 1-1\n", "t.conf:1: unknown key 'slot'");
	expect_error("[port 1-1]\nplan = a\nslot A1 = 1-1\n",
		     "t.conf:3: unknown key 'slot A1' in [port 1-1]");
	expect_error("slot-alert = 1001\n", "t.conf:1: slot-alert: out of range (0 to 1000)");
	expect_error("verify = maybe\n", "t.conf:1: verify:");
	expect_error("verify-mmc-dev = 16\n", "t.conf:1: verify-mmc-dev: out of range (0 to 15)");
	expect_error("verify-piece = 1000\n", "t.conf:1: verify-piece:");
	expect_error("verify-piece = 2G\n", "t.conf:1: verify-piece:");
	expect_error("slots-only = maybe\n", "t.conf:1: slots-only: bad boolean");
	/* slots-only needs slots, and makes [port] sections of other ports useless */
	expect_error("\nslots-only = yes\n", "t.conf:2: slots-only: no slot line");
	expect_error("slot A1 = 1-1\nslots-only = yes\n[port 1-2]\nplan = a\n",
		     "t.conf:3: [port 1-2]: not a slot, and slots-only ignores it");
	c = parse_ok("slot A1 = 1-1\nslots-only = yes\n[port 1-1]\nplan = a\n");
	assert_true(c->slots_only);
	conf_free(c);
	/* all of them, each with its line */
	e = parse_bad("slot A = 1-1\nslot A = 1-2\nslot B = 1-1\nslot ? = 1-3\n");
	testutil_assert_contains(e, (const char *const[]){
		"t.conf:2: slot A: declared twice",
		"t.conf:3: slot B: port 1-1 is already slot A",
		"t.conf:4: bad slot name '?'",
		NULL });
	free(e);
}

/* "bus NAME = PORT PORT …" and the bus-* keys: lookups, and errors with file:line */
static void test_buses(void **state)
{
	struct conf *c = parse_ok("bus line = 1-1 2-1 3-1\nbus B = 4-1.2\n");
	char *e, text[2048];
	size_t len = 0;

	(void)state;
	assert_int_equal(c->nbuses, 2);
	assert_true(c->bus_scheduling);    /* on by default: bench P6 (docs/performance.md) */
	assert_string_equal(conf_bus_of_port(c, "2-1")->name, "line");
	assert_string_equal(conf_bus_of_port(c, "4-1.2")->name, "B");
	assert_null(conf_bus_of_port(c, "4-1"));
	assert_null(conf_bus_of_port(c, NULL));
	assert_ptr_equal(conf_bus_find(c, "B"), &c->buses[1]);
	assert_null(conf_bus_find(c, "b"));
	assert_int_equal(conf_bus_find(c, "line")->line, 1);
	conf_free(c);
	expect_error("bus line = 1-1\nbus line = 2-1\n",
		     "t.conf:2: bus line: declared twice (first on line 1)");
	expect_error("bus a = 1-1 2-1\n\nbus b = 3-1 2-1\n",
		     "t.conf:3: bus b: port 2-1 is already on bus a (line 1)");
	expect_error("bus a = 1-1 1-1\n", "t.conf:1: bus a: port 1-1 named twice");
	expect_error("bus a = 1-1 usb2\n", "t.conf:1: bus a: bad port name 'usb2'");
	expect_error("bus a =\n", "t.conf:1: bus a: no port (bus NAME = PORT PORT …)");
	expect_error("bus a = 1-1 \"2-1\n", "t.conf:1: bus a: unterminated quote");
	expect_error("bus 1-1 = 2-1\n", "t.conf:1: bad bus name '1-1'");
	expect_error("bus = 2-1\n", "t.conf:1: unknown key 'bus'");
	expect_error("[port 1-1]\nbus a = 1-1\n", "t.conf:2: unknown key 'bus a' in [port 1-1]");
	expect_error("bus-order = random\n",
		     "t.conf:1: bus-order: bad value 'random' (fifo or shortest)");
	expect_error("bus-downloads = 0\n", "t.conf:1: bus-downloads: out of range (1 to 16)");
	expect_error("bus-downloads = 17\n", "t.conf:1: bus-downloads: out of range (1 to 16)");
	expect_error("bus-scheduling = maybe\n", "t.conf:1: bus-scheduling: bad boolean");
	expect_error("bus-starve-time = 2h\n", "t.conf:1: bus-starve-time:");
	expect_error("bus-order = fifo\nbus-order = fifo\n",
		     "t.conf:2: bus-order: set twice in this section");
	/* CONF_BUS_PORTS_MAX ports on a line, not one more */
	len = (size_t)snprintf(text, sizeof(text), "bus a =");
	for (unsigned i = 1; i <= CONF_BUS_PORTS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, " %u-1", i);
	c = parse_ok(text);
	assert_int_equal(c->buses[0].nports, CONF_BUS_PORTS_MAX);
	conf_free(c);
	snprintf(text + len, sizeof(text) - len, " 99-1\n");
	e = parse_bad(text);
	testutil_assert_contains(e, (const char *const[]){ "t.conf:1: bus a: more than 64 ports",
							   NULL });
	free(e);
}

static void test_errors_all_collected(void **state)
{
	char *e = parse_bad("settle = 1\n"
			    "bogus = 2\n"
			    "socket = /ok.sock\n"
			    "[port 1-1]\n"
			    "plan = a.lst\n"
			    "colour = blue\n"
			    "[port x]\n"
			    "plan = b.lst\n"
			    "usb-transfers = 65\n");

	testutil_assert_contains(e, (const char *const[]){
		"t.conf:1: settle: bad duration",
		"t.conf:2: unknown key 'bogus'",
		"t.conf:6: unknown key 'colour'",
		"t.conf:7: bad port name 'x'",
		NULL });
	/* keys under a rejected section are not reported again */
	assert_null(strstr(e, "t.conf:8"));
	assert_null(strstr(e, "t.conf:9"));
	assert_null(strstr(e, "t.conf:3"));
	free(e);
}

static void test_hostile(void **state)
{
	size_t n = CONF_LINE_MAX + 100;
	char *big = malloc(n + 32), *e;
	struct conf *c = NULL;

	/* an over-long line: one bounded error, the rest still parsed */
	memset(big, 'x', n);
	strcpy(big + n, "\nwhat = 1\n");
	e = parse_bad(big);
	assert_non_null(strstr(e, "t.conf:1: line longer than 4096 bytes"));
	assert_non_null(strstr(e, "t.conf:2: unknown key 'what'"));
	free(e);
	free(big);
	/* a message that would be longer than a line of the report is cut */
	big = malloc(700);
	memset(big, 'k', 600);
	strcpy(big + 600, " = 1\n");
	e = parse_bad(big);
	assert_true(strlen(e) < 600);
	assert_int_equal(e[strlen(e) - 1], '\n');
	free(e);
	free(big);
	/* a file over the limit is refused before parsing */
	e = NULL;
	assert_int_equal(conf_parse("t.conf", NULL, NULL, 1, &c, &e), -EINVAL);
	assert_null(e);
	big = calloc(1, CONF_FILE_MAX + 2);
	memset(big, '#', CONF_FILE_MAX + 1);
	assert_int_equal(conf_parse("t.conf", NULL, big, CONF_FILE_MAX + 1, &c, &e), -EFBIG);
	assert_non_null(strstr(e, "t.conf: larger than"));
	assert_null(c);
	free(e);
	free(big);
	/* many errors: the first CONF_ERRORS_MAX and a count */
	big = malloc(200 * 8 + 1);
	big[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(big, "bad = 1\n");
	e = parse_bad(big);
	assert_non_null(strstr(e, "t.conf:64: unknown key"));
	assert_null(strstr(e, "t.conf:65:"));
	assert_non_null(strstr(e, "t.conf: 136 more errors not shown"));
	free(e);
	free(big);
	/* too many arguments */
	big = malloc(CONF_ARGS_MAX * 2 + 40);
	strcpy(big, "plan = p\nplan-args =");
	for (unsigned i = 0; i <= CONF_ARGS_MAX; i++)
		strcat(big, " a");
	e = parse_bad(big);
	assert_non_null(strstr(e, "plan-args: more than 64 words"));
	free(e);
	free(big);
}

static void test_too_many_ports(void **state)
{
	size_t cap = (CONF_PORTS_MAX + 2) * 40;
	char *t = malloc(cap), *e;
	size_t o = 0;

	for (unsigned i = 0; i <= CONF_PORTS_MAX; i++)
		o += (size_t)snprintf(t + o, cap - o, "[port 1-%u]\nplan = p\n", i + 1);
	e = parse_bad(t);
	assert_non_null(strstr(e, "more than 1024 [port] sections"));
	free(e);
	free(t);
}

static void test_value_parsers(void **state)
{
	uint32_t ms = 42;
	uint64_t b = 42;
	bool v = false;
	char **w;
	size_t n;

	assert_int_equal(conf_parse_duration("0ms", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(conf_parse_duration(" 2 min ", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(conf_parse_duration("4294967295ms", &ms), 0);
	assert_int_equal(ms, UINT32_MAX);
	ms = 42;
	assert_int_equal(conf_parse_duration("4294968s", &ms), -ERANGE);
	assert_int_equal(conf_parse_duration("1 s s", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("1mins", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration(NULL, &ms), -EINVAL);
	assert_int_equal(ms, 42);
	assert_int_equal(conf_parse_size("1G", &b), 0);
	assert_int_equal(b, 1u << 30);
	assert_int_equal(conf_parse_size("7 k", &b), 0);
	assert_int_equal(b, 7168);
	assert_int_equal(conf_parse_size("12", &b), 0);
	assert_int_equal(b, 12);
	b = 42;
	assert_int_equal(conf_parse_size("17179869184G", &b), -ERANGE);
	assert_int_equal(conf_parse_size("1KB", &b), -EINVAL);
	assert_int_equal(conf_parse_size("", &b), -EINVAL);
	assert_int_equal(b, 42);
	assert_int_equal(conf_parse_bool("OFF", &v), 0);
	assert_false(v);
	assert_int_equal(conf_parse_bool("1", &v), 0);
	assert_true(v);
	assert_int_equal(conf_parse_bool("", &v), -EINVAL);
	assert_int_equal(conf_parse_bool(NULL, &v), -EINVAL);
	assert_int_equal(conf_parse_size(NULL, &b), -EINVAL);
	assert_int_equal(conf_parse_uint(" 17 ", &b), 0);
	assert_int_equal(b, 17);
	assert_int_equal(conf_parse_uint("18446744073709551615", &b), 0);
	assert_true(b == UINT64_MAX);
	b = 42;
	assert_int_equal(conf_parse_uint("18446744073709551616", &b), -ERANGE);
	assert_int_equal(conf_parse_uint("0x10", &b), -EINVAL);
	assert_int_equal(conf_parse_uint("1 2", &b), -EINVAL);
	assert_int_equal(conf_parse_uint(NULL, &b), -EINVAL);
	assert_int_equal(b, 42);
	assert_int_equal(conf_split_words("  a \"b c\" d\"e f\"g  ", 8, &w, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "b c");
	assert_string_equal(w[2], "de fg");
	conf_words_free(w, n);
	assert_int_equal(conf_split_words("", 8, &w, &n), 0);
	assert_int_equal(n, 0);
	conf_words_free(w, n);
	assert_int_equal(conf_split_words("a b c", 2, &w, &n), -E2BIG);
	assert_int_equal(conf_split_words("a \"b", 2, &w, &n), -EINVAL);
	assert_int_equal(conf_split_words(NULL, 2, &w, &n), -EINVAL);
}

static void test_flash_timeout(void **state)
{
	struct conf *c = conf_new_default();

	assert_int_equal(conf_flash_timeout_ms(c, 0), 10000);
	assert_int_equal(conf_flash_timeout_ms(c, 5u << 20), 10000);
	/* 112 MiB at 5 MiB/s, doubled: 44.8 s */
	assert_int_equal(conf_flash_timeout_ms(c, 112u << 20), 44800);
	assert_int_equal(conf_flash_timeout_ms(c, UINT64_MAX), UINT32_MAX);
	conf_free(c);
	assert_null(conf_free(NULL));
}


static void test_load(void **state)
{
	char path[512], sub[512];
	struct conf *c = NULL;
	char *e = NULL;
	const char *text;
	FILE *f;

	snprintf(path, sizeof(path), "%s/flashd.conf", tmpdir);
	text = "plan = p/full.lst\n[port 3-2]\nplan = ../x.lst\n";
	testutil_write_file(path, text, strlen(text));
	assert_int_equal(conf_load(path, &c, &e), 0);
	snprintf(sub, sizeof(sub), "%s/p/full.lst", tmpdir);
	assert_string_equal(c->plan, sub);
	snprintf(sub, sizeof(sub), "%s/../x.lst", tmpdir);
	assert_string_equal(c->ports[0].plan, sub);
	conf_free(c);
	c = NULL;
	testutil_write_file(path, "a = 1\n", 6);
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_non_null(strstr(e, "/flashd.conf:1: unknown key 'a'"));
	free(e);
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(conf_load(path, &c, &e), -ENOENT);
	assert_non_null(strstr(e, "missing.conf: No such file or directory"));
	free(e);
	assert_int_equal(conf_load(tmpdir, &c, &e), -EINVAL);
	assert_non_null(strstr(e, ": not a regular file"));
	free(e);
	assert_int_equal(conf_load("/dev/null", &c, &e), -EINVAL);
	free(e);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < CONF_FILE_MAX / 8 + 1; i++)
		fputs("#######\n", f);
	fclose(f);
	assert_int_equal(conf_load(path, &c, &e), -EFBIG);
	assert_non_null(strstr(e, "big.conf: file too large"));
	free(e);
	assert_null(c);
}

/* conf/flashd.conf parses, and with every "#key = value" line uncommented
 * it gives exactly the built-in defaults: the file documents the truth. */
static void test_shipped_conf(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text, *out, *e = NULL;
	struct conf *c = NULL, *d = conf_new_default();
	size_t len = 0, o = 0;

	snprintf(path, sizeof(path), "%s/conf/flashd.conf", top ? top : ".");
	text = testutil_slurp(path, &len);
	assert_int_equal(conf_parse(path, "/etc/flashd", text, len, &c, &e), 0);
	conf_free(c);
	out = malloc(len + 1);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		/* "#key = value" and "#[port …]" lines become live */
		if (line[0] == '#' && ((line[1] >= 'a' && line[1] <= 'z') || line[1] == '['))
			line++;
		o += (size_t)sprintf(out + o, "%s\n", line);
	}
	if (conf_parse(path, "/etc/flashd", out, o, &c, &e) < 0)
		fail_msg("%s", e);
	assert_string_equal(c->socket_path, d->socket_path);
	assert_string_equal(c->socket_group, d->socket_group);
	assert_string_equal(c->admin_group, d->admin_group);
	assert_string_equal(c->journal_path, d->journal_path);
	assert_string_equal(c->plan, "/etc/flashd/plans/full.lst");
	/* the packaged folder depends on --prefix: the file shows Debian's */
	assert_int_equal(c->nplan_dirs, 2);
	assert_string_equal(c->plan_dirs[0], "/etc/flashd/plans");
	assert_string_equal(c->plan_dirs[1], "/usr/share/flashd/plans");
	assert_int_equal(c->nports, 1);
	assert_int_equal(c->nslots, 2);
	assert_string_equal(c->slots[0].port, "1-1.4");
	assert_false(c->slots_only);
	assert_int_equal(c->slot_alert, d->slot_alert);
	/* the pool examples that can be live are: serial and mac */
	assert_int_equal(c->npools, 2);
	assert_string_equal(c->pools[1].name, "eth");
	assert_int_equal(c->pools[1].count, 2);
	assert_string_equal(c->pool_sqlite, d->pool_sqlite);
	assert_null(c->pool_postgresql);
	assert_int_equal(c->pool_retry_ms, d->pool_retry_ms);
	assert_int_equal(c->pool_refresh_ms, d->pool_refresh_ms);
	/* bus scheduling: on, as by default; the bus line is an example */
	assert_int_equal(c->bus_scheduling, d->bus_scheduling);
	assert_int_equal(c->bus_order, d->bus_order);
	assert_int_equal(c->bus_downloads, d->bus_downloads);
	assert_int_equal(c->bus_starve_grants, d->bus_starve_grants);
	assert_int_equal(c->bus_starve_ms, d->bus_starve_ms);
	assert_int_equal(c->nbuses, 0);
	/* every numeric field matches the default */
	assert_memory_equal(&c->sdp_timeout_ms, &d->sdp_timeout_ms,
			    offsetof(struct conf, ports) - offsetof(struct conf, sdp_timeout_ms));
	conf_free(c);
	conf_free(d);
	free(out);
	free(text);
}

static int setup(void **state)
{
	tmpdir = testutil_mkdtemp("test-conf");
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	return testutil_rmtree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_plan_dirs),
		cmocka_unit_test(test_no_dir_keeps_relative_plan),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_buses),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_pool_errors),
		cmocka_unit_test(test_pool_max),
		cmocka_unit_test(test_errors_all_collected),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_flash_timeout),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_shipped_conf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
