/* test-control-limits: the control server's limits against hostile or
 * careless clients (issue 11): read-only users cannot lock admins out
 * (slots kept for admins, per-uid limits), idle connections are closed
 * (not watchers, not clients waiting for an answer), unread replies of all
 * clients are bounded, and running out of file descriptors disarms the
 * listener instead of spinning on it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "ctltest.h"

#define NOBODY 65534

struct fx {
	char dir[64];
	char sock[128];
	struct event_base *base;
	struct fake_station fs;
	struct control_backend be;
	struct control *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-control-limits.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	chmod(f->dir, 0755);
	snprintf(f->sock, sizeof(f->sock), "%s/flashd.sock", f->dir);
	f->base = event_base_new();
	fake_station_init(&f->fs);
	fake_station_backend(&f->fs, &f->be);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	control_free(f->c);
	fake_station_clear(&f->fs);
	event_base_free(f->base);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fx *f, struct control_opts o)
{
	o.path = f->sock;
	o.listen_fd = -1;
	if (!o.admin_gid)
		o.admin_gid = (gid_t)-1;
	o.sock_gid = (gid_t)-1;
	o.mode = 0666;
	assert_int_equal(control_new(f->base, &o, &f->be, NULL, &f->c), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line a new connection gets: its code ("hello" or an error). */
static const char *first_line(struct ctltest_conn *t, char *code, size_t len)
{
	json_t *v = ctltest_recv(t, 5000, NULL);
	assert_non_null(v);
	snprintf(code, len, "%s",
		 ctlproto_hello_check(v) == 0 ? "hello" : ctltest_code(v));
	json_decref(v);
	return code;
}

/* Connect as uid (root: in this process) and return what the server said. */
static const char *connect_uid(struct fx *f, struct ctltest_conn *t, uid_t uid)
{
	static char code[64];

	if (uid == 0) {
		assert_int_equal(ctltest_connect(t, f->sock, f->base), 0);
	} else {
		memset(t, 0, sizeof(*t));
		t->fd = ctltest_connect_as(f->sock, uid, uid, NULL, 0);
		assert_true(t->fd >= 0);
		t->base = f->base;
	}
	return first_line(t, code, sizeof(code));
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

/* ---- who may connect ---- */

/* The report: 32 idle connections of a read-only user made root's pause
 * fail with too-many-clients. */
static void test_readonly_cannot_lock_out_admin(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn ro[32], root, root2;
	struct control_counters n;
	int served = 0;

	if (geteuid() != 0)
		skip();
	start(f, (struct control_opts){ .max_clients = 32, .admin_clients = 4 });
	for (int i = 0; i < 32; i++)
		served += strcmp(connect_uid(f, &ro[i], NOBODY), "hello") == 0;
	assert_int_equal(served, 28); /* the last 4 are kept for admins */
	control_get_counters(f->c, &n);
	assert_int_equal(n.rejected, 4);
	assert_int_equal(n.clients, 28);
	/* root still gets in, and its pause reaches the station */
	assert_string_equal(connect_uid(f, &root, 0), "hello");
	expect_code(&root, "{\"id\":1,\"cmd\":\"pause\"}\n", "ok");
	assert_int_equal(f->fs.calls[CTLPROTO_CMD_PAUSE], 1);
	assert_string_equal(connect_uid(f, &root2, 0), "hello");
	ctltest_close(&root2);
	ctltest_close(&root);
	for (int i = 0; i < 32; i++)
		ctltest_close(&ro[i]);
}

static void test_per_uid_limit(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn a[4], b, root[4];
	char msg[256] = "";

	if (geteuid() != 0)
		skip();
	start(f, (struct control_opts){ .max_clients = 32, .max_clients_per_uid = 3 });
	for (int i = 0; i < 3; i++)
		assert_string_equal(connect_uid(f, &a[i], NOBODY), "hello");
	/* the fourth of the same uid is refused, with the reason */
	memset(&a[3], 0, sizeof(a[3]));
	a[3].fd = ctltest_connect_as(f->sock, NOBODY, NOBODY, NULL, 0);
	a[3].base = f->base;
	json_t *r = ctltest_recv(&a[3], 5000, NULL);
	const char *code, *message;
	assert_int_equal(ctlproto_reply_status(r, &code, &message), 0);
	assert_string_equal(code, PROTOCOL_ERR_TOO_MANY_CLIENTS);
	snprintf(msg, sizeof(msg), "%s", message);
	json_decref(r);
	assert_non_null(strstr(msg, "uid 65534"));
	assert_null(ctltest_recv(&a[3], 5000, NULL)); /* and closed */
	ctltest_close(&a[3]);
	/* another uid is not affected, nor are admins */
	assert_string_equal(connect_uid(f, &b, NOBODY - 1), "hello");
	for (int i = 0; i < 4; i++)
		assert_string_equal(connect_uid(f, &root[i], 0), "hello");
	/* a slot of the uid frees up */
	ctltest_close(&a[0]);
	expect_code(&b, "{\"cmd\":\"status\"}\n", "ok"); /* runs the loop: a[0]'s EOF */
	assert_string_equal(connect_uid(f, &a[0], NOBODY), "hello");
	for (int i = 0; i < 3; i++)
		ctltest_close(&a[i]);
	for (int i = 0; i < 4; i++)
		ctltest_close(&root[i]);
	ctltest_close(&b);
}

/* ---- idle connections ---- */

static bool closed_by_server(struct ctltest_conn *t)
{
	bool timed_out = false;
	json_t *v = ctltest_recv(t, 20, &timed_out);
	json_decref(v);
	return !v && !timed_out;
}

static void test_idle_timeout(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn silent, watcher, busy, waiting;
	struct control_counters n;

	/* 1.5 s: a loaded machine may hold the busy client back for a few hundred ms
	 * between two of its requests; a shorter idle time made the test flaky */
	enum { IDLE_MS = 1500 };
	start(f, (struct control_opts){ .idle_timeout_ms = IDLE_MS, .admin_gid = getegid() });
	f->fs.later = true;
	assert_string_equal(connect_uid(f, &silent, 0), "hello");
	assert_string_equal(connect_uid(f, &watcher, 0), "hello");
	assert_string_equal(connect_uid(f, &busy, 0), "hello");
	assert_string_equal(connect_uid(f, &waiting, 0), "hello");
	expect_code(&watcher, "{\"cmd\":\"watch\"}\n", "ok");
	json_decref(ctltest_recv(&watcher, 5000, NULL)); /* snapshot */
	ctltest_send(&waiting, "{\"id\":7,\"cmd\":\"reload\"}\n"); /* answered later */
	/* three idle times; busy asks every 100 ms */
	for (int i = 0; i < 3 * IDLE_MS / 100; i++) {
		expect_code(&busy, "{\"cmd\":\"status\"}\n", "ok");
		ctltest_pump(f->base, 100);
	}
	assert_true(closed_by_server(&silent));
	control_get_counters(f->c, &n);
	assert_int_equal(n.idle_closed, 1);
	assert_int_equal(n.clients, 3);
	/* the watcher still gets events, the waiting client its answer */
	control_publish(f->c, "log", json_pack("{s:s}", "message", "still here"));
	json_t *e = ctltest_recv(&watcher, 5000, NULL);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "log");
	json_decref(e);
	assert_non_null(f->fs.pending);
	control_pending_done(f->fs.pending, 0, NULL);
	json_t *r = ctltest_recv(&waiting, 5000, NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_string_equal(ctltest_code(r), "ok");
	json_decref(r);
	/* answered, then silent: now it is idle too */
	ctltest_pump(f->base, IDLE_MS * 3 / 2);
	assert_true(closed_by_server(&waiting));
	assert_false(closed_by_server(&watcher));
	ctltest_close(&silent);
	ctltest_close(&watcher);
	ctltest_close(&busy);
	ctltest_close(&waiting);
}

/* ---- replies nobody reads ---- */

static void test_unread_replies_bounded(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t[5];
	struct control_counters n;
	const size_t big = 1u << 20, max = 2u * big + big / 2;
	char *s = malloc(big + 1);

	memset(s, 'r', big);
	s[big] = 0;
	json_decref(f->fs.stats);
	f->fs.stats = json_pack("{s:s}", "blob", s);
	free(s);
	start(f, (struct control_opts){ .replies_max = max });
	for (int i = 0; i < 5; i++) {
		assert_string_equal(connect_uid(f, &t[i], 0), "hello");
		ctltest_send(&t[i], "{\"id\":1,\"cmd\":\"stats\"}\n"); /* and do not read */
		ctltest_pump(f->base, 20);
		control_get_counters(f->c, &n);
		assert_true(n.reply_bytes <= max);
	}
	control_get_counters(f->c, &n);
	assert_int_equal(n.busy, 3);
	/* the two that got their reply read it in full; the others were told */
	for (int i = 0; i < 5; i++) {
		json_t *r = ctltest_recv(&t[i], 5000, NULL);
		assert_string_equal(ctltest_code(r), i < 2 ? "ok" : PROTOCOL_ERR_BUSY);
		if (i < 2)
			assert_int_equal(strlen(json_string_value(json_object_get(r, "blob"))), big);
		json_decref(r);
	}
	control_get_counters(f->c, &n);
	assert_int_equal(n.reply_bytes, 0);
	/* once read, there is room again */
	expect_code(&t[4], "{\"id\":2,\"cmd\":\"stats\"}\n", "ok");
	for (int i = 0; i < 5; i++)
		ctltest_close(&t[i]);
}

/* Hellos, errors and other small replies are never refused, even with no
 * room left at all. */
static void test_small_replies_always_go(void **state)
{
	struct fx *f = *state;
	struct ctltest_conn t;
	char *s = malloc(8193);

	memset(s, 'r', 8192);
	s[8192] = 0;
	json_decref(f->fs.stats);
	f->fs.stats = json_pack("{s:s}", "blob", s);
	free(s);
	start(f, (struct control_opts){ .replies_max = 1 });
	assert_string_equal(connect_uid(f, &t, 0), "hello");
	expect_code(&t, "{\"cmd\":\"status\"}\n", "ok");
	expect_code(&t, "{\"cmd\":\"stats\"}\n", PROTOCOL_ERR_BUSY);
	expect_code(&t, "{\"cmd\":\"bogus\"}\n", PROTOCOL_ERR_UNKNOWN_COMMAND);
	ctltest_close(&t);
}

/* ---- out of file descriptors ---- */

struct fillers {
	int fd[4096];
	size_t n;
};

/* Take every free descriptor below the (lowered) limit. */
static void fill_fds(struct fillers *fl)
{
	int fd;
	while (fl->n < 4096 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fl->fd[fl->n++] = fd;
	assert_int_equal(errno, EMFILE);
}

static void free_fds(struct fillers *fl, size_t k)
{
	while (k-- && fl->n)
		close(fl->fd[--fl->n]);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Loop iterations in ms (each waits for an event; a 50 ms tick bounds the
 * wait): a disarmed listener leaves ~ms/50, an armed one at EMFILE spins. */
static unsigned loop_iterations(struct event_base *base, int ms)
{
	struct timeval tv = { 0, 50000 };
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	int64_t end = now_ms() + ms;
	unsigned n = 0;

	event_add(t, &tv);
	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE);
		n++;
	}
	event_free(t);
	return n;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

static void test_emfile_backoff(void **state)
{
	struct fx *f = *state;
	static struct fillers fl;
	struct ctltest_conn a, b;
	struct control_counters n;
	struct rlimit old, low;
	unsigned iters;

	start(f, (struct control_opts){ 0 });
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	fl.n = 0;
	fill_fds(&fl);
	free_fds(&fl, 1); /* for the client's socket: the server's accept gets EMFILE */
	assert_int_equal(ctltest_connect(&a, f->sock, NULL), 0);
	iters = loop_iterations(f->base, 1000);
	control_get_counters(f->c, &n);
	assert_false(readable(a.fd)); /* not served while there is no descriptor */
	/* backing off 100, 200, 400 ms: a few tries, not a spin */
	assert_in_range(iters, 1, 60);
	assert_in_range(n.accept_errors, 1, 5);
	assert_true(n.accept_pauses >= 1);
	/* descriptors free again: served after the back-off */
	free_fds(&fl, 4);
	a.base = f->base;
	int64_t t0 = now_ms();
	char code[64];
	assert_string_equal(first_line(&a, code, sizeof(code)), "hello");
	assert_true(now_ms() - t0 <= 2500);
	/* out again, long enough for the back-off to grow (100 … 800 ms, the
	 * next try 1.6 s away); a client that goes re-arms at once */
	fill_fds(&fl);
	free_fds(&fl, 1);
	assert_int_equal(ctltest_connect(&b, f->sock, NULL), 0);
	ctltest_pump(f->base, 1600);
	assert_false(readable(b.fd));
	ctltest_close(&a);
	b.base = f->base;
	t0 = now_ms();
	assert_string_equal(first_line(&b, code, sizeof(code)), "hello");
	assert_true(now_ms() - t0 < 500);
	ctltest_close(&b);
	free_fds(&fl, fl.n);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_readonly_cannot_lock_out_admin),
		T(test_per_uid_limit),
		T(test_idle_timeout),
		T(test_unread_replies_bounded),
		T(test_small_replies_always_go),
		T(test_emfile_backoff),
#undef T
	};
	log_set_max_level(LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
