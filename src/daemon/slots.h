/* slots: the fixture's named slots (flashd.conf "slot NAME = PORT") and
 * their yield since the daemon started: boards ok and failed, failures in
 * a row, the last failure's reason, and the alert a slot gets after
 * slot-alert failures in a row (cleared by its next ok board). Built from
 * a conf; a reload keeps the yield of the names that stay. No I/O. */
#ifndef FLASHD_DAEMON_SLOTS_H
#define FLASHD_DAEMON_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "flashd/port.h"

struct conf;

#define SLOTS_REASON_MAX 256u   /* bytes of the last failure's reason kept */

struct slot {
	char *name;
	char *port;
	uint64_t ok, failed;
	uint32_t in_row;             /* failures since the last ok board */
	char last_reason[SLOTS_REASON_MAX];   /* "" = none yet */
	bool alert;                  /* in_row reached slot-alert */
};

struct slots {
	struct slot *v;              /* natural order of the names */
	size_t n;
	bool only;                   /* slots-only: other ports are ignored */
	uint32_t alert_after;        /* slot-alert; 0 = never */
};

/* *out from c's slot lines, with the yield of old's slots of the same name
 * (old may be NULL). -ENOMEM (out untouched). */
int slots_build(const struct conf *c, const struct slots *old, struct slots *out);
void slots_clear(struct slots *s);
struct slot *slots_of_port(const struct slots *s, const char *port);
struct slot *slots_find(const struct slots *s, const char *name);
/* slots-only and port is no slot: never flashed. */
bool slots_ignores(const struct slots *s, const char *port);
/* A board on sl ended with r. ok clears the alert; failed (and NONE)
 * counts a failure; boot-loop and aborted boards are the board's or the
 * operator's, not the slot's, and change nothing. Returns whether the
 * alert changed (raised or cleared). */
bool slots_add_result(const struct slots *s, struct slot *sl, enum port_result r,
		      const char *reason);
/* "3 failures in a row: check cable/pogo pins" for a slot with its alert
 * up, NULL else (buf holds it). */
const char *slots_alert_text(const struct slots *s, const struct slot *sl, char *buf, size_t len);
/* {"ok","failed","failures_in_row","last_reason","alert"}: new ref or NULL. */
json_t *slots_yield_json(const struct slots *s, const struct slot *sl);
/* [{"slot","port",yield…}] in natural order of the names: new ref or NULL. */
json_t *slots_json(const struct slots *s);

#endif
