/* sdp_session: runs a plan's SDP steps against an i.MX6/7 boot ROM (HID)
 * over the async usb module, on the daemon's event loop.
 *
 * The ROM is strictly request/response, so exactly one transfer is in
 * flight: report 1/2 as SET_REPORT on EP0, report 3/4 as interrupt IN
 * reads on 0x81, each with sdp_timeout_ms. What to send and how to read
 * the answers comes from a sans-I/O engine:
 *  - `boot` uses the sdp core's upload machine (uid → dcd → write → clear
 *    dcd → jump);
 *  - `dcd`, `write`, `jump` and `status` are short command lists (struct
 *    sdp_cmdq below) built from the core's encoders and decoders, because
 *    the core's machine always writes and cannot jump alone.
 * After JUMP_ADDRESS a timeout/-ENODEV/-EIO/-EPIPE on the report-4 read is
 * the board leaving to run the image: success.
 *
 * Lifetime: as in fb_session.c — s->live counts the (at most one) live
 * transfer, s->busy our callbacks on the stack; sdp_session_free() cancels,
 * and the memory goes when freed && !live && !busy. */
#include "daemon/session.h"

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
#define SDP_CMDQ_MAX 4u

/* ---- one-step command lists (dcd, write, jump, status) ---- */

struct sdp_cmd_spec {
	enum sdp_cmd cmd;
	uint32_t addr;
	uint8_t format;
	uint32_t count;            /* data bytes (WRITE_FILE/DCD_WRITE), or register bytes */
	const uint8_t *src;        /* data phase source, count bytes */
};

enum sdp_cmdq_phase {
	SDP_CMDQ_CMD,
	SDP_CMDQ_DATA,
	SDP_CMDQ_HAB,
	SDP_CMDQ_STATUS,
};

struct sdp_cmdq {
	struct sdp_cmd_spec q[SDP_CMDQ_MAX];
	size_t n, i;
	enum sdp_cmdq_phase phase;
	uint32_t chunk_off;        /* WRITE_FILE split at SDP_MAX_WRITE_CHUNK */
	uint32_t chunk_len;
	uint32_t data_sent;
	uint64_t done, total;      /* WRITE_FILE bytes acknowledged / to write */
	uint32_t uid[2];
	unsigned nuid;
	bool hab_closed;
	uint32_t status;           /* ERROR_STATUS word */
	int err;
	char error[256];
	uint8_t report[SDP_REPORT2_LEN];
};

enum sdp_state {
	SDP_STATE_START,     /* start timer armed */
	SDP_STATE_IO,        /* a transfer of the current step is live */
	SDP_STATE_DELAY,     /* delay timer armed */
	SDP_STATE_FINISHED,  /* done() was called */
};

struct sdp_session {
	struct usb_dev *dev;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	bool soc_skip_dcd;
	uint32_t soc_dcd_addr;
	struct event *timer;
	enum sdp_state state;
	unsigned live, busy;
	bool freed;
	size_t idx, next_step;
	const struct plan_step *step;
	struct usb_xfer *x;
	size_t io_len;                 /* bytes of the SEND in flight */
	uint8_t rbuf[SDP_READ_BUF];
	struct sdp_upload *up;         /* boot step */
	struct sdp_cmdq q;             /* other steps */
	uint64_t last_done;
	bool uid_tried, uid_read, hab_reported;
	uint64_t uid;
	uint8_t hdr[IMX_HEADER_BLOCK]; /* jump: the IVT block with dcd = 0 */
};

__attribute__((format(printf, 3, 4)))
static int sdp_cmdq_fail(struct sdp_cmdq *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	q->err = err;
	return err;
}

static const char *sdp_cmd_to_string(enum sdp_cmd c)
{
	switch (c) {
	case SDP_READ_REGISTER:
		return "READ_REGISTER";
	case SDP_WRITE_REGISTER:
		return "WRITE_REGISTER";
	case SDP_WRITE_FILE:
		return "WRITE_FILE";
	case SDP_ERROR_STATUS:
		return "ERROR_STATUS";
	case SDP_DCD_WRITE:
		return "DCD_WRITE";
	case SDP_JUMP_ADDRESS:
		return "JUMP_ADDRESS";
	case SDP_SKIP_DCD_HEADER:
		return "SKIP_DCD_HEADER";
	}
	return "?";
}

static void sdp_cmdq_reset(struct sdp_cmdq *q)
{
	q->n = q->i = 0;
	q->done = q->total = 0;
	q->nuid = 0;
	q->err = 0;
	q->error[0] = '\0';
}

static void sdp_cmdq_add(struct sdp_cmdq *q, enum sdp_cmd cmd, uint32_t addr, uint8_t format,
			 uint32_t count, const uint8_t *src)
{
	q->q[q->n++] = (struct sdp_cmd_spec){ cmd, addr, format, count, src };
	if (cmd == SDP_WRITE_FILE)
		q->total += count;
}

/* Enter command q->i (at chunk_off for WRITE_FILE). */
static void sdp_cmdq_begin(struct sdp_cmdq *q)
{
	const struct sdp_cmd_spec *c = &q->q[q->i];

	q->phase = SDP_CMDQ_CMD;
	q->data_sent = 0;
	q->chunk_len = c->count - q->chunk_off;
	if (c->cmd == SDP_WRITE_FILE && q->chunk_len > SDP_MAX_WRITE_CHUNK)
		q->chunk_len = SDP_MAX_WRITE_CHUNK;
}

static int sdp_cmdq_next(struct sdp_cmdq *q, struct sdp_io *io)
{
	const struct sdp_cmd_spec *c = &q->q[q->i];

	if (q->err)
		return q->err;
	memset(io, 0, sizeof(*io));
	if (q->i == q->n) {
		io->kind = SDP_IO_DONE;
		return 0;
	}
	switch (q->phase) {
	case SDP_CMDQ_CMD:
		sdp_encode_cmd(q->report, c->cmd, c->addr + q->chunk_off, c->format, q->chunk_len, 0);
		io->kind = SDP_IO_SEND;
		io->data = q->report;
		io->len = SDP_REPORT1_LEN;
		break;
	case SDP_CMDQ_DATA:
		sdp_encode_data(q->report, c->src + q->chunk_off + q->data_sent,
				q->chunk_len - q->data_sent);
		io->kind = SDP_IO_SEND;
		io->data = q->report;
		io->len = SDP_REPORT2_LEN;
		break;
	case SDP_CMDQ_HAB:
	case SDP_CMDQ_STATUS:
		io->kind = SDP_IO_RECV;
		io->after_jump = q->phase == SDP_CMDQ_STATUS && c->cmd == SDP_JUMP_ADDRESS;
		break;
	}
	return 0;
}

static int sdp_cmdq_sent(struct sdp_cmdq *q)
{
	const struct sdp_cmd_spec *c = &q->q[q->i];

	if (q->phase == SDP_CMDQ_CMD) {
		bool data = c->cmd == SDP_WRITE_FILE || c->cmd == SDP_DCD_WRITE;
		q->phase = data && q->chunk_len ? SDP_CMDQ_DATA : SDP_CMDQ_HAB;
	} else if (q->phase == SDP_CMDQ_DATA) {
		uint32_t n = q->chunk_len - q->data_sent;
		q->data_sent += n < SDP_DATA_PER_REPORT ? n : SDP_DATA_PER_REPORT;
		if (q->data_sent == q->chunk_len)
			q->phase = SDP_CMDQ_HAB;
	}
	return 0;
}

/* The command's report 4 arrived: check it and move on. */
static int sdp_cmdq_status(struct sdp_cmdq *q, uint32_t word)
{
	const struct sdp_cmd_spec *c = &q->q[q->i];
	uint32_t want = SDP_WRITE_OK;
	char ev[128];

	switch (c->cmd) {
	case SDP_READ_REGISTER:
		q->uid[q->nuid++ & 1] = word;
		break;
	case SDP_ERROR_STATUS:
		q->status = word;
		break;
	case SDP_JUMP_ADDRESS:
		return sdp_cmdq_fail(q, -EPROTO, "JUMP_ADDRESS at 0x%08x: error 0x%08x (%s)",
				     c->addr, word, sdp_hab_event_to_string(word, ev, sizeof(ev)));
	case SDP_WRITE_FILE:
	case SDP_SKIP_DCD_HEADER:
	case SDP_DCD_WRITE:
	case SDP_WRITE_REGISTER:
		want = c->cmd == SDP_WRITE_FILE ? SDP_WRITE_FILE_OK :
		       c->cmd == SDP_SKIP_DCD_HEADER ? SDP_SKIP_DCD_OK : SDP_WRITE_OK;
		if (word != want)
			return sdp_cmdq_fail(q, -EPROTO, "%s at 0x%08x: status 0x%08x, expected 0x%08x (%s)",
					     sdp_cmd_to_string(c->cmd), c->addr + q->chunk_off, word,
					     want, sdp_hab_event_to_string(word, ev, sizeof(ev)));
		break;
	}
	if (c->cmd == SDP_WRITE_FILE) {
		q->done += q->chunk_len;
		q->chunk_off += q->chunk_len;
		if (q->chunk_off < c->count) {
			sdp_cmdq_begin(q);
			return 0;
		}
	}
	q->chunk_off = 0;
	if (++q->i < q->n)
		sdp_cmdq_begin(q);
	return 0;
}

static int sdp_cmdq_feed(struct sdp_cmdq *q, const uint8_t *buf, size_t len)
{
	uint32_t word;

	if (q->phase == SDP_CMDQ_HAB) {
		if (sdp_decode_hab(buf, len, &word) < 0)
			return sdp_cmdq_fail(q, -EBADMSG, "%s: bad report 3 (%zu bytes)",
					     sdp_cmd_to_string(q->q[q->i].cmd), len);
		if (word != SDP_HAB_OPEN && word != SDP_HAB_CLOSED)
			return sdp_cmdq_fail(q, -EPROTO, "%s: HAB word 0x%08x",
					     sdp_cmd_to_string(q->q[q->i].cmd), word);
		q->hab_closed = word == SDP_HAB_CLOSED;
		q->phase = SDP_CMDQ_STATUS;
		return 0;
	}
	if (sdp_decode_status(buf, len, &word) < 0)
		return sdp_cmdq_fail(q, -EBADMSG, "%s: bad report 4 (%zu bytes)",
				     sdp_cmd_to_string(q->q[q->i].cmd), len);
	return sdp_cmdq_status(q, word);
}

static int sdp_cmdq_feed_error(struct sdp_cmdq *q, int err)
{
	const struct sdp_cmd_spec *c = &q->q[q->i];

	if (q->phase == SDP_CMDQ_STATUS && c->cmd == SDP_JUMP_ADDRESS &&
	    (err == -ETIMEDOUT || err == -ENODEV || err == -EIO || err == -EPIPE)) {
		q->i = q->n;
		return 0;
	}
	return sdp_cmdq_fail(q, err, "%s: %s while %s", sdp_cmd_to_string(c->cmd), strerror(-err),
			     q->phase == SDP_CMDQ_CMD ? "sending report 1" :
			     q->phase == SDP_CMDQ_DATA ? "sending report 2" :
			     q->phase == SDP_CMDQ_HAB ? "waiting for report 3" :
							 "waiting for report 4");
}

/* ---- engine dispatch: the core's upload machine or a command list ---- */

static int sdp_engine_next(struct sdp_session *s, struct sdp_io *io)
{
	return s->up ? sdp_upload_next(s->up, io) : sdp_cmdq_next(&s->q, io);
}

static int sdp_engine_sent(struct sdp_session *s)
{
	return s->up ? sdp_upload_sent(s->up) : sdp_cmdq_sent(&s->q);
}

static int sdp_engine_feed(struct sdp_session *s, const uint8_t *buf, size_t len)
{
	return s->up ? sdp_upload_feed(s->up, buf, len) : sdp_cmdq_feed(&s->q, buf, len);
}

static int sdp_engine_feed_error(struct sdp_session *s, int err)
{
	return s->up ? sdp_upload_feed_error(s->up, err) : sdp_cmdq_feed_error(&s->q, err);
}

static const char *sdp_engine_error(const struct sdp_session *s)
{
	const char *e = s->up ? sdp_upload_error(s->up) : s->q.error;

	return e && *e ? e : "failed";
}

static uint64_t sdp_engine_done(const struct sdp_session *s)
{
	return s->up ? sdp_upload_bytes_done(s->up) : s->q.done;
}

static uint64_t sdp_engine_total(const struct sdp_session *s)
{
	return s->up ? sdp_upload_bytes_total(s->up) : s->q.total;
}

static bool sdp_engine_hab_closed(const struct sdp_session *s)
{
	return s->up ? sdp_upload_hab_closed(s->up) : s->q.hab_closed;
}

static bool sdp_engine_uid(const struct sdp_session *s, uint64_t *uid)
{
	if (s->up)
		return sdp_upload_uid(s->up, uid);
	if (s->q.nuid != 2)
		return false;
	*uid = s->q.uid[0] | (uint64_t)s->q.uid[1] << 32;
	return true;
}

/* ---- lifetime ---- */

static void sdp_run_step(struct sdp_session *s);
static void sdp_io(struct sdp_session *s);

static void sdp_destroy(struct sdp_session *s)
{
	if (s->timer)
		event_free(s->timer);
	sdp_upload_free(s->up);
	plan_unref(s->plan);
	free(s);
}

static void sdp_release(struct sdp_session *s)
{
	if (--s->busy == 0 && s->freed && s->live == 0)
		sdp_destroy(s);
}

static void sdp_cancel_all(struct sdp_session *s)
{
	if (s->x)
		usb_xfer_cancel(s->x);
	if (s->timer)
		evtimer_del(s->timer);
}

static void sdp_finish(struct sdp_session *s, int status, const char *reason)
{
	s->state = SDP_STATE_FINISHED;
	sdp_cancel_all(s);
	if (s->ev.done)
		s->ev.done(s->ev.ud, status, reason);
}

static void sdp_fail_step(struct sdp_session *s, int err)
{
	char reason[512];

	snprintf(reason, sizeof(reason), "%s: %s", s->step->text, sdp_engine_error(s));
	sdp_finish(s, err, reason);
}

__attribute__((format(printf, 3, 4)))
static void sdp_fail(struct sdp_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->q.error, sizeof(s->q.error), fmt, ap);
	va_end(ap);
	s->up = sdp_upload_free(s->up);
	sdp_fail_step(s, err);
}

/* ---- I/O ---- */

/* After the engine moved: the UID as soon as it was read, the HAB state
 * (known from the first report 3), progress. false if the session was
 * freed meanwhile. */
static bool sdp_after_io(struct sdp_session *s, bool fed)
{
	uint64_t done = sdp_engine_done(s);
	char line[64];

	if (fed && !s->uid_read && sdp_engine_uid(s, &s->uid)) {
		s->uid_read = true;
		snprintf(line, sizeof(line), "UID %016llx", (unsigned long long)s->uid);
		if (s->ev.info)
			s->ev.info(s->ev.ud, line);
		if (s->freed)
			return false;
	}
	if (fed && !s->hab_reported) {
		s->hab_reported = true;
		if (s->ev.info)
			s->ev.info(s->ev.ud, sdp_engine_hab_closed(s) ? "HAB closed" : "HAB open");
		if (s->freed)
			return false;
	}
	if (done != s->last_done) {
		s->last_done = done;
		if (s->ev.progress)
			s->ev.progress(s->ev.ud, done, sdp_engine_total(s));
	}
	return !s->freed;
}

static void sdp_send_cb(void *ud, int status, size_t actual)
{
	struct sdp_session *s = ud;
	int r;

	s->x = NULL;
	s->live--;
	s->busy++;
	if (s->freed || s->state != SDP_STATE_IO)
		goto out;
	if (status == -ECANCELED) /* not ours: the device was closed */
		status = -ENODEV;
	if (status == 0 && actual != s->io_len)
		status = -EIO;
	r = status < 0 ? sdp_engine_feed_error(s, status) : sdp_engine_sent(s);
	if (r < 0)
		sdp_fail_step(s, r);
	else if (sdp_after_io(s, false))
		sdp_io(s);
out:
	sdp_release(s);
}

static void sdp_recv_cb(void *ud, int status, size_t actual)
{
	struct sdp_session *s = ud;
	int r;

	s->x = NULL;
	s->live--;
	s->busy++;
	if (s->freed || s->state != SDP_STATE_IO)
		goto out;
	if (status == -ECANCELED)
		status = -ENODEV;
	r = status < 0 ? sdp_engine_feed_error(s, status) : sdp_engine_feed(s, s->rbuf, actual);
	if (r < 0)
		sdp_fail_step(s, r);
	else if (sdp_after_io(s, status == 0))
		sdp_io(s);
out:
	sdp_release(s);
}

static void sdp_step_done(struct sdp_session *s)
{
	s->up = sdp_upload_free(s->up);
	if (s->step && s->step->op == PLAN_OP_STATUS && s->ev.info) {
		char line[160], ev[128];
		const char *name = sdp_status_to_string(s->q.status);
		snprintf(line, sizeof(line), "status 0x%08x (%s)", s->q.status,
			 name ? name : sdp_hab_event_to_string(s->q.status, ev, sizeof(ev)));
		s->ev.info(s->ev.ud, line);
		if (s->freed)
			return;
	}
	s->idx++;
	sdp_run_step(s);
}

/* Perform the engine's next I/O, or end the step. */
static void sdp_io(struct sdp_session *s)
{
	struct sdp_io io;
	int r = sdp_engine_next(s, &io);

	if (r < 0) {
		sdp_fail_step(s, r);
		return;
	}
	switch (io.kind) {
	case SDP_IO_SEND:
		s->io_len = io.len;
		r = usb_control_out(s->dev, SDP_HID_OUT, SDP_HID_SET_REPORT, (uint16_t)(0x0200 | io.data[0]),
				    0, io.data, io.len, s->o.sdp_timeout_ms, sdp_send_cb, s, &s->x);
		break;
	case SDP_IO_RECV:
		r = usb_interrupt_in(s->dev, SDP_EP_IN, s->rbuf, sizeof(s->rbuf), s->o.sdp_timeout_ms,
				     sdp_recv_cb, s, &s->x);
		break;
	case SDP_IO_DONE:
		sdp_step_done(s);
		return;
	}
	if (r < 0) {
		sdp_fail(s, r, "cannot submit a transfer: %s", strerror(-r));
		return;
	}
	s->state = SDP_STATE_IO;
	s->live++;
}

/* ---- steps ---- */

static int sdp_image(struct sdp_session *s, const struct plan_step *st, bool need_imx)
{
	if (!st->image) {
		sdp_fail(s, -EINVAL, "no image");
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
		sdp_cmdq_add(&s->q, SDP_WRITE_FILE, img->imx.load_addr, 0,
			     (uint32_t)img->imx.upload_size, img->data);
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
	sdp_cmdq_add(&s->q, SDP_WRITE_FILE, st->addr, 0, (uint32_t)len, img->data + off);
	return 0;
}

/* jump: make the ROM skip the DCD (SKIP_DCD_HEADER, or the IVT block
 * rewritten with dcd = 0), then JUMP_ADDRESS to the IVT. */
static void sdp_jump(struct sdp_session *s, const struct plan_step *st)
{
	const struct plan_image *img = st->image;
	size_t off = 0, n;

	if (img->imx.dcd_addr && s->soc_skip_dcd && !st->cleardcd) {
		sdp_cmdq_add(&s->q, SDP_SKIP_DCD_HEADER, 0, 0, 0, NULL);
	} else if (img->imx.dcd_addr) {
		n = imx_image_cleared_header(&img->imx, img->data, s->hdr, &off);
		sdp_cmdq_add(&s->q, SDP_WRITE_FILE, img->imx.load_addr + (uint32_t)off, 0,
			     (uint32_t)n, s->hdr);
	}
	sdp_cmdq_add(&s->q, SDP_JUMP_ADDRESS, img->imx.self, 0, 0, NULL);
}

/* Build the engine for an SDP command step. < 0: the step failed. */
static int sdp_prepare(struct sdp_session *s, const struct plan_step *st)
{
	const struct imx_image *imx = st->image ? &st->image->imx : NULL;
	bool uid = s->o.read_uid && !s->uid_tried;

	sdp_cmdq_reset(&s->q);
	if (st->op != PLAN_OP_STATUS && sdp_image(s, st, st->op != PLAN_OP_WRITE) < 0)
		return -EINVAL;
	if (st->op == PLAN_OP_BOOT) {
		s->uid_tried |= uid;
		return sdp_boot(s, st, uid);
	}
	if (uid) {
		s->uid_tried = true;
		sdp_cmdq_add(&s->q, SDP_READ_REGISTER, SDP_OCOTP_CFG0, 0x20, 4, NULL);
		sdp_cmdq_add(&s->q, SDP_READ_REGISTER, SDP_OCOTP_CFG1, 0x20, 4, NULL);
	}
	if (st->op == PLAN_OP_DCD) {
		if (!imx->dcd_size) {
			sdp_fail(s, -EINVAL, "%s has no DCD", st->image->path);
			return -EINVAL;
		}
		sdp_cmdq_add(&s->q, SDP_DCD_WRITE, sdp_dcd_addr(s, st), 0, (uint32_t)imx->dcd_size,
			     st->image->data + imx->dcd_offset);
	} else if (st->op == PLAN_OP_WRITE) {
		if (sdp_write(s, st) < 0)
			return -EINVAL;
	} else if (st->op == PLAN_OP_JUMP) {
		sdp_jump(s, st);
	} else {
		sdp_cmdq_add(&s->q, SDP_ERROR_STATUS, 0, 0, 0, NULL);
	}
	sdp_cmdq_begin(&s->q);
	return 0;
}

static void sdp_delay(struct sdp_session *s, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	s->state = SDP_STATE_DELAY;
	evtimer_add(s->timer, &tv);
}

static void sdp_exec(struct sdp_session *s, const struct plan_step *st)
{
	switch (st->op) {
	case PLAN_OP_BOOT:
	case PLAN_OP_DCD:
	case PLAN_OP_WRITE:
	case PLAN_OP_JUMP:
	case PLAN_OP_STATUS:
		s->last_done = 0;
		if (sdp_prepare(s, st) == 0)
			sdp_io(s);
		return;
	case PLAN_OP_DELAY:
		sdp_delay(s, st->delay_ms);
		return;
	case PLAN_OP_DONE:
		s->next_step = plan_n_steps(s->plan);
		sdp_finish(s, 0, NULL);
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
	sdp_fail(s, -EINVAL, "not an SDP command (%s)", plan_op_to_string(st->op));
}

/* Start step s->idx, skipping lines that do not run on i.MX6; the SDP
 * flow ends at the end of the plan or at the first step of another
 * protocol (next_step). */
static void sdp_run_step(struct sdp_session *s)
{
	const struct plan_step *st;

	while ((st = plan_step(s->plan, s->idx)) && !st->runs_on_imx6)
		s->idx++;
	if (!st || st->proto != PLAN_PROTO_SDP) {
		s->next_step = s->idx;
		sdp_finish(s, 0, NULL);
		return;
	}
	s->step = st;
	if (s->ev.step) {
		s->ev.step(s->ev.ud, s->idx, st->text);
		if (s->freed)
			return;
	}
	sdp_exec(s, st);
}

static void sdp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sdp_session *s = arg;

	(void)fd;
	(void)what;
	s->busy++;
	if (s->state == SDP_STATE_START)
		sdp_run_step(s);
	else if (s->state == SDP_STATE_DELAY)
		sdp_step_done(s);
	sdp_release(s);
}

/* ---- public ---- */

int sdp_session_start(struct usb_dev *dev, const struct sdp_soc *soc, struct plan *plan,
		      size_t first, const struct session_opts *o, const struct session_events *ev,
		      struct sdp_session **out)
{
	struct sdp_session *s;
	struct timeval now = { 0, 0 };
	int r;

	if (!dev || !plan || !o || !o->base || !ev || !out || first > plan_n_steps(plan))
		return -EINVAL;
	r = usb_dev_claim(dev, 0, true);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->timer = evtimer_new(o->base, sdp_timer_cb, s);
	if (!s->timer) {
		free(s);
		return -ENOMEM;
	}
	s->dev = dev;
	s->plan = plan_ref(plan);
	s->o = *o;
	if (!s->o.sdp_timeout_ms)
		s->o.sdp_timeout_ms = SESSION_SDP_TIMEOUT_MS;
	s->ev = *ev;
	s->soc_skip_dcd = soc && soc->skip_dcd;
	s->soc_dcd_addr = soc ? soc->dcd_addr : 0;
	s->idx = s->next_step = first;
	s->state = SDP_STATE_START;
	evtimer_add(s->timer, &now);
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
	return s ? s->next_step : 0;
}

struct sdp_session *sdp_session_free(struct sdp_session *s)
{
	if (!s || s->freed)
		return NULL;
	s->freed = true;
	sdp_cancel_all(s);
	if (!s->live && !s->busy)
		sdp_destroy(s);
	return NULL;
}
