/* test-plandirs: the rules of plandirs.h on their own: ".." found in every
 * position, a folder's name is a prefix only at a '/' ("/srv/plans2" is not
 * in "/srv/plans"), trailing slashes and "/" as a folder, the lookup order
 * of a relative plan name, and files that do not exist yet. */
#include "daemon/plandirs.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char top[64];

static void touch(const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void folder(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/test-plandirs-XXXXXX");
	assert_non_null(mkdtemp(top));
	folder("plans");
	folder("plans2");
	folder("other");
	touch("plans/a.lst");
	touch("plans2/b.lst");
	touch("other/a.lst");
	touch("other/c.lst");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_dotdot(void **state)
{
	assert_true(plandirs_has_dotdot(".."));
	assert_true(plandirs_has_dotdot("../a"));
	assert_true(plandirs_has_dotdot("a/.."));
	assert_true(plandirs_has_dotdot("a/../b"));
	assert_true(plandirs_has_dotdot("/a//..//b"));
	assert_false(plandirs_has_dotdot("..."));
	assert_false(plandirs_has_dotdot("a..b/..c/d.."));
	assert_false(plandirs_has_dotdot("./a/."));
	assert_false(plandirs_has_dotdot(""));
}

static int resolve(const char *dir0, const char *base, const char *name, char *out, char *err)
{
	char d[PATH_MAX];
	const char *dirs[] = { d };

	snprintf(d, sizeof(d), "%s/%s", top, dir0);
	return plandirs_resolve_plan(dirs, 1, base, name, out, PATH_MAX, err, 512);
}

static void test_prefix_at_slash(void **state)
{
	char out[PATH_MAX], err[512], name[PATH_MAX];

	snprintf(name, sizeof(name), "%s/plans2/b.lst", top);
	assert_int_equal(resolve("plans", NULL, name, out, err), -EACCES);
	assert_non_null(strstr(err, "not in a plan folder"));
	assert_int_equal(resolve("plans2", NULL, name, out, err), 0);
	assert_string_equal(out, name);
	/* a trailing slash on the folder changes nothing */
	assert_int_equal(resolve("plans2/", NULL, name, out, err), 0);
	assert_int_equal(resolve("plans2//", NULL, name, out, err), 0);
	/* "/" holds everything */
	const char *root[] = { "/" };
	assert_int_equal(plandirs_resolve_plan(root, 1, NULL, name, out, sizeof(out), err,
					       sizeof(err)), 0);
}

/* relative: beside the configuration first, then each plan folder; what is
 * found must still be inside */
static void test_lookup_order(void **state)
{
	char out[PATH_MAX], err[512], base[PATH_MAX], want[PATH_MAX];
	char d0[PATH_MAX], d1[PATH_MAX];
	const char *dirs[] = { d0, d1 };

	snprintf(d0, sizeof(d0), "%s/plans2", top);
	snprintf(d1, sizeof(d1), "%s/plans", top);
	snprintf(base, sizeof(base), "%s/plans", top);
	assert_int_equal(plandirs_resolve_plan(dirs, 2, base, "a.lst", out, sizeof(out), err,
					       sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/plans/a.lst", top);
	assert_string_equal(out, want);
	assert_int_equal(plandirs_resolve_plan(dirs, 2, base, "b.lst", out, sizeof(out), err,
					       sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/plans2/b.lst", top);
	assert_string_equal(out, want);
	/* found beside the configuration, but that folder is no plan folder */
	snprintf(base, sizeof(base), "%s/other", top);
	assert_int_equal(plandirs_resolve_plan(dirs, 2, base, "c.lst", out, sizeof(out), err,
					       sizeof(err)), -EACCES);
	/* beside the configuration wins over the plan folders, and is checked */
	assert_int_equal(plandirs_resolve_plan(dirs, 2, base, "a.lst", out, sizeof(out), err,
					       sizeof(err)), -EACCES);
	assert_int_equal(plandirs_resolve_plan(dirs, 2, base, "none.lst", out, sizeof(out), err,
					       sizeof(err)), -ENOENT);
	/* an output buffer too small for the resolved path */
	assert_int_equal(plandirs_resolve_plan(dirs, 2, NULL, want, out, 8, err, sizeof(err)),
			 -ENAMETOOLONG);
}

static void test_args(void **state)
{
	char plan[PATH_MAX], d0[PATH_MAX], abs[PATH_MAX], err[512];
	const char *dirs[] = { d0 };
	const char *ok[] = { "a.lst", "new/file.img", "value with blanks", "0x1000" };
	const char *bad_abs[] = { abs };
	const char *bad_dd[] = { "x/../../etc" };

	snprintf(d0, sizeof(d0), "%s/plans", top);
	snprintf(plan, sizeof(plan), "%s/plans/a.lst", top);
	/* bare values and paths inside, even ones that do not exist yet */
	assert_int_equal(plandirs_check_args(dirs, 1, plan, ok, 4, err, sizeof(err)), 0);
	snprintf(abs, sizeof(abs), "%s/plans/later.img", top);
	assert_int_equal(plandirs_check_args(dirs, 1, plan, bad_abs, 1, err, sizeof(err)), 0);
	/* outside, existing or not */
	snprintf(abs, sizeof(abs), "%s/other/c.lst", top);
	assert_int_equal(plandirs_check_args(dirs, 1, plan, bad_abs, 1, err, sizeof(err)), -EACCES);
	snprintf(abs, sizeof(abs), "%s/plans2/later.img", top);
	assert_int_equal(plandirs_check_args(dirs, 1, plan, bad_abs, 1, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "not in a plan folder"));
	assert_int_equal(plandirs_check_args(dirs, 1, plan, bad_dd, 1, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotdot),
		cmocka_unit_test_setup_teardown(test_prefix_at_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	};

	return cmocka_run_group_tests_name("plandirs", tests, NULL, NULL);
}
