/* ucmd_part: the "part" command of the emulated U-Boot (cmd/part.c), the
 * subcommands start, size and number on the emulated eMMC ("mmc" device 0)
 * with the tables part.c reads (GPT first, then MBR) */
#ifndef EMU_UCMD_PART_H
#define EMU_UCMD_PART_H

#include "uboot.h"

/* 0 success, 1 failure, -1 usage error (CMD_RET_USAGE) */
int ucmd_part(struct uboot *u, int argc, char **argv);

#endif
