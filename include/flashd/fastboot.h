/* fastboot: command formatting and reply parsing (USB fastboot as U-Boot
 * speaks it). No I/O. */
#ifndef FLASHD_FASTBOOT_H
#define FLASHD_FASTBOOT_H

#include <stddef.h>
#include <stdint.h>

#define FASTBOOT_CMD_MAX 64u     /* longest command we send */
#define FASTBOOT_REPLY_MAX 256u  /* longest reply we accept (U-Boot sends ≤ 64) */

enum fastboot_reply_kind {
	FASTBOOT_REPLY_OKAY,
	FASTBOOT_REPLY_FAIL,
	FASTBOOT_REPLY_DATA,
	FASTBOOT_REPLY_INFO,
	FASTBOOT_REPLY_TEXT,
};

struct fastboot_reply {
	enum fastboot_reply_kind kind;
	char text[FASTBOOT_REPLY_MAX + 1]; /* payload after the 4-byte tag, NUL-terminated */
	uint32_t data_size;                /* DATA: announced byte count */
};

/* Format "verb" or "verb:arg" (arg may be NULL) into out (NUL-terminated,
 * ≤ FASTBOOT_CMD_MAX bytes without the NUL). Returns the length or -E2BIG. */
int fastboot_format(char out[FASTBOOT_CMD_MAX + 1], const char *verb, const char *arg);
/* "download:%08x" */
int fastboot_format_download(char out[FASTBOOT_CMD_MAX + 1], uint32_t size);
/* Parse one IN transfer. -EBADMSG for an unknown tag, a bad DATA size, or an
 * oversized reply. */
int fastboot_parse_reply(const uint8_t *buf, size_t len, struct fastboot_reply *out);
const char *fastboot_reply_kind_to_string(enum fastboot_reply_kind k);

/* getvar values */
int fastboot_parse_size(const char *text, uint64_t *out);      /* hex (0x) or decimal, trims spaces */
int fastboot_parse_max_download(const char *text, uint32_t *out); /* > 0, ≤ 4 GiB-1 */

#endif
