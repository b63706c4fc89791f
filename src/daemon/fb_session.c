/* fb_session: runs a plan's FB steps against a U-Boot fastboot gadget over
 * the async usb module, on the daemon's event loop.
 *
 * One command at a time: bulk OUT "cmd", then bulk IN replies until OKAY,
 * FAIL or DATA (INFO/TEXT go to ev->info and the read is re-armed). The data
 * phase of a download keeps xfers_in_flight bulk OUT transfers of up to
 * xfer_size bytes queued, sent straight from the image mapping; the next one
 * is submitted from the completion callback of the last. Segments shorter
 * than FB_GATHER_MAX (sparse file/chunk headers, FILL patterns) are gathered
 * into a per-slot bounce buffer so they do not cost a transfer each. No
 * zero-length transfer is ever submitted.
 *
 * Lifetime ("zombie" state): s->live counts transfers submitted whose
 * callback has not run, s->busy counts callbacks of ours on the stack.
 * fb_session_free() and the end of the plan cancel every live transfer;
 * the memory (and the plan reference, hence the image mapping) is released
 * by whichever of fb_session_free() or the last callback sees
 * freed && live == 0 && busy == 0. Every callback bails out before touching
 * the protocol state once the session is finished or freed, and every place
 * that emits an event re-checks s->freed afterwards. */
#include "daemon/session.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "flashd/fastboot.h"
#include "flashd/plan.h"
#include "flashd/sparse.h"

#define FB_REPLY_BUF 256u         /* ≥ 64: U-Boot answers with ≤ 64 bytes */
#define FB_GATHER_MAX 512u        /* shorter segments go through the bounce buffer */
#define FB_BOUNCE 4096u
#define FB_CMD_BUF 4096u          /* U-Boot's command buffer */

enum fb_state {
	FB_STATE_START,       /* start timer armed */
	FB_STATE_MAXDL,       /* getvar:max-download-size */
	FB_STATE_CMD,         /* a step's command: OKAY ends the step */
	FB_STATE_REBOOT,      /* "reboot": OKAY or the board leaving ends the step */
	FB_STATE_DOWNLOAD,    /* "download:%08x": expects DATA */
	FB_STATE_DATA,        /* data phase: bulk OUTs in flight */
	FB_STATE_DATA_OKAY,   /* expects OKAY after the data */
	FB_STATE_FLASH,       /* "flash:<part>": OKAY ends the piece */
	FB_STATE_DELAY,       /* delay timer armed */
	FB_STATE_FINISHED,    /* done() was called */
};

static const char *const fb_state_names[] = {
	[FB_STATE_START] = "start",         [FB_STATE_MAXDL] = "getvar max-download-size",
	[FB_STATE_CMD] = "command",         [FB_STATE_REBOOT] = "reboot",
	[FB_STATE_DOWNLOAD] = "download",   [FB_STATE_DATA] = "data",
	[FB_STATE_DATA_OKAY] = "data OKAY", [FB_STATE_FLASH] = "flash",
	[FB_STATE_DELAY] = "delay",         [FB_STATE_FINISHED] = "finished",
};

struct fb_slot {
	struct fb_session *s;
	struct usb_xfer *x;       /* non-NULL while live */
	size_t len;
	uint64_t img_end;         /* step image bytes covered once it completes */
	uint8_t bounce[FB_BOUNCE];
};

struct fb_cursor {
	size_t seg;
	size_t off;
};

struct fb_session {
	struct usb_dev *dev;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	uint8_t ep_in, ep_out;
	struct event *timer;
	enum fb_state state;
	unsigned live, busy;
	bool freed;
	size_t idx;                       /* current step */
	const struct plan_step *step;     /* NULL before the first step */
	uint32_t max_dl;
	uint64_t bytes;                   /* data bytes acknowledged, all steps */
	/* command / reply */
	struct usb_xfer *cmd_x, *reply_x;
	char cmd[FB_CMD_BUF + 1];
	size_t cmd_len;
	unsigned reply_timeout;
	uint8_t reply[FB_REPLY_BUF];
	/* flash / download of the current step */
	const uint8_t *img;               /* the step's part of the image */
	uint64_t img_len;
	struct sparse_writer *w;
	struct sparse_piece piece;
	struct sparse_seg one_seg;        /* download / raw piece built here */
	struct fb_cursor cur;
	uint64_t img_pos;                 /* img bytes covered by submitted transfers */
	uint64_t progress;                /* img bytes covered by completed transfers */
	unsigned inflight;
	unsigned nslots;
	struct fb_slot *slots;
};

static void fb_run_step(struct fb_session *s);
static void fb_read_reply(struct fb_session *s);

static void fb_destroy(struct fb_session *s)
{
	if (s->timer)
		event_free(s->timer);
	sparse_writer_free(s->w);
	plan_unref(s->plan);
	free(s->slots);
	free(s);
}

/* Leave one of our callbacks: the last one out of a freed session frees it. */
static void fb_release(struct fb_session *s)
{
	if (--s->busy == 0 && s->freed && s->live == 0)
		fb_destroy(s);
}

static void fb_cancel_all(struct fb_session *s)
{
	if (s->cmd_x)
		usb_xfer_cancel(s->cmd_x);
	if (s->reply_x)
		usb_xfer_cancel(s->reply_x);
	for (unsigned i = 0; i < s->nslots; i++)
		if (s->slots[i].x)
			usb_xfer_cancel(s->slots[i].x);
	if (s->timer)
		evtimer_del(s->timer);
}

/* Ends the session: cancels what is in flight and calls done() once. */
static void fb_finish(struct fb_session *s, int status, const char *reason)
{
	s->state = FB_STATE_FINISHED;
	fb_cancel_all(s);
	s->w = sparse_writer_free(s->w);
	if (s->ev.done)
		s->ev.done(s->ev.ud, status, reason);
}

__attribute__((format(printf, 3, 4)))
static void fb_fail(struct fb_session *s, int err, const char *fmt, ...)
{
	char what[320], reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(reason, sizeof(reason), "%s: %s",
		 s->step ? s->step->text : "getvar:max-download-size", what);
	fb_finish(s, err, reason);
}

/* Reply timeout of the current step: FB[-t MS] wins over the default. */
static unsigned fb_timeout(const struct fb_session *s, unsigned def)
{
	return s->step && s->step->timeout_ms ? s->step->timeout_ms : def;
}

static void fb_cmd_cb(void *ud, int status, size_t actual)
{
	struct fb_session *s = ud;

	s->cmd_x = NULL;
	s->live--;
	s->busy++;
	if (!s->freed && s->state != FB_STATE_FINISHED) {
		if (status == -ECANCELED)  /* not ours: the device was closed */
			status = -ENODEV;
		if (status < 0)
			fb_fail(s, status, "sending \"%s\": %s", s->cmd, strerror(-status));
		else if (actual != s->cmd_len)
			fb_fail(s, -EIO, "sending \"%s\": %zu of %zu bytes", s->cmd, actual,
				s->cmd_len);
		else
			fb_read_reply(s);
	}
	fb_release(s);
}

/* Send cmd, then read its reply(s) with reply_timeout. */
static void fb_command(struct fb_session *s, enum fb_state state, const char *cmd,
		       unsigned reply_timeout)
{
	size_t len = cmd ? strlen(cmd) : 0;
	int r;

	if (!len || len > FB_CMD_BUF) {
		fb_fail(s, -EINVAL, "bad fastboot command (%zu bytes)", len);
		return;
	}
	memcpy(s->cmd, cmd, len + 1);
	s->cmd_len = len;
	s->state = state;
	s->reply_timeout = reply_timeout;
	r = usb_bulk_out(s->dev, s->ep_out, s->cmd, len, s->o.fb_cmd_timeout_ms, fb_cmd_cb, s,
			 &s->cmd_x);
	if (r < 0) {
		fb_fail(s, r, "sending \"%s\": %s", s->cmd, strerror(-r));
		return;
	}
	s->live++;
}

static void fb_step_done(struct fb_session *s)
{
	s->idx++;
	fb_run_step(s);
}

/* ---- data phase ---- */

/* Step image bytes covered up to byte off of segment seg (unchanged by
 * segments that are not part of the image). */
static uint64_t fb_img_cover(const struct fb_session *s, const struct sparse_seg *g, size_t end,
			     uint64_t pos)
{
	uintptr_t p = (uintptr_t)g->data, lo = (uintptr_t)s->img;

	if (p >= lo && p - lo < s->img_len) {
		uint64_t e = (uint64_t)(p - lo) + end;
		if (e > pos)
			return e;
	}
	return pos;
}

/* The next transfer from cursor c (advanced past it): a pointer into the
 * image, or gathered small segments in sl->bounce. Returns its length. */
static size_t fb_slot_fill(struct fb_session *s, struct fb_slot *sl, struct fb_cursor *c,
			   const uint8_t **buf, uint64_t *pos)
{
	size_t n = 0;

	while (c->seg < s->piece.nseg && s->piece.seg[c->seg].len == c->off)
		c->seg++, c->off = 0;
	if (c->seg == s->piece.nseg)
		return 0;
	const struct sparse_seg *g = &s->piece.seg[c->seg];
	if (g->len >= FB_GATHER_MAX) {
		n = g->len - c->off < s->o.xfer_size ? g->len - c->off : s->o.xfer_size;
		*buf = g->data + c->off;
		c->off += n;
		*pos = fb_img_cover(s, g, c->off, *pos);
		return n;
	}
	*buf = sl->bounce;
	while (c->seg < s->piece.nseg && n < FB_BOUNCE) {
		g = &s->piece.seg[c->seg];
		if (g->len >= FB_GATHER_MAX)
			break;
		size_t k = g->len - c->off < FB_BOUNCE - n ? g->len - c->off : FB_BOUNCE - n;
		memcpy(sl->bounce + n, g->data + c->off, k);
		n += k;
		c->off += k;
		*pos = fb_img_cover(s, g, c->off, *pos);
		if (c->off == g->len)
			c->seg++, c->off = 0;
	}
	return n;
}

static void fb_pump(struct fb_session *s);

static void fb_data_cb(void *ud, int status, size_t actual)
{
	struct fb_slot *sl = ud;
	struct fb_session *s = sl->s;

	sl->x = NULL;
	s->live--;
	s->inflight--;
	s->busy++;
	if (!s->freed && s->state == FB_STATE_DATA) {
		if (status == -ECANCELED)
			status = -ENODEV;
		if (status < 0) {
			fb_fail(s, status, "data phase: %s after %llu bytes", strerror(-status),
				(unsigned long long)s->bytes);
		} else if (actual != sl->len) {
			fb_fail(s, -EIO, "data phase: short write (%zu of %zu bytes)", actual,
				sl->len);
		} else {
			s->bytes += actual;
			if (sl->img_end > s->progress) {
				s->progress = sl->img_end;
				if (s->ev.progress)
					s->ev.progress(s->ev.ud, s->progress, s->img_len);
			}
			if (!s->freed && s->state == FB_STATE_DATA)
				fb_pump(s);
		}
	}
	fb_release(s);
}

static struct fb_slot *fb_free_slot(struct fb_session *s)
{
	for (unsigned i = 0; i < s->nslots; i++)
		if (!s->slots[i].x)
			return &s->slots[i];
	return NULL;
}

/* Keep the pipe full; once everything was acknowledged, read the OKAY. */
static void fb_pump(struct fb_session *s)
{
	struct fb_slot *sl;

	while ((sl = fb_free_slot(s))) {
		struct fb_cursor c = s->cur;
		uint64_t pos = s->img_pos;
		const uint8_t *buf = NULL;
		size_t n = fb_slot_fill(s, sl, &c, &buf, &pos);
		if (!n)
			break;
		int r = usb_bulk_out(s->dev, s->ep_out, buf, n, s->o.fb_cmd_timeout_ms, fb_data_cb,
				     sl, &sl->x);
		if (r == -ENOMEM && s->inflight)
			break; /* usbfs memory limit: retry when one completes */
		if (r < 0) {
			fb_fail(s, r, "data phase: %s", strerror(-r));
			return;
		}
		sl->len = n;
		sl->img_end = pos;
		s->cur = c;
		s->img_pos = pos;
		s->inflight++;
		s->live++;
	}
	if (!s->inflight) {
		s->state = FB_STATE_DATA_OKAY;
		s->reply_timeout = fb_timeout(s, s->o.fb_cmd_timeout_ms);
		fb_read_reply(s);
	}
}

/* ---- flash / download ---- */

static void fb_send_download(struct fb_session *s)
{
	char cmd[FASTBOOT_CMD_MAX + 1];

	if (!s->piece.size || s->piece.size > s->max_dl) {
		fb_fail(s, -EFBIG, "piece of %llu bytes, max-download-size %u",
			(unsigned long long)s->piece.size, s->max_dl);
		return;
	}
	if (fastboot_format_download(cmd, (uint32_t)s->piece.size) < 0) {
		fb_fail(s, -EINVAL, "cannot format download");
		return;
	}
	s->cur = (struct fb_cursor){ 0, 0 };
	fb_command(s, FB_STATE_DOWNLOAD, cmd, fb_timeout(s, s->o.fb_cmd_timeout_ms));
}

/* The step's image is on the board: report it all done, next step. */
static void fb_image_done(struct fb_session *s)
{
	if (s->progress < s->img_len && s->ev.progress) {
		s->progress = s->img_len;
		s->ev.progress(s->ev.ud, s->img_len, s->img_len);
		if (s->freed)
			return;
	}
	fb_step_done(s);
}

static void fb_next_piece(struct fb_session *s)
{
	int r = sparse_writer_next(s->w, &s->piece);

	if (r < 0) {
		fb_fail(s, r, "cannot split the image (max-download-size %u)", s->max_dl);
		return;
	}
	if (r == 0) {
		s->w = sparse_writer_free(s->w);
		fb_image_done(s);
		return;
	}
	fb_send_download(s);
}

static void fb_flash_begin(struct fb_session *s)
{
	const struct plan_step *st = s->step;
	const char *why = NULL;
	uint64_t len = st->image_len;

	if (st->image && st->image_offset <= st->image->size && !len)
		len = st->image->size - st->image_offset; /* 0: to the end */
	if (!st->image || st->image_offset > st->image->size || !len ||
	    len > st->image->size - st->image_offset) {
		fb_fail(s, -EINVAL, "no image data");
		return;
	}
	s->img = st->image->data + st->image_offset;
	s->img_len = len;
	s->img_pos = s->progress = 0;
	if (st->op == PLAN_OP_DOWNLOAD) {
		s->one_seg = (struct sparse_seg){ s->img, (size_t)s->img_len };
		s->piece = (struct sparse_piece){ .seg = &s->one_seg, .nseg = 1, .size = s->img_len,
						.write_bytes = s->img_len, .sparse = false };
		fb_send_download(s);
		return;
	}
	struct sparse_opts so = { .max_piece = s->max_dl, .raw2sparse = st->raw2sparse };
	if (st->sparse_limit && st->sparse_limit < so.max_piece)
		so.max_piece = st->sparse_limit;
	int r = sparse_writer_new(s->img, (size_t)s->img_len, &so, &s->w, &why);
	if (r < 0) {
		fb_fail(s, r, "%s", why ? why : "cannot read the image");
		return;
	}
	fb_next_piece(s);
}

static unsigned fb_flash_timeout(const struct fb_session *s)
{
	uint64_t ms = s->piece.write_bytes / s->o.fb_flash_rate_kbps * 2;

	if (s->step->timeout_ms)
		return s->step->timeout_ms;
	if (ms < s->o.fb_flash_min_ms)
		ms = s->o.fb_flash_min_ms;
	return ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

/* ---- replies ---- */

static void fb_on_okay(struct fb_session *s, const struct fastboot_reply *rep)
{
	switch (s->state) {
	case FB_STATE_MAXDL:
		if (fastboot_parse_max_download(rep->text, &s->max_dl) < 0) {
			fb_fail(s, -EPROTO, "bad max-download-size \"%s\"", rep->text);
			return;
		}
		fb_run_step(s);
		return;
	case FB_STATE_CMD:
		if (s->step->op == PLAN_OP_GETVAR && s->ev.info) {
			char line[FASTBOOT_REPLY_MAX + 64];
			snprintf(line, sizeof(line), "%s: %s", s->step->arg ? s->step->arg : "",
				 rep->text);
			s->ev.info(s->ev.ud, line);
			if (s->freed)
				return;
		}
		fb_step_done(s);
		return;
	case FB_STATE_REBOOT:
		fb_step_done(s);
		return;
	case FB_STATE_DATA_OKAY:
		if (s->step->op == PLAN_OP_DOWNLOAD) {
			fb_image_done(s);
			return;
		}
		fb_command(s, FB_STATE_FLASH, s->step->fb_cmd, fb_flash_timeout(s));
		return;
	case FB_STATE_FLASH:
		fb_next_piece(s);
		return;
	case FB_STATE_DOWNLOAD:
	case FB_STATE_START:
	case FB_STATE_DATA:
	case FB_STATE_DELAY:
	case FB_STATE_FINISHED:
		break;
	}
	fb_fail(s, -EPROTO, "unexpected OKAY%s while %s", rep->text, fb_state_names[s->state]);
}

static void fb_on_reply(struct fb_session *s, const struct fastboot_reply *rep)
{
	switch (rep->kind) {
	case FASTBOOT_REPLY_INFO:
	case FASTBOOT_REPLY_TEXT:
		if (s->ev.info)
			s->ev.info(s->ev.ud, rep->text);
		if (!s->freed && s->state != FB_STATE_FINISHED)
			fb_read_reply(s);
		return;
	case FASTBOOT_REPLY_FAIL:
		fb_fail(s, -EREMOTEIO, "FAIL%s", rep->text);
		return;
	case FASTBOOT_REPLY_OKAY:
		fb_on_okay(s, rep);
		return;
	case FASTBOOT_REPLY_DATA:
		if (s->state != FB_STATE_DOWNLOAD)
			break;
		if (rep->data_size != s->piece.size) {
			fb_fail(s, -EPROTO, "board answered DATA%08x to download:%08x",
				rep->data_size, (unsigned)s->piece.size);
			return;
		}
		s->state = FB_STATE_DATA;
		fb_pump(s);
		return;
	}
	fb_fail(s, -EPROTO, "unexpected %s%s while %s", fastboot_reply_kind_to_string(rep->kind),
		rep->text, fb_state_names[s->state]);
}

/* After "reboot" was sent the board may reset before its OKAY is read:
 * the device leaving (-ENODEV, -EIO, -EPIPE) then counts as the OKAY. */
static bool fb_reboot_gone(const struct fb_session *s, int status)
{
	return s->state == FB_STATE_REBOOT &&
	       (status == -ENODEV || status == -EIO || status == -EPIPE);
}

static void fb_reply_cb(void *ud, int status, size_t actual)
{
	struct fb_session *s = ud;
	struct fastboot_reply rep;

	s->reply_x = NULL;
	s->live--;
	s->busy++;
	if (s->freed || s->state == FB_STATE_FINISHED)
		goto out;
	if (status == -ECANCELED)
		status = -ENODEV;
	if (fb_reboot_gone(s, status))
		fb_step_done(s);
	else if (status < 0)
		fb_fail(s, status, "no reply to \"%s\" (%s): %s", s->cmd, fb_state_names[s->state],
			strerror(-status));
	else if (fastboot_parse_reply(s->reply, actual, &rep) < 0)
		fb_fail(s, -EBADMSG, "bad reply to \"%s\" (%zu bytes)", s->cmd, actual);
	else
		fb_on_reply(s, &rep);
out:
	fb_release(s);
}

static void fb_read_reply(struct fb_session *s)
{
	int r = usb_bulk_in(s->dev, s->ep_in, s->reply, sizeof(s->reply), s->reply_timeout,
			    fb_reply_cb, s, &s->reply_x);

	if (r < 0) {
		fb_fail(s, r, "reading the reply to \"%s\": %s", s->cmd, strerror(-r));
		return;
	}
	s->live++;
}

/* ---- steps ---- */

static void fb_delay(struct fb_session *s, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	s->state = FB_STATE_DELAY;
	evtimer_add(s->timer, &tv);
}

static void fb_exec(struct fb_session *s)
{
	const struct plan_step *st = s->step;

	switch (st->op) {
	case PLAN_OP_GETVAR:
	case PLAN_OP_UCMD:
	case PLAN_OP_ACMD:
	case PLAN_OP_OEM:
	case PLAN_OP_CONTINUE:
		fb_command(s, FB_STATE_CMD, st->fb_cmd, fb_timeout(s, s->o.fb_cmd_timeout_ms));
		return;
	case PLAN_OP_ERASE:
		fb_command(s, FB_STATE_CMD, st->fb_cmd,
				  fb_timeout(s, s->o.fb_erase_timeout_ms));
		return;
	case PLAN_OP_REBOOT:
		fb_command(s, FB_STATE_REBOOT, st->fb_cmd,
				  fb_timeout(s, s->o.fb_cmd_timeout_ms));
		return;
	case PLAN_OP_FLASH:
	case PLAN_OP_DOWNLOAD:
		fb_flash_begin(s);
		return;
	case PLAN_OP_DELAY:
		fb_delay(s, st->delay_ms);
		return;
	case PLAN_OP_DONE:
		fb_finish(s, 0, NULL);
		return;
	case PLAN_OP_BOOT:
	case PLAN_OP_DCD:
	case PLAN_OP_WRITE:
	case PLAN_OP_JUMP:
	case PLAN_OP_STATUS:
	case PLAN_OP_CFG:
		break;
	}
	fb_fail(s, -EINVAL, "not a fastboot command (%s)", plan_op_to_string(st->op));
}

/* Start step s->idx, skipping lines that do not run on i.MX6; the FB flow
 * ends at the end of the plan or at the first step of another protocol. */
static void fb_run_step(struct fb_session *s)
{
	const struct plan_step *st;

	while ((st = plan_step(s->plan, s->idx)) && !st->runs_on_imx6)
		s->idx++;
	if (!st || st->proto != PLAN_PROTO_FB) {
		fb_finish(s, 0, NULL);
		return;
	}
	s->step = st;
	if (s->ev.step) {
		s->ev.step(s->ev.ud, s->idx, st->text);
		if (s->freed)
			return;
	}
	fb_exec(s);
}

static void fb_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_session *s = arg;

	(void)fd;
	(void)what;
	s->busy++;
	if (s->state == FB_STATE_START)
		fb_command(s, FB_STATE_MAXDL, "getvar:max-download-size", s->o.fb_cmd_timeout_ms);
	else if (s->state == FB_STATE_DELAY)
		fb_step_done(s);
	fb_release(s);
}

/* ---- public ---- */

static unsigned fb_or(unsigned v, unsigned def)
{
	return v ? v : def;
}

static void fb_opts(struct session_opts *o, const struct session_opts *in)
{
	*o = *in;
	o->fb_cmd_timeout_ms = fb_or(o->fb_cmd_timeout_ms, SESSION_FB_CMD_TIMEOUT_MS);
	o->fb_flash_min_ms = fb_or(o->fb_flash_min_ms, SESSION_FB_FLASH_MIN_MS);
	o->fb_erase_timeout_ms = fb_or(o->fb_erase_timeout_ms, SESSION_FB_ERASE_TIMEOUT_MS);
	o->fb_flash_rate_kbps = fb_or(o->fb_flash_rate_kbps, SESSION_FB_FLASH_RATE_KBPS);
	o->xfers_in_flight = fb_or(o->xfers_in_flight, SESSION_XFERS_IN_FLIGHT);
	if (o->xfers_in_flight > SESSION_XFERS_MAX)
		o->xfers_in_flight = SESSION_XFERS_MAX;
	if (!o->xfer_size)
		o->xfer_size = SESSION_XFER_SIZE;
	if (o->xfer_size > SESSION_XFER_SIZE_MAX)
		o->xfer_size = SESSION_XFER_SIZE_MAX;
	o->xfer_size -= o->xfer_size % 512;
	if (o->xfer_size < 512)
		o->xfer_size = 512;
}

static int fb_claim(struct usb_dev *dev, uint8_t *ep_in, uint8_t *ep_out)
{
	int iface = 0, r;

	r = usb_dev_find_bulk(dev, 0xff, 0x42, 0x03, &iface, ep_in, ep_out, NULL);
	if (r < 0)
		return r;
	return usb_dev_claim(dev, iface, false);
}

int fb_session_start(struct usb_dev *dev, struct plan *plan, size_t first,
		     const struct session_opts *o, const struct session_events *ev,
		     struct fb_session **out)
{
	struct fb_session *s;
	uint8_t ep_in = 0, ep_out = 0;
	int r;

	if (!dev || !plan || !o || !o->base || !ev || !out || first > plan_n_steps(plan))
		return -EINVAL;
	r = fb_claim(dev, &ep_in, &ep_out);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fb_opts(&s->o, o);
	s->nslots = s->o.xfers_in_flight;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->timer = evtimer_new(o->base, fb_timer_cb, s);
	if (!s->slots || !s->timer) {
		fb_destroy(s);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->nslots; i++)
		s->slots[i].s = s;
	s->dev = dev;
	s->plan = plan_ref(plan);
	s->ev = *ev;
	s->ep_in = ep_in;
	s->ep_out = ep_out;
	s->idx = first;
	s->state = FB_STATE_START;
	struct timeval now = { 0, 0 };
	evtimer_add(s->timer, &now);
	*out = s;
	return 0;
}

uint64_t fb_session_bytes(const struct fb_session *s)
{
	return s ? s->bytes : 0;
}

size_t fb_session_next_step(const struct fb_session *s)
{
	return s ? s->idx : 0;
}

struct fb_session *fb_session_free(struct fb_session *s)
{
	if (!s || s->freed)
		return NULL;
	s->freed = true;
	fb_cancel_all(s);
	if (!s->live && !s->busy)
		fb_destroy(s);
	return NULL;
}
