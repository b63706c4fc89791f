/* bus: boards that share one USB bus (issue 15). Every flashd-emu process started
 * with the same --bus-group NAME maps one POSIX shared-memory segment,
 * "/flashd-emu-bus-NAME", that holds the bus's schedule: the CLOCK_MONOTONIC time
 * up to which the bus is reserved. A chunk of B bytes reserves the slot
 * [max(now, busy until), + B / rate) with a compare-and-swap and its board sleeps
 * until the slot ends, so the group together never takes more than --bus-mbps and
 * boards that download at once interleave chunk by chunk, as a host controller
 * round-robins between the active bulk endpoints of one bus. Time the bus sat idle
 * is not made up for later.
 *
 * The segment lives while one process has it open: each holds a shared flock() on
 * it; the last one to leave (its exclusive flock succeeds) unlinks it, so the next
 * batch starts with zero totals. A process that opened the name just before that
 * unlink sees the segment's link count at 0 once it has its lock and opens the name
 * again (a new segment). A killed board releases its lock with its file. */
#ifndef EMU_BUS_H
#define EMU_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_NAME_MAX 64
#define BUS_MBPS_MAX 100000u

struct bus;

/* the group's totals since its segment was created */
struct bus_stats {
	unsigned mbps;    /* the group's budget (10^6 bytes/s) */
	uint64_t bytes;   /* data the group's boards took */
	uint64_t busy_ns; /* sum of the reserved slots: bytes / rate */
	uint64_t chunks;  /* reservations */
	uint64_t wait_ns; /* time chunks waited behind slots reserved before them */
};

/* one chunk's slot on the bus */
struct bus_slot {
	uint64_t start_ns, end_ns;
};

/* a group name is 1..BUS_NAME_MAX-1 characters of [A-Za-z0-9._-] */
bool bus_name_valid(const char *name);
/* join group NAME at MBPS (1..BUS_MBPS_MAX), creating it if it does not exist;
 * -errno with ERR set (a group that runs at another rate is -EINVAL) */
int bus_open(const char *name, unsigned mbps, struct bus **out, char *err, size_t errlen);
/* leave the group; the last to leave unlinks the segment */
struct bus *bus_free(struct bus *bus);
/* reserve the slot of BYTES at time NOW (CLOCK_MONOTONIC ns) and count it */
void bus_reserve(struct bus *bus, uint64_t bytes, uint64_t now, struct bus_slot *slot);
/* sleep NS nanoseconds (the board makes it interruptible) */
typedef void (*bus_sleep_fn)(void *ctx, uint64_t ns);
/* reserve BYTES now and sleep until the slot ends; the slot's end */
uint64_t bus_take(struct bus *bus, uint64_t bytes, bus_sleep_fn sleep, void *ctx);
void bus_stats(const struct bus *bus, struct bus_stats *s);
const char *bus_name(const struct bus *bus);
/* remove group NAME's segment whoever uses it (tests clean up after themselves) */
int bus_unlink(const char *name);

#endif
