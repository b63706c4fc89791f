/* test-control: the control server on a real event loop with a fake station:
 * hello, every command, errors, the admin check, watch and publish, slow
 * watchers (bounded queue, overflow, kick), hostile input, the socket file. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "ctltest.h"
#include "daemon/control_priv.h"
#include "daemon/journal.h"
#include "daemon/loop.h"
#include "daemon/worker.h"

struct fx {
	char dir[64];
	char sock[128];
	char jpath[128];
	struct event_base *base;
	struct fake_station fs;
	struct control_backend be;
	struct journal *j;
	struct control *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-control.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	chmod(f->dir, 0755);
	snprintf(f->sock, sizeof(f->sock), "%s/flashd.sock", f->dir);
	snprintf(f->jpath, sizeof(f->jpath), "%s/results.jsonl", f->dir);
	f->base = event_base_new();
	fake_station_init(&f->fs);
	fake_station_backend(&f->fs, &f->be);
	if (journal_open(f->jpath, &f->j) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	control_free(f->c);
	journal_close(f->j);
	fake_station_clear(&f->fs);
	event_base_free(f->base);
	unlink(f->jpath);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fx *f, struct control_opts o)
{
	o.path = f->sock;
	if (!o.listen_fd)
		o.listen_fd = -1;
	if (!o.admin_gid)
		o.admin_gid = (gid_t)-1;
	if (!o.sock_gid)
		o.sock_gid = (gid_t)-1;
	assert_int_equal(control_new(f->base, &o, &f->be, f->j, &f->c), 0);
}

/* Connect and eat the hello. */
static void client(struct fx *f, struct ctltest_conn *t)
{
	assert_int_equal(ctltest_connect(t, f->sock, f->base), 0);
	json_t *hello = ctltest_recv(t, 5000, NULL);
	assert_int_equal(ctlproto_hello_check(hello), 0);
	json_decref(hello);
}

static void expect_code(struct ctltest_conn *t, const char *request, const char *code)
{
	json_t *r = ctltest_call(t, request);
	assert_non_null(r);
	if (strcmp(ctltest_code(r), code) != 0) {
		char *s = json_dumps(r, 0);
		fail_msg("%s -> %s, want %s", request, s, code);
	}
	json_decref(r);
}

static void test_hello(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	struct stat st;

	start(f, (struct control_opts){ 0 });
	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(ctltest_connect(&t, f->sock, f->base), 0);
	json_t *hello = ctltest_recv(&t, 5000, NULL);
	assert_string_equal(json_string_value(json_object_get(hello, "hello")), "flashd");
	assert_string_equal(json_string_value(json_object_get(hello, "version")), PACKAGE_VERSION);
	assert_int_equal(json_integer_value(json_object_get(hello, "protocol")), 1);
	json_decref(hello);
	ctltest_close(&t);
	f->c = control_free(f->c);
	assert_int_equal(stat(f->sock, &st), -1); /* unlinked */
}

static void test_queries(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	json_t *r;

	start(f, (struct control_opts){ 0 });
	client(f, &t);
	r = ctltest_call(&t, "{\"id\":1,\"cmd\":\"status\"}\n");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_false(json_is_true(json_object_get(r, "paused")));
	assert_int_equal(json_array_size(json_object_get(r, "ports")), 2);
	json_decref(r);
	r = ctltest_call(&t, "{\"id\":\"s\",\"cmd\":\"stats\"}\n");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "s");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "boards"), "ok")), 3);
	json_decref(r);
	r = ctltest_call(&t, "{\"cmd\":\"plans\"}\n");
	assert_null(json_object_get(r, "id"));
	assert_string_equal(json_string_value(json_object_get(r, "default")), "/p/full.lst");
	json_decref(r);
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_STATUS], 1);
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_STATS], 1);
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_PLANS], 1);

	/* the station has no answer */
	json_decref(f->fs.status);
	f->fs.status = NULL;
	expect_code(&t, "{\"id\":2,\"cmd\":\"status\"}\n", PROTOCOL_ERR_INTERNAL);
	ctltest_close(&t);
}

static void test_operations(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;

	start(f, (struct control_opts){ .admin_gid = getegid() }); /* root, or by our group */
	client(f, &t);
	expect_code(&t, "{\"id\":1,\"cmd\":\"use\",\"plan\":\"/p/a.lst\",\"ports\":[\"1-1\",\"1-2\"]}\n",
		    "ok");
	assert_string_equal(f->fs.plan, "/p/a.lst");
	assert_string_equal(f->fs.ports, "1-1,1-2");
	expect_code(&t, "{\"id\":2,\"cmd\":\"use\",\"plan\":\"/p/b.lst\"}\n", "ok");
	assert_string_equal(f->fs.plan, "/p/b.lst");
	assert_string_equal(f->fs.ports, "");
	assert_string_equal(f->fs.args, "");
	expect_code(&t, "{\"id\":21,\"cmd\":\"use\",\"plan\":\"/p/c.lst\",\"args\":[\"u.imx\",\"r.img\"]}\n",
		    "ok");
	assert_string_equal(f->fs.args, "u.imx,r.img");
	expect_code(&t, "{\"id\":22,\"cmd\":\"use\",\"plan\":\"/p/c.lst\",\"args\":\"u.imx\"}\n",
		    PROTOCOL_ERR_BAD_ARGUMENT);
	expect_code(&t, "{\"id\":3,\"cmd\":\"pause\"}\n", "ok");
	expect_code(&t, "{\"id\":4,\"cmd\":\"resume\"}\n", "ok");
	expect_code(&t, "{\"id\":5,\"cmd\":\"abort\",\"port\":\"1-4\"}\n", "ok");
	assert_string_equal(f->fs.port, "1-4");
	expect_code(&t, "{\"id\":6,\"cmd\":\"retry\",\"port\":\"1-5\"}\n", "ok");
	assert_string_equal(f->fs.port, "1-5");
	expect_code(&t, "{\"id\":7,\"cmd\":\"reload\"}\n", "ok");
	for (int i = CTLPROTO_CMD_USE; i <= CTLPROTO_CMD_RELOAD; i++)
		assert_int_equal(f->fs.calls[i], i == CTLPROTO_CMD_USE ? 3 : 1);

	/* failures: errno mapped to a code, the station's text as message */
	f->fs.ret = -ENOENT;
	f->fs.err = "no port 9-9";
	json_t *r = ctltest_call(&t, "{\"id\":8,\"cmd\":\"abort\",\"port\":\"9-9\"}\n");
	const char *code, *message;
	assert_int_equal(ctlproto_reply_status(r, &code, &message), 0);
	assert_string_equal(code, PROTOCOL_ERR_NOT_FOUND);
	assert_string_equal(message, "no port 9-9");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 8);
	json_decref(r);
	f->fs.ret = -EINVAL;
	f->fs.err = "/p/bad.lst:3: unknown command \"FB: flsh\"";
	expect_code(&t, "{\"cmd\":\"reload\"}\n", PROTOCOL_ERR_INVALID);
	expect_code(&t, "{\"cmd\":\"use\",\"plan\":\"/p/bad.lst\"}\n", PROTOCOL_ERR_INVALID);
	f->fs.ret = -EBUSY;
	f->fs.err = NULL; /* no text: strerror */
	r = ctltest_call(&t, "{\"cmd\":\"retry\",\"port\":\"1-1\"}\n");
	assert_int_equal(ctlproto_reply_status(r, &code, &message), 0);
	assert_string_equal(code, PROTOCOL_ERR_BUSY);
	assert_string_equal(message, strerror(EBUSY));
	json_decref(r);
	expect_code(&t, "{\"cmd\":\"pause\"}\n", PROTOCOL_ERR_BUSY);
	expect_code(&t, "{\"cmd\":\"resume\"}\n", PROTOCOL_ERR_BUSY);
	ctltest_close(&t);
}

/* use and reload answered later (plans load on the station's worker): the
 * client's next requests wait, other clients and events go on. */

/* Runs the loop until the fake backend holds a pending request; fails the
 * test after 5 s instead of hanging when the request never arrives. */
static void wait_pending(struct fx *f)
{
	for (int i = 0; !f->fs.pending; i++) {
		if (i == 500)
			fail_msg("the request did not reach the backend within 5 s");
		ctltest_pump(f->base, 10);
	}
}

static void test_answer_later(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn a, b;
	bool timed_out = false;
	const char *code, *message;
	json_t *r;

	start(f, (struct control_opts){ .admin_gid = getegid() });
	f->fs.later = true;
	client(f, &a);
	client(f, &b);
	r = ctltest_call(&a, "{\"id\":0,\"cmd\":\"watch\"}\n");
	assert_string_equal(ctltest_code(r), "ok");
	json_decref(r);
	r = ctltest_recv(&a, 5000, NULL); /* snapshot */
	json_decref(r);
	ctltest_send(&a, "{\"id\":1,\"cmd\":\"reload\"}\n{\"id\":2,\"cmd\":\"status\"}\n");
	assert_null(ctltest_recv(&a, 200, &timed_out));
	assert_true(timed_out);
	assert_non_null(f->fs.pending);
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_RELOAD], 1);
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_STATUS], 1); /* the snapshot; not id 2 yet */
	/* another client is served meanwhile */
	expect_code(&b, "{\"cmd\":\"status\"}\n", "ok");
	/* and events reach the waiting watcher */
	control_publish(f->c, "log", json_pack("{s:s}", "message", "hi"));
	r = ctltest_recv(&a, 5000, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "event")), "log");
	json_decref(r);
	/* the answer, then the request that waited */
	control_pending_done(f->fs.pending, 0, NULL);
	r = ctltest_recv(&a, 5000, NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	assert_string_equal(ctltest_code(r), "ok");
	json_decref(r);
	r = ctltest_recv(&a, 5000, NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	assert_non_null(json_object_get(r, "ports"));
	json_decref(r);
	/* an error answer keeps the id, maps the code, carries the text */
	f->fs.pending = NULL;
	ctltest_send(&b, "{\"id\":\"u\",\"cmd\":\"use\",\"plan\":\"/p/x.lst\"}\n");
	wait_pending(f);
	assert_string_equal(f->fs.plan, "/p/x.lst");
	control_pending_done(f->fs.pending, -EINVAL, "/p/x.lst:2: unknown command");
	r = ctltest_recv(&b, 5000, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "u");
	assert_int_equal(ctlproto_reply_status(r, &code, &message), 0);
	assert_string_equal(code, PROTOCOL_ERR_INVALID);
	assert_string_equal(message, "/p/x.lst:2: unknown command");
	json_decref(r);
	/* without a text: strerror */
	f->fs.pending = NULL;
	ctltest_send(&b, "{\"cmd\":\"reload\"}\n");
	wait_pending(f);
	control_pending_done(f->fs.pending, -ECANCELED, "");
	r = ctltest_recv(&b, 5000, NULL);
	assert_int_equal(ctlproto_reply_status(r, &code, &message), 0);
	assert_string_equal(message, strerror(ECANCELED));
	json_decref(r);
	control_pending_done(NULL, 0, NULL);
	ctltest_close(&a);
	ctltest_close(&b);
}

/* The asking client leaves (or half-closes, or the server goes) before the
 * answer: nothing breaks, nothing leaks. */
static void test_answer_later_client_gone(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	json_t *r;

	start(f, (struct control_opts){ .admin_gid = getegid() });
	f->fs.later = true;
	/* gone before the answer */
	client(f, &t);
	ctltest_send(&t, "{\"cmd\":\"reload\"}\n");
	wait_pending(f);
	ctltest_close(&t);
	ctltest_pump(f->base, 20);
	control_pending_done(f->fs.pending, 0, NULL);
	ctltest_pump(f->base, 20);
	struct control_counters n;
	control_get_counters(f->c, &n);
	assert_int_equal(n.clients, 0);
	/* half-closed: still answered, then closed */
	f->fs.pending = NULL;
	client(f, &t);
	ctltest_send(&t, "{\"id\":5,\"cmd\":\"reload\"}\n");
	shutdown(t.fd, SHUT_WR);
	wait_pending(f);
	ctltest_pump(f->base, 20);
	control_pending_done(f->fs.pending, 0, NULL);
	r = ctltest_recv(&t, 5000, NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
	json_decref(r);
	assert_null(ctltest_recv(&t, 5000, NULL)); /* EOF: answered all it asked */
	ctltest_close(&t);
	/* the server goes first */
	f->fs.pending = NULL;
	client(f, &t);
	ctltest_send(&t, "{\"cmd\":\"use\",\"plan\":\"/p/a.lst\"}\n");
	wait_pending(f);
	f->c = control_free(f->c);
	control_pending_done(f->fs.pending, 0, NULL);
	assert_null(ctltest_recv(&t, 5000, NULL));
	ctltest_close(&t);
}

static void test_missing_operations(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;

	f->be = (struct control_backend){ .ud = &f->fs }; /* a station that can do nothing */
	journal_close(f->j);
	f->j = NULL;
	start(f, (struct control_opts){ 0 });
	client(f, &t);
	static const struct {
		const char *req;
		bool mutating;
	} reqs[] = {
		{ "{\"cmd\":\"status\"}\n", false },
		{ "{\"cmd\":\"stats\"}\n", false },
		{ "{\"cmd\":\"plans\"}\n", false },
		{ "{\"cmd\":\"history\"}\n", false }, /* no journal */
		{ "{\"cmd\":\"use\",\"plan\":\"a\"}\n", true },
		{ "{\"cmd\":\"pause\"}\n", true },
		{ "{\"cmd\":\"resume\"}\n", true },
		{ "{\"cmd\":\"abort\",\"port\":\"1\"}\n", true },
		{ "{\"cmd\":\"retry\",\"port\":\"1\"}\n", true },
		{ "{\"cmd\":\"reload\"}\n", true },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		expect_code(&t, reqs[i].req,
			    reqs[i].mutating && geteuid() != 0 ? PROTOCOL_ERR_PERMISSION_DENIED
							       : PROTOCOL_ERR_UNAVAILABLE);
	/* watch still works: the snapshot is an empty object */
	json_t *r = ctltest_call(&t, "{\"cmd\":\"watch\"}\n");
	assert_string_equal(ctltest_code(r), "ok");
	json_decref(r);
	r = ctltest_recv(&t, 5000, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "event")), "snapshot");
	json_decref(r);
	ctltest_close(&t);
}

static void test_history(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	static const char *const ports[] = { "1-1", "1-2", "1-1", "1-3" };
	static const char *const results[] = { "ok", "failed", "ok", "boot-loop" };

	for (int i = 0; i < 4; i++) {
		json_t *rec = json_pack("{s:s,s:s,s:I,s:I}", "port", ports[i], "result", results[i],
					"start_ms", (json_int_t)(i * 1000), "end_ms",
					(json_int_t)(i * 1000 + 500));
		assert_int_equal(journal_append(f->j, rec), 0);
		json_decref(rec);
	}
	start(f, (struct control_opts){ 0 });
	client(f, &t);
	struct {
		const char *req;
		size_t n;
		const char *first_port;
	} cases[] = {
		{ "{\"id\":1,\"cmd\":\"history\"}\n", 4, "1-1" },
		{ "{\"id\":1,\"cmd\":\"history\",\"port\":\"1-1\"}\n", 2, "1-1" },
		{ "{\"id\":1,\"cmd\":\"history\",\"result\":\"failed\"}\n", 1, "1-2" },
		{ "{\"id\":1,\"cmd\":\"history\",\"since\":2000}\n", 2, "1-1" },
		{ "{\"id\":1,\"cmd\":\"history\",\"limit\":1}\n", 1, "1-3" },
		{ "{\"id\":1,\"cmd\":\"history\",\"port\":\"7-7\"}\n", 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = ctltest_call(&t, cases[i].req);
		json_t *recs = json_object_get(r, "records");
		assert_string_equal(ctltest_code(r), "ok");
		assert_int_equal(json_array_size(recs), cases[i].n);
		if (cases[i].first_port)
			assert_string_equal(json_string_value(json_object_get(
						    json_array_get(recs, 0), "port")),
					    cases[i].first_port);
		json_decref(r);
	}
	expect_code(&t, "{\"cmd\":\"history\",\"limit\":0}\n", PROTOCOL_ERR_BAD_ARGUMENT);
	ctltest_close(&t);
}

/* Holds the history thread until a byte comes down its pipe. */
struct blocker {
	struct worker_job w;
	int fd[2];
};

static void blocker_run(struct worker_job *w)
{
	char c;
	ssize_t n = read(((struct blocker *)w)->fd[0], &c, 1);
	(void)n;
}

static void blocker_done(struct worker_job *w, int status)
{
	(void)w;
	(void)status;
}

static void blocker_hold(struct fx *f, struct blocker *b)
{
	*b = (struct blocker){ .w = { .run = blocker_run, .done = blocker_done } };
	assert_int_equal(pipe2(b->fd, O_CLOEXEC), 0);
	assert_non_null(f->c->history); /* started by the first history request */
	worker_submit(f->c->history, &b->w);
}

static void blocker_release(struct fx *f, struct blocker *b)
{
	assert_int_equal(write(b->fd[1], "x", 1), 1);
	while (worker_pending(f->c->history))
		ctltest_pump(f->base, 10);
	close(b->fd[0]);
	close(b->fd[1]);
}

static void test_history_off_the_loop(void **state)
{
	/* A history query is read on the history thread, not on the loop:
	 * with that thread held, other clients are served, the query's own
	 * client gets its answer (as a reply like any other) when the thread
	 * is free, and a client that leaves meanwhile costs nothing. */
	struct fx *f = *state;
	struct ctltest_conn a, b, c;
	struct blocker bl;
	bool timed_out = false;

	for (int i = 1; i <= 3; i++) {
		json_t *rec = json_pack("{s:s,s:s,s:I}", "port", "1-1", "result", "ok", "end_ms",
					(json_int_t)i);
		assert_int_equal(journal_append(f->j, rec), 0);
		json_decref(rec);
	}
	start(f, (struct control_opts){ 0 });
	client(f, &a);
	client(f, &b);
	client(f, &c);
	expect_code(&a, "{\"cmd\":\"history\"}\n", "ok");

	blocker_hold(f, &bl);
	ctltest_send(&a, "{\"id\":\"h\",\"cmd\":\"history\",\"limit\":2}\n");
	ctltest_send(&c, "{\"cmd\":\"history\"}\n");
	ctltest_close(&c);
	expect_code(&b, "{\"cmd\":\"status\"}\n", "ok");
	expect_code(&b, "{\"cmd\":\"stats\"}\n", "ok");
	assert_null(ctltest_recv(&a, 100, &timed_out));
	assert_true(timed_out);
	blocker_release(f, &bl);

	json_t *r = ctltest_recv(&a, 5000, NULL);
	assert_string_equal(ctltest_code(r), "ok");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "h");
	assert_int_equal(json_array_size(json_object_get(r, "records")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "older")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "newer")), 3);
	json_decref(r);
	/* and the connection goes on as before */
	expect_code(&a, "{\"cmd\":\"status\"}\n", "ok");
	ctltest_close(&a);
	ctltest_close(&b);
}

/* A history page counts against the unread replies of all clients, as
 * any reply does: with no room left it becomes "busy", and once the
 * waiting reply is read the same query is answered. */
static void test_history_replies_bounded(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn a, b;
	char pad[2048];
	json_t *r;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (int i = 1; i <= 400; i++) {
		json_t *rec = json_pack("{s:s,s:s,s:I,s:s}", "port", "1-1", "result", "ok", "end_ms",
					(json_int_t)i, "pad", pad);
		assert_int_equal(journal_append(f->j, rec), 0);
		json_decref(rec);
	}
	/* a page of 400 records is about 800 KiB, more than the socket takes:
	 * room for one page waiting, not two */
	start(f, (struct control_opts){ .replies_max = 1u << 20 });
	client(f, &a);
	client(f, &b);
	ctltest_send(&a, "{\"id\":1,\"cmd\":\"history\",\"limit\":400}\n"); /* not read */
	for (int i = 0; i < 50; i++)
		ctltest_pump(f->base, 10);
	expect_code(&b, "{\"id\":2,\"cmd\":\"history\",\"limit\":400}\n", PROTOCOL_ERR_BUSY);
	r = ctltest_recv(&a, 5000, NULL);
	assert_string_equal(ctltest_code(r), "ok");
	assert_int_equal(json_array_size(json_object_get(r, "records")), 400);
	json_decref(r);
	expect_code(&b, "{\"id\":3,\"cmd\":\"history\",\"limit\":400}\n", "ok");
	ctltest_close(&a);
	ctltest_close(&b);
}

static void test_errors_keep_connection(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	json_t *r;

	start(f, (struct control_opts){ 0 });
	client(f, &t);
	expect_code(&t, "not json\n", PROTOCOL_ERR_BAD_JSON);
	expect_code(&t, "\n", PROTOCOL_ERR_BAD_JSON);
	expect_code(&t, "[]\n", PROTOCOL_ERR_BAD_JSON);
	expect_code(&t, "{\"id\":1}\n", PROTOCOL_ERR_BAD_REQUEST);
	expect_code(&t, "{\"id\":1.5,\"cmd\":\"status\"}\n", PROTOCOL_ERR_BAD_REQUEST);
	r = ctltest_call(&t, "{\"id\":99,\"cmd\":\"explode\"}\n");
	assert_string_equal(ctltest_code(r), PROTOCOL_ERR_UNKNOWN_COMMAND);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 99);
	json_decref(r);
	expect_code(&t, "{\"cmd\":\"abort\"}\n", PROTOCOL_ERR_BAD_ARGUMENT);
	expect_code(&t, "{\"cmd\":\"status\",\"whatever\":{\"x\":[1]}}\r\n", "ok");
	ctltest_close(&t);
}

static void test_pipelined_and_eof(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;

	start(f, (struct control_opts){ 0 });
	client(f, &t);
	/* three requests in one write: three replies, in order */
	ctltest_send(&t, "{\"id\":1,\"cmd\":\"status\"}\n{\"id\":2,\"cmd\":\"bad\"}\n"
			 "{\"id\":3,\"cmd\":\"stats\"}\n{\"id\":4,");
	for (int i = 1; i <= 3; i++) {
		json_t *r = ctltest_recv(&t, 5000, NULL);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
		json_decref(r);
	}
	/* the rest of a split line */
	ctltest_send(&t, "\"cmd\":\"plans\"}\n{\"id\":5,\"cmd\":\"status\"}\n");
	shutdown(t.fd, SHUT_WR);
	for (int i = 4; i <= 5; i++) {
		json_t *r = ctltest_recv(&t, 5000, NULL);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
		json_decref(r);
	}
	/* then the server closes: all asked was answered */
	bool timed_out;
	assert_null(ctltest_recv(&t, 5000, &timed_out));
	assert_false(timed_out);
	ctltest_pump(f->base, 20);
	struct control_counters n;
	control_get_counters(f->c, &n);
	assert_int_equal(n.clients, 0);
	ctltest_close(&t);
}

/* ---- permissions ---- */

static void adopt(struct fx *f, struct ctltest_conn *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->base = f->base;
	json_t *hello = ctltest_recv(t, 5000, NULL);
	assert_int_equal(ctlproto_hello_check(hello), 0);
	json_decref(hello);
}

static void check_admin(struct fx *f, struct ctltest_conn *t, bool admin)
{
	unsigned before = f->fs.calls[CTLPROTO_CMD_PAUSE];
	expect_code(t, "{\"id\":1,\"cmd\":\"status\"}\n", "ok");
	expect_code(t, "{\"id\":1,\"cmd\":\"history\"}\n", "ok");
	expect_code(t, "{\"id\":2,\"cmd\":\"pause\"}\n",
		    admin ? "ok" : PROTOCOL_ERR_PERMISSION_DENIED);
	expect_code(t, "{\"id\":3,\"cmd\":\"abort\",\"port\":\"1-1\"}\n",
		    admin ? "ok" : PROTOCOL_ERR_PERMISSION_DENIED);
	/* a refused command never reaches the station */
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_PAUSE], before + admin);
}

static void test_permissions_root(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	const gid_t admin = 4242, other[] = { 100, 4243 }, with_admin[] = { 100, 4242 };

	if (geteuid() != 0)
		skip();
	start(f, (struct control_opts){ .admin_gid = admin, .mode = 0666 });
	/* uid 0 */
	client(f, &t);
	check_admin(f, &t, true);
	ctltest_close(&t);
	/* nobody, not in the group */
	adopt(f, &t, ctltest_connect_as(f->sock, 65534, 65534, other, 2));
	check_admin(f, &t, false);
	ctltest_close(&t);
	/* nobody with the admin group as a supplementary group */
	adopt(f, &t, ctltest_connect_as(f->sock, 65534, 65534, with_admin, 2));
	check_admin(f, &t, true);
	ctltest_close(&t);
	/* nobody with the admin group as its primary group, no supplementary groups */
	adopt(f, &t, ctltest_connect_as(f->sock, 65534, admin, NULL, 0));
	check_admin(f, &t, true);
	ctltest_close(&t);
	/* no admin group configured: only root */
	f->c = control_free(f->c);
	start(f, (struct control_opts){ .mode = 0666 });
	adopt(f, &t, ctltest_connect_as(f->sock, 65534, admin, with_admin, 2));
	check_admin(f, &t, false);
	ctltest_close(&t);
}

static void test_permissions_user(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;

	if (geteuid() == 0)
		skip();
	start(f, (struct control_opts){ .admin_gid = getegid() });
	client(f, &t);
	check_admin(f, &t, true);
	ctltest_close(&t);
	f->c = control_free(f->c);
	start(f, (struct control_opts){ 0 });
	client(f, &t);
	check_admin(f, &t, false);
	ctltest_close(&t);
}

/* ---- watch ---- */

static json_t *recv_event(struct ctltest_conn *t, const char *type)
{
	json_t *e = ctltest_recv(t, 5000, NULL);
	assert_non_null(e);
	assert_int_equal(ctlproto_classify(e), CTLPROTO_KIND_EVENT);
	assert_string_equal(json_string_value(json_object_get(e, "event")), type);
	assert_true(json_integer_value(json_object_get(e, "ts")) > 1600000000000);
	return e;
}

static void test_watch(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn w1, w2, plain;
	json_t *e;

	start(f, (struct control_opts){ 0 });
	control_publish(f->c, "log", json_pack("{s:s}", "message", "nobody listens")); /* seq 1 */
	client(f, &w1);
	client(f, &w2);
	client(f, &plain);
	expect_code(&w1, "{\"id\":1,\"cmd\":\"watch\"}\n", "ok");
	e = recv_event(&w1, "snapshot");
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), 1);
	assert_int_equal(json_array_size(json_object_get(e, "ports")), 2);
	json_decref(e);
	expect_code(&w2, "{\"id\":1,\"cmd\":\"watch\"}\n", "ok");
	json_decref(recv_event(&w2, "snapshot"));

	struct control_counters n;
	control_get_counters(f->c, &n);
	assert_int_equal(n.clients, 3);
	assert_int_equal(n.watchers, 2);

	control_publish(f->c, "port", json_pack("{s:s,s:s}", "port", "1-1", "state", "sdp"));
	control_publish(f->c, "progress", json_pack("{s:s,s:I,s:I}", "port", "1-1", "bytes",
						     (json_int_t)100, "total", (json_int_t)1000));
	control_publish(f->c, NULL, json_object()); /* no type: dropped, consumed */
	for (int w = 0; w < 2; w++) {
		struct ctltest_conn *t = w ? &w2 : &w1;
		e = recv_event(t, "port");
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), 2);
		assert_string_equal(json_string_value(json_object_get(e, "state")), "sdp");
		json_decref(e);
		e = recv_event(t, "progress");
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), 3);
		assert_int_equal(json_integer_value(json_object_get(e, "bytes")), 100);
		json_decref(e);
	}
	/* the plain client got no events: its next line is its reply */
	json_t *r = ctltest_call(&plain, "{\"id\":5,\"cmd\":\"stats\"}\n");
	bool timed_out;
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
	json_decref(r);

	/* a watcher may still ask; an operation's events and its reply both arrive */
	if (geteuid() == 0) {
		f->fs.publish_on_abort = f->c;
		ctltest_send(&w1, "{\"id\":9,\"cmd\":\"abort\",\"port\":\"1-2\"}\n");
		e = recv_event(&w1, "port");
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), 4);
		json_decref(e);
		r = ctltest_recv(&w1, 5000, NULL);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
		json_decref(r);
		json_decref(recv_event(&w2, "port"));
	}
	/* a watcher that goes away is reaped */
	ctltest_close(&w2);
	control_publish(f->c, "log", json_pack("{s:s}", "message", "x"));
	ctltest_pump(f->base, 20);
	control_get_counters(f->c, &n);
	assert_int_equal(n.clients, 2);
	assert_int_equal(n.watchers, 1);
	json_decref(recv_event(&w1, "log"));
	assert_null(ctltest_recv(&plain, 50, &timed_out));
	assert_true(timed_out);
	ctltest_close(&w1);
	ctltest_close(&plain);
}

static void publish_many(struct fx *f, int n, size_t limit)
{
	char pad[160];
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (int i = 0; i < n; i++) {
		struct control_counters c;
		control_publish(f->c, "progress", json_pack("{s:s,s:i,s:s}", "port", "1-1",
							     "bytes", i, "pad", pad));
		control_get_counters(f->c, &c);
		assert_true(c.queued_bytes <= limit);
		if (i % 64 == 0)
			event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
}

static void test_slow_watcher(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn slow, fast;
	struct control_counters n;
	const size_t qmax = 8192;
	const int count = 8000; /* ~1.6 MB: far beyond the socket buffer */

	start(f, (struct control_opts){ .queue_bytes = qmax });
	client(f, &slow);
	client(f, &fast);
	expect_code(&slow, "{\"cmd\":\"watch\"}\n", "ok");
	json_decref(recv_event(&slow, "snapshot"));
	expect_code(&fast, "{\"cmd\":\"watch\"}\n", "ok");
	json_decref(recv_event(&fast, "snapshot"));

	/* slow never reads; fast reads everything, in order, without a gap */
	int64_t last = 0;
	char pad[160];
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (int i = 0; i < count; i++) {
		control_publish(f->c, "progress", json_pack("{s:s,s:i,s:s}", "port", "1-1",
							     "bytes", i, "pad", pad));
		control_get_counters(f->c, &n);
		assert_true(n.queued_bytes <= 2 * qmax);
		json_t *e = ctltest_recv(&fast, 5000, NULL);
		int64_t seq = json_integer_value(json_object_get(e, "seq"));
		assert_int_equal(seq, last + 1);
		last = seq;
		json_decref(e);
	}
	control_get_counters(f->c, &n);
	assert_int_equal(n.overflows, 1);
	assert_true(n.dropped > 0);
	assert_int_equal(n.kicked, 0);
	assert_int_equal(n.clients, 2);

	/* slow catches up: events without gaps, one overflow, a snapshot */
	int got = 0;
	int64_t prev = 0;
	json_t *e;
	for (;;) {
		e = ctltest_recv(&slow, 5000, NULL);
		assert_non_null(e);
		const char *type = json_string_value(json_object_get(e, "event"));
		if (strcmp(type, "overflow") == 0)
			break;
		assert_string_equal(type, "progress");
		int64_t seq = json_integer_value(json_object_get(e, "seq"));
		assert_true(prev == 0 || seq == prev + 1);
		prev = seq;
		got++;
		json_decref(e);
	}
	int64_t dropped = json_integer_value(json_object_get(e, "dropped"));
	assert_int_equal(got + dropped, count);
	assert_int_equal((uint64_t)dropped, n.dropped);
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), last);
	json_decref(e);
	e = recv_event(&slow, "snapshot");
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), last);
	assert_non_null(json_object_get(e, "ports"));
	json_decref(e);
	/* and then it is a normal watcher again */
	control_publish(f->c, "log", json_pack("{s:s}", "message", "after"));
	e = recv_event(&slow, "log");
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), last + 1);
	json_decref(e);
	json_decref(recv_event(&fast, "log"));

	/* overflowing again soon after: disconnected; memory stays bounded */
	ctltest_close(&fast);
	publish_many(f, count, qmax);
	ctltest_pump(f->base, 20);
	control_get_counters(f->c, &n);
	assert_int_equal(n.kicked, 1);
	assert_int_equal(n.clients, 0);
	assert_int_equal(n.queued_bytes, 0);
	while ((e = ctltest_recv(&slow, 5000, NULL))) {
		assert_string_equal(json_string_value(json_object_get(e, "event")), "progress");
		json_decref(e);
	}
	ctltest_close(&slow);
}

/* ---- hostile input, limits, the socket file ---- */

static void test_line_limits(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	char *line = malloc(PROTOCOL_LINE_MAX + 10);

	start(f, (struct control_opts){ 0 });
	client(f, &t);
	/* exactly PROTOCOL_LINE_MAX bytes with the newline: accepted */
	int n = sprintf(line, "{\"id\":1,\"cmd\":\"status\",\"pad\":\"");
	memset(line + n, 'x', PROTOCOL_LINE_MAX - (size_t)n - 3);
	strcpy(line + PROTOCOL_LINE_MAX - 3, "\"}\n");
	assert_int_equal(strlen(line), PROTOCOL_LINE_MAX);
	expect_code(&t, line, "ok");
	/* one more: refused, and the connection is closed */
	n = sprintf(line, "{\"id\":1,\"cmd\":\"status\",\"pad\":\"");
	memset(line + n, 'x', PROTOCOL_LINE_MAX - (size_t)n - 2);
	strcpy(line + PROTOCOL_LINE_MAX - 2, "\"}\n");
	ctltest_send(&t, line);
	json_t *r = ctltest_recv(&t, 5000, NULL);
	assert_string_equal(ctltest_code(r), PROTOCOL_ERR_LINE_TOO_LONG);
	json_decref(r);
	bool timed_out;
	assert_null(ctltest_recv(&t, 5000, &timed_out));
	assert_false(timed_out);
	ctltest_close(&t);

	/* a client streaming garbage without newlines gets the same */
	client(f, &t);
	memset(line, 'z', PROTOCOL_LINE_MAX);
	line[PROTOCOL_LINE_MAX] = 0;
	ctltest_send(&t, line);
	ctltest_send(&t, line);
	r = ctltest_recv(&t, 5000, NULL);
	assert_string_equal(ctltest_code(r), PROTOCOL_ERR_LINE_TOO_LONG);
	json_decref(r);
	assert_null(ctltest_recv(&t, 5000, &timed_out));
	assert_false(timed_out);
	ctltest_close(&t);
	free(line);
	ctltest_pump(f->base, 20);
	struct control_counters c;
	control_get_counters(f->c, &c);
	assert_int_equal(c.clients, 0);
}

static void test_max_clients(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn a, b, x;

	start(f, (struct control_opts){ .max_clients = 2 });
	client(f, &a);
	client(f, &b);
	assert_int_equal(ctltest_connect(&x, f->sock, f->base), 0);
	json_t *r = ctltest_recv(&x, 5000, NULL);
	assert_string_equal(ctltest_code(r), PROTOCOL_ERR_TOO_MANY_CLIENTS);
	json_decref(r);
	assert_null(ctltest_recv(&x, 5000, NULL));
	ctltest_close(&x);
	/* a slot frees up */
	ctltest_close(&a);
	expect_code(&b, "{\"cmd\":\"status\"}\n", "ok"); /* runs the loop: a's EOF is seen */
	client(f, &a);
	expect_code(&a, "{\"cmd\":\"status\"}\n", "ok");
	struct control_counters c;
	control_get_counters(f->c, &c);
	assert_int_equal(c.rejected, 1);
	assert_int_equal(c.clients, 2);
	ctltest_close(&a);
	ctltest_close(&b);
}

static void test_reply_too_large(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	size_t big = 17u << 20;
	char *s = malloc(big + 1);

	memset(s, 'a', big);
	s[big] = 0;
	json_decref(f->fs.stats);
	f->fs.stats = json_pack("{s:s}", "huge", s);
	free(s);
	start(f, (struct control_opts){ 0 });
	client(f, &t);
	expect_code(&t, "{\"id\":1,\"cmd\":\"stats\"}\n", PROTOCOL_ERR_FAILED);
	expect_code(&t, "{\"id\":2,\"cmd\":\"status\"}\n", "ok");
	ctltest_close(&t);
}

static void test_socket_file(void **state)
{
	struct fx *f = *state;
	struct control *c2 = NULL;
	struct control_opts o = { .path = f->sock, .listen_fd = -1, .admin_gid = (gid_t)-1,
				  .sock_gid = (gid_t)-1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	/* a stale socket (bound, nobody listening) is replaced */
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, f->sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &f->c), 0);
	/* a live one is not */
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &c2), -EADDRINUSE);
	assert_null(c2);
	f->c = control_free(f->c);
	/* nor is a file that is not a socket */
	close(open(f->sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &c2), -EEXIST);
	unlink(f->sock);
	/* paths: too long, missing dir, none */
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	o.path = longpath;
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &c2), -ENAMETOOLONG);
	o.path = "/nonexistent-dir/flashd.sock";
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &c2), -ENOENT);
	o.path = NULL;
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &c2), -EINVAL);
	assert_int_equal(control_new(NULL, &o, &f->be, NULL, &c2), -EINVAL);
	assert_null(control_free(NULL));

	/* mode and group */
	o.path = f->sock;
	o.mode = 0640;
	if (geteuid() == 0)
		o.sock_gid = 4242;
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &f->c), 0);
	assert_int_equal(stat(f->sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	if (geteuid() == 0)
		assert_int_equal(st.st_gid, 4242);
	f->c = control_free(f->c);
	assert_int_equal(stat(f->sock, &st), -1);
}

/* Issue 11, defect 8: the socket file was created, then chown'd and
 * chmod'ed by path, which follows whatever the path is by then. Now it is
 * made in a private folder and renamed into place: the folder it appears
 * in sees it moved in, finished, never created there; nothing is left
 * behind. */
static void test_socket_appears_complete(void **state)
{
	struct fx *f = *state;
	struct control_opts o = { .path = f->sock, .listen_fd = -1, .admin_gid = (gid_t)-1,
				  .sock_gid = geteuid() == 0 ? 4242 : (gid_t)-1, .mode = 0640 };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool created = false, moved_in = false;
	struct stat st;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, f->dir, IN_CREATE | IN_MOVED_TO) >= 0);
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &f->c), 0);
	ssize_t n = read(in, buf, sizeof(buf));
	assert_true(n > 0);
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;
		if (ev->len && strcmp(ev->name, "flashd.sock") == 0) {
			created |= (ev->mask & IN_CREATE) != 0;
			moved_in |= (ev->mask & IN_MOVED_TO) != 0;
		}
		p += sizeof(*ev) + ev->len;
	}
	close(in);
	assert_false(created);
	assert_true(moved_in);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	if (geteuid() == 0)
		assert_int_equal(st.st_gid, 4242);
	/* the private folder is gone: the folder holds the socket and the journal */
	DIR *d = opendir(f->dir);
	struct dirent *de;
	unsigned entries = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			entries++;
			assert_true(strcmp(de->d_name, "flashd.sock") == 0 ||
				    strcmp(de->d_name, "results.jsonl") == 0);
		}
	closedir(d);
	assert_in_range(entries, 1, 2);
	/* and it serves */
	struct ctltest_conn t;
	client(f, &t);
	expect_code(&t, "{\"cmd\":\"status\"}\n", "ok");
	ctltest_close(&t);
}

static void test_listen_fd(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctltest_conn t;
	struct stat st;

	/* socket activation: a listening fd made elsewhere, blocking, no CLOEXEC */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, f->sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 8), 0);
	struct control_opts o = { .path = "/nonexistent/ignored", .listen_fd = s,
				  .admin_gid = (gid_t)-1, .sock_gid = (gid_t)-1 };
	assert_int_equal(control_new(f->base, &o, &f->be, f->j, &f->c), 0);
	assert_true(fcntl(s, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(s, F_GETFL) & O_NONBLOCK);
	client(f, &t);
	expect_code(&t, "{\"cmd\":\"status\"}\n", "ok");
	ctltest_close(&t);
	f->c = control_free(f->c);
	assert_int_equal(fcntl(s, F_GETFD), -1); /* closed with the server */
	assert_int_equal(stat(f->sock, &st), 0); /* the file is systemd's, not ours */
	unlink(f->sock);
	/* a bad fd fails and stays the caller's problem */
	o.listen_fd = 1000;
	assert_int_equal(control_new(f->base, &o, &f->be, f->j, &f->c), -EBADF);
	assert_null(f->c);
}

/* ---- the loop's priorities (loop.h) ---- */

struct first_look {
	int client_fd;
	bool ran;
	bool reply_seen; /* the client's reply was already there when the board's event ran */
};

/* Has the server's reply reached this client yet (nothing read)? */
static bool reply_waiting(int client_fd)
{
	char c;

	return recv(client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

static void on_board_event(evutil_socket_t fd, short what, void *arg)
{
	struct first_look *l = arg;

	(void)fd;
	(void)what;
	l->ran = true;
	l->reply_seen = reply_waiting(l->client_fd);
}

/* A request and a board's event ready in the same pass: on flashd's loop
 * (loop_new) the board goes first; on a plain base the request is answered
 * first (libevent activates I/O before timers) — what P7 measured. */
static bool client_goes_first(struct fx *f, struct event_base *base)
{
	struct ctltest_conn t;
	struct first_look l = { 0 };
	struct timeval now = { 0, 0 };
	struct event *board;
	json_t *r;

	event_base_free(f->base);
	f->base = base;
	start(f, (struct control_opts){ 0 });
	client(f, &t);
	l.client_fd = t.fd;
	ctltest_send(&t, "{\"id\":1,\"cmd\":\"status\"}\n");
	board = evtimer_new(f->base, on_board_event, &l); /* the station's default level */
	assert_non_null(board);
	assert_int_equal(evtimer_add(board, &now), 0);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_true(l.ran);
	r = ctltest_recv(&t, 5000, NULL); /* the request is answered all the same */
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	event_free(board);
	ctltest_close(&t);
	f->c = control_free(f->c);
	return l.reply_seen;
}

static void test_board_events_before_clients(void **state)
{
	struct fx *f = *state;

	assert_false(client_goes_first(f, loop_new()));
	assert_true(client_goes_first(f, event_base_new()));
}

/* A burst of client work is cut to look for board events: 2 × LOOP_CLIENT_BURST
 * clients ready at once, and a board event that becomes ready while the first
 * is served (its status() writes the board's pipe) runs before the second half. */
struct burst {
	int fds[LOOP_CLIENT_BURST * 2];
	int board_pipe;
	struct control_backend orig;
	unsigned answered_before_board;
	bool ran;
};

static json_t *burst_status(void *ud)
{
	struct burst *b = ud;

	if (b->board_pipe >= 0 && write(b->board_pipe, "x", 1) == 1)
		b->board_pipe = -1;
	return b->orig.status(b->orig.ud);
}

static void on_board_burst(evutil_socket_t fd, short what, void *arg)
{
	struct burst *b = arg;

	(void)fd;
	(void)what;
	b->ran = true;
	for (size_t i = 0; i < LOOP_CLIENT_BURST * 2; i++)
		b->answered_before_board += reply_waiting(b->fds[i]);
}

static void test_client_burst_bounded(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t[LOOP_CLIENT_BURST * 2];
	struct burst b = { .board_pipe = -1 };
	struct event *board;
	int pipefd[2];

	event_base_free(f->base);
	f->base = loop_new();
	assert_int_equal(pipe(pipefd), 0);
	b.orig = f->be;
	f->be.ud = &b;
	f->be.status = burst_status;
	start(f, (struct control_opts){ .max_clients = LOOP_CLIENT_BURST * 4 });
	for (size_t i = 0; i < LOOP_CLIENT_BURST * 2; i++) {
		client(f, &t[i]);
		b.fds[i] = t[i].fd;
	}
	board = event_new(f->base, pipefd[0], EV_READ, on_board_burst, &b);
	assert_int_equal(event_add(board, NULL), 0);
	for (size_t i = 0; i < LOOP_CLIENT_BURST * 2; i++)
		ctltest_send(&t[i], "{\"id\":1,\"cmd\":\"status\"}\n");
	b.board_pipe = pipefd[1];
	while (!b.ran)
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_true(b.answered_before_board >= 1);
	assert_true(b.answered_before_board <= LOOP_CLIENT_BURST);
	for (size_t i = 0; i < LOOP_CLIENT_BURST * 2; i++) {
		json_t *r = ctltest_recv(&t[i], 5000, NULL);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
		json_decref(r);
		ctltest_close(&t[i]);
	}
	event_free(board);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_hello),
		T(test_queries),
		T(test_operations),
		T(test_answer_later),
		T(test_answer_later_client_gone),
		T(test_missing_operations),
		T(test_history),
		T(test_history_off_the_loop),
		T(test_history_replies_bounded),
		T(test_errors_keep_connection),
		T(test_pipelined_and_eof),
		T(test_permissions_root),
		T(test_permissions_user),
		T(test_watch),
		T(test_slow_watcher),
		T(test_line_limits),
		T(test_max_clients),
		T(test_reply_too_large),
		T(test_socket_file),
		T(test_socket_appears_complete),
		T(test_listen_fd),
		T(test_board_events_before_clients),
		T(test_client_burst_bounded),
#undef T
	};
	log_set_max_level(LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
