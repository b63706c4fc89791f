/* station_bus: the station's scheduler of fastboot downloads per USB bus
 * (bussched.h; flashd.conf(5) "Bus scheduling"): one for the station's
 * life, its rules from flashd.conf, the bus of each port, and a download's
 * wait shown on its port (PORT_EV_WAIT: no stall deadline while it waits;
 * the wait is bounded by the other boards' downloads, each of which ends,
 * fails or times out on its own). */
#include "daemon/station_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

_Static_assert((int)CONF_BUS_ORDER_FIFO == (int)BUSSCHED_ORDER_FIFO &&
		       (int)CONF_BUS_ORDER_SHORTEST == (int)BUSSCHED_ORDER_SHORTEST,
	       "bus-order names the values of enum bussched_order");

static struct bussched_cfg station_bus_cfg(const struct conf *c)
{
	return (struct bussched_cfg){
		.max_active = c->bus_downloads ? c->bus_downloads : 1,
		.order = (enum bussched_order)c->bus_order,
		.starve_grants = c->bus_starve_grants,
		.starve_ms = c->bus_starve_ms,
	};
}

int station_bus_init(struct station *st)
{
	struct bussched_cfg cfg = station_bus_cfg(st->conf);

	return bussched_new(&cfg, &st->bus);
}

void station_bus_apply(struct station *st)
{
	struct bussched_cfg cfg = station_bus_cfg(st->conf);

	if (!st->bus)
		return;
	if (bussched_set_cfg(st->bus, &cfg, station_now_ms()) < 0)
		log_error("bus scheduling: bad settings (bus-downloads %u): the old ones stay",
			  cfg.max_active);
	fb_session_bus_kick(st->bus);   /* more downloads at once: they go now */
	st->sopts.bus = st->conf->bus_scheduling ? st->bus : NULL;
}

void station_bus_opts(const struct station_port *ps, struct session_opts *so)
{
	const struct conf_bus *b = conf_bus_of_port(ps->st->conf, ps->port.name);
	int n;

	so->bus_key[0] = '\0';
	if (!so->bus)
		return;
	if (b)
		n = snprintf(so->bus_key, sizeof(so->bus_key), "bus %s", b->name);
	else
		n = bussched_port_bus(ps->port.name, so->bus_key, sizeof(so->bus_key)) < 0 ? -1 : 0;
	if (n < 0 || (size_t)n >= sizeof(so->bus_key)) {
		/* a port name without a bus number: the board never waits */
		so->bus = NULL;
		so->bus_key[0] = '\0';
	}
}

void station_ev_bus_wait(void *ud, bool waiting, uint64_t bytes, int ahead)
{
	struct station_port *ps = ud;
	struct port_event ev = { .type = PORT_EV_WAIT, .wait = waiting };

	ps->bus_waiting = waiting;
	if (waiting) {
		snprintf(ps->bus_why, sizeof(ps->bus_why),
			 "the download waits for its turn on the bus (%d ahead)", ahead);
		station_log(ps, LOG_DEBUG, "download of %llu bytes left waits for its turn on the "
			    "bus (%d ahead)", (unsigned long long)bytes, ahead);
	} else {
		station_log(ps, LOG_DEBUG, "the bus is free: the download goes");
	}
	station_port_event(ps, &ev);
}
