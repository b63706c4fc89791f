/* fbresp: a fastboot response as U-Boot builds it (fb_common.c fastboot_response()):
 * a 4-character tag and a text, cut so the whole reply is at most 63 bytes. */
#ifndef EMU_FBRESP_H
#define EMU_FBRESP_H

#define FBRESP_LEN 65 /* FASTBOOT_RESPONSE_LEN: 64 + NUL */

/* TAG + printf(FMT); FMT NULL: the bare tag */
void fbresp_set(char *resp, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fbresp_okay(char *resp, const char *text);
void fbresp_fail(char *resp, const char *text);

#endif
