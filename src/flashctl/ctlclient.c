/* ctlclient: the client end of the control socket (see ctlclient.h). */
#include "ctlclient.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "flashd/ctlproto.h"

int ctlclient_connect(struct ctlclient *cl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	cl->fd = fd;
	return 0;
}

int ctlclient_send(struct ctlclient *cl, const json_t *msg)
{
	char *line = NULL;
	size_t len = 0, done = 0;
	int r = ctlproto_encode(msg, &line, &len);

	while (r == 0 && done < len) {
		ssize_t n = send(cl->fd, line + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else
			done += (size_t)n;
	}
	free(line);
	return r;
}

/* Read more into the buffer, waiting until the deadline (-1: none). */
static int fill(struct ctlclient *cl, int64_t deadline)
{
	if (cl->len == cl->cap) {
		if (cl->cap >= CTLCLIENT_LINE_MAX)
			return -E2BIG;
		size_t cap = cl->cap ? cl->cap * 2 : 65536;
		char *b = realloc(cl->buf, cap);
		if (!b)
			return -ENOMEM;
		cl->buf = b;
		cl->cap = cap;
	}
	for (;;) {
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - clock_ms(CLOCK_MONOTONIC);
			if (left <= 0)
				return -ETIMEDOUT;
			wait = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = cl->fd, .events = POLLIN };
		int n = poll(&p, 1, wait);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		ssize_t got = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		if (got == 0)
			return -ECONNRESET;
		cl->len += (size_t)got;
		return 0;
	}
}

int ctlclient_recv(struct ctlclient *cl, int timeout_ms, json_t **msg, const char **line,
		   size_t *len)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_ms(CLOCK_MONOTONIC) + timeout_ms;
	char *nl;
	int r;

	/* drop the line handed out last time */
	if (cl->skip) {
		memmove(cl->buf, cl->buf + cl->skip, cl->len - cl->skip);
		cl->len -= cl->skip;
		cl->skip = 0;
	}
	while (!(nl = cl->len ? memchr(cl->buf, '\n', cl->len) : NULL)) {
		r = fill(cl, deadline);
		if (r < 0)
			return r;
	}
	size_t n = (size_t)(nl - cl->buf);
	cl->skip = n + 1;
	json_t *v = json_loadb(cl->buf, n, 0, NULL);
	if (!v)
		return -EBADMSG;
	if (line)
		*line = cl->buf;
	if (len)
		*len = n;
	if (msg)
		*msg = v;
	else
		json_decref(v);
	return 0;
}

void ctlclient_close(struct ctlclient *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	free(cl->buf);
	cl->buf = NULL;
	cl->len = cl->cap = cl->skip = 0;
}
