/* web_http: flashd-web's HTTP server on evhttp: the routes (GET and HEAD
 * only), the dashboard's files, Server-Sent Events to the dashboards with
 * a heartbeat and a bound on each one's unsent output, and the bounds on
 * requests and connections. What it serves comes from the ops. */
#ifndef FLASHD_WEB_HTTP_H
#define FLASHD_WEB_HTTP_H

#include <stddef.h>
#include <event2/event.h>
#include <jansson.h>

#include "web_upstream.h"

struct web_http_config {
	unsigned max_sse;          /* SSE clients (beyond: 503) */
	unsigned max_conns;        /* connections with a request (beyond: 503) */
	size_t sse_buffer_max;     /* an SSE client with more unsent bytes is dropped */
	unsigned heartbeat_ms;     /* SSE comment line this often */
	int timeout_s;             /* evhttp read/write timeout */
	size_t max_headers;        /* request line + headers, bytes */
	size_t max_body;           /* request body, bytes */
	size_t max_uri;            /* longer: 414 */
};

#define WEB_HTTP_CONFIG_DEFAULT                                                                    \
	{ .max_sse = 64, .max_conns = 256, .sse_buffer_max = 1u << 20, .heartbeat_ms = 15000,    \
	  .timeout_s = 30, .max_headers = 8192, .max_body = 1024, .max_uri = 2048 }

struct web_http_ops {
	/* new refs (NULL: out of memory → 500) */
	json_t *(*status)(void *ud);
	json_t *(*snapshot)(void *ud);
	/* malloc'd page */
	char *(*metrics)(void *ud, unsigned sse_clients, size_t *len);
	/* flashd's history: args as the request's keys (stolen); done called
	 * once unless cancelled. NULL and errno (EBUSY …) when it cannot start. */
	struct web_query *(*history)(void *ud, json_t *request, web_query_fn done, void *done_ud);
	void (*cancel)(struct web_query *q);
};

struct web_http;

struct web_http *web_http_new(struct event_base *base, const struct web_http_config *cfg,
			      const struct web_http_ops *ops, void *ud);
/* Serve on a listening socket (systemd's), or bind ADDR:PORT ("[v6]:PORT"
 * for IPv6). 0 or -errno (-EINVAL: bad address). */
int web_http_listen_fd(struct web_http *h, int fd);
int web_http_listen(struct web_http *h, const char *addr_port);
/* The local port of the first listener (tests bind port 0). */
int web_http_port(const struct web_http *h);
/* One SSE event to every dashboard: "event: type\ndata: JSON\n\n". */
void web_http_broadcast(struct web_http *h, const char *type, const json_t *data);
unsigned web_http_sse_clients(const struct web_http *h);
/* SSE clients dropped for not reading (tests, logs). */
unsigned long web_http_sse_dropped(const struct web_http *h);
struct web_http *web_http_free(struct web_http *h);

#endif
