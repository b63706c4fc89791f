/* test-sparse_map: the block map of raw images — classification, the
 * in-order contract, bounds — and that a raw→sparse writer given the map
 * produces exactly the pieces it produces without it, while never reading a
 * zero block (those pages are PROT_NONE in one test).
 * Random cases derive from one seed, printed; SPARSE_TEST_SEED=0x… replays. */
#include <errno.h>
#include <inttypes.h>
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

#include "flashd/sparse.h"
#include "sparse-testlib.h"

static uint64_t test_seed = 0x5A9E3A9D1CEull;

/* Reference classification of whole block b, independent of the module. */
static enum sparse_map_kind ref_kind(const uint8_t *p, uint32_t blk)
{
	for (uint32_t i = 4; i < blk; i++)
		if (p[i] != p[i % 4])
			return SPARSE_MAP_DATA;
	return p[0] | p[1] | p[2] | p[3] ? SPARSE_MAP_FILL : SPARSE_MAP_ZERO;
}

/* Map of img built in random in-order steps: scans of 0..4 blocks, and
 * (when holes) runs of zero blocks marked as holes without reading. */
static struct sparse_map *build_map(struct rng *r, const uint8_t *img, size_t len, uint32_t blk, bool holes)
{
	struct sparse_map *m = NULL;
	uint64_t off = 0;

	assert_int_equal(sparse_map_new(len, blk, &m), 0);
	while (off < len) {
		uint64_t n = (uint64_t)rng_below(r, 5) * blk;
		bool zero = holes && n && rng_below(r, 2);

		if (n > len - off || (n == 0 && len - off < blk))
			n = len - off;
		for (uint64_t k = 0; zero && k < n; k++)
			zero = img[off + k] == 0;
		assert_false(sparse_map_complete(m));
		if (zero)
			assert_int_equal(sparse_map_zero(m, off, n), 0);
		else
			assert_int_equal(sparse_map_scan(m, off, img + off, (size_t)n), 0);
		off += n;
	}
	assert_true(sparse_map_complete(m));
	return m;
}

static void test_map_classifies(void **state)
{
	static const uint32_t blks[] = { 512, 1024, 4096, 8192 };
	struct rng r = { test_seed ^ 0x11 };
	uint64_t seen[3] = { 0 };

	for (int i = 0; i < 200; i++) {
		uint32_t blk = blks[rng_below(&r, 4)];
		size_t len;
		uint8_t *img = gen_raw(&r, rng_below(&r, 2) ? blk : 512, 64 * blk / 512, &len);
		struct sparse_map *m = build_map(&r, img, len, blk, rng_below(&r, 2));

		for (uint32_t b = 0; b < len / blk; b++) {
			enum sparse_map_kind k = ref_kind(img + (size_t)b * blk, blk);
			assert_int_equal(sparse_map_get(m, b), k);
			seen[k]++;
		}
		assert_null(sparse_map_free(m));
		free(img);
	}
	/* the generator made every kind, so each branch was checked */
	assert_true(seen[SPARSE_MAP_DATA] && seen[SPARSE_MAP_ZERO] && seen[SPARSE_MAP_FILL]);
}

static void test_map_contract(void **state)
{
	uint8_t img[3 * 512 + 100] = { 0 };
	struct sparse_map *m = NULL;

	/* bad block sizes and sizes past the bound */
	assert_int_equal(sparse_map_new(4096, 0, &m), -EINVAL);
	assert_int_equal(sparse_map_new(4096, 1000, &m), -EINVAL);
	assert_int_equal(sparse_map_new(4096, SPARSE_RAW_BLK_SZ_MAX + 512, &m), -EINVAL);
	assert_int_equal(sparse_map_new(4096, 512, NULL), -EINVAL);
	assert_int_equal(sparse_map_new((uint64_t)(SPARSE_MAP_MAX_BLKS + 1ull) * 512, 512, &m), -EFBIG);
	assert_null(m);
	assert_int_equal(sparse_map_new((uint64_t)SPARSE_MAP_MAX_BLKS * 512 + 511, 512, &m), 0);
	assert_false(sparse_map_complete(m));
	m = sparse_map_free(m);

	assert_int_equal(sparse_map_new(sizeof(img), 512, &m), 0);
	assert_int_equal(sparse_map_scan(m, 512, img, 512), -EINVAL);          /* not in order */
	assert_int_equal(sparse_map_scan(m, 0, img, 700), -EINVAL);            /* not whole blocks */
	assert_int_equal(sparse_map_zero(m, 0, sizeof(img) + 512), -EINVAL);  /* past the end */
	assert_int_equal(sparse_map_scan(m, 0, NULL, 512), -EINVAL);
	assert_int_equal(sparse_map_scan(NULL, 0, img, 512), -EINVAL);
	assert_int_equal(sparse_map_zero(m, 0, 1024), 0);
	assert_int_equal(sparse_map_zero(m, 512, 512), -EINVAL);              /* covered already */
	assert_false(sparse_map_complete(m));
	assert_int_equal(sparse_map_scan(m, 1024, img + 1024, 0), 0);          /* empty: no-op */
	/* the last range may end in a partial block */
	assert_int_equal(sparse_map_scan(m, 1024, img + 1024, sizeof(img) - 1024), 0);
	assert_true(sparse_map_complete(m));
	assert_int_equal(sparse_map_scan(m, sizeof(img), img, 512), -EINVAL);
	assert_false(sparse_map_complete(NULL));
	assert_null(sparse_map_free(m));
	assert_null(sparse_map_free(NULL));
}

/* All pieces of a writer over buf, concatenated with their sizes. */
struct pieces {
	struct vec bytes;
	struct vec sizes; /* size, write_bytes per piece, as uint64 pairs */
};

static void collect(const uint8_t *buf, size_t len, const struct sparse_opts *o, struct pieces *out)
{
	struct sparse_writer *w = NULL;
	struct sparse_piece pc;
	const char *why = NULL;
	int k;

	memset(out, 0, sizeof(*out));
	k = sparse_writer_new(IMGSRC_MEM(buf, len), o, &w, &why);
	if (k < 0)
		fail_msg("sparse_writer_new: %d %s", k, why);
	while ((k = sparse_writer_next(w, &pc)) == 1) {
		uint8_t *p = piece_concat(&pc, buf);
		uint64_t sz[2] = { pc.size, pc.write_bytes };

		memcpy(vec_grow(&out->bytes, pc.size), p, pc.size);
		memcpy(vec_grow(&out->sizes, sizeof(sz)), sz, sizeof(sz));
		free(p);
	}
	assert_int_equal(k, 0);
	sparse_writer_free(w);
}

static void expect_same(const struct pieces *a, const struct pieces *b)
{
	assert_int_equal(a->sizes.len, b->sizes.len);
	assert_memory_equal(a->sizes.p, b->sizes.p, a->sizes.len);
	assert_int_equal(a->bytes.len, b->bytes.len);
	assert_memory_equal(a->bytes.p, b->bytes.p, a->bytes.len);
}

static void pieces_free(struct pieces *p)
{
	free(p->bytes.p);
	free(p->sizes.p);
}

/* With the map (whole image or a block-aligned part of it), without it, and
 * with a map the writer must ignore: always the same pieces. */
static void test_writer_same_with_map(void **state)
{
	static const uint32_t blks[] = { 512, 2048, 4096 };
	struct rng r = { test_seed ^ 0x22 };
	unsigned used_off = 0;

	for (int i = 0; i < 300; i++) {
		uint32_t blk = blks[rng_below(&r, 3)];
		size_t len;
		uint8_t *img = gen_raw(&r, rng_below(&r, 3) ? blk : 512, 48 * blk / 512, &len);
		struct sparse_map *m = build_map(&r, img, len, blk, rng_below(&r, 2));
		uint64_t off = 0, n = len;
		struct sparse_opts plain = { .raw2sparse = true, .blk_sz = blk }, with;
		struct pieces a, b;

		if (len > blk && rng_below(&r, 2)) {   /* a part: from a block, any length */
			off = (uint64_t)rng_below(&r, (uint32_t)(len / blk)) * blk;
			n = 1 + rng_below(&r, (uint32_t)(len - off));
			used_off++;
		}
		with = plain;
		with.map = m;
		with.map_off = off;
		switch (rng_below(&r, 6)) {   /* one time in two, a map to ignore */
		case 0:   /* another block size */
			plain.blk_sz = with.blk_sz = blk == 512 ? 1024 : blk / 2;
			break;
		case 1:   /* buf not at a block of the map */
			with.map_off = off + 1;
			break;
		case 2:   /* buf outside the mapped image */
			with.map_off = (len / blk + 1) * blk;
			break;
		default:
			break;
		}
		plain.max_piece = with.max_piece = pick_max(&r, plain.blk_sz, (size_t)n);
		collect(img + off, (size_t)n, &plain, &a);
		collect(img + off, (size_t)n, &with, &b);
		expect_same(&a, &b);
		pieces_free(&a);
		pieces_free(&b);
		sparse_map_free(m);
		free(img);
	}
	assert_true(used_off > 50);
}

/* The claim itself: with the map, zero blocks are never read. Zero pages of
 * the image are made PROT_NONE after the map was built; any read faults. */
static void test_writer_reads_no_zero_block(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint32_t blk = (uint32_t)pg;
	const size_t nblk = 256;
	struct rng r = { test_seed ^ 0x33 };
	uint8_t *img, *expect, *dev;
	struct sparse_map *m;
	struct sparse_opts o = { .raw2sparse = true, .blk_sz = blk };
	struct sparse_writer *w = NULL;
	struct sparse_piece pc;
	const char *why = NULL;
	unsigned zeros = 0;

	if (pg < 512 || pg % 512 || pg > (long)SPARSE_RAW_BLK_SZ_MAX)
		skip();
	img = mmap(NULL, nblk * blk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(img != MAP_FAILED);
	for (size_t b = 0; b < nblk; b++) {
		/* block 0 is data: the writer probes the first bytes for the sparse magic */
		uint32_t kind = b ? rng_below(&r, 4) : 1, pat = 0xA5A5A5A5u;

		if (kind == 0)
			for (size_t k = 0; k < blk; k += 4)
				memcpy(img + b * blk + k, &pat, 4);
		else if (kind == 1)
			rng_fill(&r, img + b * blk, blk);
	}
	expect = malloc(nblk * blk);
	dev = malloc(nblk * blk);
	assert_non_null(expect);
	assert_non_null(dev);
	memcpy(expect, img, nblk * blk);
	memset(dev, 0x5C, nblk * blk);
	m = build_map(&r, img, nblk * blk, blk, true);
	for (size_t b = 0; b < nblk; b++)
		if (sparse_map_get(m, (uint32_t)b) == SPARSE_MAP_ZERO) {
			assert_int_equal(mprotect(img + b * blk, blk, PROT_NONE), 0);
			zeros++;
		}
	assert_true(zeros > 64);
	o.map = m;
	o.max_piece = 16 * (uint64_t)blk;
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(img, nblk * blk), &o, &w, &why), 0);
	while (sparse_writer_next(w, &pc) == 1) {
		uint8_t *p = piece_concat(&pc, img);
		assert_true(apply(p, pc.size, dev, nblk * blk, false) == pc.write_bytes);
		free(p);
	}
	sparse_writer_free(w);
	assert_memory_equal(dev, expect, nblk * blk);
	sparse_map_free(m);
	munmap(img, nblk * blk);
	free(expect);
	free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_classifies),
		cmocka_unit_test(test_map_contract),
		cmocka_unit_test(test_writer_same_with_map),
		cmocka_unit_test(test_writer_reads_no_zero_block),
	};
	const char *seed = getenv("SPARSE_TEST_SEED");

	if (seed)
		test_seed = strtoull(seed, NULL, 0);
	printf("test-sparse_map: seed 0x%" PRIx64 "\n", test_seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
