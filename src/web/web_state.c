/* web_state: the station as flashd-web sees it (see web_state.h). */
#include "web_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/natcmp.h"
#include "flashd/protocol.h"

/* Step durations: an SDP upload takes a second or two, a flash step of a
 * rootfs minutes (flashd-control(7) examples: 2.1 s, 83 s). */
static const double bounds_steps[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600 };
/* Plug to first SDP command: udev, the settle time, opening the device. */
static const double bounds_plug[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
/* Journal append + fdatasync. */
static const double bounds_journal[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25, 0.5, 1, 2.5 };

static const char *const result_names[WEB_RESULT_COUNT] = {
	[WEB_RESULT_OK] = PROTOCOL_RESULT_OK,
	[WEB_RESULT_FAILED] = PROTOCOL_RESULT_FAILED,
	[WEB_RESULT_BOOT_LOOP] = PROTOCOL_RESULT_BOOT_LOOP,
	[WEB_RESULT_ABORTED] = PROTOCOL_RESULT_ABORTED,
};

static const char *const kind_labels[WEB_KIND_COUNT] = {
	[WEB_KIND_SDP] = "sdp",         [WEB_KIND_SPL_SDP] = "spl_sdp",
	[WEB_KIND_REENUM] = "reenum",   [WEB_KIND_DOWNLOAD] = "download",
	[WEB_KIND_FLASH] = "flash",     [WEB_KIND_VERIFY] = "verify",
	[WEB_KIND_UCMD] = "ucmd",       [WEB_KIND_OTHER] = "other",
};

struct web_state {
	struct web_counters c;
	bool synced;          /* a snapshot was taken since the connection was made */
	bool ever_synced;     /* … since the process started */
	int64_t resynced_ms;  /* unix ms of the last snapshot, 0: none */
	int64_t lost_ms;      /* unix ms the connection was lost, 0: connected or never */
	uint64_t seq;
	json_t *ports;        /* array of port objects */
	json_t *paused, *plan, *loading, *journal;
	json_t *loaded;       /* plans reply "loaded" */
	json_t *results;      /* last results, oldest first */
	int64_t midnight_ms;
	uint64_t today[WEB_RESULT_COUNT];
	json_t *today_seen;   /* object used as a set of board keys */
};

const char *web_result_to_string(enum web_result r)
{
	return r < WEB_RESULT_COUNT ? result_names[r] : NULL;
}

const char *web_kind_to_label(enum web_kind k)
{
	return k < WEB_KIND_COUNT ? kind_labels[k] : NULL;
}

static int result_from_string(const char *s)
{
	for (size_t i = 0; s && i < WEB_RESULT_COUNT; i++)
		if (strcmp(s, result_names[i]) == 0)
			return (int)i;
	return -1;
}

void web_hist_observe(struct web_hist *h, double v)
{
	size_t i = 0;

	if (!(v >= 0)) /* also NaN */
		return;
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

static void hist_init(struct web_hist *h, const double *bounds, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = n;
}

struct web_state *web_state_new(void)
{
	struct web_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	for (size_t k = 0; k < WEB_KIND_COUNT; k++)
		hist_init(&st->c.steps[k], bounds_steps, ELEMENTSOF(bounds_steps));
	hist_init(&st->c.plug_to_sdp, bounds_plug, ELEMENTSOF(bounds_plug));
	hist_init(&st->c.journal_write, bounds_journal, ELEMENTSOF(bounds_journal));
	st->ports = json_array();
	st->results = json_array();
	st->today_seen = json_object();
	st->loaded = json_array();
	st->paused = json_false();
	st->plan = json_null();
	st->loading = json_null();
	st->journal = json_null();
	if (!st->ports || !st->results || !st->today_seen || !st->loaded)
		return web_state_free(st);
	return st;
}

struct web_state *web_state_free(struct web_state *st)
{
	if (!st)
		return NULL;
	json_decref(st->ports);
	json_decref(st->results);
	json_decref(st->today_seen);
	json_decref(st->loaded);
	json_decref(st->paused);
	json_decref(st->plan);
	json_decref(st->loading);
	json_decref(st->journal);
	free(st);
	return NULL;
}

/* Replace *slot with a new ref to v (JSON null when v is NULL). */
static void set_ref(json_t **slot, json_t *v)
{
	json_t *old = *slot;
	*slot = v ? json_incref(v) : json_null();
	json_decref(old);
}

static void journal_apply(struct web_state *st, json_t *j)
{
	set_ref(&st->journal, j);
	st->c.journal_known = json_is_object(j);
	st->c.journal_writable = json_is_true(json_object_get(j, PROTOCOL_KEY_WRITABLE));
}

/* A port object from an event or snapshot entry: without the event keys. */
static json_t *port_copy(const json_t *p)
{
	json_t *o = json_deep_copy(p);

	if (o) {
		json_object_del(o, PROTOCOL_KEY_EVENT);
		json_object_del(o, PROTOCOL_KEY_SEQ);
		json_object_del(o, PROTOCOL_KEY_TS);
	}
	return o;
}

/* The dashboard's order: slotted ports by slot, then the others by port. */
static int port_order(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *sx = json_string_value(json_object_get(x, PROTOCOL_KEY_SLOT));
	const char *sy = json_string_value(json_object_get(y, PROTOCOL_KEY_SLOT));

	if (sx && !sy)
		return -1;
	if (!sx && sy)
		return 1;
	int r = sx ? natcmp(sx, sy) : 0;
	return r ? r
		 : natcmp(json_string_value(json_object_get(x, PROTOCOL_KEY_PORT)),
			  json_string_value(json_object_get(y, PROTOCOL_KEY_PORT)));
}

static void ports_sort(struct web_state *st)
{
	size_t n = json_array_size(st->ports);
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(st->ports, i));
	qsort(v, n, sizeof(*v), port_order);
	json_array_clear(st->ports);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(st->ports, v[i]);
	free(v);
}

static json_t *port_find(const struct web_state *st, const char *name, size_t *index)
{
	size_t i;
	json_t *p;

	json_array_foreach (st->ports, i, p) {
		const char *pn = json_string_value(json_object_get(p, PROTOCOL_KEY_PORT));
		if (name && pn && strcmp(pn, name) == 0) {
			if (index)
				*index = i;
			return p;
		}
	}
	return NULL;
}

static unsigned apply_snapshot(struct web_state *st, const json_t *ev, int64_t now_ms)
{
	const json_t *ports = json_object_get(ev, PROTOCOL_KEY_PORTS);
	size_t i;
	json_t *p;

	json_array_clear(st->ports);
	json_array_foreach (ports, i, p)
		if (json_is_string(json_object_get(p, PROTOCOL_KEY_PORT)))
			json_array_append_new(st->ports, port_copy(p));
	ports_sort(st);
	set_ref(&st->paused, json_object_get(ev, PROTOCOL_KEY_PAUSED));
	set_ref(&st->plan, json_object_get(ev, PROTOCOL_KEY_PLAN));
	set_ref(&st->loading, json_object_get(ev, PROTOCOL_KEY_LOADING));
	journal_apply(st, json_object_get(ev, PROTOCOL_KEY_JOURNAL));
	if (st->ever_synced)
		st->c.resyncs++;
	st->synced = st->ever_synced = true;
	st->resynced_ms = now_ms;
	return WEB_STATE_SNAPSHOT;
}

static unsigned apply_port(struct web_state *st, const json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, PROTOCOL_KEY_PORT));
	size_t i;
	json_t *o;

	if (!name || !(o = port_copy(ev)))
		return 0;
	if (port_find(st, name, &i))
		json_array_set_new(st->ports, i, o);
	else
		json_array_append_new(st->ports, o);
	ports_sort(st);
	return WEB_STATE_FORWARD;
}

static unsigned apply_progress(struct web_state *st, const json_t *ev)
{
	static const char *const keys[] = { PROTOCOL_KEY_STEP,  PROTOCOL_KEY_STEP_INDEX,
					    PROTOCOL_KEY_BYTES, PROTOCOL_KEY_TOTAL,
					    PROTOCOL_KEY_BOARD_BYTES, PROTOCOL_KEY_RATE };
	json_t *p = port_find(st, json_string_value(json_object_get(ev, PROTOCOL_KEY_PORT)), NULL);

	if (!p)
		return 0;
	for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
		json_t *v = json_object_get(ev, keys[k]);
		if (v)
			json_object_set(p, keys[k], v);
	}
	return WEB_STATE_FORWARD;
}

/* ms (a JSON number) as seconds; false when not a number. */
static bool ms_value(const json_t *v, double *s)
{
	if (!json_is_number(v))
		return false;
	*s = json_number_value(v) / 1000.0;
	return true;
}

/* Older records have no "kind": the step's text says it (uuu's prefixes). */
static enum web_kind kind_of(const json_t *step)
{
	const char *k = json_string_value(json_object_get(step, PROTOCOL_KEY_KIND));
	const char *t = json_string_value(json_object_get(step, "text"));

	if (k) {
		if (strcmp(k, "sdp") == 0)
			return WEB_KIND_SDP;
		if (strcmp(k, "spl-sdp") == 0)
			return WEB_KIND_SPL_SDP;
		if (strcmp(k, "flash") == 0)
			return WEB_KIND_FLASH;
		if (strcmp(k, "ucmd") == 0)
			return WEB_KIND_UCMD;
		return WEB_KIND_OTHER;
	}
	if (!t)
		return WEB_KIND_OTHER;
	if (strncmp(t, "SDPU:", 5) == 0 || strncmp(t, "SDPV:", 5) == 0)
		return WEB_KIND_SPL_SDP;
	if (strncmp(t, "SDP:", 4) == 0)
		return WEB_KIND_SDP;
	if (strncmp(t, "FB: flash ", 10) == 0)
		return WEB_KIND_FLASH;
	if (strncmp(t, "FB: ucmd ", 9) == 0 || strncmp(t, "FB: acmd ", 9) == 0)
		return WEB_KIND_UCMD;
	return WEB_KIND_OTHER;
}

static void observe_steps(struct web_state *st, const json_t *record)
{
	struct web_hist *h = st->c.steps;
	const json_t *s;
	size_t i;
	double v;

	json_array_foreach (json_object_get(record, PROTOCOL_KEY_STEPS), i, s) {
		enum web_kind k = kind_of(s);
		if (k == WEB_KIND_FLASH && ms_value(json_object_get(s, "download_ms"), &v)) {
			web_hist_observe(&h[WEB_KIND_DOWNLOAD], v);
			if (ms_value(json_object_get(s, "flash_ms"), &v))
				web_hist_observe(&h[WEB_KIND_FLASH], v);
			if (ms_value(json_object_get(s, "verify_ms"), &v))
				web_hist_observe(&h[WEB_KIND_VERIFY], v);
		} else if (ms_value(json_object_get(s, "ms"), &v)) {
			web_hist_observe(&h[k], v);
		}
	}
	json_array_foreach (json_object_get(record, "reenum_ms"), i, s)
		if (ms_value(s, &v))
			web_hist_observe(&h[WEB_KIND_REENUM], v);
	if (ms_value(json_object_get(record, "plug_to_sdp_ms"), &v))
		web_hist_observe(&st->c.plug_to_sdp, v);
}

/* A short form of a record for the dashboard's results list. */
static json_t *result_brief(const json_t *r)
{
	static const char *const keys[] = { PROTOCOL_KEY_PORT,     PROTOCOL_KEY_SLOT,
					    PROTOCOL_KEY_UID,      PROTOCOL_KEY_SERIAL,
					    PROTOCOL_KEY_RESULT,   PROTOCOL_KEY_START_MS,
					    PROTOCOL_KEY_END_MS,   PROTOCOL_KEY_FAILED_STEP,
					    PROTOCOL_KEY_REASON,   PROTOCOL_KEY_BYTES };
	json_t *o = json_object();

	for (size_t k = 0; o && k < ELEMENTSOF(keys); k++) {
		json_t *v = json_object_get(r, keys[k]);
		json_object_set(o, keys[k], v ? v : json_null());
	}
	return o;
}

static json_int_t int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Add a record to the results list, in end_ms order, the last ones kept;
 * false when it is already there or older than every kept one. */
static bool results_add(struct web_state *st, const json_t *r)
{
	json_int_t end = int_of(r, PROTOCOL_KEY_END_MS);
	size_t n = json_array_size(st->results), at = n;

	while (at > 0) {
		const json_t *x = json_array_get(st->results, at - 1);
		json_int_t xe = int_of(x, PROTOCOL_KEY_END_MS);
		bool same = xe == end &&
			    int_of(x, PROTOCOL_KEY_START_MS) == int_of(r, PROTOCOL_KEY_START_MS) &&
			    json_equal(json_object_get(x, PROTOCOL_KEY_PORT),
				       json_object_get(r, PROTOCOL_KEY_PORT));
		if (same)
			return false;
		if (xe <= end)
			break;
		at--;
	}
	if (n >= WEB_STATE_RESULTS_MAX && at == 0)
		return false;
	json_array_insert_new(st->results, at, result_brief(r));
	while (json_array_size(st->results) > WEB_STATE_RESULTS_MAX)
		json_array_remove(st->results, 0);
	return true;
}

/* Count a record in today's boards once. */
static bool today_add(struct web_state *st, const json_t *r)
{
	char key[256];
	int res = result_from_string(json_string_value(json_object_get(r, PROTOCOL_KEY_RESULT)));
	json_int_t end = int_of(r, PROTOCOL_KEY_END_MS);
	const char *port = json_string_value(json_object_get(r, PROTOCOL_KEY_PORT));

	if (res < 0 || !st->midnight_ms || end < st->midnight_ms)
		return false;
	snprintf(key, sizeof(key), "%s\x1f%lld\x1f%lld", port ? port : "",
		 (long long)int_of(r, PROTOCOL_KEY_START_MS), (long long)end);
	if (json_object_get(st->today_seen, key))
		return false;
	if (json_object_size(st->today_seen) < WEB_STATE_TODAY_MAX)
		json_object_set_new(st->today_seen, key, json_true());
	st->today[res]++;
	return true;
}

static unsigned apply_result(struct web_state *st, const json_t *ev)
{
	int res = result_from_string(json_string_value(json_object_get(ev, PROTOCOL_KEY_RESULT)));
	double v;

	if (res < 0)
		return 0;
	st->c.boards[res]++;
	st->c.written_bytes += (uint64_t)int_of(ev, PROTOCOL_KEY_BYTES);
	observe_steps(st, ev);
	if (ms_value(json_object_get(ev, "journal_ms"), &v))
		web_hist_observe(&st->c.journal_write, v);
	today_add(st, ev);
	results_add(st, ev);
	return WEB_STATE_FORWARD | WEB_STATE_SUMMARY;
}

unsigned web_state_event(struct web_state *st, const json_t *ev, int64_t now_ms)
{
	const char *type = json_string_value(json_object_get(ev, PROTOCOL_KEY_EVENT));
	const json_t *seq = json_object_get(ev, PROTOCOL_KEY_SEQ);

	if (!type)
		return 0;
	if (json_is_integer(seq))
		st->seq = (uint64_t)json_integer_value(seq);
	if (strcmp(type, PROTOCOL_EVENT_SNAPSHOT) == 0)
		return apply_snapshot(st, ev, now_ms);
	if (strcmp(type, PROTOCOL_EVENT_OVERFLOW) == 0) {
		st->synced = false; /* the snapshot that follows puts it right */
		return 0;
	}
	if (!st->synced)
		return 0;
	if (strcmp(type, PROTOCOL_EVENT_PORT) == 0)
		return apply_port(st, ev);
	if (strcmp(type, PROTOCOL_EVENT_PROGRESS) == 0)
		return apply_progress(st, ev);
	if (strcmp(type, PROTOCOL_EVENT_RESULT) == 0)
		return apply_result(st, ev);
	if (strcmp(type, PROTOCOL_EVENT_JOURNAL) == 0) {
		journal_apply(st, json_object_get(ev, PROTOCOL_KEY_JOURNAL));
		return WEB_STATE_FORWARD;
	}
	if (strcmp(type, PROTOCOL_EVENT_PLAN) == 0) {
		set_ref(&st->loading, json_object_get(ev, PROTOCOL_KEY_LOADING));
		return WEB_STATE_FORWARD;
	}
	if (strcmp(type, PROTOCOL_EVENT_PAUSE) == 0) {
		if (!json_is_boolean(json_object_get(ev, PROTOCOL_KEY_PAUSED)))
			return 0;
		set_ref(&st->paused, json_object_get(ev, PROTOCOL_KEY_PAUSED));
		return WEB_STATE_SUMMARY;
	}
	/* durable: the record was counted at its result event; log: not kept */
	return 0;
}

void web_state_stats(struct web_state *st, const json_t *reply)
{
	const json_t *b = json_object_get(reply, PROTOCOL_KEY_BOARDS);

	if (!json_is_object(b))
		return;
	for (size_t i = 0; i < WEB_RESULT_COUNT; i++)
		st->c.boards[i] = (uint64_t)int_of(b, result_names[i]);
	st->c.written_bytes = (uint64_t)int_of(reply, PROTOCOL_KEY_BYTES);
}

void web_state_plans(struct web_state *st, const json_t *reply)
{
	const json_t *l = json_object_get(reply, PROTOCOL_KEY_LOADED);
	json_t *def = json_object_get(reply, PROTOCOL_KEY_DEFAULT);

	if (json_is_array(l))
		set_ref(&st->loaded, (json_t *)l);
	/* the station's plan after a `use` (no event carries it) */
	if (json_is_string(def) || json_is_null(def))
		set_ref(&st->plan, def);
}

void web_state_set_connected(struct web_state *st, bool connected, int64_t now_ms)
{
	if (st->c.connected == connected)
		return;
	st->c.connected = connected;
	if (!connected) {
		st->synced = false;
		st->lost_ms = now_ms;
	} else {
		st->lost_ms = 0;
	}
}

void web_state_today_begin(struct web_state *st, int64_t midnight_ms)
{
	st->midnight_ms = midnight_ms;
	memset(st->today, 0, sizeof(st->today));
	json_object_clear(st->today_seen);
}

int64_t web_state_today_midnight(const struct web_state *st)
{
	return st->midnight_ms;
}

void web_state_history(struct web_state *st, const json_t *records)
{
	const json_t *r;
	size_t i;

	json_array_foreach (records, i, r) {
		today_add(st, r);
		results_add(st, r);
	}
}

const struct web_counters *web_state_counters(const struct web_state *st)
{
	return &st->c;
}

const json_t *web_state_ports(const struct web_state *st)
{
	return st->ports;
}

const json_t *web_state_plans_loaded(const struct web_state *st)
{
	return st->loaded;
}

static json_t *ms_or_null(int64_t ms)
{
	return ms ? json_integer(ms) : json_null();
}

json_t *web_state_status(const struct web_state *st)
{
	return json_pack("{s:b, s:o, s:I, s:o, s:O, s:O, s:O, s:O, s:O}", "connected",
			 st->c.connected, "resynced_ms", ms_or_null(st->resynced_ms), "resyncs",
			 (json_int_t)st->c.resyncs, "lost_ms", ms_or_null(st->lost_ms),
			 PROTOCOL_KEY_PAUSED, st->paused, PROTOCOL_KEY_PLAN, st->plan,
			 PROTOCOL_KEY_LOADING, st->loading, PROTOCOL_KEY_JOURNAL, st->journal,
			 PROTOCOL_KEY_PORTS, st->ports);
}

json_t *web_state_summary(const struct web_state *st)
{
	const uint64_t *t = st->today, *b = st->c.boards;
	uint64_t done = t[WEB_RESULT_OK] + t[WEB_RESULT_FAILED];
	/* percent, one decimal, rounded down: 99.9 until every board is ok */
	json_t *yield = done ? json_real((double)(1000 * t[WEB_RESULT_OK] / done) / 10.0)
			     : json_null();

	return json_pack("{s:{s:I, s:I, s:I, s:I}, s:I, s:{s:o, s:I, s:I, s:I, s:I, s:o}, s:O,"
			 " s:O, s:O, s:O}",
			 PROTOCOL_KEY_BOARDS, "ok", (json_int_t)b[WEB_RESULT_OK], "failed",
			 (json_int_t)b[WEB_RESULT_FAILED], "boot-loop",
			 (json_int_t)b[WEB_RESULT_BOOT_LOOP], "aborted",
			 (json_int_t)b[WEB_RESULT_ABORTED], PROTOCOL_KEY_BYTES,
			 (json_int_t)st->c.written_bytes, "today", "since_ms",
			 ms_or_null(st->midnight_ms), "ok", (json_int_t)t[WEB_RESULT_OK], "failed",
			 (json_int_t)t[WEB_RESULT_FAILED], "boot-loop",
			 (json_int_t)t[WEB_RESULT_BOOT_LOOP], "aborted",
			 (json_int_t)t[WEB_RESULT_ABORTED], "yield", yield, "results", st->results,
			 "plans", st->loaded, PROTOCOL_KEY_PLAN, st->plan, PROTOCOL_KEY_PAUSED,
			 st->paused);
}

json_t *web_state_snapshot(const struct web_state *st)
{
	json_t *s = web_state_status(st), *sum = web_state_summary(st);

	if (s && sum && json_object_update(s, sum) == 0) {
		json_decref(sum);
		return s;
	}
	json_decref(s);
	json_decref(sum);
	return NULL;
}
