/* part: partition tables on the selected eMMC hardware partition, read as U-Boot
 * reads them (disk/part.c, part_efi.c, part_dos.c): EFI (GPT) is tried first,
 * then DOS; DOS partitions get U-Boot's generic names "mmcsda<N>" (mmc device 0),
 * GPT partitions their table names. Also the fastboot "gpt" and "mbr" targets:
 * validate a downloaded table and write it (fb_mmc.c). */
#ifndef EMU_PART_H
#define EMU_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emmc.h"

#define PART_NAME_MAX 37 /* 36 UTF-16 code units + NUL */

enum part_type { PART_TYPE_NONE, PART_TYPE_DOS, PART_TYPE_EFI };

struct part_info {
	uint64_t start, size; /* 512-byte blocks */
	char name[PART_NAME_MAX];
};

const char *part_type_to_string(enum part_type t);
enum part_type part_detect(struct emmc *m);
/* partition N (1-based) of the table on the selected hardware partition: 0, or
 * -1 as U-Boot's get_info */
int part_get(struct emmc *m, int n, struct part_info *out);
/* the partition called NAME: its number, -1 without a table, -ENOENT */
int part_find(struct emmc *m, const char *name, struct part_info *out);

/* is_valid_gpt_buf(): MBR + primary GPT header + entries in BUF (LEN bytes
 * usable); 0 or -1 */
int part_gpt_buf_check(const uint8_t *buf, size_t len, uint64_t lba);
/* write_mbr_and_gpt_partitions(): primary and backup GPT; the header in BUF is
 * turned into the backup header in place, as U-Boot does; 0, -1 (invalid) or 1
 * (write failed) */
int part_gpt_write(struct emmc *m, uint8_t *buf, size_t len);
/* is_valid_dos_buf(): 0 when the sector is a DOS MBR, else -1 */
int part_dos_buf_check(const uint8_t *sector);
/* write_mbr_sector(): 0, -1 (invalid) or 1 (write failed) */
int part_mbr_write(struct emmc *m, const uint8_t *sector);

#endif
