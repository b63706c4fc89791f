/* image: see image.h */
#include "image.h"

bool image_ivt_is_spl(const struct soc_info *soc, const struct ivt *v)
{
	return soc_in_ocram(soc, v->self, IVT_SIZE) && soc_in_ocram(soc, v->entry, 4);
}

const char *image_uboot_check(const struct soc_info *soc, const struct uimage *u,
			      uint32_t data_crc)
{
	uint64_t end = (uint64_t)u->load + u->size;

	/* common/spl/spl_legacy.c spl_parse_legacy_header() checks the header CRC
	 * (with CONFIG_SPL_LEGACY_IMAGE_CRC_CHECK); without it a broken header
	 * sends the CPU to a wrong entry: the outcome (nothing runs) is the same */
	if (!u->hcrc_ok)
		return "header-crc";
	/* the SDP and raw-MMC paths copy and jump, they decompress nothing
	 * (spl_load_legacy_lzma() is only for IH_COMP_LZMA via spl_load()) */
	if (u->comp != 0)
		return "compressed";
	if (!u->size || !soc_in_dram(soc, u->load, u->size))
		return "load-not-in-dram";
	if (u->ep < u->load || u->ep >= end)
		return "entry-outside-image";
	/* the emulator's test that the bytes at the entry are this image (the data
	 * CRC; SPL itself checks it only in spl_load_image() with
	 * CONFIG_SPL_LEGACY_IMAGE_CRC_CHECK, never over SDP) */
	if (data_crc != u->dcrc)
		return "data-crc";
	return NULL;
}
