/* image_priv.h: what image.c (loading) and image_src.c (reading at send
 * time) share. */
#ifndef FLASHD_DAEMON_IMAGE_PRIV_H
#define FLASHD_DAEMON_IMAGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "flashd/plan.h"

struct image_box {
	struct plan_image img;  /* first: a plan_image pointer is a box pointer */
	/* the file named in the plan (compressed or not): the reuse key */
	struct stat named;
	/* not in memory: the file sends read (a compressed file's payload in
	 * the cache), and what it was when it was hashed */
	int fd;
	struct stat held;
	uint8_t *mem;           /* img.data when held in memory */
};
/* Same file, size, mtime and ctime. */
bool image_stat_same(const struct stat *a, const struct stat *b);
/* n bytes at off of fd: 0, -ESTALE when the file ends before, or -errno. */
int image_pread(int fd, uint64_t off, void *buf, size_t n);
/* imgsrc.read of an image not in memory (ud: its box). */
int image_src_read(void *ud, uint64_t off, void *buf, size_t n);

#endif
