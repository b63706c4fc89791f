/* ctlstress: hostile clients of flashd's control socket (issue 11, "Hostile
 * clients"), one phase per run, each printing one JSON line of figures and
 * exiting 1 when the daemon got something wrong (flashd-control(7) is the
 * contract checked).
 *
 *   ctlstress SOCKET malformed        requests that are not requests: each gets
 *                                      its error object, the connection stays
 *   ctlstress SOCKET oversize MIB     one line of MIB MiB: line-too-long, closed;
 *                                      then the longest lines allowed, kept
 *   ctlstress SOCKET pipeline N       N status requests written back to back
 *                                      while the replies are read: N replies,
 *                                      in order
 *   ctlstress SOCKET storm N          N connects, each closed a different way
 *                                      (at once, after the hello, in the middle
 *                                      of a line, after a request unread)
 *   ctlstress SOCKET watchers N STALLED SECONDS [DRAIN]  (SIGTERM: stop early)
 *                                      N watch clients, STALLED of them never
 *                                      read; the others must see every event
 *                                      (seq without gaps) and stay connected;
 *                                      at the end they read what is queued for
 *                                      them for up to DRAIN seconds (0), and
 *                                      how many end behind the latest seq is
 *                                      reported
 *
 * Plain blocking sockets and poll(2): the client side must not hide anything
 * the server does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define LINE_MAX_BYTES 65536 /* flashd-control(7): a line, newline included */

static const char *sock_path;
static unsigned failures;

static void problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ctlstress: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* connect, retrying while the backlog is full (EAGAIN) for up to 10 s */
static int conn(unsigned *retries)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double until = now_s() + 10;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr, "ctlstress: socket: %s\n", strerror(errno));
			exit(2);
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		int e = errno;
		close(fd);
		if ((e != EAGAIN && e != ECONNREFUSED) || now_s() > until) {
			fprintf(stderr, "ctlstress: connect %s: %s\n", sock_path, strerror(e));
			exit(2);
		}
		if (retries)
			++*retries;
		usleep(1000);
	}
}

/* A buffered line reader on one fd. */
struct rd {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
};

static void rd_init(struct rd *r, int fd)
{
	*r = (struct rd){ .fd = fd, .cap = 2 * LINE_MAX_BYTES };
	r->buf = malloc(r->cap);
	if (!r->buf)
		abort();
}

static void rd_free(struct rd *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read what is there (blocking up to timeout_ms for the first byte); 0 on
 * data, -1 on EOF or error (r->eof), 1 on timeout. */
static int rd_fill(struct rd *r, int timeout_ms)
{
	struct pollfd p = { r->fd, POLLIN, 0 };
	int n = poll(&p, 1, timeout_ms);

	if (n == 0)
		return 1;
	if (r->len == r->cap) {
		r->cap *= 2;
		r->buf = realloc(r->buf, r->cap);
		if (!r->buf)
			abort();
	}
	ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (got <= 0) {
		r->eof = true;
		return -1;
	}
	r->len += (size_t)got;
	return 0;
}

/* The next complete line (without its newline), NUL-terminated in *out
 * (malloc'd); 0, or -1 at EOF, or 1 on timeout. */
static int rd_line(struct rd *r, char **out, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			size_t n = (size_t)(nl - r->buf);
			*out = strndup(r->buf, n);
			memmove(r->buf, nl + 1, r->len - n - 1);
			r->len -= n + 1;
			return 0;
		}
		int f = rd_fill(r, timeout_ms);
		if (f)
			return f;
	}
}

/* A reply line as JSON (NULL and a problem when it is not an object). */
static json_t *rd_json(struct rd *r, const char *what, int timeout_ms)
{
	char *line;
	int f = rd_line(r, &line, timeout_ms);

	if (f) {
		problem("%s: %s", what, f > 0 ? "no reply within the timeout" : "connection closed");
		return NULL;
	}
	json_t *j = json_loads(line, 0, NULL);
	if (!json_is_object(j)) {
		problem("%s: reply is not a JSON object: %.200s", what, line);
		json_decref(j);
		j = NULL;
	}
	free(line);
	return j;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			problem("write: %s", w < 0 ? strerror(errno) : "0 bytes");
			return;
		}
		c += w;
		n -= (size_t)w;
	}
}

/* A connection that read its hello. */
static int open_client(struct rd *r, const char *what)
{
	int fd = conn(NULL);

	rd_init(r, fd);
	json_t *hello = rd_json(r, what, 10000);
	if (hello && !json_object_get(hello, "hello") && !json_object_get(hello, "protocol"))
		problem("%s: first line is not a hello", what);
	json_decref(hello);
	return fd;
}

static const char *err_code(json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

/* one status round trip: the connection still serves */
static void still_serves(struct rd *r, const char *what)
{
	static const char req[] = "{\"id\":\"probe\",\"cmd\":\"status\"}\n";

	write_all(r->fd, req, sizeof(req) - 1);
	json_t *j = rd_json(r, what, 10000);
	if (j && (!json_is_true(json_object_get(j, "ok")) ||
		  strcmp(json_string_value(json_object_get(j, "id")) ?: "", "probe")))
		problem("%s: status after it did not answer ok", what);
	json_decref(j);
}

/* ------------------------------------------------------------- malformed */

struct bad {
	const char *what;
	const char *line;   /* sent with a newline after it */
	size_t len;         /* 0: strlen(line) */
	const char *code;   /* the error code flashd-control(7) gives it, NULL: any error */
};

static const struct bad bads[] = {
	{ "not json", "hello flashd", 0, "bad-json" },
	{ "empty line", "", 0, "bad-json" },
	{ "array", "[\"status\"]", 0, "bad-json" },
	{ "string", "\"status\"", 0, "bad-json" },
	{ "number", "42", 0, "bad-json" },
	{ "null", "null", 0, "bad-json" },
	{ "open brace", "{", 0, "bad-json" },
	{ "two objects", "{\"cmd\":\"status\"}{\"cmd\":\"status\"}", 0, "bad-json" },
	{ "trailing comma", "{\"cmd\":\"status\",}", 0, "bad-json" },
	{ "single quotes", "{'cmd':'status'}", 0, "bad-json" },
	{ "bad utf-8", "{\"cmd\":\"st\xff\xfetus\"}", 0, "bad-json" },
	{ "NUL in line", "{\"cmd\":\"status\"}\0xyz", 20, "bad-json" },
	{ "deep nesting", NULL, 0, "bad-json" },  /* built below */
	{ "no cmd", "{\"id\":1}", 0, "bad-request" },
	{ "empty object", "{}", 0, "bad-request" },
	{ "cmd number", "{\"cmd\":7}", 0, "bad-request" },
	{ "cmd null", "{\"cmd\":null}", 0, "bad-request" },
	{ "cmd object", "{\"cmd\":{\"x\":1}}", 0, "bad-request" },
	{ "id object", "{\"id\":{},\"cmd\":\"status\"}", 0, "bad-request" },
	{ "id array", "{\"id\":[1],\"cmd\":\"status\"}", 0, "bad-request" },
	{ "id float", "{\"id\":1.5,\"cmd\":\"status\"}", 0, "bad-request" },
	{ "id bool", "{\"id\":true,\"cmd\":\"status\"}", 0, "bad-request" },
	{ "id too long", NULL, 0, "bad-request" },  /* built below */
	{ "unknown cmd", "{\"cmd\":\"format-c\"}", 0, "unknown-command" },
	{ "empty cmd", "{\"cmd\":\"\"}", 0, "unknown-command" },
	{ "cmd case", "{\"cmd\":\"STATUS\"}", 0, "unknown-command" },
	{ "cmd with NUL", "{\"cmd\":\"status\\u0000x\"}", 0, NULL },
	{ "cmd padded", "{\"cmd\":\" status\"}", 0, "unknown-command" },
	{ "history limit negative", "{\"cmd\":\"history\",\"limit\":-1}", 0, NULL },
	{ "history limit string", "{\"cmd\":\"history\",\"limit\":\"10\"}", 0, NULL },
	{ "history limit huge", "{\"cmd\":\"history\",\"limit\":1e300}", 0, NULL },
	{ "history port number", "{\"cmd\":\"history\",\"port\":5}", 0, NULL },
	{ "history result bogus", "{\"cmd\":\"history\",\"result\":[]}", 0, NULL },
	{ "history before string", "{\"cmd\":\"history\",\"before\":\"x\"}", 0, NULL },
	{ "abort no port", "{\"cmd\":\"abort\"}", 0, NULL },
	{ "abort unknown port", "{\"cmd\":\"abort\",\"port\":\"9-9.9.9\"}", 0, NULL },
	{ "retry port array", "{\"cmd\":\"retry\",\"port\":[\"1-1\"]}", 0, NULL },
	{ "use no plan", "{\"cmd\":\"use\"}", 0, NULL },
	{ "use dotdot", "{\"cmd\":\"use\",\"plan\":\"../../etc/shadow\"}", 0, NULL },
	{ "use absolute outside", "{\"cmd\":\"use\",\"plan\":\"/etc/shadow\"}", 0, NULL },
	{ "use plan number", "{\"cmd\":\"use\",\"plan\":1}", 0, NULL },
	{ "watch twice", NULL, 0, NULL },  /* not sent: watch changes the connection */
	{ "carriage returns", "{\"cmd\":\"nosuch\"}\r\r", 0, NULL },
};

static char *repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	if (!s)
		abort();
	memcpy(s, head, h);
	memset(s + h, c, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

static int phase_malformed(void)
{
	struct rd r;
	unsigned sent = 0, exact = 0;
	int fd = open_client(&r, "malformed");
	double t0 = now_s();

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		char *built = NULL;
		const char *line = b->line;
		size_t len = b->len;

		if (!strcmp(b->what, "watch twice"))
			continue;
		if (!strcmp(b->what, "deep nesting"))
			line = built = repeat("", '[', 20000, "");
		else if (!strcmp(b->what, "id too long"))
			line = built = repeat("{\"id\":\"", 'x', 129, "\",\"cmd\":\"status\"}");
		if (!len)
			len = strlen(line);
		write_all(fd, line, len);
		write_all(fd, "\n", 1);
		free(built);
		sent++;
		json_t *j = rd_json(&r, b->what, 10000);
		if (!j)
			break;
		const char *code = err_code(j);
		if (!json_is_false(json_object_get(j, "ok")) || !code)
			problem("malformed \"%s\": not an error reply", b->what);
		else if (b->code && strcmp(code, b->code))
			problem("malformed \"%s\": error %s, flashd-control(7) says %s", b->what, code,
				b->code);
		else
			exact += b->code != NULL;
		json_decref(j);
	}
	still_serves(&r, "malformed: the same connection afterwards");
	rd_free(&r);
	close(fd);
	printf("{\"phase\":\"malformed\",\"requests\":%u,\"checked_codes\":%u,\"seconds\":%.3f,"
	       "\"failures\":%u}\n",
	       sent, exact, now_s() - t0, failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------- oversize */

static int phase_oversize(unsigned mib)
{
	struct rd r, other;
	int fd = open_client(&r, "oversize");
	int ofd = open_client(&other, "oversize: a second client");
	static char chunk[1 << 16];
	uint64_t want = (uint64_t)mib << 20, sent = 0;
	double t0 = now_s();
	bool closed = false;

	signal(SIGPIPE, SIG_IGN);
	memset(chunk, 'a', sizeof(chunk));
	while (sent < want) {
		ssize_t w = write(fd, chunk, sizeof(chunk));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			closed = true; /* EPIPE or ECONNRESET: the server closed */
			break;
		}
		sent += (uint64_t)w;
	}
	/* the reply was sent before the close: it is in our receive queue */
	json_t *j = rd_json(&r, "oversize", 10000);
	const char *code = err_code(j);
	if (j && (!code || strcmp(code, "line-too-long")))
		problem("oversize: error %s, expected line-too-long", code ?: "(none)");
	json_decref(j);
	char *extra = NULL;
	int f = rd_line(&r, &extra, 10000);
	if (f == 0)
		problem("oversize: more after line-too-long: %.100s", extra);
	else if (f > 0)
		problem("oversize: connection not closed after line-too-long");
	free(extra);
	rd_free(&r);
	close(fd);
	still_serves(&other, "oversize: another client meanwhile");

	/* lines of the longest length allowed are errors (not JSON), never a close */
	char *max = repeat("", 'b', LINE_MAX_BYTES - 1, "");
	unsigned longest = 0;
	for (int i = 0; i < 64; i++) {
		max[LINE_MAX_BYTES - 2] = '\n'; /* 65535 bytes + newline would be one too many */
		write_all(ofd, max, LINE_MAX_BYTES - 1);
		json_t *e = rd_json(&other, "a line of the longest length", 10000);
		if (!e)
			break;
		if (strcmp(err_code(e) ?: "", "bad-json"))
			problem("longest line: error %s, expected bad-json", err_code(e) ?: "(none)");
		else
			longest++;
		json_decref(e);
	}
	free(max);
	still_serves(&other, "oversize: after the longest lines");
	rd_free(&other);
	close(ofd);
	printf("{\"phase\":\"oversize\",\"mib\":%u,\"bytes_written_before_close\":%" PRIu64
	       ",\"closed\":%s,\"longest_lines\":%u,\"seconds\":%.3f,\"failures\":%u}\n",
	       mib, sent, closed ? "true" : "false", longest, now_s() - t0, failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------- pipeline */

static int phase_pipeline(unsigned long n)
{
	struct rd r;
	int fd = open_client(&r, "pipeline");
	char out[1 << 16];
	size_t olen = 0, ooff = 0;
	unsigned long next_req = 1, next_rep = 1, busy = 0;
	double t0 = now_s();

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (next_rep <= n && !failures) {
		while (olen - ooff < sizeof(out) / 2 && next_req <= n) {
			if (ooff) {
				memmove(out, out + ooff, olen - ooff);
				olen -= ooff;
				ooff = 0;
			}
			olen += (size_t)snprintf(out + olen, sizeof(out) - olen,
						 "{\"id\":%lu,\"cmd\":\"status\"}\n", next_req++);
		}
		struct pollfd p = { fd, POLLIN | (ooff < olen ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 10000) <= 0) {
			problem("pipeline: nothing moved for 10 s at reply %lu", next_rep);
			break;
		}
		if ((p.revents & POLLOUT) && ooff < olen) {
			ssize_t w = write(fd, out + ooff, olen - ooff);
			if (w > 0)
				ooff += (size_t)w;
			else if (w < 0 && errno != EAGAIN) {
				problem("pipeline: write: %s", strerror(errno));
				break;
			}
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t got = read(fd, r.buf + r.len, r.cap - r.len);
		if (got == 0 || (got < 0 && errno != EAGAIN)) {
			problem("pipeline: connection closed at reply %lu", next_rep);
			break;
		}
		if (got > 0)
			r.len += (size_t)got;
		char *nl;
		while ((nl = memchr(r.buf, '\n', r.len))) {
			*nl = 0;
			json_t *j = json_loads(r.buf, 0, NULL);
			json_int_t id = json_integer_value(json_object_get(j, "id"));
			if (!json_is_object(j) || id != (json_int_t)next_rep)
				problem("pipeline: reply %lu out of order or not JSON", next_rep);
			else if (!json_is_true(json_object_get(j, "ok"))) {
				/* "busy": replies unread beyond the server's bound; allowed, counted */
				if (strcmp(err_code(j) ?: "", "busy"))
					problem("pipeline: reply %lu: %s", next_rep, err_code(j) ?: "?");
				busy++;
			}
			json_decref(j);
			next_rep++;
			size_t used = (size_t)(nl - r.buf) + 1;
			memmove(r.buf, nl + 1, r.len - used);
			r.len -= used;
		}
	}
	double dt = now_s() - t0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (!failures)
		still_serves(&r, "pipeline: afterwards");
	rd_free(&r);
	close(fd);
	printf("{\"phase\":\"pipeline\",\"requests\":%lu,\"replies\":%lu,\"busy\":%lu,"
	       "\"seconds\":%.3f,\"per_second\":%.0f,\"failures\":%u}\n",
	       n, next_rep - 1, busy, dt, dt > 0 ? (double)(next_rep - 1) / dt : 0.0, failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------- storm */

static int phase_storm(unsigned long n)
{
	unsigned retries = 0;
	unsigned long kinds[4] = { 0 };
	double t0 = now_s();
	static const char half[] = "{\"id\":1,\"cmd\":\"sta";
	static const char full[] = "{\"id\":1,\"cmd\":\"status\"}\n";

	signal(SIGPIPE, SIG_IGN);
	for (unsigned long i = 0; i < n; i++) {
		int fd = conn(&retries);
		char b[256];
		switch (i % 4) {
		case 0: /* at once */
			break;
		case 1: /* after the hello */
			(void)!read(fd, b, sizeof(b));
			break;
		case 2: /* in the middle of a line */
			(void)!write(fd, half, sizeof(half) - 1);
			break;
		case 3: /* a request, its reply never read (the close may reset) */
			(void)!write(fd, full, sizeof(full) - 1);
			break;
		}
		kinds[i % 4]++;
		close(fd);
	}
	double dt = now_s() - t0;
	struct rd r;
	int fd = open_client(&r, "storm: a client afterwards");
	still_serves(&r, "storm: a client afterwards");
	rd_free(&r);
	close(fd);
	printf("{\"phase\":\"storm\",\"connects\":%lu,\"closed_at_once\":%lu,\"after_hello\":%lu,"
	       "\"mid_line\":%lu,\"reply_unread\":%lu,\"backlog_retries\":%u,\"seconds\":%.3f,"
	       "\"per_second\":%.0f,\"failures\":%u}\n",
	       n, kinds[0], kinds[1], kinds[2], kinds[3], retries, dt, dt > 0 ? (double)n / dt : 0.0,
	       failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------- watchers */

static volatile sig_atomic_t stop_now;

static void on_stop(int sig)
{
	(void)sig;
	stop_now = 1;
}

struct watcher {
	struct rd r;
	bool stalled, gone;
	unsigned long events, overflows;
	json_int_t last_seq;
	unsigned long gaps;
};

static void watcher_take(struct watcher *w, int idx)
{
	char *line;

	while (rd_line(&w->r, &line, 0) == 0) {
		json_t *j = json_loads(line, 0, NULL);
		free(line);
		if (!json_is_object(j)) {
			problem("watcher %d: a line that is not an object", idx);
			json_decref(j);
			continue;
		}
		json_t *seq = json_object_get(j, "seq");
		const char *ev = json_string_value(json_object_get(j, "event"));
		if (ev && json_is_integer(seq)) {
			json_int_t s = json_integer_value(seq);
			if (!strcmp(ev, "overflow"))
				w->overflows++;
			else if (!strcmp(ev, "snapshot"))
				; /* the state as of seq: the next event is seq + 1 */
			/* flashd-control(7): seq counts every event from 1; a jump by more
			 * than one is a missed event (an overflow says how many) */
			else if (w->last_seq && s != w->last_seq + 1)
				w->gaps++;
			w->last_seq = s;
			w->events++;
		}
		json_decref(j);
	}
}

/* One poll of the reading watchers (up to timeout_ms), each ready one read;
 * how many were ready, -1 when poll failed. */
static int watchers_poll(struct watcher *ws, struct pollfd *ps, unsigned n, int timeout_ms,
			 unsigned *readers_gone)
{
	for (unsigned i = 0; i < n; i++)
		ps[i] = (struct pollfd){ ws[i].stalled || ws[i].gone ? -1 : ws[i].r.fd, POLLIN, 0 };
	int ready = poll(ps, n, timeout_ms);
	if (ready <= 0)
		return ready < 0 && errno != EINTR ? -1 : 0;
	for (unsigned i = 0; i < n; i++) {
		if (ps[i].fd < 0 || !ps[i].revents)
			continue;
		if (rd_fill(&ws[i].r, 0) < 0) {
			ws[i].gone = true;
			(*readers_gone)++;
			continue;
		}
		watcher_take(&ws[i], (int)i);
	}
	return ready;
}

static int phase_watchers(unsigned n, unsigned stalled, double seconds, double drain)
{
	struct watcher *ws = calloc(n, sizeof(*ws));
	struct pollfd *ps = calloc(n, sizeof(*ps));
	static const char req[] = "{\"id\":\"w\",\"cmd\":\"watch\"}\n";
	unsigned long min_ev = (unsigned long)-1, max_ev = 0;
	unsigned readers_gone = 0, stalled_gone = 0, stalled_overflowed = 0;
	unsigned every = stalled ? n / stalled : 1; /* the stalled ones spread among the rest */

	if (!ws || !ps)
		abort();
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < n; i++) {
		int fd = open_client(&ws[i].r, "watcher");
		ws[i].stalled = stalled && i % every == 0 && i / every < stalled;
		if (ws[i].stalled) {
			int small = 4096;
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		}
		write_all(fd, req, sizeof(req) - 1);
	}
	/* SIGTERM or SIGINT end the phase early, with its figures */
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	double t0 = now_s(), end = t0 + seconds;
	while (now_s() < end && !stop_now) {
		int left = (int)((end - now_s()) * 1000) + 1;
		if (watchers_poll(ws, ps, n, left > 200 ? 200 : left, &readers_gone) < 0)
			break;
	}
	/* what is still queued for the readers, until none has had anything for
	 * 200 ms (the events have stopped) or DRAIN seconds have passed */
	for (double until = now_s() + drain; now_s() < until;)
		if (watchers_poll(ws, ps, n, 200, &readers_gone) <= 0)
			break;
	/* now read what the stalled ones got: an overflow, and the close after the
	 * second one (flashd-control(7), "overflow") */
	for (unsigned i = 0; i < n; i++) {
		if (!ws[i].stalled)
			continue;
		double until = now_s() + 10; /* events keep coming: read up to the overflow */
		while (!ws[i].overflows && now_s() < until && rd_fill(&ws[i].r, 100) == 0)
			watcher_take(&ws[i], (int)i);
		stalled_gone += ws[i].r.eof;
		stalled_overflowed += ws[i].overflows > 0;
	}
	unsigned long gaps = 0, total = 0;
	json_int_t last_seq = 0;
	unsigned behind = 0;
	for (unsigned i = 0; i < n; i++)
		if (!ws[i].stalled && ws[i].last_seq > last_seq)
			last_seq = ws[i].last_seq;
	for (unsigned i = 0; i < n; i++) {
		if (ws[i].stalled)
			continue;
		behind += ws[i].last_seq < last_seq;
		gaps += ws[i].gaps;
		total += ws[i].events;
		if (ws[i].events < min_ev)
			min_ev = ws[i].events;
		if (ws[i].events > max_ev)
			max_ev = ws[i].events;
		if (ws[i].overflows)
			problem("reading watcher %u got an overflow", i);
	}
	if (gaps)
		problem("reading watchers missed events: %lu gaps in seq", gaps);
	if (readers_gone)
		problem("%u reading watchers were disconnected", readers_gone);
	for (unsigned i = 0; i < n; i++) {
		rd_free(&ws[i].r);
		close(ws[i].r.fd);
	}
	seconds = now_s() - t0;
	printf("{\"phase\":\"watchers\",\"watchers\":%u,\"stalled\":%u,\"seconds\":%.1f,"
	       "\"events_per_reader\":%lu,\"events_min\":%lu,\"reader_events_total\":%lu,"
	       "\"last_seq\":%" JSON_INTEGER_FORMAT ",\"readers_behind\":%u,"
	       "\"stalled_overflowed\":%u,\"stalled_closed\":%u,\"failures\":%u}\n",
	       n, stalled, seconds, max_ev, n > stalled ? min_ev : 0, total, last_seq, behind,
	       stalled_overflowed, stalled_gone, failures);
	free(ws);
	free(ps);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: ctlstress SOCKET malformed | oversize MIB | pipeline N | storm N |\n"
	      "                        watchers N STALLED SECONDS [DRAIN]\n",
	      stderr);
	exit(2);
}

static unsigned long num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	sock_path = argv[1];
	const char *ph = argv[2];
	if (!strcmp(ph, "malformed") && argc == 3)
		return phase_malformed();
	if (!strcmp(ph, "oversize") && argc == 4)
		return phase_oversize((unsigned)num(argv[3]));
	if (!strcmp(ph, "pipeline") && argc == 4)
		return phase_pipeline(num(argv[3]));
	if (!strcmp(ph, "storm") && argc == 4)
		return phase_storm(num(argv[3]));
	if (!strcmp(ph, "watchers") && (argc == 6 || argc == 7)) {
		unsigned long n = num(argv[3]), st = num(argv[4]);
		if (!n || st > n || n > 100000)
			usage();
		return phase_watchers((unsigned)n, (unsigned)st, (double)num(argv[5]),
				      argc == 7 ? (double)num(argv[6]) : 0);
	}
	usage();
}
