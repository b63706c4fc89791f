/* ucmd_mmc: the "mmc" command of the emulated U-Boot (cmd/mmc.c subset): dev,
 * partconf, erase, read, write, bootbus, info, list, rescan. read/write move
 * blocks of the selected hardware partition between the eMMC and U-Boot's RAM. */
#ifndef EMU_UCMD_MMC_H
#define EMU_UCMD_MMC_H

#include "uboot.h"

/* 0 success, 1 failure, -1 usage error (CMD_RET_USAGE) */
int ucmd_mmc(struct uboot *u, int argc, char **argv);

#endif
