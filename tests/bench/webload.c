/* webload: the load of issue 13 on flashd-web ("50 SSE clients and 20 scrapers per
 * second"), for the bench part `web` (tests/bench/bench-guest). One process, plain
 * non-blocking sockets and poll(2), so that the load costs the guest what the
 * clients' sockets cost and no fork per scrape.
 *
 *   webload ADDR:PORT SSE RATE SECONDS SCRAPELOG
 *
 * SSE clients send `GET /events` (HTTP/1.0: no chunked coding) and read everything,
 * counting "event:" lines; once all of them have their 200 and a first event, one
 * line "connected N" goes to stderr. Every 1/RATE s a new connection sends
 * `GET /metrics` and reads the reply to its end; each scrape's start (ms from the
 * load's start), status (0: no reply), latency (ms to the end of the body) and size
 * go to SCRAPELOG as JSON lines, and the value of flashd_web_sse_clients in the body
 * is kept. A scrape due while 64 are in flight is skipped (a line "skipped" in the
 * log; Prometheus too scrapes a target once at a time), not counted as done or failed.
 * A scrape fails on no connection, a status other than 200, a body without the gauge,
 * or no end within 10 s. The load stops after SECONDS or at SIGTERM/SIGINT; scrapes in flight are
 * then waited for (their timeout, 10 s). Prints one JSON line of figures; exits 1 when
 * a scrape failed or an SSE client lost its stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SSE 1024
#define MAX_SCRAPES 64	    /* in flight at once; a scrape due beyond is skipped */
#define SCRAPE_TIMEOUT 10.0 /* s */

struct conn {
	int fd;
	bool is_sse;
	bool sent;
	size_t req_off;
	const char *req;
	int status; /* from the status line; 0 until then */
	char head[64];
	size_t head_len;
	unsigned long long bytes;
	/* SSE: "event:" at the start of a line (html.spec.whatwg.org, "Server-sent events") */
	int match; /* bytes of "event:" matched on this line; -1: the line is something else */
	unsigned long events;
	bool gone;
	/* scrape */
	double t0;
	char *body;
	size_t body_len, body_cap;
};

static volatile sig_atomic_t stop;
static struct sockaddr_in addr;
static struct conn sse[MAX_SSE];
static struct conn scr[MAX_SCRAPES];
static double *lat;
static size_t nlat, caplat;
static unsigned long scrapes, scrape_fail, scrape_skip;
static long gauge_last = -1, gauge_max = -1;
static FILE *slog;
static double start;

static const char req_events[] = "GET /events HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n";
static const char req_metrics[] = "GET /metrics HTTP/1.0\r\n\r\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_conn(struct conn *c, const char *req)
{
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->is_sse = req == req_events;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* Write the request once the connection is up; -1 on an error. */
static int conn_send(struct conn *c)
{
	size_t len = strlen(c->req);
	ssize_t n = send(c->fd, c->req + c->req_off, len - c->req_off, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->req_off += (size_t)n;
	c->sent = c->req_off == len;
	return 0;
}

/* The status code from the first bytes ("HTTP/1.x NNN"). */
static void conn_head(struct conn *c, const char *p, size_t n)
{
	if (c->status || c->head_len == sizeof(c->head) - 1)
		return;
	n = n < sizeof(c->head) - 1 - c->head_len ? n : sizeof(c->head) - 1 - c->head_len;
	memcpy(c->head + c->head_len, p, n);
	c->head_len += n;
	c->head[c->head_len] = '\0';
	if (strchr(c->head, '\n')) {
		int st = 0;

		c->status = sscanf(c->head, "HTTP/%*d.%*d %d", &st) == 1 ? st : -1;
	}
}

static void sse_bytes(struct conn *c, const char *p, size_t n)
{
	static const char pat[] = "event:";

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			c->match = 0;
		else if (c->match >= 0 && p[i] == pat[c->match]) {
			if (++c->match == (int)sizeof(pat) - 1) {
				c->events++;
				c->match = -1;
			}
		} else
			c->match = -1;
	}
}

static void scrape_bytes(struct conn *c, const char *p, size_t n)
{
	if (c->body_len + n + 1 > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 65536;
		char *b;

		while (cap < c->body_len + n + 1)
			cap *= 2;
		if (!(b = realloc(c->body, cap)))
			return;
		c->body = b;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, p, n);
	c->body_len += n;
	c->body[c->body_len] = '\0';
}

static void lat_add(double ms)
{
	if (nlat == caplat) {
		size_t cap = caplat ? caplat * 2 : 4096;
		double *l = realloc(lat, cap * sizeof(*l));

		if (!l)
			return;
		lat = l;
		caplat = cap;
	}
	lat[nlat++] = ms;
}

/* A scrape ends (EOF, an error or its timeout): its line in the log, its figures. */
static void scrape_end(struct conn *c, double t, bool ok)
{
	const char *g = c->body ? strstr(c->body, "\nflashd_web_sse_clients ") : NULL;
	double ms = (t - c->t0) * 1e3;

	ok = ok && c->status == 200 && g;
	if (g) {
		gauge_last = strtol(g + strlen("\nflashd_web_sse_clients "), NULL, 10);
		if (gauge_last > gauge_max)
			gauge_max = gauge_last;
	}
	scrapes++;
	if (ok)
		lat_add(ms);
	else
		scrape_fail++;
	fprintf(slog, "{\"t_ms\":%.1f,\"status\":%d,\"ms\":%.2f,\"bytes\":%llu,\"ok\":%s}\n",
		(c->t0 - start) * 1e3, c->status, ms, c->bytes, ok ? "true" : "false");
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->body);
	c->body = NULL;
}

/* Read what is there; 1 at EOF, -1 on an error, 0 otherwise. */
static int conn_read(struct conn *c, bool is_sse)
{
	char buf[65536];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->bytes += (unsigned long long)n;
		conn_head(c, buf, (size_t)n);
		if (is_sse)
			sse_bytes(c, buf, (size_t)n);
		else
			scrape_bytes(c, buf, (size_t)n);
	}
}

static void scrape_start(double t)
{
	for (unsigned i = 0; i < MAX_SCRAPES; i++) {
		if (scr[i].fd >= 0)
			continue;
		if (open_conn(&scr[i], req_metrics) < 0) {
			scr[i].t0 = t;
			scrape_end(&scr[i], t, false);
		} else
			scr[i].t0 = t;
		return;
	}
	scrape_skip++;
	fprintf(slog, "{\"t_ms\":%.1f,\"skipped\":true}\n", (t - start) * 1e3);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t k;

	if (!nlat)
		return -1;
	k = (size_t)(p * (double)(nlat - 1) + 0.5);
	return lat[k];
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static int usage(void)
{
	fputs("usage: webload ADDR:PORT SSE RATE SECONDS SCRAPELOG\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_SSE + MAX_SCRAPES];
	struct conn *pc[MAX_SSE + MAX_SCRAPES];
	unsigned nsse, connected_said = 0, sse_up = 0, sse_gone = 0;
	unsigned long ev[MAX_SSE], next_k = 0;
	double rate, seconds, t, t_stop, t_stopped = 0;
	char host[64], *colon;
	struct sigaction sa = {.sa_handler = on_signal};

	if (argc != 6 || strlen(argv[1]) >= sizeof(host))
		return usage();
	strcpy(host, argv[1]);
	colon = strrchr(host, ':');
	nsse = (unsigned)strtoul(argv[2], NULL, 10);
	rate = strtod(argv[3], NULL);
	seconds = strtod(argv[4], NULL);
	if (!colon || nsse > MAX_SSE || rate <= 0 || seconds <= 0)
		return usage();
	*colon = '\0';
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return usage();
	if (!(slog = fopen(argv[5], "w"))) {
		fprintf(stderr, "webload: %s: %s\n", argv[5], strerror(errno));
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (unsigned i = 0; i < MAX_SCRAPES; i++)
		scr[i].fd = -1;
	start = now_s();
	t_stop = start + seconds;
	for (unsigned i = 0; i < nsse; i++)
		if (open_conn(&sse[i], req_events) < 0) {
			fprintf(stderr, "webload: connect: %s\n", strerror(errno));
			sse[i].gone = true;
		}
	for (;;) {
		unsigned n = 0, busy = 0, up = 0;
		int timeout;

		t = now_s();
		if (!stop && t >= t_stop)
			stop = 1;
		while (!stop && start + (double)next_k / rate <= t) {
			scrape_start(start + (double)next_k / rate);
			next_k++;
		}
		for (unsigned i = 0; i < MAX_SCRAPES; i++) {
			if (scr[i].fd < 0)
				continue;
			if (t - scr[i].t0 > SCRAPE_TIMEOUT) {
				scrape_end(&scr[i], t, false);
				continue;
			}
			busy++;
			pc[n] = &scr[i];
			pfd[n++] = (struct pollfd){scr[i].fd, scr[i].sent ? POLLIN : POLLOUT, 0};
		}
		if (stop && !t_stopped)
			t_stopped = t;
		if (stop && !busy)
			break;
		for (unsigned i = 0; i < nsse; i++) {
			if (sse[i].gone)
				continue;
			up += sse[i].status == 200 && sse[i].events > 0;
			pc[n] = &sse[i];
			pfd[n++] = (struct pollfd){sse[i].fd, sse[i].sent ? POLLIN : POLLOUT, 0};
		}
		if (!connected_said && up == nsse) {
			fprintf(stderr, "connected %u\n", up);
			connected_said = 1;
		}
		sse_up = up > sse_up ? up : sse_up;
		timeout = stop ? 100 : (int)((start + (double)next_k / rate - t) * 1e3) + 1;
		if (poll(pfd, n, timeout < 0 ? 0 : timeout) < 0 && errno != EINTR) {
			perror("webload: poll");
			return 2;
		}
		t = now_s();
		for (unsigned k = 0; k < n; k++) {
			struct conn *c = pc[k];
			int r = 0;

			if (!pfd[k].revents)
				continue;
			if (!c->sent)
				r = conn_send(c);
			else
				r = conn_read(c, c->is_sse);
			if (!r)
				continue;
			if (!c->is_sse) {
				scrape_end(c, t, r > 0);
				continue;
			}
			close(c->fd);
			c->gone = true;
			sse_gone++;
		}
	}
	/* the figures: SSE clients still connected, events each received, scrapes */
	for (unsigned i = 0; i < nsse; i++)
		ev[i] = sse[i].events;
	qsort(ev, nsse, sizeof(*ev), cmp_ulong);
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("{\"sse\":%u,\"sse_connected_max\":%u,\"sse_connected_end\":%u,\"sse_lost\":%u,"
	       "\"events_min\":%lu,\"events_median\":%lu,\"events_max\":%lu,"
	       "\"scrapes\":%lu,\"scrapes_failed\":%lu,\"scrapes_skipped\":%lu,"
	       "\"scrape_rate\":%.2f,\"seconds\":%.1f,"
	       "\"scrape_ms_p50\":%.2f,\"scrape_ms_p99\":%.2f,\"scrape_ms_max\":%.2f,"
	       "\"sse_clients_gauge_last\":%ld,\"sse_clients_gauge_max\":%ld}\n",
	       nsse, sse_up, nsse - sse_gone, sse_gone, nsse ? ev[0] : 0, nsse ? ev[nsse / 2] : 0,
	       nsse ? ev[nsse - 1] : 0, scrapes, scrape_fail, scrape_skip,
	       (double)scrapes / (t_stopped - start), t_stopped - start, pct(0.5), pct(0.99),
	       nlat ? lat[nlat - 1] : -1, gauge_last, gauge_max);
	fclose(slog);
	return scrape_fail || sse_gone ? 1 : 0;
}
