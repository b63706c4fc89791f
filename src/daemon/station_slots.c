/* station_slots: the fixture's named slots on the station — the slot
 * table from the configuration, boards on ports that slots-only ignores,
 * and each slot's yield and alert (the bookkeeping itself is slots.c). */
#include "daemon/station_priv.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "flashd/protocol.h"

void station_slots_apply(struct station *st)
{
	struct slots s;

	if (slots_build(st->conf, &st->slots, &s) < 0) {
		log_error("out of memory building the slot table: the slots stay as they were");
		return;
	}
	slots_clear(&st->slots);
	st->slots = s;
	for (size_t i = 0; i < s.n; i++)
		if (!station_find(st, s.v[i].port) && !station_port_new(st, s.v[i].port))
			log_error("slot %s: cannot track port %s", s.v[i].name, s.v[i].port);
}

struct station_port *station_find_port(const struct station *st, const char *name)
{
	struct station_port *ps = station_find(st, name);
	const struct slot *sl = ps ? NULL : slots_find(&st->slots, name);

	return sl ? station_find(st, sl->port) : ps;
}

const char *station_slot_port(void *ud, const char *name)
{
	const struct station *st = ud;
	const struct slot *sl = slots_find(&st->slots, name);

	return sl ? sl->port : NULL;
}

bool station_slot_ignores(struct station *st, const struct devwatch_dev *dev, enum port_dev kind)
{
	struct station_port *ps = station_find(st, dev->port);

	if (!slots_ignores(&st->slots, dev->port))
		return false;
	if (ps && port_is_busy(&ps->port))
		return false;   /* a board that started before a reload finishes */
	if (kind == PORT_DEV_OTHER)
		return true;    /* not a board */
	if (!ps && !(ps = station_port_new(st, dev->port))) {
		log_error("port %s: cannot track more ports", dev->port);
		return true;
	}
	snprintf(ps->devnode, sizeof(ps->devnode), "%s", dev->devnode);
	ps->vid = dev->vid;
	ps->pid = dev->pid;
	ps->ignored = kind;
	station_log(ps, LOG_NOTICE, "%s %04x:%04x ignored: the port is no slot (slots-only)",
		    port_dev_to_string(kind), dev->vid, dev->pid);
	control_publish(st->ctl, PROTOCOL_EVENT_PORT, station_port_json(ps, station_now_ms()));
	return true;
}

void station_slot_ignored_gone(struct station_port *ps)
{
	station_log(ps, LOG_INFO, "ignored %s %s removed", port_dev_to_string(ps->ignored),
		    ps->devnode);
	ps->devnode[0] = '\0';
	ps->ignored = PORT_DEV_NONE;
	control_publish(ps->st->ctl, PROTOCOL_EVENT_PORT, station_port_json(ps, station_now_ms()));
}

void station_slot_result(struct station_port *ps, enum port_result r)
{
	struct station *st = ps->st;
	struct slot *sl = slots_of_port(&st->slots, ps->port.name);
	char buf[96];

	if (!sl)
		return;
	if (slots_add_result(&st->slots, sl, r, ps->port.reason)) {
		if (sl->alert)
			station_log(ps, LOG_WARNING, "SLOT ALERT: %s (last failure: %s)",
				    slots_alert_text(&st->slots, sl, buf, sizeof(buf)),
				    sl->last_reason);
		else
			station_log(ps, LOG_NOTICE, "slot alert cleared by an ok board");
	}
	/* the state's port event went out before the yield changed */
	control_publish(st->ctl, PROTOCOL_EVENT_PORT, station_port_json(ps, station_now_ms()));
}
