/* test-web_state: flashd-web's station model fed with watch-stream lines
 * (flashd-control(7)): snapshot, port, progress, result (with and without
 * the step kinds, plug_to_sdp_ms, reenum_ms, journal_ms), durable,
 * journal, plan, overflow + snapshot; the stats and plans replies; today's
 * boards from history and live results, each counted once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web/web_state.h"

#define MIDNIGHT 1764111600000LL
#define NOW (MIDNIGHT + 3600000LL)

static json_t *parse(const char *line)
{
	json_error_t e;
	json_t *v = json_loads(line, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, line);
	return v;
}

static unsigned feed(struct web_state *st, const char *line)
{
	json_t *v = parse(line);
	unsigned r = web_state_event(st, v, NOW);
	json_decref(v);
	return r;
}

static const char snap[] =
	"{\"event\":\"snapshot\",\"seq\":41,\"ts\":1,\"paused\":false,\"plan\":\"/p/full.lst\","
	"\"loading\":null,\"journal\":{\"path\":\"/j\",\"writable\":true,\"backlog\":0},"
	"\"ports\":[{\"port\":\"1-10\",\"slot\":null,\"state\":\"empty\",\"rate\":0},"
	"{\"port\":\"1-2\",\"slot\":null,\"state\":\"fastboot\",\"rate\":5},"
	"{\"port\":\"1-9\",\"slot\":\"A10\",\"state\":\"sdp\",\"rate\":0},"
	"{\"port\":\"1-1\",\"slot\":\"A2\",\"state\":\"done\",\"rate\":0}]}";

static const char *port_at(const struct web_state *st, size_t i)
{
	return json_string_value(json_object_get(json_array_get(web_state_ports(st), i), "port"));
}

static const char *port_key(const struct web_state *st, const char *port, const char *key)
{
	const json_t *p;
	size_t i;
	json_array_foreach (web_state_ports(st), i, p)
		if (strcmp(json_string_value(json_object_get(p, "port")), port) == 0)
			return json_string_value(json_object_get(p, key));
	return NULL;
}

static json_int_t port_int(const struct web_state *st, const char *port, const char *key)
{
	const json_t *p;
	size_t i;
	json_array_foreach (web_state_ports(st), i, p)
		if (strcmp(json_string_value(json_object_get(p, "port")), port) == 0)
			return json_integer_value(json_object_get(p, key));
	return -1;
}

static void test_snapshot_order(void **unused)
{
	struct web_state *st = web_state_new();
	(void)unused;

	/* events before the first snapshot are not applied */
	assert_int_equal(feed(st, "{\"event\":\"port\",\"seq\":1,\"ts\":1,\"port\":\"9-9\","
				  "\"state\":\"sdp\"}"), 0);
	assert_int_equal(feed(st, snap), WEB_STATE_SNAPSHOT);
	/* slots in natural order (A2 < A10), then ports (1-2 < 1-10) */
	assert_string_equal(port_at(st, 0), "1-1");
	assert_string_equal(port_at(st, 1), "1-9");
	assert_string_equal(port_at(st, 2), "1-2");
	assert_string_equal(port_at(st, 3), "1-10");
	assert_true(web_state_counters(st)->journal_known);
	assert_true(web_state_counters(st)->journal_writable);
	assert_int_equal(web_state_counters(st)->resyncs, 0);
	json_t *s = web_state_status(st);
	assert_string_equal(json_string_value(json_object_get(s, "plan")), "/p/full.lst");
	assert_int_equal(json_integer_value(json_object_get(s, "resynced_ms")), NOW);
	assert_false(json_is_true(json_object_get(s, "connected")));
	assert_int_equal(json_array_size(json_object_get(s, "ports")), 4);
	json_decref(s);
	web_state_free(st);
}

static void test_port_progress(void **unused)
{
	struct web_state *st = web_state_new();
	(void)unused;

	feed(st, snap);
	/* a new port is inserted in order; a known one replaced */
	assert_int_equal(feed(st, "{\"event\":\"port\",\"seq\":42,\"ts\":2,\"port\":\"1-3\","
				  "\"slot\":null,\"state\":\"sdp\",\"bytes\":0}"),
			 WEB_STATE_FORWARD);
	assert_string_equal(port_at(st, 3), "1-3");
	assert_null(json_object_get(json_array_get(web_state_ports(st), 3), "seq"));
	feed(st, "{\"event\":\"port\",\"seq\":43,\"ts\":3,\"port\":\"1-2\",\"slot\":null,"
		 "\"state\":\"wait-reenum\"}");
	assert_string_equal(port_key(st, "1-2", "state"), "wait-reenum");
	assert_int_equal(json_array_size(web_state_ports(st)), 5);
	/* progress updates the numbers and the step, nothing else */
	assert_int_equal(feed(st, "{\"event\":\"progress\",\"seq\":44,\"ts\":4,\"port\":\"1-3\","
				  "\"step\":\"SDP: boot\",\"step_index\":0,\"bytes\":100,"
				  "\"total\":400,\"board_bytes\":100,\"rate\":2000000}"),
			 WEB_STATE_FORWARD);
	assert_int_equal(port_int(st, "1-3", "bytes"), 100);
	assert_int_equal(port_int(st, "1-3", "rate"), 2000000);
	assert_string_equal(port_key(st, "1-3", "state"), "sdp");
	/* progress of an unknown port: nothing */
	assert_int_equal(feed(st, "{\"event\":\"progress\",\"seq\":45,\"ts\":4,\"port\":\"7-7\","
				  "\"bytes\":1}"), 0);
	/* journal and plan events */
	assert_int_equal(feed(st, "{\"event\":\"journal\",\"seq\":46,\"ts\":5,\"journal\":"
				  "{\"writable\":false,\"reason\":\"ENOSPC\",\"backlog\":1}}"),
			 WEB_STATE_FORWARD);
	assert_false(web_state_counters(st)->journal_writable);
	assert_int_equal(feed(st, "{\"event\":\"plan\",\"seq\":47,\"ts\":5,\"loading\":"
				  "{\"kind\":\"use\",\"path\":\"/p/x.lst\"}}"), WEB_STATE_FORWARD);
	json_t *s = web_state_status(st);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "loading"), "kind")),
			    "use");
	json_decref(s);
	/* log events and unknown ones are not kept */
	assert_int_equal(feed(st, "{\"event\":\"log\",\"seq\":48,\"ts\":5,\"port\":\"1-3\"}"), 0);
	assert_int_equal(feed(st, "{\"event\":\"future\",\"seq\":49,\"ts\":5}"), 0);
	assert_int_equal(feed(st, "{\"no\":\"event\"}"), 0);
	web_state_free(st);
}

static const char result_new[] =
	"{\"event\":\"result\",\"seq\":50,\"ts\":6,\"port\":\"1-2\",\"slot\":null,\"uid\":\"ab\","
	"\"result\":\"ok\",\"start_ms\":1764115000000,\"end_ms\":1764115100000,\"bytes\":1000,"
	"\"plug_to_sdp_ms\":120,\"reenum_ms\":[800,1500],\"journal_ms\":2.5,\"durable\":true,"
	"\"steps\":[{\"index\":0,\"text\":\"SDP: boot -f u.imx\",\"kind\":\"sdp\",\"ms\":2100},"
	"{\"index\":1,\"text\":\"SDPV: write -f u.img\",\"kind\":\"spl-sdp\",\"ms\":700},"
	"{\"index\":2,\"text\":\"FB: flash rootfs r.ext4\",\"kind\":\"flash\",\"ms\":90000,"
	"\"download_ms\":60000,\"flash_ms\":25000,\"verify_ms\":5000},"
	"{\"index\":3,\"text\":\"FB: ucmd setenv a b\",\"kind\":\"ucmd\",\"ms\":40},"
	"{\"index\":4,\"text\":\"FB: getvar version\",\"kind\":\"other\",\"ms\":30}]}";

/* A record written before the kinds existed: kinds from the step texts. */
static const char result_old[] =
	"{\"event\":\"result\",\"seq\":51,\"ts\":7,\"port\":\"1-3\",\"slot\":null,\"uid\":null,"
	"\"result\":\"failed\",\"failed_step\":\"FB: flash boot b\",\"reason\":\"timeout\","
	"\"start_ms\":1764115000000,\"end_ms\":1764115200000,\"bytes\":500,"
	"\"steps\":[{\"index\":0,\"text\":\"SDP: boot -f u.imx\",\"ms\":2000},"
	"{\"index\":1,\"text\":\"SDPU: jump\",\"ms\":10},"
	"{\"index\":2,\"text\":\"FB: flash boot b\",\"ms\":3000},"
	"{\"index\":3,\"text\":\"FB: acmd reset\",\"ms\":20},"
	"{\"index\":4,\"text\":\"FB: reboot\",\"ms\":30}]}";

static void test_results_histograms(void **unused)
{
	struct web_state *st = web_state_new();
	const struct web_counters *c = web_state_counters(st);
	(void)unused;

	web_state_today_begin(st, MIDNIGHT);
	feed(st, snap);
	assert_int_equal(feed(st, result_new), WEB_STATE_FORWARD | WEB_STATE_SUMMARY);
	assert_int_equal(c->boards[WEB_RESULT_OK], 1);
	assert_int_equal(c->written_bytes, 1000);
	assert_int_equal(c->steps[WEB_KIND_SDP].count, 1);
	assert_true(c->steps[WEB_KIND_SDP].sum > 2.09 && c->steps[WEB_KIND_SDP].sum < 2.11);
	assert_int_equal(c->steps[WEB_KIND_SPL_SDP].count, 1);
	/* the flash step split into its parts */
	assert_int_equal(c->steps[WEB_KIND_DOWNLOAD].count, 1);
	assert_true(c->steps[WEB_KIND_DOWNLOAD].sum == 60.0);
	assert_int_equal(c->steps[WEB_KIND_FLASH].count, 1);
	assert_true(c->steps[WEB_KIND_FLASH].sum == 25.0);
	assert_int_equal(c->steps[WEB_KIND_VERIFY].count, 1);
	assert_int_equal(c->steps[WEB_KIND_UCMD].count, 1);
	assert_int_equal(c->steps[WEB_KIND_OTHER].count, 1);
	assert_int_equal(c->steps[WEB_KIND_REENUM].count, 2);
	assert_true(c->steps[WEB_KIND_REENUM].sum > 2.299 && c->steps[WEB_KIND_REENUM].sum < 2.301);
	assert_int_equal(c->plug_to_sdp.count, 1);
	assert_int_equal(c->journal_write.count, 1);
	assert_true(c->journal_write.sum == 0.0025);
	/* bucket: 2.1 s lies in (1, 2.5] */
	assert_int_equal(c->steps[WEB_KIND_SDP].counts[5], 1);
	assert_true(c->steps[WEB_KIND_SDP].bounds[5] == 2.5);

	feed(st, result_old);
	assert_int_equal(c->boards[WEB_RESULT_FAILED], 1);
	assert_int_equal(c->steps[WEB_KIND_SDP].count, 2);
	assert_int_equal(c->steps[WEB_KIND_SPL_SDP].count, 2);
	assert_int_equal(c->steps[WEB_KIND_FLASH].count, 2); /* no download_ms: the whole step */
	assert_int_equal(c->steps[WEB_KIND_DOWNLOAD].count, 1);
	assert_int_equal(c->steps[WEB_KIND_UCMD].count, 2);
	assert_int_equal(c->steps[WEB_KIND_OTHER].count, 2);
	assert_int_equal(c->steps[WEB_KIND_REENUM].count, 2);
	assert_int_equal(c->plug_to_sdp.count, 1);   /* absent: not observed */
	assert_int_equal(c->journal_write.count, 1);

	/* a durable event repeats a record: not counted again */
	assert_int_equal(feed(st, "{\"event\":\"durable\",\"seq\":52,\"ts\":8,\"port\":\"1-3\","
				  "\"result\":\"failed\",\"start_ms\":1764115000000,"
				  "\"end_ms\":1764115200000,\"durable\":true}"), 0);
	assert_int_equal(c->boards[WEB_RESULT_FAILED], 1);

	json_t *sum = web_state_summary(st);
	json_t *today = json_object_get(sum, "today");
	assert_int_equal(json_integer_value(json_object_get(today, "ok")), 1);
	assert_int_equal(json_integer_value(json_object_get(today, "failed")), 1);
	assert_true(json_real_value(json_object_get(today, "yield")) == 50.0);
	json_t *results = json_object_get(sum, "results");
	assert_int_equal(json_array_size(results), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(results, 1), "result")),
			    "failed");
	json_decref(sum);
	web_state_free(st);
}

static void test_stats_plans(void **unused)
{
	struct web_state *st = web_state_new();
	const struct web_counters *c = web_state_counters(st);
	(void)unused;

	feed(st, snap);
	json_t *stats = parse("{\"id\":\"stats\",\"ok\":true,\"boards\":{\"ok\":38,\"failed\":2,"
			      "\"boot-loop\":1,\"aborted\":0,\"total\":41},\"bytes\":8053063680}");
	web_state_stats(st, stats);
	json_decref(stats);
	assert_int_equal(c->boards[WEB_RESULT_OK], 38);
	assert_int_equal(c->boards[WEB_RESULT_BOOT_LOOP], 1);
	assert_int_equal(c->written_bytes, 8053063680ULL);
	/* kept current by results */
	feed(st, result_new);
	assert_int_equal(c->boards[WEB_RESULT_OK], 39);
	assert_int_equal(c->written_bytes, 8053064680ULL);

	json_t *plans = parse("{\"id\":\"plans\",\"ok\":true,\"default\":\"/p/other.lst\","
			      "\"loaded\":[{\"path\":\"/p/full.lst\",\"sha256\":\"9f86\",\"steps\":8}]}");
	web_state_plans(st, plans);
	json_decref(plans);
	assert_int_equal(json_array_size(web_state_plans_loaded(st)), 1);
	/* the station's plan follows the plans reply (after a `use`) */
	json_t *s = web_state_summary(st);
	assert_string_equal(json_string_value(json_object_get(s, "plan")), "/p/other.lst");
	json_decref(s);
	web_state_free(st);
}

static void test_overflow_resync(void **unused)
{
	struct web_state *st = web_state_new();
	const struct web_counters *c = web_state_counters(st);
	(void)unused;

	web_state_set_connected(st, true, NOW);
	feed(st, snap);
	assert_int_equal(feed(st, "{\"event\":\"overflow\",\"seq\":1200,\"ts\":9,\"dropped\":713}"),
			 0);
	/* until the snapshot that follows, events are not applied */
	assert_int_equal(feed(st, "{\"event\":\"port\",\"seq\":1201,\"ts\":9,\"port\":\"1-2\","
				  "\"state\":\"done\"}"), 0);
	assert_string_equal(port_key(st, "1-2", "state"), "fastboot");
	assert_int_equal(feed(st, "{\"event\":\"snapshot\",\"seq\":1200,\"ts\":9,\"paused\":true,"
				  "\"plan\":\"/p/b.lst\",\"ports\":[{\"port\":\"1-2\",\"slot\":null,"
				  "\"state\":\"failed\"}]}"),
			 WEB_STATE_SNAPSHOT);
	assert_int_equal(c->resyncs, 1);
	assert_int_equal(json_array_size(web_state_ports(st)), 1);
	assert_string_equal(port_key(st, "1-2", "state"), "failed");
	assert_false(c->journal_known); /* the snapshot had no journal */

	/* connection lost: state kept, marked */
	web_state_set_connected(st, false, NOW + 5);
	json_t *s = web_state_status(st);
	assert_false(json_is_true(json_object_get(s, "connected")));
	assert_int_equal(json_integer_value(json_object_get(s, "lost_ms")), NOW + 5);
	assert_int_equal(json_integer_value(json_object_get(s, "resyncs")), 1);
	assert_int_equal(json_array_size(json_object_get(s, "ports")), 1);
	json_decref(s);
	assert_int_equal(feed(st, "{\"event\":\"port\",\"seq\":1,\"ts\":9,\"port\":\"1-2\","
				  "\"state\":\"done\"}"), 0);
	web_state_set_connected(st, true, NOW + 6);
	feed(st, snap);
	assert_int_equal(c->resyncs, 2);
	web_state_free(st);
}

/* the operator's pause reaches the page as it changes ("pause" events) */
static void test_pause_event(void **unused)
{
	struct web_state *st = web_state_new();
	json_t *s;
	(void)unused;

	web_state_set_connected(st, true, NOW);
	feed(st, snap);
	s = web_state_summary(st);
	assert_true(json_is_false(json_object_get(s, "paused")));
	json_decref(s);
	assert_int_equal(feed(st, "{\"event\":\"pause\",\"seq\":42,\"ts\":2,\"paused\":true}"),
			 WEB_STATE_SUMMARY);
	s = web_state_summary(st);
	assert_true(json_is_true(json_object_get(s, "paused")));
	json_decref(s);
	s = web_state_status(st);
	assert_true(json_is_true(json_object_get(s, "paused")));
	json_decref(s);
	/* not a boolean: ignored */
	assert_int_equal(feed(st, "{\"event\":\"pause\",\"seq\":43,\"ts\":2,\"paused\":1}"), 0);
	assert_int_equal(feed(st, "{\"event\":\"pause\",\"seq\":44,\"ts\":2,\"paused\":false}"),
			 WEB_STATE_SUMMARY);
	s = web_state_summary(st);
	assert_true(json_is_false(json_object_get(s, "paused")));
	json_decref(s);
	web_state_free(st);
}

static void test_today(void **unused)
{
	struct web_state *st = web_state_new();
	(void)unused;

	web_state_today_begin(st, MIDNIGHT);
	feed(st, snap);
	/* the live result first, then history holding it, a board of
	 * yesterday and a boot loop */
	feed(st, result_new);
	json_t *page = parse(
		"[{\"port\":\"1-9\",\"result\":\"ok\",\"start_ms\":1764000000000,"
		"\"end_ms\":1764000000001},"
		"{\"port\":\"1-2\",\"result\":\"ok\",\"start_ms\":1764115000000,"
		"\"end_ms\":1764115100000},"
		"{\"port\":\"1-1\",\"result\":\"boot-loop\",\"start_ms\":1764115000000,"
		"\"end_ms\":1764115000500},"
		"{\"port\":\"1-1\",\"result\":\"failed\",\"start_ms\":1764114000000,"
		"\"end_ms\":1764114000500}]");
	web_state_history(st, page);
	web_state_history(st, page); /* the same page again: nothing new */
	json_decref(page);
	json_t *sum = web_state_summary(st);
	json_t *today = json_object_get(sum, "today");
	assert_int_equal(json_integer_value(json_object_get(today, "ok")), 1);
	assert_int_equal(json_integer_value(json_object_get(today, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(today, "boot-loop")), 1);
	assert_int_equal(json_integer_value(json_object_get(today, "since_ms")), MIDNIGHT);
	/* results list: all four distinct boards, oldest first */
	json_t *results = json_object_get(sum, "results");
	assert_int_equal(json_array_size(results), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(results, 0), "port")),
			    "1-9");
	assert_string_equal(json_string_value(json_object_get(json_array_get(results, 3), "port")),
			    "1-2");
	json_decref(sum);

	/* a new day: counted anew */
	web_state_today_begin(st, MIDNIGHT + 86400000LL);
	sum = web_state_summary(st);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "today"), "ok")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(sum, "today"), "yield")));
	json_decref(sum);
	web_state_free(st);
}

static void test_results_bounded(void **unused)
{
	struct web_state *st = web_state_new();
	char line[256];
	(void)unused;

	web_state_today_begin(st, MIDNIGHT);
	feed(st, snap);
	for (int i = 0; i < 50; i++) {
		snprintf(line, sizeof(line),
			 "{\"event\":\"result\",\"seq\":%d,\"ts\":1,\"port\":\"1-%d\",\"result\":\"ok\","
			 "\"start_ms\":%lld,\"end_ms\":%lld,\"bytes\":1,\"steps\":[]}",
			 100 + i, i, MIDNIGHT + i, MIDNIGHT + 10 + i);
		feed(st, line);
	}
	json_t *sum = web_state_summary(st);
	json_t *results = json_object_get(sum, "results");
	assert_int_equal(json_array_size(results), WEB_STATE_RESULTS_MAX);
	assert_string_equal(json_string_value(json_object_get(json_array_get(results, 0), "port")),
			    "1-30");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "today"), "ok")), 50);
	json_decref(sum);
	/* an older record than every kept one is not listed (but counted) */
	json_t *old = parse("[{\"port\":\"9-9\",\"result\":\"ok\",\"start_ms\":1,"
			    "\"end_ms\":1764111600001}]");
	web_state_history(st, old);
	json_decref(old);
	sum = web_state_summary(st);
	results = json_object_get(sum, "results");
	assert_string_equal(json_string_value(json_object_get(json_array_get(results, 0), "port")),
			    "1-30");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "today"), "ok")), 51);
	json_decref(sum);
	web_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_order),   cmocka_unit_test(test_port_progress),
		cmocka_unit_test(test_results_histograms), cmocka_unit_test(test_stats_plans),
		cmocka_unit_test(test_overflow_resync),  cmocka_unit_test(test_pause_event), cmocka_unit_test(test_today),
		cmocka_unit_test(test_results_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
