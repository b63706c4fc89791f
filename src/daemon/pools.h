/* pools: the station's pools (pool.h, flashd.conf(5) "Pools") at run time.
 *
 *  - Their state for the gate: a new board whose plan uses a pool that is
 *    empty, whose database is unreachable or whose definition the database
 *    refuses does not start (its port waits, PORT_STATE_WAITING); boards that
 *    run go on.
 *  - Each board's values: once the board's SoC UID is known (read over SDP),
 *    one block of every pool its plan uses is bound to that UID in the
 *    store (pool_store.h); the fastboot steps with ${pool:…} wait for them.
 *    An unreachable database is tried again every pool-retry; the store's
 *    allocation is idempotent by UID, so a retry after a lost reply gets the
 *    same block, never a second one.
 *  - The store is called on a thread of its own (worker.h), never on the
 *    loop: a PostgreSQL server that does not answer holds up nothing but
 *    the boards that wait for its values.
 * Everything here runs on the loop but the jobs' run(). */
#ifndef FLASHD_DAEMON_POOLS_H
#define FLASHD_DAEMON_POOLS_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/conf.h"
#include "flashd/plan.h"

struct pools;
struct pools_board;

struct pools_opts {
	struct event_base *base;
	/* a pool's state or use changed (the station publishes a "pool" event
	 * and looks at its waiting ports again); pool: its JSON (borrowed) */
	void (*changed)(void *ud, const json_t *pool);
	void *ud;
};

int pools_new(const struct pools_opts *o, struct pools **out);
/* Waits for the store call under way; cancels the others. NULL-safe. */
struct pools *pools_free(struct pools *pl);

/* Take the pools of c (copied: c may go) and the station id (NULL: the
 * machine id); ask the store about each at once. Boards running keep the
 * definitions they started with. -ENOMEM. */
int pools_apply(struct pools *pl, const struct conf *c, const char *station_id);

/* May a new board of plan p start? 0; or -EAGAIN with why ("pool serial is
 * empty (0 of 1000 left)", "pool mac: PostgreSQL unreachable: …"). */
int pools_gate(const struct pools *pl, const struct plan *p, char *why, size_t whylen);

/* The values of a board of plan p with SoC UID uid: asked of the store now
 * (and again while it is unreachable); done(ud) on the loop when they are
 * ready or cannot be had, never from inside this call. -ENOMEM. */
int pools_board_start(struct pools *pl, const struct plan *p, uint64_t uid,
		      void (*done)(void *ud), void *ud, struct pools_board **out);
/* 0: ready; -EINPROGRESS: not yet (why: for what it waits); else failed for
 * good (-ENOSPC empty, -ESTALE definition refused, -EIO …) with why. */
int pools_board_status(const struct pools_board *b, const char **why);
/* pool_lookup_fn for pool_expand over a ready board (ud: the board). */
int pools_board_lookup(void *ud, const char *name, uint32_t index, char *out, size_t outlen);
/* A step sent the values to the board: they are never given back. */
void pools_board_used(struct pools_board *b);
/* {"NAME": ["value", …], …} of the values bound so far. New ref. */
json_t *pools_board_json(const struct pools_board *b);
/* The board ended (failed: not ok). A board that failed before any step
 * used its values gives back the blocks it was given in this run, for the
 * pools with return-unused. Frees b (NULL-safe). */
void pools_board_end(struct pools_board *b, bool failed);

/* [{"name","kind","backend","count","blocks","bound","left","low","state","reason"}]
 * (flashd-control(7) "pools"). New ref. */
json_t *pools_json(const struct pools *pl);
size_t pools_count(const struct pools *pl);

#endif
