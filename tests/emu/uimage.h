/* uimage: U-Boot's legacy image header ("uImage", u-boot.img), include/image.h
 * struct legacy_img_hdr: 64 bytes, big-endian words, IH_MAGIC 0x27051956, the
 * header CRC over the 64 bytes with ih_hcrc zeroed (image_check_hcrc() in
 * boot/image.c), the data CRC over ih_size bytes after the header. */
#ifndef EMU_UIMAGE_H
#define EMU_UIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UIMAGE_MAGIC 0x27051956u
#define UIMAGE_HDR_SIZE 64u

struct uimage {
	uint32_t magic, hcrc, time, size, load, ep, dcrc;
	uint8_t os, arch, type, comp;
	char name[33];
	bool hcrc_ok; /* the header CRC matches */
};

/* -EBADMSG unless B (LEN >= 64) starts with IH_MAGIC; hcrc_ok tells the CRC */
int uimage_parse(const uint8_t *b, size_t len, struct uimage *out);

#endif
