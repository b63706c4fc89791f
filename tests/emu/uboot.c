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
	if (env_new(&u->env) < 0) {
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
	free(u);
	return NULL;
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
		{ "fastboot_partition_alias_rootfs", "mmcsda1" },
		{ "fastboot_raw_partition_bootloader", "0x2 0x7fe" },
		{ "fastboot_raw_partition_uboot-env", "0x600 0x10" },
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
	return 0;
}

int uboot_env_default(struct uboot *u)
{
	char name[ENV_NAME_MAX], serial[20];
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
	if (r == 0 && !env_get(u->env, "serial#")) {
		snprintf(serial, sizeof(serial), "%08x%08x", (uint32_t)u->cfg.uid,
			 (uint32_t)(u->cfg.uid >> 32));
		r = env_set_force(u->env, "serial#", serial);
	}
	return r;
}

int uboot_start(struct uboot *u)
{
	u->reset = false;
	emmc_select(u->emmc, EMMC_USER);
	return uboot_env_default(u);
}

int uboot_saveenv(struct uboot *u)
{
	uint8_t region[UBOOT_ENV_SIZE];
	enum emmc_hwpart was = emmc_current(u->emmc);
	uint64_t blk = UBOOT_ENV_OFFSET / EMMC_BLKSZ, cnt = UBOOT_ENV_SIZE / EMMC_BLKSZ;
	struct log_ev e;
	int r;

	r = env_export(u->env, region, sizeof(region));
	if (r < 0)
		return r;
	uboot_console(u, "Saving Environment to MMC... Writing to MMC(%d)... ", UBOOT_MMC_DEV);
	emmc_select(u->emmc, EMMC_USER);
	r = emmc_bwrite(u->emmc, blk, cnt, region) == cnt ? 0 : -EIO;
	emmc_select(u->emmc, was);
	log_begin(&e, u->log, "env-save");
	log_u64(&e, "offset", UBOOT_ENV_OFFSET);
	log_u64(&e, "size", UBOOT_ENV_SIZE);
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
