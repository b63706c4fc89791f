/* ctlclient: flashctl's side of the control socket: connect, send one
 * request, read lines (blocking, with poll for timeouts). */
#ifndef FLASHD_FLASHCTL_CTLCLIENT_H
#define FLASHD_FLASHCTL_CTLCLIENT_H

#include <stddef.h>
#include <jansson.h>

/* Longest line accepted from the daemon (its replies are at most 16 MiB). */
#define CTLCLIENT_LINE_MAX (32u << 20)

struct ctlclient {
	int fd;
	char *buf;
	size_t len, cap, skip; /* skip: bytes of the line returned last */
};

/* -errno of socket()/connect(): -ENOENT, -ECONNREFUSED, -EACCES … */
int ctlclient_connect(struct ctlclient *cl, const char *path);
int ctlclient_send(struct ctlclient *cl, const json_t *msg);
/* Next line: 0 with *msg (new ref), *line and *len (the raw line without its
 * newline, valid until the next call; each of them may be NULL). -ETIMEDOUT
 * (timeout_ms < 0: wait forever), -ECONNRESET (closed), -EBADMSG (not
 * JSON), -E2BIG (line too long), other -errno. */
int ctlclient_recv(struct ctlclient *cl, int timeout_ms, json_t **msg, const char **line,
		   size_t *len);
void ctlclient_close(struct ctlclient *cl);

#endif
