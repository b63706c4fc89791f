/* test-web_upstream: flashd-web's side of the control socket against a
 * scripted fake flashd on a Unix socket: watch, then stats and plans asked
 * after the snapshot; today's boards read from history page by page with
 * the `before` cursor; overflow + snapshot: resynchronised and asked again;
 * the connection closed: "connected": false told to the dashboards, and a
 * reconnection after the backoff; a query on a connection of its own, and
 * one that finds no flashd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "common/clock.h"
#include "web/web_upstream.h"

#define HELLO "{\"hello\":\"flashd\",\"version\":\"0.1.0\",\"protocol\":1}\n"

struct fix {
	char dir[64], path[128];
	int lfd;
	struct event_base *base;
	struct web_state *st;
	struct web_upstream *up;
	int snapshots, stations, forwarded;
	bool last_connected;
	int query_err, query_calls;
	json_t *query_reply;
};

static void notify(void *ud, const char *type, const json_t *data)
{
	struct fix *f = ud;
	if (strcmp(type, "snapshot") == 0) {
		f->snapshots++;
		f->last_connected = json_is_true(json_object_get(data, "connected"));
	} else if (strcmp(type, "station") == 0) {
		f->stations++;
	} else {
		f->forwarded++;
	}
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(f->dir, "/tmp/test-web_upstream.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s", f->dir);
	strcpy(sa.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	f->base = event_base_new();
	f->st = web_state_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	web_upstream_free(f->up);
	web_state_free(f->st);
	event_base_free(f->base);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	json_decref(f->query_reply);
	free(f);
	return 0;
}

static void spin(struct fix *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	usleep(1000);
}

/* The next connection flashd-web makes (within ~3 s). */
static int peer_accept(struct fix *f)
{
	for (int i = 0; i < 3000; i++) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		spin(f);
	}
	fail_msg("no connection from flashd-web");
	return -1;
}

static void peer_send(struct fix *f, int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	for (int i = 0; i < 30; i++)
		spin(f);
}

/* The next request line from flashd-web, parsed. */
static json_t *peer_request(struct fix *f, int fd)
{
	char line[4096];
	size_t n = 0;

	for (int i = 0; i < 3000 && n < sizeof(line) - 1; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0) {
			spin(f);
			continue;
		}
		ssize_t got = read(fd, line + n, 1);
		if (got <= 0)
			break;
		if (line[n] == '\n') {
			line[n] = 0;
			json_t *v = json_loads(line, 0, NULL);
			assert_non_null(v);
			return v;
		}
		n++;
	}
	fail_msg("no request from flashd-web");
	return NULL;
}

static void expect_cmd(struct fix *f, int fd, const char *cmd, json_t **out)
{
	json_t *r = peer_request(f, fd);
	if (strcmp(json_string_value(json_object_get(r, "cmd")), cmd) != 0)
		fail_msg("want %s, got %s", cmd, json_dumps(r, 0));
	if (out)
		*out = r;
	else
		json_decref(r);
}

static const char snapshot[] =
	"{\"event\":\"snapshot\",\"seq\":5,\"ts\":1,\"paused\":false,\"plan\":\"/p\",\"ports\":"
	"[{\"port\":\"1-1\",\"slot\":null,\"state\":\"empty\"}]}\n";

/* A history page of one board of today, ended at end_ms. */
static void history_page(struct fix *f, int fd, int64_t end_ms, const char *older)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
		 HELLO "{\"id\":1,\"ok\":true,\"records\":[{\"port\":\"1-1\",\"result\":\"ok\","
		       "\"start_ms\":%lld,\"end_ms\":%lld}],\"older\":%s,\"newer\":9}\n",
		 (long long)end_ms - 10, (long long)end_ms, older);
	peer_send(f, fd, buf);
}

static int today_ok(const struct fix *f)
{
	json_t *s = web_state_summary(f->st);
	int n = (int)json_integer_value(json_object_get(json_object_get(s, "today"), "ok"));
	json_decref(s);
	return n;
}

/* watch, the snapshot, stats and plans asked, today's boards in two pages */
static int sync_watch(struct fix *f, int *out_fd, int expect_ok)
{
	int64_t now = clock_ms(CLOCK_REALTIME);
	int w = peer_accept(f);
	json_t *r;

	expect_cmd(f, w, "watch", NULL);
	peer_send(f, w, HELLO "{\"id\":\"watch\",\"ok\":true}\n");
	peer_send(f, w, snapshot);
	expect_cmd(f, w, "stats", NULL);
	expect_cmd(f, w, "plans", NULL);
	int h = peer_accept(f);
	expect_cmd(f, h, "history", &r);
	assert_int_equal(json_integer_value(json_object_get(r, "since")), web_upstream_midnight(now));
	assert_int_equal(json_integer_value(json_object_get(r, "limit")), 10000);
	assert_null(json_object_get(r, "before"));
	json_decref(r);
	history_page(f, h, now - 1000, "7");
	close(h);
	h = peer_accept(f);
	expect_cmd(f, h, "history", &r);
	assert_int_equal(json_integer_value(json_object_get(r, "before")), 7);
	json_decref(r);
	history_page(f, h, now - 2000, "null");
	close(h);
	for (int i = 0; i < 30; i++)
		spin(f);
	assert_int_equal(today_ok(f), expect_ok);
	*out_fd = w;
	return 0;
}

static void test_sync_resync_reconnect(void **state)
{
	struct fix *f = *state;
	int w;

	f->up = web_upstream_new(f->base, f->path, f->st, notify, f);
	assert_non_null(f->up);
	sync_watch(f, &w, 2);
	assert_true(web_state_counters(f->st)->connected);
	assert_true(f->last_connected);
	int snaps = f->snapshots;

	/* replies to stats and plans, then live events */
	peer_send(f, w, "{\"id\":\"stats\",\"ok\":true,\"boards\":{\"ok\":7,\"failed\":1,"
			"\"boot-loop\":0,\"aborted\":0},\"bytes\":99}\n"
			"{\"id\":\"plans\",\"ok\":true,\"loaded\":[{\"path\":\"/p\",\"sha256\":\"ab\"}]}\n"
			"{\"event\":\"port\",\"seq\":6,\"ts\":2,\"port\":\"1-1\",\"state\":\"sdp\"}\n");
	assert_int_equal(web_state_counters(f->st)->boards[WEB_RESULT_OK], 7);
	assert_int_equal(json_array_size(web_state_plans_loaded(f->st)), 1);
	assert_int_equal(f->forwarded, 1);

	/* a plan load that ended: the plans are asked again */
	peer_send(f, w, "{\"event\":\"plan\",\"seq\":7,\"ts\":3,\"loading\":null}\n");
	expect_cmd(f, w, "plans", NULL);

	/* overflow: the snapshot that follows is taken, and the rest asked again */
	peer_send(f, w, "{\"event\":\"overflow\",\"seq\":90,\"ts\":4,\"dropped\":80}\n");
	peer_send(f, w, snapshot);
	assert_int_equal(web_state_counters(f->st)->resyncs, 1);
	assert_int_equal(f->snapshots, snaps + 1);
	expect_cmd(f, w, "stats", NULL);
	expect_cmd(f, w, "plans", NULL);
	int h = peer_accept(f);
	expect_cmd(f, h, "history", NULL);
	close(h);

	/* flashd goes: the dashboards are told, and it comes back */
	close(w);
	for (int i = 0; i < 50 && f->last_connected; i++)
		spin(f);
	assert_false(f->last_connected);
	assert_false(web_state_counters(f->st)->connected);
	int64_t t0 = clock_ms(CLOCK_MONOTONIC);
	sync_watch(f, &w, 2); /* the same boards: counted once */
	assert_true(clock_ms(CLOCK_MONOTONIC) - t0 >= WEB_UPSTREAM_BACKOFF_MIN_MS - 50);
	assert_true(f->last_connected);
	assert_int_equal(web_state_counters(f->st)->resyncs, 2);
	close(w);
}

static void on_query(void *ud, int err, const json_t *reply)
{
	struct fix *f = ud;
	f->query_calls++;
	f->query_err = err;
	json_decref(f->query_reply);
	f->query_reply = reply ? json_deep_copy(reply) : NULL;
}

static void test_query(void **state)
{
	struct fix *f = *state;
	int w;

	f->up = web_upstream_new(f->base, f->path, f->st, notify, f);
	sync_watch(f, &w, 2);
	json_t *req = json_pack("{s:i, s:s, s:i}", "id", 1, "cmd", "history", "limit", 3);
	assert_non_null(web_upstream_query(f->up, req, on_query, f));
	int q = peer_accept(f);
	json_t *r;
	expect_cmd(f, q, "history", &r);
	assert_int_equal(json_integer_value(json_object_get(r, "limit")), 3);
	json_decref(r);
	peer_send(f, q, HELLO "{\"id\":1,\"ok\":true,\"records\":[]}\n");
	assert_int_equal(f->query_calls, 1);
	assert_int_equal(f->query_err, 0);
	assert_true(json_is_true(json_object_get(f->query_reply, "ok")));
	close(q);

	/* cancelled: never called back */
	req = json_pack("{s:i, s:s}", "id", 1, "cmd", "history");
	struct web_query *wq = web_upstream_query(f->up, req, on_query, f);
	q = peer_accept(f);
	web_query_cancel(wq);
	peer_send(f, q, HELLO "{\"id\":1,\"ok\":true,\"records\":[]}\n");
	assert_int_equal(f->query_calls, 1);
	close(q);
	close(w);

	/* no flashd: refused at once */
	web_upstream_free(f->up);
	f->up = NULL;
	close(f->lfd);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	f->up = web_upstream_new(f->base, f->path, f->st, notify, f);
	req = json_pack("{s:i, s:s}", "id", 1, "cmd", "history");
	errno = 0;
	assert_null(web_upstream_query(f->up, req, on_query, f));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_resync_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
