/* test-decompress: magic detection, the four decoders on streams made here
 * with the libraries' own compressors (single, concatenated, truncated,
 * corrupt), holes kept in the output, the size limit, and the cache. */
#include "daemon/decompress_cache.h"
#include "flashd/decompress.h"

#include <bzlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "testutil.h"

#define PAYLOAD_SIZE (2u << 20)

static const enum decompress_format formats[] = {
	DECOMPRESS_FORMAT_ZSTD, DECOMPRESS_FORMAT_GZIP, DECOMPRESS_FORMAT_BZIP2, DECOMPRESS_FORMAT_XZ,
};

struct buf {
	uint8_t *p;
	size_t n;
};

/* 2 MiB: data, a 1 MiB run of zeros, data, a 256 KiB zero tail (the tail
 * becomes the file's size, not written blocks). Data is not all-zero in any
 * 4 KiB block. */
static uint8_t *payload(void)
{
	uint8_t *p = calloc(1, PAYLOAD_SIZE);
	uint32_t x = 12345;

	assert_non_null(p);
	for (size_t i = 0; i < PAYLOAD_SIZE; i++) {
		if ((i >= (256u << 10) && i < (1280u << 10)) || i >= PAYLOAD_SIZE - (256u << 10))
			continue;
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)((i % 7) ? (x >> 24) & 0x0f : 1);  /* compressible, never a zero block */
	}
	return p;
}

static struct buf compress_zstd(const uint8_t *in, size_t n, bool checksum)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	struct buf b = { malloc(ZSTD_compressBound(n)), 0 };

	assert_non_null(b.p);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	b.n = ZSTD_compress2(c, b.p, ZSTD_compressBound(n), in, n);
	assert_false(ZSTD_isError(b.n));
	ZSTD_freeCCtx(c);
	return b;
}

static struct buf compress_gzip(const uint8_t *in, size_t n)
{
	z_stream s = { 0 };
	struct buf b;

	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	b.p = malloc(deflateBound(&s, n));
	assert_non_null(b.p);
	s.next_in = (uint8_t *)in;
	s.avail_in = (uInt)n;
	s.next_out = b.p;
	s.avail_out = (uInt)deflateBound(&s, n);
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	b.n = s.total_out;
	deflateEnd(&s);
	return b;
}

static struct buf compress_bzip2(const uint8_t *in, size_t n)
{
	unsigned len = (unsigned)(n + n / 100 + 600);
	struct buf b = { malloc(len), 0 };

	assert_non_null(b.p);
	assert_int_equal(BZ2_bzBuffToBuffCompress((char *)b.p, &len, (char *)in, (unsigned)n, 9, 0, 0),
			 BZ_OK);
	b.n = len;
	return b;
}

static struct buf compress_xz(const uint8_t *in, size_t n)
{
	size_t cap = lzma_stream_buffer_bound(n);
	struct buf b = { malloc(cap), 0 };

	assert_non_null(b.p);
	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, n, b.p, &b.n, cap),
			 LZMA_OK);
	return b;
}

static struct buf make_stream(enum decompress_format f, const uint8_t *in, size_t n)
{
	switch (f) {
	case DECOMPRESS_FORMAT_ZSTD: return compress_zstd(in, n, true);
	case DECOMPRESS_FORMAT_GZIP: return compress_gzip(in, n);
	case DECOMPRESS_FORMAT_BZIP2: return compress_bzip2(in, n);
	case DECOMPRESS_FORMAT_XZ: return compress_xz(in, n);
	case DECOMPRESS_FORMAT_NONE: break;
	}
	fail();
	return (struct buf){ 0 };
}

struct fixture {
	char *dir;
	uint8_t *payload;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dir = testutil_mkdtemp("test-decompress");
	f->payload = payload();
	*state = f;
	return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testutil_rmtree(f->dir);
	free(f->payload);
	free(f);
	return 0;
}

/* Decompress data (written to a file) into a fresh file; returns the
 * decompress_fd() result, the output's fd in *out_fd (caller closes). */
static int run(struct fixture *fx, enum decompress_format f, const struct buf *in,
	       const struct decompress_opts *o, struct decompress_result *res, int *out_fd,
	       char why[DECOMPRESS_WHY_MAX])
{
	const char *src = testutil_path(fx->dir, "in");
	const char *dst = testutil_path(fx->dir, "out");
	int in_fd, fd, r;

	assert_int_equal(decompress_detect(in->p, in->n), f);
	testutil_write_file(src, in->p, in->n);
	in_fd = open(src, O_RDONLY | O_CLOEXEC);
	unlink(dst);
	fd = open(dst, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(in_fd >= 0 && fd >= 0);
	r = decompress_fd(f, in_fd, fd, o, res, why);
	if (r < 0)
		print_message("%s: %s\n", decompress_format_to_string(f), why);
	close(in_fd);
	*out_fd = fd;
	return r;
}

static void assert_output(int fd, const uint8_t *want, size_t n, const struct decompress_result *res)
{
	struct stat st;
	uint8_t *got = malloc(n + 1);

	assert_non_null(got);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, n);
	assert_int_equal(res->size, n);
	assert_int_equal(pread(fd, got, n + 1, 0), n);
	assert_memory_equal(got, want, n);
	free(got);
}

static void test_detect(void **state)
{
	static const struct {
		const char *head;
		size_t len;
		enum decompress_format f;
	} rows[] = {
		{ "\x28\xb5\x2f\xfd\x00", 5, DECOMPRESS_FORMAT_ZSTD },
		{ "\x28\xb5\x2f", 3, DECOMPRESS_FORMAT_NONE },
		{ "\x1f\x8b\x08", 3, DECOMPRESS_FORMAT_GZIP },
		{ "\x1f", 1, DECOMPRESS_FORMAT_NONE },
		{ "BZh9", 4, DECOMPRESS_FORMAT_BZIP2 },
		{ "BZh1", 4, DECOMPRESS_FORMAT_BZIP2 },
		{ "BZh0", 4, DECOMPRESS_FORMAT_NONE },
		{ "BZhx", 4, DECOMPRESS_FORMAT_NONE },
		{ "\xfd" "7zXZ\0", 6, DECOMPRESS_FORMAT_XZ },
		{ "\xfd" "7zXZ\1", 6, DECOMPRESS_FORMAT_NONE },
		{ "\xfd" "7zXZ", 5, DECOMPRESS_FORMAT_NONE },
		{ "hsqs", 4, DECOMPRESS_FORMAT_NONE },
		{ "", 0, DECOMPRESS_FORMAT_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(decompress_detect(rows[i].head, rows[i].len), rows[i].f);
	assert_string_equal(decompress_format_to_string(DECOMPRESS_FORMAT_ZSTD), "zstd");
	assert_string_equal(decompress_format_to_string(DECOMPRESS_FORMAT_GZIP), "gzip");
	assert_string_equal(decompress_format_to_string(DECOMPRESS_FORMAT_BZIP2), "bzip2");
	assert_string_equal(decompress_format_to_string(DECOMPRESS_FORMAT_XZ), "xz");
	assert_null(decompress_format_to_string(DECOMPRESS_FORMAT_NONE));
}

struct progress_seen {
	unsigned calls;
	uint64_t done, total;
};

static void progress(void *ud, uint64_t done, uint64_t total)
{
	struct progress_seen *p = ud;

	p->calls++;
	p->done = done;
	p->total = total;
}

/* Every format: bytes, SHA-256 (sha256sum's), holes left unwritten. */
static void test_roundtrip(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct buf c = make_stream(formats[i], fx->payload, PAYLOAD_SIZE);
		struct progress_seen seen = { 0 };
		struct decompress_opts o = { .progress = progress, .ud = &seen };
		struct decompress_result res;
		char why[DECOMPRESS_WHY_MAX], sum[65];
		struct stat st;
		int fd;

		assert_int_equal(run(fx, formats[i], &c, &o, &res, &fd, why), 0);
		assert_output(fd, fx->payload, PAYLOAD_SIZE, &res);
		testutil_sha256sum(testutil_path(fx->dir, "out"), sum);
		assert_string_equal(res.sha256, sum);
		assert_int_equal(fstat(fd, &st), 0);
		/* 768 KiB of data; the 1 MiB run and the 256 KiB tail are holes */
		assert_true((uint64_t)st.st_blocks * 512 <= (768u << 10) + (64u << 10));
		assert_true(seen.calls >= 1);
		assert_int_equal(seen.done, c.n);
		assert_int_equal(seen.total, c.n);
		close(fd);
		free(c.p);
	}
}

/* Two members / frames / streams back to back decompress to both payloads. */
static void test_concatenated(void **state)
{
	struct fixture *fx = *state;
	size_t half = PAYLOAD_SIZE / 2;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct buf a = make_stream(formats[i], fx->payload, half);
		struct buf b = make_stream(formats[i], fx->payload + half, half);
		struct buf ab = { malloc(a.n + b.n), a.n + b.n };
		struct decompress_result res;
		char why[DECOMPRESS_WHY_MAX];
		int fd;

		assert_non_null(ab.p);
		memcpy(ab.p, a.p, a.n);
		memcpy(ab.p + a.n, b.p, b.n);
		assert_int_equal(run(fx, formats[i], &ab, NULL, &res, &fd, why), 0);
		assert_output(fd, fx->payload, PAYLOAD_SIZE, &res);
		close(fd);
		free(a.p);
		free(b.p);
		free(ab.p);
	}
}

static void test_truncated(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct buf c = make_stream(formats[i], fx->payload, PAYLOAD_SIZE);
		struct decompress_result res;
		char why[DECOMPRESS_WHY_MAX];
		int fd;

		for (size_t cut = 0; cut < 2; cut++) {
			struct buf t = { c.p, cut ? c.n - 1 : c.n / 2 };

			assert_int_equal(run(fx, formats[i], &t, NULL, &res, &fd, why), -EBADMSG);
			close(fd);
			assert_int_equal(strncmp(why, decompress_format_to_string(formats[i]),
						 strlen(decompress_format_to_string(formats[i]))), 0);
			assert_true(strstr(why, "truncated") != NULL);
		}
		free(c.p);
	}
}

/* A flipped byte in the middle: the format's own check (zstd with its
 * checksum, CRC-32 in gzip, block CRCs in bzip2, CRC-64 in xz) reports it. */
static void test_corrupt(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct buf c = make_stream(formats[i], fx->payload, PAYLOAD_SIZE);
		struct decompress_result res;
		char why[DECOMPRESS_WHY_MAX];
		int fd;

		c.p[c.n / 2] ^= 0x55;
		c.p[c.n / 2 + 1] ^= 0xaa;
		assert_int_equal(run(fx, formats[i], &c, NULL, &res, &fd, why), -EBADMSG);
		close(fd);
		assert_int_equal(strncmp(why, decompress_format_to_string(formats[i]),
					 strlen(decompress_format_to_string(formats[i]))), 0);
		assert_null(strstr(why, "truncated"));
		free(c.p);
	}
}

static void test_limit(void **state)
{
	struct fixture *fx = *state;
	struct buf c = make_stream(DECOMPRESS_FORMAT_ZSTD, fx->payload, PAYLOAD_SIZE);
	struct decompress_opts o = { .max_size = PAYLOAD_SIZE - 1 };
	struct decompress_result res;
	char why[DECOMPRESS_WHY_MAX];
	int fd;

	assert_int_equal(run(fx, DECOMPRESS_FORMAT_ZSTD, &c, &o, &res, &fd, why), -EFBIG);
	assert_non_null(strstr(why, "larger than the limit"));
	close(fd);
	o.max_size = PAYLOAD_SIZE;
	assert_int_equal(run(fx, DECOMPRESS_FORMAT_ZSTD, &c, &o, &res, &fd, why), 0);
	close(fd);
	/* more free space asked for than any test machine has */
	o.min_free = UINT64_MAX / 2;
	assert_int_equal(run(fx, DECOMPRESS_FORMAT_ZSTD, &c, &o, &res, &fd, why), -ENOSPC);
	assert_non_null(strstr(why, "free space"));
	close(fd);
	free(c.p);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

static int cache_get(struct fixture *fx, const char *cache, const struct buf *c, bool *hit,
		     struct decompress_result *res)
{
	const char *src = testutil_path(fx->dir, "img.zst");
	char sha[65], why[DECOMPRESS_WHY_MAX];
	int in_fd, fd, r;

	testutil_write_file(src, c->p, c->n);
	testutil_sha256sum(src, sha);
	in_fd = open(src, O_RDONLY | O_CLOEXEC);
	assert_true(in_fd >= 0);
	r = decompress_cache(cache, sha, DECOMPRESS_FORMAT_ZSTD, in_fd, NULL, &fd, res, hit, why);
	close(in_fd);
	if (r == 0) {
		struct stat st;
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, res->size);
		close(fd);
	}
	return r;
}

static void test_cache(void **state)
{
	struct fixture *fx = *state;
	struct buf c = make_stream(DECOMPRESS_FORMAT_ZSTD, fx->payload, PAYLOAD_SIZE);
	char cache[1024], sha[65], sum[4096], raw[4096], want[65];
	struct decompress_result res, res2;
	bool hit = true;

	snprintf(cache, sizeof(cache), "%s/cache", fx->dir);
	testutil_write_file(testutil_path(fx->dir, "p"), fx->payload, PAYLOAD_SIZE);
	testutil_sha256sum(testutil_path(fx->dir, "p"), want);
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res), 0);
	assert_false(hit);
	assert_int_equal(res.size, PAYLOAD_SIZE);
	assert_string_equal(res.sha256, want);
	assert_int_equal(count_files(cache), 2);  /* SHA.raw and SHA.sum, no temporary left */
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res2), 0);
	assert_true(hit);
	assert_string_equal(res2.sha256, want);

	testutil_sha256sum(testutil_path(fx->dir, "img.zst"), sha);
	snprintf(raw, sizeof(raw), "%s/%s.raw", cache, sha);
	snprintf(sum, sizeof(sum), "%s/%s.sum", cache, sha);
	/* a cut payload is not a hit: rebuilt */
	assert_int_equal(truncate(raw, PAYLOAD_SIZE / 2), 0);
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res2), 0);
	assert_false(hit);
	/* no commit record (a crash before the .sum was renamed): rebuilt */
	assert_int_equal(unlink(sum), 0);
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res2), 0);
	assert_false(hit);
	testutil_write_file(sum, "flashd-cache 1 zstd 12", 22);
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res2), 0);
	assert_false(hit);
	assert_string_equal(res2.sha256, want);
	assert_int_equal(count_files(cache), 2);
	decompress_cache_drop(cache, sha);
	assert_int_equal(count_files(cache), 0);
	free(c.p);
}

static void test_cache_failure_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	struct buf c = make_stream(DECOMPRESS_FORMAT_ZSTD, fx->payload, PAYLOAD_SIZE);
	struct decompress_result res;
	char cache[1024];
	bool hit;

	snprintf(cache, sizeof(cache), "%s/cache", fx->dir);
	c.n /= 2;
	assert_int_equal(cache_get(fx, cache, &c, &hit, &res), -EBADMSG);
	assert_int_equal(count_files(cache), 0);
	free(c.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concatenated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_failure_leaves_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
