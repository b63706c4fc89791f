/* pool_store: the calls every backend shares (pool_store.h): the checks of
 * the arguments, what the database keeps of a definition, the dispatch to
 * SQLite (pool_store_sqlite.c) or PostgreSQL (pool_store_pg.c). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pool_store_priv.h"

int pool_store_say(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

int pool_store_stale(const struct pool_store_def *p, const char *where, const char *fp, char *why,
		     size_t whylen)
{
	return pool_store_say(-ESTALE, why, whylen,
			      "pool %s: its definition differs from the one in %s (fingerprint "
			      "\"%s\" there, \"%s\" here): a pool may grow but never change; give "
			      "the changed pool another name",
			      p->name, where, fp, p->fingerprint);
}

int pool_store_compare(const struct pool_store_def *p, const char *where, const char *fp,
		       int64_t blocks, char *why, size_t whylen)
{
	char old[POOL_STORE_FP_MAX];
	uint64_t count = p->d->count ? p->d->count : 1;

	if (blocks == p->blocks)
		return strcmp(fp, p->fingerprint) ? pool_store_stale(p, where, fp, why, whylen) : 0;
	if (blocks < p->blocks) {
		/* grown: the values the database knows must be the same */
		if (pool_fingerprint_n(p->d, (uint64_t)blocks * count, old, sizeof(old)) < 0 ||
		    strcmp(old, fp) != 0)
			return pool_store_stale(p, where, fp, why, whylen);
		return 1;
	}
	/* shrunk (a list's text covers its size: only the others can say changed) */
	if (p->d->kind != POOL_KIND_LIST && strcmp(fp, p->fingerprint) != 0)
		return pool_store_stale(p, where, fp, why, whylen);
	return pool_store_say(-ESTALE, why, whylen,
			      "pool %s has %lld blocks in flashd.conf, %lld in %s: a pool may grow "
			      "but never shrink",
			      p->name, (long long)p->blocks, (long long)blocks, where);
}

int pool_store_block_value(const struct pool_store_def *p, uint64_t b, char *out, size_t outlen)
{
	uint64_t count = p->d->count ? p->d->count : 1;

	return pool_value(p->d, b * count, out, outlen);
}

/* p from d: 0, or -EINVAL with why. */
static int store_def(const struct pool_def *d, struct pool_store_def *p, char *why,
		     size_t whylen)
{
	if (!d || !d->name || !pool_name_valid(d->name))
		return pool_store_say(-EINVAL, why, whylen, "not a pool name: \"%s\"",
				      d && d->name ? d->name : "");
	p->d = d;
	p->name = d->name;
	p->kind = pool_kind_to_string(d->kind);
	int r = pool_fingerprint(d, p->fingerprint, sizeof(p->fingerprint));
	if (r < 0)
		return pool_store_say(-EINVAL, why, whylen, "pool %s: no fingerprint: %s", d->name,
				      strerror(-r));
	uint64_t blocks = pool_blocks(d);
	if (blocks > INT64_MAX)
		return pool_store_say(-EINVAL, why, whylen,
				      "pool %s: %llu blocks, more than a database counts", d->name,
				      (unsigned long long)blocks);
	p->blocks = (int64_t)blocks;
	return 0;
}

/* uid as the database keeps it: lowercase hex, so that "0A1B" and "0a1b" (two
 * stations printing the same SoC UID) are one board. */
static int store_uid(const char *uid, char out[POOL_STORE_UID_MAX + 1], char *why, size_t whylen)
{
	size_t n = uid ? strlen(uid) : 0;

	if (n == 0 || n > POOL_STORE_UID_MAX)
		return pool_store_say(-EINVAL, why, whylen,
				      "not a SoC UID: \"%.80s\" (1 to %u hex digits)",
				      uid ? uid : "", POOL_STORE_UID_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)uid[i]))
			return pool_store_say(-EINVAL, why, whylen,
					      "not a SoC UID: \"%.80s\" (1 to %u hex digits)", uid,
					      POOL_STORE_UID_MAX);
		out[i] = (char)tolower((unsigned char)uid[i]);
	}
	out[n] = 0;
	return 0;
}

struct pool_store *pool_store_close(struct pool_store *s)
{
	if (s)
		s->ops->close(s);
	return NULL;
}

int pool_store_define(struct pool_store *s, const struct pool_def *d, char *why, size_t whylen)
{
	struct pool_store_def p;
	int r = store_def(d, &p, why, whylen);

	return r < 0 ? r : s->ops->define(s, &p, why, whylen);
}

int pool_store_allocate(struct pool_store *s, const struct pool_def *d, const char *uid,
			const char *station, uint64_t *block, bool *fresh, char *why,
			size_t whylen)
{
	struct pool_store_def p;
	char u[POOL_STORE_UID_MAX + 1];
	int r = store_def(d, &p, why, whylen);

	if (r == 0)
		r = store_uid(uid, u, why, whylen);
	if (r < 0)
		return r;
	*fresh = false;
	return s->ops->allocate(s, &p, u, station && *station ? station : NULL, block, fresh, why,
				whylen);
}

int pool_store_release(struct pool_store *s, const struct pool_def *d, const char *uid,
		       char *why, size_t whylen)
{
	struct pool_store_def p;
	char u[POOL_STORE_UID_MAX + 1];
	int r = store_def(d, &p, why, whylen);

	if (r == 0)
		r = store_uid(uid, u, why, whylen);
	return r < 0 ? r : s->ops->release(s, &p, u, why, whylen);
}

int pool_store_usage(struct pool_store *s, const struct pool_def *d, struct pool_usage *u,
		     char *why, size_t whylen)
{
	struct pool_store_def p;
	int r = store_def(d, &p, why, whylen);

	return r < 0 ? r : s->ops->usage(s, &p, u, why, whylen);
}
