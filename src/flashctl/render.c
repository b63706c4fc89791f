/* render: text for people (see render.h). */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/macro.h"
#include "common/natcmp.h"
#include "flashd/protocol.h"

void render_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

void render_clean(char *out, size_t len, const char *s)
{
	size_t n = 0;

	if (!len)
		return;
	if (!s || !*s)
		s = "-";
	for (; *s && n + 1 < len; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	/* do not leave a UTF-8 sequence cut in two behind */
	if (*s && n > 0) {
		size_t lead = n;
		while (lead > 0 && ((unsigned char)out[lead - 1] & 0xc0) == 0x80)
			lead--;
		if (lead > 0 && ((unsigned char)out[lead - 1] & 0xc0) == 0xc0) {
			unsigned char c = (unsigned char)out[lead - 1];
			size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (n - (lead - 1) < need)
				n = lead - 1;
		}
	}
	out[n] = 0;
}

void render_bytes(char *out, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1000) {
		snprintf(out, len, "%" PRIu64 " B", bytes);
		return;
	}
	v /= 1000;
	while (v >= 999.95 && u + 1 < ELEMENTSOF(units)) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void render_rate(char *out, size_t len, uint64_t bytes_per_s)
{
	if (!bytes_per_s) {
		snprintf(out, len, "-");
		return;
	}
	render_bytes(out, len, bytes_per_s);
	size_t n = strlen(out);
	snprintf(out + n, len > n ? len - n : 0, "/s");
}

void render_duration(char *out, size_t len, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	int64_t s = ms / 1000;
	if (s >= 3600)
		snprintf(out, len, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60),
			 (int)(s % 60));
	else
		snprintf(out, len, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

void render_clock(char *out, size_t len, int64_t unix_ms, bool with_date)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm) ||
	    !strftime(out, len, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm))
		snprintf(out, len, "-");
}

int render_percent(uint64_t done, uint64_t total)
{
	if (!total)
		return -1;
	if (done >= total)
		return 100;
	return (int)((double)done * 100.0 / (double)total);
}

void render_bar(char *out, size_t len, uint64_t done, uint64_t total, int width)
{
	if (width < 1 || len < (size_t)width + 3) {
		if (len)
			out[0] = 0;
		return;
	}
	int fill = total ? (int)((double)(done > total ? total : done) * width / (double)total) : 0;
	out[0] = '[';
	for (int i = 0; i < width; i++)
		out[1 + i] = i < fill ? '#' : '-';
	out[width + 1] = ']';
	out[width + 2] = 0;
}

/* ---- PORT objects ---- */

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

static uint64_t unum(const json_t *o, const char *key)
{
	int64_t v = num(o, key);
	return v < 0 ? 0 : (uint64_t)v;
}

void render_step_short(char *out, size_t len, const char *step)
{
	size_t n = 0;

	if (!len)
		return;
	while (step && *step && n + 1 < len) {
		size_t w = strcspn(step, " \t");
		const char *word = step, *slash = NULL;
		for (size_t i = 0; i < w; i++)
			if (step[i] == '/' && i + 1 < w)
				slash = step + i;
		if (slash)
			word = slash + 1;
		for (; word < step + w && n + 1 < len; word++)
			out[n++] = *word;
		step += w;
		while ((*step == ' ' || *step == '\t') && n + 1 < len)
			out[n++] = *step++;
	}
	out[n] = '\0';
}

bool render_state_active(const char *state)
{
	static const char *const active[] = { "sdp", "wait-reenum", "spl-sdp", "fastboot" };
	for (size_t i = 0; state && i < ELEMENTSOF(active); i++)
		if (strcmp(state, active[i]) == 0)
			return true;
	return false;
}

void render_port_from_json(const json_t *p, struct render_port *out)
{
	const char *step = str(p, PROTOCOL_KEY_STEP);
	int64_t idx = num(p, PROTOCOL_KEY_STEP_INDEX), steps = num(p, PROTOCOL_KEY_STEPS);
	char text[80];

	const json_t *y = json_object_get(p, PROTOCOL_KEY_YIELD);

	memset(out, 0, sizeof(*out));
	render_clean(out->slot, sizeof(out->slot), str(p, PROTOCOL_KEY_SLOT));
	render_clean(out->alert, sizeof(out->alert), str(y, PROTOCOL_KEY_ALERT));
	if (json_is_object(y))
		snprintf(out->yield, sizeof(out->yield), "%" PRId64 " ok, %" PRId64 " failed",
			 num(y, PROTOCOL_RESULT_OK), num(y, PROTOCOL_RESULT_FAILED));
	else
		snprintf(out->yield, sizeof(out->yield), "-");
	out->ignored = json_is_true(json_object_get(p, PROTOCOL_KEY_IGNORED));
	render_clean(out->port, sizeof(out->port), str(p, PROTOCOL_KEY_PORT));
	render_clean(out->state, sizeof(out->state), str(p, PROTOCOL_KEY_STATE));
	render_clean(out->result, sizeof(out->result), str(p, PROTOCOL_KEY_RESULT));
	render_clean(out->reason, sizeof(out->reason), str(p, PROTOCOL_KEY_REASON));
	render_clean(out->failed_step, sizeof(out->failed_step), str(p, PROTOCOL_KEY_FAILED_STEP));
	render_clean(out->board, sizeof(out->board), str(p, PROTOCOL_KEY_UID) ? str(p, PROTOCOL_KEY_UID)
				    : str(p, PROTOCOL_KEY_SERIAL) && *str(p, PROTOCOL_KEY_SERIAL) ? str(p, PROTOCOL_KEY_SERIAL)
									    : NULL);
	render_clean(text, sizeof(text), step);
	if (step && *step && steps > 0 && idx >= 0 && idx < steps)
		render_fmt(out->step, sizeof(out->step), "%" PRId64 "/%" PRId64 " %s", idx + 1,
			   steps, text);
	else
		snprintf(out->step, sizeof(out->step), "%s", text);
	out->bytes = unum(p, PROTOCOL_KEY_BYTES);
	out->total = unum(p, PROTOCOL_KEY_TOTAL);
	out->rate = unum(p, PROTOCOL_KEY_RATE);
	out->elapsed_ms = num(p, PROTOCOL_KEY_ELAPSED_MS);
}

void render_port_label(const json_t *p, char *out, size_t len)
{
	char slot[24], port[72];

	render_clean(slot, sizeof(slot), str(p, PROTOCOL_KEY_SLOT));
	render_clean(port, sizeof(port), str(p, PROTOCOL_KEY_PORT));
	if (str(p, PROTOCOL_KEY_SLOT))
		render_fmt(out, len, "%s %s", slot, port);
	else
		snprintf(out, len, "%s", port);
}

int render_port_cmp(const char *slot_a, const char *port_a, const char *slot_b,
		    const char *port_b)
{
	if (slot_a && slot_b)
		return natcmp(slot_a, slot_b) ? natcmp(slot_a, slot_b) : natcmp(port_a, port_b);
	if (slot_a || slot_b)
		return slot_a ? -1 : 1;
	return natcmp(port_a, port_b);
}

/* ---- tables ---- */

struct render_table {
	size_t ncols, nrows, cap;
	char **cells;
};

struct render_table *render_table_new(size_t ncols)
{
	struct render_table *t = calloc(1, sizeof(*t));
	if (t)
		t->ncols = ncols;
	return t;
}

int render_table_add(struct render_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

/* Columns on screen: UTF-8 continuation bytes take none. */
static size_t display_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void render_table_print(FILE *fp, const struct render_table *t)
{
	size_t width[16] = { 0 };
	size_t ncols = t->ncols < 16 ? t->ncols : 16;

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			size_t w = display_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			if (c + 1 == ncols) {
				fprintf(fp, "%s", cell);
				break;
			}
			fprintf(fp, "%s%*s", cell, (int)(width[c] - display_width(cell) + 2), "");
		}
		fputc('\n', fp);
	}
}

struct render_table *render_table_free(struct render_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}

/* ---- status, history, plans, stats ---- */

void render_loading(char *out, size_t len, const json_t *loading)
{
	char path[256], file[256], queued[48] = "";
	const char *kind = str(loading, PROTOCOL_KEY_KIND);
	json_int_t more = json_integer_value(json_object_get(loading, PROTOCOL_KEY_QUEUED));

	out[0] = '\0';
	if (!json_is_object(loading))
		return;
	render_clean(path, sizeof(path), str(loading, PROTOCOL_KEY_PATH));
	render_clean(file, sizeof(file), str(loading, PROTOCOL_KEY_FILE));
	if (more > 0)
		snprintf(queued, sizeof(queued), ", %" JSON_INTEGER_FORMAT " more queued", more);
	snprintf(out, len, "loading %s (%s): %s %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
		 " MiB%s", path, kind && strcmp(kind, "reload") == 0 ? "reload" : "use",
		 json_is_string(json_object_get(loading, PROTOCOL_KEY_FILE)) ? file : "starting",
		 json_integer_value(json_object_get(loading, PROTOCOL_KEY_BYTES)) >> 20,
		 json_integer_value(json_object_get(loading, PROTOCOL_KEY_TOTAL)) >> 20, queued);
}

void render_journal(char *out, size_t len, const json_t *journal)
{
	char reason[200], since[16], bytes[24], retry[48] = "", full[64] = "";
	json_int_t backlog = json_integer_value(json_object_get(journal, PROTOCOL_KEY_BACKLOG));
	const json_t *rt = json_object_get(journal, PROTOCOL_KEY_RETRY_MS);

	out[0] = '\0';
	if (!json_is_object(journal) ||
	    (json_is_true(json_object_get(journal, PROTOCOL_KEY_WRITABLE)) && backlog <= 0))
		return;
	render_clean(reason, sizeof(reason), str(journal, PROTOCOL_KEY_REASON));
	render_clock(since, sizeof(since), num(journal, PROTOCOL_KEY_SINCE_MS), false);
	render_bytes(bytes, sizeof(bytes), unum(journal, PROTOCOL_KEY_BACKLOG_BYTES));
	if (json_is_integer(rt))
		snprintf(retry, sizeof(retry), ", next try in %" JSON_INTEGER_FORMAT " s",
			 (json_integer_value(rt) + 999) / 1000);
	if (json_is_true(json_object_get(journal, PROTOCOL_KEY_BACKLOG_FULL)))
		snprintf(full, sizeof(full), "BACKLOG FULL (limit %" JSON_INTEGER_FORMAT "), ",
			 json_integer_value(json_object_get(journal, PROTOCOL_KEY_BACKLOG_MAX)));
	render_fmt(out, len, "JOURNAL ALARM since %s: %s; %s%" JSON_INTEGER_FORMAT " record%s (%s) "
		   "not yet in the journal%s; new boards wait", since, reason, full, backlog,
		   backlog == 1 ? "" : "s", bytes, retry);
}

const char *render_station_state(const json_t *status)
{
	const json_t *j = json_object_get(status, PROTOCOL_KEY_JOURNAL);

	if (json_is_true(json_object_get(status, PROTOCOL_KEY_PAUSED)))
		return "PAUSED";
	if (json_integer_value(json_object_get(j, PROTOCOL_KEY_BACKLOG)) > 0)
		return "HELD";
	return "running";
}

/* Whether any object of a (port objects, records) names a slot. */
static bool render_any_slot(const json_t *a)
{
	const json_t *o;
	size_t i;

	json_array_foreach(a, i, o)
		if (str(o, PROTOCOL_KEY_SLOT))
			return true;
	return false;
}

/* Below the status table: why the failed ones failed, and slots in alert. */
static void render_status_notes(FILE *fp, const json_t *ports)
{
	const json_t *p;
	size_t i;

	json_array_foreach(ports, i, p) {
		struct render_port rp;
		char who[100];

		render_port_from_json(p, &rp);
		if (strcmp(rp.slot, "-") != 0)
			snprintf(who, sizeof(who), "%s (%s)", rp.slot, rp.port);
		else
			snprintf(who, sizeof(who), "%s", rp.port);
		if (strcmp(rp.alert, "-") != 0)
			fprintf(fp, "%s: SLOT ALERT: %s\n", who, rp.alert);
		if (strcmp(rp.reason, "-") == 0)
			continue;
		if (strcmp(rp.failed_step, "-") != 0)
			fprintf(fp, "%s: %s at \"%s\": %s\n", who, rp.state, rp.failed_step,
				rp.reason);
		else
			fprintf(fp, "%s: %s: %s\n", who, rp.state, rp.reason);
	}
}

void render_pool_line(char *out, size_t len, const json_t *pool)
{
	char name[64], why[300];
	const char *state = str(pool, PROTOCOL_KEY_STATE);
	const json_t *left = json_object_get(pool, PROTOCOL_KEY_LEFT);

	render_clean(name, sizeof(name), str(pool, PROTOCOL_KEY_NAME));
	render_clean(why, sizeof(why), str(pool, PROTOCOL_KEY_REASON));
	if (json_is_integer(left))
		snprintf(out, len, "pool %s: %s, %" PRId64 " of %" PRId64 " left%s%s", name,
			 state ? state : "?", (int64_t)json_integer_value(left),
			 num(pool, PROTOCOL_KEY_BLOCKS), why[0] && strcmp(why, "-") ? ": " : "",
			 why[0] && strcmp(why, "-") ? why : "");
	else
		snprintf(out, len, "pool %s: %s%s%s", name, state ? state : "?",
			 why[0] && strcmp(why, "-") ? ": " : "", why[0] && strcmp(why, "-") ? why : "");
}

void render_pools(FILE *fp, const json_t *pools)
{
	const char *head[] = { "POOL", "KIND", "BACKEND", "PER BOARD", "BOUND", "LEFT", "OF",
			       "LOW", "STATE" };
	struct render_table *t = render_table_new(9);
	const json_t *p;
	size_t i;

	if (!json_array_size(pools)) {
		fprintf(fp, "no pools (flashd.conf(5) \"Pools\")\n");
		render_table_free(t);
		return;
	}
	if (!t)
		return;
	render_table_add(t, head);
	json_array_foreach(pools, i, p) {
		char name[64], kind[16], be[16], count[24], bound[24], left[24], of[24], low[24],
			state[16];
		const json_t *b = json_object_get(p, PROTOCOL_KEY_BOUND);
		const json_t *l = json_object_get(p, PROTOCOL_KEY_LEFT);

		render_clean(name, sizeof(name), str(p, PROTOCOL_KEY_NAME));
		render_clean(kind, sizeof(kind), str(p, PROTOCOL_KEY_KIND));
		render_clean(be, sizeof(be), str(p, PROTOCOL_KEY_BACKEND));
		render_clean(state, sizeof(state), str(p, PROTOCOL_KEY_STATE));
		snprintf(count, sizeof(count), "%" PRId64, num(p, PROTOCOL_KEY_COUNT));
		snprintf(of, sizeof(of), "%" PRId64, num(p, PROTOCOL_KEY_BLOCKS));
		snprintf(low, sizeof(low), "%" PRId64, num(p, PROTOCOL_KEY_LOW));
		snprintf(bound, sizeof(bound), json_is_integer(b) ? "%" PRId64 : "-",
			 json_is_integer(b) ? (int64_t)json_integer_value(b) : 0);
		snprintf(left, sizeof(left), json_is_integer(l) ? "%" PRId64 : "-",
			 json_is_integer(l) ? (int64_t)json_integer_value(l) : 0);
		const char *row[] = { name, kind, be, count, bound, left, of, low, state };
		render_table_add(t, row);
	}
	render_table_print(fp, t);
	render_table_free(t);
	json_array_foreach(pools, i, p) {
		char why[300];

		render_clean(why, sizeof(why), str(p, PROTOCOL_KEY_REASON));
		if (why[0] && strcmp(why, "-") != 0)
			fprintf(fp, "%s\n", why);
	}
}

void render_status(FILE *fp, const json_t *status)
{
	const char *head[] = { "SLOT", "PORT", "STATE", "STEP", "PROGRESS", "RATE", "BOARD",
			       "ELAPSED", "YIELD" };
	const json_t *ports = json_object_get(status, PROTOCOL_KEY_PORTS), *p;
	/* without slots: no SLOT and YIELD columns */
	bool slots = render_any_slot(ports);
	size_t skip = slots ? 0 : 1;
	struct render_table *t = render_table_new(slots ? 9 : 7);
	char plan[256], pct[16], rate[24], elapsed[24];
	size_t i;

	char loading[700];

	render_clean(plan, sizeof(plan), str(status, PROTOCOL_KEY_PLAN));
	fprintf(fp, "station %s, plan %s\n", render_station_state(status), plan);
	render_journal(loading, sizeof(loading), json_object_get(status, PROTOCOL_KEY_JOURNAL));
	if (loading[0])
		fprintf(fp, "%s\n", loading);
	render_loading(loading, sizeof(loading), json_object_get(status, PROTOCOL_KEY_LOADING));
	if (loading[0])
		fprintf(fp, "%s; new boards get the plan in force until it is done\n", loading);
	/* pools that need someone: low, empty, unreachable, refused */
	json_array_foreach(json_object_get(status, PROTOCOL_KEY_POOLS), i, p) {
		const char *ps = str(p, PROTOCOL_KEY_STATE);

		if (ps && strcmp(ps, "ok") != 0) {
			render_pool_line(loading, sizeof(loading), p);
			fprintf(fp, "%s\n", loading);
		}
	}
	fputc('\n', fp);
	if (!t)
		return;
	render_table_add(t, head + skip);
	json_array_foreach(ports, i, p) {
		struct render_port rp;
		render_port_from_json(p, &rp);
		int per = render_percent(rp.bytes, rp.total);
		if (per < 0)
			snprintf(pct, sizeof(pct), "-");
		else
			snprintf(pct, sizeof(pct), "%d%%", per);
		render_rate(rate, sizeof(rate), render_state_active(rp.state) ? rp.rate : 0);
		if (rp.elapsed_ms > 0)
			render_duration(elapsed, sizeof(elapsed), rp.elapsed_ms);
		else
			snprintf(elapsed, sizeof(elapsed), "-");
		const char *row[] = { rp.slot, rp.port, rp.ignored ? "ignored" : rp.state, rp.step,
				      pct, rate, rp.board, elapsed, rp.yield };
		render_table_add(t, row + skip);
	}
	if (json_array_size(ports))
		render_table_print(fp, t);
	else
		fprintf(fp, "no ports seen yet\n");
	render_table_free(t);
	render_status_notes(fp, ports);
}

static const char *record_detail(const json_t *rec, char *buf, size_t len)
{
	char step[96], reason[160];
	const char *fs = str(rec, PROTOCOL_KEY_FAILED_STEP);
	const char *res = str(rec, PROTOCOL_KEY_RESULT);

	if (res && strcmp(res, PROTOCOL_RESULT_OK) == 0) {
		const char *plan = str(rec, PROTOCOL_KEY_PLAN);
		const char *base = plan ? strrchr(plan, '/') : NULL;
		const json_t *regions = json_object_get(rec, PROTOCOL_KEY_REGIONS), *r;
		size_t i, verified = 0;

		render_clean(buf, len, base ? base + 1 : plan);
		/* the flash regions the board read back (flashd-plan(5) "Verify") */
		json_array_foreach(regions, i, r)
			verified += json_is_true(json_object_get(r, "verified"));
		if (json_array_size(regions)) {
			size_t n = strlen(buf);
			snprintf(buf + n, len - n, " (verified %zu/%zu)", verified, json_array_size(regions));
		}
		return buf;
	}
	render_clean(step, sizeof(step), fs);
	render_clean(reason, sizeof(reason), str(rec, PROTOCOL_KEY_REASON));
	/* flashd's reasons often begin with the step already: say it once */
	if (fs && strncmp(reason, step, strlen(step)) != 0)
		render_fmt(buf, len, "%s: %s", step, reason);
	else
		snprintf(buf, len, "%s", reason);
	return buf;
}

/* cells: FINISHED PORT RESULT BOARD TIME BYTES DETAIL SLOT */
static void record_cells(const json_t *rec, char cells[][160])
{
	int64_t start = num(rec, PROTOCOL_KEY_START_MS), end = num(rec, PROTOCOL_KEY_END_MS);
	const char *uid = str(rec, PROTOCOL_KEY_UID), *serial = str(rec, PROTOCOL_KEY_SERIAL);

	render_clock(cells[0], 160, end ? end : start, true);
	render_clean(cells[1], 160, str(rec, PROTOCOL_KEY_PORT));
	render_clean(cells[2], 160, str(rec, PROTOCOL_KEY_RESULT));
	render_clean(cells[3], 160, uid ? uid : serial && *serial ? serial : NULL);
	if (start && end >= start)
		render_duration(cells[4], 160, end - start);
	else
		snprintf(cells[4], 160, "-");
	render_bytes(cells[5], 160, unum(rec, PROTOCOL_KEY_BYTES));
	record_detail(rec, cells[6], 160);
	render_clean(cells[7], 160, str(rec, PROTOCOL_KEY_SLOT));
}

void render_history(FILE *fp, const json_t *records)
{
	const char *head8[] = { "FINISHED", "SLOT", "PORT", "RESULT", "BOARD", "TIME", "BYTES",
				"DETAIL" };
	const char *head7[] = { "FINISHED", "PORT", "RESULT", "BOARD", "TIME", "BYTES", "DETAIL" };
	bool slots = render_any_slot(records);
	struct render_table *t;
	const json_t *rec;
	char cells[8][160];
	size_t i;

	if (!json_array_size(records)) {
		fprintf(fp, "no results\n");
		return;
	}
	t = render_table_new(slots ? 8 : 7);
	if (!t)
		return;
	render_table_add(t, slots ? head8 : head7);
	json_array_foreach(records, i, rec) {
		record_cells(rec, cells);
		const char *row[] = { cells[0], cells[7], cells[1], cells[2], cells[3],
				      cells[4], cells[5], cells[6] };
		const char *row7[] = { cells[0], cells[1], cells[2], cells[3],
				       cells[4], cells[5], cells[6] };
		render_table_add(t, slots ? row : row7);
	}
	render_table_print(fp, t);
	render_table_free(t);
}

void render_history_more(FILE *fp, const json_t *reply)
{
	const json_t *older = json_object_get(reply, PROTOCOL_KEY_OLDER);

	if (json_is_integer(older))
		fprintf(fp, "older records: the same command with --before %" JSON_INTEGER_FORMAT
			"\n", json_integer_value(older));
}

void render_result_line(char *out, size_t len, const json_t *rec)
{
	char cells[8][160];
	int64_t end = num(rec, PROTOCOL_KEY_END_MS);
	bool slot = str(rec, PROTOCOL_KEY_SLOT) != NULL;

	record_cells(rec, cells);
	render_clock(cells[0], sizeof(cells[0]), end ? end : num(rec, PROTOCOL_KEY_START_MS), false);
	render_fmt(out, len, "%s  %s%s%s  %s  board %s  %s  %s  %s%s", cells[0],
		   slot ? cells[7] : "", slot ? " " : "", cells[1], cells[2],
		   cells[3], cells[4], cells[5], cells[6],
		   json_is_false(json_object_get(rec, PROTOCOL_KEY_DURABLE))
			   ? "  (NOT YET IN THE JOURNAL)" : "");
}

static int render_key_cmp(const void *a, const void *b)
{
	return natcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "port P: PLAN" lines in natural port order (1-9 before 1-10) */
static void render_plan_ports(FILE *fp, const json_t *ports)
{
	size_t n = json_object_size(ports), k = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *key;
	char a[256], b[256];
	json_t *v;

	if (!keys)
		return;
	json_object_foreach((json_t *)ports, key, v)
		keys[k++] = key;
	qsort(keys, k, sizeof(*keys), render_key_cmp);
	for (size_t i = 0; i < k; i++) {
		render_clean(a, sizeof(a), keys[i]);
		render_clean(b, sizeof(b), json_string_value(json_object_get(ports, keys[i])));
		fprintf(fp, "port %s: %s\n", a, b);
	}
	free(keys);
}

void render_plans(FILE *fp, const json_t *plans)
{
	const json_t *loaded, *v;
	const json_t *ports = json_object_get(plans, PROTOCOL_KEY_PORTS);
	char a[256], b[256];
	size_t i;

	render_clean(a, sizeof(a), str(plans, PROTOCOL_KEY_DEFAULT));
	fprintf(fp, "default plan: %s\n", a);
	render_plan_ports(fp, ports);
	loaded = json_object_get(plans, PROTOCOL_KEY_LOADED);
	if (json_array_size(loaded))
		fprintf(fp, "loaded:\n");
	json_array_foreach(loaded, i, v) {
		render_clean(a, sizeof(a), str(v, PROTOCOL_KEY_PATH));
		render_clean(b, sizeof(b), str(v, "sha256"));
		fprintf(fp, "  %s  %" PRId64 " steps  sha256 %.16s\n", a, num(v, PROTOCOL_KEY_STEPS), b);
	}
}

static void render_scalar(FILE *fp, const char *key, const json_t *v)
{
	char buf[256];
	size_t klen = strlen(key);

	if (json_is_string(v)) {
		render_clean(buf, sizeof(buf), json_string_value(v));
		fputs(buf, fp);
	} else if (json_is_integer(v) && klen > 3 && strcmp(key + klen - 3, "_ms") == 0) {
		render_duration(buf, sizeof(buf), json_integer_value(v));
		fprintf(fp, "%s", buf);
	} else if (json_is_integer(v) && strstr(key, "bytes") && json_integer_value(v) >= 0) {
		render_bytes(buf, sizeof(buf), (uint64_t)json_integer_value(v));
		fprintf(fp, "%" JSON_INTEGER_FORMAT " (%s)", json_integer_value(v), buf);
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		render_clean(buf, sizeof(buf), s);
		fputs(buf, fp);
		free(s);
	}
}

void render_object(FILE *fp, const json_t *obj, int indent)
{
	const char *key;
	const json_t *v;
	char k[128];

	json_object_foreach((json_t *)obj, key, v) {
		render_clean(k, sizeof(k), key);
		fprintf(fp, "%*s%s:", indent, "", k);
		if (json_is_object(v)) {
			fputc('\n', fp);
			render_object(fp, v, indent + 2);
			continue;
		}
		if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
			size_t i;
			const json_t *e;
			fputc('\n', fp);
			json_array_foreach(v, i, e) {
				fprintf(fp, "%*s-\n", indent + 2, "");
				render_object(fp, e, indent + 4);
			}
			continue;
		}
		fputc(' ', fp);
		render_scalar(fp, key, v);
		fputc('\n', fp);
	}
}

static void render_steps(FILE *fp, const json_t *steps)
{
	const char *head[] = { "STEP", "COUNT", "AVERAGE", "MIN", "MAX", "TOTAL" };
	struct render_table *t = render_table_new(6);
	char cells[6][96];
	const json_t *s;
	size_t i;

	if (!t)
		return;
	render_table_add(t, head);
	json_array_foreach(steps, i, s) {
		render_clean(cells[0], sizeof(cells[0]), str(s, PROTOCOL_KEY_STEP));
		snprintf(cells[1], sizeof(cells[1]), "%" PRId64, num(s, PROTOCOL_KEY_COUNT));
		render_duration(cells[2], sizeof(cells[2]), num(s, PROTOCOL_KEY_AVG_MS));
		render_duration(cells[3], sizeof(cells[3]), num(s, PROTOCOL_KEY_MIN_MS));
		render_duration(cells[4], sizeof(cells[4]), num(s, PROTOCOL_KEY_MAX_MS));
		render_duration(cells[5], sizeof(cells[5]), num(s, PROTOCOL_KEY_TOTAL_MS));
		const char *row[] = { cells[0], cells[1], cells[2], cells[3], cells[4], cells[5] };
		render_table_add(t, row);
	}
	render_table_print(fp, t);
	render_table_free(t);
}

/* stats "slots": the yield of every slot */
static void render_slots(FILE *fp, const json_t *slots)
{
	const char *head[] = { "SLOT", "PORT", "OK", "FAILED", "IN A ROW", "LAST FAILURE" };
	struct render_table *t = render_table_new(6);
	char cells[6][160];
	const json_t *s;
	size_t i;

	if (!t)
		return;
	render_table_add(t, head);
	json_array_foreach(slots, i, s) {
		const char *alert = str(s, PROTOCOL_KEY_ALERT);

		render_clean(cells[0], sizeof(cells[0]), str(s, PROTOCOL_KEY_SLOT));
		render_clean(cells[1], sizeof(cells[1]), str(s, PROTOCOL_KEY_PORT));
		snprintf(cells[2], sizeof(cells[2]), "%" PRId64, num(s, PROTOCOL_RESULT_OK));
		snprintf(cells[3], sizeof(cells[3]), "%" PRId64, num(s, PROTOCOL_RESULT_FAILED));
		snprintf(cells[4], sizeof(cells[4]), "%" PRId64, num(s, PROTOCOL_KEY_FAILURES_IN_ROW));
		render_clean(cells[5], sizeof(cells[5]), str(s, PROTOCOL_KEY_LAST_REASON));
		if (alert) {
			char a[100], last[160];
			render_clean(a, sizeof(a), alert);
			snprintf(last, sizeof(last), "%s", cells[5]);
			render_fmt(cells[5], sizeof(cells[5]), "ALERT: %s; last: %s", a, last);
		}
		const char *row[] = { cells[0], cells[1], cells[2], cells[3], cells[4], cells[5] };
		render_table_add(t, row);
	}
	render_table_print(fp, t);
	render_table_free(t);
}

void render_stats(FILE *fp, const json_t *stats)
{
	static const char *const known[] = { PROTOCOL_KEY_UPTIME_MS, PROTOCOL_KEY_PORTS,
					     PROTOCOL_KEY_BUSY, PROTOCOL_KEY_BOARDS,
					     PROTOCOL_KEY_BYTES, PROTOCOL_KEY_STEPS, PROTOCOL_KEY_PROCESS,
					     PROTOCOL_KEY_SLOTS };
	const json_t *boards = json_object_get(stats, PROTOCOL_KEY_BOARDS);
	const json_t *proc = json_object_get(stats, PROTOCOL_KEY_PROCESS);
	json_t *rest = json_deep_copy(stats);
	char up[32], bytes[32];

	render_duration(up, sizeof(up), num(stats, PROTOCOL_KEY_UPTIME_MS));
	fprintf(fp, "up %s, %" PRId64 " ports, %" PRId64 " busy\n", up, num(stats, PROTOCOL_KEY_PORTS),
		num(stats, PROTOCOL_KEY_BUSY));
	if (json_is_object(boards))
		fprintf(fp,
			"boards: %" PRId64 " (%" PRId64 " ok, %" PRId64 " failed, %" PRId64
			" boot-loop, %" PRId64 " aborted)\n",
			num(boards, PROTOCOL_KEY_TOTAL), num(boards, PROTOCOL_RESULT_OK), num(boards, PROTOCOL_RESULT_FAILED),
			num(boards, PROTOCOL_RESULT_BOOT_LOOP), num(boards, PROTOCOL_RESULT_ABORTED));
	render_bytes(bytes, sizeof(bytes), unum(stats, PROTOCOL_KEY_BYTES));
	fprintf(fp, "bytes written: %s\n", bytes);
	if (json_is_object(proc))
		fprintf(fp, "flashd: %" PRId64 " KiB resident, %" PRId64 " descriptors, %" PRId64 " loop events\n",
			num(proc, PROTOCOL_KEY_RSS_KIB), num(proc, PROTOCOL_KEY_FDS),
			num(proc, PROTOCOL_KEY_LOOP_EVENTS));
	if (json_array_size(json_object_get(stats, PROTOCOL_KEY_STEPS))) {
		fputc('\n', fp);
		render_steps(fp, json_object_get(stats, PROTOCOL_KEY_STEPS));
	}
	if (json_array_size(json_object_get(stats, PROTOCOL_KEY_SLOTS))) {
		fprintf(fp, "\nslots (since the daemon started):\n");
		render_slots(fp, json_object_get(stats, PROTOCOL_KEY_SLOTS));
	}
	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		json_object_del(rest, known[i]);
	json_object_del(rest, "id");
	json_object_del(rest, "ok");
	if (json_object_size(rest)) {
		fputc('\n', fp);
		render_object(fp, rest, 0);
	}
	json_decref(rest);
}
