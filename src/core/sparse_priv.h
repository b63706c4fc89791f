/* sparse_priv.h: what the sparse core's files share (not a public API). */
#ifndef FLASHD_SPARSE_PRIV_H
#define FLASHD_SPARSE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/sparse.h"

struct sparse_hdr {
	uint16_t major;
	uint16_t minor;
	uint16_t file_hdr_sz;
	uint16_t chunk_hdr_sz;
	uint32_t blk_sz;
	uint32_t total_blks;
	uint32_t total_chunks;
};

struct sparse_chunk {
	uint16_t type;
	uint32_t chunk_sz;
	uint32_t total_sz;
	uint64_t payload;       /* offset of what follows the chunk_hdr_sz header bytes */
	uint8_t word[4];        /* FILL: the pattern; CRC32: the CRC (little endian) */
};

static inline uint16_t sparse_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t sparse_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sparse_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void sparse_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

struct sparse_map {
	uint64_t len;           /* image bytes */
	uint32_t blk_sz;
	uint32_t nblk;          /* whole blocks: len / blk_sz */
	uint64_t covered;       /* bytes classified so far, in order */
	uint64_t *kind;         /* enum sparse_map_kind, 2 bits a block */
};

/* Is the block (blk_sz a multiple of 512) one repeated 32-bit value? */
bool sparse_block_fill(const uint8_t *p, uint32_t blk_sz, uint32_t *pattern);

/* Decode a file header (buf holds ≥ SPARSE_FILE_HDR_SZ bytes; no checks). */
void sparse_hdr_read(const uint8_t *buf, struct sparse_hdr *h);
/* Decode the 12 chunk header bytes at p (no checks): payload is set to
 * chunk_hdr_sz, the offset from the chunk's start. */
void sparse_chunk_read(const uint8_t *p, uint16_t chunk_hdr_sz, struct sparse_chunk *c);
/* Read and decode the chunk at off of src: payload is an offset in src,
 * word its first 4 payload bytes (FILL, CRC32). 0 or imgsrc_read's error. */
int sparse_chunk_load(const struct imgsrc *src, uint64_t off, uint16_t chunk_hdr_sz, struct sparse_chunk *c);

/* Bytes of image read at a time where the source is not in memory. */
#define SPARSE_READ_BUF (64u << 10)

#endif
