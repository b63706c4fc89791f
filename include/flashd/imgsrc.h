/* imgsrc: where an image's bytes come from — memory, or a read function.
 *
 * The cores that look inside images (sparse probing and splitting, the
 * plan's checks) never assume the image is mapped: an image can be held in
 * memory by the daemon (small ones, and the boot images SDP sends), or read
 * on demand from its file with pread, which can fail (a file truncated or
 * changed since it was loaded) where a mapping would have raised SIGBUS.
 * Read errors come back as -errno and fail the operation that needed them. */
#ifndef FLASHD_IMGSRC_H
#define FLASHD_IMGSRC_H

#include <stddef.h>
#include <stdint.h>

struct imgsrc {
	const uint8_t *mem;     /* the len bytes in memory, or NULL: read() them */
	uint64_t len;
	/* exactly n bytes at byte base + off of the underlying file into buf:
	 * 0, or -errno (-ESTALE: the file is no longer what was loaded) */
	int (*read)(void *ud, uint64_t off, void *buf, size_t n);
	void *ud;
	uint64_t base;          /* where this source starts in what read() reads */
};

/* A source over len bytes of memory. */
static inline struct imgsrc imgsrc_mem(const uint8_t *p, uint64_t len)
{
	return (struct imgsrc){ .mem = p, .len = len };
}

/* The same as a pointer to a compound literal (for calls that copy it). */
#define IMGSRC_MEM(p, n) (&(struct imgsrc){ .mem = (const uint8_t *)(p), .len = (n) })

/* The part [off, off + len) of src as a source of its own (off + len <=
 * src->len); src must outlive it. */
struct imgsrc imgsrc_sub(const struct imgsrc *src, uint64_t off, uint64_t len);

/* n bytes at off into buf: 0, -EINVAL outside the source, or read()'s error. */
int imgsrc_read(const struct imgsrc *src, uint64_t off, void *buf, size_t n);

/* The n bytes at off: a pointer into memory, or tmp (n bytes) filled by
 * read(). NULL with *err set on error. */
const uint8_t *imgsrc_view(const struct imgsrc *src, uint64_t off, size_t n, uint8_t *tmp, int *err);

#endif
