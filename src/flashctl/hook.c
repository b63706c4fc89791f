/* flashd-hook: run a command for every finished board (issue 16, "Result
 * hooks"); flashd-hook(1).
 *
 * The results journal is the source of truth: records are read with
 * `history` pages of one record after a cursor (a journal line number,
 * flashd-control(7)), so a record is handled only once it is durable, and
 * the cursor, kept in a file written atomically after each command, lets a
 * restarted hook go on from the record after the last one it handled. The
 * `watch` stream on the same connection is only a wake-up: a result or
 * durable event means "ask again"; an overflow (a slow command) loses
 * nothing. The command runs with this process's rights, never inside
 * flashd, in a process group of its own, the record on its standard input
 * and the main fields in its environment; one that outlives --timeout gets
 * SIGTERM, then SIGKILL 5 s later. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/clock.h"
#include "follow.h"
#include "flashd/protocol.h"

#define HOOK_KILL_GRACE_MS 5000
#define HOOK_RECONNECT_MAX_MS 10000

struct hook {
	const char *socket, *cursor_path, *port, *slot, *result;
	char *const *argv;
	unsigned timeout_s;
	bool from_start;
	uint64_t cursor;   /* the last journal line handled (0: none yet) */
	bool have_cursor;
	unsigned long done, failed;
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("flashd-hook: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *fp)
{
	fputs("usage: flashd-hook [--socket PATH] [--cursor FILE] [--timeout SECONDS]\n"
	      "                   [--port PORT] [--slot SLOT] [--result RESULT] [--from-start]\n"
	      "                   -- COMMAND [ARG...]\n"
	      "Run COMMAND for every board flashd finishes, the journal record on its\n"
	      "standard input and FLASHD_PORT, FLASHD_SLOT, FLASHD_UID, FLASHD_RESULT,\n"
	      "FLASHD_REASON, FLASHD_LINE in its environment; see flashd-hook(1).\n",
	      fp);
}

/* ---------------------------------------------------------------- cursor */

static int cursor_load(struct hook *h)
{
	FILE *f;
	char buf[64];
	char *end;

	if (!h->cursor_path)
		return 0;
	f = fopen(h->cursor_path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		say("%s: %s", h->cursor_path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		say("%s: empty; delete it to start afresh", h->cursor_path);
		return -1;
	}
	fclose(f);
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v > (1ull << 53)) {
		say("%s: not a journal line number: %.40s", h->cursor_path, buf);
		return -1;
	}
	h->cursor = v;
	h->have_cursor = true;
	return 0;
}

/* write FILE.tmp, fsync, rename over FILE, fsync the folder */
static int cursor_save(const struct hook *h)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, r = 0;

	if (!h->cursor_path)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", h->cursor_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%" PRIu64 "\n", h->cursor) < 0 || fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, h->cursor_path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", h->cursor_path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0)
			r = -errno;
		close(fd);
	}
	return r;
}

/* ---------------------------------------------------------------- the command */

static void setenv_str(const char *name, const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));
	setenv(name, v ? v : "", 1);
}

/* In the child: the environment, stdin from fd, a process group of its own. */
static void child_exec(const struct hook *h, const json_t *rec, uint64_t line, int in_fd)
{
	char num[32];

	setpgid(0, 0);
	if (dup2(in_fd, STDIN_FILENO) < 0)
		_exit(127);
	setenv_str("FLASHD_PORT", rec, PROTOCOL_KEY_PORT);
	setenv_str("FLASHD_SLOT", rec, PROTOCOL_KEY_SLOT);
	setenv_str("FLASHD_UID", rec, PROTOCOL_KEY_UID);
	setenv_str("FLASHD_RESULT", rec, PROTOCOL_KEY_RESULT);
	setenv_str("FLASHD_REASON", rec, PROTOCOL_KEY_REASON);
	setenv_str("FLASHD_SERIAL", rec, "serial");
	snprintf(num, sizeof(num), "%" PRIu64, line);
	setenv("FLASHD_LINE", num, 1);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(h->argv[0], h->argv);
	fprintf(stderr, "flashd-hook: %s: %s\n", h->argv[0], strerror(errno));
	_exit(127);
}

/* Wait for pid until deadline (CLOCK_MONOTONIC ms); 1 when it exited (*status). */
static int wait_until(pid_t pid, int64_t deadline, int *status)
{
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -errno;
		int64_t left = deadline - clock_ms(CLOCK_MONOTONIC);
		if (left <= 0)
			return 0;
		struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
		sigtimedwait(&chld, NULL, &ts); /* SIGCHLD, the timeout, or EINTR */
	}
}

/* Run the command for one record; 0 when it exited 0. The record goes
 * through a temporary file (unlinked at once), so that a command that never
 * reads its input cannot block us. */
static int run_command(struct hook *h, const json_t *rec, uint64_t line)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char tmpl[] = "/tmp/flashd-hook.XXXXXX";
	int fd = text ? mkstemp(tmpl) : -1, status = 0, r;
	int64_t t0 = clock_ms(CLOCK_MONOTONIC);
	const char *port = json_string_value(json_object_get(rec, PROTOCOL_KEY_PORT));
	const char *result = json_string_value(json_object_get(rec, PROTOCOL_KEY_RESULT));

	if (fd < 0) {
		say("line %" PRIu64 ": cannot stage the record: %s", line,
		    text ? strerror(errno) : "out of memory");
		free(text);
		return -1;
	}
	unlink(tmpl);
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
		  lseek(fd, 0, SEEK_SET) == 0;
	free(text);
	if (!ok) {
		say("line %" PRIu64 ": cannot stage the record: %s", line, strerror(errno));
		close(fd);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		child_exec(h, rec, line, fd);
	close(fd);
	if (pid < 0) {
		say("line %" PRIu64 ": fork: %s", line, strerror(errno));
		return -1;
	}
	setpgid(pid, pid); /* also here: no race with the kill below */
	r = wait_until(pid, h->timeout_s ? t0 + (int64_t)h->timeout_s * 1000 : INT64_MAX,
		       &status);
	if (r == 0) {
		say("port %s, line %" PRIu64 ": %s still runs after %u s: SIGTERM", port ? port : "-",
		    line, h->argv[0], h->timeout_s);
		kill(-pid, SIGTERM);
		r = wait_until(pid, clock_ms(CLOCK_MONOTONIC) + HOOK_KILL_GRACE_MS, &status);
		if (r == 0) {
			say("port %s, line %" PRIu64 ": %s ignored SIGTERM: SIGKILL", port ? port : "-",
			    line, h->argv[0]);
			kill(-pid, SIGKILL);
			r = wait_until(pid, INT64_MAX, &status);
		}
		r = r > 0 ? -ETIMEDOUT : r;
	}
	int64_t ms = clock_ms(CLOCK_MONOTONIC) - t0;
	if (r < 0 && r != -ETIMEDOUT) {
		say("line %" PRIu64 ": waiting for %s: %s", line, h->argv[0], strerror(-r));
		return -1;
	}
	if (r == -ETIMEDOUT) {
		say("port %s, line %" PRIu64 ", %s: %s killed after %" PRId64 " ms (timeout)",
		    port ? port : "-", line, result ? result : "-", h->argv[0], ms);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		say("port %s, line %" PRIu64 ", %s: %s done in %" PRId64 " ms", port ? port : "-",
		    line, result ? result : "-", h->argv[0], ms);
		return 0;
	}
	if (WIFEXITED(status))
		say("port %s, line %" PRIu64 ", %s: %s exited %d after %" PRId64 " ms",
		    port ? port : "-", line, result ? result : "-", h->argv[0], WEXITSTATUS(status),
		    ms);
	else
		say("port %s, line %" PRIu64 ", %s: %s killed by signal %d after %" PRId64 " ms",
		    port ? port : "-", line, result ? result : "-", h->argv[0],
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0, ms);
	return -1;
}

/* ---------------------------------------------------------------- following */

static struct hook *hook_of(struct follow *f)
{
	return f->ud;
}

/* One record at a time (the page limit is 1): the cursor file names it as
 * soon as its command is done. */
static int hook_records(struct follow *f, json_t *const *recs, const uint64_t *lines, size_t n)
{
	struct hook *h = hook_of(f);

	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(recs[i], PROTOCOL_KEY_SLOT));
		if (!h->slot || (s && !strcmp(s, h->slot))) {
			if (run_command(h, recs[i], lines[i]) == 0)
				h->done++;
			else
				h->failed++;
		}
		h->cursor = lines[i];
		int e = cursor_save(h);
		if (e < 0) {
			say("%s: %s: stopping, or the next start would run it again",
			    h->cursor_path, strerror(-e));
			return FOLLOW_FATAL;
		}
	}
	return 0;
}

static void hook_skipped(struct follow *f)
{
	struct hook *h = hook_of(f);

	h->cursor = f->cursor;
	int e = cursor_save(h);
	if (e < 0)
		say("%s: %s", h->cursor_path, strerror(-e));
}

/* After each connection: the cursor. The first start without a cursor
 * file begins at the journal's start, or after its newest record (then
 * only boards that finish from now on). */
static int hook_start(struct follow *f)
{
	struct hook *h = hook_of(f);

	if (!h->have_cursor) {
		h->cursor = 0;
		if (!h->from_start) {
			int r = follow_newest(f, &h->cursor);
			if (r < 0)
				return r;
		}
		h->have_cursor = true;
		int e = cursor_save(h);
		if (e < 0) {
			say("%s: %s", h->cursor_path, strerror(-e));
			return FOLLOW_FATAL;
		}
		say("starting after journal line %" PRIu64, h->cursor);
	}
	f->cursor = h->cursor;
	return 0;
}

static int hook_run(struct hook *h)
{
	char hint[PATH_MAX + 64];
	struct follow f = {
		.prog = "flashd-hook", .socket = h->socket, .port = h->port, .result = h->result,
		.limit = 1, .backoff_min_ms = 100, .backoff_max_ms = HOOK_RECONNECT_MAX_MS,
		.cut_hint = hint, .stopping = &stopping, .ud = h, .start = hook_start,
		.records = hook_records, .skipped = hook_skipped,
	};

	snprintf(hint, sizeof(hint), "write the line to go on after into %s",
		 h->cursor_path ? h->cursor_path : "a --cursor file");
	if (follow_run(&f))
		return 1;
	say("stopped after journal line %" PRIu64 ": %lu handled, %lu failed", h->cursor, h->done,
	    h->failed);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "cursor", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "slot", required_argument, NULL, 'S' },
		{ "result", required_argument, NULL, 'r' },
		{ "from-start", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hook h = { .socket = getenv(PROTOCOL_SOCKET_ENV), .timeout_s = 60 };
	int c;

	while ((c = getopt_long(argc, argv, "+s:c:t:p:S:r:Fh", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 's': h.socket = optarg; break;
		case 'c': h.cursor_path = optarg; break;
		case 'p': h.port = optarg; break;
		case 'S': h.slot = optarg; break;
		case 'r': h.result = optarg; break;
		case 'F': h.from_start = true; break;
		case 't':
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v > 86400) {
				say("--timeout: seconds from 0 (none) to 86400, not %s", optarg);
				return 2;
			}
			h.timeout_s = (unsigned)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!h.socket || !*h.socket)
		h.socket = PROTOCOL_SOCKET_DEFAULT;
	h.argv = argv + optind;
	if (cursor_load(&h) < 0)
		return 1;

	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* SIGCHLD must be pending for sigtimedwait, not delivered */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	return hook_run(&h);
}
