/* test-flashctl: flashctl's command line, rendering and live view. The
 * binary itself is tested end to end by test-flashctl-bin. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ctldata.h"
#include "flashctl/cli.h"
#include "flashctl/live.h"
#include "flashctl/render.h"

static const int64_t NOW = 1700000000000; /* 2023-11-14 22:13:20 UTC */

/* ---- cli ---- */

static json_t *parse_ok(const char *const *args)
{
	char *argv[16] = { "flashctl" };
	int argc = 1;
	char err[256] = "";
	struct cli cli;

	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	if (cli_parse(argc, argv, NOW, &cli, err, sizeof(err)) < 0)
		fail_msg("%s: %s", args[0], err);
	json_t *req = json_incref(cli.request);
	if (cli.json)
		json_object_set_new(req, "(json)", json_true());
	json_object_set_new(req, "(socket)", json_string(cli.socket));
	cli_clear(&cli);
	return req;
}

static void parse_bad(const char *const *args, const char *want)
{
	char *argv[16] = { "flashctl" };
	int argc = 1;
	char err[256] = "";
	struct cli cli = { .socket = "untouched" };

	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	assert_int_equal(cli_parse(argc, argv, NOW, &cli, err, sizeof(err)), -EINVAL);
	assert_string_equal(cli.socket, "untouched");
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_request(json_t *req, const char *want_json)
{
	json_t *want = json_loads(want_json, 0, NULL);
	assert_non_null(want);
	json_object_del(req, "(socket)");
	if (!json_equal(req, want)) {
		char *s = json_dumps(req, JSON_SORT_KEYS);
		fail_msg("got %s, want %s", s, want_json);
	}
	json_decref(want);
	json_decref(req);
}

static void test_cli_commands(void **state)
{
	unsetenv("FLASHD_SOCKET");
	expect_request(parse_ok(ARGS("status")), "{\"id\":1,\"cmd\":\"status\"}");
	expect_request(parse_ok(ARGS("status", "--json")),
		       "{\"id\":1,\"cmd\":\"status\",\"(json)\":true}");
	expect_request(parse_ok(ARGS("--json", "watch")),
		       "{\"id\":1,\"cmd\":\"watch\",\"(json)\":true}");
	expect_request(parse_ok(ARGS("use", "/p/full.lst")),
		       "{\"id\":1,\"cmd\":\"use\",\"plan\":\"/p/full.lst\"}");
	expect_request(parse_ok(ARGS("use", "full.lst", "1-1", "1-2.3")),
		       "{\"id\":1,\"cmd\":\"use\",\"plan\":\"full.lst\",\"ports\":[\"1-1\",\"1-2.3\"]}");
	expect_request(parse_ok(ARGS("use", "full.lst", "--args", "a.imx", "--args=b.bin", "1-1")),
		       "{\"id\":1,\"cmd\":\"use\",\"plan\":\"full.lst\",\"args\":[\"a.imx\",\"b.bin\"],"
		       "\"ports\":[\"1-1\"]}");
	expect_request(parse_ok(ARGS("use", "--", "-odd.lst")),
		       "{\"id\":1,\"cmd\":\"use\",\"plan\":\"-odd.lst\"}");
	expect_request(parse_ok(ARGS("abort", "1-4")),
		       "{\"id\":1,\"cmd\":\"abort\",\"port\":\"1-4\"}");
	expect_request(parse_ok(ARGS("retry", "2-1")),
		       "{\"id\":1,\"cmd\":\"retry\",\"port\":\"2-1\"}");
	expect_request(parse_ok(ARGS("pause")), "{\"id\":1,\"cmd\":\"pause\"}");
	expect_request(parse_ok(ARGS("resume")), "{\"id\":1,\"cmd\":\"resume\"}");
	expect_request(parse_ok(ARGS("reload")), "{\"id\":1,\"cmd\":\"reload\"}");
	expect_request(parse_ok(ARGS("plans")), "{\"id\":1,\"cmd\":\"plans\"}");
	expect_request(parse_ok(ARGS("stats")), "{\"id\":1,\"cmd\":\"stats\"}");
	expect_request(parse_ok(ARGS("history", "--port", "1-1", "--since", "2h", "--result",
				     "failed", "--limit=5")),
		       "{\"id\":1,\"cmd\":\"history\",\"port\":\"1-1\",\"since\":1699992800000,"
		       "\"result\":\"failed\",\"limit\":5}");
	expect_request(parse_ok(ARGS("history", "--before", "40", "--after", "0")),
		       "{\"id\":1,\"cmd\":\"history\",\"before\":40,\"after\":0}");
	expect_request(parse_ok(ARGS("history", "--since=@1600000000")),
		       "{\"id\":1,\"cmd\":\"history\",\"since\":1600000000000}");
}

static void test_cli_socket(void **state)
{
	json_t *r;

	unsetenv("FLASHD_SOCKET");
	r = parse_ok(ARGS("status"));
	assert_string_equal(json_string_value(json_object_get(r, "(socket)")),
			    "/run/flashd/flashd.sock");
	json_decref(r);
	setenv("FLASHD_SOCKET", "/tmp/env.sock", 1);
	r = parse_ok(ARGS("status"));
	assert_string_equal(json_string_value(json_object_get(r, "(socket)")), "/tmp/env.sock");
	json_decref(r);
	r = parse_ok(ARGS("--socket", "/tmp/a.sock", "status"));
	assert_string_equal(json_string_value(json_object_get(r, "(socket)")), "/tmp/a.sock");
	json_decref(r);
	r = parse_ok(ARGS("status", "--socket=/tmp/b.sock"));
	assert_string_equal(json_string_value(json_object_get(r, "(socket)")), "/tmp/b.sock");
	json_decref(r);
	unsetenv("FLASHD_SOCKET");
}

static void test_cli_errors(void **state)
{
	parse_bad(ARGS("frob"), "unknown command 'frob'");
	parse_bad(ARGS("--json"), "no command");
	parse_bad(ARGS("abort"), "missing PORT");
	parse_bad(ARGS("abort"), "usage: flashctl abort PORT");
	parse_bad(ARGS("use"), "missing PLAN");
	parse_bad(ARGS("abort", "1-1", "1-2"), "unexpected argument '1-2'");
	parse_bad(ARGS("status", "extra"), "unexpected argument");
	parse_bad(ARGS("status", "--port", "1"), "unknown option '--port'");
	parse_bad(ARGS("history", "--frob"), "unknown option '--frob'");
	parse_bad(ARGS("history", "-x"), "unknown option '-x'");
	parse_bad(ARGS("history", "--port"), "--port needs a value");
	parse_bad(ARGS("history", "--limit", "0"), "invalid N: '0'");
	parse_bad(ARGS("history", "--limit", "10001"), "invalid N");
	parse_bad(ARGS("history", "--limit", "5x"), "invalid N");
	parse_bad(ARGS("history", "--result", "great"), "invalid RESULT");
	parse_bad(ARGS("history", "--since", "soon"), "invalid TIME");
	parse_bad(ARGS("history", "--before", "-1"), "invalid LINE");
	parse_bad(ARGS("history", "--after", "x"), "invalid LINE");
	parse_bad(ARGS("history", "--port", ""), "invalid PORT");
	parse_bad(ARGS("--socket"), "--socket needs a path");
	parse_bad(ARGS("--port", "1", "history"), "unknown option '--port'");

	char *argv[200] = { "flashctl", "use", "p" };
	char err[256];
	struct cli cli;
	for (int i = 3; i < 3 + 129; i++)
		argv[i] = "1-1";
	assert_int_equal(cli_parse(3 + 129, argv, NOW, &cli, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 128"));
	assert_int_equal(cli_parse(3 + 128, argv, NOW, &cli, err, sizeof(err)), 0);
	cli_clear(&cli);
	cli_clear(NULL);
}

static void test_cli_help(void **state)
{
	char *argv[] = { "flashctl", "--help", NULL };
	char err[64];
	struct cli cli;

	assert_int_equal(cli_parse(2, argv, NOW, &cli, err, sizeof(err)), 0);
	assert_true(cli.help);
	assert_null(cli.command);
	argv[1] = "help";
	assert_int_equal(cli_parse(2, argv, NOW, &cli, err, sizeof(err)), 0);
	assert_true(cli.help);
	argv[1] = "--version";
	assert_int_equal(cli_parse(2, argv, NOW, &cli, err, sizeof(err)), 0);
	assert_true(cli.version);

	/* the help lists every command of the protocol's table, with its usage */
	char *text;
	size_t len;
	FILE *fp = open_memstream(&text, &len);
	cli_usage(fp);
	fclose(fp);
	for (size_t i = 0; i < CTLPROTO_CMD_COUNT; i++) {
		char usage[128];
		ctlproto_command_usage(&ctlproto_commands[i], usage, sizeof(usage));
		assert_non_null(strstr(text, usage));
		assert_non_null(strstr(text, ctlproto_commands[i].summary));
	}
	assert_non_null(strstr(text, "4 permission denied"));
	free(text);
}

static int64_t local(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
	return (int64_t)mktime(&tm) * 1000;
}

static void test_cli_time(void **state)
{
	int64_t t;
	time_t now = (time_t)(NOW / 1000);
	struct tm tm;

	assert_int_equal(cli_parse_time("@1600000000", NOW, &t), 0);
	assert_int_equal(t, 1600000000000);
	assert_int_equal(cli_parse_time("30s", NOW, &t), 0);
	assert_int_equal(t, NOW - 30000);
	assert_int_equal(cli_parse_time("15m", NOW, &t), 0);
	assert_int_equal(t, NOW - 900000);
	assert_int_equal(cli_parse_time("3d", NOW, &t), 0);
	assert_int_equal(t, NOW - 3 * 86400000);
	assert_int_equal(cli_parse_time("99999999d", NOW, &t), 0);
	assert_int_equal(t, 0); /* not before 1970 */
	assert_int_equal(cli_parse_time("2024-05-01", NOW, &t), 0);
	assert_int_equal(t, local(2024, 5, 1, 0, 0, 0));
	assert_int_equal(cli_parse_time("2024-05-01 12:34", NOW, &t), 0);
	assert_int_equal(t, local(2024, 5, 1, 12, 34, 0));
	assert_int_equal(cli_parse_time("2024-05-01T12:34:56", NOW, &t), 0);
	assert_int_equal(t, local(2024, 5, 1, 12, 34, 56));
	localtime_r(&now, &tm);
	assert_int_equal(cli_parse_time("today", NOW, &t), 0);
	assert_int_equal(t, local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0));
	assert_int_equal(cli_parse_time("yesterday", NOW, &t), 0);
	assert_int_equal(t, local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday - 1, 0, 0, 0));
	static const char *const bad[] = { "",	   "abc",   "5",	 "5x",	 "-3h", "@",
					   "@-1",  "@1x",   "2024-05-01x", "h",	 "1.5h", " 2h",
					   "2024-13-01" };
	t = 77;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cli_parse_time(bad[i], NOW, &t) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(t, 77);
	assert_int_equal(cli_parse_time(NULL, NOW, &t), -EINVAL);
}

/* ---- render ---- */

static void test_render_units(void **state)
{
	/* render_bytes, render_rate and render_duration of one number */
	static const struct {
		enum { BYTES, RATE, DURATION } fn;
		int64_t v;            /* bytes and rates: as uint64_t */
		const char *want;
	} numbers[] = {
		{ BYTES, 0, "0 B" },
		{ BYTES, 999, "999 B" },
		{ BYTES, 1500, "1.50 kB" },
		{ BYTES, 21500000, "21.5 MB" },
		{ BYTES, 999999999, "1.00 GB" },
		{ BYTES, 123456789012, "123 GB" },
		{ BYTES, -1, "18.4 EB" },   /* UINT64_MAX */
		{ RATE, 0, "-" },
		{ RATE, 21500000, "21.5 MB/s" },
		{ DURATION, 5400, "0:05" },
		{ DURATION, 754000, "12:34" },
		{ DURATION, 3723000, "1:02:03" },
		{ DURATION, -5, "0:00" },
	};
	static const struct {
		uint64_t done, total;
		int width;
		size_t len;
		const char *want;
	} bars[] = {
		{ 50, 100, 10, 64, "[#####-----]" },
		{ 500, 100, 4, 64, "[####]" },
		{ 5, 0, 4, 64, "[----]" },
		{ 1, 2, 4, 5, "" },          /* does not fit: empty */
	};
	static const struct {
		size_t len;
		const char *s, *want;
	} cleans[] = {
		{ 64, "ab\033[2Jc\n", "ab?[2Jc?" },
		{ 64, NULL, "-" },
		{ 4, "a\xc3\xa9xyz", "a\xc3\xa9" },  /* é cut: dropped whole */
		{ 3, "a\xc3\xa9xyz", "a" },
	};
	char b[64];

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (numbers[i].fn == BYTES)
			render_bytes(b, sizeof(b), (uint64_t)numbers[i].v);
		else if (numbers[i].fn == RATE)
			render_rate(b, sizeof(b), (uint64_t)numbers[i].v);
		else
			render_duration(b, sizeof(b), numbers[i].v);
		assert_string_equal(b, numbers[i].want);
	}
	for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++) {
		render_bar(b, bars[i].len, bars[i].done, bars[i].total, bars[i].width);
		assert_string_equal(b, bars[i].want);
	}
	for (size_t i = 0; i < sizeof(cleans) / sizeof(cleans[0]); i++) {
		render_clean(b, cleans[i].len, cleans[i].s);
		assert_string_equal(b, cleans[i].want);
	}
	assert_int_equal(render_percent(1, 3), 33);
	assert_int_equal(render_percent(5, 0), -1);
	assert_int_equal(render_percent(9, 3), 100);
	char clock[32];
	render_clock(clock, sizeof(clock), NOW, true);
	assert_int_equal(strlen(clock), 19);
	render_clock(clock, sizeof(clock), NOW, false);
	assert_int_equal(strlen(clock), 8);
}

static char *capture(void (*fn)(FILE *, const json_t *), const json_t *v)
{
	char *text;
	size_t len;
	FILE *fp = open_memstream(&text, &len);
	fn(fp, v);
	fclose(fp);
	return text;
}

/* every string of want (NULL-terminated) is in text */
static void contains(const char *text, const char *const *want)
{
	for (; *want; want++)
		if (!strstr(text, *want))
			fail_msg("output lacks '%s':\n%s", *want, text);
}

static void test_render_status(void **state)
{
	json_t *st = fake_status(3, true);
	json_t *p3 = json_array_get(json_object_get(st, "ports"), 2);
	json_object_set_new(p3, "state", json_string("failed"));
	json_object_set_new(p3, "reason", json_string("FAIL\033[31m"));
	json_object_set_new(p3, "failed_step", json_string("flash rootfs"));
	json_object_set_new(p3, "serial", json_string("SN\x07" "42"));
	char *text = capture(render_status, st);
	contains(text, ARGS(
		"station PAUSED, plan /etc/flashd/full.lst",
		"PORT  STATE     STEP",
		"1-1   fastboot  6/7 flash rootfs rootfs.ext4  25%       21.5 MB/s  "
		"0a1b2c3d4e5f6071  1:23",
		"1-2   empty     -",
		"SN?42",
		"1-3: failed at \"flash rootfs\": FAIL?[31m"));
	assert_null(strchr(text, '\033'));
	assert_null(strchr(text, '\a'));
	free(text);
	json_decref(st);

	st = json_pack("{s:b,s:n,s:[]}", "paused", 0, "plan", "ports");
	text = capture(render_status, st);
	contains(text, ARGS("station running, plan -", "no ports seen yet"));
	assert_null(strstr(text, "loading"));
	free(text);
	/* a plan load under way (`use` or reload) */
	json_object_set_new(st, "loading", json_pack("{s:s,s:s,s:s,s:I,s:I,s:i}", "kind", "use",
						      "path", "/srv/p.lst", "file", "disk.wic.zst",
						      "bytes", (json_int_t)(12 << 20),
						      "total", (json_int_t)(345 << 20), "queued", 1));
	text = capture(render_status, st);
	contains(text, ARGS("loading /srv/p.lst (use): disk.wic.zst 12 of 345 MiB, 1 more queued; "
			    "new boards get the plan in force until it is done"));
	free(text);
	json_decref(st);
}

/* slots: SLOT and YIELD columns, "ignored", the alert; history's SLOT column;
 * the stats' slot table */
static void test_render_slots(void **state)
{
	json_t *st = fake_status(3, false), *ports = json_object_get(st, "ports");
	json_t *p1 = json_array_get(ports, 0), *p2 = json_array_get(ports, 1);
	json_t *p3 = json_array_get(ports, 2);
	json_object_set_new(p1, "slot", json_string("A1"));
	json_object_set_new(p1, "yield", json_pack("{s:i,s:i,s:i,s:s,s:s}", "ok", 12, "failed", 3,
						   "failures_in_row", 3, "last_reason", "timeout",
						   "alert", "3 failures in a row: check cable/pogo pins"));
	json_object_set_new(p2, "slot", json_string("A2"));
	json_object_set_new(p2, "yield", json_pack("{s:i,s:i,s:i,s:n,s:n}", "ok", 4, "failed", 0,
						   "failures_in_row", 0, "last_reason", "alert"));
	json_object_set_new(p3, "ignored", json_true());
	char *text = capture(render_status, st);
	contains(text, ARGS(
		"SLOT  PORT  STATE     STEP",
		"A1    1-1   fastboot  6/7 flash rootfs rootfs.ext4",
		"12 ok, 3 failed\n",
		"A2    1-2   empty",
		"4 ok, 0 failed\n",
		"-     1-3   ignored",
		"A1 (1-1): SLOT ALERT: 3 failures in a row: check cable/pogo pins\n"));
	free(text);
	json_decref(st);

	json_t *recs = json_pack("[{s:s,s:s,s:s,s:I,s:I,s:I},{s:s,s:s,s:I,s:I,s:I}]",
				 "port", "1-1", "slot", "A1", "result", "ok", "start_ms",
				 (json_int_t)NOW, "end_ms", (json_int_t)(NOW + 83000), "bytes",
				 (json_int_t)100, "port", "1-2", "result", "ok", "start_ms",
				 (json_int_t)NOW, "end_ms", (json_int_t)(NOW + 4000), "bytes",
				 (json_int_t)100);
	text = capture(render_history, recs);
	contains(text, ARGS("FINISHED             SLOT  PORT  RESULT", "  A1    1-1   ok",
			    "  -     1-2   ok"));
	free(text);
	char line[256];
	render_result_line(line, sizeof(line), json_array_get(recs, 0));
	contains(line, ARGS("  A1 1-1  ok  board -"));
	json_decref(recs);

	json_t *stats = json_pack("{s:[{s:s,s:s,s:i,s:i,s:i,s:s,s:s}]}", "slots", "slot", "A1",
				  "port", "1-1", "ok", 12, "failed", 3, "failures_in_row", 3,
				  "last_reason", "timeout", "alert", "3 failures in a row");
	text = capture(render_stats, stats);
	contains(text, ARGS("slots (since the daemon started):\n",
			    "SLOT  PORT  OK  FAILED  IN A ROW  LAST FAILURE\n",
			    "A1    1-1   12  3       3         ALERT: 3 failures in a row; last: timeout\n"));
	assert_null(strstr(text, "slots:"));   /* not again through render_object */
	free(text);
	json_decref(stats);

	/* the live view: slot beside the port, "ignored"; slots first in name order */
	json_t *lp = json_pack("{s:s,s:s,s:s,s:b}", "port", "5-1", "slot", "A3", "state", "empty",
			       "ignored", 1);
	live_port_line(lp, 0, 120, 6, line, sizeof(line));
	contains(line, ARGS("A3 5-1  ignored  "));
	json_decref(lp);
	assert_true(render_port_cmp("A2", "4-1", "A10", "1-1") < 0);
	assert_true(render_port_cmp(NULL, "1-1", "B1", "3-1") > 0);
	assert_true(render_port_cmp("B1", "3-1", NULL, "1-1") < 0);
	assert_true(render_port_cmp(NULL, "1-9", NULL, "1-10") < 0);
}

static void test_render_history(void **state)
{
	json_t *recs = json_pack(
		"[{s:s,s:s,s:s,s:s,s:I,s:I,s:I},{s:s,s:s,s:n,s:s,s:I,s:I,s:I,s:s,s:s}]", "port",
		"1-1", "uid", "0a1b", "result", "ok", "plan", "/etc/flashd/full.lst", "start_ms",
		(json_int_t)NOW, "end_ms", (json_int_t)(NOW + 83000), "bytes",
		(json_int_t)1500000000, "port", "1-2", "result", "failed", "uid", "serial",
		"SER9", "start_ms", (json_int_t)NOW, "end_ms", (json_int_t)(NOW + 4000), "bytes",
		(json_int_t)100, "failed_step", "flash rootfs", "reason", "timeout");
	char *text = capture(render_history, recs);
	contains(text, ARGS(
		"FINISHED             PORT  RESULT  BOARD  TIME  BYTES    DETAIL",
		"1-1   ok      0a1b   1:23  1.50 GB  full.lst",
		"1-2   failed  SER9   0:04  100 B    flash rootfs: timeout"));
	free(text);
	char line[256];
	render_result_line(line, sizeof(line), json_array_get(recs, 1));
	contains(line, ARGS("1-2  failed  board SER9  0:04  100 B  flash rootfs: timeout"));
	/* a reason that begins with its step: the step once */
	json_object_set_new(json_array_get(recs, 1), "reason",
			    json_string("flash rootfs: FAIL: injected fault"));
	render_result_line(line, sizeof(line), json_array_get(recs, 1));
	contains(line, ARGS("1-2  failed  board SER9  0:04  100 B  flash rootfs: FAIL: injected fault"));
	assert_null(strstr(line, "flash rootfs: flash rootfs"));
	json_decref(recs);
	recs = json_array();
	text = capture(render_history, recs);
	assert_string_equal(text, "no results\n");
	free(text);
	json_decref(recs);
}

static void render_object0(FILE *fp, const json_t *v)
{
	render_object(fp, v, 0);
}

static void test_render_plans_stats(void **state)
{
	json_t *plans = fake_plans(), *fstats = fake_stats();
	char *text = capture(render_plans, plans);
	contains(text, ARGS(
		"default plan: /p/full.lst\n",
		"port 1-2: /p/boot.lst\n",
		"  /p/full.lst  8 steps  sha256 ab\n"));
	free(text);
	text = capture(render_stats, fstats);
	contains(text, ARGS("up 1:02:03, 4 ports, 1 busy\n"));
	free(text);
	json_t *odd = json_pack("{s:i,s:s}", "id", 1, "extra", "x");
	text = capture(render_stats, odd); /* unknown keys still shown, id/ok not */
	assert_string_equal(text, "up 0:00, 0 ports, 0 busy\nbytes written: 0 B\n\nextra: x\n");
	free(text);
	json_decref(odd);
	json_t *stats = json_pack("{s:i,s:I,s:{s:I},s:[{s:s,s:I}],s:[i,i],s:b}", "done", 3,
				  "bytes", (json_int_t)1500000000, "mean", "flash_ms",
				  (json_int_t)61000, "steps", "text", "flash", "max_ms",
				  (json_int_t)2000, "list", 1, 2, "x", 1);
	text = capture(render_object0, stats);
	assert_string_equal(text, "done: 3\nbytes: 1500000000 (1.50 GB)\nmean:\n  flash_ms: 1:01\n"
				  "steps:\n  -\n    text: flash\n    max_ms: 0:02\nlist: [1,2]\n"
				  "x: true\n");
	free(text);
	json_decref(stats);
	json_decref(plans);
	json_decref(fstats);
}

/* ---- live ---- */

/* a live view drawing into memory, and a snapshot of nports ports */
struct live_fx {
	char *text;
	size_t len;
	FILE *fp;
	struct live *lv;
	json_t *snap;
};

static void live_fx_new(struct live_fx *x, bool colour, int nports)
{
	x->fp = open_memstream(&x->text, &x->len);
	assert_non_null(x->fp);
	x->lv = live_new(x->fp, colour);
	x->snap = fake_status(nports, false);
	json_object_set_new(x->snap, "event", json_string("snapshot"));
}

/* all that was drawn (the caller frees it) */
static char *live_fx_free(struct live_fx *x)
{
	live_free(x->lv);
	json_decref(x->snap);
	fclose(x->fp);
	return x->text;
}

static void test_live_view(void **state)
{
	struct live_fx x;
	struct live *lv;
	json_t *snap, *e;
	char *text;

	live_fx_new(&x, true, 2);
	lv = x.lv;
	snap = x.snap;
	json_object_set_new(snap, "seq", json_integer(10));
	assert_true(live_due(lv, NOW));
	live_event(lv, snap, NOW);
	live_draw(lv, 120, 40, NOW);
	assert_false(live_due(lv, NOW + 10));
	e = json_pack("{s:s,s:i,s:s,s:s,s:i,s:i,s:I,s:I,s:I}", "event", "progress", "seq", 11,
		      "port", "1-1", "step", "flash rootfs rootfs.ext4", "step_index", 5, "steps",
		      7, "bytes", (json_int_t)150000000, "total", (json_int_t)200000000, "rate",
		      (json_int_t)30000000);
	live_event(lv, e, NOW + 50);
	json_decref(e);
	assert_false(live_due(lv, NOW + 60)); /* rate limited */
	assert_true(live_due(lv, NOW + 150));
	live_draw(lv, 120, 40, NOW + 150);
	e = json_pack("{s:s,s:i,s:I,s:s,s:s,s:s}", "event", "log", "seq", 13, "ts",
		      (json_int_t)NOW, "port", "1-2", "level", "warning", "message", "slow\033]0;");
	live_event(lv, e, NOW + 160);
	json_decref(e);
	assert_true(live_due(lv, NOW + 161)); /* lines printed above: redraw now */
	live_draw(lv, 120, 40, NOW + 161);
	e = json_pack("{s:s,s:i,s:I,s:i}", "event", "overflow", "seq", 40, "ts", (json_int_t)NOW,
		      "dropped", 26);
	live_event(lv, e, NOW + 170);
	json_decref(e);
	e = json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:I}", "event", "result", "seq", 41, "port",
		      "1-1", "result", "ok", "uid", "0a1b", "start_ms", (json_int_t)NOW, "end_ms",
		      (json_int_t)(NOW + 90000), "bytes", (json_int_t)200000000);
	live_event(lv, e, NOW + 180);
	json_decref(e);
	live_draw(lv, 120, 40, NOW + 200);
	e = json_pack("{s:s,s:i,s:{s:s,s:s,s:n,s:i,s:i,s:i}}", "event", "plan", "seq", 42, "loading",
		      "kind", "reload", "path", "/etc/flashd/flashd.conf", "file", "bytes", 0,
		      "total", 0, "queued", 0);
	live_event(lv, e, NOW + 210);
	json_decref(e);
	live_draw(lv, 120, 40, NOW + 400);
	text = live_fx_free(&x);
	contains(text, ARGS("loading /etc/flashd/flashd.conf (reload): starting 0 of 0 MiB"));

	contains(text, ARGS(
		"flashd running  plan /etc/flashd/full.lst  2 ports, 1 flashing",
		"\033[36mfastboot   \033[0m",
		"[##################------]  75%",
		"30.0 MB/s",
		"(missed 1 events)", /* seq 11 → 13 */
		"1-2  warning: slow?]0;",
		"(flashctl fell behind: 26 events dropped)",
		"1-1  ok  board 0a1b  1:30  200 MB",
		"\033[3A\r")); /* moved up over the header and two ports */
	free(text);
}

/* the journal's alarm: status heading and line, result lines, the live view */
static void test_render_journal(void **state)
{
	json_t *st = json_pack("{s:b,s:n,s:[],s:{s:b,s:s,s:I,s:i,s:i,s:i,s:i,s:b}}", "paused", 0,
			       "plan", "ports", "journal", "writable", 0, "reason",
			       "the results journal cannot be written: No space left on device",
			       "since_ms", (json_int_t)NOW, "retry_ms", 7200, "backlog", 2,
			       "backlog_bytes", 3100, "backlog_max", 256, "backlog_full", 0);
	json_t *j = json_object_get(st, "journal");
	char *text = capture(render_status, st), line[640];
	struct live_fx x;
	json_t *e;

	contains(text, ARGS("station HELD, plan -",
			    "JOURNAL ALARM since ", ": the results journal cannot be written: No space "
			    "left on device; 2 records (3.10 kB) not yet in the journal, next try in 8 s; "
			    "new boards wait"));
	free(text);
	json_object_set_new(j, "backlog_full", json_true());
	render_journal(line, sizeof(line), j);
	contains(line, ARGS("BACKLOG FULL (limit 256), 2 records"));
	/* the operator's pause is named first */
	json_object_set_new(st, "paused", json_true());
	assert_string_equal(render_station_state(st), "PAUSED");
	/* writable, nothing waits; or no journal: no line */
	json_object_set_new(j, "writable", json_true());
	json_object_set_new(j, "backlog", json_integer(0));
	render_journal(line, sizeof(line), j);
	assert_string_equal(line, "");
	render_journal(line, sizeof(line), json_null());
	assert_string_equal(line, "");
	json_object_set_new(st, "paused", json_false());
	assert_string_equal(render_station_state(st), "running");

	e = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "port", "1-1", "result", "ok", "uid", "0a1b",
		      "start_ms", (json_int_t)NOW, "end_ms", (json_int_t)(NOW + 1000), "bytes",
		      (json_int_t)100, "durable", 0);
	render_result_line(line, sizeof(line), e);
	contains(line, ARGS("1-1  ok  board 0a1b", "(NOT YET IN THE JOURNAL)"));
	json_object_set_new(e, "durable", json_true());
	render_result_line(line, sizeof(line), e);
	assert_null(strstr(line, "JOURNAL"));
	json_decref(e);

	/* live: the alarm comes with a "journal" event, the record with "durable" */
	live_fx_new(&x, false, 1);
	live_event(x.lv, x.snap, NOW);
	live_draw(x.lv, 160, 40, NOW);
	json_object_set_new(j, "writable", json_false());
	json_object_set_new(j, "backlog", json_integer(1));
	json_object_set_new(j, "backlog_full", json_false());
	e = json_pack("{s:s,s:O}", "event", "journal", "journal", j);
	live_event(x.lv, e, NOW + 10);
	json_decref(e);
	live_draw(x.lv, 160, 40, NOW + 300);
	e = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "event", "durable", "port", "1-1", "result",
		      "ok", "start_ms", (json_int_t)NOW, "end_ms", (json_int_t)(NOW + 1000),
		      "durable", 1);
	live_event(x.lv, e, NOW + 400);
	json_decref(e);
	json_object_set_new(j, "writable", json_true());
	json_object_set_new(j, "backlog", json_integer(0));
	e = json_pack("{s:s,s:O}", "event", "journal", "journal", j);
	live_event(x.lv, e, NOW + 410);
	json_decref(e);
	live_draw(x.lv, 160, 40, NOW + 700);
	text = live_fx_free(&x);
	contains(text, ARGS("flashd HELD  plan", "JOURNAL ALARM since", "1 record (3.10 kB)",
			    "1-1  ok  board -", "(now in the journal)", "flashd running  plan"));
	/* the last drawing has no alarm line */
	assert_null(strstr(strstr(text, "(now in the journal)"), "JOURNAL ALARM"));
	free(text);
	json_decref(st);
}

static void test_live_port_line(void **state)
{
	json_t *st = fake_status(1, false);
	json_t *p = json_array_get(json_object_get(st, "ports"), 0);
	char line[512];

	for (int cols = 40; cols <= 200; cols += 7) {
		live_port_line(p, 5000, cols, 4, line, sizeof(line));
		assert_true((int)strlen(line) <= cols - 1);
		assert_int_equal(strncmp(line, "1-1   fastboot", 14), 0);
	}
	live_port_line(p, 5000, 140, 4, line, sizeof(line));
	contains(line, ARGS(
		"1:28", /* 83 s + 5 s running on */
		"[######------------------]  25%"));
	/* the SPL stage is a running state: bar, rate and elapsed time go on */
	json_object_set_new(p, "state", json_string("spl-sdp"));
	live_port_line(p, 5000, 140, 4, line, sizeof(line));
	contains(line, ARGS("1-1   spl-sdp", "1:28", "[######------------------]  25%"));
	assert_true(render_state_active("spl-sdp"));
	assert_true(render_state_active("wait-reenum"));
	assert_false(render_state_active("failed"));
	assert_false(render_state_active(NULL));
	json_decref(st);
}

/* a long path in a narrow step column: the file's base name, not the
 * folder cut mid-name; a wide column keeps the text as sent */
static void test_live_step_basename(void **state)
{
	json_t *st = fake_status(1, false);
	json_t *p = json_array_get(json_object_get(st, "ports"), 0);
	char line[512], s[64];

	(void)state;
	json_object_set_new(p, "step",
			    json_string("SDP: boot -f /tmp/flashd-demo.Xk3q9/images/u-boot.imx"));
	live_port_line(p, 0, 120, 4, line, sizeof(line));
	contains(line, ARGS("SDP: boot -f u-boot.imx"));
	assert_null(strstr(line, "/tmp/"));
	live_port_line(p, 0, 200, 4, line, sizeof(line));
	contains(line, ARGS("SDP: boot -f /tmp/flashd-demo.Xk3q9/images/u-boot.imx"));
	render_step_short(s, sizeof(s), "FB: flash -raw2sparse all a/b/disk.wic  x/ /y");
	assert_string_equal(s, "FB: flash -raw2sparse all disk.wic  x/ y");
	render_step_short(s, 8, "FB: ucmd /very/long/path");
	assert_string_equal(s, "FB: ucm");
	json_decref(st);
}

/* the live view lists ports in natural order: 1-9 before 1-10 */
static void test_live_port_order(void **state)
{
	struct live *lv = NULL;
	char *buf = NULL;
	size_t blen = 0;
	FILE *fp = open_memstream(&buf, &blen);
	static const char *const arrival[] = { "1-10", "2-1", "1-9", "1-1" };

	(void)state;
	assert_non_null(fp);
	lv = live_new(fp, false);
	for (int i = 0; i < 4; i++) {
		json_t *e = json_pack("{s:s,s:i,s:s,s:s}", "event", "port", "seq", i + 1, "port",
				      arrival[i], "state", "sdp");
		live_event(lv, e, NOW);
		json_decref(e);
	}
	live_draw(lv, 100, 40, NOW);
	fflush(fp);
	const char *a = strstr(buf, "1-1 "), *b = strstr(buf, "1-9 "), *c = strstr(buf, "1-10 "),
		   *d = strstr(buf, "2-1 ");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_true(a < b && b < c && c < d);
	live_free(lv);
	fclose(fp);
	free(buf);
}

static void test_live_many_ports(void **state)
{
	struct live_fx x;
	char *text;

	live_fx_new(&x, false, 30);
	live_event(x.lv, x.snap, NOW);
	live_draw(x.lv, 80, 12, NOW);
	live_draw(x.lv, 80, 12, NOW + 1000);
	text = live_fx_free(&x);
	contains(text, ARGS(
		"(21 more ports: enlarge the window)",
		"\033[11A\r")); /* the header, 9 ports, the "more" line */
	assert_null(strstr(text, "\033[3")); /* no colour */
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_commands),
		cmocka_unit_test(test_cli_socket),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_cli_help),
		cmocka_unit_test(test_cli_time),
		cmocka_unit_test(test_render_units),
		cmocka_unit_test(test_render_status),
		cmocka_unit_test(test_render_history),
		cmocka_unit_test(test_render_slots),
		cmocka_unit_test(test_render_plans_stats),
		cmocka_unit_test(test_live_view),
		cmocka_unit_test(test_render_journal),
		cmocka_unit_test(test_live_port_line),
		cmocka_unit_test(test_live_step_basename),
		cmocka_unit_test(test_live_port_order),
		cmocka_unit_test(test_live_many_ports),
	};
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
