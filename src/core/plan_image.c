/* plan_image: images used by a plan — opened once per file, mapped
 * read-only, hashed, probed as i.MX boot image and as sparse image. */
#include "plan_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flashd/sha256.h"

struct plan_image_box {
	struct plan_image img;  /* first: a plan_image pointer is a box pointer */
	dev_t dev;
	ino_t ino;
};

struct plan_image *plan_image_ref(struct plan_image *img)
{
	if (img)
		img->refs++;
	return img;
}

struct plan_image *plan_image_unref(struct plan_image *img)
{
	if (!img || --img->refs > 0)
		return NULL;
	if (img->data)
		munmap((void *)img->data, img->size);
	if (img->file_backed)
		close(img->fd);
	sparse_map_free(img->map);
	free(img->path);
	free((struct plan_image_box *)img);
	return NULL;
}

static char *plan_image_resolve(const char *dir, const char *file)
{
	char *path;

	if (file[0] == '/' || !dir || !*dir)
		return strdup(file);
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return NULL;
	return path;
}

/* Reading an image at load: SHA-256 of every byte and, for raw images, the
 * block map that raw→sparse writers share (sparse.h). Data is read in
 * chunks whose pages are given back once hashed (clean pages of a
 * read-only mapping: dropped from the RSS, faulted in again from the page
 * cache when a board needs them), so loading a 4 GiB image does not leave
 * 4 GiB in the daemon's resident set. File holes (SEEK_DATA/SEEK_HOLE) are
 * not read at all: they hash as zeros and map as zero blocks, so a sparse
 * file costs its data, not its size. */
#define PLAN_HASH_CHUNK (8u << 20)

struct plan_image_reader {
	struct plan_image *img;
	int fd;
	struct sha256 sha;
	struct sparse_map *map;   /* NULL: no map (sparse image, too large, no memory) */
};

static void plan_image_zeros(struct plan_image_reader *rd, uint64_t off, uint64_t n)
{
	static const uint8_t zeros[64 << 10];

	if (rd->map && sparse_map_zero(rd->map, off, n) < 0)
		rd->map = sparse_map_free(rd->map);
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		sha256_update(&rd->sha, zeros, k);
		n -= k;
	}
}

static void plan_image_data(struct plan_image_reader *rd, uint64_t off, uint64_t end)
{
	const uint8_t *d = rd->img->data;

	while (off < end) {
		size_t n = end - off < PLAN_HASH_CHUNK ? (size_t)(end - off) : PLAN_HASH_CHUNK;
		sha256_update(&rd->sha, d + off, n);
		if (rd->map && sparse_map_scan(rd->map, off, d + off, n) < 0)
			rd->map = sparse_map_free(rd->map);
		madvise((void *)(d + off), n, MADV_DONTNEED);
		off += n;
	}
}

/* Where data starts at or after off (the size: only a hole is left), and
 * where that data ends; on filesystems without hole support (or any error)
 * everything is data. */
static void plan_image_extent(const struct plan_image_reader *rd, uint64_t off, uint64_t *data, uint64_t *hole)
{
	uint64_t size = rd->img->size;
	off_t d = lseek(rd->fd, (off_t)off, SEEK_DATA), h;

	if (d < 0 && errno == ENXIO) {
		*data = *hole = size;
		return;
	}
	if (d < 0 || (uint64_t)d < off || (uint64_t)d > size)
		d = (off_t)off;
	h = lseek(rd->fd, d, SEEK_HOLE);
	if (h < d || (uint64_t)h > size)
		h = (off_t)size;
	*data = (uint64_t)d;
	*hole = (uint64_t)h;
}

static void plan_image_read(struct plan_image *img, int fd)
{
	struct plan_image_reader rd = { .img = img, .fd = fd };
	const uint64_t blk = SPARSE_RAW_BLK_SZ_DEFAULT, size = img->size;
	uint8_t digest[SHA256_DIGEST_LEN];
	uint64_t off = 0, data, hole;

	const uint8_t *d = img->data;

	if (size < 4 || ((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
			 (uint32_t)d[3] << 24) != SPARSE_MAGIC)
		sparse_map_new(size, (uint32_t)blk, &rd.map);   /* raw: worth a map */
	madvise((void *)img->data, size, MADV_SEQUENTIAL);
	sha256_init(&rd.sha);
	while (off < size) {
		plan_image_extent(&rd, off, &data, &hole);
		/* holes at block granularity: the blocks they cover entirely */
		data -= data % blk;
		if (data > off) {
			plan_image_zeros(&rd, off, data - off);
			off = data;
		}
		hole += (blk - hole % blk) % blk;
		if (hole > size)
			hole = size;
		if (hole <= off)
			hole = off + blk < size ? off + blk : size;
		plan_image_data(&rd, off, hole);
		off = hole;
	}
	sha256_final(&rd.sha, digest);
	sha256_to_hex(digest, img->sha256);
	if (sparse_map_complete(rd.map))
		img->map = rd.map;
	else
		sparse_map_free(rd.map);
}

static void plan_image_probe(struct plan_image *img)
{
	struct imx_image imx;
	struct sparse_info sp;
	const char *why = NULL;

	if (imx_image_parse(img->data, img->size, &imx, &why) == 0) {
		img->is_imx = true;
		img->imx = imx;
	}
	if (sparse_probe(img->data, img->size, &sp, &why) == 0) {
		img->sparse_ok = true;
		img->sparse = sp;
	}
}

static struct plan_image *plan_image_find(struct plan *p, const struct stat *st)
{
	for (size_t i = 0; i < p->nimages; i++) {
		struct plan_image_box *b = (struct plan_image_box *)p->images[i];
		if (b->dev == st->st_dev && b->ino == st->st_ino)
			return p->images[i];
	}
	return NULL;
}

static int plan_image_add(struct plan *p, struct plan_image *img)
{
	struct plan_image **v = realloc(p->images, (p->nimages + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->images = v;
	p->images[p->nimages++] = img;
	return 0;
}

static int plan_image_map(int fd, const struct stat *st, char *path, struct plan_image **out)
{
	struct plan_image_box *b = calloc(1, sizeof(*b));
	void *m;

	if (!b)
		return -ENOMEM;
	m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		int r = -errno;
		free(b);
		return r;
	}
	b->img.refs = 1;
	b->img.path = path;
	b->img.data = m;
	b->img.file_backed = true;
	b->img.fd = fd;
	b->img.size = (size_t)st->st_size;
	b->dev = st->st_dev;
	b->ino = st->st_ino;
	plan_image_read(&b->img, fd);
	plan_image_probe(&b->img);
	*out = &b->img;
	return 0;
}

int plan_image_open(struct plan *p, const char *dir, const char *file, struct plan_image **img,
		    const char **why)
{
	struct plan_image *found;
	struct stat st;
	char *path = plan_image_resolve(dir, file);
	int fd, r;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		*why = strerror(-r);
		free(path);
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		*why = strerror(-r);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		r = S_ISREG(st.st_mode) ? -EINVAL : -EISDIR;
		*why = S_ISREG(st.st_mode) ? "empty file" : "not a regular file";
		goto fail;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		r = -EFBIG;
		*why = "file too large to map";
		goto fail;
	}
	found = plan_image_find(p, &st);
	if (found) {
		close(fd);
		free(path);
		*img = found;
		return 0;
	}
	r = plan_image_map(fd, &st, path, &found);
	if (r < 0) {
		*why = r == -ENOMEM ? "out of memory" : strerror(-r);
		goto fail;
	}
	r = plan_image_add(p, found); /* the image keeps fd */
	if (r < 0) {
		plan_image_unref(found);
		*why = "out of memory";
		return r;
	}
	*img = found;
	return 0;
fail:
	close(fd);
	free(path);
	return r;
}

#define PLAN_IMAGE_TAG "UUUBURNXXOEUZX7+A-XY5601QQWWZ"

bool plan_image_scanterm(const struct plan_image *img, uint64_t limit, uint64_t *off, uint64_t *len)
{
	size_t tl = strlen(PLAN_IMAGE_TAG);
	size_t span = img->size;
	const uint8_t *t, *d;
	uint64_t n = 0;
	unsigned digits = 0;

	if (limit && limit < span)
		span = (size_t)limit;
	t = memmem(img->data, span, PLAN_IMAGE_TAG, tl);
	if (!t)
		return false;
	d = t + tl;
	while (d < img->data + img->size && *d >= '0' && *d <= '9' && digits < 19) {
		n = n * 10 + (uint64_t)(*d - '0');
		d++;
		digits++;
	}
	if (!digits || (size_t)(img->data + img->size - d) < 3 || memcmp(d, "END", 3) != 0)
		return false;
	if (n == 0 || n > (uint64_t)(t - img->data))
		return false;
	*off = (uint64_t)(t - img->data) - n;
	*len = n;
	return true;
}
