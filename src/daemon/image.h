/* image: the daemon's opener of plan images (plan.h, struct plan_images).
 *
 * Opens the files a plan names, reads them once (SHA-256, the raw→sparse
 * block map, i.MX and sparse probes), decompresses compressed ones into
 * the cache, and shares an unchanged file's image between plans. Nothing is
 * ever mapped: an image SDP sends (PLAN_IMAGE_IN_MEMORY) is held in memory,
 * a copy the daemon owns, so the bytes sent are the bytes hashed; any other
 * image is read with pread when a board needs it, and each read checks that
 * the file is still the one that was hashed (device, inode, size, mtime,
 * ctime): a file truncated or rewritten since the plan was loaded fails the
 * board's step with -ESTALE instead of killing the daemon with SIGBUS or
 * sending bytes the journal's hash does not describe. */
#ifndef FLASHD_DAEMON_IMAGE_H
#define FLASHD_DAEMON_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/plan.h"

/* an image held in memory (what SDP/SDPU/SDPV send) is at most this big */
#define IMAGE_MEM_MAX (256ull << 20)

struct image_opts {
	const char *cache_dir;    /* decompressed images (created if missing); NULL:
				   * compressed images are refused */
	uint64_t max_payload;     /* largest decompressed image; 0: 256 GiB */
	/* now and then while an image is hashed or decompressed: bytes of file
	 * (as written in the plan) done of total; called on the loading thread */
	void (*progress)(void *ud, const char *file, uint64_t done, uint64_t total);
	void *ud;
	/* images of these plans are reused, not read again, when their file is
	 * unchanged (same device, inode, size, mtime and ctime): a reload with
	 * unchanged images costs no hashing and no second file descriptor. The
	 * caller keeps the plans alive during the load. */
	struct plan *const *reuse;
	size_t nreuse;
	/* the pools of flashd.conf that the plan's ${pool:…} variables may name
	 * (plan_bind_pools after the load; none: a plan using one is refused),
	 * unless pools_later: the caller binds them itself (`use` does, on the
	 * loop, with the configuration in force when the plan takes effect) */
	const struct pool_def *pools;
	size_t npools;
	bool pools_later;
};

/* The opener over o (o must outlive the loads that use it). */
struct plan_images image_opener(const struct image_opts *o);

/* plan_load with the opener over o (NULL: no cache, no reuse, no pools),
 * then plan_bind_pools with o's pools (unless o->pools_later). */
int image_plan_load(const char *path, const char *const *args, size_t nargs, const struct image_opts *o,
		    struct plan **out, char *err, size_t errlen);

/* 0 when img can be sent as hashed: held in memory, or its file is still
 * the one that was read at load; -ESTALE when not; -errno if fstat fails. */
int image_fresh(const struct plan_image *img);

/* What a failed read of an image (imgsrc) means, for a step's reason:
 * "changed since the plan was loaded" for -ESTALE, else strerror. */
const char *image_read_error(int err);

#endif
