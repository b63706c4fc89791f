/* test-journal: append, query filters and pages, the index, torn-line
 * recovery (and long lines that are not torn), error paths. */
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
#include "flashd/protocol.h"
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

/* Ports of the query result's records, comma-joined. */
static void expect_ports(struct journal *j, const struct journal_filter *f, const char *want)
{
	json_t *page = journal_query(j, f), *rec;
	json_t *a = json_object_get(page, "records");
	char got[512] = "";
	size_t i;

	assert_non_null(page);
	assert_true(json_is_array(a));
	json_array_foreach(a, i, rec) {
		if (i)
			strcat(got, ",");
		const char *port = json_string_value(json_object_get(rec, "port"));
		strcat(got, port ? port : "?");
	}
	assert_string_equal(got, want);
	json_decref(page);
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
	json_t *recs = json_object_get(a, "records");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "end_ms")),
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

/* The cursors of a page: older and newer, 0 for null. */
static void expect_cursors(struct journal *j, const struct journal_filter *f, uint64_t older,
			   uint64_t newer)
{
	json_t *page = journal_query(j, f);

	assert_non_null(page);
	assert_int_equal(json_integer_value(json_object_get(page, "older")), older);
	assert_true(older || json_is_null(json_object_get(page, "older")));
	assert_int_equal(json_integer_value(json_object_get(page, "newer")), newer);
	assert_true(newer || json_is_null(json_object_get(page, "newer")));
	json_decref(page);
}

static void test_pages(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	char port[8];

	assert_int_equal(journal_open(f->path, &j), 0);
	expect_cursors(j, NULL, 0, 0);
	for (int i = 1; i <= 10; i++) {
		snprintf(port, sizeof(port), "p%d", i);
		append(j, port, i % 2 ? "ok" : "failed", 1000 * i);
	}
	/* backwards from the newest: older is the cursor of the next page */
	expect_ports(j, &(struct journal_filter){ .limit = 3 }, "p8,p9,p10");
	expect_cursors(j, &(struct journal_filter){ .limit = 3 }, 8, 10);
	expect_ports(j, &(struct journal_filter){ .limit = 3, .before = 8 }, "p5,p6,p7");
	expect_cursors(j, &(struct journal_filter){ .limit = 3, .before = 8 }, 5, 7);
	expect_ports(j, &(struct journal_filter){ .limit = 3, .before = 2 }, "p1");
	expect_cursors(j, &(struct journal_filter){ .limit = 3, .before = 2 }, 0, 1);
	expect_ports(j, &(struct journal_filter){ .limit = 3, .before = 1 }, "");
	expect_ports(j, &(struct journal_filter){ .limit = 3, .before = 99 }, "p8,p9,p10");
	/* forwards: after 0 is the first line; newer goes on */
	expect_ports(j, &(struct journal_filter){ .limit = 4, .has_after = true }, "p1,p2,p3,p4");
	expect_cursors(j, &(struct journal_filter){ .limit = 4, .has_after = true }, 0, 4);
	expect_ports(j, &(struct journal_filter){ .limit = 4, .has_after = true, .after = 8 },
		     "p9,p10");
	expect_cursors(j, &(struct journal_filter){ .limit = 4, .has_after = true, .after = 8 },
		       9, 10);
	/* nothing new yet: the cursor stays, and finds what comes next */
	expect_ports(j, &(struct journal_filter){ .has_after = true, .after = 10 }, "");
	expect_cursors(j, &(struct journal_filter){ .has_after = true, .after = 10 }, 11, 10);
	append(j, "p11", "ok", 11000);
	expect_ports(j, &(struct journal_filter){ .has_after = true, .after = 10 }, "p11");
	/* both: the oldest after, below before */
	expect_ports(j, &(struct journal_filter){ .limit = 2, .has_after = true, .after = 3,
						 .before = 6 }, "p4,p5");
	/* filters page too: the cursors skip what does not match */
	expect_ports(j, &(struct journal_filter){ .result = "failed", .limit = 2 }, "p8,p10");
	expect_cursors(j, &(struct journal_filter){ .result = "failed", .limit = 2 }, 8, 11);
	expect_ports(j, &(struct journal_filter){ .result = "failed", .limit = 2, .before = 8 },
		     "p4,p6");
	expect_cursors(j, &(struct journal_filter){ .result = "failed", .limit = 2, .before = 8 },
		       4, 7);
	expect_cursors(j, &(struct journal_filter){ .result = "failed", .limit = 2, .before = 4 },
		       0, 3);
	expect_cursors(j, &(struct journal_filter){ .result = "ok", .limit = 9, .has_after = true,
						   .after = 2 }, 3, 11);
	expect_ports(j, &(struct journal_filter){ .result = "nope" }, "");
	expect_ports(j, &(struct journal_filter){ .port = "p3", .since_ms = 3000 }, "p3");
	expect_ports(j, &(struct journal_filter){ .port = "p3", .since_ms = 3001 }, "");
	journal_close(j);

	/* reopened: the same line numbers */
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_ports(j, &(struct journal_filter){ .limit = 3, .before = 8 }, "p5,p6,p7");
	journal_close(j);
}

static void test_cursor_counts_every_line(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"port\":\"a\"}\ngarbage\n\n{\"port\":\"b\"}\n[1]\n{\"port\":\"c\"}\n";
	struct journal *j;

	testutil_write_file(f->path, data, sizeof(data) - 1);
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_ports(j, &(struct journal_filter){ .limit = 1 }, "c");
	expect_cursors(j, &(struct journal_filter){ .limit = 1 }, 6, 6);
	expect_ports(j, &(struct journal_filter){ .limit = 1, .before = 6 }, "b");
	expect_cursors(j, &(struct journal_filter){ .limit = 1, .before = 6 }, 4, 5);
	expect_ports(j, &(struct journal_filter){ .has_after = true, .after = 1 }, "b,c");
	journal_close(j);
}

/* A record of about `size` bytes. */
static json_t *sized_record(const char *port, size_t size)
{
	char *pad = malloc(size + 1);
	memset(pad, 'z', size);
	pad[size] = 0;
	json_t *r = json_pack("{s:s, s:s, s:I, s:s}", "port", port, "result", "ok", "end_ms",
			      (json_int_t)1, "pad", pad);
	free(pad);
	return r;
}

static void test_page_bytes(void **state)
{
	struct fixture *f = *state;
	struct journal *j;
	char port[8];

	assert_int_equal(journal_open(f->path, &j), 0);
	for (int i = 1; i <= 5; i++) {
		snprintf(port, sizeof(port), "p%d", i);
		json_t *r = sized_record(port, 1000);
		assert_int_equal(journal_append(j, r), 0);
		json_decref(r);
	}
	/* two records fit 2500 bytes: the page stops there, older says where on */
	expect_ports(j, &(struct journal_filter){ .budget = 2500 }, "p4,p5");
	expect_cursors(j, &(struct journal_filter){ .budget = 2500 }, 4, 5);
	expect_ports(j, &(struct journal_filter){ .budget = 2500, .has_after = true }, "p1,p2");
	expect_cursors(j, &(struct journal_filter){ .budget = 2500, .has_after = true }, 0, 2);
	/* the first record always goes, however small the budget */
	expect_ports(j, &(struct journal_filter){ .budget = 10 }, "p5");
	/* what the query read: the page's lines, not the journal */
	uint64_t before = journal_query_bytes(j);
	expect_ports(j, &(struct journal_filter){ .budget = 2500 }, "p4,p5");
	uint64_t read = journal_query_bytes(j) - before;
	assert_true(read > 2000 && read <= 2500);
	journal_close(j);
}

/* A journal of n records written straight to the file (no fdatasync each). */
static void write_journal(const char *path, size_t n, size_t pad)
{
	FILE *fp = fopen(path, "we");
	char *padding = malloc(pad + 1);

	assert_non_null(fp);
	memset(padding, 'q', pad);
	padding[pad] = 0;
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "{\"port\":\"%zu-1\",\"uid\":null,\"result\":\"%s\",\"start_ms\":%zu,"
			"\"end_ms\":%zu,\"steps\":[{\"text\":\"%s\",\"ok\":true}]}\n",
			i % 8, i % 10 ? "ok" : "failed", 1000 * i, 1000 * i + 500, padding);
	fclose(fp);
	free(padding);
}

static void test_large_journal_bounded(void **state)
{
	/* 20,000 records of about 1.5 KB (30 MB): a query reads what it
	 * returns and no more, whatever the journal's size */
	struct fixture *f = *state;
	struct journal *j;
	json_t *page;

	write_journal(f->path, 20000, 1400);
	assert_int_equal(journal_open(f->path, &j), 0);
	uint64_t before = journal_query_bytes(j);
	page = journal_query(j, &(struct journal_filter){ .limit = 50 });
	assert_int_equal(json_array_size(json_object_get(page, "records")), 50);
	assert_int_equal(json_integer_value(json_object_get(page, "older")), 19951);
	assert_true(journal_query_bytes(j) - before < 50 * 1600);
	json_decref(page);

	/* the largest limit: cut at PROTOCOL_HISTORY_BYTES_MAX */
	before = journal_query_bytes(j);
	page = journal_query(j, &(struct journal_filter){ .limit = PROTOCOL_HISTORY_MAX });
	size_t n = json_array_size(json_object_get(page, "records"));
	assert_true(n > 500 && n < 1000);
	assert_true(journal_query_bytes(j) - before <= PROTOCOL_HISTORY_BYTES_MAX);
	assert_int_equal(json_integer_value(json_object_get(page, "older")), 20000 - n + 1);
	json_decref(page);

	/* a rare match far back: found from the index, one line read */
	before = journal_query_bytes(j);
	expect_ports(j, &(struct journal_filter){ .port = "2-1", .result = "failed",
						 .since_ms = 0, .limit = 1, .before = 200 }, "2-1");
	assert_true(journal_query_bytes(j) - before < 1600);
	journal_close(j);
}

static void test_external_changes(void **state)
{
	/* lines appended (or a file cut) behind the daemon's back are indexed
	 * again before the next query */
	struct fixture *f = *state;
	const char more[] = "{\"port\":\"x\"}\n{\"port\":\"y\"}\n";
	struct journal *j;

	assert_int_equal(journal_open(f->path, &j), 0);
	append(j, "a", "ok", 1);
	int fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, more, sizeof(more) - 1), (ssize_t)sizeof(more) - 1);
	close(fd);
	expect_ports(j, NULL, "a,x,y");
	append(j, "b", "ok", 2);
	expect_ports(j, NULL, "a,x,y,b");
	expect_cursors(j, NULL, 0, 4);
	assert_int_equal(truncate(f->path, 0), 0);
	expect_ports(j, NULL, "");
	append(j, "c", "ok", 3);
	expect_ports(j, NULL, "c");
	expect_cursors(j, NULL, 0, 1);
	journal_close(j);
}

static void test_fields_as_jansson_reads_them(void **state)
{
	/* the index's fast scanner and jansson agree on what a line says */
	struct fixture *f = *state;
	const char data[] =
		"{\"port\":\"\\u0031-1\",\"result\":\"ok\"}\n"            /* escaped: 1-1 */
		"{\"port\":\"1-1\"} x\n"                                /* not JSON */
		"{\"x\":{\"port\":\"1-1\",\"a\":[\"}\"]},\"port\":\"2-1\"}\n" /* nested: 2-1 */
		"{\"port\":\"1-1\",\"port\":\"3-1\"}\n"                   /* last one wins */
		"{ \"port\" : \"1-1\" , \"end_ms\" : 1e3 , \"start_ms\" : 7000 }\n"
		"{\"port\":\"1-1\",\"end_ms\":12345678901234567890}\n"    /* too big: not JSON */
		"{\"port\":1,\"result\":\"ok\"}\n";
	struct journal *j;

	testutil_write_file(f->path, data, sizeof(data) - 1);
	assert_int_equal(journal_open(f->path, &j), 0);
	expect_ports(j, &(struct journal_filter){ .port = "1-1" }, "1-1,1-1");
	expect_ports(j, &(struct journal_filter){ .port = "2-1" }, "2-1");
	expect_ports(j, &(struct journal_filter){ .port = "3-1" }, "3-1");
	expect_ports(j, &(struct journal_filter){ .since_ms = 6000 }, "1-1");
	expect_ports(j, &(struct journal_filter){ .result = "ok" }, "1-1,?");
	expect_cursors(j, &(struct journal_filter){ .result = "ok", .limit = 1 }, 7, 7);
	journal_close(j);
}

static void test_big_record_survives(void **state)
{
	/* Defect: a valid line over 1 MiB was cut as "torn" at open. A
	 * complete line is kept whatever its length; the largest record the
	 * daemon writes comes back after a restart. */
	struct fixture *f = *state;
	size_t big = 3u << 20, n;
	char *data = malloc(big + 64);
	struct journal *j;
	struct stat st;

	n = (size_t)sprintf(data, "{\"port\":\"a\"}\n{\"port\":\"big\",\"x\":\"");
	memset(data + n, 'x', big);
	n += big;
	n += (size_t)sprintf(data + n, "\"}\n");
	testutil_write_file(f->path, data, n);
	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)n);
	expect_ports(j, NULL, "a"); /* too long to return: left out */
	expect_cursors(j, NULL, 0, 2);

	/* a record as long as journal_append takes */
	json_t *r = sized_record("max", 100);
	size_t len = json_dumpb(r, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(r);
	r = sized_record("max", 100 + JOURNAL_LINE_MAX - 1 - len);
	assert_int_equal(json_dumpb(r, NULL, 0, JSON_COMPACT), JOURNAL_LINE_MAX - 1);
	assert_int_equal(journal_append(j, r), 0);
	json_decref(r);
	r = sized_record("over", 100 + JOURNAL_LINE_MAX - len);
	assert_int_equal(journal_append(j, r), -E2BIG);
	json_decref(r);
	journal_close(j);
	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)(n + JOURNAL_LINE_MAX));
	expect_ports(j, NULL, "max"); /* a page of its own: it fills the byte budget */
	expect_cursors(j, NULL, 3, 3);
	expect_ports(j, &(struct journal_filter){ .before = 3 }, "a");
	journal_close(j);

	/* a long last line with a lost block in it (zeros) is torn: cut */
	memset(data + n - 1000, 0, 100);
	testutil_write_file(f->path, data, n);
	assert_int_equal(journal_open(f->path, &j), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)strlen("{\"port\":\"a\"}\n"));
	journal_close(j);
	free(data);
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
		T(test_pages),
		T(test_cursor_counts_every_line),
		T(test_page_bytes),
		T(test_large_journal_bounded),
		T(test_external_changes),
		T(test_fields_as_jansson_reads_them),
		T(test_big_record_survives),
		T(test_errors),
		T(test_full_disk),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
