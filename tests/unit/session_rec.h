/* session_rec: the session_events of the session tests (test-fb_session,
 * test-sdp_session). It records the steps, progress, info lines and the
 * end a session reports, checks that progress never passes its total, and
 * frees the session from inside a callback when asked to. */
#ifndef FLASHD_TEST_SESSION_REC_H
#define FLASHD_TEST_SESSION_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/session.h"

#define SESSION_REC_STEPS 32u
#define SESSION_REC_INFO 16u

#define SESSION_REC_REGIONS 16u

struct session_rec;

struct session_rec_region {
	char part[32], why[256], where[64];
	bool verify, verified;
	unsigned pieces;
	uint64_t bytes, checked;
	uint32_t crc32;
};

/* What the recorder needs of the one kind of session a test program runs. */
struct session_rec_ops {
	void (*free)(struct session_rec *r);                /* s = *_session_free(s) */
	size_t (*next_step)(const struct session_rec *r);
	uint64_t (*bytes)(const struct session_rec *r);     /* NULL: no byte count */
};

struct session_rec {
	union {                       /* the session under test */
		struct fb_session *fb;
		struct sdp_session *sdp;
		void *s;
	};
	const struct session_rec_ops *ops;
	bool strict_progress;         /* each progress() must move forward */
	/* what happened */
	int ndone;
	int status;
	char reason[512];
	size_t steps[SESSION_REC_STEPS];
	unsigned nsteps;
	uint64_t bytes, total;
	unsigned nprogress;
	bool progress_regressed;      /* bytes went down within one total */
	char info[SESSION_REC_INFO][128];
	unsigned ninfo;
	struct session_rec_region regions[SESSION_REC_REGIONS];
	unsigned nregions;            /* kept (at most SESSION_REC_REGIONS) */
	unsigned nregions_seen;
	size_t next_at_done;          /* next_step() and bytes() inside done() */
	uint64_t bytes_at_done;
	/* actions */
	unsigned free_at_progress;    /* free the session in the n-th progress() */
	unsigned free_at_step;        /* free the session in the n-th step() */
	bool free_at_done;
	/* called in every progress(), with hook_arg (e.g. to look at another board) */
	void (*on_progress)(struct session_rec *r);
	void *hook_arg;
	unsigned marks;               /* for on_progress */
	/* ${pool:X} in commands: expanded to "v(X)", or refused with -ENOENT
	 * when pool_fail */
	bool pool_fail;
	unsigned nexpand;
	/* bus_wait(): waiting now, how often, and the last wait's bytes and ahead */
	bool bus_waiting;
	unsigned nbus_waits;
	uint64_t bus_bytes;
	int bus_ahead;
};

/* Clears r for a session of this kind; the events that record into r. */
struct session_events session_rec_init(struct session_rec *r, const struct session_rec_ops *ops);
/* Frees the session if it is still there. */
void session_rec_free(struct session_rec *r);

#endif
