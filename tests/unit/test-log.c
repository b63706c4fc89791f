/* test-log: levels, prefixes, errno helpers, the hook, the rate limit of
 * repeated lines. stderr is captured
 * in a temporary file. */
#include "common/log.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static int saved_stderr = -1;
static FILE *capture;

static int setup(void **state)
{
	capture = tmpfile();
	assert_non_null(capture);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
	log_set_max_level(LOG_INFO);
	log_set_hook(NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	return 0;
}

/* Everything written to stderr since setup. */
static const char *captured(void)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	rewind(capture);
	n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = '\0';
	return buf;
}

static void test_levels(void **state)
{
	assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_string("info"), LOG_INFO);
	assert_int_equal(log_level_from_string("notice"), LOG_NOTICE);
	assert_int_equal(log_level_from_string("warning"), LOG_WARNING);
	assert_int_equal(log_level_from_string("err"), LOG_ERR);
	assert_int_equal(log_level_from_string("error"), LOG_ERR);
	assert_int_equal(log_level_from_string("7"), 7);
	assert_int_equal(log_level_from_string("0"), 0);
	assert_int_equal(log_level_from_string("8"), -EINVAL);
	assert_int_equal(log_level_from_string("77"), -EINVAL);
	assert_int_equal(log_level_from_string(""), -EINVAL);
	assert_int_equal(log_level_from_string(NULL), -EINVAL);
	assert_int_equal(log_level_from_string("verbose"), -EINVAL);
	assert_string_equal(log_level_to_string(LOG_WARNING), "warning");
	assert_null(log_level_to_string(8));
	assert_null(log_level_to_string(-1));
	log_set_max_level(99);
	assert_int_equal(log_get_max_level(), LOG_DEBUG);
	log_set_max_level(-5);
	assert_int_equal(log_get_max_level(), LOG_EMERG);
}

static void test_prefix(void **state)
{
	log_set_prefix(true);
	assert_int_equal(log_info("port %s: %s -> %s", "1-1", "sdp", "wait-reenum"), 0);
	assert_int_equal(log_error("bad"), 0);
	assert_string_equal(captured(), "<6>port 1-1: sdp -> wait-reenum\n<3>bad\n");
}

static void test_plain_with_ident(void **state)
{
	setenv("JOURNAL_STREAM", "", 1);
	log_open("flashd");     /* stderr is a file, not a tty: prefixes */
	log_notice("x");
	log_set_prefix(false);
	log_notice("y");
	assert_string_equal(captured(), "<5>x\nflashd: y\n");
	unsetenv("JOURNAL_STREAM");
}

static void test_journal_stream(void **state)
{
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_open(NULL);
	log_warning("w");
	assert_string_equal(captured(), "<4>w\n");
	unsetenv("JOURNAL_STREAM");
}

static void test_errno(void **state)
{
	log_set_prefix(true);
	errno = 1234;
	assert_int_equal(log_error_errno(-ENOENT, "open %s", "/x"), -ENOENT);
	assert_int_equal(errno, 1234);
	assert_int_equal(log_warning_errno(EACCES, "positive too"), -EACCES);
	/* dropped by level, still returns the error */
	assert_int_equal(log_debug_errno(-EIO, "quiet"), -EIO);
	assert_int_equal(log_info_errno(0, "no error"), 0);
	assert_string_equal(captured(), "<3>open /x: No such file or directory\n"
					"<4>positive too: Permission denied\n"
					"<6>no error\n");
}

static void test_max_level(void **state)
{
	log_set_prefix(true);
	log_set_max_level(LOG_WARNING);
	log_info("dropped");
	log_debug("dropped");
	log_warning("kept");
	log_set_max_level(LOG_DEBUG);
	log_debug("now kept");
	assert_string_equal(captured(), "<4>kept\n<7>now kept\n");
}

static void test_newlines_and_length(void **state)
{
	char big[5000];
	const char *out;

	log_set_prefix(true);
	log_info("two\nlines");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_error_errno(-EIO, "%s", big);
	out = captured();
	assert_memory_equal(out, "<6>two lines\n<3>aaa", 19);
	/* one bounded line: the tail (and the error text) are cut */
	assert_int_equal(strlen(out), strlen("<6>two lines\n") + 3 + 2047 + 1);
	assert_int_equal(out[strlen(out) - 1], '\n');
}

static int hook_calls;
static char hook_msg[256];
static int hook_level;

static void hook(void *ud, int level, const char *msg)
{
	assert_ptr_equal(ud, &hook_calls);
	hook_calls++;
	hook_level = level;
	snprintf(hook_msg, sizeof(hook_msg), "%s", msg);
}

static void hook_that_logs(void *ud, int level, const char *msg)
{
	hook_calls++;
	log_error("from the hook: %s", msg);
}

static void test_hook_no_recursion(void **state)
{
	log_set_prefix(true);
	hook_calls = 0;
	log_set_hook(hook_that_logs, NULL);
	log_info("once");
	assert_int_equal(hook_calls, 1);
	assert_string_equal(captured(), "<6>once\n<3>from the hook: once\n");
	log_set_hook(NULL, NULL);
}

static void test_hook(void **state)
{
	log_set_prefix(true);
	hook_calls = 0;
	log_set_hook(hook, &hook_calls);
	log_warning_errno(-EBUSY, "claim");
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_level, LOG_WARNING);
	assert_string_equal(hook_msg, "claim: Device or resource busy");
	log_debug("filtered out");
	assert_int_equal(hook_calls, 1);
	log_set_hook(NULL, NULL);
	log_error("x");
	assert_int_equal(hook_calls, 1);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* One line repeated from one call site: burst lines, then one summary once
 * the interval is over; other lines (other text, other sites) pass. */
static void test_ratelimit(void **state)
{
	unsigned long long before = log_suppressed_total();
	const char *out;

	log_set_prefix(true);
	log_set_ratelimit(300, 5);
	hook_calls = 0;
	log_set_hook(hook, &hook_calls);
	for (int i = 0; i < 100000; i++)
		log_warning_errno(-EMFILE, "control: accept");
	assert_int_equal(hook_calls, 5);
	assert_int_equal(log_suppressed_total() - before, 100000 - 5);
	/* the same site with other text, and another site, are not held back */
	for (int i = 0; i < 10; i++)
		log_info("port %s: done", i % 2 ? "1-1" : "1-2");
	for (int i = 0; i < 3; i++)
		log_info("other");
	out = captured();
	assert_int_equal(count(out, "<4>control: accept: Too many open files\n"), 5);
	assert_int_equal(count(out, "port 1-1: done"), 5);
	assert_int_equal(count(out, "port 1-2: done"), 5);
	assert_int_equal(count(out, "<6>other\n"), 3);
	assert_null(strstr(out, "suppressed"));
	/* the interval is over: the count comes with the next line */
	usleep(350 * 1000);
	log_info("later");
	out = captured();
	assert_non_null(strstr(out, "<4>99995 more messages like this were suppressed: "
				    "control: accept: Too many open files\n<6>later\n"));
	/* and the site may write again */
	log_warning_errno(-EMFILE, "control: accept");
	assert_int_equal(count(captured(), "<4>control: accept: Too many open files\n"), 6);
	log_set_hook(NULL, NULL);
	log_set_ratelimit(LOG_RATELIMIT_INTERVAL_MS, LOG_RATELIMIT_BURST);
}

static void test_ratelimit_off(void **state)
{
	log_set_prefix(true);
	log_set_ratelimit(1000, 0);
	for (int i = 0; i < 50; i++)
		log_info("same");
	assert_int_equal(count(captured(), "<6>same\n"), 50);
	log_set_ratelimit(LOG_RATELIMIT_INTERVAL_MS, LOG_RATELIMIT_BURST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_levels),
		T(test_prefix),
		T(test_plain_with_ident),
		T(test_journal_stream),
		T(test_errno),
		T(test_max_level),
		T(test_newlines_and_length),
		T(test_hook),
		T(test_hook_no_recursion),
		T(test_ratelimit),
		T(test_ratelimit_off),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
