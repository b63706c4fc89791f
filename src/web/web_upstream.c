/* web_upstream: the watch connection, its resynchronisation, and queries
 * (see web_upstream.h). */
#include "web_upstream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "flashd/ctlproto.h"
#include "web_conn.h"

/* Request ids on the watch connection. */
#define ID_WATCH "watch"
#define ID_STATS "stats"
#define ID_PLANS "plans"
/* How often the day is checked for its end (the today counters restart). */
#define DAY_CHECK_MS 60000

struct web_query {
	struct web_upstream *up;
	struct web_conn *conn;
	struct event *timer;
	web_query_fn cb;
	void *ud;
	struct web_query *prev, *next;
};

struct web_upstream {
	struct event_base *base;
	char *path;
	struct web_state *st;
	web_upstream_notify_fn notify;
	void *ud;
	struct web_conn *watch;
	struct event *retry;     /* reconnect timer */
	struct event *day;       /* the day's end */
	int backoff_ms;
	int last_err;            /* of the last failed attempt: logged once per kind */
	struct web_query *queries;
	unsigned nqueries;
	struct web_query *today; /* the history page being read for today's boards */
};

static void notify_snapshot(struct web_upstream *up)
{
	json_t *s = web_state_snapshot(up->st);

	if (s)
		up->notify(up->ud, "snapshot", s);
	json_decref(s);
}

static void notify_summary(struct web_upstream *up)
{
	json_t *s = web_state_summary(up->st);

	if (s)
		up->notify(up->ud, "station", s);
	json_decref(s);
}

int64_t web_upstream_midnight(int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/* ---- queries */

static void query_free(struct web_query *q)
{
	struct web_upstream *up = q->up;

	if (q->prev)
		q->prev->next = q->next;
	else
		up->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	up->nqueries--;
	web_conn_free(q->conn);
	if (q->timer)
		event_free(q->timer);
	free(q);
}

static void query_finish(struct web_query *q, int err, const json_t *reply)
{
	web_query_fn cb = q->cb;
	void *ud = q->ud;

	query_free(q);
	cb(ud, err, reply);
}

static void query_msg(void *arg, const json_t *msg)
{
	if (ctlproto_classify(msg) == CTLPROTO_KIND_REPLY)
		query_finish(arg, 0, msg);
}

static void query_closed(void *arg, int err)
{
	query_finish(arg, err, NULL);
}

static void query_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	query_finish(arg, -ETIMEDOUT, NULL);
}

struct web_query *web_upstream_query(struct web_upstream *up, json_t *request, web_query_fn cb,
				     void *ud)
{
	struct timeval tv = { WEB_QUERY_TIMEOUT_MS / 1000, (WEB_QUERY_TIMEOUT_MS % 1000) * 1000 };
	struct web_query *q = NULL;

	if (up->nqueries >= WEB_QUERY_MAX) {
		json_decref(request);
		errno = EBUSY;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q || !request || !(q->timer = evtimer_new(up->base, query_timeout, q))) {
		if (q)
			free(q);
		json_decref(request);
		errno = ENOMEM;
		return NULL;
	}
	q->up = up;
	q->cb = cb;
	q->ud = ud;
	q->next = up->queries;
	if (q->next)
		q->next->prev = q;
	up->queries = q;
	up->nqueries++;
	q->conn = web_conn_open(up->base, up->path, WEB_CONN_LINE_MAX, query_msg, query_closed, q);
	if (!q->conn || web_conn_send(q->conn, request) < 0) {
		int err = q->conn ? ECONNRESET : errno;
		json_decref(request);
		query_free(q);
		errno = err;
		return NULL;
	}
	json_decref(request);
	evtimer_add(q->timer, &tv);
	return q;
}

void web_query_cancel(struct web_query *q)
{
	if (q)
		query_free(q);
}

/* ---- today's boards from history, newest page first */

static void today_page(void *arg, int err, const json_t *reply);

static void today_request(struct web_upstream *up, const json_t *before)
{
	json_t *req = ctlproto_request_new(1, &ctlproto_commands[CTLPROTO_CMD_HISTORY]);

	if (!req)
		return;
	json_object_set_new(req, PROTOCOL_ARG_SINCE,
			    json_integer(web_state_today_midnight(up->st)));
	json_object_set_new(req, PROTOCOL_ARG_LIMIT, json_integer(PROTOCOL_HISTORY_MAX));
	if (before)
		json_object_set(req, PROTOCOL_ARG_BEFORE, (json_t *)before);
	up->today = web_upstream_query(up, req, today_page, up);
	if (!up->today)
		log_warning_errno(-errno, "today's boards: cannot ask flashd's history");
}

static void today_page(void *arg, int err, const json_t *reply)
{
	struct web_upstream *up = arg;
	const char *code = NULL, *message = NULL;
	const json_t *older;

	up->today = NULL;
	if (err < 0) {
		log_warning_errno(err, "today's boards: history");
		return;
	}
	if (ctlproto_reply_status(reply, &code, &message) != 1) {
		/* no journal: no history, today's boards are the live ones */
		log_info("today's boards: history: %s", message ? message : "malformed reply");
		return;
	}
	web_state_history(up->st, json_object_get(reply, PROTOCOL_KEY_RECORDS));
	notify_summary(up);
	older = json_object_get(reply, PROTOCOL_KEY_OLDER);
	if (json_is_integer(older) && json_array_size(json_object_get(reply, PROTOCOL_KEY_RECORDS)))
		today_request(up, older);
}

static void today_start(struct web_upstream *up, int64_t now_ms)
{
	web_query_cancel(up->today);
	up->today = NULL;
	web_state_today_begin(up->st, web_upstream_midnight(now_ms));
	today_request(up, NULL);
}

static void day_check(evutil_socket_t fd, short what, void *arg)
{
	struct web_upstream *up = arg;
	int64_t now = clock_ms(CLOCK_REALTIME);

	(void)fd;
	(void)what;
	if (web_upstream_midnight(now) != web_state_today_midnight(up->st) &&
	    web_state_counters(up->st)->connected) {
		today_start(up, now);
		notify_summary(up);
	}
}

/* ---- the watch connection */

static void watch_connect(evutil_socket_t fd, short what, void *arg);

static void watch_schedule(struct web_upstream *up)
{
	struct timeval tv = { up->backoff_ms / 1000, (up->backoff_ms % 1000) * 1000 };

	evtimer_add(up->retry, &tv);
	up->backoff_ms *= 2;
	if (up->backoff_ms > WEB_UPSTREAM_BACKOFF_MAX_MS)
		up->backoff_ms = WEB_UPSTREAM_BACKOFF_MAX_MS;
}

static void watch_lost(struct web_upstream *up, int err)
{
	if (err != up->last_err)
		log_warning_errno(err, "flashd control socket %s", up->path);
	up->last_err = err;
	web_conn_free(up->watch);
	up->watch = NULL;
	web_query_cancel(up->today);
	up->today = NULL;
	if (web_state_counters(up->st)->connected) {
		web_state_set_connected(up->st, false, clock_ms(CLOCK_REALTIME));
		notify_snapshot(up);
	}
	watch_schedule(up);
}

static void watch_ask(struct web_upstream *up, const char *id, enum ctlproto_cmd cmd)
{
	json_t *req = json_pack("{s:s, s:s}", PROTOCOL_KEY_ID, id, PROTOCOL_KEY_CMD,
				ctlproto_cmd_to_string(cmd));

	if (req && web_conn_send(up->watch, req) < 0)
		log_warning("flashd: cannot send %s", id);
	json_decref(req);
}

static void watch_reply(struct web_upstream *up, const json_t *msg)
{
	const char *id = json_string_value(json_object_get(msg, PROTOCOL_KEY_ID));
	const char *code = NULL, *message = NULL;

	if (ctlproto_reply_status(msg, &code, &message) != 1) {
		log_warning("flashd: %s: %s", id ? id : "reply", message ? message : "error");
		if (id && strcmp(id, ID_WATCH) == 0)
			watch_lost(up, -EPROTO);
		return;
	}
	if (!id)
		return;
	if (strcmp(id, ID_STATS) == 0) {
		web_state_stats(up->st, msg);
		notify_summary(up);
	} else if (strcmp(id, ID_PLANS) == 0) {
		web_state_plans(up->st, msg);
		notify_summary(up);
	}
}

static void watch_msg(void *arg, const json_t *msg)
{
	struct web_upstream *up = arg;
	int64_t now = clock_ms(CLOCK_REALTIME);
	const char *type;
	unsigned r;

	if (ctlproto_classify(msg) == CTLPROTO_KIND_REPLY) {
		watch_reply(up, msg);
		return;
	}
	r = web_state_event(up->st, msg, now);
	type = json_string_value(json_object_get(msg, PROTOCOL_KEY_EVENT));
	if (r & WEB_STATE_SNAPSHOT) {
		if (up->last_err)
			log_info("flashd: connected, resynchronised from the snapshot");
		up->last_err = 0;
		up->backoff_ms = WEB_UPSTREAM_BACKOFF_MIN_MS;
		watch_ask(up, ID_STATS, CTLPROTO_CMD_STATS);
		watch_ask(up, ID_PLANS, CTLPROTO_CMD_PLANS);
		today_start(up, now);
		notify_snapshot(up);
		return;
	}
	if (r & WEB_STATE_FORWARD)
		up->notify(up->ud, type, msg);
	if (r & WEB_STATE_SUMMARY)
		notify_summary(up);
	/* a plan load ended: the loaded plans (and their hashes) may differ */
	if (type && strcmp(type, PROTOCOL_EVENT_PLAN) == 0 &&
	    json_is_null(json_object_get(msg, PROTOCOL_KEY_LOADING)))
		watch_ask(up, ID_PLANS, CTLPROTO_CMD_PLANS);
}

static void watch_closed(void *arg, int err)
{
	watch_lost(arg, err);
}

static void watch_connect(evutil_socket_t fd, short what, void *arg)
{
	struct web_upstream *up = arg;

	(void)fd;
	(void)what;
	up->watch =
		web_conn_open(up->base, up->path, WEB_CONN_LINE_MAX, watch_msg, watch_closed, up);
	if (!up->watch) {
		int err = -errno;
		if (err != up->last_err)
			log_warning_errno(err, "flashd control socket %s", up->path);
		up->last_err = err;
		watch_schedule(up);
		return;
	}
	web_state_set_connected(up->st, true, clock_ms(CLOCK_REALTIME));
	watch_ask(up, ID_WATCH, CTLPROTO_CMD_WATCH);
}

struct web_upstream *web_upstream_new(struct event_base *base, const char *socket_path,
				      struct web_state *st, web_upstream_notify_fn notify,
				      void *ud)
{
	struct timeval day = { DAY_CHECK_MS / 1000, 0 };
	struct web_upstream *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->base = base;
	up->st = st;
	up->notify = notify;
	up->ud = ud;
	up->backoff_ms = WEB_UPSTREAM_BACKOFF_MIN_MS;
	up->path = strdup(socket_path);
	up->retry = evtimer_new(base, watch_connect, up);
	up->day = event_new(base, -1, EV_PERSIST, day_check, up);
	if (!up->path || !up->retry || !up->day)
		return web_upstream_free(up);
	evtimer_add(up->day, &day);
	event_active(up->retry, EV_TIMEOUT, 0);
	return up;
}

struct web_upstream *web_upstream_free(struct web_upstream *up)
{
	if (!up)
		return NULL;
	while (up->queries)
		query_free(up->queries);
	web_conn_free(up->watch);
	if (up->retry)
		event_free(up->retry);
	if (up->day)
		event_free(up->day);
	free(up->path);
	free(up);
	return NULL;
}
