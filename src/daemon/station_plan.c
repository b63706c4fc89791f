/* station_plan: which plan a port runs; loading, `use`, reload, settings
 * derived from the configuration.
 *
 * Loading a plan maps and hashes every image (seconds per GB), so `use` and
 * reload load on the station's loader thread (daemon/worker.h) and apply
 * the result on the loop when it is ready; boards keep flashing meanwhile.
 * The thread only runs station_load_run() on the job's own copies (paths,
 * port names) and hands back new plans and configuration; the station's
 * state is only touched on the loop. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/worker.h"

#define STATION_STALL_MARGIN_MS 30000u

static bool station_args_equal(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* A plan this conf already loaded for the same path and arguments. */
static struct plan *station_plans_reuse(const struct conf *c, const struct station_plan_set *s,
					const struct conf_port *cp)
{
	if (s->plan && strcmp(c->plan, cp->plan) == 0 &&
	    station_args_equal(c->plan_args, c->nplan_args, cp->plan_args, cp->nplan_args))
		return s->plan;
	for (size_t i = 0; i < s->nsel; i++) {
		const struct conf_port *o = conf_port_find(c, s->sel[i].port);

		if (o && strcmp(o->plan, cp->plan) == 0 &&
		    station_args_equal(o->plan_args, o->nplan_args, cp->plan_args, cp->nplan_args))
			return s->sel[i].plan;
	}
	return NULL;
}

void station_plans_clear(struct station_plan_set *s)
{
	s->plan = plan_unref(s->plan);
	for (size_t i = 0; i < s->nsel; i++) {
		free(s->sel[i].port);
		plan_unref(s->sel[i].plan);
	}
	free(s->sel);
	s->sel = NULL;
	s->nsel = 0;
}

int station_plans_load(const struct conf *c, struct station_plan_set *out, char *err,
		       size_t errlen)
{
	struct station_plan_set s = { 0 };
	int r;

	if (c->plan) {
		r = plan_load(c->plan, (const char *const *)c->plan_args, c->nplan_args, 0, &s.plan,
			      err, errlen);
		if (r < 0)
			return r;
	}
	if (c->nports && !(s.sel = calloc(c->nports, sizeof(*s.sel)))) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < c->nports; i++) {
		const struct conf_port *cp = &c->ports[i];
		struct station_plan_sel *sel = &s.sel[s.nsel];
		struct plan *same;

		if (!cp->plan)
			continue;
		same = station_plans_reuse(c, &s, cp);
		if (same) {
			sel->plan = plan_ref(same);
		} else {
			r = plan_load(cp->plan, (const char *const *)cp->plan_args, cp->nplan_args,
				      0, &sel->plan, err, errlen);
			if (r < 0)
				goto fail;
		}
		sel->port = strdup(cp->name);
		s.nsel++;
		if (!sel->port) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory loading plans");
	station_plans_clear(&s);
	return r;
}

struct plan *station_plan_for(const struct station *st, const char *port)
{
	for (size_t i = 0; i < st->plans.nsel; i++)
		if (strcmp(st->plans.sel[i].port, port) == 0)
			return st->plans.sel[i].plan;
	return st->plans.plan;
}

size_t station_plan_first(const struct plan *p, size_t from, enum plan_proto proto)
{
	size_t n = plan_n_steps(p);

	for (size_t i = from; i < n; i++) {
		const struct plan_step *s = plan_step(p, i);

		if (!s->runs_on_imx6)
			continue;
		if (s->proto == proto)
			return i;
	}
	return n;
}

size_t station_plan_first_runnable(const struct plan *p)
{
	size_t n = plan_n_steps(p);

	for (size_t i = 0; i < n; i++)
		if (plan_step(p, i)->runs_on_imx6)
			return i;
	return n;
}

bool station_plan_is_fastboot_id(const struct plan *p, uint16_t vid, uint16_t pid)
{
	const struct plan_usb_id *ids;
	size_t n = 0;

	if (!p)
		return false;
	ids = plan_usb_ids(p, &n);
	for (size_t i = 0; i < n; i++)
		if (ids[i].proto == PLAN_PROTO_FB && ids[i].vid == vid && ids[i].pid == pid)
			return true;
	return false;
}

/* The longest a healthy fastboot session may stay silent: one command's
 * timeout (the largest image's flash timeout included) or a delay step. */
static void station_plan_bounds(const struct plan *p, uint64_t *max_image, uint32_t *max_delay)
{
	size_t n;

	if (!p)
		return;
	n = plan_n_steps(p);
	for (size_t i = 0; i < n; i++) {
		const struct plan_step *s = plan_step(p, i);

		if (s->image && s->image_len > *max_image)
			*max_image = s->image_len;
		if (s->delay_ms > *max_delay)
			*max_delay = s->delay_ms;
		if (s->timeout_ms > *max_delay)
			*max_delay = s->timeout_ms;
	}
}

static uint32_t station_sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void station_apply_conf(struct station *st)
{
	const struct conf *c = st->conf;
	uint64_t max_image = 0, fb;
	uint32_t max_delay = 0;

	station_plan_bounds(st->plans.plan, &max_image, &max_delay);
	for (size_t i = 0; i < st->plans.nsel; i++)
		station_plan_bounds(st->plans.sel[i].plan, &max_image, &max_delay);
	fb = c->fastboot_timeout_ms;
	if (c->erase_timeout_ms > fb)
		fb = c->erase_timeout_ms;
	if (conf_flash_timeout_ms(c, max_image) > fb)
		fb = conf_flash_timeout_ms(c, max_image);
	if (max_delay > fb)
		fb = max_delay;
	st->port_cfg = (struct port_cfg){
		/* a command, report 3 and report 4 without progress between them,
		 * each tried 1 + SESSION_SDP_RETRIES times; before the first step
		 * the descriptor fetch and SET_IDLE */
		.sdp_stall_ms = station_sat32((3ull * (1 + SESSION_SDP_RETRIES) + 2) *
					      c->sdp_timeout_ms + max_delay +
					      STATION_STALL_MARGIN_MS),
		.fastboot_stall_ms = station_sat32(fb + STATION_STALL_MARGIN_MS),
		.reenum_ms = c->reenum_timeout_ms,
		.settle_ms = c->settle_ms,
		.guard_ms = c->bootloop_guard_ms,
		.gone_grace_ms = STATION_GONE_GRACE_MS,
		.progress_ms = STATION_PROGRESS_MS,
		.read_uid = c->read_uid,
	};
	st->sopts = (struct session_opts){
		.sdp_timeout_ms = c->sdp_timeout_ms,
		.fb_cmd_timeout_ms = c->fastboot_timeout_ms,
		.fb_flash_min_ms = c->flash_timeout_min_ms,
		.fb_erase_timeout_ms = c->erase_timeout_ms,
		.fb_flash_rate_kbps = station_sat32(c->flash_rate / 1000u ? c->flash_rate / 1000u : 1),
		.xfer_size = c->usb_transfer_size,
		.xfers_in_flight = c->usb_transfers,
		.read_uid = c->read_uid,
		.sdp_reports = c->sdp_reports,
		.base = st->base,
	};
	for (size_t i = 0; i < st->nports; i++)
		port_set_cfg(&st->ports[i]->port, &st->port_cfg);
}

/* plan paths given to `use` are taken relative to the configuration's folder */
static int station_resolve(const struct station *st, const char *plan, char *buf, size_t len)
{
	const char *slash = st->config_path ? strrchr(st->config_path, '/') : NULL;
	int n;

	if (plan[0] == '/' || !slash)
		n = snprintf(buf, len, "%s", plan);
	else
		n = snprintf(buf, len, "%.*s/%s", (int)(slash - st->config_path), st->config_path,
			     plan);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
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

struct station_load {
	struct worker_job job;          /* first: the callbacks cast back */
	enum station_load_kind kind;
	struct station *st;             /* loop side only */
	station_done_fn done;
	void *ud;
	char *path;                     /* use: the plan; reload: the configuration */
	char **ports;                   /* use: the ports (none: the default plan) */
	size_t nports;
	char **args;                    /* use: the plan's arguments */
	size_t nargs;
	/* written by the loader thread */
	int r;
	struct plan *plan;              /* use */
	struct conf *conf;              /* reload */
	struct station_plan_set plans;  /* reload */
	char err[2048];
};

static void station_load_free(struct station_load *l)
{
	plan_unref(l->plan);
	conf_free(l->conf);
	station_plans_clear(&l->plans);
	for (size_t i = 0; i < l->nports; i++)
		free(l->ports[i]);
	free(l->ports);
	for (size_t i = 0; i < l->nargs; i++)
		free(l->args[i]);
	free(l->args);
	free(l->path);
	free(l);
}

/* On the loader thread: touches nothing but l. */
static void station_load_run(struct worker_job *j)
{
	struct station_load *l = (struct station_load *)j;
	char *errors = NULL;
	int r;

	if (l->kind == STATION_LOAD_USE) {
		r = plan_load(l->path, (const char *const *)l->args, l->nargs, 0, &l->plan, l->err,
			      sizeof(l->err));
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
	r = station_plans_load(l->conf, &l->plans, l->err, sizeof(l->err));
	l->r = r < 0 && r != -ENOMEM ? -EINVAL : r;
}

static void station_use_apply(struct station *st, struct station_load *l)
{
	struct plan *p = l->plan;
	int r = 0;

	if (l->r < 0) {
		log_warning("use: plan refused: %s", l->err);
		return;
	}
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
	       a->max_clients != b->max_clients || a->client_queue != b->client_queue;
}

static void station_reload_apply(struct station *st, struct station_load *l)
{
	if (l->r < 0) {
		log_error("reload refused, the running %s: %s",
			  l->conf ? "plans stay" : "configuration stays", l->err);
		return;
	}
	station_plans_clear(&st->plans);
	st->plans = l->plans;
	l->plans = (struct station_plan_set){ 0 };
	if (station_conf_socket_changed(st->conf, l->conf))
		log_notice("reload: socket, journal, group and client settings take effect on restart");
	conf_free(st->conf);
	st->conf = l->conf;
	l->conf = NULL;
	station_apply_conf(st);
	log_notice("reloaded %s", l->path);
}

/* On the loop, in the order the loads were asked for. */
static void station_load_done(struct worker_job *j, int status)
{
	struct station_load *l = (struct station_load *)j;

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
	worker_submit(st->loader, &l->job);
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
	char path[PATH_MAX];
	int r;

	r = station_use_check(plan, ports, nports, err, errlen);
	if (r < 0)
		return r;
	r = station_resolve(st, plan, path, sizeof(path));
	if (r < 0) {
		snprintf(err, errlen, "%s: path too long", plan);
		return -EINVAL;
	}
	l = station_load_new(st, STATION_LOAD_USE, path, station_pending_done, p);
	if (!l || station_load_strv(&l->ports, &l->nports, ports, nports) < 0 ||
	    station_load_strv(&l->args, &l->nargs, args, nargs) < 0) {
		if (l) {
			l->done = NULL;
			station_load_free(l);
		}
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	worker_submit(st->loader, &l->job);
	return CONTROL_PENDING;
}

static json_t *station_plan_info(const struct plan *p)
{
	return json_pack("{s:s, s:s, s:I}", "path", plan_path(p), "sha256", plan_sha256(p),
			 "steps", (json_int_t)plan_n_steps(p));
}

static void station_loaded_add(json_t *loaded, const struct plan **seen, size_t *nseen,
			       size_t max, const struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i] == p)
			return;
	if (*nseen >= max)
		return;
	seen[(*nseen)++] = p;
	json_array_append_new(loaded, station_plan_info(p));
}

json_t *station_plans_json(void *ud)
{
	struct station *st = ud;
	size_t max = 1 + st->plans.nsel + st->nports, nseen = 0;
	const struct plan **seen = calloc(max, sizeof(*seen));
	json_t *ports = json_object(), *loaded = json_array(), *o;

	if (!seen || !ports || !loaded) {
		free(seen);
		json_decref(ports);
		json_decref(loaded);
		return NULL;
	}
	station_loaded_add(loaded, seen, &nseen, max, st->plans.plan);
	for (size_t i = 0; i < st->plans.nsel; i++) {
		json_object_set_new(ports, st->plans.sel[i].port,
				    json_string(plan_path(st->plans.sel[i].plan)));
		station_loaded_add(loaded, seen, &nseen, max, st->plans.sel[i].plan);
	}
	for (size_t i = 0; i < st->nports; i++)
		station_loaded_add(loaded, seen, &nseen, max, st->ports[i]->plan);
	free(seen);
	o = json_pack("{s:o, s:o, s:o}", "default",
		      st->plans.plan ? json_string(plan_path(st->plans.plan)) : json_null(),
		      "ports", ports, "loaded", loaded);
	return o;
}
