/* ucmd_setexpr: the "setexpr" command of the emulated U-Boot (cmd/setexpr.c,
 * without CONFIG_REGEX and CONFIG_CMD_SETEXPR_FMT): "setexpr[.b|.w|.l|.s] NAME
 * [*]VALUE [OP [*]VALUE]", integer operators + - * / % & | ^ on 32-bit ulong,
 * stored as env_set_hex() writes it ("%lx": hexadecimal, no 0x) */
#ifndef EMU_UCMD_SETEXPR_H
#define EMU_UCMD_SETEXPR_H

#include "uboot.h"

/* 0 success, 1 failure, -1 usage error (CMD_RET_USAGE) */
int ucmd_setexpr(struct uboot *u, int argc, char **argv);

#endif
