/* loop: flashd's one libevent loop and the order in which it serves work.
 *
 * Three priorities (libevent runs only the most urgent level that has active
 * events in each pass, then polls again):
 *   LOOP_PRIO_URGENT  the loop's own housekeeping: signals, the watchdog ping;
 *   LOOP_PRIO_STATION everything the boards need: udev, libusb, session and
 *                     station timers, workers, pools, the journal (the default
 *                     of every event nobody sets);
 *   LOOP_PRIO_CLIENTS the control socket: accepts, requests, replies, watchers.
 * So a wave of control clients waits for a board's udev and USB events instead
 * of the other way round (bench P7), and a long run of client callbacks is cut
 * after LOOP_CLIENT_BURST callbacks or LOOP_CLIENT_BURST_US to look for new
 * board events. Clients still run in every pass with no station work to do:
 * they can only wait while the station's own work fills the loop. */
#ifndef FLASHD_DAEMON_LOOP_H
#define FLASHD_DAEMON_LOOP_H

#include <event2/event.h>

enum {
	LOOP_PRIO_URGENT = 0,
	LOOP_PRIO_STATION = 1,
	LOOP_PRIO_CLIENTS = 2,
	LOOP_PRIOS = 3,
};

#define LOOP_CLIENT_BURST    16
#define LOOP_CLIENT_BURST_US 2000

/* A new event base with the priorities and the clients' burst bound; NULL
 * when out of memory. */
struct event_base *loop_new(void);

/* Puts ev (not active yet) at prio, or at its base's least urgent level if the
 * base has fewer (a plain event_base_new() in the tests: then a no-op).
 * Returns ev, so it wraps event_new(); NULL stays NULL. */
struct event *loop_prio(struct event *ev, int prio);

#endif
