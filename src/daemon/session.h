/* session: the two I/O sessions that drive the sans-I/O protocol cores
 * (sdp upload, fastboot + sparse) over the async usb module, inside the
 * daemon's single event loop. No threads, no blocking calls.
 *
 * Lifetime: a session may be freed at any time (unplug, abort), also from
 * inside one of its own event callbacks. Freeing cancels every transfer in
 * flight; the session's memory stays alive as a "zombie" until the usb
 * module has run the callback of each of those transfers, and no event
 * callback is made after *_free(). done() is called exactly once, last,
 * unless the session is freed before it finishes; it is never called from
 * inside *_start().
 *
 * The caller opens the device; the session claims the interface it needs
 * (SDP: interface 0, detaching usbhid; fastboot: the interface with class
 * FASTBOOT_USB_CLASS/SUBCLASS/PROTOCOL, found with usb_dev_find_bulk) and never closes the device.
 *
 * Progress: SDP — image bytes acknowledged by the ROM (WRITE_FILE status
 * words) of the upload size. Fastboot flash/download — bytes of the image
 * file covered by completed bulk transfers (so zero runs turned into FILL
 * chunks count as done) of the image file size; progress() is called once
 * per completed transfer or acknowledged chunk, never per byte.
 *
 * info(): SDP "HAB open"/"HAB closed", "UID %016llx" (as soon as read),
 * "status 0x…" for `status`; fastboot INFO/TEXT lines and "<var>: <value>"
 * for `getvar`.
 *
 * Failures: done(-errno, "<step text>: <why>"): -EREMOTEIO the board said
 * FAIL (why = "FAIL<text>"), -EPROTO an unexpected reply or status word
 * (DATA size mismatch, error word after JUMP…), -EBADMSG a malformed reply,
 * -ETIMEDOUT, -ENODEV (unplugged), -EFBIG (download larger than
 * max-download-size), -EINVAL (a step the board cannot run: no image,
 * not an i.MX image…), -ENOMEM.
 *
 * Flow ends: SDP stops before the first step of another protocol (or at
 * the end; `SDP: done` makes next_step = plan_n_steps()); FB stops at
 * `FB: done`, the end of the plan or the first step of another protocol.
 * Lines with runs_on_imx6 == false are skipped. `FB: reboot` succeeds when
 * the command was sent and then either OKAY arrives or the reply read
 * fails (or cannot be submitted) because the board left (-ENODEV, -EIO,
 * -EPIPE); FAIL or a timeout fail it. After JUMP_ADDRESS a report-3 or
 * report-4 read failing (or failing to submit) with -ETIMEDOUT, -ENODEV,
 * -EIO or -EPIPE is the ROM running the image: success.
 *
 * SDP sessions (ROM and SPL) first fetch the HID report descriptor
 * (GET_DESCRIPTOR 0x22, interface 0) and send SET_IDLE, as usbhid does at
 * bind: U-Boot's f_sdp does not answer before the descriptor was fetched
 * (configuration_done); either failing (other than -ENODEV) is reported
 * with info() and the session goes on. A command (report 1) or a report-3/4
 * read that times out is tried again, up to SESSION_SDP_RETRIES more times
 * per transfer (uuu's HIDTrans: 2 attempts; imx_usb_loader: 5 for a
 * command), announced with info(); so is a data report when it was the only
 * one in flight (with more queued behind it, the ROM already got the later
 * ones: the step fails). Reads after JUMP_ADDRESS are never retried.
 *
 * Timeouts: SDP every transfer sdp_timeout_ms. FB: commands and data
 * transfers fb_cmd_timeout_ms; replies fb_cmd_timeout_ms, erase
 * fb_erase_timeout_ms, flash max(fb_flash_min_ms, bytes the board writes
 * for the piece (RAW + FILL expanded) / fb_flash_rate_kbps * 2); a step's
 * FB[-t MS] replaces the reply timeout of its commands. */
#ifndef FLASHD_SESSION_H
#define FLASHD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/usb.h"
#include "flashd/bussched.h"
#include "flashd/plan.h"

struct sdp_soc;
struct plan;
struct worker;

/* What a flash step wrote, and whether the board read it back
 * (fb_session.c, flashd-plan(5) "Verify"): one per flash step, when it
 * ends (verified or not) or when its read-back fails. */
struct session_region {
	size_t step_index;
	const char *part;          /* the partition flashed */
	uint64_t bytes;            /* bytes the board wrote (sparse: RAW + FILL, not DONT_CARE) */
	bool verify;               /* the read-back ran (or was running when it failed) */
	bool verified;             /* every piece matched */
	const char *method;        /* verify: "crc32" or "sha256" */
	const char *where;         /* verify: "part rootfs", "at 0x400", "mmc0boot0" */
	unsigned pieces;           /* verify: pieces read back and matched */
	uint64_t checked;          /* verify: bytes read back and matched */
	uint32_t crc32;            /* verify: CRC-32 of the matched bytes, in order */
	const char *why;           /* !verified: why ("verify off", "-no-verify", the failure) */
	uint64_t download_ms;      /* time in the step's downloads (command to data OKAY) */
	uint64_t flash_ms;         /* time in its flash commands (sent to OKAY) */
	uint64_t verify_ms;        /* verify: time in the read-back (to its end or failure) */
};

struct session_events {
	void *ud;
	void (*step)(void *ud, size_t step_index, const char *step_text);          /* a plan step starts */
	void (*progress)(void *ud, uint64_t bytes, uint64_t total);                 /* within the current step */
	void (*info)(void *ud, const char *text);                                    /* INFO/TEXT from the board, SDP HAB state … */
	void (*done)(void *ud, int status, const char *reason);                      /* 0 = all steps OK; else -errno + reason; called once, last */
	void (*region)(void *ud, const struct session_region *r);                  /* a flash step's region (may be NULL) */
	/* A step whose command holds ${pool:…} (plan_step.pool_vars): the
	 * command to send, with the board's values, into out; 0, or -errno with
	 * a static or ud-owned *why (the step fails). NULL: such a step fails. */
	int (*expand)(void *ud, const char *text, char *out, size_t outlen, const char **why);
	/* A download waits for its turn on the bus (waiting, with the bytes it
	 * asked for and the downloads ahead of it), or its turn came (!waiting;
	 * bytes and ahead 0). Never called with session_opts.bus NULL; may be NULL. */
	void (*bus_wait)(void *ud, bool waiting, uint64_t bytes, int ahead);
};
struct session_opts {
	unsigned sdp_timeout_ms, fb_cmd_timeout_ms, fb_flash_min_ms, fb_erase_timeout_ms;
	unsigned fb_flash_rate_kbps;   /* flash timeout = max(min, bytes/rate*2) */
	size_t xfer_size; unsigned xfers_in_flight; bool read_uid;
	unsigned sdp_reports;          /* SDP data reports queued on EP0 at once */
	/* read-back of flash steps (flashd.conf verify, verify-*): every flash
	 * step unless plan_step_verify_skipped; a step's -verify anyway */
	bool verify_all, verify_sha256;
	unsigned verify_mmc_dev;       /* U-Boot's mmc device of the eMMC */
	uint32_t verify_piece;         /* bytes read back at once (≤ max-download-size); 0: default */
	struct worker *digests;        /* computes the read-back digests; NULL: on the loop */
	/* the daemon's loop (required; delay
	 * steps and deferred completion use its timers) */
	struct event_base *base;
	/* bus scheduling (bussched.h; flashd.conf(5) "Bus scheduling"): each
	 * fastboot download of more than bus_small bytes asks bus for a slot
	 * on bus_key first, and sends
	 * nothing until it has one; the slot is given back at the download's
	 * OKAY, or when the session fails, ends or is freed. NULL: downloads
	 * never wait. The sessions of one scheduler pass grants on to each
	 * other (fb_session_bus_kick); it must outlive them. */
	struct bussched *bus;
	char bus_key[BUSSCHED_KEY_MAX];
	uint64_t bus_small;            /* with bus: downloads of ≤ this many bytes never wait */
	uint32_t bus_piece;            /* with bus: sparse pieces ≤ this; 0: max-download-size */
};
/* Used for a session_opts member that is 0 (xfer_size is rounded down to a
 * multiple of 512 and clamped to [512, SESSION_XFER_SIZE_MAX];
 * xfers_in_flight to [1, SESSION_XFERS_MAX]; sdp_reports to
 * [1, SESSION_SDP_REPORTS_MAX]). */
#define SESSION_SDP_TIMEOUT_MS 2000u
#define SESSION_FB_CMD_TIMEOUT_MS 10000u
#define SESSION_FB_FLASH_MIN_MS 10000u
#define SESSION_FB_ERASE_TIMEOUT_MS 120000u
#define SESSION_FB_FLASH_RATE_KBPS 5000u
#define SESSION_XFER_SIZE (256u * 1024u)   /* 4 in flight = 1 MiB per board: 16 boards fit usbfs_memory_mb=16 */
#define SESSION_XFER_SIZE_MAX (16u * 1024u * 1024u)
#define SESSION_XFERS_IN_FLIGHT 4u
#define SESSION_XFERS_MAX 32u
#define SESSION_SDP_REPORTS 4u
#define SESSION_SDP_REPORTS_MAX 16u
#define SESSION_VERIFY_PIECE (8u << 20)
#define SESSION_SDP_RETRIES 2u         /* more tries of a timed-out SDP transfer */
struct sdp_session; struct fb_session;
/* Runs the plan's SDP steps (boot/dcd/write/jump/delay/done…, i.MX6 only) starting at step `first`.
 * `*next_step` in done(): index of the first FB step. UID (if read) via sdp_session_uid(). */
int sdp_session_start(struct usb_dev *dev, const struct sdp_soc *soc, struct plan *plan, size_t first,
		      const struct session_opts *o, const struct session_events *ev, struct sdp_session **out);
/* The same against U-Boot SPL's SDP gadget (protocols.md §2.9): runs the
 * plan's lines of flavour (PLAN_PROTO_SDPU or PLAN_PROTO_SDPV) from `first`,
 * passing over the other flavour's lines (uuu runs a line when a device of
 * its protocol is on the port), until the first line of another protocol.
 * write: one WRITE_FILE of the step's [image_offset, +image_len) to addr
 * (0 as given: the SPL's CONFIG_SDP_LOADADDR); jump: JUMP_ADDRESS addr;
 * delay, done. No UID reads; never DCD_WRITE, WRITE_REGISTER, SKIP_DCD.
 * -EINVAL for another flavour. */
int sdp_session_start_spl(struct usb_dev *dev, enum plan_proto flavour, struct plan *plan, size_t first,
			  const struct session_opts *o, const struct session_events *ev,
			  struct sdp_session **out);
bool sdp_session_uid(const struct sdp_session *s, uint64_t *uid);
size_t sdp_session_next_step(const struct sdp_session *s);
struct sdp_session *sdp_session_free(struct sdp_session *s);     /* cancels; no callbacks after free */
/* Runs the plan's FB steps starting at `first` (getvar max-download-size first, then each step). */
int fb_session_start(struct usb_dev *dev, struct plan *plan, size_t first,
		     const struct session_opts *o, const struct session_events *ev, struct fb_session **out);
uint64_t fb_session_bytes(const struct fb_session *s);           /* image bytes sent so far (all steps) */
/* added: the step the FB flow stopped at (a done step, the first step of
 * another protocol, or plan_n_steps()); valid in and after done(). */
size_t fb_session_next_step(const struct fb_session *s);
struct fb_session *fb_session_free(struct fb_session *s);
/* Hand out the grants bus holds (every handle in a scheduler given to
 * fb sessions is an fb_session): after bussched_set_cfg. Each granted
 * session sends its download from its own event. */
void fb_session_bus_kick(struct bussched *bus);

#endif
