/* test-station-spl: the station's SPL stage -- U-Boot SPL's SDP gadget
 * classified by VID:PID and bcdDevice (uuu's SDPU/SDPV), its session
 * started at the first line of its flavour, the second wait for
 * fastboot, the journal record with the SPL's steps, and the failures. */
#include "daemon/station.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flashd/plan.h"
#include "station_fakes.h"
#include "station_test.h"

#define SPL_PLAN "uuu_version 1.4.0\n# flashd: no-write\nSDP: boot -f spl.imx\n" \
	"SDPU: delay 1\nSDPU: write -f flash.bin -offset 0x1c00\nSDPU: jump\n" \
	"SDPV: delay 1\nSDPV: write -f flash.bin -skipspl\nSDPV: jump\n" \
	"FB: getvar version\nFB: done\n"

/* The station on a plan with SPL lines (spl.imx is an SPL: its SDPU and
 * SDPV lines all run, plan.h's contract). */
static void spl_station(const char *text)
{
	struct plan *p;

	st = station_free(st);
	write_text("spl.lst", text);
	write_conf("plan = spl.lst", "");
	assert_int_equal(start_station(), 0);
	p = station_plan_for(st, "9-1");
	for (size_t i = 0; i < plan_n_steps(p); i++) {
		struct plan_step *s = (struct plan_step *)plan_step(p, i);

		if (s->proto == PLAN_PROTO_SDPU || s->proto == PLAN_PROTO_SDPV)
			assert_true(s->runs_on_imx6);
	}
}

static void spl_dev(const char *port, const char *node, uint16_t vid, uint16_t pid,
		    uint16_t bcd)
{
	struct devwatch_dev d = { .port = port, .sysname = port, .devnode = node, .vid = vid,
				  .pid = pid, .bcd = bcd, .interfaces = ":030000:" };

	station_on_device(st, DEVWATCH_ADD, &d);
}

/* The ROM stage of the SPL plan: session done with the SDPU lines next. */
static struct fake_sess *rom_stage(const char *port)
{
	struct fake_sess *s;

	rom(port, "/dev/bus/usb/009/002");
	run(5);
	s = live();
	assert_false(s->fb);
	assert_int_equal(s->first, 0);
	s->ev.step(s->ev.ud, 0, "SDP: boot -f spl.imx");
	s->ev.progress(s->ev.ud, 7168, 7168);
	s->next = 1;   /* the session stopped at the first SDPU line */
	s->ev.done(s->ev.ud, 0, NULL);
	assert_true(s->freed);
	assert_int_equal(state_of(port), PORT_STATE_WAIT_REENUM);
	assert_true(find_port(port)->port.spl_next);
	assert_int_equal(find_port(port)->port.spl_step, 1);
	assert_int_equal(find_port(port)->port.next_step, 7);
	removed(port, "/dev/bus/usb/009/002");
	return s;
}

static void spl_flow(uint16_t bcd, enum plan_proto flavour, size_t first, size_t last)
{
	struct fake_sess *s;
	json_t *steps;

	spl_station(SPL_PLAN);
	rom_stage("9-1");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x0525, 0xb4a4, bcd);
	assert_int_equal(state_of("9-1"), PORT_STATE_SPL);
	run(5);
	s = live();
	assert_int_equal(fs.spl_starts, 1);
	assert_int_equal(s->spl, flavour);
	assert_int_equal(s->first, first);
	assert_string_equal(s->dev->node, "/dev/bus/usb/009/003");
	for (size_t i = first; i <= last; i++)
		s->ev.step(s->ev.ud, i, plan_step(s->plan, i)->text);
	s->ev.progress(s->ev.ud, 3840, 3840);
	s->next = 7;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_true(s->freed);
	assert_true(s->dev->closed);
	assert_int_equal(state_of("9-1"), PORT_STATE_WAIT_REENUM);
	assert_true(find_port("9-1")->port.spl_ran);
	removed("9-1", "/dev/bus/usb/009/003");
	fastboot("9-1", "/dev/bus/usb/009/004", "SER9");
	assert_int_equal(state_of("9-1"), PORT_STATE_FASTBOOT);
	run(5);
	s = live();
	assert_true(s->fb);
	assert_int_equal(s->first, 7);
	s->ev.step(s->ev.ud, 7, "FB: getvar version");
	s->next = 9;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_int_equal(state_of("9-1"), PORT_STATE_DONE);
	assert_string_equal(rec_str("result"), "ok");
	/* the journal has the SPL's steps like the others */
	steps = json_object_get(last_record(), "steps");
	assert_int_equal(json_array_size(steps), 1 + (last - first + 1) + 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 1), "index")),
			 first);
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "text")),
			    plan_step(station_plan_for(st, "9-1"), first)->text);
}

static void test_spl_sdpv(void **state)
{
	spl_flow(0x0500, PLAN_PROTO_SDPV, 4, 6);
}

static void test_spl_sdpu(void **state)
{
	spl_flow(0x0100, PLAN_PROTO_SDPU, 1, 3);
}

/* uuu's other SPL IDs */
static void test_spl_ids(void **state)
{
	static const struct {
		uint16_t vid, pid, bcd;
		enum plan_proto flavour;
	} ids[] = {
		{ 0x1fc9, 0x0151, 0x0500, PLAN_PROTO_SDPV },
		{ 0x3016, 0x1001, 0x0400, PLAN_PROTO_SDPU },
		{ 0x0525, 0xb4a4, 0x9999, PLAN_PROTO_SDPU },
	};
	char port[8];

	spl_station(SPL_PLAN);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(port, sizeof(port), "9-%zu", i + 1);
		rom_stage(port);
		spl_dev(port, "/dev/bus/usb/009/010", ids[i].vid, ids[i].pid, ids[i].bcd);
		assert_int_equal(state_of(port), PORT_STATE_SPL);
		run(5);
		assert_int_equal(live()->spl, ids[i].flavour);
	}
}

/* the ROM got the plan's SPL, and fastboot came instead of its SDP gadget:
 * that U-Boot is not the plan's (the SPL found one of its own) -- failed,
 * never flashed by it */
static void test_spl_plan_fastboot_direct(void **state)
{
	spl_station(SPL_PLAN);
	rom_stage("9-1");
	fastboot("9-1", "/dev/bus/usb/009/004", NULL);
	assert_int_equal(state_of("9-1"), PORT_STATE_FAILED);
	run(5);
	assert_int_equal(fs.spl_starts, 0);
	assert_int_equal(fs.fb_starts, 0);
}

/* the image is a full U-Boot: the SPL lines cannot be reached, fastboot
 * right after the ROM runs the FB lines (uuu does the same) */
static void test_full_uboot_fastboot_direct(void **state)
{
	struct fake_sess *s;

	spl_station("SDP: boot -f boot.imx\nSDPU: write -f u-boot.img\nSDPU: jump\n"
		    "FB: getvar version\nFB: done\n# flashd: no-write\n");
	rom("9-1", "/dev/bus/usb/009/002");
	run(5);
	s = live();
	s->next = 1;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_int_equal(state_of("9-1"), PORT_STATE_WAIT_REENUM);
	assert_false(find_port("9-1")->port.spl_required);
	removed("9-1", "/dev/bus/usb/009/002");
	fastboot("9-1", "/dev/bus/usb/009/004", NULL);
	assert_int_equal(state_of("9-1"), PORT_STATE_FASTBOOT);
	run(5);
	assert_true(live()->fb);
	assert_int_equal(live()->first, 3);
	assert_int_equal(fs.spl_starts, 0);
}

/* an SDPV gadget, but the plan only has SDPU lines */
static void test_spl_flavour_missing(void **state)
{
	spl_station("SDP: boot -f boot.imx\nSDPU: write -f u-boot.img\nSDPU: jump\n"
		    "FB: getvar version\n# flashd: no-write\n");
	rom("9-1", "/dev/bus/usb/009/002");
	run(5);
	live()->next = 1;
	live()->ev.done(live()->ev.ud, 0, NULL);
	removed("9-1", "/dev/bus/usb/009/002");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x0525, 0xb4a4, 0x0500);
	run(5);
	assert_int_equal(fs.spl_starts, 0);
	assert_int_equal(state_of("9-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "has no SDPV lines for this SPL gadget "
					  "(0525:b4a4 bcdDevice 0x0500)"));
}

/* a plan without SPL lines: an SPL gadget after the jump is a failure */
static void test_spl_not_in_plan(void **state)
{
	rom("2-1", "/dev/bus/usb/002/002");
	run(5);
	live()->next = 1;
	live()->ev.done(live()->ev.ud, 0, NULL);
	removed("2-1", "/dev/bus/usb/002/002");
	spl_dev("2-1", "/dev/bus/usb/002/003", 0x0525, 0xb4a4, 0x0500);
	assert_int_equal(state_of("2-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "no SDPU:/SDPV: lines"));
	assert_string_equal(rec_str("failed_step"), "wait-reenum");
}

/* Toradex's 1b67:4fff is not in uuu's table: without a CFG line it is
 * just another device; an SPL gadget on a port flashd never saw is left alone */
static void test_spl_unknown_ids(void **state)
{
	spl_station(SPL_PLAN);
	spl_dev("9-7", "/dev/bus/usb/009/020", 0x0525, 0xb4a4, 0x0500);
	assert_null(find_port("9-7"));
	rom_stage("9-1");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x1b67, 0x4fff, 0x0500);
	assert_int_equal(state_of("9-1"), PORT_STATE_WAIT_REENUM);   /* no SPL session */
	run(1200);   /* reenum-timeout 1s: the device is still there */
	assert_int_equal(state_of("9-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "unexpected device"));
}

/* IDs from the plan's CFG: SDPU:/SDPV: lines, with their bcdDevice range */
static void test_spl_cfg_ids(void **state)
{
	spl_station(SPL_PLAN "CFG: SDPV: -vid 0x1b67 -pid 0x4fff -bcdmin 0x0500 -bcdmax 0x0600\n"
			     "CFG: SDPU: -vid 0x1b67 -pid 0x4ffe -bcdversion 0x0100\n");
	rom_stage("9-1");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x1b67, 0x4fff, 0x0500);
	assert_int_equal(state_of("9-1"), PORT_STATE_SPL);
	run(5);
	assert_int_equal(live()->spl, PLAN_PROTO_SDPV);
	assert_int_equal(live()->first, 4);
	rom_stage("9-2");
	spl_dev("9-2", "/dev/bus/usb/009/013", 0x1b67, 0x4ffe, 0x0100);
	assert_int_equal(state_of("9-2"), PORT_STATE_SPL);
	run(5);
	assert_int_equal(live()->spl, PLAN_PROTO_SDPU);
	assert_int_equal(live()->first, 1);
	/* the same VID:PID outside the line's bcdDevice range is no SPL */
	rom_stage("9-3");
	spl_dev("9-3", "/dev/bus/usb/009/023", 0x1b67, 0x4fff, 0x0700);
	assert_int_equal(state_of("9-3"), PORT_STATE_WAIT_REENUM);   /* no SPL session */
	run(1200);
	assert_int_equal(state_of("9-3"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "unexpected device"));
}

/* An SDPV board of SPL_PLAN on 9-1 past the ROM stage, its SPL session
 * started: that session. */
static struct fake_sess *spl_running(void)
{
	spl_station(SPL_PLAN);
	rom_stage("9-1");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x0525, 0xb4a4, 0x0500);
	run(5);
	return live();
}

/* the SPL unplugged mid-write */
static void test_spl_unplug(void **state)
{
	struct fake_sess *s;

	s = spl_running();
	s->ev.step(s->ev.ud, 5, "SDPV: write -f raw.bin -skipspl");
	s->ev.progress(s->ev.ud, 1024, 3840);
	removed("9-1", "/dev/bus/usb/009/003");
	s->ev.done(s->ev.ud, -ENODEV, "SDPV: write -f raw.bin -skipspl: gone");
	assert_int_equal(state_of("9-1"), PORT_STATE_FAILED);
	assert_string_equal(rec_str("failed_step"), "SDPV: write -f raw.bin -skipspl");
	assert_non_null(strstr(rec_str("reason"), "board disconnected"));
}

/* the ROM back after the SPL's jump: U-Boot did not start */
static void test_spl_then_rom(void **state)
{
	struct fake_sess *s;

	s = spl_running();
	s->next = 7;
	s->ev.done(s->ev.ud, 0, NULL);
	removed("9-1", "/dev/bus/usb/009/003");
	rom("9-1", "/dev/bus/usb/009/005");
	assert_int_equal(state_of("9-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "U-Boot did not start"));
	/* the port's state string as status shows it */
	assert_string_equal(port_state_to_string(PORT_STATE_SPL), "spl-sdp");
}

/* a plan switched while the board waits: its SPL stage runs the plan it
 * started with */
static void test_spl_keeps_board_plan(void **state)
{
	char path[128], err[256];
	struct plan *other = NULL;

	spl_station(SPL_PLAN);
	rom_stage("9-1");
	snprintf(path, sizeof(path), "%s/b.lst", dir);
	assert_int_equal(plan_load(path, NULL, 0, 0, &other, err, sizeof(err)), 0);
	plan_unref(st->plans.plan);
	st->plans.plan = other;   /* as `flashctl use b.lst` would */
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x0525, 0xb4a4, 0x0500);
	assert_int_equal(state_of("9-1"), PORT_STATE_SPL);
	run(5);
	assert_int_equal(live()->first, 4);
	assert_int_equal(live()->spl, PLAN_PROTO_SDPV);
}

/* the SDP/SPL stall deadline leaves room for every retry of a step's
 * three transfers and the HID setup: 11 transfer timeouts + the margin */
static void test_sdp_stall_covers_retries(void **state)
{
	write_conf("plan = a.lst", "sdp-timeout = 2s\n");
	st = station_free(st);
	assert_int_equal(start_station(), 0);
	assert_int_equal(st->port_cfg.sdp_stall_ms,
			 (3 * (1 + SESSION_SDP_RETRIES) + 2) * 2000 + 30000);
}

/* the SPL enumerated before the ROM session's verdict on its jump */
static void test_spl_before_verdict(void **state)
{
	struct fake_sess *s;

	spl_station(SPL_PLAN);
	rom("9-1", "/dev/bus/usb/009/002");
	run(5);
	s = live();
	removed("9-1", "/dev/bus/usb/009/002");
	spl_dev("9-1", "/dev/bus/usb/009/003", 0x0525, 0xb4a4, 0x0500);
	assert_int_equal(state_of("9-1"), PORT_STATE_SDP);
	s->next = 1;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_int_equal(state_of("9-1"), PORT_STATE_SPL);
	run(5);
	assert_int_equal(fs.spl_starts, 1);
	assert_int_equal(live()->first, 4);
	assert_string_equal(live()->dev->node, "/dev/bus/usb/009/003");
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
const struct CMUnitTest station_spl_tests[] = {
	T(test_spl_sdpv),
	T(test_spl_sdpu),
	T(test_spl_ids),
	T(test_spl_plan_fastboot_direct),
	T(test_full_uboot_fastboot_direct),
	T(test_spl_flavour_missing),
	T(test_spl_not_in_plan),
	T(test_spl_unknown_ids),
	T(test_spl_cfg_ids),
	T(test_spl_unplug),
	T(test_spl_then_rom),
	T(test_spl_keeps_board_plan),
	T(test_sdp_stall_covers_retries),
	T(test_spl_before_verdict),
};
#undef T
const size_t station_spl_ntests = sizeof(station_spl_tests) / sizeof(station_spl_tests[0]);
