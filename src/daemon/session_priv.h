/* session_priv: what the SDP and fastboot sessions share (session.c): the
 * "zombie" lifetime, the walk over the plan's steps of one protocol, the
 * start/delay timer, failing with the step's text, and events that notice
 * a free from inside the callback.
 *
 * Lifetime: live counts transfers submitted whose callback has not run,
 * busy the callbacks of ours on the stack. *_free() (session_free) and the
 * end of the flow (session_finish) cancel everything in flight; the memory
 * (and the plan reference, hence its images and their file descriptors)
 * is released by
 * whichever of session_free() or the last callback sees
 * freed && live == 0 && busy == 0. Every callback bails out before touching
 * the protocol state once the session is not active, and every place that
 * emits an event re-checks b->freed afterwards. */
#ifndef FLASHD_DAEMON_SESSION_PRIV_H
#define FLASHD_DAEMON_SESSION_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/session.h"
#include "flashd/plan.h"

struct session;

struct session_ops {
	enum plan_proto proto;           /* the steps this session runs */
	const char *before_steps;        /* names a failure before the first step */
	void (*begin)(struct session *b);   /* on the loop, right after *_start() */
	void (*exec)(struct session *b);    /* run b->step */
	void (*cancel)(struct session *b);  /* cancel the session's transfers */
	void (*destroy)(struct session *b); /* free the session (the base's own
					     * resources are gone already) */
};

/* The first member of struct sdp_session and struct fb_session. */
struct session {
	const struct session_ops *ops;
	struct usb_dev *dev;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	struct event *timer;             /* begin, then delay steps */
	unsigned live, busy;
	bool freed;                      /* *_free() was called */
	bool finished;                   /* done() was called */
	bool delaying;                   /* the timer is a delay step's */
	enum plan_proto proto;           /* the steps run (ops->proto unless set) */
	bool skip_other;                 /* lines of skip_proto are passed over */
	enum plan_proto skip_proto;      /* (SPL: the other flavour, uuu's rule) */
	size_t idx;                      /* the current step */
	const struct plan_step *step;    /* NULL before the first step */
};

/* The arguments *_start() checks alike: -EINVAL. */
int session_check_args(const struct usb_dev *dev, const struct plan *plan, size_t first,
		       const struct session_opts *o, const struct session_events *ev,
		       const void *out);
/* Fills b (refs plan) and arms the begin timer. -ENOMEM: nothing to undo
 * in b (free the session yourself). */
int session_init(struct session *b, const struct session_ops *ops, struct usb_dev *dev,
		 struct plan *plan, size_t first, const struct session_opts *o,
		 const struct session_events *ev);
/* For *_free(): cancels; no event callback afterwards. */
void session_free(struct session *b);

/* A callback of ours begins / ends (the last one out of a freed session
 * destroys it). */
void session_enter(struct session *b);
void session_leave(struct session *b);
/* A transfer was submitted / its callback starts (then session_leave). */
void session_submitted(struct session *b);
void session_xfer_enter(struct session *b);
/* Neither freed nor finished: the callbacks may go on. */
bool session_active(const struct session *b);

/* Start step b->idx, skipping lines that do not run on i.MX6 (and lines of
 * skip_proto); the flow ends (done(0)) at the end of the plan or at the
 * first step of another protocol, with b->idx there. */
void session_run_step(struct session *b);
/* The current step is over: the next one. */
void session_step_done(struct session *b);
void session_delay(struct session *b, unsigned ms);
/* Ends the session: cancels what is in flight and calls done() once. */
void session_finish(struct session *b, int status, const char *reason);
/* session_finish(err, "<step text>: <why>"). */
void session_fail(struct session *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void session_failv(struct session *b, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* ev.info / ev.progress (if set); false if the session was freed inside. */
bool session_info(struct session *b, const char *text);
bool session_progress(struct session *b, uint64_t bytes, uint64_t total);
bool session_region(struct session *b, const struct session_region *r);

#endif
