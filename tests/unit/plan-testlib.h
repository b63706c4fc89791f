/* plan-testlib: the fixture the plan unit tests (test-plan, test-plan_params,
 * test-plan_sdp, test-plan_image) share: a temporary folder, optionally with
 * the images of tests/data/plans/mkimages.sh, a plan file in it, and loading
 * a plan text that must load or must fail with a given message. One fixture
 * per test program (cmocka group setup/teardown). Also gzip data made with
 * zlib's own compressor (test-plan_image, test-checkplan). */
#ifndef FLASHD_TEST_PLAN_TESTLIB_H
#define FLASHD_TEST_PLAN_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/plan.h"

/* Makes the folder /tmp/<name>.XXXXXX, with the generated images if images;
 * the plan file is <folder>/plan.lst. 0, or -1 (for a cmocka setup). */
int plantest_setup(const char *name, bool images);
/* Removes the folder and all in it: 0, or -1 (for a cmocka teardown). */
int plantest_teardown(void);
/* A cmocka group teardown that calls plantest_teardown. */
int plantest_group_teardown(void **state);
/* The fixture's folder. */
const char *plantest_dir(void);
/* "folder/name" (testutil_path: one of 8 rotating buffers). */
const char *plantest_path(const char *name);
/* The plan file's path; plantest_plan_at puts it at folder/rel. */
const char *plantest_plan(void);
void plantest_plan_at(const char *rel);
/* The size of folder/name (asserts that it exists). */
uint64_t plantest_fsize(const char *name);

/* Writes len bytes of text to the plan file and plan_load()s it. */
int plantest_load_len(const char *text, size_t len, const char *const *args, size_t nargs,
		      struct plan **p, char *err, size_t errlen);
/* The plan of text (NUL-terminated); fails the test if it does not load. */
struct plan *plantest_load_ok(const char *text, const char *const *args, size_t nargs);
/* The same with PLANTEST_NO_WRITE appended: for tests of plans about
 * something else than what they write (flashd-plan(5), plans that write
 * nothing must say so). */
#define PLANTEST_NO_WRITE "# flashd: no-write\n"
struct plan *plantest_load_ok_nw(const char *text, const char *const *args, size_t nargs);
/* Fails the test unless text is refused with an error containing msg and
 * the plan pointer is left alone. */
void plantest_expect_fail_len(const char *text, size_t len, const char *const *args,
			      size_t nargs, const char *msg);
void plantest_expect_fail(const char *text, const char *msg);

/* The n bytes of in as a gzip stream (zlib, level 6): malloc'd, *out_n its size. */
uint8_t *plantest_gzip(const uint8_t *in, size_t n, size_t *out_n);

#endif
