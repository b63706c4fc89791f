/* dcd: parse and execute an i.MX Device Configuration Data table (protocols.md §3.3)
 * against the emulated register space, one command after the other as the ROM's
 * HAB library does: a malformed command stops execution with the earlier writes
 * already done. */
#ifndef EMU_DCD_H
#define EMU_DCD_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "mem.h"
#include "soc.h"

#define DCD_MAX_SIZE 1768u
#define DCD_TAG 0xD2u

enum dcd_status {
	DCD_OK,
	DCD_BAD_HEADER,   /* tag, version or length */
	DCD_TOO_BIG,      /* > 1768 bytes */
	DCD_BAD_COMMAND,  /* unknown command tag */
	DCD_BAD_LENGTH,   /* command length does not fit its type or the table */
	DCD_BAD_WIDTH,    /* access width not 1, 2 or 4 */
	DCD_BAD_ADDRESS,  /* register outside the ROM's allowed ranges */
	DCD_CHECK_FAILED, /* check with a poll count never satisfied */
	DCD_CHECK_HANGS,  /* check without poll count never satisfied: the ROM polls forever */
	DCD_NO_MEMORY,    /* emulator memory cap */
};

struct dcd_target {
	const struct soc_info *soc;
	struct mem *mem;
	uint64_t uid;
};

struct dcd_result {
	enum dcd_status status;
	size_t offset;     /* of the failing command */
	unsigned writes;   /* register writes done */
	unsigned checks;
};

const char *dcd_status_to_string(enum dcd_status s);
/* the HAB error word (LE32 as sent in report 4) the ROM reports for a DCD error */
uint32_t dcd_status_hab_word(enum dcd_status s);
/* run the table in B (LEN bytes available); every write/check is logged */
void dcd_run(const uint8_t *b, size_t len, const struct dcd_target *t, struct log *log,
	     struct dcd_result *res);

#endif
