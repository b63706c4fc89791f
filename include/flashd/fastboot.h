/* fastboot: command formatting and reply parsing (USB fastboot as U-Boot
 * speaks it). No I/O. */
#ifndef FLASHD_FASTBOOT_H
#define FLASHD_FASTBOOT_H

#include <stddef.h>
#include <stdint.h>

#define FASTBOOT_CMD_MAX 64u     /* longest command fastboot_format*() builds; plan
				  * commands may be longer (PLAN_FB_CMD_MAX) */
/* The USB interface of a fastboot device (AOSP fastboot's match_fastboot,
 * U-Boot's f_fastboot.c interface descriptor). */
#define FASTBOOT_USB_CLASS 0xffu
#define FASTBOOT_USB_SUBCLASS 0x42u
#define FASTBOOT_USB_PROTOCOL 0x03u
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
 * ≤ FASTBOOT_CMD_MAX bytes without the NUL). Returns the length or -E2BIG.
 * -EINVAL if verb is NULL/empty or the command would contain a control
 * character (< 0x20 or 0x7f). out is written only on success. */
int fastboot_format(char out[FASTBOOT_CMD_MAX + 1], const char *verb, const char *arg);
/* "oem <text>" (uuu and U-Boot put a space, not a colon, after oem).
 * Same return values as fastboot_format; -EINVAL for an empty text. */
int fastboot_format_oem(char out[FASTBOOT_CMD_MAX + 1], const char *text);
/* "download:%08x"; -EINVAL for size 0 (U-Boot refuses empty downloads). */
int fastboot_format_download(char out[FASTBOOT_CMD_MAX + 1], uint32_t size);
/* Parse one IN transfer. -EBADMSG for an unknown tag (tags are upper case),
 * a reply shorter than the 4-byte tag, a DATA payload that is not exactly 8
 * hex digits, or a reply longer than FASTBOOT_REPLY_MAX. The text is the
 * payload up to the first NUL (NUL padding is tolerated), with bytes outside
 * printable ASCII replaced by '?', so it can be logged and put in JSON as is.
 * out is written only on success. */
int fastboot_parse_reply(const uint8_t *buf, size_t len, struct fastboot_reply *out);
const char *fastboot_reply_kind_to_string(enum fastboot_reply_kind k);

/* getvar values */
/* hex (0x/0X prefix) or decimal, leading/trailing white space trimmed.
 * -EINVAL: empty, sign, junk; -ERANGE: does not fit 64 bits. */
int fastboot_parse_size(const char *text, uint64_t *out);
/* as fastboot_parse_size, then 0 < value ≤ 4 GiB-1: -EINVAL for 0, -ERANGE above. */
int fastboot_parse_max_download(const char *text, uint32_t *out);

#endif
