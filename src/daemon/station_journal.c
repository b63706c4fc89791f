/* station_journal: results that the journal could not take yet.
 *
 * A record goes to the journal before its "result" event. When the append
 * fails (disk full, EIO, a read-only remount) the record is not lost: it
 * waits in an in-memory backlog, its "result" event says "durable": false,
 * and the station holds: boards that arrive wait (state "paused", with the
 * reason), boards already flashing finish and their records queue behind
 * it. A timer on the loop retries with back-off (STATION_JOURNAL_RETRY_*);
 * the backlog is written in order, each record then announced by a
 * "durable" event, and once it is empty the hold ends. Every change of
 * this state is a "journal" event (the alarm) and part of `status`.
 *
 * Bound: while held no new board starts and `retry` is refused, so each
 * port adds at most two records (its running board's, and a boot loop of
 * that board coming back) — the backlog cannot grow without end. Past
 * STATION_JOURNAL_BACKLOG_MAX it is "full": said on every record (log at
 * LOG_CRIT, status, alarm), the records still kept, never dropped.
 * At exit what is left is tried once more and, failing that, logged whole
 * (LOG_CRIT) so it survives in the system log. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/journal.h"
#include "flashd/ctlproto.h"
#include "flashd/protocol.h"

static size_t station_journal_len(const json_t *rec)
{
	return json_dumpb(rec, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER) + 1;
}

bool station_journal_held(const struct station *st)
{
	return json_array_size(st->jq.backlog) > 0;
}

const char *station_journal_reason(const struct station *st)
{
	return station_journal_held(st) ? st->jq.why : NULL;
}

json_t *station_journal_json(const struct station *st)
{
	const struct station_jq *q = &st->jq;
	uint64_t now = station_now_ms();
	bool held = station_journal_held(st);

	if (!st->journal)
		return json_null();
	return ctlproto_journal_new(&(struct ctlproto_journal){
		.path = q->path,
		.writable = q->err == 0,
		.reason = q->err ? q->why : NULL,
		.has_since = held,
		.since_ms = station_wall_ms(q->since_ms),
		.has_retry = held,
		.retry_ms = q->retry_at_ms > now ? q->retry_at_ms - now : 0,
		.backlog = json_array_size(q->backlog),
		.backlog_bytes = q->bytes,
		.backlog_max = STATION_JOURNAL_BACKLOG_MAX,
		.backlog_full = json_array_size(q->backlog) >= STATION_JOURNAL_BACKLOG_MAX,
	});
}

static void station_journal_alarm(struct station *st)
{
	json_t *j = station_journal_json(st);

	control_publish(st->ctl, PROTOCOL_EVENT_JOURNAL,
			j ? json_pack("{s:o}", PROTOCOL_KEY_JOURNAL, j) : NULL);
}

static void station_journal_arm(struct station *st)
{
	struct station_jq *q = &st->jq;
	struct timeval tv = { .tv_sec = q->delay_ms / 1000u,
			      .tv_usec = (suseconds_t)(q->delay_ms % 1000u) * 1000 };

	q->retry_at_ms = station_now_ms() + q->delay_ms;
	evtimer_add(q->retry, &tv);
}

/* Ports mirror hold || operator pause. */
static void station_journal_hold(struct station *st, bool hold)
{
	struct port_event ev = { .type = hold ? PORT_EV_PAUSE : PORT_EV_RESUME };

	if (st->paused)
		return;   /* the operator's pause already holds them, and goes on */
	for (size_t i = 0; i < st->nports; i++) {
		/* PAUSE has no actions; RESUME starts the boards that wait */
		station_port_event(st->ports[i], &ev);
	}
}

static void station_journal_failed(struct station *st, int err)
{
	struct station_jq *q = &st->jq;

	snprintf(q->why, sizeof(q->why), "the results journal cannot be written: %s",
		 strerror(-err));
	q->err = err;
}

static int station_journal_enqueue(struct station *st, json_t *rec)
{
	struct station_jq *q = &st->jq;
	size_t n = json_array_size(q->backlog);

	if (json_array_append(q->backlog, rec) < 0)
		return -ENOMEM;
	q->bytes += station_journal_len(rec);
	if (n + 1 >= STATION_JOURNAL_BACKLOG_MAX)
		log_internal(LOG_CRIT, 0, "journal backlog FULL: %zu records (%zu bytes) wait for "
			     "the journal; kept, none dropped; no board starts until they are "
			     "written", n + 1, q->bytes);
	return 0;
}

static void station_journal_log_record(const char *port, int err, const json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);

	log_internal(LOG_CRIT, 0, "port %s: record NOT journaled (%s), only here: %s",
		     port ? port : "-", strerror(-err), line ? line : "(cannot print it)");
	free(line);
}

/* The board's record: to the journal, else to the backlog; then the
 * "result" event says which. Steals rec. */
void station_journal_result(struct station *st, const char *port, json_t *rec)
{
	struct station_jq *q = &st->jq;
	bool held = station_journal_held(st);
	int e = 0;

	if (!st->journal) {
		control_publish(st->ctl, PROTOCOL_EVENT_RESULT, rec);
		return;
	}
	if (!held) {
		int64_t t0 = clock_us(CLOCK_MONOTONIC);

		e = journal_append(st->journal, rec);
		if (e == 0) {
			json_t *ev = ctlproto_record_durable(rec, true);

			/* the append + fdatasync, for the dashboards' latency figure */
			if (ev)
				json_object_set_new(ev, PROTOCOL_KEY_JOURNAL_MS,
						    json_real((double)(clock_us(CLOCK_MONOTONIC) - t0) / 1000.0));
			control_publish(st->ctl, PROTOCOL_EVENT_RESULT, ev);
			json_decref(rec);
			return;
		}
	}
	if (e == -E2BIG || e == -EINVAL || station_journal_enqueue(st, rec) < 0) {
		/* no retry can write it (too long), or no memory to keep it: the log has it */
		station_journal_log_record(port, e ? e : -ENOMEM, rec);
		control_publish(st->ctl, PROTOCOL_EVENT_RESULT, ctlproto_record_durable(rec, false));
		json_decref(rec);
		return;
	}
	if (!held) {
		station_journal_failed(st, e);
		q->since_ms = station_now_ms();
		q->delay_ms = STATION_JOURNAL_RETRY_MIN_MS;
		log_error("port %s: %s; the record waits in memory, new boards wait until it is "
			  "written (next try in %u ms)", port, q->why, q->delay_ms);
		station_journal_arm(st);
		station_journal_hold(st, true);
	} else {
		log_warning("port %s: record queued behind %zu others: %s", port,
			    json_array_size(q->backlog) - 1, q->why);
	}
	control_publish(st->ctl, PROTOCOL_EVENT_RESULT, ctlproto_record_durable(rec, false));
	json_decref(rec);
	station_journal_alarm(st);
}

/* Write the backlog, oldest first, until it is empty or an append fails. */
static int station_journal_flush(struct station *st, bool publish)
{
	struct station_jq *q = &st->jq;
	int e = 0;

	while (json_array_size(q->backlog) > 0) {
		json_t *rec = json_array_get(q->backlog, 0);

		e = journal_append(st->journal, rec);
		if (e == -E2BIG || e == -EINVAL)   /* no retry writes it: the log has it */
			station_journal_log_record(json_string_value(json_object_get(
							   rec, PROTOCOL_KEY_PORT)), e, rec);
		else if (e < 0)
			return e;
		q->bytes -= station_journal_len(rec);
		if (publish && e == 0)
			control_publish(st->ctl, PROTOCOL_EVENT_DURABLE,
					ctlproto_record_durable(rec, true));
		json_array_remove(q->backlog, 0);
	}
	return 0;
}

static void station_journal_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct station *st = arg;
	struct station_jq *q = &st->jq;
	size_t n = json_array_size(q->backlog);
	int e = station_journal_flush(st, true);

	if (e < 0) {
		station_journal_failed(st, e);
		q->delay_ms = q->delay_ms * 2 > STATION_JOURNAL_RETRY_MAX_MS
				      ? STATION_JOURNAL_RETRY_MAX_MS : q->delay_ms * 2;
		log_warning("%s; records waiting: %zu (next try in %u ms)", q->why,
			    json_array_size(q->backlog), q->delay_ms);
		station_journal_arm(st);
		station_journal_alarm(st);
		return;
	}
	log_notice("the results journal is writable again: waiting records written: %zu, "
		   "%" PRIu64 " ms after the first failure; new boards start", n,
		   station_now_ms() - q->since_ms);
	q->err = 0;
	q->why[0] = '\0';
	q->bytes = 0;
	q->retry_at_ms = 0;
	station_journal_alarm(st);
	station_journal_hold(st, false);
}

int station_journal_init(struct station *st, const char *path)
{
	struct station_jq *q = &st->jq;

	q->backlog = json_array();
	q->retry = evtimer_new(st->base, station_journal_on_retry, st);
	q->path = path ? strdup(path) : NULL;
	if (!q->backlog || !q->retry || (path && !q->path))
		return -ENOMEM;
	return 0;
}

void station_journal_fini(struct station *st)
{
	struct station_jq *q = &st->jq;
	size_t i;
	json_t *rec;

	if (q->retry)
		event_free(q->retry);
	q->retry = NULL;
	if (station_journal_held(st) && station_journal_flush(st, false) < 0) {
		log_internal(LOG_CRIT, 0, "exiting with %zu records the results journal %s did not "
			     "take: they follow, one per line", json_array_size(q->backlog),
			     q->path ? q->path : "");
		json_array_foreach(q->backlog, i, rec)
			station_journal_log_record(json_string_value(json_object_get(
							   rec, PROTOCOL_KEY_PORT)),
						   q->err ? q->err : -EIO, rec);
	}
	json_decref(q->backlog);
	q->backlog = NULL;
	free(q->path);
	q->path = NULL;
}
