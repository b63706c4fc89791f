/* crc32: the IEEE 802.3 CRC-32 (zlib's crc32, as U-Boot, GPT and gzip use it) */
#ifndef EMU_CRC32_H
#define EMU_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* continue a CRC: start with crc = 0 */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

#endif
