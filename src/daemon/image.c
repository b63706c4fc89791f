/* image: the daemon's opener of plan images (image.h). Files are read with
 * pread, never mapped; compressed files are decompressed into the cache
 * first (decompress.h) and their payload is the image; uuu's archive forms
 * are refused with the reason. */
#include "daemon/image.h"
#include "daemon/image_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/sha256.h"
#include "daemon/decompress_cache.h"

/* One open: where the opener's reason goes. */
struct image_call {
	const struct image_opts *o;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 3, 4)))
static int image_fail(struct image_call *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return r;
}

static void image_release(struct plan_image *img)
{
	struct image_box *b = (struct image_box *)img;

	if (b->fd >= 0)
		close(b->fd);
	free(b->mem);
	sparse_map_free(img->map);
	free(img->path);
	free(b);
}

static struct image_box *image_box_new(int fd, const struct stat *named)
{
	struct image_box *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->img.refs = 1;
	b->img.release = image_release;
	b->fd = fd;
	b->named = *named;
	return b;
}

/* ---- reading an image once: hash, block map, probes ---- */

/* Data is read in chunks of IMAGE_READ_CHUNK. File holes (SEEK_DATA /
 * SEEK_HOLE) are not read at all: they hash as zeros and map as zero
 * blocks, so a sparse file costs its data, not its size. */
#define IMAGE_READ_CHUNK (1u << 20)
#define IMAGE_PROGRESS_EVERY (64ull << 20)

struct image_progress {
	const struct image_opts *o;
	const char *file;
	uint64_t next;
};

static void image_report(void *ud, uint64_t done, uint64_t total)
{
	struct image_progress *pr = ud;

	if (!pr->o->progress || (done < pr->next && done < total))
		return;
	pr->next = done + IMAGE_PROGRESS_EVERY;
	pr->o->progress(pr->o->ud, pr->file, done, total);
}

struct image_reader {
	int fd;
	uint64_t size;
	uint8_t *mem;             /* in memory: the bytes go here; else a chunk buffer */
	bool hash;                /* false: the hash is known (a payload just decompressed) */
	struct sha256 sha;
	struct sparse_map *map;   /* NULL: no map (sparse image, too large, no memory) */
	struct image_progress *pr;
};

static void image_zeros(struct image_reader *rd, uint64_t off, uint64_t n)
{
	static const uint8_t zeros[64 << 10];

	if (rd->map && sparse_map_zero(rd->map, off, n) < 0)
		rd->map = sparse_map_free(rd->map);
	while (rd->hash && n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		sha256_update(&rd->sha, zeros, k);
		n -= k;
	}
}

/* Bytes [off, end) of the file: read, hashed, classified in the block map. */
static int image_data(struct image_reader *rd, bool in_memory, uint64_t off, uint64_t end)
{
	while (off < end) {
		size_t n = end - off < IMAGE_READ_CHUNK ? (size_t)(end - off) : IMAGE_READ_CHUNK;
		uint8_t *p = in_memory ? rd->mem + off : rd->mem;
		int r = image_pread(rd->fd, off, p, n);

		if (r < 0)
			return r;
		if (rd->hash)
			sha256_update(&rd->sha, p, n);
		if (rd->map && sparse_map_scan(rd->map, off, p, n) < 0)
			rd->map = sparse_map_free(rd->map);
		off += n;
		image_report(rd->pr, off, rd->size);
	}
	return 0;
}

/* Where data starts at or after off (the size: only a hole is left), and
 * where that data ends; on filesystems without hole support (or any error)
 * everything is data. */
static void image_extent(const struct image_reader *rd, uint64_t off, uint64_t *data, uint64_t *hole)
{
	uint64_t size = rd->size;
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

/* Read the whole file once (into rd->mem when in memory). */
static int image_read_all(struct image_reader *rd, bool in_memory)
{
	const uint64_t blk = SPARSE_RAW_BLK_SZ_DEFAULT, size = rd->size;
	uint64_t off = 0, data, hole;
	int r = 0;

	while (off < size && r == 0) {
		image_extent(rd, off, &data, &hole);
		/* holes at block granularity: the blocks they cover entirely */
		data -= data % blk;
		if (data > off) {
			if (in_memory)
				memset(rd->mem + off, 0, (size_t)(data - off));
			image_zeros(rd, off, data - off);
			off = data;
		}
		hole += (blk - hole % blk) % blk;
		if (hole > size)
			hole = size;
		if (hole <= off)
			hole = off + blk < size ? off + blk : size;
		r = image_data(rd, in_memory, off, hole);
		off = hole;
	}
	return r;
}

static bool image_is_sparse_magic(int fd)
{
	uint8_t m[4];

	return image_pread(fd, 0, m, sizeof(m)) == 0 &&
	       ((uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24) ==
		       SPARSE_MAGIC;
}

static void image_probe(struct plan_image *img)
{
	struct imx_image imx;
	struct sparse_info sp;
	const char *why = NULL;

	if (!img->data) {
		img->imx_why = "not parsed as an i.MX boot image (flashd parses the images SDP sends)";
	} else if (imx_image_parse(img->data, img->size, &imx, &why) == 0) {
		img->is_imx = true;
		img->imx = imx;
	} else {
		img->imx_why = why;
	}
	why = NULL;
	if (sparse_probe_src(&img->src, &sp, &why) == 0) {
		img->sparse_ok = true;
		img->sparse = sp;
	} else {
		img->sparse_why = why;
	}
}

/* Read fd (size bytes, the image's payload) into a new box: in memory, or
 * left on fd (which the box then owns). known_sha: the payload's hash from
 * its decompression just now (not hashed again unless held in memory). */
static int image_load_fd(struct image_call *c, int fd, uint64_t size, const struct stat *named,
			 const char *known_sha, bool in_memory, struct image_progress *pr,
			 struct image_box **out)
{
	struct image_reader rd = { .fd = fd, .size = size, .pr = pr };
	uint8_t digest[SHA256_DIGEST_LEN];
	struct image_box *b;
	struct stat after;
	int r;

	if (in_memory && size > IMAGE_MEM_MAX)
		return image_fail(c, -EFBIG, "%llu bytes: images that SDP sends are held in memory, at most %llu MiB",
				  (unsigned long long)size, IMAGE_MEM_MAX >> 20);
	b = image_box_new(-1, named);
	rd.mem = malloc(in_memory ? (size ? (size_t)size : 1) : IMAGE_READ_CHUNK);
	if (!b || !rd.mem || fstat(fd, &b->held) < 0) {
		r = !b || !rd.mem ? -ENOMEM : -errno;
		free(b);
		free(rd.mem);
		return image_fail(c, r, "%s", strerror(-r));
	}
	rd.hash = in_memory || !known_sha;
	if (!image_is_sparse_magic(fd))
		sparse_map_new(size, SPARSE_RAW_BLK_SZ_DEFAULT, &rd.map);   /* raw: worth a map */
	sha256_init(&rd.sha);
	r = image_read_all(&rd, in_memory);
	if (r == 0 && (fstat(fd, &after) < 0 || !image_stat_same(&after, &b->held)))
		r = -ESTALE;
	if (r < 0) {
		sparse_map_free(rd.map);
		free(rd.mem);
		free(b);
		return image_fail(c, r, "%s", r == -ESTALE ? "the file changed while it was read" : strerror(-r));
	}
	if (rd.hash) {
		sha256_final(&rd.sha, digest);
		sha256_to_hex(digest, b->img.sha256);
	} else {
		snprintf(b->img.sha256, sizeof(b->img.sha256), "%s", known_sha);
	}
	b->img.size = (size_t)size;
	if (in_memory) {
		b->mem = rd.mem;
		b->img.data = rd.mem;
		b->img.src = imgsrc_mem(rd.mem, size);
		close(fd);
	} else {
		free(rd.mem);
		b->fd = fd;
		b->img.src = (struct imgsrc){ .len = size, .read = image_src_read, .ud = b };
	}
	if (sparse_map_complete(rd.map))
		b->img.map = rd.map;
	else
		sparse_map_free(rd.map);
	image_probe(&b->img);
	*out = b;
	return 0;
}

/* ---- compressed files: the payload from the cache ---- */

static int image_source_sha(int fd, uint64_t size, struct image_progress *pr, char out[65])
{
	uint8_t *buf = malloc(IMAGE_READ_CHUNK), digest[SHA256_DIGEST_LEN];
	struct sha256 sha;
	uint64_t off = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	sha256_init(&sha);
	while ((n = pread(fd, buf, IMAGE_READ_CHUNK, (off_t)off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			free(buf);
			return r;
		}
		sha256_update(&sha, buf, (size_t)n);
		off += (uint64_t)n;
		image_report(pr, off, size);
	}
	free(buf);
	sha256_final(&sha, digest);
	sha256_to_hex(digest, out);
	return 0;
}

/* The payload in the cache, read; it must hash as the cache's .sum says,
 * else the entry is dropped and made again (once). */
static int image_payload(struct image_call *c, struct image_progress *pr, int fd, const struct stat *st,
			 enum decompress_format f, const char *src, bool in_memory, struct image_box **out)
{
	const struct image_opts *o = c->o;
	struct decompress_opts dopts = { .max_size = o->max_payload, .progress = image_report, .ud = pr };
	struct decompress_result res;
	char dwhy[DECOMPRESS_WHY_MAX];
	bool hit;
	int pfd, r;

	for (int attempt = 0;; attempt++) {
		pr->next = 0;
		r = decompress_cache(o->cache_dir, src, f, fd, &dopts, &pfd, &res, &hit, dwhy);
		if (r < 0)
			return image_fail(c, r, "%s", dwhy);
		if (res.size == 0 || res.size > SIZE_MAX) {
			close(pfd);
			return image_fail(c, res.size ? -EFBIG : -EINVAL, "%s after decompression",
					  res.size ? "too large" : "empty");
		}
		/* a payload from the cache is hashed and checked against its .sum; one
		 * just decompressed was hashed on its way into the cache */
		pr->next = 0;
		r = image_load_fd(c, pfd, res.size, st, hit ? NULL : res.sha256, in_memory, pr, out);
		if (r < 0) {
			close(pfd);
			return r;
		}
		if (strcmp((*out)->img.sha256, res.sha256) == 0)
			break;
		plan_image_unref(&(*out)->img);
		decompress_cache_drop(o->cache_dir, src);
		if (attempt)
			return image_fail(c, -EIO, "%s: the decompressed image does not hash as recorded",
					  o->cache_dir);
	}
	(*out)->img.cache_hit = hit;
	return 0;
}

static int image_decompressed(struct image_call *c, struct image_progress *pr, int fd, const struct stat *st,
			      enum decompress_format f, bool in_memory, struct image_box **out)
{
	char src[65];
	int r;

	if (!c->o->cache_dir)
		return image_fail(c, -EINVAL, "%s: compressed image needs a cache directory",
				  decompress_format_to_string(f));
	r = image_source_sha(fd, (uint64_t)st->st_size, pr, src);
	if (r < 0)
		return image_fail(c, r, "%s", strerror(-r));
	r = image_payload(c, pr, fd, st, f, src, in_memory, out);
	if (r < 0)
		return r;
	(*out)->img.compression = decompress_format_to_string(f);
	memcpy((*out)->img.source_sha256, src, sizeof(src));
	return 0;
}

/* Read the file open on fd, or its payload if it is compressed. fd is the
 * image's when it stays on the file, else closed. */
static int image_load(struct image_call *c, const char *file, int fd, const struct stat *st, bool star,
		      bool in_memory, struct image_box **out)
{
	struct image_progress pr = { .o = c->o, .file = file };
	uint8_t head[DECOMPRESS_MAGIC_LEN];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	enum decompress_format f = decompress_detect(head, n > 0 ? (size_t)n : 0);
	int r;

	if (f != DECOMPRESS_FORMAT_NONE) {
		r = image_decompressed(c, &pr, fd, st, f, in_memory, out);
		close(fd);
		return r;
	}
	if (star) {
		close(fd);
		return image_fail(c, -EINVAL, "uuu's FILE/* decompresses FILE, but it is not compressed "
				  "(no zstd, gzip, bzip2 or xz magic)");
	}
	r = image_load_fd(c, fd, (uint64_t)st->st_size, st, NULL, in_memory, &pr, out);
	if (r < 0)
		close(fd);
	return r;
}

/* ---- what uuu takes that flashd does not (libuuu/buffer.cpp, FS_DATA) ---- */

/* uuu reads ARCHIVE.zip/MEMBER, ARCHIVE.tar/MEMBER, IMAGE.sdcard/FILE (a FAT
 * partition), X.gz|.bz2|.zst/MEMBER (a tar inside) and http(s):// URLs. Only
 * asked once no such file exists: a real path wins, as in uuu. */
static bool image_uuu_form(struct image_call *c, const char *file)
{
	static const char *const exts[] = { ".zip/", ".tar/", ".sdcard/", ".gz/", ".bz2/", ".zst/" };

	if (strncasecmp(file, "http://", 7) == 0 || strncasecmp(file, "https://", 8) == 0) {
		image_fail(c, 0, "uuu downloads http(s):// files, flashd loads local files only: download it first");
		return true;
	}
	for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
		const char *e = strcasestr(file, exts[i]);
		if (!e)
			continue;
		image_fail(c, 0, "uuu reads this as member '%s' of the archive '%.*s'; flashd does not read "
			   "archives: extract it and name the file",
			   e + strlen(exts[i]), (int)(e + strlen(exts[i]) - 1 - file), file);
		return true;
	}
	return false;
}

/* Open the file; "FILE/" followed by "*" is uuu's way of naming FILE's
 * decompressed content (*star), other archive forms are refused with the
 * reason. */
static int image_open_fd(struct image_call *c, const char *file, char *path, bool *star)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd = open(path, flags), r;
	size_t n = strlen(path);

	if (fd >= 0)
		return fd;
	r = -errno;
	if (r != -ENOENT && r != -ENOTDIR)
		return image_fail(c, r, "%s", strerror(-r));
	if (n > 2 && strcmp(path + n - 2, "/*") == 0) {
		path[n - 2] = '\0';
		*star = true;
		fd = open(path, flags);
		return fd < 0 ? image_fail(c, -errno, "%s", strerror(errno)) : fd;
	}
	if (image_uuu_form(c, file))
		return -ENOTSUP;
	return image_fail(c, r, "%s", strerror(-r));
}

static int image_check(struct image_call *c, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return image_fail(c, -EISDIR, "not a regular file");
	if (st->st_size == 0)
		return image_fail(c, -EINVAL, "empty file");
	if ((uint64_t)st->st_size > SIZE_MAX)
		return image_fail(c, -EFBIG, "file too large");
	return 0;
}

/* ---- one image per file: in this plan, or unchanged from a plan before ---- */

static bool image_unchanged(const struct image_box *b, const struct stat *st)
{
	return image_stat_same(&b->named, st);
}

/* An image of the same unchanged file that is held as how needs. */
static struct plan_image *image_match(struct plan_image *img, const struct stat *st, bool in_memory)
{
	return img && image_unchanged((struct image_box *)img, st) && (!in_memory || img->data) ? img : NULL;
}

static struct plan_image *image_find(const struct image_opts *o, struct plan_image *const *have, size_t nhave,
				     const struct stat *st, bool in_memory)
{
	struct plan_image *m;

	for (size_t i = 0; i < nhave; i++)
		if ((m = image_match(have[i], st, in_memory)))
			return m;
	for (size_t i = 0; o && i < o->nreuse; i++) {
		size_t n = o->reuse[i] ? plan_n_images(o->reuse[i]) : 0;

		for (size_t k = 0; k < n; k++)
			if ((m = image_match(plan_image(o->reuse[i], k), st, in_memory)))
				return m;
	}
	return NULL;
}

static char *image_resolve(const char *dir, const char *file)
{
	char *path;

	if (file[0] == '/' || !dir || !*dir)
		return strdup(file);
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return NULL;
	return path;
}

static bool image_has_bmap(const char *path)
{
	char buf[4096];
	struct stat sb;

	if ((size_t)snprintf(buf, sizeof(buf), "%s.bmap", path) >= sizeof(buf))
		return false;
	return stat(buf, &sb) == 0;
}

static int image_open(void *ud, const char *dir, const char *file, unsigned how, struct plan_image *const *have,
		      size_t nhave, struct plan_image **out, char *why, size_t whylen)
{
	static const struct image_opts none;
	struct image_call c = { .o = ud ? ud : &none, .why = why, .whylen = whylen };
	bool in_memory = how & PLAN_IMAGE_IN_MEMORY, star = false;
	struct image_box *b = NULL;
	struct plan_image *found;
	struct stat st;
	char *path = image_resolve(dir, file);
	int fd, r;

	if (!path)
		return image_fail(&c, -ENOMEM, "out of memory");
	fd = image_open_fd(&c, file, path, &star);
	if (fd < 0) {
		free(path);
		return fd;
	}
	r = fstat(fd, &st) < 0 ? image_fail(&c, -errno, "%s", strerror(errno)) : image_check(&c, &st);
	if (r == 0 && (found = image_find(c.o, have, nhave, &st, in_memory))) {
		close(fd);
		free(path);
		*out = plan_image_ref(found);   /* unchanged: not read again */
		return 0;
	}
	if (r < 0) {
		close(fd);
		free(path);
		return r;
	}
	r = image_load(&c, file, fd, &st, star, in_memory, &b);  /* consumes fd */
	if (r < 0) {
		free(path);
		return r;
	}
	b->img.path = path;
	b->img.has_bmap = image_has_bmap(path);
	*out = &b->img;
	return 0;
}

struct plan_images image_opener(const struct image_opts *o)
{
	return (struct plan_images){ .open = image_open, .ud = (void *)o };
}

int image_plan_load(const char *path, const char *const *args, size_t nargs, const struct image_opts *o,
		    struct plan **out, char *err, size_t errlen)
{
	struct plan_images im = image_opener(o);
	struct plan *p;
	int r = plan_load(path, args, nargs, &im, &p, err, errlen);

	if (r < 0)
		return r;
	if (!o || !o->pools_later)
		r = plan_bind_pools(p, o ? o->pools : NULL, o ? o->npools : 0, err, errlen);
	if (r < 0) {
		plan_unref(p);
		return r;
	}
	*out = p;
	return 0;
}
