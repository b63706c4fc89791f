/* Unit tests for plan parameters: uuu's binding (uuu/buildincmd.cpp) of
 * arguments to "_name" words, defaults, literal names, substitution, and
 * the lexical rules at the start of a file (byte order mark, uuu_version).
 * Images from tests/data/plans/mkimages.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flashd/plan.h"
#include "plan-testlib.h"
#include "testutil.h"

/* uuu's binding (uuu/buildincmd.cpp): every "_word" after '@' or a space
 * is a parameter, in order of first appearance, declared or not */
static void test_params(void **state)
{
	const char *args[] = { "u-boot.imx", "my image.img" };
	const char *one[] = { "u-boot.imx" };
	const char *three[] = { "a", "b", "c" };
	const char *name, *value;
	struct plan *p;

	testutil_write_file(plantest_path("my image.img"), "0123456789", 10);
	/* no "# @" lines (uuu's spl built-in, vendor scripts): the words bind */
	p = plantest_load_ok_nw("SDP: boot -f _flash.bin\nFB: flash p _image\n", args, 2);
	assert_int_equal(plan_n_params(p), 2);
	assert_int_equal(plan_param(p, 1, &name, &value), 0);
	assert_string_equal(name, "_image");
	/* a value with a space goes in quoted, as uuu's main() quotes it */
	assert_string_equal(plan_step(p, 1)->cmd, "FB: flash p \"my image.img\"");
	assert_string_equal(plan_step(p, 1)->file, "my image.img");
	assert_int_equal(plan_step(p, 1)->image_len, 10);
	plan_unref(p);
	/* a default names the parameter whose argument it takes; replaced
	 * only after a space, whatever follows (uuu's replace_str) */
	p = plantest_load_ok_nw(
	    "# @_flash.bin | bootloader\n"
	    "#@_image [_flash.bin]\n"
	    "# @_part [rootfs] | a default that is no parameter: nothing\n"
	    "SDP: boot -f _flash.bin\n"
	    "FB: flash rootfs _image\n"
	    "FB: ucmd echo x_flash.bin \"_part\" ${emmc_dev} _flash.bin.sig\t_flash.bin\n",
	    one, 1);
	/* _flash.bin.sig is a parameter of its own, unbound; _flash.bin, bound
	 * first, already replaced its prefix (as uuu does) */
	assert_int_equal(plan_n_params(p), 4);
	assert_string_equal(plan_step(p, 1)->cmd, "FB: flash rootfs u-boot.imx");
	assert_string_equal(plan_step(p, 1)->text, "FB: flash rootfs _image");
	assert_string_equal(plan_step(p, 2)->arg,
			    "echo x_flash.bin \"_part\" ${emmc_dev} u-boot.imx.sig\t_flash.bin");
	assert_int_equal(plan_param(p, 2, &name, &value), 0);
	assert_string_equal(name, "_part");
	assert_null(value);
	plan_unref(p);
	/* uuu's regex takes "_a@_b" whole: one parameter */
	p = plantest_load_ok_nw("# @_a@_b | x\nFB: ucmd echo _a@_b\n", (const char *[]){"v"}, 1);
	assert_int_equal(plan_n_params(p), 1);
	assert_string_equal(plan_step(p, 0)->arg, "echo v");
	plan_unref(p);
		/* first appearance decides the order, not the declarations */
	p = plantest_load_ok_nw("FB: ucmd echo _b _a\n# @_a | x\n# @_b | y\n", args, 2);
	assert_string_equal(plan_step(p, 0)->arg, "echo u-boot.imx \"my image.img\"");
	plan_unref(p);
	/* not given: the word stays (uuu then opens a file of that name) */
	p = plantest_load_ok_nw("# @_a | x\nFB: ucmd echo _a\n", NULL, 0);
	assert_string_equal(plan_step(p, 0)->arg, "echo _a");
	plan_unref(p);
	/* an argument for a name binds before a later one looks at it */
	p = plantest_load_ok_nw("FB: ucmd _x _y\n", (const char *[]){"_y", "z"}, 2);
	assert_string_equal(plan_step(p, 0)->arg, "z z");
	plan_unref(p);
	/* errors */
	plantest_expect_fail_len(
	    "# @_a | x\nFB: done\n", 19, three, 3,
	    "plan.lst: 3 arguments given, but the plan has 1 parameter (words '_name')");
	plantest_expect_fail_len("FB: done\n", 9, one, 1,
				 "1 argument given, but the plan has 0 parameters");
	plantest_expect_fail_len("FB: ucmd echo _a\n", 17, (const char *[]){""}, 1,
				 "plan.lst: argument 1 (_a) is empty");
	plantest_expect_fail_len("FB: ucmd echo _a\n", 17, (const char *[]){"a\"b"}, 1,
				 "argument 1 (_a) contains a double quote");
	plantest_expect_fail_len("FB: ucmd echo _a\n", 17, (const char *[]){"a\nFB: erase all"}, 1,
				 "plan.lst: argument 1 (_a) contains a control character");
	plantest_expect_fail_len("FB: ucmd echo _a\n", 17, (const char *[]){NULL}, 1,
				 "plan.lst: argument 1 is NULL");
	/* "# @" without "_" is a plain comment */
	plan_unref(plantest_load_ok_nw("# @ not a declaration\n#@x neither\nFB: done\n", NULL, 0));
}

static void test_param_limits(void **state)
{
	char *text = malloc(64 * 40 + 100), *big;
	const char *longarg[1];
	size_t o = 0;

	for (unsigned i = 0; i <= PLAN_PARAMS_MAX; i++)
		o += (size_t)sprintf(text + o, "# @_p%u | x\n", i);
	strcpy(text + o, "FB: done\n");
	plantest_expect_fail(text, "plan.lst:33: more than 32 parameters");
	/* a leading byte order mark is skipped; an indented uuu_version is not uuu's */
	plan_unref(plantest_load_ok_nw("\xEF\xBB\xBFuuu_version 1.2.39\nFB: done\n", NULL, 0));
	plan_unref(
	    plantest_load_ok_nw("\xEF\xBB\xBF# @_a | x\nFB: ucmd _a\n", (const char *[]){"b"}, 1));
	plantest_expect_fail("  uuu_version 1.2.39\nFB: done\n",
			     "plan.lst:1: 'uuu_version' must start the line");
	free(text);
	/* substitution that makes the line too long */
	big = malloc(3000);
	memset(big, 'x', 2999);
	big[2999] = '\0';
	longarg[0] = big;
	plantest_expect_fail_len(
	    "FB: ucmd _a _a\n", 15, longarg, 1,
	    "plan.lst:1: line longer than 4096 bytes after parameter substitution");
	free(big);
}

static int setup(void **state)
{
	return plantest_setup("test-plan_params", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_param_limits),
	};
	return cmocka_run_group_tests(tests, setup, plantest_group_teardown);
}
