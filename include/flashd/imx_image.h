/* imx_image: parse i.MX5/6/7 boot images (HAB v4 IVT + boot data + DCD).
 * Sans-I/O: works on a caller-owned buffer (usually an mmap). */
#ifndef FLASHD_IMX_IMAGE_H
#define FLASHD_IMX_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMX_IVT_SIZE 32u
#define IMX_DCD_MAX 1768u            /* HAB_MAX_DCD_SIZE */
#define IMX_HEADER_BLOCK 1024u       /* ROM writes whole 1 KiB report payloads */

struct imx_image {
	uint32_t ivt_offset;     /* file offset of the IVT: 0 or 0x400 */
	uint32_t entry;          /* absolute entry point */
	uint32_t dcd_addr;       /* IVT dcd pointer (0 = none) */
	uint32_t boot_data_addr; /* IVT boot_data pointer */
	uint32_t self;           /* IVT self: RAM address of the IVT */
	uint32_t csf;            /* 0 = unsigned */
	uint32_t boot_start;     /* boot data: start */
	uint32_t boot_length;    /* boot data: length, counted from start */
	uint32_t plugin;         /* boot data: plugin flags */
	uint32_t load_addr;      /* RAM address of file byte 0 (self - ivt_offset) */
	size_t dcd_offset;       /* file offset of the DCD header, 0 if none */
	size_t dcd_size;         /* bytes of the DCD table incl. header, 0 if none */
	size_t upload_size;      /* bytes from file byte 0 the ROM needs (clipped to file) */
	size_t file_size;
};

/* Parse and validate. The IVT is looked for at file offset 0 (mkimage output)
 * then 0x400 (boot-medium dump); load_addr = self - ivt_offset must not lie
 * below boot_start; upload_size = min(file_size, boot_start + boot_length -
 * load_addr) must hold the IVT and the boot data, and entry must lie in it;
 * the boot data and the DCD must lie inside the file; a nonzero csf must lie
 * in the boot data region; the DCD is checked command by command.
 * On error returns -EINVAL/-EBADMSG and, if why != NULL,
 * sets *why to a static human-readable reason; *out untouched. */
int imx_image_parse(const uint8_t *buf, size_t len, struct imx_image *out, const char **why);

/* The in-RAM copy of the 1 KiB block of the file that holds the IVT (file
 * offsets [blk_off, blk_off+len)), with the IVT's DCD pointer cleared so that
 * the ROM does not run the DCD again at JUMP. *blk_off is the file offset of
 * the block (ivt_offset rounded down to 1 KiB); len is
 * min(1024, file_size - blk_off). Returns bytes written to out. */
size_t imx_image_cleared_header(const struct imx_image *img, const uint8_t *buf,
				uint8_t out[IMX_HEADER_BLOCK], size_t *blk_off);

/* The DCD table (from its D2 header, dcd_size bytes) inside buf, or NULL if
 * the image has none; *len (if non-NULL) is set only when one exists. */
const uint8_t *imx_image_dcd(const struct imx_image *img, const uint8_t *buf, size_t *len);

/* DCD command walk, for callers that want to look at each command. */
enum imx_dcd_cmd_tag {
	IMX_DCD_WRITE = 0xCC,
	IMX_DCD_CHECK = 0xCF,
	IMX_DCD_NOP = 0xC0,
	IMX_DCD_UNLOCK = 0xB2,
};

/* Validate a standalone DCD blob (starting at its D2 header). 0 or -EBADMSG. */
int imx_dcd_validate(const uint8_t *dcd, size_t len, const char **why);

#endif
