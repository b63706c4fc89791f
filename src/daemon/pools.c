/* pools: see pools.h. The loop keeps each pool's last known state (from the
 * store's answers: its use, or why it cannot give); jobs on the pool thread
 * make the store calls. A job carries everything its run() reads: the
 * definitions it was made with (shared, counted), the UID, and room for the
 * answers; the stores themselves are the thread's alone. */
#include "daemon/pools.h"

#include <errno.h>
#include <sys/types.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/machine_id.h"
#include "daemon/pool_store.h"
#include "daemon/worker.h"
#include "flashd/pool.h"
#include "flashd/protocol.h"

#define POOLS_WHY_MAX 320u
#define POOLS_MACHINE_ID "/etc/machine-id"

enum pools_state {
	POOLS_UNKNOWN, /* not asked yet */
	POOLS_OK,
	POOLS_LOW,     /* at or under its low mark */
	POOLS_EMPTY,
	POOLS_DOWN,    /* its database cannot be reached */
	POOLS_ERROR,   /* its database refuses it (definition, tables, …) */
};

static const char *const pools_state_names[] = {
	[POOLS_UNKNOWN] = "unknown", [POOLS_OK] = "ok",     [POOLS_LOW] = "low",
	[POOLS_EMPTY] = "empty",     [POOLS_DOWN] = "down", [POOLS_ERROR] = "error",
};

/* The pools of one configuration: shared by the jobs and boards made with it. */
struct pools_defs {
	atomic_uint refs;
	struct pool_def *defs;
	size_t n;
	char *sqlite;                 /* pool-sqlite */
	char *pg;                     /* pool-postgresql, or NULL */
	char station[CONF_STATION_ID_MAX + 1];
};

struct pools_entry {
	enum pools_state state;
	bool has_use;
	struct pool_usage use;
	char why[POOLS_WHY_MAX];
};

struct pools {
	struct pools_opts o;
	struct worker *w;
	struct pools_defs *cur;
	struct pools_entry *ent;      /* cur->n */
	struct event *refresh;
	bool refreshing;
	uint32_t retry_ms;
	uint32_t refresh_ms;          /* pool-refresh: the use of pools other stations draw from too */
	/* the pool thread's */
	struct pool_store *sqlite, *pg;
	char *sqlite_path, *pg_conninfo;
};

/* One pool's answer in a job. */
struct pools_res {
	size_t def;
	int r;
	uint64_t block;
	bool fresh;
	bool has_use;
	struct pool_usage use;
	char why[POOLS_WHY_MAX - POOL_NAME_MAX - 32]; /* room for "pool NAME: …" around it */
};

enum pools_job_kind { POOLS_JOB_REFRESH, POOLS_JOB_ALLOC, POOLS_JOB_RELEASE };

struct pools_job {
	struct worker_job wj;         /* first: container */
	struct pools *pl;
	enum pools_job_kind kind;
	struct pools_defs *defs;
	char uid[17];
	struct pools_board *b;        /* ALLOC: its board; NULL once the board ended */
	size_t n;
	struct pools_res res[];
};

struct pools_value {
	size_t def;
	bool have, fresh;
	uint64_t block;
};

struct pools_board {
	struct pools *pl;
	struct pools_defs *defs;
	char uid[17];
	size_t n;
	struct pools_value *v;
	int status;
	char why[POOLS_WHY_MAX];
	bool used;
	struct pools_job *job;        /* in flight */
	struct event *retry;          /* the next ask while the database is away */
	struct event *notify;         /* done() for an answer known at start */
	void (*done)(void *ud);
	void *ud;
};

/* ---- definitions ---- */

static struct pools_defs *pools_defs_ref(struct pools_defs *d)
{
	if (d)
		atomic_fetch_add(&d->refs, 1);
	return d;
}

static struct pools_defs *pools_defs_unref(struct pools_defs *d)
{
	if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		pool_def_clear(&d->defs[i]);
	free(d->defs);
	free(d->sqlite);
	free(d->pg);
	free(d);
	return NULL;
}

static char *pools_strdup(const char *s, bool *nomem)
{
	char *c;

	if (!s)
		return NULL;
	if (!(c = strdup(s)))
		*nomem = true;
	return c;
}

/* A deep copy of one definition (list values included). */
static void pools_def_copy(struct pool_def *to, const struct pool_def *from, bool *nomem)
{
	*to = *from;
	to->name = pools_strdup(from->name, nomem);
	to->format = pools_strdup(from->format, nomem);
	to->file = pools_strdup(from->file, nomem);
	to->values = NULL;
	to->nvalues = 0;
	if (!from->nvalues)
		return;
	to->values = calloc(from->nvalues, sizeof(*to->values));
	if (!to->values) {
		*nomem = true;
		return;
	}
	to->nvalues = from->nvalues;
	for (size_t i = 0; i < from->nvalues; i++)
		to->values[i] = pools_strdup(from->values[i], nomem);
}

static struct pools_defs *pools_defs_new(const struct conf *c, const char *station_id)
{
	struct pools_defs *d = calloc(1, sizeof(*d));
	bool nomem = false;

	if (!d)
		return NULL;
	atomic_init(&d->refs, 1);
	if (c->npools && !(d->defs = calloc(c->npools, sizeof(*d->defs)))) {
		free(d);
		return NULL;
	}
	d->n = c->npools;
	for (size_t i = 0; i < c->npools; i++)
		pools_def_copy(&d->defs[i], &c->pools[i], &nomem);
	d->sqlite = pools_strdup(c->pool_sqlite, &nomem);
	d->pg = pools_strdup(c->pool_postgresql, &nomem);
	if (station_id)
		snprintf(d->station, sizeof(d->station), "%s", station_id);
	else if (machine_id_read(POOLS_MACHINE_ID, d->station, sizeof(d->station)) < 0)
		snprintf(d->station, sizeof(d->station), "unknown");
	if (nomem)
		return pools_defs_unref(d);
	return d;
}

static ssize_t pools_defs_find(const struct pools_defs *d, const char *name)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (strcmp(d->defs[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* ---- the pool thread ---- */

/* The store opened on `want` (a file or a conninfo) in *slot, opened anew
 * when it was opened on something else (a reload changed it). */
static struct pool_store *pools_store_on(struct pool_store **slot, char **have, const char *want,
					 int (*open)(const char *, struct pool_store **, char *,
						     size_t),
					 int *r, char *why, size_t whylen)
{
	if (*slot && strcmp(*have, want) == 0)
		return *slot;
	*slot = pool_store_close(*slot);
	free(*have);
	*have = NULL;
	*r = open(want, slot, why, whylen);
	if (*r < 0)
		return NULL;
	if (!(*have = strdup(want))) {
		*slot = pool_store_close(*slot);
		*r = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	return *slot;
}

static struct pool_store *pools_store(struct pools *pl, const struct pools_defs *d,
				      enum pool_backend be, int *r, char *why, size_t whylen)
{
	if (be == POOL_BACKEND_SQLITE)
		return pools_store_on(&pl->sqlite, &pl->sqlite_path, d->sqlite,
				      pool_store_open_sqlite, r, why, whylen);
	if (!d->pg) {
		*r = -EINVAL;
		snprintf(why, whylen, "pool-postgresql is not set in flashd.conf");
		return NULL;
	}
	return pools_store_on(&pl->pg, &pl->pg_conninfo, d->pg, pool_store_open_pg, r, why,
			      whylen);
}

static void pools_job_run(struct worker_job *wj)
{
	struct pools_job *j = (struct pools_job *)wj;

	for (size_t i = 0; i < j->n; i++) {
		struct pools_res *res = &j->res[i];
		const struct pool_def *d = &j->defs->defs[res->def];
		struct pool_store *s = pools_store(j->pl, j->defs, d->backend, &res->r, res->why,
						   sizeof(res->why));

		if (!s)
			continue;
		res->r = pool_store_define(s, d, res->why, sizeof(res->why));
		if (res->r < 0)
			continue;
		if (j->kind == POOLS_JOB_ALLOC)
			res->r = pool_store_allocate(s, d, j->uid, j->defs->station, &res->block,
						     &res->fresh, res->why, sizeof(res->why));
		else if (j->kind == POOLS_JOB_RELEASE)
			res->r = pool_store_release(s, d, j->uid, res->why, sizeof(res->why));
		/* the use after it, also after an empty pool's -ENOSPC */
		if (res->r == 0 || res->r == -ENOSPC) {
			char w[POOLS_WHY_MAX];

			res->has_use = pool_store_usage(s, d, &res->use, w, sizeof(w)) == 0;
		}
	}
}

/* ---- the loop: pool states ---- */

static void pools_arm_refresh(struct pools *pl);

static json_t *pools_entry_json(const struct pool_def *d, const struct pools_entry *e)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:I, s:s, s:o}", PROTOCOL_KEY_NAME,
			 d->name, PROTOCOL_KEY_KIND, pool_kind_to_string(d->kind),
			 PROTOCOL_KEY_BACKEND, pool_backend_to_string(d->backend),
			 PROTOCOL_KEY_COUNT, (json_int_t)d->count, PROTOCOL_KEY_BLOCKS,
			 (json_int_t)pool_blocks(d), PROTOCOL_KEY_BOUND,
			 e->has_use ? json_integer((json_int_t)e->use.bound) : json_null(),
			 PROTOCOL_KEY_LEFT,
			 e->has_use ? json_integer((json_int_t)e->use.left) : json_null(),
			 PROTOCOL_KEY_LOW, (json_int_t)d->low, PROTOCOL_KEY_STATE,
			 pools_state_names[e->state], PROTOCOL_KEY_REASON,
			 e->why[0] ? json_string(e->why) : json_null());
}

static void pools_entry_set(struct pools *pl, size_t i, const struct pools_res *res)
{
	const struct pool_def *d = &pl->cur->defs[i];
	struct pools_entry *e = &pl->ent[i], old = *e;

	if (res->has_use) {
		e->has_use = true;
		e->use = res->use;
	}
	if (res->r == 0 || res->r == -ENOSPC) {
		if (!e->has_use)
			return;
		e->why[0] = '\0';
		if (e->use.left == 0) {
			e->state = POOLS_EMPTY;
			snprintf(e->why, sizeof(e->why), "pool %s is empty (0 of %" PRIu64 " left)",
				 d->name, e->use.blocks);
		} else {
			e->state = d->low && e->use.left <= d->low ? POOLS_LOW : POOLS_OK;
		}
	} else {
		e->state = res->r == -ENOTCONN ? POOLS_DOWN : POOLS_ERROR;
		snprintf(e->why, sizeof(e->why), "pool %s: %s", d->name, res->why);
	}
	/* events for a change of state (or of its reason), not for every board:
	 * the counts are in status and the pools request */
	if (old.state == e->state && strcmp(old.why, e->why) == 0)
		return;
	if (old.state != e->state) {
		if (e->state == POOLS_OK)
			log_notice("pool %s: ok (%" PRIu64 " of %" PRIu64 " left)", d->name,
				   e->use.left, e->use.blocks);
		else if (e->state == POOLS_LOW)
			log_warning("pool %s is low: %" PRIu64 " of %" PRIu64 " left (low = %" PRIu64 ")",
				    d->name, e->use.left, e->use.blocks, d->low);
		else
			log_error("%s", e->why);
		if ((e->state == POOLS_DOWN || e->state == POOLS_ERROR) && !pl->refreshing) {
			evtimer_del(pl->refresh);
			pools_arm_refresh(pl);   /* asked again every pool-retry */
		}
	}
	if (pl->o.changed) {
		json_t *j = pools_entry_json(d, e);

		if (j)
			pl->o.changed(pl->o.ud, j);
		json_decref(j);
	}
}

static void pools_arm_refresh(struct pools *pl)
{
	uint32_t ms = pl->refresh_ms;
	struct timeval tv;

	if (!pl->cur || !pl->cur->n)
		return;
	for (size_t i = 0; i < pl->cur->n; i++)
		if (pl->ent[i].state == POOLS_UNKNOWN || pl->ent[i].state == POOLS_DOWN ||
		    pl->ent[i].state == POOLS_ERROR)
			ms = pl->retry_ms;
	tv.tv_sec = ms / 1000u;
	tv.tv_usec = (suseconds_t)(ms % 1000u) * 1000;
	evtimer_add(pl->refresh, &tv);
}

static struct pools_job *pools_job_new(struct pools *pl, enum pools_job_kind kind,
				       struct pools_defs *d, size_t n);
static void pools_board_answer(struct pools_board *b, struct pools_job *j);

static void pools_job_done(struct worker_job *wj, int status)
{
	struct pools_job *j = (struct pools_job *)wj;
	struct pools *pl = j->pl;

	if (status == 0 && j->defs == pl->cur)
		for (size_t i = 0; i < j->n; i++)
			pools_entry_set(pl, j->res[i].def, &j->res[i]);
	if (j->kind == POOLS_JOB_REFRESH) {
		pl->refreshing = false;
		if (status == 0)
			pools_arm_refresh(pl);
	} else if (j->kind == POOLS_JOB_ALLOC && j->b) {
		j->b->job = NULL;
		if (status == 0)
			pools_board_answer(j->b, j);
	} else if (j->kind == POOLS_JOB_RELEASE && status == 0) {
		for (size_t i = 0; i < j->n; i++)
			if (j->res[i].r < 0)
				log_error("pool %s: the block of %s could not be given back: %s",
					  j->defs->defs[j->res[i].def].name, j->uid, j->res[i].why);
			else
				log_info("pool %s: %s failed before it used its values: given back",
					 j->defs->defs[j->res[i].def].name, j->uid);
	}
	pools_defs_unref(j->defs);
	free(j);
}

static struct pools_job *pools_job_new(struct pools *pl, enum pools_job_kind kind,
				       struct pools_defs *d, size_t n)
{
	struct pools_job *j = calloc(1, sizeof(*j) + n * sizeof(j->res[0]));

	if (!j)
		return NULL;
	j->wj.run = pools_job_run;
	j->wj.done = pools_job_done;
	j->pl = pl;
	j->kind = kind;
	j->defs = pools_defs_ref(d);
	j->n = n;
	return j;
}

static void pools_refresh_now(struct pools *pl)
{
	struct pools_job *j;

	if (pl->refreshing || !pl->cur || !pl->cur->n || !pl->w)
		return;
	if (!(j = pools_job_new(pl, POOLS_JOB_REFRESH, pl->cur, pl->cur->n))) {
		pools_arm_refresh(pl);
		return;
	}
	for (size_t i = 0; i < j->n; i++)
		j->res[i].def = i;
	pl->refreshing = true;
	worker_submit(pl->w, &j->wj);
}

static void pools_on_refresh(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pools_refresh_now(arg);
}

int pools_new(const struct pools_opts *o, struct pools **out)
{
	struct pools *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return -ENOMEM;
	pl->o = *o;
	pl->retry_ms = 2000;
	pl->refresh_ms = 10000;
	if (!(pl->refresh = evtimer_new(o->base, pools_on_refresh, pl))) {
		free(pl);
		return -ENOMEM;
	}
	*out = pl;
	return 0;
}

struct pools *pools_free(struct pools *pl)
{
	if (!pl)
		return NULL;
	pl->w = worker_free(pl->w);   /* the jobs' done(-ECANCELED) need pl */
	pool_store_close(pl->sqlite);
	pool_store_close(pl->pg);
	free(pl->sqlite_path);
	free(pl->pg_conninfo);
	event_free(pl->refresh);
	pools_defs_unref(pl->cur);
	free(pl->ent);
	free(pl);
	return NULL;
}

int pools_apply(struct pools *pl, const struct conf *c, const char *station_id)
{
	struct pools_defs *d = pools_defs_new(c, station_id);
	struct pools_entry *ent;
	int r;

	if (!d)
		return -ENOMEM;
	if (!(ent = calloc(d->n ? d->n : 1, sizeof(*ent)))) {
		pools_defs_unref(d);
		return -ENOMEM;
	}
	if (d->n && !pl->w && (r = worker_new(pl->o.base, &pl->w)) < 0) {
		free(ent);
		pools_defs_unref(d);
		return r;
	}
	/* what is known of a pool that stays the same stays */
	for (size_t i = 0; i < d->n; i++) {
		ssize_t k = pools_defs_find(pl->cur, d->defs[i].name);

		if (k >= 0 && d->defs[i].backend == pl->cur->defs[k].backend &&
		    d->defs[i].count == pl->cur->defs[k].count && pool_blocks(&d->defs[i]) ==
		    pool_blocks(&pl->cur->defs[k]))
			ent[i] = pl->ent[k];
	}
	pools_defs_unref(pl->cur);
	free(pl->ent);
	pl->cur = d;
	pl->ent = ent;
	pl->retry_ms = c->pool_retry_ms ? c->pool_retry_ms : 2000;
	pl->refresh_ms = c->pool_refresh_ms ? c->pool_refresh_ms : 10000;
	evtimer_del(pl->refresh);
	pl->refreshing = false;   /* a refresh under way answers for the old set: ignored */
	pools_refresh_now(pl);
	return 0;
}

size_t pools_count(const struct pools *pl)
{
	return pl && pl->cur ? pl->cur->n : 0;
}

json_t *pools_json(const struct pools *pl)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < pools_count(pl); i++)
		json_array_append_new(a, pools_entry_json(&pl->cur->defs[i], &pl->ent[i]));
	return a;
}

int pools_gate(const struct pools *pl, const struct plan *p, char *why, size_t whylen)
{
	for (size_t i = 0; p && i < plan_n_pools(p); i++) {
		const char *name = plan_pool_name(p, i);
		ssize_t k = pools_defs_find(pl ? pl->cur : NULL, name);

		if (k < 0) {
			snprintf(why, whylen, "pool %s is not declared in flashd.conf", name);
			return -EAGAIN;
		}
		switch (pl->ent[k].state) {
		case POOLS_OK:
		case POOLS_LOW:
			continue;
		case POOLS_UNKNOWN:
			snprintf(why, whylen, "pool %s: not asked yet", name);
			return -EAGAIN;
		case POOLS_EMPTY:
		case POOLS_DOWN:
		case POOLS_ERROR:
			snprintf(why, whylen, "%s", pl->ent[k].why);
			return -EAGAIN;
		}
	}
	return 0;
}

/* ---- boards ---- */

static void pools_board_notify(struct pools_board *b)
{
	struct timeval now = { 0, 0 };

	evtimer_add(b->notify, &now);
}

static void pools_board_ask(struct pools_board *b)
{
	size_t missing = 0, k = 0;
	struct pools_job *j;

	for (size_t i = 0; i < b->n; i++)
		missing += !b->v[i].have;
	if (!missing || b->job)
		return;
	if (!(j = pools_job_new(b->pl, POOLS_JOB_ALLOC, b->defs, missing))) {
		b->status = -ENOMEM;
		snprintf(b->why, sizeof(b->why), "out of memory asking for the board's pool values");
		pools_board_notify(b);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!b->v[i].have)
			j->res[k++].def = b->v[i].def;
	memcpy(j->uid, b->uid, sizeof(j->uid));
	j->b = b;
	b->job = j;
	worker_submit(b->pl->w, &j->wj);
}

static void pools_board_answer(struct pools_board *b, struct pools_job *j)
{
	bool waits = false;
	struct timeval tv = { b->pl->retry_ms / 1000u, (suseconds_t)(b->pl->retry_ms % 1000u) * 1000 };

	for (size_t i = 0; i < j->n; i++) {
		const struct pools_res *res = &j->res[i];
		const char *name = j->defs->defs[res->def].name;
		struct pools_value *v = NULL;

		for (size_t k = 0; k < b->n; k++)
			if (b->v[k].def == res->def)
				v = &b->v[k];
		if (!v || v->have)
			continue;
		if (res->r == 0) {
			v->have = true;
			v->fresh = res->fresh;
			v->block = res->block;
			log_info("pool %s: block %" PRIu64 " %s board %s", name, res->block,
				 res->fresh ? "bound to" : "already held by", b->uid);
		} else if (res->r == -ENOTCONN) {
			if (!waits)
				snprintf(b->why, sizeof(b->why), "waiting for pool %s: %s", name,
					 res->why);
			waits = true;
		} else if (b->status != -EINPROGRESS && b->status < 0) {
			continue;   /* the first failure is the reason */
		} else {
			b->status = res->r;
			if (res->r == -ENOSPC)
				snprintf(b->why, sizeof(b->why), "pool %s is empty: no value for board %s",
					 name, b->uid);
			else
				snprintf(b->why, sizeof(b->why), "pool %s: %s", name, res->why);
		}
	}
	if (b->status != -EINPROGRESS && b->status < 0) {
		pools_board_notify(b);
		return;
	}
	if (waits) {
		evtimer_add(b->retry, &tv);
		pools_board_notify(b);
		return;
	}
	b->status = 0;
	b->why[0] = '\0';
	pools_board_notify(b);
}

static void pools_board_on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pools_board_ask(arg);
}

static void pools_board_on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct pools_board *b = arg;

	(void)fd;
	(void)what;
	if (b->done)
		b->done(b->ud);
}

int pools_board_start(struct pools *pl, const struct plan *p, uint64_t uid,
		      void (*done)(void *ud), void *ud, struct pools_board **out)
{
	struct pools_board *b = calloc(1, sizeof(*b));
	struct event_base *base = pl->o.base;

	if (!b)
		return -ENOMEM;
	b->pl = pl;
	b->defs = pools_defs_ref(pl->cur);
	b->n = plan_n_pools(p);
	b->v = calloc(b->n ? b->n : 1, sizeof(*b->v));
	b->retry = evtimer_new(base, pools_board_on_retry, b);
	b->notify = evtimer_new(base, pools_board_on_notify, b);
	b->done = done;
	b->ud = ud;
	b->status = -EINPROGRESS;
	snprintf(b->uid, sizeof(b->uid), "%016" PRIx64, uid);
	snprintf(b->why, sizeof(b->why), "waiting for the board's pool values");
	if (!b->v || !b->retry || !b->notify) {
		pools_board_end(b, false);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++) {
		ssize_t k = pools_defs_find(b->defs, plan_pool_name(p, i));

		if (k < 0) {
			b->status = -ENOENT;
			snprintf(b->why, sizeof(b->why), "pool %s is not declared in flashd.conf",
				 plan_pool_name(p, i));
			pools_board_notify(b);
			*out = b;
			return 0;
		}
		b->v[i].def = (size_t)k;
	}
	if (!pl->w) {
		b->status = -ENOENT;
		snprintf(b->why, sizeof(b->why), "flashd.conf declares no pool");
		pools_board_notify(b);
	} else {
		pools_board_ask(b);
	}
	*out = b;
	return 0;
}

int pools_board_status(const struct pools_board *b, const char **why)
{
	if (why)
		*why = b->why;
	return b->status;
}

int pools_board_lookup(void *ud, const char *name, uint32_t index, char *out, size_t outlen)
{
	const struct pools_board *b = ud;

	if (b->status < 0)
		return b->status;
	for (size_t i = 0; i < b->n; i++) {
		const struct pool_def *d = &b->defs->defs[b->v[i].def];

		if (strcmp(d->name, name) != 0)
			continue;
		if (!b->v[i].have || index >= d->count)
			return -ENOENT;
		return pool_value(d, b->v[i].block * d->count + index, out, outlen);
	}
	return -ENOENT;
}

void pools_board_used(struct pools_board *b)
{
	if (b)
		b->used = true;
}

json_t *pools_board_json(const struct pools_board *b)
{
	json_t *o = json_object();

	for (size_t i = 0; o && b && i < b->n; i++) {
		const struct pool_def *d = &b->defs->defs[b->v[i].def];
		json_t *a;

		if (!b->v[i].have || !(a = json_array()))
			continue;
		for (uint32_t k = 0; k < d->count; k++) {
			char v[POOL_VALUE_MAX + 1];

			if (pool_value(d, b->v[i].block * d->count + k, v, sizeof(v)) == 0)
				json_array_append_new(a, json_string(v));
		}
		json_object_set_new(o, d->name, a);
	}
	return o;
}

void pools_board_end(struct pools_board *b, bool failed)
{
	size_t back = 0, k = 0;
	struct pools_job *j;

	if (!b)
		return;
	if (b->job)
		b->job->b = NULL;
	for (size_t i = 0; failed && !b->used && i < b->n; i++)
		back += b->v[i].have && b->v[i].fresh && b->defs->defs[b->v[i].def].return_unused;
	if (back && b->pl->w && (j = pools_job_new(b->pl, POOLS_JOB_RELEASE, b->defs, back))) {
		for (size_t i = 0; i < b->n; i++)
			if (b->v[i].have && b->v[i].fresh &&
			    b->defs->defs[b->v[i].def].return_unused)
				j->res[k++].def = b->v[i].def;
		memcpy(j->uid, b->uid, sizeof(j->uid));
		worker_submit(b->pl->w, &j->wj);
	}
	if (b->retry)
		event_free(b->retry);
	if (b->notify)
		event_free(b->notify);
	pools_defs_unref(b->defs);
	free(b->v);
	free(b);
}
