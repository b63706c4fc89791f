/* test-strnum: hex and decimal numbers, bounds, junk. */
#include "common/strnum.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int parse(const char *s, uint64_t max, uint64_t *out)
{
	return strnum_parse(s, strlen(s), max, out);
}

static void test_digits(void **state)
{
	(void)state;
	assert_int_equal(strnum_digit('0'), 0);
	assert_int_equal(strnum_digit('9'), 9);
	assert_int_equal(strnum_digit('a'), 10);
	assert_int_equal(strnum_digit('F'), 15);
	assert_int_equal(strnum_digit('g'), -1);
	assert_int_equal(strnum_digit('/'), -1);
	assert_int_equal(strnum_digit(':'), -1);
	assert_int_equal(strnum_digit('@'), -1);
	assert_int_equal(strnum_digit('G'), -1);
	assert_int_equal(strnum_digit('`'), -1);
	assert_int_equal(strnum_digit('\0'), -1);
}

static void test_values(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "0", 0 }, { "42", 42 }, { "0x10", 16 }, { "0XfF", 255 }, { "007", 7 },
		{ "0x0", 0 }, { "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 1;
		assert_int_equal(parse(ok[i].s, UINT64_MAX, &v), 0);
		assert_true(v == ok[i].v);
	}
	/* only the len bytes count */
	assert_int_equal(strnum_parse("123junk", 3, UINT64_MAX, &v), 0);
	assert_int_equal(v, 123);
}

static void test_errors(void **state)
{
	static const char *const junk[] = { "", "0x", "0X", "x10", "-1", "+1", " 1", "1 ",
					    "0x1g", "12a", "0b1", "1.5" };
	uint64_t v = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(parse(junk[i], UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse("0x10000000000000000", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse("256", 255, &v), -ERANGE);
	assert_int_equal(parse("0x100", 0xff, &v), -ERANGE);
	assert_int_equal(parse("9", 8, &v), -ERANGE);
	assert_int_equal(v, 77); /* untouched on failure */
	assert_int_equal(parse("255", 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(strnum_parse(NULL, 1, 1, &v), -EINVAL);
	assert_int_equal(strnum_parse("1", 1, 1, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
