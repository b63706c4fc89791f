/* test-flashd-bin: the flashd binary (built by `all`) under a low file
 * descriptor limit (issue 11, defect 5): it raises its soft limit to the
 * hard one at start, and when descriptors run out anyway (more clients
 * than descriptors) it neither spins nor floods its log, and serves again
 * once descriptors are free. No boards: flashd runs with no plan. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

struct daemon {
	char dir[64], sock[128], conf[128], log[128];
	pid_t pid;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int try_connect(const char *path, bool nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Start flashd with RLIMIT_NOFILE soft/hard and these extra settings;
 * returns once its socket answers. */
static void start(struct daemon *d, rlim_t soft, rlim_t hard, const char *extra)
{
	struct group *g = getgrgid(getegid());
	const char *top = getenv("top_builddir");
	char bin[1024];
	FILE *f;

	snprintf(d->dir, sizeof(d->dir), "/tmp/test-flashd-bin.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->sock, sizeof(d->sock), "%s/flashd.sock", d->dir);
	snprintf(d->conf, sizeof(d->conf), "%s/flashd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	snprintf(bin, sizeof(bin), "%s/flashd", top ? top : ".");
	assert_non_null(g);
	f = fopen(d->conf, "w");
	assert_non_null(f);
	fprintf(f, "socket = %s\njournal = %s/results.jsonl\nsocket-group = %s\nadmin-group =\n%s",
		d->sock, d->dir, g->gr_name, extra);
	fclose(f);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		struct rlimit rl = { soft, hard };
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(126);
		execl(bin, "flashd", "-c", d->conf, (char *)NULL);
		_exit(127);
	}
	for (int64_t end = now_ms() + 10000; now_ms() < end; usleep(20000)) {
		int fd = try_connect(d->sock, false);
		if (fd >= 0) {
			close(fd);
			return;
		}
		assert_int_equal(waitpid(d->pid, NULL, WNOHANG), 0); /* still running */
	}
	fail_msg("flashd did not start; see %s", d->log);
}

static void stop(struct daemon *d)
{
	char cmd[128];
	int status;

	kill(d->pid, SIGTERM);
	assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
	assert_true(WIFEXITED(status));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->dir);
	assert_int_equal(system(cmd), 0);
}

/* utime + stime of the process, in ms (/proc/PID/stat fields 14 and 15). */
static int64_t cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	const char *p = strrchr(buf, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				&st), 2);
	return (int64_t)(ut + st) * 1000 / sysconf(_SC_CLK_TCK);
}

static size_t log_lines(const struct daemon *d)
{
	FILE *f = fopen(d->log, "r");
	size_t n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_nofile_raised(void **state)
{
	struct daemon d;
	char path[64], line[256];
	unsigned long long soft = 0, hard = 0;
	FILE *f;

	start(&d, 256, 1024, "");
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)d.pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			assert_int_equal(sscanf(line + 14, "%llu %llu", &soft, &hard), 2);
	fclose(f);
	assert_int_equal(hard, 1024);
	assert_int_equal(soft, 1024);
	stop(&d);
}

/* Whether fd got its hello within ms. */
static bool got_hello(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return false;
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, "\"hello\":\"flashd\"") != NULL;
}

/* max-clients far above the descriptor limit: 60 clients for ~40 free
 * descriptors. Before the fix flashd spun at 100 % CPU and logged a line
 * per accept() try. */
static void test_emfile_storm(void **state)
{
	struct daemon d;
	int fds[60], extra;
	size_t lines;
	int64_t cpu, t0;

	start(&d, 48, 48, "max-clients = 200\nmax-clients-per-user = 200\nadmin-clients = 0\n");
	for (int i = 0; i < 60; i++) {
		fds[i] = try_connect(d.sock, true);
		assert_true(fds[i] >= 0);
	}
	usleep(300 * 1000); /* flashd takes what it can, then runs out */
	lines = log_lines(&d);
	cpu = cpu_ms(d.pid);
	t0 = now_ms();
	sleep(3);
	cpu = cpu_ms(d.pid) - cpu;
	lines = log_lines(&d) - lines;
	print_message("EMFILE storm: %lld ms CPU and %zu log lines in %lld ms\n", (long long)cpu,
		      lines, (long long)(now_ms() - t0));
	assert_true(cpu < 300);  /* a spinning loop takes ~3000 */
	assert_true(lines < 30); /* back-off and the log's rate limit */
	/* descriptors free again: the waiting clients are served */
	bool hello[60];
	int served = 0;
	for (int i = 0; i < 60; i++)
		served += hello[i] = got_hello(fds[i], 0);
	print_message("served before descriptors were freed: %d of 60\n", served);
	assert_in_range(served, 1, 40); /* it did run out */
	for (int i = 0; i < 40; i++)
		close(fds[i]);
	extra = try_connect(d.sock, true);
	assert_true(extra >= 0);
	for (int i = 40; i < 60; i++)
		assert_true(hello[i] || got_hello(fds[i], 3000));
	assert_true(got_hello(extra, 3000));
	close(extra);
	for (int i = 40; i < 60; i++)
		close(fds[i]);
	stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nofile_raised),
		cmocka_unit_test(test_emfile_storm),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
