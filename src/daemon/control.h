/* control.h - control socket server (NDJSON over a Unix stream socket).
 *
 * Runs on the daemon's libevent loop.  Clients send one JSON request per
 * line; see man/flashd-control.7 and include/flashd/ctlproto.h.
 */
#ifndef FLASHD_DAEMON_CONTROL_H
#define FLASHD_DAEMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/event.h>
#include <jansson.h>

struct control;
struct journal;
/* A request whose reply the backend sends later (see use and reload). */
struct control_pending;

/* Returned by a backend operation that keeps its control_pending. */
#define CONTROL_PENDING 1

struct control_backend {
	void *ud;
	json_t *(*status)(void *ud);   /* new ref: {"paused":bool,"plan":"path","ports":[PORT...]} */
	json_t *(*stats)(void *ud);    /* new ref */
	json_t *(*plans)(void *ud);    /* new ref: {"default":"path","ports":{"1-1":"path"},"loaded":[{"path","sha256","steps"}]} */
	/* use and reload load plans, which takes long: they may return
	 * CONTROL_PENDING and keep p, and answer later with
	 * control_pending_done(p, …). Any other return value is the answer
	 * now (≥ 0 ok, -errno with err), and p is not kept. Until the answer,
	 * the client's further requests wait; events still reach it. */
	/* args: bound to the plan's "# @_name" parameters in order */
	int (*use)(void *ud, const char *plan, const char *const *args, size_t nargs,
		   const char *const *ports, size_t nports,
		   struct control_pending *p, char *err, size_t errlen);
	int (*pause)(void *ud);
	int (*resume)(void *ud);
	int (*abort_port)(void *ud, const char *port, char *err, size_t errlen);
	int (*retry)(void *ud, const char *port, char *err, size_t errlen);
	int (*reload)(void *ud, struct control_pending *p, char *err, size_t errlen);
	/* history --port: the port a slot name stands for, or NULL (may be NULL) */
	const char *(*slot_port)(void *ud, const char *name);
	json_t *(*pools)(void *ud);    /* new ref: {"pools":[POOL...]} (may be NULL: no pools) */
};

struct control_opts {
	const char *path;
	int listen_fd;      /* >=0: socket-activated fd; -1: bind path */
	gid_t admin_gid;
	gid_t sock_gid;
	mode_t mode;
	size_t max_clients;
	size_t queue_bytes;
	size_t max_clients_per_uid; /* non-admin connections of one uid; 0: no limit */
	size_t admin_clients;       /* of max_clients, kept for admins; 0: none */
	uint32_t idle_timeout_ms;   /* close a client idle this long; 0: never */
	size_t replies_max;         /* unread reply bytes of all clients */
};
/* Notes on control_opts:
 * - path: bound when listen_fd < 0: a stale socket there (nobody accepts) is
 *   removed, a live one gives -EADDRINUSE, anything else -EEXIST; unlinked by
 *   control_free.  With listen_fd >= 0 the fd is owned by control from a
 *   successful control_new on (closed by control_free), path is ignored.
 * - admin_gid: (gid_t)-1 = none (only uid 0 may run mutating commands);
 *   sock_gid: (gid_t)-1 = leave the socket's group alone.
 * - mode 0 = 0660; max_clients 0 = 32; queue_bytes 0 = 1 MiB (min 1 KiB):
 *   the bound on queued events per client.
 * - Who may connect (checked at accept, the peer's credentials decide): an
 *   admin while fewer than max_clients are connected; anyone else while
 *   fewer than max_clients - admin_clients (at least 1) are connected and
 *   its uid holds fewer than max_clients_per_uid. Others get
 *   too-many-clients and are closed.
 * - idle: a client that does not watch, has no request being answered and
 *   moved no byte either way for idle_timeout_ms is closed.
 * - replies_max 0 = 64 MiB: a reply over 4 KiB that would put more unread
 *   reply bytes than that in all queues together is replaced by a "busy"
 *   error (each client has at most one reply queued, events are bounded by
 *   queue_bytes: a client that does not read cannot grow memory).
 * - The listening socket is disarmed while accept() fails for lack of file
 *   descriptors or memory and re-armed after a back-off (100 ms doubling to
 *   2 s) or as soon as a client goes. */

int control_new(struct event_base *base, const struct control_opts *o,
		const struct control_backend *be, struct journal *j,
		struct control **out);
/* Broadcast an event to watchers: adds "event":type, "seq" (monotonic per
 * daemon), "ts" (unix ms).  Steals fields. */
void control_publish(struct control *c, const char *type, json_t *fields);
/* Frees the server. Requests still pending stay valid for their holder and
 * are answered into the void. */
struct control *control_free(struct control *c);

/* Answer a pending request (r ≥ 0: ok; else an error with err, or
 * strerror(-r) when err is NULL or empty) to the client that sent it, if it
 * is still connected, and free p. Exactly once per kept p, on the loop,
 * also after control_free. */
void control_pending_done(struct control_pending *p, int r, const char *err);

/* What the server holds (for stats and tests). */
struct control_counters {
	size_t clients;       /* connected */
	size_t watchers;      /* of which watching */
	size_t queued_bytes;  /* in all output queues */
	uint64_t overflows;   /* times a watcher's queue overflowed */
	uint64_t dropped;     /* events dropped for slow watchers */
	uint64_t kicked;      /* watchers disconnected for overflowing twice */
	uint64_t rejected;    /* connections refused: too many clients */
	size_t admins;        /* connected admins */
	size_t reply_bytes;   /* queued replies (part of queued_bytes) */
	uint64_t busy;        /* replies replaced by "busy": replies_max reached */
	uint64_t idle_closed; /* clients closed for idling */
	uint64_t accept_errors; /* accept() failures for lack of fds or memory */
	uint64_t accept_pauses; /* times the listening socket was disarmed for them */
};
void control_get_counters(const struct control *c, struct control_counters *out);

#endif
