/* test-stats: the station's statistics module. */
#include "daemon/stats.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

static int64_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void test_results_and_steps(void **state)
{
	struct stats s = { 0 };
	json_t *j, *steps, *b;

	(void)state;
	stats_add_result(&s, PORT_RESULT_OK, 100);
	stats_add_result(&s, PORT_RESULT_OK, 50);
	stats_add_result(&s, PORT_RESULT_FAILED, 7);
	stats_add_result(&s, PORT_RESULT_NONE, 0);   /* counted as failed */
	stats_add_result(&s, PORT_RESULT_BOOT_LOOP, 0);
	stats_add_result(&s, PORT_RESULT_ABORTED, 3);
	stats_add_step(&s, "SDP: boot -f u-boot.imx", 300);
	stats_add_step(&s, "FB: flash rootfs rootfs.ext4", 4000);
	stats_add_step(&s, "SDP: boot -f u-boot.imx", 100);
	struct stats_process proc = { .rss_kib = 7, .fds = 9, .loop_events = 11 };

	j = stats_json(&s, 12345, 4, 1, &proc);
	assert_non_null(j);
	assert_int_equal(jint(json_object_get(j, "process"), "rss_kib"), 7);
	assert_int_equal(jint(json_object_get(j, "process"), "fds"), 9);
	assert_int_equal(jint(json_object_get(j, "process"), "loop_events"), 11);
	assert_int_equal(jint(j, "uptime_ms"), 12345);
	assert_int_equal(jint(j, "ports"), 4);
	assert_int_equal(jint(j, "busy"), 1);
	assert_int_equal(jint(j, "bytes"), 160);
	b = json_object_get(j, "boards");
	assert_int_equal(jint(b, "ok"), 2);
	assert_int_equal(jint(b, "failed"), 2);
	assert_int_equal(jint(b, "boot-loop"), 1);
	assert_int_equal(jint(b, "aborted"), 1);
	assert_int_equal(jint(b, "total"), 6);
	steps = json_object_get(j, "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "step")),
			    "SDP: boot -f u-boot.imx");
	assert_int_equal(jint(json_array_get(steps, 0), "count"), 2);
	assert_int_equal(jint(json_array_get(steps, 0), "avg_ms"), 200);
	assert_int_equal(jint(json_array_get(steps, 0), "min_ms"), 100);
	assert_int_equal(jint(json_array_get(steps, 0), "max_ms"), 300);
	json_decref(j);
	stats_clear(&s);
	assert_int_equal(s.nsteps, 0);
	assert_int_equal(s.ok, 2); /* counters stay */
}

/* this process: a resident set, and one more descriptor once one is opened */
static void test_process(void **state)
{
	struct stats_process a, b;
	int fd;

	(void)state;
	stats_process_read(&a);
	assert_true(a.rss_kib > 0);
	assert_true(a.fds >= 3);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	stats_process_read(&b);
	close(fd);
	assert_int_equal(b.fds, a.fds + 1);
}

/* at most STATS_STEPS_MAX distinct texts: more are not counted, known ones still are */
static void test_steps_bounded(void **state)
{
	struct stats s = { 0 };
	char text[32];

	(void)state;
	for (unsigned i = 0; i < STATS_STEPS_MAX + 10; i++) {
		snprintf(text, sizeof(text), "FB: ucmd step %u", i);
		stats_add_step(&s, text, i);
	}
	assert_int_equal(s.nsteps, STATS_STEPS_MAX);
	stats_add_step(&s, "FB: ucmd step 0", 10);
	assert_int_equal(s.steps[0].count, 2);
	stats_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_and_steps),
		cmocka_unit_test(test_steps_bounded),
		cmocka_unit_test(test_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
