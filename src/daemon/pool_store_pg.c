/* pool_store on PostgreSQL: one pool shared by every station of a line
 * (pool_store.h; tables flashd_pool and flashd_pool_binding, made by
 * conf/postgresql/schema.sql).
 *
 * Each allocation is one transaction that first locks the pool's row
 * (SELECT … FOR UPDATE): the allocations of a pool follow one another, each
 * seeing what the one before it committed (READ COMMITTED takes a snapshot
 * per statement, after the lock). In it: the uid's live binding, else the
 * lowest returned block, else next_block (advanced). The partial unique
 * indexes (one live binding per uid, one per block) are the last guard.
 * A uid that holds a block already (a board asked again) is answered by one
 * statement without the lock first. The server must keep synchronous_commit
 * on (its default): with it off, a crash can forget a COMMIT it confirmed,
 * and a block would be given twice (tests/pool/pool-pg saw it happen).
 *
 * Connection: libpq's blocking calls (the pool thread makes them), with
 * connect_timeout (5 s unless the conninfo says) and statement_timeout
 * (10 s) so that no call hangs. A call that finds the connection broken
 * (the server restarted, the link cut) resets it once (PQreset) and runs
 * its transaction again; still nothing is -ENOTCONN, "PostgreSQL
 * unreachable: …". Running a transaction again is safe even when the
 * first one's COMMIT went through and only its answer was lost: allocation
 * is idempotent by uid, so the second run finds the binding the first made
 * and returns the same block (then with fresh = false); release and define
 * are idempotent too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pool_store_priv.h"

#ifndef PGSQLDIR
#define PGSQLDIR "/usr/share/flashd/postgresql"
#endif

#define PG_CONNECT_TIMEOUT "5"
#define PG_STATEMENT_TIMEOUT_MS 10000
#define PG_LOST (-ECONNRESET) /* internal: the connection broke; reset and run again */
#define PG_NPARAMS_MAX 8

struct pg_store {
	struct pool_store base;
	PGconn *db;
	const char **keys, **values; /* PQconnectdbParams's, NULL-terminated */
	char **owned;                /* strings of keys/values this store made */
	size_t nowned;
};

static struct pg_store *pg_of(struct pool_store *s)
{
	return (struct pg_store *)s;
}

/* The first line of libpq's message, or "no answer". */
static void first_line(const char *msg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", msg && *msg ? msg : "no answer");
	out[strcspn(out, "\n")] = 0;
}

static int pg_unreachable(struct pg_store *q, char *why, size_t whylen)
{
	char text[400];

	first_line(q->db ? PQerrorMessage(q->db) : NULL, text, sizeof(text));
	return pool_store_say(-ENOTCONN, why, whylen, "PostgreSQL unreachable: %s", text);
}

/* A connection that works, made or reset: 0 or -ENOTCONN. */
static int pg_ready(struct pg_store *q, char *why, size_t whylen)
{
	if (!q->db) {
		q->db = PQconnectdbParams(q->keys, q->values, 0);
		if (!q->db)
			return pool_store_say(-ENOMEM, why, whylen, "PostgreSQL: out of memory");
	} else if (PQstatus(q->db) != CONNECTION_OK) {
		PQreset(q->db);
	}
	return PQstatus(q->db) == CONNECTION_OK ? 0 : pg_unreachable(q, why, whylen);
}

/* A failed statement (res is cleared): PG_LOST for a broken connection, -ENOTCONN
 * for a server that cannot answer now (timeout, shutting down), -EIO else. */
static int pg_fail(struct pg_store *q, PGresult *res, const char *what, char *why, size_t whylen)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char text[400], code[6] = "";

	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	/* the server's sentence without "ERROR:  ", else libpq's own */
	first_line(primary ? primary : res ? PQresultErrorMessage(res) : PQerrorMessage(q->db),
		   text, sizeof(text));
	if (st)
		snprintf(code, sizeof(code), "%s", st);
	PQclear(res);
	if (PQstatus(q->db) != CONNECTION_OK || !*code || !strncmp(code, "08", 2) ||
	    !strcmp(code, "57P01") || !strcmp(code, "57P02")) {
		pool_store_say(-ENOTCONN, why, whylen, "PostgreSQL unreachable: %s", text);
		return PG_LOST;
	}
	if (!strcmp(code, "57014") || !strcmp(code, "57P03") || !strncmp(code, "53", 2))
		return pool_store_say(-ENOTCONN, why, whylen,
				      "PostgreSQL cannot answer now (%s): %s: %s", code, what,
				      text);
	if (!strcmp(code, "42P01"))
		return pool_store_say(-EIO, why, whylen,
				      "PostgreSQL: the database has no pool tables (flashd_pool, "
				      "flashd_pool_binding): apply %s/schema.sql once (psql -f; it "
				      "may be run again)",
				      PGSQLDIR);
	return pool_store_say(-EIO, why, whylen, "PostgreSQL: %s: %s", what, text);
}

static PGresult *pg_exec(struct pg_store *q, const char *sql, int n, const char *const *params)
{
	return PQexecParams(q->db, sql, n, NULL, params, NULL, NULL, 0);
}

/* A statement without rows: 0 or pg_fail. */
static int pg_cmd(struct pg_store *q, const char *sql, const char *what, char *why, size_t whylen,
		  int n, const char *const *params)
{
	PGresult *res = pg_exec(q, sql, n, params);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(q, res, what, why, whylen);
	PQclear(res);
	return 0;
}

/* A statement of at most one row of integers (NULL as -1): 1, 0 (no row) or pg_fail. */
static int pg_row(struct pg_store *q, const char *sql, const char *what, char *why, size_t whylen,
		  int n, const char *const *params, int ncol, int64_t *cols)
{
	PGresult *res = pg_exec(q, sql, n, params);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(q, res, what, why, whylen);
	int r = PQntuples(res) > 0;
	for (int i = 0; r && i < ncol; i++)
		cols[i] = PQgetisnull(res, 0, i) ? -1 : strtoll(PQgetvalue(res, 0, i), NULL, 10);
	PQclear(res);
	return r;
}

/* Ends a transaction that failed (the connection still there). */
static void pg_rollback(struct pg_store *q)
{
	if (PQstatus(q->db) == CONNECTION_OK && PQtransactionStatus(q->db) != PQTRANS_IDLE)
		PQclear(PQexec(q->db, "ROLLBACK"));
}

/* In a transaction: the pool's row locked (made if absent when create),
 * checked against p (-ESTALE) and grown to p->blocks; blocks and next_block
 * into cols. 0, 1 when absent (not create), or an error. */
static int pg_pool(struct pg_store *q, const struct pool_store_def *p, bool create, int64_t cols[2],
		   char *why, size_t whylen)
{
	static const char sel[] =
	    "SELECT fingerprint, blocks, next_block FROM flashd_pool WHERE name = $1 FOR UPDATE";
	const char *pn[] = { p->name };
	char blocks[24];
	PGresult *res;

	snprintf(blocks, sizeof(blocks), "%lld", (long long)p->blocks);
	for (int pass = 0;; pass++) {
		res = pg_exec(q, sel, 1, pn);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return pg_fail(q, res, "locking the pool", why, whylen);
		if (PQntuples(res) == 1)
			break;
		PQclear(res);
		if (!create)
			return 1;
		if (pass == 1)
			return pool_store_say(
			    -EIO, why, whylen,
			    "PostgreSQL: pool %s: its row is not there after adding it", p->name);
		/* a concurrent insert of the same row waits for the other's commit
		 * and does nothing; the second SELECT then sees and locks it */
		const char *ins[] = { p->name, p->kind, p->fingerprint, blocks };
		int r = pg_cmd(q,
			       "INSERT INTO flashd_pool (name, kind, fingerprint, blocks)"
			       " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
			       "adding the pool", why, whylen, 4, ins);
		if (r < 0)
			return r;
	}
	cols[0] = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	cols[1] = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	int r = pool_store_compare(p, "PostgreSQL", PQgetvalue(res, 0, 0), cols[0], why, whylen);
	PQclear(res);
	if (r == 1) {
		const char *up[] = { p->name, blocks, p->fingerprint };
		r = pg_cmd(q, "UPDATE flashd_pool SET blocks = $2, fingerprint = $3 WHERE name = $1",
			   "growing the pool", why, whylen, 3, up);
		cols[0] = p->blocks;
	}
	return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- calls */

struct pg_call_args {
	const struct pool_store_def *p;
	const char *uid, *station;
	uint64_t *block;
	bool *fresh;
	struct pool_usage *u;
};

typedef int (*pg_body_fn)(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen);

/* body between BEGIN and COMMIT (one statement: alone); on a broken
 * connection, once more after PQreset. */
static int pg_txn_once(struct pg_store *q, pg_body_fn body, struct pg_call_args *a, bool txn,
		       char *why, size_t whylen)
{
	if (!txn)
		return body(q, a, why, whylen);
	int r = pg_cmd(q, "BEGIN", "starting a transaction", why, whylen, 0, NULL);

	if (r == 0)
		r = body(q, a, why, whylen);
	if (r == 0)
		r = pg_cmd(q, "COMMIT", "committing", why, whylen, 0, NULL);
	if (r < 0 && r != PG_LOST)
		pg_rollback(q);
	return r;
}

static int pg_txn(struct pg_store *q, pg_body_fn body, struct pg_call_args *a, bool txn,
		  char *why, size_t whylen)
{
	int r = pg_ready(q, why, whylen);

	if (r < 0)
		return r;
	r = pg_txn_once(q, body, a, txn, why, whylen);
	if (r != PG_LOST)
		return r;
	PQreset(q->db);
	if (PQstatus(q->db) != CONNECTION_OK)
		return pg_unreachable(q, why, whylen);
	r = pg_txn_once(q, body, a, txn, why, whylen);
	return r == PG_LOST ? -ENOTCONN : r; /* why: "PostgreSQL unreachable: …" */
}

static int pg_define_body(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen)
{
	int64_t cols[2];

	return pg_pool(q, a->p, true, cols, why, whylen);
}

static int pg_define(struct pool_store *s, const struct pool_store_def *p, char *why,
		     size_t whylen)
{
	struct pg_call_args a = { .p = p };

	return pg_txn(pg_of(s), pg_define_body, &a, true, why, whylen);
}

static int pg_allocate_body(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen)
{
	const struct pool_store_def *p = a->p;
	int64_t pool[2], b;
	bool never_given = false;
	int r = pg_pool(q, p, true, pool, why, whylen);

	*a->fresh = false;
	if (r < 0)
		return r;
	/* the uid's block, if it holds one, else the lowest returned block (its
	 * released row not given again); one statement: its snapshot is taken
	 * after the lock */
	const char *pu[] = { p->name, a->uid };
	int64_t got[2];
	r = pg_row(q,
		   "SELECT (SELECT block FROM flashd_pool_binding WHERE pool = $1 AND uid = $2"
		   " AND released IS NULL), (SELECT min(block) FROM flashd_pool_binding"
		   " WHERE pool = $1 AND released IS NOT NULL AND NOT given_again)",
		   "reading the bindings", why, whylen, 2, pu, 2, got);
	if (r < 0)
		return r;
	if (got[0] >= 0) {
		*a->block = (uint64_t)got[0];
		return 0;
	}
	b = got[1];
	if (b < 0) {
		/* else the next one never given */
		if (pool[1] >= pool[0])
			return pool_store_say(-ENOSPC, why, whylen,
					      "pool %s: no block left (all %lld are bound)",
					      p->name, (long long)pool[0]);
		b = pool[1];
		never_given = true;
	}
	char value[POOL_VALUE_MAX + 1], bs[24];
	r = pool_store_block_value(p, (uint64_t)b, value, sizeof(value));
	if (r < 0)
		return pool_store_say(-EIO, why, whylen, "pool %s: block %lld has no value: %s",
				      p->name, (long long)b, strerror(-r));
	snprintf(bs, sizeof(bs), "%lld", (long long)b);
	const char *ins[] = { p->name, bs, value, a->uid, a->station };
	/* in the same statement: next_block advanced (a block never given), or
	 * the returned row marked given again */
	r = pg_cmd(q,
		   never_given ?
			   "WITH advanced AS (UPDATE flashd_pool SET next_block = next_block + 1"
			   " WHERE name = $1) INSERT INTO flashd_pool_binding"
			   " (pool, block, value, uid, station) VALUES ($1, $2, $3, $4, $5)" :
			   "WITH again AS (UPDATE flashd_pool_binding SET given_again = true"
			   " WHERE pool = $1 AND block = $2 AND released IS NOT NULL"
			   " AND NOT given_again) INSERT INTO flashd_pool_binding"
			   " (pool, block, value, uid, station) VALUES ($1, $2, $3, $4, $5)",
		   "binding the block", why, whylen, 5, ins);
	if (r < 0)
		return r;
	*a->block = (uint64_t)b;
	*a->fresh = true;
	return 0;
}

/* The uid's live binding, read without the lock (a board asking again:
 * retries, re-plugs, another station): 0 with *block, 1 when it holds none,
 * or another fingerprint (the locked path then compares). One statement, no lock: a
 * committed live binding is the answer the locked transaction would give. */
static int pg_bound_body(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen)
{
	const char *pu[] = { a->p->name, a->uid };
	PGresult *res = pg_exec(q,
				"SELECT b.block, p.fingerprint FROM flashd_pool_binding b"
				" JOIN flashd_pool p ON p.name = b.pool"
				" WHERE b.pool = $1 AND b.uid = $2 AND b.released IS NULL",
				2, pu);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(q, res, "reading the uid's binding", why, whylen);
	int r = 1;
	if (PQntuples(res) == 1) {
		/* another fingerprint: the locked path compares (a grown pool, or a
		 * changed one) */
		if (strcmp(PQgetvalue(res, 0, 1), a->p->fingerprint) == 0) {
			*a->block = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
			r = 0;
		}
	}
	PQclear(res);
	return r;
}

static int pg_allocate(struct pool_store *s, const struct pool_store_def *p, const char *uid,
		       const char *station, uint64_t *block, bool *fresh, char *why,
		       size_t whylen)
{
	struct pg_call_args a = {
		.p = p, .uid = uid, .station = station, .block = block, .fresh = fresh
	};
	int r = pg_txn(pg_of(s), pg_bound_body, &a, false, why, whylen);

	if (r == 1)
		r = pg_txn(pg_of(s), pg_allocate_body, &a, true, why, whylen);
	if (r < 0)
		*fresh = false;
	return r;
}

static int pg_release_body(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen)
{
	int64_t cols[2];
	int r = pg_pool(q, a->p, false, cols, why, whylen);

	if (r != 0)
		return r < 0 ? r : 0; /* a pool never used: nothing to give back */
	const char *pu[] = { a->p->name, a->uid };
	return pg_cmd(q,
		      "UPDATE flashd_pool_binding SET released = now()"
		      " WHERE pool = $1 AND uid = $2 AND released IS NULL",
		      "releasing the block", why, whylen, 2, pu);
}

static int pg_release(struct pool_store *s, const struct pool_store_def *p, const char *uid,
		      char *why, size_t whylen)
{
	struct pg_call_args a = { .p = p, .uid = uid };

	return pg_txn(pg_of(s), pg_release_body, &a, true, why, whylen);
}

/* One statement, one snapshot. A pool not in the database yet has all its
 * blocks left. */
static int pg_usage_body(struct pg_store *q, struct pg_call_args *a, char *why, size_t whylen)
{
	const char *pn[] = { a->p->name };
	int64_t cols[2];
	int r = pg_row(q,
		       "SELECT blocks, (SELECT count(*) FROM flashd_pool_binding WHERE pool = $1"
		       " AND released IS NULL) FROM flashd_pool WHERE name = $1",
		       "reading the pool's use", why, whylen, 1, pn, 2, cols);

	if (r < 0)
		return r;
	if (r == 0)
		cols[0] = a->p->blocks, cols[1] = 0;
	a->u->blocks = (uint64_t)cols[0];
	a->u->bound = (uint64_t)cols[1];
	a->u->left = a->u->blocks > a->u->bound ? a->u->blocks - a->u->bound : 0;
	return 0;
}

static int pg_usage(struct pool_store *s, const struct pool_store_def *p, struct pool_usage *u,
		    char *why, size_t whylen)
{
	struct pg_call_args a = { .p = p, .u = u };

	return pg_txn(pg_of(s), pg_usage_body, &a, false, why, whylen);
}

static void pg_close(struct pool_store *s)
{
	struct pg_store *q = pg_of(s);

	if (q->db)
		PQfinish(q->db);
	for (size_t i = 0; i < q->nowned; i++)
		free(q->owned[i]);
	free(q->owned);
	free(q->keys);
	free(q->values);
	free(q);
}

static const struct pool_store_ops pg_ops = {
	.close = pg_close,
	.define = pg_define,
	.allocate = pg_allocate,
	.release = pg_release,
	.usage = pg_usage,
};

static char *pg_own(struct pg_store *q, char *s)
{
	if (s)
		q->owned[q->nowned++] = s;
	return s;
}

int pool_store_open_pg(const char *conninfo, struct pool_store **out, char *why, size_t whylen)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	struct pg_store *q = NULL;
	size_t n = 0, k = 0;
	int r = -ENOMEM;

	*out = NULL;
	if (!opts) {
		char text[400];
		first_line(err ? err : "out of memory", text, sizeof(text));
		PQfreemem(err);
		return pool_store_say(err ? -EINVAL : -ENOMEM, why, whylen,
				      "PostgreSQL: not a connection string: %s", text);
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	/* every option with a value; connect_timeout, options (statement_timeout
	 * added) and application_name set when the string does not */
	q = calloc(1, sizeof(*q));
	if (!q || !(q->keys = calloc(n + 4, sizeof(*q->keys))) ||
	    !(q->values = calloc(n + 4, sizeof(*q->values))) ||
	    !(q->owned = calloc(2 * n + 8, sizeof(*q->owned))))
		goto fail;
	q->base.ops = &pg_ops;
	bool timeout = false, appname = false, options = false;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		char *v;
		if (!strcmp(o->keyword, "options")) {
			options = true;
			if (asprintf(&v, "%s -c statement_timeout=%d", o->val,
				     PG_STATEMENT_TIMEOUT_MS) < 0)
				goto fail;
		} else {
			v = strdup(o->val);
		}
		timeout |= !strcmp(o->keyword, "connect_timeout");
		appname |= !strcmp(o->keyword, "application_name");
		q->keys[k] = pg_own(q, strdup(o->keyword));
		q->values[k] = pg_own(q, v);
		if (!q->keys[k++] || !v)
			goto fail;
	}
	if (!timeout) {
		q->keys[k] = "connect_timeout";
		q->values[k++] = PG_CONNECT_TIMEOUT;
	}
	if (!appname) {
		q->keys[k] = "application_name";
		q->values[k++] = "flashd";
	}
	if (!options) {
		char *v;
		if (asprintf(&v, "-c statement_timeout=%d", PG_STATEMENT_TIMEOUT_MS) < 0)
			goto fail;
		q->keys[k] = "options";
		q->values[k++] = pg_own(q, v);
	}
	PQconninfoFree(opts);
	*out = &q->base;
	return 0;
fail:
	PQconninfoFree(opts);
	if (q)
		pg_close(&q->base);
	return pool_store_say(r, why, whylen, "PostgreSQL: out of memory");
}
