/* test-sparse: sparse_probe validation, the piece writer (re-split and raw →
 * sparse), property tests against a U-Boot-semantics applier, and checks
 * against AOSP's img2simg / simg2simg / simg2img when they are installed.
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

#define BLK 4096u

static uint64_t test_seed = 0x5EED0F1A5D5EEDull;

/* ---- running the writer ---------------------------------------------- */

struct run {
	const uint8_t *img;        /* the input */
	size_t len;
	struct sparse_opts opts;
	const uint8_t *garbage;    /* initial device content */
	const uint8_t *expect;     /* device content after all pieces */
	size_t devlen;
	const struct tmpdir *simg; /* check pieces with simg2img when set */
	unsigned simg_budget;      /* how many pieces simg2img checks */
	uint64_t pieces;           /* out */
};

/* Bytes a piece holds outside the image: headers and the one tail block. */
static uint64_t piece_copied(const struct run *r, const struct sparse_piece *pc)
{
	uint64_t out = 0;

	for (size_t i = 0; i < pc->nseg; i++)
		if (pc->seg[i].gen)
			out += pc->seg[i].len;
	return out;
}

static void check_piece(struct run *r, const struct sparse_piece *pc, const struct sparse_info *in, uint8_t *dev)
{
	struct sparse_info info;
	const char *why = NULL;
	uint8_t *p;

	assert_true(pc->size <= r->opts.max_piece);
	p = piece_concat(pc, r->img);
	if (!pc->sparse) {
		assert_false(in->sparse);
		assert_int_equal(pc->nseg, 1);
		assert_true(!pc->seg[0].gen && pc->seg[0].off == 0);
		assert_true(pc->size == r->len);
	} else {
		assert_int_equal(sparse_probe(p, pc->size, &info, &why), 0);
		assert_true(info.sparse);
		assert_true(info.expanded_size == r->devlen);
		/* segment list bounded by the chunk count; no image data copied
		 * beyond one tail block */
		assert_true(pc->nseg <= 2 * (size_t)info.total_chunks + 2);
		assert_true(piece_copied(r, pc) <= SPARSE_FILE_HDR_SZ + 16ull * info.total_chunks + info.blk_sz);
		if (r->simg && r->simg_budget) {
			r->simg_budget--;
			check_with_simg2img(r->simg, p, pc->size, r->expect);
		}
	}
	assert_true(apply(p, pc->size, dev, r->devlen, false) == pc->write_bytes);
	free(p);
}

static void run_writer(struct run *r)
{
	struct sparse_writer *w = NULL;
	struct sparse_piece pc;
	struct sparse_info in;
	const char *why = NULL;
	uint8_t *dev = malloc(r->devlen ? r->devlen : 1);
	uint64_t n = 0, counted = 0;
	int k;

	assert_non_null(dev);
	memcpy(dev, r->garbage, r->devlen);
	assert_int_equal(sparse_probe(r->img, r->len, &in, &why), 0);
	k = sparse_writer_new(IMGSRC_MEM(r->img, r->len), &r->opts, &w, &why);
	if (k < 0)
		fail_msg("sparse_writer_new: %d %s", k, why);
	while ((k = sparse_writer_next(w, &pc)) == 1) {
		check_piece(r, &pc, &in, dev);
		n++;
	}
	assert_int_equal(k, 0);
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	assert_null(sparse_writer_free(w));
	assert_int_equal(sparse_count_pieces(IMGSRC_MEM(r->img, r->len), &r->opts, &counted, &why), 0);
	assert_true(counted == n && n >= 1);
	assert_memory_equal(dev, r->expect, r->devlen);
	r->pieces = n;
	free(dev);
}

/* A device of devlen garbage bytes, and a copy of it to edit into what the
 * device must hold in the end. */
static void new_device(struct rng *r, size_t devlen, uint8_t **garbage, uint8_t **expect)
{
	*garbage = malloc(devlen ? devlen : 1);
	*expect = malloc(devlen ? devlen : 1);
	assert_non_null(*garbage);
	assert_non_null(*expect);
	rng_fill(r, *garbage, devlen);
	memcpy(*expect, *garbage, devlen);
}

/* Runs the writer over a copy of img that ends right before a guard page,
 * on a device that starts as garbage and must end as expect (both freed). */
static void run_guarded(struct run *run, const uint8_t *img, size_t len, uint8_t *garbage,
			uint8_t *expect)
{
	struct gbuf g;

	gbuf_new(&g, img, len);
	run->img = g.p;
	run->len = len;
	run->garbage = garbage;
	run->expect = expect;
	run_writer(run);
	gbuf_free(&g);
	free(garbage);
	free(expect);
}

static uint64_t check_raw(const uint8_t *img, size_t len, const struct sparse_opts *o, const struct tmpdir *t,
			  unsigned *simg_budget, struct rng *r)
{
	uint32_t blk = o->blk_sz ? o->blk_sz : BLK;
	size_t devlen = (len + blk - 1) / blk * blk;
	uint8_t *garbage, *expect;
	struct run run = { .opts = *o, .devlen = devlen, .simg = t, .simg_budget = t ? *simg_budget : 0 };

	new_device(r, devlen, &garbage, &expect);
	memcpy(expect, img, len);
	if (o->raw2sparse || len > o->max_piece)
		memset(expect + len, 0, devlen - len); /* the padded tail block */
	run_guarded(&run, img, len, garbage, expect);
	if (t)
		*simg_budget = run.simg_budget;
	return run.pieces;
}

/* Run the writer over a sparse image: the pieces must leave the device as
 * the original file itself would (skipped ranges keep the garbage). */
static uint64_t check_sparse(const uint8_t *img, size_t len, uint64_t max, struct rng *r)
{
	struct sparse_info info;
	struct run run = { .opts = { .max_piece = max } };
	uint8_t *garbage, *expect;

	assert_int_equal(sparse_probe(img, len, &info, NULL), 0);
	assert_true(info.sparse);
	run.devlen = (size_t)info.expanded_size;
	new_device(r, run.devlen, &garbage, &expect);
	apply(img, len, expect, run.devlen, true);
	run_guarded(&run, img, len, garbage, expect);
	return run.pieces;
}

/* ---- tests: sparse_probe ---------------------------------------------- */

static void test_probe_raw(void **state)
{
	static const uint8_t almost[] = { 0x3A, 0xFF, 0x26 };
	static const uint8_t other[64] = { 0x3A, 0xFF, 0x26, 0xEE };
	struct sparse_info info;
	const char *why = NULL;

	assert_int_equal(sparse_probe(NULL, 0, &info, &why), 0);
	assert_false(info.sparse);
	assert_true(info.size == 0 && info.expanded_size == 0);
	assert_int_equal(sparse_probe(almost, sizeof(almost), &info, &why), 0);
	assert_false(info.sparse);
	assert_int_equal(sparse_probe(other, sizeof(other), &info, &why), 0);
	assert_false(info.sparse);
	assert_int_equal(info.blk_sz, 0);
	assert_true(info.size == 64 && info.expanded_size == 64);
	assert_int_equal(sparse_probe(NULL, 5, &info, &why), -EINVAL);
	assert_int_equal(sparse_probe(other, 64, NULL, &why), -EINVAL);
}

/* A valid file with one chunk of each type: RAW 2, FILL 3, DONT_CARE 1,
 * CRC32, RAW 1, in blocks of 512. */
static struct vec probe_sample(uint16_t fhs, uint16_t chs)
{
	struct vec v = { 0 };
	uint8_t data[3 * 512], pat[4] = { 0x11, 0x22, 0x33, 0x44 }, c[4], fill[512], zero[512] = { 0 };
	uint32_t crc;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(fill); i += 4)
		memcpy(fill + i, pat, 4);
	crc = ref_crc32(0, data, 1024);
	for (int i = 0; i < 3; i++)
		crc = ref_crc32(crc, fill, 512);
	crc = ref_crc32(crc, zero, 512);
	wr32(c, crc);
	sb_header(&v, fhs, chs, 512, 7, 5);
	sb_chunk(&v, chs, SPARSE_CHUNK_RAW, 2, chs + 1024u, data, 1024);
	sb_chunk(&v, chs, SPARSE_CHUNK_FILL, 3, chs + 4u, pat, 4);
	sb_chunk(&v, chs, SPARSE_CHUNK_DONT_CARE, 1, chs, NULL, 0);
	sb_chunk(&v, chs, SPARSE_CHUNK_CRC32, 0, chs + 4u, c, 4);
	sb_chunk(&v, chs, SPARSE_CHUNK_RAW, 1, chs + 512u, data + 1024, 512);
	return v;
}

static void test_probe_chunks(void **state)
{
	static const uint16_t hs[][2] = { { 28, 12 }, { 32, 16 }, { 40, 13 } };
	struct sparse_info info;
	const char *why = NULL;

	for (size_t k = 0; k < 3; k++) {
		struct vec v = probe_sample(hs[k][0], hs[k][1]);
		wr16(v.p + 6, (uint16_t)(k * 7)); /* any minor version */
		uint8_t dev[7 * 512], want[7 * 512];
		int r = sparse_probe(v.p, v.len, &info, &why);

		if (r)
			fail_msg("probe: %s", why);
		assert_true(info.sparse);
		assert_int_equal(info.blk_sz, 512);
		assert_int_equal(info.total_blks, 7);
		assert_int_equal(info.total_chunks, 5);
		assert_true(info.size == v.len && info.expanded_size == 7 * 512);
		/* the expansion, checked by hand */
		memset(dev, 0xEE, sizeof(dev));
		apply(v.p, v.len, dev, sizeof(dev), true);
		for (size_t i = 0; i < 1024; i++)
			assert_int_equal(dev[i], (uint8_t)(i * 7 + 3));
		for (size_t i = 1024; i < 2560; i++)
			assert_int_equal(dev[i], 0x11 + 0x11 * (i % 4));
		memset(want, 0xEE, 512);
		assert_memory_equal(dev + 2560, want, 512);
		for (size_t i = 3072; i < 3584; i++)
			assert_int_equal(dev[i], (uint8_t)((i - 3072 + 1024) * 7 + 3));
		free(v.p);
	}
}

struct probe_case {
	const char *name;
	size_t at;          /* patch offset (SIZE_MAX: none) */
	int width;          /* 2 or 4 */
	uint32_t value;
	ptrdiff_t resize;   /* bytes added (>0) or cut (<0) at the end */
	const char *why;    /* expected substring */
};

/* offsets in probe_sample(28, 12): chunks at 28 (RAW), 1064 (FILL),
 * 1080 (DONT_CARE), 1092 (CRC32), 1108 (RAW), end 1632 */
static const struct probe_case probe_cases[] = {
	{ "short header", SIZE_MAX, 0, 0, 20 - 1632, "truncated sparse file header" },
	{ "major 2", 4, 2, 2, 0, "major version" },
	{ "file_hdr_sz 27", 8, 2, 27, 0, "file_hdr_sz below 28" },
	{ "file_hdr_sz > file", 8, 2, 4000, 0, "header longer than the file" },
	{ "chunk_hdr_sz 11", 10, 2, 11, 0, "chunk_hdr_sz below 12" },
	{ "blk_sz 0", 12, 4, 0, 0, "zero or not a multiple of 4" },
	{ "blk_sz 1026", 12, 4, 1026, 0, "zero or not a multiple of 4" },
	{ "blk_sz 1028", 12, 4, 1028, 0, "multiple of 512 (U-Boot" },
	{ "total_blks 0", 16, 4, 0, 0, "total_blks 0" },
	{ "total_blks 6", 16, 4, 6, 0, "more blocks than total_blks" },
	{ "total_blks 8", 16, 4, 8, 0, "fewer blocks than total_blks" },
	{ "total_chunks 6", 20, 4, 6, 0, "ends before its last chunk" },
	{ "total_chunks 4", 20, 4, 4, 0, "trailing data" },
	{ "trailing byte", SIZE_MAX, 0, 0, 1, "trailing data" },
	{ "cut in last chunk", SIZE_MAX, 0, 0, -1, "past the end of the file" },
	{ "cut in chunk header", SIZE_MAX, 0, 0, -520, "ends before its last chunk" },
	{ "unknown type", 1064, 2, 0xCAC5, 0, "unknown sparse chunk type" },
	{ "RAW total_sz", 28 + 8, 4, 12 + 1023, 0, "RAW chunk total_sz" },
	/* 0x800002 × 512 = 2^32 + 1024: a 32-bit sum would match total_sz */
	{ "RAW 32-bit wrap", 28 + 4, 4, 0x800002, 0, "RAW chunk total_sz" },
	{ "FILL total_sz", 1064 + 8, 4, 20, 0, "FILL chunk total_sz" },
	{ "DONT_CARE total_sz", 1080 + 8, 4, 16, 0, "DONT_CARE chunk total_sz" },
	{ "CRC32 chunk_sz", 1092 + 4, 4, 1, 0, "CRC32 chunk with a non-zero chunk_sz" },
	{ "CRC32 total_sz", 1092 + 8, 4, 12, 0, "CRC32 chunk total_sz" },
	{ "CRC32 value", 1092 + 12, 4, 0x12345678, 0, "CRC32 chunk does not match" },
	{ "CRC32 data changed", 40, 4, 0xDEADBEEF, 0, "CRC32 chunk does not match" },
	{ "CRC32 fill changed", 1076, 4, 0x44332212, 0, "CRC32 chunk does not match" },
};

static void test_probe_errors(void **state)
{
	for (size_t i = 0; i < sizeof(probe_cases) / sizeof(probe_cases[0]); i++) {
		const struct probe_case *c = &probe_cases[i];
		struct vec v = probe_sample(28, 12);
		struct sparse_info info = { .blk_sz = 777 };
		const char *why = NULL;
		size_t len = v.len;

		assert_int_equal(v.len, 1632);
		if (c->at != SIZE_MAX)
			(c->width == 2 ? wr16(v.p + c->at, (uint16_t)c->value) : wr32(v.p + c->at, c->value));
		if (c->resize > 0)
			memset(vec_grow(&v, (size_t)c->resize), 0, (size_t)c->resize);
		len = (size_t)((ptrdiff_t)v.len + (c->resize < 0 ? c->resize : 0));
		if (sparse_probe(v.p, len, &info, &why) != -EBADMSG)
			fail_msg("%s: accepted", c->name);
		if (!why || !strstr(why, c->why))
			fail_msg("%s: reason \"%s\", want \"%s\"", c->name, why ? why : "(null)", c->why);
		assert_int_equal(info.blk_sz, 777); /* untouched on error */
		assert_int_equal(sparse_probe(v.p, len, &info, NULL), -EBADMSG);
		free(v.p);
	}
}

/* CRC32 after a large FILL and DONT_CARE: the folded CRC must equal the
 * reference over the expansion; a fill of 2^32-1 huge blocks stays fast. */
static void test_probe_crc_fold(void **state)
{
	struct rng r = { test_seed ^ 0xC7C };
	uint8_t pat[4], c[4], blkbuf[4096], zero[4096] = { 0 };
	uint32_t blk = 4096, nf = 1500 + rng_below(&r, 1000), nd = 700 + rng_below(&r, 500), crc = 0;
	struct sparse_info info;
	const char *why = NULL;
	struct vec v = { 0 };

	rng_fill(&r, pat, 4);
	for (uint32_t k = 0; k < blk; k += 4)
		memcpy(blkbuf + k, pat, 4);
	for (uint32_t k = 0; k < nf; k++)
		crc = ref_crc32(crc, blkbuf, blk);
	for (uint32_t k = 0; k < nd; k++)
		crc = ref_crc32(crc, zero, blk);
	wr32(c, crc);
	sb_header(&v, 28, 12, blk, nf + nd, 3);
	sb_chunk(&v, 12, SPARSE_CHUNK_FILL, nf, 16, pat, 4);
	sb_chunk(&v, 12, SPARSE_CHUNK_DONT_CARE, nd, 12, NULL, 0);
	sb_chunk(&v, 12, SPARSE_CHUNK_CRC32, 0, 16, c, 4);
	if (sparse_probe(v.p, v.len, &info, &why))
		fail_msg("fold: %s", why);
	wr32(v.p + v.len - 4, crc ^ 1);
	assert_int_equal(sparse_probe(v.p, v.len, &info, &why), -EBADMSG);
	/* hostile sizes: 2^32-1 blocks of 2^31 bytes, then a CRC32 chunk */
	wr32(v.p + 12, 0x80000000u);
	wr32(v.p + 16, 0xFFFFFFFFu);
	wr32(v.p + 28 + 4, 0xFFFFFFFFu - nd);
	assert_int_equal(sparse_probe(v.p, v.len, &info, &why), -EBADMSG);
	assert_non_null(strstr(why, "CRC32 chunk does not match"));
	free(v.p);
}

/* ---- tests: writer arguments and errors ------------------------------- */

static void expect_new_fail(const uint8_t *buf, size_t len, const struct sparse_opts *o, int err, const char *sub)
{
	struct sparse_writer *w = (struct sparse_writer *)&w;
	const char *why = NULL;
	uint64_t n = 99;

	assert_int_equal(sparse_writer_new(IMGSRC_MEM(buf, len), o, &w, &why), err);
	assert_ptr_equal(w, (struct sparse_writer *)&w); /* untouched */
	if (!why || !strstr(why, sub))
		fail_msg("reason \"%s\", want \"%s\"", why ? why : "(null)", sub);
	assert_int_equal(sparse_count_pieces(IMGSRC_MEM(buf, len), o, &n, &why), err);
	assert_true(n == 99);
}

static void test_writer_errors(void **state)
{
	static uint8_t img[8192];
	struct vec v = probe_sample(28, 12);
	struct sparse_writer *w;
	struct sparse_piece pc;
	struct sparse_opts o = { .max_piece = 1 << 20 };
	uint64_t n;

	expect_new_fail(NULL, 10, &o, -EINVAL, "invalid arguments");
	expect_new_fail(img, sizeof(img), NULL, -EINVAL, "invalid arguments");
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(img, sizeof(img)), &o, NULL, NULL), -EINVAL);
	assert_int_equal(sparse_count_pieces(IMGSRC_MEM(img, sizeof(img)), &o, NULL, NULL), -EINVAL);
	expect_new_fail(img, 0, &o, -EINVAL, "empty image");
	o.raw2sparse = true;
	o.blk_sz = 1000;
	expect_new_fail(img, sizeof(img), &o, -EINVAL, "multiple of 512");
	o.blk_sz = SPARSE_RAW_BLK_SZ_MAX * 2;
	expect_new_fail(img, sizeof(img), &o, -EINVAL, "above 1 MiB");
	/* more than 2^32-1 blocks of 512: the length alone decides, no byte is
	 * read since the length is a whole number of blocks */
	o.blk_sz = 512;
	if (sizeof(size_t) > 4)
		expect_new_fail(img, (size_t)512 << 32, &o, -EFBIG, "2^32-1 blocks");
	/* max too small, for raw2sparse, large raw and sparse input */
	o.blk_sz = 0;
	o.max_piece = sparse_min_piece(4096) - 1;
	expect_new_fail(img, sizeof(img), &o, -EINVAL, "too small");
	o.raw2sparse = false;
	expect_new_fail(img, sizeof(img), &o, -EINVAL, "too small");
	o.max_piece = sparse_min_piece(512) - 1;
	expect_new_fail(v.p, v.len, &o, -EINVAL, "too small");
	o.max_piece = 0;
	expect_new_fail(img, sizeof(img), &o, -EINVAL, "too small");
	/* probe errors come through */
	o.max_piece = 1 << 20;
	wr16(v.p + 4, 2);
	expect_new_fail(v.p, v.len, &o, -EBADMSG, "major version");
	/* the minimum works */
	wr16(v.p + 4, 1);
	o.max_piece = sparse_min_piece(512);
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(v.p, v.len), &o, &w, NULL), 0);
	assert_int_equal(sparse_writer_next(NULL, &pc), -EINVAL);
	assert_int_equal(sparse_writer_next(w, NULL), -EINVAL);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	assert_true(pc.size <= o.max_piece);
	assert_null(sparse_writer_free(w));
	assert_null(sparse_writer_free(NULL));
	assert_int_equal(sparse_count_pieces(IMGSRC_MEM(v.p, v.len), &o, &n, NULL), 0);
	/* [RAW 1, DC 6] [DC 1, RAW 1, DC 5] [DC 2, FILL 3, DC 2] [DC 6, RAW 1] */
	assert_true(n == 4);
	free(v.p);
}

/* ---- tests: writer layouts ------------------------------------------- */

struct want_chunk {
	uint16_t type;
	uint32_t blocks;
};

/* Decode a piece's chunk list (headers only) and compare. */
static void expect_chunks(const struct sparse_piece *pc, const uint8_t *img, const struct want_chunk *want,
			  size_t n)
{
	uint8_t *p = piece_concat(pc, img);
	size_t off = SPARSE_FILE_HDR_SZ;

	assert_int_equal(rd32(p + 20), n);
	for (size_t i = 0; i < n; i++) {
		if (rd16(p + off) != want[i].type || rd32(p + off + 4) != want[i].blocks)
			fail_msg("chunk %zu: %#x × %u, want %#x × %u", i, rd16(p + off), rd32(p + off + 4),
				 want[i].type, want[i].blocks);
		off += rd32(p + off + 8);
	}
	assert_true(off == pc->size);
	free(p);
}

static void test_raw_single_piece(void **state)
{
	static uint8_t img[5000];
	struct sparse_opts o = { .max_piece = sizeof(img) };
	struct sparse_writer *w;
	struct sparse_piece pc;
	uint64_t n;

	memset(img, 0x42, sizeof(img));
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(img, sizeof(img)), &o, &w, NULL), 0);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	assert_false(pc.sparse);
	assert_int_equal(pc.nseg, 1);
	assert_true(!pc.seg[0].gen && pc.seg[0].off == 0);
	assert_true(pc.seg[0].len == sizeof(img) && pc.size == sizeof(img));
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	sparse_writer_free(w);
	assert_int_equal(sparse_count_pieces(IMGSRC_MEM(img, sizeof(img)), &o, &n, NULL), 0);
	assert_true(n == 1);
	/* one byte more than max: all-RAW sparse pieces, no zero detection */
	o.max_piece = sizeof(img) - 1;
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(img, sizeof(img)), &o, &w, NULL), 0);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	assert_true(pc.sparse);
	expect_chunks(&pc, img, (const struct want_chunk[]){ { SPARSE_CHUNK_RAW, 1 }, { SPARSE_CHUNK_DONT_CARE, 1 } },
		      2);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	expect_chunks(&pc, img, (const struct want_chunk[]){ { SPARSE_CHUNK_DONT_CARE, 1 }, { SPARSE_CHUNK_RAW, 1 } },
		      2);
	assert_non_null(pc.seg[pc.nseg - 1].gen); /* the padded tail copy */
	assert_int_equal(pc.seg[pc.nseg - 1].len, 4096);
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	sparse_writer_free(w);
}

/* data, zero ×3, fill ×2, near-fill, data, zero, half block of data */
static void test_raw2sparse_layout(void **state)
{
	uint8_t *img = calloc(9, BLK);
	size_t len = 8 * BLK + BLK / 2;
	struct sparse_opts o = { .max_piece = 1 << 20, .raw2sparse = true };
	struct sparse_writer *w;
	struct sparse_piece pc;
	struct gbuf g;

	assert_non_null(img);
	for (size_t k = 0; k < BLK; k++)
		img[k] = (uint8_t)(k * 13 + 1);
	for (size_t k = 4 * BLK; k < 7 * BLK; k += 4)
		wr32(img + k, 0xCAFEF00Du);
	img[7 * BLK - 1] = 0; /* block 6: not a fill */
	for (size_t k = 7 * BLK; k < 8 * BLK; k++)
		img[k] = (uint8_t)k;
	memset(img + 8 * BLK, 0x77, BLK / 2);
	gbuf_new(&g, img, len);
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(g.p, len), &o, &w, NULL), 0);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	expect_chunks(&pc, g.p,
		      (const struct want_chunk[]){ { SPARSE_CHUNK_RAW, 1 },
						   { SPARSE_CHUNK_FILL, 3 },
						   { SPARSE_CHUNK_FILL, 2 },
						   { SPARSE_CHUNK_RAW, 3 } },
		      4);
	/* header, data (into the image), header, data, tail copy */
	assert_int_equal(pc.nseg, 5);
	assert_true(!pc.seg[1].gen && pc.seg[1].off == 0);
	assert_true(!pc.seg[3].gen && pc.seg[3].off == 6 * BLK);
	assert_int_equal(pc.seg[3].len, 2 * BLK);
	assert_non_null(pc.seg[4].gen);
	assert_memory_equal(pc.seg[4].gen, g.p + 8 * BLK, BLK / 2);
	for (size_t k = BLK / 2; k < BLK; k++)
		assert_int_equal(pc.seg[4].gen[k], 0);
	/* FILL 0 (16 bytes), then the second FILL's header and pattern */
	assert_int_equal(rd32(pc.seg[2].gen + 16 + 12), 0xCAFEF00Du);
	assert_int_equal(rd32(pc.seg[2].gen + 12), 0);
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	sparse_writer_free(w);
	gbuf_free(&g);
	free(img);
}

/* AOSP's simg2simg cuts the same file into the same bytes as ours. */
static void compare_simg2simg(const uint8_t *img, size_t len, const char *max, uint8_t *const *ours,
			      const size_t *ourlen, int n)
{
	static const char *const names[] = { "in.simg", "out.0", "out.1", "out.2", "out.3", NULL };
	char in[512], out[512], nm[16];
	struct tmpdir t;

	assert_true(n <= 4);
	tmpdir_new(&t);
	tmpdir_path(&t, in, sizeof(in), "in.simg");
	tmpdir_path(&t, out, sizeof(out), "out");
	write_file(in, img, len);
	assert_int_equal(run_tool("simg2simg", in, out, max), 0);
	for (int i = 0; i < n; i++) {
		size_t tlen;
		uint8_t *theirs;

		snprintf(nm, sizeof(nm), "out.%d", i);
		tmpdir_path(&t, out, sizeof(out), nm);
		theirs = read_file(out, &tlen);
		assert_true(tlen == ourlen[i]);
		assert_memory_equal(theirs, ours[i], tlen);
		free(theirs);
	}
	snprintf(nm, sizeof(nm), "out.%d", n);
	tmpdir_path(&t, out, sizeof(out), nm);
	assert_int_equal(access(out, F_OK), -1); /* no extra piece */
	tmpdir_free(&t, names);
}

/* protocols.md §5.3: a 40-block image at 64 KiB gives [RAW 15, SKIP 25],
 * [SKIP 15, RAW 15, SKIP 10], [SKIP 30, RAW 10] — as simg2simg does. */
static void test_resplit_layout(void **state)
{
	struct rng r = { test_seed ^ 0x40 };
	uint8_t *data = malloc(40 * BLK);
	struct vec v = { 0 };
	struct sparse_opts o = { .max_piece = 65536 };
	struct sparse_writer *w;
	struct sparse_piece pc[3];
	uint8_t *ours[3];
	size_t ourlen[3];

	assert_non_null(data);
	rng_fill(&r, data, 40 * BLK);
	sb_header(&v, 28, 12, BLK, 40, 1);
	sb_chunk(&v, 12, SPARSE_CHUNK_RAW, 40, 12 + 40 * BLK, data, 40 * BLK);
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(v.p, v.len), &o, &w, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sparse_writer_next(w, &pc[i]), 1);
		if (i == 0)
			expect_chunks(&pc[i], v.p, (const struct want_chunk[]){ { SPARSE_CHUNK_RAW, 15 },
									   { SPARSE_CHUNK_DONT_CARE, 25 } }, 2);
		if (i == 1)
			expect_chunks(&pc[i], v.p, (const struct want_chunk[]){ { SPARSE_CHUNK_DONT_CARE, 15 },
									   { SPARSE_CHUNK_RAW, 15 },
									   { SPARSE_CHUNK_DONT_CARE, 10 } }, 3);
		if (i == 2)
			expect_chunks(&pc[i], v.p, (const struct want_chunk[]){ { SPARSE_CHUNK_DONT_CARE, 30 },
									   { SPARSE_CHUNK_RAW, 10 } }, 2);
		ours[i] = piece_concat(&pc[i], v.p);
		ourlen[i] = pc[i].size;
	}
	assert_int_equal(sparse_writer_next(w, &pc[0]), 0);
	sparse_writer_free(w);
	if (have_tool("simg2simg"))
		compare_simg2simg(v.p, v.len, "65536", ours, ourlen, 3);
	else
		print_message("simg2simg not installed: byte comparison skipped\n");
	for (int i = 0; i < 3; i++)
		free(ours[i]);
	free(v.p);
	free(data);
}

/* A sparse input that is only DONT_CARE becomes one piece, the same skip. */
static void test_resplit_only_skips(void **state)
{
	struct vec v = { 0 };
	struct sparse_opts o = { .max_piece = sparse_min_piece(4096) };
	struct sparse_writer *w;
	struct sparse_piece pc;

	sb_header(&v, 28, 12, 4096, 1000, 2);
	sb_chunk(&v, 12, SPARSE_CHUNK_DONT_CARE, 400, 12, NULL, 0);
	sb_chunk(&v, 12, SPARSE_CHUNK_DONT_CARE, 600, 12, NULL, 0);
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(v.p, v.len), &o, &w, NULL), 0);
	assert_int_equal(sparse_writer_next(w, &pc), 1);
	expect_chunks(&pc, v.p, (const struct want_chunk[]){ { SPARSE_CHUNK_DONT_CARE, 1000 } }, 1);
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	sparse_writer_free(w);
	free(v.p);
}

/* A raw image bigger than 4 GiB with max above 4 GiB: RAW chunks stay
 * under the 32-bit total_sz. The image is PROT_NONE: never read. */
static void test_raw_chunk_cap(void **state)
{
	size_t len = (size_t)9 << 30;
	struct sparse_opts o = { .max_piece = ((uint64_t)17 << 29) };
	struct sparse_writer *w;
	struct sparse_piece pc;
	void *map;

	if (sizeof(size_t) == 4)
		skip();
	map = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		print_message("cannot reserve 9 GiB of address space: skipped\n");
		skip();
	}
	/* probe reads 4 bytes: give it a readable first page */
	assert_int_equal(mprotect(map, 4096, PROT_READ), 0);
	assert_int_equal(sparse_writer_new(IMGSRC_MEM(map, len), &o, &w, NULL), 0);
	for (int i = 0; i < 2; i++) {
		uint64_t data = 0;
		assert_int_equal(sparse_writer_next(w, &pc), 1);
		assert_true(pc.size <= o.max_piece);
		for (size_t s = 0; s < pc.nseg; s++) {
			if (!pc.seg[s].gen) {
				assert_true(pc.seg[s].len <= UINT32_MAX - 12);
				/* the header segment right before it ends with this chunk's header */
				const struct sparse_seg *h = &pc.seg[s - 1];
				assert_true(rd32(h->gen + h->len - 4) == 12 + pc.seg[s].len);
				data += pc.seg[s].len;
			}
		}
		assert_true(data > 0);
	}
	assert_int_equal(sparse_writer_next(w, &pc), 0);
	sparse_writer_free(w);
	munmap(map, len);
}

/* ---- tests: AOSP tools and properties --------------------------------- */

/* Random raw images through img2simg, then re-split and applied. */
static void test_img2simg_resplit(void **state)
{
	static const char *const names[] = { "raw", "img.simg", NULL };
	struct rng r = { test_seed ^ 0x1265 };
	struct tmpdir t;
	char raw[512], simg[512], bs[16];

	if (!have_tool("img2simg")) {
		print_message("img2simg not installed (android-sdk-libsparse-utils): skipped\n");
		skip();
	}
	tmpdir_new(&t);
	tmpdir_path(&t, raw, sizeof(raw), "raw");
	tmpdir_path(&t, simg, sizeof(simg), "img.simg");
	for (int i = 0; i < 12; i++) {
		uint32_t blk = i % 3 == 0 ? 1024 : 4096;
		size_t len, slen;
		uint8_t *img = gen_raw(&r, blk, 40, &len), *s;
		struct sparse_info info;

		write_file(raw, img, len);
		snprintf(bs, sizeof(bs), "%u", blk);
		assert_int_equal(run_tool("img2simg", raw, simg, bs), 0);
		s = read_file(simg, &slen);
		assert_int_equal(sparse_probe(s, slen, &info, NULL), 0);
		assert_true(info.sparse && info.blk_sz == blk);
		assert_true(info.total_blks == (len + blk - 1) / blk);
		for (int k = 0; k < 3; k++) {
			/* the expansion of the sparse file is the padded raw image */
			struct sparse_opts o = { .max_piece = pick_max(&r, blk, slen) };
			uint64_t a = check_sparse(s, slen, o.max_piece, &r);
			/* and raw2sparse of the raw file expands the same way */
			o.raw2sparse = true;
			o.blk_sz = blk;
				uint64_t b = check_raw(img, len, &o, NULL, NULL, &r);
			assert_true(a >= 1 && b >= 1);
		}
		free(s);
		free(img);
	}
	tmpdir_free(&t, names);
}

static void test_property_raw(void **state)
{
	static const uint32_t blks[] = { 512, 1024, 2048, 4096 };
	struct rng r = { test_seed ^ 0x7A3 };
	uint64_t pieces = 0;

	for (int i = 0; i < 300; i++) {
		uint32_t blk = blks[rng_below(&r, 4)];
		/* zero/fill runs aligned to the writer's blocks, or to smaller ones */
		uint32_t unit = rng_below(&r, 3) ? blk : 512;
		size_t len;
		uint8_t *img = gen_raw(&r, unit, 48 * blk / unit, &len);
		struct sparse_opts o = { .raw2sparse = rng_below(&r, 4) != 0,
					 .blk_sz = blk == BLK && rng_below(&r, 2) ? 0 : blk };

		o.max_piece = pick_max(&r, blk, len);
		pieces += check_raw(img, len, &o, NULL, NULL, &r);
		free(img);
	}
	print_message("raw property: 300 images, %" PRIu64 " pieces\n", pieces);
}

/* Pieces of random raw images expanded by AOSP's simg2img. */
static void test_simg2img_pieces(void **state)
{
	static const char *const names[] = { "piece.simg", "piece.raw", NULL };
	struct rng r = { test_seed ^ 0x516 };
	unsigned budget = 60;
	struct tmpdir t;

	if (!have_tool("simg2img")) {
		print_message("simg2img not installed (android-sdk-libsparse-utils): skipped\n");
		skip();
	}
	tmpdir_new(&t);
	for (int i = 0; i < 40 && budget; i++) {
		uint32_t blk = rng_below(&r, 2) ? 4096 : 512;
		size_t len;
		uint8_t *img = gen_raw(&r, blk, 32, &len);
		struct sparse_opts o = { .raw2sparse = rng_below(&r, 3) != 0, .blk_sz = blk };

		o.max_piece = sparse_min_piece(blk) + rng_below(&r, (uint32_t)len / 2 + 1);
		check_raw(img, len, &o, &t, &budget, &r);
		free(img);
	}
	tmpdir_free(&t, names);
	print_message("%u pieces checked with simg2img\n", 60 - budget);
}

static void test_property_sparse(void **state)
{
	struct rng r = { test_seed ^ 0x5A5 };
	uint64_t pieces = 0;

	for (int i = 0; i < 300; i++) {
		uint32_t blk;
		size_t len;
		uint8_t *s = gen_sparse(&r, &len, &blk);
		const char *why = NULL;
		struct sparse_info info;

		if (sparse_probe(s, len, &info, &why))
			fail_msg("generated sparse file %d rejected: %s", i, why);
		pieces += check_sparse(s, len, pick_max(&r, blk, len), &r);
		free(s);
	}
	print_message("sparse property: 300 files, %" PRIu64 " pieces\n", pieces);
}

int main(void)
{
	const char *env = getenv("SPARSE_TEST_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_raw),
		cmocka_unit_test(test_probe_chunks),
		cmocka_unit_test(test_probe_errors),
		cmocka_unit_test(test_probe_crc_fold),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_raw_single_piece),
		cmocka_unit_test(test_raw2sparse_layout),
		cmocka_unit_test(test_resplit_layout),
		cmocka_unit_test(test_resplit_only_skips),
		cmocka_unit_test(test_raw_chunk_cap),
		cmocka_unit_test(test_img2simg_resplit),
		cmocka_unit_test(test_property_raw),
		cmocka_unit_test(test_simg2img_pieces),
		cmocka_unit_test(test_property_sparse),
	};

	if (env && *env)
		test_seed = strtoull(env, NULL, 0);
	printf("# test-sparse seed 0x%" PRIx64 " (SPARSE_TEST_SEED=0x%" PRIx64 " replays)\n", test_seed, test_seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
