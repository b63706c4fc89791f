/* test-pgrow: a journal record as a flashd_results row, and the guard
 * against a replaced journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flashctl/pgrow.h"

/* the RECORD of flashd-control(7), shortened */
static const char record[] =
	"{\"port\":\"1-1.4\",\"slot\":\"A3\",\"uid\":\"0a1b2c3d4e5f6071\",\"serial\":null,"
	"\"plan\":\"/etc/flashd/plans/full.lst\",\"plan_sha256\":\"9f86d0\","
	"\"start_ms\":1764151100000,\"end_ms\":1764151183000,\"result\":\"failed\","
	"\"failed_step\":\"FB: flash rootfs rootfs.ext4\",\"reason\":\"timeout: no OKAY\","
	"\"bytes\":73400320,\"steps\":[{\"index\":0,\"ms\":2100,\"ok\":true}],\"rate\":1.5}";

static json_t *load(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	assert_non_null(v);
	return v;
}

static void test_row(void **state)
{
	json_t *rec = load(record);
	struct pgrow row;
	/* $1 … $15 as pgrow_insert_sql names them */
	static const char *const want[PGROW_NPARAMS] = {
		"st-7", "18211", "1-1.4", "A3", "0a1b2c3d4e5f6071", NULL,
		"/etc/flashd/plans/full.lst", "9f86d0", "failed", "FB: flash rootfs rootfs.ext4",
		"timeout: no OKAY", "1764151100000", "1764151183000", "73400320", NULL,
	};

	(void)state;
	assert_int_equal(pgrow_from_record(&row, "st-7", 18211, rec), 0);
	for (size_t i = 0; i < PGROW_NPARAMS - 1; i++) {
		if (!want[i])
			assert_null(row.values[i]);
		else
			assert_string_equal(row.values[i], want[i]);
	}
	/* the whole record, as the same JSON */
	json_t *back = load(row.values[PGROW_NPARAMS - 1]);
	assert_true(json_equal(back, rec));
	json_decref(back);
	assert_non_null(strstr(pgrow_insert_sql, "$15::jsonb"));
	assert_non_null(strstr(pgrow_insert_sql, "ON CONFLICT (station, line) DO NOTHING"));
	pgrow_clear(&row);
	pgrow_clear(NULL);
	json_decref(rec);
}

/* Missing or odd fields are NULL columns, never a stop: the jsonb keeps them. */
static void test_row_sparse(void **state)
{
	json_t *rec = load("{\"result\":\"ok\",\"port\":7,\"start_ms\":\"soon\",\"end_ms\":1.5}");
	struct pgrow row;

	(void)state;
	assert_int_equal(pgrow_from_record(&row, "s", 1, rec), 0);
	assert_string_equal(row.values[1], "1");
	assert_null(row.values[2]);  /* port not a string */
	assert_string_equal(row.values[8], "ok");
	assert_null(row.values[11]); /* start_ms not an integer */
	assert_null(row.values[12]); /* end_ms not an integer */
	assert_null(row.values[13]); /* no bytes */
	pgrow_clear(&row);
	json_decref(rec);
}

static void test_not_record(void **state)
{
	json_t *rec = load("{\"port\":\"1-1\"}"), *arr = load("[1]");
	struct pgrow row = { .record = NULL };

	(void)state;
	assert_int_equal(pgrow_from_record(&row, "s", 1, rec), -EBADMSG);
	assert_int_equal(pgrow_from_record(&row, "s", 1, arr), -EBADMSG);
	json_decref(rec);
	rec = load(record);
	assert_int_equal(pgrow_from_record(&row, "s", 0, rec), -EBADMSG);  /* lines are 1-based */
	assert_int_equal(pgrow_from_record(&row, NULL, 1, rec), -EBADMSG);
	assert_null(row.record); /* untouched */
	json_decref(rec);
	json_decref(arr);
}

static void test_guard_same(void **state)
{
	json_t *a = load(record);
	/* as jsonb gives it back: keys reordered, spaces */
	json_t *b = load("{\"rate\": 1.5, \"bytes\": 73400320, \"steps\": [{\"ok\": true, \"ms\": 2100,"
			 " \"index\": 0}], \"port\": \"1-1.4\", \"slot\": \"A3\", \"uid\":"
			 " \"0a1b2c3d4e5f6071\", \"serial\": null, \"plan\": \"/etc/flashd/plans/full.lst\","
			 " \"plan_sha256\": \"9f86d0\", \"start_ms\": 1764151100000, \"end_ms\": 1764151183000,"
			 " \"result\": \"failed\", \"failed_step\": \"FB: flash rootfs rootfs.ext4\","
			 " \"reason\": \"timeout: no OKAY\"}");
	char why[256] = "";

	(void)state;
	assert_int_equal(pgrow_guard(a, b, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	json_decref(a);
	json_decref(b);
}

static void test_guard_replaced(void **state)
{
	json_t *a = load(record), *b = load(record);
	char why[256];

	(void)state;
	json_object_set_new(b, "end_ms", json_integer(1764151183007));
	assert_int_equal(pgrow_guard(a, b, why, sizeof(why)), -1);
	assert_string_equal(why, "end_ms: 1764151183000 in the database, 1764151183007 in the journal");
	/* a key the journal's record lacks */
	json_decref(b);
	b = load(record);
	json_object_del(b, "slot");
	assert_int_equal(pgrow_guard(a, b, why, sizeof(why)), -1);
	assert_string_equal(why, "slot: \"A3\" in the database, (none) in the journal");
	/* a key only the journal's record has */
	assert_int_equal(pgrow_guard(b, a, why, sizeof(why)), -1);
	assert_string_equal(why, "slot: (none) in the database, \"A3\" in the journal");
	/* long values are cut */
	json_object_set_new(b, "slot", json_string("0123456789012345678901234567890123456789"
						   "0123456789012345678901234567890123456789"));
	assert_int_equal(pgrow_guard(a, b, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "…"));
	/* not objects at all */
	json_t *n = json_null();
	assert_int_equal(pgrow_guard(a, n, why, sizeof(why)), -1);
	assert_string_equal(why, "the record differs");
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row),          cmocka_unit_test(test_row_sparse),
		cmocka_unit_test(test_not_record),   cmocka_unit_test(test_guard_same),
		cmocka_unit_test(test_guard_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
