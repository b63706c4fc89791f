/* station_pools: the station's side of the pools (pools.h). A port whose
 * new boards need a pool that cannot give holds them (WAITING, with the
 * reason); a board's values are asked for as soon as its SoC UID is read
 * over SDP, in parallel with the upload, and its fastboot session starts
 * once they are there (FASTBOOT waits, without its stall deadline, while
 * the database is away). The values go into the steps' commands as they
 * are sent and into the board's record. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/control.h"
#include "daemon/pools.h"
#include "flashd/pool.h"
#include "flashd/protocol.h"

static void station_on_pool(void *ud, const json_t *pool)
{
	struct station *st = ud;

	control_publish(st->ctl, PROTOCOL_EVENT_POOL,
			json_pack("{s:O}", PROTOCOL_KEY_POOL, (json_t *)pool));
	station_pools_gate_all(st);
}

int station_pools_init(struct station *st)
{
	struct pools_opts o = { .base = st->base, .changed = station_on_pool, .ud = st };
	int r = pools_new(&o, &st->pools);

	if (r == 0)
		r = pools_apply(st->pools, st->conf, st->conf->station_id);
	return r;
}

void station_pools_apply(struct station *st)
{
	if (pools_apply(st->pools, st->conf, st->conf->station_id) < 0)
		log_error("reload: out of memory taking the pools; the old ones stay");
}

void station_pools_gate(struct station_port *ps)
{
	const struct plan *p = station_plan_for(ps->st, ps->port.name);
	char why[PORT_TEXT_MAX];
	bool hold = pools_gate(ps->st->pools, p, why, sizeof(why)) < 0;
	struct port_event ev = { .type = PORT_EV_HOLD, .hold = hold };

	if (hold)
		snprintf(ps->hold_why, sizeof(ps->hold_why), "%s", why);
	if (hold == ps->port.held)
		return;
	if (hold)
		station_log(ps, LOG_NOTICE, "new boards wait: %s", why);
	else if (ps->port.state == PORT_STATE_WAITING)
		station_log(ps, LOG_NOTICE, "the pools can give again: the waiting board starts");
	station_port_event(ps, &ev);
}

void station_pools_gate_all(struct station *st)
{
	if (!st->pools)
		return;
	for (size_t i = 0; i < st->nports; i++)
		station_pools_gate(st->ports[i]);
}

/* The board's values came (or cannot come): a fastboot session that waits
 * for them starts. */
static void station_on_values(void *ud)
{
	struct station_port *ps = ud;
	const char *why;
	int r = pools_board_status(ps->pb, &why);

	/* said once, not at every try while the database is away */
	if (r < 0 && strncmp(ps->values_why, why, sizeof(ps->values_why) - 1) != 0) {
		station_log(ps, r == -EINPROGRESS ? LOG_WARNING : LOG_ERR, "%s", why);
		snprintf(ps->values_why, sizeof(ps->values_why), "%s", why);
	}
	if (ps->port.state == PORT_STATE_FASTBOOT && ps->port.waiting && r != -EINPROGRESS) {
		struct timeval now = { 0, 0 };

		evtimer_add(ps->starter, &now);
	}
}

void station_pools_uid(struct station_port *ps)
{
	int r;

	if (ps->pb || !ps->plan || !plan_n_pools(ps->plan) || !ps->port.have_uid ||
	    !port_is_busy(&ps->port))
		return;
	ps->values_why[0] = '\0';
	r = pools_board_start(ps->st->pools, ps->plan, ps->port.uid, station_on_values, ps,
			      &ps->pb);
	if (r < 0)
		station_log(ps, LOG_ERR, "cannot ask for the board's pool values: %s", strerror(-r));
}

int station_pools_ready(struct station_port *ps)
{
	struct port_event ev = { .type = PORT_EV_WAIT };
	const char *why;
	int r;

	if (!ps->plan || !plan_n_pools(ps->plan))
		return 0;
	if (!ps->pb) {
		station_session_failed(ps, -ENOENT, "the plan uses pool values, which are bound to "
				       "the board's SoC UID, and it was not read (the board came in "
				       "fastboot, not in the boot ROM)");
		return -ENOENT;
	}
	r = pools_board_status(ps->pb, &why);
	if (r == -EINPROGRESS) {
		if (!ps->port.waiting) {
			ev.wait = true;
			station_port_event(ps, &ev);
		}
		return -EAGAIN;
	}
	if (ps->port.waiting)
		station_port_event(ps, &ev);   /* wait off: the stall deadline again */
	if (r < 0) {
		station_session_failed(ps, r, "%s", why);
		return r;
	}
	return 0;
}

int station_pools_expand(void *ud, const char *text, char *out, size_t outlen, const char **why)
{
	struct station_port *ps = ud;
	int r;

	if (!ps->pb || pools_board_status(ps->pb, NULL) < 0) {
		*why = "the board has no pool values";
		return -ENOENT;
	}
	r = pool_expand(text, pools_board_lookup, ps->pb, out, outlen);
	if (r < 0) {
		*why = r == -E2BIG ? "the command is too long with the values in it"
				   : "a value could not be made";
		return r;
	}
	pools_board_used(ps->pb);
	return 0;
}

json_t *station_pools_values(const struct station_port *ps)
{
	return ps->pb ? pools_board_json(ps->pb) : NULL;
}

void station_pools_board_end(struct station_port *ps, bool failed)
{
	pools_board_end(ps->pb, failed);
	ps->pb = NULL;
}

json_t *station_pools_json(void *ud)
{
	struct station *st = ud;

	return json_pack("{s:o}", PROTOCOL_KEY_POOLS, pools_json(st->pools));
}
