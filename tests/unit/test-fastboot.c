/* Unit tests for the fastboot core: formatting, reply parsing, sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flashd/fastboot.h"

static void test_format(void **state)
{
	char out[FASTBOOT_CMD_MAX + 1];

	assert_int_equal(fastboot_format(out, "getvar", "max-download-size"), 24);
	assert_string_equal(out, "getvar:max-download-size");
	assert_int_equal(fastboot_format(out, "reboot", NULL), 6);
	assert_string_equal(out, "reboot");
	assert_int_equal(fastboot_format(out, "flash", ""), 6);
	assert_string_equal(out, "flash:");
	assert_int_equal(fastboot_format_oem(out, "run:echo hi"), 15);
	assert_string_equal(out, "oem run:echo hi");
}

static void test_format_limits(void **state)
{
	char out[FASTBOOT_CMD_MAX + 1], arg[80];

	memset(out, 'X', sizeof(out));
	/* "UCmd:" + 59 = 64: fits exactly */
	memset(arg, 'a', 59);
	arg[59] = '\0';
	assert_int_equal(fastboot_format(out, "UCmd", arg), 64);
	assert_int_equal(strlen(out), 64);
	/* 65: rejected, out untouched */
	memset(out, 'X', sizeof(out));
	arg[59] = 'a';
	arg[60] = '\0';
	assert_int_equal(fastboot_format(out, "UCmd", arg), -E2BIG);
	assert_int_equal(out[0], 'X');
	memset(arg, 'b', 70);
	arg[70] = '\0';
	assert_int_equal(fastboot_format(out, arg, NULL), -E2BIG);
	assert_int_equal(fastboot_format_oem(out, arg), -E2BIG);
	assert_int_equal(out[0], 'X');
}

static void test_format_invalid(void **state)
{
	char out[FASTBOOT_CMD_MAX + 1];

	assert_int_equal(fastboot_format(out, NULL, "x"), -EINVAL);
	assert_int_equal(fastboot_format(out, "", "x"), -EINVAL);
	assert_int_equal(fastboot_format(out, "UCmd", "echo\ta"), -EINVAL);
	assert_int_equal(fastboot_format(out, "UCmd", "echo\n"), -EINVAL);
	assert_int_equal(fastboot_format(out, "get\x7fvar", NULL), -EINVAL);
	assert_int_equal(fastboot_format_oem(out, ""), -EINVAL);
	assert_int_equal(fastboot_format_oem(out, NULL), -EINVAL);
}

static void test_format_download(void **state)
{
	char out[FASTBOOT_CMD_MAX + 1];

	assert_int_equal(fastboot_format_download(out, 0x4ac00), 17);
	assert_string_equal(out, "download:0004ac00");
	assert_int_equal(fastboot_format_download(out, 0xffffffffu), 17);
	assert_string_equal(out, "download:ffffffff");
	assert_int_equal(fastboot_format_download(out, 1), 17);
	assert_string_equal(out, "download:00000001");
	assert_int_equal(fastboot_format_download(out, 0), -EINVAL);
}

static int parse(const char *s, struct fastboot_reply *r)
{
	return fastboot_parse_reply((const uint8_t *)s, strlen(s), r);
}

static void test_parse_kinds(void **state)
{
	struct fastboot_reply r;

	assert_int_equal(parse("OKAY", &r), 0);
	assert_int_equal(r.kind, FASTBOOT_REPLY_OKAY);
	assert_string_equal(r.text, "");
	assert_int_equal(parse("OKAY0x07000000", &r), 0);
	assert_string_equal(r.text, "0x07000000");
	assert_int_equal(parse("FAILunrecognized command", &r), 0);
	assert_int_equal(r.kind, FASTBOOT_REPLY_FAIL);
	assert_string_equal(r.text, "unrecognized command");
	assert_int_equal(parse("INFOversion: 0.4", &r), 0);
	assert_int_equal(r.kind, FASTBOOT_REPLY_INFO);
	assert_string_equal(r.text, "version: 0.4");
	assert_int_equal(parse("TEXTprogress", &r), 0);
	assert_int_equal(r.kind, FASTBOOT_REPLY_TEXT);
	assert_int_equal(parse("DATA0004ac00", &r), 0);
	assert_int_equal(r.kind, FASTBOOT_REPLY_DATA);
	assert_int_equal(r.data_size, 0x4ac00);
	assert_string_equal(r.text, "0004ac00");
	assert_int_equal(parse("DATAFFFFFFFF", &r), 0);
	assert_int_equal(r.data_size, 0xffffffffu);
	assert_string_equal(fastboot_reply_kind_to_string(FASTBOOT_REPLY_OKAY), "OKAY");
	assert_string_equal(fastboot_reply_kind_to_string(FASTBOOT_REPLY_TEXT), "TEXT");
	assert_null(fastboot_reply_kind_to_string((enum fastboot_reply_kind)99));
}

static void test_parse_bad(void **state)
{
	struct fastboot_reply r;
	uint8_t big[FASTBOOT_REPLY_MAX + 1];

	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(parse("", &r), -EBADMSG);
	assert_int_equal(parse("OKA", &r), -EBADMSG);
	assert_int_equal(parse("okay", &r), -EBADMSG);
	assert_int_equal(parse("BUSY", &r), -EBADMSG);
	assert_int_equal(parse("DATA", &r), -EBADMSG);
	assert_int_equal(parse("DATA0004ac0", &r), -EBADMSG);
	assert_int_equal(parse("DATA0004ac000", &r), -EBADMSG);
	assert_int_equal(parse("DATA0004ag00", &r), -EBADMSG);
	assert_int_equal(parse("DATA 004ac00", &r), -EBADMSG);
	assert_int_equal(fastboot_parse_reply(NULL, 4, &r), -EBADMSG);
	memcpy(big, "OKAY", 4);
	memset(big + 4, 'a', sizeof(big) - 4);
	assert_int_equal(fastboot_parse_reply(big, sizeof(big), &r), -EBADMSG);
	/* out untouched on failure */
	assert_int_equal(((uint8_t *)&r)[0], 0x5a);
	/* exactly the maximum is fine */
	assert_int_equal(fastboot_parse_reply(big, FASTBOOT_REPLY_MAX, &r), 0);
	assert_int_equal(strlen(r.text), FASTBOOT_REPLY_MAX - 4);
}

static void test_parse_hostile_bytes(void **state)
{
	static const uint8_t nulpad[] = { 'O', 'K', 'A', 'Y', 'a', 'b', 0, 0, 'c' };
	static const uint8_t ctrl[] = { 'F', 'A', 'I', 'L', 'x', 0x01, 0x1b, 0xff, 'y', 0x7f };
	static const uint8_t datanul[] = { 'D', 'A', 'T', 'A', '0', '0', '0', 0, '0', '0', '0', '0' };
	struct fastboot_reply r;

	assert_int_equal(fastboot_parse_reply(nulpad, sizeof(nulpad), &r), 0);
	assert_string_equal(r.text, "ab");
	assert_int_equal(fastboot_parse_reply(ctrl, sizeof(ctrl), &r), 0);
	assert_string_equal(r.text, "x???y?");
	assert_int_equal(fastboot_parse_reply(datanul, sizeof(datanul), &r), -EBADMSG);
}

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	assert_int_equal(fastboot_parse_size("0x07000000", &v), 0);
	assert_int_equal(v, 0x7000000);
	assert_int_equal(fastboot_parse_size("0X1f", &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(fastboot_parse_size("  117440512\t\n", &v), 0);
	assert_int_equal(v, 117440512);
	assert_int_equal(fastboot_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fastboot_parse_size("0x000000000000000ffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(fastboot_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(fastboot_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(fastboot_parse_size("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(v, 7);
	assert_int_equal(fastboot_parse_size("", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("   ", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("0x", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("-1", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("+1", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("12ab", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("0x12 34", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size("0xg", &v), -EINVAL);
	assert_int_equal(fastboot_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_parse_max_download(void **state)
{
	uint32_t v = 3;

	assert_int_equal(fastboot_parse_max_download("0x07000000", &v), 0);
	assert_int_equal(v, 0x7000000);
	assert_int_equal(fastboot_parse_max_download("0xffffffff", &v), 0);
	assert_int_equal(v, 0xffffffffu);
	v = 3;
	assert_int_equal(fastboot_parse_max_download("0x100000000", &v), -ERANGE);
	assert_int_equal(fastboot_parse_max_download("0", &v), -EINVAL);
	assert_int_equal(fastboot_parse_max_download("0x0", &v), -EINVAL);
	assert_int_equal(fastboot_parse_max_download("lots", &v), -EINVAL);
	assert_int_equal(v, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_format_invalid),
		cmocka_unit_test(test_format_download),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_hostile_bytes),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_max_download),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
