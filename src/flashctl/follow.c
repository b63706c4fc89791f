/* follow: the journal, record by record, through the control socket (see
 * follow.h; the protocol is flashd-control(7), "history"). */
#include "follow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlclient.h"
#include "flashd/ctlproto.h"
#include "flashd/protocol.h"

#define FOLLOW_REPLY_TIMEOUT_MS 30000

void follow_say(const struct follow *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", f->prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool stopped(const struct follow *f)
{
	return f->stopping && *f->stopping;
}

/* An event after which a new record may be in the journal. */
static bool wakes(const json_t *m)
{
	const char *ev = json_string_value(json_object_get(m, PROTOCOL_KEY_EVENT));
	return ev && (!strcmp(ev, PROTOCOL_EVENT_RESULT) || !strcmp(ev, PROTOCOL_EVENT_DURABLE) ||
		      !strcmp(ev, PROTOCOL_EVENT_OVERFLOW) || !strcmp(ev, PROTOCOL_EVENT_SNAPSHOT));
}

static void say_lost(const struct follow *f, int r)
{
	follow_say(f, "%s: %s", f->socket,
		   r == -ECONNRESET ? "flashd closed the connection" : strerror(-r));
}

/* FOLLOW_RETRY: the connection is gone; 0: a reply in *out. An event
 * before it sets f->woken. */
static int call(struct follow *f, json_t *req, json_t **out)
{
	int r = req ? ctlclient_send(f->cl, req) : -ENOMEM;

	json_decref(req);
	if (r < 0) {
		say_lost(f, r);
		return FOLLOW_RETRY;
	}
	for (;;) {
		json_t *m = NULL;
		r = ctlclient_recv(f->cl, FOLLOW_REPLY_TIMEOUT_MS, &m, NULL, NULL);
		if (r < 0) {
			say_lost(f, r);
			return FOLLOW_RETRY;
		}
		if (ctlproto_classify(m) == CTLPROTO_KIND_REPLY) {
			*out = m;
			return 0;
		}
		f->woken |= wakes(m);
		json_decref(m);
	}
}

/* A reply that is an error: said, and fatal (bad filter, no journal). */
static bool reply_failed(const struct follow *f, const json_t *rep)
{
	const char *code = NULL, *msg = NULL;

	if (ctlproto_reply_status(rep, &code, &msg) == 1)
		return false;
	follow_say(f, "%s: %s: %s", f->socket, code ? code : "error", msg ? msg : "");
	return true;
}

/* history: after (when has_after), before (0: none), limit, the filters
 * when filtered. 0 with the reply in *out, or FOLLOW_RETRY/FOLLOW_FATAL. */
static int history(struct follow *f, bool has_after, uint64_t after, uint64_t before,
		   size_t limit, bool filtered, json_t **out)
{
	json_t *req = json_pack("{s:s,s:s,s:I}", "id", "follow", "cmd", "history", "limit",
				(json_int_t)limit);
	json_t *rep = NULL;

	if (req && has_after)
		json_object_set_new(req, "after", json_integer((json_int_t)after));
	if (req && before)
		json_object_set_new(req, "before", json_integer((json_int_t)before));
	if (req && filtered && f->port)
		json_object_set_new(req, PROTOCOL_KEY_PORT, json_string(f->port));
	if (req && filtered && f->result)
		json_object_set_new(req, PROTOCOL_KEY_RESULT, json_string(f->result));
	int r = call(f, req, &rep);
	if (r < 0)
		return r;
	if (reply_failed(f, rep)) {
		json_decref(rep);
		return FOLLOW_FATAL;
	}
	*out = rep;
	return 0;
}

static json_t *page_records(const json_t *rep)
{
	return json_object_get(rep, PROTOCOL_KEY_RECORDS);
}

/* 1 when a matching record is on a line in (after, before), 0 when none. */
static int any_between(struct follow *f, uint64_t after, uint64_t before)
{
	json_t *rep = NULL;
	int r = history(f, true, after, before, 1, true, &rep);

	if (r < 0)
		return r;
	r = json_array_size(page_records(rep)) > 0;
	json_decref(rep);
	return r;
}

/* The line of the first matching record after `after`, which is on a line
 * up to `newer`. A page says the line of its last record only when more
 * follow; lines that hold no record (a torn line, other ports) leave the
 * others to find: a bisection with `before`. */
static int locate(struct follow *f, uint64_t after, uint64_t newer, uint64_t *line)
{
	uint64_t lo = after + 1, hi = newer;
	int r = newer > lo ? any_between(f, after, newer) : 0;

	if (r < 0)
		return r;
	if (r == 0) {
		*line = newer;
		return 0;
	}
	hi = newer - 1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		r = any_between(f, after, mid + 1);
		if (r < 0)
			return r;
		if (r)
			hi = mid;
		else
			lo = mid + 1;
	}
	*line = lo;
	return 0;
}

int follow_newest(struct follow *f, uint64_t *line)
{
	json_t *rep = NULL;
	int r = history(f, false, 0, 0, 1, true, &rep);

	if (r < 0)
		return r;
	json_t *newer = json_object_get(rep, PROTOCOL_KEY_NEWER);
	*line = json_is_integer(newer) ? (uint64_t)json_integer_value(newer) : 0;
	json_decref(rep);
	return 0;
}

int follow_record_at(struct follow *f, uint64_t line, json_t **rec)
{
	json_t *rep = NULL;
	int r = line ? history(f, true, line - 1, line + 1, 1, false, &rep) : 0;

	*rec = NULL;
	if (r < 0 || !line)
		return r;
	json_t *recs = page_records(rep);
	if (json_array_size(recs) == 1)
		*rec = json_incref(json_array_get(recs, 0));
	json_decref(rep);
	return 0;
}

/* Hand the page's records to the caller: all of them when the lines after
 * the cursor are exactly these records, else the first one, its line found. */
static int deliver(struct follow *f, const json_t *recs, uint64_t newer)
{
	size_t n = json_array_size(recs);
	json_t *one;
	uint64_t line;
	int r;

	if (newer - f->cursor == n) {
		json_t **v = calloc(n, sizeof(*v));
		uint64_t *lines = calloc(n, sizeof(*lines));
		r = v && lines ? 0 : FOLLOW_FATAL;
		for (size_t i = 0; r == 0 && i < n; i++) {
			v[i] = json_array_get(recs, i);
			lines[i] = f->cursor + 1 + i;
		}
		if (r == 0)
			r = f->records(f, v, lines, n);
		else
			follow_say(f, "out of memory");
		free(v);
		free(lines);
		if (r == 0)
			f->cursor = newer;
		return r;
	}
	r = locate(f, f->cursor, newer, &line);
	if (r < 0)
		return r;
	one = json_array_get(recs, 0);
	r = f->records(f, &one, &line, 1);
	if (r == 0)
		f->cursor = line;
	return r;
}

/* Handle every record after the cursor: 0 caught up, or FOLLOW_RETRY/FATAL. */
static int drain(struct follow *f)
{
	while (!stopped(f)) {
		json_t *rep = NULL;
		f->woken = false;
		int r = history(f, true, f->cursor, 0, f->limit, true, &rep);
		if (r < 0)
			return r;
		json_t *recs = page_records(rep);
		json_t *jn = json_object_get(rep, PROTOCOL_KEY_NEWER);
		uint64_t newer = json_is_integer(jn) ? (uint64_t)json_integer_value(jn) : 0;
		if (json_is_integer(jn) && newer < f->cursor) {
			/* history caps `newer` at the journal's last line */
			follow_say(f,
				   "the journal ends at line %" PRIu64 ", before the cursor (%" PRIu64
				   "): replaced or cut? Not guessing: %s",
				   newer, f->cursor, f->cut_hint);
			json_decref(rep);
			return FOLLOW_FATAL;
		}
		if (json_array_size(recs) == 0 || newer <= f->cursor) {
			/* nothing after the cursor matches: move it over what does not */
			if (newer > f->cursor) {
				f->cursor = newer;
				if (f->skipped)
					f->skipped(f);
			}
			json_decref(rep);
			/* a record announced while the page was read may be
			 * missing from it (history runs beside the loop): again */
			if (f->woken)
				continue;
			return 0;
		}
		r = deliver(f, recs, newer);
		json_decref(rep);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Connect, check the hello, subscribe; closed again on failure. */
static int open_session(struct follow *f)
{
	json_t *m = NULL, *rep = NULL;
	int r = ctlclient_connect(f->cl, f->socket);

	if (r < 0)
		return r;
	r = ctlclient_recv(f->cl, FOLLOW_REPLY_TIMEOUT_MS, &m, NULL, NULL);
	if (r == 0 && ctlproto_classify(m) == CTLPROTO_KIND_REPLY)
		r = -EBUSY; /* too-many-clients instead of the hello */
	else if (r == 0)
		r = ctlproto_hello_check(m);
	json_decref(m);
	if (r == 0 && call(f, json_pack("{s:s,s:s}", "id", "watch", "cmd", "watch"), &rep) < 0)
		r = -ECONNRESET;
	if (r == 0 && reply_failed(f, rep))
		r = -EPROTO;
	json_decref(rep);
	if (r < 0)
		ctlclient_close(f->cl);
	return r;
}

/* Block until an event says a record may be new: 0, or FOLLOW_RETRY. */
static int wait_event(struct follow *f)
{
	while (!stopped(f)) {
		json_t *m = NULL;
		int r = ctlclient_recv(f->cl, 1000, &m, NULL, NULL);
		if (r == -ETIMEDOUT)
			continue; /* look at `stopping` */
		if (r < 0) {
			say_lost(f, r);
			return FOLLOW_RETRY;
		}
		bool wake = wakes(m);
		json_decref(m);
		if (wake)
			return 0;
	}
	return 0;
}

static void backoff_sleep(const struct follow *f, unsigned *backoff)
{
	if (stopped(f))
		return;
	usleep(*backoff * 1000); /* a signal ends it early */
	*backoff = *backoff * 2 > f->backoff_max_ms ? f->backoff_max_ms : *backoff * 2;
}

int follow_run(struct follow *f)
{
	unsigned backoff = f->backoff_min_ms;

	while (!stopped(f)) {
		struct ctlclient cl = { .fd = -1 };
		int r = f->prepare ? f->prepare(f) : 0;
		if (r == FOLLOW_FATAL)
			return 1;
		if (r < 0) {
			backoff_sleep(f, &backoff);
			continue;
		}
		f->cl = &cl;
		r = open_session(f);
		if (r < 0) {
			follow_say(f, "%s: %s; again in %u ms", f->socket, strerror(-r), backoff);
			f->cl = NULL;
			backoff_sleep(f, &backoff);
			continue;
		}
		r = f->start(f);
		while (r == 0 && !stopped(f)) {
			r = drain(f);
			if (r == 0 && f->once) {
				ctlclient_close(&cl);
				f->cl = NULL;
				return 0;
			}
			if (r == 0) {
				backoff = f->backoff_min_ms; /* caught up: a good session */
				r = wait_event(f);
			}
		}
		ctlclient_close(&cl);
		f->cl = NULL;
		if (r == FOLLOW_FATAL)
			return 1;
		if (r < 0)
			backoff_sleep(f, &backoff);
	}
	return 0;
}
