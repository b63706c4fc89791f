/* test-port: the per-port state machine, every transition, every deadline,
 * an unplug in every state, operator actions in every state. This file: the
 * running states (EMPTY, SDP, WAIT_REENUM, FASTBOOT); test-port-latch.c: the
 * rest; port_drive.c: the helpers. */
#include "flashd/port.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "port_drive.h"

static void test_final_states(void **state)
{
	for (int s = 0; s < _PORT_STATE_MAX; s++)
		assert_int_equal(port_state_is_final((enum port_state)s),
				 s == PORT_STATE_DONE || s == PORT_STATE_FAILED ||
				 s == PORT_STATE_BOOT_LOOP);
	assert_false(port_state_is_final(_PORT_STATE_MAX));
}

static void test_strings(void **state)
{
	for (int s = 0; s < _PORT_STATE_MAX; s++) {
		const char *n = port_state_to_string((enum port_state)s);

		assert_non_null(n);
		assert_int_equal(port_state_from_string(n), s);
	}
	assert_string_equal(port_state_to_string(PORT_STATE_WAIT_REENUM), "wait-reenum");
	assert_string_equal(port_state_to_string(PORT_STATE_BOOT_LOOP), "boot-loop");
	assert_null(port_state_to_string(_PORT_STATE_MAX));
	assert_null(port_state_to_string((enum port_state)-1));
	assert_int_equal(port_state_from_string("nope"), -EINVAL);
	assert_int_equal(port_state_from_string(""), -EINVAL);
	assert_int_equal(port_state_from_string(NULL), -EINVAL);
	assert_null(port_result_to_string(PORT_RESULT_NONE));
	assert_string_equal(port_result_to_string(PORT_RESULT_OK), "ok");
	assert_string_equal(port_result_to_string(PORT_RESULT_FAILED), "failed");
	assert_string_equal(port_result_to_string(PORT_RESULT_BOOT_LOOP), "boot-loop");
	assert_string_equal(port_result_to_string(PORT_RESULT_ABORTED), "aborted");
	assert_null(port_result_to_string(_PORT_RESULT_MAX));
	for (int d = 0; d < _PORT_DEV_MAX; d++)
		assert_non_null(port_dev_to_string((enum port_dev)d));
	assert_null(port_dev_to_string(_PORT_DEV_MAX));
	for (int e = 0; e < _PORT_EV_MAX; e++)
		assert_non_null(port_event_type_to_string((enum port_event_type)e));
	assert_null(port_event_type_to_string(_PORT_EV_MAX));
	for (int a = 0; a < _PORT_ACT_MAX; a++)
		assert_non_null(port_action_type_to_string((enum port_action_type)a));
	assert_null(port_action_type_to_string(_PORT_ACT_MAX));
}

static void test_init(void **state)
{
	struct port p;
	char longname[200];

	setup_port(&p);
	assert_string_equal(p.name, "1-1.4");
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	assert_int_equal(p.dev, PORT_DEV_NONE);
	assert_int_equal(p.deadline_ms, 0);
	assert_false(port_is_busy(&p));
	assert_int_equal(port_bytes(&p), 0);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	port_init(&p, longname, &test_cfg);
	assert_int_equal(strlen(p.name), PORT_NAME_MAX - 1);
}

static void test_bad_args(void **state)
{
	struct port p;
	struct port_event ev = { .type = PORT_EV_PAUSE };
	struct port_action few[PORT_ACTIONS_MAX - 1];

	setup_port(&p);
	assert_int_equal(port_handle(&p, &ev, T0, few, PORT_ACTIONS_MAX - 1), -EINVAL);
	assert_false(p.paused);
	assert_int_equal(port_handle(NULL, &ev, T0, acts, PORT_ACTIONS_MAX), -EINVAL);
	assert_int_equal(port_handle(&p, NULL, T0, acts, PORT_ACTIONS_MAX), -EINVAL);
	assert_int_equal(port_handle(&p, &ev, T0, NULL, PORT_ACTIONS_MAX), -EINVAL);
	ev.type = _PORT_EV_MAX;
	assert_int_equal(feed(&p, &ev, T0), -EINVAL);
	ev.type = (enum port_event_type)-1;
	assert_int_equal(feed(&p, &ev, T0), -EINVAL);
	assert_int_equal(added(&p, PORT_DEV_NONE, NULL, T0), -EINVAL);
	assert_int_equal(added(&p, _PORT_DEV_MAX, NULL, T0), -EINVAL);
	assert_int_equal(added(&p, (enum port_dev)77, NULL, T0), -EINVAL);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	assert_int_equal(p.dev, PORT_DEV_NONE);
}

/* ---- EMPTY ---- */

static void test_empty_rom(void **state)
{
	struct port p;

	setup_port(&p);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0), 3);
	assert_int_equal(acts[0].type, PORT_ACT_STATE);
	assert_int_equal(acts[0].state.old, PORT_STATE_EMPTY);
	assert_int_equal(acts[0].state.new, PORT_STATE_SDP);
	assert_int_equal(acts[1].type, PORT_ACT_TIMER);
	assert_int_equal(acts[1].deadline_ms, T0 + test_cfg.sdp_stall_ms);
	assert_int_equal(acts[2].type, PORT_ACT_START_SDP);
	assert_int_equal(p.dev, PORT_DEV_ROM);
	assert_int_equal(p.start_ms, T0);
	assert_true(port_is_busy(&p));
	assert_int_equal(p.step_index, PORT_STEP_NONE);
}

static void test_empty_fastboot_restore(void **state)
{
	struct port p;

	setup_port(&p);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "SER1", T0), 3);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_FASTBOOT);
	expect_timer(T0 + test_cfg.fastboot_stall_ms);
	assert_true(find(PORT_ACT_START_FASTBOOT) >= 0);
	assert_int_equal(acts[find(PORT_ACT_START_FASTBOOT)].first_step, PORT_STEP_FIRST_FB);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_string_equal(p.serial, "SER1");
}

static void test_empty_other_and_unplug(void **state)
{
	struct port p;

	setup_port(&p);
	assert_int_equal(added(&p, PORT_DEV_OTHER, "KBD", T0), 0);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	assert_int_equal(p.dev, PORT_DEV_OTHER);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 1), 0);
	assert_int_equal(p.dev, PORT_DEV_NONE);
	/* a removal with nothing present is ignored */
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 2), 0);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
}

static void test_empty_ignores_session_events(void **state)
{
	struct port p;

	setup_port(&p);
	assert_int_equal(step(&p, 0, "x", T0), 0);
	assert_int_equal(progress(&p, 1, 2, T0), 0);
	assert_int_equal(uid(&p, 1, T0), 0);
	assert_int_equal(sdone(&p, 0, NULL, false, 0, T0), 0);
	assert_int_equal(sdone(&p, -EIO, "x", false, 0, T0), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 999999), 0);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
	assert_int_equal(p.step_index, PORT_STEP_NONE);
	assert_int_equal(p.bytes, 0);
	assert_false(p.have_uid);
}

/* ---- SDP ---- */

static void test_sdp_steps_and_progress(void **state)
{
	struct port p;
	int i;

	setup_port(&p);
	added(&p, PORT_DEV_ROM, NULL, T0);
	assert_int_equal(step(&p, 0, "SDP: boot -f u-boot.imx", T0 + 10), 1);
	assert_int_equal(acts[0].type, PORT_ACT_PROGRESS);
	assert_int_equal(p.step_index, 0);
	assert_string_equal(p.step, "SDP: boot -f u-boot.imx");
	/* rate limited */
	assert_int_equal(progress(&p, 1024, 8192, T0 + 20), 0);
	assert_int_equal(p.bytes, 1024);
	assert_int_equal(p.total, 8192);
	assert_int_equal(progress(&p, 2048, 8192, T0 + 200), 0);
	assert_int_equal(progress(&p, 3072, 8192, T0 + 260), 1);
	assert_int_equal(acts[0].type, PORT_ACT_PROGRESS);
	/* the last chunk is always published */
	assert_int_equal(progress(&p, 8192, 8192, T0 + 270), 1);
	assert_int_equal(port_rate(&p, T0 + 1010), 8192);
	assert_int_equal(port_rate(&p, T0 + 10), 0);
	/* a second step ends the first with its duration and bytes */
	assert_int_equal(step(&p, 1, "SDP: jump", T0 + 500), 2);
	i = find(PORT_ACT_STEP_END);
	assert_int_equal(i, 0);
	assert_int_equal(acts[i].step_end.index, 0);
	assert_int_equal(acts[i].step_end.ms, 490);
	assert_int_equal(acts[i].step_end.bytes, 8192);
	assert_true(acts[i].step_end.ok);
	assert_int_equal(port_bytes(&p), 8192);
	assert_int_equal(p.bytes, 0);
	assert_int_equal(p.state, PORT_STATE_SDP);
}

static void test_sdp_done_more(void **state)
{
	struct port p;
	int i;

	to_sdp(&p);
	progress(&p, 4096, 4096, T0 + 100);
	assert_int_equal(sdone(&p, 0, NULL, true, 3, T0 + 200), 4);
	assert_int_equal(acts[0].type, PORT_ACT_STEP_END);
	assert_true(acts[0].step_end.ok);
	assert_int_equal(acts[0].step_end.bytes, 4096);
	assert_int_equal(acts[1].type, PORT_ACT_STOP_SESSION);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_WAIT_REENUM);
	expect_timer(T0 + 200 + test_cfg.reenum_ms);
	assert_int_equal(p.next_step, 3);
	assert_int_equal(p.step_index, PORT_STEP_NONE);
	assert_int_equal(port_bytes(&p), 4096);
	assert_true(port_is_busy(&p));
	i = find(PORT_ACT_RESULT);
	assert_int_equal(i, -1);
}

static void test_sdp_done_only_sdp(void **state)
{
	struct port p;

	to_sdp(&p);
	assert_int_equal(sdone(&p, 0, NULL, false, 1, T0 + 200), 5);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_DONE);
	expect_result(PORT_RESULT_OK);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	/* the ROM device is still listed: no settle deadline yet */
	expect_timer(0);
	assert_true(p.have_done);
	assert_int_equal(p.done_ms, T0 + 200);
	assert_int_equal(p.end_ms, T0 + 200);
}

static void test_sdp_failed(void **state)
{
	struct port p;
	int i;

	to_sdp(&p);
	progress(&p, 2048, 8192, T0 + 100);
	assert_int_equal(sdone(&p, -ETIMEDOUT, "WRITE_FILE: no status", false, 0, T0 + 300), 5);
	i = find(PORT_ACT_STEP_END);
	assert_int_equal(i, 0);
	assert_false(acts[i].step_end.ok);
	assert_int_equal(acts[i].step_end.bytes, 2048);
	assert_int_equal(acts[1].type, PORT_ACT_STOP_SESSION);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_FAILED);
	expect_timer(0);
	expect_result(PORT_RESULT_FAILED);
	assert_string_equal(p.failed_step, "SDP: boot -f u-boot.imx");
	assert_string_equal(p.reason, "WRITE_FILE: no status");
	assert_int_equal(port_bytes(&p), 2048);
	assert_false(p.have_done);
}

static void test_fastboot_enodev_is_disconnect(void **state)
{
	struct port p;

	/* the session sees the board leave before udev reports it */
	to_fastboot(&p);
	sdone(&p, -ENODEV, "no reply to \"download\"", false, 0, T0 + 2000);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "board disconnected: no reply to \"download\"");
}

static void test_io_error_then_unplug(void **state)
{
	struct port p;

	/* an I/O error: wait for a removal to call it a disconnect */
	to_fastboot(&p);
	progress(&p, 600, 1000, T0 + 1500);
	assert_int_equal(sdone(&p, -EIO, "no reply to \"download\"", false, 0, T0 + 2000), 1);
	expect_timer(T0 + 2000 + test_cfg.gone_grace_ms);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
	assert_true(p.failing);
	/* late session events change nothing */
	assert_int_equal(step(&p, 5, "late", T0 + 2001), 0);
	assert_int_equal(progress(&p, 999, 1000, T0 + 2001), 0);
	assert_int_equal(sdone(&p, 0, NULL, false, 0, T0 + 2001), 0);
	assert_int_equal(p.bytes, 600);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 2100), 5);
	expect_state_change(PORT_STATE_FASTBOOT, PORT_STATE_FAILED);
	expect_timer(T0 + 2100 + test_cfg.settle_ms);
	assert_string_equal(p.reason, "board disconnected: no reply to \"download\"");
	assert_string_equal(p.failed_step, "FB: flash rootfs rootfs.ext4");
	assert_int_equal(port_bytes(&p), 4096 + 600);
	assert_false(p.failing);
}

static void test_io_error_device_stays(void **state)
{
	struct port p;

	to_sdp(&p);
	sdone(&p, -EIO, "bad status", false, 0, T0 + 100);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 100 + test_cfg.gone_grace_ms - 1), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 100 + test_cfg.gone_grace_ms), 5);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "bad status");
	expect_timer(0);
	/* abort while the verdict is pending: aborted */
	to_sdp(&p);
	sdone(&p, -EIO, "x", false, 0, T0 + 100);
	assert_true(simple(&p, PORT_EV_ABORT, T0 + 200) > 0);
	assert_int_equal(p.result, PORT_RESULT_ABORTED);
	/* a stall or a protocol error is not an unplug: immediate */
	to_sdp(&p);
	sdone(&p, -EPIPE, "stall", false, 0, T0 + 100);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "stall");
	to_sdp(&p);
	sdone(&p, -EPROTO, "unexpected OKAY", false, 0, T0 + 100);
	assert_int_equal(p.state, PORT_STATE_FAILED);
}

static void test_sdp_failed_before_any_step(void **state)
{
	struct port p;

	setup_port(&p);
	added(&p, PORT_DEV_ROM, NULL, T0);
	assert_int_equal(sdone(&p, -EACCES, NULL, false, 0, T0 + 1000), 4);
	assert_int_equal(find(PORT_ACT_STEP_END), -1);
	assert_string_equal(p.failed_step, "sdp");
	assert_string_equal(p.reason, strerror(EACCES));
	assert_int_equal(p.state, PORT_STATE_FAILED);
	sdone(&p, -EACCES, "", false, 0, T0 + 1000);
	assert_int_equal(nacts, 0);
}

static void test_sdp_stall_deadline(void **state)
{
	struct port p;
	uint64_t dl;

	to_sdp(&p);
	dl = p.deadline_ms;
	assert_int_equal(dl, T0 + test_cfg.sdp_stall_ms);
	/* early or stale timer: nothing */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, dl - 1), 0);
	/* activity moves the deadline lazily */
	progress(&p, 10, 100, T0 + 5000);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, dl), 1);
	expect_timer(T0 + 5000 + test_cfg.sdp_stall_ms);
	assert_int_equal(p.state, PORT_STATE_SDP);
	/* then silence */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 5000 + test_cfg.sdp_stall_ms), 5);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	assert_non_null(strstr(p.reason, "stalled"));
	assert_non_null(strstr(p.reason, "10000 ms"));
}

static void test_sdp_unplug(void **state)
{
	struct port p;

	to_sdp(&p);
	progress(&p, 1024, 8192, T0 + 100);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 200), 1);
	expect_timer(T0 + 200 + test_cfg.gone_grace_ms);
	assert_int_equal(p.state, PORT_STATE_SDP);
	assert_true(p.gone);
	/* a second removal changes nothing */
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 300), 0);
	/* the session's own verdict names the cause */
	assert_int_equal(sdone(&p, -ENODEV, "WRITE_FILE: no device", false, 0, T0 + 250), 5);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_FAILED);
	expect_timer(T0 + 250 + test_cfg.settle_ms);
	assert_string_equal(p.reason, "board disconnected: WRITE_FILE: no device");
	assert_int_equal(port_bytes(&p), 1024);
	assert_false(p.gone);
}

static void test_sdp_unplug_grace_expires(void **state)
{
	struct port p;

	to_sdp(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 200);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.gone_grace_ms), 5);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_FAILED);
	expect_timer(T0 + 1200 + test_cfg.settle_ms);
	assert_string_equal(p.reason, "board disconnected");
	assert_string_equal(p.failed_step, "SDP: boot -f u-boot.imx");
	/* settle → EMPTY */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1200 + test_cfg.settle_ms), 2);
	expect_state_change(PORT_STATE_FAILED, PORT_STATE_EMPTY);
	expect_timer(0);
}

static void test_sdp_unplug_after_jump(void **state)
{
	struct port p;

	/* the jump makes the ROM leave; the session still reports success */
	to_sdp(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 200);
	assert_int_equal(sdone(&p, 0, NULL, true, 1, T0 + 210), 4);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_WAIT_REENUM);
	expect_timer(T0 + 210 + test_cfg.reenum_ms);
	assert_int_equal(p.dev, PORT_DEV_NONE);
}

static void test_sdp_replug_during_grace(void **state)
{
	struct port p;

	to_sdp(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 200);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 300), 0);
	assert_int_equal(p.state, PORT_STATE_SDP);
	assert_true(p.gone);
	sdone(&p, -ENODEV, "gone", false, 0, T0 + 400);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	/* the board is present: latched, no settle */
	expect_timer(0);
}

static void test_sdp_uid(void **state)
{
	struct port p;

	to_sdp(&p);
	assert_int_equal(uid(&p, 0x1122334455667788ull, T0 + 50), 0);
	assert_true(p.have_uid);
	assert_int_equal(p.uid, 0x1122334455667788ull);
	assert_int_equal(p.state, PORT_STATE_SDP);
	/* outside SDP the UID is ignored */
	to_wait(&p);
	assert_int_equal(uid(&p, 5, T0 + 400), 0);
	assert_false(p.have_uid);
}

static void test_sdp_pause_does_not_stop(void **state)
{
	struct port p;

	to_sdp(&p);
	assert_int_equal(simple(&p, PORT_EV_PAUSE, T0 + 10), 0);
	assert_int_equal(p.state, PORT_STATE_SDP);
	sdone(&p, 0, NULL, true, 1, T0 + 20);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 30);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
	assert_int_equal(simple(&p, PORT_EV_RESUME, T0 + 40), 0);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
}

/* ---- WAIT_REENUM ---- */

static void test_wait_rom_leaves_fastboot_comes(void **state)
{
	struct port p;
	int i;

	to_wait(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 300), 0);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "ABC", T0 + 2000), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FASTBOOT);
	expect_timer(T0 + 2000 + test_cfg.fastboot_stall_ms);
	i = find(PORT_ACT_START_FASTBOOT);
	assert_true(i >= 0);
	assert_int_equal(acts[i].first_step, 1);
	assert_int_equal(find(PORT_ACT_STOP_SESSION), -1);
	assert_string_equal(p.serial, "ABC");
}

static void test_wait_fastboot_before_rom_removal(void **state)
{
	struct port p;

	to_wait(&p);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 500), 3);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
}

static void test_wait_timeout(void **state)
{
	struct port p;

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms - 1), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	assert_int_equal(find(PORT_ACT_STOP_SESSION), -1);
	assert_int_equal(find(PORT_ACT_STEP_END), -1);
	expect_timer(T0 + 200 + test_cfg.reenum_ms + test_cfg.settle_ms);
	expect_result(PORT_RESULT_FAILED);
	assert_string_equal(p.failed_step, "wait-reenum");
	assert_non_null(strstr(p.reason, "15000 ms"));
}

static void test_wait_back_to_rom(void **state)
{
	struct port p;

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 900), 3);
	expect_state_change(PORT_STATE_WAIT_REENUM, PORT_STATE_FAILED);
	expect_result(PORT_RESULT_FAILED);
	expect_timer(0);
	assert_non_null(strstr(p.reason, "boot ROM"));
	assert_string_equal(p.failed_step, "wait-reenum");
}

/* Another device on the port after the jump: the wait goes on (a board
 * that lost power right after enumeration can reach udev's add without its
 * interfaces); still there at the deadline, it is the reason; gone again,
 * the board is waited for as before. */
static void test_wait_other_device(void **state)
{
	struct port p;

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(&p, PORT_DEV_OTHER, NULL, T0 + 900);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_int_equal(p.result, PORT_RESULT_FAILED);
	assert_non_null(strstr(p.reason, "unexpected device"));
	assert_string_equal(p.failed_step, "wait-reenum");

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(&p, PORT_DEV_OTHER, NULL, T0 + 900);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 950);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 3000);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);

	to_wait(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(&p, PORT_DEV_OTHER, NULL, T0 + 900);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 950);
	simple(&p, PORT_EV_DEADLINE, T0 + 200 + test_cfg.reenum_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "no fastboot device"));
}

static void test_wait_ignores_session_events(void **state)
{
	struct port p;

	to_wait(&p);
	expect_session_ignored(&p, 4, 9, T0 + 250);
	assert_int_equal(p.state, PORT_STATE_WAIT_REENUM);
	assert_int_equal(p.step_index, PORT_STEP_NONE);
}

/* ---- FASTBOOT ---- */

static void test_fastboot_steps_done(void **state)
{
	struct port p;
	int i;

	to_fastboot(&p);
	progress(&p, 1000, 1000, T0 + 2000);
	assert_int_equal(step(&p, 2, "FB: reboot", T0 + 2500), 2);
	i = find(PORT_ACT_STEP_END);
	assert_int_equal(acts[i].step_end.index, 1);
	assert_int_equal(acts[i].step_end.ms, 1400);
	assert_int_equal(acts[i].step_end.bytes, 1000);
	assert_int_equal(sdone(&p, 0, NULL, false, 0, T0 + 2600), 5);
	i = find(PORT_ACT_STEP_END);
	assert_int_equal(acts[i].step_end.index, 2);
	assert_int_equal(acts[i].step_end.ms, 100);
	expect_state_change(PORT_STATE_FASTBOOT, PORT_STATE_DONE);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	expect_result(PORT_RESULT_OK);
	assert_int_equal(port_bytes(&p), 4096 + 1000);
	assert_true(p.have_done);
	assert_string_equal(p.done_serial, "0123456789abcdef");
	assert_int_equal(p.end_ms, T0 + 2600);
	assert_false(port_is_busy(&p));
}

static void test_fastboot_failed(void **state)
{
	struct port p;

	to_failed(&p);
	assert_string_equal(p.failed_step, "FB: flash rootfs rootfs.ext4");
	assert_string_equal(p.reason, "FAIL: write error");
	assert_int_equal(port_bytes(&p), 4096 + 500);
	assert_int_equal(p.result, PORT_RESULT_FAILED);
}

static void test_fastboot_stall(void **state)
{
	struct port p;

	to_fastboot(&p);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1000 + test_cfg.fastboot_stall_ms), 1);
	expect_timer(T0 + 1100 + test_cfg.fastboot_stall_ms);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1100 + test_cfg.fastboot_stall_ms), 5);
	expect_state_change(PORT_STATE_FASTBOOT, PORT_STATE_FAILED);
	assert_non_null(strstr(p.reason, "stalled"));
	assert_string_equal(p.failed_step, "FB: flash rootfs rootfs.ext4");
}

static void test_fastboot_unplug(void **state)
{
	struct port p;

	to_fastboot(&p);
	progress(&p, 300, 1000, T0 + 1500);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 1600), 1);
	expect_timer(T0 + 1600 + test_cfg.gone_grace_ms);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 2600), 5);
	expect_state_change(PORT_STATE_FASTBOOT, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "board disconnected");
	assert_int_equal(port_bytes(&p), 4096 + 300);
	expect_timer(T0 + 2600 + test_cfg.settle_ms);
	/* replug during settle: latched */
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 3000), 1);
	expect_timer(0);
	assert_int_equal(p.state, PORT_STATE_FAILED);
}

static void test_fastboot_reboot_race(void **state)
{
	struct port p;

	/* "FB: reboot": the device may be gone before the session reports */
	to_fastboot(&p);
	step(&p, 2, "FB: reboot", T0 + 2000);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 2001);
	assert_int_equal(sdone(&p, 0, NULL, false, 0, T0 + 2002), 5);
	expect_state_change(PORT_STATE_FASTBOOT, PORT_STATE_DONE);
	expect_result(PORT_RESULT_OK);
	expect_timer(T0 + 2002 + test_cfg.settle_ms);
}

static void test_fastboot_uid_ignored(void **state)
{
	struct port p;

	to_fastboot(&p);
	assert_int_equal(uid(&p, 9, T0 + 1200), 0);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_empty_rom),
		cmocka_unit_test(test_empty_fastboot_restore),
		cmocka_unit_test(test_empty_other_and_unplug),
		cmocka_unit_test(test_empty_ignores_session_events),
		cmocka_unit_test(test_sdp_steps_and_progress),
		cmocka_unit_test(test_sdp_done_more),
		cmocka_unit_test(test_sdp_done_only_sdp),
		cmocka_unit_test(test_sdp_failed),
		cmocka_unit_test(test_fastboot_enodev_is_disconnect),
		cmocka_unit_test(test_io_error_then_unplug),
		cmocka_unit_test(test_io_error_device_stays),
		cmocka_unit_test(test_sdp_failed_before_any_step),
		cmocka_unit_test(test_sdp_stall_deadline),
		cmocka_unit_test(test_sdp_unplug),
		cmocka_unit_test(test_sdp_unplug_grace_expires),
		cmocka_unit_test(test_sdp_unplug_after_jump),
		cmocka_unit_test(test_sdp_replug_during_grace),
		cmocka_unit_test(test_sdp_uid),
		cmocka_unit_test(test_sdp_pause_does_not_stop),
		cmocka_unit_test(test_wait_rom_leaves_fastboot_comes),
		cmocka_unit_test(test_wait_fastboot_before_rom_removal),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_wait_back_to_rom),
		cmocka_unit_test(test_wait_other_device),
		cmocka_unit_test(test_wait_ignores_session_events),
		cmocka_unit_test(test_fastboot_steps_done),
		cmocka_unit_test(test_fastboot_failed),
		cmocka_unit_test(test_fastboot_stall),
		cmocka_unit_test(test_fastboot_unplug),
		cmocka_unit_test(test_fastboot_reboot_race),
		cmocka_unit_test(test_fastboot_uid_ignored),
	};
	int failed = cmocka_run_group_tests_name("port: states", tests, NULL, NULL);

	failed += _cmocka_run_group_tests("port: latches, operator, unplug, random",
					  port_latch_tests, port_latch_ntests, NULL, NULL);
	return failed + _cmocka_run_group_tests("port: SPL stage", port_spl_tests,
						port_spl_ntests, NULL, NULL);
}
