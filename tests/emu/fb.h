/* fb: U-Boot's fastboot protocol (drivers/fastboot/fb_command.c, fb_getvar.c and
 * the USB framing of drivers/usb/gadget/f_fastboot.c), device side, without I/O.
 * The USB glue hands in each command transfer (read with a 4096-byte request)
 * and the download data; fb answers with at most FB_OUT_MAX replies of at most
 * 63 bytes and tells what happens once they are sent. */
#ifndef EMU_FB_H
#define EMU_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fbresp.h"
#include "uboot.h"

#define FB_EP_BUFFER 4096u   /* EP_BUFFER_SIZE: the command request length */
#define FB_OUT_MAX 16
#define FB_MAX_PACKET 512u
#define FB_ACMD_MAX 64u

enum fb_after {
	FB_AFTER_NONE,
	FB_AFTER_RESET,     /* reboot (and reboot-bootloader…): reset once sent */
	FB_AFTER_CONTINUE,  /* leave fastboot, U-Boot boots on */
	FB_AFTER_BOOT,      /* boot the downloaded image */
	FB_AFTER_ACMD,      /* run the saved ACmd once sent */
	FB_AFTER_RESET_NOW, /* a UCmd reset: the board resets before replying */
};

struct fb_out {
	char resp[FB_OUT_MAX][FBRESP_LEN];
	unsigned n;
	enum fb_after after;
};

struct fb_cfg {
	uint32_t max_download;   /* the download buffer (max-download-size) */
	const char *fault_fail;  /* fnmatch pattern: FAIL<injected fault> */
};

struct fb;

int fb_new(const struct fb_cfg *cfg, struct uboot *u, struct fb **out);
struct fb *fb_free(struct fb *fb);
/* the gadget was (re)enabled: back to the command state */
void fb_usb_reset(struct fb *fb);
/* one command transfer of LEN bytes (LEN == FB_EP_BUFFER: buffer overflow) */
void fb_command(struct fb *fb, const uint8_t *buf, size_t len, struct fb_out *out);
bool fb_downloading(const struct fb *fb);
/* download state: the bytes still expected, and where they go */
uint32_t fb_remaining(const struct fb *fb);
uint8_t *fb_buffer(const struct fb *fb);
size_t fb_buffer_size(const struct fb *fb);
uint32_t fb_received(const struct fb *fb);
/* ACTUAL bytes of download data arrived at fb_buffer() + AT (AT >= received;
 * they are moved down when an earlier transfer was short) */
void fb_data(struct fb *fb, size_t at, size_t actual, struct fb_out *out);
/* run the ACmd saved by the last "ACmd:" (after its OKAY was sent) */
void fb_run_acmd(struct fb *fb);
/* commands seen since fb_new (1-based count of the last one) */
unsigned fb_command_count(const struct fb *fb);

#endif
