/* fuzz-imx_image: imx_image_parse, imx_dcd_validate and
 * imx_image_cleared_header on arbitrary bytes. Every accepted image must
 * satisfy the invariants the SDP upload relies on; anything else aborts. */
#include "flashd/imx_image.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rejected(int r, const char *why)
{
	if (r != -EBADMSG || !why || !*why)
		abort();
}

static void check_image(const uint8_t *data, size_t size, const struct imx_image *img)
{
	if (img->file_size != size || !img->upload_size || img->upload_size > size)
		abort();
	if (img->ivt_offset != 0 && img->ivt_offset != 0x400)
		abort();
	if ((size_t)img->ivt_offset + IMX_IVT_SIZE > img->upload_size)
		abort();
	if (img->load_addr != img->self - img->ivt_offset || img->load_addr < img->boot_start)
		abort();
	if ((uint64_t)img->load_addr + img->upload_size >
	    (uint64_t)img->boot_start + img->boot_length)
		abort();
	if (img->entry < img->load_addr || img->entry - img->load_addr >= img->upload_size)
		abort();
	if (img->dcd_addr) {
		size_t len = 0;
		const uint8_t *dcd = imx_image_dcd(img, data, &len);
		if (!dcd || len != img->dcd_size || len > IMX_DCD_MAX || len < 4)
			abort();
		if (img->dcd_offset > size || size - img->dcd_offset < len)
			abort();
		if (imx_dcd_validate(dcd, len, NULL) != 0)
			abort();
	} else if (img->dcd_size || imx_image_dcd(img, data, NULL)) {
		abort();
	}

	uint8_t hdr[IMX_HEADER_BLOCK];
	size_t blk = SIZE_MAX;
	size_t n = imx_image_cleared_header(img, data, hdr, &blk);
	if (blk != img->ivt_offset || n > IMX_HEADER_BLOCK || blk + n > size || n < IMX_IVT_SIZE)
		abort();
	static const uint8_t zero[4];
	if (memcmp(hdr + 12, zero, 4) || memcmp(hdr, data + blk, 12) ||
	    memcmp(hdr + 16, data + blk + 16, n - 16))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imx_image img;
	const char *why = NULL;
	int r;

	if (!data)
		return 0;
	/* the input as a bare DCD */
	r = imx_dcd_validate(data, size, &why);
	if (r < 0)
		check_rejected(r, why);

	why = NULL;
	r = imx_image_parse(data, size, &img, &why);
	if (r < 0) {
		check_rejected(r, why);
		return 0;
	}
	check_image(data, size, &img);
	return 0;
}
