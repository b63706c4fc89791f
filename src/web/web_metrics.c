/* web_metrics: /metrics in the Prometheus text format (see web_metrics.h).
 * Format: prometheus.io/docs/instrumenting/exposition_formats (0.0.4):
 * "# HELP name text", "# TYPE name type", samples "name{l="v"} value";
 * histograms as name_bucket{le=…} (cumulative, ending with le="+Inf"),
 * name_sum and name_count. */
#include "web_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "flashd/port.h"
#include "flashd/protocol.h"

void web_metrics_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Shortest decimal that reads back as v (bucket bounds, sums). */
static void number(FILE *f, double v)
{
	char buf[32];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* One histogram's samples; label: "" or `kind="sdp",` (with its comma). */
static void histogram(FILE *f, const char *name, const char *label, const struct web_hist *h)
{
	uint64_t cum = 0;

	for (size_t i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		fprintf(f, "%s_bucket{%sle=\"", name, label);
		number(f, h->bounds[i]);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, label, (unsigned long long)h->count);
	if (*label) /* without its trailing comma */
		fprintf(f, "%s_sum{%.*s} ", name, (int)strlen(label) - 1, label);
	else
		fprintf(f, "%s_sum ", name);
	number(f, h->sum);
	if (*label)
		fprintf(f, "\n%s_count{%.*s} %llu\n", name, (int)strlen(label) - 1, label,
			(unsigned long long)h->count);
	else
		fprintf(f, "\n%s_count %llu\n", name, (unsigned long long)h->count);
}

static void render_boards(FILE *f, const struct web_counters *c)
{
	family(f, "flashd_boards_total", "counter",
	       "Boards finished since flashd started, by result.");
	for (int r = 0; r < WEB_RESULT_COUNT; r++)
		fprintf(f, "flashd_boards_total{result=\"%s\"} %llu\n",
			web_result_to_string((enum web_result)r), (unsigned long long)c->boards[r]);
	family(f, "flashd_written_bytes_total", "counter",
	       "Image bytes sent to boards since flashd started.");
	fprintf(f, "flashd_written_bytes_total %llu\n", (unsigned long long)c->written_bytes);
}

static void render_histograms(FILE *f, const struct web_counters *c)
{
	char label[64];

	family(f, "flashd_step_duration_seconds", "histogram",
	       "Duration of the steps of the boards flashd-web saw finish, by kind.");
	for (int k = 0; k < WEB_KIND_COUNT; k++) {
		snprintf(label, sizeof(label), "kind=\"%s\",", web_kind_to_label((enum web_kind)k));
		histogram(f, "flashd_step_duration_seconds", label, &c->steps[k]);
	}
	family(f, "flashd_plug_to_sdp_seconds", "histogram",
	       "Time from the boot ROM device appearing to the first SDP command.");
	histogram(f, "flashd_plug_to_sdp_seconds", "", &c->plug_to_sdp);
	family(f, "flashd_journal_write_seconds", "histogram",
	       "Time of the results journal's append and fdatasync of a record.");
	histogram(f, "flashd_journal_write_seconds", "", &c->journal_write);
}

static bool is_active(const char *state)
{
	return state && (strcmp(state, "sdp") == 0 || strcmp(state, "spl-sdp") == 0 ||
			 strcmp(state, "fastboot") == 0);
}

static void render_ports(FILE *f, const json_t *ports)
{
	const json_t *p;
	size_t i;

	family(f, "flashd_ports", "gauge", "Ports by state.");
	for (int s = 0; s < _PORT_STATE_MAX; s++) {
		const char *name = port_state_to_string((enum port_state)s);
		unsigned n = 0;
		json_array_foreach (ports, i, p) {
			const char *st = json_string_value(json_object_get(p, PROTOCOL_KEY_STATE));
			n += st && strcmp(st, name) == 0;
		}
		fprintf(f, "flashd_ports{state=\"%s\"} %u\n", name, n);
	}
	family(f, "flashd_port_transfer_rate_bytes_per_second", "gauge",
	       "Transfer rate of the port's current step, 0 when idle.");
	json_array_foreach (ports, i, p) {
		const char *st = json_string_value(json_object_get(p, PROTOCOL_KEY_STATE));
		json_int_t rate = json_integer_value(json_object_get(p, PROTOCOL_KEY_RATE));
		fputs("flashd_port_transfer_rate_bytes_per_second{port=\"", f);
		web_metrics_escape(f, json_string_value(json_object_get(p, PROTOCOL_KEY_PORT)));
		fputs("\",slot=\"", f);
		web_metrics_escape(f, json_string_value(json_object_get(p, PROTOCOL_KEY_SLOT)));
		fprintf(f, "\"} %lld\n", is_active(st) && rate > 0 ? (long long)rate : 0LL);
	}
}

static void render_station(FILE *f, const struct web_state *st)
{
	const struct web_counters *c = web_state_counters(st);
	const json_t *pl;
	size_t i;

	family(f, "flashd_plan_info", "gauge", "The plans flashd has loaded, with their SHA-256.");
	json_array_foreach (web_state_plans_loaded(st), i, pl) {
		fputs("flashd_plan_info{path=\"", f);
		web_metrics_escape(f, json_string_value(json_object_get(pl, PROTOCOL_KEY_PATH)));
		fputs("\",sha256=\"", f);
		web_metrics_escape(f, json_string_value(json_object_get(pl, PROTOCOL_KEY_SHA256)));
		fputs("\"} 1\n", f);
	}
	family(f, "flashd_journal_writable", "gauge",
	       "1 when the last write to the results journal worked (absent: no journal).");
	if (c->journal_known)
		fprintf(f, "flashd_journal_writable %d\n", c->journal_writable ? 1 : 0);
}

char *web_metrics_render(const struct web_state *st, unsigned sse_clients, size_t *len)
{
	const struct web_counters *c = web_state_counters(st);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	family(f, "flashd_up", "gauge",
	       "1 when flashd-web is connected to flashd's control socket.");
	fprintf(f, "flashd_up %d\n", c->connected ? 1 : 0);
	render_boards(f, c);
	render_histograms(f, c);
	render_ports(f, web_state_ports(st));
	render_station(f, st);
	family(f, "flashd_web_sse_clients", "gauge", "Dashboards connected to /events.");
	fprintf(f, "flashd_web_sse_clients %u\n", sse_clients);
	family(f, "flashd_web_resyncs_total", "counter",
	       "Snapshots taken again after a reconnection or an overflow.");
	fprintf(f, "flashd_web_resyncs_total %llu\n", (unsigned long long)c->resyncs);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
