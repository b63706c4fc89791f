/* port_drive: what the port tests share — a fixed configuration, event
 * constructors that run port_handle, action finders and drivers that bring a
 * port into each state at time T0. Include after <cmocka.h>. */
#ifndef FLASHD_TEST_PORT_DRIVE_H
#define FLASHD_TEST_PORT_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/port.h"

#define T0 1000000u

extern const struct port_cfg test_cfg;
/* the actions of the last feed() */
extern struct port_action acts[PORT_ACTIONS_MAX];
extern int nacts;

int feed(struct port *p, const struct port_event *ev, uint64_t now);
int added(struct port *p, enum port_dev kind, const char *serial, uint64_t now);
int simple(struct port *p, enum port_event_type t, uint64_t now);
int step(struct port *p, size_t index, const char *text, uint64_t now);
int progress(struct port *p, uint64_t bytes, uint64_t total, uint64_t now);
int uid(struct port *p, uint64_t u, uint64_t now);
int sdone(struct port *p, int status, const char *reason, bool more, size_t next, uint64_t now);
/* SDP done with SPL lines next: more, spl, spl_step, next_step */
int sdone_spl(struct port *p, int status, const char *reason, size_t spl_step, size_t next,
	      uint64_t now);
int find(enum port_action_type t);           /* index of the first action of type t, or -1 */
size_t count(enum port_action_type t);
void expect_state_change(enum port_state old, enum port_state new);
void expect_timer(uint64_t deadline);
void expect_result(enum port_result r);
/* a late session's step(index), progress(bytes of bytes) and done(-EIO)
 * are ignored: no actions, p->state unchanged */
void expect_session_ignored(struct port *p, size_t index, uint64_t bytes, uint64_t now);

void setup_port(struct port *p);
void to_sdp(struct port *p);
void to_wait(struct port *p);
void to_fastboot(struct port *p);
void to_wait_spl(struct port *p);        /* WAIT_REENUM after the ROM, SPL lines at 1, FB at 3 */
void to_spl(struct port *p);             /* SPL, running step 1 */
void to_wait_after_spl(struct port *p);  /* WAIT_REENUM after the SPL, FB at 3 */
void to_done(struct port *p);
void to_failed(struct port *p);
void to_boot_loop(struct port *p);
void to_paused(struct port *p);
void to_waiting(struct port *p);         /* held, a ROM board came: WAITING */
int hold(struct port *p, bool on, uint64_t now);   /* PORT_EV_HOLD */
int pwait(struct port *p, bool on, uint64_t now);  /* PORT_EV_WAIT */
/* drivers[s] brings a fresh port into state s */
extern void (*const drivers[_PORT_STATE_MAX])(struct port *);

/* the tests of test-port-latch.c (DONE, FAILED, BOOT_LOOP, PAUSED, operator, unplug, random) */
extern const struct CMUnitTest port_latch_tests[];
extern const size_t port_latch_ntests;
/* test-port-spl.c: the SPL stage */
extern const struct CMUnitTest port_spl_tests[];
extern const size_t port_spl_ntests;

#endif
