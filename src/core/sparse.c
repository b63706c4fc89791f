/* sparse: identify and validate Android sparse images (sparse_probe).
 * The writer (re-split, raw → sparse) lives in sparse_writer.c. */
#include "flashd/sparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sparse_priv.h"

#define SPARSE_CRC_POLY 0xEDB88320u /* CRC-32 as zlib, reflected */
#define SPARSE_CRC_POW 64           /* 4-byte units in a chunk < 2^62 */

/* CRC-32 state while walking the expanded image. The register is kept raw
 * (zlib's crc32() value is ~reg). Fills are folded with zpow[j], the
 * GF(2) operator "append 4·2^j zero bytes" (column i = image of bit i). */
struct sparse_crc {
	uint32_t table[256];
	uint32_t zpow[SPARSE_CRC_POW][32];
	uint32_t reg;
};

void sparse_hdr_read(const uint8_t *buf, struct sparse_hdr *h)
{
	h->major = sparse_le16(buf + 4);
	h->minor = sparse_le16(buf + 6);
	h->file_hdr_sz = sparse_le16(buf + 8);
	h->chunk_hdr_sz = sparse_le16(buf + 10);
	h->blk_sz = sparse_le32(buf + 12);
	h->total_blks = sparse_le32(buf + 16);
	h->total_chunks = sparse_le32(buf + 20);
}

void sparse_chunk_read(const uint8_t *p, uint16_t chunk_hdr_sz, struct sparse_chunk *c)
{
	c->type = sparse_le16(p);
	c->chunk_sz = sparse_le32(p + 4);
	c->total_sz = sparse_le32(p + 8);
	c->payload = chunk_hdr_sz;
}

uint64_t sparse_min_piece(uint32_t blk_sz)
{
	return SPARSE_FILE_HDR_SZ + 3u * SPARSE_CHUNK_HDR_SZ + (uint64_t)blk_sz;
}

static int sparse_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

/* The source could not be read: its error (not -EBADMSG: the image may be
 * fine, its file is not what it was). */
static int sparse_read_fail(const char **why, int err)
{
	if (why)
		*why = "cannot read the image";
	return err < 0 ? err : -EIO;
}

static uint32_t sparse_crc_zero_bits(uint32_t v, unsigned bits)
{
	while (bits--)
		v = (v >> 1) ^ (v & 1 ? SPARSE_CRC_POLY : 0);
	return v;
}

static uint32_t sparse_gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t r = 0;

	for (unsigned i = 0; vec; vec >>= 1, i++)
		if (vec & 1)
			r ^= mat[i];
	return r;
}

static void sparse_crc_init(struct sparse_crc *c)
{
	for (uint32_t i = 0; i < 256; i++)
		c->table[i] = sparse_crc_zero_bits(i, 8);
	for (unsigned i = 0; i < 32; i++)
		c->zpow[0][i] = sparse_crc_zero_bits(1u << i, 32);
	for (unsigned j = 1; j < SPARSE_CRC_POW; j++)
		for (unsigned i = 0; i < 32; i++)
			c->zpow[j][i] = sparse_gf2_times(c->zpow[j - 1], c->zpow[j - 1][i]);
	c->reg = 0xFFFFFFFFu;
}

static uint32_t sparse_crc_bytes(const struct sparse_crc *c, uint32_t reg, const uint8_t *p, size_t n)
{
	while (n--)
		reg = c->table[(reg ^ *p++) & 0xFF] ^ (reg >> 8);
	return reg;
}

/* Append `units` copies of the 4 bytes pat: for each set bit j of units,
 * append a run of 2^j copies, whose own CRC (from a zero register) is
 * run = Z_{2^(j-1)}(run') ^ run' (a run is two halves). */
static void sparse_crc_fill(struct sparse_crc *c, const uint8_t pat[4], uint64_t units)
{
	uint32_t run = sparse_crc_bytes(c, 0, pat, 4);

	for (unsigned j = 0; units; j++, units >>= 1) {
		if (units & 1)
			c->reg = sparse_gf2_times(c->zpow[j], c->reg) ^ run;
		run = sparse_gf2_times(c->zpow[j], run) ^ run;
	}
}

static int sparse_hdr_check(const struct imgsrc *src, struct sparse_hdr *h, const char **why)
{
	uint8_t b[SPARSE_FILE_HDR_SZ];
	int r;

	if (src->len < SPARSE_FILE_HDR_SZ)
		return sparse_fail(why, "truncated sparse file header");
	r = imgsrc_read(src, 0, b, sizeof(b));
	if (r < 0)
		return sparse_read_fail(why, r);
	sparse_hdr_read(b, h);
	if (h->major != 1)
		return sparse_fail(why, "unsupported sparse major version (not 1)");
	if (h->file_hdr_sz < SPARSE_FILE_HDR_SZ)
		return sparse_fail(why, "sparse file_hdr_sz below 28");
	if (h->file_hdr_sz > src->len)
		return sparse_fail(why, "sparse file header longer than the file");
	if (h->chunk_hdr_sz < SPARSE_CHUNK_HDR_SZ)
		return sparse_fail(why, "sparse chunk_hdr_sz below 12");
	if (h->blk_sz == 0 || h->blk_sz % 4)
		return sparse_fail(why, "sparse blk_sz zero or not a multiple of 4");
	if (h->blk_sz % 512)
		return sparse_fail(why, "sparse blk_sz not a multiple of 512 (U-Boot requires it)");
	if (h->total_blks == 0)
		return sparse_fail(why, "sparse image with total_blks 0");
	return 0;
}

/* The size rules of one chunk (all but "fits in the file"). */
static int sparse_chunk_check(const struct sparse_hdr *h, const struct sparse_chunk *c, const char **why)
{
	uint64_t hdr = h->chunk_hdr_sz;

	switch (c->type) {
	case SPARSE_CHUNK_RAW:
		if (c->total_sz != hdr + (uint64_t)c->chunk_sz * h->blk_sz)
			return sparse_fail(why, "RAW chunk total_sz is not header + chunk_sz * blk_sz");
		return 0;
	case SPARSE_CHUNK_FILL:
		if (c->total_sz != hdr + 4)
			return sparse_fail(why, "FILL chunk total_sz is not header + 4");
		return 0;
	case SPARSE_CHUNK_DONT_CARE:
		if (c->total_sz != hdr)
			return sparse_fail(why, "DONT_CARE chunk total_sz is not the header size");
		return 0;
	case SPARSE_CHUNK_CRC32:
		if (c->chunk_sz != 0)
			return sparse_fail(why, "CRC32 chunk with a non-zero chunk_sz");
		if (c->total_sz != hdr + 4)
			return sparse_fail(why, "CRC32 chunk total_sz is not header + 4");
		return 0;
	default:
		return sparse_fail(why, "unknown sparse chunk type");
	}
}

/* The CRC of a RAW chunk's data, read in pieces of SPARSE_READ_BUF. */
static int sparse_crc_raw(struct sparse_crc *crc, const struct imgsrc *src, uint64_t off, uint64_t n,
			  uint8_t *tmp, const char **why)
{
	int err = 0;

	while (n) {
		size_t k = n < SPARSE_READ_BUF ? (size_t)n : SPARSE_READ_BUF;
		const uint8_t *p = imgsrc_view(src, off, k, tmp, &err);

		if (!p)
			return sparse_read_fail(why, err);
		crc->reg = sparse_crc_bytes(crc, crc->reg, p, k);
		off += k;
		n -= k;
	}
	return 0;
}

static int sparse_chunk_crc(struct sparse_crc *crc, const struct imgsrc *src, const struct sparse_hdr *h,
			    const struct sparse_chunk *c, uint8_t *tmp, const char **why)
{
	static const uint8_t zero[4];
	uint64_t units = (uint64_t)c->chunk_sz * (h->blk_sz / 4);

	switch (c->type) {
	case SPARSE_CHUNK_RAW:
		return sparse_crc_raw(crc, src, c->payload, (uint64_t)c->chunk_sz * h->blk_sz, tmp, why);
	case SPARSE_CHUNK_FILL:
		sparse_crc_fill(crc, c->word, units);
		return 0;
	case SPARSE_CHUNK_DONT_CARE:
		sparse_crc_fill(crc, zero, units);
		return 0;
	default: /* CRC32 (sparse_chunk_check ran before) */
		if (sparse_le32(c->word) != ~crc->reg)
			return sparse_fail(why, "CRC32 chunk does not match the data before it");
		return 0;
	}
}

int sparse_chunk_load(const struct imgsrc *src, uint64_t off, uint16_t chunk_hdr_sz, struct sparse_chunk *c)
{
	uint8_t b[SPARSE_CHUNK_HDR_SZ];
	int r = imgsrc_read(src, off, b, sizeof(b));

	if (r < 0)
		return r;
	sparse_chunk_read(b, chunk_hdr_sz, c);
	c->payload += off;
	memset(c->word, 0, sizeof(c->word));
	if ((c->type == SPARSE_CHUNK_FILL || c->type == SPARSE_CHUNK_CRC32) && c->payload + 4 <= src->len)
		r = imgsrc_read(src, c->payload, c->word, 4);
	return r;
}

/* Walk every chunk; with crc, also check the CRC32 chunks. */
static int sparse_walk(const struct imgsrc *src, const struct sparse_hdr *h, struct sparse_crc *crc,
		       uint8_t *tmp, bool *has_crc, const char **why)
{
	uint64_t off = h->file_hdr_sz, len = src->len, blocks = 0;
	int r;

	for (uint32_t i = 0; i < h->total_chunks; i++) {
		struct sparse_chunk c;

		if (len - off < h->chunk_hdr_sz)
			return sparse_fail(why, "sparse file ends before its last chunk");
		r = sparse_chunk_load(src, off, h->chunk_hdr_sz, &c);
		if (r < 0)
			return sparse_read_fail(why, r);
		r = sparse_chunk_check(h, &c, why);
		if (r < 0)
			return r;
		if (c.total_sz > len - off)
			return sparse_fail(why, "sparse chunk runs past the end of the file");
		blocks += c.chunk_sz;
		if (blocks > h->total_blks)
			return sparse_fail(why, "sparse chunks cover more blocks than total_blks");
		if (c.type == SPARSE_CHUNK_CRC32)
			*has_crc = true;
		if (crc) {
			r = sparse_chunk_crc(crc, src, h, &c, tmp, why);
			if (r < 0)
				return r;
		}
		off += c.total_sz;
	}
	if (off != len)
		return sparse_fail(why, "trailing data after the last sparse chunk");
	if (blocks != h->total_blks)
		return sparse_fail(why, "sparse chunks cover fewer blocks than total_blks");
	return 0;
}

static int sparse_check(const struct imgsrc *src, struct sparse_hdr *h, const char **why)
{
	struct sparse_crc *crc;
	uint8_t *tmp;
	bool has_crc = false;
	int r;

	r = sparse_hdr_check(src, h, why);
	if (r < 0)
		return r;
	r = sparse_walk(src, h, NULL, NULL, &has_crc, why);
	if (r < 0 || !has_crc)
		return r;
	/* only files with CRC32 chunks pay for the CRC, in a second walk */
	crc = malloc(sizeof(*crc));
	tmp = src->mem ? NULL : malloc(SPARSE_READ_BUF);
	if (!crc || (!src->mem && !tmp)) {
		free(crc);
		free(tmp);
		if (why)
			*why = "out of memory";
		return -ENOMEM;
	}
	sparse_crc_init(crc);
	r = sparse_walk(src, h, crc, tmp, &has_crc, why);
	free(crc);
	free(tmp);
	return r;
}

int sparse_probe_src(const struct imgsrc *src, struct sparse_info *info, const char **why)
{
	struct sparse_hdr h;
	uint8_t magic[4];
	uint64_t len = src ? src->len : 0;
	int r;

	if (!info || !src)
		return -EINVAL;
	r = len < 4 ? 0 : imgsrc_read(src, 0, magic, 4);
	if (r < 0)
		return sparse_read_fail(why, r);
	if (len < 4 || sparse_le32(magic) != SPARSE_MAGIC) {
		*info = (struct sparse_info){ .sparse = false, .size = len, .expanded_size = len };
		return 0;
	}
	r = sparse_check(src, &h, why);
	if (r < 0)
		return r;
	*info = (struct sparse_info){
		.sparse = true,
		.blk_sz = h.blk_sz,
		.total_blks = h.total_blks,
		.total_chunks = h.total_chunks,
		.size = len,
		.expanded_size = (uint64_t)h.total_blks * h.blk_sz,
	};
	return 0;
}

int sparse_probe(const uint8_t *buf, size_t len, struct sparse_info *info, const char **why)
{
	struct imgsrc src = imgsrc_mem(buf, len);

	if (!buf && len)
		return -EINVAL;
	return sparse_probe_src(&src, info, why);
}
