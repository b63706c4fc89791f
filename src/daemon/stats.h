/* stats: the station's statistics (the `stats` control command): boards
 * finished by result, bytes written, and per step text how often it ran
 * and how long it took, and the daemon's own resources (RSS, descriptors,
 * loop events). Knows nothing of the station; reads only /proc/self. */
#ifndef FLASHD_DAEMON_STATS_H
#define FLASHD_DAEMON_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "flashd/port.h"

#define STATS_STEPS_MAX 256u   /* distinct step texts kept; more are not counted */

struct stats_step {
	char *text;
	uint64_t count, total_ms, min_ms, max_ms;
};

struct stats {
	uint64_t ok, failed, boot_loop, aborted, bytes;
	struct stats_step *steps;
	size_t nsteps;
};

void stats_add_step(struct stats *s, const char *text, uint64_t ms);
/* A board finished with r (NONE counts as failed), having written bytes. */
void stats_add_result(struct stats *s, enum port_result r, uint64_t bytes);
/* The daemon's own resources, for a soak to watch them stay flat. */
struct stats_process {
	uint64_t rss_kib;       /* resident set (/proc/self/statm) */
	uint64_t fds;           /* open file descriptors (/proc/self/fd) */
	uint64_t loop_events;   /* events added to the loop: I/O, timers, signals */
};
/* rss_kib and fds of this process (0 where /proc cannot tell). */
void stats_process_read(struct stats_process *p);
/* Frees the step table; the counters stay. */
void stats_clear(struct stats *s);
/* {"uptime_ms","ports","busy","boards":{"ok","failed","boot-loop","aborted",
 * "total"},"bytes","steps":[{"step","count","total_ms","avg_ms","min_ms",
 * "max_ms"}]} (flashd-control(7)), new ref or NULL. */
json_t *stats_json(const struct stats *s, uint64_t uptime_ms, size_t ports, size_t busy,
		   const struct stats_process *proc);

#endif
