/* fbmmc: see fbmmc.h. Lookup order and texts follow mainline fb_mmc.c and
 * disk/part.c (part_get_info_by_dev_and_name_or_num, blk_get_device_part_str). */
#include "fbmmc.h"

#include "fbresp.h"
#include "fbsparse.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FBMMC_MAX_BLK_WRITE 16384u
#define FBMMC_PART_NAME_LEN 32u /* PART_NAME_LEN */
#define FBMMC_BOOT1_NAME "mmc0boot0"
#define FBMMC_BOOT2_NAME "mmc0boot1"
#define FBMMC_USER_NAME "mmc0"
#define FBMMC_GPT_NAME "gpt"
#define FBMMC_MBR_NAME "mbr"

/* the env variable PREFIX<name>, NAME cut to PART_NAME_LEN as strlcat does */
static const char *fbmmc_env(struct uboot *u, const char *prefix, const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "%s%.*s", prefix, (int)FBMMC_PART_NAME_LEN, name);
	return env_get(u->env, key);
}

static int fbmmc_raw(struct uboot *u, const char *name, struct part_info *info)
{
	const char *desc = fbmmc_env(u, "fastboot_raw_partition_", name);
	const char *sp1, *sp2, *rest;

	if (!desc)
		return -ENODEV;
	/* "<start> <count> [mmcpart <n>]", split on single spaces (strsep) */
	sp1 = strchr(desc, ' ');
	if (!sp1)
		return -ENODEV;
	info->start = util_strtoul_uboot(desc, NULL, 0);
	info->size = util_strtoul_uboot(sp1 + 1, NULL, 0);
	snprintf(info->name, sizeof(info->name), "%.*s", (int)FBMMC_PART_NAME_LEN - 1, name);
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2) {
		rest = sp2 + 1;
		if (!strncmp(rest, "mmcpart", 7) && (rest[7] == ' ' || rest[7] == '\0')) {
			uint64_t hw = rest[7] ? util_strtoul_uboot(rest + 8, NULL, 0) : 0;

			if (emmc_select(u->emmc, (enum emmc_hwpart)(hw > EMMC_BOOT1 ? 99 : hw)) < 0)
				return -ENODEV;
		}
	}
	return 0;
}

/* blk_get_device_by_str() for "mmc": -EINVAL, -ENODEV, or 0 with the hwpart selected */
static int fbmmc_dev(struct uboot *u, const char *s, size_t n)
{
	char buf[128];
	const char *dot, *end;
	uint64_t dev, hw = 0;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	dot = strchr(buf, '.');
	dev = util_strtoul_uboot(buf, &end, 16);
	if (end != (dot ? dot : buf + n))
		return -EINVAL;
	if (dot) {
		hw = util_strtoul_uboot(dot + 1, &end, 16);
		if (*end)
			return -EINVAL;
	}
	if (dev != UBOOT_MMC_DEV || hw > EMMC_BOOT1)
		return -ENODEV;
	emmc_select(u->emmc, (enum emmc_hwpart)hw);
	return 0;
}

static int fbmmc_whole(struct uboot *u, struct part_info *info)
{
	info->start = 0;
	info->size = emmc_lba(u->emmc);
	snprintf(info->name, sizeof(info->name), "Whole Disk");
	return 0;
}

/* blk_get_device_part_str("mmc", S, allow_whole_dev = true) */
static int fbmmc_dev_part(struct uboot *u, const char *s, struct part_info *info)
{
	const char *colon = strchr(s, ':'), *pstr = colon ? colon + 1 : NULL, *end;
	size_t dlen = colon ? (size_t)(colon - s) : strlen(s);
	long part = -2; /* unspecified */
	int r = fbmmc_dev(u, s, dlen);

	if (r < 0)
		return r;
	if (pstr && *pstr && !strcmp(pstr, "auto")) {
		part = -3;
	} else if (pstr && *pstr) {
		uint64_t v = util_strtoul_uboot(pstr, &end, 16);

		if (*end)
			return -ENOENT;
		part = v > 0x7fffffff ? 0x7fffffff : (long)v;
	}
	if (part_detect(u->emmc) == PART_TYPE_NONE || part == 0) {
		if (part > 0)
			return -EPROTONOSUPPORT;
		return fbmmc_whole(u, info);
	}
	if (part == -2)
		part = 1;
	if (part == -3) {
		/* the first valid partition (bootable flags are not modelled) */
		for (part = 1; part <= 128; part++)
			if (part_get(u->emmc, (int)part, info) == 0)
				return (int)part;
		return -1;
	}
	return part_get(u->emmc, (int)part, info) == 0 ? (int)part : -ENOENT;
}

/* part_get_info_by_dev_and_name(): "dev#name" */
static int fbmmc_dev_name(struct uboot *u, const char *s, struct part_info *info)
{
	const char *hash = strchr(s, '#');
	int r;

	if (!hash)
		return -EINVAL;
	r = fbmmc_dev(u, s, (size_t)(hash - s));
	if (r < 0)
		return r;
	return part_find(u->emmc, hash + 1, info);
}

static int fbmmc_offset(struct uboot *u, const char *name, struct part_info *info)
{
	uint64_t off, lba = emmc_part_lba(u->emmc, EMMC_USER);

	if (util_parse_u64(name, &off) < 0)
		return -ENOENT;
	if (off % EMMC_BLKSZ || off / EMMC_BLKSZ >= lba)
		return -EINVAL;
	emmc_select(u->emmc, EMMC_USER);
	info->start = off / EMMC_BLKSZ;
	info->size = lba - info->start;
	snprintf(info->name, sizeof(info->name), "%.36s", name);
	return 0;
}

/* uboot-imx drivers/fastboot/fb_fsl/fb_fsl_partitions.c: "all" is the whole user
 * area, "bootloader" starts at bootloader_mmc_offset() (0x400 on i.MX6) in boot
 * partition 1 when the eMMC has boot partitions (the emulated one always has),
 * boot_loader_psize = the boot partition's size; -ENOENT for other names */
static int fbmmc_nxp(struct uboot *u, const char *name, struct part_info *info)
{
	enum emmc_hwpart hw;

	if (!strcmp(name, "all"))
		hw = EMMC_USER;
	else if (!strcmp(name, "bootloader"))
		hw = EMMC_BOOT0;
	else
		return -ENOENT;
	if (emmc_select(u->emmc, hw) < 0)
		return -ENODEV;
	info->start = hw == EMMC_USER ? 0 : 0x400 / EMMC_BLKSZ;
	info->size = emmc_part_lba(u->emmc, hw) - info->start;
	if (hw == EMMC_BOOT0)
		info->size = emmc_part_lba(u->emmc, hw); /* the length, not the room left */
	snprintf(info->name, sizeof(info->name), "%s", name);
	return 0;
}

/* do_get_part_info() */
static int fbmmc_do_get(struct uboot *u, const char *name, struct part_info *info)
{
	int r;

	if (u->cfg.flavour == UBOOT_NXP) {
		r = fbmmc_nxp(u, name, info);
		if (r != -ENOENT)
			return r;
		emmc_select(u->emmc, EMMC_USER); /* the table entries: user partition */
	}

	if (u->cfg.offset_names) {
		r = fbmmc_offset(u, name, info);
		if (r != -ENOENT)
			return r;
	}
	r = part_find(u->emmc, name, info);
	if (r >= 0)
		return r;
	r = fbmmc_raw(u, name, info);
	if (r >= 0)
		return r;
	r = fbmmc_dev_name(u, name, info);
	if (r >= 0)
		return r;
	return fbmmc_dev_part(u, name, info);
}

int fbmmc_part_info(struct uboot *u, const char *name, struct part_info *info, char *resp)
{
	struct part_info tmp;
	const char *alias;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	if (!name || !*name) {
		fbresp_fail(resp, "partition not given");
		return -ENOENT;
	}
	r = fbmmc_do_get(u, name, &tmp);
	if (r < 0) {
		alias = fbmmc_env(u, "fastboot_partition_alias_", name);
		if (alias)
			r = fbmmc_do_get(u, alias, &tmp);
	}
	switch (r) {
	case -ENOSYS:
	case -EINVAL:
		fbresp_fail(resp, "invalid partition or device");
		break;
	case -ENODEV:
		fbresp_fail(resp, "no such device");
		break;
	case -ENOENT:
		fbresp_fail(resp, "no such partition");
		break;
	case -EPROTONOSUPPORT:
		fbresp_fail(resp, "unknown partition table type");
		break;
	default:
		if (r < 0)
			fbresp_fail(resp, "unanticipated error");
		else
			*info = tmp;
		break;
	}
	return r;
}

/* fb_mmc_blk_write(): 16384-block chunks; BUF NULL erases */
static uint64_t fbmmc_blk_write(struct uboot *u, uint64_t start, uint64_t cnt, const uint8_t *buf)
{
	uint64_t blk = start, done = 0;

	for (uint64_t i = 0; i < cnt; i += FBMMC_MAX_BLK_WRITE) {
		uint64_t n = cnt - i < FBMMC_MAX_BLK_WRITE ? cnt - i : FBMMC_MAX_BLK_WRITE, w;

		if (buf)
			w = emmc_bwrite(u->emmc, blk, n, buf + i * EMMC_BLKSZ);
		else
			w = emmc_berase(u->emmc, blk, n);
		blk += w;
		done += w;
	}
	return done;
}

static void fbmmc_log(struct uboot *u, const char *ev, const char *name, const char *kind,
		      uint64_t start, uint64_t bytes, uint64_t t0, const char *resp)
{
	struct log_ev e;

	log_begin(&e, u->log, ev);
	log_str(&e, "part", name);
	log_str(&e, "kind", kind);
	log_str(&e, "hwpart", emmc_hwpart_to_string(emmc_current(u->emmc)));
	log_u64(&e, "offset", start * EMMC_BLKSZ);
	log_u64(&e, "bytes", bytes);
	log_u64(&e, "ms", (util_now_ns() - t0) / 1000000u);
	log_str(&e, "result", resp);
	log_end(&e);
}

/* fb_mmc_boot_ops(): the whole boot partition, from byte 0; BUF NULL erases */
static void fbmmc_boot_ops(struct uboot *u, const char *name, enum emmc_hwpart hw,
			   const uint8_t *buf, uint32_t bytes, char *resp)
{
	uint64_t t0 = util_now_ns(), cnt, lba;

	emmc_select(u->emmc, hw);
	lba = emmc_lba(u->emmc);
	if (buf) {
		cnt = ((uint64_t)bytes + EMMC_BLKSZ - 1) / EMMC_BLKSZ;
		if (cnt > lba)
			fbresp_fail(resp, "Image size too large");
		else if (fbmmc_blk_write(u, 0, cnt, buf) != cnt)
			fbresp_fail(resp, "Failed to write EMMC_BOOT part");
		else
			fbresp_okay(resp, NULL);
		fbmmc_log(u, "flash", name, "boot", 0, cnt * EMMC_BLKSZ, t0, resp);
		return;
	}
	if (fbmmc_blk_write(u, 0, lba, NULL) != lba)
		fbresp_fail(resp, "Failed to erase EMMC_BOOT part");
	else
		fbresp_okay(resp, NULL);
	fbmmc_log(u, "erase", name, "boot", 0, lba * EMMC_BLKSZ, t0, resp);
}

static void fbmmc_table(struct uboot *u, const char *name, uint8_t *buf, size_t len, char *resp)
{
	uint64_t t0 = util_now_ns();
	int r;

	if (!strcmp(name, FBMMC_GPT_NAME)) {
		if (part_gpt_buf_check(buf, len, emmc_lba(u->emmc)) < 0)
			fbresp_fail(resp, "invalid GPT partition");
		else if ((r = part_gpt_write(u->emmc, buf, len)) != 0)
			fbresp_fail(resp, "writing GPT partitions failed");
		else
			fbresp_okay(resp, NULL);
	} else {
		if (part_dos_buf_check(buf) < 0)
			fbresp_fail(resp, "invalid MBR partition");
		else if (part_mbr_write(u->emmc, buf) != 0)
			fbresp_fail(resp, "writing MBR partition failed");
		else
			fbresp_okay(resp, NULL);
	}
	fbmmc_log(u, "flash", name, "table", 0, 0, t0, resp);
}

static void fbmmc_write(struct uboot *u, const char *name, const struct part_info *info,
			const uint8_t *buf, size_t len, uint32_t bytes, char *resp)
{
	uint64_t t0 = util_now_ns(), cnt;
	struct fbsparse_result sr;

	if (fbsparse_is_sparse(buf, len)) {
		fbsparse_write(u->emmc, info->start, info->size, buf, len, &sr);
		if (sr.fail)
			fbresp_fail(resp, sr.fail);
		else
			fbresp_okay(resp, NULL);
		fbmmc_log(u, "flash", name, "sparse", info->start, sr.bytes_written, t0, resp);
		return;
	}
	cnt = ((uint64_t)bytes + EMMC_BLKSZ - 1) / EMMC_BLKSZ;
	if (cnt > info->size)
		fbresp_fail(resp, "too large for partition");
	else if (fbmmc_blk_write(u, info->start, cnt, buf) != cnt)
		fbresp_fail(resp, "failed writing to device");
	else
		fbresp_okay(resp, NULL);
	fbmmc_log(u, "flash", name, "raw", info->start, cnt * EMMC_BLKSZ, t0, resp);
}

void fbmmc_flash(struct uboot *u, const char *name, uint8_t *buf, size_t len, uint32_t bytes,
		 char *resp)
{
	struct part_info info;

	if (name && !strcmp(name, FBMMC_BOOT1_NAME)) {
		fbmmc_boot_ops(u, name, EMMC_BOOT0, buf, bytes, resp);
		return;
	}
	if (name && !strcmp(name, FBMMC_BOOT2_NAME)) {
		fbmmc_boot_ops(u, name, EMMC_BOOT1, buf, bytes, resp);
		return;
	}
	if (name && (!strcmp(name, FBMMC_GPT_NAME) || !strcmp(name, FBMMC_MBR_NAME))) {
		fbmmc_table(u, name, buf, len, resp);
		return;
	}
	if (name && !strcmp(name, FBMMC_USER_NAME)) {
		/* the whole selected hardware partition */
		fbmmc_whole(u, &info);
	} else if (fbmmc_part_info(u, name, &info, resp) < 0) {
		fbmmc_log(u, "flash", name ? name : "", "lookup", 0, 0, util_now_ns(), resp);
		return;
	}
	fbmmc_write(u, name, &info, buf, len, bytes, resp);
}

void fbmmc_erase(struct uboot *u, const char *name, char *resp)
{
	uint64_t t0 = util_now_ns(), start, size, grp = EMMC_ERASE_GRP_BLKS;
	struct part_info info;

	if (name && !strcmp(name, FBMMC_BOOT1_NAME)) {
		fbmmc_boot_ops(u, name, EMMC_BOOT0, NULL, 0, resp);
		return;
	}
	if (name && !strcmp(name, FBMMC_BOOT2_NAME)) {
		fbmmc_boot_ops(u, name, EMMC_BOOT1, NULL, 0, resp);
		return;
	}
	if (name && !strcmp(name, FBMMC_USER_NAME)) {
		size = emmc_lba(u->emmc);
		if (fbmmc_blk_write(u, 0, size, NULL) != size)
			fbresp_fail(resp, "Failed to erase EMMC_USER");
		else
			fbresp_okay(resp, NULL);
		fbmmc_log(u, "erase", name, "user", 0, size * EMMC_BLKSZ, t0, resp);
		return;
	}
	if (fbmmc_part_info(u, name, &info, resp) < 0) {
		fbmmc_log(u, "erase", name ? name : "", "lookup", 0, 0, t0, resp);
		return;
	}
	/* align start up and size down to the erase group */
	start = (info.start + grp - 1) & ~(grp - 1);
	size = info.size >= grp ? (info.size - (start - info.start)) & ~(grp - 1) : 0;
	if (fbmmc_blk_write(u, start, size, NULL) != size)
		fbresp_fail(resp, "failed erasing from device");
	else
		fbresp_okay(resp, NULL);
	fbmmc_log(u, "erase", name, "aligned", start, size * EMMC_BLKSZ, t0, resp);
}

const char *fbmmc_fs_type(struct uboot *u, int num, const struct part_info *info)
{
	uint8_t b[2048];
	uint64_t start = num >= 1 ? info->start : 0;

	if (emmc_bread(u->emmc, start, 4, b) != 4)
		return NULL;
	/* fat_set_blk_dev(): boot signature and "FAT"/"FAT32" */
	if (b[510] == 0x55 && b[511] == 0xaa &&
	    (!memcmp(b + 0x36, "FAT", 3) || !memcmp(b + 0x52, "FAT32", 5)))
		return "fat";
	/* ext4fs_probe(): the superblock magic at 1024 + 56 */
	if (util_le16(b + 1024 + 56) == 0xEF53)
		return "ext4";
	return NULL;
}
