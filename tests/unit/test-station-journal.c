/* test-station-journal: a journal that cannot be written (the fake
 * journal_append returns journal_fail) loses no record: the record waits,
 * its "result" event says "durable": false, the station holds new boards
 * with the reason while running ones finish, `retry` is refused, status and
 * the "journal" event say why; the retry timer writes the backlog in order
 * once the journal takes it ("durable" events), and the held boards start.
 * At exit what is left is logged whole. */
#include "daemon/station.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"
#include "station_fakes.h"
#include "station_test.h"

/* The session running on the device node. */
static struct fake_sess *sess_on(const char *node)
{
	for (unsigned i = fs.n; i-- > 0;)
		if (!fs.all[i]->freed && strcmp(fs.all[i]->dev->node, node) == 0)
			return fs.all[i];
	fail_msg("no session on %s", node);
	return NULL;
}

/* A board restored in fastboot on port (node): running. */
static struct fake_sess *fb_board(const char *port, const char *node, const char *serial)
{
	fastboot(port, node, serial);
	assert_int_equal(state_of(port), PORT_STATE_FASTBOOT);
	run(5);
	return sess_on(node);
}

static void finish(struct fake_sess *s, int status)
{
	s->ev.done(s->ev.ud, status, status ? "it broke" : NULL);
	assert_true(s->freed);
}

/* The fields of the last event of type (NULL if none). */
static json_t *last_event(const char *type)
{
	for (size_t i = json_array_size(events); i-- > 0;) {
		json_t *e = json_array_get(events, i);

		if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0)
			return json_object_get(e, "fields");
	}
	return NULL;
}

/* The last "journal" event's state. */
static json_t *alarm_state(void)
{
	json_t *f = last_event("journal");

	assert_non_null(f);
	return json_object_get(f, "journal");
}

static json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *port_reason(json_t *status, const char *port)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(status, "ports"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "port")), port) == 0)
			return json_string_value(json_object_get(p, "reason"));
	fail_msg("no port %s in status", port);
	return NULL;
}

static void test_fail_hold_retry(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "A");
	struct fake_sess *b = fb_board("1-2", "/dev/bus/usb/001/003", "B");
	char err[256] = "", line[512];
	json_t *status, *j, *ev;

	/* the journal is alright: a board's record is durable at once */
	assert_int_equal(count_events("journal"), 0);
	journal_fail = -ENOSPC;
	finish(a, 0);
	assert_int_equal(state_of("1-1"), PORT_STATE_DONE);
	assert_int_equal(json_array_size(records), 0);
	ev = last_event("result");
	assert_false(json_is_true(json_object_get(ev, "durable")));
	assert_string_equal(json_string_value(json_object_get(ev, "port")), "1-1");
	j = alarm_state();
	assert_false(json_is_true(json_object_get(j, "writable")));
	assert_non_null(strstr(json_string_value(json_object_get(j, "reason")),
			       "No space left on device"));
	assert_int_equal(jint(j, "backlog"), 1);
	assert_int_equal(jint(j, "backlog_max"), STATION_JOURNAL_BACKLOG_MAX);
	assert_true(jint(j, "backlog_bytes") > 100);

	/* a board that arrives now waits, and says why */
	rom("2-1", "/dev/bus/usb/002/002");
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);
	run(5);
	assert_int_equal(fs.sdp_starts, 0);
	/* the running one finishes; its record queues behind the first */
	finish(b, -EPROTO);
	assert_int_equal(state_of("1-2"), PORT_STATE_FAILED);
	assert_int_equal(json_array_size(records), 0);
	assert_int_equal(jint(alarm_state(), "backlog"), 2);
	/* resume (no pause to end) and retry do not start anything */
	assert_int_equal(be.resume(be.ud), 0);
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);
	assert_int_equal(be.retry(be.ud, "1-2", err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "the results journal cannot be written"));
	status = be.status(be.ud);
	j = json_object_get(status, "journal");
	assert_false(json_is_true(json_object_get(j, "writable")));
	assert_int_equal(jint(j, "backlog"), 2);
	assert_true(json_is_integer(json_object_get(j, "since_ms")));
	assert_true(json_is_integer(json_object_get(j, "retry_ms")));
	assert_false(json_is_true(json_object_get(status, "paused")));
	assert_non_null(strstr(port_reason(status, "2-1"), "No space left on device"));
	json_decref(status);
	station_status_line(st, line, sizeof(line));
	assert_non_null(strstr(line, "HELD: the results journal cannot be written"));

	/* the first retry fails too: back-off, still held */
	unsigned calls = journal_calls;
	run(STATION_JOURNAL_RETRY_MIN_MS + 100);
	assert_int_equal(journal_calls, calls + 1);   /* stops at the first failure */
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);
	/* space again: the next retry writes both, in order, and the held board starts */
	journal_fail = 0;
	run(2 * STATION_JOURNAL_RETRY_MIN_MS + 100);
	assert_int_equal(json_array_size(records), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(records, 0), "port")),
			    "1-1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(records, 1), "port")),
			    "1-2");
	assert_int_equal(count_events("durable"), 2);
	j = alarm_state();
	assert_true(json_is_true(json_object_get(j, "writable")));
	assert_int_equal(jint(j, "backlog"), 0);
	assert_true(json_is_null(json_object_get(j, "since_ms")));
	assert_int_equal(state_of("2-1"), PORT_STATE_SDP);
	run(5);
	assert_int_equal(fs.sdp_starts, 1);
	finish(live(), -EPROTO);
	/* and the next record goes straight in, durable */
	assert_int_equal(json_array_size(records), 3);
	assert_true(json_is_true(json_object_get(last_event("result"), "durable")));
	station_status_line(st, line, sizeof(line));
	assert_null(strstr(line, "HELD"));
}

/* The operator's pause outlasts the journal's hold, and the other way round. */
static void test_fail_with_pause(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "A");

	journal_fail = -EIO;
	finish(a, 0);
	assert_int_equal(be.pause(be.ud), 0);
	rom("2-1", "/dev/bus/usb/002/002");
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);
	journal_fail = 0;
	run(STATION_JOURNAL_RETRY_MIN_MS + 100);
	assert_int_equal(json_array_size(records), 1);
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);   /* still paused by the operator */
	assert_int_equal(be.resume(be.ud), 0);
	assert_int_equal(state_of("2-1"), PORT_STATE_SDP);
	run(5);
	finish(live(), -EPROTO);
}

/* A port first seen while held is held too. */
static void test_new_port_held(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "A");

	journal_fail = -EROFS;
	finish(a, 0);
	fastboot("3-1", "/dev/bus/usb/003/002", "C");
	assert_int_equal(state_of("3-1"), PORT_STATE_PAUSED);
	journal_fail = 0;
	run(STATION_JOURNAL_RETRY_MIN_MS + 100);
	assert_int_equal(state_of("3-1"), PORT_STATE_FASTBOOT);
	run(5);
	finish(live(), -EPROTO);
}

static char crit[4096];

static void crit_hook(void *ud, int level, const char *msg)
{
	if (level <= LOG_CRIT && strlen(crit) + strlen(msg) + 2 < sizeof(crit)) {
		strcat(crit, msg);
		strcat(crit, "\n");
	}
}

/* flashd stops while the journal still fails: the aborted board's record
 * and the waiting one end up whole in the log. */
static void test_exit_logs_backlog(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "SERA");

	fb_board("1-2", "/dev/bus/usb/001/003", "SERB");
	journal_fail = -ENOSPC;
	finish(a, 0);
	station_shutdown(st, "flashd stopped");
	assert_int_equal(jint(alarm_state(), "backlog"), 2);
	crit[0] = '\0';
	log_set_hook(crit_hook, NULL);
	st = station_free(st);
	log_set_hook(NULL, NULL);
	assert_non_null(strstr(crit, "port 1-1: record NOT journaled (No space left on device)"));
	assert_non_null(strstr(crit, "\"serial\":\"SERA\""));
	assert_non_null(strstr(crit, "port 1-2: record NOT journaled"));
	assert_non_null(strstr(crit, "\"result\":\"aborted\""));
	assert_int_equal(json_array_size(records), 0);
}

/* The journal takes the backlog at exit: nothing is logged. */
static void test_exit_flushes(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "A");

	journal_fail = -ENOSPC;
	finish(a, 0);
	journal_fail = 0;
	crit[0] = '\0';
	log_set_hook(crit_hook, NULL);
	st = station_free(st);
	log_set_hook(NULL, NULL);
	assert_string_equal(crit, "");
	assert_int_equal(json_array_size(records), 1);
}

/* A record the journal refuses for good (too long) is not retried forever:
 * logged whole, and the hold ends. */
static void test_unwritable_record(void **state)
{
	struct fake_sess *a = fb_board("1-1", "/dev/bus/usb/001/002", "SERA");

	journal_fail = -EIO;
	finish(a, 0);
	rom("2-1", "/dev/bus/usb/002/002");
	assert_int_equal(state_of("2-1"), PORT_STATE_PAUSED);
	journal_fail = -E2BIG;
	crit[0] = '\0';
	log_set_hook(crit_hook, NULL);
	run(STATION_JOURNAL_RETRY_MIN_MS + 100);
	log_set_hook(NULL, NULL);
	assert_non_null(strstr(crit, "port 1-1: record NOT journaled (Argument list too long)"));
	assert_non_null(strstr(crit, "\"serial\":\"SERA\""));
	assert_int_equal(jint(alarm_state(), "backlog"), 0);
	assert_int_equal(count_events("durable"), 0);
	assert_int_equal(state_of("2-1"), PORT_STATE_SDP);
	journal_fail = 0;
	run(5);
	finish(live(), -EPROTO);
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
const struct CMUnitTest station_journal_tests[] = {
	T(test_fail_hold_retry),
	T(test_fail_with_pause),
	T(test_new_port_held),
	T(test_exit_logs_backlog),
	T(test_exit_flushes),
	T(test_unwritable_record),
};
#undef T
const size_t station_journal_ntests = sizeof(station_journal_tests) / sizeof(station_journal_tests[0]);
