/* test-plan_image: reading images at plan load — SHA-256 against
 * sha256sum, the block map of raw images against an independent
 * classification of the file's bytes, file holes skipped (never read into
 * the page cache: mincore), no map for sparse images; compressed images
 * through the cache (both hashes, cache hits, damaged entries, corrupt
 * streams with file:line), uuu's archive forms, unchanged images reused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "daemon/image.h"
#include "flashd/plan.h"
#include "flashd/sparse.h"
#include "plan-testlib.h"
#include "testutil.h"

#define BLK 4096u

/* A file of size bytes: holes except the given data ranges (written: byte
 * < 0 random bytes, else that byte — 0 writes zeros as data). */
struct range {
	uint64_t off, len;
	int byte;
};

static void make_file(const char *path, uint64_t size, const struct range *r, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	unsigned seed = 7;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = malloc(r[i].len);
		assert_non_null(b);
		for (uint64_t k = 0; k < r[i].len; k++)
			b[k] = r[i].byte >= 0 ? (uint8_t)r[i].byte : (uint8_t)(rand_r(&seed) | 1);
		assert_true(pwrite(fd, b, r[i].len, (off_t)r[i].off) == (ssize_t)r[i].len);
		free(b);
	}
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(close(fd), 0);
}

static struct plan *load_image(const char *image, bool raw2sparse)
{
	char text[700], err[1024];
	struct plan *p = NULL;

	struct plan_images im = image_opener(NULL);

	snprintf(text, sizeof(text), "FB: flash %smmc0 %s\n", raw2sparse ? "-raw2sparse " : "", image);
	if (plan_parse("t.lst", plantest_dir(), text, strlen(text), NULL, 0, &im, &p, err,
		       sizeof(err)) < 0)
		fail_msg("plan: %s", err);
	assert_int_equal(plan_n_images(p), 1);
	return p;
}

/* Independent classification of block b of the file's bytes. */
static enum sparse_map_kind ref_kind(const uint8_t *p)
{
	for (uint32_t i = 4; i < BLK; i++)
		if (p[i] != p[i % 4])
			return SPARSE_MAP_DATA;
	return p[0] | p[1] | p[2] | p[3] ? SPARSE_MAP_FILL : SPARSE_MAP_ZERO;
}

/* Does the filesystem under plantest_dir() report holes? */
static bool have_holes(const char *path, uint64_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t h = lseek(fd, 0, SEEK_HOLE);

	close(fd);
	return h >= 0 && (uint64_t)h < size;
}

/* Pages of [off, off+len) of path in the page cache. */
static size_t cached_pages(const char *path, uint64_t off, uint64_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long pg = sysconf(_SC_PAGESIZE);
	size_t np = (size_t)((len + (uint64_t)pg - 1) / (uint64_t)pg), n = 0;
	unsigned char *v = malloc(np);
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, (off_t)off);

	assert_true(m != MAP_FAILED);
	assert_non_null(v);
	assert_int_equal(mincore(m, (size_t)len, v), 0);
	for (size_t i = 0; i < np; i++)
		n += v[i] & 1;
	munmap(m, (size_t)len);
	free(v);
	close(fd);
	return n;
}

static void check_image(const char *name, uint64_t size, const struct range *r, size_t n)
{
	char path[600], want[65];
	struct plan *p;
	struct plan_image *img;
	uint8_t *copy = calloc(1, size);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", plantest_dir(), name);
	make_file(path, size, r, n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_non_null(copy);
	assert_true(pread(fd, copy, size, 0) == (ssize_t)size);
	close(fd);
	testutil_sha256sum(path, want);
	/* drop what this test read from the page cache, then load */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	p = load_image(name, true);
	img = plan_image(p, 0);
	assert_string_equal(img->sha256, want);
	assert_non_null(img->map);
	for (uint32_t b = 0; b < size / BLK; b++)
		if (sparse_map_get(img->map, b) != ref_kind(copy + (uint64_t)b * BLK))
			fail_msg("%s: block %u: map %d, bytes say %d", name, b, sparse_map_get(img->map, b),
				 ref_kind(copy + (uint64_t)b * BLK));
	plan_unref(p);
	free(copy);
}

static void test_holes_and_data(void **state)
{
	const uint64_t mib = 1 << 20;
	/* data at odd offsets (blocks half data, half hole), a fill, zeros
	 * written as data, an unaligned end */
	const struct range r[] = {
		{ 0, 100, -1 },
		{ 3 * BLK + 100, 2 * BLK, -1 },
		{ 9 * BLK, 3 * BLK, 0xA5 },
		{ 16 * BLK, BLK, -1 },
		{ 20 * BLK, 2 * BLK, 0 },
		{ mib, mib + 512, -1 },
		{ 5 * mib, BLK, 0 },
		{ 40 * mib - 300, 300, 0x7E },
	};

	check_image("holes.img", 40 * mib - 17, r, sizeof(r) / sizeof(r[0]));
	check_image("full.img", 3 * mib + 5, (const struct range[]){ { 0, 3 * mib + 5, -1 } }, 1);
	check_image("tiny.img", 3, (const struct range[]){ { 0, 3, -1 } }, 1);
}

/* A hole-heavy image is loaded without reading its holes. The kernel reads
 * ahead around what is touched (up to the device's read_ahead_kb, 8 MiB on
 * some hosts), so only holes 20 MiB away from data are checked. */
static void test_holes_not_read(void **state)
{
	const uint64_t mib = 1 << 20, size = 256 * mib;
	const struct range r[] = { { 100 * mib, mib, -1 }, { 200 * mib, mib, -1 } };
	char path[600];
	struct plan *p;

	snprintf(path, sizeof(path), "%s/sparse-file.img", plantest_dir());
	make_file(path, size, r, 2);
	if (!have_holes(path, size))
		skip();
	p = load_image("sparse-file.img", true);
	assert_non_null(plan_image(p, 0)->map);
	assert_true(cached_pages(path, 20 * mib, 60 * mib) == 0);
	assert_true(cached_pages(path, 121 * mib, 59 * mib) == 0);
	assert_true(cached_pages(path, 221 * mib, size - 221 * mib) == 0);
	assert_true(sparse_map_get(plan_image(p, 0)->map, 100 * mib / BLK) == SPARSE_MAP_DATA);
	assert_true(sparse_map_get(plan_image(p, 0)->map, 50 * mib / BLK) == SPARSE_MAP_ZERO);
	plan_unref(p);
}

/* Sparse images (and images too small for a block) get no map / an empty
 * one; a sparse image is hashed like any other file. */
static void test_sparse_image_no_map(void **state)
{
	static const uint8_t hdr[28 + 12] = {
		0x3A, 0xFF, 0x26, 0xED, 1, 0, 0, 0, 28, 0, 12, 0,
		0x00, 0x10, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		0xC3, 0xCA, 0, 0, 1, 0, 0, 0, 12, 0, 0, 0,
	};
	char path[600], want[65];
	struct plan *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/s.simg", plantest_dir());
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	fclose(f);
	testutil_sha256sum(path, want);
	p = load_image("s.simg", false);
	assert_string_equal(plan_image(p, 0)->sha256, want);
	assert_true(plan_image(p, 0)->sparse.sparse);
	assert_null(plan_image(p, 0)->map);
	plan_unref(p);
}

static uint8_t *disk_image(size_t *n);

/* All bytes of an image, read through its source as a board would get them. */
static uint8_t *read_all(const struct plan_image *img)
{
	uint8_t *b = malloc(img->size ? img->size : 1);

	assert_non_null(b);
	assert_int_equal(imgsrc_read(&img->src, 0, b, img->size), 0);
	return b;
}

/* Is path mapped in this process? */
static bool mapped(const char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, path))
			found = true;
	fclose(f);
	return found;
}

/* Coarse timestamps (a jiffy): wait so that a change gets a new ctime. */
static void next_tick(void)
{
	usleep(20000);
}

/* Issue 11, defect 1: an image that flashd reads when sending is never
 * mapped; truncated or rewritten after the load, every read (and
 * image_fresh) fails with -ESTALE and the reason, never SIGBUS and never
 * bytes the hash does not describe. */
static void test_changed_image_fails(void **state)
{
	size_t n;
	uint8_t *d = disk_image(&n), *got, byte;
	struct plan *p;
	struct plan_image *img;
	int fd;

	testutil_write_file(plantest_path("ch.img"), d, n);
	p = load_image("ch.img", true);
	img = plan_image(p, 0);
	assert_null(img->data);
	assert_false(mapped(plantest_path("ch.img")));
	got = read_all(img);
	assert_memory_equal(got, d, n);
	free(got);
	assert_int_equal(image_fresh(img), 0);
	/* rewritten in place, same size */
	next_tick();
	fd = open(plantest_path("ch.img"), O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 4096), 1);
	assert_int_equal(imgsrc_read(&img->src, 0, &byte, 1), -ESTALE);
	assert_int_equal(image_fresh(img), -ESTALE);
	testutil_assert_contains(image_read_error(-ESTALE),
				 (const char *const[]){ "changed since the plan was loaded", "reload", NULL });
	/* truncated: a short read, not a fault */
	assert_int_equal(ftruncate(fd, (off_t)n / 2), 0);
	close(fd);
	got = malloc(n);
	assert_non_null(got);
	assert_int_equal(imgsrc_read(&img->src, n / 2, got, n / 2), -ESTALE);
	free(got);
	plan_unref(p);
	free(d);
}

/* An image that SDP sends is held in memory: a copy the daemon owns, which
 * a change of the file cannot touch; what was hashed is what is sent. */
static void test_sdp_image_in_memory(void **state)
{
	char text[200], err[1024], want[65];
	struct plan_images im = image_opener(NULL);
	size_t n = 70000;
	uint8_t *d = malloc(n);
	struct plan *p;
	const struct plan_image *img;

	assert_non_null(d);
	for (size_t k = 0; k < n; k++)
		d[k] = (uint8_t)(k * 7 + 3);
	testutil_write_file(plantest_path("blob.bin"), d, n);
	testutil_sha256sum(plantest_path("blob.bin"), want);
	snprintf(text, sizeof(text), "SDP: write -f blob.bin -addr 0x10000000\nSDP: done\n" PLANTEST_NO_WRITE);
	if (plan_parse("t.lst", plantest_dir(), text, strlen(text), NULL, 0, &im, &p, err, sizeof(err)) < 0)
		fail_msg("plan: %s", err);
	img = plan_step(p, 0)->image;
	assert_non_null(img->data);
	assert_false(mapped(plantest_path("blob.bin")));
	assert_string_equal(img->sha256, want);
	assert_int_equal(truncate(plantest_path("blob.bin"), 0), 0);
	assert_memory_equal(img->data, d, n);
	assert_int_equal(image_fresh(img), 0);
	plan_unref(p);
	free(d);
}

/* ---- compressed images ---- */

static void write_zstd(const char *path, const uint8_t *in, size_t n)
{
	size_t cap = ZSTD_compressBound(n), got;
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	got = ZSTD_compress(b, cap, in, n, 3);
	assert_false(ZSTD_isError(got));
	testutil_write_file(path, b, got);
	free(b);
}

static void write_gzip(const char *path, const uint8_t *in, size_t n)
{
	size_t got;
	uint8_t *b = plantest_gzip(in, n, &got);

	testutil_write_file(path, b, got);
	free(b);
}

/* A raw disk image: 3 MiB, data, zeros, a fill, data (no file holes: the
 * payload's holes come from the decompression). */
static uint8_t *disk_image(size_t *n)
{
	uint8_t *d = calloc(1, 3u << 20);
	unsigned seed = 11;

	assert_non_null(d);
	for (size_t i = 0; i < (512u << 10); i++)
		d[i] = (uint8_t)(rand_r(&seed) | 1);
	memset(d + (2u << 20), 0x5A, 64u << 10);
	for (size_t i = (3u << 20) - 8192; i < (3u << 20); i++)
		d[i] = (uint8_t)i;
	*n = 3u << 20;
	return d;
}

struct seen_progress {
	unsigned calls;
	char file[64];
};

static void on_progress(void *ud, const char *file, uint64_t done, uint64_t total)
{
	struct seen_progress *s = ud;

	assert_true(done <= total);
	s->calls++;
	snprintf(s->file, sizeof(s->file), "%s", file);
}

/* Load "FB: flash -raw2sparse mmc0 FILE" from a plan file with o. */
static int load_ex(const char *file, const struct image_opts *o, struct plan **p, char *err,
		   size_t errlen)
{
	char text[700];

	snprintf(text, sizeof(text), "# a compressed image\nFB: flash -raw2sparse mmc0 %s\n", file);
	testutil_write_file(plantest_path("t.lst"), text, strlen(text));
	return image_plan_load(plantest_path("t.lst"), NULL, 0, o, p, err, errlen);
}

static void check_compressed(const char *name, const char *format,
			     void (*write)(const char *, const uint8_t *, size_t), bool in_cache)
{
	char cache[600], want[65], src[65], err[1024];
	struct seen_progress seen = { 0 };
	struct image_opts o = { .cache_dir = cache, .progress = on_progress, .ud = &seen };
	struct plan_image *img;
	struct plan *p, *q;
	size_t n;
	uint8_t *d = disk_image(&n);

	snprintf(cache, sizeof(cache), "%s/cache", plantest_dir());
	testutil_write_file(plantest_path("disk.img"), d, n);
	testutil_sha256sum(plantest_path("disk.img"), want);
	write(plantest_path(name), d, n);
	testutil_sha256sum(plantest_path(name), src);
	if (load_ex(name, &o, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	img = plan_image(p, 0);
	assert_string_equal(img->compression, format);
	assert_string_equal(img->source_sha256, src);
	assert_string_equal(img->sha256, want);
	assert_true(img->cache_hit == in_cache);
	assert_int_equal(img->size, n);
	uint8_t *bytes = read_all(img);
	assert_memory_equal(bytes, d, n);
	free(bytes);
	assert_false(img->sparse.sparse);
	assert_non_null(img->map);
	assert_int_equal(sparse_map_get(img->map, (2u << 20) / BLK), SPARSE_MAP_FILL);
	assert_int_equal(sparse_map_get(img->map, (1u << 20) / BLK), SPARSE_MAP_ZERO);
	assert_int_equal(plan_step(p, 0)->image_len, n);
	assert_true(seen.calls >= 2);   /* compressed file hashed, decompressed, payload read */
	assert_string_equal(seen.file, name);
	/* a second load (another plan, or a reload) takes the cache's copy */
	if (load_ex(name, &o, &q, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(plan_image(q, 0)->cache_hit);
	assert_string_equal(plan_image(q, 0)->sha256, want);
	assert_string_equal(plan_image(q, 0)->source_sha256, src);
	plan_unref(q);
	plan_unref(p);
	free(d);
}

static void test_compressed(void **state)
{
	check_compressed("disk.wic.zst", "zstd", write_zstd, false);
	check_compressed("disk.wic.gz", "gzip", write_gzip, false);
	/* by magic, never by name; the cache is by content: the same bytes
	 * under another name are a hit */
	check_compressed("disk.img.bin", "zstd", write_zstd, true);
}

static void test_compressed_needs_cache(void **state)
{
	const struct image_opts o = { 0 };
	char err[1024];
	struct plan *p;
	size_t n;
	uint8_t *d = disk_image(&n);

	write_zstd(plantest_path("nc.zst"), d, n);
	assert_int_equal(load_ex("nc.zst", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){
		"t.lst:2: nc.zst: zstd: compressed image needs a cache directory", NULL });
	free(d);
}

static void test_compressed_corrupt(void **state)
{
	char cache[600], err[1024], *c;
	const struct image_opts o = { .cache_dir = cache };
	struct plan *p;
	size_t n, cn;
	uint8_t *d = disk_image(&n);

	snprintf(cache, sizeof(cache), "%s/cache", plantest_dir());
	write_gzip(plantest_path("cut.gz"), d, n);
	c = testutil_slurp(plantest_path("cut.gz"), &cn);
	testutil_write_file(plantest_path("cut.gz"), c, cn - 10);
	assert_int_equal(load_ex("cut.gz", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){ "t.lst:2: cut.gz: gzip: truncated", NULL });
	c[cn / 2] ^= 0x40;
	testutil_write_file(plantest_path("bad.gz"), c, cn);
	assert_int_equal(load_ex("bad.gz", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){ "t.lst:2: bad.gz: gzip: ", NULL });
	free(c);
	free(d);
}

/* A cache entry whose payload was changed behind flashd's back (same size)
 * is found out by the payload's hash and made again. */
static void test_cache_damaged(void **state)
{
	char cache[600], src[65], want[65], raw[800], err[1024];
	const struct image_opts o = { .cache_dir = cache };
	struct plan *p;
	size_t n;
	uint8_t *d = disk_image(&n);
	int fd;

	snprintf(cache, sizeof(cache), "%s/cache", plantest_dir());
	testutil_write_file(plantest_path("dmg.img"), d, n);
	testutil_sha256sum(plantest_path("dmg.img"), want);
	write_zstd(plantest_path("dmg.zst"), d, n);
	testutil_sha256sum(plantest_path("dmg.zst"), src);
	if (load_ex("dmg.zst", &o, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	plan_unref(p);
	snprintf(raw, sizeof(raw), "%s/%s.raw", cache, src);
	fd = open(raw, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 100), 1);
	close(fd);
	if (load_ex("dmg.zst", &o, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_false(plan_image(p, 0)->cache_hit);
	assert_string_equal(plan_image(p, 0)->sha256, want);
	plan_unref(p);
	free(d);
}

/* uuu's FILE/<star> is FILE decompressed; its archive members and URLs are
 * refused with the reason. */
static void test_uuu_forms(void **state)
{
	char cache[600], err[1024];
	const struct image_opts o = { .cache_dir = cache };
	struct plan *p;
	size_t n;
	uint8_t *d = disk_image(&n);

	snprintf(cache, sizeof(cache), "%s/cache", plantest_dir());
	write_zstd(plantest_path("star.wic.zst"), d, n);
	if (load_ex("star.wic.zst/*", &o, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(plan_image(p, 0)->compression, "zstd");
	plan_unref(p);
	testutil_write_file(plantest_path("plain.img"), d, n);
	assert_int_equal(load_ex("plain.img/*", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){ "t.lst:2: plain.img/*: ", "not compressed", NULL });
	assert_int_equal(load_ex("files.zip/rootfs.ext4", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){
		"t.lst:2: files.zip/rootfs.ext4: ", "member 'rootfs.ext4' of the archive 'files.zip'", NULL });
	assert_int_equal(load_ex("b.tar.gz/x/y.img", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){ "member 'x/y.img' of the archive 'b.tar.gz'", NULL });
	assert_int_equal(load_ex("https://example.com/disk.img", &o, &p, err, sizeof(err)), -EINVAL);
	testutil_assert_contains(err, (const char *const[]){ "local files only", NULL });
	free(d);
}

/* An unchanged image of a plan given as reuse is shared, not read again;
 * a changed one (mtime) is read again. */
static void test_reuse(void **state)
{
	char err[1024];
	struct plan *a, *b, *c;
	struct image_opts o = { 0 };
	const struct timespec t[2] = { { 1000000, 0 }, { 1000000, 0 } };
	size_t n;
	uint8_t *d = disk_image(&n);

	testutil_write_file(plantest_path("re.img"), d, n);
	if (load_ex("re.img", &o, &a, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	o.reuse = &a;
	o.nreuse = 1;
	if (load_ex("re.img", &o, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_ptr_equal(plan_image(b, 0), plan_image(a, 0));
	assert_int_equal(plan_image(a, 0)->refs, 2);
	assert_int_equal(image_fresh(plan_image(b, 0)), 0);
	assert_int_equal(utimensat(AT_FDCWD, plantest_path("re.img"), t, 0), 0);
	if (load_ex("re.img", &o, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_ptr_not_equal(plan_image(c, 0), plan_image(a, 0));
	assert_string_equal(plan_image(c, 0)->sha256, plan_image(a, 0)->sha256);
	plan_unref(a);
	assert_int_equal(plan_image(b, 0)->refs, 1);
	/* b keeps the shared image alive; its file changed (mtime): b's reads
	 * say so, c's (read after the change) work */
	assert_int_equal(image_fresh(plan_image(b, 0)), -ESTALE);
	uint8_t *bytes = read_all(plan_image(c, 0));
	assert_memory_equal(bytes, d, n);
	free(bytes);
	plan_unref(b);
	plan_unref(c);
	free(d);
}

static int setup(void **state)
{
	return plantest_setup("test-plan_image", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holes_and_data),
		cmocka_unit_test(test_holes_not_read),
		cmocka_unit_test(test_sparse_image_no_map),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_compressed_needs_cache),
		cmocka_unit_test(test_compressed_corrupt),
		cmocka_unit_test(test_cache_damaged),
		cmocka_unit_test(test_uuu_forms),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_changed_image_fails),
		cmocka_unit_test(test_sdp_image_in_memory),
	};

	return cmocka_run_group_tests(tests, setup, plantest_group_teardown);
}
