/* worker: one background thread for blocking work the event loop must not
 * do itself — loading plans (reading and SHA-256 of every image: seconds per
 * GB). Jobs run one at a time, in submission order; each job's done() then
 * runs on the loop, in the same order.
 *
 * The thread makes no libevent call and touches nothing but the job it
 * runs: it hands finished jobs back through an eventfd the loop watches.
 * run() must only use the job's own data (the plan and conf cores are pure
 * and may be called there). All signals are blocked on the thread. */
#ifndef FLASHD_DAEMON_WORKER_H
#define FLASHD_DAEMON_WORKER_H

#include <event2/event.h>

struct worker;

/* Embedded in the caller's own job structure (container_of style). */
struct worker_job {
	void (*run)(struct worker_job *j);             /* on the worker thread */
	/* On the loop, once: status 0 after run(); -ECANCELED when the worker
	 * is freed first (run() may or may not have happened). The job belongs
	 * to the caller again. */
	void (*done)(struct worker_job *j, int status);
	struct worker_job *next;                       /* the worker's */
};

int worker_new(struct event_base *base, struct worker **out);
/* Queues j (run and done set). Never fails. */
void worker_submit(struct worker *w, struct worker_job *j);
/* Jobs submitted whose done() has not been called yet. */
unsigned worker_pending(const struct worker *w);
/* Waits for the job that is running, then calls done(j, -ECANCELED) for
 * every job not yet completed, in submission order. NULL-safe. */
struct worker *worker_free(struct worker *w);

#endif
