/* station_load: `use` and reload, loaded on the loader thread.
 *
 * Loading a plan maps and hashes every image (seconds per GB) and may
 * decompress one (minutes for a large image), so `use` and reload load on
 * the station's loader thread (daemon/worker.h) and apply the result on the
 * loop when it is ready; boards keep flashing meanwhile, and a board that
 * arrives during a load gets the plan in force until the load is applied.
 * The thread only runs station_load_run() on the job's own copies (paths,
 * port names, references to the plans in force, whose unchanged images are
 * reused) and hands back new plans and configuration; the station's state
 * is only touched on the loop. How far the running load is (which image,
 * bytes done of total) is written by the thread under the job's mutex and
 * read by the loop: `status` shows it as "loading", watchers get "plan"
 * events every STATION_LOAD_TICK_MS while it changes. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/cachedir.h"
#include "daemon/plandirs.h"
#include "daemon/worker.h"
#include "flashd/protocol.h"

/* plan paths given to `use` are taken relative to the configuration's folder
 * (then to each plan folder: plandirs.c); base is that folder, "" for none */
static int station_resolve(const struct station *st, const char *plan, char *buf, size_t len,
			   char *base, size_t baselen)
{
	const char *slash = st->config_path ? strrchr(st->config_path, '/') : NULL;
	int n, nb;

	if (slash == st->config_path)
		nb = snprintf(base, baselen, "/");
	else
		nb = snprintf(base, baselen, "%.*s", slash ? (int)(slash - st->config_path) : 0,
			      slash ? st->config_path : "");
	if (plan[0] == '/' || !slash)
		n = snprintf(buf, len, "%s", plan);
	else
		n = snprintf(buf, len, "%s/%s", base, plan);
	return n < 0 || (size_t)n >= len || nb < 0 || (size_t)nb >= baselen ? -ENAMETOOLONG : 0;
}

static int station_select(struct station *st, const char *port, struct plan *p)
{
	struct station_plan_sel *sel;

	for (size_t i = 0; i < st->plans.nsel; i++)
		if (strcmp(st->plans.sel[i].port, port) == 0) {
			plan_unref(st->plans.sel[i].plan);
			st->plans.sel[i].plan = plan_ref(p);
			return 0;
		}
	if (st->plans.nsel >= STATION_PORTS_MAX)
		return -E2BIG;
	sel = realloc(st->plans.sel, (st->plans.nsel + 1) * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	st->plans.sel = sel;
	sel = &sel[st->plans.nsel];
	sel->port = strdup(port);
	if (!sel->port)
		return -ENOMEM;
	sel->plan = plan_ref(p);
	st->plans.nsel++;
	return 0;
}

static int station_use_check(const char *plan, const char *const *ports, size_t nports,
			     char *err, size_t errlen)
{
	if (!plan || !*plan) {
		snprintf(err, errlen, "no plan given");
		return -EINVAL;
	}
	for (size_t i = 0; i < nports; i++)
		if (!ports[i] || !*ports[i] || strlen(ports[i]) >= PORT_NAME_MAX) {
			snprintf(err, errlen, "bad port name");
			return -EINVAL;
		}
	return 0;
}

/* ---- loads on the loader thread: `use` and reload ---- */

enum station_load_kind {
	STATION_LOAD_USE,
	STATION_LOAD_RELOAD,
};

static const char *const station_load_kinds[] = {
	[STATION_LOAD_USE] = "use",
	[STATION_LOAD_RELOAD] = "reload",
};

#define STATION_LOAD_TICK_MS 500u

struct station_load {
	struct worker_job job;          /* first: the callbacks cast back */
	enum station_load_kind kind;
	struct station *st;             /* loop side only */
	struct station_load *next;      /* loop side: the station's queue of loads */
	station_done_fn done;
	void *ud;
	char *path;                     /* use: the plan; reload: the configuration */
	char *name;                     /* use: the plan as asked for */
	char base[PATH_MAX];            /* use: the configuration's folder ("": none) */
	char **dirs;                    /* use: the plan folders (plan-dirs) in force */
	size_t ndirs;
	char real[PATH_MAX];            /* use: the plan, resolved in a plan folder */
	char **ports;                   /* use: the ports (none: the default plan) */
	size_t nports;
	char **args;                    /* use: the plan's arguments */
	size_t nargs;
	char cache[PATH_MAX];           /* use: the image cache of the configuration in force */
	struct plan **reuse;            /* references taken on the loop: the plans in force,
					 * whose unchanged images the new plans share */
	size_t nreuse;
	/* written by the loader thread */
	int r;
	struct plan *plan;              /* use */
	struct conf *conf;              /* reload */
	struct station_plan_set plans;  /* reload */
	char err[2048];
	/* progress: written by the loader thread under mu, read by the loop */
	pthread_mutex_t mu;
	bool started;
	char file[256];
	uint64_t bytes, total;
};

/* The station's loads, oldest (the one running) first. */
struct station_loads {
	struct station_load *head, *tail;
	struct event *tick;
	char *last;                     /* the "loading" object last published, as text */
};

static void station_load_free(struct station_load *l)
{
	for (size_t i = 0; i < l->nreuse; i++)
		plan_unref(l->reuse[i]);
	free(l->reuse);
	pthread_mutex_destroy(&l->mu);
	plan_unref(l->plan);
	conf_free(l->conf);
	station_plans_clear(&l->plans);
	for (size_t i = 0; i < l->nports; i++)
		free(l->ports[i]);
	free(l->ports);
	for (size_t i = 0; i < l->nargs; i++)
		free(l->args[i]);
	free(l->args);
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i]);
	free(l->dirs);
	free(l->name);
	free(l->path);
	free(l);
}

/* On the loader thread (image_opts.progress). */
static void station_load_progress(void *ud, const char *file, uint64_t done, uint64_t total)
{
	struct station_load *l = ud;

	pthread_mutex_lock(&l->mu);
	snprintf(l->file, sizeof(l->file), "%s", file);
	l->bytes = done;
	l->total = total;
	pthread_mutex_unlock(&l->mu);
}

/* On the loader thread: the plan and the files its arguments name must lie
 * in a plan folder (plandirs.h); l->real is the plan to load. */
static int station_use_confine(struct station_load *l)
{
	const char *const *dirs = (const char *const *)l->dirs;
	int r;

	r = plandirs_resolve_plan(dirs, l->ndirs, l->base[0] ? l->base : NULL, l->name, l->real,
				  sizeof(l->real), l->err, sizeof(l->err));
	if (r == 0)
		r = plandirs_check_args(dirs, l->ndirs, l->real, (const char *const *)l->args,
					l->nargs, l->err, sizeof(l->err));
	return r;
}

/* On the loader thread: touches nothing but l. */
static void station_load_run(struct worker_job *j)
{
	struct station_load *l = (struct station_load *)j;
	struct image_opts o = { .progress = station_load_progress, .ud = l,
				    .reuse = l->reuse, .nreuse = l->nreuse };
	char *errors = NULL;
	int r;

	pthread_mutex_lock(&l->mu);
	l->started = true;
	pthread_mutex_unlock(&l->mu);
	if (l->kind == STATION_LOAD_USE) {
		o.cache_dir = l->cache;
		/* the pools are bound on the loop (station_use_apply): a reload
		 * applied meanwhile frees the configuration in force now */
		o.pools_later = true;
		r = station_use_confine(l);
		if (r == 0)
			r = image_plan_load(l->real, (const char *const *)l->args, l->nargs, &o, &l->plan,
					    l->err, sizeof(l->err));
		l->r = r < 0 && r != -ENOMEM ? -EINVAL : r;
		return;
	}
	r = conf_load(l->path, &l->conf, &errors);
	if (r < 0) {
		snprintf(l->err, sizeof(l->err), "%s", errors ? errors : strerror(-r));
		free(errors);
		l->r = -EINVAL;
		return;
	}
	r = station_plans_load_opts(l->conf, &o, &l->plans, l->err, sizeof(l->err));
	l->r = r < 0 && r != -ENOMEM ? -EINVAL : r;
}

static void station_use_apply(struct station *st, struct station_load *l)
{
	struct plan *p = l->plan;
	int r = 0;

	if (l->r == 0) {
		/* the pools of the configuration in force when the plan takes effect */
		r = plan_bind_pools(p, st->conf->pools, st->conf->npools, l->err, sizeof(l->err));
		l->r = r == -ENOMEM ? r : r < 0 ? -EINVAL : 0;
	}
	if (l->r < 0) {
		log_warning("use: plan refused: %s", l->err);
		return;
	}
	station_plan_log_images(p, &st->plans);
	if (l->nports == 0) {
		plan_unref(st->plans.plan);
		st->plans.plan = plan_ref(p);
		log_notice("plan %s is now the default plan (new boards)", plan_path(p));
	}
	for (size_t i = 0; i < l->nports && r >= 0; i++) {
		r = station_select(st, l->ports[i], p);
		if (r >= 0)
			log_notice("port %s: plan %s for new boards", l->ports[i], plan_path(p));
	}
	if (r < 0) {
		snprintf(l->err, sizeof(l->err), "%s", strerror(-r));
		l->r = r;
		return;
	}
	station_apply_conf(st);
}

static bool station_str_changed(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool station_conf_socket_changed(const struct conf *a, const struct conf *b)
{
	return station_str_changed(a->socket_path, b->socket_path) ||
	       station_str_changed(a->socket_group, b->socket_group) ||
	       station_str_changed(a->admin_group, b->admin_group) ||
	       station_str_changed(a->journal_path, b->journal_path) ||
	       a->max_clients != b->max_clients || a->client_queue != b->client_queue ||
	       a->max_clients_per_user != b->max_clients_per_user ||
	       a->admin_clients != b->admin_clients ||
	       a->client_idle_timeout_ms != b->client_idle_timeout_ms;
}

static void station_reload_apply(struct station *st, struct station_load *l)
{
	if (l->r < 0) {
		log_error("reload refused, the running %s: %s",
			  l->conf ? "plans stay" : "configuration stays", l->err);
		return;
	}
	station_plans_log_images(&l->plans, &st->plans);
	station_plans_clear(&st->plans);
	st->plans = l->plans;
	l->plans = (struct station_plan_set){ 0 };
	if (station_conf_socket_changed(st->conf, l->conf))
		log_notice("reload: socket, journal, group and client settings take effect on restart");
	conf_free(st->conf);
	st->conf = l->conf;
	l->conf = NULL;
	station_pools_apply(st);
	station_apply_conf(st);
	station_slots_apply(st);
	log_notice("reloaded %s", l->path);
}

/* ---- progress on the loop: status "loading" and "plan" events ---- */

json_t *station_loading_json(const struct station *st)
{
	struct station_load *l = st->loads ? st->loads->head : NULL;
	size_t queued = 0;
	json_t *o;

	if (!l)
		return json_null();
	for (const struct station_load *q = l->next; q; q = q->next)
		queued++;
	pthread_mutex_lock(&l->mu);
	o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", PROTOCOL_KEY_KIND,
		      station_load_kinds[l->kind], PROTOCOL_KEY_PATH, l->path, PROTOCOL_KEY_FILE,
		      l->started && l->file[0] ? json_string(l->file) : json_null(),
		      PROTOCOL_KEY_BYTES, (json_int_t)l->bytes, PROTOCOL_KEY_TOTAL,
		      (json_int_t)l->total, PROTOCOL_KEY_QUEUED, (json_int_t)queued);
	pthread_mutex_unlock(&l->mu);
	return o ? o : json_null();
}

/* Publish {"loading": …} when it differs from what was published last. */
static void station_loads_publish(struct station *st)
{
	json_t *j;
	char *text;

	if (st->stopping || !st->loads)
		return;
	j = station_loading_json(st);
	text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text && st->loads->last && strcmp(text, st->loads->last) == 0) {
		free(text);
		json_decref(j);
		return;
	}
	free(st->loads->last);
	st->loads->last = text;
	control_publish(st->ctl, PROTOCOL_EVENT_PLAN, json_pack("{s:o}", "loading", j));
}

static void station_loads_tick(evutil_socket_t fd, short what, void *arg)
{
	station_loads_publish(arg);
}

static int station_loads_push(struct station *st, struct station_load *l)
{
	struct station_loads *q = st->loads;
	const struct timeval tv = { 0, STATION_LOAD_TICK_MS * 1000 };

	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q || !(q->tick = event_new(st->base, -1, EV_PERSIST, station_loads_tick, st))) {
			free(q);
			return -ENOMEM;
		}
		event_add(q->tick, &tv);
		st->loads = q;
	}
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	station_loads_publish(st);
	return 0;
}

/* l (the oldest load) is done: the next one is running, or none. */
static void station_loads_pop(struct station *st, struct station_load *l)
{
	struct station_loads *q = st->loads;

	if (!q || q->head != l)
		return;
	q->head = l->next;
	if (!q->head)
		q->tail = NULL;
	station_loads_publish(st);
	if (q->head)
		return;
	event_free(q->tick);
	free(q->last);
	free(q);
	st->loads = NULL;
}

/* On the loop, in the order the loads were asked for. */
static void station_load_done(struct worker_job *j, int status)
{
	struct station_load *l = (struct station_load *)j;

	station_loads_pop(l->st, l);
	if (status < 0 || l->st->stopping) {
		l->r = -ECANCELED;
		snprintf(l->err, sizeof(l->err), "flashd is stopping");
	} else if (l->kind == STATION_LOAD_USE) {
		station_use_apply(l->st, l);
	} else {
		station_reload_apply(l->st, l);
	}
	if (l->done)
		l->done(l->ud, l->r, l->r < 0 ? l->err : NULL);
	station_load_free(l);
}

static struct station_load *station_load_new(struct station *st, enum station_load_kind kind,
					     const char *path, station_done_fn done, void *ud)
{
	struct station_load *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->job = (struct worker_job){ .run = station_load_run, .done = station_load_done };
	pthread_mutex_init(&l->mu, NULL);
	l->kind = kind;
	l->st = st;
	l->done = done;
	l->ud = ud;
	l->path = strdup(path);
	if (!l->path) {
		free(l);
		return NULL;
	}
	return l;
}

/* References to the plans in force (their unchanged images are reused). */
static int station_load_reuse(struct station_load *l, const struct station *st)
{
	size_t max = 1 + st->plans.nsel + st->nports;

	l->reuse = calloc(max, sizeof(*l->reuse));
	if (!l->reuse)
		return -ENOMEM;
	if (st->plans.plan)
		l->reuse[l->nreuse++] = plan_ref(st->plans.plan);
	for (size_t i = 0; i < st->plans.nsel; i++)
		l->reuse[l->nreuse++] = plan_ref(st->plans.sel[i].plan);
	for (size_t i = 0; i < st->nports; i++)
		if (st->ports[i]->plan)
			l->reuse[l->nreuse++] = plan_ref(st->ports[i]->plan);
	return 0;
}

/* Hand l to the loader thread; on failure l is freed without an answer. */
static int station_load_submit(struct station *st, struct station_load *l)
{
	if (station_load_reuse(l, st) < 0 ||
	    (l->kind == STATION_LOAD_USE && cachedir_for_conf(st->conf, l->cache, sizeof(l->cache)) < 0) ||
	    station_loads_push(st, l) < 0) {
		l->done = NULL;
		station_load_free(l);
		return -ENOMEM;
	}
	worker_submit(st->loader, &l->job);
	return 0;
}

/* Copy a string vector into out and n (what is copied so far is freed with the load). */
static int station_load_strv(char ***out, size_t *n, const char *const *v, size_t count)
{
	if (!count)
		return 0;
	*out = calloc(count, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (; *n < count; (*n)++)
		if (!((*out)[*n] = strdup(v[*n])))
			return -ENOMEM;
	return 0;
}

int station_reload(struct station *st, station_done_fn done, void *ud, char *err, size_t errlen)
{
	struct station_load *l;

	if (!st->config_path) {
		snprintf(err, errlen, "no configuration file to reload");
		return -ENOTSUP;
	}
	l = station_load_new(st, STATION_LOAD_RELOAD, st->config_path, done, ud);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	log_info("reloading %s", st->config_path);
	if (station_load_submit(st, l) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void station_pending_done(void *ud, int r, const char *err)
{
	control_pending_done(ud, r, err);
}

int station_reload_op(void *ud, struct control_pending *p, char *err, size_t errlen)
{
	int r = station_reload(ud, station_pending_done, p, err, errlen);

	return r < 0 ? r : CONTROL_PENDING;
}

int station_use(void *ud, const char *plan, const char *const *args, size_t nargs,
		const char *const *ports, size_t nports,
		struct control_pending *p, char *err, size_t errlen)
{
	struct station *st = ud;
	struct station_load *l;
	char path[PATH_MAX], base[PATH_MAX];
	int r;

	r = station_use_check(plan, ports, nports, err, errlen);
	if (r >= 0)
		r = station_use_ports_check(st, ports, nports, err, errlen);
	if (r < 0)
		return r;
	r = station_resolve(st, plan, path, sizeof(path), base, sizeof(base));
	if (r < 0) {
		snprintf(err, errlen, "%s: path too long", plan);
		return -EINVAL;
	}
	l = station_load_new(st, STATION_LOAD_USE, path, station_pending_done, p);
	if (l)
		memcpy(l->base, base, sizeof(base));
	if (!l || !(l->name = strdup(plan)) ||
	    station_load_strv(&l->ports, &l->nports, ports, nports) < 0 ||
	    station_load_strv(&l->args, &l->nargs, args, nargs) < 0 ||
	    station_load_strv(&l->dirs, &l->ndirs, (const char *const *)st->conf->plan_dirs,
			      st->conf->nplan_dirs) < 0) {
		if (l) {
			l->done = NULL;
			station_load_free(l);
		}
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (station_load_submit(st, l) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return CONTROL_PENDING;
}

