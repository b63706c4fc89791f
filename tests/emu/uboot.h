/* uboot: the emulated U-Boot proper that the ROM jumped to: its environment
 * (defaults, serial# from the fuses as mainline arch/arm/mach-imx/mx6/soc.c sets
 * it), saveenv into the eMMC env region and the console (logged). The fastboot
 * gadget (fb.c) and the command line (ucmd.c) work on this state. */
#ifndef EMU_UBOOT_H
#define EMU_UBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emmc.h"
#include "env.h"
#include "log.h"
#include "soc.h"

#define UBOOT_VERSION "U-Boot 2023.04-flashd-emu"
#define UBOOT_ENV_OFFSET 0xC0000u /* CONFIG_ENV_OFFSET as mx6sabresd */
#define UBOOT_ENV_SIZE 0x2000u    /* CONFIG_ENV_SIZE */
#define UBOOT_MMC_DEV 0           /* CONFIG_FASTBOOT_FLASH_MMC_DEV */

typedef void (*uboot_sleep_fn)(void *ctx, uint64_t ns);

/* which U-Boot build (README.md "U-Boot personalities") */
enum uboot_flavour {
	UBOOT_FLASHD,   /* the emulator's own build: default env, raw partitions */
	UBOOT_MAINLINE, /* mainline: saved env loaded, raw partitions only from the env */
	UBOOT_NXP,      /* uboot-imx: fb_fsl partitions, mfgtools env handling */
};

struct uboot_cfg {
	const struct soc_info *soc;
	uint64_t uid;
	uint32_t max_download;
	bool offset_names;             /* patched fb_mmc: numeric names are byte offsets */
	const char *const *env_extra;  /* "KEY=VALUE" overrides of the default env */
	size_t n_env_extra;
	uboot_sleep_fn sleep;
	void *sleep_ctx;
	/* zero values: the flashd build */
	enum uboot_flavour flavour;
	bool no_uuu;                   /* built without CONFIG_FASTBOOT_UUU_SUPPORT */
	uint32_t env_offset, env_size; /* CONFIG_ENV_OFFSET/SIZE; 0: the defaults above */
};

struct uboot {
	struct uboot_cfg cfg;
	struct log *log;
	struct emmc *emmc;
	struct env *env;
	bool reset;        /* a command asked for a reset */
};

int uboot_new(const struct uboot_cfg *cfg, struct emmc *emmc, struct log *log, struct uboot **out);
struct uboot *uboot_free(struct uboot *u);
const char *uboot_flavour_to_string(enum uboot_flavour f);
/* U-Boot starts: user area selected, the environment as the flavour loads it
 * (flashd: default; mainline: the saved one when its CRC is good; nxp: the saved
 * one unless it has bootcmd_mfg), serial# */
int uboot_start(struct uboot *u);
/* load the default environment again (env default -a) */
int uboot_env_default(struct uboot *u);
/* the environment region (CONFIG_ENV_OFFSET, CONFIG_ENV_SIZE) */
uint32_t uboot_env_offset(const struct uboot *u);
uint32_t uboot_env_size(const struct uboot *u);
/* saveenv: the env region of the user area, selected hwpart restored; -errno */
int uboot_saveenv(struct uboot *u);
/* a line printed on the console (logged as a "console" event) */
void uboot_console(struct uboot *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void uboot_sleep(struct uboot *u, uint64_t ns);

#endif
