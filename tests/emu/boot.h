/* boot: what the ROM does at power-on when the boot pins select eMMC: pick the
 * hardware partition from PARTITION_CONFIG (boot0/boot1 when enabled, else the
 * user area), read the IVT at byte 0x400 and check the image the way the ROM
 * would load it (protocols.md §3.1–3.5). */
#ifndef EMU_BOOT_H
#define EMU_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "emmc.h"
#include "ivt.h"
#include "soc.h"
#include "uimage.h"

#define BOOT_IVT_OFFSET 0x400u

struct boot_result {
	bool ok;
	enum emmc_hwpart source;
	const char *reason;   /* why not, or "ok" */
	struct ivt ivt;
	struct ivt_boot boot;
	uint32_t crc32;       /* of the image as loaded (boot_data.length bytes) */
	/* the image was an SPL (image.c) that loaded u-boot.img from the eMMC */
	bool spl;
	bool hang;            /* SPL found no U-Boot proper: the board is silent */
	uint64_t uboot_offset; /* byte offset of u-boot.img in the source partition */
	struct uimage uimg;
};

void boot_check(struct emmc *m, const struct soc_info *soc, bool hab_closed,
		struct boot_result *res);
/* boot_check(), then, when the image is an SPL, SPL's own load of u-boot.img from
 * sector UBOOT_SECTOR (common/spl/spl_mmc.c): ok (U-Boot proper runs) or hang */
void boot_check_chain(struct emmc *m, const struct soc_info *soc, bool hab_closed,
		      uint32_t uboot_sector, struct boot_result *res);

#endif
