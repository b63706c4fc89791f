/* uimage: see uimage.h */
#include "uimage.h"

#include "crc32.h"
#include "util.h"

#include <errno.h>
#include <string.h>

int uimage_parse(const uint8_t *b, size_t len, struct uimage *out)
{
	uint8_t hdr[UIMAGE_HDR_SIZE];

	memset(out, 0, sizeof(*out));
	if (!b || len < UIMAGE_HDR_SIZE || util_be32(b) != UIMAGE_MAGIC)
		return -EBADMSG;
	out->magic = util_be32(b);
	out->hcrc = util_be32(b + 4);
	out->time = util_be32(b + 8);
	out->size = util_be32(b + 12);
	out->load = util_be32(b + 16);
	out->ep = util_be32(b + 20);
	out->dcrc = util_be32(b + 24);
	out->os = b[28];
	out->arch = b[29];
	out->type = b[30];
	out->comp = b[31];
	memcpy(out->name, b + 32, 32);
	out->name[32] = '\0';
	/* image_check_hcrc(): the CRC of the header with ih_hcrc set to 0 */
	memcpy(hdr, b, sizeof(hdr));
	memset(hdr + 4, 0, 4);
	out->hcrc_ok = crc32_update(0, hdr, sizeof(hdr)) == out->hcrc;
	return 0;
}
