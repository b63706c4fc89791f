/* fuzz-sparse: sparse_probe on any input, then the writer over every input
 * it accepts (sparse re-split; raw as is, all-RAW and raw2sparse) at a few
 * max sizes down to the minimum. Invariants, abort() on violation: a
 * rejection has a reason; every piece ≤ max and the sum of its segments; a
 * sparse piece passes sparse_probe with the input's block size and block
 * count, 28/12-byte headers and no CRC32 chunk; a raw piece is the input
 * itself; sparse_count_pieces agrees with the writer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flashd/sparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                                              \
	do {                                                                                                       \
		if (!(c))                                                                                          \
			abort();                                                                                   \
	} while (0)

static uint32_t fuzz_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fuzz_check_sparse_piece(const uint8_t *p, size_t n, uint32_t blk_sz, uint32_t total_blks)
{
	struct sparse_info info;
	const char *why = NULL;
	size_t off = SPARSE_FILE_HDR_SZ;

	FUZZ_CHECK(sparse_probe(p, n, &info, &why) == 0);
	FUZZ_CHECK(info.sparse && info.blk_sz == blk_sz && info.total_blks == total_blks);
	FUZZ_CHECK((p[8] | p[9] << 8) == SPARSE_FILE_HDR_SZ && (p[10] | p[11] << 8) == SPARSE_CHUNK_HDR_SZ);
	for (uint32_t i = 0; i < info.total_chunks; i++) {
		FUZZ_CHECK((p[off] | p[off + 1] << 8) != SPARSE_CHUNK_CRC32);
		off += fuzz_le32(p + off + 8);
	}
}

static void fuzz_piece(const uint8_t *data, size_t size, const struct sparse_opts *o, const struct sparse_piece *pc,
		       const struct sparse_info *in)
{
	uint8_t *p;
	size_t at = 0;

	FUZZ_CHECK(pc->size <= o->max_piece);
	if (!pc->sparse) {
		FUZZ_CHECK(!in->sparse && !o->raw2sparse && size <= o->max_piece);
		FUZZ_CHECK(pc->nseg == 1 && !pc->seg[0].gen && pc->seg[0].off == 0 && pc->seg[0].len == size);
		return;
	}
	p = malloc(pc->size);
	FUZZ_CHECK(p);
	for (size_t i = 0; i < pc->nseg; i++) {
		FUZZ_CHECK(pc->seg[i].len <= pc->size - at);
		FUZZ_CHECK(pc->seg[i].gen || (pc->seg[i].off <= size && pc->seg[i].len <= size - pc->seg[i].off));
		memcpy(p + at, pc->seg[i].gen ? pc->seg[i].gen : data + pc->seg[i].off, pc->seg[i].len);
		at += pc->seg[i].len;
	}
	FUZZ_CHECK(at == pc->size);
	if (in->sparse) {
		fuzz_check_sparse_piece(p, pc->size, in->blk_sz, in->total_blks);
	} else {
		uint32_t blk = o->blk_sz ? o->blk_sz : SPARSE_RAW_BLK_SZ_DEFAULT;
		fuzz_check_sparse_piece(p, pc->size, blk, (uint32_t)((size + blk - 1) / blk));
	}
	free(p);
}

static void fuzz_writer(const uint8_t *data, size_t size, const struct sparse_opts *o, const struct sparse_info *in)
{
	struct sparse_writer *w = NULL;
	struct sparse_piece pc;
	const char *why = NULL;
	uint64_t n = 0, counted = 0;
	int r;

	r = sparse_writer_new(IMGSRC_MEM(data, size), o, &w, &why);
	if (r < 0) {
		/* only an empty raw image is refused once probe accepted it */
		FUZZ_CHECK(r == -EINVAL && why && !in->sparse && size == 0);
		return;
	}
	while ((r = sparse_writer_next(w, &pc)) == 1) {
		fuzz_piece(data, size, o, &pc, in);
		n++;
	}
	FUZZ_CHECK(r == 0 && n >= 1);
	FUZZ_CHECK(sparse_writer_next(w, &pc) == 0);
	sparse_writer_free(w);
	FUZZ_CHECK(sparse_count_pieces(IMGSRC_MEM(data, size), o, &counted, &why) == 0 && counted == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sparse_info info;
	const char *why = NULL;
	uint32_t blk;
	int r;

	r = sparse_probe(data, size, &info, &why);
	if (r < 0) {
		FUZZ_CHECK(r == -EBADMSG && why);
		return 0;
	}
	FUZZ_CHECK(info.size == size);
	blk = info.sparse ? info.blk_sz : 512;
	const uint64_t maxes[] = { sparse_min_piece(blk), sparse_min_piece(blk) + blk + 17, 64u << 10 };
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		struct sparse_opts o = { .max_piece = maxes[i], .blk_sz = info.sparse ? 0 : 512 };

		if (o.max_piece < sparse_min_piece(blk))
			continue;
		fuzz_writer(data, size, &o, &info);
		if (!info.sparse) {
			o.raw2sparse = true;
			fuzz_writer(data, size, &o, &info);
		}
	}
	return 0;
}
