/* imx_image: parse and validate i.MX6/7 boot images (HAB v4 IVT, boot
 * data, DCD) held in a caller-owned buffer. See protocols.md §3.
 *
 * IVT fields are little-endian, DCD fields big-endian. Every length and
 * pointer read from the file is checked against the buffer before use, and
 * address arithmetic is done in 64 bits so that no 32-bit wrap can turn a
 * hostile pointer into an in-bounds offset. */
#include "flashd/imx_image.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/macro.h"

#define IMX_IVT_TAG 0xD1u
#define IMX_DCD_TAG 0xD2u
#define IMX_DCD_VERSION 0x40u
#define IMX_IVT_ALT_OFFSET 0x400u
#define IMX_BOOT_DATA_SIZE 12u
#define IMX_IVT_DCD_FIELD 12u
#define IMX_DCD_HDR_SIZE 4u
#define IMX_ADDR_SPACE 0x100000000ull

static uint16_t imx_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t imx_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int imx_fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

/* Write and check commands share the parameter layout: bits 2:0 access
 * width (1, 2 or 4 bytes), bit 3 MASK, bit 4 SET, bits 7:5 reserved. */
static bool imx_dcd_param_ok(uint8_t param)
{
	uint8_t width = param & 0x07u;

	return (width == 1 || width == 2 || width == 4) && !(param & 0xE0u);
}

static int imx_dcd_check_cmd(const uint8_t *c, size_t clen, const char **why)
{
	switch (c[0]) {
	case IMX_DCD_WRITE:
		if (!imx_dcd_param_ok(c[3]))
			return imx_fail(why, "DCD write command: bad width or flags");
		if ((clen - IMX_DCD_HDR_SIZE) % 8)
			return imx_fail(why, "DCD write command: length is not 4 + 8n");
		return 0;
	case IMX_DCD_CHECK:
		if (!imx_dcd_param_ok(c[3]))
			return imx_fail(why, "DCD check command: bad width or flags");
		if (clen != 12 && clen != 16)
			return imx_fail(why, "DCD check command: length is not 12 or 16");
		return 0;
	case IMX_DCD_NOP:
		if (clen != IMX_DCD_HDR_SIZE)
			return imx_fail(why, "DCD nop command: length is not 4");
		return 0;
	case IMX_DCD_UNLOCK:
		if (clen % 4)
			return imx_fail(why, "DCD unlock command: length is not a multiple of 4");
		return 0;
	default:
		return imx_fail(why, "DCD: unknown command tag");
	}
}

int imx_dcd_validate(const uint8_t *dcd, size_t len, const char **why)
{
	if (!dcd)
		return -EINVAL;
	if (len < IMX_DCD_HDR_SIZE)
		return imx_fail(why, "DCD: truncated header");
	if (dcd[0] != IMX_DCD_TAG)
		return imx_fail(why, "DCD: bad header tag (expected 0xD2)");
	if (dcd[3] != IMX_DCD_VERSION)
		return imx_fail(why, "DCD: bad header version (expected 0x40)");

	size_t total = imx_be16(dcd + 1);
	if (total < IMX_DCD_HDR_SIZE)
		return imx_fail(why, "DCD: length shorter than its header");
	if (total > IMX_DCD_MAX)
		return imx_fail(why, "DCD: longer than 1768 bytes");
	if (total > len)
		return imx_fail(why, "DCD: length past end of file");

	for (size_t off = IMX_DCD_HDR_SIZE; off < total;) {
		if (total - off < IMX_DCD_HDR_SIZE)
			return imx_fail(why, "DCD: truncated command header");
		size_t clen = imx_be16(dcd + off + 1);
		if (clen < IMX_DCD_HDR_SIZE)
			return imx_fail(why, "DCD: command length shorter than its header");
		if (clen > total - off)
			return imx_fail(why, "DCD: command runs past the DCD length");
		int r = imx_dcd_check_cmd(dcd + off, clen, why);
		if (r < 0)
			return r;
		off += clen;
	}
	return 0;
}

static bool imx_ivt_header_ok(const uint8_t *p)
{
	return p[0] == IMX_IVT_TAG && imx_be16(p + 1) == IMX_IVT_SIZE && (p[3] & 0xF0u) == 0x40u;
}

/* File offset of the bytes [addr, addr + size) when file byte 0 is at
 * load_addr, or -1 if any of them lies outside the file. */
static int64_t imx_addr_to_offset(uint32_t load_addr, size_t file_size, uint32_t addr,
				  size_t size)
{
	if (addr < load_addr)
		return -1;
	uint64_t off = (uint64_t)addr - load_addr;
	if (off > file_size || file_size - off < size)
		return -1;
	return (int64_t)off;
}

static int imx_find_ivt(const uint8_t *buf, size_t len, uint32_t *ivt_offset, const char **why)
{
	static const uint32_t candidates[] = { 0, IMX_IVT_ALT_OFFSET };

	if (len < IMX_IVT_SIZE)
		return imx_fail(why, "file shorter than an IVT");
	for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
		uint32_t off = candidates[i];
		if (len >= (size_t)off + IMX_IVT_SIZE && imx_ivt_header_ok(buf + off)) {
			*ivt_offset = off;
			return 0;
		}
	}
	return imx_fail(why, "no IVT (tag 0xD1, length 0x20, version 0x4x) at file offset 0 or 0x400");
}

static void imx_read_ivt(const uint8_t *ivt, struct imx_image *img)
{
	img->entry = imx_le32(ivt + 4);
	img->dcd_addr = imx_le32(ivt + IMX_IVT_DCD_FIELD);
	img->boot_data_addr = imx_le32(ivt + 16);
	img->self = imx_le32(ivt + 20);
	img->csf = imx_le32(ivt + 24);
}

/* Boot data and the region the ROM would load: start, length, and which
 * part of the file that region needs. */
static int imx_parse_boot_data(const uint8_t *buf, struct imx_image *img, const char **why)
{
	int64_t bd = imx_addr_to_offset(img->load_addr, img->file_size, img->boot_data_addr,
					IMX_BOOT_DATA_SIZE);
	if (bd < 0)
		return imx_fail(why, "IVT boot_data pointer outside the file");
	img->boot_start = imx_le32(buf + bd);
	img->boot_length = imx_le32(buf + bd + 4);
	img->plugin = imx_le32(buf + bd + 8);

	uint64_t end = (uint64_t)img->boot_start + img->boot_length;
	if (img->boot_length == 0)
		return imx_fail(why, "boot data length is 0");
	if (end > IMX_ADDR_SPACE)
		return imx_fail(why, "boot data start + length overflows the 32-bit address space");
	if (img->load_addr < img->boot_start)
		return imx_fail(why, "file starts below the boot data start address");
	if ((uint64_t)img->self + IMX_IVT_SIZE > end)
		return imx_fail(why, "IVT lies outside the boot data region");

	uint64_t need = end - img->load_addr;
	img->upload_size = need < img->file_size ? (size_t)need : img->file_size;
	if ((uint64_t)bd + IMX_BOOT_DATA_SIZE > img->upload_size)
		return imx_fail(why, "boot data lies outside the loaded region");
	if (img->entry < img->load_addr || (uint64_t)img->entry - img->load_addr >= img->upload_size)
		return imx_fail(why, "entry point outside the loaded region");
	if (img->csf && (img->csf < img->boot_start || img->csf >= end))
		return imx_fail(why, "IVT csf pointer outside the boot data region");
	return 0;
}

static int imx_parse_dcd(const uint8_t *buf, struct imx_image *img, const char **why)
{
	img->dcd_offset = 0;
	img->dcd_size = 0;
	if (!img->dcd_addr)
		return 0;

	int64_t off = imx_addr_to_offset(img->load_addr, img->file_size, img->dcd_addr,
					 IMX_DCD_HDR_SIZE);
	if (off < 0)
		return imx_fail(why, "IVT dcd pointer outside the file");
	int r = imx_dcd_validate(buf + off, img->file_size - (size_t)off, why);
	if (r < 0)
		return r;
	img->dcd_offset = (size_t)off;
	img->dcd_size = imx_be16(buf + off + 1);
	return 0;
}

int imx_image_parse(const uint8_t *buf, size_t len, struct imx_image *out, const char **why)
{
	struct imx_image img;
	int r;

	if (!buf || !out)
		return -EINVAL;
	memset(&img, 0, sizeof(img));
	img.file_size = len;

	r = imx_find_ivt(buf, len, &img.ivt_offset, why);
	if (r < 0)
		return r;
	imx_read_ivt(buf + img.ivt_offset, &img);
	if (img.self < img.ivt_offset)
		return imx_fail(why, "IVT self address below its file offset");
	img.load_addr = img.self - img.ivt_offset;

	r = imx_parse_boot_data(buf, &img, why);
	if (r < 0)
		return r;
	r = imx_parse_dcd(buf, &img, why);
	if (r < 0)
		return r;
	*out = img;
	return 0;
}

size_t imx_image_cleared_header(const struct imx_image *img, const uint8_t *buf,
				uint8_t out[IMX_HEADER_BLOCK], size_t *blk_off)
{
	size_t blk = img->ivt_offset - img->ivt_offset % IMX_HEADER_BLOCK;
	size_t n = img->file_size - blk;

	if (n > IMX_HEADER_BLOCK)
		n = IMX_HEADER_BLOCK;
	memcpy(out, buf + blk, n);
	/* the IVT lies wholly inside this block: ivt_offset is 0 or 0x400 */
	memset(out + (img->ivt_offset - blk) + IMX_IVT_DCD_FIELD, 0, 4);
	if (blk_off)
		*blk_off = blk;
	return n;
}

const uint8_t *imx_image_dcd(const struct imx_image *img, const uint8_t *buf, size_t *len)
{
	if (!img->dcd_size)
		return NULL;
	if (len)
		*len = img->dcd_size;
	return buf + img->dcd_offset;
}
