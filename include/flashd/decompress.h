/* decompress: compressed images (zstd, gzip, bzip2, xz) recognised by their
 * magic bytes, never by name, and decompressed with Debian's own libraries
 * (libzstd, zlib, libbz2, liblzma) into a sparse file.
 *
 * decompress_fd() streams one compressed file into an empty output file:
 * every 4 KiB block of zeros is left as a hole (lseek over it, ftruncate at
 * the end), the payload is hashed on the way (SHA-256), multi-member gzip,
 * concatenated zstd frames, multi-stream bzip2 and concatenated xz streams
 * are decompressed whole, and a truncated or corrupt stream fails with the
 * library's reason.
 *
 * The cache of decompressed images that the daemon keeps is
 * src/daemon/decompress_cache.h. */
#ifndef FLASHD_DECOMPRESS_H
#define FLASHD_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECOMPRESS_MAGIC_LEN 6u                /* bytes decompress_detect() needs */
#define DECOMPRESS_MAX_DEFAULT (256ull << 30)  /* payload bytes (sparse_map's limit) */
#define DECOMPRESS_MIN_FREE_DEFAULT (64ull << 20) /* bytes left free on the cache's filesystem */
#define DECOMPRESS_WHY_MAX 512u

enum decompress_format {
	DECOMPRESS_FORMAT_NONE,
	DECOMPRESS_FORMAT_ZSTD,   /* 28 b5 2f fd */
	DECOMPRESS_FORMAT_GZIP,   /* 1f 8b */
	DECOMPRESS_FORMAT_BZIP2,  /* "BZh" '1'..'9' */
	DECOMPRESS_FORMAT_XZ,     /* fd "7zXZ" 00 */
};

struct decompress_opts {
	uint64_t max_size;        /* largest payload; 0: DECOMPRESS_MAX_DEFAULT */
	uint64_t min_free;        /* stop when less is free on the output's filesystem
				   * (looked at every 64 MiB written); 0:
				   * DECOMPRESS_MIN_FREE_DEFAULT */
	/* called now and then with compressed bytes consumed of total */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *ud;
};

struct decompress_result {
	uint64_t size;            /* payload bytes */
	char sha256[65];          /* of the payload, lowercase hex */
};

/* Format of a file whose first len bytes are head (len < DECOMPRESS_MAGIC_LEN
 * is fine: a short file is just less likely to match). */
enum decompress_format decompress_detect(const void *head, size_t len);
/* "zstd", "gzip", "bzip2", "xz"; NULL for DECOMPRESS_FORMAT_NONE */
const char *decompress_format_to_string(enum decompress_format f);

/* Decompress in_fd (read from offset 0 to its end) into out_fd (an empty
 * regular file opened for writing). 0 and *res, or -errno and why:
 * -EBADMSG corrupt or truncated stream (the library's reason), -EFBIG
 * payload over max_size, -ENOSPC not enough free space, -ENOMEM, or the
 * error of a read or write. */
int decompress_fd(enum decompress_format f, int in_fd, int out_fd,
		  const struct decompress_opts *o, struct decompress_result *res,
		  char why[DECOMPRESS_WHY_MAX]);

#endif
