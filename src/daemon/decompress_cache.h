/* decompress_cache: the daemon's cache of decompressed images.
 *
 * decompress_cache() keeps one decompressed copy per compressed content in a
 * cache folder, named by the compressed file's SHA-256 (content-addressed):
 *   DIR/<sha256 of the compressed bytes>.raw   the payload (sparse)
 *   DIR/<sha256 of the compressed bytes>.sum   "flashd-cache 1 FORMAT SIZE PAYLOAD-SHA256\n"
 * Each is written to a temporary file, fdatasync'd and renamed, the .raw
 * first: the .sum is the commit record, so a crash leaves either a complete
 * entry or one that is ignored and rewritten. A hit is checked cheaply (the
 * .sum parses and the .raw has its size); the caller hashes the payload
 * anyway (the journal records it) and compares it with the .sum's hash, so a
 * damaged entry is detected on every use (decompress_cache_drop()). A
 * sidecar rather than an extended attribute: tmpfs and some filesystems
 * have no user xattrs, and a plain file is easy to inspect. */
#ifndef FLASHD_DAEMON_DECOMPRESS_CACHE_H
#define FLASHD_DAEMON_DECOMPRESS_CACHE_H

#include <stdbool.h>

#include "flashd/decompress.h"

/* The cache entry for compressed content src_sha256 (hex), made from src_fd
 * (format f) if it is missing or incomplete. dir is created (0750) if
 * needed. 0, *fd_out (the payload, opened read-only, O_CLOEXEC), *res (its
 * size and SHA-256 as recorded) and *hit (true: taken from the cache); or
 * -errno and why. */
int decompress_cache(const char *dir, const char *src_sha256, enum decompress_format f,
		     int src_fd, const struct decompress_opts *o, int *fd_out,
		     struct decompress_result *res, bool *hit, char why[DECOMPRESS_WHY_MAX]);
/* Remove the entry for src_sha256 (its payload did not hash as recorded). */
void decompress_cache_drop(const char *dir, const char *src_sha256);

#endif
