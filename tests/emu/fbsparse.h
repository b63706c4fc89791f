/* fbsparse: write an Android sparse image from the fastboot buffer to the eMMC
 * exactly as U-Boot's lib/image-sparse.c write_sparse_image() does (protocols.md
 * §5.4), including its quirks: the CRC32 chunk's 4 bytes are not skipped, a
 * longer file header is skipped twice, DONT_CARE is not bounds-checked, and
 * total_blks is compared only after everything was written. U-Boot reads chunk
 * data from RAM without bounds; here bytes past the buffer read as zero. */
#ifndef EMU_FBSPARSE_H
#define EMU_FBSPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emmc.h"

#define FBSPARSE_MAGIC 0xED26FF3Au

struct fbsparse_result {
	const char *fail;       /* NULL on success, else U-Boot's FAIL text */
	uint64_t bytes_written; /* RAW + FILL bytes */
	uint32_t chunks;        /* chunks processed */
};

/* is_sparse_image(): magic and major version 1 */
bool fbsparse_is_sparse(const uint8_t *buf, size_t len);
/* write into [START, START + SIZE) blocks of the selected hardware partition */
void fbsparse_write(struct emmc *m, uint64_t start, uint64_t size, const uint8_t *buf,
		    size_t len, struct fbsparse_result *res);

#endif
