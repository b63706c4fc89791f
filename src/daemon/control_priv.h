/* control_priv: what control.c (clients, queues), control_accept.c (the
 * listening socket, who may connect) and control_exec.c (requests, the
 * command table) share. */
#ifndef FLASHD_DAEMON_CONTROL_PRIV_H
#define FLASHD_DAEMON_CONTROL_PRIV_H

#include "daemon/control.h"

#include <sys/socket.h>

struct control_qent;

/* A request answered later; cl is NULL once its client (or the server) is
 * gone: the answer then goes nowhere. */
struct control_pending {
	struct control_client *cl;
	json_t *id;
};

struct control_client {
	struct control *c;
	struct control_client *next;
	int fd;
	struct event *rd, *wr, *idle;
	struct ucred cred;
	bool admin, watching, eof, closing, dead, overflowed, processing;
	char *in;
	size_t in_len, in_cap;
	struct control_qent *head, *tail;
	size_t head_off, queued, replies;
	struct control_pending *pending; /* the request being answered later */
	uint64_t dropped;
	int64_t overflow_ms; /* monotonic time of the last recovery, 0: never */
};

struct control {
	struct event_base *base;
	struct control_opts o;
	char *path; /* bound by us: unlinked on free */
	int listen_fd;
	struct event *listen_ev, *reap_ev;
	struct event *accept_ev;   /* re-arms the listener after a back-off */
	uint32_t accept_backoff_ms; /* 0: accepting normally */
	bool accept_paused;
	const struct control_backend *be;
	struct control_backend be_copy;
	struct journal *journal;
	struct worker *history;    /* history's reader thread, started by the first query */
	struct control_client *clients;
	uint64_t seq;
	struct control_counters n;
};

/* control.c */
/* Queue a reply (a new ref, stolen; NULL: out of memory, the client goes). */
void control_client_reply(struct control_client *cl, json_t *reply);
/* Queue a reply already encoded (line: malloc'd, with its newline; taken). */
/* Whether a reply of len bytes may be queued (the rule control_client_reply
 * applies: small ones always, others while the unread replies of all
 * clients stay within replies_max); false counts a refusal. */
bool control_replies_have_room(struct control_client *cl, size_t len);
void control_client_reply_line(struct control_client *cl, char *line, size_t len);
/* Queue a "snapshot" event with the station's status. */
void control_client_snapshot(struct control_client *cl);

/* A connected, admitted peer becomes a client (its hello is queued). */
int control_client_new(struct control *c, int fd, const struct ucred *cred, bool admin);

/* control_accept.c */
/* Bind (or adopt) the listening socket and start accepting. */
int control_listen(struct control *c);
/* A descriptor is free again: accept at once if backing off. */
void control_accept_resume(struct control *c);

/* control_exec.c */
/* Run one request line; its reply is queued (or answered later). */
void control_exec_request(struct control_client *cl, const char *line, size_t len);
/* 0 when the command table has every command of ctlproto_commands, in
 * order; -EINVAL (logged) otherwise. control_new refuses to start then. */
int control_exec_check(void);

#endif
