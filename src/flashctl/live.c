/* live: the in-place watch view (see live.h). */
#include "live.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "flashd/protocol.h"
#include "render.h"

struct live_port {
	json_t *obj;   /* the latest PORT object, progress merged in */
	int64_t at_ms; /* when it arrived: elapsed time runs on from there */
};

struct live {
	FILE *out;
	bool color;
	struct live_port ports[LIVE_PORTS_MAX];
	size_t nports;
	bool dirty, erased;
	char state[8];       /* render_station_state */
	char plan[128];
	char loading[400];   /* a `use`/reload under way (render_loading), or "" */
	char journal[400];   /* the journal's alarm (render_journal), or "" */
	int lines;       /* lines of the view on screen */
	int64_t drawn_ms;
	int64_t last_seq;
};

struct live *live_new(FILE *out, bool color)
{
	struct live *lv = calloc(1, sizeof(*lv));
	if (!lv)
		return NULL;
	lv->out = out;
	lv->color = color;
	lv->dirty = true;
	lv->last_seq = -1;
	snprintf(lv->plan, sizeof(lv->plan), "-");
	snprintf(lv->state, sizeof(lv->state), "running");
	return lv;
}

static void live_clear_ports(struct live *lv)
{
	for (size_t i = 0; i < lv->nports; i++)
		json_decref(lv->ports[i].obj);
	lv->nports = 0;
}

struct live *live_free(struct live *lv)
{
	if (!lv)
		return NULL;
	live_clear_ports(lv);
	free(lv);
	return NULL;
}

/* The port's entry, created in render_port_cmp's order (fixture slots by
 * name first, then ports, 1-9 before 1-10); NULL when full or nameless. */
static struct live_port *live_port_get(struct live *lv, const char *name, const char *slot)
{
	size_t i = 0;
	if (!name)
		return NULL;
	for (; i < lv->nports; i++) {
		const json_t *o = lv->ports[i].obj;
		const char *have = json_string_value(json_object_get(o, PROTOCOL_KEY_PORT));
		int c = have && strcmp(have, name) == 0 ? 0 :
			render_port_cmp(json_string_value(json_object_get(o, PROTOCOL_KEY_SLOT)),
					have ? have : "", slot, name);
		if (c == 0)
			return &lv->ports[i];
		if (c > 0)
			break;
	}
	if (lv->nports == LIVE_PORTS_MAX)
		return NULL;
	memmove(&lv->ports[i + 1], &lv->ports[i], (lv->nports - i) * sizeof(lv->ports[0]));
	lv->nports++;
	lv->ports[i].obj = slot ? json_pack("{s:s, s:s}", "port", name, "slot", slot)
			        : json_pack("{s:s}", "port", name);
	lv->ports[i].at_ms = 0;
	return lv->ports[i].obj ? &lv->ports[i] : NULL;
}

static void live_port_set(struct live *lv, const json_t *p, int64_t now_ms)
{
	struct live_port *lp = live_port_get(lv, json_string_value(json_object_get(p, PROTOCOL_KEY_PORT)),
					     json_string_value(json_object_get(p, PROTOCOL_KEY_SLOT)));
	if (!lp)
		return;
	if (!lp->at_ms)
		lp->at_ms = now_ms;
	json_object_update(lp->obj, (json_t *)p);
	if (json_object_get(p, PROTOCOL_KEY_ELAPSED_MS)) /* the clock runs on from the last reading */
		lp->at_ms = now_ms;
}

/* Print a line above the view. */
static void live_say(struct live *lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void live_say(struct live *lv, const char *fmt, ...)
{
	va_list ap;
	if (lv->lines)
		fprintf(lv->out, "\033[%dA\r\033[J", lv->lines);
	lv->lines = 0;
	va_start(ap, fmt);
	vfprintf(lv->out, fmt, ap);
	va_end(ap);
	fputc('\n', lv->out);
	lv->dirty = lv->erased = true;
}

static void live_snapshot(struct live *lv, const json_t *ev, int64_t now_ms)
{
	const json_t *p;
	size_t i;

	live_clear_ports(lv);
	snprintf(lv->state, sizeof(lv->state), "%s", render_station_state(ev));
	render_journal(lv->journal, sizeof(lv->journal), json_object_get(ev, PROTOCOL_KEY_JOURNAL));
	render_clean(lv->plan, sizeof(lv->plan), json_string_value(json_object_get(ev, PROTOCOL_KEY_PLAN)));
	render_loading(lv->loading, sizeof(lv->loading), json_object_get(ev, PROTOCOL_KEY_LOADING));
	json_array_foreach(json_object_get(ev, PROTOCOL_KEY_PORTS), i, p)
		live_port_set(lv, p, now_ms);
}

static void live_log(struct live *lv, const json_t *ev)
{
	char clock[16], port[100], level[16], msg[512];
	render_clock(clock, sizeof(clock), json_integer_value(json_object_get(ev, "ts")), false);
	render_port_label(ev, port, sizeof(port));
	render_clean(level, sizeof(level), json_string_value(json_object_get(ev, "level")));
	render_clean(msg, sizeof(msg), json_string_value(json_object_get(ev, "message")));
	live_say(lv, "%s  %s  %s: %s", clock, port, level, msg);
}

static void live_gap(struct live *lv, const json_t *ev, const char *type)
{
	const json_t *s = json_object_get(ev, "seq");
	if (!json_is_integer(s))
		return;
	int64_t seq = json_integer_value(s);
	bool resync = strcmp(type, PROTOCOL_EVENT_SNAPSHOT) == 0 ||
		      strcmp(type, PROTOCOL_EVENT_OVERFLOW) == 0;
	if (!resync && lv->last_seq >= 0 && seq > lv->last_seq + 1)
		live_say(lv, "(missed %" PRId64 " events)", seq - lv->last_seq - 1);
	lv->last_seq = seq;
}

/* The journal's alarm line, and HELD in the heading while records wait
 * (the operator's PAUSED stays). */
static void live_journal(struct live *lv, const json_t *j)
{
	bool held = json_integer_value(json_object_get(j, PROTOCOL_KEY_BACKLOG)) > 0;

	render_journal(lv->journal, sizeof(lv->journal), j);
	if (strcmp(lv->state, "PAUSED") != 0)
		snprintf(lv->state, sizeof(lv->state), "%s", held ? "HELD" : "running");
}

void live_event(struct live *lv, const json_t *ev, int64_t now_ms)
{
	const char *type = json_string_value(json_object_get(ev, "event"));
	char line[640];

	if (!type)
		return;
	live_gap(lv, ev, type);
	lv->dirty = true;
	if (strcmp(type, PROTOCOL_EVENT_SNAPSHOT) == 0) {
		live_snapshot(lv, ev, now_ms);
	} else if (strcmp(type, PROTOCOL_EVENT_PORT) == 0 ||
		   strcmp(type, PROTOCOL_EVENT_PROGRESS) == 0) {
		live_port_set(lv, ev, now_ms);
	} else if (strcmp(type, PROTOCOL_EVENT_LOG) == 0) {
		live_log(lv, ev);
	} else if (strcmp(type, PROTOCOL_EVENT_RESULT) == 0) {
		render_result_line(line, sizeof(line), ev);
		live_say(lv, "%s", line);
	} else if (strcmp(type, PROTOCOL_EVENT_DURABLE) == 0) {
		render_result_line(line, sizeof(line), ev);
		live_say(lv, "%s  (now in the journal)", line);
	} else if (strcmp(type, PROTOCOL_EVENT_JOURNAL) == 0) {
		live_journal(lv, json_object_get(ev, PROTOCOL_KEY_JOURNAL));
	} else if (strcmp(type, PROTOCOL_EVENT_POOL) == 0) {
		render_pool_line(line, sizeof(line), json_object_get(ev, PROTOCOL_KEY_POOL));
		live_say(lv, "%s", line);
	} else if (strcmp(type, PROTOCOL_EVENT_PLAN) == 0) {
		render_loading(lv->loading, sizeof(lv->loading), json_object_get(ev, PROTOCOL_KEY_LOADING));
	} else if (strcmp(type, PROTOCOL_EVENT_OVERFLOW) == 0) {
		live_say(lv, "(flashctl fell behind: %" JSON_INTEGER_FORMAT " events dropped)",
			 json_integer_value(json_object_get(ev, "dropped")));
	}
}

bool live_due(const struct live *lv, int64_t now_ms)
{
	if (lv->erased)
		return true;
	if (now_ms - lv->drawn_ms < LIVE_REDRAW_MS)
		return false;
	if (lv->dirty)
		return true;
	for (size_t i = 0; i < lv->nports; i++)
		if (render_state_active(json_string_value(json_object_get(lv->ports[i].obj,
									  "state"))))
			return now_ms - lv->drawn_ms >= 1000;
	return false;
}

/* Copy at most cols display columns of s. */
static void fit(char *out, size_t len, const char *s, int cols)
{
	size_t n = 0;
	int w = 0;
	for (; *s && n + 1 < len; s++) {
		bool starts = ((unsigned char)*s & 0xc0) != 0x80;
		if (starts && w == cols)
			break;
		w += starts;
		out[n++] = *s;
	}
	out[n] = 0;
}

void live_port_line(const json_t *port, int64_t elapsed_extra_ms, int cols, int name_width,
		    char *out, size_t len)
{
	struct render_port rp;
	char pct[8] = "", rate[24], elapsed[24] = "", bar[64] = "", right[128], step[96], line[512];
	char shortstep[sizeof(rp.step)], label[100];

	render_port_from_json(port, &rp);
	render_port_label(port, label, sizeof(label));
	int per = render_percent(rp.bytes, rp.total);
	bool active = render_state_active(rp.state);
	if (per >= 0 && active)
		render_fmt(pct, sizeof(pct), "%3d%%", per);
	render_rate(rate, sizeof(rate), active ? rp.rate : 0);
	if (rp.elapsed_ms > 0 || active)
		render_duration(elapsed, sizeof(elapsed), rp.elapsed_ms + elapsed_extra_ms);
	/* PORT STATE STEP [BAR] PCT RATE BOARD ELAPSED; the step text gets what is left */
	int bar_w = cols >= 110 ? 24 : cols >= 90 ? 16 : cols >= 72 ? 10 : 0;
	if (bar_w && active && rp.total)
		render_bar(bar, sizeof(bar), rp.bytes, rp.total, bar_w);
	else if (bar_w)
		snprintf(bar, sizeof(bar), "%*s", bar_w + 2, "");
	render_fmt(right, sizeof(right), "%s %4s %10s  %-16.16s %8s", bar, pct, rate, rp.board,
		   elapsed);
	int step_w = cols - 1 - name_width - 2 - 11 - 2 - (int)strlen(right) - 2;
	if (step_w < 8)
		step_w = 8;
	/* a step that does not fit shows file base names, not a folder cut mid-name */
	if ((int)strlen(rp.step) > step_w) {
		render_step_short(shortstep, sizeof(shortstep), rp.step);
		fit(step, sizeof(step), shortstep, step_w);
	} else {
		fit(step, sizeof(step), rp.step, step_w);
	}
	int pad = step_w - (int)strlen(step);
	render_fmt(line, sizeof(line), "%-*s  %-11s  %s%*s  %s", name_width, label,
		   rp.ignored ? "ignored" : rp.state,
		   step, pad > 0 ? pad : 0, "", right);
	fit(out, len, line, cols - 1);
}

static const char *live_color(const char *state)
{
	if (!state)
		return NULL;
	if (strcmp(state, "done") == 0)
		return "\033[32m";
	if (strcmp(state, "failed") == 0 || strcmp(state, "boot-loop") == 0)
		return "\033[31m";
	if (render_state_active(state))
		return "\033[36m";
	if (strcmp(state, "paused") == 0 || strcmp(state, "waiting") == 0)
		return "\033[33m";
	return NULL;
}

static void live_put_port(struct live *lv, const struct live_port *lp, int cols, int name_w,
			  int64_t now_ms)
{
	const char *state = json_string_value(json_object_get(lp->obj, PROTOCOL_KEY_STATE));
	int64_t extra = render_state_active(state) ? now_ms - lp->at_ms : 0;
	const char *color = lv->color ? live_color(state) : NULL;
	char line[512];

	live_port_line(lp->obj, extra, cols, name_w, line, sizeof(line));
	size_t at = (size_t)name_w + 2; /* where the state starts */
	if (!color || strlen(line) < at + 11) {
		fprintf(lv->out, "\033[2K%s\n", line);
		return;
	}
	fprintf(lv->out, "\033[2K%.*s%s%.11s\033[0m%s\n", (int)at, line, color, line + at,
		line + at + 11);
}

void live_draw(struct live *lv, int cols, int rows, int64_t now_ms)
{
	int name_w = 4, active = 0, shown;
	char head[256], line[256];

	if (cols < 40)
		cols = 40;
	for (size_t i = 0; i < lv->nports; i++) {
		char n[100];
		const char *st = json_string_value(json_object_get(lv->ports[i].obj, PROTOCOL_KEY_STATE));
		render_port_label(lv->ports[i].obj, n, sizeof(n));
		if ((int)strlen(n) > name_w)
			name_w = strlen(n) > 24 ? 24 : (int)strlen(n);
		active += render_state_active(st);
	}
	if (lv->lines)
		fprintf(lv->out, "\033[%dA\r", lv->lines);
	snprintf(head, sizeof(head), "flashd %s  plan %s  %zu ports, %d flashing", lv->state,
		 lv->plan, lv->nports, active);
	fit(line, sizeof(line), head, cols - 1);
	fprintf(lv->out, "\033[2K%s\n", line);
	lv->lines = 1;
	if (lv->journal[0]) {   /* the journal's alarm: its own line, in red */
		fit(line, sizeof(line), lv->journal, cols - 1);
		fprintf(lv->out, "\033[2K%s%s%s\n", lv->color ? "\033[31m" : "", line,
			lv->color ? "\033[0m" : "");
		lv->lines++;
	}
	if (lv->loading[0]) {   /* a `use`/reload under way: its own line */
		fit(line, sizeof(line), lv->loading, cols - 1);
		fprintf(lv->out, "\033[2K%s\n", line);
		lv->lines++;
	}
	shown = (int)lv->nports;
	if (rows > 1 + lv->lines && shown > rows - 1 - lv->lines)
		shown = rows - 2 - lv->lines; /* room for the "more" line */
	for (int i = 0; i < shown; i++)
		live_put_port(lv, &lv->ports[i], cols, name_w, now_ms);
	lv->lines += shown;
	if ((size_t)shown < lv->nports) {
		fprintf(lv->out, "\033[2K(%zu more ports: enlarge the window)\n",
			lv->nports - (size_t)shown);
		lv->lines++;
	}
	fprintf(lv->out, "\033[J");
	fflush(lv->out);
	lv->dirty = lv->erased = false;
	lv->drawn_ms = now_ms;
}
