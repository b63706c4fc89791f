/* conf_pool: [pool NAME] sections — each key checked on its own line, the
 * kind's needs checked at the section's end (conf_pool.h). */
#include "conf_pool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

static const char *const conf_pool_key_names[CONF_POOL_NKEYS] = {
    [CONF_POOL_KIND] = "kind",	 [CONF_POOL_FORMAT] = "format",
    [CONF_POOL_START] = "start", [CONF_POOL_END] = "end",
    [CONF_POOL_RANGE] = "range", [CONF_POOL_FILE] = "file",
    [CONF_POOL_COUNT] = "count", [CONF_POOL_BACKEND] = "backend",
    [CONF_POOL_LOW] = "low",	 [CONF_POOL_RETURN_UNUSED] = "return-unused",
};

/* which kind each kind-specific key belongs to; -1: every kind */
static const int conf_pool_key_kind[CONF_POOL_NKEYS] = {
    [CONF_POOL_KIND] = -1,
    [CONF_POOL_FORMAT] = POOL_KIND_SERIAL,
    [CONF_POOL_START] = POOL_KIND_SERIAL,
    [CONF_POOL_END] = POOL_KIND_SERIAL,
    [CONF_POOL_RANGE] = POOL_KIND_MAC,
    [CONF_POOL_FILE] = POOL_KIND_LIST,
    [CONF_POOL_COUNT] = -1,
    [CONF_POOL_BACKEND] = -1,
    [CONF_POOL_LOW] = -1,
    [CONF_POOL_RETURN_UNUSED] = -1,
};

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int conf_pool_begin(struct conf *c, const char *name, unsigned line, char *why, size_t whylen)
{
	const struct pool_def *old;
	struct pool_def *np;

	if (!pool_name_valid(name))
		return fail(why, whylen,
			    "bad pool name '%s' (a letter, then letters, digits, '_' or '-'; "
			    "at most %u bytes)",
			    name, POOL_NAME_MAX);
	old = pool_find(c->pools, c->npools, name);
	if (old)
		return fail(why, whylen, "[pool %s] declared twice (first on line %u)", name,
			    old->line);
	if (c->npools >= POOL_MAX)
		return fail(why, whylen, "more than %u [pool] sections", POOL_MAX);
	np = realloc(c->pools, (c->npools + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	c->pools = np;
	np += c->npools;
	*np = (struct pool_def){
	    .kind = POOL_KIND_SERIAL, .backend = POOL_BACKEND_SQLITE, .count = 1, .line = line};
	np->name = strdup(name);
	if (!np->name)
		return -ENOMEM;
	c->npools++;
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" at *sp (hex digits of either case); *sp moved past it */
static int parse_mac(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	for (int i = 0; i < 6; i++) {
		for (int k = 0; k < 2; k++, s++) {
			int d = (*s >= '0' && *s <= '9')   ? *s - '0'
				: (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
				: (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
							   : -1;

			if (d < 0)
				return -EINVAL;
			v = v << 4 | (uint64_t)d;
		}
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	*sp = s;
	*out = v;
	return 0;
}

int conf_pool_parse_mac_range(const char *s, uint64_t *start, uint64_t *end)
{
	uint64_t a, b;

	s += strspn(s, " \t");
	if (parse_mac(&s, &a) < 0)
		return -EINVAL;
	s += strspn(s, " \t");
	if (*s++ != '-')
		return -EINVAL;
	s += strspn(s, " \t");
	if (parse_mac(&s, &b) < 0 || *s)
		return -EINVAL;
	*start = a;
	*end = b;
	return 0;
}

static int set_string(char **field, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	free(*field);
	*field = v;
	return 0;
}

int conf_pool_key(struct conf_pool_section *s, struct pool_def *d, const char *dir, const char *key,
		  const char *value, unsigned line, char *why, size_t whylen)
{
	char fwhy[256];
	uint64_t v;
	bool b;
	int k;

	for (k = 0; k < CONF_POOL_NKEYS; k++)
		if (!strcmp(conf_pool_key_names[k], key))
			break;
	if (k == CONF_POOL_NKEYS)
		return fail(why, whylen,
			    "unknown key '%s' in [pool %s] (kind, format, start, end, range, file, "
			    "count, backend, low, return-unused)",
			    key, d->name);
	if (s->line[k])
		return fail(why, whylen, "%s: set twice in this section", key);
	s->line[k] = line;
	switch ((enum conf_pool_key)k) {
	case CONF_POOL_KIND:
		if (!strcmp(value, "serial"))
			d->kind = POOL_KIND_SERIAL;
		else if (!strcmp(value, "mac"))
			d->kind = POOL_KIND_MAC;
		else if (!strcmp(value, "list"))
			d->kind = POOL_KIND_LIST;
		else
			return fail(why, whylen, "kind: '%s' is not serial, mac or list", value);
		return 0;
	case CONF_POOL_FORMAT:
		if (pool_format_check(value, fwhy, sizeof(fwhy)) < 0)
			return fail(why, whylen, "format: %s", fwhy);
		return set_string(&d->format, value);
	case CONF_POOL_START:
	case CONF_POOL_END:
		if (conf_parse_uint(value, &v) < 0)
			return fail(why, whylen,
				    "%s: bad number '%s' (decimal, at most %" PRIu64 ")", key,
				    value, UINT64_MAX);
		*(k == CONF_POOL_START ? &d->start : &d->end) = v;
		return 0;
	case CONF_POOL_RANGE:
		if (conf_pool_parse_mac_range(value, &d->start, &d->end) < 0)
			return fail(why, whylen,
				    "range: bad MAC address range '%s' "
				    "(e.g. 00:11:22:00:00:00-00:11:22:00:ff:ff)",
				    value);
		if (d->start > d->end)
			return fail(why, whylen, "range: start is above the end in '%s'", value);
		return 0;
	case CONF_POOL_FILE:
		if (!*value)
			return fail(why, whylen, "file: empty");
		if (value[0] == '/' || !dir)
			return set_string(&d->file, value);
		free(d->file);
		if (asprintf(&d->file, "%s/%s", dir, value) < 0) {
			d->file = NULL;
			return -ENOMEM;
		}
		return 0;
	case CONF_POOL_COUNT:
		if (conf_parse_uint(value, &v) < 0 || v < 1 || v > POOL_COUNT_MAX)
			return fail(why, whylen, "count: '%s' is not 1 … %u", value,
				    POOL_COUNT_MAX);
		d->count = (uint32_t)v;
		return 0;
	case CONF_POOL_BACKEND:
		if (!strcmp(value, "sqlite"))
			d->backend = POOL_BACKEND_SQLITE;
		else if (!strcmp(value, "postgresql"))
			d->backend = POOL_BACKEND_POSTGRESQL;
		else
			return fail(why, whylen, "backend: '%s' is not sqlite or postgresql",
				    value);
		return 0;
	case CONF_POOL_LOW:
		if (conf_parse_uint(value, &v) < 0)
			return fail(why, whylen, "low: bad number '%s'", value);
		d->low = v;
		return 0;
	case CONF_POOL_RETURN_UNUSED:
		if (conf_parse_bool(value, &b) < 0)
			return fail(why, whylen, "return-unused: bad boolean '%s' (yes or no)",
				    value);
		d->return_unused = b;
		return 0;
	case CONF_POOL_NKEYS:
		break;
	}
	return -EINVAL;
}

int conf_pool_end(const struct conf *c, const struct conf_pool_section *s, struct pool_def *d,
		  char *why, size_t whylen)
{
	char pwhy[512];
	int r;

	if (!s->line[CONF_POOL_KIND])
		return fail(why, whylen, "[pool %s]: no kind (serial, mac or list)", d->name);
	for (int k = 0; k < CONF_POOL_NKEYS; k++) {
		int kind = conf_pool_key_kind[k];

		if (kind < 0)
			continue;
		if (kind == (int)d->kind && !s->line[k])
			return fail(why, whylen, "[pool %s]: a %s pool needs %s", d->name,
				    pool_kind_to_string(d->kind), conf_pool_key_names[k]);
		if (kind != (int)d->kind && s->line[k])
			return fail(why, whylen, "[pool %s]: %s (line %u) is for %s pools, not %s",
				    d->name, conf_pool_key_names[k], s->line[k],
				    pool_kind_to_string((enum pool_kind)kind),
				    pool_kind_to_string(d->kind));
	}
	if (d->backend == POOL_BACKEND_POSTGRESQL && !c->pool_postgresql)
		return fail(why, whylen,
			    "[pool %s]: backend postgresql needs pool-postgresql (a libpq "
			    "connection string) before the first section",
			    d->name);
	if (d->kind == POOL_KIND_LIST) {
		r = pool_def_load_list(d, pwhy, sizeof(pwhy));
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return fail(why, whylen, "[pool %s]: %s", d->name, pwhy);
	}
	r = pool_def_check(d, pwhy, sizeof(pwhy));
	if (r < 0)
		return fail(why, whylen, "[pool %s]: %s", d->name, pwhy);
	return 0;
}
