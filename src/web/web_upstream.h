/* web_upstream: flashd-web's side of flashd's control socket. One watch
 * connection feeds the web_state (snapshot, events, the stats and plans
 * replies); it reconnects with a backoff (0.25 s doubling to 5 s) and
 * resynchronises from the snapshot, also after an overflow. Today's boards
 * are read from history in pages on a second connection, and /api/history
 * requests get a short-lived connection each. Nothing blocks. */
#ifndef FLASHD_WEB_UPSTREAM_H
#define FLASHD_WEB_UPSTREAM_H

#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>

#include "web_state.h"

#define WEB_UPSTREAM_BACKOFF_MIN_MS 250
#define WEB_UPSTREAM_BACKOFF_MAX_MS 5000
/* A query (history) that has no reply by then fails with -ETIMEDOUT. */
#define WEB_QUERY_TIMEOUT_MS 10000
/* Queries in flight at once; beyond, web_upstream_query fails with EBUSY. */
#define WEB_QUERY_MAX 16u

/* The dashboards get an event: type "snapshot" (data: the whole state),
 * "station" (the summary), or a watch event passed on (data: the event). */
typedef void (*web_upstream_notify_fn)(void *ud, const char *type, const json_t *data);

struct web_upstream;
struct web_query;

struct web_upstream *web_upstream_new(struct event_base *base, const char *socket_path,
				      struct web_state *st, web_upstream_notify_fn notify,
				      void *ud);
struct web_upstream *web_upstream_free(struct web_upstream *up);

/* err 0: reply is flashd's reply (ok or not; borrowed). Else -errno:
 * ENOENT/ECONNREFUSED/ECONNRESET/EBUSY (flashd down or full), ETIMEDOUT,
 * EPROTO/EBADMSG/E2BIG (a bad answer). Called once, unless cancelled. */
typedef void (*web_query_fn)(void *ud, int err, const json_t *reply);
/* Send request (stolen) on a connection of its own. NULL with errno EBUSY
 * when WEB_QUERY_MAX are in flight, or ENOMEM. */
struct web_query *web_upstream_query(struct web_upstream *up, json_t *request, web_query_fn cb,
				     void *ud);
/* The callback will not be called; the connection is closed. */
void web_query_cancel(struct web_query *q);

/* Unix ms of the local midnight that began the day of now_ms. */
int64_t web_upstream_midnight(int64_t now_ms);

#endif
