/* fb_session: runs a plan's FB steps against a U-Boot fastboot gadget over
 * the async usb module, on the daemon's event loop.
 *
 * One command at a time: bulk OUT "cmd", then bulk IN replies until OKAY,
 * FAIL or DATA (INFO/TEXT go to ev->info and the read is re-armed). The data
 * phase of a download keeps xfers_in_flight bulk OUT transfers queued; the
 * next one is submitted from the completion callback of the last. Each slot
 * owns one buffer of xfer_size bytes (usbfs zero-copy memory when the
 * kernel grants it, so the data is copied once: from the page cache into
 * that buffer by a read of the image, imgsrc.h). A transfer gathers the
 * piece's segments (sparse headers, FILL words, image data) until the
 * buffer is full, so every transfer but the last of a download is xfer_size
 * bytes, a multiple of 512 (no short packet mid-download), and none is
 * empty. Nothing of the image is mapped: flashd's memory does not follow
 * the image, and an image file truncated or rewritten since its plan was
 * loaded fails the step with the reason (image.h), never SIGBUS.
 *
 * Lifetime ("zombie" state), the walk over the steps, delays and failures:
 * session.c (session_priv.h).
 *
 * Bus scheduling (session_opts.bus, bussched.h): before each "download:"
 * the session asks the scheduler for a slot on its bus; while it waits
 * (FB_STATE_BUS) nothing is in flight. A release (the download's OKAY,
 * fb_cancel) hands the grants it made to the sessions concerned, each of
 * which sends its download from its own zero-delay event (bus_ev), never
 * from inside another session's callback. */
#include "daemon/session_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/clock.h"
#include "common/macro.h"
#include "daemon/digest_job.h"
#include "daemon/image.h"
#include "flashd/fastboot.h"
#include "flashd/plan.h"
#include "flashd/sparse.h"
#include "flashd/verify.h"

#include <zlib.h>

#define FB_REPLY_BUF 256u         /* ≥ 64: U-Boot answers with ≤ 64 bytes */
#define FB_CMD_BUF 4096u          /* U-Boot's command buffer */
#define FB_WHY_MAX 256u           /* a read-back failure's reason */

enum fb_state {
	FB_STATE_MAXDL,       /* getvar:max-download-size */
	FB_STATE_CMD,         /* a step's command: OKAY ends the step */
	FB_STATE_REBOOT,      /* "reboot": OKAY or the board leaving ends the step */
	FB_STATE_BUS,         /* the download waits for its turn on the bus: nothing in flight */
	FB_STATE_DOWNLOAD,    /* "download:%08x": expects DATA */
	FB_STATE_DATA,        /* data phase: bulk OUTs in flight */
	FB_STATE_DATA_OKAY,   /* expects OKAY after the data */
	FB_STATE_FLASH,       /* "flash:<part>": OKAY ends the piece */
	FB_STATE_VERIFY,      /* a read-back command (fb_verify_*): OKAY runs the next */
	_FB_STATE_MAX,
};

/* The read-back of a flash step (flashd-plan(5) "Verify"), in this order:
 * the PROBEs once per session, SELECT and RESTORE only for the boot
 * partitions, LOCATE and SETEXPR only where U-Boot's part command finds
 * the region. */
enum fb_vstep {
	FB_V_SELECT,   /* mmc dev D HWPART */
	FB_V_LOCATE,   /* part start mmc D P fv_start */
	FB_V_SETEXPR,  /* setexpr fv_blk ${fv_start} + OFF */
	FB_V_PROBE_OK, /* the digest of no bytes: must pass (once per session) */
	FB_V_PROBE,    /* a wrong digest of no bytes: must FAIL */
	FB_V_READ,     /* mmc read ${loadaddr} BLK CNT */
	FB_V_CHECK,    /* crc32 -v / hash -v sha256 */
	FB_V_RESTORE,  /* mmc dev D 0 */
};

static const char *const fb_state_names[] = {
	[FB_STATE_MAXDL] = "getvar max-download-size",
	[FB_STATE_CMD] = "command",         [FB_STATE_REBOOT] = "reboot",
	[FB_STATE_BUS] = "waiting for the bus",
	[FB_STATE_DOWNLOAD] = "download",   [FB_STATE_DATA] = "data",
	[FB_STATE_DATA_OKAY] = "data OKAY", [FB_STATE_FLASH] = "flash",
	[FB_STATE_VERIFY] = "verify",
};
_Static_assert(ELEMENTSOF(fb_state_names) == _FB_STATE_MAX,
	       "fb_state_names");

struct fb_slot {
	struct fb_session *s;
	struct usb_xfer *x;       /* non-NULL while live */
	size_t len;
	uint64_t img_end;         /* step image bytes covered once it completes */
	uint8_t *buf;             /* xfer_size bytes: usb_dev_buf_alloc */
};

struct fb_cursor {
	size_t seg;
	size_t off;
};

struct fb_session {
	struct session b;                 /* first */
	uint8_t ep_in, ep_out;
	enum fb_state state;
	uint32_t max_dl;
	uint64_t bytes;                   /* data bytes acknowledged, all steps */
	/* command / reply */
	struct usb_xfer *cmd_x, *reply_x;
	char cmd[FB_CMD_BUF + 1];
	size_t cmd_len;
	unsigned reply_timeout;
	uint8_t reply[FB_REPLY_BUF];
	/* flash / download of the current step */
	struct imgsrc src;                /* the step's part of the image */
	uint64_t img_len;
	struct sparse_writer *w;
	struct sparse_piece piece;
	struct sparse_seg one_seg;        /* download / raw piece built here */
	struct fb_cursor cur;
	uint64_t img_pos;                 /* img bytes covered by submitted transfers */
	uint64_t progress;                /* img bytes covered by completed transfers */
	uint64_t reported;                /* progress last given to session_progress */
	struct event *data_timer;         /* the data phase's watchdog */
	unsigned inflight;
	unsigned nslots;
	struct fb_slot *slots;
	/* the step's region and its read-back */
	uint64_t written;                 /* bytes the board wrote (pieces' write_bytes) */
	struct digest_job *dg;            /* the pieces' digests (digest_job.h) */
	bool vwait;                       /* the flash is over, the digests are not */
	size_t vidx;                      /* the next piece */
	struct verify_piece vp;
	struct plan_verify_target vt;
	enum fb_vstep vstep;
	char vwhere[64];
	bool probed;                      /* the wrong-digest probe failed as it must */
	unsigned vpieces;
	uint64_t vchecked;
	uint32_t vcrc;
	/* the step's time (monotonic ms): in downloads, in flash commands, in
	 * the read-back; mark: when the running one began */
	uint64_t dl_ms, fl_ms, vf_ms, mark;
	/* bus scheduling: a request in b.o.bus (waiting or holding a slot) */
	bool bus_req;
	struct event *bus_ev;             /* the grant came: send the download */
};

static void fb_read_reply(struct fb_session *s);

/* Ends the session; a split image's writer goes at once. */
static void fb_finish(struct fb_session *s, int status, const char *reason)
{
	s->w = sparse_writer_free(s->w);
	s->dg = digest_job_drop(s->dg);
	session_finish(&s->b, status, reason);
}

__attribute__((format(printf, 3, 4)))
static void fb_fail(struct fb_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	s->w = sparse_writer_free(s->w);
	s->dg = digest_job_drop(s->dg);
	va_start(ap, fmt);
	session_failv(&s->b, err, fmt, ap);
	va_end(ap);
}

/* Reply timeout of the current step: FB[-t MS] wins over the default. */
static unsigned fb_timeout(const struct fb_session *s, unsigned def)
{
	return s->b.step && s->b.step->timeout_ms ? s->b.step->timeout_ms : def;
}

static void fb_cmd_cb(void *ud, int status, size_t actual)
{
	struct fb_session *s = ud;

	s->cmd_x = NULL;
	session_xfer_enter(&s->b);
	if (session_active(&s->b)) {
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
	session_leave(&s->b);
}

static uint64_t fb_now(void)
{
	return (uint64_t)clock_ms(CLOCK_MONOTONIC);
}

/* ms since the running phase began (mark) */
static uint64_t fb_since(const struct fb_session *s)
{
	uint64_t now = fb_now();

	return now > s->mark ? now - s->mark : 0;
}

/* The one setter of the session's state (failures name the state). */
static void fb_set_state(struct fb_session *s, enum fb_state state)
{
	s->state = state;
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
	fb_set_state(s, state);
	s->reply_timeout = reply_timeout;
	r = usb_bulk_out(s->b.dev, s->ep_out, s->cmd, len, s->b.o.fb_cmd_timeout_ms, fb_cmd_cb, s,
			 &s->cmd_x);
	if (r < 0) {
		fb_fail(s, r, "sending \"%s\": %s", s->cmd, strerror(-r));
		return;
	}
	session_submitted(&s->b);
}

/* ---- data phase ---- */

/* Step image bytes covered up to byte end of segment g (unchanged by
 * generated segments). */
static uint64_t fb_img_cover(const struct sparse_seg *g, size_t end, uint64_t pos)
{
	if (!g->gen && g->off + end > pos)
		return g->off + end;
	return pos;
}

/* n bytes of segment g from offset off into dst: generated bytes are
 * copied, image bytes read from the image's source (image.h: -ESTALE when
 * the file is no longer the one that was hashed). */
static int fb_copy_seg(const struct fb_session *s, const struct sparse_seg *g, size_t off, uint8_t *dst,
		       size_t n)
{
	if (g->gen) {
		memcpy(dst, g->gen + off, n);
		return 0;
	}
	return imgsrc_read(&s->src, g->off + off, dst, n);
}

/* The next transfer into sl->buf from cursor c (advanced past it): up to
 * xfer_size bytes, fewer only at the end of the piece. *len = 0: nothing
 * left. *pos: step image bytes covered. */
static int fb_slot_fill(struct fb_session *s, struct fb_slot *sl, struct fb_cursor *c, uint64_t *pos,
			size_t *len)
{
	size_t n = 0;

	while (c->seg < s->piece.nseg && n < s->b.o.xfer_size) {
		const struct sparse_seg *g = &s->piece.seg[c->seg];
		size_t k = g->len - c->off;
		int r;

		if (k > s->b.o.xfer_size - n)
			k = s->b.o.xfer_size - n;
		r = fb_copy_seg(s, g, c->off, sl->buf + n, k);
		if (r < 0)
			return r;
		n += k;
		c->off += k;
		*pos = fb_img_cover(g, c->off, *pos);
		if (c->off == g->len)
			c->seg++, c->off = 0;
	}
	*len = n;
	return 0;
}

static void fb_pump(struct fb_session *s);

static void fb_data_cb(void *ud, int status, size_t actual)
{
	struct fb_slot *sl = ud;
	struct fb_session *s = sl->s;

	sl->x = NULL;
	s->inflight--;
	session_xfer_enter(&s->b);
	if (session_active(&s->b) && s->state == FB_STATE_DATA) {
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
			if (sl->img_end > s->progress)
				s->progress = sl->img_end;
			/* once per pipeline's worth of data (1 MiB by default), not per
			 * transfer: each report reads the clock and walks the port */
			if (s->progress - s->reported >= (uint64_t)s->b.o.xfer_size * s->nslots) {
				s->reported = s->progress;
				session_progress(&s->b, s->progress, s->img_len);
			}
			if (session_active(&s->b) && s->state == FB_STATE_DATA)
				fb_pump(s);
		}
	}
	session_leave(&s->b);
}

static struct fb_slot *fb_free_slot(struct fb_session *s)
{
	for (unsigned i = 0; i < s->nslots; i++)
		if (!s->slots[i].x)
			return &s->slots[i];
	return NULL;
}

/* No data transfer completed for fb_cmd_timeout_ms: the board stopped
 * taking data. */
static void fb_data_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_session *s = arg;

	(void)fd;
	(void)what;
	session_enter(&s->b);
	if (session_active(&s->b) && s->state == FB_STATE_DATA)
		fb_fail(s, -ETIMEDOUT, "data phase: the board took nothing for %u ms (%llu bytes sent)",
			s->b.o.fb_cmd_timeout_ms, (unsigned long long)s->bytes);
	session_leave(&s->b);
}

/* Keep the pipe full; once everything was acknowledged, read the OKAY. */
static void fb_pump(struct fb_session *s)
{
	struct fb_slot *sl;

	while ((sl = fb_free_slot(s))) {
		struct fb_cursor c = s->cur;
		uint64_t pos = s->img_pos;
		size_t n = 0;
		int r = fb_slot_fill(s, sl, &c, &pos, &n);

		if (r < 0) {
			fb_fail(s, r, "reading %s: %s", s->b.step->image->path ? s->b.step->image->path : "the image",
				image_read_error(r));
			return;
		}
		if (!n)
			break;
		/* no libusb timeout (a timerfd update and a clock read per
		 * transfer): data_timer watches the data phase as a whole */
		r = usb_bulk_out(s->b.dev, s->ep_out, sl->buf, n, 0, fb_data_cb, sl, &sl->x);
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
		session_submitted(&s->b);
	}
	if (s->inflight) {
		struct timeval tv = { s->b.o.fb_cmd_timeout_ms / 1000,
				      (s->b.o.fb_cmd_timeout_ms % 1000) * 1000 };
		evtimer_add(s->data_timer, &tv); /* re-armed by every completion */
		return;
	}
	evtimer_del(s->data_timer);
	fb_set_state(s, FB_STATE_DATA_OKAY);
	s->reply_timeout = fb_timeout(s, s->b.o.fb_cmd_timeout_ms);
	fb_read_reply(s);
}

/* ---- bus scheduling ---- */

/* Give the bus back (no-op without a request) and wake the sessions that
 * got its slot. */
static void fb_bus_release(struct fb_session *s)
{
	if (!s->bus_req)
		return;
	s->bus_req = false;
	bussched_release(s->b.o.bus, s, fb_now());
	fb_session_bus_kick(s->b.o.bus);
}

void fb_session_bus_kick(struct bussched *bus)
{
	static const struct timeval now = { 0, 0 };
	void *h;

	while (bussched_granted(bus, &h)) {
		struct fb_session *g = h;
		evtimer_add(g->bus_ev, &now);
	}
}

/* The bytes the board has left to download from this piece on: what
 * bus-order = shortest compares. The step's image not sent yet (at least
 * this piece) and the later steps' images count as they are in the files
 * (sparse pieces may be smaller: an estimate). */
static uint64_t fb_bytes_left(const struct fb_session *s)
{
	uint64_t n = s->img_len > s->img_pos ? s->img_len - s->img_pos : 0;

	if (n < s->piece.size)
		n = s->piece.size;
	size_t steps = plan_n_steps(s->b.plan);

	for (size_t i = s->b.idx + 1; i < steps; i++) {
		const struct plan_step *st = plan_step(s->b.plan, i);
		if (st->proto != PLAN_PROTO_FB || !st->image)
			continue;
		if (st->op != PLAN_OP_FLASH && st->op != PLAN_OP_DOWNLOAD)
			continue;
		n += st->image_len ? st->image_len
		     : st->image->size > st->image_offset ? st->image->size - st->image_offset : 0;
	}
	return n;
}

/* ---- flash / download ---- */

static void fb_download_cmd(struct fb_session *s)
{
	char cmd[FASTBOOT_CMD_MAX + 1];

	if (fastboot_format_download(cmd, (uint32_t)s->piece.size) < 0) {
		fb_fail(s, -EINVAL, "cannot format download");
		return;
	}
	s->cur = (struct fb_cursor){ 0, 0 };
	s->mark = fb_now();
	fb_command(s, FB_STATE_DOWNLOAD, cmd, fb_timeout(s, s->b.o.fb_cmd_timeout_ms));
}

/* The grant came (fb_session_bus_kick): the download goes. */
static void fb_bus_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_session *s = arg;

	(void)fd;
	(void)what;
	session_enter(&s->b);
	if (session_active(&s->b) && s->state == FB_STATE_BUS) {
		if (s->b.ev.bus_wait)
			s->b.ev.bus_wait(s->b.ev.ud, false, 0, 0);
		if (session_active(&s->b))
			fb_download_cmd(s);
	}
	session_leave(&s->b);
}

/* Ask for the bus (when scheduled), then send "download:". A scheduler
 * that cannot take the request (-ENOMEM, -ENOSPC) lets the download go:
 * it never fails a board. */
static void fb_send_download(struct fb_session *s)
{
	uint64_t bytes;
	int r;

	if (!s->piece.size || s->piece.size > s->max_dl) {
		fb_fail(s, -EFBIG, "piece of %llu bytes, max-download-size %u",
			(unsigned long long)s->piece.size, s->max_dl);
		return;
	}
	if (!s->b.o.bus || s->piece.size <= s->b.o.bus_small) {
		/* a short download costs the bus next to nothing: held behind a
		 * long one it would only keep its board's eMMC idle */
		fb_download_cmd(s);
		return;
	}
	bytes = fb_bytes_left(s);
	r = bussched_request(s->b.o.bus, s->b.o.bus_key, s, bytes, fb_now());
	s->bus_req = r >= 0;
	if (r != 0) {
		fb_download_cmd(s);
		return;
	}
	fb_set_state(s, FB_STATE_BUS);
	if (s->b.ev.bus_wait)
		s->b.ev.bus_wait(s->b.ev.ud, true, bytes, bussched_ahead(s->b.o.bus, s, fb_now()));
}

static void fb_verify_begin(struct fb_session *s);
static int fb_verify_prepare(struct fb_session *s);
static bool fb_verify_wanted(const struct fb_session *s, const char **why);
static bool fb_region(struct fb_session *s, bool verify, bool verified, const char *why);

/* The step's image is on the board: report it all done; a flash's region
 * is read back or recorded as it is; next step. */
static void fb_image_done(struct fb_session *s)
{
	const char *why = NULL;

	s->progress = s->img_len;
	if (s->reported < s->img_len) {
		s->reported = s->img_len;
		if (!session_progress(&s->b, s->img_len, s->img_len))
			return;
	}
	if (fb_verify_wanted(s, &why)) {
		fb_verify_begin(s);
		return;
	}
	if (s->b.step->op == PLAN_OP_FLASH && !fb_region(s, false, false, why))
		return;
	session_step_done(&s->b);
}

static void fb_next_piece(struct fb_session *s)
{
	int r = sparse_writer_next(s->w, &s->piece);

	if (r < 0) {
		if (r == -EINVAL || r == -ENOMEM)
			fb_fail(s, r, "cannot split the image (max-download-size %u)", s->max_dl);
		else
			fb_fail(s, r, "reading %s: %s", s->b.step->image->path, image_read_error(r));
		return;
	}
	if (r == 0) {
		s->w = sparse_writer_free(s->w);
		fb_image_done(s);
		return;
	}
	fb_send_download(s);
}

/* The slots' transfer buffers, at the first download of the session (not
 * at its start: the first command goes out without waiting for them). */
static int fb_buffers(struct fb_session *s)
{
	for (unsigned i = 0; i < s->nslots; i++) {
		if (s->slots[i].buf)
			continue;
		s->slots[i].buf = usb_dev_buf_alloc(s->b.dev, s->b.o.xfer_size, NULL);
		if (!s->slots[i].buf)
			return -ENOMEM;
	}
	return 0;
}

static void fb_flash_begin(struct fb_session *s)
{
	const struct plan_step *st = s->b.step;
	const char *why = NULL;
	uint64_t len = st->image_len;
	int r;

	if (fb_buffers(s) < 0) {
		fb_fail(s, -ENOMEM, "no memory for %u transfer buffers of %zu bytes", s->nslots,
			s->b.o.xfer_size);
		return;
	}

	if (st->image && st->image_offset <= st->image->size && !len)
		len = st->image->size - st->image_offset; /* 0: to the end */
	if (!st->image || st->image_offset > st->image->size || !len ||
	    len > st->image->size - st->image_offset) {
		fb_fail(s, -EINVAL, "no image data");
		return;
	}
	r = image_fresh(st->image);
	if (r < 0) {
		fb_fail(s, r, "%s: %s", st->image->path, image_read_error(r));
		return;
	}
	s->src = imgsrc_sub(&st->image->src, st->image_offset, len);
	s->img_len = len;
	s->img_pos = s->progress = s->reported = 0;
	s->written = 0;
	s->dl_ms = s->fl_ms = s->vf_ms = 0;
	s->vpieces = 0;
	s->vchecked = 0;
	s->vcrc = 0;
	if (st->op == PLAN_OP_DOWNLOAD) {
		s->one_seg = (struct sparse_seg){ .gen = NULL, .off = 0, .len = (size_t)s->img_len };
		s->piece = (struct sparse_piece){ .seg = &s->one_seg, .nseg = 1, .size = s->img_len,
						.write_bytes = s->img_len, .sparse = false };
		fb_send_download(s);
		return;
	}
	const char *nowhy;
	if (fb_verify_wanted(s, &nowhy) && fb_verify_prepare(s) < 0)
		return;
	struct sparse_opts so = { .max_piece = s->max_dl, .raw2sparse = st->raw2sparse,
				  .map = st->image->map, .map_off = st->image_offset };
	if (st->sparse_limit && st->sparse_limit < so.max_piece)
		so.max_piece = st->sparse_limit;
	/* on a scheduled bus, an image that goes sparse anyway goes in short
	 * pieces: one board's turn on the bus is short, and the boards
	 * interleave downloads and eMMC writes finely (flashd.conf(5) bus-piece) */
	if (s->b.o.bus && s->b.o.bus_piece && (st->raw2sparse || st->image->sparse.sparse) &&
	    s->b.o.bus_piece < so.max_piece)
		so.max_piece = s->b.o.bus_piece;
	r = sparse_writer_new(&s->src, &so, &s->w, &why);
	if (r < 0) {
		bool bad = r == -EBADMSG || r == -EINVAL || r == -ENOMEM || r == -EFBIG;
		fb_fail(s, r, "%s: %s", st->image->path, bad && why ? why : image_read_error(r));
		return;
	}
	fb_next_piece(s);
}

static unsigned fb_flash_timeout(const struct fb_session *s)
{
	uint64_t ms = s->piece.write_bytes / s->b.o.fb_flash_rate_kbps * 2;

	if (s->b.step->timeout_ms)
		return s->b.step->timeout_ms;
	if (ms < s->b.o.fb_flash_min_ms)
		ms = s->b.o.fb_flash_min_ms;
	return ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

/* ---- read-back (flashd-plan(5) "Verify") ----
 *
 * After the last piece of a flash step U-Boot reads the region back into
 * RAM at ${loadaddr} and checks it against the digest of the bytes that
 * were sent, in pieces of at most verify_piece (≤ max-download-size, the
 * RAM the fastboot buffer already takes): `mmc read` (cmd/mmc.c), then
 * `crc32 -v` (cmd/mem.c, CONFIG_CRC32_VERIFY) or `hash -v sha256`
 * (cmd/hash.c, CONFIG_HASH_VERIFY); a mismatch makes the command fail,
 * and fastboot's FAIL is the verdict. The digests come from the image
 * (verify.h: what the board wrote, DONT_CARE left out), computed on the
 * station's digest worker while the board takes the data (digest_job.h):
 * the loop only reads them.
 *
 * Before the first read-back of a session U-Boot proves it can verify:
 * the digest of no bytes must match (crc32 00000000, the SHA-256 of
 * nothing) and a wrong one must not. A U-Boot built without
 * CONFIG_CRC32_VERIFY refuses "crc32 -v A N C" as a usage error (FAIL),
 * and one that took a shorter form would checksum other memory and
 * succeed (cmd/mem.c do_mem_crc, lib/hash.c hash_command): either way
 * the board fails as one that cannot verify, and a FAIL of a later check
 * is a mismatch, never a missing option. */

static const char *fb_verify_method(const struct fb_session *s)
{
	return s->b.o.verify_sha256 ? "sha256" : "crc32";
}

static bool fb_verify_wanted(const struct fb_session *s, const char **why)
{
	const struct plan_step *st = s->b.step;

	if (st->op != PLAN_OP_FLASH) {
		*why = NULL;
		return false;
	}
	if (st->verify)
		return true;
	if (!s->b.o.verify_all)
		*why = "verify off";
	else if (st->no_verify)
		*why = "-no-verify";
	else if (plan_step_verify_skipped(st))
		*why = "not verifiable: give -verify-at or -verify-part";
	else
		return true;
	return false;
}

static bool fb_region(struct fb_session *s, bool verify, bool verified, const char *why)
{
	struct session_region r = {
		.step_index = s->b.idx,
		.part = s->b.step->arg,
		.bytes = s->written,
		.verify = verify,
		.verified = verified,
		.method = verify ? fb_verify_method(s) : NULL,
		.where = verify ? s->vwhere : NULL,
		.pieces = s->vpieces,
		.checked = s->vchecked,
		.crc32 = s->vcrc,
		.why = why,
		.download_ms = s->dl_ms,
		.flash_ms = s->fl_ms,
		.verify_ms = verify ? fb_since(s) : 0,
	};

	return session_region(&s->b, &r);
}

__attribute__((format(printf, 3, 4)))
static void fb_verify_failed(struct fb_session *s, int err, const char *fmt, ...)
{
	char why[FB_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!fb_region(s, true, false, why))
		return;
	fb_fail(s, err, "verify %s: %s", s->b.step->arg, why);
}

/* A U-Boot command of the read-back; its timeout: a flash's for BYTES. */
__attribute__((format(printf, 4, 5)))
static void fb_verify_cmd(struct fb_session *s, enum fb_vstep v, uint64_t bytes, const char *fmt, ...)
{
	char cmd[FB_CMD_BUF + 1] = "UCmd:";
	uint64_t ms = bytes / s->b.o.fb_flash_rate_kbps * 2;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd + 5, sizeof(cmd) - 5, fmt, ap);
	va_end(ap);
	if (ms < s->b.o.fb_cmd_timeout_ms)
		ms = s->b.o.fb_cmd_timeout_ms;
	if (s->b.step->timeout_ms)
		ms = s->b.step->timeout_ms;
	s->vstep = v;
	fb_command(s, FB_STATE_VERIFY, cmd, ms > UINT_MAX ? UINT_MAX : (unsigned)ms);
}

#define FB_SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The check of the piece in RAM (CHECK), or of no bytes (the PROBEs: the
 * right digest, then a wrong one). 8 or 64 hex digits, no 0x: what
 * parse_verify_sum() in lib/hash.c takes as a digest. */
static void fb_verify_check(struct fb_session *s, enum fb_vstep v)
{
	uint64_t len = v == FB_V_CHECK ? s->vp.len : 0;
	char sha[65];

	if (!s->b.o.verify_sha256) {
		uint32_t crc = v == FB_V_CHECK ? s->vp.crc32 : v == FB_V_PROBE ? 0xffffffffu : 0;

		fb_verify_cmd(s, v, len, "crc32 -v ${loadaddr} 0x%" PRIx64 " %08" PRIx32, len, crc);
		return;
	}
	memcpy(sha, v == FB_V_CHECK ? s->vp.sha256 : FB_SHA256_EMPTY, sizeof(sha));
	if (v == FB_V_PROBE)
		sha[0] = sha[0] == '0' ? '1' : '0';
	fb_verify_cmd(s, v, len, "hash -v sha256 ${loadaddr} 0x%" PRIx64 " %s", len, sha);
}

static void fb_verify_locate(struct fb_session *s);

static void fb_verify_read(struct fb_session *s)
{
	uint64_t cnt = (s->vp.len + 511) / 512;

	if (s->vt.loc == PLAN_VERIFY_PART)
		fb_verify_cmd(s, FB_V_READ, s->vp.len, "mmc read ${loadaddr} ${fv_blk} 0x%" PRIx64, cnt);
	else
		fb_verify_cmd(s, FB_V_READ, s->vp.len, "mmc read ${loadaddr} 0x%" PRIx64 " 0x%" PRIx64,
			      (s->vt.at + s->vp.off) / 512, cnt);
}

static void fb_verify_done(struct fb_session *s)
{
	s->dg = digest_job_drop(s->dg);
	if (!s->vpieces) {
		/* nothing was written (a sparse image of DONT_CARE only) */
		if (fb_region(s, true, false, "the image writes nothing"))
			session_step_done(&s->b);
		return;
	}
	if (fb_region(s, true, true, NULL))
		session_step_done(&s->b);
}

static void fb_verify_next_piece(struct fb_session *s)
{
	const struct verify_piece *p;
	const char *why;
	size_t n;

	digest_job_result(s->dg, &p, &n, &why); /* ready, and no error (fb_verify_go) */
	if (s->vidx == n) {
		if (s->vt.loc == PLAN_VERIFY_BOOT1 || s->vt.loc == PLAN_VERIFY_BOOT2)
			fb_verify_cmd(s, FB_V_RESTORE, 0, "mmc dev %u 0", s->b.o.verify_mmc_dev);
		else
			fb_verify_done(s);
		return;
	}
	s->vp = p[s->vidx++];
	if (s->vt.loc == PLAN_VERIFY_PART)
		fb_verify_cmd(s, FB_V_SETEXPR, 0, "setexpr fv_blk ${fv_start} + 0x%" PRIx64, s->vp.off / 512);
	else
		fb_verify_read(s);
}

/* OKAY to the read-back command in flight. */
static void fb_verify_okay(struct fb_session *s)
{
	/* every answer is progress: a long read-back never looks stalled */
	if (!session_progress(&s->b, s->img_len, s->img_len))
		return;
	switch (s->vstep) {
	case FB_V_SELECT:
	case FB_V_LOCATE:
		fb_verify_next_piece(s);
		return;
	case FB_V_SETEXPR:
		fb_verify_read(s);
		return;
	case FB_V_PROBE_OK:
		fb_verify_check(s, FB_V_PROBE);
		return;
	case FB_V_READ:
		fb_verify_check(s, FB_V_CHECK);
		return;
	case FB_V_PROBE:
		fb_verify_failed(s, -ENOTSUP, "U-Boot accepted a wrong %s: it cannot verify "
				 "(built without %s?)", fb_verify_method(s),
				 s->b.o.verify_sha256 ? "CONFIG_HASH_VERIFY" : "CONFIG_CRC32_VERIFY");
		return;
	case FB_V_CHECK:
		s->vcrc = s->vpieces ? (uint32_t)crc32_combine(s->vcrc, s->vp.crc32, (z_off_t)s->vp.len)
				     : s->vp.crc32;
		s->vpieces++;
		s->vchecked += s->vp.len;
		fb_verify_next_piece(s);
		return;
	case FB_V_RESTORE:
		fb_verify_done(s);
		return;
	}
}

/* FAIL to the read-back command in flight: the verdict, or a U-Boot that
 * cannot run the read-back. */
static void fb_verify_fail(struct fb_session *s, const struct fastboot_reply *rep)
{
	const char *u = rep->text[0] ? rep->text : "FAIL";
	unsigned d = s->b.o.verify_mmc_dev;

	switch (s->vstep) {
	case FB_V_SELECT:
	case FB_V_RESTORE:
		fb_verify_failed(s, -EREMOTEIO, "U-Boot could not select the hardware partition "
				 "(\"%s\": %s)", s->cmd + 5, u);
		return;
	case FB_V_LOCATE:
		fb_verify_failed(s, -EREMOTEIO, "U-Boot's part command did not find %s on mmc %u "
				 "(\"%s\": %s): give -verify-at BYTES or -verify-part P, or the "
				 "U-Boot lacks CONFIG_CMD_PART", s->vt.part, d, s->cmd + 5, u);
		return;
	case FB_V_SETEXPR:
		fb_verify_failed(s, -EREMOTEIO, "U-Boot could not compute the block (\"%s\": %s; "
				 "CONFIG_CMD_SETEXPR?)", s->cmd + 5, u);
		return;
	case FB_V_READ:
		fb_verify_failed(s, -EREMOTEIO, "U-Boot could not read bytes 0x%" PRIx64 "+0x%" PRIx64
				 " back (\"%s\": %s)", s->vp.off, s->vp.len, s->cmd + 5, u);
		return;
	case FB_V_PROBE_OK:
		fb_verify_failed(s, -ENOTSUP, "U-Boot refused \"%s\" (%s): it cannot verify (built "
				 "without %s?)", s->cmd + 5, u,
				 s->b.o.verify_sha256 ? "CONFIG_CMD_HASH or CONFIG_HASH_VERIFY"
						      : "CONFIG_CMD_CRC32 or CONFIG_CRC32_VERIFY");
		return;
	case FB_V_PROBE:
		s->probed = true; /* as it must */
		fb_verify_locate(s);
		return;
	case FB_V_CHECK:
		fb_verify_failed(s, -EBADMSG, "bytes 0x%" PRIx64 "+0x%" PRIx64 " of the region "
				 "(%s) differ from what was sent (U-Boot \"%s\": %s)", s->vp.off,
				 s->vp.len, s->vwhere, s->cmd + 5, u);
		return;
	}
}

static void fb_verify_go(struct fb_session *s);

/* The digests are ready: continue the read-back that waits for them. */
static void fb_digest_done(void *ud)
{
	struct fb_session *s = ud;

	session_enter(&s->b);
	if (session_active(&s->b) && s->vwait) {
		s->vwait = false;
		fb_verify_go(s);
	}
	session_leave(&s->b);
}

/* When a flash step that is read back starts: where its region is, and its
 * digests computed meanwhile (on the station's worker) from the image. */
static int fb_verify_prepare(struct fb_session *s)
{
	const struct plan_step *st = s->b.step;
	struct sparse_info info = st->image->sparse;
	struct imgsrc src = s->src;
	uint64_t piece = s->b.o.verify_piece ? s->b.o.verify_piece : SESSION_VERIFY_PIECE;

	if (piece > s->max_dl)
		piece = s->max_dl;
	piece -= piece % 512;
	if (plan_verify_target(st, &s->vt) < 0 || !piece) {
		fb_fail(s, -EINVAL, "verify %s: no region to read back (max-download-size %u)", st->arg,
			s->max_dl);
		return -EINVAL;
	}
	if (!info.sparse || s->img_len != st->image->size) {
		/* a raw image, or the part of one a flash sends (-scanterm) */
		uint64_t len = s->vt.max_len && s->vt.max_len < s->img_len ? s->vt.max_len : s->img_len;

		src = imgsrc_sub(&s->src, 0, len);
		info = (struct sparse_info){ .sparse = false, .size = len, .expanded_size = len };
	}
	s->vwait = false;
	s->dg = digest_job_drop(s->dg);
	if (digest_job_start(s->b.o.digests, st->image, &src, &info,
			     &(struct verify_opts){ .max_piece = piece, .want_sha256 = s->b.o.verify_sha256 },
			     fb_digest_done, s, &s->dg) < 0) {
		fb_fail(s, -ENOMEM, "verify %s: out of memory", st->arg);
		return -ENOMEM;
	}
	return 0;
}

/* The flash is over: the read-back, once the digests are there. */
static void fb_verify_begin(struct fb_session *s)
{
	s->mark = fb_now();
	if (!digest_job_ready(s->dg)) {
		s->vwait = true; /* fb_digest_done goes on */
		return;
	}
	fb_verify_go(s);
}

static void fb_verify_go(struct fb_session *s)
{
	const struct plan_step *st = s->b.step;
	const struct verify_piece *p;
	const char *why = NULL;
	size_t n;
	int r = digest_job_result(s->dg, &p, &n, &why);

	if (r < 0) {
		bool bad = r == -EBADMSG || r == -EINVAL || r == -ENOMEM;
		fb_fail(s, r, "verify %s: %s: %s", st->arg, st->image->path,
			bad && why ? why : image_read_error(r));
		return;
	}
	s->vidx = 0;
	s->vpieces = 0;
	s->vchecked = 0;
	s->vcrc = 0;
	if (s->vt.loc == PLAN_VERIFY_PART)
		snprintf(s->vwhere, sizeof(s->vwhere), "part %s", s->vt.part);
	else if (s->vt.loc == PLAN_VERIFY_AT)
		snprintf(s->vwhere, sizeof(s->vwhere), "at 0x%" PRIx64, s->vt.at);
	else
		snprintf(s->vwhere, sizeof(s->vwhere), "mmc %u hwpart %d", s->b.o.verify_mmc_dev,
			 s->vt.loc == PLAN_VERIFY_BOOT1 ? 1 : 2);
	if (!s->probed) {
		fb_verify_check(s, FB_V_PROBE_OK);
		return;
	}
	fb_verify_locate(s);
}

/* Where the region is: its first command. */
static void fb_verify_locate(struct fb_session *s)
{
	unsigned d = s->b.o.verify_mmc_dev;

	switch (s->vt.loc) {
	case PLAN_VERIFY_PART:
		fb_verify_cmd(s, FB_V_LOCATE, 0, "part start mmc %u %s fv_start", d, s->vt.part);
		return;
	case PLAN_VERIFY_AT:
		fb_verify_next_piece(s);
		return;
	case PLAN_VERIFY_BOOT1:
	case PLAN_VERIFY_BOOT2:
		fb_verify_cmd(s, FB_V_SELECT, 0, "mmc dev %u %d", d, s->vt.loc == PLAN_VERIFY_BOOT1 ? 1 : 2);
		return;
	}
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
		session_run_step(&s->b);
		return;
	case FB_STATE_CMD:
		if (s->b.step->op == PLAN_OP_GETVAR) {
			char line[FASTBOOT_REPLY_MAX + 64];
			snprintf(line, sizeof(line), "%s: %s", s->b.step->arg ? s->b.step->arg : "",
				 rep->text);
			if (!session_info(&s->b, line))
				return;
		}
		session_step_done(&s->b);
		return;
	case FB_STATE_REBOOT:
		session_step_done(&s->b);
		return;
	case FB_STATE_DATA_OKAY:
		s->dl_ms += fb_since(s);
		fb_bus_release(s); /* the data phase is over: the bus is the next board's */
		if (s->b.step->op == PLAN_OP_DOWNLOAD) {
			fb_image_done(s);
			return;
		}
		s->mark = fb_now();
		fb_command(s, FB_STATE_FLASH, s->b.step->fb_cmd, fb_flash_timeout(s));
		return;
	case FB_STATE_FLASH:
		s->fl_ms += fb_since(s);
		s->written += s->piece.write_bytes;
		fb_next_piece(s);
		return;
	case FB_STATE_VERIFY:
		fb_verify_okay(s);
		return;
	case FB_STATE_BUS:
	case FB_STATE_DOWNLOAD:
	case FB_STATE_DATA:
	case _FB_STATE_MAX:
		break;
	}
	fb_fail(s, -EPROTO, "unexpected OKAY%s while %s", rep->text, fb_state_names[s->state]);
}

static void fb_on_reply(struct fb_session *s, const struct fastboot_reply *rep)
{
	switch (rep->kind) {
	case FASTBOOT_REPLY_INFO:
	case FASTBOOT_REPLY_TEXT:
		if (session_info(&s->b, rep->text) && session_active(&s->b))
			fb_read_reply(s);
		return;
	case FASTBOOT_REPLY_FAIL:
		if (s->state == FB_STATE_VERIFY) {
			fb_verify_fail(s, rep);
			return;
		}
		fb_fail(s, -EREMOTEIO, "FAIL%s%s", rep->text[0] ? ": " : "", rep->text);
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
		fb_set_state(s, FB_STATE_DATA);
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
	session_xfer_enter(&s->b);
	if (!session_active(&s->b))
		goto out;
	if (status == -ECANCELED)
		status = -ENODEV;
	if (fb_reboot_gone(s, status))
		session_step_done(&s->b);
	else if (status < 0)
		fb_fail(s, status, "no reply to \"%s\" (%s): %s", s->cmd, fb_state_names[s->state],
			strerror(-status));
	else if (fastboot_parse_reply(s->reply, actual, &rep) < 0)
		fb_fail(s, -EBADMSG, "bad reply to \"%s\" (%zu bytes)", s->cmd, actual);
	else
		fb_on_reply(s, &rep);
out:
	session_leave(&s->b);
}

static void fb_read_reply(struct fb_session *s)
{
	int r = usb_bulk_in(s->b.dev, s->ep_in, s->reply, sizeof(s->reply), s->reply_timeout,
			    fb_reply_cb, s, &s->reply_x);

	if (fb_reboot_gone(s, r)) { /* the board left before the read was submitted */
		session_step_done(&s->b);
		return;
	}
	if (r < 0) {
		fb_fail(s, r, "reading the reply to \"%s\": %s", s->cmd, strerror(-r));
		return;
	}
	session_submitted(&s->b);
}

/* ---- steps ---- */

/* A command with the board's pool values in it (flashd-plan(5) "Pool
 * variables"): the station expands it just before it goes. */
static void fb_pool_command(struct fb_session *s, const struct plan_step *st)
{
	char cmd[FB_CMD_BUF + 1];
	const char *why = NULL;
	int r = s->b.ev.expand ? s->b.ev.expand(s->b.ev.ud, st->fb_cmd, cmd, sizeof(cmd), &why)
			       : -ENOTSUP;

	if (r < 0) {
		fb_fail(s, r, "pool values: %s", why ? why : strerror(-r));
		return;
	}
	fb_command(s, FB_STATE_CMD, cmd, fb_timeout(s, s->b.o.fb_cmd_timeout_ms));
}

static void fb_exec(struct session *b)
{
	struct fb_session *s = (struct fb_session *)b;
	const struct plan_step *st = b->step;

	switch (st->op) {
	case PLAN_OP_GETVAR:
	case PLAN_OP_UCMD:
	case PLAN_OP_ACMD:
	case PLAN_OP_OEM:
	case PLAN_OP_CONTINUE:
		if (st->pool_vars) {
			fb_pool_command(s, st);
			return;
		}
		fb_command(s, FB_STATE_CMD, st->fb_cmd, fb_timeout(s, b->o.fb_cmd_timeout_ms));
		return;
	case PLAN_OP_ERASE:
		fb_command(s, FB_STATE_CMD, st->fb_cmd, fb_timeout(s, b->o.fb_erase_timeout_ms));
		return;
	case PLAN_OP_REBOOT:
		fb_command(s, FB_STATE_REBOOT, st->fb_cmd, fb_timeout(s, b->o.fb_cmd_timeout_ms));
		return;
	case PLAN_OP_FLASH:
	case PLAN_OP_DOWNLOAD:
		fb_flash_begin(s);
		return;
	case PLAN_OP_DELAY:
		session_delay(b, st->delay_ms);
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

static void fb_begin(struct session *b)
{
	fb_command((struct fb_session *)b, FB_STATE_MAXDL, "getvar:max-download-size",
		   b->o.fb_cmd_timeout_ms);
}

static void fb_cancel(struct session *b)
{
	struct fb_session *s = (struct fb_session *)b;

	if (s->cmd_x)
		usb_xfer_cancel(s->cmd_x);
	if (s->reply_x)
		usb_xfer_cancel(s->reply_x);
	for (unsigned i = 0; i < s->nslots; i++)
		if (s->slots[i].x)
			usb_xfer_cancel(s->slots[i].x);
	if (s->data_timer)
		evtimer_del(s->data_timer);
	if (s->bus_ev)
		evtimer_del(s->bus_ev);
	fb_bus_release(s);
}

static void fb_destroy(struct session *b)
{
	struct fb_session *s = (struct fb_session *)b;

	sparse_writer_free(s->w);
	digest_job_drop(s->dg);
	if (s->data_timer)
		event_free(s->data_timer);
	if (s->bus_ev)
		event_free(s->bus_ev);
	for (unsigned i = 0; i < s->nslots; i++)
		usb_dev_buf_free(s->b.dev, s->slots[i].buf);
	free(s->slots);
	free(s);
}

static const struct session_ops fb_ops = {
	.proto = PLAN_PROTO_FB,
	.before_steps = "getvar:max-download-size",
	.begin = fb_begin,
	.exec = fb_exec,
	.cancel = fb_cancel,
	.destroy = fb_destroy,
};

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

	r = usb_dev_find_bulk(dev, FASTBOOT_USB_CLASS, FASTBOOT_USB_SUBCLASS, FASTBOOT_USB_PROTOCOL,
			      &iface, ep_in, ep_out, NULL);
	if (r < 0)
		return r;
	return usb_dev_claim(dev, iface, false);
}

int fb_session_start(struct usb_dev *dev, struct plan *plan, size_t first,
		     const struct session_opts *o, const struct session_events *ev,
		     struct fb_session **out)
{
	struct fb_session *s;
	struct session_opts so;
	uint8_t ep_in = 0, ep_out = 0;
	int r;

	r = session_check_args(dev, plan, first, o, ev, out);
	if (r < 0)
		return r;
	r = fb_claim(dev, &ep_in, &ep_out);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fb_opts(&so, o);
	s->nslots = so.xfers_in_flight;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	r = s->slots ? session_init(&s->b, &fb_ops, dev, plan, first, &so, ev) : -ENOMEM;
	if (r < 0) {
		free(s->slots);
		free(s);
		return r;
	}
	for (unsigned i = 0; i < s->nslots; i++)
		s->slots[i].s = s;
	s->ep_in = ep_in;
	s->ep_out = ep_out;
	s->data_timer = evtimer_new(so.base, fb_data_timer_cb, s);
	s->bus_ev = evtimer_new(so.base, fb_bus_cb, s);
	if (!s->data_timer || !s->bus_ev) {
		fb_session_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

uint64_t fb_session_bytes(const struct fb_session *s)
{
	return s ? s->bytes : 0;
}

size_t fb_session_next_step(const struct fb_session *s)
{
	return s ? s->b.idx : 0;
}

struct fb_session *fb_session_free(struct fb_session *s)
{
	if (s)
		session_free(&s->b);
	return NULL;
}
