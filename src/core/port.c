/* port: the per-port state machine (see include/flashd/port.h). */
#include "flashd/port.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"


static const char *const port_state_names[] = {
	[PORT_STATE_EMPTY] = "empty",
	[PORT_STATE_PAUSED] = "paused",
	[PORT_STATE_SDP] = "sdp",
	[PORT_STATE_WAIT_REENUM] = "wait-reenum",
	[PORT_STATE_FASTBOOT] = "fastboot",
	[PORT_STATE_SPL] = "spl-sdp",
	[PORT_STATE_DONE] = "done",
	[PORT_STATE_FAILED] = "failed",
	[PORT_STATE_BOOT_LOOP] = "boot-loop",
	[PORT_STATE_WAITING] = "waiting",
};
_Static_assert(ELEMENTSOF(port_state_names) == _PORT_STATE_MAX, "port_state_names");

static const char *const port_dev_names[] = {
	[PORT_DEV_NONE] = "none",
	[PORT_DEV_ROM] = "rom",
	[PORT_DEV_FASTBOOT] = "fastboot",
	[PORT_DEV_OTHER] = "other",
	[PORT_DEV_SPL] = "spl",
};
_Static_assert(ELEMENTSOF(port_dev_names) == _PORT_DEV_MAX, "port_dev_names");

static const char *const port_result_names[] = {
	[PORT_RESULT_NONE] = NULL,
	[PORT_RESULT_OK] = "ok",
	[PORT_RESULT_FAILED] = "failed",
	[PORT_RESULT_BOOT_LOOP] = "boot-loop",
	[PORT_RESULT_ABORTED] = "aborted",
};
_Static_assert(ELEMENTSOF(port_result_names) == _PORT_RESULT_MAX, "port_result_names");

static const char *const port_event_names[] = {
	[PORT_EV_DEV_ADDED] = "dev-added",
	[PORT_EV_DEV_REMOVED] = "dev-removed",
	[PORT_EV_STEP] = "step",
	[PORT_EV_PROGRESS] = "progress",
	[PORT_EV_UID] = "uid",
	[PORT_EV_SESSION_DONE] = "session-done",
	[PORT_EV_DEADLINE] = "deadline",
	[PORT_EV_PAUSE] = "pause",
	[PORT_EV_RESUME] = "resume",
	[PORT_EV_ABORT] = "abort",
	[PORT_EV_RETRY] = "retry",
	[PORT_EV_HOLD] = "hold",
	[PORT_EV_WAIT] = "wait",
};
_Static_assert(ELEMENTSOF(port_event_names) == _PORT_EV_MAX, "port_event_names");

static const char *const port_action_names[] = {
	[PORT_ACT_STATE] = "state",
	[PORT_ACT_TIMER] = "timer",
	[PORT_ACT_START_SDP] = "start-sdp",
	[PORT_ACT_START_FASTBOOT] = "start-fastboot",
	[PORT_ACT_START_SPL] = "start-spl",
	[PORT_ACT_STOP_SESSION] = "stop-session",
	[PORT_ACT_STEP_END] = "step-end",
	[PORT_ACT_PROGRESS] = "progress",
	[PORT_ACT_RESULT] = "result",
};
_Static_assert(ELEMENTSOF(port_action_names) == _PORT_ACT_MAX, "port_action_names");

const char *port_state_to_string(enum port_state s)
{
	return (unsigned)s < _PORT_STATE_MAX ? port_state_names[s] : NULL;
}

int port_state_from_string(const char *s)
{
	for (size_t i = 0; s && i < _PORT_STATE_MAX; i++)
		if (strcmp(s, port_state_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *port_dev_to_string(enum port_dev d)
{
	return (unsigned)d < _PORT_DEV_MAX ? port_dev_names[d] : NULL;
}

const char *port_result_to_string(enum port_result r)
{
	return (unsigned)r < _PORT_RESULT_MAX ? port_result_names[r] : NULL;
}

const char *port_event_type_to_string(enum port_event_type t)
{
	return (unsigned)t < _PORT_EV_MAX ? port_event_names[t] : NULL;
}

const char *port_action_type_to_string(enum port_action_type t)
{
	return (unsigned)t < _PORT_ACT_MAX ? port_action_names[t] : NULL;
}

/* The actions of one port_handle call. */
struct port_out {
	struct port_action *acts;
	size_t n;
};

static struct port_action *port_emit(struct port_out *o, enum port_action_type t)
{
	struct port_action *a = &o->acts[o->n++];

	memset(a, 0, sizeof(*a));
	a->type = t;
	return a;
}

static void port_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void port_arm(struct port *p, struct port_out *o, uint64_t deadline_ms)
{
	if (p->deadline_ms == deadline_ms)
		return;
	p->deadline_ms = deadline_ms;
	port_emit(o, PORT_ACT_TIMER)->deadline_ms = deadline_ms;
}

static uint32_t port_stall_ms(const struct port *p)
{
	return p->state == PORT_STATE_FASTBOOT ? p->cfg.fastboot_stall_ms : p->cfg.sdp_stall_ms;
}

/* The deadline a state gets on entry. */
static uint64_t port_state_deadline(const struct port *p, enum port_state s, uint64_t now)
{
	switch (s) {
	case PORT_STATE_SDP:
	case PORT_STATE_SPL:
		return now + p->cfg.sdp_stall_ms;
	case PORT_STATE_FASTBOOT:
		return now + p->cfg.fastboot_stall_ms;
	case PORT_STATE_WAIT_REENUM:
		return now + p->cfg.reenum_ms;
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
		return p->dev == PORT_DEV_NONE ? now + p->cfg.settle_ms : 0;
	case PORT_STATE_EMPTY:
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_BOOT_LOOP:
	case _PORT_STATE_MAX:
		break;
	}
	return 0;
}

static bool port_state_has_session(enum port_state s)
{
	return s == PORT_STATE_SDP || s == PORT_STATE_SPL || s == PORT_STATE_FASTBOOT;
}

/* The one setter: stops a session being left, emits the change, arms the
 * new state's deadline, starts the new state's session, reports results. */
static void port_set_state(struct port *p, struct port_out *o, enum port_state s, uint64_t now)
{
	enum port_state old = p->state;
	struct port_action *a;

	if (port_state_has_session(old))
		port_emit(o, PORT_ACT_STOP_SESSION);
	p->state = s;
	p->state_ms = now;
	p->activity_ms = now;
	p->gone = false;
	p->failing = false;
	p->waiting = false;
	a = port_emit(o, PORT_ACT_STATE);
	a->state.old = old;
	a->state.new = s;
	port_arm(p, o, port_state_deadline(p, s, now));
	switch (s) {
	case PORT_STATE_SDP:
		port_emit(o, PORT_ACT_START_SDP);
		break;
	case PORT_STATE_FASTBOOT:
		port_emit(o, PORT_ACT_START_FASTBOOT)->first_step = p->next_step;
		break;
	case PORT_STATE_SPL:
		port_emit(o, PORT_ACT_START_SPL)->first_step = p->spl_step;
		break;
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
	case PORT_STATE_BOOT_LOOP:
		p->end_ms = now;
		port_emit(o, PORT_ACT_RESULT)->result = p->result;
		break;
	case PORT_STATE_EMPTY:
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_WAIT_REENUM:
	case _PORT_STATE_MAX:
		break;
	}
}

/* A new board on this port: forget the previous one's run. */
static void port_board_reset(struct port *p, uint64_t now)
{
	p->start_ms = now;
	p->end_ms = 0;
	p->have_uid = false;
	p->uid = 0;
	p->step_index = PORT_STEP_NONE;
	p->step[0] = '\0';
	p->step_start_ms = now;
	p->bytes = p->total = p->bytes_done = 0;
	p->last_progress_ms = 0;
	p->next_step = PORT_STEP_FIRST_FB;
	p->spl_next = false;
	p->spl_required = false;
	p->spl_step = PORT_STEP_NONE;
	p->spl_ran = false;
	p->result = PORT_RESULT_NONE;
	p->failed_step[0] = '\0';
	p->reason[0] = '\0';
}

static void port_step_end(struct port *p, struct port_out *o, uint64_t now, bool ok)
{
	struct port_action *a;

	if (p->step_index == PORT_STEP_NONE)
		return;
	a = port_emit(o, PORT_ACT_STEP_END);
	a->step_end.index = p->step_index;
	a->step_end.ms = now - p->step_start_ms;
	a->step_end.bytes = p->bytes;
	a->step_end.ok = ok;
	p->bytes_done += p->bytes;
	p->bytes = p->total = 0;
}

/* Ends the board's run as FAILED (result failed or aborted) or BOOT_LOOP. */
__attribute__((format(printf, 5, 6)))
static void port_fail(struct port *p, struct port_out *o, uint64_t now, enum port_result r,
		      const char *fmt, ...)
{
	va_list ap;

	if (r == PORT_RESULT_BOOT_LOOP)
		port_copy(p->failed_step, sizeof(p->failed_step), "boot");
	else
		port_copy(p->failed_step, sizeof(p->failed_step),
			  p->step[0] ? p->step : port_state_to_string(p->state));
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	port_step_end(p, o, now, false);
	p->result = r;
	port_set_state(p, o, r == PORT_RESULT_BOOT_LOOP ? PORT_STATE_BOOT_LOOP : PORT_STATE_FAILED, now);
}

static void port_start(struct port *p, struct port_out *o, uint64_t now)
{
	if (p->paused && (p->dev == PORT_DEV_ROM || p->dev == PORT_DEV_FASTBOOT))
		port_set_state(p, o, PORT_STATE_PAUSED, now);
	else if (p->held && (p->dev == PORT_DEV_ROM || p->dev == PORT_DEV_FASTBOOT))
		port_set_state(p, o, PORT_STATE_WAITING, now);
	else if (p->dev == PORT_DEV_ROM)
		port_set_state(p, o, PORT_STATE_SDP, now);
	else if (p->dev == PORT_DEV_FASTBOOT)
		port_set_state(p, o, PORT_STATE_FASTBOOT, now);
	else
		port_set_state(p, o, PORT_STATE_EMPTY, now);
}

/* A flashable device on an EMPTY port: a new board, or the last one back. */
static void port_board_arrive(struct port *p, struct port_out *o, uint64_t now)
{
	bool fb = p->dev == PORT_DEV_FASTBOOT;
	bool by_serial = fb && p->serial[0] && p->done_serial[0];
	bool by_uid = !fb && p->cfg.read_uid && p->done_have_uid;

	port_board_reset(p, now);
	if (p->have_done && by_serial && strcmp(p->serial, p->done_serial) == 0) {
		port_fail(p, o, now, PORT_RESULT_BOOT_LOOP,
			  "board %s came back in fastboot after it was flashed", p->serial);
		return;
	}
	if (p->have_done && !by_serial && !by_uid && now - p->done_ms < p->cfg.guard_ms) {
		port_fail(p, o, now, PORT_RESULT_BOOT_LOOP,
			  "a board came back as %s %" PRIu64 " ms after the port was done",
			  port_dev_to_string(p->dev), now - p->done_ms);
		return;
	}
	port_start(p, o, now);
}

/* What the board became after a jump: the next stage, or a failure. */
static void port_on_reenum(struct port *p, struct port_out *o, enum port_dev kind, uint64_t now)
{
	const char *stage = p->spl_ran ? "U-Boot" : p->spl_next ? "the SPL or U-Boot" : "U-Boot";

	switch (kind) {
	case PORT_DEV_FASTBOOT:
		if (p->spl_next && p->spl_required && !p->spl_ran) {
			/* the ROM started the plan's SPL, which did not wait for its
			 * SDPU/SDPV lines: the U-Boot that came is not the plan's */
			port_fail(p, o, now, PORT_RESULT_FAILED,
				  "board came back as fastboot, but the plan's SPL stage did not run: "
				  "the SPL started a U-Boot of its own (from the eMMC?), not the "
				  "plan's");
			return;
		}
		port_set_state(p, o, PORT_STATE_FASTBOOT, now);
		return;
	case PORT_DEV_SPL:
		if (p->spl_next && !p->spl_ran) {
			port_set_state(p, o, PORT_STATE_SPL, now);
			return;
		}
		port_fail(p, o, now, PORT_RESULT_FAILED, p->spl_ran ?
			  "board came back as the SPL's SDP gadget after the SPL's jump, not "
			  "fastboot: U-Boot did not start" :
			  "board came back as U-Boot SPL's SDP gadget, but the plan has no "
			  "SDPU:/SDPV: lines for it");
		return;
	case PORT_DEV_ROM:
		port_fail(p, o, now, PORT_RESULT_FAILED,
			  "board came back as the boot ROM, not %s: %s did not start",
			  p->spl_next && !p->spl_ran ? "the SPL or fastboot" : "fastboot", stage);
		return;
	case PORT_DEV_OTHER:
		/* not failed at once: a board that loses power right after the host
		 * configured it can reach udev's add without its interfaces, and then
		 * leaves. The wait goes on; if this device is still the port's when it
		 * times out, that is the reason given (port_on_timer). */
		return;
	case PORT_DEV_NONE:
	case _PORT_DEV_MAX:
		break;
	}
	port_fail(p, o, now, PORT_RESULT_FAILED, "board re-enumerated as an unexpected device, not %s",
		  p->spl_next && !p->spl_ran ? "the SPL or fastboot" : "fastboot");
}

static void port_on_added(struct port *p, struct port_out *o, const struct port_event *ev,
			  uint64_t now)
{
	enum port_dev kind = ev->dev_added.kind;

	p->dev = kind;
	port_copy(p->serial, sizeof(p->serial), ev->dev_added.serial);
	switch (p->state) {
	case PORT_STATE_EMPTY:
		if (kind == PORT_DEV_ROM || kind == PORT_DEV_FASTBOOT)
			port_board_arrive(p, o, now);
		break;
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
		if (kind != PORT_DEV_ROM && kind != PORT_DEV_FASTBOOT)
			port_set_state(p, o, PORT_STATE_EMPTY, now);
		break;
	case PORT_STATE_WAIT_REENUM:
		port_on_reenum(p, o, kind, now);
		break;
	case PORT_STATE_DONE:
		if (kind == PORT_DEV_ROM) {
			port_board_reset(p, now);
			port_fail(p, o, now, PORT_RESULT_BOOT_LOOP,
				  "board came back to the boot ROM after it was flashed");
			break;
		}
		port_arm(p, o, 0);
		break;
	case PORT_STATE_FAILED:
		port_arm(p, o, 0);
		break;
	case PORT_STATE_SDP:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
	case PORT_STATE_BOOT_LOOP:
	case _PORT_STATE_MAX:
		break;
	}
}

static void port_on_removed(struct port *p, struct port_out *o, uint64_t now)
{
	if (p->dev == PORT_DEV_NONE)
		return;
	p->dev = PORT_DEV_NONE;
	switch (p->state) {
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
		port_set_state(p, o, PORT_STATE_EMPTY, now);
		break;
	case PORT_STATE_SDP:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
		if (p->failing)
			port_fail(p, o, now, PORT_RESULT_FAILED, "board disconnected: %s", p->pending);
		else if (!p->gone) {
			p->gone = true;
			port_arm(p, o, now + p->cfg.gone_grace_ms);
		}
		break;
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
		port_arm(p, o, now + p->cfg.settle_ms);
		break;
	case PORT_STATE_EMPTY:
	case PORT_STATE_WAIT_REENUM:
	case PORT_STATE_BOOT_LOOP:
	case _PORT_STATE_MAX:
		break;
	}
}

static void port_publish_progress(struct port *p, struct port_out *o, uint64_t now, bool force)
{
	if (!force && p->last_progress_ms && now - p->last_progress_ms < p->cfg.progress_ms)
		return;
	p->last_progress_ms = now;
	port_emit(o, PORT_ACT_PROGRESS);
}

static void port_on_step(struct port *p, struct port_out *o, const struct port_event *ev,
			 uint64_t now)
{
	if (!port_state_has_session(p->state) || p->failing)
		return;
	port_step_end(p, o, now, true);
	p->step_index = ev->step.index;
	port_copy(p->step, sizeof(p->step), ev->step.text);
	p->step_start_ms = now;
	p->activity_ms = now;
	port_publish_progress(p, o, now, true);
}

static void port_on_progress(struct port *p, struct port_out *o, const struct port_event *ev,
			     uint64_t now)
{
	if (!port_state_has_session(p->state) || p->failing)
		return;
	p->bytes = ev->progress.bytes;
	p->total = ev->progress.total;
	p->activity_ms = now;
	port_publish_progress(p, o, now, p->total && p->bytes >= p->total);
}

static void port_on_uid(struct port *p, struct port_out *o, const struct port_event *ev,
			uint64_t now)
{
	if (p->state != PORT_STATE_SDP)
		return;
	p->have_uid = true;
	p->uid = ev->uid;
	if (p->have_done && p->done_have_uid && p->done_uid == ev->uid)
		port_fail(p, o, now, PORT_RESULT_BOOT_LOOP,
			  "board %016" PRIx64 " came back to the boot ROM after it was flashed",
			  ev->uid);
}

static void port_done_ok(struct port *p, struct port_out *o, uint64_t now)
{
	p->result = PORT_RESULT_OK;
	p->have_done = true;
	p->done_ms = now;
	p->done_have_uid = p->have_uid;
	p->done_uid = p->uid;
	port_copy(p->done_serial, sizeof(p->done_serial), p->serial);
	port_set_state(p, o, PORT_STATE_DONE, now);
}

static void port_on_session_done(struct port *p, struct port_out *o, const struct port_event *ev,
				 uint64_t now)
{
	const char *reason = ev->session_done.reason;
	int status = ev->session_done.status;

	if (!port_state_has_session(p->state) || p->failing)
		return;
	if (status < 0) {
		if (!reason || !*reason)
			reason = strerror(-status);
		if (!p->gone && status == -EIO) {
			/* an unplug often shows as a transfer error before udev reports it */
			p->failing = true;
			port_copy(p->pending, sizeof(p->pending), reason);
			port_arm(p, o, now + p->cfg.gone_grace_ms);
			return;
		}
		/* -ENODEV: the session saw the board leave before udev said so */
		port_fail(p, o, now, PORT_RESULT_FAILED, "%s%s",
			  p->gone || status == -ENODEV ? "board disconnected: " : "", reason);
		return;
	}
	port_step_end(p, o, now, true);
	if (p->state != PORT_STATE_FASTBOOT && ev->session_done.more) {
		p->next_step = ev->session_done.next_step;
		p->spl_ran = p->state == PORT_STATE_SPL;
		p->spl_next = p->state == PORT_STATE_SDP && ev->session_done.spl;
		p->spl_required = p->spl_next && ev->session_done.spl_required;
		p->spl_step = p->spl_next ? ev->session_done.spl_step : PORT_STEP_NONE;
		p->step_index = PORT_STEP_NONE;
		p->step[0] = '\0';
		port_set_state(p, o, PORT_STATE_WAIT_REENUM, now);
		/* the next stage's device came before the session's verdict (the
		 * old device left and the new one was added while it drained) */
		if (p->dev == PORT_DEV_FASTBOOT || (p->dev == PORT_DEV_SPL && !p->spl_ran))
			port_on_reenum(p, o, p->dev, now);
		return;
	}
	port_done_ok(p, o, now);
}

static void port_on_deadline(struct port *p, struct port_out *o, uint64_t now)
{
	if (!p->deadline_ms || now < p->deadline_ms)
		return;
	switch (p->state) {
	case PORT_STATE_SDP:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
		if (p->failing)
			port_fail(p, o, now, PORT_RESULT_FAILED, "%s", p->pending);
		else if (p->gone)
			port_fail(p, o, now, PORT_RESULT_FAILED, "board disconnected");
		else if (p->waiting)
			port_arm(p, o, 0);   /* a timer that fired as the wait began */
		else if (now < p->activity_ms + port_stall_ms(p))
			port_arm(p, o, p->activity_ms + port_stall_ms(p));
		else
			port_fail(p, o, now, PORT_RESULT_FAILED, "stalled: no progress for %" PRIu64 " ms",
				  now - p->activity_ms);
		break;
	case PORT_STATE_WAIT_REENUM:
		if (p->dev == PORT_DEV_OTHER)
			port_fail(p, o, now, PORT_RESULT_FAILED,
				  "board re-enumerated as an unexpected device, not %s, and stayed so for "
				  "%" PRIu32 " ms after the %sjump", p->spl_next ? "the SPL or fastboot" : "fastboot",
				  p->cfg.reenum_ms, p->spl_ran ? "SPL's " : "");
		else
			port_fail(p, o, now, PORT_RESULT_FAILED,
				  "no %s device on the port within %" PRIu32 " ms after the %sjump",
				  p->spl_next ? "SPL SDP or fastboot" : "fastboot", p->cfg.reenum_ms,
				  p->spl_ran ? "SPL's " : "");
		break;
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
		if (p->dev == PORT_DEV_NONE)
			port_set_state(p, o, PORT_STATE_EMPTY, now);
		else
			port_arm(p, o, 0);
		break;
	case PORT_STATE_EMPTY:
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_BOOT_LOOP:
	case _PORT_STATE_MAX:
		port_arm(p, o, 0);
		break;
	}
}

static int port_on_abort(struct port *p, struct port_out *o, const struct port_event *ev,
			 uint64_t now)
{
	const char *reason = ev->abort_reason;

	switch (p->state) {
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_SDP:
	case PORT_STATE_WAIT_REENUM:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
		port_fail(p, o, now, PORT_RESULT_ABORTED, "%s",
			  reason && *reason ? reason : "aborted by the operator");
		return 0;
	case PORT_STATE_EMPTY:
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
	case PORT_STATE_BOOT_LOOP:
	case _PORT_STATE_MAX:
		break;
	}
	return -EBUSY;
}

/* The station holds (or lets go of) a FASTBOOT session's start: no stall
 * deadline while it waits; a fresh one when it goes on. */
static void port_on_wait(struct port *p, struct port_out *o, bool wait, uint64_t now)
{
	if (p->state != PORT_STATE_FASTBOOT || p->waiting == wait || p->gone || p->failing)
		return;
	p->waiting = wait;
	p->activity_ms = now;
	port_arm(p, o, wait ? 0 : now + p->cfg.fastboot_stall_ms);
}

static int port_on_retry(struct port *p, struct port_out *o, uint64_t now)
{
	if (!port_state_is_final(p->state))
		return -EBUSY;
	p->have_done = false;
	p->done_have_uid = false;
	p->done_serial[0] = '\0';
	port_board_reset(p, now);
	port_start(p, o, now);
	return 0;
}

static int port_dispatch(struct port *p, struct port_out *o, const struct port_event *ev,
			 uint64_t now)
{
	switch (ev->type) {
	case PORT_EV_DEV_ADDED:
		if ((unsigned)ev->dev_added.kind >= _PORT_DEV_MAX ||
		    ev->dev_added.kind == PORT_DEV_NONE)
			return -EINVAL;
		port_on_added(p, o, ev, now);
		return 0;
	case PORT_EV_DEV_REMOVED:
		port_on_removed(p, o, now);
		return 0;
	case PORT_EV_STEP:
		port_on_step(p, o, ev, now);
		return 0;
	case PORT_EV_PROGRESS:
		port_on_progress(p, o, ev, now);
		return 0;
	case PORT_EV_UID:
		port_on_uid(p, o, ev, now);
		return 0;
	case PORT_EV_SESSION_DONE:
		port_on_session_done(p, o, ev, now);
		return 0;
	case PORT_EV_DEADLINE:
		port_on_deadline(p, o, now);
		return 0;
	case PORT_EV_PAUSE:
		p->paused = true;
		return 0;
	case PORT_EV_RESUME:
		p->paused = false;
		if (p->state == PORT_STATE_PAUSED)
			port_start(p, o, now);
		return 0;
	case PORT_EV_HOLD:
		p->held = ev->hold;
		if (!p->held && p->state == PORT_STATE_WAITING)
			port_start(p, o, now);
		return 0;
	case PORT_EV_WAIT:
		port_on_wait(p, o, ev->wait, now);
		return 0;
	case PORT_EV_ABORT:
		return port_on_abort(p, o, ev, now);
	case PORT_EV_RETRY:
		return port_on_retry(p, o, now);
	case _PORT_EV_MAX:
		break;
	}
	return -EINVAL;
}

int port_handle(struct port *p, const struct port_event *ev, uint64_t now_ms,
		struct port_action *acts, size_t max)
{
	struct port_out o = { .acts = acts, .n = 0 };
	int r;

	if (!p || !ev || !acts || max < PORT_ACTIONS_MAX)
		return -EINVAL;
	r = port_dispatch(p, &o, ev, now_ms);
	if (r < 0)
		return r;
	return (int)o.n;
}

void port_init(struct port *p, const char *name, const struct port_cfg *cfg)
{
	memset(p, 0, sizeof(*p));
	port_copy(p->name, sizeof(p->name), name);
	p->cfg = *cfg;
	p->state = PORT_STATE_EMPTY;
	p->dev = PORT_DEV_NONE;
	p->step_index = PORT_STEP_NONE;
	p->next_step = PORT_STEP_FIRST_FB;
	p->spl_step = PORT_STEP_NONE;
	p->result = PORT_RESULT_NONE;
}

void port_set_cfg(struct port *p, const struct port_cfg *cfg)
{
	p->cfg = *cfg;
}

uint64_t port_bytes(const struct port *p)
{
	return p->bytes_done + p->bytes;
}

uint64_t port_rate(const struct port *p, uint64_t now_ms)
{
	if (now_ms <= p->step_start_ms || !port_state_has_session(p->state))
		return 0;
	return p->bytes * 1000u / (now_ms - p->step_start_ms);
}

bool port_state_is_final(enum port_state s)
{
	switch (s) {
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
	case PORT_STATE_BOOT_LOOP:
		return true;
	case PORT_STATE_EMPTY:
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_SDP:
	case PORT_STATE_WAIT_REENUM:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
	case _PORT_STATE_MAX:
		break;
	}
	return false;
}

bool port_is_busy(const struct port *p)
{
	return p->state == PORT_STATE_SDP || p->state == PORT_STATE_WAIT_REENUM ||
	       p->state == PORT_STATE_SPL || p->state == PORT_STATE_FASTBOOT;
}
