/* sparse-testlib: helpers of test-sparse: random numbers, little-endian
 * access, a reference CRC-32, guarded buffers, a sparse file builder, a
 * U-Boot-semantics applier, the AOSP tools, random images. */
#ifndef FLASHD_SPARSE_TESTLIB_H
#define FLASHD_SPARSE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/sparse.h"

struct rng {
	uint64_t s;
};

/* A buffer whose last byte sits right before a PROT_NONE page, so any read
 * past the image faults even without valgrind. */
struct gbuf {
	uint8_t *map;
	size_t maplen;
	uint8_t *p;
	size_t len;
};

/* Growable byte vector for building sparse files by hand. */
struct vec {
	uint8_t *p;
	size_t len, cap;
};

struct tmpdir {
	char dir[256];
};

/* xorshift64*: the test's only source of randomness, seeded */
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);
void rng_fill(struct rng *r, uint8_t *p, size_t n);
uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);
/* bitwise CRC-32, zlib convention, independent of the module */
uint32_t ref_crc32(uint32_t crc, const uint8_t *p, size_t n);
void gbuf_new(struct gbuf *g, const uint8_t *src, size_t len);
void gbuf_free(struct gbuf *g);
uint8_t *vec_grow(struct vec *v, size_t n);
/* append a sparse file header / chunk (extra header bytes are garbage) */
void sb_header(struct vec *v, uint16_t fhs, uint16_t chs, uint32_t blk, uint32_t blks, uint32_t chunks);
void sb_chunk(struct vec *v, uint16_t chs, uint16_t type, uint32_t csz, uint32_t tsz, const void *pl,
	      size_t pllen);
/* write one download onto dev as U-Boot does (sparse: from offset 0,
 * DONT_CARE skips); CRC32 chunks only tolerated with allow_crc */
/* Apply one image with U-Boot semantics; returns the bytes written (RAW + FILL). */
uint64_t apply(const uint8_t *p, size_t n, uint8_t *dev, size_t devlen, bool allow_crc);
/* the AOSP tools, by PATH; stdout/stderr of the tool go to /dev/null */
bool have_tool(const char *name);
int run_tool(const char *a0, const char *a1, const char *a2, const char *a3);
void write_file(const char *path, const uint8_t *p, size_t n);
uint8_t *read_file(const char *path, size_t *n);
void tmpdir_new(struct tmpdir *t);
void tmpdir_path(const struct tmpdir *t, char *out, size_t n, const char *name);
void tmpdir_free(struct tmpdir *t, const char *const *names);
/* expand one piece with simg2img: RAW/FILL ranges match expect, skips are 0 */
void check_with_simg2img(const struct tmpdir *t, const uint8_t *piece, size_t n, const uint8_t *expect);
/* a piece's segments in one malloc'd buffer */
/* A piece's bytes (its image segments are ranges of img). */
uint8_t *piece_concat(const struct sparse_piece *pc, const uint8_t *img);
/* Where segment g's bytes are: generated, or in img. */
static inline const uint8_t *seg_bytes(const struct sparse_seg *g, const uint8_t *img)
{
	return g->gen ? g->gen : img + g->off;
}
/* random raw image: runs of data, zero, fill and near-fill unit blocks,
 * odd length one time in two (malloc'd) */
uint8_t *gen_raw(struct rng *r, uint32_t unit, uint32_t max_units, size_t *len);
/* random valid sparse file: every chunk type, CRC32 chunks, zero-block
 * chunks, oversize headers (malloc'd) */
uint8_t *gen_sparse(struct rng *r, size_t *len, uint32_t *blk_out);
/* a max_piece ≥ sparse_min_piece(blk): the minimum, a little more, up to
 * about the image size */
uint64_t pick_max(struct rng *r, uint32_t blk, size_t len);

#endif
