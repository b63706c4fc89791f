/* sparse: Android sparse images — validate, re-split to ≤ max-download-size,
 * and convert raw → sparse on the fly. Output is a sequence of pieces, each a
 * complete sparse file described as segments: small generated header bytes
 * or ranges of the caller's (mmap'd) image. No image data is copied. */
#ifndef FLASHD_SPARSE_H
#define FLASHD_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPARSE_MAGIC 0xED26FF3Au
#define SPARSE_FILE_HDR_SZ 28u
#define SPARSE_CHUNK_HDR_SZ 12u
#define SPARSE_CHUNK_RAW 0xCAC1u
#define SPARSE_CHUNK_FILL 0xCAC2u
#define SPARSE_CHUNK_DONT_CARE 0xCAC3u
#define SPARSE_CHUNK_CRC32 0xCAC4u

struct sparse_info {
	bool sparse;            /* false: raw image */
	uint32_t blk_sz;        /* sparse: header blk_sz; raw: 0 */
	uint32_t total_blks;
	uint32_t total_chunks;
	uint64_t size;          /* bytes in the file */
	uint64_t expanded_size; /* bytes once written (raw: == size) */
};

/* Identify and (for sparse files) fully validate: header, every chunk,
 * Σ chunk_sz == total_blks, CRC32 chunks. -EBADMSG with *why on error. */
int sparse_probe(const uint8_t *buf, size_t len, struct sparse_info *info, const char **why);

struct sparse_seg {
	const uint8_t *data;    /* generated header bytes or a pointer into the image */
	size_t len;
};

struct sparse_piece {
	const struct sparse_seg *seg; /* valid until the next sparse_writer_next/free */
	size_t nseg;
	uint64_t size;          /* Σ seg len: the download size */
	bool sparse;            /* false: a raw image sent as is (fits in one piece) */
};

struct sparse_opts {
	uint64_t max_piece;     /* max-download-size; each piece ≤ this */
	bool raw2sparse;        /* raw input: detect zero/fill blocks (else all RAW chunks) */
	uint32_t blk_sz;        /* raw→sparse block size; 0 = 4096 */
};

struct sparse_writer;

/* A raw image that fits in max_piece without raw2sparse is one raw piece.
 * A raw image that does not fit, or raw2sparse, becomes sparse pieces.
 * A sparse image is re-split into pieces (each total_blks = whole image,
 * with leading/trailing DONT_CARE), CRC32 chunks dropped. */
int sparse_writer_new(const uint8_t *buf, size_t len, const struct sparse_opts *opts,
		      struct sparse_writer **out, const char **why);
/* 1: *piece filled; 0: no more pieces; <0: error (-EINVAL max too small). */
int sparse_writer_next(struct sparse_writer *w, struct sparse_piece *piece);
struct sparse_writer *sparse_writer_free(struct sparse_writer *w);
/* Count pieces without keeping them (walks the image once). */
int sparse_count_pieces(const uint8_t *buf, size_t len, const struct sparse_opts *opts,
			uint64_t *pieces, const char **why);

#endif
