/* test-web_metrics: /metrics of a fixed state against the golden page
 * (tests/data/web/metrics.golden), label escaping, HELP and TYPE for every
 * family, histogram buckets cumulative. `test-web_metrics --dump` prints
 * the page (tests/web-promtool checks it with promtool). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web/web_metrics.h"

static void feed(struct web_state *st, const char *line)
{
	json_error_t e;
	json_t *v = json_loads(line, 0, &e);
	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", e.text);
		abort();
	}
	if (json_object_get(v, "event"))
		web_state_event(st, v, 1764151200000);
	else if (json_object_get(v, "loaded"))
		web_state_plans(st, v);
	else
		web_state_stats(st, v);
	json_decref(v);
}

/* Two ports (one with a slot name that needs escaping), two plans, stats, two results. */
static struct web_state *fixed_state(void)
{
	struct web_state *st = web_state_new();

	web_state_set_connected(st, true, 1764151200000);
	feed(st, "{\"event\":\"snapshot\",\"seq\":1,\"ts\":1,\"paused\":false,\"plan\":\"/p/full.lst\","
		 "\"journal\":{\"writable\":true,\"backlog\":0},\"ports\":["
		 "{\"port\":\"1-1.2\",\"slot\":\"A\\\"1\\\\x\\ny\",\"state\":\"fastboot\",\"rate\":21474836},"
		 "{\"port\":\"1-1.3\",\"slot\":null,\"state\":\"failed\",\"rate\":999},"
		 "{\"port\":\"1-1.4\",\"slot\":null,\"state\":\"empty\",\"rate\":0}]}");
	feed(st, "{\"ok\":true,\"boards\":{\"ok\":38,\"failed\":2,\"boot-loop\":1,\"aborted\":0},"
		 "\"bytes\":8053063680}");
	feed(st, "{\"ok\":true,\"loaded\":[{\"path\":\"/p/full.lst\",\"sha256\":\"9f86d0\",\"steps\":8},"
		 "{\"path\":\"/p/a\\\"b\\\\c.lst\",\"sha256\":\"2c26b4\",\"steps\":2}]}");
	feed(st, "{\"event\":\"result\",\"seq\":2,\"ts\":2,\"port\":\"1-1.3\",\"result\":\"failed\","
		 "\"start_ms\":1,\"end_ms\":2,\"bytes\":1000,\"plug_to_sdp_ms\":80,\"reenum_ms\":[1200],"
		 "\"journal_ms\":1.5,\"steps\":[{\"text\":\"SDP: boot\",\"kind\":\"sdp\",\"ms\":2100},"
		 "{\"text\":\"FB: flash a b\",\"kind\":\"flash\",\"ms\":9000,\"download_ms\":6000,"
		 "\"flash_ms\":2500,\"verify_ms\":500}]}");
	feed(st, "{\"event\":\"result\",\"seq\":3,\"ts\":3,\"port\":\"1-1.2\",\"result\":\"ok\","
		 "\"start_ms\":1,\"end_ms\":3,\"bytes\":24,\"steps\":[{\"text\":\"FB: ucmd x\",\"ms\":700}]}");
	return st;
}

static char *render_fixed(size_t *len)
{
	struct web_state *st = fixed_state();
	char *page = web_metrics_render(st, 3, len);
	web_state_free(st);
	return page;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	return buf;
}

static void test_golden(void **unused)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	size_t len;
	char *page = render_fixed(&len), *want;
	(void)unused;

	snprintf(path, sizeof(path), "%s/tests/data/web/metrics.golden", top ? top : ".");
	want = read_file(path);
	if (!want)
		fail_msg("cannot read %s", path);
	assert_int_equal(strlen(page), len);
	if (strcmp(page, want) != 0) {
		/* the first differing line, for the log */
		size_t i = 0, line = 1;
		while (page[i] && page[i] == want[i])
			line += page[i++] == '\n';
		fail_msg("line %zu differs from %s:\ngot:  %.120s\nwant: %.120s", line, path,
			 page + i, want + i);
	}
	free(want);
	free(page);
}

static void test_escape(void **unused)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	(void)unused;

	web_metrics_escape(f, "a\\b\"c\nd\te");
	web_metrics_escape(f, NULL);
	fclose(f);
	assert_string_equal(buf, "a\\\\b\\\"c\\nd\te");
	free(buf);
	size_t len;
	char *page = render_fixed(&len);
	assert_non_null(strstr(page, "slot=\"A\\\"1\\\\x\\ny\""));
	assert_non_null(strstr(page, "flashd_plan_info{path=\"/p/a\\\"b\\\\c.lst\",sha256=\"2c26b4\"} 1"));
	free(page);
}

/* Every sample's family has HELP and TYPE before it, once; histograms end
 * with +Inf equal to _count and never decrease. */
static void test_families(void **unused)
{
	static const char *const want[] = {
		"flashd_up gauge", "flashd_boards_total counter", "flashd_written_bytes_total counter",
		"flashd_step_duration_seconds histogram", "flashd_plug_to_sdp_seconds histogram",
		"flashd_journal_write_seconds histogram", "flashd_ports gauge",
		"flashd_port_transfer_rate_bytes_per_second gauge", "flashd_plan_info gauge",
		"flashd_journal_writable gauge", "flashd_web_sse_clients gauge",
		"flashd_web_resyncs_total counter",
	};
	size_t len;
	char *page = render_fixed(&len), *save = NULL;
	char help[128], type[160], family[128] = "";
	unsigned long long last = 0;
	(void)unused;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(type, sizeof(type), "# TYPE %s\n", want[i]);
		assert_non_null(strstr(page, type));
		snprintf(help, sizeof(help), "# HELP %.*s ", (int)strcspn(want[i], " "), want[i]);
		assert_non_null(strstr(page, help));
		char *again = strstr(strstr(page, type) + 1, type);
		assert_null(again);
	}
	for (char *l = strtok_r(page, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "# TYPE ", 7) == 0) {
			snprintf(family, sizeof(family), "%.*s", (int)strcspn(l + 7, " "), l + 7);
			last = 0;
			continue;
		}
		if (l[0] == '#')
			continue;
		assert_true(family[0] && strncmp(l, family, strlen(family)) == 0);
		if (strstr(l, "_bucket{")) {
			if (strstr(l, "le=\"0.05\"") || strstr(l, "le=\"0.01\"") ||
			    strstr(l, "le=\"0.0005\""))
				last = 0; /* a histogram's first bucket */
			unsigned long long v = strtoull(strrchr(l, ' ') + 1, NULL, 10);
			assert_true(v >= last);
			last = v;
		}
	}
	free(page);
}

static void test_ports_and_counts(void **unused)
{
	size_t len;
	char *page = render_fixed(&len);
	(void)unused;

	/* every state, also those no port is in */
	static const char *const states[] = { "empty", "paused", "sdp", "wait-reenum", "spl-sdp",
					      "fastboot", "done", "failed", "boot-loop" };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		char s[64];
		snprintf(s, sizeof(s), "flashd_ports{state=\"%s\"} ", states[i]);
		assert_non_null(strstr(page, s));
	}
	assert_non_null(strstr(page, "flashd_ports{state=\"failed\"} 1\n"));
	assert_non_null(strstr(page, "flashd_ports{state=\"sdp\"} 0\n"));
	/* a failed port's rate is 0, whatever the last progress said */
	assert_non_null(strstr(page, "{port=\"1-1.3\",slot=\"\"} 0\n"));
	assert_non_null(strstr(page, "flashd_boards_total{result=\"ok\"} 39\n"));
	assert_non_null(strstr(page, "flashd_boards_total{result=\"failed\"} 3\n"));
	assert_non_null(strstr(page, "flashd_written_bytes_total 8053064704\n"));
	assert_non_null(strstr(page, "flashd_web_sse_clients 3\n"));
	assert_non_null(strstr(page, "flashd_up 1\n"));
	free(page);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_ports_and_counts),
	};
	if (argc > 1 && strcmp(argv[1], "--dump") == 0) {
		size_t len;
		char *page = render_fixed(&len);
		fwrite(page, 1, len, stdout);
		free(page);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
