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
 * Σ chunk_sz == total_blks, CRC32 chunks. -EBADMSG with *why on error.
 *
 * Anything that does not start with the 4 magic bytes is a raw image.
 * Accepted: major version 1 (any minor), file_hdr_sz >= 28 and
 * chunk_hdr_sz >= 12 (extra header bytes are skipped), blk_sz a non-zero
 * multiple of 512 (the format wants a multiple of 4; U-Boot refuses
 * anything that is not a multiple of its 512-byte device blocks),
 * total_blks > 0 (libsparse refuses empty images too), every
 * chunk's total_sz exact for its type, exactly total_chunks chunks with no
 * trailing bytes, Σ chunk_sz == total_blks. The reserved1 field and the
 * header's image_checksum are ignored (U-Boot and libsparse ignore them).
 * A CRC32 chunk must have chunk_sz 0 and hold the CRC-32 (zlib polynomial)
 * of the expanded image so far, FILL chunks expanded and DONT_CARE chunks
 * counted as zeros — the rule of AOSP libsparse's reader
 * (sparse_file_import with crc; the old standalone simg2img skipped
 * DONT_CARE instead). Fills and skips are folded in O(log n), so a hostile
 * header cannot make this slow. *why (may be NULL) is a static string. */
int sparse_probe(const uint8_t *buf, size_t len, struct sparse_info *info, const char **why);

struct sparse_seg {
	const uint8_t *data;    /* generated header bytes or a pointer into the image */
	size_t len;
};

struct sparse_piece {
	const struct sparse_seg *seg; /* valid until the next sparse_writer_next/free */
	size_t nseg;
	uint64_t size;          /* Σ seg len: the download size */
	uint64_t write_bytes;   /* bytes the target writes (RAW + FILL expanded; raw: size) */
	bool sparse;            /* false: a raw image sent as is (fits in one piece) */
};

#define SPARSE_RAW_BLK_SZ_DEFAULT 4096u
#define SPARSE_RAW_BLK_SZ_MAX (1u << 20) /* bounds the one copied tail block */

/* A block map of a raw image: for every whole block, whether it is data,
 * all zeros or another repeated 32-bit value, 2 bits a block. Built once
 * (the daemon does it while hashing an image at plan load, and marks file
 * holes zero without reading them), then shared read-only by any number of
 * writers, which then read only the blocks they send: a 4 GiB image that
 * is mostly zeros costs each board its data, not 4 GiB of page faults.
 * Bounded: at most SPARSE_MAP_MAX_BLKS blocks (16 MiB of map; 256 GiB at
 * 4 KiB blocks); bigger images go without a map. */
struct sparse_map;

enum sparse_map_kind {
	SPARSE_MAP_DATA = 0,    /* anything else: a RAW chunk */
	SPARSE_MAP_ZERO = 1,    /* all zeros: FILL 0 */
	SPARSE_MAP_FILL = 2,    /* one non-zero 32-bit value, its first 4 bytes */
};

#define SPARSE_MAP_MAX_BLKS (1u << 26)

/* A map of a len-byte image in blocks of blk_sz (a non-zero multiple of
 * 512, at most SPARSE_RAW_BLK_SZ_MAX); -EINVAL, -EFBIG (too many blocks),
 * -ENOMEM. A final partial block is not in the map (writers copy it). */
int sparse_map_new(uint64_t len, uint32_t blk_sz, struct sparse_map **out);
/* Classify the n image bytes at off from p, or mark n bytes at off as
 * zeros (a file hole). Calls cover the image in order: off is where the
 * last call ended, a multiple of blk_sz; n is a multiple of blk_sz unless
 * the range reaches the end of the image. -EINVAL otherwise. */
int sparse_map_scan(struct sparse_map *m, uint64_t off, const uint8_t *p, size_t n);
int sparse_map_zero(struct sparse_map *m, uint64_t off, uint64_t n);
/* Every byte classified (writers ignore an incomplete map)? */
bool sparse_map_complete(const struct sparse_map *m);
/* Kind of whole block b (b < len / blk_sz). */
enum sparse_map_kind sparse_map_get(const struct sparse_map *m, uint32_t b);
struct sparse_map *sparse_map_free(struct sparse_map *m);

struct sparse_opts {
	uint64_t max_piece;     /* max-download-size; each piece ≤ this */
	bool raw2sparse;        /* raw input: detect zero/fill blocks (else all RAW chunks) */
	uint32_t blk_sz;        /* raw→sparse block size; 0 = 4096 */
	/* raw2sparse: the block map of the image buf is part of (NULL: read
	 * every block), buf starting map_off bytes into that image. Used when
	 * complete, of the same block size, map_off a multiple of it and buf
	 * inside the mapped image; otherwise ignored. The writer's output is
	 * the same with or without it. */
	const struct sparse_map *map;
	uint64_t map_off;
};

/* Smallest max_piece that sparse output with this block size can use:
 * file header, leading DONT_CARE, one RAW chunk of one block, trailing
 * DONT_CARE (28 + 3 × 12 + blk_sz). */
uint64_t sparse_min_piece(uint32_t blk_sz);

struct sparse_writer;

/* A raw image that fits in max_piece without raw2sparse is one raw piece.
 * A raw image that does not fit, or raw2sparse, becomes sparse pieces.
 * A sparse image is re-split into pieces (each total_blks = whole image,
 * with leading/trailing DONT_CARE), CRC32 chunks dropped.
 *
 * Every sparse piece is a complete sparse file (28-byte header, 12-byte
 * chunk headers, image_checksum 0, never a CRC32 chunk) whose total_blks is
 * the whole image's: a leading DONT_CARE for what earlier pieces covered,
 * its chunks, a trailing DONT_CARE for the rest (the AOSP resparse layout),
 * so each piece is flashed to the same partition start. RAW chunks are
 * split across pieces; FILL chunks are kept whole (16 bytes); input
 * DONT_CARE runs become the pieces' skips.
 *
 * Raw → sparse: blocks of blk_sz (a multiple of 512, at most
 * SPARSE_RAW_BLK_SZ_MAX); a final partial block is padded with zeros and
 * is the only image data ever copied (into a writer-owned block). With
 * raw2sparse, a block that is one repeated 32-bit value becomes a FILL
 * chunk — including all-zero blocks, which become FILL 0 and NOT
 * DONT_CARE, so the result is exact whatever the eMMC held before (what
 * img2simg does; costs 16 bytes per zero run, no pre-erase needed); other
 * blocks become RAW chunks, adjacent ones merged. Without raw2sparse every
 * block is RAW. RAW data segments point into buf.
 *
 * Memory: the writer keeps the current piece's segment list and its
 * generated header bytes (reused across pieces), plus one block for a
 * partial tail — nothing grows with the image size. Errors: -EINVAL with
 * *why for bad arguments, max_piece < sparse_min_piece(blk_sz) when sparse
 * output is needed, an empty raw image or a bad blk_sz; -EFBIG when a raw
 * image has more than 2^32-1 blocks; sparse_probe's -EBADMSG; -ENOMEM. */
int sparse_writer_new(const uint8_t *buf, size_t len, const struct sparse_opts *opts,
		      struct sparse_writer **out, const char **why);
/* 1: *piece filled; 0: no more pieces; <0: error (-EINVAL max too small,
 * -ENOMEM; after an error every later call returns it again). */
int sparse_writer_next(struct sparse_writer *w, struct sparse_piece *piece);
struct sparse_writer *sparse_writer_free(struct sparse_writer *w);
/* Count pieces without keeping them (walks the image once). */
int sparse_count_pieces(const uint8_t *buf, size_t len, const struct sparse_opts *opts,
			uint64_t *pieces, const char **why);

#endif
