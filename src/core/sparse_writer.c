/* sparse_writer: cut an image into sparse pieces of at most max_piece bytes,
 * each a complete sparse file covering the whole image (sparse.h). A piece
 * is a list of segments: generated header bytes (kept in hb, one segment
 * per run of consecutive header bytes) and ranges of the caller's image. */
#include "flashd/sparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sparse_priv.h"

enum sparse_writer_mode {
	SPARSE_WRITER_MODE_RAW,        /* the file as is, one piece */
	SPARSE_WRITER_MODE_RESPLIT,    /* sparse input, re-split */
	SPARSE_WRITER_MODE_RAW_CHUNKS, /* raw input, every block RAW */
	SPARSE_WRITER_MODE_RAW2SPARSE, /* raw input, FILL detection */
};

struct sparse_writer {
	const uint8_t *buf;
	size_t len;
	enum sparse_writer_mode mode;
	bool dry;               /* counting only: no segments, no header bytes */
	int err;                /* sticky error */
	bool finished;
	uint64_t max;
	uint32_t blk_sz;
	uint32_t total_blks;
	uint64_t pieces;

	/* sparse input: the next input chunk */
	struct sparse_hdr hdr;
	size_t off;             /* its header's offset */
	uint32_t ci;            /* its index */
	uint32_t cblk;          /* the block it starts at */
	uint32_t cdone;         /* RAW blocks of it already in pieces */

	/* raw input */
	uint32_t rblk;          /* next block */
	uint8_t *tail;          /* last block, zero padded, if partial */
	bool cache_valid;       /* classification of block cache_blk */
	bool cache_fill;
	uint32_t cache_blk;
	uint32_t cache_pat;
	const struct sparse_map *map; /* raw2sparse: the image's block map, or NULL */
	uint32_t map_b0;        /* the map's block of our block 0 */

	/* the piece being built */
	struct sparse_seg *seg; /* header segments have data NULL until done */
	size_t nseg;
	size_t seg_cap;
	uint8_t *hb;            /* generated header bytes, in segment order */
	size_t hb_len;
	size_t hb_cap;
	uint64_t used;          /* bytes of the piece so far */
	uint32_t pchunks;
	uint32_t pend;          /* block after the last chunk placed */
	uint64_t pwrite;        /* bytes the target writes for the piece (RAW + FILL) */
	bool pdata;             /* a chunk was placed */
	struct sparse_seg whole; /* MODE_RAW's single segment */
};

/* p grown to hold need elements (need ≥ 1); NULL when out of memory. */
static void *sparse_writer_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *q;

	if (need <= *cap)
		return p;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return NULL;
		n *= 2;
	}
	q = realloc(p, n * elem);
	if (q)
		*cap = n;
	return q;
}

static int sparse_writer_seg_push(struct sparse_writer *w, const uint8_t *data, size_t n)
{
	struct sparse_seg *s = sparse_writer_grow(w->seg, &w->seg_cap, w->nseg + 1, sizeof(*s), 16);

	if (!s)
		return -ENOMEM;
	w->seg = s;
	w->seg[w->nseg++] = (struct sparse_seg){ .data = data, .len = n };
	return 0;
}

static int sparse_writer_hb_put(struct sparse_writer *w, const uint8_t *bytes, size_t n)
{
	uint8_t *hb;

	w->used += n;
	if (w->dry)
		return 0;
	hb = sparse_writer_grow(w->hb, &w->hb_cap, w->hb_len + n, 1, 256);
	if (!hb)
		return -ENOMEM;
	w->hb = hb;
	memcpy(w->hb + w->hb_len, bytes, n);
	w->hb_len += n;
	if (w->nseg && !w->seg[w->nseg - 1].data) {
		w->seg[w->nseg - 1].len += n;
		return 0;
	}
	return sparse_writer_seg_push(w, NULL, n);
}

static int sparse_writer_data_put(struct sparse_writer *w, const uint8_t *data, size_t n)
{
	w->used += n;
	if (w->dry || !n)
		return 0;
	return sparse_writer_seg_push(w, data, n);
}

static int sparse_writer_chunk_hdr(struct sparse_writer *w, uint16_t type, uint32_t chunk_sz, uint32_t total_sz)
{
	uint8_t h[SPARSE_CHUNK_HDR_SZ];

	sparse_put_le16(h, type);
	sparse_put_le16(h + 2, 0);
	sparse_put_le32(h + 4, chunk_sz);
	sparse_put_le32(h + 8, total_sz);
	w->pchunks++;
	return sparse_writer_hb_put(w, h, sizeof(h));
}

static int sparse_writer_begin(struct sparse_writer *w)
{
	uint8_t h[SPARSE_FILE_HDR_SZ];

	w->nseg = 0;
	w->hb_len = 0;
	w->used = 0;
	w->pchunks = 0;
	w->pend = 0;
	w->pwrite = 0;
	w->pdata = false;
	sparse_put_le32(h, SPARSE_MAGIC);
	sparse_put_le16(h + 4, 1);
	sparse_put_le16(h + 6, 0);
	sparse_put_le16(h + 8, SPARSE_FILE_HDR_SZ);
	sparse_put_le16(h + 10, SPARSE_CHUNK_HDR_SZ);
	sparse_put_le32(h + 12, w->blk_sz);
	sparse_put_le32(h + 16, w->total_blks);
	sparse_put_le32(h + 20, 0); /* total_chunks: set by sparse_writer_end */
	sparse_put_le32(h + 24, 0);
	return sparse_writer_hb_put(w, h, sizeof(h));
}

/* Bytes of the DONT_CARE needed before a chunk at block b (leading skip
 * or a gap after the last chunk). */
static uint64_t sparse_writer_skip_cost(const struct sparse_writer *w, uint32_t b)
{
	return b > w->pend ? SPARSE_CHUNK_HDR_SZ : 0;
}

/* Does a chunk of `need` bytes at block b fit, keeping room for the
 * trailing DONT_CARE? */
static bool sparse_writer_fits(const struct sparse_writer *w, uint32_t b, uint64_t need)
{
	return w->used + sparse_writer_skip_cost(w, b) + need + SPARSE_CHUNK_HDR_SZ <= w->max;
}

/* Emit the skip before a chunk at b, then account the chunk's blocks. */
static int sparse_writer_place(struct sparse_writer *w, uint32_t b, uint32_t n)
{
	int r = 0;

	if (b > w->pend)
		r = sparse_writer_chunk_hdr(w, SPARSE_CHUNK_DONT_CARE, b - w->pend, SPARSE_CHUNK_HDR_SZ);
	w->pend = b + n;
	w->pwrite += (uint64_t)n * w->blk_sz;
	w->pdata = true;
	return r;
}

static int sparse_writer_fill(struct sparse_writer *w, uint32_t b, uint32_t n, uint32_t pattern)
{
	uint8_t pat[4];
	int r;

	r = sparse_writer_place(w, b, n);
	if (r < 0)
		return r;
	r = sparse_writer_chunk_hdr(w, SPARSE_CHUNK_FILL, n, SPARSE_CHUNK_HDR_SZ + 4);
	if (r < 0)
		return r;
	sparse_put_le32(pat, pattern);
	return sparse_writer_hb_put(w, pat, sizeof(pat));
}

/* How many blocks of a RAW chunk at block b fit (0: none). A chunk's
 * total_sz is 32 bits, which bounds it too when max is large. */
static uint32_t sparse_writer_raw_room(const struct sparse_writer *w, uint32_t b)
{
	uint64_t fixed = w->used + sparse_writer_skip_cost(w, b) + 2 * SPARSE_CHUNK_HDR_SZ;
	uint64_t n;

	if (fixed + w->blk_sz > w->max)
		return 0;
	n = (w->max - fixed) / w->blk_sz;
	if (n > (UINT32_MAX - SPARSE_CHUNK_HDR_SZ) / w->blk_sz)
		n = (UINT32_MAX - SPARSE_CHUNK_HDR_SZ) / w->blk_sz;
	return (uint32_t)n;
}

/* A RAW chunk of n blocks at block b whose data starts at data; the last
 * block of a raw image comes from the padded tail copy. */
static int sparse_writer_raw(struct sparse_writer *w, uint32_t b, uint32_t n, const uint8_t *data)
{
	size_t bytes = (size_t)n * w->blk_sz;
	bool tail = w->tail && b + n == w->total_blks;
	int r;

	r = sparse_writer_place(w, b, n);
	if (r < 0)
		return r;
	r = sparse_writer_chunk_hdr(w, SPARSE_CHUNK_RAW, n, (uint32_t)(SPARSE_CHUNK_HDR_SZ + bytes));
	if (r < 0)
		return r;
	if (!tail)
		return sparse_writer_data_put(w, data, bytes);
	r = sparse_writer_data_put(w, data, bytes - w->blk_sz);
	if (r < 0)
		return r;
	return sparse_writer_data_put(w, w->tail, w->blk_sz);
}

static int sparse_writer_end(struct sparse_writer *w, struct sparse_piece *piece)
{
	size_t hoff = 0;
	int r;

	if (w->pend < w->total_blks) {
		r = sparse_writer_chunk_hdr(w, SPARSE_CHUNK_DONT_CARE, w->total_blks - w->pend,
					    SPARSE_CHUNK_HDR_SZ);
		if (r < 0)
			return r;
	}
	if (!w->dry) {
		sparse_put_le32(w->hb + 20, w->pchunks);
		for (size_t i = 0; i < w->nseg; i++) {
			if (w->seg[i].data)
				continue;
			w->seg[i].data = w->hb + hoff;
			hoff += w->seg[i].len;
		}
	}
	*piece = (struct sparse_piece){ .seg = w->dry ? NULL : w->seg, .nseg = w->nseg, .size = w->used,
					.write_bytes = w->pwrite, .sparse = true };
	return 0;
}

/* Fill the piece from the sparse input, up to max. */
static int sparse_writer_resplit(struct sparse_writer *w)
{
	const struct sparse_hdr *h = &w->hdr;
	int r = 0;

	while (w->ci < h->total_chunks && r >= 0) {
		struct sparse_chunk c;
		uint32_t n;

		sparse_chunk_read(w->buf + w->off, h->chunk_hdr_sz, &c);
		if (c.type == SPARSE_CHUNK_FILL && c.chunk_sz) {
			if (!sparse_writer_fits(w, w->cblk, SPARSE_CHUNK_HDR_SZ + 4))
				return 0;
			r = sparse_writer_fill(w, w->cblk, c.chunk_sz, sparse_le32(c.payload));
		} else if (c.type == SPARSE_CHUNK_RAW && c.chunk_sz) {
			n = sparse_writer_raw_room(w, w->cblk + w->cdone);
			if (!n)
				return 0;
			if (n > c.chunk_sz - w->cdone)
				n = c.chunk_sz - w->cdone;
			r = sparse_writer_raw(w, w->cblk + w->cdone, n, c.payload + (size_t)w->cdone * w->blk_sz);
			w->cdone += n;
			if (w->cdone < c.chunk_sz)
				continue;
		}
		/* chunk done; DONT_CARE and CRC32 only move on */
		w->cblk += c.chunk_sz;
		w->cdone = 0;
		w->off += c.total_sz;
		w->ci++;
	}
	return r;
}

/* Classify block b: from the map when there is one (a zero block is never
 * read, a data block only when it is sent), else by reading it. */
static bool sparse_writer_classify(const struct sparse_writer *w, uint32_t b, uint32_t *pattern)
{
	bool tail = w->tail && b == w->total_blks - 1;
	const uint8_t *p = tail ? w->tail : w->buf + (size_t)b * w->blk_sz;

	if (!w->map || tail)
		return sparse_block_fill(p, w->blk_sz, pattern);
	switch (sparse_map_get(w->map, w->map_b0 + b)) {
	case SPARSE_MAP_ZERO:
		*pattern = 0;
		return true;
	case SPARSE_MAP_FILL:
		*pattern = sparse_le32(p);
		return true;
	case SPARSE_MAP_DATA:
		break;
	}
	return false;
}

static bool sparse_writer_raw_fill_at(struct sparse_writer *w, uint32_t b, uint32_t *pattern)
{
	if (!w->cache_valid || w->cache_blk != b) {
		w->cache_valid = true;
		w->cache_blk = b;
		w->cache_fill = sparse_writer_classify(w, b, &w->cache_pat);
	}
	*pattern = w->cache_pat;
	return w->cache_fill;
}

/* One FILL or RAW run from the raw input; 0 and no progress: piece full. */
static int sparse_writer_raw_run(struct sparse_writer *w)
{
	uint32_t b = w->rblk, n = 1, pat, pat2, room;
	int r;

	if (w->mode == SPARSE_WRITER_MODE_RAW2SPARSE && sparse_writer_raw_fill_at(w, b, &pat)) {
		if (!sparse_writer_fits(w, b, SPARSE_CHUNK_HDR_SZ + 4))
			return 0;
		while (b + n < w->total_blks && sparse_writer_raw_fill_at(w, b + n, &pat2) && pat2 == pat)
			n++;
		r = sparse_writer_fill(w, b, n, pat);
	} else {
		room = sparse_writer_raw_room(w, b);
		if (!room)
			return 0;
		if (w->mode == SPARSE_WRITER_MODE_RAW_CHUNKS)
			n = room < w->total_blks - b ? room : w->total_blks - b;
		else
			while (n < room && b + n < w->total_blks && !sparse_writer_raw_fill_at(w, b + n, &pat2))
				n++;
		r = sparse_writer_raw(w, b, n, w->buf + (size_t)b * w->blk_sz);
	}
	if (r < 0)
		return r;
	w->rblk = b + n;
	return 1;
}

static int sparse_writer_rawfill(struct sparse_writer *w)
{
	int r = 1;

	while (w->rblk < w->total_blks && r > 0)
		r = sparse_writer_raw_run(w);
	return r < 0 ? r : 0;
}

static bool sparse_writer_input_done(const struct sparse_writer *w)
{
	if (w->mode == SPARSE_WRITER_MODE_RESPLIT)
		return w->ci == w->hdr.total_chunks;
	return w->rblk == w->total_blks;
}

static int sparse_writer_step(struct sparse_writer *w, struct sparse_piece *piece)
{
	int r;

	if (w->mode == SPARSE_WRITER_MODE_RAW) {
		w->finished = true;
		*piece = (struct sparse_piece){ .seg = &w->whole, .nseg = 1, .size = w->len,
						.write_bytes = w->len, .sparse = false };
		return 1;
	}
	r = sparse_writer_begin(w);
	if (r < 0)
		return r;
	r = w->mode == SPARSE_WRITER_MODE_RESPLIT ? sparse_writer_resplit(w) : sparse_writer_rawfill(w);
	if (r < 0)
		return r;
	if (!w->pdata && w->pieces) {
		w->finished = true; /* only skips were left */
		return 0;
	}
	if (!w->pdata && !sparse_writer_input_done(w))
		return -EINVAL; /* max below sparse_min_piece: refused by _new */
	r = sparse_writer_end(w, piece);
	if (r < 0)
		return r;
	w->pieces++;
	return 1;
}

int sparse_writer_next(struct sparse_writer *w, struct sparse_piece *piece)
{
	int r;

	if (!w || !piece)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (w->finished)
		return 0;
	r = sparse_writer_step(w, piece);
	if (r < 0)
		w->err = r;
	return r;
}

static int sparse_writer_fail(const char **why, const char *msg, int r)
{
	if (why)
		*why = msg;
	return r;
}

/* Raw input that needs sparse output: block size, block count, tail. */
static int sparse_writer_init_raw(struct sparse_writer *w, const struct sparse_opts *opts, const char **why)
{
	uint64_t nblk;
	size_t part;

	w->blk_sz = opts->blk_sz ? opts->blk_sz : SPARSE_RAW_BLK_SZ_DEFAULT;
	if (w->blk_sz % 512 || w->blk_sz > SPARSE_RAW_BLK_SZ_MAX)
		return sparse_writer_fail(why, "raw2sparse block size not a multiple of 512 or above 1 MiB", -EINVAL);
	nblk = w->len / w->blk_sz + (w->len % w->blk_sz != 0);
	if (nblk > UINT32_MAX)
		return sparse_writer_fail(why, "image has more than 2^32-1 blocks", -EFBIG);
	w->total_blks = (uint32_t)nblk;
	w->mode = opts->raw2sparse ? SPARSE_WRITER_MODE_RAW2SPARSE : SPARSE_WRITER_MODE_RAW_CHUNKS;
	if (w->mode == SPARSE_WRITER_MODE_RAW2SPARSE && sparse_map_complete(opts->map) &&
	    opts->map->blk_sz == w->blk_sz && opts->map_off % w->blk_sz == 0 &&
	    opts->map_off <= opts->map->len && w->len <= opts->map->len - opts->map_off) {
		w->map = opts->map;
		w->map_b0 = (uint32_t)(opts->map_off / w->blk_sz);
	}
	part = w->len % w->blk_sz;
	if (!part)
		return 0;
	w->tail = calloc(1, w->blk_sz);
	if (!w->tail)
		return sparse_writer_fail(why, "out of memory", -ENOMEM);
	memcpy(w->tail, w->buf + (w->len - part), part);
	return 0;
}

static int sparse_writer_init(struct sparse_writer *w, const struct sparse_opts *opts, const char **why)
{
	struct sparse_info info;
	int r;

	r = sparse_probe(w->buf, w->len, &info, why);
	if (r < 0)
		return r;
	if (info.sparse) {
		sparse_hdr_read(w->buf, &w->hdr);
		w->mode = SPARSE_WRITER_MODE_RESPLIT;
		w->blk_sz = w->hdr.blk_sz;
		w->total_blks = w->hdr.total_blks;
		w->off = w->hdr.file_hdr_sz;
	} else if (!w->len) {
		return sparse_writer_fail(why, "empty image", -EINVAL);
	} else if (!opts->raw2sparse && w->len <= opts->max_piece) {
		w->mode = SPARSE_WRITER_MODE_RAW;
		w->whole = (struct sparse_seg){ .data = w->buf, .len = w->len };
		return 0;
	} else {
		r = sparse_writer_init_raw(w, opts, why);
		if (r < 0)
			return r;
	}
	if (opts->max_piece < sparse_min_piece(w->blk_sz))
		return sparse_writer_fail(why, "max-download-size too small for one block of the image", -EINVAL);
	return 0;
}

static int sparse_writer_create(const uint8_t *buf, size_t len, const struct sparse_opts *opts, bool dry,
				struct sparse_writer **out, const char **why)
{
	struct sparse_writer *w;
	int r;

	if (!opts || !out || (!buf && len))
		return sparse_writer_fail(why, "invalid arguments", -EINVAL);
	w = calloc(1, sizeof(*w));
	if (!w)
		return sparse_writer_fail(why, "out of memory", -ENOMEM);
	w->buf = buf;
	w->len = len;
	w->dry = dry;
	w->max = opts->max_piece;
	r = sparse_writer_init(w, opts, why);
	if (r < 0) {
		sparse_writer_free(w);
		return r;
	}
	*out = w;
	return 0;
}

int sparse_writer_new(const uint8_t *buf, size_t len, const struct sparse_opts *opts, struct sparse_writer **out,
		      const char **why)
{
	return sparse_writer_create(buf, len, opts, false, out, why);
}

struct sparse_writer *sparse_writer_free(struct sparse_writer *w)
{
	if (!w)
		return NULL;
	free(w->seg);
	free(w->hb);
	free(w->tail);
	free(w);
	return NULL;
}

int sparse_count_pieces(const uint8_t *buf, size_t len, const struct sparse_opts *opts, uint64_t *pieces,
			const char **why)
{
	struct sparse_writer *w;
	struct sparse_piece p;
	uint64_t n = 0;
	int r;

	if (!pieces)
		return sparse_writer_fail(why, "invalid arguments", -EINVAL);
	r = sparse_writer_create(buf, len, opts, true, &w, why);
	if (r < 0)
		return r;
	while ((r = sparse_writer_next(w, &p)) > 0)
		n++;
	sparse_writer_free(w);
	if (r < 0)
		return sparse_writer_fail(why, "max-download-size too small for one block of the image", r);
	*pieces = n;
	return 0;
}
