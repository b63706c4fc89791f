/* web_conn: one connection to flashd's control socket on the event loop
 * (non-blocking, bufferevent): NDJSON lines in and out, the hello checked,
 * every incoming line bounded. flashctl's ctlclient is the blocking twin;
 * the encoding (ctlproto_encode) and the hello check are shared. */
#ifndef FLASHD_WEB_CONN_H
#define FLASHD_WEB_CONN_H

#include <stddef.h>
#include <event2/event.h>
#include <jansson.h>

/* Longest line read from flashd: a reply is at most 16 MiB (the daemon's
 * CONTROL_REPLY_MAX: larger ones become an error), plus a request line's
 * worth (PROTOCOL_LINE_MAX) of margin. Past it the connection is closed. */
#define WEB_CONN_LINE_MAX ((16u << 20) + (64u << 10))

struct web_conn;

/* msg: a message after the hello (borrowed). */
typedef void (*web_conn_msg_fn)(void *ud, const json_t *msg);
/* The connection ended: -ECONNRESET (closed by flashd), -EPROTO (no hello of
 * protocol 1), -EBUSY (too-many-clients), -E2BIG (line too long), -EBADMSG
 * (not JSON), other -errno. Called once; then free the conn (also from
 * inside the callback). */
typedef void (*web_conn_close_fn)(void *ud, int err);

/* Connect now (a Unix socket connects at once or fails): NULL and errno
 * (ENOENT, ECONNREFUSED, EACCES, EAGAIN …) on failure. */
struct web_conn *web_conn_open(struct event_base *base, const char *path, size_t line_max,
			       web_conn_msg_fn on_msg, web_conn_close_fn on_close, void *ud);
/* Queue one message (never blocks). 0 or -errno. */
int web_conn_send(struct web_conn *c, const json_t *msg);
/* Safe from inside the conn's own callbacks (freed once they return). */
struct web_conn *web_conn_free(struct web_conn *c);

#endif
