/* image: the emulator's image model, what runs after a jump. The emulator does not
 * execute code; it decides from the headers what the CPU would run:
 *  - an i.MX IVT image whose self and entry lie in OCRAM is a U-Boot SPL (the ROM
 *    loads SPL to OCRAM: mainline CONFIG_SPL_TEXT_BASE 0x00908000 on i.MX6, IVT at
 *    0x00907400, e.g. configs/colibri_imx6_defconfig, mx6cuboxi_defconfig); any
 *    other valid IVT image is a full U-Boot (IVT in DRAM, u-boot.imx / u-boot-dtb.imx);
 *  - a legacy image (u-boot.img) is U-Boot proper when its data, as the header
 *    describes it, lies at its load address and the entry point is inside it. */
#ifndef EMU_IMAGE_H
#define EMU_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ivt.h"
#include "soc.h"
#include "uimage.h"

/* the IVT describes an SPL (self and entry in OCRAM) */
bool image_ivt_is_spl(const struct soc_info *soc, const struct ivt *v);
/* NULL when the legacy image U makes U-Boot proper run, DATA_CRC being the CRC-32
 * of U->size bytes found at U->load; else a short reason (logged) */
const char *image_uboot_check(const struct soc_info *soc, const struct uimage *u,
			      uint32_t data_crc);

#endif
