/* history: figures for `history` on a large results journal (issue 11,
 * defect 2; docs/reliability.md "history queries"). Part of `make bench`
 * (p5) and `make bench-history`. Not a test: it prints figures and never
 * fails on one.
 *
 * Writes a journal of --records records shaped like the station's (about
 * 1.5 KB each: 100,000 make 155 MB, as in the issue), opens it (the index
 * build, timed) and serves it with the daemon's own control server on a
 * libevent loop in this thread. Clients on other threads measure:
 *   - `history --limit 50` latency, plain and with a filter that matches
 *     one record in 40 (p50/p99/max over --queries requests);
 *   - `status` latency alone, then while 8 clients ask `history --limit
 *     10000` in a loop (the loop's responsiveness);
 *   - 10 clients that send `history --limit 10000` and never read: the
 *     bytes queued for them and the process's RSS growth.
 * usage: history [--records N] [--queries N] [--dir DIR] [--keep] */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "daemon/control.h"
#include "daemon/journal.h"

#define BIG_CLIENTS 8
#define UNREAD_CLIENTS 10
#define LOAD_SECONDS 3

struct bench {
	char dir[256], journal[300], sock[300];
	size_t records, queries;
	bool keep;
	struct control *ctl;
	struct event_base *base;
	atomic_ulong queued;   /* the server's queued bytes, copied on the loop */
	atomic_bool done;
	atomic_bool stop_load;
	atomic_ulong big_served;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print_latency(const char *what, double *v, size_t n)
{
	if (!n) {
		printf("%-50s no samples\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%-50s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%zu requests)\n", what,
	       v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[n - 1], n);
}

static long rss_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "re");
	char line[256];
	long kib = -1;

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (fp)
		fclose(fp);
	return kib;
}

/* ---- the journal ---- */

static void write_journal(const struct bench *b)
{
	static const char *const steps[] = {
		"SDP: boot -f _flash.bin", "SDPV: delay 1000", "SDPV: write -f _flash.bin -skipspl",
		"SDPV: jump", "FB: ucmd setenv fastboot_dev mmc", "FB: ucmd mmc dev 2",
		"FB: flash bootloader _flash.bin", "FB: ucmd setenv mmcpart 1",
		"FB: flash -raw2sparse all rootfs.ext4", "FB: ucmd mmc partconf 2 1 1 1",
		"FB: flash boot boot.img", "FB: ucmd saveenv", "FB: done", "FB: reboot",
	};
	static const char *const results[] = { "ok", "ok", "ok", "failed", "ok",
					       "aborted", "ok", "boot-loop" };
	FILE *fp = fopen(b->journal, "we");

	if (!fp) {
		perror(b->journal);
		exit(1);
	}
	for (size_t i = 0; i < b->records; i++) {
		long long start = 1764000000000LL + (long long)i * 60000;
		const char *res = results[i % 8];
		fprintf(fp, "{\"port\":\"1-1.%zu\",\"uid\":\"%016zx\",\"serial\":null,"
			"\"plan\":\"/etc/flashd/plans/full.lst\",\"plan_sha256\":\"9f86d081884c7d659a2"
			"feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"images\":[{\"path\":"
			"\"/srv/img/rootfs.ext4\",\"sha256\":\"2c26b46b68ffc68ff99b453c1d30413413422d7"
			"06483bfa0f98a5e886266e7ae\",\"compression\":null,\"source_sha256\":null}],"
			"\"start_ms\":%lld,\"end_ms\":%lld,\"result\":\"%s\",\"failed_step\":%s,"
			"\"reason\":%s,\"bytes\":73400320,\"steps\":[",
			i % 5, i * 2654435761u, start, start + 83000, res,
			strcmp(res, "failed") ? "null" : "\"FB: flash boot boot.img\"",
			strcmp(res, "failed") ? "null" : "\"timeout: no OKAY\"");
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
			fprintf(fp, "%s{\"index\":%zu,\"text\":\"%s\",\"ms\":%zu,\"bytes\":%zu,"
				"\"ok\":true}", s ? "," : "", s, steps[s], 100 + s * 37,
				s * 524288);
		fputs("]}\n", fp);
	}
	if (fclose(fp) != 0) {
		perror(b->journal);
		exit(1);
	}
}

/* ---- clients (threads) ---- */

static int cl_connect(const struct bench *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char c;

	if (strlen(b->sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "history: %s: path too long for a socket\n", b->sock);
		exit(1);
	}
	memcpy(sa.sun_path, b->sock, strlen(b->sock) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(1);
	}
	while (read(fd, &c, 1) == 1 && c != '\n') /* the hello */
		;
	return fd;
}

/* Send one request, read its reply line; its length, or -1. */
static long cl_request(int fd, const char *req)
{
	static _Thread_local char buf[1 << 16];
	size_t len = strlen(req);
	long got = 0;

	if (write(fd, req, len) != (ssize_t)len)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		got += n;
		if (buf[n - 1] == '\n')
			return got;
	}
}

static size_t timed_requests(const struct bench *b, const char *req, size_t n, double *out,
			     double every_ms, const atomic_bool *until)
{
	int fd = cl_connect(b);
	size_t i = 0;

	while (i < n && !(until && atomic_load(until))) {
		double t0 = now_ms();
		if (cl_request(fd, req) < 0)
			break;
		out[i++] = now_ms() - t0;
		if (every_ms > 0)
			usleep((useconds_t)(every_ms * 1000));
	}
	close(fd);
	return i;
}

static void *big_client(void *arg)
{
	struct bench *b = arg;
	int fd = cl_connect(b);

	while (!atomic_load(&b->stop_load) &&
	       cl_request(fd, "{\"cmd\":\"history\",\"limit\":10000}\n") > 0)
		atomic_fetch_add(&b->big_served, 1);
	close(fd);
	return NULL;
}

static void run_latency(struct bench *b)
{
	double *v = calloc(b->queries, sizeof(*v));
	char req[128];
	size_t n;

	n = timed_requests(b, "{\"cmd\":\"history\",\"limit\":50}\n", b->queries, v, 0, NULL);
	print_latency("history --limit 50", v, n);
	snprintf(req, sizeof(req), "{\"cmd\":\"history\",\"limit\":50,\"before\":%zu}\n",
		 b->records / 2);
	n = timed_requests(b, req, b->queries, v, 0, NULL);
	print_latency("history --limit 50 --before (middle)", v, n);
	n = timed_requests(b, "{\"cmd\":\"history\",\"limit\":50,\"port\":\"1-1.3\","
			   "\"result\":\"failed\"}\n", b->queries, v, 0, NULL);
	print_latency("history --limit 50 --port --result (1 in 40)", v, n);
	n = timed_requests(b, "{\"cmd\":\"history\",\"port\":\"9-9\"}\n", b->queries, v, 0, NULL);
	print_latency("history --port (no match: full index scan)", v, n);
	n = timed_requests(b, "{\"cmd\":\"history\",\"limit\":10000}\n", b->queries / 4, v, 0,
			   NULL);
	print_latency("history --limit 10000 (a 1 MiB page)", v, n);
	free(v);
}

static void run_loaded(struct bench *b)
{
	size_t cap = LOAD_SECONDS * 1000;
	double *v = calloc(cap, sizeof(*v));
	pthread_t t[BIG_CLIENTS];
	size_t n;

	n = timed_requests(b, "{\"cmd\":\"status\"}\n", b->queries, v, 1, NULL);
	print_latency("status, idle", v, n);
	atomic_store(&b->stop_load, false);
	for (int i = 0; i < BIG_CLIENTS; i++)
		pthread_create(&t[i], NULL, big_client, b);
	double t0 = now_ms();
	n = 0;
	while (n < cap && now_ms() - t0 < LOAD_SECONDS * 1000.0)
		n += timed_requests(b, "{\"cmd\":\"status\"}\n", 1, v + n, 5, NULL);
	atomic_store(&b->stop_load, true);
	for (int i = 0; i < BIG_CLIENTS; i++)
		pthread_join(t[i], NULL);
	print_latency("status, 8 clients looping history --limit 10000", v, n);
	printf("%-50s %.0f per second\n", "  history --limit 10000 served meanwhile",
	       (double)atomic_load(&b->big_served) / ((now_ms() - t0) / 1000.0));
	free(v);
}

static void run_unread(struct bench *b)
{
	int fds[UNREAD_CLIENTS];
	double v[64];
	long rss0 = rss_kib();

	for (int i = 0; i < UNREAD_CLIENTS; i++) {
		static const char req[] = "{\"cmd\":\"history\",\"limit\":10000}\n";
		fds[i] = cl_connect(b);
		if (write(fds[i], req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
			perror("write");
	}
	usleep(500000);
	size_t n = timed_requests(b, "{\"cmd\":\"status\"}\n", 64, v, 1, NULL);
	printf("%-50s queued %.1f MB, RSS %+.1f MB\n", "10 clients, limit 10000, never read",
	       (double)atomic_load(&b->queued) / 1e6, (double)(rss_kib() - rss0) / 1024.0);
	print_latency("status meanwhile", v, n);
	for (int i = 0; i < UNREAD_CLIENTS; i++)
		close(fds[i]);
}

static void *driver(void *arg)
{
	struct bench *b = arg;

	run_latency(b);
	run_loaded(b);
	run_unread(b);
	atomic_store(&b->done, true);
	return NULL;
}

/* ---- the server (this thread) ---- */

static json_t *bench_status(void *ud)
{
	(void)ud;
	return json_pack("{s:b, s:s, s:[]}", "paused", 0, "plan", "/etc/flashd/plans/full.lst",
			 "ports");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	(void)fd;
	(void)what;
	struct control_counters c;

	control_get_counters(b->ctl, &c);
	atomic_store(&b->queued, c.queued_bytes);
	if (atomic_load(&b->done))
		event_base_loopbreak(b->base);
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	b->records = 100000;
	b->queries = 400;
	snprintf(b->dir, sizeof(b->dir), "%s", "");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			b->records = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
			b->queries = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(b->dir, sizeof(b->dir), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--keep"))
			b->keep = true;
		else {
			fprintf(stderr, "usage: history [--records N] [--queries N] [--dir DIR] "
					"[--keep]\n");
			exit(2);
		}
	}
	if (!b->records || b->queries < 4)
		exit(2);
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct event_base *base;
	struct journal *j;
	struct control_backend be = { .ud = &b, .status = bench_status };
	pthread_t drv;
	struct stat st;

	parse_args(&b, argc, argv);
	if (!*b.dir) {
		snprintf(b.dir, sizeof(b.dir), "/tmp/flashd-bench-history.XXXXXX");
		if (!mkdtemp(b.dir)) {
			perror("mkdtemp");
			return 1;
		}
	} else if (mkdir(b.dir, 0700) < 0 && errno != EEXIST) {
		perror(b.dir);
		return 1;
	}
	snprintf(b.journal, sizeof(b.journal), "%s/results.jsonl", b.dir);
	snprintf(b.sock, sizeof(b.sock), "%s/flashd.sock", b.dir);
	log_set_max_level(LOG_ERR);
	write_journal(&b);
	stat(b.journal, &st);
	double t0 = now_ms();
	if (journal_open(b.journal, &j) < 0) {
		perror("journal_open");
		return 1;
	}
	printf("journal: %zu records, %.0f MB; open and index: %.0f ms\n", b.records,
	       (double)st.st_size / 1e6, now_ms() - t0);
	b.base = base = event_base_new();
	struct control_opts o = { .path = b.sock, .listen_fd = -1, .admin_gid = getegid(),
				  .sock_gid = (gid_t)-1 };
	if (!base || control_new(base, &o, &be, j, &b.ctl) < 0) {
		fprintf(stderr, "history: cannot start the control server\n");
		return 1;
	}
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, &b);
	event_add(tick, &(struct timeval){ 0, 10000 });
	pthread_create(&drv, NULL, driver, &b);
	event_base_dispatch(base);
	pthread_join(drv, NULL);
	event_free(tick);
	control_free(b.ctl);
	event_base_free(base);
	journal_close(j);
	if (!b.keep) {
		unlink(b.journal);
		rmdir(b.dir);
	}
	return 0;
}
