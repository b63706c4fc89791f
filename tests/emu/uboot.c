/* uboot: see uboot.h */
#include "uboot.h"

#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int uboot_new(const struct uboot_cfg *cfg, struct emmc *emmc, struct log *log, struct uboot **out)
{
	struct uboot *u;

	if (!cfg || !cfg->soc || !emmc)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->cfg = *cfg;
	u->log = log;
	u->emmc = emmc;
	u->ram = mem_new(UBOOT_RAM_CAP(cfg->max_download));
	if (!u->ram || env_new(&u->env) < 0) {
		mem_free(u->ram);
		free(u);
		return -ENOMEM;
	}
	*out = u;
	return 0;
}

struct uboot *uboot_free(struct uboot *u)
{
	if (!u)
		return NULL;
	env_free(u->env);
	mem_free(u->ram);
	free(u->dl_own);
	free(u);
	return NULL;
}

void uboot_set_build(struct uboot *u, const struct uboot_build *b)
{
	u->build = *b;
}

bool uboot_has_cmd(const struct uboot *u, const char *name)
{
	for (size_t i = 0; i < u->build.n_no_cmd && i < UBOOT_MAX_NO_CMD; i++)
		if (!strcmp(u->build.no_cmd[i], name))
			return false;
	return true;
}

uint32_t uboot_dl_addr(const struct uboot *u)
{
	return u->cfg.soc->dram_start == 0x10000000u ? 0x12000000u : 0x82000000u;
}

int uboot_set_dlbuf(struct uboot *u, const uint8_t *buf, size_t size)
{
	size_t pages = (size + UBOOT_DL_PAGE - 1) / UBOOT_DL_PAGE;

	free(u->dl_own);
	u->dl_own = NULL;
	u->dl = NULL;
	u->dl_size = 0;
	u->dl_addr = uboot_dl_addr(u);
	if (!buf)
		return 0;
	if ((uint64_t)u->dl_addr + size > 0x100000000ull)
		return -EINVAL;
	u->dl_own = calloc(pages ? pages : 1, 1);
	if (!u->dl_own)
		return -ENOMEM;
	u->dl = buf;
	u->dl_size = size;
	return 0;
}

void uboot_dl_start(struct uboot *u)
{
	if (u->dl_own)
		memset(u->dl_own, 0, (u->dl_size + UBOOT_DL_PAGE - 1) / UBOOT_DL_PAGE);
}

/* the piece of [a, a + len) up to the next download-page boundary: its length;
 * *page is its page in the buffer, or SIZE_MAX outside it */
static size_t uboot_dl_piece(const struct uboot *u, uint64_t a, size_t len, size_t *page)
{
	uint64_t end = (uint64_t)u->dl_addr + u->dl_size, next;

	*page = SIZE_MAX;
	if (!u->dl || a + len <= u->dl_addr || a >= end) {
		next = a < u->dl_addr && u->dl ? u->dl_addr : UINT64_MAX;
	} else if (a < u->dl_addr) {
		next = u->dl_addr;
	} else {
		*page = (size_t)((a - u->dl_addr) / UBOOT_DL_PAGE);
		next = u->dl_addr + ((uint64_t)*page + 1) * UBOOT_DL_PAGE;
		if (next > end)
			next = end;
	}
	return next - a < len ? (size_t)(next - a) : len;
}

static int uboot_ram_err(struct uboot *u, int r, uint32_t addr, size_t len)
{
	struct log_ev e;

	if (r == -ENOMEM) {
		log_begin(&e, u->log, "emu-limit");
		log_str(&e, "what", "uboot-ram-cap");
		log_hex32(&e, "addr", addr);
		log_u64(&e, "len", len);
		log_end(&e);
	}
	return r;
}

int uboot_ram_read(struct uboot *u, uint32_t addr, void *buf, size_t len)
{
	uint8_t *dst = buf;
	uint64_t a = addr;

	if (a + len > 0x100000000ull)
		return -EFAULT;
	while (len) {
		size_t page, n = uboot_dl_piece(u, a, len, &page);

		if (page != SIZE_MAX && !u->dl_own[page])
			memcpy(dst, u->dl + (a - u->dl_addr), n);
		else
			(void)mem_read(u->ram, (uint32_t)a, dst, n);
		dst += n;
		a += n;
		len -= n;
	}
	return 0;
}

int uboot_ram_write(struct uboot *u, uint32_t addr, const void *buf, size_t len)
{
	uint64_t a = addr, end = (uint64_t)addr + len;
	int r;

	if (end > 0x100000000ull)
		return -EFAULT;
	/* download pages written to become RAM's own, with the buffer's bytes */
	while (a < end) {
		size_t page, n = uboot_dl_piece(u, a, (size_t)(end - a), &page);

		if (page != SIZE_MAX && !u->dl_own[page]) {
			uint64_t p0 = u->dl_addr + (uint64_t)page * UBOOT_DL_PAGE;
			size_t plen = u->dl_size - (size_t)(p0 - u->dl_addr);

			if (plen > UBOOT_DL_PAGE)
				plen = UBOOT_DL_PAGE;
			r = mem_write(u->ram, (uint32_t)p0, u->dl + (p0 - u->dl_addr), plen);
			if (r < 0)
				return uboot_ram_err(u, r, (uint32_t)p0, plen);
			u->dl_own[page] = 1;
		}
		a += n;
	}
	return uboot_ram_err(u, mem_write(u->ram, addr, buf, len), addr, len);
}

static const char *const uboot_flavour_names[] = {
	[UBOOT_FLASHD] = "flashd",
	[UBOOT_MAINLINE] = "mainline",
	[UBOOT_NXP] = "nxp",
};

const char *uboot_flavour_to_string(enum uboot_flavour f)
{
	return (unsigned)f < ARRAY_SIZE(uboot_flavour_names) ? uboot_flavour_names[f] : "?";
}

uint32_t uboot_env_offset(const struct uboot *u)
{
	return u->cfg.env_size ? u->cfg.env_offset : UBOOT_ENV_OFFSET;
}

uint32_t uboot_env_size(const struct uboot *u)
{
	return u->cfg.env_size ? u->cfg.env_size : UBOOT_ENV_SIZE;
}

/* entries of one flavour's default environment only */
static int uboot_flavour_vars(struct uboot *u)
{
	/* flashd-emu's own: raw partitions for the bootloader and the env region */
	static const char *const flashd[][2] = {
		{ "fastboot_partition_alias_rootfs", "mmcsda1" },
		{ "fastboot_raw_partition_bootloader", "0x2 0x7fe" },
		{ "fastboot_raw_partition_uboot-env", "0x600 0x10" },
	};
	/* uboot-imx: include/configs/mx6sabre_common.h CONFIG_MFG_ENV_SETTINGS
	 * (bootcmd_mfg, what autoboot.c tests for "Boot from USB for mfgtools"),
	 * emmc_dev (the emulator has one MMC device: 0) and fastboot_dev */
	static const char *const nxp[][2] = {
		{ "bootcmd_mfg", "run mfgtool_args; fastboot 0" },
		{ "emmc_dev", "0" },
		{ "fastboot_dev", "mmc0" },
		{ "mfgtool_args", "setenv bootargs console=ttymxc0,115200 rdinit=/linuxrc" },
	};
	const char *const (*v)[2] = u->cfg.flavour == UBOOT_FLASHD ? flashd : nxp;
	size_t n = u->cfg.flavour == UBOOT_FLASHD ? ARRAY_SIZE(flashd) : ARRAY_SIZE(nxp);

	if (u->cfg.flavour == UBOOT_MAINLINE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (env_set_force(u->env, v[i][0], v[i][1]) < 0)
			return -ENOMEM;
	return 0;
}

static int uboot_default_vars(struct uboot *u)
{
	const struct soc_info *s = u->cfg.soc;
	bool low_dram = s->dram_start == 0x10000000u;
	const char *const vars[][2] = {
		{ "arch", "arm" },
		{ "baudrate", "115200" },
		{ "board", s->board },
		{ "board_name", s->board },
		{ "bootcmd", "mmc dev ${mmcdev}; load mmc ${mmcdev}:${mmcpart} ${loadaddr} ${image}"
			     " && bootz ${loadaddr} - ${fdt_addr}" },
		{ "bootdelay", "2" },
		{ "cpu", "armv7" },
		{ "fdt_addr", low_dram ? "0x18000000" : "0x83000000" },
		{ "image", "zImage" },
		{ "loadaddr", low_dram ? "0x12000000" : "0x80800000" },
		{ "mmcdev", "0" },
		{ "mmcpart", "1" },
		{ "soc", "mx6" },
		{ "vendor", "freescale" },
		{ "ver", UBOOT_VERSION },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		if (env_set_force(u->env, vars[i][0], vars[i][1]) < 0)
			return -ENOMEM;
	return uboot_flavour_vars(u);
}

/* serial# from the fuses when the environment has none */
static int uboot_serial(struct uboot *u)
{
	char serial[20];

	if (env_get(u->env, "serial#"))
		return 0;
	snprintf(serial, sizeof(serial), "%08x%08x", (uint32_t)u->cfg.uid,
		 (uint32_t)(u->cfg.uid >> 32));
	return env_set_force(u->env, "serial#", serial);
}

int uboot_env_default(struct uboot *u)
{
	char name[ENV_NAME_MAX];
	int r;

	env_clear(u->env);
	r = uboot_default_vars(u);
	for (size_t i = 0; r == 0 && i < u->cfg.n_env_extra; i++) {
		const char *kv = u->cfg.env_extra[i], *eq = strchr(kv, '=');

		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name))
			return -EINVAL;
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		r = env_set_force(u->env, name, eq + 1);
	}
	/* misc init: serial# from OCOTP CFG0, CFG1 unless the env has one */
	return r == 0 ? uboot_serial(u) : r;
}

static void uboot_log_env(struct uboot *u, const char *source, const char *reason)
{
	struct log_ev e;

	log_begin(&e, u->log, "env-load");
	log_str(&e, "flavour", uboot_flavour_to_string(u->cfg.flavour));
	log_u64(&e, "offset", uboot_env_offset(u));
	log_u64(&e, "size", uboot_env_size(u));
	log_str(&e, "source", source);
	log_str(&e, "reason", reason);
	log_u64(&e, "vars", env_count(u->env));
	log_end(&e);
}

/* env/mmc.c env_mmc_load() + env/common.c env_import(): the region of the user
 * area, CRC checked; 0 when the saved environment was imported */
static int uboot_env_load(struct uboot *u, const char **reason)
{
	uint32_t size = uboot_env_size(u);
	uint8_t *region = malloc(size);
	int r;

	*reason = "read-error";
	if (!region)
		return -ENOMEM;
	r = emmc_pread(u->emmc, EMMC_USER, uboot_env_offset(u), region, size);
	if (r == 0) {
		r = env_import(u->env, region, size);
		*reason = r == 0 ? "ok" : "bad CRC"; /* env/common.c env_import() */
	}
	free(region);
	return r;
}

int uboot_start(struct uboot *u)
{
	const char *reason = "default";
	int r;

	u->reset = false;
	mem_clear(u->ram);
	uboot_dl_start(u); /* what DRAM still holds: the download buffer */
	emmc_select(u->emmc, EMMC_USER);
	if (u->cfg.flavour == UBOOT_FLASHD) {
		r = uboot_env_default(u);
		uboot_log_env(u, "default", "usb-boot");
		return r;
	}
	uboot_console(u, "Loading Environment from MMC... ");
	if (uboot_env_load(u, &reason) != 0) {
		uboot_console(u, "*** Warning - %s, using default environment", reason);
		r = uboot_env_default(u);
		uboot_log_env(u, "default", reason);
		return r;
	}
	if (u->cfg.flavour == UBOOT_NXP && env_get(u->env, "bootcmd_mfg")) {
		/* common/autoboot.c bootdelay_process() in uboot-imx */
		uboot_console(u, "Boot from USB for mfgtools");
		r = uboot_env_default(u);
		uboot_log_env(u, "default", "mfgtools");
		return r;
	}
	if (u->cfg.flavour == UBOOT_NXP) {
		uboot_console(u, "Boot from USB for uuu");
		(void)env_set_force(u->env, "bootcmd", "fastboot 0");
	}
	r = uboot_serial(u);
	uboot_log_env(u, "saved", reason);
	return r;
}

int uboot_saveenv(struct uboot *u)
{
	uint32_t size = uboot_env_size(u);
	uint8_t *region = malloc(size);
	enum emmc_hwpart was = emmc_current(u->emmc);
	uint64_t blk = uboot_env_offset(u) / EMMC_BLKSZ, cnt = size / EMMC_BLKSZ;
	struct log_ev e;
	int r;

	if (!region)
		return -ENOMEM;
	r = env_export(u->env, region, size);
	if (r < 0) {
		free(region);
		return r;
	}
	uboot_console(u, "Saving Environment to MMC... Writing to MMC(%d)... ", UBOOT_MMC_DEV);
	emmc_select(u->emmc, EMMC_USER);
	r = emmc_bwrite(u->emmc, blk, cnt, region) == cnt ? 0 : -EIO;
	free(region);
	emmc_select(u->emmc, was);
	log_begin(&e, u->log, "env-save");
	log_u64(&e, "offset", uboot_env_offset(u));
	log_u64(&e, "size", size);
	log_u64(&e, "vars", env_count(u->env));
	log_bool(&e, "ok", r == 0);
	log_end(&e);
	return r;
}

void uboot_console(struct uboot *u, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_simple_str(u->log, "console", "text", line);
}

void uboot_sleep(struct uboot *u, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	if (u->cfg.sleep)
		u->cfg.sleep(u->cfg.sleep_ctx, ns);
	else
		nanosleep(&ts, NULL);
}
