/* ivt: see ivt.h */
#include "ivt.h"

#include "util.h"

#include <errno.h>

int ivt_parse(const uint8_t *b, size_t len, struct ivt *out)
{
	if (!b || len < IVT_SIZE)
		return -EBADMSG;
	if (b[0] != IVT_TAG || util_be16(b + 1) != IVT_SIZE || (b[3] & 0xF0) != 0x40)
		return -EBADMSG;
	out->version = b[3];
	out->entry = util_le32(b + 4);
	out->dcd = util_le32(b + 12);
	out->boot_data = util_le32(b + 16);
	out->self = util_le32(b + 20);
	out->csf = util_le32(b + 24);
	return 0;
}

int ivt_parse_boot(const uint8_t *b, size_t len, struct ivt_boot *out)
{
	if (!b || len < IVT_BOOT_DATA_SIZE)
		return -EBADMSG;
	out->start = util_le32(b);
	out->length = util_le32(b + 4);
	out->plugin = util_le32(b + 8);
	return 0;
}
