/* test-flashctl-bin: the flashctl binary end to end against a control
 * server with a fake station (in a child process): every subcommand, exit
 * codes and error texts, the admin check, watch as NDJSON on a pipe and as
 * the live view on a pty. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "ctltest.h"
#include "daemon/journal.h"

static const int64_t NOW = 1700000000000;

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("output lacks '%s':\n%s", want, text);
}

struct server {
	char dir[64], sock[128];
	pid_t pid;
};

static void server_tick(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;
	static int n;
	control_publish(c, "progress", json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i}", "port", "1-1",
						 "step", "flash rootfs", "step_index", 5, "steps",
						 7, "bytes", ++n * 1000000, "total", 200000000,
						 "rate", 20000000));
	if (n % 5 == 0)
		control_publish(c, "log", json_pack("{s:s,s:s,s:s}", "port", "1-1", "level",
						    "info", "message", "tick"));
}

static void server_child(struct server *s, mode_t mode, int ready)
{
	struct event_base *base = event_base_new();
	struct fake_station fs;
	struct control_backend be;
	struct journal *j;
	struct control *c;
	char jpath[160];

	log_set_max_level(LOG_ERR);
	fake_station_init(&fs);
	fs.missing_port = "9-9";
	fake_station_backend(&fs, &be);
	snprintf(jpath, sizeof(jpath), "%s/results.jsonl", s->dir);
	if (journal_open(jpath, &j) < 0)
		_exit(10);
	json_t *rec = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "port", "1-1", "uid", "0a1b",
				"result", "ok", "start_ms", (json_int_t)NOW, "end_ms",
				(json_int_t)(NOW + 83000), "bytes", (json_int_t)1500000000,
				"plan", "/p/full.lst");
	journal_append(j, rec);
	json_object_set_new(rec, "port", json_string("1-2"));
	json_object_set_new(rec, "result", json_string("failed"));
	json_object_set_new(rec, "failed_step", json_string("flash rootfs"));
	json_object_set_new(rec, "reason", json_string("timeout"));
	journal_append(j, rec);
	json_decref(rec);
	struct control_opts o = { .path = s->sock, .listen_fd = -1, .admin_gid = getegid(),
				  .sock_gid = (gid_t)-1, .mode = mode };
	if (control_new(base, &o, &be, j, &c) < 0)
		_exit(11);
	struct event *tick = event_new(base, -1, EV_PERSIST, server_tick, c);
	event_add(tick, &(struct timeval){ 0, 20000 });
	if (write(ready, "x", 1) != 1)
		_exit(12);
	close(ready);
	event_base_dispatch(base);
	_exit(0);
}

static int server_setup(void **state)
{
	struct server *s = calloc(1, sizeof(*s));
	int p[2];
	char x;

	strcpy(s->dir, "/tmp/test-flashctl.XXXXXX");
	if (!mkdtemp(s->dir) || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	chmod(s->dir, 0755);
	snprintf(s->sock, sizeof(s->sock), "%s/flashd.sock", s->dir);
	s->pid = fork();
	if (s->pid == 0) {
		close(p[0]);
		server_child(s, 0666, p[1]);
	}
	close(p[1]);
	if (read(p[0], &x, 1) != 1)
		return -1;
	close(p[0]);
	*state = s;
	return 0;
}

static int server_teardown(void **state)
{
	struct server *s = *state;
	char path[160];
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/results.jsonl", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/flashctl", s->dir);
	unlink(path);
	unlink(s->sock);
	rmdir(s->dir);
	free(s);
	return 0;
}

struct run {
	int status;
	char out[65536], err[4096];
};

static const char *flashctl_path(void)
{
	static char path[1024];
	const char *top = getenv("top_builddir");
	snprintf(path, sizeof(path), "%s/flashctl", top ? top : ".");
	return path;
}

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
}

/* flashctl's path for another uid: the build tree may sit below a folder
 * only root may enter (a clone in /root or a mktemp -d), so the binary is
 * copied next to the socket (the server's folder, 0755) for it. */
static const char *flashctl_for(uid_t uid, const char *socket)
{
	static char copy[160];
	char buf[65536];
	const char *slash = strrchr(socket, '/');
	ssize_t n;
	int in, out;

	if (!uid)
		return flashctl_path();
	assert_non_null(slash);
	snprintf(copy, sizeof(copy), "%.*s/flashctl", (int)(slash - socket), socket);
	if (access(copy, X_OK) == 0)
		return copy;
	in = open(flashctl_path(), O_RDONLY | O_CLOEXEC);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(close(out), 0);
	return copy;
}

/* Run flashctl with args (as uid when uid != 0) on socket; collect its output. */
static void run_as(struct run *r, const char *socket, uid_t uid, const char *const *args)
{
	int out[2], err[2];
	char *argv[16] = { "flashctl", "--socket", (char *)socket };
	int argc = 3;

	const char *bin = flashctl_for(uid, socket);

	for (; args[argc - 3]; argc++)
		argv[argc] = (char *)args[argc - 3];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (uid && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
			_exit(99);
		execv(bin, argv);
		_exit(98);
	}
	close(out[1]);
	close(err[1]);
	read_all(out[0], r->out, sizeof(r->out));
	read_all(err[0], r->err, sizeof(r->err));
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	assert_true(WIFEXITED(r->status));
	r->status = WEXITSTATUS(r->status);
}

static struct run *run(struct server *s, const char *const *args)
{
	static struct run r;
	run_as(&r, s->sock, 0, args);
	return &r;
}

/* flashctl args: its exit status, and a line of its output (NULL: not checked) */
static struct run *run_ok(struct server *s, const char *const *args, const char *line)
{
	struct run *r = run(s, args);

	assert_int_equal(r->status, 0);
	if (line)
		contains(r->out, line);
	return r;
}

static void test_bin_queries(void **state)
{
	struct server *s = *state;
	struct run *r;

	r = run_ok(s, ARGS("status"), "station running, plan /etc/flashd/full.lst");
	contains(r->out, "1-1   fastboot  6/7 flash rootfs rootfs.ext4");
	assert_string_equal(r->err, "");
	r = run_ok(s, ARGS("status", "--json"), NULL);
	json_t *j = json_loads(r->out, 0, NULL);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_array_size(json_object_get(j, "ports")), 2);
	json_decref(j);
	assert_non_null(strchr(r->out, '\n'));
	assert_ptr_equal(strchr(r->out, '\n'), r->out + strlen(r->out) - 1);
	run_ok(s, ARGS("history"), "1-2   failed  0a1b   1:23  1.50 GB  flash rootfs: timeout");
	r = run(s, ARGS("history", "--result", "ok", "--json"));
	j = json_loads(r->out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
	json_decref(j);
	r = run(s, ARGS("history", "--port", "7-7"));
	assert_string_equal(r->out, "no results\n");
	/* pages: the hint names the next page's cursor, which gives it */
	r = run_ok(s, ARGS("history", "--limit", "1"), "1-2   failed");
	assert_null(strstr(r->out, "1-1 "));
	assert_string_equal(r->err, "older records: the same command with --before 2\n");
	r = run_ok(s, ARGS("history", "--limit", "1", "--before", "2"), "1-1   ok");
	assert_null(strstr(r->out, "1-2 "));
	assert_string_equal(r->err, "");
	r = run_ok(s, ARGS("history", "--after", "1", "--json"), NULL);
	j = json_loads(r->out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "records")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "newer")), 2);
	assert_true(json_is_integer(json_object_get(j, "older")));
	json_decref(j);
	run_ok(s, ARGS("plans"), "default plan: /p/full.lst");
	r = run_ok(s, ARGS("stats"), NULL);
	assert_string_equal(r->out, "up 1:02:03, 4 ports, 1 busy\n"
				    "boards: 4 (3 ok, 1 failed, 0 boot-loop, 0 aborted)\n"
				    "bytes written: 123 MB\n\n"
				    "STEP          COUNT  AVERAGE  MIN   MAX   TOTAL\n"
				    "flash rootfs  3      1:23     1:20  1:26  4:09\n");
	run_ok(s, ARGS("--version"), "control protocol 1");
	run_ok(s, ARGS("--help"), "history [--port PORT]");
}

static void test_bin_operations(void **state)
{
	struct server *s = *state;
	struct run *r;

	const char *const *ok[] = {
		ARGS("pause"), ARGS("resume"), ARGS("reload"), ARGS("abort", "1-1"),
		ARGS("retry", "1-1"), ARGS("use", "/p/x.lst", "1-1", "1-2"),
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = run(s, ok[i]);
		assert_int_equal(r->status, 0);
		assert_string_equal(r->out, "");
		assert_string_equal(r->err, "");
	}
	r = run(s, ARGS("pause", "--json"));
	assert_string_equal(r->out, "{\"id\":1,\"ok\":true}\n");
	/* an error reply: code and message, exit 1 */
	r = run(s, ARGS("abort", "9-9"));
	assert_int_equal(r->status, 1);
	assert_string_equal(r->err, "flashctl: not-found: no port 9-9\n");
	/* usage: exit 2, nothing sent */
	r = run(s, ARGS("abort"));
	assert_int_equal(r->status, 2);
	contains(r->err, "flashctl: abort: missing PORT");
	r = run(s, ARGS("bogus"));
	assert_int_equal(r->status, 2);
}

static void test_bin_connect_errors(void **state)
{
	struct server *s = *state;
	struct run r;
	char path[160];

	snprintf(path, sizeof(path), "%s/nothere.sock", s->dir);
	run_as(&r, path, 0, ARGS("status"));
	assert_int_equal(r.status, 3);
	char want[300];
	snprintf(want, sizeof(want),
		 "flashctl: cannot connect to %s: No such file or directory — is flashd "
		 "running?\n",
		 path);
	assert_string_equal(r.err, want);
	/* something that is not flashd: a socket that says nonsense */
	snprintf(path, sizeof(path), "%s/other.sock", s->dir);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	pid_t pid = fork();
	if (pid == 0) {
		int c = accept(l, NULL, NULL);
		if (write(c, "{\"hello\":\"flashd\",\"protocol\":2}\n", 32) < 0)
			_exit(1);
		c = accept(l, NULL, NULL);
		if (write(c, "SSH-2.0-OpenSSH\n", 16) < 0)
			_exit(1);
		c = accept(l, NULL, NULL);
		_exit(0); /* closes without a word */
	}
	run_as(&r, path, 0, ARGS("status"));
	assert_int_equal(r.status, 1);
	contains(r.err, "speaks control protocol 2, this flashctl protocol 1");
	run_as(&r, path, 0, ARGS("status"));
	assert_int_equal(r.status, 1);
	contains(r.err, "not a JSON line");
	run_as(&r, path, 0, ARGS("status"));
	assert_int_equal(r.status, 3);
	contains(r.err, "connection closed by flashd");
	waitpid(pid, NULL, 0);
	close(l);
	unlink(path);
}

static void test_bin_permissions(void **state)
{
	struct server *s = *state;
	struct run r;

	if (geteuid() != 0)
		skip();
	/* the socket is 0666 here: nobody may query, not operate */
	run_as(&r, s->sock, 65534, ARGS("status"));
	assert_int_equal(r.status, 0);
	run_as(&r, s->sock, 65534, ARGS("pause"));
	assert_int_equal(r.status, 4);
	assert_string_equal(r.err, "flashctl: permission-denied: pause: needs root or the admin "
				   "group\n");
	/* a socket nobody may not open */
	chmod(s->sock, 0660);
	run_as(&r, s->sock, 65534, ARGS("status"));
	chmod(s->sock, 0666);
	assert_int_equal(r.status, 4);
	contains(r.err, "Permission denied — are you in the socket's group?");
}

static void test_bin_watch_json(void **state)
{
	struct server *s = *state;
	int out[2];
	char *argv[] = { "flashctl", "--socket", s->sock, "watch", NULL };

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		execv(flashctl_path(), argv);
		_exit(98);
	}
	close(out[1]);
	FILE *fp = fdopen(out[0], "r");
	char line[4096];
	int64_t last = -1;
	/* a pipe is not a tty: NDJSON, the snapshot first, then events in seq order */
	for (int i = 0; i < 8; i++) {
		assert_non_null(fgets(line, sizeof(line), fp));
		json_t *e = json_loads(line, 0, NULL);
		assert_non_null(e);
		assert_int_equal(ctlproto_classify(e), CTLPROTO_KIND_EVENT);
		const char *type = json_string_value(json_object_get(e, "event"));
		if (i == 0)
			assert_string_equal(type, "snapshot");
		int64_t seq = json_integer_value(json_object_get(e, "seq"));
		if (i > 0)
			assert_int_equal(seq, last + 1);
		last = seq;
		json_decref(e);
	}
	fclose(fp); /* flashctl's next write fails with EPIPE: it ends quietly */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_bin_watch_tty(void **state)
{
	struct server *s = *state;
	char *argv[] = { "flashctl", "--socket", s->sock, "watch", NULL };
	struct winsize ws = { .ws_row = 30, .ws_col = 130 };
	int master;

	pid_t pid = forkpty(&master, NULL, NULL, &ws);
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("NO_COLOR", "1", 1);
		execv(flashctl_path(), argv);
		_exit(98);
	}
	char buf[65536] = "";
	size_t n = 0;
	bool seen = false;
	for (int i = 0; i < 1000 && !seen; i++) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 20) > 0) {
			ssize_t r = read(master, buf + n, sizeof(buf) - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			buf[n] = 0;
		}
		seen = strstr(buf, "info: tick") && strstr(buf, "\033[3A\r") &&
		       strstr(buf, "[#") && strstr(buf, "20.0 MB/s");
	}
	kill(pid, SIGINT);
	waitpid(pid, NULL, 0);
	close(master);
	if (!seen)
		fail_msg("live view incomplete:\n%s", buf);
	contains(buf, "flashd running  plan /etc/flashd/full.lst  2 ports, 1 flashing");
	contains(buf, "6/7 flash rootfs");
	contains(buf, "20.0 MB/s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_queries),
		cmocka_unit_test(test_bin_operations),
		cmocka_unit_test(test_bin_connect_errors),
		cmocka_unit_test(test_bin_permissions),
		cmocka_unit_test(test_bin_watch_json),
		cmocka_unit_test(test_bin_watch_tty),
	};
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
