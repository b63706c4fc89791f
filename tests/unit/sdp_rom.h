/* sdp_rom: a scripted i.MX6 boot ROM (HID SDP) for test-sdp_session, on
 * top of fake_usb: SET_REPORT commands and data, report 3/4 answers, a
 * DRAM window and a DCD store, IVT checks at JUMP. Faults: HAB closed,
 * wrong status words, a bad report 3, silence, a disconnect, JUMP errors,
 * and what happens after a good JUMP (silence, disconnect, stall). */
#ifndef FLASHD_TEST_SDP_ROM_H
#define FLASHD_TEST_SDP_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_usb.h"

#define DRAM_BASE 0x17000000u
#define DRAM_SIZE (16u << 20)
#define SPL_LOADADDR (DRAM_BASE + 0x100000u)  /* f_sdp's CONFIG_SDP_LOADADDR */

enum jump_mode {
	JUMP_HOLD,     /* no report 4: the read times out */
	JUMP_UNPLUG,   /* the device leaves */
	JUMP_PIPE,     /* the endpoint stalls */
};

struct cmdlog {
	uint16_t type;
	uint32_t addr, count;
	uint8_t format;
};

struct rom {
	struct usb_dev *dev;
	/* script */
	bool hab_closed;
	enum jump_mode jump_mode;
	bool jump_error;          /* answer JUMP with an error word */
	bool jump_no_hab;         /* a good JUMP gets no report 3 either */
	bool jump_gone_at_submit; /* after a good JUMP (and its report 3, if any)
				   * the next transfer cannot even be submitted:
				   * -ENODEV from the submit call */
	uint16_t bad_status_for;  /* command answered with a wrong status word */
	unsigned hold_after;      /* stop answering after this many control OUTs (0 = never) */
	unsigned unplug_after;    /* leave after this many control OUTs (0 = never) */
	bool bad_report3;
	uint32_t status_word;     /* ERROR_STATUS reply */
	size_t status_len;        /* report 4 length (0 = 65) */
	bool spl;                 /* U-Boot SPL's f_sdp: reports only after the HID
				   * report descriptor was fetched (configuration_done);
				   * WRITE_FILE to 0 = SPL_LOADADDR; JUMP: report 3, then
				   * the jump_mode (never an IVT check) */
	bool stall_ctl_in;        /* GET_DESCRIPTOR stalls (-EPIPE) */
	unsigned hold_cmds;       /* the next n report-1 commands time out (-ETIMEDOUT) unseen */
	unsigned hold_reads;      /* the next n reads of a report time out */
	unsigned hold_data;       /* the next n data reports time out unseen … */
	unsigned hold_data_skip;  /* … after this many more went through */
	/* state */
	unsigned desc_fetches, idles;
	bool desc_before_cmd;     /* the descriptor was fetched before report 1 */
	unsigned outs;
	bool rx;
	uint16_t rx_type;
	uint32_t rx_addr, rx_left;
	bool jumped;
	uint32_t jump_addr;
	bool skip_dcd_seen;
	uint8_t reports[8][65];
	size_t rlen[8];
	unsigned rhead, rtail;
	struct cmdlog log[64];
	unsigned nlog;
	uint8_t *dram;
	uint8_t dcd[2048];
	uint32_t dcd_addr, dcd_len;
};

extern const struct fake_dev_ops rom_ops;
uint32_t rom_rdle32(const uint8_t *p);
/* DRAM at addr (len bytes must fit the window). */
uint8_t *rom_ram(struct rom *r, uint32_t addr, uint32_t len);

#endif
