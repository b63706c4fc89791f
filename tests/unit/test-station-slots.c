/* test-station-slots: named fixture slots on the station (flashd.conf
 * "slot NAME = PORT", slots-only, slot-alert): slot names beside ports in
 * status, events and records, ports sorted by slot name, a board on a port
 * slots-only ignores never opened, per-slot yield and the alert. */
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

#include "flashd/plan.h"
#include "station_fakes.h"
#include "station_test.h"

static void restart(const char *extra)
{
	st = station_free(st);
	write_conf("plan = a.lst", extra);
	assert_int_equal(start_station(), 0);
}

/* the last event of a type whose "port" is port, or NULL */
static json_t *last_event(const char *type, const char *port)
{
	json_t *found = NULL, *e;
	size_t i;

	json_array_foreach(events, i, e) {
		json_t *f = json_object_get(e, "fields");
		if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0 &&
		    strcmp(json_string_value(json_object_get(f, "port")), port) == 0)
			found = f;
	}
	return found;
}

/* a board on port: SDP ends with status (0: into fastboot, which ends ok) */
static void board(const char *port, int status)
{
	rom(port, "/dev/bus/usb/001/002");
	run(5);
	if (status) {
		live()->ev.done(live()->ev.ud, status, "no answer to the jump");
	} else {
		live()->next = live()->first + 1;
		live()->ev.done(live()->ev.ud, 0, NULL);
		removed(port, "/dev/bus/usb/001/002");
		fastboot(port, "/dev/bus/usb/001/003", "SER0001");
		run(5);
		live()->ev.done(live()->ev.ud, 0, NULL);
	}
	assert_int_equal(state_of(port), status ? PORT_STATE_FAILED : PORT_STATE_DONE);
	removed(port, status ? "/dev/bus/usb/001/002" : "/dev/bus/usb/001/003");
	/* settle (50 ms): waited for, not timed */
	for (int i = 0; i < 500 && state_of(port) != PORT_STATE_EMPTY; i++)
		run(10);
	assert_int_equal(state_of(port), PORT_STATE_EMPTY);
}

static void test_slots_listed_and_sorted(void **state)
{
	static const char *const order[][2] = { { "A9", "1-9" }, { "A10", "1-1" }, { "B2", "1-2" } };
	json_t *s, *ports;

	(void)state;
	restart("slot B2 = 1-2\nslot A10 = 1-1\nslot A9 = 1-9\n");
	/* every slot is listed before any board came */
	assert_int_equal(st->nports, 3);
	rom("1-7", "/dev/bus/usb/001/009");   /* not a slot, not slots-only: flashed */
	run(5);
	assert_int_equal(fs.sdp_starts, 1);
	s = be.status(be.ud);
	ports = json_object_get(s, "ports");
	assert_int_equal(json_array_size(ports), 4);
	for (size_t i = 0; i < 3; i++) {
		json_t *p = json_array_get(ports, i);
		assert_string_equal(json_string_value(json_object_get(p, "slot")), order[i][0]);
		assert_string_equal(json_string_value(json_object_get(p, "port")), order[i][1]);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "yield"), "ok")),
				 0);
	}
	/* ports without a slot come last, without slot or yield */
	assert_string_equal(json_string_value(json_object_get(json_array_get(ports, 3), "port")), "1-7");
	assert_true(json_is_null(json_object_get(json_array_get(ports, 3), "slot")));
	assert_true(json_is_null(json_object_get(json_array_get(ports, 3), "yield")));
	assert_false(json_is_true(json_object_get(json_array_get(ports, 3), "ignored")));
	json_decref(s);
	live()->ev.done(live()->ev.ud, -EIO, "x");
	/* abort and retry take a slot name too */
	assert_non_null(station_find_port(st, "B2"));
	assert_ptr_equal(station_find_port(st, "B2"), find_port("1-2"));
	assert_null(station_find_port(st, "C1"));
	assert_string_equal(be.slot_port(be.ud, "A10"), "1-1");
	assert_null(be.slot_port(be.ud, "1-1"));
}

/* slots-only: a board on a port without a slot is listed and logged, never opened */
static void test_slots_only_ignores(void **state)
{
	json_t *s, *p;
	size_t logs;

	(void)state;
	restart("slot A1 = 1-1\nslots-only = yes\n");
	logs = count_events("log");
	rom("1-5", "/dev/bus/usb/001/009");
	run(20);
	assert_int_equal(fu.opens, 0);
	assert_int_equal(fs.sdp_starts + fs.fb_starts + fs.spl_starts, 0);
	assert_int_equal(state_of("1-5"), PORT_STATE_EMPTY);
	assert_int_equal(count_events("log"), logs + 1);   /* once per plug */
	assert_non_null(strstr(json_string_value(json_object_get(last_event("log", "1-5"), "message")),
			       "ignored: the port is no slot"));
	s = be.status(be.ud);
	p = status_port(s, "1-5");
	assert_true(json_is_true(json_object_get(p, "ignored")));
	assert_string_equal(json_string_value(json_object_get(p, "device")), "rom");
	assert_string_equal(json_string_value(json_object_get(p, "state")), "empty");
	assert_true(json_is_null(json_object_get(p, "slot")));
	assert_false(json_is_true(json_object_get(status_port(s, "1-1"), "ignored")));
	json_decref(s);
	/* a fastboot device there: the same */
	removed("1-5", "/dev/bus/usb/001/009");
	assert_string_equal(json_string_value(json_object_get(last_event("port", "1-5"), "device")),
			    "none");
	fastboot("1-5", "/dev/bus/usb/001/010", NULL);
	run(20);
	assert_int_equal(fu.opens, 0);
	assert_int_equal(fs.fb_starts, 0);
	assert_int_equal(count_events("log"), logs + 3);   /* added, removed, added */
	/* retry cannot start it either */
	char err[128] = "";
	assert_true(be.retry(be.ud, "1-5", err, sizeof(err)) < 0);
	run(20);
	assert_int_equal(fu.opens, 0);
	/* the slot's board is flashed */
	rom("1-1", "/dev/bus/usb/001/011");
	run(5);
	assert_int_equal(fs.sdp_starts, 1);
	live()->ev.done(live()->ev.ud, -EPROTO, "x");
	/* a reload makes 1-5 a slot: the board there stays ignored until the next
	 * plug, which is flashed (here a new device without a removal first) */
	write_conf("plan = a.lst", "slot A1 = 1-1\nslot A5 = 1-5\nslots-only = yes\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	s = be.status(be.ud);
	assert_true(json_is_true(json_object_get(status_port(s, "1-5"), "ignored")));
	json_decref(s);
	rom("1-5", "/dev/bus/usb/001/012");
	run(5);
	assert_int_equal(fs.sdp_starts, 2);
	assert_int_equal(find_port("1-5")->ignored, PORT_DEV_NONE);
	assert_int_equal(state_of("1-5"), PORT_STATE_SDP);
	s = be.status(be.ud);
	p = status_port(s, "1-5");
	assert_false(json_is_true(json_object_get(p, "ignored")));
	assert_string_equal(json_string_value(json_object_get(p, "slot")), "A5");
	json_decref(s);
	/* its removal reaches the port machine */
	live()->ev.done(live()->ev.ud, -EPROTO, "x");
	removed("1-5", "/dev/bus/usb/001/012");
	for (int i = 0; i < 500 && state_of("1-5") != PORT_STATE_EMPTY; i++)
		run(10);
	assert_int_equal(state_of("1-5"), PORT_STATE_EMPTY);
}

/* yield per slot, the alert after slot-alert failures in a row, cleared by an ok board */
static void test_slot_yield_alert(void **state)
{
	json_t *s, *y, *slots;

	(void)state;
	restart("slot A1 = 1-1\nslot A2 = 1-2\nslot-alert = 2\n");
	board("1-1", -EPROTO);
	assert_string_equal(rec_str("slot"), "A1");
	assert_string_equal(rec_str("port"), "1-1");
	y = json_object_get(last_event("port", "1-1"), "yield");
	assert_int_equal(json_integer_value(json_object_get(y, "failed")), 1);
	assert_true(json_is_null(json_object_get(y, "alert")));
	board("1-2", 0);   /* another slot: its own count */
	assert_string_equal(rec_str("slot"), "A2");
	board("1-1", -ETIMEDOUT);
	y = json_object_get(last_event("port", "1-1"), "yield");
	assert_int_equal(json_integer_value(json_object_get(y, "failures_in_row")), 2);
	assert_string_equal(json_string_value(json_object_get(y, "alert")),
			    "2 failures in a row: check cable/pogo pins");
	assert_non_null(strstr(json_string_value(json_object_get(y, "last_reason")),
			       "no answer to the jump"));
	/* in status, and in stats in slot order */
	s = be.status(be.ud);
	assert_non_null(json_string_value(json_object_get(
		json_object_get(status_port(s, "1-1"), "yield"), "alert")));
	assert_true(json_is_null(json_object_get(json_object_get(status_port(s, "1-2"), "yield"),
						 "alert")));
	json_decref(s);
	s = be.stats(be.ud);
	slots = json_object_get(s, "slots");
	assert_int_equal(json_array_size(slots), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(slots, 0), "slot")), "A1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(slots, 0), "failed")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(slots, 1), "ok")), 1);
	json_decref(s);
	/* a reload keeps the yield of the slots that stay */
	write_conf("plan = a.lst", "slot A1 = 1-1\nslot-alert = 2\n");
	char err[256];
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_int_equal(st->slots.n, 1);
	assert_int_equal(st->slots.v[0].failed, 2);
	assert_true(st->slots.v[0].alert);
	/* the next ok board clears the alert */
	board("1-1", 0);
	y = json_object_get(last_event("port", "1-1"), "yield");
	assert_true(json_is_null(json_object_get(y, "alert")));
	assert_int_equal(json_integer_value(json_object_get(y, "failures_in_row")), 0);
	assert_int_equal(json_integer_value(json_object_get(y, "ok")), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
const struct CMUnitTest station_slots_tests[] = {
	T(test_slots_listed_and_sorted),
	T(test_slots_only_ignores),
	T(test_slot_yield_alert),
};
#undef T
const size_t station_slots_ntests = sizeof(station_slots_tests) / sizeof(station_slots_tests[0]);
