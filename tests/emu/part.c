/* part: see part.h */
#include "part.h"

#include "crc32.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART_BLK EMMC_BLKSZ
#define DOS_TBL 446u
#define DOS_MAGIC 510u
#define DOS_PBR_FSTYPE 0x36u
#define DOS_PBR32_FSTYPE 0x52u
#define DOS_ENTRIES 8 /* DOS_ENTRY_NUMBERS: names searched 1..7 */
#define DOS_MAX_EXT 256
#define EFI_ENTRIES 128 /* GPT_ENTRY_NUMBERS: names searched 1..127 */
#define EFI_SIG 0x5452415020494645ull /* "EFI PART" */
#define EFI_PTE_SIZE 128u
#define EFI_PTES_MAX (1u << 20) /* emulator bound on the entry array */
#define EFI_HDR_CRC 16u

enum { DOS_NONE = -1, DOS_MBR = 0, DOS_PBR = 1 };

const char *part_type_to_string(enum part_type t)
{
	switch (t) {
	case PART_TYPE_DOS: return "dos";
	case PART_TYPE_EFI: return "efi";
	case PART_TYPE_NONE: break;
	}
	return "none";
}

static bool dos_is_extended(uint8_t t)
{
	return t == 0x05 || t == 0x0f || t == 0x85;
}

/* test_block_type() */
static int dos_block_type(const uint8_t *b)
{
	int slot, count = 0;

	if (b[DOS_MAGIC] != 0x55 || b[DOS_MAGIC + 1] != 0xaa)
		return DOS_NONE;
	for (slot = 0; slot < 4; slot++) {
		const uint8_t *p = b + DOS_TBL + 16 * slot;

		if (p[0] != 0 && p[0] != 0x80)
			break;
		if (p[4])
			count++;
	}
	if ((slot != 4 || !count) && (!memcmp(b + DOS_PBR_FSTYPE, "FAT", 3) ||
				      !memcmp(b + DOS_PBR32_FSTYPE, "FAT32", 5)))
		return DOS_PBR;
	return slot == 4 ? DOS_MBR : DOS_NONE;
}

int part_dos_buf_check(const uint8_t *sector)
{
	return dos_block_type(sector) == DOS_MBR ? 0 : -1;
}

/* part_get_info_extended(); DEPTH bounds EBR chains that never add a partition */
static int dos_get(struct emmc *m, uint64_t ext, uint64_t rel, int num, int which,
		   struct part_info *info, int depth)
{
	uint8_t b[PART_BLK];

	if (num > DOS_MAX_EXT || depth > DOS_MAX_EXT)
		return -1;
	if (emmc_bread(m, ext, 1, b) != 1 || b[DOS_MAGIC] != 0x55 || b[DOS_MAGIC + 1] != 0xaa)
		return -1;
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = b + DOS_TBL + 16 * i;

		if ((p[0] & ~0x80) == 0 && p[4] && num == which && (!ext || !dos_is_extended(p[4]))) {
			info->start = ext + util_le32(p + 8);
			info->size = util_le32(p + 12);
			snprintf(info->name, sizeof(info->name), "mmcsda%d", num);
			return 0;
		}
		if (!ext || (p[4] && !dos_is_extended(p[4])))
			num++;
	}
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = b + DOS_TBL + 16 * i;

		if (dos_is_extended(p[4])) {
			uint64_t start = util_le32(p + 8) + rel;

			return dos_get(m, start, ext ? rel : start, num, which, info, depth + 1);
		}
	}
	return -1;
}

/* validate_gpt_header(); HDR holds one block */
static int efi_header_ok(uint8_t *hdr, uint64_t lba, uint64_t lastlba)
{
	uint32_t size = util_le32(hdr + 12), want = util_le32(hdr + EFI_HDR_CRC), crc;

	if (util_le64(hdr) != EFI_SIG || size == 0 || size > PART_BLK)
		return -1;
	util_put_le32(hdr + EFI_HDR_CRC, 0);
	crc = crc32_update(0, hdr, size);
	util_put_le32(hdr + EFI_HDR_CRC, want);
	if (crc != want || util_le64(hdr + 24) != lba)
		return -1;
	if (util_le64(hdr + 40) > lastlba || util_le64(hdr + 48) > lastlba)
		return -1;
	return 0;
}

static uint64_t efi_ptes_bytes(const uint8_t *hdr)
{
	return (uint64_t)util_le32(hdr + 80) * util_le32(hdr + 84);
}

/* is_gpt_valid(): header at LBA and its entries; *PTES is malloc'd (blocks) */
static int efi_load(struct emmc *m, uint64_t lba, uint8_t *hdr, uint8_t **ptes, size_t *plen)
{
	uint64_t bytes, blks;
	uint8_t *p;

	if (emmc_bread(m, lba, 1, hdr) != 1 || efi_header_ok(hdr, lba, emmc_lba(m)) < 0)
		return -1;
	bytes = efi_ptes_bytes(hdr);
	if (!bytes || bytes > EFI_PTES_MAX)
		return -1;
	blks = (bytes + PART_BLK - 1) / PART_BLK;
	p = malloc(blks * PART_BLK);
	if (!p)
		return -1;
	if (emmc_bread(m, util_le64(hdr + 72), blks, p) != blks ||
	    crc32_update(0, p, bytes) != util_le32(hdr + 88)) {
		free(p);
		return -1;
	}
	*ptes = p;
	*plen = blks * PART_BLK;
	return 0;
}

static void efi_name(const uint8_t *pte, char *out)
{
	for (int i = 0; i < 36; i++) {
		uint8_t c = pte[56 + 2 * i];

		out[i] = (char)(c && !isprint(c) ? '.' : c);
	}
	out[36] = '\0';
}

static int efi_get(struct emmc *m, int n, struct part_info *info)
{
	uint8_t hdr[PART_BLK], *ptes = NULL, *pte;
	static const uint8_t zero[16];
	size_t plen = 0;
	int r = -1;

	if (n < 1)
		return -1;
	if (efi_load(m, 1, hdr, &ptes, &plen) < 0 &&
	    (emmc_lba(m) < 1 || efi_load(m, emmc_lba(m) - 1, hdr, &ptes, &plen) < 0))
		return -1;
	/* U-Boot indexes 128-byte entries whatever the header says */
	pte = ptes + (size_t)(n - 1) * EFI_PTE_SIZE;
	if ((uint32_t)n <= util_le32(hdr + 80) && (size_t)n * EFI_PTE_SIZE <= plen &&
	    memcmp(pte, zero, sizeof(zero))) {
		info->start = util_le64(pte + 32);
		info->size = util_le64(pte + 40) + 1 - info->start;
		efi_name(pte, info->name);
		r = 0;
	}
	free(ptes);
	return r;
}

static bool efi_pmbr_ok(const uint8_t *b)
{
	if (util_le16(b + DOS_MAGIC) != 0xAA55)
		return false;
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = b + DOS_TBL + 16 * i;

		if (p[4] == 0xEE && util_le32(p + 8) == 1)
			return true;
	}
	return false;
}

enum part_type part_detect(struct emmc *m)
{
	uint8_t b[PART_BLK];

	if (emmc_bread(m, 0, 1, b) != 1)
		return PART_TYPE_NONE;
	if (efi_pmbr_ok(b))
		return PART_TYPE_EFI;
	if (dos_block_type(b) == DOS_MBR)
		return PART_TYPE_DOS;
	return PART_TYPE_NONE;
}

int part_get(struct emmc *m, int n, struct part_info *out)
{
	struct part_info info;
	int r;

	memset(&info, 0, sizeof(info));
	switch (part_detect(m)) {
	case PART_TYPE_EFI:
		r = efi_get(m, n, &info);
		break;
	case PART_TYPE_DOS:
		r = n >= 1 ? dos_get(m, 0, 0, 1, n, &info, 0) : -1;
		break;
	default:
		return -1;
	}
	if (r == 0)
		*out = info;
	return r;
}

int part_find(struct emmc *m, const char *name, struct part_info *out)
{
	enum part_type t = part_detect(m);
	int max = t == PART_TYPE_EFI ? EFI_ENTRIES : DOS_ENTRIES;
	struct part_info info;

	if (t == PART_TYPE_NONE)
		return -1;
	for (int i = 1; i < max; i++) {
		if (part_get(m, i, &info) != 0)
			break;
		if (!strcmp(name, info.name)) {
			*out = info;
			return i;
		}
	}
	return -ENOENT;
}

int part_gpt_buf_check(const uint8_t *buf, size_t len, uint64_t lba)
{
	uint8_t hdr[PART_BLK];
	uint64_t eoff, bytes;

	if (len < 2 * PART_BLK)
		return -1;
	memcpy(hdr, buf + PART_BLK, PART_BLK);
	if (efi_header_ok(hdr, 1, lba) < 0)
		return -1;
	bytes = efi_ptes_bytes(hdr);
	eoff = util_le64(hdr + 72);
	if (eoff > len / PART_BLK || bytes > len - eoff * PART_BLK)
		return -1;
	return crc32_update(0, buf + eoff * PART_BLK, bytes) == util_le32(hdr + 88) ? 0 : -1;
}

/* prepare_backup_gpt_header() */
static void efi_make_backup(uint8_t *h)
{
	uint64_t my = util_le64(h + 24);
	uint32_t size = util_le32(h + 12);

	util_put_le64(h + 24, util_le64(h + 32));
	util_put_le64(h + 32, my);
	util_put_le64(h + 72, util_le64(h + 48) + 1);
	util_put_le32(h + EFI_HDR_CRC, 0);
	util_put_le32(h + EFI_HDR_CRC, crc32_update(0, h, size));
}

int part_gpt_write(struct emmc *m, uint8_t *buf, size_t len)
{
	uint8_t *h = buf + PART_BLK, *e;
	uint64_t cnt;

	if (part_gpt_buf_check(buf, len, emmc_lba(m)) < 0)
		return -1;
	e = buf + util_le64(h + 72) * PART_BLK;
	cnt = (efi_ptes_bytes(h) + PART_BLK - 1) / PART_BLK;
	/* the entry blocks are rounded up: they must lie in the buffer as well */
	if ((size_t)(e - buf) + cnt * PART_BLK > len)
		return -1;
	if (emmc_bwrite(m, 0, 1, buf) != 1 || emmc_bwrite(m, 1, 1, h) != 1 ||
	    emmc_bwrite(m, util_le64(h + 72), cnt, e) != cnt)
		return 1;
	efi_make_backup(h);
	if (emmc_bwrite(m, util_le64(h + 72), cnt, e) != cnt ||
	    emmc_bwrite(m, util_le64(h + 24), 1, h) != 1)
		return 1;
	return 0;
}

int part_mbr_write(struct emmc *m, const uint8_t *sector)
{
	if (part_dos_buf_check(sector) < 0)
		return -1;
	return emmc_bwrite(m, 0, 1, sector) == 1 ? 0 : 1;
}
