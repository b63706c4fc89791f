/* imgsrc: memory or read-function image sources (imgsrc.h). */
#include "flashd/imgsrc.h"

#include <errno.h>
#include <string.h>

struct imgsrc imgsrc_sub(const struct imgsrc *src, uint64_t off, uint64_t len)
{
	struct imgsrc s = *src;

	if (s.mem)
		s.mem += off;
	s.base += off;
	s.len = len;
	return s;
}

static inline int imgsrc_range_ok(const struct imgsrc *src, uint64_t off, size_t n)
{
	return off <= src->len && n <= src->len - off;
}

int imgsrc_read(const struct imgsrc *src, uint64_t off, void *buf, size_t n)
{
	if (!src || !imgsrc_range_ok(src, off, n) || (!src->mem && !src->read))
		return -EINVAL;
	if (!n)
		return 0;
	if (src->mem) {
		memcpy(buf, src->mem + off, n);
		return 0;
	}
	return src->read(src->ud, src->base + off, buf, n);
}

const uint8_t *imgsrc_view(const struct imgsrc *src, uint64_t off, size_t n, uint8_t *tmp, int *err)
{
	int r;

	if (src && src->mem && imgsrc_range_ok(src, off, n))
		return src->mem + off;
	r = imgsrc_read(src, off, tmp, n);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	return tmp;
}
