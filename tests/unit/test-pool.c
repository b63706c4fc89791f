/* Unit tests for pool: serial formats and their edges, MAC values up to the
 * end of 48 bits, list files (errors with FILE:LINE), fingerprints, and the
 * ${pool:NAME[:K]} references (scan, expand; other ${…} left alone). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/sha256.h"
#include "flashd/pool.h"
#include "testutil.h"

static struct pool_def serial(const char *fmt, uint64_t start, uint64_t end, uint32_t count)
{
	return (struct pool_def){.name = "sn",
				 .kind = POOL_KIND_SERIAL,
				 .format = (char *)fmt,
				 .start = start,
				 .end = end,
				 .count = count};
}

static struct pool_def mac(uint64_t start, uint64_t end, uint32_t count)
{
	return (struct pool_def){
	    .name = "mac", .kind = POOL_KIND_MAC, .start = start, .end = end, .count = count};
}

static void assert_value(const struct pool_def *d, uint64_t i, const char *want)
{
	char out[POOL_VALUE_MAX + 1];

	assert_int_equal(pool_value(d, i, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(pool_name_valid("serial"));
	assert_true(pool_name_valid("a"));
	assert_true(pool_name_valid("eth_mac-2"));
	assert_true(pool_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(pool_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(pool_name_valid(""));
	assert_false(pool_name_valid("2x"));
	assert_false(pool_name_valid("_x"));
	assert_false(pool_name_valid("a b"));
	assert_false(pool_name_valid("a:b"));
	assert_false(pool_name_valid(NULL));
	assert_string_equal(pool_kind_to_string(POOL_KIND_SERIAL), "serial");
	assert_string_equal(pool_kind_to_string(POOL_KIND_MAC), "mac");
	assert_string_equal(pool_kind_to_string(POOL_KIND_LIST), "list");
	assert_string_equal(pool_backend_to_string(POOL_BACKEND_SQLITE), "sqlite");
	assert_string_equal(pool_backend_to_string(POOL_BACKEND_POSTGRESQL), "postgresql");
}

static void test_value_valid(void **state)
{
	char big[POOL_VALUE_MAX + 2];

	(void)state;
	assert_true(pool_value_valid("ABC-123_x.y:z@w,v+/="));
	assert_false(pool_value_valid(""));
	assert_false(pool_value_valid("a b"));
	assert_false(pool_value_valid("a;b"));
	assert_false(pool_value_valid("$x"));
	assert_false(pool_value_valid("\"q\""));
	assert_false(pool_value_valid("a\\b"));
	memset(big, 'a', sizeof(big));
	big[POOL_VALUE_MAX] = '\0';
	assert_true(pool_value_valid(big));
	big[POOL_VALUE_MAX] = 'a';
	big[POOL_VALUE_MAX + 1] = '\0';
	assert_false(pool_value_valid(big));
}

static void test_formats(void **state)
{
	static const char *const good[] = {"%u", "SN%08u", "%8u",      "B-%x-%%",
					   "%X", "%016X",  "%%%04x%%", "%64u"};
	static const char *const bad[] = {"",	 "SN",	  "%u%u",  "%d",  "%0u",  "%-5u",
					  "%lu", "%s",	  "a b%u", "%u;", "%65u", "%08",
					  "%",	 "%ux%x", "$%u",   "%.3u"};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(pool_format_check(good[i], why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(pool_format_check(bad[i], why, sizeof(why)), -EINVAL);
		assert_true(why[0]);
	}
	pool_format_check("SN%u%u", why, sizeof(why));
	assert_string_equal(why, "format 'SN%u%u' has more than one conversion");
	pool_format_check("SN", why, sizeof(why));
	assert_non_null(strstr(why, "no conversion"));
}

static void test_serial_values(void **state)
{
	struct pool_def d = serial("SN%08u", 1, 99999999, 1);
	char out[16];

	(void)state;
	assert_int_equal(pool_size(&d), 99999999);
	assert_int_equal(pool_blocks(&d), 99999999);
	assert_value(&d, 0, "SN00000001");
	assert_value(&d, 99999998, "SN99999999");
	assert_int_equal(pool_value(&d, 99999999, out, sizeof(out)), -ERANGE);
	assert_int_equal(pool_value_max_len(&d), 10);
	assert_int_equal(pool_value(&d, 0, out, 10), -ENOSPC);
	assert_int_equal(pool_value(&d, 0, out, 11), 0);

	/* a width is a minimum: the numbers past it grow, the end is the longest */
	d = serial("B%04x-%%", 0xfffe, 0x10001, 2);
	assert_value(&d, 0, "Bfffe-%");
	assert_value(&d, 2, "B10000-%");
	assert_int_equal(pool_value_max_len(&d), 8);
	assert_int_equal(pool_size(&d), 4);
	assert_int_equal(pool_blocks(&d), 2);

	d = serial("%5u", 7, 7, 1);
	assert_value(&d, 0, "    7");
	d = serial("%X", 0xabcdef, 0xabcdef, 1);
	assert_value(&d, 0, "ABCDEF");
	d = serial("%u", 0, UINT64_MAX, 1);
	assert_value(&d, UINT64_MAX - 1, "18446744073709551614");
	assert_int_equal(pool_value_max_len(&d), 20);
	assert_int_equal(pool_size(&d), UINT64_MAX);
	d = serial("%016x", UINT64_MAX - 1, UINT64_MAX, 1);
	assert_value(&d, 1, "ffffffffffffffff");

	/* whole blocks only */
	d = serial("%u", 1, 10, 3);
	assert_int_equal(pool_blocks(&d), 3);
}

static void test_mac_values(void **state)
{
	struct pool_def d = mac(0x001122000000ULL, 0x00112200ffffULL, 2);
	char out[32];

	(void)state;
	assert_int_equal(pool_size(&d), 65536);
	assert_int_equal(pool_blocks(&d), 32768);
	assert_value(&d, 0, "00:11:22:00:00:00");
	assert_value(&d, 1, "00:11:22:00:00:01");
	assert_value(&d, 0xabcd, "00:11:22:00:ab:cd");
	assert_value(&d, 65535, "00:11:22:00:ff:ff");
	assert_int_equal(pool_value(&d, 65536, out, sizeof(out)), -ERANGE);
	assert_int_equal(pool_value_max_len(&d), 17);
	assert_int_equal(pool_value(&d, 0, out, 17), -ENOSPC);

	d = mac(0xfffffffffffeULL, 0xffffffffffffULL, 1);
	assert_value(&d, 1, "ff:ff:ff:ff:ff:ff");
	assert_int_equal(pool_def_check(&d, NULL, 0), 0);
}

static void test_check(void **state)
{
	char why[600];
	struct pool_def d = serial("SN%u", 5, 4, 1);
	char fmt[POOL_VALUE_MAX + 8];

	(void)state;
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "start 5 is above end 4");
	d = serial("SN%u", 1, 3, 4);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "count 4 is larger than the pool (3 values)");
	d = serial("SN%u", 1, 3, 3);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), 0);
	d = serial("SN%u", 1, 30, 17);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "count 17 is not 1 … 16");
	d = serial("SN%u", 1, 30, 0);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	d = serial("SN%u%x", 1, 30, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	/* 250 literal bytes and a 20-digit end: 270 bytes > POOL_VALUE_MAX */
	memset(fmt, 'a', 250);
	strcpy(fmt + 250, "%u");
	d = serial(fmt, 0, 99999, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), 0);
	d = serial(fmt, 0, 9999999, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "makes values of 257 bytes"));

	d = mac(0x1000000000000ULL, 0x1000000000001ULL, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "MAC addresses have 48 bits");
	d = mac(0xffffffffffffULL, 0x1000000000000ULL, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	d = mac(2, 1, 1);
	assert_int_equal(pool_def_check(&d, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "above its end"));
}

static void test_fingerprints(void **state)
{
	char fp[256], hex[65], fp2_serial[256];
	struct pool_def d = serial("SN%08u", 1, 99999999, 1);
	char *vals[] = {"A1", "B2", "C3"};

	(void)state;
	assert_int_equal(pool_fingerprint(&d, fp, sizeof(fp)), 0);
	assert_string_equal(fp, "serial SN%08u from 1 count 1");
	/* a larger end is the same pool, grown */
	d.end = 199999999;
	assert_int_equal(pool_fingerprint(&d, fp2_serial, sizeof(fp2_serial)), 0);
	assert_string_equal(fp2_serial, fp);
	assert_int_equal(pool_fingerprint(&d, fp, 10), -ENOSPC);
	d = mac(0x001122000000ULL, 0x00112200ffffULL, 2);
	assert_int_equal(pool_fingerprint(&d, fp, sizeof(fp)), 0);
	assert_string_equal(fp, "mac from 001122000000 count 2");

	d = (struct pool_def){.kind = POOL_KIND_LIST, .values = vals, .nvalues = 3, .count = 1};
	sha256_hex("A1\nB2\nC3", 8, hex);
	assert_int_equal(pool_fingerprint(&d, fp, sizeof(fp)), 0);
	assert_memory_equal(fp, "list sha256:", 12);
	assert_memory_equal(fp + 12, hex, 64);
	assert_string_equal(fp + 76, " 3 count 1");
	/* a change of value, of order or of count changes it */
	{
		char fp2[256];
		char *other[] = {"A1", "C3", "B2"};

		d.values = other;
		assert_int_equal(pool_fingerprint(&d, fp2, sizeof(fp2)), 0);
		assert_string_not_equal(fp, fp2);
		d.values = vals;
		d.count = 3;
		assert_int_equal(pool_fingerprint(&d, fp2, sizeof(fp2)), 0);
		assert_string_not_equal(fp, fp2);
	}
	/* a list with values appended: its first values' text is the old list's */
	{
		char fp2[256], fp3[256];
		struct pool_def two = { .kind = POOL_KIND_LIST, .values = vals, .nvalues = 2,
					.count = 1 };

		d.count = 1;
		assert_int_equal(pool_fingerprint(&two, fp2, sizeof(fp2)), 0);
		assert_int_equal(pool_fingerprint_n(&d, 2, fp3, sizeof(fp3)), 0);
		assert_string_equal(fp2, fp3);
		assert_int_equal(pool_fingerprint_n(&d, 3, fp3, sizeof(fp3)), 0);
		assert_string_equal(fp, fp3);
		/* whole blocks only: 3 values of count 2 are one block, 2 values */
		d.count = 2;
		assert_int_equal(pool_fingerprint(&d, fp3, sizeof(fp3)), 0);
		assert_non_null(strstr(fp3, " 2 count 2"));
	}
}

/* ---- list files ---- */

struct list_fx {
	char *dir;
	struct pool_def d;
	char why[512];
};

static int list_setup(void **state)
{
	struct list_fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->dir = testutil_mkdtemp("test-pool");
	if (!fx->dir)
		return -1;
	fx->d.kind = POOL_KIND_LIST;
	fx->d.count = 1;
	fx->d.file = strdup(testutil_path(fx->dir, "values.txt"));
	fx->d.name = strdup("keys");
	*state = fx;
	return 0;
}

static int list_teardown(void **state)
{
	struct list_fx *fx = *state;

	pool_def_clear(&fx->d);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

static int load(struct list_fx *fx, const char *text)
{
	testutil_write_file(fx->d.file, text, strlen(text));
	fx->why[0] = '\0';
	return pool_def_load_list(&fx->d, fx->why, sizeof(fx->why));
}

static void assert_why(struct list_fx *fx, unsigned line, const char *rest)
{
	char want[600];

	snprintf(want, sizeof(want), "%s:%u: %s", fx->d.file, line, rest);
	assert_string_equal(fx->why, want);
}

static void test_list_load(void **state)
{
	struct list_fx *fx = *state;
	char fp[256];

	assert_int_equal(load(fx, "# keys of batch 7\nK-0001\n\n  K-0002 \r\n#K-0003\nK-0004"), 0);
	assert_int_equal(fx->d.nvalues, 3);
	assert_int_equal(pool_size(&fx->d), 3);
	assert_value(&fx->d, 0, "K-0001");
	assert_value(&fx->d, 1, "K-0002");
	assert_value(&fx->d, 2, "K-0004");
	assert_int_equal(pool_value_max_len(&fx->d), 6);
	assert_int_equal(pool_def_check(&fx->d, NULL, 0), 0);
	fx->d.count = 2;
	assert_int_equal(pool_blocks(&fx->d), 1);
	fx->d.count = 4;
	assert_int_equal(pool_def_check(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	fx->d.count = 1;
	assert_int_equal(pool_fingerprint(&fx->d, fp, sizeof(fp)), 0);

	/* a reload replaces the values */
	assert_int_equal(load(fx, "Z9\n"), 0);
	assert_int_equal(fx->d.nvalues, 1);
	assert_value(&fx->d, 0, "Z9");
	/* a failed one keeps them */
	assert_int_equal(load(fx, "a b\n"), -EINVAL);
	assert_int_equal(fx->d.nvalues, 1);
}

static void test_list_errors(void **state)
{
	struct list_fx *fx = *state;
	char *big;
	size_t bl = POOL_VALUE_MAX + 1;

	assert_int_equal(load(fx, "A\nB\n# c\nA\n"), -EINVAL);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s:4: duplicate value 'A' (first at %s:1)",
			 fx->d.file, fx->d.file);
		assert_string_equal(fx->why, want);
	}
	/* the first repeat in file order is the one reported */
	assert_int_equal(load(fx, "Z\nA\nQ\nZ\nA\n"), -EINVAL);
	assert_non_null(strstr(fx->why, ":4: duplicate value 'Z'"));
	assert_non_null(strstr(fx->why, ":1)"));

	assert_int_equal(load(fx, "ok\nnot ok\n"), -EINVAL);
	assert_why(
	    fx, 2,
	    "'not ok' is not a value (1 to 256 bytes of letters, digits and + / = : . _ @ , -)");
	assert_int_equal(load(fx, "x;reset\n"), -EINVAL);
	assert_non_null(strstr(fx->why, ":1: 'x;reset' is not a value"));

	assert_int_equal(load(fx, "# only comments\n\n"), -EINVAL);
	{
		char want[600];

		snprintf(want, sizeof(want), "%s: no values", fx->d.file);
		assert_string_equal(fx->why, want);
	}

	big = malloc(bl + 8);
	assert_non_null(big);
	strcpy(big, "a\n");
	memset(big + 2, 'b', bl);
	big[2 + bl] = '\0';
	assert_int_equal(load(fx, big), -EINVAL);
	assert_non_null(strstr(fx->why, ":2: '"));
	big[2 + bl - 1] = '\0'; /* exactly POOL_VALUE_MAX */
	assert_int_equal(load(fx, big), 0);
	assert_int_equal(pool_value_max_len(&fx->d), POOL_VALUE_MAX);
	free(big);

	testutil_write_file(fx->d.file, "a\0b\n", 4);
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	assert_why(fx, 1, "NUL byte");

	/* a comment may be long, a value line not */
	big = malloc(9000);
	assert_non_null(big);
	memset(big, '#', 8000);
	strcpy(big + 8000, "\nK1\n");
	assert_int_equal(load(fx, big), 0);
	assert_int_equal(fx->d.nvalues, 1);
	assert_value(&fx->d, 0, "K1");
	memset(big, 'k', 8000);
	assert_int_equal(load(fx, big), -EINVAL);
	assert_why(fx, 1, "line longer than 4096 bytes");
	free(big);

	/* only a regular file: not a folder, a FIFO or a device that never ends */
	free(fx->d.file);
	fx->d.file = strdup("/dev/zero");
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	assert_string_equal(fx->why, "/dev/zero: not a regular file");
	free(fx->d.file);
	fx->d.file = strdup(fx->dir);
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	assert_non_null(strstr(fx->why, ": not a regular file"));
	free(fx->d.file);
	fx->d.file = strdup(testutil_path(fx->dir, "fifo"));
	assert_int_equal(mkfifo(fx->d.file, 0600), 0);
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	assert_non_null(strstr(fx->why, "fifo: not a regular file"));

	free(fx->d.file);
	fx->d.file = strdup(testutil_path(fx->dir, "missing.txt"));
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -ENOENT);
	assert_non_null(strstr(fx->why, "missing.txt: No such file"));
}

static void test_list_max(void **state)
{
	struct list_fx *fx = *state;
	size_t n = POOL_LIST_MAX + 1, len = 0;
	char *text = malloc(n * 9);

	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%07zu\n", i);
	testutil_write_file(fx->d.file, text, len);
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -E2BIG);
	assert_why(fx, POOL_LIST_MAX + 1, "more than 1000000 values");
	/* exactly the maximum, the last line a repeat of the first: found */
	len -= 8;
	memcpy(text + len - 8, "0000000\n", 8);
	testutil_write_file(fx->d.file, text, len);
	assert_int_equal(pool_def_load_list(&fx->d, fx->why, sizeof(fx->why)), -EINVAL);
	assert_non_null(strstr(fx->why, ":1000000: duplicate value '0000000'"));
	free(text);
}

/* ---- references ---- */

static void test_refs_scan(void **state)
{
	struct pool_ref r[4];
	size_t n = 99;
	char why[256];
	const char *t =
	    "setenv serial# ${pool:sn}; setenv ethaddr ${pool:mac:1} ${loadaddr} ${pool}";

	(void)state;
	assert_int_equal(pool_refs_scan(t, r, 4, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].name, "sn");
	assert_int_equal(r[0].index, 0);
	assert_int_equal(r[0].off, 15);
	assert_int_equal(r[0].len, 10);
	assert_string_equal(r[1].name, "mac");
	assert_int_equal(r[1].index, 1);
	assert_memory_equal(t + r[1].off, "${pool:mac:1}", r[1].len);

	/* more than max: counted, not written */
	assert_int_equal(pool_refs_scan(t, r, 1, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pool_refs_scan("no variables ${x}", NULL, 0, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pool_refs_scan("${pool:a:15}", r, 4, &n, why, sizeof(why)), 0);
	assert_int_equal(r[0].index, 15);

	assert_int_equal(pool_refs_scan("x ${pool:sn", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "'${pool:' not closed by '}'");
	assert_int_equal(pool_refs_scan("${pool:}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "bad pool name"));
	assert_int_equal(pool_refs_scan("${pool:9a}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bad pool name '9a' in '${pool:9a}' ([A-Za-z][A-Za-z0-9_-]*)");
	assert_int_equal(pool_refs_scan("${pool:a b}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_int_equal(pool_refs_scan("${pool:a:}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "empty index in '${pool:a:}'");
	assert_int_equal(pool_refs_scan("${pool:a:16}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "bad index in '${pool:a:16}' (0 … 15)");
	assert_int_equal(pool_refs_scan("${pool:a:x}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_int_equal(pool_refs_scan("${pool:a:1:2}", r, 4, &n, why, sizeof(why)), -EINVAL);
	assert_int_equal(pool_refs_scan("${pool:a:99999999999}", r, 4, &n, why, sizeof(why)),
			 -EINVAL);
}

static int lookup(void *ud, const char *name, uint32_t index, char *out, size_t outlen)
{
	int *calls = ud;
	int n;

	(*calls)++;
	if (!strcmp(name, "gone"))
		return -ENOENT;
	n = snprintf(out, outlen, "%s#%u", name, index);
	return n >= 0 && (size_t)n < outlen ? 0 : -ENOSPC;
}

static void test_expand(void **state)
{
	char out[64];
	int calls = 0;

	(void)state;
	assert_int_equal(pool_expand("setenv a ${pool:sn} ${pool:mac:3}${loadaddr}", lookup, &calls,
				     out, sizeof(out)),
			 0);
	assert_string_equal(out, "setenv a sn#0 mac#3${loadaddr}");
	assert_int_equal(calls, 2);
	assert_int_equal(pool_expand("plain", lookup, &calls, out, sizeof(out)), 0);
	assert_string_equal(out, "plain");
	assert_int_equal(pool_expand("", lookup, &calls, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(pool_expand("${pool:gone}", lookup, &calls, out, sizeof(out)), -ENOENT);
	assert_int_equal(pool_expand("${pool:sn", lookup, &calls, out, sizeof(out)), -EINVAL);
	/* "ab sn#0" is 7 bytes: 8 fits, 7 does not */
	assert_int_equal(pool_expand("ab ${pool:sn}", lookup, &calls, out, 8), 0);
	assert_int_equal(pool_expand("ab ${pool:sn}", lookup, &calls, out, 7), -E2BIG);
	assert_int_equal(pool_expand("abcdefgh", lookup, &calls, out, 8), -E2BIG);
	assert_int_equal(pool_expand("x", lookup, &calls, out, 0), -E2BIG);
}

static void test_find_clear(void **state)
{
	struct pool_def defs[2] = {{.name = strdup("a")}, {.name = strdup("b")}};

	(void)state;
	assert_ptr_equal(pool_find(defs, 2, "b"), &defs[1]);
	assert_null(pool_find(defs, 2, "c"));
	assert_null(pool_find(defs, 0, "a"));
	defs[0].format = strdup("%u");
	defs[0].file = strdup("/x");
	defs[0].values = calloc(2, sizeof(char *));
	defs[0].values[0] = strdup("v");
	defs[0].values[1] = strdup("w");
	defs[0].nvalues = 2;
	pool_def_clear(&defs[0]);
	assert_null(defs[0].name);
	assert_null(defs[0].values);
	assert_int_equal(defs[0].nvalues, 0);
	pool_def_clear(&defs[1]);
	pool_def_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_value_valid),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_serial_values),
	    cmocka_unit_test(test_mac_values),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_fingerprints),
	    cmocka_unit_test_setup_teardown(test_list_load, list_setup, list_teardown),
	    cmocka_unit_test_setup_teardown(test_list_errors, list_setup, list_teardown),
	    cmocka_unit_test_setup_teardown(test_list_max, list_setup, list_teardown),
	    cmocka_unit_test(test_refs_scan),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_find_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
