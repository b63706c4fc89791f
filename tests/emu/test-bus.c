/* test-bus: boards that share one USB bus (bus.c, --bus-group): the schedule in
 * shared memory, boards in separate processes interleaving on it, the group's
 * totals, and the segment's life (created by the first, unlinked by the last). */
#include "bus.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define TB_MAX_SLOTS 4096

/* slots recorded by the boards (child processes) in an anonymous shared mapping */
struct tb_record {
	struct bus_slot slot[TB_MAX_SLOTS];
	uint64_t bytes[TB_MAX_SLOTS];
	int board[TB_MAX_SLOTS];
	_Atomic unsigned n;
};

static void tb_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "test-bus-%s-%ld", what, (long)getpid());
}

static void tb_sleep(void *ctx, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool tb_exists(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/flashd-emu-bus-%s", name);
	fd = shm_open(path, O_RDONLY, 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static struct tb_record *tb_record_new(void)
{
	struct tb_record *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(r != MAP_FAILED);
	memset(r, 0, sizeof(*r));
	return r;
}

/* a board in its own process: join NAME at MBPS and take N chunks of BYTES,
 * sleeping through each slot as the emulator does (or only reserving, at once,
 * when SLEEP is false); its slots go to REC. Exits 0 when all went well. */
static pid_t tb_board(const char *name, unsigned mbps, int id, unsigned n, uint64_t bytes,
		      bool sleep, struct tb_record *rec)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct bus *bus;
		char err[256];

		if (bus_open(name, mbps, &bus, err, sizeof(err)) < 0)
			_exit(10);
		for (unsigned i = 0; i < n; i++) {
			uint64_t now = util_now_ns();
			struct bus_slot s;
			unsigned k;

			bus_reserve(bus, bytes, now, &s);
			k = atomic_fetch_add(&rec->n, 1);
			if (k >= TB_MAX_SLOTS)
				_exit(11);
			rec->slot[k] = s;
			rec->bytes[k] = bytes;
			rec->board[k] = id;
			if (sleep && s.end_ns > now)
				tb_sleep(NULL, s.end_ns - now);
		}
		bus_free(bus);
		_exit(0);
	}
	return pid;
}

static void tb_wait(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int tb_cmp_slot(const void *a, const void *b)
{
	const struct bus_slot *x = a, *y = b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* the slots of REC never overlap, each lasts its bytes at MBPS (rounded up), and
 * up to any slot's end the group took no more than MBPS allows since the first
 * slot began: the schedule never runs ahead of its budget */
static void tb_check_schedule(struct tb_record *rec, unsigned mbps)
{
	unsigned n = atomic_load(&rec->n);
	struct bus_slot *s = malloc(n * sizeof(*s));
	uint64_t done = 0;

	assert_non_null(s);
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = (rec->bytes[i] * 1000u + mbps - 1) / mbps;

		assert_int_equal(rec->slot[i].end_ns - rec->slot[i].start_ns, want);
	}
	memcpy(s, rec->slot, n * sizeof(*s));
	qsort(s, n, sizeof(*s), tb_cmp_slot);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			assert_true(s[i].start_ns >= s[i - 1].end_ns);
		/* all chunks are the same size in these tests */
		done += rec->bytes[0];
		assert_true(done * 1000u <= (s[i].end_ns - s[0].start_ns) * mbps);
	}
	free(s);
}

static void test_bus_names(void **state)
{
	char name[96], err[256];
	struct bus *a, *b;

	(void)state;
	assert_true(bus_name_valid("line-1.hub_2"));
	assert_false(bus_name_valid(""));
	assert_false(bus_name_valid(NULL));
	assert_false(bus_name_valid("a/b"));
	assert_false(bus_name_valid("a b"));
	memset(name, 'x', 63);
	name[63] = '\0';
	assert_true(bus_name_valid(name));
	name[63] = 'x';
	name[64] = '\0';
	assert_false(bus_name_valid(name));
	assert_int_equal(bus_open(name, 8, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bus group name"));

	tb_name(name, sizeof(name), "names");
	assert_int_equal(bus_open(name, 0, &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bus rate: 1..100000 MB/s");
	assert_int_equal(bus_open(name, BUS_MBPS_MAX + 1, &a, err, sizeof(err)), -EINVAL);
	assert_false(tb_exists(name));
	assert_int_equal(bus_open(name, 53, &a, err, sizeof(err)), 0);
	assert_string_equal(bus_name(a), name);
	/* a board that asks the group for another rate is refused */
	assert_int_equal(bus_open(name, 40, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "runs at 53 MB/s, not 40"));
	assert_true(tb_exists(name)); /* the refused one did not take it away */
	assert_int_equal(bus_open(name, 53, &b, err, sizeof(err)), 0);
	bus_free(b);
	bus_free(a);
	assert_false(tb_exists(name));
}

/* the schedule itself: slots back to back behind each other, idle time not made
 * up for, the totals */
static void test_bus_schedule(void **state)
{
	struct bus_stats st;
	struct bus_slot s;
	struct bus *bus;
	char name[96], err[256];
	uint64_t t0 = util_now_ns() + 1000000000u;

	(void)state;
	tb_name(name, sizeof(name), "sched");
	assert_int_equal(bus_open(name, 8, &bus, err, sizeof(err)), 0);
	/* 8 MB/s: 1 MB takes 125 ms; three at the same instant queue up */
	for (unsigned i = 0; i < 3; i++) {
		bus_reserve(bus, 1000000, t0, &s);
		assert_int_equal(s.start_ns, t0 + i * 125000000ull);
		assert_int_equal(s.end_ns, t0 + (i + 1) * 125000000ull);
	}
	/* a chunk asked for in the middle of the queue waits for its end */
	bus_reserve(bus, 1000, t0 + 200000000u, &s);
	assert_int_equal(s.start_ns, t0 + 375000000ull);
	assert_int_equal(s.end_ns, t0 + 375000000ull + 125000);
	/* the bus sat idle: that time is gone */
	bus_reserve(bus, 1, t0 + 5000000000ull, &s);
	assert_int_equal(s.start_ns, t0 + 5000000000ull);
	assert_int_equal(s.end_ns, t0 + 5000000000ull + 125); /* 125 ns, rounded up */
	bus_stats(bus, &st);
	assert_int_equal(st.mbps, 8);
	assert_int_equal(st.bytes, 3000000 + 1000 + 1);
	assert_int_equal(st.busy_ns, 375000000ull + 125000 + 125);
	assert_int_equal(st.chunks, 5);
	assert_int_equal(st.wait_ns, 125000000ull + 250000000ull + 175000000ull);
	bus_free(bus);
	assert_false(tb_exists(name));
}

/* two boards (processes) in one group take twice the bytes of one board alone in
 * at least twice the time of one, interleaving chunk by chunk */
static void test_bus_two_boards(void **state)
{
	const unsigned mbps = 50, n = 20;
	const uint64_t chunk = 256u << 10;
	const uint64_t one = n * ((chunk * 1000u + mbps - 1) / mbps); /* ns */
	struct tb_record *rec = tb_record_new();
	struct bus_stats st;
	struct bus *probe;
	char name[96], err[256];
	uint64_t first_end[2] = { UINT64_MAX, UINT64_MAX }, last_start[2] = { 0, 0 };
	uint64_t t, alone, both;
	pid_t p0, p1;

	(void)state;
	tb_name(name, sizeof(name), "two");
	t = util_now_ns();
	tb_wait(tb_board(name, mbps, 0, n, chunk, true, rec));
	alone = util_now_ns() - t;
	assert_true(alone >= one);
	assert_false(tb_exists(name)); /* the board left: the segment went with it */

	memset(rec, 0, sizeof(*rec));
	/* the test holds the group too, to read its totals afterwards */
	assert_int_equal(bus_open(name, mbps, &probe, err, sizeof(err)), 0);
	t = util_now_ns();
	p0 = tb_board(name, mbps, 0, n, chunk, true, rec);
	p1 = tb_board(name, mbps, 1, n, chunk, true, rec);
	tb_wait(p0);
	tb_wait(p1);
	both = util_now_ns() - t;
	print_message("one board: %llu ms for %llu bytes; two boards: %llu ms for twice that "
		      "(the budget's time: %llu ms each)\n",
		      (unsigned long long)(alone / 1000000u), (unsigned long long)(n * chunk),
		      (unsigned long long)(both / 1000000u), (unsigned long long)(one / 1000000u));
	assert_true(both >= 2 * one);
	assert_true(both > alone);
	tb_check_schedule(rec, mbps);
	bus_stats(probe, &st);
	assert_int_equal(st.bytes, 2 * n * chunk);
	assert_int_equal(st.busy_ns, 2 * one);
	assert_int_equal(st.chunks, 2 * n);
	assert_true(st.wait_ns > 0);
	/* interleaved: each board had slots before the other's last one */
	for (unsigned i = 0; i < atomic_load(&rec->n); i++) {
		int b = rec->board[i];

		if (rec->slot[i].end_ns < first_end[b])
			first_end[b] = rec->slot[i].end_ns;
		if (rec->slot[i].start_ns > last_start[b])
			last_start[b] = rec->slot[i].start_ns;
	}
	assert_true(first_end[0] <= last_start[1]);
	assert_true(first_end[1] <= last_start[0]);
	bus_free(probe);
	assert_false(tb_exists(name));
	munmap(rec, sizeof(*rec));
}

/* four processes hammer the compare-and-swap with no sleep: every reservation
 * gets its own slot, none lost, none overlapping, none ahead of the budget */
static void test_bus_contention(void **state)
{
	const unsigned mbps = 53, n = 800;
	struct tb_record *rec = tb_record_new();
	struct bus_stats st;
	struct bus *probe;
	char name[96], err[256];
	pid_t p[4];

	(void)state;
	tb_name(name, sizeof(name), "cas");
	assert_int_equal(bus_open(name, mbps, &probe, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		p[i] = tb_board(name, mbps, i, n, 4096, false, rec);
	for (int i = 0; i < 4; i++)
		tb_wait(p[i]);
	assert_int_equal(atomic_load(&rec->n), 4 * n);
	tb_check_schedule(rec, mbps);
	bus_stats(probe, &st);
	assert_int_equal(st.bytes, 4ull * n * 4096);
	assert_int_equal(st.chunks, 4 * n);
	assert_int_equal(st.busy_ns, 4ull * n * ((4096u * 1000u + mbps - 1) / mbps));
	bus_free(probe);
	munmap(rec, sizeof(*rec));
}

/* bus_take: sleeps until its slot ends, behind what the group had reserved */
static void test_bus_take(void **state)
{
	struct bus_slot s;
	struct bus *bus;
	char name[96], err[256];
	uint64_t t0, end;

	(void)state;
	tb_name(name, sizeof(name), "take");
	assert_int_equal(bus_open(name, 10, &bus, err, sizeof(err)), 0);
	t0 = util_now_ns();
	bus_reserve(bus, 500000, t0, &s); /* another board holds the bus for 50 ms */
	end = bus_take(bus, 500000, tb_sleep, NULL);
	assert_int_equal(end, s.end_ns + 50000000u);
	assert_true(util_now_ns() >= end);
	assert_true(util_now_ns() - t0 >= 100000000u);
	bus_free(bus);
}

/* the segment lives while one member has it; a stale name is never reused half-way */
static void test_bus_lifetime(void **state)
{
	struct bus_stats st;
	struct bus_slot s;
	struct bus *a, *b;
	char name[96], err[256];

	(void)state;
	tb_name(name, sizeof(name), "life");
	assert_int_equal(bus_open(name, 20, &a, err, sizeof(err)), 0);
	assert_int_equal(bus_open(name, 20, &b, err, sizeof(err)), 0);
	bus_reserve(a, 2000, util_now_ns(), &s);
	bus_free(a);
	assert_true(tb_exists(name)); /* b still uses it */
	bus_stats(b, &st);
	assert_int_equal(st.bytes, 2000);
	bus_free(b);
	assert_false(tb_exists(name));
	/* a new batch starts from zero */
	assert_int_equal(bus_open(name, 30, &a, err, sizeof(err)), 0);
	bus_stats(a, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.mbps, 30);
	/* bus_unlink() takes the name away from under it: the next one starts afresh */
	assert_int_equal(bus_unlink(name), 0);
	assert_int_equal(bus_unlink(name), -ENOENT);
	assert_int_equal(bus_unlink("a/b"), -EINVAL);
	assert_int_equal(bus_open(name, 40, &b, err, sizeof(err)), 0);
	bus_free(a); /* its segment was unlinked: it leaves b's new one alone */
	assert_true(tb_exists(name));
	bus_stats(b, &st);
	assert_int_equal(st.mbps, 40);
	bus_free(b);
	assert_false(tb_exists(name));
}

/* a failed test leaves its segment behind: remove them all (the names hold our pid) */
static int tb_cleanup(void **state)
{
	static const char *const what[] = { "names", "sched", "two", "cas", "take", "life" };
	char name[96];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(what); i++) {
		tb_name(name, sizeof(name), what[i]);
		(void)bus_unlink(name);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_names),
		cmocka_unit_test(test_bus_schedule),
		cmocka_unit_test(test_bus_two_boards),
		cmocka_unit_test(test_bus_contention),
		cmocka_unit_test(test_bus_take),
		cmocka_unit_test(test_bus_lifetime),
	};

	return cmocka_run_group_tests(tests, NULL, tb_cleanup);
}
