/* image_src: reading a loaded image when a board needs it (image.h). An
 * image not held in memory is read with pread, and every read checks that
 * the file is still the one that was hashed at load. */
#include "daemon/image.h"
#include "daemon/image_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool image_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* n bytes at off of fd: 0, -ESTALE when the file ends before, or -errno. */
int image_pread(int fd, uint64_t off, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t k = pread(fd, p, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -ESTALE;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* imgsrc.read of an image not in memory: the bytes, then a check that the
 * file is still the one that was hashed (a write between the read and the
 * check changes ctime, so what was read is what was hashed). */
int image_src_read(void *ud, uint64_t off, void *buf, size_t n)
{
	struct image_box *b = ud;
	struct stat now;
	int r = image_pread(b->fd, off, buf, n);

	if (r < 0)
		return r;
	if (fstat(b->fd, &now) < 0)
		return -errno;
	return image_stat_same(&now, &b->held) ? 0 : -ESTALE;
}

int image_fresh(const struct plan_image *img)
{
	uint8_t b;

	/* a read checks the file (image_src_read) */
	return img->data || !img->size ? 0 : imgsrc_read(&img->src, 0, &b, 1);
}

const char *image_read_error(int err)
{
	if (err == -ESTALE)
		return "the image file changed since the plan was loaded (truncated or rewritten): "
		       "reload the plan";
	return strerror(err < 0 ? -err : err);
}
