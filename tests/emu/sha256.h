/* sha256: SHA-256 (FIPS 180-4), incremental, for the emulated U-Boot's "hash"
 * command (common/hash.c "sha256") */
#ifndef EMU_SHA256_H
#define EMU_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t buf[64];
	size_t n;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);

#endif
