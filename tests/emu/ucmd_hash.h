/* ucmd_hash: the "crc32" (cmd/mem.c do_mem_crc) and "hash" (cmd/hash.c do_hash)
 * commands of the emulated U-Boot, both over common/hash.c hash_command(), with
 * the algorithms crc32 and sha256 (the build has no other). What "-v" does
 * depends on the build (struct uboot_build): see README.md. */
#ifndef EMU_UCMD_HASH_H
#define EMU_UCMD_HASH_H

#include "uboot.h"

/* 0 success, 1 failure, -1 usage error (CMD_RET_USAGE) */
int ucmd_crc32(struct uboot *u, int argc, char **argv);
int ucmd_hash(struct uboot *u, int argc, char **argv);

#endif
