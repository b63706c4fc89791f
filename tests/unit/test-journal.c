/* test-journal: append, query filters, torn-line recovery, error paths. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/journal.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char path[600];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->dir = testutil_mkdtemp("test-journal")))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/results.jsonl", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r = testutil_rmtree(f->dir);

	free(f);
	return r;
}

static json_t *record(const char *port, const char *result, int64_t end_ms)
{
	return json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:[{s:s, s:s}]}", "port", port, "uid",
			 NULL, "result", result, "start_ms", (json_int_t)(end_ms - 1000),
			 "end_ms", (json_int_t)end_ms, "bytes", (json_int_t)4096, "images",
			 "path", "a.img", "sha256", "00");
}

static void append(struct journal *j, const char *port, const char *result, int64_t end_ms)
{
	json_t *r = record(port, result, end_ms);
	assert_int_equal(journal_append(j, r), 0);
	json_decref(r);
}

/* Ports of the query result, comma-joined. */
static void expect_ports(struct journal *j, const struct journal_filter *f, const char *want)
{
	json_t *a = journal_query(j, f), *rec;
	char got[512] = "";
	size_t i;

	assert_non_null(a);
	json_array_foreach(a, i, rec) {
		if (i)
			strcat(got, ",");
		strcat(got, json_string_value(json_object_get(rec, "port")));
	}
	assert_string_equal(got, want);
	json_decref(a);
}

static void test_append_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	struct stat st;
	size_t len;

	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_size, 0);
	expect_ports(j, NULL, "");
	append(j, "1-1", "ok", 1000);
	append(j, "1-2", "failed", 2000);
	/* one line each, compact, in order */
	char *text = testutil_slurp(f->path, &len);
	char *nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_int_equal(text[len - 1], '\n');
	assert_ptr_equal(strchr(nl + 1, '\n'), text + len - 1);
	assert_true(strncmp(text, "{\"port\":\"1-1\",\"uid\":null,\"result\":\"ok\"", 38) == 0);
	free(text);
	expect_ports(j, NULL, "1-1,1-2");
	journal_close(j);

	/* reopen: appends after what is there */
	assert_int_equal(journal_open(f->path, &j), 0);
	append(j, "1-3", "ok", 3000);
	expect_ports(j, NULL, "1-1,1-2,1-3");
	assert_null(journal_close(j));
	assert_null(journal_close(NULL));
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	struct journal *j;

	assert_int_equal(journal_open(f->path, &j), 0);
	append(j, "1-1", "ok", 1000);
	append(j, "1-2", "failed", 2000);
	append(j, "1-1", "boot-loop", 3000);
	append(j, "1-3", "ok", 4000);
	append(j, "1-1", "ok", 5000);
	append(j, "1-2", "aborted", 6000);

	expect_ports(j, &(struct journal_filter){ .port = "1-1" }, "1-1,1-1,1-1");
	expect_ports(j, &(struct journal_filter){ .port = "9-9" }, "");
	expect_ports(j, &(struct journal_filter){ .result = "ok" }, "1-1,1-3,1-1");
	expect_ports(j, &(struct journal_filter){ .since_ms = 4000 }, "1-3,1-1,1-2");
	expect_ports(j, &(struct journal_filter){ .since_ms = 6001 }, "");
	/* limit keeps the last N, oldest first */
	expect_ports(j, &(struct journal_filter){ .limit = 2 }, "1-1,1-2");
	expect_ports(j, &(struct journal_filter){ .limit = 1 }, "1-2");
	expect_ports(j, &(struct journal_filter){ .limit = 100 }, "1-1,1-2,1-1,1-3,1-1,1-2");
	/* combined */
	expect_ports(j, &(struct journal_filter){ .port = "1-1", .result = "ok", .limit = 1 },
		     "1-1");
	json_t *a = journal_query(j, &(struct journal_filter){ .port = "1-1", .result = "ok",
							       .limit = 1 });
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "end_ms")),
			 5000);
	json_decref(a);
	expect_ports(j, &(struct journal_filter){ .port = "1-2", .since_ms = 2500 }, "1-2");
	journal_close(j);
}

static void test_since_uses_start_without_end(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	json_t *r;

	assert_int_equal(journal_open(f->path, &j), 0);
	r = json_pack("{s:s,s:I}", "port", "a", "start_ms", (json_int_t)500);
	assert_int_equal(journal_append(j, r), 0);
	json_decref(r);
	r = json_pack("{s:s}", "port", "b"); /* no time at all: never "since" anything */
	assert_int_equal(journal_append(j, r), 0);
	json_decref(r);
	expect_ports(j, &(struct journal_filter){ .since_ms = 400 }, "a");
	expect_ports(j, &(struct journal_filter){ .since_ms = 600 }, "");
	expect_ports(j, NULL, "a,b");
	journal_close(j);
}

static void test_torn_no_newline(void **state)
{
	struct fixture *f = *state;
	const char good[] = "{\"port\":\"1-1\",\"result\":\"ok\"}\n{\"port\":\"1-2\",\"result\":\"ok\"}\n";
	char data[256];
	struct journal *j;
	size_t len;

	snprintf(data, sizeof(data), "%s{\"port\":\"1-3\",\"res", good);
	testutil_write_file(f->path, data, strlen(data));
	assert_int_equal(journal_open(f->path, &j), 0);
	char *text = testutil_slurp(f->path, &len);
	assert_string_equal(text, good);
	free(text);
	expect_ports(j, NULL, "1-1,1-2");
	append(j, "1-4", "ok", 1);
	expect_ports(j, NULL, "1-1,1-2,1-4");
	journal_close(j);
}

static void test_torn_unparsable_line(void **state)
{
	struct fixture *f = *state;
	const char good[] = "{\"port\":\"1-1\"}\n";
	char data[256];
	struct journal *j;
	size_t len;

	/* a complete line that is not JSON (e.g. zeros from a lost block) */
	memcpy(data, good, sizeof(good) - 1);
	memset(data + sizeof(good) - 1, 0, 20);
	data[sizeof(good) - 1 + 20] = '\n';
	testutil_write_file(f->path, data, sizeof(good) + 20);
	assert_int_equal(journal_open(f->path, &j), 0);
	char *text = testutil_slurp(f->path, &len);
	assert_int_equal(len, sizeof(good) - 1);
	assert_memory_equal(text, good, len);
	free(text);
	journal_close(j);

	/* a last line that parses but is not an object */
	snprintf(data, sizeof(data), "%s[1,2]\n", good);
	testutil_write_file(f->path, data, strlen(data));
	assert_int_equal(journal_open(f->path, &j), 0);
	text = testutil_slurp(f->path, &len);
	assert_string_equal(text, good);
	free(text);
	journal_close(j);

	/* only one line, torn: the file becomes empty */
	testutil_write_file(f->path, "{\"po", 4);
	assert_int_equal(journal_open(f->path, &j), 0);
	text = testutil_slurp(f->path, &len);
	assert_int_equal(len, 0);
	free(text);
	expect_ports(j, NULL, "");
	journal_close(j);
}

static void test_bad_middle_lines_skipped(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"port\":\"a\"}\ngarbage\n\n[]\n{\"port\":\"b\"}\n";
	struct journal *j;

	testutil_write_file(f->path, data, sizeof(data) - 1);
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_ports(j, NULL, "a,b");
	journal_close(j);
}

static void test_long_lines(void **state)
{
	struct fixture *f = *state;
	size_t big = (1u << 20) + 100;
	char *data = malloc(big + 64);
	struct journal *j;

	/* an over-long complete line in the middle is skipped by queries */
	size_t n = (size_t)sprintf(data, "{\"port\":\"a\"}\n{\"x\":\"");
	memset(data + n, 'x', big);
	n += big;
	n += (size_t)sprintf(data + n, "\"}\n{\"port\":\"b\"}\n");
	testutil_write_file(f->path, data, n);
	free(data);
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_ports(j, NULL, "a,b");

	/* records too long to read back are refused */
	char *s = malloc(big + 1);
	memset(s, 'y', big);
	s[big] = 0;
	json_t *r = json_pack("{s:s}", "port", s);
	assert_int_equal(journal_append(j, r), -E2BIG);
	json_decref(r);
	free(s);
	journal_close(j);

	/* an over-long torn last line is dropped on open */
	data = malloc(big + 64);
	n = (size_t)sprintf(data, "{\"port\":\"a\"}\n");
	memset(data + n, '{', big);
	testutil_write_file(f->path, data, n + big);
	free(data);
	assert_int_equal(journal_open(f->path, &j), 0);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)n);
	journal_close(j);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct journal *j = (struct journal *)0x1;
	char path[200];

	snprintf(path, sizeof(path), "%s/missing/results.jsonl", f->dir);
	assert_int_equal(journal_open(path, &j), -ENOENT);
	assert_ptr_equal(j, (struct journal *)0x1); /* untouched */
	assert_int_equal(journal_open("", &j), -EINVAL);
	assert_int_equal(journal_open(NULL, &j), -EINVAL);
	assert_int_equal(journal_open(f->dir, &j), -EISDIR);
	if (geteuid() != 0) {
		/* not writable */
		testutil_write_file(f->path, "", 0);
		chmod(f->path, 0400);
		assert_int_equal(journal_open(f->path, &j), -EACCES);
		unlink(f->path);
	}
	/* a FIFO is not a journal */
	snprintf(path, sizeof(path), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int keep = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* so open(O_RDWR) does not block */
	assert_int_equal(journal_open(path, &j), -EINVAL);
	close(keep);
	unlink(path);

	assert_int_equal(journal_open(f->path, &j), 0);
	json_t *a = json_array();
	assert_int_equal(journal_append(j, a), -EINVAL);
	assert_int_equal(journal_append(j, NULL), -EINVAL);
	assert_int_equal(journal_append(NULL, a), -EINVAL);
	json_decref(a);
	assert_null(journal_query(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	journal_close(j);
}

static void test_full_disk(void **state)
{
	/* A short write (the disk fills up mid-line), made with RLIMIT_FSIZE:
	 * journal_append fails and leaves no partial line behind. */
	struct fixture *f = *state;
	struct journal *j;
	struct stat st;

	assert_int_equal(journal_open(f->path, &j), 0);
	append(j, "1-1", "ok", 1);
	assert_int_equal(stat(f->path, &st), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* child: allow only 10 more bytes */
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { (rlim_t)st.st_size + 10, (rlim_t)st.st_size + 10 };
		setrlimit(RLIMIT_FSIZE, &rl);
		json_t *r = record("1-2", "ok", 2);
		int ret = journal_append(j, r);
		json_decref(r);
		journal_close(j);
		_exit(ret == -ENOSPC || ret == -EFBIG ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct stat after;
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(after.st_size, st.st_size);
	expect_ports(j, NULL, "1-1");
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_append_and_read_back),
		T(test_filters),
		T(test_since_uses_start_without_end),
		T(test_torn_no_newline),
		T(test_torn_unparsable_line),
		T(test_bad_middle_lines_skipped),
		T(test_long_lines),
		T(test_errors),
		T(test_full_disk),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
