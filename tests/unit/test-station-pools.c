/* test-station-pools: the station's pools (station_pools.c, pools.c) over a
 * real SQLite store on the pool thread: the values asked for at the SoC UID
 * (read over SDP, forced on), put into the command as it is sent and into
 * the record; a board whose pool is empty waits (WAITING, with the reason,
 * a "pool" event, the pool in status) until a reload gives the pool more
 * values; the same board again gets its own values; a board that came in
 * fastboot (no UID) cannot have values and fails with the reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "station_fakes.h"
#include "station_test.h"
#include "daemon/pools.h"

static void restart_pools(const char *keys)
{
	char extra[512];

	st = station_free(st);
	write_text("keys.txt", keys);
	write_text("k.lst", "SDP: boot -f boot.imx\nFB: ucmd setenv key ${pool:keys}\nFB: done\n");
	snprintf(extra, sizeof(extra),
		 "pool-sqlite = %s/pools.sqlite\npool-retry = 100ms\n"
		 "[pool keys]\nkind = list\nfile = keys.txt\n", dir);
	write_conf("plan = k.lst", extra);
	assert_int_equal(start_station(), 0);
}

/* the pool's state in status (after the pool thread answered) */
static const char *pool_state(void)
{
	static char s[16];
	json_t *j = be.pools(be.ud);

	snprintf(s, sizeof(s), "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(j, "pools"), 0),
						   "state")));
	json_decref(j);
	return s;
}

static void run_until_pool(const char *state)
{
	for (int i = 0; i < 300 && strcmp(pool_state(), state) != 0; i++)
		run(10);
	assert_string_equal(pool_state(), state);
}

/* SDP with UID uid on port, then fastboot: the fastboot session started */
static void board_to_fastboot(const char *port, uint64_t uid)
{
	unsigned fb = fs.fb_starts, sdp = fs.sdp_starts;

	rom(port, "/dev/bus/usb/001/002");
	for (int i = 0; i < 300 && fs.sdp_starts == sdp; i++)
		run(10);
	assert_int_equal(state_of(port), PORT_STATE_SDP);
	assert_true(live()->o.read_uid);   /* forced: the values are bound to it */
	live()->have_uid = true;
	live()->uid = uid;
	live()->ev.step(live()->ev.ud, 0, "SDP: boot -f boot.imx");  /* the UID is read */
	live()->next = 1;
	live()->ev.done(live()->ev.ud, 0, NULL);
	removed(port, "/dev/bus/usb/001/002");
	fastboot(port, "/dev/bus/usb/001/003", "SER1");
	for (int i = 0; i < 300 && fs.fb_starts == fb; i++)
		run(10);
	assert_int_equal(fs.fb_starts, fb + 1);
}

static void finish(const char *port)
{
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_int_equal(state_of(port), PORT_STATE_DONE);
	removed(port, "/dev/bus/usb/001/003");
	for (int i = 0; i < 500 && state_of(port) != PORT_STATE_EMPTY; i++)
		run(10);
}

static const char *expand(const char *text)
{
	static char out[256];
	const char *why = NULL;

	assert_int_equal(live()->ev.expand(live()->ev.ud, text, out, sizeof(out), &why), 0);
	return out;
}

static const char *record_key(void)
{
	return json_string_value(
	    json_array_get(json_object_get(json_object_get(last_record(), "values"), "keys"), 0));
}

static void test_pool_values(void **state)
{
	json_t *s;
	char err[256], *txt;

	(void)state;
	restart_pools("K1\nK2\n");
	run_until_pool("ok");
	board_to_fastboot("1-1", 0x77);
	assert_string_equal(expand("UCmd:setenv key ${pool:keys}"), "UCmd:setenv key K1");
	finish("1-1");
	assert_string_equal(record_key(), "K1");
	/* the same board again, elsewhere: its own key */
	board_to_fastboot("1-3", 0x77);
	assert_string_equal(expand("UCmd:setenv key ${pool:keys}"), "UCmd:setenv key K1");
	finish("1-3");
	assert_string_equal(record_key(), "K1");
	/* another board takes the last key */
	board_to_fastboot("1-1", 0x78);
	assert_string_equal(expand("UCmd:setenv key ${pool:keys}"), "UCmd:setenv key K2");
	finish("1-1");

	/* the list is empty now: the next board waits, and says why */
	run_until_pool("empty");
	rom("1-2", "/dev/bus/usb/001/004");
	run(20);
	assert_int_equal(state_of("1-2"), PORT_STATE_WAITING);
	assert_int_equal(fs.sdp_starts, 3);
	s = be.status(be.ud);
	txt = json_dumps(s, 0);
	assert_non_null(strstr(txt, "pool keys is empty"));
	free(txt);
	json_decref(s);
	assert_true(count_events("pool") >= 2);   /* ok, then empty */

	/* the customer sends more keys: a reload, and the board starts */
	write_text("keys.txt", "K1\nK2\nK3\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	for (int i = 0; i < 300 && fs.sdp_starts == 3; i++)
		run(10);
	assert_int_equal(state_of("1-2"), PORT_STATE_SDP);
	live()->have_uid = true;
	live()->uid = 0x79;
	live()->ev.step(live()->ev.ud, 0, "SDP: boot -f boot.imx");
	live()->next = 1;
	live()->ev.done(live()->ev.ud, 0, NULL);
	removed("1-2", "/dev/bus/usb/001/004");
	fastboot("1-2", "/dev/bus/usb/001/003", "SER2");
	for (int i = 0; i < 300 && fs.fb_starts == 3; i++)
		run(10);
	assert_int_equal(fs.fb_starts, 4);
	assert_string_equal(expand("UCmd:setenv key ${pool:keys}"), "UCmd:setenv key K3");
	finish("1-2");
	assert_string_equal(record_key(), "K3");
}

static void test_pool_no_uid(void **state)
{
	(void)state;
	restart_pools("K1\nK2\n");
	run_until_pool("ok");
	/* a board that came in fastboot: nobody read its UID */
	fastboot("1-1", "/dev/bus/usb/001/003", "SER1");
	for (int i = 0; i < 100 && state_of("1-1") != PORT_STATE_FAILED; i++)
		run(10);
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(json_string_value(json_object_get(last_record(), "reason")),
			       "SoC UID"));
	assert_int_equal(fs.fb_starts, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
const struct CMUnitTest station_pools_tests[] = {
	T(test_pool_values),
	T(test_pool_no_uid),
};
#undef T
const size_t station_pools_ntests = sizeof(station_pools_tests) / sizeof(station_pools_tests[0]);
