/* opts: flashd-emu's command line (README.md lists every option) */
#ifndef EMU_OPTS_H
#define EMU_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "soc.h"

#define OPTS_MAX_ENV 64

enum opts_start { OPTS_START_ROM, OPTS_START_FASTBOOT };
enum opts_exit { OPTS_EXIT_NEVER, OPTS_EXIT_BOOTED, OPTS_EXIT_ROM };
enum opts_phase { OPTS_PHASE_NONE, OPTS_PHASE_ROM, OPTS_PHASE_FASTBOOT };
enum opts_stall { OPTS_STALL_NONE, OPTS_STALL_EP0, OPTS_STALL_IN, OPTS_STALL_OUT };

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
	const char *env[OPTS_MAX_ENV];
	size_t n_env;
	enum opts_exit exit_when;
	bool dram_check;
	uint64_t ram_cap;
	/* faults */
	uint64_t fault_byte;      /* 0: off */
	uint64_t fault_sdp_byte;  /* 0: off */
	unsigned fault_cmd;       /* 0: off */
	enum opts_phase fault_disconnect_in;
	enum opts_stall fault_stall;
	const char *fault_fail;
	bool fault_bad_status, fault_no_reenum;
	unsigned fault_delay_reply_ms;
	enum opts_phase fault_hang_in;
};

/* 0: parsed; 1: --help was printed; -EINVAL: ERR holds the message */
int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen);
void opts_usage(FILE *f);
/* the default --uid for a board name (FNV-1a 64 of the name) */
uint64_t opts_default_uid(const char *name);

#endif
