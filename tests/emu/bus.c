/* bus: see bus.h */
#include "bus.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUS_PREFIX "/flashd-emu-bus-"
#define BUS_MAGIC 0x73756266u /* "fbus" */
#define BUS_VERSION 1u
#define BUS_OPEN_TRIES 100
#define BUS_INIT_WAIT_MS 1000
#define BUS_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* the processes of a group share this through the mapping: lock-free atomics only */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
	       "the bus schedule needs lock-free 32- and 64-bit atomics");

enum bus_state { BUS_FRESH = 0, BUS_INITIALISING = 1, BUS_READY = 2 };

/* the segment; ftruncate() gives it zero-filled (BUS_FRESH) */
struct bus_shm {
	_Atomic uint32_t state; /* enum bus_state: the first process initialises */
	uint32_t magic, version;
	uint32_t mbps;                  /* the group's budget, set once */
	_Atomic uint64_t busy_until_ns; /* CLOCK_MONOTONIC: the bus is reserved up to here */
	_Atomic uint64_t bytes;
	_Atomic uint64_t busy_ns;
	_Atomic uint64_t chunks;
	_Atomic uint64_t wait_ns;
};

struct bus {
	char name[BUS_NAME_MAX];
	char path[sizeof(BUS_PREFIX) + BUS_NAME_MAX];
	int fd;
	struct bus_shm *shm;
};

static int bus_err(char *err, size_t len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bus_err(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return r;
}

bool bus_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n && n < BUS_NAME_MAX && strspn(name, BUS_NAME_CHARS) == n;
}

static void bus_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s%s", BUS_PREFIX, name);
}

/* the segment of PATH, open with a shared lock and not unlinked by a leaving
 * process meanwhile; -errno */
static int bus_open_locked(const char *path)
{
	for (int i = 0; i < BUS_OPEN_TRIES; i++) {
		int fd = shm_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		struct stat st;

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		if (st.st_nlink > 0)
			return fd;
		close(fd); /* the last user unlinked it before we had our lock */
	}
	return -EAGAIN;
}

/* the first process sets the segment up; the others wait until it is ready */
static int bus_init(struct bus_shm *s, unsigned mbps)
{
	uint32_t fresh = BUS_FRESH;
	struct timespec ms = { 0, 1000000 };

	if (atomic_compare_exchange_strong(&s->state, &fresh, BUS_INITIALISING)) {
		s->magic = BUS_MAGIC;
		s->version = BUS_VERSION;
		s->mbps = mbps;
		atomic_store(&s->busy_until_ns, 0);
		atomic_store(&s->state, BUS_READY);
		return 0;
	}
	for (int i = 0; i < BUS_INIT_WAIT_MS && atomic_load(&s->state) != BUS_READY; i++)
		nanosleep(&ms, NULL);
	return atomic_load(&s->state) == BUS_READY ? 0 : -ETIMEDOUT;
}

int bus_open(const char *name, unsigned mbps, struct bus **out, char *err, size_t errlen)
{
	struct bus *bus;
	struct stat st;
	int r;

	if (!bus_name_valid(name))
		return bus_err(err, errlen, -EINVAL, "bus group name: 1..%d characters of %s",
			       BUS_NAME_MAX - 1, "A-Z a-z 0-9 . _ -");
	if (!mbps || mbps > BUS_MBPS_MAX)
		return bus_err(err, errlen, -EINVAL, "bus rate: 1..%u MB/s", BUS_MBPS_MAX);
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return bus_err(err, errlen, -ENOMEM, "out of memory");
	snprintf(bus->name, sizeof(bus->name), "%s", name);
	bus_path(bus->path, sizeof(bus->path), name);
	bus->fd = bus_open_locked(bus->path);
	if (bus->fd < 0) {
		r = bus->fd;
		bus_err(err, errlen, r, "bus group %s: shm_open %s: %s", name, bus->path,
			strerror(-r));
		goto fail;
	}
	/* sizing it twice (two first processes) is harmless: same size, zero fill */
	if (fstat(bus->fd, &st) < 0 ||
	    ((size_t)st.st_size < sizeof(struct bus_shm) &&
	     ftruncate(bus->fd, (off_t)sizeof(struct bus_shm)) < 0)) {
		r = -errno;
		bus_err(err, errlen, r, "bus group %s: sizing %s: %s", name, bus->path,
			strerror(-r));
		goto fail;
	}
	bus->shm = mmap(NULL, sizeof(struct bus_shm), PROT_READ | PROT_WRITE, MAP_SHARED, bus->fd,
			0);
	if (bus->shm == MAP_FAILED) {
		r = -errno;
		bus->shm = NULL;
		bus_err(err, errlen, r, "bus group %s: mmap: %s", name, strerror(-r));
		goto fail;
	}
	if ((r = bus_init(bus->shm, mbps)) < 0) {
		bus_err(err, errlen, r, "bus group %s: %s never got initialised", name, bus->path);
		goto fail;
	}
	if (bus->shm->magic != BUS_MAGIC || bus->shm->version != BUS_VERSION) {
		r = bus_err(err, errlen, -EINVAL,
			    "bus group %s: %s is not a flashd-emu bus (version %u)", name, bus->path,
			    BUS_VERSION);
		goto fail;
	}
	if (bus->shm->mbps != mbps) {
		r = bus_err(err, errlen, -EINVAL, "bus group %s runs at %u MB/s, not %u", name,
			    bus->shm->mbps, mbps);
		goto fail;
	}
	*out = bus;
	return 0;
fail:
	bus_free(bus);
	return r;
}

static bool bus_linked(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_nlink > 0;
}

struct bus *bus_free(struct bus *bus)
{
	if (!bus)
		return NULL;
	if (bus->shm)
		munmap(bus->shm, sizeof(struct bus_shm));
	/* nobody else holds it: unlink while we still hold the lock, so that a
	 * process that opened it meanwhile sees the link count at 0; a segment
	 * already unlinked (bus_unlink()) leaves the name to whoever has it now */
	if (bus->fd >= 0 && flock(bus->fd, LOCK_EX | LOCK_NB) == 0 && bus_linked(bus->fd))
		shm_unlink(bus->path);
	if (bus->fd >= 0)
		close(bus->fd);
	free(bus);
	return NULL;
}

void bus_reserve(struct bus *bus, uint64_t bytes, uint64_t now, struct bus_slot *slot)
{
	struct bus_shm *s = bus->shm;
	/* rounded up: the group never gets ahead of its budget */
	uint64_t cost = (bytes * 1000u + s->mbps - 1) / s->mbps; /* ns at 10^6 B/s per MB/s */
	uint64_t old = atomic_load(&s->busy_until_ns), start;

	do
		start = old > now ? old : now;
	while (!atomic_compare_exchange_weak(&s->busy_until_ns, &old, start + cost));
	atomic_fetch_add(&s->bytes, bytes);
	atomic_fetch_add(&s->busy_ns, cost);
	atomic_fetch_add(&s->chunks, 1);
	atomic_fetch_add(&s->wait_ns, start - now);
	slot->start_ns = start;
	slot->end_ns = start + cost;
}

uint64_t bus_take(struct bus *bus, uint64_t bytes, bus_sleep_fn sleep, void *ctx)
{
	uint64_t now = util_now_ns();
	struct bus_slot slot;

	bus_reserve(bus, bytes, now, &slot);
	if (slot.end_ns > now)
		sleep(ctx, slot.end_ns - now);
	return slot.end_ns;
}

void bus_stats(const struct bus *bus, struct bus_stats *st)
{
	struct bus_shm *s = bus->shm;

	st->mbps = s->mbps;
	st->bytes = atomic_load(&s->bytes);
	st->busy_ns = atomic_load(&s->busy_ns);
	st->chunks = atomic_load(&s->chunks);
	st->wait_ns = atomic_load(&s->wait_ns);
}

const char *bus_name(const struct bus *bus)
{
	return bus->name;
}

int bus_unlink(const char *name)
{
	char path[sizeof(BUS_PREFIX) + BUS_NAME_MAX];

	if (!bus_name_valid(name))
		return -EINVAL;
	bus_path(path, sizeof(path), name);
	return shm_unlink(path) < 0 ? -errno : 0;
}
