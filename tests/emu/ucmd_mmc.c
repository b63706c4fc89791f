/* ucmd_mmc: see ucmd_mmc.h. Messages and argument parsing as U-Boot's cmd/mmc.c
 * (decimal device/partition numbers, hexadecimal block numbers). */
#include "ucmd_mmc.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

static unsigned long ucmd_dec(const char *s)
{
	return (unsigned long)util_strtoul_uboot(s, NULL, 10);
}

static unsigned long long ucmd_hex(const char *s)
{
	return (unsigned long long)util_strtoul_uboot(s, NULL, 16);
}

static int ucmd_mmc_devok(struct uboot *u, unsigned long dev)
{
	if (dev != UBOOT_MMC_DEV) {
		uboot_console(u, "MMC Device %lu not found", dev);
		return 0;
	}
	return 1;
}

static int ucmd_mmc_dev(struct uboot *u, int argc, char **argv)
{
	unsigned long dev = UBOOT_MMC_DEV, part = 0;

	if (argc > 3)
		return -1;
	if (argc >= 2)
		dev = ucmd_dec(argv[1]);
	if (argc == 3) {
		part = ucmd_dec(argv[2]);
		if (part > 7) {
			uboot_console(u, "#part_num shouldn't be larger than 7");
			return 1;
		}
	}
	if (!ucmd_mmc_devok(u, dev))
		return 1;
	if (emmc_select(u->emmc, (enum emmc_hwpart)part) < 0) {
		uboot_console(u, "switch to partitions #%lu, ERROR", part);
		return 1;
	}
	uboot_console(u, "switch to partitions #%lu, OK", part);
	uboot_console(u, "mmc%lu(part %lu) is current device", dev, part);
	return 0;
}

static int ucmd_mmc_partconf(struct uboot *u, int argc, char **argv)
{
	unsigned v;

	if (argc != 2 && argc != 5)
		return -1;
	if (!ucmd_mmc_devok(u, ucmd_dec(argv[1])))
		return 1;
	if (argc == 2) {
		v = emmc_partconf(u->emmc);
		uboot_console(u, "EXT_CSD[179], PARTITION_CONFIG:");
		uboot_console(u, "BOOT_ACK: 0x%x", (v >> 6) & 1);
		uboot_console(u, "BOOT_PARTITION_ENABLE: 0x%x", (v >> 3) & 7);
		uboot_console(u, "PARTITION_ACCESS: 0x%x", v & 7);
		return 0;
	}
	emmc_set_partconf(u->emmc, (unsigned)ucmd_dec(argv[2]), (unsigned)ucmd_dec(argv[3]),
			  (unsigned)ucmd_dec(argv[4]));
	return 0;
}

static int ucmd_mmc_erase(struct uboot *u, int argc, char **argv)
{
	unsigned long long blk, cnt, n;

	if (argc != 3)
		return -1;
	blk = ucmd_hex(argv[1]);
	cnt = ucmd_hex(argv[2]);
	uboot_console(u, "MMC erase: dev # %d, block # %llu, count %llu ... ", UBOOT_MMC_DEV,
		      blk, cnt);
	n = emmc_berase(u->emmc, blk, cnt);
	uboot_console(u, "%llu blocks erased: %s", n, n == cnt ? "OK" : "ERROR");
	{
		struct log_ev e;

		log_begin(&e, u->log, "mmc-erase");
		log_str(&e, "hwpart", emmc_hwpart_to_string(emmc_current(u->emmc)));
		log_u64(&e, "blk", blk);
		log_u64(&e, "count", cnt);
		log_bool(&e, "ok", n == cnt);
		log_end(&e);
	}
	return n == cnt ? 0 : 1;
}

/* the eSDHC's DMA reaches RAM only (DRAM, OCRAM); elsewhere the bus answers
 * with an error, IRQSTAT_DMAE, which fsl_esdhc_imx.c esdhc_send_cmd_common()
 * turns into -ECOMM: mmc_read_blocks() then transfers nothing, silently */
#define UCMD_MMC_CHUNK 2048u /* blocks moved at a time (the emulator's, not b_max) */

static bool ucmd_mmc_dma_ok(struct uboot *u, uint32_t addr, uint64_t len)
{
	return soc_in_dram(u->cfg.soc, addr, len) || soc_in_ocram(u->cfg.soc, addr, len);
}

/* one piece of a transfer through BUF: true when it all moved */
static bool ucmd_mmc_chunk(struct uboot *u, bool write, uint32_t addr, uint64_t blk, uint32_t n,
			   uint8_t *buf, size_t bytes)
{
	if (write)
		return uboot_ram_read(u, addr, buf, bytes) == 0 &&
		       emmc_bwrite(u->emmc, blk, n, buf) == n;
	return emmc_bread(u->emmc, blk, n, buf) == n && uboot_ram_write(u, addr, buf, bytes) == 0;
}

/* blocks BLK..+CNT of the selected hardware partition to / from RAM at ADDR:
 * drivers/mmc/mmc.c mmc_bread()/mmc_bwrite(): 0 blocks for CNT 0, for a range
 * past the partition's end (with its log_err message) and for a DMA error */
static uint32_t ucmd_mmc_xfer(struct uboot *u, bool write, uint32_t addr, uint32_t blk,
			      uint32_t cnt)
{
	uint64_t lba = emmc_lba(u->emmc), len = (uint64_t)cnt * EMMC_BLKSZ, n;
	uint8_t *buf;

	if (!cnt)
		return 0;
	if ((uint64_t)blk + cnt > lba) {
		uboot_console(u, "MMC: block number 0x%llx exceeds max(0x%llx)",
			      (unsigned long long)blk + cnt, (unsigned long long)lba);
		return 0;
	}
	if (!ucmd_mmc_dma_ok(u, addr, len))
		return 0;
	buf = malloc(UCMD_MMC_CHUNK * EMMC_BLKSZ);
	if (!buf)
		return 0;
	for (uint32_t done = 0; done < cnt; done += (uint32_t)n) {
		uint32_t a = addr + done * EMMC_BLKSZ;
		size_t bytes;

		n = cnt - done < UCMD_MMC_CHUNK ? cnt - done : UCMD_MMC_CHUNK;
		bytes = (size_t)n * EMMC_BLKSZ;
		if (!ucmd_mmc_chunk(u, write, a, blk + done, (uint32_t)n, buf, bytes)) {
			free(buf);
			return 0; /* mmc_bread(): 0 when a chunk fails */
		}
	}
	free(buf);
	return cnt;
}

/* cmd/mmc.c do_mmc_read()/do_mmc_write(): hexadecimal ADDR BLK CNT (u32), the
 * current device and hardware partition; "%d" as the real printf() has it */
static int ucmd_mmc_rw(struct uboot *u, int argc, char **argv)
{
	bool write = !strcmp(argv[0], "write");
	uint32_t addr, blk, cnt, n;
	struct log_ev e;

	if (argc != 4)
		return -1;
	addr = (uint32_t)ucmd_hex(argv[1]);
	blk = (uint32_t)ucmd_hex(argv[2]);
	cnt = (uint32_t)ucmd_hex(argv[3]);
	uboot_console(u, "%s", ""); /* v2023.04: "\nMMC read: …" */
	uboot_console(u, "MMC %s: dev # %d, block # %d, count %d ... ", write ? "write" : "read",
		      UBOOT_MMC_DEV, (int)blk, (int)cnt);
	n = ucmd_mmc_xfer(u, write, addr, blk, cnt);
	uboot_console(u, "%d blocks %s: %s", (int)n, write ? "written" : "read",
		      n == cnt ? "OK" : "ERROR");
	log_begin(&e, u->log, write ? "mmc-write" : "mmc-read");
	log_str(&e, "hwpart", emmc_hwpart_to_string(emmc_current(u->emmc)));
	log_hex32(&e, "addr", addr);
	log_u64(&e, "blk", blk);
	log_u64(&e, "count", cnt);
	log_bool(&e, "ok", n == cnt);
	log_end(&e);
	return n == cnt ? 0 : 1;
}

static int ucmd_mmc_bootbus(struct uboot *u, int argc, char **argv)
{
	if (argc != 5)
		return -1;
	if (!ucmd_mmc_devok(u, ucmd_dec(argv[1])))
		return 1;
	emmc_set_bootbus(u->emmc, (unsigned)(ucmd_dec(argv[2]) << 3 | ucmd_dec(argv[3]) << 2 |
					     ucmd_dec(argv[4])));
	return 0;
}

static int ucmd_mmc_info(struct uboot *u, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[0], "list")) {
		uboot_console(u, "FSL_SDHC: %d (eMMC)", UBOOT_MMC_DEV);
		return 0;
	}
	uboot_console(u, "Device: FSL_SDHC");
	uboot_console(u, "User Capacity: %llu bytes",
		      (unsigned long long)emmc_part_lba(u->emmc, EMMC_USER) * EMMC_BLKSZ);
	uboot_console(u, "Boot Capacity: %u KiB ENH", EMMC_BOOT_SIZE >> 10);
	return 0;
}

int ucmd_mmc(struct uboot *u, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct uboot *u, int argc, char **argv);
	} sub[] = {
		{ "dev", ucmd_mmc_dev },
		{ "partconf", ucmd_mmc_partconf },
		{ "erase", ucmd_mmc_erase },
		{ "read", ucmd_mmc_rw },
		{ "write", ucmd_mmc_rw },
		{ "bootbus", ucmd_mmc_bootbus },
		{ "info", ucmd_mmc_info },
		{ "list", ucmd_mmc_info },
		{ "rescan", ucmd_mmc_info },
	};

	if (argc < 2)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(u, argc - 1, argv + 1);
	return -1;
}
