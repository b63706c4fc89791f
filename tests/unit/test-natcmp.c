/* test-natcmp: natural order of port names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/natcmp.h"

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

static void test_order(void **state)
{
	/* sorted as people read them */
	static const char *const names[] = { NULL, "", "1", "1-1", "1-1.2", "1-1.10", "1-2", "1-9",
					     "1-10", "1-10.1", "2-1", "3-1", "4-1", "10-1", "a", "a1",
					     "a1x", "a01x", "a2", "b" };
	size_t n = sizeof(names) / sizeof(names[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;
			if (sign(natcmp(names[i], names[j])) != want)
				fail_msg("natcmp(%s, %s) = %d, want %d", names[i] ? names[i] : "NULL",
					 names[j] ? names[j] : "NULL", natcmp(names[i], names[j]), want);
		}
}

static int cmp_names(const void *a, const void *b)
{
	return natcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_arrival_order_sorted(void **state)
{
	const char *ports[] = { "1-1", "2-1", "4-1", "3-1", "1-10", "1-9" };
	const char *want[] = { "1-1", "1-9", "1-10", "2-1", "3-1", "4-1" };

	(void)state;
	qsort(ports, 6, sizeof(ports[0]), cmp_names);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(ports[i], want[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_arrival_order_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
