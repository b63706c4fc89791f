/* bussched: fastboot downloads scheduled per USB bus (issue 15).
 *
 * Boards behind one high-speed root hub share one 480 Mbit/s bus (about
 * 53 MB/s of bulk data), and U-Boot's fastboot never overlaps a download
 * with the eMMC write that follows it (download, then flash). When every
 * board downloads at once they all crawl at 53/N MB/s and then all write
 * while the bus idles; one download at a time per bus, with the others
 * writing meanwhile, keeps the bus busy.
 *
 * Sans I/O: no clock reads (times are passed in), no callbacks. A request
 * (a handle, its bus key, its bytes) is granted at once or queued; when a
 * download ends or a request is cancelled (bussched_release) the next ones
 * are granted, and the caller collects them with bussched_granted. At most
 * max_active downloads hold a slot on one bus; buses never affect each
 * other. Order: first come first served, or the fewest remaining bytes
 * first; either way a request that has seen starve_grants grants go to
 * others, or has waited starve_ms, goes first (the oldest of those first),
 * so a request is granted after at most starve_grants + (requests waiting
 * on its bus when it came) grants on that bus. */
#ifndef FLASHD_BUSSCHED_H
#define FLASHD_BUSSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUSSCHED_KEY_MAX 48u        /* bytes in a bus key, with the NUL */
#define BUSSCHED_ACTIVE_MAX 16u     /* max_active */
#define BUSSCHED_REQUESTS_MAX 4096u /* requests (waiting and active), all buses */

enum bussched_order {
	BUSSCHED_ORDER_FIFO,         /* first come, first served */
	BUSSCHED_ORDER_SHORTEST,     /* fewest bytes first (ties: first come) */
	_BUSSCHED_ORDER_MAX,
};

struct bussched_cfg {
	unsigned max_active;         /* downloads holding a slot per bus: 1..BUSSCHED_ACTIVE_MAX */
	enum bussched_order order;
	unsigned starve_grants;      /* passed over this many times: goes first; 0 = no bound */
	uint64_t starve_ms;          /* waiting this long: goes first; 0 = no bound */
};

struct bussched;

const char *bussched_order_to_string(enum bussched_order o);
/* "fifo", "shortest": 0, or -EINVAL. */
int bussched_order_from_string(const char *s, enum bussched_order *o);

/* -EINVAL for a bad cfg, -ENOMEM. */
int bussched_new(const struct bussched_cfg *cfg, struct bussched **out);
struct bussched *bussched_free(struct bussched *s);
/* New rules for what comes next (a slot freed, a request made); the
 * requests already granted keep their slots; a larger max_active grants at
 * once (collect with bussched_granted). -EINVAL for a bad cfg. */
int bussched_set_cfg(struct bussched *s, const struct bussched_cfg *cfg, uint64_t now_ms);

/* Handle h (not NULL, one request at a time) asks for a download slot on
 * bus (a key of 1 to BUSSCHED_KEY_MAX - 1 bytes) for bytes (what it has left
 * to download: the order's measure). 1: granted now; 0: queued (a later
 * bussched_granted gives h); -EBUSY h has a request already, -EINVAL a bad
 * argument, -ENOSPC BUSSCHED_REQUESTS_MAX requests, -ENOMEM. */
int bussched_request(struct bussched *s, const char *bus, void *h, uint64_t bytes,
		     uint64_t now_ms);
/* h's download ended, or h no longer wants one: its slot (or its place in
 * the queue, or a grant not collected yet) is given up, and the requests
 * that can go now are granted. 0, or -ENOENT when h has no request. */
int bussched_release(struct bussched *s, void *h, uint64_t now_ms);
/* The next handle granted by a release, oldest first: true and *h, or false. */
bool bussched_granted(struct bussched *s, void **h);

/* h's state: 1 holds a slot (granted), 0 waits, -ENOENT no request. */
int bussched_state(const struct bussched *s, const void *h);
/* On h's bus: requests ahead of h in the queue (as the order stands at now_ms),
 * or -ENOENT. 0 when h holds a slot. */
int bussched_ahead(const struct bussched *s, const void *h, uint64_t now_ms);
/* Requests waiting / holding a slot on bus (0 for an unknown bus). */
size_t bussched_waiting(const struct bussched *s, const char *bus);
size_t bussched_active(const struct bussched *s, const char *bus);

/* The bus key of a sysfs port path: "usb" + its bus number ("3-1.4.2" →
 * "usb3": every port under a root hub shares that bus). 0, or -EINVAL for
 * a name that does not start with "<digits>-". */
int bussched_port_bus(const char *port, char *out, size_t outlen);

#endif
