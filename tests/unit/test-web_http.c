/* test-web_http: flashd-web's HTTP layer on a loopback port, with fake ops
 * and raw sockets as clients: routes and their errors (404, 405, 400, 414,
 * oversized headers), the dashboard's files, /api/history checked and
 * forwarded (and cancelled when the client leaves), SSE (snapshot first,
 * heartbeat, the client limit) and the drop of a dashboard that does not
 * read, and the connection limit. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "web/web_http.h"

struct fake {
	json_t *history_req;   /* the last request handed to history */
	web_query_fn done;
	void *done_ud;
	int cancelled;
	int history_calls;
};

static struct fake fake;
static struct web_query *const FAKE_QUERY = (struct web_query *)&fake;

static json_t *f_status(void *ud)
{
	(void)ud;
	return json_pack("{s:b}", "fake", 1);
}

static json_t *f_snapshot(void *ud)
{
	(void)ud;
	return json_pack("{s:i}", "snap", 1);
}

static char *f_metrics(void *ud, unsigned sse, size_t *len)
{
	char *s = NULL;
	(void)ud;
	*len = (size_t)asprintf(&s, "# HELP m x\n# TYPE m gauge\nm %u\n", sse);
	return s;
}

static struct web_query *f_history(void *ud, json_t *req, web_query_fn done, void *done_ud)
{
	(void)ud;
	json_decref(fake.history_req);
	fake.history_req = req;
	fake.done = done;
	fake.done_ud = done_ud;
	fake.history_calls++;
	return FAKE_QUERY;
}

static void f_cancel(struct web_query *q)
{
	assert_ptr_equal(q, FAKE_QUERY);
	fake.cancelled++;
	fake.done = NULL;
}

static const struct web_http_ops ops = { f_status, f_snapshot, f_metrics, f_history, f_cancel };

struct fix {
	struct event_base *base;
	struct web_http *h;
	int port;
};

static int setup(void **state)
{
	struct web_http_config cfg = WEB_HTTP_CONFIG_DEFAULT;
	struct fix *f = calloc(1, sizeof(*f));

	cfg.max_sse = 2;
	cfg.max_conns = 6;
	cfg.sse_buffer_max = 64u << 10;
	cfg.heartbeat_ms = 100;
	cfg.timeout_s = 5;
	cfg.max_headers = 2048;
	cfg.max_uri = 256;
	memset(&fake, 0, sizeof(fake));
	f->base = event_base_new();
	f->h = web_http_new(f->base, &cfg, &ops, NULL);
	assert_non_null(f->h);
	assert_int_equal(web_http_listen(f->h, "127.0.0.1:0"), 0);
	f->port = web_http_port(f->h);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	web_http_free(f->h);
	event_base_free(f->base);
	json_decref(fake.history_req);
	fake.history_req = NULL;
	free(f);
	return 0;
}

static void spin(struct fix *f, int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static int client(struct fix *f, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) /* the server may close early (oversized request) */
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Read while the loop runs, until `until` appears, EOF, or ~10 s. */
static char *recv_until(struct fix *f, int fd, const char *until)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = calloc(1, cap);

	for (int i = 0; i < 2000; i++) {
		spin(f, 2);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5) <= 0)
			continue;
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t got = recv(fd, buf + n, cap - n - 1, 0);
		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = 0;
		if (until && strstr(buf, until))
			break;
	}
	buf[n] = 0;
	return buf;
}

/* One request with Connection: close, the whole response. */
static char *request(struct fix *f, const char *method, const char *target, const char *extra)
{
	char *req = NULL;
	int fd = client(f, 0);
	int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", method,
			 target, extra ? extra : "");
	send_all(fd, req, (size_t)n);
	free(req);
	char *resp = recv_until(f, fd, NULL);
	close(fd);
	return resp;
}

static void expect_status(char *resp, const char *status)
{
	if (strncmp(resp, status, strlen(status)) != 0)
		fail_msg("want \"%s\", got: %.200s", status, resp);
}

static void test_errors(void **state)
{
	struct fix *f = *state;
	char *r;

	r = request(f, "GET", "/nope", NULL);
	expect_status(r, "HTTP/1.1 404");
	assert_non_null(strstr(r, "{\"error\":{\"code\":\"not-found\""));
	assert_non_null(strstr(r, "Content-Type: application/json"));
	free(r);
	static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		r = request(f, methods[i], "/metrics", "Content-Length: 0\r\n");
		expect_status(r, "HTTP/1.1 405");
		assert_non_null(strstr(r, "Allow: GET, HEAD"));
		free(r);
	}
	r = request(f, "GET", "/metrics?x=1", NULL);
	expect_status(r, "HTTP/1.1 400");
	free(r);
	static const char *const bad[] = {
		"/api/history?bogus=1",     "/api/history?limit=abc", "/api/history?limit=-1",
		"/api/history?limit=0",     "/api/history?limit=10001", "/api/history?since=1e3",
		"/api/history?result=fine", "/api/history?limit=1&limit=2",
		"/api/history?before=99999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = request(f, "GET", bad[i], NULL);
		if (strncmp(r, "HTTP/1.1 400", 12) != 0)
			fail_msg("%s: %.200s", bad[i], r);
		assert_non_null(strstr(r, "\"code\":\"bad-request\""));
		free(r);
	}
	assert_int_equal(fake.history_calls, 0);
	/* a long target: 414; longer than the header bound: refused by evhttp */
	char target[1024];
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[300] = 0;
	r = request(f, "GET", target, NULL);
	expect_status(r, "HTTP/1.1 414");
	free(r);
	char *huge = malloc(64 << 10);
	memset(huge, 'b', 64 << 10);
	memcpy(huge, "X-Big: ", 7);
	memcpy(huge + (64 << 10) - 3, "\r\n", 3);
	r = request(f, "GET", "/metrics", huge);
	assert_true(r[0] == 0 || strncmp(r, "HTTP/1.1 4", 10) == 0);
	free(r);
	free(huge);
	/* and it still serves */
	r = request(f, "GET", "/api/status", NULL);
	expect_status(r, "HTTP/1.1 200");
	assert_non_null(strstr(r, "{\"fake\":true}"));
	free(r);
}

static void test_pages(void **state)
{
	struct fix *f = *state;
	char *r;

	r = request(f, "GET", "/", NULL);
	expect_status(r, "HTTP/1.1 200");
	assert_non_null(strstr(r, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(r, "Content-Security-Policy: default-src 'self'"));
	assert_non_null(strstr(r, "id=\"results\""));
	free(r);
	r = request(f, "GET", "/app.js", NULL);
	assert_non_null(strstr(r, "text/javascript"));
	assert_non_null(strstr(r, "EventSource"));
	free(r);
	r = request(f, "GET", "/style.css", NULL);
	assert_non_null(strstr(r, "text/css"));
	free(r);
	r = request(f, "HEAD", "/", NULL);
	expect_status(r, "HTTP/1.1 200");
	assert_null(strstr(r, "<html"));
	assert_non_null(strstr(r, "Content-Length: "));
	assert_null(strstr(r, "Content-Length: 0\r"));
	free(r);
	r = request(f, "GET", "/metrics", NULL);
	expect_status(r, "HTTP/1.1 200");
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r, "\r\n\r\n# HELP m x\n# TYPE m gauge\nm 0\n"));
	free(r);
}

/* The history request as the fake received it, then its reply. */
static char *history(struct fix *f, const char *target, int err, const char *reply)
{
	char *req = NULL;
	int fd = client(f, 0);
	int n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target);
	int calls = fake.history_calls;

	send_all(fd, req, (size_t)n);
	free(req);
	for (int i = 0; i < 5000 && fake.history_calls == calls; i++) {
		spin(f, 1);
		usleep(1000);
	}
	assert_int_equal(fake.history_calls, calls + 1);
	json_t *rj = reply ? json_loads(reply, 0, NULL) : NULL;
	fake.done(fake.done_ud, err, rj);
	json_decref(rj);
	char *resp = recv_until(f, fd, NULL);
	close(fd);
	return resp;
}

static void test_history(void **state)
{
	struct fix *f = *state;
	char *r;

	r = history(f, "/api/history?port=1-1.4&result=failed&since=1764100000000&limit=20&before=18211",
		    0, "{\"id\":1,\"ok\":true,\"records\":[],\"older\":null,\"newer\":3}");
	expect_status(r, "HTTP/1.1 200");
	assert_non_null(strstr(r, "\r\n\r\n{\"ok\":true,\"records\":[],\"older\":null,\"newer\":3}\n"));
	free(r);
	json_t *q = fake.history_req;
	assert_string_equal(json_string_value(json_object_get(q, "cmd")), "history");
	assert_string_equal(json_string_value(json_object_get(q, "port")), "1-1.4");
	assert_string_equal(json_string_value(json_object_get(q, "result")), "failed");
	assert_int_equal(json_integer_value(json_object_get(q, "since")), 1764100000000LL);
	assert_int_equal(json_integer_value(json_object_get(q, "limit")), 20);
	assert_int_equal(json_integer_value(json_object_get(q, "before")), 18211);
	/* no query: flashd's defaults */
	r = history(f, "/api/history", 0, "{\"id\":1,\"ok\":true,\"records\":[]}");
	expect_status(r, "HTTP/1.1 200");
	free(r);
	/* flashd down, slow, or saying no */
	r = history(f, "/api/history?limit=1", -ENOENT, NULL);
	expect_status(r, "HTTP/1.1 503");
	free(r);
	r = history(f, "/api/history?limit=1", -ETIMEDOUT, NULL);
	expect_status(r, "HTTP/1.1 504");
	free(r);
	r = history(f, "/api/history?limit=1", -EBADMSG, NULL);
	expect_status(r, "HTTP/1.1 502");
	free(r);
	r = history(f, "/api/history?port=x", 0,
		    "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"no journal\"}}");
	expect_status(r, "HTTP/1.1 503");
	assert_non_null(strstr(r, "\"message\":\"no journal\""));
	free(r);

	/* the client leaves before flashd answers (evhttp reads nothing more
	 * from a connection whose request is open, so it learns it when the
	 * reply is written): the reply goes nowhere, the server goes on */
	int fd = client(f, 0);
	const char req[] = "GET /api/history HTTP/1.1\r\nHost: x\r\n\r\n";
	int calls = fake.history_calls;
	send_all(fd, req, sizeof(req) - 1);
	for (int i = 0; i < 5000 && fake.history_calls == calls; i++) {
		spin(f, 1);
		usleep(1000);
	}
	assert_non_null(fake.done);
	close(fd);
	spin(f, 10);
	if (fake.done) {
		json_t *rj = json_pack("{s:b, s:[]}", "ok", 1, "records");
		fake.done(fake.done_ud, 0, rj);
		json_decref(rj);
	}
	spin(f, 10);
	r = request(f, "GET", "/api/status", NULL);
	expect_status(r, "HTTP/1.1 200");
	free(r);
}

static int sse_open(struct fix *f, int rcvbuf, char **first)
{
	int fd = client(f, rcvbuf);
	const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, req, sizeof(req) - 1);
	*first = recv_until(f, fd, "data: {\"snap\":1}\n\n");
	return fd;
}

static void test_sse(void **state)
{
	struct fix *f = *state;
	char *r;
	int a = sse_open(f, 0, &r);

	expect_status(r, "HTTP/1.1 200");
	assert_non_null(strstr(r, "Content-Type: text/event-stream"));
	assert_non_null(strstr(r, "event: snapshot\ndata: {\"snap\":1}\n\n"));
	free(r);
	assert_int_equal(web_http_sse_clients(f->h), 1);
	json_t *ev = json_pack("{s:s, s:i}", "port", "1-1", "bytes", 5);
	web_http_broadcast(f->h, "progress", ev);
	json_decref(ev);
	r = recv_until(f, a, "event: progress\ndata: {\"port\":\"1-1\",\"bytes\":5}\n\n");
	assert_non_null(strstr(r, "event: progress\ndata: {\"port\":\"1-1\",\"bytes\":5}\n\n"));
	free(r);
	r = recv_until(f, a, ": heartbeat\n\n");
	assert_non_null(strstr(r, ": heartbeat\n\n"));
	free(r);
	/* the client limit */
	int b = sse_open(f, 0, &r);
	free(r);
	assert_int_equal(web_http_sse_clients(f->h), 2);
	r = request(f, "GET", "/events", NULL);
	expect_status(r, "HTTP/1.1 503");
	free(r);
	r = request(f, "GET", "/metrics", NULL);
	if (!strstr(r, "\nm 2\n"))
		fail_msg("metrics: %s", r);
	free(r);
	/* a client that leaves is forgotten */
	close(b);
	for (int i = 0; i < 3000 && web_http_sse_clients(f->h) == 2; i++) {
		json_t *x = json_pack("{}");
		web_http_broadcast(f->h, "x", x);
		json_decref(x);
		spin(f, 2);
		usleep(2000);
	}
	assert_int_equal(web_http_sse_clients(f->h), 1);
	close(a);
}

static void test_sse_slow_dropped(void **state)
{
	struct fix *f = *state;
	char *r, *big = malloc(16 << 10);
	int slow = sse_open(f, 4096, &r), fast;

	free(r);
	fast = sse_open(f, 0, &r);
	free(r);
	assert_int_equal(web_http_sse_clients(f->h), 2);
	memset(big, 'x', (16 << 10) - 1);
	big[(16 << 10) - 1] = 0;
	json_t *ev = json_pack("{s:s}", "pad", big);
	/* the slow one never reads; the fast one does; the kernel's buffers
	 * fill first, then the server's output passes 64 KiB */
	char sink[1 << 16];
	for (int i = 0; i < 2000 && web_http_sse_dropped(f->h) == 0; i++) {
		web_http_broadcast(f->h, "pad", ev);
		spin(f, 3);
		while (recv(fast, sink, sizeof(sink), 0) > 0)
			;
	}
	json_decref(ev);
	free(big);
	assert_int_equal(web_http_sse_dropped(f->h), 1);
	spin(f, 3);
	assert_int_equal(web_http_sse_clients(f->h), 1);
	/* the slow client sees its connection end, after what was sent */
	for (int i = 0; i < 2000; i++) {
		ssize_t n = recv(slow, sink, sizeof(sink), 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN)
			break;
		if (n < 0) {
			spin(f, 1);
			usleep(1000);
		}
	}
	close(slow);
	/* the fast one still gets events */
	ev = json_pack("{s:i}", "after", 1);
	web_http_broadcast(f->h, "after", ev);
	json_decref(ev);
	r = recv_until(f, fast, "event: after\n");
	assert_non_null(strstr(r, "event: after\ndata: {\"after\":1}\n\n"));
	free(r);
	close(fast);
}

static void test_connection_limit(void **state)
{
	struct fix *f = *state;
	int fds[6];
	const char req[] = "GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n";
	char *r;

	/* six keep-alive connections, each with a request answered */
	for (int i = 0; i < 6; i++) {
		fds[i] = client(f, 0);
		send_all(fds[i], req, sizeof(req) - 1);
		r = recv_until(f, fds[i], "{\"fake\":true}\n");
		expect_status(r, "HTTP/1.1 200");
		free(r);
	}
	r = request(f, "GET", "/api/status", NULL);
	expect_status(r, "HTTP/1.1 503");
	assert_non_null(strstr(r, "too many connections (6)"));
	free(r);
	/* the kept ones still work; one gone, there is room again */
	send_all(fds[0], req, sizeof(req) - 1);
	r = recv_until(f, fds[0], "{\"fake\":true}\n");
	expect_status(r, "HTTP/1.1 200");
	free(r);
	close(fds[5]);
	spin(f, 10);
	usleep(20000);
	spin(f, 10);
	r = request(f, "GET", "/api/status", NULL);
	expect_status(r, "HTTP/1.1 200");
	free(r);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
}

static void test_listen_args(void **state)
{
	struct fix *f = *state;

	assert_int_equal(web_http_listen(f->h, "127.0.0.1"), -EINVAL);
	assert_int_equal(web_http_listen(f->h, "nonsense:80"), -EINVAL);
	assert_int_equal(web_http_listen(f->h, "127.0.0.1:"), -EINVAL);
	int r = web_http_listen(f->h, "[::1]:0"); /* IPv6 parses (the host may lack it) */
	assert_true(r == 0 || r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sse_slow_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_args, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
