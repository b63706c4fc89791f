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

/* The bus key of port name: "bus NAME" for a bus line, else the bus of its
 * sysfs name; -1 when it has none (or it does not fit). */
static int station_bus_key(const struct conf *c, const char *name, char *key, size_t len)
{
	const struct conf_bus *b = conf_bus_of_port(c, name);
	int n;

	if (b)
		n = snprintf(key, len, "bus %s", b->name);
	else
		n = bussched_port_bus(name, key, len) < 0 ? -1 : 0;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether a board is on another port of bus key now, on its way to be
 * flashed or being flashed. */
static bool station_bus_shared(const struct station_port *self, const char *key)
{
	const struct station *st = self->st;
	char other[BUSSCHED_KEY_MAX];

	for (size_t i = 0; i < st->nports; i++) {
		const struct station_port *ps = st->ports[i];

		if (ps == self)
			continue;
		switch (ps->port.state) {
		case PORT_STATE_SDP:
		case PORT_STATE_WAIT_REENUM:
		case PORT_STATE_FASTBOOT:
		case PORT_STATE_SPL:
			break;
		default:
			continue;
		}
		if (station_bus_key(st->conf, ps->port.name, other, sizeof(other)) == 0 &&
		    strcmp(other, key) == 0)
			return true;
	}
	return false;
}

void station_bus_opts(const struct station_port *ps, struct session_opts *so)
{
	so->bus_key[0] = '\0';
	so->bus_small = ps->st->conf->bus_small;
	so->bus_piece = 0;
	if (!so->bus)
		return;
	if (station_bus_key(ps->st->conf, ps->port.name, so->bus_key, sizeof(so->bus_key)) < 0) {
		/* a port name without a bus number: the board never waits */
		so->bus = NULL;
		so->bus_key[0] = '\0';
		return;
	}
	/* short pieces only when other boards share the bus now: alone on it, a
	 * board loses nothing by long ones */
	if (station_bus_shared(ps, so->bus_key))
		so->bus_piece = ps->st->conf->bus_piece;
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
