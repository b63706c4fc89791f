/* ucmd: U-Boot's command line as fastboot UCmd:/ACmd:/oem run: reach it — a
 * subset of hush (';' lists, if/then/else/fi, '…' and "…" quoting, $var and
 * ${var} expansion, $?) and the commands a factory plan uses: setenv, env
 * (set/delete/exists/default/save/print), saveenv, printenv, mmc (dev, partconf,
 * erase, read, write, bootbus, rescan, info, list), crc32, hash, part, setexpr,
 * run, echo, test, true, false, sleep, reset, version. Anything else, and a command
 * the build leaves out (uboot_build.no_cmd), is "Unknown command" (status 1), as
 * in U-Boot without that command compiled in. */
#ifndef EMU_UCMD_H
#define EMU_UCMD_H

#include "uboot.h"

#define UCMD_LINE_MAX 4096

/* run_command(): 0 on success, 1 on failure; u->reset is set by "reset" */
int ucmd_run(struct uboot *u, const char *line);

#endif
