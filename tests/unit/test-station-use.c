/* test-station-use: `use` confined to the plan folders (plan-dirs; the
 * fixture's configuration sets "plan-dirs = ." — the test folder). A plan
 * or an argument's file outside them is refused whichever way it is named
 * (absolute, "..", a symbolic link out), the answer never quotes the
 * refused file, and nothing changes; inside them everything loads. */
#include "daemon/station.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "flashd/plan.h"
#include "station_fakes.h"
#include "station_test.h"

/* what /etc/shadow looks like: no part of it may reach a client */
#define SECRET "root:$6$s3cr3t$hash:19000:0:99999:7:::\n"

static char out[64]; /* a folder outside every plan folder */

static void out_make(void)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(out, sizeof(out), "/tmp/test-station-out-XXXXXX");
	assert_non_null(mkdtemp(out));
	snprintf(path, sizeof(path), "%s/shadow", out);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(SECRET, f);
	fclose(f);
}

static void out_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", out);
	assert_int_equal(system(cmd), 0);
}

static void in_dir_symlink(const char *target, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

/* refused with a message containing want, quoting nothing of the secret,
 * and port 1-2 keeps its plan */
static void refused(const char *plan, const char *const *args, size_t nargs, const char *want)
{
	const char *ports[] = { "1-2" };
	const struct plan *before = station_plan_for(st, "1-2");
	char err[1024] = "";

	assert_int_not_equal(use_args_wait(plan, args, nargs, ports, 1, err, sizeof(err)), 0);
	if (!strstr(err, want))
		fail_msg("use %s: expected \"%s\" in \"%s\"", plan, want, err);
	assert_null(strstr(err, "root:"));
	assert_null(strstr(err, "s3cr3t"));
	assert_ptr_equal(station_plan_for(st, "1-2"), before);
}

static void accepted(const char *plan, const char *const *args, size_t nargs, const char *path)
{
	const char *ports[] = { "1-2" };
	char err[1024] = "";

	if (use_args_wait(plan, args, nargs, ports, 1, err, sizeof(err)) != 0)
		fail_msg("use %s: %s", plan, err);
	assert_non_null(strstr(plan_path(station_plan_for(st, "1-2")), path));
}

static void test_use_plan_outside(void **state)
{
	char path[PATH_MAX], rel[PATH_MAX];

	out_make();
	snprintf(path, sizeof(path), "%s/shadow", out);
	refused(path, NULL, 0, "not in a plan folder");
	refused("/etc/passwd", NULL, 0, "/etc/passwd: not in a plan folder (plan-dirs: ");
	/* a link in the plan folder that leads out */
	in_dir_symlink(path, "shadow.lst");
	refused("shadow.lst", NULL, 0, "shadow.lst: not in a plan folder");
	/* ".." anywhere, even when it would lead back in */
	snprintf(rel, sizeof(rel), "../%s/c.lst", strrchr(dir, '/') + 1);
	refused(rel, NULL, 0, "\"..\" is not allowed");
	refused("x/../c.lst", NULL, 0, "\"..\" is not allowed");
	refused("missing.lst", NULL, 0, "missing.lst: No such file or directory");
	/* the folder itself is no plan */
	refused(dir, NULL, 0, "not in a plan folder");
	out_remove();
}

static void test_use_plan_inside(void **state)
{
	char path[PATH_MAX];

	/* relative, absolute, and a link that stays inside (resolved) */
	accepted("c.lst", NULL, 0, "/c.lst");
	snprintf(path, sizeof(path), "%s/b.lst", dir);
	accepted(path, NULL, 0, "/b.lst");
	in_dir_symlink("c.lst", "alias.lst");
	accepted("alias.lst", NULL, 0, "/c.lst");
}

/* an argument that names a file outside (absolute, "..", a link) is
 * refused; a bare name or a path inside loads */
static void test_use_args(void **state)
{
	char path[PATH_MAX], inside[PATH_MAX];
	const char *a[1];

	out_make();
	write_text("p.lst", "# @_img | the U-Boot\nSDP: boot -f _img\nFB: done\n# flashd: no-write\n");
	snprintf(path, sizeof(path), "%s/shadow", out);
	a[0] = path;
	refused("p.lst", a, 1, "not in a plan folder");
	a[0] = "../boot.imx";
	refused("p.lst", a, 1, "argument ../boot.imx: \"..\" is not allowed");
	a[0] = "..";
	refused("p.lst", a, 1, "\"..\" is not allowed");
	assert_int_equal(mkdir(strcat(strcpy(inside, dir), "/img"), 0755), 0);
	in_dir_symlink(path, "img/out.imx");
	a[0] = "img/out.imx";
	refused("p.lst", a, 1, "argument img/out.imx: not in a plan folder");
	a[0] = "boot.imx";
	accepted("p.lst", a, 1, "/p.lst");
	snprintf(inside, sizeof(inside), "%s/boot.imx", dir);
	a[0] = inside;
	accepted("p.lst", a, 1, "/p.lst");
	out_remove();
}

/* plan-dirs from the configuration in force: a relative name is found in
 * a plan folder; a plan beside the configuration but outside every plan
 * folder is refused */
static void test_use_plan_dirs(void **state)
{
	char err[1024] = "", path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_text("sub/d.lst", "# flashd: no-write\nFB: getvar serialno\nFB: done\n");
	write_text("flashd.conf", "plan = a.lst\nsettle = 50ms\nplan-dirs = sub\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	accepted("d.lst", NULL, 0, "/sub/d.lst");
	refused("c.lst", NULL, 0, "c.lst: not in a plan folder (plan-dirs: ");
	refused("sub/../c.lst", NULL, 0, "\"..\" is not allowed");
}

/* pool variables: bound to the pools of the configuration in force when
 * the plan takes effect, by `use` and by a reload */
static void test_use_pools(void **state)
{
	char err[1024] = "";
	const struct plan *p;

	write_text("pool.lst", "FB: ucmd setenv serial# ${pool:serial}\nFB: done\n");
	write_text("nope.lst", "FB: ucmd setenv serial# ${pool:nope}\nFB: done\n");
	/* the fixture's configuration declares no pool */
	refused("pool.lst", NULL, 0, "pool.lst:1: unknown pool 'serial' (flashd.conf declares no pool)");
	write_conf("plan = a.lst",
		   "[pool serial]\nkind = serial\nformat = SN%08u\nstart = 1\nend = 99\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	accepted("pool.lst", NULL, 0, "/pool.lst");
	p = station_plan_for(st, "1-2");
	assert_int_equal(plan_n_pools(p), 1);
	assert_string_equal(plan_pool_name(p, 0), "serial");
	refused("nope.lst", NULL, 0, "nope.lst:1: unknown pool 'nope' (flashd.conf declares: serial)");
	/* a reload whose plans use a pool it does not declare is refused */
	write_conf("plan = nope.lst",
		   "[pool serial]\nkind = serial\nformat = SN%08u\nstart = 1\nend = 99\n");
	assert_int_not_equal(reload_wait(err, sizeof(err)), 0);
	assert_non_null(strstr(err, "nope.lst:1: unknown pool 'nope' (flashd.conf declares: serial)"));
	write_conf("plan = pool.lst",
		   "[pool serial]\nkind = serial\nformat = SN%08u\nstart = 1\nend = 99\n");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_int_equal(plan_n_pools(st->plans.plan), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
const struct CMUnitTest station_use_tests[] = {
	T(test_use_plan_outside),
	T(test_use_plan_inside),
	T(test_use_args),
	T(test_use_plan_dirs),
	T(test_use_pools),
};
#undef T
const size_t station_use_ntests = sizeof(station_use_tests) / sizeof(station_use_tests[0]);
