/* test-verify: the proof-of-flash pieces (verify.h) against an independent
 * expansion done here — the image written to a buffer chunk by chunk with a
 * mask of the bytes written, the pieces expected from the mask's runs, the
 * CRC-32 a bitwise reference, the SHA-256 over the expanded bytes — on
 * hand-built images, random raw and sparse images, sources that fail, and
 * the raw → sparse output of the sparse writer (what flashd sends for a
 * raw image must verify as that raw image).
 * Random cases derive from one seed, printed; VERIFY_TEST_SEED=0x… replays. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sha256.h"
#include "flashd/sparse.h"
#include "flashd/verify.h"
#include "sparse-testlib.h"

static uint64_t test_seed = 0x5EEDFEC1F1EDull;

/* ---- a source that reads through a callback, and can fail ------------ */

struct rsrc {
	const uint8_t *p;
	uint64_t len;
	uint64_t fail_at;  /* a read touching this byte or later fails */
	int err;
	uint64_t reads;
	size_t max_n;      /* biggest read asked */
};

static int rsrc_read(void *ud, uint64_t off, void *buf, size_t n)
{
	struct rsrc *s = ud;

	assert_true(off <= s->len && n <= s->len - off);
	s->reads++;
	if (n > s->max_n)
		s->max_n = n;
	if (off + n > s->fail_at)
		return s->err;
	memcpy(buf, s->p + off, n);
	return 0;
}

static struct imgsrc rsrc_src(struct rsrc *s, const uint8_t *p, uint64_t len)
{
	*s = (struct rsrc){ .p = p, .len = len, .fail_at = UINT64_MAX, .err = -EIO };
	return (struct imgsrc){ .len = len, .read = rsrc_read, .ud = s };
}

/* ---- the independent expansion ---------------------------------------- */

struct expansion {
	uint8_t *dev;      /* what the partition holds where written */
	uint8_t *mask;     /* 1: written by the flash step */
	size_t len;
};

/* Expand img as U-Boot writes it: raw as is; sparse RAW copied, FILL
 * repeated, DONT_CARE and CRC32 writing nothing. */
static void expand(const uint8_t *img, size_t n, struct expansion *e)
{
	size_t off, at = 0;
	uint32_t blk, chunks;

	if (n < 4 || rd32(img) != SPARSE_MAGIC) {
		e->len = n;
		e->dev = malloc(n);
		e->mask = malloc(n);
		assert_true(e->dev && e->mask);
		memcpy(e->dev, img, n);
		memset(e->mask, 1, n);
		return;
	}
	blk = rd32(img + 12);
	chunks = rd32(img + 20);
	e->len = (size_t)rd32(img + 16) * blk;
	e->dev = calloc(1, e->len);
	e->mask = calloc(1, e->len);
	assert_true(e->dev && e->mask);
	off = rd16(img + 8);
	for (uint32_t i = 0; i < chunks; i++) {
		uint16_t type = rd16(img + off);
		size_t bytes = (size_t)rd32(img + off + 4) * blk;
		const uint8_t *pl = img + off + rd16(img + 10);

		assert_true(at + bytes <= e->len);
		if (type == SPARSE_CHUNK_RAW)
			memcpy(e->dev + at, pl, bytes);
		for (size_t k = 0; type == SPARSE_CHUNK_FILL && k < bytes; k++)
			e->dev[at + k] = pl[k % 4];
		if (type == SPARSE_CHUNK_RAW || type == SPARSE_CHUNK_FILL)
			memset(e->mask + at, 1, bytes);
		at += bytes;
		off += rd32(img + off + 8);
	}
	assert_true(at == e->len && off == n);
}

static void expansion_free(struct expansion *e)
{
	free(e->dev);
	free(e->mask);
}

struct want {
	uint64_t off, len;
};

/* The pieces the mask gives: its runs of written bytes, cut to max. */
static size_t want_pieces(const struct expansion *e, uint64_t max, struct want **out)
{
	size_t n = 0, cap = 16;
	struct want *w = malloc(cap * sizeof(*w));

	assert_non_null(w);
	for (size_t i = 0; i < e->len;) {
		size_t j = i;

		if (!e->mask[i]) {
			i++;
			continue;
		}
		while (j < e->len && e->mask[j])
			j++;
		for (size_t a = i; a < j; a += max) {
			if (n == cap) {
				cap *= 2;
				w = realloc(w, cap * sizeof(*w));
				assert_non_null(w);
			}
			w[n++] = (struct want){ a, j - a < max ? j - a : max };
		}
		i = j;
	}
	*out = w;
	return n;
}

/* ---- running the iterator --------------------------------------------- */

struct vrun {
	const uint8_t *img;
	size_t len;
	struct verify_opts o;
	bool through_read;          /* the source is a read callback */
	struct verify_piece *got;   /* out: the pieces (malloc'd) */
	size_t n;
};

/* All pieces of an image into r->got; the iterator's result. */
static int collect(struct vrun *r)
{
	struct sparse_info info;
	struct verify_iter *it = NULL;
	struct rsrc rs;
	struct imgsrc src =
	    r->through_read ? rsrc_src(&rs, r->img, r->len) : imgsrc_mem(r->img, r->len);
	const char *why = NULL;
	size_t cap = 16;
	int k;

	r->got = malloc(cap * sizeof(*r->got));
	r->n = 0;
	assert_non_null(r->got);
	if (sparse_probe_src(&src, &info, &why))
		fail_msg("probe: %s", why);
	k = verify_iter_new(&src, &info, &r->o, &it, &why);
	if (k < 0)
		fail_msg("verify_iter_new: %d %s", k, why);
	while ((k = verify_iter_next(it, &r->got[r->n])) == 1) {
		if (++r->n == cap) {
			cap *= 2;
			r->got = realloc(r->got, cap * sizeof(*r->got));
			assert_non_null(r->got);
		}
	}
	if (!k)
		assert_int_equal(verify_iter_next(it, &r->got[r->n]), 0);
	assert_null(verify_iter_free(it));
	if (r->through_read)
		assert_true(rs.max_n <= 64u << 10); /* bounded reads */
	return k;
}

/* The summary, checked against the pieces and the expansion. */
static void check_summary(const struct vrun *r, const struct expansion *e)
{
	struct verify_summary s;
	struct sparse_info info;
	struct sha256 h;
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN + 1];
	uint64_t bytes = 0;
	const char *why = NULL;

	assert_int_equal(sparse_probe(r->img, r->len, &info, &why), 0);
	memset(&s, 0xAA, sizeof(s));
	if (verify_region_summary(IMGSRC_MEM(r->img, r->len), &info, &r->o, &s, &why))
		fail_msg("summary: %s", why);
	sha256_init(&h);
	for (size_t i = 0; i < r->n; i++) {
		sha256_update(&h, e->dev + r->got[i].off, (size_t)r->got[i].len);
		bytes += r->got[i].len;
	}
	sha256_final(&h, d);
	sha256_to_hex(d, hex);
	assert_true(s.pieces == r->n);
	assert_true(s.bytes == bytes);
	assert_string_equal(s.sha256, hex);
}

/* Run over an image and check every piece against the expansion; returns
 * the number of pieces. */
static size_t check_image(const uint8_t *img, size_t len, const struct verify_opts *o,
			  bool through_read)
{
	struct vrun r = { .img = img, .len = len, .o = *o, .through_read = through_read };
	uint64_t max = o->max_piece / 512 * 512;
	struct expansion e;
	struct want *w;
	size_t nw;
	char hex[SHA256_HEX_LEN + 1];

	expand(img, len, &e);
	nw = want_pieces(&e, max, &w);
	assert_int_equal(collect(&r), 0);
	if (r.n != nw)
		fail_msg("%zu pieces, want %zu", r.n, nw);
	for (size_t i = 0; i < nw; i++) {
		const struct verify_piece *p = &r.got[i];

		if (p->off != w[i].off || p->len != w[i].len)
			fail_msg("piece %zu: [%" PRIu64 ", +%" PRIu64 "), want [%" PRIu64
				 ", +%" PRIu64 ")",
				 i, p->off, p->len, w[i].off, w[i].len);
		assert_true(p->off % 512 == 0);
		assert_true(p->len % 512 == 0 || (i == nw - 1 && p->off + p->len == len));
		assert_int_equal(p->crc32, ref_crc32(0, e.dev + p->off, (size_t)p->len));
		if (o->want_sha256) {
			sha256_hex(e.dev + p->off, (size_t)p->len, hex);
			assert_string_equal(p->sha256, hex);
		} else {
			assert_string_equal(p->sha256, "");
		}
	}
	check_summary(&r, &e);
	free(w);
	free(r.got);
	expansion_free(&e);
	return nw;
}

/* ---- building sparse images -------------------------------------------- */

struct sb {
	struct vec v;
	uint32_t blk, blocks, chunks;
	uint32_t crc;   /* of the expansion so far, DONT_CARE as zeros */
};

static void sb_begin(struct sb *s, uint32_t blk)
{
	*s = (struct sb){ .blk = blk };
	sb_header(&s->v, SPARSE_FILE_HDR_SZ, SPARSE_CHUNK_HDR_SZ, blk, 0, 0);
}

static void sb_raw(struct sb *s, uint32_t n, uint8_t seed)
{
	size_t bytes = (size_t)n * s->blk;
	uint8_t *d = malloc(bytes ? bytes : 1);

	assert_non_null(d);
	for (size_t i = 0; i < bytes; i++)
		d[i] = (uint8_t)(seed + i * 13 + (i >> 9));
	sb_chunk(&s->v, SPARSE_CHUNK_HDR_SZ, SPARSE_CHUNK_RAW, n,
		 (uint32_t)(SPARSE_CHUNK_HDR_SZ + bytes), d, bytes);
	s->crc = ref_crc32(s->crc, d, bytes);
	s->blocks += n;
	s->chunks++;
	free(d);
}

static void sb_words(struct sb *s, uint16_t type, uint32_t n, uint32_t word)
{
	uint8_t pat[4];
	uint8_t *b = malloc(s->blk);

	assert_non_null(b);
	wr32(pat, type == SPARSE_CHUNK_FILL ? word : 0);
	for (uint32_t k = 0; k < s->blk; k += 4)
		memcpy(b + k, pat, 4);
	for (uint32_t k = 0; k < n; k++)
		s->crc = ref_crc32(s->crc, b, s->blk);
	free(b);
	sb_chunk(&s->v, SPARSE_CHUNK_HDR_SZ, type, n,
		 SPARSE_CHUNK_HDR_SZ + (type == SPARSE_CHUNK_FILL ? 4u : 0u), pat,
		 type == SPARSE_CHUNK_FILL ? 4 : 0);
	s->blocks += n;
	s->chunks++;
}

static void sb_fill(struct sb *s, uint32_t n, uint32_t word)
{
	sb_words(s, SPARSE_CHUNK_FILL, n, word);
}

static void sb_skip(struct sb *s, uint32_t n)
{
	sb_words(s, SPARSE_CHUNK_DONT_CARE, n, 0);
}

static void sb_crc(struct sb *s)
{
	uint8_t c[4];

	wr32(c, s->crc);
	sb_chunk(&s->v, SPARSE_CHUNK_HDR_SZ, SPARSE_CHUNK_CRC32, 0, SPARSE_CHUNK_HDR_SZ + 4u, c, 4);
	s->chunks++;
}

static uint8_t *sb_end(struct sb *s, size_t *len)
{
	wr32(s->v.p + 16, s->blocks);
	wr32(s->v.p + 20, s->chunks);
	*len = s->v.len;
	return s->v.p;
}

/* RAW 3, FILL 2, DONT_CARE 4, FILL(0) 1, RAW 1, CRC32, DONT_CARE 0,
 * RAW 0, RAW 2, DONT_CARE 1: in blocks of 4096, written [0, 5) and
 * [9, 13) — the empty chunks split nothing, the trailing skip is left out. */
static uint8_t *mixed_sample(size_t *len)
{
	struct sb s;

	sb_begin(&s, 4096);
	sb_raw(&s, 3, 1);
	sb_fill(&s, 2, 0xDEADBEEF);
	sb_skip(&s, 4);
	sb_fill(&s, 1, 0);
	sb_raw(&s, 1, 2);
	sb_crc(&s);
	sb_skip(&s, 0);
	sb_raw(&s, 0, 3);
	sb_raw(&s, 2, 4);
	sb_skip(&s, 1);
	return sb_end(&s, len);
}

/* ---- tests ------------------------------------------------------------- */

static void test_args(void **state)
{
	static const uint8_t img[1000] = { 1, 2, 3 };
	struct verify_opts o = { .max_piece = 4096 };
	struct sparse_info info, raw;
	struct verify_iter *it = NULL;
	struct verify_summary s;
	struct verify_piece p;
	const char *why = NULL;

	assert_int_equal(sparse_probe(img, sizeof(img), &raw, NULL), 0);
	assert_int_equal(verify_iter_new(NULL, &raw, &o, &it, &why), -EINVAL);
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, sizeof(img)), NULL, &o, &it, &why),
			 -EINVAL);
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, sizeof(img)), &raw, NULL, &it, &why),
			 -EINVAL);
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, sizeof(img)), &raw, &o, NULL, &why),
			 -EINVAL);
	assert_int_equal(verify_iter_new(&(struct imgsrc){ .len = 5 }, &raw, &o, &it, &why),
			 -EINVAL);
	assert_string_equal(why, "invalid arguments");

	assert_int_equal(sparse_probe(img, 0, &info, NULL), 0);
	why = NULL;
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, 0), &info, &o, &it, &why), -EINVAL);
	assert_string_equal(why, "empty image");
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, 0), &info, &o, &s, &why), -EINVAL);
	assert_string_equal(why, "empty image");

	o.max_piece = 511;
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, sizeof(img)), &raw, &o, &it, &why),
			 -EINVAL);
	assert_string_equal(why, "read-back piece size below 512 bytes");
	o.max_piece = 4096;
	/* info of another image */
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, 999), &raw, &o, &it, &why), -EINVAL);
	assert_string_equal(why, "sparse_info does not describe the image");
	info = raw;
	info.sparse = true;
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, sizeof(img)), &info, &o, &it, &why),
			 -EINVAL);
	assert_string_equal(why, "sparse_info does not describe the image");
	assert_null(it);
	/* NULL why is fine; bad calls on no iterator */
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, 0), &raw, &o, &it, NULL), -EINVAL);
	assert_int_equal(verify_iter_next(NULL, &p), -EINVAL);
	assert_null(verify_iter_free(NULL));
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, sizeof(img)), &raw, &o, NULL, &why),
			 -EINVAL);
}

/* A raw image smaller than a piece: one piece of exactly its size, even
 * when that is not a multiple of 512 (the tail of the last block is not
 * the image's). */
static void test_raw_small(void **state)
{
	uint8_t img[3072]; /* the image is its first 3000 bytes */
	struct vrun r = { .img = img, .len = 3000,
			  .o = { .max_piece = 1u << 20, .want_sha256 = true } };
	char hex[SHA256_HEX_LEN + 1];

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(collect(&r), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.got[0].off == 0 && r.got[0].len == 3000);
	assert_int_equal(r.got[0].crc32, ref_crc32(0, img, 3000));
	sha256_hex(img, 3000, hex);
	assert_string_equal(r.got[0].sha256, hex);
	free(r.got);
	assert_int_equal(check_image(img, 3000, &r.o, true), 1);
	/* max_piece rounded down to 512: 1000 → 512, 3000 = 5 × 512 + 440 */
	r.o.max_piece = 1000;
	assert_int_equal(collect(&r), 0);
	assert_int_equal(r.n, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_true(r.got[i].off == i * 512);
		assert_true(r.got[i].len == (i < 5 ? 512 : 440));
		assert_int_equal(r.got[i].crc32, ref_crc32(0, img + i * 512, (size_t)r.got[i].len));
	}
	free(r.got);
	assert_int_equal(check_image(img, 3000, &r.o, false), 6);
	/* exactly one piece, and one byte over */
	r.o.max_piece = 3072;
	assert_int_equal(check_image(img, 3072, &r.o, false), 1);
	assert_int_equal(check_image(img, 2999, &r.o, true), 1);
	r.o.max_piece = 2560;
	assert_int_equal(check_image(img, 2561, &r.o, false), 2);
}

/* A raw image larger than a piece, read through a callback in bounded
 * reads: pieces of max_piece, the last one the rest. */
static void test_raw_large(void **state)
{
	size_t len = (1u << 20) + 1000;
	uint8_t *img = malloc(len);
	struct rng rg = { test_seed ^ 0x1A6 };
	struct vrun r = { .img = img, .len = len, .through_read = true,
			  .o = { .max_piece = 256u << 10, .want_sha256 = true } };

	assert_non_null(img);
	rng_fill(&rg, img, len);
	assert_int_equal(collect(&r), 0);
	assert_int_equal(r.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_true(r.got[i].off == i * (256u << 10));
		assert_true(r.got[i].len == (i < 4 ? 256u << 10 : 1000));
		assert_int_equal(r.got[i].crc32,
				 ref_crc32(0, img + r.got[i].off, (size_t)r.got[i].len));
	}
	free(r.got);
	assert_int_equal(check_image(img, len, &r.o, true), 5);
	r.o.want_sha256 = false;
	r.o.max_piece = (100u << 10) + 300; /* not a multiple of 512, nor of the read buffer */
	assert_int_equal(check_image(img, len, &r.o, false), 11);
	free(img);
}

/* RAW + FILL + DONT_CARE: the written extents, merged across adjacent
 * chunks and empty ones, split at the skips, then cut to max_piece. */
static void test_sparse_mixed(void **state)
{
	static const struct want big[] = { { 0, 5 * 4096 }, { 9 * 4096, 4 * 4096 } };
	static const struct want cut[] = { { 0, 8192 }, { 8192, 8192 }, { 16384, 4096 },
					   { 36864, 8192 }, { 45056, 8192 } };
	size_t len;
	uint8_t *img = mixed_sample(&len);
	struct sparse_info info;
	struct vrun r = { .img = img, .len = len,
			  .o = { .max_piece = 1u << 20, .want_sha256 = true } };
	struct expansion e;
	const char *why = NULL;

	if (sparse_probe(img, len, &info, &why))
		fail_msg("sample rejected: %s", why);
	assert_true(info.sparse && info.total_blks == 14);
	expand(img, len, &e);
	for (int pass = 0; pass < 2; pass++) {
		const struct want *w = pass ? cut : big;
		size_t nw = pass ? 5 : 2;

		r.o.max_piece = pass ? 8192 + 100 : 1u << 20;
		r.through_read = pass;
		assert_int_equal(collect(&r), 0);
		assert_int_equal(r.n, nw);
		for (size_t i = 0; i < nw; i++) {
			assert_true(r.got[i].off == w[i].off && r.got[i].len == w[i].len);
			assert_int_equal(r.got[i].crc32,
					 ref_crc32(0, e.dev + w[i].off, (size_t)w[i].len));
		}
		free(r.got);
		assert_int_equal(check_image(img, len, &r.o, !pass), nw);
	}
	/* the FILL bytes are the pattern, little endian as in the file */
	assert_int_equal(rd32(e.dev + 3 * 4096), 0xDEADBEEF);
	assert_int_equal(rd32(e.dev + 5 * 4096 - 4), 0xDEADBEEF);
	expansion_free(&e);
	free(img);
}

/* Adjacent chunks of every kind make one piece; one DONT_CARE block
 * between them makes two, and a piece never spans it. */
static void test_adjacency(void **state)
{
	struct verify_opts o = { .max_piece = 1u << 20, .want_sha256 = true };
	size_t len;
	uint8_t *img;
	struct sb s;

	sb_begin(&s, 512);
	sb_fill(&s, 1, 0x01020304);
	sb_fill(&s, 2, 0x05060708);
	sb_raw(&s, 1, 9);
	sb_fill(&s, 0, 0x0A0B0C0D);
	sb_skip(&s, 0);
	sb_raw(&s, 3, 10);
	sb_fill(&s, 1, 0);
	img = sb_end(&s, &len);
	assert_int_equal(check_image(img, len, &o, false), 1);
	free(img);

	sb_begin(&s, 512);
	sb_fill(&s, 1, 0x01020304);
	sb_raw(&s, 1, 9);
	sb_skip(&s, 1);
	sb_raw(&s, 3, 10);
	sb_skip(&s, 2);
	sb_fill(&s, 1, 0x11111111);
	img = sb_end(&s, &len);
	assert_int_equal(check_image(img, len, &o, true), 3);
	/* a piece size that would reach over the gap still stops at it */
	o.max_piece = 3 * 512;
	assert_int_equal(check_image(img, len, &o, false), 3);
	o.max_piece = 2 * 512;
	assert_int_equal(check_image(img, len, &o, true), 4);
	free(img);
	o.max_piece = 3 * 512;

	/* a leading skip: the first piece starts after it */
	sb_begin(&s, 1024);
	sb_skip(&s, 7);
	sb_raw(&s, 2, 1);
	img = sb_end(&s, &len);
	{
		struct vrun r = { .img = img, .len = len, .o = o };

		assert_int_equal(collect(&r), 0);
		assert_int_equal(r.n, 2);
		assert_true(r.got[0].off == 7 * 1024 && r.got[0].len == 1536);
		assert_true(r.got[1].off == 7 * 1024 + 1536 && r.got[1].len == 512);
		free(r.got);
	}
	free(img);
}

/* Only DONT_CARE: nothing written, zero pieces; the summary is empty. */
static void test_only_dont_care(void **state)
{
	struct verify_opts o = { .max_piece = 4096, .want_sha256 = true };
	struct verify_summary sum;
	struct sparse_info info;
	struct verify_piece p;
	struct verify_iter *it;
	size_t len;
	uint8_t *img;
	struct sb s;

	sb_begin(&s, 4096);
	sb_skip(&s, 100);
	sb_crc(&s);
	sb_skip(&s, 5);
	img = sb_end(&s, &len);
	assert_int_equal(sparse_probe(img, len, &info, NULL), 0);
	assert_true(info.sparse);
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, len), &info, &o, &it, NULL), 0);
	assert_int_equal(verify_iter_next(it, &p), 0);
	assert_int_equal(verify_iter_next(it, &p), 0);
	verify_iter_free(it);
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, NULL), 0);
	assert_true(sum.bytes == 0 && sum.pieces == 0);
	assert_string_equal(sum.sha256,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(check_image(img, len, &o, true), 0);
	free(img);
}

/* A source whose reads fail: the error comes back from the piece that
 * needs the byte, the pieces before it are fine, and it sticks. */
static void test_read_errors(void **state)
{
	struct verify_opts o = { .max_piece = 8192, .want_sha256 = true };
	struct verify_summary sum;
	struct sparse_info info;
	struct verify_piece p;
	struct verify_iter *it;
	struct rsrc rs;
	struct imgsrc src;
	const char *why = NULL;
	size_t len = 40000;
	uint8_t *img = malloc(len), *simg;

	assert_non_null(img);
	for (size_t i = 0; i < len; i++)
		img[i] = (uint8_t)(i ^ (i >> 8));
	/* raw: byte 20000 is in the third piece */
	src = rsrc_src(&rs, img, len);
	assert_int_equal(sparse_probe_src(&src, &info, NULL), 0);
	rs.fail_at = 20000;
	rs.err = -ESTALE;
	assert_int_equal(verify_iter_new(&src, &info, &o, &it, &why), 0);
	assert_int_equal(verify_iter_next(it, &p), 1);
	assert_true(p.off == 0 && p.crc32 == ref_crc32(0, img, 8192));
	assert_int_equal(verify_iter_next(it, &p), 1);
	assert_true(p.off == 8192);
	assert_int_equal(verify_iter_next(it, &p), -ESTALE);
	rs.fail_at = UINT64_MAX; /* sticky even if the source recovers */
	assert_int_equal(verify_iter_next(it, &p), -ESTALE);
	verify_iter_free(it);
	rs.fail_at = len - 1;
	why = NULL;
	assert_int_equal(verify_region_summary(&src, &info, &o, &sum, &why), -ESTALE);
	assert_string_equal(why, "cannot read the image");

	/* sparse: the header at _new, a chunk header, a RAW chunk's data */
	simg = mixed_sample(&len);
	src = rsrc_src(&rs, simg, len);
	assert_int_equal(sparse_probe_src(&src, &info, NULL), 0);
	rs.fail_at = 0;
	why = NULL;
	assert_int_equal(verify_iter_new(&src, &info, &o, &it, &why), -EIO);
	assert_string_equal(why, "cannot read the image");
	/* the DONT_CARE after the first FILL (header at 28 + 12 + 3 × 4096 + 16) */
	rs.fail_at = 28 + 12 + 3 * 4096 + 16 + 4;
	assert_int_equal(verify_iter_new(&src, &info, &o, &it, &why), 0);
	assert_int_equal(verify_iter_next(it, &p), 1); /* RAW 2 of 3 blocks */
	assert_int_equal(verify_iter_next(it, &p), 1); /* RAW 1 + FILL 1 */
	assert_true(p.off == 8192 && p.len == 8192);
	assert_int_equal(verify_iter_next(it, &p), -EIO); /* FILL 1, then the DONT_CARE's header */
	assert_int_equal(verify_iter_next(it, &p), -EIO);
	verify_iter_free(it);
	/* in the first RAW chunk's data */
	rs.fail_at = 28 + 12 + 5000;
	assert_int_equal(verify_iter_new(&src, &info, &o, &it, &why), 0);
	assert_int_equal(verify_iter_next(it, &p), -EIO);
	verify_iter_free(it);
	why = NULL;
	assert_int_equal(verify_region_summary(&src, &info, &o, &sum, &why), -EIO);
	assert_string_equal(why, "cannot read the image");
	free(simg);
	free(img);
}

/* An image changed after its probe: a chunk that no longer fits is an
 * error, not a read past the source. */
static void test_changed_image(void **state)
{
	struct verify_opts o = { .max_piece = 1u << 20 };
	struct verify_summary sum;
	struct sparse_info info;
	struct verify_piece p;
	struct verify_iter *it;
	const char *why = NULL;
	size_t len;
	uint8_t *img = mixed_sample(&len);
	size_t fill = 28 + 12 + 3 * 4096;

	assert_int_equal(sparse_probe(img, len, &info, NULL), 0);
	wr16(img + fill, 0xCAC9); /* the FILL: an unknown type */
	assert_int_equal(verify_iter_new(IMGSRC_MEM(img, len), &info, &o, &it, &why), 0);
	assert_int_equal(verify_iter_next(it, &p), -EBADMSG);
	verify_iter_free(it);
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, &why),
			 -EBADMSG);
	assert_string_equal(why, "sparse image changed since it was probed");
	wr16(img + fill, SPARSE_CHUNK_FILL);
	wr32(img + fill + 4, 0x7FFFFFFF); /* more blocks than the image */
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, &why),
			 -EBADMSG);
	wr32(img + fill + 4, 2);
	wr32(img + 28 + 8, 12 + 4 * 4096); /* the first RAW's total_sz */
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, &why),
			 -EBADMSG);
	wr32(img + 28 + 8, 12 + 3 * 4096);
	wr32(img + 12, 512); /* the header's blk_sz */
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, &why),
			 -EINVAL);
	assert_string_equal(why, "sparse_info does not describe the image");
	wr32(img + 12, 4096);
	/* file_hdr_sz past the end of the source (its info made to match) */
	wr16(img + 8, 0xFFFF);
	info.size = 1000;
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, 1000), &info, &o, &sum, &why),
			 -EINVAL);
	assert_string_equal(why, "sparse_info does not describe the image");
	wr16(img + 8, SPARSE_FILE_HDR_SZ);
	info.size = len;
	assert_int_equal(verify_region_summary(IMGSRC_MEM(img, len), &info, &o, &sum, &why), 0);
	assert_true(sum.bytes == 9 * 4096 && sum.pieces == 2);
	free(img);
}

/* A big FILL is hashed from the pattern buffer: nothing is read but the
 * chunk headers, and the digests match. */
static void test_big_fill(void **state)
{
	struct verify_opts o = { .max_piece = 3u << 20, .want_sha256 = true };
	struct sparse_info info;
	struct verify_piece p;
	struct verify_iter *it;
	struct imgsrc src;
	struct rsrc rs;
	size_t len;
	uint8_t *img, *blk = malloc(4096);
	struct sb s;
	uint32_t crc = 0;

	assert_non_null(blk);
	sb_begin(&s, 4096);
	sb_fill(&s, 1024, 0xA5A5005A); /* 4 MiB */
	img = sb_end(&s, &len);
	src = rsrc_src(&rs, img, len);
	assert_int_equal(sparse_probe_src(&src, &info, NULL), 0);
	rs.reads = 0;
	assert_int_equal(verify_iter_new(&src, &info, &o, &it, NULL), 0);
	for (uint32_t k = 0; k < 4096; k += 4)
		wr32(blk + k, 0xA5A5005A);
	for (uint32_t k = 0; k < 768; k++)
		crc = ref_crc32(crc, blk, 4096);
	assert_int_equal(verify_iter_next(it, &p), 1);
	assert_true(p.off == 0 && p.len == 3u << 20);
	assert_int_equal(p.crc32, crc);
	assert_int_equal(verify_iter_next(it, &p), 1);
	assert_true(p.off == 3u << 20 && p.len == 1u << 20);
	assert_int_equal(verify_iter_next(it, &p), 0);
	verify_iter_free(it);
	assert_true(rs.reads <= 3); /* the header and the one chunk's */
	free(blk);
	free(img);
}

static uint64_t pick_piece(struct rng *r, size_t len)
{
	switch (rng_below(r, 4)) {
	case 0:
		return 512 + rng_below(r, 512);
	case 1:
		return 512 * (1 + rng_below(r, 16)) + rng_below(r, 3) * 100;
	case 2:
		return 512 + rng_below(r, (uint32_t)len + 1);
	default:
		return len + rng_below(r, 8192) + 512;
	}
}

/* Random raw and sparse images (every chunk type, empty chunks, CRC32
 * chunks, oversize headers), random piece sizes, both kinds of source. */
static void test_property(void **state)
{
	struct rng r = { test_seed ^ 0x9A1 };
	uint64_t pieces = 0;

	for (int i = 0; i < 400; i++) {
		size_t len;
		uint32_t blk;
		uint8_t *img = i % 2 ? gen_sparse(&r, &len, &blk) : gen_raw(&r, 512, 40, &len);
		struct verify_opts o = { .max_piece = pick_piece(&r, len),
					 .want_sha256 = rng_below(&r, 2) };

		if (!len) {
			free(img);
			continue;
		}
		pieces += check_image(img, len, &o, rng_below(&r, 2));
		free(img);
	}
	print_message("property: 400 images, %" PRIu64 " pieces\n", pieces);
}

/* ---- the sparse writer's raw → sparse output --------------------------- */

/* One sparse file with the RAW and FILL chunks of all the writer's pieces
 * (each a whole-image sparse file with skips), DONT_CARE in between: what
 * the board holds written once every piece is flashed. */
static uint8_t *merge_pieces(const uint8_t *img, size_t len, const struct sparse_opts *so,
			     size_t *out, uint64_t *npieces)
{
	struct sparse_writer *w;
	struct sparse_piece pc;
	struct vec v = { 0 };
	uint32_t blk = 0, total = 0, at = 0, chunks = 0;
	const char *why = NULL;
	int k;

	*npieces = 0;
	if (sparse_writer_new(IMGSRC_MEM(img, len), so, &w, &why))
		fail_msg("sparse_writer_new: %s", why);
	while ((k = sparse_writer_next(w, &pc)) == 1) {
		uint8_t *p = piece_concat(&pc, img);
		size_t off = SPARSE_FILE_HDR_SZ;
		uint32_t b = 0;

		assert_true(pc.sparse);
		if (!blk) {
			blk = rd32(p + 12);
			total = rd32(p + 16);
			sb_header(&v, SPARSE_FILE_HDR_SZ, SPARSE_CHUNK_HDR_SZ, blk, total, 0);
		}
		for (uint32_t c = 0; c < rd32(p + 20); c++) {
			uint16_t type = rd16(p + off);
			uint32_t n = rd32(p + off + 4), tsz = rd32(p + off + 8);

			assert_true(type != SPARSE_CHUNK_CRC32);
			if (type != SPARSE_CHUNK_DONT_CARE) {
				assert_true(b >= at); /* pieces in order, disjoint */
				if (b > at) {
					sb_chunk(&v, SPARSE_CHUNK_HDR_SZ, SPARSE_CHUNK_DONT_CARE,
						 b - at, SPARSE_CHUNK_HDR_SZ, NULL, 0);
					chunks++;
				}
				sb_chunk(&v, SPARSE_CHUNK_HDR_SZ, type, n, tsz,
					 p + off + SPARSE_CHUNK_HDR_SZ, tsz - SPARSE_CHUNK_HDR_SZ);
				chunks++;
				at = b + n;
			}
			b += n;
			off += tsz;
		}
		free(p);
		++*npieces;
	}
	assert_int_equal(k, 0);
	sparse_writer_free(w);
	if (at < total) {
		sb_chunk(&v, SPARSE_CHUNK_HDR_SZ, SPARSE_CHUNK_DONT_CARE, total - at,
			 SPARSE_CHUNK_HDR_SZ, NULL, 0);
		chunks++;
	}
	wr32(v.p + 20, chunks);
	*out = v.len;
	return v.p;
}

/* The pieces of a raw image and of the writer's sparse output of it agree:
 * the same pieces when the image is whole blocks; otherwise the sparse
 * output also writes the zero padding of its last block, and the raw
 * pieces are the sparse ones cut at the image's end. */
static void check_raw2sparse(const uint8_t *img, size_t len, const struct sparse_opts *so,
			     const struct verify_opts *vo)
{
	struct vrun a = { .img = img, .len = len, .o = *vo }, b = { .o = *vo };
	size_t slen, i;
	uint64_t np;
	uint8_t *s = merge_pieces(img, len, so, &slen, &np);
	uint32_t blk = so->blk_sz ? so->blk_sz : SPARSE_RAW_BLK_SZ_DEFAULT;

	b.img = s;
	b.len = slen;
	assert_true(np >= 1);
	check_image(s, slen, vo, false); /* the merged file itself checks out */
	assert_int_equal(collect(&a), 0);
	assert_int_equal(collect(&b), 0);
	assert_true(a.n >= 1 && b.n >= a.n);
	for (i = 0; i + 1 < a.n; i++) {
		assert_true(a.got[i].off == b.got[i].off && a.got[i].len == b.got[i].len);
		assert_int_equal(a.got[i].crc32, b.got[i].crc32);
		assert_string_equal(a.got[i].sha256, b.got[i].sha256);
	}
	assert_true(a.got[i].off == b.got[i].off);
	if (len % blk == 0) {
		assert_int_equal(a.n, b.n);
		assert_true(a.got[i].len == b.got[i].len);
		assert_int_equal(a.got[i].crc32, b.got[i].crc32);
		assert_string_equal(a.got[i].sha256, b.got[i].sha256);
	} else {
		/* the last raw piece ends at len, inside the last sparse piece
		 * that starts with it; later sparse pieces are padding */
		assert_true(a.got[i].off + a.got[i].len == len);
		assert_true(b.got[i].len >= a.got[i].len);
		for (size_t j = i + 1; j < b.n; j++)
			assert_true(b.got[j].off >= len);
		assert_true(b.got[b.n - 1].off + b.got[b.n - 1].len == (len + blk - 1) / blk * blk);
	}
	free(a.got);
	free(b.got);
	free(s);
}

static void test_raw2sparse(void **state)
{
	static const uint32_t blks[] = { 512, 1024, 4096 };
	struct rng r = { test_seed ^ 0x25 };
	int odd = 0;

	for (int i = 0; i < 150; i++) {
		uint32_t blk = blks[rng_below(&r, 3)];
		size_t len;
		uint8_t *img = gen_raw(&r, rng_below(&r, 2) ? blk : 512, 48 * blk / 512, &len);
		struct sparse_opts so = { .raw2sparse = rng_below(&r, 4) != 0, .blk_sz = blk };
		struct verify_opts vo = { .max_piece = pick_piece(&r, len), .want_sha256 = true };

		if (!len) {
			free(img);
			continue;
		}
		/* small downloads (many pieces) or one; raw chunks need > max */
		so.max_piece = rng_below(&r, 2) ? sparse_min_piece(blk) + rng_below(&r, 4 * blk)
						: sparse_min_piece(blk) + len;
		if (!so.raw2sparse && so.max_piece >= len)
			so.max_piece = sparse_min_piece(blk) + rng_below(&r, (uint32_t)len);
		if (!so.raw2sparse && so.max_piece >= len) {
			free(img);
			continue;
		}
		odd += len % blk != 0;
		check_raw2sparse(img, len, &so, &vo);
		free(img);
	}
	assert_true(odd > 10); /* both branches ran */
}

/* The daemon's case by hand: a 1 MiB raw image of data, zeros and a fill,
 * flashed with raw2sparse in 64 KiB downloads, verifies as the raw image. */
static void test_raw2sparse_whole(void **state)
{
	size_t len = 1u << 20;
	uint8_t *img = calloc(1, len);
	struct sparse_opts so = { .max_piece = 64u << 10, .raw2sparse = true };
	struct verify_opts vo = { .max_piece = 300u << 10, .want_sha256 = true };
	struct vrun a = { .img = img, .len = len, .o = vo };
	struct rng r = { test_seed ^ 0xDA };

	assert_non_null(img);
	rng_fill(&r, img, 100000);
	for (size_t i = 500000; i < 600000; i += 4)
		wr32(img + i, 0x12345678);
	rng_fill(&r, img + len - 5000, 5000);
	check_raw2sparse(img, len, &so, &vo);
	assert_int_equal(collect(&a), 0);
	assert_int_equal(a.n, 4); /* 3 × 300 KiB + 124 KiB, all of it */
	assert_true(a.got[3].off + a.got[3].len == len);
	free(a.got);
	free(img);
}

int main(void)
{
	const char *env = getenv("VERIFY_TEST_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_raw_small),
		cmocka_unit_test(test_raw_large),
		cmocka_unit_test(test_sparse_mixed),
		cmocka_unit_test(test_adjacency),
		cmocka_unit_test(test_only_dont_care),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_changed_image),
		cmocka_unit_test(test_big_fill),
		cmocka_unit_test(test_property),
		cmocka_unit_test(test_raw2sparse),
		cmocka_unit_test(test_raw2sparse_whole),
	};

	if (env && *env)
		test_seed = strtoull(env, NULL, 0);
	printf("# test-verify seed 0x%" PRIx64 " (VERIFY_TEST_SEED=0x%" PRIx64 " replays)\n",
	       test_seed, test_seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
