/* port_drive: helpers shared by the port tests (see port_drive.h). */
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

const struct port_cfg test_cfg = {
	.sdp_stall_ms = 10000,
	.fastboot_stall_ms = 20000,
	.reenum_ms = 15000,
	.settle_ms = 2000,
	.guard_ms = 60000,
	.gone_grace_ms = 1000,
	.progress_ms = 250,
	.read_uid = false,
};

struct port_action acts[PORT_ACTIONS_MAX];
int nacts;

int feed(struct port *p, const struct port_event *ev, uint64_t now)
{
	memset(acts, 0xa5, sizeof(acts));
	nacts = port_handle(p, ev, now, acts, PORT_ACTIONS_MAX);
	if (nacts > 0)
		assert_true(nacts <= (int)PORT_ACTIONS_MAX);
	return nacts;
}

int added(struct port *p, enum port_dev kind, const char *serial, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_DEV_ADDED };

	ev.dev_added.kind = kind;
	ev.dev_added.serial = serial;
	return feed(p, &ev, now);
}

int simple(struct port *p, enum port_event_type t, uint64_t now)
{
	struct port_event ev = { .type = t };

	return feed(p, &ev, now);
}

int step(struct port *p, size_t index, const char *text, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_STEP };

	ev.step.index = index;
	ev.step.text = text;
	return feed(p, &ev, now);
}

int progress(struct port *p, uint64_t bytes, uint64_t total, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_PROGRESS };

	ev.progress.bytes = bytes;
	ev.progress.total = total;
	return feed(p, &ev, now);
}

int uid(struct port *p, uint64_t u, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_UID };

	ev.uid = u;
	return feed(p, &ev, now);
}

int sdone(struct port *p, int status, const char *reason, bool more, size_t next,
		 uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };

	ev.session_done.status = status;
	ev.session_done.reason = reason;
	ev.session_done.more = more;
	ev.session_done.next_step = next;
	return feed(p, &ev, now);
}

int sdone_spl(struct port *p, int status, const char *reason, size_t spl_step, size_t next,
	      uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };

	ev.session_done.status = status;
	ev.session_done.reason = reason;
	ev.session_done.more = true;
	ev.session_done.next_step = next;
	ev.session_done.spl = true;
	ev.session_done.spl_step = spl_step;
	return feed(p, &ev, now);
}

/* The index of the first action of type t, or -1. */
int find(enum port_action_type t)
{
	for (int i = 0; i < nacts; i++)
		if (acts[i].type == t)
			return i;
	return -1;
}

size_t count(enum port_action_type t)
{
	size_t n = 0;

	for (int i = 0; i < nacts; i++)
		n += acts[i].type == t;
	return n;
}

void expect_state_change(enum port_state old, enum port_state new)
{
	int i = find(PORT_ACT_STATE);

	assert_true(i >= 0);
	assert_int_equal(acts[i].state.old, old);
	assert_int_equal(acts[i].state.new, new);
	assert_int_equal(count(PORT_ACT_STATE), 1);
}

void expect_timer(uint64_t deadline)
{
	int i = find(PORT_ACT_TIMER);

	assert_true(i >= 0);
	assert_int_equal(acts[i].deadline_ms, deadline);
}

void expect_result(enum port_result r)
{
	int i = find(PORT_ACT_RESULT);

	assert_true(i >= 0);
	assert_int_equal(acts[i].result, r);
	assert_int_equal(count(PORT_ACT_RESULT), 1);
}

void expect_session_ignored(struct port *p, size_t index, uint64_t bytes, uint64_t now)
{
	enum port_state st = p->state;

	assert_int_equal(step(p, index, "late", now), 0);
	assert_int_equal(progress(p, bytes, bytes, now), 0);
	assert_int_equal(sdone(p, -EIO, "late", false, 0, now), 0);
	assert_int_equal(p->state, st);
}

void setup_port(struct port *p)
{
	port_init(p, "1-1.4", &test_cfg);
}

/* Drivers into each state, at time T0. */
void to_sdp(struct port *p)
{
	setup_port(p);
	assert_int_equal(added(p, PORT_DEV_ROM, NULL, T0), 3);
	assert_int_equal(p->state, PORT_STATE_SDP);
	step(p, 0, "SDP: boot -f u-boot.imx", T0);
}

void to_wait(struct port *p)
{
	to_sdp(p);
	progress(p, 4096, 4096, T0 + 100);
	sdone(p, 0, NULL, true, 1, T0 + 200);
	assert_int_equal(p->state, PORT_STATE_WAIT_REENUM);
}

void to_fastboot(struct port *p)
{
	to_wait(p);
	simple(p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(p, PORT_DEV_FASTBOOT, "0123456789abcdef", T0 + 1000);
	assert_int_equal(p->state, PORT_STATE_FASTBOOT);
	step(p, 1, "FB: flash rootfs rootfs.ext4", T0 + 1100);
}

/* ROM stage done with SPL lines at step 1 and FB lines at step 3 */
void to_wait_spl(struct port *p)
{
	to_sdp(p);
	progress(p, 4096, 4096, T0 + 100);
	sdone_spl(p, 0, NULL, 1, 3, T0 + 200);
	assert_int_equal(p->state, PORT_STATE_WAIT_REENUM);
}

void to_spl(struct port *p)
{
	to_wait_spl(p);
	simple(p, PORT_EV_DEV_REMOVED, T0 + 300);
	added(p, PORT_DEV_SPL, NULL, T0 + 1000);
	assert_int_equal(p->state, PORT_STATE_SPL);
	step(p, 1, "SDPV: write -f u-boot.img", T0 + 1100);
}

/* SPL stage done: waiting for fastboot (FB lines at step 3) */
void to_wait_after_spl(struct port *p)
{
	to_spl(p);
	progress(p, 8192, 8192, T0 + 1200);
	sdone(p, 0, NULL, true, 3, T0 + 1300);
	assert_int_equal(p->state, PORT_STATE_WAIT_REENUM);
}

void to_done(struct port *p)
{
	to_fastboot(p);
	progress(p, 1000, 1000, T0 + 2000);
	sdone(p, 0, NULL, false, 0, T0 + 3000);
	assert_int_equal(p->state, PORT_STATE_DONE);
}

void to_failed(struct port *p)
{
	to_fastboot(p);
	progress(p, 500, 1000, T0 + 2000);
	sdone(p, -EPROTO, "FAIL: write error", false, 0, T0 + 3000);
	assert_int_equal(p->state, PORT_STATE_FAILED);
}

void to_boot_loop(struct port *p)
{
	to_done(p);
	simple(p, PORT_EV_DEV_REMOVED, T0 + 3100);
	added(p, PORT_DEV_ROM, NULL, T0 + 4000);
	assert_int_equal(p->state, PORT_STATE_BOOT_LOOP);
}

void to_paused(struct port *p)
{
	setup_port(p);
	assert_int_equal(simple(p, PORT_EV_PAUSE, T0), 0);
	assert_int_equal(added(p, PORT_DEV_ROM, NULL, T0), 1);
	assert_int_equal(p->state, PORT_STATE_PAUSED);
}

void to_waiting(struct port *p)
{
	setup_port(p);
	assert_int_equal(hold(p, true, T0), 0);
	assert_int_equal(added(p, PORT_DEV_ROM, NULL, T0), 1);
	assert_int_equal(p->state, PORT_STATE_WAITING);
}

int hold(struct port *p, bool on, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_HOLD, .hold = on };

	return feed(p, &ev, now);
}

int pwait(struct port *p, bool on, uint64_t now)
{
	struct port_event ev = { .type = PORT_EV_WAIT, .wait = on };

	return feed(p, &ev, now);
}

void (*const drivers[_PORT_STATE_MAX])(struct port *) = {
	[PORT_STATE_WAITING] = to_waiting,
	[PORT_STATE_EMPTY] = setup_port,
	[PORT_STATE_PAUSED] = to_paused,
	[PORT_STATE_SDP] = to_sdp,
	[PORT_STATE_WAIT_REENUM] = to_wait,
	[PORT_STATE_FASTBOOT] = to_fastboot,
	[PORT_STATE_SPL] = to_spl,
	[PORT_STATE_DONE] = to_done,
	[PORT_STATE_FAILED] = to_failed,
	[PORT_STATE_BOOT_LOOP] = to_boot_loop,
};
