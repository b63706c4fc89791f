/* fbmmc: U-Boot's drivers/fastboot/fb_mmc.c on the emulated eMMC: partition
 * lookup (table name → fastboot_raw_partition_<name> → dev[.hwpart][:part] or
 * dev#name → fastboot_partition_alias_<name>, then the same again), the special
 * targets mmc0boot0/mmc0boot1/gpt/mbr/mmc0, raw and sparse writes, erase with
 * erase-group alignment. With offset names (a patched U-Boot) a numeric name is
 * an absolute byte offset in the user area. */
#ifndef EMU_FBMMC_H
#define EMU_FBMMC_H

#include <stddef.h>
#include <stdint.h>

#include "part.h"
#include "uboot.h"

/* fastboot_mmc_get_part_info(): the partition number (0 for raw/whole-device
 * regions) or -errno, with U-Boot's FAIL text in RESP */
int fbmmc_part_info(struct uboot *u, const char *name, struct part_info *info, char *resp);
/* fastboot_mmc_flash_write(): BYTES downloaded bytes at BUF (LEN usable) */
void fbmmc_flash(struct uboot *u, const char *name, uint8_t *buf, size_t len, uint32_t bytes,
		 char *resp);
/* fastboot_mmc_erase() */
void fbmmc_erase(struct uboot *u, const char *name, char *resp);
/* getvar partition-type: the filesystem U-Boot recognises on partition NUM (0:
 * the whole selected hardware partition), or NULL */
const char *fbmmc_fs_type(struct uboot *u, int num, const struct part_info *info);

#endif
