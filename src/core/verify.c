/* verify: the written extents of an image, cut into read-back pieces with
 * their CRC-32 and SHA-256 (verify.h). The image is walked as a list of
 * chunks — a raw image is one RAW chunk — and bytes are hashed as they are
 * read, in bounded buffers. */
#include "flashd/verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/sha256.h"
#include "core/sparse_priv.h"

#define VERIFY_BUF (64u << 10) /* bytes read, or of FILL pattern, at a time */

struct verify_iter {
	struct imgsrc src;
	uint64_t max;           /* piece size, a multiple of VERIFY_SECTOR */
	bool want_sha256;
	bool summing;           /* verify_region_summary: hash everything into whole */
	struct sha256 whole;
	int err;                /* sticky */
	const char *why;        /* for err */

	/* sparse input: the chunks still to load */
	uint16_t chunk_hdr_sz;
	uint32_t blk_sz;
	uint32_t nchunks;
	uint32_t ci;            /* chunks loaded */
	uint64_t coff;          /* file offset of chunk ci */
	uint64_t end;           /* bytes of the expanded image */

	/* what is left of the current chunk */
	uint16_t type;
	uint64_t left;          /* its bytes not yet in a piece (or skipped) */
	uint64_t data;          /* RAW: source offset of its next byte */
	uint64_t pos;           /* partition offset of its next byte */
	uint8_t pat[4];         /* FILL: the pattern, as in the file */

	uint8_t *buf;           /* reads, when src is not in memory */
	uint8_t *fill;          /* VERIFY_BUF bytes of fill_pat, once needed */
	bool fill_valid;
	uint8_t fill_pat[4];
};

/* The digests of the piece being built. */
struct verify_acc {
	uLong crc;
	struct sha256 sha;
};

static int verify_fail(const char **why, const char *msg, int r)
{
	if (why)
		*why = msg;
	return r;
}

/* Load chunk ci: 1, 0 when there are no more, -EBADMSG when it is not what
 * the probe accepted, or the read error. */
static int verify_chunk_next(struct verify_iter *it)
{
	struct sparse_chunk c;
	uint64_t bytes;
	int r;

	if (it->ci == it->nchunks)
		return 0;
	if (it->src.len - it->coff < it->chunk_hdr_sz)
		return verify_fail(&it->why, "sparse image changed since it was probed", -EBADMSG);
	r = sparse_chunk_load(&it->src, it->coff, it->chunk_hdr_sz, &c);
	if (r < 0)
		return verify_fail(&it->why, "cannot read the image", r);
	bytes = (uint64_t)c.chunk_sz * it->blk_sz;
	switch (c.type) {
	case SPARSE_CHUNK_RAW:
		if (c.total_sz != it->chunk_hdr_sz + bytes)
			bytes = UINT64_MAX;
		break;
	case SPARSE_CHUNK_FILL:
		if (c.total_sz != it->chunk_hdr_sz + 4u)
			bytes = UINT64_MAX;
		break;
	case SPARSE_CHUNK_DONT_CARE:
		if (c.total_sz != it->chunk_hdr_sz)
			bytes = UINT64_MAX;
		break;
	case SPARSE_CHUNK_CRC32:
		bytes = c.chunk_sz || c.total_sz != it->chunk_hdr_sz + 4u ? UINT64_MAX : 0;
		break;
	default:
		bytes = UINT64_MAX;
		break;
	}
	if (bytes > it->end - it->pos || c.total_sz > it->src.len - it->coff)
		return verify_fail(&it->why, "sparse image changed since it was probed", -EBADMSG);
	it->type = c.type;
	it->left = bytes;
	it->data = c.payload;
	memcpy(it->pat, c.word, 4);
	it->coff += c.total_sz;
	it->ci++;
	return 1;
}

static void verify_acc_put(struct verify_iter *it, struct verify_acc *a, const uint8_t *p, size_t n)
{
	a->crc = crc32(a->crc, p, (uInt)n);
	if (it->want_sha256)
		sha256_update(&a->sha, p, n);
	if (it->summing)
		sha256_update(&it->whole, p, n);
}

static int verify_feed_raw(struct verify_iter *it, struct verify_acc *a, uint64_t n)
{
	int err = 0;

	while (n) {
		size_t k = n < VERIFY_BUF ? (size_t)n : VERIFY_BUF;
		const uint8_t *p = imgsrc_view(&it->src, it->data, k, it->buf, &err);

		if (!p)
			return verify_fail(&it->why, "cannot read the image", err < 0 ? err : -EIO);
		verify_acc_put(it, a, p, k);
		it->data += k;
		n -= k;
	}
	return 0;
}

/* n bytes of the FILL pattern. A FILL chunk starts on a block, and pieces
 * are cut on 512-byte boundaries, so its bytes always start at the
 * pattern's first byte. */
static int verify_feed_fill(struct verify_iter *it, struct verify_acc *a, uint64_t n)
{
	if (!it->fill_valid || memcmp(it->fill_pat, it->pat, 4)) {
		for (size_t i = 0; i < VERIFY_BUF; i += 4)
			memcpy(it->fill + i, it->pat, 4);
		memcpy(it->fill_pat, it->pat, 4);
		it->fill_valid = true;
	}
	while (n) {
		size_t k = n < VERIFY_BUF ? (size_t)n : VERIFY_BUF;

		verify_acc_put(it, a, it->fill, k);
		n -= k;
	}
	return 0;
}

/* Move to the next written byte: skip DONT_CARE and empty chunks. 1: there
 * is one (at it->pos), 0: the image is done, <0: error. */
static int verify_seek_data(struct verify_iter *it)
{
	int r;

	while (!it->left || it->type == SPARSE_CHUNK_DONT_CARE) {
		it->pos += it->left;
		it->left = 0;
		r = verify_chunk_next(it);
		if (r <= 0)
			return r;
	}
	return 1;
}

static int verify_step(struct verify_iter *it, struct verify_piece *p)
{
	struct verify_acc a;
	uint64_t off, len = 0;
	int r;

	r = verify_seek_data(it);
	if (r <= 0)
		return r;
	off = it->pos;
	a.crc = crc32(0L, Z_NULL, 0);
	if (it->want_sha256)
		sha256_init(&a.sha);
	while (len < it->max) {
		uint64_t k;

		if (!it->left) {
			r = verify_chunk_next(it);
			if (r < 0)
				return r;
			if (!r)
				break;
			continue; /* an empty chunk (or CRC32) splits nothing */
		}
		if (it->type == SPARSE_CHUNK_DONT_CARE)
			break; /* a gap: verify_seek_data skips it next time */
		k = it->left < it->max - len ? it->left : it->max - len;
		r = it->type == SPARSE_CHUNK_RAW ? verify_feed_raw(it, &a, k)
						 : verify_feed_fill(it, &a, k);
		if (r < 0)
			return r;
		it->left -= k;
		it->pos += k;
		len += k;
	}
	*p = (struct verify_piece){ .off = off, .len = len, .crc32 = (uint32_t)a.crc };
	if (it->want_sha256) {
		uint8_t d[SHA256_DIGEST_LEN];

		sha256_final(&a.sha, d);
		sha256_to_hex(d, p->sha256);
	}
	return 1;
}

int verify_iter_next(struct verify_iter *it, struct verify_piece *p)
{
	int r;

	if (!it || !p)
		return -EINVAL;
	if (it->err)
		return it->err;
	r = verify_step(it, p);
	if (r < 0)
		it->err = r;
	return r;
}

/* A sparse image: its header, checked against the probe. */
static int verify_init_sparse(struct verify_iter *it, const struct sparse_info *info,
			      const char **why)
{
	uint8_t b[SPARSE_FILE_HDR_SZ];
	struct sparse_hdr h;
	int r;

	if (it->src.len < SPARSE_FILE_HDR_SZ)
		return verify_fail(why, "sparse_info does not describe the image", -EINVAL);
	r = imgsrc_read(&it->src, 0, b, sizeof(b));
	if (r < 0)
		return verify_fail(why, "cannot read the image", r);
	sparse_hdr_read(b, &h);
	if (sparse_le32(b) != SPARSE_MAGIC || h.blk_sz != info->blk_sz ||
	    h.total_blks != info->total_blks || h.total_chunks != info->total_chunks ||
	    h.blk_sz % VERIFY_SECTOR || !h.blk_sz || h.file_hdr_sz < SPARSE_FILE_HDR_SZ ||
	    h.file_hdr_sz > it->src.len || h.chunk_hdr_sz < SPARSE_CHUNK_HDR_SZ)
		return verify_fail(why, "sparse_info does not describe the image", -EINVAL);
	it->chunk_hdr_sz = h.chunk_hdr_sz;
	it->blk_sz = h.blk_sz;
	it->nchunks = h.total_chunks;
	it->coff = h.file_hdr_sz;
	it->end = (uint64_t)h.total_blks * h.blk_sz;
	it->fill = malloc(VERIFY_BUF);
	if (!it->fill)
		return verify_fail(why, "out of memory", -ENOMEM);
	return 0;
}

static int verify_init(struct verify_iter *it, const struct sparse_info *info, const char **why)
{
	if (info->size != it->src.len)
		return verify_fail(why, "sparse_info does not describe the image", -EINVAL);
	if (!it->src.mem) {
		it->buf = malloc(VERIFY_BUF);
		if (!it->buf)
			return verify_fail(why, "out of memory", -ENOMEM);
	}
	if (info->sparse)
		return verify_init_sparse(it, info, why);
	/* raw: one RAW chunk, the whole file */
	it->end = it->src.len;
	it->type = SPARSE_CHUNK_RAW;
	it->left = it->src.len;
	return 0;
}

int verify_iter_new(const struct imgsrc *src, const struct sparse_info *info,
		    const struct verify_opts *o, struct verify_iter **out, const char **why)
{
	struct verify_iter *it;
	int r;

	if (!src || !info || !o || !out || (!src->mem && !src->read))
		return verify_fail(why, "invalid arguments", -EINVAL);
	if (!src->len)
		return verify_fail(why, "empty image", -EINVAL);
	if (o->max_piece < VERIFY_SECTOR)
		return verify_fail(why, "read-back piece size below 512 bytes", -EINVAL);
	it = calloc(1, sizeof(*it));
	if (!it)
		return verify_fail(why, "out of memory", -ENOMEM);
	it->src = *src;
	it->max = o->max_piece / VERIFY_SECTOR * VERIFY_SECTOR;
	it->want_sha256 = o->want_sha256;
	r = verify_init(it, info, why);
	if (r < 0) {
		verify_iter_free(it);
		return r;
	}
	*out = it;
	return 0;
}

struct verify_iter *verify_iter_free(struct verify_iter *it)
{
	if (!it)
		return NULL;
	free(it->buf);
	free(it->fill);
	free(it);
	return NULL;
}

int verify_region_summary(const struct imgsrc *src, const struct sparse_info *info,
			  const struct verify_opts *o, struct verify_summary *s, const char **why)
{
	struct verify_opts lone;
	struct verify_iter *it;
	struct verify_piece p;
	uint8_t d[SHA256_DIGEST_LEN];
	uint64_t bytes = 0, pieces = 0;
	int r;

	if (!o || !s)
		return verify_fail(why, "invalid arguments", -EINVAL);
	lone = (struct verify_opts){ .max_piece = o->max_piece, .want_sha256 = false };
	r = verify_iter_new(src, info, &lone, &it, why);
	if (r < 0)
		return r;
	it->summing = true;
	sha256_init(&it->whole);
	while ((r = verify_iter_next(it, &p)) > 0) {
		bytes += p.len;
		pieces++;
	}
	if (r < 0) {
		verify_fail(why, it->why, r);
		verify_iter_free(it);
		return r;
	}
	sha256_final(&it->whole, d);
	verify_iter_free(it);
	*s = (struct verify_summary){ .bytes = bytes, .pieces = pieces };
	sha256_to_hex(d, s->sha256);
	return 0;
}
