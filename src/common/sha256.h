/* sha256: FIPS 180-4 SHA-256, streaming and one-shot. No I/O. */
#ifndef FLASHD_SHA256_H
#define FLASHD_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32u
#define SHA256_HEX_LEN 64u /* without the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t len;      /* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
/* true when the x86 SHA extensions are used (CPU has them and not switched off) */
bool sha256_accelerated(void);
/* Tests and benchmarks: false forces the portable code. */
void sha256_use_accel(bool on);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes the digest; s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);
/* Lower-case hex of a digest, NUL-terminated. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN + 1]);
/* One shot: hex digest of data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
