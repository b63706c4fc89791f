/* ucmd_part: see ucmd_part.h. cmd/part.c do_part_info(): the device by
 * disk/part.c blk_get_device_by_str() (hexadecimal "DEV[.HWPART]", the hardware
 * partition selected as a side effect, 0 without ".HWPART"), PART a number when
 * simple_strtoul(PART, 0) takes all of it, else a name; failures are silent (rc
 * 1) as there, but for a malformed device string. Values are written as LBAF
 * ("%llx": hexadecimal, no 0x), a number as "0x%x". v2023.04 (the emulated
 * version) has no UUID lookup and no "part name" (mainline added both). */
#include "ucmd_part.h"

#include "part.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* blk_get_device_by_str() + get_dev_hwpart(): 0, or 1 */
static int part_dev(struct uboot *u, const char *ifname, const char *spec)
{
	const char *dot = strchr(spec, '.'), *end;
	char dev_str[64];
	uint64_t dev, hwpart = 0;
	size_t n = dot ? (size_t)(dot - spec) : strlen(spec);

	snprintf(dev_str, sizeof(dev_str), "%.*s", (int)n, spec);
	dev = util_strtoul_uboot(dev_str, &end, 16);
	if (*end) {
		uboot_console(u, "** Bad device specification %s %s **", ifname, dev_str);
		return 1;
	}
	if (dot) {
		hwpart = util_strtoul_uboot(dot + 1, &end, 16);
		if (*end) {
			uboot_console(u, "** Bad HW partition specification %s %s **", ifname,
				      dot + 1);
			return 1;
		}
	}
	/* only "mmc 0" exists; mmc_select_hwpart() fails for partitions the
	 * emulated eMMC lacks (no general purpose ones); a debug() message only */
	if (strcmp(ifname, "mmc") || dev != UBOOT_MMC_DEV || hwpart >= EMMC_NPARTS)
		return 1;
	return emmc_select(u->emmc, (enum emmc_hwpart)hwpart) < 0;
}

static int part_info(struct uboot *u, const char *what, int argc, char **argv)
{
	struct part_info info;
	const char *end;
	char buf[64];
	uint64_t num;
	int part;

	if (argc < 3 || argc > 4)
		return -1;
	if (part_dev(u, argv[0], argv[1]))
		return 1;
	num = util_strtoul_uboot(argv[2], &end, 0);
	if (!*end) {
		part = num > 128 ? -1 : (int)num;
		if (part < 1 || part_get(u->emmc, part, &info) < 0)
			return 1;
	} else {
		part = part_find(u->emmc, argv[2], &info);
		if (part < 0)
			return 1;
	}
	if (!strcmp(what, "start"))
		snprintf(buf, sizeof(buf), "%llx", (unsigned long long)info.start);
	else if (!strcmp(what, "size"))
		snprintf(buf, sizeof(buf), "%llx", (unsigned long long)info.size);
	else
		snprintf(buf, sizeof(buf), "0x%x", part);
	if (argc > 3)
		(void)env_set(u->env, argv[3], buf); /* not checked there either */
	else
		uboot_console(u, "%s", buf);
	return 0;
}

int ucmd_part(struct uboot *u, int argc, char **argv)
{
	static const char *const subs[] = { "start", "size", "number" };

	if (argc < 2)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i]))
			return part_info(u, subs[i], argc - 2, argv + 2);
	return -1;
}
