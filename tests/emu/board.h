/* board: one emulated board through its life (protocols.md §7, issue 3):
 * boot ROM (romusb.c) → jump → re-enumeration as U-Boot fastboot (fbusb.c) →
 * reboot → boot from eMMC (boot.c): booted, or back to the ROM. Each phase is
 * one USB session: gadget identity set, FunctionFS opened, UDC bound, one
 * poll() loop over ep0, transfer completions, signals and a timer; the session
 * ends by unbinding the UDC (the host sees a disconnect). */
#ifndef EMU_BOARD_H
#define EMU_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "emmc.h"
#include "fb.h"
#include "ffs.h"
#include "gadget.h"
#include "log.h"
#include "opts.h"
#include "rom.h"
#include "spl.h"
#include "uboot.h"

#define BOARD_DL_REQS 4
#define BOARD_DL_CHUNK (2u << 20)
#define BOARD_DL_CHUNK_MIN (16u << 10)
#define BOARD_REPLY_RING 32
/* dummy_hcd completes an IN request of <= 64 bytes as soon as it is queued (its
 * emulated FIFO), before the host read it: a board that leaves the bus right after
 * its last reply waits this long first, so the host gets the reply */
#define BOARD_DRAIN_MS 300

enum board_phase {
	BOARD_PHASE_ROM,
	BOARD_PHASE_JUMP,
	BOARD_PHASE_SPL,      /* U-Boot SPL's SDP gadget (the ROM jumped to an SPL) */
	BOARD_PHASE_SPL_JUMP, /* SPL jumped to U-Boot proper */
	BOARD_PHASE_REENUM,
	BOARD_PHASE_FASTBOOT,
	BOARD_PHASE_REBOOT,
	BOARD_PHASE_BOOTED,
	BOARD_PHASE_OFF,
	BOARD_PHASE_UNPLUGGED, /* --unplug-at: no power until --replug-after (unplug.c) */
};

enum board_end {
	BOARD_END_NONE,
	BOARD_END_SIGNAL,   /* SIGTERM/SIGINT */
	BOARD_END_JUMP,     /* the ROM jumped to a valid image */
	BOARD_END_RESET,    /* U-Boot resets (reboot, ACmd/UCmd reset, boot) */
	BOARD_END_CONTINUE, /* fastboot continue: U-Boot boots on */
	BOARD_END_FAULT,    /* injected disconnect */
	BOARD_END_UNPLUG,   /* --unplug-at: the power is cut (unplug.c) */
	BOARD_END_ERROR,
};

/* transfer tags: kind in the low byte, an index above */
enum board_tag {
	BOARD_TAG_ROM_IN = 1,
	BOARD_TAG_FB_CMD,
	BOARD_TAG_FB_DATA,
	BOARD_TAG_FB_REPLY,
	BOARD_TAG_SPL_IN,
	BOARD_TAG_SPL_OUT,
};

struct board;

struct board_ops {
	void (*enable)(struct board *b);
	void (*disable)(struct board *b);
	void (*setup)(struct board *b, const struct usb_ctrlrequest *req);
	void (*io)(struct board *b, uint64_t tag, long res);
	void (*timer)(struct board *b);
};

struct board_dl {
	size_t at, len;
	long res;
	bool done;
};

struct board {
	const struct opts *o;
	struct log *log;
	struct emmc *emmc;
	struct rom *rom;
	struct spl *spl;
	struct uboot *uboot;
	struct fb *fb;
	struct gadget *gadget;
	struct ffs *ffs;
	struct bus *bus;    /* --bus-group, or NULL */
	uint64_t bus_bytes; /* this board's bytes on the group's bus */
	int sigfd, timerfd;
	bool terminate;
	enum board_phase phase;
	/* the current session */
	enum board_end end;
	const char *end_reason;
	bool enabled, hung, first_seen;
	bool hang_sdp; /* --fault-hang-in rom: hang at the first SDP report */
	bool fault_disc_done, fault_byte_done, fault_cmd_done, fault_sdp_byte_done;
	uint64_t sdp_data_total;   /* SDP report-2 payload bytes taken so far (all sessions) */
	uint64_t dl_total;
	uint64_t link_busy_until_ns; /* --link-mbps: the data taken so far is drained then */
	bool link_next_ready;        /* a completion was waiting when the throttle woke up */
	/* ROM: the report on the interrupt IN endpoint */
	uint8_t rom_in[ROM_REPORT4_LEN];
	bool rom_in_busy;
	/* SPL: the IN report and the OUT request (f_sdp.c in_req / out_req) */
	uint8_t spl_in[SPL_REPORT_IN_LEN];
	uint8_t spl_out[SPL_OUT_REQ_LEN];
	bool spl_in_busy, spl_out_busy;
	/* fastboot: the command request, download requests, replies */
	uint8_t fb_cmd[FB_EP_BUFFER];
	bool fb_cmd_busy;
	struct board_dl dl[BOARD_DL_REQS];
	unsigned dl_head, dl_n;
	uint64_t dl_queued; /* bytes requested and not yet completed */
	size_t dl_chunk;    /* request size; halved when the kernel lacks memory */
	struct fb_out out;
	unsigned out_pending;
	enum fb_after after;
	enum board_end drain_end; /* leave the bus when the drain timer fires */
	const char *drain_why;
	char reply[BOARD_REPLY_RING][FBRESP_LEN];
	unsigned reply_next;
	bool delay_logged;
	/* --unplug-at (unplug.c) */
	unsigned unplug_count;        /* commands (or re-enumerations) of its kind so far */
	bool unplug_armed, unplug_done;
	uint64_t unplug_got, unplug_total; /* data of the armed command */
};

/* set up everything outside the USB sessions; -errno */
int board_new(const struct opts *o, struct log *log, struct board **out);
struct board *board_free(struct board *b);
/* run until a signal or --exit-when; the process exit status */
int board_run(struct board *b);

/* for the phase modules */
const char *board_phase_to_string(enum board_phase p);
void board_set_phase(struct board *b, enum board_phase p);
void board_end(struct board *b, enum board_end end, const char *why);
/* sleep, but wake up (and mark terminate) on SIGTERM/SIGINT */
void board_sleep_ms(struct board *b, uint64_t ms);
void board_sleep_ns(void *ctx, uint64_t ns);
/* one-shot timer for the current session (0 disarms) */
void board_timer(struct board *b, unsigned ms);
/* Stall a control request nobody answers, logged as "usb-setup-stalled". */
void board_setup_stall(struct board *b, const struct usb_ctrlrequest *req);
/* Wait up to timeout_ms for transfer completions and hand them to ops->io
 * (IN ones first). */
void board_reap_wait(struct board *b, const struct board_ops *ops, unsigned timeout_ms);
void board_fault(struct board *b, const char *fault);
/* --bus-group: BYTES the board took over USB hold the shared bus for their slot
 * (bus.h); the board sleeps until the slot ends. Nothing without a group. */
void board_bus_take(struct board *b, uint64_t bytes);
/* reserve the slot of BYTES at NOW without sleeping: its end, 0 without a group */
uint64_t board_bus_reserve(struct board *b, uint64_t bytes, uint64_t now);
/* the "bus" event: the group's totals (bus_stats) at AT ("download-done", "exit") */
void board_bus_log(struct board *b, const char *at);

extern const struct board_ops romusb_ops;
extern const struct board_ops fbusb_ops;
extern const struct board_ops runtime_ops;
extern const struct board_ops splusb_ops;

#endif
