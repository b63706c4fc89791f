/* fuzz-sdp_session: the daemon's SDP session machine (src/daemon/
 * sdp_session.c, session.c: the HID setup, data reports queued on EP0 or
 * the interrupt OUT endpoint, retries of timed-out transfers, the reads
 * after JUMP_ADDRESS, the SPL flavour) over the test stand-in for usb.h
 * (tests/unit/fake_usb.c), against an i.MX6 boot ROM (or U-Boot SPL's
 * f_sdp) whose every answer comes from the input. fuzz-sdp covers the sdp
 * core's machine alone; this target covers the I/O shell around it.
 *
 * Input: 4 header bytes, then the board's answers.
 *  h[0] bits 0-1, the plan: 0 ROM "status; boot"; 1 ROM "dcd; write;
 *       write -addr (a raw file, -offset); delay 0; jump; done"; 2 and 3
 *       SPL "SDPU: write, jump; SDPV: delay 0, write, jump" run as SDPU
 *       (2) or SDPV (3); each plan ends with an FB line.
 *       bit 2: read the UID; bit 3: the SoC skips the DCD (SKIP_DCD_HEADER);
 *       bit 4: reports on an interrupt OUT endpoint; bit 5: usbhid was
 *       detached (no report descriptor, no SET_IDLE); bits 6-7: data
 *       reports in flight 1, 2, 4 or 16.
 *  h[1] bits 4-5: the events free the session at the (h[1] & 15)-th
 *       progress() (1), step() (2), or at done() (3).
 *  h[2] bit 7: a submit fails after h[2] & 63 submits (bit 6: -EIO, else
 *       -ENODEV).
 *  h[3] bit 0: the i.MX image has a DCD; bit 1: its IVT at 0x400; bit 2:
 *       boot/jump -cleardcd; bit 3: a data report may be held (below).
 *  Each OUT (SET_IDLE, report 1 or 2) and the report descriptor's GET
 *  take one byte c: c < 0xC0 taken; 0xC0-0xDF short (c & 31 bytes);
 *  0xE0-0xEF a -errno status (EPIPE, ETIMEDOUT, EIO, EOVERFLOW, ENODEV,
 *  EPROTO, ...); 0xF0-0xF7 timed out: with h[3] bit 3 a data report is
 *  held (once per run; its 1 ms timeout, a real timer, ends it while the
 *  others in flight go on; the bit keeps such runs rare, as they wait),
 *  anything else is -ETIMEDOUT at once (the only transfer in flight: the
 *  same callback, without the wait); 0xF8-0xFF the board unplugged.
 *  Each interrupt IN read takes one byte c; c & 15 picks: report 3 HAB
 *  open / closed; report 4 WRITE_FILE_OK, WRITE_OK, SKIP_DCD_OK, IDLE;
 *  report 4 / report 3 with 4 input bytes as the word; raw bytes (length
 *  byte, then bytes); report 4 + word of (next byte % 66) bytes; a -errno
 *  status; -ETIMEDOUT; unplugged; the ROM's error word to a bad JUMP; -EPIPE;
 *  what a good ROM answers next (report 3 then 4 after a command or the
 *  last data report, report 3 then gone after JUMP_ADDRESS).
 *  The input running out is the board unplugged, so every run ends.
 *
 * Invariants (abort, or a cmocka assertion of fake_usb / session_rec,
 * which exits): the loop runs dry; done() exactly once (never inside
 * *_start) unless the session was freed before; success only with a
 * JUMP_ADDRESS the board took, and with next_step at the FB line (or the
 * end after "done"); reports 1 are 17 bytes, reports 2 1025, only on the
 * one path the session chose, never more data than a command announced,
 * never a command in the middle of one's data; progress never passes its
 * total; no transfer, event or plan left afterwards. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "../data/imx/imx-builder.h"
#include "daemon/session.h"
#include "../unit/fake_plan.h"
#include "fz_input.h"
#include "../unit/fake_usb.h"
#include "../unit/session_rec.h"
#include "flashd/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TIMEOUT_MS 1u
#define FZ_SELF 0x17800400u
#define FZ_INT_OUT 0x01u
#define FZ_RAW_SIZE 5000u

enum fz_reply {
	FZ_R3_OPEN, FZ_R3_CLOSED, FZ_R4_WRITE_FILE, FZ_R4_WRITE, FZ_R4_SKIP_DCD, FZ_R4_IDLE,
	FZ_R4_WORD, FZ_R3_WORD, FZ_RAW, FZ_R4_SHORT, FZ_ERROR, FZ_TIMEOUT, FZ_UNPLUG,
	FZ_R4_JUMP_ERROR, FZ_PIPE, FZ_GOOD,
};

struct fz_rom {
	struct usb_dev *dev;
	struct fz_input in;         /* the board's answers */
	bool may_hold;             /* a data report may be held (h[3] bit 3) */
	unsigned holds;
	bool spl;
	uint32_t rx_left;          /* data bytes the last WRITE_FILE/DCD_WRITE announced */
	uint32_t rx_ok;            /* its status word once they are in */
	uint8_t qid[2];            /* what a good ROM sends next: report id, word */
	uint32_t queue[2];
	unsigned qn, qhead;
	bool jumped;               /* it took a JUMP_ADDRESS */
	unsigned reports;          /* reports 1 and 2 taken or refused */
};

/* ---- images (built once) ---- */

static uint8_t *fz_imx[4], fz_raw[FZ_RAW_SIZE];
static struct plan_image fz_img_imx[4], fz_img_raw;

static void fz_images(void)
{
	for (unsigned i = 0; i < 4; i++) {
		struct imxb_opts io = { .ivt_offset = i & 2 ? 0x400 : 0, .self = FZ_SELF,
					.payload = 1000, .dcd = i & 1 };
		fz_imx[i] = malloc(imxb_size(&io));
		if (!fz_imx[i])
			abort();
		imxb_build(fz_imx[i], &io);
		fake_plan_image(&fz_img_imx[i], "u-boot.imx", fz_imx[i], imxb_size(&io));
		if (!fz_img_imx[i].is_imx)
			abort();
	}
	for (size_t i = 0; i < sizeof(fz_raw); i++)
		fz_raw[i] = (uint8_t)(i * 7 + 1);
	fake_plan_image(&fz_img_raw, "flash.bin", fz_raw, sizeof(fz_raw));
}

static struct plan_step *fz_add(struct plan *p, enum plan_proto proto, enum plan_op op,
				const char *text, struct plan_image *img)
{
	struct plan_step *st = fake_plan_add(p, proto, op, text, NULL);

	st->runs_on_imx6 = true;
	st->image = img;
	return st;
}

static void fz_plan_rom(struct plan *p, unsigned variant, struct plan_image *img, bool cleardcd)
{
	struct plan_step *st;

	if (variant == 0) {
		fz_add(p, PLAN_PROTO_SDP, PLAN_OP_STATUS, "SDP: status", NULL);
		fz_add(p, PLAN_PROTO_SDP, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx", img)->cleardcd =
			cleardcd;
		return;
	}
	fz_add(p, PLAN_PROTO_SDP, PLAN_OP_DCD, "SDP: dcd -f u-boot.imx", img);
	fz_add(p, PLAN_PROTO_SDP, PLAN_OP_WRITE, "SDP: write -f u-boot.imx", img);
	st = fz_add(p, PLAN_PROTO_SDP, PLAN_OP_WRITE,
		    "SDP: write -f flash.bin -addr 0x17900000 -offset 16", &fz_img_raw);
	st->has_addr = true;
	st->addr = 0x17900000u;
	st->image_offset = 16;
	fz_add(p, PLAN_PROTO_SDP, PLAN_OP_DELAY, "SDP: delay 0", NULL);
	fz_add(p, PLAN_PROTO_SDP, PLAN_OP_JUMP, "SDP: jump -f u-boot.imx", img)->cleardcd = cleardcd;
	fz_add(p, PLAN_PROTO_SDP, PLAN_OP_DONE, "SDP: done", NULL);
}

static void fz_plan_spl(struct plan *p)
{
	struct plan_step *st;

	st = fz_add(p, PLAN_PROTO_SDPU, PLAN_OP_WRITE, "SDPU: write -f flash.bin -offset 0x400",
		    &fz_img_raw);
	st->image_offset = 0x400;
	st->image_len = 2000;
	fz_add(p, PLAN_PROTO_SDPU, PLAN_OP_JUMP, "SDPU: jump", NULL);
	fz_add(p, PLAN_PROTO_SDPV, PLAN_OP_DELAY, "SDPV: delay 0", NULL);
	st = fz_add(p, PLAN_PROTO_SDPV, PLAN_OP_WRITE, "SDPV: write -f flash.bin -skipspl",
		    &fz_img_raw);
	st->addr = 0x17900000u;
	st->image_len = 1500;
	fz_add(p, PLAN_PROTO_SDPV, PLAN_OP_JUMP, "SDPV: jump", NULL)->addr = 0x17900000u;
}

/* The plan of h[0] & 3; *stop = the index of its FB line (where a good run
 * stops), or the plan's end after "SDP: done". */
static struct plan *fz_plan(const uint8_t *h, size_t *stop)
{
	struct plan *p = fake_plan_new();
	unsigned variant = h[0] & 3u;

	if (variant < 2)
		fz_plan_rom(p, variant, &fz_img_imx[h[3] & 3], h[3] & 4);
	else
		fz_plan_spl(p);
	*stop = plan_n_steps(p);
	fake_plan_add(p, PLAN_PROTO_FB, PLAN_OP_UCMD, "FB: ucmd x", "UCmd:x");
	if (variant == 1)
		*stop = plan_n_steps(p);
	return p;
}

/* ---- the board ---- */

static int fz_unplug(struct fz_rom *r)
{
	fake_usb_unplug(r->dev);
	return -ENODEV;
}

/* One answer byte for a transfer of len bytes out (or a GET): 0 with
 * *actual, or a status. Only a data report is ever held (once per run,
 * and only when the header allows it). */
static int fz_take(struct fz_rom *r, size_t len, bool data, size_t *actual)
{
	int c = fz_in_byte(&r->in);

	if (c < 0 || c >= 0xF8)
		return fz_unplug(r);
	if (c >= 0xF0)
		return data && r->may_hold && !r->holds++ ? FAKE_HOLD : -ETIMEDOUT;
	if (c >= 0xE0)
		return fz_errors[c & 7];
	*actual = c >= 0xC0 && len ? (size_t)(c & 31) % len : len;
	return 0;
}

static void fz_queue(struct fz_rom *r, uint8_t id, uint32_t word)
{
	if (r->qn < 2) {
		r->qid[r->qn] = id;
		r->queue[r->qn++] = word;
	}
}

/* A command the board took (report 1: type, address, format, count). */
static void fz_command(struct fz_rom *r, const uint8_t *c)
{
	uint16_t type = (uint16_t)(c[0] << 8 | c[1]);
	uint32_t count = (uint32_t)c[7] << 24 | (uint32_t)c[8] << 16 | (uint32_t)c[9] << 8 | c[10];

	if (r->rx_left)
		abort(); /* a command in the middle of a write's data */
	r->qn = r->qhead = 0;
	if (r->spl && type != SDP_WRITE_FILE && type != SDP_JUMP_ADDRESS)
		abort(); /* protocols.md 2.9: only WRITE_FILE and JUMP to the SPL */
	fz_queue(r, 3, SDP_HAB_OPEN);
	switch (type) {
	case SDP_WRITE_FILE:
	case SDP_DCD_WRITE:
		r->rx_left = count;
		r->rx_ok = type == SDP_WRITE_FILE ? SDP_WRITE_FILE_OK : SDP_WRITE_OK;
		r->qn = 0;                /* the answer follows the data */
		break;
	case SDP_JUMP_ADDRESS:
		r->jumped = true;
		break;
	case SDP_SKIP_DCD_HEADER:
		fz_queue(r, 4, SDP_SKIP_DCD_OK);
		break;
	case SDP_READ_REGISTER:
		fz_queue(r, 4, 0x11223344u);
		break;
	default:
		fz_queue(r, 4, SDP_STATUS_IDLE);
		break;
	}
}

/* A report the session sent, taken whole. */
static void fz_report(struct fz_rom *r, const uint8_t *data)
{
	if (data[0] == 1) {
		fz_command(r, data + 1);
		return;
	}
	if (!r->rx_left)
		abort(); /* more data than the command announced */
	r->rx_left -= r->rx_left < SDP_DATA_PER_REPORT ? r->rx_left : SDP_DATA_PER_REPORT;
	if (!r->rx_left) {
		r->qn = r->qhead = 0;
		fz_queue(r, 3, SDP_HAB_OPEN);
		fz_queue(r, 4, r->rx_ok);
	}
}

static int fz_out(void *ud, const struct fake_setup *setup, uint8_t ep, const uint8_t *data,
		  size_t len, size_t *actual)
{
	struct fz_rom *r = ud;
	int st;

	(void)ep;
	if (!setup || setup->bm != 0x21 || setup->idx != 0)
		abort();
	if (setup->req == 0x0A) /* SET_IDLE */
		return len ? (abort(), 0) : fz_take(r, 0, false, actual);
	if (setup->req != 0x09 || !len || setup->val != (0x0200 | data[0]) ||
	    !((data[0] == 1 && len == SDP_REPORT1_LEN) || (data[0] == 2 && len == SDP_REPORT2_LEN)))
		abort(); /* SET_REPORT of a whole report 1 or 2 */
	r->reports++;
	st = fz_take(r, len, data[0] == 2, actual);
	if (st == 0 && *actual == len)
		fz_report(r, data);
	return st;
}

static size_t fz_report_word(uint8_t *buf, uint8_t id, uint32_t word, size_t n)
{
	memset(buf, 0, SDP_REPORT4_LEN);
	buf[0] = id;
	imxb_put_le32(buf + 1, word);
	return n;
}

/* What a good ROM answers next. */
static int fz_good(struct fz_rom *r, uint8_t *buf, size_t *actual)
{
	if (r->qhead < r->qn) {
		uint8_t id = r->qid[r->qhead];
		*actual = fz_report_word(buf, id, r->queue[r->qhead++],
					 id == 3 ? SDP_REPORT3_LEN : SDP_REPORT4_LEN);
		return 0;
	}
	return r->jumped ? fz_unplug(r) : -ETIMEDOUT;
}

static int fz_answer(struct fz_rom *r, int c, uint8_t *buf, size_t len, size_t *actual)
{
	int n;

	switch ((enum fz_reply)(c & 15)) {
	case FZ_R3_OPEN:
	case FZ_R3_CLOSED:
		*actual = fz_report_word(buf, 3, c & 1 ? SDP_HAB_CLOSED : SDP_HAB_OPEN,
					 SDP_REPORT3_LEN);
		return 0;
	case FZ_R4_WRITE_FILE:
	case FZ_R4_WRITE:
	case FZ_R4_SKIP_DCD:
	case FZ_R4_IDLE: {
		static const uint32_t w[] = { SDP_WRITE_FILE_OK, SDP_WRITE_OK, SDP_SKIP_DCD_OK,
					      SDP_STATUS_IDLE };
		*actual = fz_report_word(buf, 4, w[(c & 15) - FZ_R4_WRITE_FILE], SDP_REPORT4_LEN);
		return 0;
	}
	case FZ_R4_WORD:
		*actual = fz_report_word(buf, 4, fz_in_word(&r->in), SDP_REPORT4_LEN);
		return 0;
	case FZ_R3_WORD:
		*actual = fz_report_word(buf, 3, fz_in_word(&r->in), SDP_REPORT3_LEN);
		return 0;
	case FZ_RAW:
		fz_in_raw(&r->in, buf, len, actual);
		return 0;
	case FZ_R4_SHORT:
		n = fz_in_byte(&r->in);
		*actual = fz_report_word(buf, 4, fz_in_word(&r->in), (size_t)(n < 0 ? 0 : n % 66));
		return 0;
	case FZ_ERROR:
		return fz_errors[c >> 5];
	case FZ_TIMEOUT:
		return -ETIMEDOUT;
	case FZ_UNPLUG:
		return fz_unplug(r);
	case FZ_R4_JUMP_ERROR:
		*actual = fz_report_word(buf, 4, 0x000A0533u, SDP_REPORT4_LEN);
		return 0;
	case FZ_PIPE:
		return -EPIPE;
	case FZ_GOOD:
		break;
	}
	return fz_good(r, buf, actual);
}

static int fz_in(void *ud, uint8_t ep, uint8_t *buf, size_t len, size_t *actual)
{
	struct fz_rom *r = ud;
	int c = fz_in_byte(&r->in), st;

	if (ep != 0x81 || len < SDP_REPORT4_LEN)
		abort();
	if (c < 0)
		return fz_unplug(r);
	if ((c & 15) == FZ_GOOD)
		return fz_good(r, buf, actual);
	st = fz_answer(r, c, buf, len, actual);
	if (st == 0 && r->qhead < r->qn)
		r->qhead++; /* another answer took the good one's place */
	return st;
}

/* GET_DESCRIPTOR(HID report) to interface 0 */
static int fz_ctl_in(void *ud, const struct fake_setup *setup, uint8_t *buf, size_t len,
		     size_t *actual)
{
	struct fz_rom *r = ud;
	int st;

	if (setup->bm != 0x81 || setup->req != 0x06 || setup->val != 0x2200 || setup->idx)
		abort();
	st = fz_take(r, len < 76 ? len : 76, false, actual);
	if (st == 0)
		memset(buf, 0x06, *actual);
	return st;
}

static const struct fake_dev_ops fz_ops = { fz_out, fz_in, fz_ctl_in };

/* ---- the session ---- */

static void fz_rec_free(struct session_rec *r)
{
	r->sdp = sdp_session_free(r->sdp);
}

static size_t fz_rec_next(const struct session_rec *r)
{
	return sdp_session_next_step(r->sdp);
}

static const struct session_rec_ops fz_rec_ops = { fz_rec_free, fz_rec_next, NULL };

static void fz_options(const uint8_t *h, struct fz_rom *r, struct session_rec *rec,
		       struct session_opts *o)
{
	static const unsigned depth[] = { 1, 2, 4, 16 };

	o->read_uid = h[0] & 4;
	r->may_hold = h[3] & 8;
	o->sdp_reports = depth[h[0] >> 6];
	if (h[0] & 0x10)
		fake_usb_set_interrupt_out(r->dev, FZ_INT_OUT);
	if (h[0] & 0x20)
		fake_usb_set_claim_result(r->dev, 1);
	switch (h[1] >> 4 & 3) {
	case 1:
		rec->free_at_progress = h[1] & 15u;
		break;
	case 2:
		rec->free_at_step = h[1] & 15u;
		break;
	case 3:
		rec->free_at_done = true;
		break;
	}
	if (h[2] & 0x80)
		fake_usb_fail_submit(r->dev, h[2] & 63u, h[2] & 0x40 ? -EIO : -ENODEV);
}

static int fz_start(const uint8_t *h, struct fz_rom *r, struct plan *plan,
		    const struct session_opts *o, const struct session_events *ev,
		    struct session_rec *rec)
{
	static const struct sdp_soc soc[2] = {
		{ "MX6Q", 0x15a2, 0x0054, false, SDP_DCD_ADDR_MX6 },
		{ "MX7D", 0x15a2, 0x0076, true, SDP_DCD_ADDR_MX7D },
	};

	if ((h[0] & 3) < 2)
		return sdp_session_start(r->dev, &soc[h[0] >> 3 & 1], plan, 0, o, ev, &rec->sdp);
	r->spl = true;
	return sdp_session_start_spl(r->dev, (h[0] & 3) == 2 ? PLAN_PROTO_SDPU : PLAN_PROTO_SDPV,
				     plan, 0, o, ev, &rec->sdp);
}

/* After the loop ran dry. */
static void fz_check(const struct session_rec *rec, const struct fz_rom *r, size_t stop,
		     bool freed_early, bool int_out)
{
	const struct fake_stats *st = fake_usb_stats(r->dev);

	if (rec->ndone != (freed_early ? 0 : 1) || rec->status > 0)
		abort();
	if (rec->ndone && rec->status < 0 && !rec->reason[0])
		abort();
	if (rec->ndone && rec->status == 0 && (!r->jumped || rec->next_at_done != stop))
		abort();
	if (int_out ? st->int_out != r->reports : st->int_out != 0)
		abort(); /* reports on one path only */
	for (unsigned i = 1; i < rec->nsteps; i++)
		if (rec->steps[i] <= rec->steps[i - 1])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	struct fz_rom r = { .in = { data + 4, size > 4 ? size - 4 : 0 } };
	struct session_opts o = { .sdp_timeout_ms = FZ_TIMEOUT_MS };
	struct session_rec rec;
	struct session_events ev;
	struct plan *plan;
	size_t stop;

	if (size < 4)
		return 0;
	if (!base) {
		base = event_base_new();
		if (!base)
			abort();
		fz_images();
	}
	o.base = base;
	r.dev = fake_usb_new(base, &fz_ops, &r);
	plan = fz_plan(data, &stop);
	ev = session_rec_init(&rec, &fz_rec_ops);
	rec.strict_progress = true;
	fz_options(data, &r, &rec, &o);
	if (fz_start(data, &r, plan, &o, &ev, &rec) < 0 || rec.ndone)
		abort();
	event_base_dispatch(base);
	fz_check(&rec, &r, stop, !rec.sdp && !rec.ndone, data[0] & 0x10);
	session_rec_free(&rec);
	event_base_loop(base, EVLOOP_NONBLOCK);
	fake_usb_free(r.dev); /* fails while a transfer is live */
	plan_unref(plan);
	if (fake_plan_live || event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED))
		abort();
	return 0;
}
