/* test-plan_image: reading images at plan load — SHA-256 against
 * sha256sum, the block map of raw images against an independent
 * classification of the file's bytes, file holes skipped (never read into
 * the page cache: mincore), no map for sparse images. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "flashd/plan.h"
#include "flashd/sparse.h"
#include "testutil.h"

#define BLK 4096u

static char *tmpdir;

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

	snprintf(text, sizeof(text), "FB: flash %smmc0 %s\n", raw2sparse ? "-raw2sparse " : "", image);
	if (plan_parse("t.lst", tmpdir, text, strlen(text), NULL, 0, 0, &p, err, sizeof(err)) < 0)
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

/* Does the filesystem under tmpdir report holes? */
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

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
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

	snprintf(path, sizeof(path), "%s/sparse-file.img", tmpdir);
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

	snprintf(path, sizeof(path), "%s/s.simg", tmpdir);
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

static int setup(void **state)
{
	tmpdir = testutil_mkdtemp("test-plan_image");
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	return testutil_rmtree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holes_and_data),
		cmocka_unit_test(test_holes_not_read),
		cmocka_unit_test(test_sparse_image_no_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
