/* web_conn: a control-socket connection on the event loop (see web_conn.h). */
#include "web_conn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "flashd/ctlproto.h"

struct web_conn {
	struct bufferevent *bev;
	size_t line_max;
	size_t scanned; /* bytes of the input known to hold no newline */
	bool hello;     /* the hello was read */
	bool in_cb;     /* inside a callback of ours: free later */
	bool dead;      /* web_conn_free was called meanwhile */
	bool closed;    /* on_close was called */
	web_conn_msg_fn on_msg;
	web_conn_close_fn on_close;
	void *ud;
};

static void conn_destroy(struct web_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static void conn_fail(struct web_conn *c, int err)
{
	if (c->closed)
		return;
	c->closed = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->on_close(c->ud, err);
}

/* One line (without "\n"): the hello first, then the owner's. */
static void conn_line(struct web_conn *c, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	json_t *msg = json_loadb(line, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		conn_fail(c, -EBADMSG);
		return;
	}
	if (!c->hello) {
		const char *code = NULL, *message = NULL;
		if (ctlproto_classify(msg) == CTLPROTO_KIND_REPLY &&
		    ctlproto_reply_status(msg, &code, &message) == 0 && code &&
		    strcmp(code, PROTOCOL_ERR_TOO_MANY_CLIENTS) == 0)
			conn_fail(c, -EBUSY);
		else if (ctlproto_hello_check(msg) < 0)
			conn_fail(c, -EPROTO);
		else
			c->hello = true;
	} else {
		c->on_msg(c->ud, msg);
	}
	json_decref(msg);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct web_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->in_cb = true;
	while (!c->dead && !c->closed) {
		/* from where the last search stopped: a long line arrives in
		 * many reads, and is scanned once */
		struct evbuffer_ptr from, eol;
		if (evbuffer_ptr_set(in, &from, c->scanned, EVBUFFER_PTR_SET) < 0)
			evbuffer_ptr_set(in, &from, 0, EVBUFFER_PTR_SET);
		eol = evbuffer_search_eol(in, &from, NULL, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			c->scanned = evbuffer_get_length(in);
			if (c->scanned >= c->line_max)
				conn_fail(c, -E2BIG);
			break;
		}
		c->scanned = 0;
		if ((size_t)eol.pos >= c->line_max) {
			conn_fail(c, -E2BIG);
			break;
		}
		size_t len = (size_t)eol.pos;
		const char *line = (const char *)evbuffer_pullup(in, (ev_ssize_t)len + 1);
		if (!line) {
			conn_fail(c, -ENOMEM);
			break;
		}
		conn_line(c, line, len);
		if (!c->dead)
			evbuffer_drain(in, len + 1);
	}
	c->in_cb = false;
	if (c->dead)
		conn_destroy(c);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct web_conn *c = arg;
	int err = (what & BEV_EVENT_ERROR) && errno ? -errno : -ECONNRESET;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	c->in_cb = true;
	conn_fail(c, err);
	c->in_cb = false;
	if (c->dead)
		conn_destroy(c);
}

struct web_conn *web_conn_open(struct event_base *base, const char *path, size_t line_max,
			       web_conn_msg_fn on_msg, web_conn_close_fn on_close, void *ud)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct web_conn *c;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		close(fd);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->line_max = line_max;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->ud = ud;
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	/* snapshots and history pages are large: fewer, larger reads */
	bufferevent_set_max_single_read(c->bev, 256u << 10);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
}

int web_conn_send(struct web_conn *c, const json_t *msg)
{
	char *line = NULL;
	size_t len = 0;
	int r;

	if (c->closed)
		return -ECONNRESET;
	r = ctlproto_encode(msg, &line, &len);
	if (r == 0 && bufferevent_write(c->bev, line, len) < 0)
		r = -ENOMEM;
	free(line);
	return r;
}

struct web_conn *web_conn_free(struct web_conn *c)
{
	if (!c)
		return NULL;
	if (c->in_cb)
		c->dead = true;
	else
		conn_destroy(c);
	return NULL;
}
