/* conf: flashd.conf parser. One table describes every key; values are
 * checked against the table's bounds; all errors are collected. The value
 * syntaxes (durations, sizes, …) are in conf_value.c. */
#include "flashd/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "conf_pool.h"

/* Fixed, not derived from --prefix: systemd, tmpfiles.d and the udev rule
 * use the same absolute paths. */
#define CONF_DEFAULT_SOCKET "/run/flashd/flashd.sock"
#define CONF_DEFAULT_JOURNAL "/var/lib/flashd/results.jsonl"
#define CONF_DEFAULT_POOL_SQLITE "/var/lib/flashd/pools.sqlite"
/* the packaged example plans (conf/conf.am's flashdplandir) */
#ifndef PLANDIR
#define PLANDIR "/usr/share/flashd/plans"
#endif

enum conf_type {
	CONF_TYPE_PATH,      /* absolute path */
	CONF_TYPE_GROUP,     /* group name */
	CONF_TYPE_GROUP_OPT, /* group name or empty */
	CONF_TYPE_PLAN,      /* plan path, relative to the file's folder; empty = none */
	CONF_TYPE_ARGS,      /* words */
	CONF_TYPE_DIRS,      /* folders, each relative to the file's folder */
	CONF_TYPE_DURATION,  /* uint32_t ms */
	CONF_TYPE_SIZE32,    /* uint32_t bytes, multiple of 512 */
	CONF_TYPE_SIZE64,    /* uint64_t bytes */
	CONF_TYPE_UINT,      /* uint32_t */
	CONF_TYPE_BOOL,
	CONF_TYPE_ID,        /* a station id (conf_station_id_valid) */
	CONF_TYPE_VERBATIM,  /* any non-empty text, kept as written (a libpq conninfo) */
	CONF_TYPE_CHOICE,    /* one of names[min..max], stored as its uint32_t index */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;          /* field in struct conf or struct conf_port */
	size_t off_n;        /* CONF_TYPE_ARGS: the count field */
	uint64_t min, max;
	const char *const *names;  /* CONF_TYPE_CHOICE */
};

#define CONF_G(name, type, field, min, max) \
	{ name, CONF_TYPE_##type, offsetof(struct conf, field), 0, min, max, NULL }

/* bus-order: enum conf_bus_order */
static const char *const conf_bus_orders[] = {
	[CONF_BUS_ORDER_FIFO] = "fifo",
	[CONF_BUS_ORDER_SHORTEST] = "shortest",
};

static const struct conf_key conf_global_keys[] = {
	CONF_G("socket", PATH, socket_path, 0, 0),
	CONF_G("socket-group", GROUP, socket_group, 0, 0),
	CONF_G("admin-group", GROUP_OPT, admin_group, 0, 0),
	CONF_G("journal", PATH, journal_path, 0, 0),
	CONF_G("station-id", ID, station_id, 0, 0),
	CONF_G("plan", PLAN, plan, 0, 0),
	{ "plan-args", CONF_TYPE_ARGS, offsetof(struct conf, plan_args),
	  offsetof(struct conf, nplan_args), 0, CONF_ARGS_MAX, NULL },
	{ "plan-dirs", CONF_TYPE_DIRS, offsetof(struct conf, plan_dirs),
	  offsetof(struct conf, nplan_dirs), 1, CONF_PLAN_DIRS_MAX, NULL },
	CONF_G("sdp-timeout", DURATION, sdp_timeout_ms, 100, 60000),
	CONF_G("reenum-timeout", DURATION, reenum_timeout_ms, 1000, 600000),
	CONF_G("fastboot-timeout", DURATION, fastboot_timeout_ms, 100, 3600000),
	CONF_G("flash-timeout-min", DURATION, flash_timeout_min_ms, 1000, 86400000),
	CONF_G("flash-rate", SIZE64, flash_rate, 64u << 10, 1u << 30),
	CONF_G("erase-timeout", DURATION, erase_timeout_ms, 1000, 86400000),
	CONF_G("settle", DURATION, settle_ms, 0, 600000),
	CONF_G("bootloop-guard", DURATION, bootloop_guard_ms, 0, 86400000),
	CONF_G("usb-transfer-size", SIZE32, usb_transfer_size, 512, 16u << 20),
	CONF_G("usb-transfers", UINT, usb_transfers, 1, 64),
	CONF_G("sdp-reports", UINT, sdp_reports, 1, 16),
	CONF_G("read-uid", BOOL, read_uid, 0, 1),
	CONF_G("max-clients", UINT, max_clients, 1, 1024),
	CONF_G("client-queue", SIZE64, client_queue, 4u << 10, 64u << 20),
	CONF_G("max-clients-per-user", UINT, max_clients_per_user, 1, 1024),
	CONF_G("admin-clients", UINT, admin_clients, 0, 1023),
	CONF_G("client-idle-timeout", DURATION, client_idle_timeout_ms, 0, 86400000),
	CONF_G("slots-only", BOOL, slots_only, 0, 1),
	CONF_G("slot-alert", UINT, slot_alert, 0, 1000),
	CONF_G("verify", BOOL, verify, 0, 1),
	CONF_G("verify-sha256", BOOL, verify_sha256, 0, 1),
	CONF_G("verify-mmc-dev", UINT, verify_mmc_dev, 0, 15),
	CONF_G("verify-piece", SIZE32, verify_piece, 64u << 10, 1u << 30),
	CONF_G("pool-sqlite", PATH, pool_sqlite, 0, 0),
	CONF_G("pool-postgresql", VERBATIM, pool_postgresql, 0, 0),
	CONF_G("pool-retry", DURATION, pool_retry_ms, 100, 600000),
	CONF_G("pool-refresh", DURATION, pool_refresh_ms, 1000, 3600000),
	CONF_G("bus-scheduling", BOOL, bus_scheduling, 0, 1),
	{ "bus-order", CONF_TYPE_CHOICE, offsetof(struct conf, bus_order), 0, 0,
	  ELEMENTSOF(conf_bus_orders) - 1, conf_bus_orders },
	CONF_G("bus-downloads", UINT, bus_downloads, 1, 16),
	CONF_G("bus-starve-grants", UINT, bus_starve_grants, 0, 1000),
	CONF_G("bus-starve-time", DURATION, bus_starve_ms, 0, 3600000),
	CONF_G("bus-small", SIZE64, bus_small, 0, 64u << 20),
	CONF_G("bus-piece", SIZE32, bus_piece, 0, 1u << 30),
};
_Static_assert(ELEMENTSOF(conf_global_keys) <= 64, "struct conf_parser.seen has 64 bits");

static const struct conf_key conf_port_keys[] = {
	{ "plan", CONF_TYPE_PLAN, offsetof(struct conf_port, plan), 0, 0, 0, NULL },
	{ "plan-args", CONF_TYPE_ARGS, offsetof(struct conf_port, plan_args),
	  offsetof(struct conf_port, nplan_args), 0, CONF_ARGS_MAX, NULL },
};


/* collected errors */
struct conf_errs {
	char *buf;
	size_t len, cap;
	unsigned count;
	bool nomem;
};

static void conf_errs_add(struct conf_errs *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void conf_errs_add(struct conf_errs *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (e->count++ >= CONF_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (!e->buf || e->len + (size_t)n + 1 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		while (cap < e->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(e->buf, cap);
		if (!b) {
			e->nomem = true;
			return;
		}
		e->buf = b;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, line, (size_t)n);
	e->len += (size_t)n;
	e->buf[e->len] = '\0';
}

/* ---- defaults and lifetime ---- */

static void conf_port_clear(struct conf_port *p)
{
	free(p->name);
	free(p->plan);
	conf_words_free(p->plan_args, p->nplan_args);
}

struct conf *conf_free(struct conf *c)
{
	if (!c)
		return NULL;
	free(c->socket_path);
	free(c->socket_group);
	free(c->admin_group);
	free(c->journal_path);
	free(c->station_id);
	free(c->plan);
	conf_words_free(c->plan_args, c->nplan_args);
	conf_words_free(c->plan_dirs, c->nplan_dirs);
	for (size_t i = 0; i < c->nports; i++)
		conf_port_clear(&c->ports[i]);
	free(c->ports);
	conf_slots_free(c);
	conf_buses_free(c);
	for (size_t i = 0; i < c->npools; i++)
		pool_def_clear(&c->pools[i]);
	free(c->pools);
	free(c->pool_sqlite);
	free(c->pool_postgresql);
	free(c);
	return NULL;
}

struct conf *conf_new_default(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->socket_path = strdup(CONF_DEFAULT_SOCKET);
	c->socket_group = strdup(CONF_DEFAULT_SOCKET_GROUP);
	c->admin_group = strdup(CONF_DEFAULT_ADMIN_GROUP);
	c->journal_path = strdup(CONF_DEFAULT_JOURNAL);
	c->pool_sqlite = strdup(CONF_DEFAULT_POOL_SQLITE);
	c->plan_dirs = calloc(1, sizeof(*c->plan_dirs));
	if (!c->socket_path || !c->socket_group || !c->admin_group || !c->journal_path ||
	    !c->pool_sqlite || !c->plan_dirs || !(c->plan_dirs[0] = strdup(PLANDIR)))
		return conf_free(c);
	c->nplan_dirs = 1;
	c->sdp_timeout_ms = 5000;
	c->reenum_timeout_ms = 15000;
	c->fastboot_timeout_ms = 10000;
	c->flash_timeout_min_ms = 10000;
	c->flash_rate = 5u << 20;
	c->erase_timeout_ms = 120000;
	c->settle_ms = 3000;
	c->bootloop_guard_ms = 60000;
	c->usb_transfer_size = 256u << 10;
	c->usb_transfers = 4;
	c->sdp_reports = 4;
	c->read_uid = false;
	c->max_clients = 32;
	c->client_queue = 1u << 20;
	c->max_clients_per_user = 8;
	c->admin_clients = 4;
	c->client_idle_timeout_ms = 60000;
	c->slot_alert = 3;
	c->verify_piece = 8u << 20;
	c->pool_retry_ms = 2000;
	c->pool_refresh_ms = 10000;
	c->bus_scheduling = true;
	c->bus_order = CONF_BUS_ORDER_FIFO;
	c->bus_downloads = 2;
	c->bus_starve_grants = 8;
	c->bus_starve_ms = 0;
	c->bus_small = 1u << 20;
	c->bus_piece = 16u << 20;
	return c;
}

const struct conf_port *conf_port_find(const struct conf *c, const char *port)
{
	if (!c || !port)
		return NULL;
	for (size_t i = 0; i < c->nports; i++)
		if (strcmp(c->ports[i].name, port) == 0)
			return &c->ports[i];
	return NULL;
}

uint32_t conf_flash_timeout_ms(const struct conf *c, uint64_t bytes)
{
	uint64_t rate = c->flash_rate ? c->flash_rate : 1;
	uint64_t ms = (bytes / rate) * 2000 + (bytes % rate) * 2000 / rate;

	if (ms < c->flash_timeout_min_ms)
		ms = c->flash_timeout_min_ms;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* ---- the parser ---- */

struct conf_parser {
	const char *name;      /* file name for messages */
	const char *dir;
	unsigned line;
	struct conf *c;
	struct conf_errs errs;
	struct conf_port *port;  /* current [port] section, NULL = global or a pool */
	struct pool_def *pool;   /* current [pool] section (conf_pool.c), NULL = global or a port */
	struct conf_pool_section pool_sec;
	uint64_t seen;           /* keys set in the current section (table index bits) */
	unsigned args_line;      /* line of plan-args in the current section, 0 = none */
	bool plan_dirs_set;      /* plan-dirs given: no default folders added */
	unsigned slots_only_line; /* line of slots-only, 0 = none */
};

#define conf_error(p, fmt, ...) \
	conf_errs_add(&(p)->errs, "%s:%u: " fmt, (p)->name, (p)->line, ##__VA_ARGS__)

static bool conf_valid_group(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

bool conf_station_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CONF_STATION_ID_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

bool conf_port_name_valid(const char *s)
{
	/* busnum-port[.port…] */
	const char *p = s;
	unsigned groups = 0;

	if (strlen(s) > 32)
		return false;
	for (;;) {
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		groups++;
		if (*p == '\0')
			return groups >= 2;
		if ((groups == 1 && *p != '-') || (groups > 1 && *p != '.'))
			return false;
		p++;
	}
}

static int conf_set_string(struct conf_parser *p, char **field, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	free(*field);
	*field = v;
	return 0;
}

static int conf_set_plan(struct conf_parser *p, char **field, const char *value)
{
	char *v;

	if (!*value) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (value[0] == '/' || !p->dir) {
		v = strdup(value);
	} else if (asprintf(&v, "%s/%s", p->dir, value) < 0) {
		v = NULL;
	}
	if (!v)
		return -ENOMEM;
	free(*field);
	*field = v;
	return 0;
}

static int conf_set_args(struct conf_parser *p, const struct conf_key *k, void *base,
			 const char *value)
{
	char ***field = (char ***)((char *)base + k->off);
	size_t *nfield = (size_t *)((char *)base + k->off_n);
	char **w;
	size_t n;
	int r = conf_split_words(value, CONF_ARGS_MAX, &w, &n);

	if (r == -EINVAL)
		conf_error(p, "%s: unterminated quote", k->name);
	else if (r == -E2BIG)
		conf_error(p, "%s: more than %u words", k->name, CONF_ARGS_MAX);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	conf_words_free(*field, *nfield);
	*field = w;
	*nfield = n;
	p->args_line = p->line;
	return 0;
}

/* plan-dirs: folders `use` may load plans from, relative ones made absolute */
static int conf_set_dirs(struct conf_parser *p, const struct conf_key *k, void *base,
			 const char *value)
{
	char ***field = (char ***)((char *)base + k->off);
	size_t *nfield = (size_t *)((char *)base + k->off_n);
	char **w;
	size_t n;
	int r = conf_split_words(value, k->max, &w, &n);

	if (r == -EINVAL)
		conf_error(p, "%s: unterminated quote", k->name);
	else if (r == -E2BIG)
		conf_error(p, "%s: more than %llu folders", k->name, (unsigned long long)k->max);
	else if (r == 0 && n < k->min)
		conf_error(p, "%s: no folder given", k->name);
	if (r < 0 || n < k->min) {
		if (r == 0)
			conf_words_free(w, n);
		return r == -ENOMEM ? r : 0;
	}
	for (size_t i = 0; i < n; i++) {
		char *abs = NULL;
		if (w[i][0] == '/' || !p->dir)
			continue;
		if (asprintf(&abs, "%s/%s", p->dir, w[i]) < 0) {
			conf_words_free(w, n);
			return -ENOMEM;
		}
		free(w[i]);
		w[i] = abs;
	}
	conf_words_free(*field, *nfield);
	*field = w;
	*nfield = n;
	p->plan_dirs_set = true;
	return 0;
}

/* plan-dirs not given: "plans" beside the file comes before the packaged folder */
static int conf_default_dirs(struct conf_parser *p)
{
	struct conf *c = p->c;
	char **d, *beside;

	if (p->plan_dirs_set || !p->dir)
		return 0;
	if (asprintf(&beside, "%s/plans", p->dir) < 0)
		return -ENOMEM;
	d = realloc(c->plan_dirs, (c->nplan_dirs + 1) * sizeof(*d));
	if (!d) {
		free(beside);
		return -ENOMEM;
	}
	memmove(d + 1, d, c->nplan_dirs * sizeof(*d));
	d[0] = beside;
	c->plan_dirs = d;
	c->nplan_dirs++;
	return 0;
}

static void conf_range_error(struct conf_parser *p, const struct conf_key *k)
{
	if (k->type == CONF_TYPE_DURATION)
		conf_error(p, "%s: out of range (%llums to %llums)", k->name,
			   (unsigned long long)k->min, (unsigned long long)k->max);
	else
		conf_error(p, "%s: out of range (%llu to %llu)", k->name,
			   (unsigned long long)k->min, (unsigned long long)k->max);
}

static int conf_set_number(struct conf_parser *p, const struct conf_key *k, void *base,
			   const char *value)
{
	void *field = (char *)base + k->off;
	uint64_t v = 0;
	uint32_t ms;
	bool b;
	int r;

	switch (k->type) {
	case CONF_TYPE_DURATION:
		r = conf_parse_duration(value, &ms);
		v = ms;
		if (r == -EINVAL)
			conf_error(p, "%s: bad duration '%s' (a number and ms, s or min)", k->name, value);
		break;
	case CONF_TYPE_SIZE32:
	case CONF_TYPE_SIZE64:
		r = conf_parse_size(value, &v);
		if (r == -EINVAL)
			conf_error(p, "%s: bad size '%s' (a number, optionally K, M or G)", k->name, value);
		break;
	case CONF_TYPE_UINT:
		r = conf_parse_uint(value, &v);
		if (r == -EINVAL)
			conf_error(p, "%s: bad number '%s'", k->name, value);
		break;
	case CONF_TYPE_BOOL:
		r = conf_parse_bool(value, &b);
		if (r < 0) {
			conf_error(p, "%s: bad boolean '%s' (yes or no)", k->name, value);
			return 0;
		}
		*(bool *)field = b;
		return 0;
	case CONF_TYPE_PATH:
	case CONF_TYPE_GROUP:
	case CONF_TYPE_GROUP_OPT:
	case CONF_TYPE_PLAN:
	case CONF_TYPE_ARGS:
	case CONF_TYPE_DIRS:
	case CONF_TYPE_ID:
	case CONF_TYPE_VERBATIM:
	case CONF_TYPE_CHOICE:
		return -EINVAL;   /* not numbers: conf_set_string's */
	}
	if (r == -EINVAL)
		return 0;
	if (r == -ERANGE || v < k->min || v > k->max) {
		conf_range_error(p, k);
		return 0;
	}
	if (k->type == CONF_TYPE_SIZE32 && v % 512) {
		conf_error(p, "%s: must be a multiple of 512", k->name);
		return 0;
	}
	if (k->type == CONF_TYPE_SIZE64)
		*(uint64_t *)field = v;
	else
		*(uint32_t *)field = (uint32_t)v;
	return 0;
}

static int conf_set_choice(struct conf_parser *p, const struct conf_key *k, void *base,
			   const char *value)
{
	char list[128];
	size_t len = 0;

	for (uint64_t i = k->min; i <= k->max; i++) {
		if (strcmp(value, k->names[i]) == 0) {
			*(uint32_t *)((char *)base + k->off) = (uint32_t)i;
			return 0;
		}
	}
	list[0] = '\0';
	for (uint64_t i = k->min; i <= k->max && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i == k->min ? "" : i == k->max ? " or " : ", ", k->names[i]);
	conf_error(p, "%s: bad value '%s' (%s)", k->name, value, list);
	return 0;
}

static int conf_set(struct conf_parser *p, const struct conf_key *k, void *base, const char *value)
{
	char **field = (char **)((char *)base + k->off);

	switch (k->type) {
	case CONF_TYPE_PATH:
		if (value[0] != '/') {
			conf_error(p, "%s: must be an absolute path", k->name);
			return 0;
		}
		return conf_set_string(p, field, value);
	case CONF_TYPE_GROUP_OPT:
		if (!*value)
			return conf_set_string(p, field, value);
		/* fall through */
	case CONF_TYPE_GROUP:
		if (!conf_valid_group(value)) {
			conf_error(p, "%s: bad group name '%s'", k->name, value);
			return 0;
		}
		return conf_set_string(p, field, value);
	case CONF_TYPE_ID:
		if (!conf_station_id_valid(value)) {
			conf_error(p, "%s: bad station id '%s' (1 to %d letters, digits, '.', '_', ':' or '-')",
				   k->name, value, CONF_STATION_ID_MAX);
			return 0;
		}
		return conf_set_string(p, field, value);
	case CONF_TYPE_VERBATIM:
		if (!*value) {
			conf_error(p, "%s: empty", k->name);
			return 0;
		}
		return conf_set_string(p, field, value);
	case CONF_TYPE_PLAN:
		if (!*value && p->port) {
			conf_error(p, "%s: empty", k->name);
			return 0;
		}
		return conf_set_plan(p, field, value);
	case CONF_TYPE_ARGS:
		return conf_set_args(p, k, base, value);
	case CONF_TYPE_DIRS:
		return conf_set_dirs(p, k, base, value);
	case CONF_TYPE_CHOICE:
		return conf_set_choice(p, k, base, value);
	case CONF_TYPE_DURATION:
	case CONF_TYPE_SIZE32:
	case CONF_TYPE_SIZE64:
	case CONF_TYPE_UINT:
	case CONF_TYPE_BOOL:
		return conf_set_number(p, k, base, value);
	}
	return -EINVAL;
}

/* End of a [pool] section: its kind's keys, its values (conf_pool_end). */
static int conf_end_pool(struct conf_parser *p)
{
	char why[768];
	int r = conf_pool_end(p->c, &p->pool_sec, p->pool, why, sizeof(why));

	if (r == -EINVAL) {
		p->line = p->pool->line;
		conf_error(p, "%s", why);
	}
	p->pool = NULL;
	memset(&p->pool_sec, 0, sizeof(p->pool_sec));
	return r == -ENOMEM ? r : 0;
}

/* End of a section: cross-key checks. */
static int conf_end_section(struct conf_parser *p)
{
	unsigned line = p->line;
	const char *plan = p->port ? p->port->plan : p->c->plan;
	size_t nargs = p->port ? p->port->nplan_args : p->c->nplan_args;
	int r = 0;

	if (p->pool) {
		r = conf_end_pool(p);
	} else if (p->port && !plan) {
		p->line = p->port->line;
		conf_error(p, "[port %s]: no plan", p->port->name);
	} else if (!plan && nargs && p->args_line) {
		p->line = p->args_line;
		conf_error(p, "plan-args given without plan");
	}
	p->line = line;
	p->seen = 0;
	p->args_line = 0;
	return r;
}

/* "[pool NAME]" (conf_pool.c) */
static int conf_section_pool(struct conf_parser *p, const char *name)
{
	char why[256];
	int r = conf_pool_begin(p->c, name, p->line, why, sizeof(why));

	if (r == -EINVAL)
		conf_error(p, "%s", why);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	p->pool = &p->c->pools[p->c->npools - 1];
	return 0;
}

static int conf_section(struct conf_parser *p, char *s)
{
	char *end = strchr(s, ']');
	char *name;
	struct conf_port *np;
	int r;

	if (!end || end[1 + strspn(end + 1, " \t")]) {
		conf_error(p, "bad section header (expected [port NAME] or [pool NAME])");
		return 0;
	}
	*end = '\0';
	while (end > s + 1 && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	s = s + 1 + strspn(s + 1, " \t");
	if ((strncmp(s, "port", 4) != 0 && strncmp(s, "pool", 4) != 0) ||
	    (s[4] != ' ' && s[4] != '\t')) {
		conf_error(p, "unknown section '[%s]' (expected [port NAME] or [pool NAME])", s);
		return 0;
	}
	name = s + 4 + strspn(s + 4, " \t");
	r = conf_end_section(p);
	if (r < 0)
		return r;
	p->port = NULL;
	if (strncmp(s, "pool", 4) == 0)
		return conf_section_pool(p, name);
	if (!conf_port_name_valid(name)) {
		conf_error(p, "bad port name '%s' (a sysfs port path such as 1-1.4)", name);
		return 0;
	}
	if (conf_port_find(p->c, name)) {
		conf_error(p, "duplicate section [port %s]", name);
		return 0;
	}
	if (p->c->nports >= CONF_PORTS_MAX) {
		conf_error(p, "more than %u [port] sections", CONF_PORTS_MAX);
		return 0;
	}
	np = realloc(p->c->ports, (p->c->nports + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	p->c->ports = np;
	p->port = &np[p->c->nports];
	memset(p->port, 0, sizeof(*p->port));
	p->port->line = p->line;
	p->port->name = strdup(name);
	if (!p->port->name)
		return -ENOMEM;
	p->c->nports++;
	return 0;
}

/* "bus NAME = PORT PORT …" (conf_bus.c) */
static int conf_bus_line(struct conf_parser *p, const char *name, const char *ports)
{
	char why[256];
	int r = conf_bus_add(p->c, name, ports, p->line, why, sizeof(why));

	if (r == -EINVAL)
		conf_error(p, "%s", why);
	return r == -ENOMEM ? r : 0;
}

/* A section whose header had an error: skip its keys silently (one error is enough). */
static bool conf_in_bad_section(const struct conf_parser *p, bool after_bad_header)
{
	return after_bad_header && !p->port && !p->pool;
}

/* "slot NAME = PORT" (conf_slot.c) */
static int conf_slot_line(struct conf_parser *p, const char *name, const char *port)
{
	char why[256];
	int r = conf_slot_add(p->c, name, port, p->line, why, sizeof(why));

	if (r == -EINVAL)
		conf_error(p, "%s", why);
	return r == -ENOMEM ? r : 0;
}

/* End of the file: slots-only needs slots, and leaves [port] sections of
 * ports without one useless. */
static void conf_check_slots(struct conf_parser *p)
{
	const struct conf *c = p->c;
	unsigned line = p->line;

	if (!c->slots_only)
		return;
	if (!c->nslots) {
		p->line = p->slots_only_line;
		conf_error(p, "slots-only: no slot line (slot NAME = PORT)");
	}
	for (size_t i = 0; c->nslots && i < c->nports; i++) {
		if (conf_slot_of_port(c, c->ports[i].name))
			continue;
		p->line = c->ports[i].line;
		conf_error(p, "[port %s]: not a slot, and slots-only ignores it", c->ports[i].name);
	}
	p->line = line;
}

static int conf_keyval(struct conf_parser *p, char *s)
{
	const struct conf_key *table = p->port ? conf_port_keys : conf_global_keys;
	size_t n = p->port ? ELEMENTSOF(conf_port_keys) : ELEMENTSOF(conf_global_keys);
	char *eq = strchr(s, '='), *key_end, *value, *vend;

	if (!eq) {
		conf_error(p, "expected 'key = value'");
		return 0;
	}
	for (key_end = eq; key_end > s && (key_end[-1] == ' ' || key_end[-1] == '\t'); key_end--)
		;
	*key_end = '\0';
	value = eq + 1 + strspn(eq + 1, " \t");
	for (vend = value + strlen(value); vend > value && (vend[-1] == ' ' || vend[-1] == '\t'); vend--)
		;
	*vend = '\0';
	if (!*s) {
		conf_error(p, "expected 'key = value'");
		return 0;
	}
	if (p->pool) {
		char why[512];
		int r = conf_pool_key(&p->pool_sec, p->pool, p->dir, s, value, p->line, why,
				      sizeof(why));

		if (r == -EINVAL)
			conf_error(p, "%s", why);
		return r == -ENOMEM ? r : 0;
	}
	if (!p->port && strncmp(s, "slot", 4) == 0 && (s[4] == ' ' || s[4] == '\t'))
		return conf_slot_line(p, s + 4 + strspn(s + 4, " \t"), value);
	if (!p->port && strncmp(s, "bus", 3) == 0 && (s[3] == ' ' || s[3] == '\t'))
		return conf_bus_line(p, s + 3 + strspn(s + 3, " \t"), value);
	if (!p->port && strcmp(s, "slots-only") == 0)
		p->slots_only_line = p->line;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i].name, s) != 0)
			continue;
		if (p->seen & (UINT64_C(1) << i)) {
			conf_error(p, "%s: set twice in this section", s);
			return 0;
		}
		p->seen |= UINT64_C(1) << i;
		return conf_set(p, &table[i], p->port ? (void *)p->port : (void *)p->c, value);
	}
	if (p->port)
		conf_error(p, "unknown key '%s' in [port %s] (only plan and plan-args)", s, p->port->name);
	else
		conf_error(p, "unknown key '%s'", s);
	return 0;
}

static int conf_line(struct conf_parser *p, char *s, bool *bad_header)
{
	int r;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		r = conf_section(p, s);
		*bad_header = !p->port;
		return r;
	}
	if (conf_in_bad_section(p, *bad_header))
		return 0;
	return conf_keyval(p, s);
}

static int conf_lines(struct conf_parser *p, const char *text, size_t len)
{
	char buf[CONF_LINE_MAX + 1];
	bool bad_header = false;
	size_t i = 0;
	int r;

	while (i < len) {
		size_t n = 0;
		bool nul = false, toolong = false;
		p->line++;
		for (; i < len && text[i] != '\n'; i++) {
			if (text[i] == '\0')
				nul = true;
			if (text[i] == '\r')
				continue;
			if (n < CONF_LINE_MAX)
				buf[n++] = text[i];
			else
				toolong = true;
		}
		i++; /* the newline */
		buf[n] = '\0';
		if (nul)
			conf_error(p, "NUL byte");
		else if (toolong)
			conf_error(p, "line longer than %u bytes", CONF_LINE_MAX);
		else if ((r = conf_line(p, buf, &bad_header)) < 0)
			return r;
	}
	r = conf_end_section(p);
	if (r < 0)
		return r;
	conf_check_slots(p);
	return 0;
}

int conf_parse(const char *name, const char *dir, const char *text, size_t len,
	       struct conf **out, char **errors)
{
	struct conf_parser p = { .name = name ? name : "flashd.conf", .dir = dir };
	int r;

	if (!text && len)
		return -EINVAL;
	if (len > CONF_FILE_MAX) {
		conf_errs_add(&p.errs, "%s: larger than %u bytes", p.name, CONF_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	p.c = conf_new_default();
	if (!p.c)
		return -ENOMEM;
	r = conf_lines(&p, text, len);
	if (r == 0)
		r = conf_default_dirs(&p);
	if (r == 0 && (p.errs.count || p.errs.nomem))
		r = p.errs.nomem ? -ENOMEM : -EINVAL;
	if (r == 0) {
		*out = p.c;
		p.c = NULL;
	}
out:
	if (p.errs.count > CONF_ERRORS_MAX) {
		unsigned more = p.errs.count - CONF_ERRORS_MAX;
		p.errs.count = 0; /* let the summary through */
		conf_errs_add(&p.errs, "%s: %u more errors not shown", p.name, more);
	}
	conf_free(p.c);
	if (r < 0 && errors && p.errs.buf) {
		*errors = p.errs.buf;
		p.errs.buf = NULL;
	}
	free(p.errs.buf);
	return r;
}

static int conf_read(const char *path, char **text, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > CONF_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*text = buf;
	*len = got;
	return 0;
}

int conf_load(const char *path, struct conf **out, char **errors)
{
	char *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	int r = conf_read(path, &text, &len);

	if (r < 0) {
		if (errors) {
			const char *why = r == -EINVAL ? "not a regular file" :
					  r == -EFBIG ? "file too large" : strerror(-r);
			if (asprintf(errors, "%s: %s\n", path, why) < 0)
				*errors = NULL;
		}
		return r;
	}
	dir = strdup(path);
	if (!dir) {
		free(text);
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	r = conf_parse(path, dir, text, len, out, errors);
	free(dir);
	free(text);
	return r;
}
