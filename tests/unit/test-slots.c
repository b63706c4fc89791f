/* Unit tests for slots: the slot table built from flashd.conf, the mapping
 * both ways, the allow-list, per-slot yield and the alert. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/slots.h"
#include "flashd/conf.h"

static struct conf *conf_of(const char *text)
{
	struct conf *c = NULL;
	char *errors = NULL;

	if (conf_parse("t.conf", NULL, text, strlen(text), &c, &errors) < 0)
		fail_msg("%s", errors);
	return c;
}

static struct slots build(const char *text, const struct slots *old)
{
	struct conf *c = conf_of(text);
	struct slots s;

	assert_int_equal(slots_build(c, old, &s), 0);
	conf_free(c);
	return s;
}

static void test_mapping(void **state)
{
	struct slots s = build("slot B1 = 1-1.2\nslot A10 = 1-1.3\nslot A9 = 1-1.4\n", NULL);

	(void)state;
	assert_int_equal(s.n, 3);
	/* natural order of the names */
	assert_string_equal(s.v[0].name, "A9");
	assert_string_equal(s.v[1].name, "A10");
	assert_string_equal(s.v[2].name, "B1");
	assert_string_equal(slots_of_port(&s, "1-1.3")->name, "A10");
	assert_string_equal(slots_find(&s, "B1")->port, "1-1.2");
	assert_null(slots_of_port(&s, "1-1.5"));
	assert_null(slots_of_port(&s, NULL));
	assert_null(slots_find(&s, "1-1.2"));
	/* without slots-only no port is ignored */
	assert_false(slots_ignores(&s, "1-1.5"));
	assert_int_equal(s.alert_after, 3);
	slots_clear(&s);
	assert_null(s.v);
	slots_clear(&s);   /* twice: fine */
}

static void test_allow_list(void **state)
{
	struct slots s = build("slot A1 = 1-1\nslot A2 = 1-2\nslots-only = yes\n", NULL);

	(void)state;
	assert_true(s.only);
	assert_false(slots_ignores(&s, "1-1"));
	assert_false(slots_ignores(&s, "1-2"));
	assert_true(slots_ignores(&s, "1-3"));
	assert_true(slots_ignores(&s, "1-1.1"));   /* behind a hub on a slot's port: no slot */
	slots_clear(&s);
	/* no slots at all: nothing is ignored */
	s = build("", NULL);
	assert_int_equal(s.n, 0);
	assert_false(slots_ignores(&s, "1-1"));
	slots_clear(&s);
}

static void test_yield_and_alert(void **state)
{
	struct slots s = build("slot A1 = 1-1\n", NULL);
	struct slot *a = slots_find(&s, "A1");
	char buf[96];
	json_t *j;

	(void)state;
	assert_false(slots_add_result(&s, a, PORT_RESULT_OK, NULL));
	assert_false(slots_add_result(&s, a, PORT_RESULT_FAILED, "flash rootfs: FAIL"));
	assert_false(slots_add_result(&s, a, PORT_RESULT_FAILED, NULL));
	assert_string_equal(a->last_reason, "failed");
	/* boot loops and aborts are not the slot's: nothing changes */
	assert_false(slots_add_result(&s, a, PORT_RESULT_BOOT_LOOP, "boot loop"));
	assert_false(slots_add_result(&s, a, PORT_RESULT_ABORTED, "aborted by the operator"));
	assert_int_equal(a->in_row, 2);
	assert_null(slots_alert_text(&s, a, buf, sizeof(buf)));
	/* the third failure in a row raises the alert (once) */
	assert_true(slots_add_result(&s, a, PORT_RESULT_NONE, "no answer"));
	assert_true(a->alert);
	assert_string_equal(slots_alert_text(&s, a, buf, sizeof(buf)),
			    "3 failures in a row: check cable/pogo pins");
	assert_false(slots_add_result(&s, a, PORT_RESULT_FAILED, "timeout"));
	assert_true(a->alert);
	j = slots_yield_json(&s, a);
	assert_int_equal(json_integer_value(json_object_get(j, "ok")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 4);
	assert_int_equal(json_integer_value(json_object_get(j, "failures_in_row")), 4);
	assert_string_equal(json_string_value(json_object_get(j, "last_reason")), "timeout");
	assert_string_equal(json_string_value(json_object_get(j, "alert")),
			    "4 failures in a row: check cable/pogo pins");
	json_decref(j);
	/* the next ok board clears it */
	assert_true(slots_add_result(&s, a, PORT_RESULT_OK, NULL));
	assert_false(a->alert);
	assert_int_equal(a->in_row, 0);
	assert_int_equal(a->ok, 2);
	assert_string_equal(a->last_reason, "timeout");   /* the last failure's, still */
	j = slots_yield_json(&s, a);
	assert_true(json_is_null(json_object_get(j, "alert")));
	json_decref(j);
	slots_clear(&s);
}

static void test_alert_setting(void **state)
{
	struct slots s = build("slot A1 = 1-1\nslot-alert = 0\n", NULL), t;
	struct slot *a = slots_find(&s, "A1");
	char buf[96];

	(void)state;
	for (int i = 0; i < 50; i++)
		assert_false(slots_add_result(&s, a, PORT_RESULT_FAILED, "x"));
	assert_false(a->alert);
	/* a reload keeps the yield by name and applies the new setting */
	t = build("slot A1 = 1-1\nslot B1 = 1-2\nslot-alert = 1\n", &s);
	assert_int_equal(slots_find(&t, "A1")->failed, 50);
	assert_true(slots_find(&t, "A1")->alert);
	assert_int_equal(slots_find(&t, "B1")->failed, 0);
	assert_false(slots_find(&t, "B1")->alert);
	assert_true(slots_add_result(&t, slots_find(&t, "B1"), PORT_RESULT_FAILED, "x"));
	assert_string_equal(slots_alert_text(&t, slots_find(&t, "B1"), buf, sizeof(buf)),
			    "1 failure in a row: check cable/pogo pins");
	slots_clear(&s);
	/* a renamed slot starts from nothing */
	s = build("slot C1 = 1-1\n", &t);
	assert_int_equal(s.v[0].failed, 0);
	slots_clear(&s);
	slots_clear(&t);
}

static void test_json(void **state)
{
	struct slots s = build("slot A10 = 1-2\nslot A2 = 1-1\n", NULL);
	json_t *j;

	(void)state;
	slots_add_result(&s, slots_find(&s, "A10"), PORT_RESULT_FAILED, "FAIL");
	j = slots_json(&s);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "slot")), "A2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "port")), "1-1");
	assert_true(json_is_null(json_object_get(json_array_get(j, 0), "last_reason")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "slot")), "A10");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 1), "failed")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "last_reason")),
			    "FAIL");
	json_decref(j);
	slots_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_yield_and_alert),
		cmocka_unit_test(test_alert_setting),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
