/* web_http: routes, SSE and bounds on evhttp (see web_http.h). SSE format:
 * html.spec.whatwg.org, "Server-sent events": "event: T\ndata: D\n\n",
 * comment lines start with ':'. */
#include "web_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/log.h"
#include "common/macro.h"
#include "flashd/ctlproto.h"
#include "web_assets.h"

/* Accepting again after the process ran out of descriptors. */
#define ACCEPT_PAUSE_MS 100

struct sse;

/* A connection that sent a request. */
struct conn {
	struct web_http *h;
	struct evhttp_connection *evcon;
	struct sse *sse;          /* the connection is an event stream */
	struct web_query *query;  /* a history request waits for flashd */
	struct evhttp_request *query_req;
	struct conn *prev, *next;
};

struct sse {
	struct conn *c;
	struct evhttp_request *req;
	bool dead; /* dropped: reaped from the loop */
	struct sse *prev, *next;
};

struct web_http {
	struct event_base *base;
	struct web_http_config cfg;
	struct web_http_ops ops;
	void *ud;
	struct evhttp *http;
	struct evconnlistener *listeners[4];
	size_t nlisteners;
	struct event *accept_again;
	struct event *heartbeat;
	struct event *reap;
	struct conn *conns;
	unsigned nconns;
	struct sse *sses;
	unsigned nsse;
	unsigned long dropped;
};

/* ---- replies */

static void common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *o = evhttp_request_get_output_headers(req);

	evhttp_add_header(o, "Content-Type", type);
	evhttp_add_header(o, "Cache-Control", "no-store");
	evhttp_add_header(o, "X-Content-Type-Options", "nosniff");
}

/* evhttp (2.1) sends a body for HEAD too: headers only, with the length the
 * GET would have (RFC 9110, 9.3.2). */
static void send_reply(struct evhttp_request *req, int code, const char *reason,
		       struct evbuffer *body)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[32];
		snprintf(len, sizeof(len), "%zu", body ? evbuffer_get_length(body) : (size_t)0);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
		evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, body);
}

static void reply_json(struct evhttp_request *req, int code, const char *reason, const json_t *body)
{
	struct evbuffer *b = evbuffer_new();
	char *s = json_dumps(body, JSON_COMPACT);

	common_headers(req, "application/json");
	if (b && s) {
		evbuffer_add(b, s, strlen(s));
		evbuffer_add(b, "\n", 1);
		send_reply(req, code, reason, b);
	} else {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	}
	free(s);
	if (b)
		evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason,
			const char *ecode, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void reply_error(struct evhttp_request *req, int code, const char *reason,
			const char *ecode, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *body;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	body = json_pack("{s:{s:s, s:s}}", "error", "code", ecode, "message", msg);
	reply_json(req, code, reason, body);
	json_decref(body);
}

/* ---- connections */

static void conn_closed(struct evhttp_connection *evcon, void *arg);

static void sse_unlink(struct web_http *h, struct sse *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->sses = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->nsse--;
	free(s);
}

/* A request evhttp let go of when its connection failed before the reply
 * was complete (evhttp_connection_incoming_fail): ours to free. One still
 * on its connection is freed with it. */
static void request_release(struct evhttp_request *req)
{
	if (req && !evhttp_request_get_connection(req))
		evhttp_request_free(req);
}

static void conn_release(struct conn *c)
{
	struct web_http *h = c->h;

	if (c->sse) {
		request_release(c->sse->req);
		sse_unlink(h, c->sse);
	}
	if (c->query) {
		h->ops.cancel(c->query);
		request_release(c->query_req);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	free(c);
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_release(arg);
}

/* The connection's record; a new one while fewer than max_conns; NULL
 * beyond (or out of memory). */
static struct conn *conn_get(struct web_http *h, struct evhttp_connection *evcon)
{
	struct conn *c;

	for (c = h->conns; c; c = c->next)
		if (c->evcon == evcon)
			return c;
	if (h->nconns >= h->cfg.max_conns || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->h = h;
	c->evcon = evcon;
	c->next = h->conns;
	if (c->next)
		c->next->prev = c;
	h->conns = c;
	h->nconns++;
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	return c;
}

/* ---- Server-Sent Events */

static struct evbuffer *sse_output(const struct sse *s)
{
	return bufferevent_get_output(evhttp_connection_get_bufferevent(s->c->evcon));
}

static void sse_write(struct web_http *h, struct sse *s, const char *text, size_t len)
{
	struct evbuffer *b;

	if (s->dead)
		return;
	if (evbuffer_get_length(sse_output(s)) + len > h->cfg.sse_buffer_max) {
		/* never buffered without limit: a dashboard that does not read goes */
		s->dead = true;
		h->dropped++;
		log_info("dashboard dropped: %zu bytes unread",
			 evbuffer_get_length(sse_output(s)));
		event_active(h->reap, EV_TIMEOUT, 0);
		return;
	}
	b = evbuffer_new();
	if (b && evbuffer_add(b, text, len) == 0)
		evhttp_send_reply_chunk(s->req, b);
	if (b)
		evbuffer_free(b);
}

/* "event: type\ndata: JSON\n\n" (compact JSON has no newline). */
static char *sse_format(const char *type, const json_t *data, size_t *len)
{
	char *j = json_dumps(data, JSON_COMPACT), *out = NULL;
	int n = j ? asprintf(&out, "event: %s\ndata: %s\n\n", type, j) : -1;

	free(j);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return out;
}

void web_http_broadcast(struct web_http *h, const char *type, const json_t *data)
{
	size_t len;
	char *text;

	if (!h->sses || !(text = sse_format(type, data, &len)))
		return;
	for (struct sse *s = h->sses; s; s = s->next)
		sse_write(h, s, text, len);
	free(text);
}

static void sse_reap(evutil_socket_t fd, short what, void *arg)
{
	struct web_http *h = arg;
	struct sse *s = h->sses;

	(void)fd;
	(void)what;
	while (s) {
		struct sse *next = s->next;
		if (s->dead) {
			struct evhttp_connection *evcon = s->c->evcon;
			evhttp_connection_set_closecb(evcon, NULL, NULL);
			conn_release(s->c);
			evhttp_connection_free(evcon);
		}
		s = next;
	}
}

static void sse_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct web_http *h = arg;
	static const char beat[] = ": heartbeat\n\n";

	(void)fd;
	(void)what;
	for (struct sse *s = h->sses; s; s = s->next)
		sse_write(h, s, beat, sizeof(beat) - 1);
}

static void serve_events(struct web_http *h, struct evhttp_request *req, struct conn *c,
			 const char *query)
{
	static const char hello[] = "retry: 2000\n\n";
	struct sse *s;
	json_t *snap;
	char *text;
	size_t len;

	(void)query;
	if (c->sse || h->nsse >= h->cfg.max_sse) {
		reply_error(req, 503, "Service Unavailable", "too-many-clients",
			    "too many dashboards (%u)", h->cfg.max_sse);
		return;
	}
	common_headers(req, "text/event-stream");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	snap = h->ops.snapshot(h->ud);
	text = snap ? sse_format("snapshot", snap, &len) : NULL;
	json_decref(snap);
	if (!text || !(s = calloc(1, sizeof(*s)))) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	s->c = c;
	s->req = req;
	s->next = h->sses;
	if (s->next)
		s->next->prev = s;
	h->sses = s;
	h->nsse++;
	c->sse = s;
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	sse_write(h, s, hello, sizeof(hello) - 1);
	sse_write(h, s, text, len);
	free(text);
}

/* ---- the other routes */

static void free_page(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	free((void *)data);
}

static void serve_metrics(struct web_http *h, struct evhttp_request *req, struct conn *c,
			  const char *query)
{
	size_t len = 0;
	char *page = h->ops.metrics(h->ud, h->nsse, &len);
	struct evbuffer *b = evbuffer_new();

	(void)c;
	(void)query;
	if (!page || !b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		common_headers(req, "text/plain; version=0.0.4; charset=utf-8");
		/* the page is written after this returns: freed when sent */
		if (evbuffer_add_reference(b, page, len, free_page, NULL) == 0)
			page = NULL;
		send_reply(req, 200, "OK", b);
	}
	if (b)
		evbuffer_free(b);
	free(page);
}

static void serve_status(struct web_http *h, struct evhttp_request *req, struct conn *c,
			 const char *query)
{
	json_t *s = h->ops.status(h->ud);

	(void)c;
	(void)query;
	if (!s) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	reply_json(req, 200, "OK", s);
	json_decref(s);
}

/* flashd's error code as an HTTP status. */
static int history_status(const char *code, const char **reason)
{
	if (code && strcmp(code, PROTOCOL_ERR_BAD_ARGUMENT) == 0)
		return *reason = "Bad Request", 400;
	if (code && strcmp(code, PROTOCOL_ERR_NOT_FOUND) == 0)
		return *reason = "Not Found", 404;
	if (code && (strcmp(code, PROTOCOL_ERR_UNAVAILABLE) == 0 ||
		     strcmp(code, PROTOCOL_ERR_BUSY) == 0 ||
		     strcmp(code, PROTOCOL_ERR_TOO_MANY_CLIENTS) == 0))
		return *reason = "Service Unavailable", 503;
	return *reason = "Bad Gateway", 502;
}

static void history_done(void *arg, int err, const json_t *reply)
{
	struct conn *c = arg;
	struct evhttp_request *req = c->query_req;
	const char *code = NULL, *message = NULL, *reason;
	json_t *body;

	c->query = NULL;
	c->query_req = NULL;
	if (err == -ETIMEDOUT) {
		reply_error(req, 504, "Gateway Timeout", "timeout", "flashd did not answer");
		return;
	}
	if (err < 0) {
		bool down = err == -ENOENT || err == -ECONNREFUSED || err == -ECONNRESET ||
			    err == -EBUSY || err == -EACCES || err == -EAGAIN;
		reply_error(req, down ? 503 : 502, down ? "Service Unavailable" : "Bad Gateway",
			    down ? "flashd-unavailable" : "bad-gateway", "flashd: %s",
			    strerror(-err));
		return;
	}
	int ok = ctlproto_reply_status(reply, &code, &message);
	if (ok == 1) {
		body = json_deep_copy(reply);
		json_object_del(body, PROTOCOL_KEY_ID);
		reply_json(req, 200, "OK", body);
		json_decref(body);
		return;
	}
	int status = history_status(ok == 0 ? code : NULL, &reason);
	reply_error(req, status, reason, code ? code : "bad-gateway", "%s",
		    message ? message : "malformed reply from flashd");
}

/* A number of a query: decimal digits only, at most 16 of them (2^53 has 16). */
static bool query_number(const char *v, json_int_t *out)
{
	size_t n = strlen(v);

	if (n == 0 || n > 16 || strspn(v, "0123456789") != n)
		return false;
	*out = (json_int_t)strtoll(v, NULL, 10);
	return true;
}

/* The history request for ?port=&result=&since=&limit=&before=&after=, or
 * NULL with a message; checked against the protocol's own argument table. */
static json_t *history_request(const char *query, char *msg, size_t msglen)
{
	static const char *const numbers[] = { PROTOCOL_ARG_SINCE, PROTOCOL_ARG_LIMIT,
					       PROTOCOL_ARG_BEFORE, PROTOCOL_ARG_AFTER };
	struct evkeyvalq q = { 0 };
	struct evkeyval *kv;
	json_t *req = ctlproto_request_new(1, &ctlproto_commands[CTLPROTO_CMD_HISTORY]);
	json_t *err = NULL;
	struct ctlproto_request parsed;
	char *line = NULL;
	size_t len;

	if (!req || evhttp_parse_query_str(query ? query : "", &q) < 0) {
		snprintf(msg, msglen, "malformed query");
		goto fail;
	}
	for (kv = q.tqh_first; kv; kv = kv->next.tqe_next) {
		bool num = false, known = strcmp(kv->key, PROTOCOL_ARG_PORT) == 0 ||
					  strcmp(kv->key, PROTOCOL_ARG_RESULT) == 0;
		json_int_t v;
		for (size_t i = 0; i < ELEMENTSOF(numbers); i++)
			num = num || strcmp(kv->key, numbers[i]) == 0;
		if (!known && !num) {
			snprintf(msg, msglen, "unknown parameter \"%.64s\"", kv->key);
			goto fail;
		}
		if (json_object_get(req, kv->key)) {
			snprintf(msg, msglen, "%s given twice", kv->key);
			goto fail;
		}
		if (num && !query_number(kv->value, &v)) {
			snprintf(msg, msglen, "%s: not a number", kv->key);
			goto fail;
		}
		json_object_set_new(req, kv->key, num ? json_integer(v) : json_string(kv->value));
	}
	if (ctlproto_encode(req, &line, &len) < 0) {
		snprintf(msg, msglen, "bad parameter value");
		goto fail;
	}
	if (ctlproto_request_parse(line, len - 1, &parsed, &err) < 0) {
		const json_t *e = json_object_get(err, PROTOCOL_KEY_ERROR);
		const char *m = json_string_value(json_object_get(e, PROTOCOL_KEY_MESSAGE));
		snprintf(msg, msglen, "%s", m ? m : "bad parameter");
		json_decref(err);
		goto fail;
	}
	ctlproto_request_clear(&parsed);
	free(line);
	evhttp_clear_headers(&q);
	return req;
fail:
	free(line);
	evhttp_clear_headers(&q);
	json_decref(req);
	return NULL;
}

static void serve_history(struct web_http *h, struct evhttp_request *req, struct conn *c,
			  const char *query)
{
	char msg[256];
	json_t *request = history_request(query, msg, sizeof(msg));

	if (!request) {
		reply_error(req, 400, "Bad Request", "bad-request", "%s", msg);
		return;
	}
	c->query_req = req;
	c->query = h->ops.history(h->ud, request, history_done, c);
	if (!c->query) {
		c->query_req = NULL;
		bool busy = errno == EBUSY;
		reply_error(req, 503, "Service Unavailable", busy ? "busy" : "flashd-unavailable",
			    "flashd: %s", busy ? "too many history requests" : strerror(errno));
	}
}

static bool serve_asset(struct evhttp_request *req, const char *path)
{
	struct evkeyvalq *o = evhttp_request_get_output_headers(req);

	for (size_t i = 0; i < web_assets_count; i++) {
		const struct web_asset *a = &web_assets[i];
		if (strcmp(a->path, path) != 0)
			continue;
		struct evbuffer *b = evbuffer_new();
		if (!b) {
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
			return true;
		}
		common_headers(req, a->content_type);
		evhttp_add_header(o, "Content-Security-Policy",
				  "default-src 'self'; frame-ancestors 'none'");
		evhttp_add_header(o, "Referrer-Policy", "no-referrer");
		evbuffer_add_reference(b, a->data, a->len, NULL, NULL); /* static */
		send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return true;
	}
	return false;
}

typedef void (*route_fn)(struct web_http *h, struct evhttp_request *req, struct conn *c,
			 const char *query);
static const struct route {
	const char *path;
	route_fn fn;
	bool takes_query;
} routes[] = {
	{ "/metrics", serve_metrics, false },
	{ "/api/status", serve_status, false },
	{ "/api/history", serve_history, true },
	{ "/events", serve_events, false },
};

static void http_request(struct evhttp_request *req, void *arg)
{
	struct web_http *h = arg;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	struct conn *c = conn_get(h, evhttp_request_get_connection(req));
	const char *path, *query;

	if (!c) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		reply_error(req, 503, "Service Unavailable", "too-many-clients",
			    "too many connections (%u)", h->cfg.max_conns);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		reply_error(req, 405, "Method Not Allowed", "method-not-allowed",
			    "only GET and HEAD: nothing is changed over HTTP");
		return;
	}
	if (!uri || strlen(uri) > h->cfg.max_uri) {
		reply_error(req, 414, "URI Too Long", "uri-too-long",
			    "request target over %zu bytes", h->cfg.max_uri);
		return;
	}
	path = u ? evhttp_uri_get_path(u) : NULL;
	query = u ? evhttp_uri_get_query(u) : NULL;
	if (!path || !*path) {
		reply_error(req, 400, "Bad Request", "bad-request", "malformed request target");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(routes); i++)
		if (strcmp(path, routes[i].path) == 0) {
			if (query && !routes[i].takes_query)
				reply_error(req, 400, "Bad Request", "bad-request",
					    "%s takes no query", routes[i].path);
			else
				routes[i].fn(h, req, c, query);
			return;
		}
	if (!serve_asset(req, path))
		reply_error(req, 404, "Not Found", "not-found", "no such page");
}

/* ---- listeners */

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct web_http *h = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < h->nlisteners; i++)
		evconnlistener_enable(h->listeners[i]);
}

/* Out of descriptors (EMFILE, ENFILE …): pause accepting rather than spin. */
static void accept_error(struct evconnlistener *l, void *arg)
{
	struct web_http *h = arg;
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };

	log_warning_errno(-EVUTIL_SOCKET_ERROR(), "accept");
	evconnlistener_disable(l);
	evtimer_add(h->accept_again, &tv);
}

static int listen_on(struct web_http *h, struct evconnlistener *l)
{
	if (!l)
		return -errno ? -errno : -ENOMEM;
	if (h->nlisteners >= ELEMENTSOF(h->listeners) || !evhttp_bind_listener(h->http, l)) {
		evconnlistener_free(l);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(l, accept_error);
	h->listeners[h->nlisteners++] = l;
	return 0;
}

int web_http_listen_fd(struct web_http *h, int fd)
{
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	return listen_on(h, evconnlistener_new(h->base, NULL, h, LEV_OPT_CLOSE_ON_FREE, -1, fd));
}

/* "1.2.3.4:80", "[::1]:80"; port 0 (any) allowed, unlike
 * evutil_parse_sockaddr_port. */
static int parse_addr_port(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[64], *end;
	size_t hl;
	unsigned long port;

	if (!colon || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (hl - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
		memset(a, 0, sizeof(*a));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return evutil_inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof(*a);
	return evutil_inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

int web_http_listen(struct web_http *h, const char *addr_port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	if (parse_addr_port(addr_port, &ss, &len) < 0)
		return -EINVAL;
	errno = 0;
	return listen_on(h, evconnlistener_new_bind(h->base, NULL, h,
						    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
							    LEV_OPT_REUSEABLE,
						    128, (struct sockaddr *)&ss, (int)len));
}

int web_http_port(const struct web_http *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!h->nlisteners ||
	    getsockname(evconnlistener_get_fd(h->listeners[0]), (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

unsigned web_http_sse_clients(const struct web_http *h)
{
	return h->nsse;
}

unsigned long web_http_sse_dropped(const struct web_http *h)
{
	return h->dropped;
}

struct web_http *web_http_new(struct event_base *base, const struct web_http_config *cfg,
			      const struct web_http_ops *ops, void *ud)
{
	struct web_http *h = calloc(1, sizeof(*h));
	struct timeval beat;

	if (!h)
		return NULL;
	h->base = base;
	h->cfg = *cfg;
	h->ops = *ops;
	h->ud = ud;
	h->http = evhttp_new(base);
	h->accept_again = evtimer_new(base, accept_resume, h);
	h->heartbeat = event_new(base, -1, EV_PERSIST, sse_heartbeat, h);
	h->reap = event_new(base, -1, 0, sse_reap, h);
	if (!h->http || !h->accept_again || !h->heartbeat || !h->reap)
		return web_http_free(h);
	/* every method reaches http_request, which answers 405 for all but GET
	 * and HEAD (evhttp itself would answer 501) */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->http, (ev_ssize_t)cfg->max_headers);
	evhttp_set_max_body_size(h->http, (ev_ssize_t)cfg->max_body);
	evhttp_set_timeout(h->http, cfg->timeout_s);
	evhttp_set_gencb(h->http, http_request, h);
	beat.tv_sec = cfg->heartbeat_ms / 1000;
	beat.tv_usec = (cfg->heartbeat_ms % 1000) * 1000;
	evtimer_add(h->heartbeat, &beat);
	return h;
}

struct web_http *web_http_free(struct web_http *h)
{
	if (!h)
		return NULL;
	/* evhttp_free frees the connections: forget them first */
	while (h->conns) {
		evhttp_connection_set_closecb(h->conns->evcon, NULL, NULL);
		conn_release(h->conns);
	}
	if (h->http)
		evhttp_free(h->http); /* and the listeners bound to it */
	if (h->accept_again)
		event_free(h->accept_again);
	if (h->heartbeat)
		event_free(h->heartbeat);
	if (h->reap)
		event_free(h->reap);
	free(h);
	return NULL;
}
