/* control: the control socket server (design.md §5, flashd-control(7)).
 *
 * A Unix stream socket on the daemon's event loop; NDJSON each way. Each
 * client has an input buffer bounded by PROTOCOL_LINE_MAX and an output
 * queue of encoded lines.  Replies are never dropped: while a client has a
 * reply queued, its further requests wait in the kernel (we stop reading), so
 * at most one reply is queued per client.  Events are dropped instead: they
 * are bounded by queue_bytes, and a watcher that falls behind gets one
 * `overflow` event and a fresh `snapshot` once it has caught up, or is
 * disconnected when it overflows again within CONTROL_OVERFLOW_WINDOW_MS.
 * Events are encoded once and shared (refcounted) by every watcher's queue.
 * A request the backend answers later (use, reload: plans load on the
 * worker thread; history: read on the history thread) is a struct
 * control_pending; it counts as a queued reply until control_pending_done()
 * (or, for history, control_client_reply_line) sends the answer. Requests
 * themselves are control_exec.c.
 *
 * Who is an admin, and whether a peer may connect at all, is decided at
 * accept time: control_accept.c. A client that neither watches nor sends
 * is closed after the idle time. Unread replies of all clients together
 * are bounded (replies_max). */
#include "daemon/control_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/control_socket.h"
#include "daemon/loop.h"
#include "daemon/worker.h"
#include "flashd/ctlproto.h"

#define CONTROL_OVERFLOW_WINDOW_MS 10000
#define CONTROL_CLIENTS_DEFAULT 32u
#define CONTROL_QUEUE_DEFAULT (1u << 20)
#define CONTROL_QUEUE_MIN 1024u
#define CONTROL_REPLY_MAX (16u << 20) /* larger replies become an error */
#define CONTROL_REPLIES_DEFAULT (64u << 20)
#define CONTROL_REPLY_SMALL 4096u /* always sent: hellos, errors, acks */

/* One encoded line, shared by the queues it sits in. */
struct control_msg {
	unsigned refs;
	size_t len;
	char data[];
};

struct control_qent {
	struct control_qent *next;
	struct control_msg *msg;
	bool event; /* droppable */
};

/* ---- messages and queues ---- */

static struct control_msg *control_msg_new(const json_t *m)
{
	char *line;
	size_t len;
	struct control_msg *msg;

	if (ctlproto_encode(m, &line, &len) < 0)
		return NULL;
	msg = malloc(sizeof(*msg) + len);
	if (msg) {
		msg->refs = 1; /* the creator's */
		msg->len = len;
		memcpy(msg->data, line, len);
	}
	free(line);
	return msg;
}

static void control_msg_unref(struct control_msg *msg)
{
	if (msg && --msg->refs == 0)
		free(msg);
}

static size_t qent_cost(const struct control_msg *msg)
{
	return msg->len + sizeof(struct control_qent);
}

static void client_kill(struct control_client *cl, const char *why);
static void client_flush(struct control_client *cl);

static int client_push(struct control_client *cl, struct control_msg *msg, bool event)
{
	struct control_qent *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->next = NULL;
	e->msg = msg;
	e->event = event;
	msg->refs++;
	if (cl->tail)
		cl->tail->next = e;
	else
		cl->head = e;
	cl->tail = e;
	cl->queued += qent_cost(msg);
	cl->c->n.queued_bytes += qent_cost(msg);
	cl->replies += !event;
	if (!event)
		cl->c->n.reply_bytes += qent_cost(msg);
	return 0;
}

static void client_pop(struct control_client *cl)
{
	struct control_qent *e = cl->head;
	cl->head = e->next;
	if (!cl->head)
		cl->tail = NULL;
	cl->head_off = 0;
	cl->queued -= qent_cost(e->msg);
	cl->c->n.queued_bytes -= qent_cost(e->msg);
	cl->replies -= !e->event;
	if (!e->event)
		cl->c->n.reply_bytes -= qent_cost(e->msg);
	control_msg_unref(e->msg);
	free(e);
}

/* Drop every queued event not yet started; returns how many. */
static uint64_t client_drop_events(struct control_client *cl)
{
	struct control_qent **pp = &cl->head, *keep_tail = NULL;
	uint64_t n = 0;

	while (*pp) {
		struct control_qent *e = *pp;
		if (!e->event || (e == cl->head && cl->head_off)) {
			keep_tail = e;
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		cl->queued -= qent_cost(e->msg);
		cl->c->n.queued_bytes -= qent_cost(e->msg);
		control_msg_unref(e->msg);
		free(e);
		n++;
	}
	cl->tail = keep_tail;
	return n;
}

/* Queue a message and start writing if the queue was idle. */
static void client_send(struct control_client *cl, struct control_msg *msg, bool event)
{
	bool idle = !cl->head;
	if (client_push(cl, msg, event) < 0) {
		client_kill(cl, "out of memory");
		return;
	}
	if (idle)
		client_flush(cl);
}

/* A reply that is too large, or would take the unread replies of all
 * clients over replies_max, becomes a short error. Small ones always go
 * (at most one per client is queued): a hello or an error is never refused. */
static json_t *control_reply_refusal(struct control_client *cl, const json_t *reply,
				     const struct control_msg *msg, bool *refused)
{
	const json_t *id = json_object_get(reply, PROTOCOL_KEY_ID);
	struct control *c = cl->c;

	*refused = true;
	if (msg->len > CONTROL_REPLY_MAX)
		return ctlproto_reply_error_new(id, PROTOCOL_ERR_FAILED,
						"reply too large (%zu bytes); ask for less", msg->len);
	if (msg->len <= CONTROL_REPLY_SMALL ||
	    c->n.reply_bytes + qent_cost(msg) <= c->o.replies_max) {
		*refused = false;
		return NULL;
	}
	c->n.busy++;
	log_notice("control: uid %u: a reply refused: too many bytes of replies wait to be read",
		   (unsigned)cl->cred.uid);
	return ctlproto_reply_error_new(id, PROTOCOL_ERR_BUSY,
					"clients have %zu bytes of replies unread (at most %zu); "
					"try again later", c->n.reply_bytes, c->o.replies_max);
}

void control_client_reply(struct control_client *cl, json_t *reply)
{
	struct control_msg *msg = reply ? control_msg_new(reply) : NULL;
	bool refused = false;
	json_t *err = msg ? control_reply_refusal(cl, reply, msg, &refused) : NULL;

	if (refused) {
		control_msg_unref(msg);
		msg = err ? control_msg_new(err) : NULL;
		json_decref(err);
	}
	json_decref(reply);
	if (!msg) {
		client_kill(cl, "out of memory");
		return;
	}
	client_send(cl, msg, false);
	control_msg_unref(msg);
}

bool control_replies_have_room(struct control_client *cl, size_t len)
{
	struct control *c = cl->c;

	if (len <= CONTROL_REPLY_SMALL ||
	    c->n.reply_bytes + len + sizeof(struct control_qent) <= c->o.replies_max)
		return true;
	c->n.busy++;
	log_notice("control: uid %u: a reply refused: too many bytes of replies wait to be read",
		   (unsigned)cl->cred.uid);
	return false;
}

void control_client_reply_line(struct control_client *cl, char *line, size_t len)
{
	struct control_msg *msg = malloc(sizeof(*msg) + len);

	if (msg) {
		msg->refs = 1;
		msg->len = len;
		memcpy(msg->data, line, len);
	}
	free(line);
	if (!msg) {
		client_kill(cl, "out of memory");
		return;
	}
	client_send(cl, msg, false);
	control_msg_unref(msg);
}

/* A snapshot or overflow event: carries the latest seq, does not take one. */
static void client_event_now(struct control_client *cl, const char *type, json_t *fields)
{
	json_t *ev = ctlproto_event_new(type, cl->c->seq, clock_ms(CLOCK_REALTIME), fields);
	struct control_msg *msg = ev ? control_msg_new(ev) : NULL;

	json_decref(ev);
	if (!msg) {
		client_kill(cl, "out of memory");
		return;
	}
	client_send(cl, msg, true);
	control_msg_unref(msg);
}

void control_client_snapshot(struct control_client *cl)
{
	const struct control_backend *be = cl->c->be;
	json_t *st = be->status ? be->status(be->ud) : json_object();
	client_event_now(cl, PROTOCOL_EVENT_SNAPSHOT, st ? st : json_object());
}

static void client_overflow(struct control_client *cl)
{
	int64_t now = clock_ms(CLOCK_MONOTONIC);

	if (cl->overflow_ms && now - cl->overflow_ms < CONTROL_OVERFLOW_WINDOW_MS) {
		cl->c->n.kicked++;
		client_kill(cl, "overflowed twice in a short time");
		return;
	}
	cl->c->n.overflows++;
	cl->overflowed = true;
	cl->dropped = client_drop_events(cl) + 1;
	cl->c->n.dropped += cl->dropped;
	log_info("control: client pid %d uid %u: output queue full, dropping events",
		 (int)cl->cred.pid, (unsigned)cl->cred.uid);
	if (!cl->head)
		event_add(cl->wr, NULL); /* recover once the socket takes data again */
}

static void client_event(struct control_client *cl, struct control_msg *msg)
{
	if (cl->overflowed) {
		cl->dropped++;
		cl->c->n.dropped++;
		return;
	}
	if (cl->queued + qent_cost(msg) > cl->c->o.queue_bytes) {
		client_overflow(cl);
		return;
	}
	client_send(cl, msg, true);
}

/* ---- client life ---- */

static void control_event_free(struct event *ev)
{
	if (ev)
		event_free(ev);
}

static void client_free(struct control_client *cl)
{
	if (cl->pending)
		cl->pending->cl = NULL;
	while (cl->head)
		client_pop(cl);
	control_event_free(cl->rd);
	control_event_free(cl->wr);
	control_event_free(cl->idle);
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->in);
	free(cl);
}

/* Stop all I/O now; the memory goes from the reaper (never inside our own callback). */
static void client_kill(struct control_client *cl, const char *why)
{
	if (cl->dead)
		return;
	if (why)
		log_debug("control: client pid %d: closing: %s", (int)cl->cred.pid, why);
	cl->dead = true;
	cl->c->n.clients--;
	cl->c->n.admins -= cl->admin;
	cl->c->n.watchers -= cl->watching;
	event_del(cl->rd);
	event_del(cl->wr);
	event_del(cl->idle);
	close(cl->fd);
	cl->fd = -1;
	event_active(cl->c->reap_ev, 0, 0);
	control_accept_resume(cl->c); /* a descriptor is free again */
}

/* Some byte moved: the idle time starts again. */
static void client_touch(struct control_client *cl)
{
	uint32_t ms = cl->c->o.idle_timeout_ms;
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	if (ms && !cl->watching && !cl->dead)
		event_add(cl->idle, &tv);
}

static void client_on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;

	if (cl->watching)
		return; /* a watcher is never idle */
	if (cl->pending) {
		client_touch(cl); /* the station is still working on its request */
		return;
	}
	cl->c->n.idle_closed++;
	log_info("control: uid %u pid %d: closing a connection idle for %u ms",
		 (unsigned)cl->cred.uid, (int)cl->cred.pid, cl->c->o.idle_timeout_ms);
	client_kill(cl, NULL);
}

static void control_reap(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;
	struct control_client **pp = &c->clients;

	while (*pp) {
		struct control_client *cl = *pp;
		if (!cl->dead) {
			pp = &cl->next;
			continue;
		}
		*pp = cl->next;
		client_free(cl);
	}
}

static void client_process(struct control_client *cl);

/* The output queue is empty. */
static void client_drained(struct control_client *cl)
{
	event_del(cl->wr);
	if (cl->closing) {
		client_kill(cl, NULL);
		return;
	}
	if (cl->overflowed) {
		json_t *f = json_pack("{s:I}", PROTOCOL_KEY_DROPPED, (json_int_t)cl->dropped);
		cl->overflowed = false;
		cl->dropped = 0;
		cl->overflow_ms = clock_ms(CLOCK_MONOTONIC);
		client_event_now(cl, PROTOCOL_EVENT_OVERFLOW, f);
		if (!cl->dead)
			control_client_snapshot(cl);
		return;
	}
	client_process(cl);
}

static void client_flush(struct control_client *cl)
{
	while (cl->head && !cl->dead) {
		struct control_msg *m = cl->head->msg;
		ssize_t n = send(cl->fd, m->data + cl->head_off, m->len - cl->head_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(cl->wr, NULL);
			return;
		}
		if (n < 0) {
			client_kill(cl, strerror(errno));
			return;
		}
		cl->head_off += (size_t)n;
		client_touch(cl);
		if (cl->head_off == m->len)
			client_pop(cl);
	}
	if (!cl->dead)
		client_drained(cl);
}

static void client_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;
	client_flush(cl);
}

/* Handle buffered lines while no reply is queued (not re-entered from the
 * flushes that replies cause). */
static void client_process(struct control_client *cl)
{
	size_t start = 0;

	if (cl->processing || cl->dead)
		return;
	cl->processing = true;
	while (!cl->dead && !cl->closing && !cl->replies && !cl->pending && start < cl->in_len) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (cl->in + start));
		control_exec_request(cl, cl->in + start, len);
		start += len + 1;
	}
	cl->processing = false;
	if (cl->dead || cl->closing)
		return;
	if (start) {
		memmove(cl->in, cl->in + start, cl->in_len - start);
		cl->in_len -= start;
	}
	if (cl->replies || cl->pending) {
		event_del(cl->rd); /* one reply at a time: the rest waits in the kernel */
		return;
	}
	if (cl->in_len == PROTOCOL_LINE_MAX) {
		cl->closing = true;
		cl->in_len = 0;
		event_del(cl->rd);
		control_client_reply(cl, ctlproto_reply_error_new(NULL, PROTOCOL_ERR_LINE_TOO_LONG,
							  "request longer than %u bytes",
							  PROTOCOL_LINE_MAX));
		return;
	}
	if (!cl->eof)
		event_add(cl->rd, NULL);
	else if (!cl->watching && !cl->head)
		client_kill(cl, "end of input"); /* answered all it asked */
}

static int client_grow(struct control_client *cl)
{
	if (cl->in_len < cl->in_cap)
		return 0;
	size_t cap = cl->in_cap ? cl->in_cap * 2 : 4096;
	if (cap > PROTOCOL_LINE_MAX)
		cap = PROTOCOL_LINE_MAX;
	char *in = realloc(cl->in, cap);
	if (!in)
		return -ENOMEM;
	cl->in = in;
	cl->in_cap = cap;
	return 0;
}

static void client_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;
	ssize_t n;

	if (cl->in_len == PROTOCOL_LINE_MAX) {
		event_del(cl->rd); /* client_process decides */
		return;
	}
	if (client_grow(cl) < 0) {
		client_kill(cl, "out of memory");
		return;
	}
	n = recv(cl->fd, cl->in + cl->in_len, cl->in_cap - cl->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		client_kill(cl, strerror(errno));
		return;
	}
	if (n == 0) {
		cl->eof = true;
		event_del(cl->rd);
		client_process(cl);
		return;
	}
	cl->in_len += (size_t)n;
	client_touch(cl);
	client_process(cl);
}

/* ---- a new client (control_accept.c admits it) ---- */

int control_client_new(struct control *c, int fd, const struct ucred *cred, bool admin)
{
	struct control_client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return -ENOMEM;
	cl->c = c;
	cl->fd = fd;
	cl->cred = *cred;
	cl->admin = admin;
	cl->rd = loop_prio(event_new(c->base, fd, EV_READ | EV_PERSIST, client_on_read, cl),
			   LOOP_PRIO_CLIENTS);
	cl->wr = loop_prio(event_new(c->base, fd, EV_WRITE | EV_PERSIST, client_on_write, cl),
			   LOOP_PRIO_CLIENTS);
	cl->idle = loop_prio(event_new(c->base, -1, 0, client_on_idle, cl), LOOP_PRIO_CLIENTS);
	if (!cl->rd || !cl->wr || !cl->idle || event_add(cl->rd, NULL) < 0) {
		cl->fd = -1;
		client_free(cl);
		return -ENOMEM;
	}
	cl->next = c->clients;
	c->clients = cl;
	c->n.clients++;
	c->n.admins += admin;
	client_touch(cl);
	json_t *hello = ctlproto_hello_new(PACKAGE_VERSION);
	control_client_reply(cl, hello);
	return 0;
}

int control_new(struct event_base *base, const struct control_opts *o,
		const struct control_backend *be, struct journal *j, struct control **out)
{
	struct control *c;
	int r;

	if (!base || !o || !be || !out)
		return -EINVAL;
	r = control_exec_check();
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base = base;
	c->o = *o;
	c->o.path = NULL;
	c->listen_fd = -1;
	c->be_copy = *be;
	c->be = &c->be_copy;
	c->journal = j;
	if (!c->o.mode)
		c->o.mode = 0660;
	if (!c->o.max_clients)
		c->o.max_clients = CONTROL_CLIENTS_DEFAULT;
	if (!c->o.queue_bytes)
		c->o.queue_bytes = CONTROL_QUEUE_DEFAULT;
	if (c->o.queue_bytes < CONTROL_QUEUE_MIN)
		c->o.queue_bytes = CONTROL_QUEUE_MIN;
	if (c->o.admin_clients >= c->o.max_clients)
		c->o.admin_clients = c->o.max_clients - 1; /* one slot stays open to all */
	if (!c->o.replies_max)
		c->o.replies_max = CONTROL_REPLIES_DEFAULT;
	c->reap_ev = loop_prio(event_new(base, -1, 0, control_reap, c), LOOP_PRIO_CLIENTS);
	c->o.path = o->path;
	r = c->reap_ev ? control_listen(c) : -ENOMEM;
	c->o.path = NULL;
	if (r < 0) {
		if (o->listen_fd >= 0)
			c->listen_fd = -1; /* the caller's fd stays the caller's on failure */
		control_free(c);
		return r;
	}
	*out = c;
	return 0;
}

struct control *control_free(struct control *c)
{
	if (!c)
		return NULL;
	while (c->clients) {
		struct control_client *cl = c->clients;
		c->clients = cl->next;
		client_free(cl);
	}
	worker_free(c->history); /* its jobs' pending requests have no client now */
	control_event_free(c->listen_ev);
	control_event_free(c->accept_ev);
	control_event_free(c->reap_ev);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
	return NULL;
}

void control_publish(struct control *c, const char *type, json_t *fields)
{
	struct control_msg *msg;
	json_t *ev;

	if (!c || !type) {
		json_decref(fields);
		return;
	}
	c->seq++;
	if (!c->n.watchers) {
		json_decref(fields);
		return;
	}
	ev = ctlproto_event_new(type, c->seq, clock_ms(CLOCK_REALTIME), fields);
	msg = ev ? control_msg_new(ev) : NULL;
	json_decref(ev);
	if (!msg) {
		log_warning("control: %s event lost: out of memory", type);
		return;
	}
	for (struct control_client *cl = c->clients; cl; cl = cl->next)
		if (cl->watching && !cl->dead && !cl->closing)
			client_event(cl, msg);
	control_msg_unref(msg);
}

void control_get_counters(const struct control *c, struct control_counters *out)
{
	*out = c->n;
}
