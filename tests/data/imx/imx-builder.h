/* imx-builder.h: build small i.MX6 boot images in memory, laid out the way
 * `mkimage -T imximage` lays them out (protocols.md §3.4), for the tests and
 * fuzz targets of imx_image and sdp. Header-only, test code only.
 *
 * Layout, relative to the IVT (file offset ivt_offset, 0 or 0x400):
 *   +0x000 IVT            self = o->self, entry = self + 0xC00
 *   +0x020 boot data      start = self - 0x400, length = 0x400 + header +
 *                         payload rounded up to 4 KiB, plugin 0
 *   +0x02C DCD            (if o->dcd) IMXB_DCD_SIZE bytes: write ×3, check,
 *                         nop, write (set bits)
 *   +0xC00 payload        o->payload bytes of a position-dependent pattern
 * A file with ivt_offset 0x400 has a 1 KiB prefix of 0xEE bytes. */
#ifndef FLASHD_TEST_IMX_BUILDER_H
#define FLASHD_TEST_IMX_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IMXB_IVT 0x00u
#define IMXB_BOOT_DATA 0x20u
#define IMXB_DCD 0x2Cu
#define IMXB_PAYLOAD 0xC00u
#define IMXB_DCD_SIZE 60u

struct imxb_opts {
	uint32_t ivt_offset; /* 0 or 0x400 */
	uint32_t self;       /* RAM address of the IVT */
	size_t payload;      /* payload bytes after the 3 KiB header */
	bool dcd;            /* include a DCD */
};

static inline void imxb_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void imxb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void imxb_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline size_t imxb_size(const struct imxb_opts *o)
{
	return o->ivt_offset + IMXB_PAYLOAD + o->payload;
}

/* The byte the builder puts at file offset off of the payload area. */
static inline uint8_t imxb_pattern(size_t off)
{
	return (uint8_t)(off * 7u + (off >> 10) * 13u + 1u);
}

/* A command header: tag, BE16 length, param. */
static inline uint8_t *imxb_cmd(uint8_t *p, uint8_t tag, uint16_t len, uint8_t param)
{
	p[0] = tag;
	imxb_put_be16(p + 1, len);
	p[3] = param;
	return p + 4;
}

static inline void imxb_dcd(uint8_t *d)
{
	uint8_t *p = imxb_cmd(d, 0xD2, IMXB_DCD_SIZE, 0x40);

	p = imxb_cmd(p, 0xCC, 4 + 3 * 8, 0x04);        /* write 3 words */
	for (uint32_t i = 0; i < 3; i++, p += 8) {
		imxb_put_be32(p, 0x020C4068u + 4 * i);
		imxb_put_be32(p + 4, 0xFFFFFFFFu);
	}
	p = imxb_cmd(p, 0xCF, 12, 0x14);              /* wait until bits set */
	imxb_put_be32(p, 0x021B001Cu);
	imxb_put_be32(p + 4, 0x00008000u);
	p = imxb_cmd(p + 8, 0xC0, 4, 0);              /* nop */
	p = imxb_cmd(p, 0xCC, 12, 0x1C);              /* set bits */
	imxb_put_be32(p, 0x020C4074u);
	imxb_put_be32(p + 4, 0x00000002u);
}

/* Fill buf (imxb_size(o) bytes); returns that size. */
static inline size_t imxb_build(uint8_t *buf, const struct imxb_opts *o)
{
	size_t size = imxb_size(o);
	uint8_t *ivt = buf + o->ivt_offset;
	uint32_t start = o->self - 0x400u;
	size_t region = 0x400u + IMXB_PAYLOAD + o->payload;

	memset(buf, 0xEE, o->ivt_offset);
	memset(ivt, 0, IMXB_PAYLOAD);
	ivt[0] = 0xD1;
	imxb_put_be16(ivt + 1, 0x20);
	ivt[3] = 0x40;
	imxb_put_le32(ivt + 4, o->self + IMXB_PAYLOAD);
	imxb_put_le32(ivt + 12, o->dcd ? o->self + IMXB_DCD : 0);
	imxb_put_le32(ivt + 16, o->self + IMXB_BOOT_DATA);
	imxb_put_le32(ivt + 20, o->self);
	imxb_put_le32(ivt + IMXB_BOOT_DATA, start);
	imxb_put_le32(ivt + IMXB_BOOT_DATA + 4, (uint32_t)((region + 4095u) & ~(size_t)4095u));
	if (o->dcd)
		imxb_dcd(ivt + IMXB_DCD);
	for (size_t i = o->ivt_offset + IMXB_PAYLOAD; i < size; i++)
		buf[i] = imxb_pattern(i);
	return size;
}

#endif
