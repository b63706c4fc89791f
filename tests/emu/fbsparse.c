/* fbsparse: see fbsparse.h */
#include "fbsparse.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SP_FILE_HDR 28u
#define SP_CHUNK_HDR 12u
#define SP_RAW 0xCAC1u
#define SP_FILL 0xCAC2u
#define SP_DONT_CARE 0xCAC3u
#define SP_CRC32 0xCAC4u
#define SP_MAX_BLK_WRITE 16384u         /* FASTBOOT_MAX_BLK_WRITE */
#define SP_FILLBUF_BLKS (0x80000u / EMMC_BLKSZ) /* CONFIG_IMAGE_SPARSE_FILLBUF_SIZE */

struct sp_src {
	const uint8_t *buf;
	size_t len;
};

/* LEN bytes at OFF; what lies past the buffer reads as zero */
static void sp_copy(const struct sp_src *s, uint64_t off, void *out, size_t len)
{
	size_t have = 0;

	if (off < s->len)
		have = s->len - off < len ? (size_t)(s->len - off) : len;
	if (have)
		memcpy(out, s->buf + off, have);
	memset((uint8_t *)out + have, 0, len - have);
}

static uint32_t sp_le32(const struct sp_src *s, uint64_t off)
{
	uint8_t b[4];

	sp_copy(s, off, b, sizeof(b));
	return util_le32(b);
}

static uint16_t sp_le16(const struct sp_src *s, uint64_t off)
{
	uint8_t b[2];

	sp_copy(s, off, b, sizeof(b));
	return util_le16(b);
}

bool fbsparse_is_sparse(const uint8_t *buf, size_t len)
{
	return len >= 6 && util_le32(buf) == FBSPARSE_MAGIC && util_le16(buf + 4) == 1;
}

/* fb_mmc_blk_write(): chunks of 16384 blocks, each advancing by what was written */
static uint64_t sp_blk_write(struct emmc *m, uint64_t blk, uint64_t cnt, const uint8_t *data)
{
	uint64_t done = 0;

	for (uint64_t i = 0; i < cnt; i += SP_MAX_BLK_WRITE) {
		uint64_t n = cnt - i < SP_MAX_BLK_WRITE ? cnt - i : SP_MAX_BLK_WRITE;
		uint64_t w = emmc_bwrite(m, blk, n, data + i * EMMC_BLKSZ);

		blk += w;
		done += w;
	}
	return done;
}

/* write_sparse_chunk_raw(): 0 or the FAIL text */
static const char *sp_raw(struct emmc *m, uint64_t blk, uint64_t cnt, const struct sp_src *s,
			  uint64_t off)
{
	uint8_t *bounce = NULL;
	const char *fail = NULL;

	for (uint64_t done = 0; done < cnt && !fail;) {
		uint64_t n = cnt - done < SP_MAX_BLK_WRITE ? cnt - done : SP_MAX_BLK_WRITE;
		uint64_t o = off + done * EMMC_BLKSZ;
		const uint8_t *p;

		if (o <= s->len && n * EMMC_BLKSZ <= s->len - o) {
			p = s->buf + o;
		} else {
			if (!bounce && !(bounce = malloc(SP_MAX_BLK_WRITE * EMMC_BLKSZ)))
				return "Malloc failed for: CHUNK_TYPE_RAW";
			sp_copy(s, o, bounce, (size_t)(n * EMMC_BLKSZ));
			p = bounce;
		}
		if (sp_blk_write(m, blk + done, n, p) < n)
			fail = "flash write failure(incomplete)";
		done += n;
	}
	free(bounce);
	return fail;
}

static const char *sp_fill(struct emmc *m, uint64_t *blk, uint64_t cnt, uint32_t val)
{
	static uint32_t fillbuf[SP_FILLBUF_BLKS * EMMC_BLKSZ / 4];

	if (val != 0)
		for (size_t i = 0; i < ARRAY_SIZE(fillbuf); i++)
			fillbuf[i] = val;
	for (uint64_t i = 0; i < cnt;) {
		uint64_t j = cnt - i < SP_FILLBUF_BLKS ? cnt - i : SP_FILLBUF_BLKS, w;

		if (val == 0)
			w = emmc_bwrite_zero(m, *blk, j);
		else
			w = sp_blk_write(m, *blk, j, (const uint8_t *)fillbuf);
		if (w < j)
			return "flash write failure";
		*blk += w;
		i += j;
	}
	return NULL;
}

struct sp_state {
	const struct sp_src *s;
	struct emmc *m;
	uint64_t start, size; /* the partition */
	uint64_t data, blk;   /* read offset in the image, next block */
	uint32_t blk_sz, total;
	uint16_t chdr;
};

/* one chunk of write_sparse_image(); NULL or the FAIL text */
static const char *sp_chunk(struct sp_state *st, struct fbsparse_result *res)
{
	uint16_t type = sp_le16(st->s, st->data);
	uint32_t csz = sp_le32(st->s, st->data + 4), tsz = sp_le32(st->s, st->data + 8);
	uint64_t dsz = (uint64_t)st->blk_sz * csz, cnt = (dsz + EMMC_BLKSZ - 1) / EMMC_BLKSZ;
	const char *fail;

	st->data += SP_CHUNK_HDR;
	if (st->chdr > SP_CHUNK_HDR)
		st->data += st->chdr - SP_CHUNK_HDR;
	switch (type) {
	case SP_RAW:
		if (tsz != st->chdr + dsz)
			return "Bogus chunk size for chunk type Raw";
		if (st->blk + cnt > st->start + st->size)
			return "Request would exceed partition size!";
		fail = sp_raw(st->m, st->blk, cnt, st->s, st->data);
		if (fail)
			return fail;
		st->blk += cnt;
		st->total += csz;
		st->data += dsz;
		break;
	case SP_FILL:
		if (tsz != (uint32_t)st->chdr + 4)
			return "Bogus chunk size for chunk type FILL";
		if (st->blk + cnt > st->start + st->size)
			return "Request would exceed partition size!";
		fail = sp_fill(st->m, &st->blk, cnt, sp_le32(st->s, st->data));
		if (fail)
			return fail;
		st->data += 4;
		st->total += st->blk_sz ? (uint32_t)((dsz + st->blk_sz - 1) / st->blk_sz) : 0;
		break;
	case SP_DONT_CARE:
		st->blk += cnt;
		st->total += csz;
		return NULL;
	case SP_CRC32:
		if (tsz != (uint32_t)st->chdr + 4)
			return "Bogus chunk size for chunk type CRC32";
		/* U-Boot advances by the chunk's data size (0), not past the CRC */
		st->total += csz;
		st->data += dsz;
		return NULL;
	default:
		return "Unknown chunk type";
	}
	res->bytes_written += cnt * EMMC_BLKSZ;
	return NULL;
}

void fbsparse_write(struct emmc *m, uint64_t start, uint64_t size, const uint8_t *buf,
		    size_t len, struct fbsparse_result *res)
{
	struct sp_src s = { buf, len };
	struct sp_state st = { &s, m, start, size, sp_le16(&s, 8), start, sp_le32(&s, 12), 0,
			       sp_le16(&s, 10) };
	uint32_t total_blks = sp_le32(&s, 16), total_chunks = sp_le32(&s, 20);

	res->fail = NULL;
	res->bytes_written = 0;
	res->chunks = 0;
	/* a longer header is skipped twice (image-sparse.c) */
	if (st.data > SP_FILE_HDR)
		st.data += st.data - SP_FILE_HDR;
	if (st.blk_sz % EMMC_BLKSZ) {
		res->fail = "sparse image block size issue";
		return;
	}
	for (uint32_t c = 0; c < total_chunks && !res->fail; c++) {
		res->chunks++;
		res->fail = sp_chunk(&st, res);
	}
	if (!res->fail && st.total != total_blks)
		res->fail = "sparse image write failure";
}
