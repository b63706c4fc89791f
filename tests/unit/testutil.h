/* testutil: helpers shared by the unit tests: temporary folders, whole
 * files in and out, the generated plan images, substring checks. The
 * functions that take no error path fail the running cmocka test. */
#ifndef FLASHD_TEST_TESTUTIL_H
#define FLASHD_TEST_TESTUTIL_H

#include <stddef.h>

/* A fresh folder /tmp/<name>.XXXXXX (malloc'd path), or NULL. */
char *testutil_mkdtemp(const char *name);
/* Removes dir and everything below it (links are not followed) and frees
 * the path; 0, or -1 when something could not be removed. NULL is fine. */
int testutil_rmtree(char *dir);
/* "dir/name" in one of 8 rotating static buffers. */
const char *testutil_path(const char *dir, const char *name);
/* Runs tests/data/plans/mkimages.sh (below $top_srcdir, else ".") into
 * dir: the images the plan tests load; 0 or -1. */
int testutil_mkimages(const char *dir);
/* The whole file, NUL-terminated (malloc'd); *len = its size if len. */
char *testutil_slurp(const char *path, size_t *len);
/* Creates or truncates path (mode 0600) with the len bytes of data. */
void testutil_write_file(const char *path, const void *data, size_t len);
/* sha256sum's opinion of the file (64 hex digits), independent of the
 * code under test. */
void testutil_sha256sum(const char *path, char out[65]);
/* Table-driven tests with a fixture: calls row(state, i) for each i < n,
 * each on a fresh fixture. The first is the one cmocka's setup made; the
 * last is left to cmocka's teardown; in between, teardown and setup run
 * here (and must succeed). */
void testutil_rows(void **state, size_t n, int (*setup)(void **), int (*teardown)(void **),
		   void (*row)(void **state, size_t i));
/* Asserts that every string of the NULL-terminated needles occurs in
 * text; on a miss, prints the needle and the text. */
void testutil_assert_contains(const char *text, const char *const *needles);

#endif
