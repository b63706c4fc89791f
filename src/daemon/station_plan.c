/* station_plan: which plan a port runs; loading, `use`, reload, settings
 * derived from the configuration.
 *
 * `use` and reload run on the loader thread: station_load.c. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "daemon/cachedir.h"
#include "flashd/protocol.h"

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

/* Every plan the configuration names, images decompressed into the cache
 * beside its journal (daemon/cachedir.h); base supplies progress and the
 * plans whose unchanged images are reused. */
int station_plans_load_opts(const struct conf *c, const struct image_opts *base,
			    struct station_plan_set *out, char *err, size_t errlen)
{
	struct station_plan_set s = { 0 };
	struct image_opts o = *base;
	char cache[4096];
	int r;

	if (cachedir_for_conf(c, cache, sizeof(cache)) < 0) {
		snprintf(err, errlen, "journal path too long for the image cache");
		return -ENAMETOOLONG;
	}
	o.cache_dir = cache;
	o.pools = c->pools;
	o.npools = c->npools;
	o.pools_later = false;
	if (c->plan) {
		r = image_plan_load(c->plan, (const char *const *)c->plan_args, c->nplan_args, &o, &s.plan,
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
			r = image_plan_load(cp->plan, (const char *const *)cp->plan_args, cp->nplan_args,
					 &o, &sel->plan, err, errlen);
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

static bool station_plan_has_image(const struct plan *p, const struct plan_image *img)
{
	size_t n = p ? plan_n_images(p) : 0;

	for (size_t i = 0; i < n; i++)
		if (plan_image(p, i) == img)
			return true;
	return false;
}

static bool station_plans_have_image(const struct station_plan_set *s, const struct plan_image *img)
{
	if (!s)
		return false;
	for (size_t i = 0; i < s->nsel; i++)
		if (station_plan_has_image(s->sel[i].plan, img))
			return true;
	return station_plan_has_image(s->plan, img);
}

void station_plan_log_images(const struct plan *p, const struct station_plan_set *old)
{
	size_t n = p ? plan_n_images(p) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct plan_image *img = plan_image(p, i);

		if (img->compression)
			log_info("plan %s: %s: %s-compressed (sha256 %.12s…), payload %zu bytes "
				 "(sha256 %.12s…) %s", plan_path(p), img->path, img->compression,
				 img->source_sha256, img->size, img->sha256,
				 station_plans_have_image(old, img) ? "kept: the file is unchanged"
				 : img->cache_hit ? "from the cache" : "decompressed into the cache");
	}
}

void station_plans_log_images(const struct station_plan_set *s, const struct station_plan_set *old)
{
	station_plan_log_images(s->plan, old);
	for (size_t i = 0; i < s->nsel; i++)
		if (s->sel[i].plan != s->plan)
			station_plan_log_images(s->sel[i].plan, old);
}

int station_plans_load(const struct conf *c, struct station_plan_set *out, char *err,
		       size_t errlen)
{
	const struct image_opts o = { 0 };
	int r = station_plans_load_opts(c, &o, out, err, errlen);

	if (r >= 0)
		station_plans_log_images(out, NULL);
	return r;
}

static const char *station_sysfs = "/sys";

void station_plan_set_sysfs(const char *root)
{
	station_sysfs = root ? root : "/sys";
}

/* A hub port as sysfs shows it, board or not: drivers/usb/core/port.c names
 * it HUB-portN below the hub's interface HUB:1.0, and a root hub (bus B,
 * device B-0) is called usbB there: port 1-2 is 1-0:1.0/usb1-port2, port
 * 1-1.4 is 1-1:1.0/1-1-port4. The name is checked (digits, '-', '.') first. */
static bool station_port_in_sysfs(const char *port)
{
	const char *dot = strrchr(port, '.'), *dash = strchr(port, '-');
	char path[PATH_MAX];
	struct stat sb;
	int n, hub;

	if (dot) {
		hub = (int)(dot - port);
		n = snprintf(path, sizeof(path), "%s/bus/usb/devices/%.*s:1.0/%.*s-port%s",
			     station_sysfs, hub, port, hub, port, dot + 1);
	} else {
		hub = (int)(dash - port);
		n = snprintf(path, sizeof(path), "%s/bus/usb/devices/%.*s-0:1.0/usb%.*s-port%s",
			     station_sysfs, hub, port, hub, port, dash + 1);
	}
	return n > 0 && (size_t)n < sizeof(path) && stat(path, &sb) == 0;
}

static bool station_port_known(const struct station *st, const char *port)
{
	for (size_t i = 0; i < st->nports; i++)
		if (strcmp(st->ports[i]->port.name, port) == 0)
			return true;
	for (size_t i = 0; i < st->plans.nsel; i++)
		if (strcmp(st->plans.sel[i].port, port) == 0)
			return true;
	return conf_port_find(st->conf, port) || station_port_in_sysfs(port);
}

int station_use_ports_check(const struct station *st, const char *const *ports, size_t nports,
			    char *err, size_t errlen)
{
	for (size_t i = 0; i < nports; i++) {
		if (!conf_port_name_valid(ports[i])) {
			snprintf(err, errlen, "bad port name '%.64s' (a sysfs port path such as 1-1.4)",
				 ports[i]);
			return -EINVAL;
		}
		if (!station_port_known(st, ports[i])) {
			snprintf(err, errlen, "no port %s: no board seen there, no such USB hub port, "
				 "no [port %s] in flashd.conf", ports[i], ports[i]);
			return -ENOENT;
		}
	}
	return 0;
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
		.verify_all = c->verify,
		.verify_sha256 = c->verify_sha256,
		.verify_mmc_dev = c->verify_mmc_dev,
		.verify_piece = c->verify_piece,
		.digests = st->digests,
		.base = st->base,
	};
	station_bus_apply(st);
	for (size_t i = 0; i < st->nports; i++)
		port_set_cfg(&st->ports[i]->port, &st->port_cfg);
	station_pools_gate_all(st);   /* the ports' plans may have changed */
}

static json_t *station_plan_info(const struct plan *p)
{
	return json_pack("{s:s, s:s, s:I}", PROTOCOL_KEY_PATH, plan_path(p), PROTOCOL_KEY_SHA256,
			 plan_sha256(p), PROTOCOL_KEY_STEPS, (json_int_t)plan_n_steps(p));
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
	o = json_pack("{s:o, s:o, s:o}", PROTOCOL_KEY_DEFAULT,
		      st->plans.plan ? json_string(plan_path(st->plans.plan)) : json_null(),
		      PROTOCOL_KEY_PORTS, ports, PROTOCOL_KEY_LOADED, loaded);
	return o;
}
