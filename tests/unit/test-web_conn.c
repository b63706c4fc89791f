/* test-web_conn: one control-socket connection on the loop against a fake
 * server on a Unix socket: the hello checked (another protocol, or
 * too-many-clients, ends it), lines split across reads and several in one
 * read, a trailing CR, a line over the bound (E2BIG), not JSON (EBADMSG),
 * the server closing (ECONNRESET), a request sent, no server (ENOENT), and
 * the conn freed from inside its own callback. */
#include <errno.h>
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

#include "web/web_conn.h"

struct fix {
	char dir[64], path[128];
	int lfd, sfd; /* listening, server side of the connection */
	struct event_base *base;
	struct web_conn *c;
	json_t *msgs;
	int closed, err;
	bool free_in_cb;
};

static void on_msg(void *ud, const json_t *msg)
{
	struct fix *f = ud;
	json_array_append(f->msgs, (json_t *)msg);
	if (f->free_in_cb)
		f->c = web_conn_free(f->c);
}

static void on_close(void *ud, int err)
{
	struct fix *f = ud;
	f->closed++;
	f->err = err;
	f->c = web_conn_free(f->c);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(f->dir, "/tmp/test-web_conn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s", f->dir);
	strcpy(sa.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->base = event_base_new();
	f->msgs = json_array();
	f->sfd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	web_conn_free(f->c);
	if (f->sfd >= 0)
		close(f->sfd);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	event_base_free(f->base);
	json_decref(f->msgs);
	free(f);
	return 0;
}

static void open_conn(struct fix *f, size_t line_max)
{
	f->c = web_conn_open(f->base, f->path, line_max, on_msg, on_close, f);
	assert_non_null(f->c);
	f->sfd = accept(f->lfd, NULL, NULL);
	assert_true(f->sfd >= 0);
}

static void serve(struct fix *f, const char *s)
{
	assert_int_equal(write(f->sfd, s, strlen(s)), (ssize_t)strlen(s));
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

#define HELLO "{\"hello\":\"flashd\",\"version\":\"0.1.0\",\"protocol\":1}\n"

static void test_lines(void **state)
{
	struct fix *f = *state;
	char buf[256];

	open_conn(f, 1024);
	/* a request goes out as one line */
	json_t *req = json_pack("{s:i, s:s}", "id", 1, "cmd", "watch");
	assert_int_equal(web_conn_send(f->c, req), 0);
	json_decref(req);
	serve(f, HELLO "{\"id\":1,\"ok\":true}\r\n{\"event\":\"snap");
	ssize_t n = read(f->sfd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "{\"id\":1,\"cmd\":\"watch\"}\n");
	/* the hello is not passed on; the half line waits */
	assert_int_equal(json_array_size(f->msgs), 1);
	serve(f, "shot\",\"seq\":1}\n{\"event\":\"port\"}\n");
	assert_int_equal(json_array_size(f->msgs), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f->msgs, 1), "event")),
			    "snapshot");
	assert_int_equal(f->closed, 0);
	/* the server goes */
	close(f->sfd);
	f->sfd = -1;
	for (int i = 0; i < 20 && !f->closed; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->err, -ECONNRESET);
	assert_null(f->c);
}

static void test_too_long(void **state)
{
	struct fix *f = *state;
	char line[1200];

	open_conn(f, 1024);
	serve(f, HELLO);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	serve(f, line);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->err, -E2BIG);
}

static void test_bad(void **state)
{
	struct fix *f = *state;

	open_conn(f, 1024);
	serve(f, HELLO "not json\n");
	assert_int_equal(f->err, -EBADMSG);
	assert_int_equal(f->closed, 1);
}

static void test_hello(void **state)
{
	struct fix *f = *state;

	open_conn(f, 1024);
	serve(f, "{\"hello\":\"flashd\",\"version\":\"9\",\"protocol\":2}\n");
	assert_int_equal(f->err, -EPROTO);
	close(f->sfd);
	f->sfd = -1;
	f->closed = 0;
	open_conn(f, 1024);
	serve(f, "{\"ok\":false,\"error\":{\"code\":\"too-many-clients\",\"message\":\"too many clients (32)\"}}\n");
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->err, -EBUSY);
	assert_int_equal(json_array_size(f->msgs), 0);
}

static void test_free_in_callback(void **state)
{
	struct fix *f = *state;

	open_conn(f, 1024);
	f->free_in_cb = true;
	/* two lines in one read: after the first frees the conn, nothing more */
	serve(f, HELLO "{\"event\":\"a\"}\n{\"event\":\"b\"}\n");
	assert_int_equal(json_array_size(f->msgs), 1);
	assert_null(f->c);
	assert_int_equal(f->closed, 0);
}

static void test_no_server(void **state)
{
	struct fix *f = *state;

	assert_null(web_conn_open(f->base, "/nonexistent/flashd.sock", 1024, on_msg, on_close, f));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_server, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
