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
#include "mem.h"
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

/* U-Boot proper's DRAM as its commands see it (map_sysmem() is the identity on
 * ARM): a sparse model with room for UBOOT_RAM_CAP(max_download) bytes, emptied
 * at each start */
#define UBOOT_RAM_CAP(maxdl) (2 * (size_t)(maxdl) + (16u << 20))

/* the build's command-line configuration (README.md "U-Boot builds"); zero: all
 * of crc32, hash, part, setexpr, with CONFIG_CRC32_VERIFY and CONFIG_HASH_VERIFY */
#define UBOOT_MAX_NO_CMD 16
struct uboot_build {
	bool no_crc32_verify;                 /* CONFIG_CRC32_VERIFY unset */
	bool no_hash_verify;                  /* CONFIG_HASH_VERIFY unset */
	const char *no_cmd[UBOOT_MAX_NO_CMD]; /* commands not compiled in */
	size_t n_no_cmd;
};

/* the fastboot download buffer in that RAM (CONFIG_FASTBOOT_BUF_ADDR):
 * mx6sabresd_defconfig's 0x12000000 (= loadaddr) where DRAM starts at 0x10000000,
 * else drivers/fastboot/Kconfig's 0x82000000 (MX6SX/SL/UL/SLL) */
#define UBOOT_DL_PAGE 0x10000u

struct uboot {
	struct uboot_cfg cfg;
	struct uboot_build build;
	struct log *log;
	struct emmc *emmc;
	struct env *env;
	struct mem *ram;
	/* the download buffer seen as RAM: its pages (UBOOT_DL_PAGE, from dl_addr)
	 * read from DL until a command writes there (then they live in RAM: dl_own),
	 * all of them again once a new download starts */
	const uint8_t *dl;
	size_t dl_size;
	uint32_t dl_addr;
	uint8_t *dl_own;
	bool reset;        /* a command asked for a reset */
};

int uboot_new(const struct uboot_cfg *cfg, struct emmc *emmc, struct log *log, struct uboot **out);
struct uboot *uboot_free(struct uboot *u);
const char *uboot_flavour_to_string(enum uboot_flavour f);
/* the command-line configuration (before uboot_start; the default is all in) */
void uboot_set_build(struct uboot *u, const struct uboot_build *b);
/* the command NAME is compiled in */
bool uboot_has_cmd(const struct uboot *u, const char *name);
/* fastboot's download buffer (BUF, SIZE bytes; NULL: none) is RAM at
 * CONFIG_FASTBOOT_BUF_ADDR; -ENOMEM */
int uboot_set_dlbuf(struct uboot *u, const uint8_t *buf, size_t size);
/* a download starts: the whole buffer is RAM's content again */
void uboot_dl_start(struct uboot *u);
uint32_t uboot_dl_addr(const struct uboot *u);
/* CPU reads and writes of RAM (any 32-bit address: the model does not fault);
 * -EFAULT past 4 GiB, -ENOMEM at the emulator's RAM cap (logged "emu-limit") */
int uboot_ram_read(struct uboot *u, uint32_t addr, void *buf, size_t len);
int uboot_ram_write(struct uboot *u, uint32_t addr, const void *buf, size_t len);
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
