/* Unit tests for pool_store on SQLite (a file in a temporary folder): the
 * allocation rules of pool_store.h (idempotent by uid, lowest returned block
 * first, then the next never given, -ENOSPC at the end), the history kept,
 * -ESTALE for a changed definition, the use figures, and four processes
 * allocating at once on one file. The PostgreSQL store is tested against a
 * real server by tests/pool/pool-pg. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/pool_store.h"
#include "flashd/pool.h"
#include "testutil.h"

struct fx {
	char *dir;
	const char *path;
	struct pool_store *s;
	struct pool_def d;
	char why[512];
};

static struct pool_def serial_def(const char *name, const char *fmt, uint64_t end, uint32_t count)
{
	return (struct pool_def){ .name = (char *)name,
				  .kind = POOL_KIND_SERIAL,
				  .format = (char *)fmt,
				  .start = 0,
				  .end = end,
				  .count = count };
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = testutil_mkdtemp("test-pool_store");
	assert_non_null(f->dir);
	f->path = strdup(testutil_path(f->dir, "pools.sqlite"));
	f->d = serial_def("sn", "SN%04u", 9, 1); /* 10 blocks */
	assert_int_equal(pool_store_open_sqlite(f->path, &f->s, f->why, sizeof(f->why)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pool_store_close(f->s);
	free((char *)f->path);
	assert_int_equal(testutil_rmtree(f->dir), 0);
	free(f);
	return 0;
}

/* uid's block, asserting success and fresh == want_fresh */
static uint64_t alloc_ok(struct fx *f, const char *uid, const char *station, bool want_fresh)
{
	uint64_t b = UINT64_MAX;
	bool fresh = !want_fresh;
	int r = pool_store_allocate(f->s, &f->d, uid, station, &b, &fresh, f->why, sizeof(f->why));

	if (r != 0)
		fail_msg("allocate %s: %d %s", uid, r, f->why);
	assert_true(fresh == want_fresh);
	return b;
}

/* One integer the file answers (sqlite3 itself, not the store). */
static long long sql_int(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_allocate(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pool_store_define(f->s, &f->d, f->why, sizeof(f->why)), 0);
	assert_int_equal(alloc_ok(f, "0a1b", "st1", true), 0);
	assert_int_equal(alloc_ok(f, "0a1c", "st1", true), 1);
	assert_int_equal(alloc_ok(f, "0a1d", NULL, true), 2);
	/* the block's first value is kept with its binding; WAL in force */
	assert_int_equal(sql_int(f, "SELECT block FROM pool_binding WHERE value = 'SN0002'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE station = 'st1'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE station IS NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT next_block FROM pool WHERE name = 'sn'"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_journal_mode WHERE "
				    "journal_mode = 'wal'"),
			 1);

	/* count 3: block b starts at value 3b */
	struct pool_def mac = { .name = "mac", .kind = POOL_KIND_MAC, .start = 0x001122000000,
				.end = 0x001122000005, .count = 3 };
	uint64_t b;
	bool fresh;
	assert_int_equal(pool_store_allocate(f->s, &mac, "0a1b", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 0);
	assert_int_equal(pool_store_allocate(f->s, &mac, "0a1c", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 0);
	assert_int_equal(b, 1);
	assert_int_equal(sql_int(f, "SELECT block FROM pool_binding WHERE pool = 'mac' AND value "
				    "= '00:11:22:00:00:03'"),
			 1);
}

static void test_idempotent(void **state)
{
	struct fx *f = *state;

	assert_int_equal(alloc_ok(f, "aa", "st1", true), 0);
	assert_int_equal(alloc_ok(f, "bb", "st1", true), 1);
	/* again, from another station, in capitals: the same block, not fresh */
	assert_int_equal(alloc_ok(f, "aa", "st2", false), 0);
	assert_int_equal(alloc_ok(f, "AA", "st1", false), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding"), 2);
	/* across a reopen */
	pool_store_close(f->s);
	assert_int_equal(pool_store_open_sqlite(f->path, &f->s, f->why, sizeof(f->why)), 0);
	assert_int_equal(alloc_ok(f, "bb", "st3", false), 1);
	assert_int_equal(alloc_ok(f, "cc", "st3", true), 2);
}

static void test_enospc(void **state)
{
	struct fx *f = *state;
	char uid[8];
	uint64_t b = 77;
	bool fresh = true;

	for (unsigned i = 0; i < 10; i++) {
		snprintf(uid, sizeof(uid), "%x", 0x100 + i);
		assert_int_equal(alloc_ok(f, uid, "st1", true), i);
	}
	assert_int_equal(pool_store_allocate(f->s, &f->d, "fff", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 -ENOSPC);
	assert_false(fresh);
	assert_string_equal(f->why, "pool sn: no block left (all 10 are bound)");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE uid = 'fff'"), 0);
	/* a board that holds one still gets it */
	assert_int_equal(alloc_ok(f, "107", "st2", false), 7);
}

static void test_release_reuse(void **state)
{
	struct fx *f = *state;
	char uid[8];

	for (unsigned i = 0; i < 8; i++) {
		snprintf(uid, sizeof(uid), "%x", 0x100 + i);
		assert_int_equal(alloc_ok(f, uid, "st1", true), i);
	}
	assert_int_equal(pool_store_release(f->s, &f->d, "105", f->why, sizeof(f->why)), 0);
	assert_int_equal(pool_store_release(f->s, &f->d, "103", f->why, sizeof(f->why)), 0);
	/* a uid that holds none, a pool never used: 0, nothing changed */
	assert_int_equal(pool_store_release(f->s, &f->d, "999", f->why, sizeof(f->why)), 0);
	struct pool_def other = serial_def("other", "X%u", 3, 1);
	assert_int_equal(pool_store_release(f->s, &other, "103", f->why, sizeof(f->why)), 0);
	assert_int_equal(pool_store_release(f->s, &f->d, "105", f->why, sizeof(f->why)), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE released IS NOT NULL"),
			 2);

	/* the lowest returned first, then the other, then the next never given */
	assert_int_equal(alloc_ok(f, "200", "st2", true), 3);
	assert_int_equal(alloc_ok(f, "201", "st2", true), 5);
	assert_int_equal(alloc_ok(f, "202", "st2", true), 8);
	/* the board that gave 3 back comes again: a new binding, the next free */
	assert_int_equal(alloc_ok(f, "103", "st1", true), 9);
	/* history: block 3 twice (one released, one live), uid 103 twice */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE block = 3"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE block = 3 AND uid = "
				    "'103' AND released IS NOT NULL"),
			 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE uid = '103'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE given_again"), 2);
	/* 8 given back again: returned once more, given again once more */
	assert_int_equal(pool_store_release(f->s, &f->d, "202", f->why, sizeof(f->why)), 0);
	assert_int_equal(alloc_ok(f, "300", "st2", true), 8);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE block = 8"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE given_again"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE released IS NULL"),
			 10);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding"), 13);
}

static void test_stale(void **state)
{
	struct fx *f = *state;
	uint64_t b;
	bool fresh;

	assert_int_equal(alloc_ok(f, "aa", "st1", true), 0);
	/* another format: refused by define and allocate, nothing bound */
	struct pool_def changed = serial_def("sn", "SN%05u", 9, 1);
	assert_int_equal(pool_store_define(f->s, &changed, f->why, sizeof(f->why)), -ESTALE);
	const char *want[] = { "pool sn: its definition differs from the one in ",
			       "(fingerprint \"serial SN%04u from 0 count 1\" there, \"serial "
			       "SN%05u from 0 count 1\" here)",
			       NULL };
	testutil_assert_contains(f->why, want);
	assert_int_equal(pool_store_allocate(f->s, &changed, "bb", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 -ESTALE);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding"), 1);
	/* the same definition again is fine */
	assert_int_equal(pool_store_define(f->s, &f->d, f->why, sizeof(f->why)), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool"), 1);
}

/* a pool may grow (a larger end; values appended to a list), never shrink,
 * and a list whose known values changed is another pool */
static void test_grow(void **state)
{
	struct fx *f = *state;
	struct pool_usage u;
	char *three[] = { "K1", "K2", "K3" }, *five[] = { "K1", "K2", "K3", "K4", "K5" };
	char *other[] = { "K1", "X2", "K3", "K4", "K5" };
	struct pool_def grown = f->d, list = { .name = "keys", .kind = POOL_KIND_LIST,
					       .values = three, .nvalues = 3, .count = 1 };

	assert_int_equal(pool_store_define(f->s, &f->d, f->why, sizeof(f->why)), 0);
	grown.end = f->d.end + 10;
	assert_int_equal(pool_store_define(f->s, &grown, f->why, sizeof(f->why)), 0);
	assert_int_equal(pool_store_usage(f->s, &grown, &u, f->why, sizeof(f->why)), 0);
	assert_int_equal(u.blocks, pool_blocks(&grown));
	/* back to the smaller end: refused */
	assert_int_equal(pool_store_define(f->s, &f->d, f->why, sizeof(f->why)), -ESTALE);
	assert_non_null(strstr(f->why, "never shrink"));

	assert_int_equal(pool_store_define(f->s, &list, f->why, sizeof(f->why)), 0);
	list.values = five;
	list.nvalues = 5;
	assert_int_equal(pool_store_define(f->s, &list, f->why, sizeof(f->why)), 0);
	assert_int_equal(pool_store_usage(f->s, &list, &u, f->why, sizeof(f->why)), 0);
	assert_int_equal(u.blocks, 5);
	/* a value the database knows changed: refused */
	list.values = other;
	assert_int_equal(pool_store_define(f->s, &list, f->why, sizeof(f->why)), -ESTALE);
	assert_non_null(strstr(f->why, "differs"));
}

static void test_usage(void **state)
{
	struct fx *f = *state;
	struct pool_usage u;

	/* not in the file yet: every block left */
	assert_int_equal(pool_store_usage(f->s, &f->d, &u, f->why, sizeof(f->why)), 0);
	assert_int_equal(u.blocks, 10);
	assert_int_equal(u.bound, 0);
	assert_int_equal(u.left, 10);
	alloc_ok(f, "a1", "st1", true);
	alloc_ok(f, "a2", "st1", true);
	alloc_ok(f, "a3", "st1", true);
	assert_int_equal(pool_store_release(f->s, &f->d, "a2", f->why, sizeof(f->why)), 0);
	assert_int_equal(pool_store_usage(f->s, &f->d, &u, f->why, sizeof(f->why)), 0);
	assert_int_equal(u.blocks, 10);
	assert_int_equal(u.bound, 2);
	assert_int_equal(u.left, 8); /* 7 never given + 1 returned */
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct pool_store *s = NULL;
	uint64_t b;
	bool fresh;

	assert_int_equal(pool_store_allocate(f->s, &f->d, "0x12", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 -EINVAL);
	assert_string_equal(f->why, "not a SoC UID: \"0x12\" (1 to 64 hex digits)");
	assert_int_equal(pool_store_allocate(f->s, &f->d, "", "st1", &b, &fresh, f->why,
					     sizeof(f->why)),
			 -EINVAL);
	assert_int_equal(pool_store_release(f->s, &f->d, "a b", f->why, sizeof(f->why)), -EINVAL);
	assert_int_equal(pool_store_open_sqlite(testutil_path(f->dir, "no/such/dir.sqlite"), &s,
						f->why, sizeof(f->why)),
			 -EIO);
	assert_null(s);
	const char *want[] = { "SQLite ", "no/such/dir.sqlite: cannot open: ", NULL };
	testutil_assert_contains(f->why, want);
	/* not a database */
	testutil_write_file(testutil_path(f->dir, "junk"), "this is not SQLite\n", 19);
	assert_int_equal(pool_store_open_sqlite(testutil_path(f->dir, "junk"), &s, f->why,
						sizeof(f->why)),
			 -EIO);
	assert_null(s);
	const char *want2[] = { "junk: ", "file is not a database", NULL };
	testutil_assert_contains(f->why, want2);
	assert_null(pool_store_close(NULL));
}

#define PROCS 4
#define PER_PROC 500

/* Four processes, each with its own store on the file, allocate 500 blocks
 * each for distinct uids at once: 2000 bindings, blocks 0 … 1999 each once. */
static void test_processes(void **state)
{
	struct fx *f = *state;
	pid_t pids[PROCS];

	f->d = serial_def("sn", "SN%05u", PROCS * PER_PROC - 1, 1);
	assert_int_equal(pool_store_define(f->s, &f->d, f->why, sizeof(f->why)), 0);
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] > 0)
			continue;
		struct pool_store *s;
		char why[512], uid[16];
		if (pool_store_open_sqlite(f->path, &s, why, sizeof(why)) < 0) {
			fprintf(stderr, "process %d: %s\n", p, why);
			_exit(1);
		}
		for (int i = 0; i < PER_PROC; i++) {
			uint64_t b;
			bool fresh;
			snprintf(uid, sizeof(uid), "%x%04x", p + 1, i);
			int r = pool_store_allocate(s, &f->d, uid, "st", &b, &fresh, why,
						    sizeof(why));
			if (r < 0 || !fresh) {
				fprintf(stderr, "process %d, uid %s: %d %s\n", p, uid, r, why);
				_exit(1);
			}
		}
		pool_store_close(s);
		_exit(0);
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding"), PROCS * PER_PROC);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT block) FROM pool_binding"),
			 PROCS * PER_PROC);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT uid) FROM pool_binding"),
			 PROCS * PER_PROC);
	assert_int_equal(sql_int(f, "SELECT min(block) FROM pool_binding"), 0);
	assert_int_equal(sql_int(f, "SELECT max(block) FROM pool_binding"), PROCS * PER_PROC - 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pool_binding WHERE value <> "
				    "printf('SN%05d', block)"),
			 0);
	uint64_t b;
	bool fresh;
	assert_int_equal(pool_store_allocate(f->s, &f->d, "ffff", "st", &b, &fresh, f->why,
					     sizeof(f->why)),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allocate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
