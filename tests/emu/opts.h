/* opts: flashd-emu's command line (README.md lists every option) */
#ifndef EMU_OPTS_H
#define EMU_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "soc.h"

#define OPTS_MAX_ENV 64
#define OPTS_MAX_NO_CMD 16 /* UBOOT_MAX_NO_CMD */

enum opts_start { OPTS_START_ROM, OPTS_START_FASTBOOT };
enum opts_exit { OPTS_EXIT_NEVER, OPTS_EXIT_BOOTED, OPTS_EXIT_ROM };
enum opts_phase { OPTS_PHASE_NONE, OPTS_PHASE_ROM, OPTS_PHASE_FASTBOOT, OPTS_PHASE_SPL };
/* the U-Boot build that runs after the ROM/SPL: README.md "U-Boot personalities" */
enum opts_uboot { OPTS_UBOOT_FLASHD, OPTS_UBOOT_MAINLINE, OPTS_UBOOT_NXP };
enum opts_stall { OPTS_STALL_NONE, OPTS_STALL_EP0, OPTS_STALL_IN, OPTS_STALL_OUT };
/* --unplug-at WHEN:WHERE:N (unplug.c): which command or re-enumeration, and when in it */
enum opts_unplug_where {
	OPTS_UNPLUG_NONE, OPTS_UNPLUG_ROM, OPTS_UNPLUG_SPL, OPTS_UNPLUG_FB, OPTS_UNPLUG_REENUM,
	_OPTS_UNPLUG_WHERE_MAX,
};
enum opts_unplug_when {
	OPTS_UNPLUG_BEFORE, OPTS_UNPLUG_MIDDLE, OPTS_UNPLUG_AFTER, _OPTS_UNPLUG_WHEN_MAX,
};

struct opts {
	const char *udc, *name, *log, *emmc;
	const struct soc_info *soc;
	uint64_t uid;
	uint64_t emmc_size;
	enum opts_start start;
	unsigned reenum_delay_ms;
	uint16_t fb_vid, fb_pid;
	uint32_t max_download;
	bool hab_closed, offset_names, runtime_gadget;
	unsigned emmc_mbps;
	unsigned link_mbps;   /* fastboot data taken at most this fast (MB/s), 0: no limit */
	/* --bus-group NAME --bus-mbps N: one pacing budget for every board of the group
	 * (bus.h); NULL: the board has its bus to itself */
	const char *bus_group;
	unsigned bus_mbps;
	const char *env[OPTS_MAX_ENV];
	size_t n_env;
	enum opts_exit exit_when;
	/* U-Boot SPL (spl.c) and the personality of U-Boot proper */
	uint16_t spl_vid, spl_pid, spl_bcd;
	uint32_t sdp_loadaddr;
	uint32_t spl_uboot_sector;   /* CONFIG_SYS_MMCSD_RAW_MODE_U_BOOT_SECTOR */
	enum opts_uboot uboot;
	int uuu_support;             /* CONFIG_FASTBOOT_UUU_SUPPORT; -1: the personality's */
	uint32_t env_offset, env_size; /* CONFIG_ENV_OFFSET, CONFIG_ENV_SIZE */
	bool dram_check;
	uint64_t ram_cap;
	/* the U-Boot build's commands: --uboot-no-verify, --uboot-no-cmd NAME */
	bool uboot_no_verify;
	const char *uboot_no_cmd[OPTS_MAX_NO_CMD];
	size_t n_uboot_no_cmd;
	/* faults */
	uint64_t fault_byte;      /* 0: off */
	uint64_t fault_sdp_byte;  /* 0: off */
	bool fault_bitflip;       /* --fault-emmc-bitflip OFFSET */
	uint64_t fault_bitflip_off;
	unsigned fault_cmd;       /* 0: off */
	enum opts_phase fault_disconnect_in;
	enum opts_stall fault_stall;
	const char *fault_fail;
	bool fault_bad_status, fault_no_reenum;
	unsigned fault_delay_reply_ms;
	enum opts_phase fault_hang_in;
	enum opts_phase fault_garbage; /* replies of that phase are garbage */
	/* power cut (unplug.c) */
	enum opts_unplug_where unplug_where; /* OPTS_UNPLUG_NONE: off */
	enum opts_unplug_when unplug_when;
	unsigned unplug_n;                   /* 1-based */
	unsigned replug_ms;                  /* 0: stays unplugged until a signal */
};

/* 0: parsed; 1: --help was printed; -EINVAL: ERR holds the message */
int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen);
void opts_usage(FILE *f);
const char *opts_uboot_to_string(enum opts_uboot u);
const char *opts_unplug_where_to_string(enum opts_unplug_where w);
const char *opts_unplug_when_to_string(enum opts_unplug_when w);
/* the default --uid for a board name (FNV-1a 64 of the name) */
uint64_t opts_default_uid(const char *name);

#endif
