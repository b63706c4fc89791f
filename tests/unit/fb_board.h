/* fb_board: a scripted U-Boot fastboot board for test-fb_session, on top
 * of fake_usb: answers commands, keeps a download buffer and an eMMC
 * partition, and applies raw and sparse downloads as U-Boot does. Faults:
 * FAIL replies, replies that never come, raw replies, INFO lines, a DATA
 * size mismatch, a disconnect at a byte count or at "reboot". The
 * read-back commands of flash -verify (UCmd: part start, setexpr, mmc read
 * into the download buffer as U-Boot's RAM at ${loadaddr}, crc32 -v,
 * hash -v sha256; mmc dev), a bit that flips on the eMMC after a flash,
 * and a U-Boot without CONFIG_CRC32_VERIFY/HASH_VERIFY. */
#ifndef FLASHD_TEST_FB_BOARD_H
#define FLASHD_TEST_FB_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_usb.h"

#define PART_MAX (8u << 20)

struct board {
	struct usb_dev *dev;
	/* script */
	const char *maxdl;           /* reply to getvar:max-download-size */
	const char *fail_cmd;        /* command (prefix) answered with fail_text */
	const char *fail_text;
	const char *hold_cmd;        /* command (prefix) never answered */
	const char *raw_reply;       /* command (prefix) answered with raw_reply_text */
	const char *raw_reply_text;
	unsigned info_lines;         /* INFO lines before every final reply */
	int data_delta;              /* DATA announces size + data_delta */
	uint64_t unplug_at;          /* unplug once this many data bytes arrived */
	uint64_t hold_data_at;       /* stop taking data once this many arrived */
	bool reboot_unplug;          /* "reboot": disconnect instead of OKAY */
	bool no_verify_build;        /* no CONFIG_CRC32_VERIFY/HASH_VERIFY: -v with a digest is
				      * a usage error (FAIL), as cmd/mem.c and cmd/hash.c */
	bool accept_any;             /* a check that passes whatever the digest (no real
				      * U-Boot: what the wrong-digest probe is for) */
	bool part_missing;           /* part start fails */
	uint64_t flip_at;            /* 1 + the partition byte whose bit 0 is wrong on the eMMC
				      * (flipped before the first mmc read); 0: none */
	bool flipped;
	uint64_t fv_start, fv_blk;   /* the U-Boot variables of the read-back */
	unsigned reads, checks;      /* mmc reads; crc32/hash checks (failed ones too) */
	bool unplug_pending;
	/* state */
	bool in_data;
	uint32_t remaining;
	uint8_t *dl;
	size_t dl_len;
	uint64_t data_bytes;
	char replies[16][80];
	unsigned rhead, rtail;
	char cmds[64][160];
	unsigned ncmds;
	unsigned flashes;
	uint8_t *part;
	size_t part_len;             /* highest byte written */
	bool bad_sparse;
	size_t xfer_size;        /* the session's transfer size (0: not checked) */
	unsigned not_full;       /* data transfers shorter than xfer_size that were
				  * not the last of their download */
	unsigned data_xfers;     /* data transfers, all downloads */
	size_t max_data_len;     /* longest data transfer */
	unsigned unaligned;      /* data transfers not a multiple of 512 bytes
				  * that were not the last of their download */
};

extern const struct fake_dev_ops fb_board_ops;
uint32_t fb_board_rd32(const uint8_t *p);
void fb_board_wr32(uint8_t *p, uint32_t v);
/* Expand a sparse file into out (cap bytes); *hi = end of written data. */
bool fb_board_sparse_apply(const uint8_t *s, size_t len, uint8_t *out, size_t cap, size_t *hi);

#endif
