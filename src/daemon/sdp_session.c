/* sdp_session: runs a plan's SDP steps against an i.MX6/7 boot ROM (HID)
 * over the async usb module, on the daemon's event loop.
 *
 * The ROM is request/response: report 1 (a command) and report 2 (data) as
 * SET_REPORT on EP0, report 3/4 as interrupt IN reads on 0x81, each with
 * sdp_timeout_ms. A command or a read is the only transfer in flight. The
 * data reports of a write are queued on EP0 up to sdp_reports at a time: the
 * host controller runs control transfers of one endpoint one after the
 * other, so the ROM sees the same sequence, without the event loop's round
 * trip between two reports; a data report depends on nothing the ROM says.
 * The machine is told a data report was sent when it is submitted; one that
 * fails fails the step (as it would have one at a time), and the reads after
 * the data wait until every data report completed. What to send and how to
 * read the answers comes from the sdp core's machine (sans I/O):
 *  - `boot` uses its upload sequence (uid → dcd → write → clear dcd →
 *    jump);
 *  - `dcd`, `write`, `jump` and `status` run the short command list the
 *    step spells out (sdp_upload_new_commands).
 * After JUMP_ADDRESS a timeout/-ENODEV/-EIO/-EPIPE on the report-3 or
 * report-4 read (also when submitting it) is the board leaving to run the
 * image: success.
 *
 * Before the first step, when no kernel driver had the interface (usbhid
 * told to ignore the device, or no usbhid): GET_DESCRIPTOR(HID report) and
 * SET_IDLE on EP0, what usbhid does at bind and U-Boot's f_sdp waits for
 * (its sdp_init() loops until the descriptor was fetched:
 * configuration_done). When flashd detached usbhid, usbhid did both. Timed-out
 * transfers are tried again (session.h). The SPL flavour
 * (sdp_session_start_spl) runs SDPU/SDPV write/jump lines with the sdp
 * core's SPL machine (sdp_upload_new_spl). Reports 1 and 2 go to the
 * interface's interrupt OUT endpoint when it has one, as uuu's HIDTrans does
 * (U-Boot's f_sdp has one: its rx path takes every report there, and a
 * control transfer per 1 KiB report made SPL uploads several times slower
 * than uuu's on the bed), else as SET_REPORT on EP0 (the i.MX6/7 boot ROM
 * has no OUT endpoint). One path per session, never both: f_sdp turns its
 * OUT endpoint off once a report arrives on EP0, and one endpoint keeps the
 * pipelined data reports in order.
 *
 * Lifetime, the walk over the steps, delays: session.c (session_priv.h). */
#include "daemon/session_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "flashd/imx_image.h"
#include "flashd/plan.h"
#include "flashd/sdp.h"

#define SDP_EP_IN 0x81u
#define SDP_HID_SET_REPORT 0x09u
#define SDP_HID_OUT 0x21u          /* class request to the interface, host to device */
#define SDP_READ_BUF 128u          /* ≥ 65 */
#define SDP_REPORT_DATA 2u
#define SDP_HID_IN 0x81u           /* standard request to the interface, device to host */
#define SDP_GET_DESCRIPTOR 0x06u
#define SDP_DT_HID_REPORT 0x22u
#define SDP_HID_SET_IDLE 0x0Au

struct sdp_session;
struct sdp_data_slot {             /* a data report in flight */
	struct sdp_session *s;
	struct usb_xfer *x;
	uint64_t seq;                  /* submission order */
	uint8_t report[SDP_REPORT2_LEN]; /* kept for a retry */
};

enum sdp_prep {                    /* before the first step */
	SDP_PREP_DESCRIPTOR,
	SDP_PREP_IDLE,
	SDP_PREP_DONE,
};

struct sdp_session {
	struct session b;              /* first */
	bool soc_skip_dcd;
	uint32_t soc_dcd_addr;
	struct usb_xfer *x;            /* the command or read in flight */
	bool sending;                  /* x is a SEND … */
	size_t io_len;                 /* … of this many bytes */
	bool after_jump;               /* x is a read after JUMP_ADDRESS */
	unsigned retries;              /* of the transfer in x (or the data report) */
	struct sdp_data_slot data[SESSION_SDP_REPORTS_MAX];
	unsigned ndata, data_depth;    /* data reports in flight, at most */
	uint64_t data_seq;             /* of the last data report submitted */
	bool spl;                      /* U-Boot SPL's f_sdp, not the ROM */
	uint8_t ep_out;                /* interrupt OUT endpoint for reports; 0: EP0 */
	uint8_t obuf[SDP_REPORT2_LEN]; /* the command or report in x (interrupt OUT) */
	enum sdp_prep prep;
	uint8_t rbuf[SDP_READ_BUF];
	struct sdp_upload *up;         /* the step's machine */
	struct sdp_command cmds[SDP_COMMANDS_MAX]; /* the step's command list */
	size_t ncmds;
	uint64_t last_done;
	bool uid_tried, uid_read, hab_reported;
	uint64_t uid;
	uint8_t hdr[IMX_HEADER_BLOCK]; /* jump: the IVT block with dcd = 0 */
};

static void sdp_io(struct sdp_session *s);

static void sdp_fail_step(struct sdp_session *s, int err)
{
	const char *e = sdp_upload_error(s->up);

	session_fail(&s->b, err, "%s", e && *e ? e : "failed");
}

/* A step that fails before (or instead of) its machine. */
__attribute__((format(printf, 3, 4)))
static void sdp_fail(struct sdp_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	s->up = sdp_upload_free(s->up);
	va_start(ap, fmt);
	session_failv(&s->b, err, fmt, ap);
	va_end(ap);
}

/* ---- I/O ---- */

/* After the engine moved: the UID as soon as it was read, the HAB state
 * (known from the first report 3), progress. false if the session was
 * freed meanwhile. */
static bool sdp_after_io(struct sdp_session *s, bool fed)
{
	uint64_t done = sdp_upload_bytes_done(s->up);
	char line[64];

	if (fed && !s->uid_read && sdp_upload_uid(s->up, &s->uid)) {
		s->uid_read = true;
		snprintf(line, sizeof(line), "UID %016llx", (unsigned long long)s->uid);
		if (!session_info(&s->b, line))
			return false;
	}
	if (fed && !s->hab_reported) {
		s->hab_reported = true;
		if (!session_info(&s->b, sdp_upload_hab_closed(s->up) ? "HAB closed" : "HAB open"))
			return false;
	}
	if (done != s->last_done) {
		s->last_done = done;
		return session_progress(&s->b, done, sdp_upload_bytes_total(s->up));
	}
	return true;
}

/* Count and announce a retry; false if the session was freed meanwhile. */
static bool sdp_retry_info(struct sdp_session *s, const char *what)
{
	char line[160];

	s->retries++;
	snprintf(line, sizeof(line), "%s: %s timed out, trying again (%u of %u)",
		 sdp_upload_step(s->up), what, s->retries, SESSION_SDP_RETRIES);
	return session_info(&s->b, line);
}

static void sdp_xfer_cb(void *ud, int status, size_t actual)
{
	struct sdp_session *s = ud;
	int r;

	s->x = NULL;
	session_xfer_enter(&s->b);
	if (!session_active(&s->b))
		goto out;
	if (status == -ECANCELED) /* not ours: the device was closed */
		status = -ENODEV;
	if (status == 0 && s->sending && actual != s->io_len)
		status = -EIO;
	if (status == -ETIMEDOUT && !s->after_jump && s->retries < SESSION_SDP_RETRIES) {
		/* the machine has not moved: sdp_io asks for the same transfer */
		if (sdp_retry_info(s, s->sending ? "command" : "read"))
			sdp_io(s);
		goto out;
	}
	s->retries = 0;
	if (status < 0)
		r = sdp_upload_feed_error(s->up, status);
	else
		r = s->sending ? sdp_upload_sent(s->up) : sdp_upload_feed(s->up, s->rbuf, actual);
	if (r < 0)
		sdp_fail_step(s, r);
	else if (sdp_after_io(s, !s->sending && status == 0))
		sdp_io(s);
out:
	session_leave(&s->b);
}

static void sdp_data_cb(void *ud, int status, size_t actual);

/* A report to the device (report ID in buf[0]): on the interrupt OUT
 * endpoint when there is one (buf stays valid until cb ran), else as
 * SET_REPORT on EP0 (copied). */
static int sdp_report_out(struct sdp_session *s, const uint8_t *buf, size_t len, usb_cb cb,
			  void *ud, struct usb_xfer **x)
{
	if (s->ep_out)
		return usb_interrupt_out(s->b.dev, s->ep_out, buf, len, s->b.o.sdp_timeout_ms, cb,
					 ud, x);
	return usb_control_out(s->b.dev, SDP_HID_OUT, SDP_HID_SET_REPORT,
			       (uint16_t)(0x0200 | buf[0]), 0, buf, len, s->b.o.sdp_timeout_ms, cb,
			       ud, x);
}

/* Put the slot's report on its way. false: the step failed. */
static bool sdp_data_submit(struct sdp_session *s, struct sdp_data_slot *sl)
{
	int r = sdp_report_out(s, sl->report, SDP_REPORT2_LEN, sdp_data_cb, sl, &sl->x);

	if (r < 0) {
		session_fail(&s->b, r, "%s: data report: %s", sdp_upload_step(s->up), strerror(-r));
		return false;
	}
	s->ndata++;
	session_submitted(&s->b);
	return true;
}

/* A data report completed: the next one (or, after the last, the read of
 * report 3) goes out; any failure fails the step. */
static void sdp_data_cb(void *ud, int status, size_t actual)
{
	struct sdp_data_slot *sl = ud;
	struct sdp_session *s = sl->s;

	sl->x = NULL;
	s->ndata--;
	session_xfer_enter(&s->b);
	if (!session_active(&s->b))
		goto out;
	if (status == -ECANCELED)
		status = -ENODEV;
	if (status == 0 && actual != SDP_REPORT2_LEN)
		status = -EIO;
	if (status == -ETIMEDOUT && !s->ndata && sl->seq == s->data_seq &&
	    s->retries < SESSION_SDP_RETRIES) {
		/* nothing queued behind it: the same report once more */
		if (sdp_retry_info(s, "data report"))
			sdp_data_submit(s, sl);
		goto out;
	}
	if (status == 0)
		s->retries = 0;
	if (status < 0)
		session_fail(&s->b, status, "%s: data report: %s", sdp_upload_step(s->up),
			     strerror(-status));
	else
		sdp_io(s);
out:
	session_leave(&s->b);
}

/* Queue the data report io on EP0. false: no slot free, or the step ended. */
static bool sdp_data_send(struct sdp_session *s, const struct sdp_io *io)
{
	struct sdp_data_slot *sl = NULL;
	int r;

	if (s->ndata >= s->data_depth)
		return false;
	for (unsigned i = 0; i < s->data_depth && !sl; i++)
		if (!s->data[i].x)
			sl = &s->data[i];
	if (!sl)
		return false;
	memcpy(sl->report, io->data, SDP_REPORT2_LEN);
	sl->seq = ++s->data_seq;
	if (!sdp_data_submit(s, sl))
		return false;
	r = sdp_upload_sent(s->up);
	if (r < 0) {
		sdp_fail_step(s, r);
		return false;
	}
	return sdp_after_io(s, false);
}

static void sdp_step_done(struct sdp_session *s)
{
	uint32_t word = 0;
	bool status = s->b.step->op == PLAN_OP_STATUS && sdp_upload_word(s->up, &word);

	s->up = sdp_upload_free(s->up);
	if (status) {
		char line[160], ev[128];
		const char *name = sdp_status_to_string(word);
		snprintf(line, sizeof(line), "status 0x%08x (%s)", word,
			 name ? name : sdp_hab_event_to_string(word, ev, sizeof(ev)));
		if (!session_info(&s->b, line))
			return;
	}
	session_step_done(&s->b);
}

/* Perform the engine's next I/O (data reports: as many as may be in
 * flight), or end the step. */
static void sdp_io(struct sdp_session *s)
{
	struct sdp_io io;
	int r;

	for (;;) {
		r = sdp_upload_next(s->up, &io);
		if (r < 0) {
			sdp_fail_step(s, r);
			return;
		}
		if (io.kind != SDP_IO_SEND || io.len != SDP_REPORT2_LEN ||
		    io.data[0] != SDP_REPORT_DATA)
			break;
		if (!sdp_data_send(s, &io))
			return; /* full (a completion calls again), or the step ended */
	}
	if (s->ndata)
		return; /* a command or read only once the data is through */
	s->sending = io.kind == SDP_IO_SEND;
	s->after_jump = io.kind == SDP_IO_RECV && io.after_jump;
	switch (io.kind) {
	case SDP_IO_SEND:
		s->io_len = io.len < sizeof(s->obuf) ? io.len : sizeof(s->obuf);
		memcpy(s->obuf, io.data, s->io_len);
		r = sdp_report_out(s, s->obuf, s->io_len, sdp_xfer_cb, s, &s->x);
		break;
	case SDP_IO_RECV:
		r = usb_interrupt_in(s->b.dev, SDP_EP_IN, s->rbuf, sizeof(s->rbuf),
				     s->b.o.sdp_timeout_ms, sdp_xfer_cb, s, &s->x);
		break;
	case SDP_IO_DONE:
		sdp_step_done(s);
		return;
	}
	if (r < 0) {
		/* as if the transfer had failed with r: after JUMP_ADDRESS a board
		 * already gone at submit time is a board that jumped */
		r = sdp_upload_feed_error(s->up, r);
		if (r < 0)
			sdp_fail_step(s, r);
		else if (sdp_after_io(s, false))
			sdp_io(s);
		return;
	}
	session_submitted(&s->b);
}

/* ---- steps ---- */

static int sdp_image(struct sdp_session *s, const struct plan_step *st, bool need_imx)
{
	if (!st->image || !st->image->data) {
		/* the plan has the opener hold what SDP sends in memory (image.h) */
		sdp_fail(s, -EINVAL, st->image ? "%s is not held in memory" : "no image",
			 st->image ? st->image->path : "");
		return -EINVAL;
	}
	if (need_imx && !st->image->is_imx) {
		sdp_fail(s, -EINVAL, "%s is not an i.MX boot image", st->image->path);
		return -EINVAL;
	}
	return 0;
}

static uint32_t sdp_dcd_addr(const struct sdp_session *s, const struct plan_step *st)
{
	if (st->dcd_addr)
		return st->dcd_addr;
	return s->soc_dcd_addr ? s->soc_dcd_addr : SDP_DCD_ADDR_MX6;
}

static int sdp_boot(struct sdp_session *s, const struct plan_step *st, bool uid)
{
	const struct plan_image *img = st->image;
	struct sdp_upload_opts uo = {
		.dcd_addr = sdp_dcd_addr(s, st),
		.skip_dcd = s->soc_skip_dcd && !st->cleardcd,
		.read_uid = uid,
		.jump = !st->nojump,
	};
	int r = sdp_upload_new(img->data, img->size, &img->imx, &uo, &s->up);

	if (r < 0)
		sdp_fail(s, r, "the SDP core refused %s", img->path);
	return r;
}

/* Append a command to the step's list (at most 4: uid, uid, two more). */
static void sdp_add(struct sdp_session *s, enum sdp_cmd cmd, uint32_t addr, const uint8_t *data,
		    uint32_t count)
{
	s->cmds[s->ncmds++] = (struct sdp_command){ cmd, addr, data, count };
}

/* write: an i.MX image goes to its load address (bytes the ROM needs);
 * with -addr, the step's part of any file goes to that address. */
static int sdp_write(struct sdp_session *s, const struct plan_step *st)
{
	const struct plan_image *img = st->image;
	uint64_t off = st->image_offset, len = st->image_len;

	if (!st->has_addr) {
		if (!img->is_imx || off) {
			sdp_fail(s, -EINVAL, "write needs -addr (no i.MX header at offset 0)");
			return -EINVAL;
		}
		sdp_add(s, SDP_WRITE_FILE, img->imx.load_addr, img->data,
			(uint32_t)img->imx.upload_size);
		return 0;
	}
	if (off > img->size) {
		sdp_fail(s, -EINVAL, "-offset beyond the end of %s", img->path);
		return -EINVAL;
	}
	if (!len)
		len = img->size - off;
	if (!len || len > img->size - off || len > UINT32_MAX || len > 0x100000000ull - st->addr) {
		sdp_fail(s, -EINVAL, "bad write range (%llu bytes to 0x%08x)",
			 (unsigned long long)len, st->addr);
		return -EINVAL;
	}
	sdp_add(s, SDP_WRITE_FILE, st->addr, img->data + off, (uint32_t)len);
	return 0;
}

/* jump: make the ROM skip the DCD (SKIP_DCD_HEADER, or the IVT block
 * rewritten with dcd = 0), then JUMP_ADDRESS to the IVT. */
static void sdp_jump(struct sdp_session *s, const struct plan_step *st)
{
	const struct plan_image *img = st->image;
	size_t off = 0, n;

	if (img->imx.dcd_addr && s->soc_skip_dcd && !st->cleardcd) {
		sdp_add(s, SDP_SKIP_DCD_HEADER, 0, NULL, 0);
	} else if (img->imx.dcd_addr) {
		n = imx_image_cleared_header(&img->imx, img->data, s->hdr, &off);
		sdp_add(s, SDP_WRITE_FILE, img->imx.load_addr + (uint32_t)off, s->hdr, (uint32_t)n);
	}
	sdp_add(s, SDP_JUMP_ADDRESS, img->imx.self, NULL, 0);
}

/* Build the machine for an SDP command step. < 0: the step failed. */
static int sdp_prepare(struct sdp_session *s, const struct plan_step *st)
{
	const struct imx_image *imx = st->image ? &st->image->imx : NULL;
	bool uid = s->b.o.read_uid && !s->uid_tried;
	int r;

	s->ncmds = 0;
	if (st->op != PLAN_OP_STATUS && sdp_image(s, st, st->op != PLAN_OP_WRITE) < 0)
		return -EINVAL;
	if (st->op == PLAN_OP_BOOT) {
		s->uid_tried |= uid;
		return sdp_boot(s, st, uid);
	}
	if (uid) {
		s->uid_tried = true;
		sdp_add(s, SDP_READ_REGISTER, SDP_OCOTP_CFG0, NULL, 0);
		sdp_add(s, SDP_READ_REGISTER, SDP_OCOTP_CFG1, NULL, 0);
	}
	if (st->op == PLAN_OP_DCD) {
		if (!imx->dcd_size) {
			sdp_fail(s, -EINVAL, "%s has no DCD", st->image->path);
			return -EINVAL;
		}
		sdp_add(s, SDP_DCD_WRITE, sdp_dcd_addr(s, st), st->image->data + imx->dcd_offset,
			(uint32_t)imx->dcd_size);
	} else if (st->op == PLAN_OP_WRITE) {
		if (sdp_write(s, st) < 0)
			return -EINVAL;
	} else if (st->op == PLAN_OP_JUMP) {
		sdp_jump(s, st);
	} else {
		sdp_add(s, SDP_ERROR_STATUS, 0, NULL, 0);
	}
	r = sdp_upload_new_commands(s->cmds, s->ncmds, &s->up);
	if (r < 0)
		sdp_fail(s, r, "the SDP core refused the step's commands");
	return r;
}

/* An SDPU/SDPV line for U-Boot SPL's f_sdp: write the step's bytes to
 * its address as one command, or jump to its address (0 stays 0: f_sdp
 * uses CONFIG_SDP_LOADADDR). < 0: the step failed. */
static int sdp_spl_prepare(struct sdp_session *s, const struct plan_step *st)
{
	const struct plan_image *img = st->image;
	struct sdp_command c = { SDP_JUMP_ADDRESS, st->addr, NULL, 0 };
	int r;

	if (st->op == PLAN_OP_WRITE) {
		if (sdp_image(s, st, false) < 0)
			return -EINVAL;
		if (!st->image_len || st->image_offset > img->size ||
		    st->image_len > img->size - st->image_offset || st->image_len > UINT32_MAX ||
		    st->image_len > 0x100000000ull - st->addr) {
			sdp_fail(s, -EINVAL, "bad write range (%llu bytes at offset %llu of %s to 0x%08x)",
				 (unsigned long long)st->image_len,
				 (unsigned long long)st->image_offset, img->path, st->addr);
			return -EINVAL;
		}
		c = (struct sdp_command){ SDP_WRITE_FILE, st->addr, img->data + st->image_offset,
					  (uint32_t)st->image_len };
	}
	r = sdp_upload_new_spl(&c, 1, &s->up);
	if (r < 0)
		sdp_fail(s, r, "the SDP core refused the step's command");
	return r;
}

static void sdp_exec(struct session *b)
{
	struct sdp_session *s = (struct sdp_session *)b;
	const struct plan_step *st = b->step;

	switch (st->op) {
	case PLAN_OP_WRITE:
	case PLAN_OP_JUMP:
		if (s->spl) {
			s->last_done = 0;
			if (sdp_spl_prepare(s, st) == 0)
				sdp_io(s);
			return;
		}
		/* fall through */
	case PLAN_OP_BOOT:
	case PLAN_OP_DCD:
	case PLAN_OP_STATUS:
		if (s->spl)
			break;
		s->last_done = 0;
		if (sdp_prepare(s, st) == 0)
			sdp_io(s);
		return;
	case PLAN_OP_DELAY:
		session_delay(b, st->delay_ms);
		return;
	case PLAN_OP_DONE:
		b->idx = plan_n_steps(b->plan); /* the plan is over */
		session_finish(b, 0, NULL);
		return;
	case PLAN_OP_GETVAR:
	case PLAN_OP_UCMD:
	case PLAN_OP_ACMD:
	case PLAN_OP_OEM:
	case PLAN_OP_FLASH:
	case PLAN_OP_DOWNLOAD:
	case PLAN_OP_ERASE:
	case PLAN_OP_REBOOT:
	case PLAN_OP_CONTINUE:
	case PLAN_OP_CFG:
		break;
	}
	sdp_fail(s, -EINVAL, "not an %s command (%s)", s->spl ? "SPL SDP" : "SDP",
		 plan_op_to_string(st->op));
}

static void sdp_cancel(struct session *b)
{
	struct sdp_session *s = (struct sdp_session *)b;

	if (s->x)
		usb_xfer_cancel(s->x);
	for (unsigned i = 0; i < SESSION_SDP_REPORTS_MAX; i++)
		if (s->data[i].x)
			usb_xfer_cancel(s->data[i].x);
}

static void sdp_destroy(struct session *b)
{
	struct sdp_session *s = (struct sdp_session *)b;

	sdp_upload_free(s->up);
	free(s);
}

/* ---- before the first step: the HID report descriptor, SET_IDLE ---- */

static void sdp_prep_next(struct sdp_session *s);

static void sdp_prep_cb(void *ud, int status, size_t actual)
{
	struct sdp_session *s = ud;
	char line[160];

	s->x = NULL;
	session_xfer_enter(&s->b);
	if (!session_active(&s->b))
		goto out;
	if (status == -ECANCELED)
		status = -ENODEV;
	if (status == -ENODEV) {
		session_fail(&s->b, status, "%s: %s", s->prep == SDP_PREP_DESCRIPTOR ?
			     "HID report descriptor" : "SET_IDLE", strerror(-status));
		goto out;
	}
	if (status < 0) {
		/* best effort: usbhid may have done it, a ROM may stall SET_IDLE */
		snprintf(line, sizeof(line), "%s: %s (going on)", s->prep == SDP_PREP_DESCRIPTOR ?
			 "HID report descriptor" : "SET_IDLE", strerror(-status));
		if (!session_info(&s->b, line))
			goto out;
	}
	s->prep++;
	sdp_prep_next(s);
out:
	session_leave(&s->b);
}

static void sdp_prep_next(struct sdp_session *s)
{
	int r = 0;

	switch (s->prep) {
	case SDP_PREP_DESCRIPTOR:
		r = usb_control_in(s->b.dev, SDP_HID_IN, SDP_GET_DESCRIPTOR,
				   (uint16_t)(SDP_DT_HID_REPORT << 8), 0, s->rbuf, sizeof(s->rbuf),
				   s->b.o.sdp_timeout_ms, sdp_prep_cb, s, &s->x);
		break;
	case SDP_PREP_IDLE:
		r = usb_control_out(s->b.dev, SDP_HID_OUT, SDP_HID_SET_IDLE, 0, 0, NULL, 0,
				    s->b.o.sdp_timeout_ms, sdp_prep_cb, s, &s->x);
		break;
	case SDP_PREP_DONE:
		session_run_step(&s->b);
		return;
	}
	if (r < 0) {
		session_fail(&s->b, r, "%s: %s", s->prep == SDP_PREP_DESCRIPTOR ?
			     "HID report descriptor" : "SET_IDLE", strerror(-r));
		return;
	}
	session_submitted(&s->b);
}

static void sdp_begin(struct session *b)
{
	struct sdp_session *s = (struct sdp_session *)b;

	if (usb_dev_find_interrupt_out(s->b.dev, 0, &s->ep_out) == 0) {
		char line[64];
		snprintf(line, sizeof(line), "reports on interrupt OUT 0x%02x", s->ep_out);
		if (!session_info(&s->b, line))
			return;
	}
	sdp_prep_next(s);
}

static const struct session_ops sdp_ops = {
	.proto = PLAN_PROTO_SDP,
	.before_steps = "SDP",
	.begin = sdp_begin,
	.exec = sdp_exec,
	.cancel = sdp_cancel,
	.destroy = sdp_destroy,
};

/* ---- public ---- */

static int sdp_session_new(struct usb_dev *dev, struct plan *plan, size_t first,
			   const struct session_opts *o, const struct session_events *ev,
			   struct sdp_session **out)
{
	struct sdp_session *s;
	int r;

	r = session_check_args(dev, plan, first, o, ev, out);
	if (r < 0)
		return r;
	r = usb_dev_claim(dev, 0, true);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* usbhid had the interface: it fetched the report descriptor and sent
	 * SET_IDLE when it bound (usbhid_parse), so f_sdp's wait is over and the
	 * first command need not wait for two more control transfers */
	if (r > 0)
		s->prep = SDP_PREP_DONE;
	r = session_init(&s->b, &sdp_ops, dev, plan, first, o, ev);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

int sdp_session_start(struct usb_dev *dev, const struct sdp_soc *soc, struct plan *plan,
		      size_t first, const struct session_opts *o, const struct session_events *ev,
		      struct sdp_session **out)
{
	struct sdp_session *s = NULL;
	int r;

	r = sdp_session_new(dev, plan, first, o, ev, &s);
	if (r < 0)
		return r;
	if (!s->b.o.sdp_timeout_ms)
		s->b.o.sdp_timeout_ms = SESSION_SDP_TIMEOUT_MS;
	s->data_depth = s->b.o.sdp_reports ? s->b.o.sdp_reports : SESSION_SDP_REPORTS;
	if (s->data_depth > SESSION_SDP_REPORTS_MAX)
		s->data_depth = SESSION_SDP_REPORTS_MAX;
	for (unsigned i = 0; i < SESSION_SDP_REPORTS_MAX; i++)
		s->data[i].s = s;
	s->soc_skip_dcd = soc && soc->skip_dcd;
	s->soc_dcd_addr = soc ? soc->dcd_addr : 0;
	*out = s;
	return 0;
}

int sdp_session_start_spl(struct usb_dev *dev, enum plan_proto flavour, struct plan *plan,
			  size_t first, const struct session_opts *o,
			  const struct session_events *ev, struct sdp_session **out)
{
	struct sdp_session *s = NULL;
	int r;

	if (flavour != PLAN_PROTO_SDPU && flavour != PLAN_PROTO_SDPV)
		return -EINVAL;
	r = sdp_session_start(dev, NULL, plan, first, o, ev, &s);
	if (r < 0)
		return r;
	s->spl = true;
	s->hab_reported = true;   /* f_sdp's HAB word is a constant "open" */
	s->uid_tried = true;      /* no READ_REGISTER to the SPL */
	s->b.proto = flavour;
	s->b.skip_other = true;
	s->b.skip_proto = flavour == PLAN_PROTO_SDPU ? PLAN_PROTO_SDPV : PLAN_PROTO_SDPU;
	*out = s;
	return 0;
}

bool sdp_session_uid(const struct sdp_session *s, uint64_t *uid)
{
	if (!s || !s->uid_read)
		return false;
	if (uid)
		*uid = s->uid;
	return true;
}

size_t sdp_session_next_step(const struct sdp_session *s)
{
	return s ? s->b.idx : 0;
}

struct sdp_session *sdp_session_free(struct sdp_session *s)
{
	if (s)
		session_free(&s->b);
	return NULL;
}
