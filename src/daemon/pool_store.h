/* pool_store: who holds which block of a pool (pool.h), kept in a
 * database: SQLite (the station's own file, WAL) or PostgreSQL (shared by
 * every station of a line; schema in conf/postgresql/schema.sql).
 *
 * Blocking calls: the station makes them on its pool thread only, never on
 * the event loop (src/daemon/pools.c). One store is one connection; it is
 * not shared between threads.
 *
 * Rules (flashd.conf(5), "Pools"):
 *  - a block is bound to one SoC UID; pool_store_allocate() for a UID that
 *    holds a block returns that block again (retries, re-plugs, another
 *    station): allocation is idempotent, so a lost reply followed by a
 *    retry never takes a second block;
 *  - a new block is the lowest returned one, else the next never given;
 *  - each allocation and release is one transaction; every binding is
 *    kept (who, which station, when; released ones stay with their time).
 * Errors: -ENOSPC the pool has no block left; -ENOTCONN the database is
 * unreachable (PostgreSQL: retry later; the store reconnects by itself);
 * -ESTALE the pool's definition differs from the one in the database
 * (pool_fingerprint); -EIO other database errors. why gets a sentence.
 * Also -EINVAL: a uid that is not 1 to 64 hex digits (kept lowercase: "0A1B"
 * and "0a1b" are one board), a bad pool name, a malformed conninfo.
 * PostgreSQL needs synchronous_commit on (its default): with it off, a
 * server crash may forget a confirmed allocation and give the block twice. */
#ifndef FLASHD_DAEMON_POOL_STORE_H
#define FLASHD_DAEMON_POOL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/pool.h"

struct pool_store;

/* SQLite: path is a file (created, with its tables, if absent). */
int pool_store_open_sqlite(const char *path, struct pool_store **out, char *why, size_t whylen);
/* PostgreSQL: a libpq connection string. Never fails for an unreachable
 * server: the first call then says -ENOTCONN. The tables must exist
 * (conf/postgresql/schema.sql); a missing table is -EIO with the hint. */
int pool_store_open_pg(const char *conninfo, struct pool_store **out, char *why, size_t whylen);
struct pool_store *pool_store_close(struct pool_store *s); /* NULL-safe, returns NULL */

/* Makes the pool known to the database (its row, with pool_blocks() blocks
 * and its fingerprint), or checks the row that is there: -ESTALE when the
 * fingerprint differs. A pool may grow (more blocks) but never change. */
int pool_store_define(struct pool_store *s, const struct pool_def *d, char *why, size_t whylen);

/* The block bound to uid (hex text) in pool d, binding a new one for it if
 * it holds none. *fresh: the block was bound by this call. */
int pool_store_allocate(struct pool_store *s, const struct pool_def *d, const char *uid,
			const char *station, uint64_t *block, bool *fresh, char *why,
			size_t whylen);

/* uid gives its block back (the board failed before any step used it):
 * the block is given again later. 0 also when uid holds none. */
int pool_store_release(struct pool_store *s, const struct pool_def *d, const char *uid,
		       char *why, size_t whylen);

struct pool_usage {
	uint64_t blocks;   /* in the pool */
	uint64_t bound;    /* held by a UID now */
	uint64_t left;     /* never given + returned */
};
int pool_store_usage(struct pool_store *s, const struct pool_def *d, struct pool_usage *u,
		     char *why, size_t whylen);

#endif
