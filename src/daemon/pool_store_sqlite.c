/* pool_store on SQLite: the station's own file (pool_store.h). WAL, so that
 * flashctl and a backup read while the station writes; synchronous=FULL, so
 * that a binding committed is on the disk before the board gets its values
 * (a power cut never gives a block twice); every allocation and release is
 * one BEGIN IMMEDIATE transaction (the write lock first: two processes on
 * one file wait for each other, busy_timeout, instead of failing at COMMIT).
 * The file makes its tables itself (PRAGMA user_version 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pool_store_priv.h"

#define SQ_BUSY_MS 10000

struct sq_store {
	struct pool_store base;
	sqlite3 *db;
	char *path;
};

static const char sq_schema[] =
	"CREATE TABLE IF NOT EXISTS pool ("
	" name TEXT PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" fingerprint TEXT NOT NULL,"
	" blocks INTEGER NOT NULL CHECK (blocks >= 0),"
	" next_block INTEGER NOT NULL DEFAULT 0 CHECK (next_block >= 0 AND next_block <= blocks),"
	" created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
	"CREATE TABLE IF NOT EXISTS pool_binding ("
	" id INTEGER PRIMARY KEY,"
	" pool TEXT NOT NULL REFERENCES pool (name),"
	" block INTEGER NOT NULL CHECK (block >= 0),"
	" value TEXT NOT NULL,"
	" uid TEXT NOT NULL,"
	" station TEXT,"
	" allocated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
	" released TEXT,"
	" given_again INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX IF NOT EXISTS pool_binding_live_uid ON pool_binding (pool, uid)"
	" WHERE released IS NULL;"
	"CREATE UNIQUE INDEX IF NOT EXISTS pool_binding_live_block ON pool_binding (block, pool)"
	" WHERE released IS NULL;"
	"CREATE UNIQUE INDEX IF NOT EXISTS pool_binding_returned ON pool_binding (pool, block)"
	" WHERE released IS NOT NULL AND NOT given_again;"
	"CREATE INDEX IF NOT EXISTS pool_binding_value ON pool_binding (value);"
	"PRAGMA user_version = 1;";

static struct sq_store *sq_of(struct pool_store *s)
{
	return (struct sq_store *)s;
}

static int sq_fail(struct sq_store *q, const char *what, char *why, size_t whylen)
{
	int code = sqlite3_errcode(q->db);

	return pool_store_say(-EIO, why, whylen, "SQLite %s: %s: %s%s", q->path, what,
			      sqlite3_errmsg(q->db),
			      code == SQLITE_BUSY ?
				      " (another process held the file over 10 s)" :
				      "");
}

static void sq_rollback(struct sq_store *q)
{
	if (!sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_exec(struct sq_store *q, const char *sql, const char *what, char *why, size_t whylen)
{
	if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(q, what, why, whylen);
	return 0;
}

/* A prepared statement with text parameters (NULL: SQL NULL): 0 or sq_fail. */
static int sq_prep(struct sq_store *q, sqlite3_stmt **st, const char *sql, const char *what,
		   char *why, size_t whylen, int n, const char *const *params)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK)
		return sq_fail(q, what, why, whylen);
	for (int i = 0; i < n; i++) {
		int r = params[i] ? sqlite3_bind_text(*st, i + 1, params[i], -1, SQLITE_TRANSIENT) :
				    sqlite3_bind_null(*st, i + 1);
		if (r != SQLITE_OK) {
			sqlite3_finalize(*st);
			*st = NULL;
			return sq_fail(q, what, why, whylen);
		}
	}
	return 0;
}

/* A statement without rows. */
static int sq_run(struct sq_store *q, const char *sql, const char *what, char *why, size_t whylen,
		  int n, const char *const *params)
{
	sqlite3_stmt *st;
	int r = sq_prep(q, &st, sql, what, why, whylen, n, params);

	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_DONE)
		r = sq_fail(q, what, why, whylen);
	sqlite3_finalize(st);
	return r;
}

/* A statement giving at most one row of integers (columns 0 … ncol-1):
 * 1 (a row, NULL columns as -1), 0 (none) or sq_fail. */
static int sq_row(struct sq_store *q, const char *sql, const char *what, char *why, size_t whylen,
		  int n, const char *const *params, int ncol, int64_t *cols)
{
	sqlite3_stmt *st;
	int r = sq_prep(q, &st, sql, what, why, whylen, n, params);

	if (r < 0)
		return r;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++)
			cols[i] = sqlite3_column_type(st, i) == SQLITE_NULL ?
					  -1 :
					  sqlite3_column_int64(st, i);
		r = 1;
	} else if (s != SQLITE_DONE) {
		r = sq_fail(q, what, why, whylen);
	}
	sqlite3_finalize(st);
	return r;
}

/* In a transaction: the pool's row, made if absent, checked against p
 * (-ESTALE), grown to p->blocks; blocks and next_block into cols. */
static int sq_pool(struct sq_store *q, const struct pool_store_def *p, int64_t cols[2],
		   char *why, size_t whylen)
{
	char blocks[24];
	snprintf(blocks, sizeof(blocks), "%lld", (long long)p->blocks);
	const char *ins[] = { p->name, p->kind, p->fingerprint, blocks };
	int r = sq_run(q,
		       "INSERT INTO pool (name, kind, fingerprint, blocks) VALUES (?1, ?2, ?3, ?4)"
		       " ON CONFLICT (name) DO NOTHING",
		       "adding the pool", why, whylen, 4, ins);
	if (r < 0)
		return r;

	sqlite3_stmt *st;
	const char *sel[] = { p->name };
	r = sq_prep(q, &st, "SELECT fingerprint, blocks, next_block FROM pool WHERE name = ?1",
		    "reading the pool", why, whylen, 1, sel);
	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return sq_fail(q, "reading the pool", why, whylen);
	}
	const char *fp = (const char *)sqlite3_column_text(st, 0);
	cols[0] = sqlite3_column_int64(st, 1);
	cols[1] = sqlite3_column_int64(st, 2);
	r = pool_store_compare(p, q->path, fp ? fp : "", cols[0], why, whylen);
	sqlite3_finalize(st);
	if (r == 1) {
		const char *up[] = { p->name, blocks, p->fingerprint };
		r = sq_run(q, "UPDATE pool SET blocks = ?2, fingerprint = ?3 WHERE name = ?1",
			   "growing the pool", why, whylen, 3, up);
		cols[0] = p->blocks;
	}
	return r;
}

static int sq_begin(struct sq_store *q, char *why, size_t whylen)
{
	return sq_exec(q, "BEGIN IMMEDIATE", "starting a transaction", why, whylen);
}

static int sq_commit(struct sq_store *q, char *why, size_t whylen)
{
	return sq_exec(q, "COMMIT", "committing", why, whylen);
}

static int sq_define(struct pool_store *s, const struct pool_store_def *p, char *why,
		     size_t whylen)
{
	struct sq_store *q = sq_of(s);
	int64_t cols[2];
	int r = sq_begin(q, why, whylen);

	if (r == 0)
		r = sq_pool(q, p, cols, why, whylen);
	if (r == 0)
		r = sq_commit(q, why, whylen);
	if (r < 0)
		sq_rollback(q);
	return r;
}

static int sq_allocate_txn(struct sq_store *q, const struct pool_store_def *p, const char *uid,
			   const char *station, uint64_t *block, bool *fresh, char *why,
			   size_t whylen)
{
	int64_t pool[2], b;
	int r = sq_pool(q, p, pool, why, whylen);

	if (r < 0)
		return r;
	/* the uid's block, if it holds one */
	const char *pu[] = { p->name, uid };
	r = sq_row(
	    q, "SELECT block FROM pool_binding WHERE pool = ?1 AND uid = ?2 AND released IS NULL",
	    "reading the uid's binding", why, whylen, 2, pu, 1, &b);
	if (r < 0)
		return r;
	if (r == 1) {
		*block = (uint64_t)b;
		return 0;
	}
	/* else the lowest returned block (its released row not given again) */
	const char *pn[] = { p->name };
	r = sq_row(q,
		   "SELECT min(block) FROM pool_binding WHERE pool = ?1 AND released IS NOT NULL"
		   " AND NOT given_again",
		   "looking for a returned block", why, whylen, 1, pn, 1, &b);
	if (r < 0)
		return r;
	bool never_given = b < 0;
	if (b < 0) {
		/* else the next one never given */
		if (pool[1] >= pool[0])
			return pool_store_say(-ENOSPC, why, whylen,
					      "pool %s: no block left (all %lld are bound)",
					      p->name, (long long)pool[0]);
		b = pool[1];
	}
	char value[POOL_VALUE_MAX + 1], bs[24];
	r = pool_store_block_value(p, (uint64_t)b, value, sizeof(value));
	if (r < 0)
		return pool_store_say(-EIO, why, whylen, "pool %s: block %lld has no value: %s",
				      p->name, (long long)b, strerror(-r));
	snprintf(bs, sizeof(bs), "%lld", (long long)b);
	const char *ins[] = { p->name, bs, value, uid, station };
	r = never_given ? sq_run(q, "UPDATE pool SET next_block = next_block + 1 WHERE name = ?1",
				 "advancing the pool", why, whylen, 1, pn)
			: sq_run(q,
				 "UPDATE pool_binding SET given_again = 1 WHERE pool = ?1"
				 " AND block = ?2 AND released IS NOT NULL AND NOT given_again",
				 "taking the returned block", why, whylen, 2,
				 (const char *[]){p->name, bs});
	if (r < 0)
		return r;
	r = sq_run(q,
		   "INSERT INTO pool_binding (pool, block, value, uid, station)"
		   " VALUES (?1, ?2, ?3, ?4, ?5)",
		   "binding the block", why, whylen, 5, ins);
	if (r < 0)
		return r;
	*block = (uint64_t)b;
	*fresh = true;
	return 0;
}

static int sq_allocate(struct pool_store *s, const struct pool_store_def *p, const char *uid,
		       const char *station, uint64_t *block, bool *fresh, char *why,
		       size_t whylen)
{
	struct sq_store *q = sq_of(s);
	int r = sq_begin(q, why, whylen);

	if (r == 0)
		r = sq_allocate_txn(q, p, uid, station, block, fresh, why, whylen);
	if (r == 0)
		r = sq_commit(q, why, whylen);
	if (r < 0) {
		sq_rollback(q);
		*fresh = false;
	}
	return r;
}

static int sq_release(struct pool_store *s, const struct pool_store_def *p, const char *uid,
		      char *why, size_t whylen)
{
	struct sq_store *q = sq_of(s);
	const char *pu[] = { p->name, uid };
	int r = sq_begin(q, why, whylen);

	if (r == 0)
		r = sq_run(
		    q,
		    "UPDATE pool_binding SET released = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		    " WHERE pool = ?1 AND uid = ?2 AND released IS NULL",
		    "releasing the block", why, whylen, 2, pu);
	if (r == 0)
		r = sq_commit(q, why, whylen);
	if (r < 0)
		sq_rollback(q);
	return r;
}

/* One statement: one snapshot, no transaction needed. A pool not in the file
 * yet has all its blocks left. */
static int sq_usage(struct pool_store *s, const struct pool_store_def *p, struct pool_usage *u,
		    char *why, size_t whylen)
{
	struct sq_store *q = sq_of(s);
	const char *pn[] = { p->name };
	int64_t cols[2];
	int r = sq_row(q,
		       "SELECT blocks, (SELECT count(*) FROM pool_binding WHERE pool = ?1"
		       " AND released IS NULL) FROM pool WHERE name = ?1",
		       "reading the pool's use", why, whylen, 1, pn, 2, cols);

	if (r < 0)
		return r;
	if (r == 0)
		cols[0] = p->blocks, cols[1] = 0;
	u->blocks = (uint64_t)cols[0];
	u->bound = (uint64_t)cols[1];
	u->left = u->blocks > u->bound ? u->blocks - u->bound : 0;
	return 0;
}

static void sq_close(struct pool_store *s)
{
	struct sq_store *q = sq_of(s);

	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

static const struct pool_store_ops sq_ops = {
	.close = sq_close,
	.define = sq_define,
	.allocate = sq_allocate,
	.release = sq_release,
	.usage = sq_usage,
};

int pool_store_open_sqlite(const char *path, struct pool_store **out, char *why, size_t whylen)
{
	struct sq_store *q = calloc(1, sizeof(*q));
	int r = 0;

	*out = NULL;
	if (!q || !(q->path = strdup(path))) {
		free(q);
		return pool_store_say(-ENOMEM, why, whylen, "SQLite %s: out of memory", path);
	}
	q->base.ops = &sq_ops;
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = pool_store_say(-EIO, why, whylen, "SQLite %s: cannot open: %s", path,
				   q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, SQ_BUSY_MS);
	/* WAL stays set in the file; the answer is the mode in force */
	sqlite3_stmt *st;
	const char *mode = NULL;
	if (sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
		r = sq_fail(q, "setting WAL", why, whylen);
		goto fail;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		mode = (const char *)sqlite3_column_text(st, 0);
	if (!mode || strcmp(mode, "wal")) {
		r = mode ? pool_store_say(-EIO, why, whylen,
					  "SQLite %s: journal mode %s, not wal (a file system "
					  "without shared memory?)",
					  path, mode) :
			   sq_fail(q, "setting WAL", why, whylen);
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	r = sq_exec(q, "PRAGMA synchronous = FULL", "setting synchronous", why, whylen);
	if (r == 0)
		r = sq_begin(q, why, whylen);
	if (r == 0)
		r = sq_exec(q, sq_schema, "creating the tables", why, whylen);
	if (r == 0)
		r = sq_commit(q, why, whylen);
	if (r < 0) {
		sq_rollback(q);
		goto fail;
	}
	*out = &q->base;
	return 0;
fail:
	sq_close(&q->base);
	return r;
}
