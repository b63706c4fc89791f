/* test-station-bus: bus scheduling on the station (flashd.conf "bus NAME =
 * PORT …", bus-scheduling, bus-*): the fastboot session gets the station's
 * scheduler and the port's bus (its bus line, else its sysfs bus number),
 * none with bus-scheduling = off; a download that waits suspends the port's
 * stall deadline and says so in status; a reload takes the new rules. */
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

/* bus-scheduling is on by default (flashd.conf(5)); said here anyway unless extra says */
static void restart(const char *extra)
{
	char text[512];

	snprintf(text, sizeof(text), "%s%s", strstr(extra, "bus-scheduling") ? "" :
		 "bus-scheduling = on\n", extra);
	st = station_free(st);
	write_conf("plan = a.lst", text);
	assert_int_equal(start_station(), 0);
}

/* a board already in fastboot on port: its session */
static struct fake_sess *fb_on(const char *port, const char *node)
{
	fastboot(port, node, "SER1");
	run(5);
	assert_int_equal(state_of(port), PORT_STATE_FASTBOOT);
	assert_true(live()->fb);
	return live();
}

static void test_bus_keys(void **state)
{
	struct fake_sess *s;

	(void)state;
	restart("bus line = 1-1 2-1\n");
	s = fb_on("1-1", "/dev/bus/usb/001/003");
	assert_ptr_equal(s->o.bus, st->bus);
	assert_string_equal(s->o.bus_key, "bus line");
	s = fb_on("2-1", "/dev/bus/usb/002/003");
	assert_string_equal(s->o.bus_key, "bus line");
	s = fb_on("3-1.2", "/dev/bus/usb/003/003");
	assert_ptr_equal(s->o.bus, st->bus);
	assert_string_equal(s->o.bus_key, "usb3");

	restart("bus line = 1-1 2-1\nbus-scheduling = off\n");
	s = fb_on("1-1", "/dev/bus/usb/001/003");
	assert_null(s->o.bus);
	assert_string_equal(s->o.bus_key, "");
}

/* bus-small always; bus-piece only while another board is on the same bus
 * (alone on it, a board loses nothing by long pieces). */
static void test_bus_piece_when_shared(void **state)
{
	struct fake_sess *s;

	(void)state;
	restart("bus line = 1-1 2-1\nbus-piece = 4M\nbus-small = 64K\n");
	s = fb_on("1-1", "/dev/bus/usb/001/003");
	assert_int_equal(s->o.bus_small, 64u << 10);
	assert_int_equal(s->o.bus_piece, 0);
	s = fb_on("2-1", "/dev/bus/usb/002/003");
	assert_int_equal(s->o.bus_piece, 4u << 20);
	s = fb_on("3-1.2", "/dev/bus/usb/003/003");
	assert_int_equal(s->o.bus_piece, 0);
	s = fb_on("3-1.3", "/dev/bus/usb/003/004");
	assert_int_equal(s->o.bus_piece, 4u << 20);
}

/* The wait: no stall deadline, status says so; the grant: a fresh one. */
static void test_bus_wait_on_port(void **state)
{
	struct station_port *ps;
	struct fake_sess *s;
	json_t *j;

	(void)state;
	restart("");
	s = fb_on("1-1", "/dev/bus/usb/001/003");
	ps = find_port("1-1");
	assert_true(ps->port.deadline_ms > 0);
	s->ev.bus_wait(s->ev.ud, true, 1u << 20, 2);
	assert_true(ps->port.waiting);
	assert_int_equal(ps->port.deadline_ms, 0);
	j = be.status(be.ud);
	assert_string_equal(json_string_value(json_object_get(status_port(j, "1-1"), "reason")),
			    "the download waits for its turn on the bus (2 ahead)");
	json_decref(j);
	s->ev.bus_wait(s->ev.ud, false, 0, 0);
	assert_false(ps->port.waiting);
	assert_true(ps->port.deadline_ms > 0);
	j = be.status(be.ud);
	assert_true(json_is_null(json_object_get(status_port(j, "1-1"), "reason")));
	json_decref(j);
	s->ev.done(s->ev.ud, 0, NULL);
	assert_int_equal(state_of("1-1"), PORT_STATE_DONE);
}

/* A board unplugged while its download waits (nothing in flight: the
 * session cannot notice) fails as disconnected once the grace is over, and
 * its session is freed (which gives its place in the queue back). */
static void test_bus_wait_unplugged(void **state)
{
	struct fake_sess *s;

	(void)state;
	restart("");
	s = fb_on("1-1", "/dev/bus/usb/001/003");
	s->ev.bus_wait(s->ev.ud, true, 1u << 20, 0);
	removed("1-1", "/dev/bus/usb/001/003");
	run(STATION_GONE_GRACE_MS + 200);
	assert_true(s->freed);
	assert_string_equal(rec_str("result"), "failed");
	assert_non_null(strstr(rec_str("reason"), "board disconnected"));
}

/* A reload takes bus-downloads for what comes next, and hands out the
 * slots it opens; bus-scheduling = off: new sessions do not wait. */
static void test_bus_reload(void **state)
{
	static int a, b;
	char err[256];
	unsigned kicks;

	(void)state;
	restart("bus-downloads = 1\n");
	assert_int_equal(bussched_request(st->bus, "usb1", &a, 1, 0), 1);
	assert_int_equal(bussched_request(st->bus, "usb1", &b, 1, 0), 0);
	kicks = fs.bus_kicks;
	write_conf("plan = a.lst", "bus-scheduling = on\nbus-downloads = 2\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_true(fs.bus_kicks > kicks);
	assert_int_equal(bussched_active(st->bus, "usb1"), 2);
	assert_ptr_equal(st->sopts.bus, st->bus);
	write_conf("plan = a.lst", "bus-scheduling = off\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_null(st->sopts.bus);
	bussched_release(st->bus, &a, 0);
	bussched_release(st->bus, &b, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
const struct CMUnitTest station_bus_tests[] = {
	T(test_bus_keys),
	T(test_bus_piece_when_shared),
	T(test_bus_wait_on_port),
	T(test_bus_wait_unplugged),
	T(test_bus_reload),
};
#undef T
const size_t station_bus_ntests = sizeof(station_bus_tests) / sizeof(station_bus_tests[0]);
