/* station: ports, device routing, action execution, operator commands. */
#include "daemon/station.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/pools.h"
#include "daemon/station_priv.h"
#include "daemon/usb.h"
#include "daemon/worker.h"
#include "flashd/fastboot.h"
#include "flashd/protocol.h"
#include "flashd/sdp.h"

uint64_t station_now_ms(void)
{
	return (uint64_t)clock_ms(CLOCK_MONOTONIC);
}

/* µs since udev's add of the port's boot ROM device reached us */
static int64_t station_since_plug_us(const struct station_port *ps)
{
	int64_t us = clock_us(CLOCK_MONOTONIC) - ps->plug_us;

	return us > 0 ? us : 0;
}

int64_t station_wall_ms(uint64_t mono_ms)
{
	return clock_ms(CLOCK_REALTIME) - (int64_t)(station_now_ms() - mono_ms);
}

void station_log(struct station_port *ps, int level, const char *fmt, ...)
{
	const struct slot *sl;
	char msg[512];
	va_list ap;

	/* nothing to format for a line neither the log nor the watchers take (they
	 * get info and above, whatever --log-level): the plug's debug lines sit on
	 * the path they measure */
	if (level > LOG_INFO && level > log_get_max_level())
		return;
	sl = slots_of_port(&ps->st->slots, ps->port.name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_internal(level, 0, "port %s%s%s: %s", ps->port.name, sl ? " slot " : "",
		     sl ? sl->name : "", msg);
	if (level <= LOG_INFO)
		control_publish(ps->st->ctl, PROTOCOL_EVENT_LOG,
				json_pack("{s:s, s:o, s:s, s:s}", "port", ps->port.name, "slot",
					  sl ? json_string(sl->name) : json_null(), "level",
					  log_level_to_string(level), "message", msg));
}

static int station_feed(struct station_port *ps, const struct port_event *ev);

/* ---- actions ---- */

/* The board's result, once: DONE, FAILED or BOOT_LOOP was entered. */
static void station_log_result(struct station_port *ps)
{
	const struct port *p = &ps->port;

	switch (p->result) {
	case PORT_RESULT_FAILED:
	case PORT_RESULT_ABORTED:
		station_log(ps, LOG_ERR, "%s at step \"%s\": %s (%" PRIu64 " bytes done)",
			    p->result == PORT_RESULT_ABORTED ? "aborted" : "failed", p->failed_step,
			    p->reason, port_bytes(p));
		break;
	case PORT_RESULT_BOOT_LOOP:
		station_log(ps, LOG_WARNING, "boot loop: %s; retry to flash it again", p->reason);
		break;
	case PORT_RESULT_OK:
		station_log(ps, LOG_NOTICE, "done: %" PRIu64 " bytes in %" PRIu64 " ms",
			    port_bytes(p), p->end_ms - p->start_ms);
		break;
	case PORT_RESULT_NONE:
	case _PORT_RESULT_MAX:
		break;
	}
}

static void station_on_state(struct station_port *ps, enum port_state old, enum port_state new,
			     uint64_t now)
{
	station_log(ps, LOG_INFO, "%s -> %s", port_state_to_string(old), port_state_to_string(new));
	if (new == PORT_STATE_WAIT_REENUM)
		ps->reenum_since = now;
	else if (old == PORT_STATE_WAIT_REENUM && ps->reenum &&
		 (new == PORT_STATE_SPL || new == PORT_STATE_FASTBOOT))
		json_array_append_new(ps->reenum, json_integer((json_int_t)(now - ps->reenum_since)));
	if (port_state_is_final(new))
		station_log_result(ps);
	control_publish(ps->st->ctl, PROTOCOL_EVENT_PORT, station_port_json(ps, now));
}

static void station_arm(struct station_port *ps, uint64_t deadline, uint64_t now)
{
	uint64_t ms = deadline > now ? deadline - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000u), .tv_usec = (suseconds_t)(ms % 1000u) * 1000 };

	if (!deadline)
		evtimer_del(ps->timer);
	else
		evtimer_add(ps->timer, &tv);
}

static void station_start(struct station_port *ps, const struct port_action *a)
{
	struct timeval now = { 0, 0 };
	bool new_board = a->type == PORT_ACT_START_SDP || a->first_step == PORT_STEP_FIRST_FB;

	ps->start = a->type;
	ps->first_step = a->type == PORT_ACT_START_SDP ? 0 : a->first_step;
	ps->open_tries = 0;
	if (new_board) {
		station_pools_board_end(ps, false);   /* none: the last board's ended with it */
		plan_unref(ps->plan);
		ps->plan = plan_ref(station_plan_for(ps->st, ps->port.name));
		json_decref(ps->steps);
		ps->steps = json_array();
		json_decref(ps->regions);
		ps->regions = json_array();
		json_decref(ps->reenum);
		ps->reenum = json_array();
		ps->has_plug_to_sdp = false;
		ps->rt.set = false;
	}
	/* deferred: the port's events must not re-enter port_handle */
	evtimer_add(ps->starter, &now);
}

static void station_stop_session(struct station_port *ps)
{
	evtimer_del(ps->starter);
	ps->sdp = sdp_session_free(ps->sdp);
	ps->fb = fb_session_free(ps->fb);
	if (ps->dev)
		usb_dev_close(ps->dev);
	ps->dev = NULL;
}

/* A step's kind in its record (flashd-control(7)): what the line manager's
 * histograms are made of. */
static const char *station_step_kind(const struct plan_step *s)
{
	if (!s)
		return "other";
	switch (s->proto) {
	case PLAN_PROTO_SDP:
		return "sdp";
	case PLAN_PROTO_SDPU:
	case PLAN_PROTO_SDPV:
		return "spl-sdp";
	default:
		break;
	}
	switch (s->op) {
	case PLAN_OP_FLASH:
		return "flash";
	case PLAN_OP_UCMD:
	case PLAN_OP_ACMD:
		return "ucmd";
	default:
		return "other";
	}
}

static void station_step_end(struct station_port *ps, const struct port_action *a)
{
	const struct plan_step *s = ps->plan ? plan_step(ps->plan, a->step_end.index) : NULL;
	const char *text = s ? s->text : ps->port.step;
	json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:I, s:b}", "index", (json_int_t)a->step_end.index,
			      "text", text, PROTOCOL_KEY_KIND, station_step_kind(s), "ms",
			      (json_int_t)a->step_end.ms, "bytes", (json_int_t)a->step_end.bytes,
			      "ok", a->step_end.ok);

	if (j && ps->rt.set && ps->rt.index == a->step_end.index) {
		json_object_set_new(j, PROTOCOL_KEY_DOWNLOAD_MS,
				    json_integer((json_int_t)ps->rt.download_ms));
		json_object_set_new(j, PROTOCOL_KEY_FLASH_MS, json_integer((json_int_t)ps->rt.flash_ms));
		if (ps->rt.verify)
			json_object_set_new(j, PROTOCOL_KEY_VERIFY_MS,
					    json_integer((json_int_t)ps->rt.verify_ms));
	}
	ps->rt.set = false;
	if (j && ps->steps)
		json_array_append_new(ps->steps, j);
	else
		json_decref(j);
	if (a->step_end.ok)
		stats_add_step(&ps->st->stats, text, a->step_end.ms);
}

/* The journal gets the record (fdatasync'd) before any client sees it; a
 * record it cannot take waits in the backlog (station_journal.c). */
static void station_result(struct station_port *ps, enum port_result r)
{
	json_t *rec = station_record_json(ps);

	station_pools_board_end(ps, r != PORT_RESULT_OK);
	stats_add_result(&ps->st->stats, r, port_bytes(&ps->port));
	if (!rec)
		log_error("port %s: out of memory building the result record", ps->port.name);
	else
		station_journal_result(ps->st, ps->port.name, rec);
	station_slot_result(ps, r);
}

static void station_exec(struct station_port *ps, const struct port_action *a, uint64_t now)
{
	switch (a->type) {
	case PORT_ACT_STATE:
		station_on_state(ps, a->state.old, a->state.new, now);
		break;
	case PORT_ACT_TIMER:
		station_arm(ps, a->deadline_ms, now);
		break;
	case PORT_ACT_START_SDP:
	case PORT_ACT_START_SPL:
	case PORT_ACT_START_FASTBOOT:
		station_start(ps, a);
		break;
	case PORT_ACT_STOP_SESSION:
		station_stop_session(ps);
		break;
	case PORT_ACT_STEP_END:
		station_step_end(ps, a);
		break;
	case PORT_ACT_PROGRESS:
		control_publish(ps->st->ctl, PROTOCOL_EVENT_PROGRESS, station_progress_json(ps, now));
		break;
	case PORT_ACT_RESULT:
		station_result(ps, a->result);
		break;
	case _PORT_ACT_MAX:
		break;
	}
}

static int station_feed(struct station_port *ps, const struct port_event *ev)
{
	struct port_action acts[PORT_ACTIONS_MAX];
	uint64_t now = station_now_ms();
	int n = port_handle(&ps->port, ev, now, acts, PORT_ACTIONS_MAX);

	for (int i = 0; i < n; i++)
		station_exec(ps, &acts[i], now);
	return n < 0 ? n : 0;
}

int station_port_event(struct station_port *ps, const struct port_event *ev)
{
	return station_feed(ps, ev);
}

void station_session_failed(struct station_port *ps, int status, const char *fmt, ...)
{
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };
	char reason[PORT_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ev.session_done.status = status;
	ev.session_done.reason = reason;
	station_feed(ps, &ev);
}

/* ---- session callbacks ---- */

static void station_check_uid(struct station_port *ps)
{
	struct port_event ev = { .type = PORT_EV_UID };

	if (ps->sdp && !ps->port.have_uid && sdp_session_uid(ps->sdp, &ev.uid)) {
		station_feed(ps, &ev);
		station_pools_uid(ps);
	}
}

static void station_ev_step(void *ud, size_t index, const char *text)
{
	struct station_port *ps = ud;
	struct port_event ev = { .type = PORT_EV_STEP };

	station_check_uid(ps);
	if (!port_is_busy(&ps->port))
		return;
	if (ps->port.state == PORT_STATE_SDP && !ps->has_plug_to_sdp && ps->plug_us) {
		int64_t us = station_since_plug_us(ps);

		ps->has_plug_to_sdp = true;
		ps->plug_to_sdp_ms = (uint64_t)us / 1000;
		station_log(ps, LOG_DEBUG, "first SDP step %" PRId64 ".%03" PRId64 " ms after the add",
			    us / 1000, us % 1000);
	}
	ev.step.index = index;
	ev.step.text = text;
	station_feed(ps, &ev);
}

static void station_ev_progress(void *ud, uint64_t bytes, uint64_t total)
{
	struct station_port *ps = ud;
	struct port_event ev = { .type = PORT_EV_PROGRESS };

	ev.progress.bytes = bytes;
	ev.progress.total = total;
	station_feed(ps, &ev);
}

/* A flash step's region (fb_session.c): into the board's record. */
static void station_ev_region(void *ud, const struct session_region *r)
{
	struct station_port *ps = ud;
	const struct plan_step *s = ps->plan ? plan_step(ps->plan, r->step_index) : NULL;
	char crc[9];
	json_t *j;

	snprintf(crc, sizeof(crc), "%08" PRIx32, r->crc32);
	j = json_pack("{s:I, s:s, s:s, s:I, s:b, s:b}", "index", (json_int_t)r->step_index, "text",
		      s ? s->text : "", "partition", r->part ? r->part : "", "bytes",
		      (json_int_t)r->bytes, "verify", r->verify, "verified", r->verified);
	if (j && r->verify)
		json_object_update_new(j, json_pack("{s:s, s:s, s:I, s:I, s:s}", "method", r->method,
						    "where", r->where, "pieces", (json_int_t)r->pieces,
						    "checked", (json_int_t)r->checked, "crc32", crc));
	if (j && r->why)
		json_object_set_new(j, "why", json_string(r->why));
	if (j && ps->regions)
		json_array_append_new(ps->regions, j);
	else
		json_decref(j);
	ps->rt.set = true;
	ps->rt.index = r->step_index;
	ps->rt.verify = r->verify;
	ps->rt.download_ms = r->download_ms;
	ps->rt.flash_ms = r->flash_ms;
	ps->rt.verify_ms = r->verify_ms;
	if (r->verify)
		station_log(ps, r->verified ? LOG_INFO : LOG_WARNING, "%s: %s: %s",
			    r->part ? r->part : "?", r->verified ? "verified" : "NOT verified",
			    r->verified ? r->where : r->why);
}

static void station_ev_info(void *ud, const char *text)
{
	station_log(ud, LOG_INFO, "%s", text);
	/* the SDP session reports the UID as soon as it was read: a board
	 * that loops back to the ROM is caught before its upload */
	station_check_uid(ud);
}

/* The first runnable SDPU/SDPV line at or after from, before any line of
 * another protocol; flavour SDPU or SDPV: the first of that flavour
 * (lines of the other one are passed over), PLAN_PROTO_SDP: of either.
 * plan_n_steps if none. */
static size_t station_spl_first(const struct plan *p, size_t from, enum plan_proto flavour)
{
	size_t n = plan_n_steps(p);

	for (size_t i = from; i < n; i++) {
		const struct plan_step *s = plan_step(p, i);

		if (!s->runs_on_imx6)
			continue;
		if (s->proto != PLAN_PROTO_SDPU && s->proto != PLAN_PROTO_SDPV)
			return n;
		if (flavour == PLAN_PROTO_SDP || s->proto == flavour)
			return i;
	}
	return n;
}

static void station_ev_sdp_done(void *ud, int status, const char *reason)
{
	struct station_port *ps = ud;
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };
	size_t n = plan_n_steps(ps->plan), next, spl, at;

	station_check_uid(ps);
	if (!ps->sdp)
		return;   /* the UID stopped it: boot loop */
	at = sdp_session_next_step(ps->sdp);
	spl = ps->start == PORT_ACT_START_SDP ? station_spl_first(ps->plan, at, PLAN_PROTO_SDP) : n;
	next = station_plan_first(ps->plan, at, PLAN_PROTO_FB);
	ev.session_done.status = status;
	ev.session_done.reason = reason;
	ev.session_done.more = next < n || spl < n;
	ev.session_done.next_step = next;
	ev.session_done.spl = spl < n;
	ev.session_done.spl_required = spl < n && plan_boots_spl(ps->plan);
	ev.session_done.spl_step = spl;
	station_feed(ps, &ev);
}

static void station_ev_fb_done(void *ud, int status, const char *reason)
{
	struct station_port *ps = ud;
	struct port_event ev = { .type = PORT_EV_SESSION_DONE };

	ev.session_done.status = status;
	ev.session_done.reason = reason;
	station_feed(ps, &ev);
}

/* ---- starting a session: open the device (retrying udev's permission race) ---- */

static int station_first_step(struct station_port *ps, size_t *first)
{
	size_t n = plan_n_steps(ps->plan), i;

	if (ps->start == PORT_ACT_START_SDP) {
		i = station_plan_first_runnable(ps->plan);
		if (i >= n || plan_step(ps->plan, i)->proto != PLAN_PROTO_SDP) {
			station_session_failed(ps, -EINVAL, "plan %s has no SDP step to start a board "
					       "in the boot ROM", plan_path(ps->plan));
			return -EINVAL;
		}
	} else if (ps->start == PORT_ACT_START_SPL) {
		i = station_spl_first(ps->plan, ps->first_step, ps->spl);
		if (i >= n) {
			station_session_failed(ps, -EINVAL, "plan %s has no %s lines for this SPL "
					       "gadget (%04x:%04x bcdDevice 0x%04x)",
					       plan_path(ps->plan), plan_proto_to_string(ps->spl),
					       ps->vid, ps->pid, ps->bcd);
			return -EINVAL;
		}
	} else {
		i = ps->first_step;
		if (i == PORT_STEP_FIRST_FB)
			i = station_plan_first(ps->plan, 0, PLAN_PROTO_FB);
		if (i >= n) {
			station_session_failed(ps, -EINVAL, "plan %s has no fastboot steps",
					       plan_path(ps->plan));
			return -EINVAL;
		}
	}
	*first = i;
	return 0;
}

static int station_open(struct station_port *ps, struct usb_dev **dev)
{
	struct timeval retry = { 0, STATION_OPEN_RETRY_MS * 1000 };
	int r;

	if (!ps->devnode[0]) {
		station_session_failed(ps, -ENODEV, "the device left before it was opened");
		return -ENODEV;
	}
	r = usb_dev_open(ps->st->usb, ps->devnode, dev);
	if ((r == -EACCES || r == -ENOENT || r == -EPERM) && ++ps->open_tries < STATION_OPEN_TRIES) {
		evtimer_add(ps->starter, &retry);
		return -EAGAIN;
	}
	if (r == -ENOENT) {
		/* devtmpfs makes the node when the kernel adds the device, before udev
		 * reports it: a node still missing is a device that left already */
		station_session_failed(ps, -ENODEV, "the device left before it was opened (%s)",
				       ps->devnode);
		return -ENODEV;
	}
	if (r < 0)
		station_session_failed(ps, r, "cannot open %s: %s", ps->devnode, strerror(-r));
	return r;
}

/* Right after udev's add the kernel may not have set the configuration
 * (the interface is not there yet, -ENOENT) or usbhid may still hold it
 * (-EBUSY): try again from the starter timer, a bounded number of times. */
static bool station_start_retry(struct station_port *ps, int r)
{
	struct timeval retry = { 0, STATION_OPEN_RETRY_MS * 1000 };

	if ((r != -ENOENT && r != -EBUSY && r != -EAGAIN) || ++ps->open_tries >= STATION_OPEN_TRIES)
		return false;
	log_info("port %s: cannot claim %s yet (%s), trying again in %u ms (%u of %u)",
		 ps->port.name, ps->devnode, strerror(-r), STATION_OPEN_RETRY_MS, ps->open_tries,
		 STATION_OPEN_TRIES - 1);
	evtimer_add(ps->starter, &retry);
	return true;
}

static void station_on_start(evutil_socket_t fd, short what, void *arg)
{
	struct station_port *ps = arg;
	struct session_events ev = { .ud = ps, .step = station_ev_step,
				     .progress = station_ev_progress, .info = station_ev_info,
				     .region = station_ev_region, .expand = station_pools_expand,
				     .bus_wait = station_ev_bus_wait };
	struct session_opts so = ps->st->sopts;
	struct usb_dev *dev;
	size_t first;
	int64_t t_open;
	int r;

	if (!port_is_busy(&ps->port) || ps->sdp || ps->fb)
		return;
	if (!ps->plan) {
		station_session_failed(ps, -ENOENT, "no plan for this port (flashctl use PLAN)");
		return;
	}
	if (station_first_step(ps, &first) < 0)
		return;
	/* the fastboot steps put the board's pool values in: they wait for them */
	if (ps->start == PORT_ACT_START_FASTBOOT && station_pools_ready(ps) < 0)
		return;
	t_open = clock_us(CLOCK_MONOTONIC);
	if (station_open(ps, &dev) < 0)
		return;
	/* the plug's latency (bench P7), in parts: the loop passes before this
	 * callback, and the kernel's open, usbhid detach and claim */
	if (ps->start != PORT_ACT_START_FASTBOOT && ps->plug_us && !ps->has_plug_to_sdp) {
		int64_t at = t_open - ps->plug_us, took = clock_us(CLOCK_MONOTONIC) - t_open;

		station_log(ps, LOG_DEBUG, "starting %" PRId64 ".%03" PRId64 " ms after the add; "
			    "open, detach and claim took %" PRId64 ".%03" PRId64 " ms",
			    at / 1000, at % 1000, took / 1000, took % 1000);
	}
	/* pool values are bound to the SoC UID */
	so.read_uid |= plan_n_pools(ps->plan) > 0;
	if (ps->start == PORT_ACT_START_SDP) {
		ev.done = station_ev_sdp_done;
		r = sdp_session_start(dev, ps->soc, ps->plan, first, &so, &ev, &ps->sdp);
	} else if (ps->start == PORT_ACT_START_SPL) {
		ev.done = station_ev_sdp_done;
		r = sdp_session_start_spl(dev, ps->spl, ps->plan, first, &ps->st->sopts, &ev,
					  &ps->sdp);
	} else {
		ev.done = station_ev_fb_done;
		station_bus_opts(ps, &so);
		ps->bus_waiting = false;
		r = fb_session_start(dev, ps->plan, first, &so, &ev, &ps->fb);
	}
	if (r < 0) {
		usb_dev_close(dev);
		if (station_start_retry(ps, r))
			return;
		station_session_failed(ps, r, "cannot start the %s session: %s",
				       ps->start == PORT_ACT_START_FASTBOOT ? "fastboot" : "SDP",
				       strerror(-r));
		return;
	}
	ps->dev = dev;
}

static void station_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct station_port *ps = arg;
	struct port_event ev = { .type = PORT_EV_DEADLINE };
	uint64_t now = station_now_ms();

	if (ps->port.deadline_ms > now) {
		station_arm(ps, ps->port.deadline_ms, now);
		return;
	}
	station_feed(ps, &ev);
}

/* ---- ports ---- */

struct station_port *station_find(const struct station *st, const char *name)
{
	for (size_t i = 0; i < st->nports; i++)
		if (strcmp(st->ports[i]->port.name, name) == 0)
			return st->ports[i];
	return NULL;
}

static struct station_port *station_port_free(struct station_port *ps)
{
	if (!ps)
		return NULL;
	station_stop_session(ps);
	if (ps->timer)
		event_free(ps->timer);
	if (ps->starter)
		event_free(ps->starter);
	station_pools_board_end(ps, false);
	plan_unref(ps->plan);
	json_decref(ps->steps);
	json_decref(ps->regions);
	json_decref(ps->reenum);
	free(ps);
	return NULL;
}

struct station_port *station_port_new(struct station *st, const char *name)
{
	struct station_port *ps, **ports;

	if (st->nports >= STATION_PORTS_MAX || strlen(name) >= PORT_NAME_MAX)
		return NULL;
	ports = realloc(st->ports, (st->nports + 1) * sizeof(*ports));
	if (!ports)
		return NULL;
	st->ports = ports;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->st = st;
	port_init(&ps->port, name, &st->port_cfg);
	ps->port.paused = st->paused || station_journal_held(st);
	ps->timer = evtimer_new(st->base, station_on_deadline, ps);
	ps->starter = evtimer_new(st->base, station_on_start, ps);
	if (!ps->timer || !ps->starter)
		return station_port_free(ps);
	st->ports[st->nports++] = ps;
	return ps;
}

/* U-Boot SPL's SDP gadget: uuu's table (first), then the plan's
 * "CFG: SDPU:/SDPV: -vid -pid [-bcd…]" lines. */
static enum plan_proto station_spl_kind(const struct plan *p, const struct devwatch_dev *dev)
{
	const struct plan_usb_id *ids;
	size_t n = 0;

	switch (sdp_spl_lookup(dev->vid, dev->pid, dev->bcd)) {
	case SDP_SPL_SDPU:
		return PLAN_PROTO_SDPU;
	case SDP_SPL_SDPV:
		return PLAN_PROTO_SDPV;
	case SDP_SPL_NONE:
		break;
	}
	ids = p ? plan_usb_ids(p, &n) : NULL;
	for (size_t i = 0; i < n; i++)
		if ((ids[i].proto == PLAN_PROTO_SDPU || ids[i].proto == PLAN_PROTO_SDPV) &&
		    ids[i].vid == dev->vid && ids[i].pid == dev->pid &&
		    dev->bcd >= ids[i].bcd_min && dev->bcd <= ids[i].bcd_max)
			return ids[i].proto;
	return PLAN_PROTO_SDP;   /* not an SPL gadget */
}

/* The plan whose CFG: lines name the devices of a port: the running
 * board's (a `use` since does not change what it waits for), else the
 * port's. */
static const struct plan *station_ids_plan(const struct station *st, const char *port)
{
	const struct station_port *ps = station_find(st, port);

	if (ps && ps->plan && port_is_busy(&ps->port))
		return ps->plan;
	return station_plan_for(st, port);
}

static enum port_dev station_classify(const struct station *st, const struct devwatch_dev *dev,
				      enum plan_proto *spl)
{
	const struct plan *p;

	if (dev->dev_class == 9)
		return PORT_DEV_NONE;   /* hubs are not boards */
	if (sdp_soc_lookup(dev->vid, dev->pid))
		return PORT_DEV_ROM;
	p = station_ids_plan(st, dev->port);
	*spl = station_spl_kind(p, dev);
	if (*spl != PLAN_PROTO_SDP)
		return PORT_DEV_SPL;
	if (devwatch_has_interface(dev->interfaces, FASTBOOT_USB_CLASS, FASTBOOT_USB_SUBCLASS,
				   FASTBOOT_USB_PROTOCOL) ||
	    station_plan_is_fastboot_id(p, dev->vid, dev->pid))
		return PORT_DEV_FASTBOOT;
	return PORT_DEV_OTHER;
}

static void station_device_removed(struct station_port *ps)
{
	struct port_event ev = { .type = PORT_EV_DEV_REMOVED };

	station_log(ps, LOG_INFO, "%s %s removed", port_dev_to_string(ps->port.dev), ps->devnode);
	ps->devnode[0] = '\0';
	ps->soc = NULL;
	station_feed(ps, &ev);
}

static void station_device_added(struct station *st, const struct devwatch_dev *dev)
{
	enum plan_proto spl = PLAN_PROTO_SDP;
	enum port_dev kind = station_classify(st, dev, &spl);
	struct port_event ev = { .type = PORT_EV_DEV_ADDED };
	struct station_port *ps;

	if (kind == PORT_DEV_NONE || !dev->devnode || strlen(dev->devnode) >= sizeof(ps->devnode))
		return;
	if (station_slot_ignores(st, dev, kind))
		return;
	ps = station_find(st, dev->port);
	if (!ps && (kind == PORT_DEV_OTHER || kind == PORT_DEV_SPL))
		return;   /* only a board flashd started on can be anything else */
	if (!ps && !(ps = station_port_new(st, dev->port))) {
		log_error("port %s: cannot track more ports", dev->port);
		return;
	}
	if (ps->ignored != PORT_DEV_NONE)
		station_slot_ignored_gone(ps);   /* a reload made the port a slot */
	else if (ps->devnode[0])
		station_device_removed(ps);
	snprintf(ps->devnode, sizeof(ps->devnode), "%s", dev->devnode);
	ps->vid = dev->vid;
	ps->pid = dev->pid;
	ps->bcd = dev->bcd;
	ps->soc = kind == PORT_DEV_ROM ? sdp_soc_lookup(dev->vid, dev->pid) : NULL;
	ps->spl = spl;
	if (kind == PORT_DEV_ROM)
		ps->plug_us = clock_us(CLOCK_MONOTONIC);
	station_log(ps, LOG_INFO, "%s %04x:%04x added (%s%s%s%s%s)", port_dev_to_string(kind),
		    dev->vid, dev->pid, ps->soc ? ps->soc->name : dev->devnode,
		    kind == PORT_DEV_SPL ? ", " : "",
		    kind == PORT_DEV_SPL ? plan_proto_to_string(spl) : "",
		    dev->serial ? ", serial " : "", dev->serial ? dev->serial : "");
	ev.dev_added.kind = kind;
	ev.dev_added.serial = dev->serial;
	station_pools_gate(ps);
	station_feed(ps, &ev);
}

void station_on_device(void *ud, enum devwatch_action action, const struct devwatch_dev *dev)
{
	struct station *st = ud;
	struct station_port *ps;

	if (st->stopping || !dev->port)
		return;
	switch (action) {
	case DEVWATCH_ADD:
		station_device_added(st, dev);
		break;
	case DEVWATCH_REMOVE:
		ps = station_find(st, dev->port);
		if (!ps || !ps->devnode[0])
			return;
		if (dev->devnode && strcmp(dev->devnode, ps->devnode) != 0)
			return;   /* not the device we track there */
		if (ps->ignored != PORT_DEV_NONE)
			station_slot_ignored_gone(ps);
		else
			station_device_removed(ps);
		break;
	}
}

/* ---- operator commands ---- */

static void station_feed_all(struct station *st, enum port_event_type t)
{
	struct port_event ev = { .type = t };

	for (size_t i = 0; i < st->nports; i++)
		station_feed(st->ports[i], &ev);
}

/* watchers learn the operator's pause as it changes ("pause" event) */
static void station_publish_pause(struct station *st)
{
	control_publish(st->ctl, PROTOCOL_EVENT_PAUSE,
			json_pack("{s:b}", PROTOCOL_KEY_PAUSED, st->paused));
}

static int station_pause(void *ud)
{
	struct station *st = ud;

	if (!st->paused) {
		log_notice("paused: boards plugged in from now on wait; running boards go on");
		st->paused = true;
		station_publish_pause(st);
	}
	station_feed_all(st, PORT_EV_PAUSE);
	return 0;
}

static int station_resume(void *ud)
{
	struct station *st = ud;

	if (st->paused) {
		log_notice("resumed");
		st->paused = false;
		station_publish_pause(st);
	}
	if (station_journal_held(st)) {
		log_warning("new boards still wait: %s", station_journal_reason(st));
		return 0;
	}
	station_feed_all(st, PORT_EV_RESUME);
	return 0;
}

static int station_port_op(struct station *st, const char *name, enum port_event_type t,
			   char *err, size_t errlen)
{
	struct port_event ev = { .type = t };
	struct station_port *ps = name ? station_find_port(st, name) : NULL;
	int r;

	if (!ps) {
		snprintf(err, errlen, "no port %s", name ? name : "(none)");
		return -ENOENT;
	}
	r = station_feed(ps, &ev);
	if (r == -EBUSY)
		snprintf(err, errlen, "port %s is %s: %s", name, port_state_to_string(ps->port.state),
			 t == PORT_EV_ABORT ? "nothing runs there"
					    : "only done, failed or boot-loop ports can be retried");
	else if (r >= 0)
		log_notice("port %s: %s by the operator", name, t == PORT_EV_ABORT ? "abort" : "retry");
	return r;
}

static int station_abort(void *ud, const char *port, char *err, size_t errlen)
{
	return station_port_op(ud, port, PORT_EV_ABORT, err, errlen);
}

static int station_retry(void *ud, const char *port, char *err, size_t errlen)
{
	struct station *st = ud;

	if (station_journal_held(st)) {
		snprintf(err, errlen, "%s; retry once it can", station_journal_reason(st));
		return -EBUSY;
	}
	return station_port_op(ud, port, PORT_EV_RETRY, err, errlen);
}

void station_backend(struct station *st, struct control_backend *be)
{
	*be = (struct control_backend){
		.ud = st,
		.status = station_status_json,
		.stats = station_stats_json,
		.plans = station_plans_json,
		.use = station_use,
		.pause = station_pause,
		.resume = station_resume,
		.abort_port = station_abort,
		.retry = station_retry,
		.reload = station_reload_op,
		.slot_port = station_slot_port,
		.pools = station_pools_json,
	};
}

const struct conf *station_conf(const struct station *st)
{
	return st->conf;
}

void station_set_control(struct station *st, struct control *ctl)
{
	st->ctl = ctl;
}

int station_new(const struct station_opts *o, struct conf *conf, struct station **out, char *err,
		size_t errlen)
{
	struct station *st;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st) {
		conf_free(conf);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	st->base = o->base;
	st->usb = o->usb;
	st->journal = o->journal;
	st->conf = conf;
	st->started_ms = station_now_ms();
	st->config_path = o->config_path ? strdup(o->config_path) : NULL;
	if (o->config_path && !st->config_path) {
		snprintf(err, errlen, "out of memory");
		station_free(st);
		return -ENOMEM;
	}
	r = station_journal_init(st, o->journal ? conf->journal_path : NULL);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		station_free(st);
		return r;
	}
	r = station_plans_load(conf, &st->plans, err, errlen);
	if (r < 0) {
		station_free(st);
		return r;
	}
	r = worker_new(st->base, &st->loader);
	if (r == 0)
		r = worker_new(st->base, &st->digests);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the plan loader and digest threads: %s", strerror(-r));
		station_free(st);
		return r;
	}
	r = station_pools_init(st);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the pools: %s", strerror(-r));
		station_free(st);
		return r;
	}
	r = station_bus_init(st);
	if (r < 0) {
		snprintf(err, errlen, "cannot set up bus scheduling: %s", strerror(-r));
		station_free(st);
		return r;
	}
	station_apply_conf(st);
	station_slots_apply(st);
	*out = st;
	return 0;
}

void station_shutdown(struct station *st, const char *reason)
{
	struct port_event ev = { .type = PORT_EV_ABORT, .abort_reason = reason };

	st->stopping = true;
	for (size_t i = 0; i < st->nports; i++)
		if (port_is_busy(&st->ports[i]->port))
			station_feed(st->ports[i], &ev);
}

struct station *station_free(struct station *st)
{
	if (!st)
		return NULL;
	st->stopping = true;   /* loads that finish now are not applied */
	st->loader = worker_free(st->loader);
	for (size_t i = 0; i < st->nports; i++)
		station_port_free(st->ports[i]);
	/* after the boards: a release they asked for is made (or cancelled) here */
	st->pools = pools_free(st->pools);
	/* after the sessions: a digest job they let go of ends here */
	st->digests = worker_free(st->digests);
	/* after the sessions: they gave their requests back */
	st->bus = bussched_free(st->bus);
	free(st->ports);
	station_plans_clear(&st->plans);
	station_journal_fini(st);
	stats_clear(&st->stats);
	slots_clear(&st->slots);
	conf_free(st->conf);
	free(st->config_path);
	free(st);
	return NULL;
}
