/* test-journal_faults: journal_append when the disk fails under it.
 *
 * write() and fdatasync() are wrapped (-Wl,--wrap=write,--wrap=fdatasync):
 * an armed fault makes the next call fail with EIO -- a write after putting
 * half its bytes into the file (a device error mid-line), a sync after
 * doing nothing (Linux may drop dirty pages it could not write and report
 * it once). The record the caller then retries must be in the file once,
 * whole, after the records before it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/journal.h"
#include "testutil.h"

static unsigned fail_write, fail_sync;   /* calls to fail from now on */
static int write_errno = EIO;             /* EIO: half the bytes written first */
static unsigned syncs;

ssize_t __real_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	if (!fail_write)
		return __real_write(fd, buf, len);
	fail_write--;
	if (write_errno == EIO && len > 1 && __real_write(fd, buf, len / 2) < 0)
		return -1;
	errno = write_errno;
	return -1;
}

int __wrap_fdatasync(int fd)
{
	syncs++;
	if (!fail_sync)
		return __real_fdatasync(fd);
	fail_sync--;
	errno = EIO;
	return -1;
}

struct fixture {
	char *dir;
	char path[600];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->dir = testutil_mkdtemp("test-journal_faults")))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/results.jsonl", f->dir);
	fail_write = fail_sync = syncs = 0;
	write_errno = EIO;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r = testutil_rmtree(f->dir);

	free(f);
	return r;
}

static int append(struct journal *j, const char *port)
{
	json_t *r = json_pack("{s:s, s:s, s:I}", "port", port, "result", "ok", "bytes",
			      (json_int_t)4096);
	int e = journal_append(j, r);

	json_decref(r);
	return e;
}

/* The ports of the file's lines, comma-joined; every line must be a whole
 * record. */
static void expect_file(const char *path, const char *want)
{
	size_t len = 0;
	char *text = testutil_slurp(path, &len), got[512] = "";
	char *line = text, *nl;

	assert_non_null(text);
	assert_true(len == 0 || text[len - 1] == '\n');
	while ((nl = strchr(line, '\n'))) {
		json_t *rec = json_loadb(line, (size_t)(nl - line), 0, NULL);

		if (!json_is_object(rec))
			fail_msg("not a record: %.*s", (int)(nl - line), line);
		if (got[0])
			strcat(got, ",");
		strcat(got, json_string_value(json_object_get(rec, "port")));
		json_decref(rec);
		line = nl + 1;
	}
	free(text);
	assert_string_equal(got, want);
}

static void test_sync_eio_then_retry_once(void **state)
{
	struct fixture *f = *state;
	struct journal *j;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(append(j, "1-1"), 0);
	fail_sync = 1;
	assert_int_equal(append(j, "1-2"), -EIO);
	/* the caller keeps 1-2 and writes it again: it is there once */
	assert_int_equal(append(j, "1-2"), 0);
	assert_int_equal(append(j, "1-3"), 0);
	expect_file(f->path, "1-1,1-2,1-3");
	journal_close(j);
	/* and a fresh open finds nothing to cut */
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_file(f->path, "1-1,1-2,1-3");
	journal_close(j);
}

static void test_write_eio_midline(void **state)
{
	struct fixture *f = *state;
	struct journal *j;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(append(j, "1-1"), 0);
	fail_write = 1;
	assert_int_equal(append(j, "1-2"), -EIO);
	assert_int_equal(append(j, "1-3"), 0);
	expect_file(f->path, "1-1,1-3");
	journal_close(j);
}

/* A write refused whole (disk full) wrote nothing: no repair before the
 * next one, which writes and syncs once. */
static void test_enospc_no_repair(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	unsigned before;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(append(j, "1-1"), 0);
	fail_write = 1;
	write_errno = ENOSPC;
	assert_int_equal(append(j, "1-2"), -ENOSPC);
	before = syncs;
	assert_int_equal(append(j, "1-2"), 0);
	assert_int_equal(syncs, before + 1);
	expect_file(f->path, "1-1,1-2");
	journal_close(j);
}

/* The repair itself fails (its sync): the append fails, nothing is written,
 * the next one repairs and writes. */
static void test_repair_fails_then_works(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	unsigned before;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(append(j, "1-1"), 0);
	fail_sync = 1;
	assert_int_equal(append(j, "1-2"), -EIO);
	fail_sync = 1;
	before = syncs;
	assert_int_equal(append(j, "1-2"), -EIO);
	assert_int_equal(syncs, before + 1);   /* the repair's sync, no write after it */
	assert_int_equal(append(j, "1-2"), 0);
	expect_file(f->path, "1-1,1-2");
	journal_close(j);
}

/* A journal emptied behind the daemon's back (rotated by hand): the repair
 * does not grow it back with zeros. */
static void test_repair_after_outside_truncate(void **state)
{
	struct fixture *f = *state;
	struct journal *j;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(append(j, "1-1"), 0);
	fail_sync = 1;
	assert_int_equal(append(j, "1-2"), -EIO);
	assert_int_equal(truncate(f->path, 0), 0);
	assert_int_equal(append(j, "1-2"), 0);
	expect_file(f->path, "1-2");
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_sync_eio_then_retry_once),
		T(test_write_eio_midline),
		T(test_repair_fails_then_works),
		T(test_enospc_no_repair),
		T(test_repair_after_outside_truncate),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
