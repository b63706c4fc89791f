/* boot: see boot.h */
#include "boot.h"

#include "crc32.h"
#include "dcd.h"
#include "image.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define BOOT_INITIAL_LOAD 4096u
#define BOOT_CHUNK (1u << 20)

static enum emmc_hwpart boot_source(const struct emmc *m)
{
	switch (emmc_boot_partition(m)) {
	case 1: return EMMC_BOOT0;
	case 2: return EMMC_BOOT1;
	default: return EMMC_USER;
	}
}

static const char *boot_validate(struct emmc *m, const struct soc_info *soc, bool hab_closed,
				 const uint8_t *init, struct boot_result *res)
{
	uint64_t part = emmc_part_lba(m, res->source) * EMMC_BLKSZ, bd_off, end;
	const struct ivt *v = &res->ivt;

	if (ivt_parse(init + BOOT_IVT_OFFSET, IVT_SIZE, &res->ivt) < 0)
		return "no-ivt";
	/* boot data must be in the initial load region, right where IVT says */
	if (v->boot_data < v->self || v->boot_data - v->self > BOOT_INITIAL_LOAD - BOOT_IVT_OFFSET -
	    IVT_BOOT_DATA_SIZE)
		return "boot-data-outside-initial-load";
	bd_off = BOOT_IVT_OFFSET + (v->boot_data - v->self);
	ivt_parse_boot(init + bd_off, IVT_BOOT_DATA_SIZE, &res->boot);
	if (res->boot.start + BOOT_IVT_OFFSET != v->self)
		return "ivt-self-not-at-0x400";
	if (res->boot.length < BOOT_INITIAL_LOAD || res->boot.length > part)
		return "bad-image-length";
	end = (uint64_t)res->boot.start + res->boot.length;
	if (!soc_in_dram(soc, res->boot.start, res->boot.length) &&
	    !soc_in_ocram(soc, res->boot.start, res->boot.length))
		return "image-not-in-ram";
	if (v->entry < res->boot.start || v->entry >= end)
		return "entry-outside-image";
	if (v->dcd) {
		uint64_t doff = (uint64_t)v->dcd - res->boot.start;

		if (v->dcd < res->boot.start || doff + 4 > BOOT_INITIAL_LOAD ||
		    init[doff] != DCD_TAG || (init[doff + 3] & 0xF0) != 0x40 ||
		    util_be16(init + doff + 1) > DCD_MAX_SIZE ||
		    doff + util_be16(init + doff + 1) > BOOT_INITIAL_LOAD)
			return "bad-dcd";
	}
	if (hab_closed && !v->csf)
		return "unsigned-image";
	return NULL;
}

static uint32_t boot_crc(struct emmc *m, enum emmc_hwpart p, uint64_t len)
{
	uint8_t *buf = malloc(BOOT_CHUNK);
	uint32_t crc = 0;

	if (!buf)
		return 0;
	for (uint64_t off = 0; off < len; off += BOOT_CHUNK) {
		size_t n = len - off < BOOT_CHUNK ? (size_t)(len - off) : BOOT_CHUNK;

		if (emmc_pread(m, p, off, buf, n) < 0)
			break;
		crc = crc32_update(crc, buf, n);
	}
	free(buf);
	return crc;
}

void boot_check(struct emmc *m, const struct soc_info *soc, bool hab_closed,
		struct boot_result *res)
{
	uint8_t init[BOOT_INITIAL_LOAD];
	const char *why;

	memset(res, 0, sizeof(*res));
	res->source = boot_source(m);
	if (emmc_pread(m, res->source, 0, init, sizeof(init)) < 0) {
		res->reason = "read-error";
		return;
	}
	why = boot_validate(m, soc, hab_closed, init, res);
	if (why) {
		res->reason = why;
		return;
	}
	res->ok = true;
	res->reason = "ok";
	res->crc32 = boot_crc(m, res->source, res->boot.length);
}

/* SPL loads u-boot.img (common/spl/spl_mmc.c, raw sector mode): from the hardware
 * partition PARTITION_CONFIG enables (spl_mmc_emmc_boot_partition(), the
 * MMCSD_MODE_EMMCBOOT case arch/arm/mach-imx/spl.c picks with
 * CONFIG_SUPPORT_EMMC_BOOT; the user area when no boot partition is enabled),
 * CONFIG_SYS_MMCSD_RAW_MODE_U_BOOT_SECTOR. Every failure ends the same way on a
 * board: boot_from_devices() finds nothing, "SPL: failed to boot from all boot
 * devices", hang() (common/spl/spl.c board_init_r()); the ROM is not re-entered. */
static const char *boot_spl_uboot(struct emmc *m, const struct soc_info *soc,
				  uint32_t uboot_sector, struct boot_result *res)
{
	uint8_t hdr[UIMAGE_HDR_SIZE];
	uint64_t part = emmc_part_lba(m, res->source) * EMMC_BLKSZ;
	uint32_t crc = 0;

	res->uboot_offset = (uint64_t)uboot_sector * EMMC_BLKSZ;
	if (res->uboot_offset + sizeof(hdr) > part ||
	    emmc_pread(m, res->source, res->uboot_offset, hdr, sizeof(hdr)) < 0)
		return "spl-read-error";
	if (uimage_parse(hdr, sizeof(hdr), &res->uimg) < 0)
		return "spl-no-image-header";
	if (res->uboot_offset + sizeof(hdr) + res->uimg.size > part)
		return "spl-image-past-partition";
	if (res->uimg.size) {
		/* the data as SPL copies it to load (header at load - 64) */
		uint8_t *buf = malloc(BOOT_CHUNK);

		if (!buf)
			return "spl-out-of-memory";
		for (uint64_t off = 0; off < res->uimg.size; off += BOOT_CHUNK) {
			size_t n = res->uimg.size - off < BOOT_CHUNK ? (size_t)(res->uimg.size - off)
								     : BOOT_CHUNK;

			if (emmc_pread(m, res->source, res->uboot_offset + sizeof(hdr) + off, buf,
				       n) < 0)
				break;
			crc = crc32_update(crc, buf, n);
		}
		free(buf);
	}
	return image_uboot_check(soc, &res->uimg, crc);
}

void boot_check_chain(struct emmc *m, const struct soc_info *soc, bool hab_closed,
		      uint32_t uboot_sector, struct boot_result *res)
{
	const char *why;

	boot_check(m, soc, hab_closed, res);
	if (!res->ok || !image_ivt_is_spl(soc, &res->ivt))
		return;
	res->spl = true;
	why = boot_spl_uboot(m, soc, uboot_sector, res);
	if (why) {
		res->ok = false;
		res->hang = true;
		res->reason = why;
	}
}
