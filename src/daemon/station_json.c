/* station_json: port objects, journal records and the stats reply as JSON
 * (keys: flashd-control(7)), and the one-line status for sd_notify; the
 * statistics themselves are stats.c. */
#include "daemon/station_priv.h"
#include "daemon/pools.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/natcmp.h"
#include "flashd/ctlproto.h"

/* The plan a port shows: its board's while it has one, else the one a new
 * board would get. */
static const struct plan *station_port_plan(const struct station_port *ps)
{
	if (ps->plan && ps->port.state != PORT_STATE_EMPTY && ps->port.state != PORT_STATE_PAUSED &&
	    ps->port.state != PORT_STATE_WAITING)
		return ps->plan;
	return station_plan_for(ps->st, ps->port.name);
}

static uint64_t station_elapsed(const struct port *p, uint64_t now)
{
	switch (p->state) {
	case PORT_STATE_PAUSED:
	case PORT_STATE_WAITING:
	case PORT_STATE_SDP:
	case PORT_STATE_WAIT_REENUM:
	case PORT_STATE_SPL:
	case PORT_STATE_FASTBOOT:
		return now > p->start_ms ? now - p->start_ms : 0;
	case PORT_STATE_DONE:
	case PORT_STATE_FAILED:
	case PORT_STATE_BOOT_LOOP:
		return p->end_ms > p->start_ms ? p->end_ms - p->start_ms : 0;
	case PORT_STATE_EMPTY:
	case _PORT_STATE_MAX:
		break;
	}
	return 0;
}

/* A port in the protocol's terms (ctlproto_port_new, _progress_new). */
static void station_port_fill(const struct station_port *ps, uint64_t now,
			      struct ctlproto_port *out)
{
	const struct port *p = &ps->port;
	const struct plan *plan = station_port_plan(ps);
	bool failed = p->state == PORT_STATE_FAILED || p->state == PORT_STATE_BOOT_LOOP;
	/* a board that waits for the journal says so */
	const char *held = p->state == PORT_STATE_PAUSED ? station_journal_reason(ps->st) : NULL;

	/* a board that waits for a pool says which and why */
	if (p->state == PORT_STATE_WAITING)
		held = ps->hold_why;
	else if (p->state == PORT_STATE_FASTBOOT && p->waiting && ps->bus_waiting)
		held = ps->bus_why;
	else if (p->state == PORT_STATE_FASTBOOT && p->waiting && ps->pb)
		pools_board_status(ps->pb, &held);
	const struct slot *sl = slots_of_port(&ps->st->slots, p->name);

	*out = (struct ctlproto_port){
		.port = p->name,
		.state = port_state_to_string(p->state),
		.device = port_dev_to_string(ps->ignored != PORT_DEV_NONE ? ps->ignored : p->dev),
		.step = p->step,
		.serial = p->serial,
		.plan = plan ? plan_path(plan) : NULL,
		.result = port_result_to_string(p->result),
		.failed_step = failed ? p->failed_step : NULL,
		.reason = failed ? p->reason : held,
		.has_step_index = p->step_index != PORT_STEP_NONE,
		.step_index = p->step_index,
		.steps = plan ? plan_n_steps(plan) : 0,
		.bytes = p->bytes,
		.total = p->total,
		.board_bytes = port_bytes(p),
		.rate = port_rate(p, now),
		.elapsed_ms = station_elapsed(p, now),
		.has_uid = p->have_uid,
		.uid = p->uid,
		.paused = p->paused,
		.slot = sl ? sl->name : NULL,
		.ignored = ps->ignored != PORT_DEV_NONE || slots_ignores(&ps->st->slots, p->name),
	};
}

json_t *station_port_json(const struct station_port *ps, uint64_t now)
{
	struct ctlproto_port cp;
	const struct slot *sl = slots_of_port(&ps->st->slots, ps->port.name);
	json_t *j;

	station_port_fill(ps, now, &cp);
	cp.yield = sl ? slots_yield_json(&ps->st->slots, sl) : NULL;
	j = ctlproto_port_new(&cp);
	json_decref(cp.yield);
	return j;
}

/* Slots first, in natural order of their names; then the other ports in
 * natural order of theirs. */
static int station_port_cmp(const void *a, const void *b)
{
	const struct station_port *x = *(const struct station_port *const *)a;
	const struct station_port *y = *(const struct station_port *const *)b;
	const struct slot *sx = slots_of_port(&x->st->slots, x->port.name);
	const struct slot *sy = slots_of_port(&y->st->slots, y->port.name);

	if (sx && sy)
		return natcmp(sx->name, sy->name);
	if (sx || sy)
		return sx ? -1 : 1;
	return natcmp(x->port.name, y->port.name);
}

/* Ports in natural order of their slots' names, then of their own names
 * (1-9 before 1-10), not in the order they were first seen. */
json_t *station_status_json(void *ud)
{
	struct station *st = ud;
	uint64_t now = station_now_ms();
	struct station_port **order = calloc(st->nports ? st->nports : 1, sizeof(*order));
	json_t *ports = json_array();

	if (!ports || !order) {
		free(order);
		json_decref(ports);
		return NULL;
	}
	memcpy(order, st->ports, st->nports * sizeof(*order));
	qsort(order, st->nports, sizeof(*order), station_port_cmp);
	for (size_t i = 0; i < st->nports; i++)
		json_array_append_new(ports, station_port_json(order[i], now));
	free(order);
	return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", PROTOCOL_KEY_PAUSED, st->paused,
			 PROTOCOL_KEY_PLAN,
			 st->plans.plan ? json_string(plan_path(st->plans.plan)) : json_null(),
			 PROTOCOL_KEY_LOADING, station_loading_json(st), PROTOCOL_KEY_JOURNAL,
			 station_journal_json(st), PROTOCOL_KEY_PORTS, ports, PROTOCOL_KEY_POOLS,
			 pools_json(st->pools));
}

json_t *station_progress_json(const struct station_port *ps, uint64_t now)
{
	struct ctlproto_port cp;

	station_port_fill(ps, now, &cp);
	return ctlproto_progress_new(&cp);
}

json_t *station_record_json(const struct station_port *ps)
{
	const struct port *p = &ps->port;
	size_t n = ps->plan ? plan_n_images(ps->plan) : 0;
	struct ctlproto_image *imgs = calloc(n ? n : 1, sizeof(*imgs));
	bool ok = p->result == PORT_RESULT_OK;
	const char *result = port_result_to_string(p->result);
	const struct slot *sl = slots_of_port(&ps->st->slots, p->name);
	json_t *values, *j;

	if (!imgs)
		return NULL;
	values = station_pools_values(ps);
	for (size_t i = 0; i < n; i++) {
		const struct plan_image *img = plan_image(ps->plan, i);

		imgs[i] = (struct ctlproto_image){ .path = img->path, .sha256 = img->sha256,
						   .compression = img->compression,
						   .source_sha256 = img->source_sha256 };
	}
	j = ctlproto_record_new(&(struct ctlproto_record){
		.port = p->name,
		.slot = sl ? sl->name : NULL,
		.serial = p->serial,
		.plan = ps->plan ? plan_path(ps->plan) : NULL,
		.plan_sha256 = ps->plan ? plan_sha256(ps->plan) : NULL,
		.result = result ? result : PROTOCOL_RESULT_FAILED,
		.failed_step = ok ? NULL : p->failed_step,
		.reason = ok ? NULL : p->reason,
		.has_uid = p->have_uid,
		.uid = p->uid,
		.start_ms = station_wall_ms(p->start_ms),
		.end_ms = station_wall_ms(p->end_ms),
		.bytes = port_bytes(p),
		.images = imgs,
		.nimages = n,
		.steps = ps->steps,
		.regions = ps->regions,
		.has_plug_to_sdp = ps->has_plug_to_sdp,
		.plug_to_sdp_ms = ps->plug_to_sdp_ms,
		.reenum_ms = ps->reenum,
		.values = values,
	});
	json_decref(values);
	free(imgs);
	return j;
}

json_t *station_stats_json(void *ud)
{
	struct station *st = ud;
	size_t busy = 0;
	struct stats_process proc;
	json_t *j;

	for (size_t i = 0; i < st->nports; i++)
		busy += port_is_busy(&st->ports[i]->port);
	stats_process_read(&proc);
	proc.loop_events = st->base ? (uint64_t)event_base_get_num_events(st->base, EVENT_BASE_COUNT_ADDED) : 0;
	j = stats_json(&st->stats, station_now_ms() - st->started_ms, st->nports, busy, &proc);
	if (j && json_object_set_new(j, PROTOCOL_KEY_SLOTS, slots_json(&st->slots)) < 0)
		j = (json_decref(j), NULL);
	return j;
}

void station_status_line(const struct station *st, char *buf, size_t len)
{
	size_t busy = 0;

	for (size_t i = 0; i < st->nports; i++)
		busy += port_is_busy(&st->ports[i]->port);
	snprintf(buf, len, "%zu ports, %zu flashing; %" PRIu64 " done, %" PRIu64 " failed, %" PRIu64
		 " boot loops%s%s%s", st->nports, busy, st->stats.ok,
		 st->stats.failed + st->stats.aborted, st->stats.boot_loop,
		 st->paused ? "; paused" : "", station_journal_held(st) ? "; HELD: " : "",
		 station_journal_held(st) ? station_journal_reason(st) : "");
}
