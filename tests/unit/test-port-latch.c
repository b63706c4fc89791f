/* test-port-latch: DONE/FAILED latches, the boot-loop guard, BOOT_LOOP,
 * PAUSED, abort and retry in every state, an unplug in every state, hostile
 * input and random event sequences (part of the test-port program). */
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

/* ---- DONE ---- */

static void test_done_settle(void **state)
{
	struct port p;

	to_done(&p);
	assert_int_equal(p.deadline_ms, 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 999999), 0);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100), 1);
	expect_timer(T0 + 3100 + test_cfg.settle_ms);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 3100 + test_cfg.settle_ms - 1), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 3100 + test_cfg.settle_ms), 2);
	expect_state_change(PORT_STATE_DONE, PORT_STATE_EMPTY);
	expect_timer(0);
	assert_int_equal(find(PORT_ACT_RESULT), -1);
}

static void test_done_reboot_shows_other_or_fastboot(void **state)
{
	struct port p;

	to_done(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100);
	/* the flashed OS shows up: latched, settle disarmed */
	assert_int_equal(added(&p, PORT_DEV_OTHER, NULL, T0 + 4000), 1);
	expect_timer(0);
	assert_int_equal(p.state, PORT_STATE_DONE);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 5000);
	/* U-Boot comes back in fastboot within settle: never a second flash */
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "0123456789abcdef", T0 + 5500), 1);
	assert_int_equal(p.state, PORT_STATE_DONE);
	assert_int_equal(find(PORT_ACT_START_FASTBOOT), -1);
	/* a late deadline after the disarm is stale */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 9000), 0);
	assert_int_equal(p.state, PORT_STATE_DONE);
}

static void test_done_back_to_rom_is_boot_loop(void **state)
{
	struct port p;

	to_done(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 4000), 3);
	expect_state_change(PORT_STATE_DONE, PORT_STATE_BOOT_LOOP);
	expect_result(PORT_RESULT_BOOT_LOOP);
	expect_timer(0);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_string_equal(p.failed_step, "boot");
	assert_non_null(strstr(p.reason, "boot ROM"));
	assert_int_equal(p.start_ms, T0 + 4000);
}

static void test_done_ignores_session_events(void **state)
{
	struct port p;

	to_done(&p);
	expect_session_ignored(&p, 7, 1, T0 + 3100);
	assert_int_equal(p.state, PORT_STATE_DONE);
	assert_int_equal(p.result, PORT_RESULT_OK);
}

/* ---- boot-loop guard after settle ---- */

static void done_then_empty(struct port *p, uint64_t *t)
{
	to_done(p);
	simple(p, PORT_EV_DEV_REMOVED, T0 + 3100);
	simple(p, PORT_EV_DEADLINE, T0 + 3100 + test_cfg.settle_ms);
	assert_int_equal(p->state, PORT_STATE_EMPTY);
	*t = T0 + 3100 + test_cfg.settle_ms;
}

static void test_guard_rom_within(void **state)
{
	struct port p;
	uint64_t t;

	done_then_empty(&p, &t);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, t + 1000), 2);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_BOOT_LOOP);
	expect_result(PORT_RESULT_BOOT_LOOP);
	assert_non_null(strstr(p.reason, "after the port was done"));
}

static void test_guard_rom_after(void **state)
{
	struct port p;
	uint64_t t;

	done_then_empty(&p, &t);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 3000 + test_cfg.guard_ms), 3);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_SDP);
}

static void test_guard_uid(void **state)
{
	struct port p;
	struct port_cfg c = test_cfg;
	uint64_t t;

	c.read_uid = true;
	/* first board: UID 42, done */
	port_init(&p, "2-1", &c);
	added(&p, PORT_DEV_ROM, NULL, T0);
	uid(&p, 42, T0 + 10);
	sdone(&p, 0, NULL, true, 1, T0 + 100);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 110);
	added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 500);
	sdone(&p, 0, NULL, false, 0, T0 + 900);
	assert_int_equal(p.state, PORT_STATE_DONE);
	assert_true(p.done_have_uid);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 1000);
	simple(&p, PORT_EV_DEADLINE, T0 + 1000 + c.settle_ms);
	t = T0 + 1000 + c.settle_ms;
	/* within the guard: identified by UID, so SDP starts */
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, t + 10), 3);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_SDP);
	/* a different board goes on */
	assert_int_equal(uid(&p, 43, t + 20), 0);
	assert_int_equal(p.state, PORT_STATE_SDP);
	/* same board (simulate on a fresh arrival) → boot loop, session stopped */
	sdone(&p, -EPROTO, "x", false, 0, t + 30);
	simple(&p, PORT_EV_DEV_REMOVED, t + 40);
	simple(&p, PORT_EV_DEADLINE, t + 40 + c.settle_ms);
	added(&p, PORT_DEV_ROM, NULL, t + 40 + c.settle_ms + c.guard_ms);
	assert_int_equal(p.state, PORT_STATE_SDP);
	step(&p, 0, "SDP: boot", t + 5000 + c.guard_ms);
	assert_int_equal(uid(&p, 42, t + 5010 + c.guard_ms), 5);
	assert_true(find(PORT_ACT_STEP_END) >= 0);
	assert_true(find(PORT_ACT_STOP_SESSION) >= 0);
	expect_state_change(PORT_STATE_SDP, PORT_STATE_BOOT_LOOP);
	expect_result(PORT_RESULT_BOOT_LOOP);
	assert_non_null(strstr(p.reason, "000000000000002a"));
}

static void test_guard_fastboot_serial(void **state)
{
	struct port p;
	uint64_t t;

	done_then_empty(&p, &t);
	/* a different serial is a different board, even within the guard */
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "other", t + 10), 3);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_FASTBOOT);
	sdone(&p, -EPROTO, "x", false, 0, t + 20);
	simple(&p, PORT_EV_DEV_REMOVED, t + 30);
	simple(&p, PORT_EV_DEADLINE, t + 30 + test_cfg.settle_ms);
	/* the flashed board again, long after: boot loop by serial */
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "0123456789abcdef", t + 10 * test_cfg.guard_ms), 2);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_BOOT_LOOP);
	assert_non_null(strstr(p.reason, "0123456789abcdef"));
}

static void test_guard_fastboot_no_serial(void **state)
{
	struct port p;
	uint64_t t;

	done_then_empty(&p, &t);
	added(&p, PORT_DEV_FASTBOOT, NULL, t + 10);
	assert_int_equal(p.state, PORT_STATE_BOOT_LOOP);
}

/* ---- FAILED ---- */

static void test_failed_latch_and_settle(void **state)
{
	struct port p;

	to_failed(&p);
	/* device still present: no deadline */
	assert_int_equal(p.deadline_ms, 0);
	/* it reboots into the ROM: still FAILED, never re-flashed */
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100);
	expect_timer(T0 + 3100 + test_cfg.settle_ms);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 3500), 1);
	expect_timer(0);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 3100 + test_cfg.settle_ms), 0);
	/* unplugged for good */
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 4000);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 4000 + test_cfg.settle_ms), 2);
	expect_state_change(PORT_STATE_FAILED, PORT_STATE_EMPTY);
	/* replug: a new run (no DONE before: no guard) */
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 7000), 3);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_SDP);
	assert_int_equal(p.result, PORT_RESULT_NONE);
	assert_int_equal(port_bytes(&p), 0);
	assert_string_equal(p.reason, "");
}

static void test_failed_other_device(void **state)
{
	struct port p;

	to_failed(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100);
	assert_int_equal(added(&p, PORT_DEV_OTHER, NULL, T0 + 3200), 1);
	expect_timer(0);
	assert_int_equal(p.state, PORT_STATE_FAILED);
}

/* ---- BOOT_LOOP ---- */

static void test_boot_loop_holds(void **state)
{
	struct port p;

	to_boot_loop(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 5000), 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 99999999), 0);
	assert_int_equal(added(&p, PORT_DEV_ROM, NULL, T0 + 6000), 0);
	assert_int_equal(p.state, PORT_STATE_BOOT_LOOP);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, "x", T0 + 6000), 0);
	assert_int_equal(p.state, PORT_STATE_BOOT_LOOP);
	assert_int_equal(step(&p, 0, "x", T0 + 6000), 0);
	assert_int_equal(sdone(&p, 0, NULL, false, 0, T0 + 6000), 0);
	assert_int_equal(p.state, PORT_STATE_BOOT_LOOP);
}

/* ---- PAUSED ---- */

static void test_paused(void **state)
{
	struct port p;

	to_paused(&p);
	expect_state_change(PORT_STATE_EMPTY, PORT_STATE_PAUSED);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_int_equal(p.deadline_ms, 0);
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 9999999), 0);
	assert_int_equal(step(&p, 0, "x", T0 + 1), 0);
	assert_int_equal(simple(&p, PORT_EV_RESUME, T0 + 100), 3);
	expect_state_change(PORT_STATE_PAUSED, PORT_STATE_SDP);
	assert_true(find(PORT_ACT_START_SDP) >= 0);
	assert_false(p.paused);
	/* resume while not paused: nothing */
	assert_int_equal(simple(&p, PORT_EV_RESUME, T0 + 200), 0);
}

static void test_paused_fastboot(void **state)
{
	struct port p;
	int i;

	setup_port(&p);
	simple(&p, PORT_EV_PAUSE, T0);
	added(&p, PORT_DEV_FASTBOOT, NULL, T0);
	assert_int_equal(p.state, PORT_STATE_PAUSED);
	simple(&p, PORT_EV_RESUME, T0 + 10);
	i = find(PORT_ACT_START_FASTBOOT);
	assert_true(i >= 0);
	assert_int_equal(acts[i].first_step, PORT_STEP_FIRST_FB);
}

static void test_paused_unplug(void **state)
{
	struct port p;

	to_paused(&p);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 10), 1);
	expect_state_change(PORT_STATE_PAUSED, PORT_STATE_EMPTY);
	assert_int_equal(find(PORT_ACT_RESULT), -1);
	assert_true(p.paused);
	simple(&p, PORT_EV_RESUME, T0 + 20);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
}

static void test_paused_replaced(void **state)
{
	struct port p;

	to_paused(&p);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 10), 0);
	assert_int_equal(p.state, PORT_STATE_PAUSED);
	assert_int_equal(added(&p, PORT_DEV_OTHER, NULL, T0 + 20), 1);
	expect_state_change(PORT_STATE_PAUSED, PORT_STATE_EMPTY);
}

/* ---- operator: abort and retry in every state ---- */

static void test_abort_every_state(void **state)
{
	for (int s = 0; s < _PORT_STATE_MAX; s++) {
		struct port p, before;
		bool ok = s == PORT_STATE_PAUSED || s == PORT_STATE_WAITING || s == PORT_STATE_SDP ||
			  s == PORT_STATE_WAIT_REENUM || s == PORT_STATE_FASTBOOT ||
			  s == PORT_STATE_SPL;

		drivers[s](&p);
		assert_int_equal(p.state, s);
		before = p;
		if (!ok) {
			assert_int_equal(simple(&p, PORT_EV_ABORT, T0 + 5000), -EBUSY);
			assert_memory_equal(&p, &before, sizeof(p));
			continue;
		}
		assert_true(simple(&p, PORT_EV_ABORT, T0 + 5000) > 0);
		expect_state_change((enum port_state)s, PORT_STATE_FAILED);
		expect_result(PORT_RESULT_ABORTED);
		assert_int_equal(find(PORT_ACT_STOP_SESSION) >= 0,
				 s == PORT_STATE_SDP || s == PORT_STATE_FASTBOOT ||
				 s == PORT_STATE_SPL);
		assert_string_equal(p.reason, "aborted by the operator");
		assert_int_equal(p.result, PORT_RESULT_ABORTED);
	}
}

static void test_abort_reason(void **state)
{
	struct port p;
	struct port_event ev = { .type = PORT_EV_ABORT };

	to_fastboot(&p);
	ev.abort_reason = "flashd is stopping";
	assert_true(feed(&p, &ev, T0 + 5000) > 0);
	expect_result(PORT_RESULT_ABORTED);
	assert_string_equal(p.reason, "flashd is stopping");
	assert_string_equal(p.failed_step, "FB: flash rootfs rootfs.ext4");
}

static void test_retry_every_state(void **state)
{
	for (int s = 0; s < _PORT_STATE_MAX; s++) {
		struct port p, before;
		bool ok = s == PORT_STATE_DONE || s == PORT_STATE_FAILED ||
			  s == PORT_STATE_BOOT_LOOP;

		drivers[s](&p);
		before = p;
		if (!ok) {
			assert_int_equal(simple(&p, PORT_EV_RETRY, T0 + 5000), -EBUSY);
			assert_memory_equal(&p, &before, sizeof(p));
			continue;
		}
		assert_true(simple(&p, PORT_EV_RETRY, T0 + 5000) > 0);
		assert_false(p.have_done);
		assert_int_equal(p.result, PORT_RESULT_NONE);
		assert_int_equal(p.start_ms, T0 + 5000);
		switch (before.dev) {
		case PORT_DEV_ROM:
			expect_state_change((enum port_state)s, PORT_STATE_SDP);
			assert_true(find(PORT_ACT_START_SDP) >= 0);
			break;
		case PORT_DEV_FASTBOOT:
			expect_state_change((enum port_state)s, PORT_STATE_FASTBOOT);
			assert_int_equal(acts[find(PORT_ACT_START_FASTBOOT)].first_step,
					 PORT_STEP_FIRST_FB);
			break;
		case PORT_DEV_NONE:
		case PORT_DEV_OTHER:
		case PORT_DEV_SPL:
		case _PORT_DEV_MAX:
			expect_state_change((enum port_state)s, PORT_STATE_EMPTY);
			break;
		}
	}
}

static void test_retry_boot_loop_flashes_again(void **state)
{
	struct port p;

	to_boot_loop(&p);
	simple(&p, PORT_EV_RETRY, T0 + 5000);
	assert_int_equal(p.state, PORT_STATE_SDP);
	/* identity forgotten: the board can finish and come back without a loop */
	sdone(&p, 0, NULL, false, 0, T0 + 6000);
	assert_int_equal(p.state, PORT_STATE_DONE);
}

static void test_retry_no_device(void **state)
{
	struct port p;

	to_failed(&p);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3100);
	assert_int_equal(simple(&p, PORT_EV_RETRY, T0 + 3200), 2);
	expect_state_change(PORT_STATE_FAILED, PORT_STATE_EMPTY);
	expect_timer(0);
}

static void test_retry_while_paused(void **state)
{
	struct port p;

	to_failed(&p);
	simple(&p, PORT_EV_PAUSE, T0 + 3100);
	simple(&p, PORT_EV_RETRY, T0 + 3200);
	assert_int_equal(p.state, PORT_STATE_PAUSED);
	assert_int_equal(find(PORT_ACT_START_FASTBOOT), -1);
	/* paused, but nothing plugged in: EMPTY, not PAUSED */
	to_failed(&p);
	simple(&p, PORT_EV_PAUSE, T0 + 3100);
	simple(&p, PORT_EV_DEV_REMOVED, T0 + 3150);
	simple(&p, PORT_EV_RETRY, T0 + 3200);
	assert_int_equal(p.state, PORT_STATE_EMPTY);
}

/* ---- an unplug in every state ---- */

static void test_unplug_every_state(void **state)
{
	static const enum port_state after[_PORT_STATE_MAX] = {
		[PORT_STATE_EMPTY] = PORT_STATE_EMPTY,
		[PORT_STATE_PAUSED] = PORT_STATE_EMPTY,
		[PORT_STATE_WAITING] = PORT_STATE_EMPTY,
		[PORT_STATE_SDP] = PORT_STATE_SDP,
		[PORT_STATE_WAIT_REENUM] = PORT_STATE_WAIT_REENUM,
		[PORT_STATE_FASTBOOT] = PORT_STATE_FASTBOOT,
		[PORT_STATE_SPL] = PORT_STATE_SPL,
		[PORT_STATE_DONE] = PORT_STATE_DONE,
		[PORT_STATE_FAILED] = PORT_STATE_FAILED,
		[PORT_STATE_BOOT_LOOP] = PORT_STATE_BOOT_LOOP,
	};

	for (int s = 0; s < _PORT_STATE_MAX; s++) {
		struct port p;

		drivers[s](&p);
		if (p.dev == PORT_DEV_NONE)
			added(&p, PORT_DEV_OTHER, NULL, T0 + 4500);
		assert_int_equal(p.state, s);
		simple(&p, PORT_EV_DEV_REMOVED, T0 + 5000);
		assert_int_equal(p.dev, PORT_DEV_NONE);
		assert_int_equal(p.state, after[s]);
		/* then let every deadline run out: nothing hangs, nothing flashes */
		for (int i = 0; i < 4 && p.deadline_ms; i++)
			simple(&p, PORT_EV_DEADLINE, p.deadline_ms);
		assert_int_equal(p.deadline_ms, 0);
		assert_false(port_is_busy(&p));
		if (s == PORT_STATE_BOOT_LOOP)
			assert_int_equal(p.state, PORT_STATE_BOOT_LOOP);
		else if (s == PORT_STATE_SDP || s == PORT_STATE_FASTBOOT ||
			 s == PORT_STATE_WAIT_REENUM || s == PORT_STATE_SPL)
			assert_int_equal(p.state, PORT_STATE_EMPTY);  /* FAILED, settled */
		else
			assert_int_equal(p.state, PORT_STATE_EMPTY);
	}
}

/* ---- WAITING (a pool the plan needs cannot give) and FASTBOOT's wait ---- */

static void test_hold_waiting(void **state)
{
	struct port p;

	to_waiting(&p);
	assert_int_equal(find(PORT_ACT_START_SDP), -1);
	assert_int_equal(p.deadline_ms, 0);
	assert_false(port_is_busy(&p));
	/* hold again: nothing; a fastboot device while waiting: still waiting */
	assert_int_equal(hold(&p, true, T0 + 10), 0);
	/* let go: the board starts */
	assert_int_equal(hold(&p, false, T0 + 100), 3);
	expect_state_change(PORT_STATE_WAITING, PORT_STATE_SDP);
	assert_true(find(PORT_ACT_START_SDP) >= 0);
	/* a hold while a board runs does not stop it */
	assert_int_equal(hold(&p, true, T0 + 200), 0);
	assert_int_equal(p.state, PORT_STATE_SDP);
}

static void test_hold_and_pause(void **state)
{
	struct port p;

	to_waiting(&p);
	/* paused as well: the resume finds the hold, the release the pause gone */
	assert_int_equal(simple(&p, PORT_EV_PAUSE, T0 + 10), 0);
	assert_int_equal(hold(&p, false, T0 + 20), 1);
	expect_state_change(PORT_STATE_WAITING, PORT_STATE_PAUSED);
	assert_int_equal(hold(&p, true, T0 + 30), 0);
	assert_int_equal(simple(&p, PORT_EV_RESUME, T0 + 40), 1);
	expect_state_change(PORT_STATE_PAUSED, PORT_STATE_WAITING);
	assert_int_equal(hold(&p, false, T0 + 50), 3);
	expect_state_change(PORT_STATE_WAITING, PORT_STATE_SDP);
	/* a fastboot board (restore) waits the same way */
	setup_port(&p);
	hold(&p, true, T0);
	assert_int_equal(added(&p, PORT_DEV_FASTBOOT, NULL, T0 + 10), 1);
	assert_int_equal(p.state, PORT_STATE_WAITING);
	assert_int_equal(hold(&p, false, T0 + 20), 3);
	expect_state_change(PORT_STATE_WAITING, PORT_STATE_FASTBOOT);
	assert_true(find(PORT_ACT_START_FASTBOOT) >= 0);
}

static void test_fastboot_wait(void **state)
{
	struct port p;

	to_fastboot(&p);
	assert_int_equal(pwait(&p, true, T0 + 1100), 1);
	expect_timer(0);
	assert_true(p.waiting);
	/* a timer that fired anyway: ignored; long waits do not stall the board */
	assert_int_equal(simple(&p, PORT_EV_DEADLINE, T0 + 1100 + 10 * test_cfg.fastboot_stall_ms), 0);
	assert_int_equal(p.deadline_ms, 0);
	assert_int_equal(p.state, PORT_STATE_FASTBOOT);
	/* the values came: a fresh stall deadline from now */
	assert_int_equal(pwait(&p, false, T0 + 50000), 1);
	expect_timer(T0 + 50000 + test_cfg.fastboot_stall_ms);
	assert_false(p.waiting);
	/* WAIT outside FASTBOOT: nothing */
	to_sdp(&p);
	assert_int_equal(pwait(&p, true, T0 + 10), 0);
	assert_false(p.waiting);
	/* the board leaves while it waits: disconnected after the grace */
	to_fastboot(&p);
	pwait(&p, true, T0 + 1100);
	assert_int_equal(simple(&p, PORT_EV_DEV_REMOVED, T0 + 1200), 1);
	expect_timer(T0 + 1200 + test_cfg.gone_grace_ms);
	simple(&p, PORT_EV_DEADLINE, T0 + 1200 + test_cfg.gone_grace_ms);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_string_equal(p.reason, "board disconnected");
	/* an abort while it waits */
	to_fastboot(&p);
	pwait(&p, true, T0 + 1100);
	assert_true(simple(&p, PORT_EV_ABORT, T0 + 1200) > 0);
	assert_int_equal(p.state, PORT_STATE_FAILED);
	assert_false(p.waiting);
}

/* ---- hostile input ---- */

static void test_long_strings(void **state)
{
	struct port p;
	char big[4096];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setup_port(&p);
	added(&p, PORT_DEV_FASTBOOT, big, T0);
	assert_int_equal(strlen(p.serial), PORT_SERIAL_MAX - 1);
	step(&p, 3, big, T0 + 1);
	assert_int_equal(strlen(p.step), PORT_TEXT_MAX - 1);
	sdone(&p, -EPROTO, big, false, 0, T0 + 2);
	assert_int_equal(strlen(p.reason), PORT_TEXT_MAX - 1);
	assert_int_equal(strlen(p.failed_step), PORT_TEXT_MAX - 1);
	step(&p, 3, NULL, T0 + 3);
}

static void test_set_cfg(void **state)
{
	struct port p;
	struct port_cfg c = test_cfg;

	setup_port(&p);
	c.reenum_ms = 1;
	port_set_cfg(&p, &c);
	to_sdp(&p);
	port_set_cfg(&p, &c);
	sdone(&p, 0, NULL, true, 1, T0 + 10);
	expect_timer(T0 + 11);
}

/* Random event sequences: the invariants hold whatever the order. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_invariants(const struct port *p, enum port_state before)
{
	size_t starts = count(PORT_ACT_START_SDP) + count(PORT_ACT_START_FASTBOOT) +
			count(PORT_ACT_START_SPL);
	int si = find(PORT_ACT_STATE);

	assert_true((unsigned)p->state < _PORT_STATE_MAX);
	if (count(PORT_ACT_STATE) == 2) {
		/* a session's verdict with the next stage's device already there:
		 * through WAIT_REENUM straight on */
		int s2 = si + 1;

		while (acts[s2].type != PORT_ACT_STATE)
			s2++;
		assert_int_equal(acts[si].state.new, PORT_STATE_WAIT_REENUM);
		assert_int_equal(acts[s2].state.old, PORT_STATE_WAIT_REENUM);
		assert_int_equal(acts[si].state.old, before);
		assert_int_equal(acts[s2].state.new, p->state);
		assert_int_equal(count(PORT_ACT_STOP_SESSION), 1);
		return;
	}
	assert_true(count(PORT_ACT_STATE) <= 1);
	if (si < 0) {
		assert_int_equal(p->state, before);
		assert_int_equal(starts, 0);
		assert_int_equal(count(PORT_ACT_STOP_SESSION), 0);
		assert_int_equal(count(PORT_ACT_RESULT), 0);
		return;
	}
	assert_int_equal(acts[si].state.old, before);
	assert_int_equal(acts[si].state.new, p->state);
	assert_int_equal(count(PORT_ACT_STOP_SESSION),
			 before == PORT_STATE_SDP || before == PORT_STATE_FASTBOOT ||
			 before == PORT_STATE_SPL);
	assert_int_equal(count(PORT_ACT_START_SDP), p->state == PORT_STATE_SDP);
	assert_int_equal(count(PORT_ACT_START_SPL), p->state == PORT_STATE_SPL);
	assert_int_equal(count(PORT_ACT_START_FASTBOOT), p->state == PORT_STATE_FASTBOOT);
	assert_int_equal(count(PORT_ACT_RESULT),
			 p->state == PORT_STATE_DONE || p->state == PORT_STATE_FAILED ||
			 p->state == PORT_STATE_BOOT_LOOP);
	for (int i = 0; i < nacts; i++)
		if (acts[i].type == PORT_ACT_TIMER)
			assert_int_equal(acts[i].deadline_ms, p->deadline_ms);
}

static void test_random_sequences(void **state)
{
	struct port p;
	uint64_t now = T0;
	struct port_cfg c = test_cfg;

	c.read_uid = true;
	port_init(&p, "r", &c);
	for (int i = 0; i < 200000; i++) {
		struct port_event ev = { .type = (enum port_event_type)(rng() % _PORT_EV_MAX) };
		enum port_state before = p.state;
		int r;

		now += rng() % 3000;
		switch (ev.type) {
		case PORT_EV_DEV_ADDED:
			ev.dev_added.kind = (enum port_dev)(1 + rng() % 4);
			ev.dev_added.serial = rng() % 2 ? "S1" : NULL;
			break;
		case PORT_EV_STEP:
			ev.step.index = rng() % 5;
			ev.step.text = "step";
			break;
		case PORT_EV_PROGRESS:
			ev.progress.total = rng() % 1000;
			ev.progress.bytes = rng() % 1001;
			break;
		case PORT_EV_UID:
			ev.uid = rng() % 3;
			break;
		case PORT_EV_SESSION_DONE:
			ev.session_done.status = rng() % 3 == 0 ? 0 : (rng() % 2 ? -EIO : -EPROTO);
			ev.session_done.reason = "r";
			ev.session_done.more = rng() % 2;
			ev.session_done.next_step = 1;
			ev.session_done.spl = rng() % 2;
			ev.session_done.spl_step = 1;
			break;
		case PORT_EV_DEADLINE:
			if (p.deadline_ms && rng() % 2)
				now = p.deadline_ms;
			break;
		case PORT_EV_HOLD:
			ev.hold = rng() % 2;
			break;
		case PORT_EV_WAIT:
			ev.wait = rng() % 2;
			break;
		case PORT_EV_DEV_REMOVED:
		case PORT_EV_PAUSE:
		case PORT_EV_RESUME:
		case PORT_EV_ABORT:
		case PORT_EV_RETRY:
		case _PORT_EV_MAX:
			break;
		}
		r = feed(&p, &ev, now);
		if (r == -EBUSY) {
			assert_true(ev.type == PORT_EV_ABORT || ev.type == PORT_EV_RETRY);
			assert_int_equal(p.state, before);
			continue;
		}
		assert_true(r >= 0);
		check_invariants(&p, before);
		/* a deadline for every busy state, but FASTBOOT while it waits */
		if (port_is_busy(&p) && !(p.state == PORT_STATE_FASTBOOT && p.waiting))
			assert_true(p.deadline_ms != 0);
		if (p.waiting)
			assert_int_equal(p.state, PORT_STATE_FASTBOOT);
		if (port_is_busy(&p) || p.state == PORT_STATE_PAUSED || p.state == PORT_STATE_WAITING)
			assert_true(p.dev != PORT_DEV_NONE || p.gone ||
				    p.state == PORT_STATE_WAIT_REENUM || p.state == PORT_STATE_SDP ||
				    p.state == PORT_STATE_SPL || p.state == PORT_STATE_FASTBOOT);
	}
}

const struct CMUnitTest port_latch_tests[] = {
	cmocka_unit_test(test_done_settle),
	cmocka_unit_test(test_done_reboot_shows_other_or_fastboot),
	cmocka_unit_test(test_done_back_to_rom_is_boot_loop),
	cmocka_unit_test(test_done_ignores_session_events),
	cmocka_unit_test(test_guard_rom_within),
	cmocka_unit_test(test_guard_rom_after),
	cmocka_unit_test(test_guard_uid),
	cmocka_unit_test(test_guard_fastboot_serial),
	cmocka_unit_test(test_guard_fastboot_no_serial),
	cmocka_unit_test(test_failed_latch_and_settle),
	cmocka_unit_test(test_failed_other_device),
	cmocka_unit_test(test_boot_loop_holds),
	cmocka_unit_test(test_paused),
	cmocka_unit_test(test_paused_fastboot),
	cmocka_unit_test(test_paused_unplug),
	cmocka_unit_test(test_paused_replaced),
	cmocka_unit_test(test_abort_every_state),
	cmocka_unit_test(test_abort_reason),
	cmocka_unit_test(test_retry_every_state),
	cmocka_unit_test(test_retry_boot_loop_flashes_again),
	cmocka_unit_test(test_retry_no_device),
	cmocka_unit_test(test_retry_while_paused),
	cmocka_unit_test(test_unplug_every_state),
	cmocka_unit_test(test_hold_waiting),
	cmocka_unit_test(test_hold_and_pause),
	cmocka_unit_test(test_fastboot_wait),
	cmocka_unit_test(test_long_strings),
	cmocka_unit_test(test_set_cfg),
	cmocka_unit_test(test_random_sequences),
};
const size_t port_latch_ntests = sizeof(port_latch_tests) / sizeof(port_latch_tests[0]);
