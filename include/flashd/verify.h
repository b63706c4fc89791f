/* verify: the proof of a flash step (issue 16). From the image alone, the
 * byte ranges a `fastboot flash` of it writes to the partition, cut into
 * pieces that fit the board's RAM, each with the CRC-32 and SHA-256 that
 * U-Boot must find when it reads the piece back (mmc read, then crc32 /
 * hash sha256 of the piece), plus one SHA-256 over everything written for
 * the journal. Host side only: no board, no I/O but the image source.
 *
 * What a flash step writes (U-Boot drivers/fastboot/fb_mmc.c, whose block
 * writes live in fb_block.c in recent trees, and lib/image-sparse.c):
 *   - a raw image is written at the partition start, rounded up to whole
 *     device blocks (fastboot_block_write_raw_image: blkcnt rounded up);
 *     the bytes past the image in the last block are whatever the download
 *     buffer held, so exactly the image's size bytes are verified;
 *   - a sparse image (write_sparse_image) writes its RAW chunks, and its
 *     FILL chunks expanded, at their block offsets; DONT_CARE chunks only
 *     move the write position (the board keeps whatever was there) and are
 *     not verified; CRC32 chunks write nothing.
 * The ranges depend on the image only, not on how flashd cuts it into
 * downloads (sparse.h: every piece covers the whole image with skips), so
 * they are computed from the image and its sparse_probe_src() result.
 * A raw image sent as sparse (too big for one download, or raw2sparse)
 * also gets its last block padded with zeros by the writer; verification
 * still covers only the image's bytes, which that padding leaves intact. */
#ifndef FLASHD_VERIFY_H
#define FLASHD_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "flashd/imgsrc.h"
#include "flashd/sparse.h"

#define VERIFY_SECTOR 512u     /* pieces start on (and raw pieces but the last end on) these */
#define VERIFY_SHA256_HEX 64u  /* hex digits of a SHA-256, without the NUL */

struct verify_piece {
	/* byte offset from the partition start, a multiple of 512 */
	uint64_t off;
	/* bytes, 1 ≤ len ≤ max_piece (rounded); a multiple of 512 except the
	 * last piece of a raw image whose size is not */
	uint64_t len;
	/* zlib's crc32() of exactly the len bytes (what U-Boot's `crc32`
	 * command prints for them) */
	uint32_t crc32;
	/* lower-case hex SHA-256 of exactly the len bytes; "" without
	 * want_sha256 */
	char sha256[VERIFY_SHA256_HEX + 1];
};

struct verify_opts {
	/* bytes per read-back (e.g. max-download-size: the RAM the board
	 * lends a download), rounded down to a multiple of 512; must be ≥ 512 */
	uint64_t max_piece;
	/* fill verify_piece.sha256 too (costs a SHA-256 of every byte) */
	bool want_sha256;
};

struct verify_summary {
	uint64_t bytes;         /* written bytes: Σ piece len */
	uint64_t pieces;        /* pieces at this max_piece */
	/* lower-case hex SHA-256 of all written bytes in offset order, the
	 * DONT_CARE ranges left out (the concatenation of the pieces) */
	char sha256[VERIFY_SHA256_HEX + 1];
};

struct verify_iter;

/* An iterator over the pieces of the image src, whose probe is info
 * (sparse_probe_src(src, info) must have succeeded: the chunks are not
 * re-validated beyond what keeps the walk safe).
 *
 * Pieces are the written extents in offset order: adjacent written chunks
 * (RAW then FILL, FILL then FILL, ...) are one extent, chunks that write
 * nothing (zero blocks, CRC32) do not split one, a DONT_CARE of one block
 * or more does (no piece spans it); each extent is cut into pieces of
 * max_piece bytes, the last one shorter. A raw image is one extent
 * [0, size).
 *
 * A sparse image whose chunks are all DONT_CARE writes nothing and gives
 * zero pieces: nothing can be read back, so a caller must not report such
 * a step as verified.
 *
 * Memory is bounded whatever the image: a read buffer (when src is not in
 * memory) and a buffer of FILL pattern, 64 KiB each; FILL chunks are
 * hashed from that buffer, never expanded.
 *
 * Errors (*why, may be NULL, a static string): -EINVAL for bad arguments,
 * an empty image ("empty image"), max_piece below 512 or info not
 * describing src; -ENOMEM; the source's read error ("cannot read the
 * image") when reading the sparse header. */
int verify_iter_new(const struct imgsrc *src, const struct sparse_info *info,
		    const struct verify_opts *o, struct verify_iter **out, const char **why);
/* 1: *p is the next piece; 0: no more pieces; <0: the source's read error,
 * or -EBADMSG when a chunk no longer matches the probe (the image changed
 * under the iterator). After an error every later call returns it again.
 * src must stay valid while the iterator lives. */
int verify_iter_next(struct verify_iter *it, struct verify_piece *p);
struct verify_iter *verify_iter_free(struct verify_iter *it);

/* The summary of the pieces verify_iter_next would give (o->want_sha256 is
 * ignored: pieces are not hashed one by one), in one walk of the image.
 * Errors as verify_iter_new and verify_iter_next (*why "cannot read the
 * image", or "sparse image changed since it was probed"). Zero pieces
 * give bytes 0 and the SHA-256 of nothing (e3b0c442…): not a proof. */
int verify_region_summary(const struct imgsrc *src, const struct sparse_info *info,
			  const struct verify_opts *o, struct verify_summary *s, const char **why);

#endif
