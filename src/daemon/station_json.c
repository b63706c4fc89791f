/* station_json: port objects, journal records and the stats reply as JSON
 * (keys: flashd-control(7)); the statistics themselves are stats.c. */
#include "daemon/station_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/natcmp.h"

static json_t *station_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *station_uid_json(const struct port *p)
{
	char buf[20];

	if (!p->have_uid)
		return json_null();
	snprintf(buf, sizeof(buf), "%016" PRIx64, p->uid);
	return json_string(buf);
}

/* The plan a port shows: its board's while it has one, else the one a new
 * board would get. */
static const struct plan *station_port_plan(const struct station_port *ps)
{
	if (ps->plan && ps->port.state != PORT_STATE_EMPTY && ps->port.state != PORT_STATE_PAUSED)
		return ps->plan;
	return station_plan_for(ps->st, ps->port.name);
}

static uint64_t station_elapsed(const struct port *p, uint64_t now)
{
	switch (p->state) {
	case PORT_STATE_PAUSED:
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

static json_t *station_step_index(const struct port *p)
{
	return p->step_index == PORT_STEP_NONE ? json_null() : json_integer((json_int_t)p->step_index);
}

json_t *station_port_json(const struct station_port *ps, uint64_t now)
{
	const struct port *p = &ps->port;
	const struct plan *plan = station_port_plan(ps);
	bool failed = p->state == PORT_STATE_FAILED || p->state == PORT_STATE_BOOT_LOOP;

	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I,"
			 " s:o, s:o, s:o, s:o, s:b}",
			 "port", p->name,
			 "state", port_state_to_string(p->state),
			 "device", port_dev_to_string(p->dev),
			 "step", station_str_or_null(p->step),
			 "step_index", station_step_index(p),
			 "steps", (json_int_t)(plan ? plan_n_steps(plan) : 0),
			 "bytes", (json_int_t)p->bytes,
			 "total", (json_int_t)p->total,
			 "board_bytes", (json_int_t)port_bytes(p),
			 "rate", (json_int_t)port_rate(p, now),
			 "uid", station_uid_json(p),
			 "serial", station_str_or_null(p->serial),
			 "elapsed_ms", (json_int_t)station_elapsed(p, now),
			 "plan", station_str_or_null(plan ? plan_path(plan) : NULL),
			 "result", station_str_or_null(port_result_to_string(p->result)),
			 "failed_step", failed ? station_str_or_null(p->failed_step) : json_null(),
			 "reason", failed ? station_str_or_null(p->reason) : json_null(),
			 "paused", p->paused);
}

static int station_port_cmp(const void *a, const void *b)
{
	const struct station_port *x = *(const struct station_port *const *)a;
	const struct station_port *y = *(const struct station_port *const *)b;

	return natcmp(x->port.name, y->port.name);
}

/* Ports in natural order of their names (1-9 before 1-10), not in the order
 * they were first seen. */
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
	return json_pack("{s:b, s:o, s:o, s:o}", "paused", st->paused, "plan",
			 station_str_or_null(st->plans.plan ? plan_path(st->plans.plan) : NULL),
			 "loading", station_loading_json(st), "ports", ports);
}

json_t *station_progress_json(const struct station_port *ps, uint64_t now)
{
	const struct port *p = &ps->port;

	return json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "port", p->name,
			 "step", station_str_or_null(p->step), "step_index", station_step_index(p),
			 "bytes", (json_int_t)p->bytes, "total", (json_int_t)p->total,
			 "board_bytes", (json_int_t)port_bytes(p),
			 "rate", (json_int_t)port_rate(p, now));
}

static json_t *station_images_json(const struct plan *plan)
{
	json_t *a = json_array();
	size_t n = plan ? plan_n_images(plan) : 0;

	for (size_t i = 0; a && i < n; i++) {
		const struct plan_image *img = plan_image(plan, i);

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", "path", img->path,
						   "sha256", img->sha256, "compression",
						   station_str_or_null(img->compression),
						   "source_sha256",
						   station_str_or_null(img->source_sha256)));
	}
	return a;
}

json_t *station_record_json(const struct station_port *ps)
{
	const struct port *p = &ps->port;
	bool ok = p->result == PORT_RESULT_OK;

	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:s, s:o, s:o, s:I, s:o}",
			 "port", p->name,
			 "uid", station_uid_json(p),
			 "serial", station_str_or_null(p->serial),
			 "plan", station_str_or_null(ps->plan ? plan_path(ps->plan) : NULL),
			 "plan_sha256", station_str_or_null(ps->plan ? plan_sha256(ps->plan) : NULL),
			 "images", station_images_json(ps->plan),
			 "start_ms", (json_int_t)station_wall_ms(p->start_ms),
			 "end_ms", (json_int_t)station_wall_ms(p->end_ms),
			 "result", port_result_to_string(p->result) ? port_result_to_string(p->result)
								    : "failed",
			 "failed_step", ok ? json_null() : station_str_or_null(p->failed_step),
			 "reason", ok ? json_null() : station_str_or_null(p->reason),
			 "bytes", (json_int_t)port_bytes(p),
			 "steps", ps->steps ? json_incref(ps->steps) : json_array());
}

json_t *station_stats_json(void *ud)
{
	struct station *st = ud;
	size_t busy = 0;

	for (size_t i = 0; i < st->nports; i++)
		busy += port_is_busy(&st->ports[i]->port);
	return stats_json(&st->stats, station_now_ms() - st->started_ms, st->nports, busy);
}
