/* session_rec: the recording session_events of the session tests (see
 * session_rec.h). */
#include "session_rec.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void session_rec_step(void *ud, size_t i, const char *text)
{
	struct session_rec *r = ud;

	assert_non_null(text);
	assert_true(r->nsteps < SESSION_REC_STEPS);
	r->steps[r->nsteps++] = i;
	if (r->free_at_step == r->nsteps)
		r->ops->free(r);
}

static void session_rec_progress(void *ud, uint64_t bytes, uint64_t total)
{
	struct session_rec *r = ud;

	if (bytes < r->bytes && r->total == total)
		r->progress_regressed = true;
	assert_true(bytes <= total);
	if (r->strict_progress)
		assert_true(bytes > r->bytes || total != r->total);
	r->bytes = bytes;
	r->total = total;
	if (r->on_progress)
		r->on_progress(r);
	if (++r->nprogress == r->free_at_progress)
		r->ops->free(r);
}

static void session_rec_info(void *ud, const char *text)
{
	struct session_rec *r = ud;

	if (r->ninfo < SESSION_REC_INFO)
		snprintf(r->info[r->ninfo++], sizeof(r->info[0]), "%s", text);
}

static void session_rec_done(void *ud, int status, const char *reason)
{
	struct session_rec *r = ud;

	r->ndone++;
	r->status = status;
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	r->next_at_done = r->ops->next_step(r);
	if (r->ops->bytes)
		r->bytes_at_done = r->ops->bytes(r);
	if (r->free_at_done)
		r->ops->free(r);
}

static void session_rec_region(void *ud, const struct session_region *g)
{
	struct session_rec *r = ud;
	struct session_rec_region *o;

	assert_true(!g->verified || g->verify);
	r->nregions_seen++;
	if (r->nregions == SESSION_REC_REGIONS)
		return; /* the first ones are kept */
	o = &r->regions[r->nregions++];
	snprintf(o->part, sizeof(o->part), "%s", g->part ? g->part : "(null)");
	snprintf(o->why, sizeof(o->why), "%s", g->why ? g->why : "");
	snprintf(o->where, sizeof(o->where), "%s", g->where ? g->where : "");
	o->verify = g->verify;
	o->verified = g->verified;
	o->pieces = g->pieces;
	o->bytes = g->bytes;
	o->checked = g->checked;
	o->crc32 = g->crc32;
}

static int session_rec_expand(void *ud, const char *text, char *out, size_t outlen,
			      const char **why)
{
	struct session_rec *r = ud;

	r->nexpand++;
	if (r->pool_fail) {
		*why = "no values (test)";
		return -ENOENT;
	}
	/* each ${pool:X} becomes "v(X)" (pool_expand itself: test-pool) */
	size_t o = 0;
	for (const char *p = text; *p;) {
		const char *end = strncmp(p, "${pool:", 7) == 0 ? strchr(p, '}') : NULL;
		int n = end ? snprintf(out + o, outlen - o, "v(%.*s)", (int)(end - p - 7), p + 7)
			    : snprintf(out + o, outlen - o, "%c", *p);

		if (n < 0 || (size_t)n >= outlen - o)
			return -E2BIG;
		o += (size_t)n;
		p = end ? end + 1 : p + 1;
	}
	return 0;
}

static void session_rec_bus_wait(void *ud, bool waiting, uint64_t bytes, int ahead)
{
	struct session_rec *r = ud;

	assert_true(waiting != r->bus_waiting); /* on, off, on, off … */
	r->bus_waiting = waiting;
	if (waiting) {
		r->nbus_waits++;
		r->bus_bytes = bytes;
		r->bus_ahead = ahead;
	}
}

struct session_events session_rec_init(struct session_rec *r, const struct session_rec_ops *ops)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	return (struct session_events){ r, session_rec_step, session_rec_progress, session_rec_info,
					session_rec_done, session_rec_region, session_rec_expand,
					session_rec_bus_wait };
}

void session_rec_free(struct session_rec *r)
{
	if (r->s)
		r->ops->free(r);
}
