/* emmc: the emulated eMMC: user area (backing FILE, sparse), boot partitions
 * (FILE.boot0, FILE.boot1, 4 MiB each), the selected hardware partition, the
 * PARTITION_CONFIG / BOOT_BUS_CONDITIONS registers and an optional write-speed
 * limit. Block I/O follows U-Boot's mmc driver: 512-byte blocks on the currently
 * selected hardware partition; a range past its end transfers nothing. */
#ifndef EMU_EMMC_H
#define EMU_EMMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define EMMC_BLKSZ 512u
#define EMMC_BOOT_SIZE (4u << 20)
#define EMMC_ERASE_GRP_BLKS 1024u /* 512 KiB erase group */

enum emmc_hwpart { EMMC_USER = 0, EMMC_BOOT0 = 1, EMMC_BOOT1 = 2, EMMC_NPARTS = 3 };

/* sleep NS nanoseconds (the board makes it interruptible); NULL: nanosleep */
typedef void (*emmc_sleep_fn)(void *ctx, uint64_t ns);

struct emmc_cfg {
	const char *path;
	uint64_t user_size;   /* bytes, multiple of 512 */
	unsigned write_mbps;  /* 0: unlimited; MB/s = 10^6 bytes/s */
	emmc_sleep_fn sleep;
	void *sleep_ctx;
};

struct emmc;

int emmc_open(const struct emmc_cfg *cfg, struct log *log, struct emmc **out);
struct emmc *emmc_free(struct emmc *m);
const char *emmc_hwpart_to_string(enum emmc_hwpart p);

int emmc_select(struct emmc *m, enum emmc_hwpart p);
enum emmc_hwpart emmc_current(const struct emmc *m);
/* blocks of the selected / a given hardware partition */
uint64_t emmc_lba(const struct emmc *m);
uint64_t emmc_part_lba(const struct emmc *m, enum emmc_hwpart p);

/* blocks transferred: CNT, or 0 when the range does not fit (U-Boot mmc_bread/
 * mmc_bwrite), or fewer after an I/O error of the backing file */
uint64_t emmc_bread(struct emmc *m, uint64_t blk, uint64_t cnt, void *buf);
uint64_t emmc_bwrite(struct emmc *m, uint64_t blk, uint64_t cnt, const void *buf);
/* write zero blocks (a FILL 0 chunk): same result and timing as writing zeros */
uint64_t emmc_bwrite_zero(struct emmc *m, uint64_t blk, uint64_t cnt);
/* erased blocks read back 0x00 */
uint64_t emmc_berase(struct emmc *m, uint64_t blk, uint64_t cnt);
/* byte-level read of any hardware partition (boot check, tests); -errno */
int emmc_pread(struct emmc *m, enum emmc_hwpart p, uint64_t off, void *buf, size_t len);

/* EXT_CSD PARTITION_CONFIG: boot ack, boot partition (0 none, 1 boot0, 2 boot1,
 * 7 user), partition access; BOOT_BUS_CONDITIONS */
void emmc_set_partconf(struct emmc *m, unsigned ack, unsigned boot_part, unsigned access);
unsigned emmc_partconf(const struct emmc *m);
unsigned emmc_boot_partition(const struct emmc *m);
void emmc_set_bootbus(struct emmc *m, unsigned value);
/* bytes written to the medium since open (tests, logs) */
uint64_t emmc_bytes_written(const struct emmc *m);

/* --fault-emmc-bitflip: a weak cell at byte OFFSET of the user area. Whatever is
 * stored there (block writes, zero fills, erase, which the model stores as zeros)
 * is kept with bit 0 flipped, silently: the write still reports success. FN (may
 * be NULL: the emmc logs a "fault" event itself) is called the first time it
 * happens. */
typedef void (*emmc_fault_fn)(void *ctx, const char *fault);
void emmc_set_bitflip(struct emmc *m, uint64_t offset, emmc_fault_fn fn, void *ctx);
/* writes that hit the bit-flip byte so far */
uint64_t emmc_bitflips(const struct emmc *m);

#endif
