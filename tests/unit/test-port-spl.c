/* test-port-spl: the SPL stage of the port machine -- the ROM's jump
 * followed by U-Boot SPL's SDP gadget (SPL, "spl-sdp"), its own wait for
 * fastboot, which devices each wait accepts, deadlines and unplugs. */
#include "flashd/port.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "port_drive.h"

static void test_spl_strings(void **state)
{
	assert_string_equal(port_state_to_string(PORT_STATE_SPL), "spl-sdp");
	assert_int_equal(port_state_from_string("spl-sdp"), PORT_STATE_SPL);
	assert_string_equal(port_dev_to_string(PORT_DEV_SPL), "spl");
	assert_string_equal(port_action_type_to_string(PORT_ACT_START_SPL), "start-spl");
	assert_false(port_state_is_final(PORT_STATE_SPL));
}

static void test_rom_then_spl(void **state)
{
	struct port p;

	to_wait_spl(&p);
	assert_true(p.spl_next);
	assert_int_equal(p.spl_step, 1);
	assert_int_equal(p.next_step, 3);
	expect_timer(T0 + 200 + test_cfg.reenum_ms);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	assert_int_equal(added(&p, PORT_DEV_SPL, NULL, T0 + 1000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_SPL);
	expect_timer(T0 + 1000 + test_cfg.sdp_stall_ms);
	assert_int_equal(acts[find(PORT_ACT_START_SPL)].first_step, 1);
	assert_int_equal(find(PORT_ACT_START_FASTBOOT), -1);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_true(port_is_busy(&p));
	/* the SPL stage's steps are steps like the others */
	step(&p, 1, "SDPV: write -f u-boot.img", T0 + 1100);
	assert_int_equal(find(PORT_ACT_STEP_END), -1); /* the ROM's steps ended at its jump */
	progress(&p, 100, 200, T0 + 1150);
	assert_int_equal(step(&p, 2, "SDPV: jump", T0 + 1200), 2);
	assert_int_equal(acts[find(PORT_ACT_STEP_END)].step_end.index, 1);
	assert_int_equal(acts[find(PORT_ACT_STEP_END)].step_end.bytes, 100);
	assert_int_equal(acts[find(PORT_ACT_STEP_END)].step_end.ms, 100);
	/* SPL jumped: wait for fastboot, its own deadline */
	assert_true(sdone(&p, 0, NULL, true, 3, T0 + 1300) > 0);
	expect_state_change(PORT_STATE_SPL, PORT_STATE_WAIT_REENUM);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	assert_int_equal(acts[find(PORT_ACT_STEP_END)].step_end.index, 2);
	expect_timer(T0 + 1300 + test_cfg.reenum_ms);
	assert_true(p.spl_ran);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "s", T0 + 2000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FASTBOOT);
	assert_int_equal(acts[find(PORT_ACT_START_FASTBOOT)].first_step, 3);
	step(&p, 3, "FB: flash rootfs r", T0 + 2100);
	progress(&p, 1000, 1000, T0 + 2200);
	sdone(&p, 0, NULL, false, 0, T0 + 3000);
	assert_int_equal(p.state, PORT_STATE_DONE);
	assert_int_equal(p.result, PORT_RESULT_OK);
	assert_int_equal(port_bytes(&p), 4096 + 100 + 1000);
}

/* plan with SPL lines, but the ROM ran a full U-Boot: fastboot comes
 * straight away and the FB lines run (uuu does the same) */
static void test_rom_then_fastboot_skips_spl(void **state)
{
	struct port p;

	to_wait_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 1000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FASTBOOT);
	assert_int_equal(acts[find(PORT_ACT_START_FASTBOOT)].first_step, 3);
	assert_int_equal(find(PORT_ACT_START_SPL), -1);
}

/* the ROM got an SPL (plan_boots_spl) and fastboot came instead of the SPL's
 * SDP gadget: the SPL started a U-Boot of its own, not the plan's -- failed */
static void test_spl_required_fastboot_fails(void **state)
{
	struct port p;
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };

	(void)state;
	to_sdp(&p);
	progress(&p, 4096, 4096, T0 + 100);
	ev.session_done.more = true;
	ev.session_done.next_step = 3;
	ev.session_done.spl = true;
	ev.session_done.spl_step = 1;
	ev.session_done.spl_required = true;
	feed(&p, &ev, T0 + 200);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	assert_true(p.spl_required);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 1000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	assert_non_null(strstr(p.reason, "the plan's SPL stage did not run"));
	assert_int_equal(find(PORT_ACT_START_FASTBOOT), -1);
}

/* a plan without SPL lines: an SPL gadget after the ROM's jump fails */
static void test_spl_without_spl_lines(void **state)
{
	struct port p;

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(added(&p, PORT_DEV_SPL, NULL, T0 + 1000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	assert_non_null(strstr(p.reason, "no SDPU:/SDPV: lines"));
	assert_string_equal(p.failed_step, "wait-reenum");
}

static void test_wait_spl_rom_back(void **state)
{
	struct port p;

	to_wait_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(&p, PORT_DEV_ROM, NULL, T0 + 900);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "boot ROM"));
	assert_non_null(strstr(p.reason, "SPL or U-Boot did not start"));
	/* after the SPL stage: U-Boot did not start */
	to_wait_after_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	added(&p, PORT_DEV_ROM, NULL, T0 + 1900);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	assert_non_null(strstr(p.reason, "boot ROM, not fastboot: U-Boot did not start"));
}

/* after the SPL stage only fastboot ends the wait */
static void test_wait_after_spl_accepts_fastboot_only(void **state)
{
	struct port p;

	to_wait_after_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	added(&p, PORT_DEV_SPL, NULL, T0 + 1900);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_int_equal(find(PORT_ACT_START_SPL), -1);
	assert_non_null(strstr(p.reason, "SPL's SDP gadget after the SPL's jump"));
	to_wait_after_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	added(&p, PORT_DEV_OTHER, NULL, T0 + 1900);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	simple(&p, PORT_EV_DEADLINE, T0 + 1900 + test_cfg.reenum_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "unexpected device, not fastboot"));
	to_wait_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(&p, PORT_DEV_OTHER, NULL, T0 + 900);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	simple(&p, PORT_EV_DEADLINE, T0 + 900 + test_cfg.reenum_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "not the SPL or fastboot"));
}

static void test_wait_timeouts(void **state)
{
	struct port p;

	to_wait_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms - 1), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "no SPL SDP or fastboot device"));
	assert_non_null(strstr(p.reason, "after the jump"));
	to_wait_after_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1300 + test_cfg.reenum_ms), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "no fastboot device"));
	assert_non_null(strstr(p.reason, "after the SPL's jump"));
	assert_string_equal(p.failed_step, "wait-reenum");
}

static void test_spl_stall(void **state)
{
	struct port p;

	to_spl(&p);
	progress(&p, 10, 100, T0 + 5000);
	/* the first deadline is re-armed from the last activity */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1000 + test_cfg.sdp_stall_ms), 1);
	expect_timer(T0 + 5000 + test_cfg.sdp_stall_ms);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 5000 + test_cfg.sdp_stall_ms), 5);
	expect_state_change(PORT_STATE_SPL, PORT_STATE_FAILED);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	assert_non_null(strstr(p.reason, "stalled"));
	assert_string_equal(p.failed_step, "SDPV: write -f u-boot.img");
}

static void test_spl_failed(void **state)
{
	struct port p;

	to_spl(&p);
	assert_true(sdone(&p, -EPROTO, "SDPV: write -f u-boot.img: bad status", false, 0,
			  T0 + 1500) > 0);
	expect_state_change(PORT_STATE_SPL, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	assert_string_equal(p.failed_step, "SDPV: write -f u-boot.img");
	assert_false(acts[find(PORT_ACT_STEP_END)].step_end.ok);
	/* last SPL step done and nothing after it: the board is done */
	to_spl(&p);
	sdone(&p, 0, NULL, false, 9, T0 + 1500);
	assert_int_equal(p.state, PORT_STATE_DONE);
}

static void test_spl_unplug(void **state)
{
	struct port p;

	to_spl(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 1500), 1);
	expect_timer(T0 + 1500 + test_cfg.gone_grace_ms);
	assert_int_equal(p.state, PORT_STATE_SPL);
	/* the session saw it too */
	sdone(&p, -ENODEV, "SDPV: jump: gone", false, 0, T0 + 1600);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "board disconnected"));
	/* no verdict from the session: the grace runs out */
	to_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1500);
	simple(&p, PORT_EV_DEADLINE, T0 + 1500 + test_cfg.gone_grace_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "board disconnected");
	/* an I/O error first, then the removal */
	to_spl(&p);
	sdone(&p, -EIO, "SDPV: write: data report: I/O error", false, 0, T0 + 1500);
	assert_int_equal(p.state, PORT_STATE_SPL);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1600);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "board disconnected: SDPV: write"));
}

/* a board unplugged while waiting stays waiting; a new one is not taken for it */
static void test_unplug_in_waits(void **state)
{
	struct port p;

	to_wait_spl(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 300), 0);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	to_wait_after_spl(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400), 0);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
}

static void test_spl_abort_and_uid(void **state)
{
	struct port p;

	to_spl(&p);
	/* a UID only comes from the ROM */
	assert_int_equal(uid(&p, 42, T0 + 1200), 0);
	assert_false(p.have_uid);
	assert_true(simple(&p, PORT_EV_ABORT, T0 + 1300) > 0);
	expect_state_change(PORT_STATE_SPL, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_ABORTED);
	expect_session_ignored(&p, 2, 10, T0 + 1400);
}

/* a new board: the SPL flags of the last one are gone */
static void test_spl_flags_reset(void **state)
{
	struct port p;

	to_wait_after_spl(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1400);
	simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
	simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	added(&p, PORT_DEV_ROM, NULL, p.state_ms + 100);
	assert_int_equal(p.state, PORT_STATE_SDP);
	assert_false(p.spl_ran);
	assert_false(p.spl_next);
	sdone(&p, 0, NULL, true, 1, p.state_ms + 100);
	simple(&p, PORT_EV_DEV_REMOVED, p.state_ms + 200);
	added(&p, PORT_DEV_SPL, NULL, p.state_ms + 300);
	assert_int_equal(p.state, PORT_STATE_FAILED);
}

/* an SPL gadget on an idle port is left alone */
static void test_spl_on_empty(void **state)
{
	struct port p;

	setup_port(&p);
	assert_int_equal(added(&p, PORT_DEV_SPL, NULL, T0), 0);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	assert_int_equal(p.dev, PORT_DEV_SPL);
	simple(&p, PORT_EV_PAUSE, T0 + 1);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 2);
	assert_int_equal(added(&p, PORT_DEV_SPL, NULL, T0 + 3), 0);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
}

/* the ROM left and the SPL (or fastboot) came while the session still
 * drained its jump: its verdict moves the port straight on */
static void test_next_device_before_verdict(void **state)
{
	struct port p;

	to_sdp(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 100);
	assert_true(p.gone);
	added(&p, PORT_DEV_SPL, NULL, T0 + 900);
	assert_int_equal(p.state, PORT_STATE_SDP);
	assert_true(sdone_spl(&p, 0, NULL, 1, 3, T0 + 1000) > 0);
	assert_int_equal(p.state, PORT_STATE_SPL);
	assert_int_equal(acts[find(PORT_ACT_START_SPL)].first_step, 1);
	assert_int_equal(count(PORT_ACT_STATE), 2);
	assert_true((size_t)nacts <= PORT_ACTIONS_MAX);
	/* after the SPL: fastboot came first */
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1100);
	added(&p, PORT_DEV_FASTBOOT, "s", T0 + 1200);
	assert_int_equal(p.state, PORT_STATE_SPL);
	sdone(&p, 0, NULL, true, 3, T0 + 1300);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
	assert_int_equal(acts[find(PORT_ACT_START_FASTBOOT)].first_step, 3);
	/* the ROM still listed at the verdict: wait as usual */
	to_sdp(&p);
	sdone_spl(&p, 0, NULL, 1, 3, T0 + 1000);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	assert_int_equal(p.dev, PORT_DEV_ROM);
}

const struct CMUnitTest port_spl_tests[] = {
	cmocka_unit_test(test_next_device_before_verdict),
	cmocka_unit_test(test_spl_strings),
	cmocka_unit_test(test_rom_then_spl),
	cmocka_unit_test(test_rom_then_fastboot_skips_spl),
	cmocka_unit_test(test_spl_required_fastboot_fails),
	cmocka_unit_test(test_spl_without_spl_lines),
	cmocka_unit_test(test_wait_spl_rom_back),
	cmocka_unit_test(test_wait_after_spl_accepts_fastboot_only),
	cmocka_unit_test(test_wait_timeouts),
	cmocka_unit_test(test_spl_stall),
	cmocka_unit_test(test_spl_failed),
	cmocka_unit_test(test_spl_unplug),
	cmocka_unit_test(test_unplug_in_waits),
	cmocka_unit_test(test_spl_abort_and_uid),
	cmocka_unit_test(test_spl_flags_reset),
	cmocka_unit_test(test_spl_on_empty),
};
const size_t port_spl_ntests = sizeof(port_spl_tests) / sizeof(port_spl_tests[0]);
