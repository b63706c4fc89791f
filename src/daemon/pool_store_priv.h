/* pool_store's backends (pool_store_sqlite.c, pool_store_pg.c) behind the
 * dispatch of pool_store.c. The common part checks the arguments and works
 * out what the database keeps of a definition (struct pool_store_def) once,
 * so each backend only speaks its SQL. */
#ifndef FLASHD_DAEMON_POOL_STORE_PRIV_H
#define FLASHD_DAEMON_POOL_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool_store.h"

#define POOL_STORE_UID_MAX 64u    /* hex digits in a SoC UID (the i.MX6 one has 16) */
#define POOL_STORE_FP_MAX 512u    /* bytes of a fingerprint text */

/* What the database keeps of a pool_def. */
struct pool_store_def {
	const struct pool_def *d;
	const char *name;
	const char *kind;                   /* pool_kind_to_string() */
	char fingerprint[POOL_STORE_FP_MAX];
	int64_t blocks;                     /* pool_blocks(), at most INT64_MAX */
};

struct pool_store_ops {
	void (*close)(struct pool_store *s);
	int (*define)(struct pool_store *s, const struct pool_store_def *p, char *why,
		      size_t whylen);
	/* uid: lowercase hex; station: NULL or text */
	int (*allocate)(struct pool_store *s, const struct pool_store_def *p, const char *uid,
			const char *station, uint64_t *block, bool *fresh, char *why,
			size_t whylen);
	int (*release)(struct pool_store *s, const struct pool_store_def *p, const char *uid,
		       char *why, size_t whylen);
	int (*usage)(struct pool_store *s, const struct pool_store_def *p, struct pool_usage *u,
		     char *why, size_t whylen);
};

/* The head of each backend's store. */
struct pool_store {
	const struct pool_store_ops *ops;
};

/* why = the formatted sentence; returns err (a -errno) for `return pool_store_say(…)`. */
int pool_store_say(int err, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* -ESTALE with why: pool p's fingerprint is fp in the database (where: "PostgreSQL",
 * the SQLite file). */
int pool_store_stale(const struct pool_store_def *p, const char *where, const char *fp, char *why,
		     size_t whylen);
/* The pool row the database has (fingerprint fp of blocks blocks) against p:
 * 0 the same; 1 p is the same pool grown (a larger end, values appended to a
 * list): the caller sets the row's blocks and fingerprint to p's; -ESTALE
 * with why otherwise (changed, or shrunk). */
int pool_store_compare(const struct pool_store_def *p, const char *where, const char *fp,
		       int64_t blocks, char *why, size_t whylen);

/* The value of block b's first index (${pool:NAME}) into out, kept with its
 * binding so that a board is found by its serial number: 0 or -errno. */
int pool_store_block_value(const struct pool_store_def *p, uint64_t b, char *out, size_t outlen);

#endif
