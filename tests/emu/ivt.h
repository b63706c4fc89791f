/* ivt: the i.MX HAB v4 Image Vector Table and boot data (protocols.md §3.1–3.2) */
#ifndef EMU_IVT_H
#define EMU_IVT_H

#include <stddef.h>
#include <stdint.h>

#define IVT_SIZE 32u
#define IVT_BOOT_DATA_SIZE 12u
#define IVT_TAG 0xD1u
#define IVT_PLUGIN 1u

struct ivt {
	uint8_t version;
	uint32_t entry, dcd, boot_data, self, csf;
};

struct ivt_boot {
	uint32_t start, length, plugin;
};

/* -EBADMSG unless B holds an IVT header (tag 0xD1, BE length 0x0020, version 0x4x) */
int ivt_parse(const uint8_t *b, size_t len, struct ivt *out);
int ivt_parse_boot(const uint8_t *b, size_t len, struct ivt_boot *out);

#endif
