/* plan-testlib: the plan unit tests' shared fixture (see plan-testlib.h). */
#include "plan-testlib.h"

#include "daemon/image.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cmocka.h>

#include "testutil.h"

static char *plantest_tmpdir;
static char plantest_planpath[512];

int plantest_setup(const char *name, bool images)
{
	plantest_tmpdir = testutil_mkdtemp(name);
	if (!plantest_tmpdir || (images && testutil_mkimages(plantest_tmpdir) < 0))
		return -1;
	plantest_plan_at("plan.lst");
	return 0;
}

int plantest_teardown(void)
{
	int r = testutil_rmtree(plantest_tmpdir);

	plantest_tmpdir = NULL;
	return r;
}

int plantest_group_teardown(void **state)
{
	(void)state;
	return plantest_teardown();
}

const char *plantest_dir(void)
{
	return plantest_tmpdir;
}

const char *plantest_path(const char *name)
{
	return testutil_path(plantest_tmpdir, name);
}

const char *plantest_plan(void)
{
	return plantest_planpath;
}

void plantest_plan_at(const char *rel)
{
	snprintf(plantest_planpath, sizeof(plantest_planpath), "%s/%s", plantest_tmpdir, rel);
}

uint64_t plantest_fsize(const char *name)
{
	struct stat st;

	assert_int_equal(stat(plantest_path(name), &st), 0);
	return (uint64_t)st.st_size;
}

int plantest_load_len(const char *text, size_t len, const char *const *args, size_t nargs,
		      struct plan **p, char *err, size_t errlen)
{
	testutil_write_file(plantest_planpath, text, len);
	return image_plan_load(plantest_planpath, args, nargs, NULL, p, err, errlen);
}

struct plan *plantest_load_ok(const char *text, const char *const *args, size_t nargs)
{
	struct plan *p = NULL;
	char err[1024];

	if (plantest_load_len(text, strlen(text), args, nargs, &p, err, sizeof(err)) < 0)
		fail_msg("unexpected: %s", err);
	return p;
}

struct plan *plantest_load_ok_nw(const char *text, const char *const *args, size_t nargs)
{
	size_t n = strlen(text);
	char *t = malloc(n + 1 + sizeof(PLANTEST_NO_WRITE));
	struct plan *p;

	assert_non_null(t);
	memcpy(t, text, n);
	if (n && text[n - 1] != '\n')
		t[n++] = '\n'; /* the text's last line stays as it was */
	memcpy(t + n, PLANTEST_NO_WRITE, sizeof(PLANTEST_NO_WRITE));
	p = plantest_load_ok(t, args, nargs);
	free(t);
	return p;
}

void plantest_expect_fail_len(const char *text, size_t len, const char *const *args,
			      size_t nargs, const char *msg)
{
	struct plan *p = (struct plan *)0x1;
	char err[1024];
	int r = plantest_load_len(text, len, args, nargs, &p, err, sizeof(err));

	if (r >= 0)
		fail_msg("loaded, expected '%s'", msg);
	assert_ptr_equal(p, (struct plan *)0x1);
	if (!strstr(err, msg))
		fail_msg("expected '%s', got '%s'", msg, err);
}

void plantest_expect_fail(const char *text, const char *msg)
{
	plantest_expect_fail_len(text, strlen(text), NULL, 0, msg);
}

uint8_t *plantest_gzip(const uint8_t *in, size_t n, size_t *out_n)
{
	z_stream s = { 0 };
	uint8_t *b;

	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	b = malloc(deflateBound(&s, n));
	assert_non_null(b);
	s.next_in = (uint8_t *)in;
	s.avail_in = (uInt)n;
	s.next_out = b;
	s.avail_out = (uInt)deflateBound(&s, n);
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	*out_n = s.total_out;
	deflateEnd(&s);
	return b;
}
