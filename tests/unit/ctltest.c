/* ctltest: fake station and test client (see ctltest.h). */
#include "ctltest.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static json_t *fake_get(json_t *v)
{
	return v ? json_deep_copy(v) : NULL;
}

static json_t *fake_status_cb(void *ud)
{
	struct fake_station *fs = ud;
	fs->calls[CTLPROTO_CMD_STATUS]++;
	return fake_get(fs->status);
}

static json_t *fake_stats_cb(void *ud)
{
	struct fake_station *fs = ud;
	fs->calls[CTLPROTO_CMD_STATS]++;
	return fake_get(fs->stats);
}

static json_t *fake_plans_cb(void *ud)
{
	struct fake_station *fs = ud;
	fs->calls[CTLPROTO_CMD_PLANS]++;
	return fake_get(fs->plans);
}

static int fake_ret(struct fake_station *fs, enum ctlproto_cmd cmd, char *err, size_t errlen)
{
	fs->calls[cmd]++;
	if (fs->ret < 0 && fs->err && err)
		snprintf(err, errlen, "%s", fs->err);
	return fs->ret;
}

/* use/reload: answer now, or keep p when fs->later */
static int fake_maybe_later(struct fake_station *fs, enum ctlproto_cmd cmd,
			    struct control_pending *p, char *err, size_t errlen)
{
	if (!fs->later)
		return fake_ret(fs, cmd, err, errlen);
	fs->calls[cmd]++;
	fs->pending = p;
	return CONTROL_PENDING;
}

static int fake_use(void *ud, const char *plan, const char *const *args, size_t nargs,
		    const char *const *ports, size_t nports,
		    struct control_pending *p, char *err, size_t errlen)
{
	struct fake_station *fs = ud;
	snprintf(fs->plan, sizeof(fs->plan), "%s", plan);
	fs->args[0] = 0;
	for (size_t i = 0; i < nargs; i++) {
		size_t at = strlen(fs->args);
		snprintf(fs->args + at, sizeof(fs->args) - at, "%s%s", i ? "," : "", args[i]);
	}
	fs->ports[0] = 0;
	for (size_t i = 0; i < nports; i++) {
		size_t at = strlen(fs->ports);
		snprintf(fs->ports + at, sizeof(fs->ports) - at, "%s%s", i ? "," : "", ports[i]);
	}
	return fake_maybe_later(fs, CTLPROTO_CMD_USE, p, err, errlen);
}

static int fake_pause(void *ud)
{
	return fake_ret(ud, CTLPROTO_CMD_PAUSE, NULL, 0);
}

static int fake_resume(void *ud)
{
	return fake_ret(ud, CTLPROTO_CMD_RESUME, NULL, 0);
}

static int fake_missing(struct fake_station *fs, enum ctlproto_cmd cmd, const char *port,
			char *err, size_t errlen)
{
	fs->calls[cmd]++;
	snprintf(err, errlen, "no port %s", port);
	return -ENOENT;
}

static int fake_abort(void *ud, const char *port, char *err, size_t errlen)
{
	struct fake_station *fs = ud;
	if (fs->missing_port && strcmp(port, fs->missing_port) == 0)
		return fake_missing(fs, CTLPROTO_CMD_ABORT, port, err, errlen);
	snprintf(fs->port, sizeof(fs->port), "%s", port);
	if (fs->publish_on_abort)
		control_publish(fs->publish_on_abort, "port",
				json_pack("{s:s,s:s}", "port", port, "state", "failed"));
	return fake_ret(fs, CTLPROTO_CMD_ABORT, err, errlen);
}

static int fake_retry(void *ud, const char *port, char *err, size_t errlen)
{
	struct fake_station *fs = ud;
	if (fs->missing_port && strcmp(port, fs->missing_port) == 0)
		return fake_missing(fs, CTLPROTO_CMD_RETRY, port, err, errlen);
	snprintf(fs->port, sizeof(fs->port), "%s", port);
	return fake_ret(fs, CTLPROTO_CMD_RETRY, err, errlen);
}

static int fake_reload(void *ud, struct control_pending *p, char *err, size_t errlen)
{
	return fake_maybe_later(ud, CTLPROTO_CMD_RELOAD, p, err, errlen);
}

void fake_station_backend(struct fake_station *fs, struct control_backend *be)
{
	*be = (struct control_backend){
		.ud = fs,
		.status = fake_status_cb,
		.stats = fake_stats_cb,
		.plans = fake_plans_cb,
		.use = fake_use,
		.pause = fake_pause,
		.resume = fake_resume,
		.abort_port = fake_abort,
		.retry = fake_retry,
		.reload = fake_reload,
	};
}

void fake_station_init(struct fake_station *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->status = fake_status(2, false);
	fs->stats = fake_stats();
	fs->plans = fake_plans();
}

void fake_station_clear(struct fake_station *fs)
{
	json_decref(fs->status);
	json_decref(fs->stats);
	json_decref(fs->plans);
	memset(fs, 0, sizeof(*fs));
}

/* ---- client ---- */

int ctltest_connect(struct ctltest_conn *t, const char *path, struct event_base *base)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memset(t, 0, sizeof(*t));
	t->base = base;
	t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(t->fd);
		t->fd = -1;
		return r;
	}
	return 0;
}

void ctltest_close(struct ctltest_conn *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

static int64_t now_ms(void);

/* Sends all of text; gives up (the test then fails on its reply) when the
 * server has not taken it within 10 s, instead of hanging. */
void ctltest_send(struct ctltest_conn *t, const char *text)
{
	size_t len = strlen(text), done = 0;
	int64_t end = now_ms() + 10000;
	while (done < len) {
		ssize_t n = send(t->fd, text + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (now_ms() > end) {
				fprintf(stderr, "ctltest_send: the server took %zu of %zu bytes in 10 s\n",
					done, len);
				return;
			}
			if (!t->base) {
				struct pollfd p = { .fd = t->fd, .events = POLLOUT };
				poll(&p, 1, 10);
			}
			if (t->base)
				event_base_loop(t->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			continue;
		}
		if (n < 0)
			return; /* the server closed: the test sees it on recv */
		done += (size_t)n;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *take_line(struct ctltest_conn *t)
{
	char *nl = memchr(t->buf, '\n', t->len);
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - t->buf);
	json_t *v = json_loadb(t->buf, n, 0, NULL);
	if (!v)
		v = json_string("(not json)");
	memmove(t->buf, nl + 1, t->len - n - 1);
	t->len -= n + 1;
	return v;
}

json_t *ctltest_recv(struct ctltest_conn *t, int timeout_ms, bool *timed_out)
{
	int64_t end = now_ms() + timeout_ms;
	if (timed_out)
		*timed_out = false;
	for (;;) {
		json_t *v = take_line(t);
		if (v)
			return v;
		if (t->len == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 65536;
			t->buf = realloc(t->buf, t->cap);
		}
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		if (poll(&p, 1, t->base ? 1 : 10) > 0) {
			ssize_t n = recv(t->fd, t->buf + t->len, t->cap - t->len, 0);
			if (n <= 0)
				return NULL;
			t->len += (size_t)n;
			continue;
		}
		if (now_ms() > end) {
			if (timed_out)
				*timed_out = true;
			return NULL;
		}
		if (t->base)
			event_base_loop(t->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
}

json_t *ctltest_call(struct ctltest_conn *t, const char *request)
{
	ctltest_send(t, request);
	for (;;) {
		json_t *v = ctltest_recv(t, 5000, NULL);
		if (!v || ctlproto_classify(v) == CTLPROTO_KIND_REPLY)
			return v;
		json_decref(v);
	}
}

void ctltest_pump(struct event_base *base, int ms)
{
	int64_t end = now_ms() + ms;
	do
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (now_ms() < end);
}

const char *ctltest_code(const json_t *reply)
{
	const char *code, *message;
	int r = ctlproto_reply_status(reply, &code, &message);
	if (r == 1)
		return "ok";
	return r == 0 ? code : "(not a reply)";
}/* Connect as another user in a child; get the connected fd back over SCM_RIGHTS. */
int ctltest_connect_as(const char *path, uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct ctltest_conn t;
		if (setgroups(n, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (ctltest_connect(&t, path, NULL) < 0)
			_exit(3);
		char dummy = 0;
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { &dummy, 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &t.fd, sizeof(int));
		_exit(sendmsg(sp[1], &mh, 0) == 1 ? 0 : 4);
	}
	close(sp[1]);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		close(sp[0]);
		return -ECHILD;
	}
	char dummy;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &dummy, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	int fd = -EPROTO;
	if (recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC) != 1 || !CMSG_FIRSTHDR(&mh)) {
		close(sp[0]);
		return fd;
	}
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	close(sp[0]);
	return fd;
}

