/* plan_image: images used by a plan — opened once per file, mapped
 * read-only, hashed, probed as i.MX boot image and as sparse image. A
 * compressed file is decompressed into the cache first (decompress.h) and
 * its payload is the image; uuu's archive forms are refused here. */
#include "plan_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "flashd/decompress.h"
#include "common/sha256.h"

struct plan_image_box {
	struct plan_image img;  /* first: a plan_image pointer is a box pointer */
	dev_t dev;              /* of the file named in the plan (compressed or not) */
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct plan_image *plan_image_ref(struct plan_image *img)
{
	if (img)
		__atomic_add_fetch(&img->refs, 1, __ATOMIC_RELAXED);
	return img;
}

struct plan_image *plan_image_unref(struct plan_image *img)
{
	if (!img || __atomic_sub_fetch(&img->refs, 1, __ATOMIC_ACQ_REL) > 0)
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
#define PLAN_PROGRESS_EVERY (64ull << 20)

/* Progress of one file of the plan (plan_load_opts.progress). */
struct plan_image_progress {
	const struct plan_load_opts *o;
	const char *file;
	uint64_t next;
};

static void plan_image_report(void *ud, uint64_t done, uint64_t total)
{
	struct plan_image_progress *pr = ud;

	if (!pr->o->progress || (done < pr->next && done < total))
		return;
	pr->next = done + PLAN_PROGRESS_EVERY;
	pr->o->progress(pr->o->ud, pr->file, done, total);
}

struct plan_image_reader {
	struct plan_image *img;
	int fd;
	bool hash;                /* false: the hash is known (a payload just decompressed) */
	struct sha256 sha;
	struct sparse_map *map;   /* NULL: no map (sparse image, too large, no memory) */
	struct plan_image_progress *pr;
};

static void plan_image_zeros(struct plan_image_reader *rd, uint64_t off, uint64_t n)
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

static void plan_image_data(struct plan_image_reader *rd, uint64_t off, uint64_t end)
{
	const uint8_t *d = rd->img->data;

	while (off < end) {
		size_t n = end - off < PLAN_HASH_CHUNK ? (size_t)(end - off) : PLAN_HASH_CHUNK;
		if (rd->hash)
			sha256_update(&rd->sha, d + off, n);
		if (rd->map && sparse_map_scan(rd->map, off, d + off, n) < 0)
			rd->map = sparse_map_free(rd->map);
		madvise((void *)(d + off), n, MADV_DONTNEED);
		off += n;
		plan_image_report(rd->pr, off, rd->img->size);
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

/* known_sha: the payload's hash, computed while it was decompressed just now
 * (not hashed again); NULL: hash it. */
static void plan_image_read(struct plan_image *img, int fd, const char *known_sha,
			    struct plan_image_progress *pr)
{
	struct plan_image_reader rd = { .img = img, .fd = fd, .hash = !known_sha, .pr = pr };
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
	if (rd.hash) {
		sha256_final(&rd.sha, digest);
		sha256_to_hex(digest, img->sha256);
	} else {
		snprintf(img->sha256, sizeof(img->sha256), "%s", known_sha);
	}
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

/* ---- one image per file: in this plan, or unchanged from a plan before ---- */

static bool plan_image_same_file(const struct plan_image_box *b, const struct stat *st)
{
	return b->dev == st->st_dev && b->ino == st->st_ino;
}

static bool plan_image_unchanged(const struct plan_image_box *b, const struct stat *st)
{
	return plan_image_same_file(b, st) && b->size == st->st_size &&
	       b->mtime.tv_sec == st->st_mtim.tv_sec && b->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       b->ctime.tv_sec == st->st_ctim.tv_sec && b->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static struct plan_image *plan_image_find(struct plan *p, const struct stat *st)
{
	for (size_t i = 0; i < p->nimages; i++)
		if (plan_image_same_file((struct plan_image_box *)p->images[i], st))
			return p->images[i];
	return NULL;
}

static struct plan_image *plan_image_find_reuse(const struct plan_load_opts *o, const struct stat *st)
{
	for (size_t i = 0; i < o->nreuse; i++) {
		size_t n = o->reuse[i] ? plan_n_images(o->reuse[i]) : 0;

		for (size_t k = 0; k < n; k++) {
			struct plan_image *img = plan_image(o->reuse[i], k);

			if (plan_image_unchanged((struct plan_image_box *)img, st))
				return img;
		}
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

/* Map fd (size bytes; the image's data) and read it (known_sha: see
 * plan_image_read). The box remembers st, the file named in the plan. */
static int plan_image_map(int fd, uint64_t size, const struct stat *st, const char *known_sha,
			  struct plan_image_progress *pr, struct plan_image_box **out)
{
	struct plan_image_box *b = calloc(1, sizeof(*b));
	void *m;

	if (!b)
		return -ENOMEM;
	m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		int r = -errno;
		free(b);
		return r;
	}
	b->img.refs = 1;
	b->img.data = m;
	b->img.file_backed = true;
	b->img.fd = fd;
	b->img.size = (size_t)size;
	b->dev = st->st_dev;
	b->ino = st->st_ino;
	b->size = st->st_size;
	b->mtime = st->st_mtim;
	b->ctime = st->st_ctim;
	plan_image_read(&b->img, fd, known_sha, pr);
	plan_image_probe(&b->img);
	*out = b;
	return 0;
}

/* ---- compressed files: the payload from the cache ---- */

static int plan_image_source_sha(int fd, uint64_t size, struct plan_image_progress *pr,
				 char out[65])
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk), digest[SHA256_DIGEST_LEN];
	struct sha256 sha;
	uint64_t off = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	sha256_init(&sha);
	while ((n = pread(fd, buf, chunk, (off_t)off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			free(buf);
			return r;
		}
		sha256_update(&sha, buf, (size_t)n);
		off += (uint64_t)n;
		plan_image_report(pr, off, size);
	}
	free(buf);
	sha256_final(&sha, digest);
	sha256_to_hex(digest, out);
	return 0;
}

/* The payload in the cache, mapped and read; it must hash as the cache's
 * .sum says, else the entry is dropped and made again (once). */
static int plan_image_payload(struct plan_loader *ld, struct plan_image_progress *pr, int fd,
			      const struct stat *st, enum decompress_format f, const char *src,
			      struct plan_image_box **out)
{
	const struct plan_load_opts *o = ld->opts;
	struct decompress_opts dopts = { .max_size = o->max_payload, .progress = plan_image_report,
					 .ud = pr };
	struct decompress_result res;
	char dwhy[DECOMPRESS_WHY_MAX];
	bool hit;
	int pfd, r;

	for (int attempt = 0;; attempt++) {
		pr->next = 0;
		r = decompress_cache(o->cache_dir, src, f, fd, &dopts, &pfd, &res, &hit, dwhy);
		if (r < 0) {
			snprintf(ld->why, sizeof(ld->why), "%s", dwhy);
			return r;
		}
		if (res.size == 0 || res.size > SIZE_MAX) {
			close(pfd);
			snprintf(ld->why, sizeof(ld->why), "%s after decompression",
				 res.size ? "too large to map" : "empty");
			return res.size ? -EFBIG : -EINVAL;
		}
		/* a payload from the cache is hashed and checked against its .sum; one
		 * just decompressed was hashed on its way into the cache */
		pr->next = 0;
		r = plan_image_map(pfd, res.size, st, hit ? NULL : res.sha256, pr, out);
		if (r < 0) {
			close(pfd);
			snprintf(ld->why, sizeof(ld->why), "mapping the decompressed image: %s", strerror(-r));
			return r;
		}
		if (strcmp((*out)->img.sha256, res.sha256) == 0)
			break;
		*out = (struct plan_image_box *)plan_image_unref(&(*out)->img);
		decompress_cache_drop(o->cache_dir, src);
		if (attempt) {
			snprintf(ld->why, sizeof(ld->why), "%s: the decompressed image does not hash as recorded",
				 o->cache_dir);
			return -EIO;
		}
	}
	(*out)->img.cache_hit = hit;
	return 0;
}

static int plan_image_decompressed(struct plan_loader *ld, struct plan_image_progress *pr, int fd,
				   const struct stat *st, enum decompress_format f,
				   struct plan_image_box **out, const char **why)
{
	char src[65];
	int r;

	*why = ld->why;
	if (!ld->opts->cache_dir) {
		snprintf(ld->why, sizeof(ld->why), "%s: compressed image needs a cache directory",
			 decompress_format_to_string(f));
		return -EINVAL;
	}
	r = plan_image_source_sha(fd, (uint64_t)st->st_size, pr, src);
	if (r < 0) {
		snprintf(ld->why, sizeof(ld->why), "%s", strerror(-r));
		return r;
	}
	r = plan_image_payload(ld, pr, fd, st, f, src, out);
	if (r < 0)
		return r;
	(*out)->img.compression = decompress_format_to_string(f);
	memcpy((*out)->img.source_sha256, src, sizeof(src));
	return 0;
}

/* Map and read the file open on fd, or its payload if it is compressed.
 * fd is the image's on success of a plain file, else closed. */
static int plan_image_load(struct plan_loader *ld, const char *file, int fd, const struct stat *st,
			   bool star, struct plan_image_box **out, const char **why)
{
	struct plan_image_progress pr = { .o = ld->opts, .file = file };
	uint8_t head[DECOMPRESS_MAGIC_LEN];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	enum decompress_format f = decompress_detect(head, n > 0 ? (size_t)n : 0);
	int r;

	if (f != DECOMPRESS_FORMAT_NONE) {
		r = plan_image_decompressed(ld, &pr, fd, st, f, out, why);
		close(fd);
		return r;
	}
	if (star) {
		*why = "uuu's FILE/* decompresses FILE, but it is not compressed (no zstd, gzip, bzip2 or xz magic)";
		close(fd);
		return -EINVAL;
	}
	r = plan_image_map(fd, (uint64_t)st->st_size, st, NULL, &pr, out);
	if (r < 0) {
		*why = r == -ENOMEM ? "out of memory" : strerror(-r);
		close(fd);
	}
	return r;
}

/* ---- what uuu takes that flashd does not (libuuu/buffer.cpp, FS_DATA) ---- */

/* uuu reads ARCHIVE.zip/MEMBER, ARCHIVE.tar/MEMBER, IMAGE.sdcard/FILE (a FAT
 * partition), X.gz|.bz2|.zst/MEMBER (a tar inside) and http(s):// URLs. Only
 * asked once no such file exists: a real path wins, as in uuu. */
static const char *plan_image_uuu_form(struct plan_loader *ld, const char *file)
{
	static const char *const exts[] = { ".zip/", ".tar/", ".sdcard/", ".gz/", ".bz2/", ".zst/" };

	if (strncasecmp(file, "http://", 7) == 0 || strncasecmp(file, "https://", 8) == 0)
		return "uuu downloads http(s):// files, flashd loads local files only: download it first";
	for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
		const char *e = strcasestr(file, exts[i]);
		if (!e)
			continue;
		snprintf(ld->why, sizeof(ld->why),
			 "uuu reads this as member '%s' of the archive '%.*s'; flashd does not read "
			 "archives: extract it and name the file",
			 e + strlen(exts[i]), (int)(e + strlen(exts[i]) - 1 - file), file);
		return ld->why;
	}
	return NULL;
}

/* Open the file; "FILE/" followed by "*" is uuu's way of naming FILE's decompressed
 * content (*star), other archive forms are refused with the reason. */
static int plan_image_open_fd(struct plan_loader *ld, const char *file, char *path, bool *star,
			      const char **why)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd = open(path, flags), r;
	size_t n = strlen(path);
	const char *u;

	if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR)) {
		r = fd < 0 ? -errno : fd;
		if (r < 0)
			*why = strerror(-r);
		return r;
	}
	r = -errno;
	if (n > 2 && strcmp(path + n - 2, "/*") == 0) {
		path[n - 2] = '\0';
		*star = true;
		fd = open(path, flags);
		if (fd < 0)
			*why = strerror(errno);
		return fd < 0 ? -errno : fd;
	}
	u = plan_image_uuu_form(ld, file);
	*why = u ? u : strerror(-r);
	return u ? -ENOTSUP : r;
}

static int plan_image_check(const struct stat *st, const char **why)
{
	if (!S_ISREG(st->st_mode) || st->st_size == 0) {
		*why = S_ISREG(st->st_mode) ? "empty file" : "not a regular file";
		return S_ISREG(st->st_mode) ? -EINVAL : -EISDIR;
	}
	if ((uint64_t)st->st_size > SIZE_MAX) {
		*why = "file too large to map";
		return -EFBIG;
	}
	return 0;
}

int plan_image_open(struct plan_loader *ld, const char *file, struct plan_image **img,
		    const char **why)
{
	struct plan *p = ld->p;
	struct plan_image_box *b;
	struct plan_image *found;
	struct stat st;
	char *path = plan_image_resolve(p->dir, file);
	bool star = false;
	int fd, r;

	if (!path)
		return -ENOMEM;
	fd = plan_image_open_fd(ld, file, path, &star, why);
	if (fd < 0) {
		free(path);
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		*why = strerror(-r);
		goto fail;
	}
	r = plan_image_check(&st, why);
	if (r < 0)
		goto fail;
	found = plan_image_find(p, &st);
	if (!found && (found = plan_image_find_reuse(ld->opts, &st))) {
		r = plan_image_add(p, plan_image_ref(found));   /* unchanged: not read again */
		if (r < 0) {
			plan_image_unref(found);
			*why = "out of memory";
			goto fail;
		}
	}
	if (found) {
		close(fd);
		free(path);
		*img = found;
		return 0;
	}
	r = plan_image_load(ld, file, fd, &st, star, &b, why);  /* consumes fd */
	if (r < 0) {
		free(path);
		return r;
	}
	b->img.path = path;
	r = plan_image_add(p, &b->img);
	if (r < 0) {
		plan_image_unref(&b->img);
		*why = "out of memory";
		return r;
	}
	*img = &b->img;
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
