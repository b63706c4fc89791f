/* fuzz-fb_session: the daemon's fastboot session machine (src/daemon/
 * fb_session.c, session.c) over the test stand-in for usb.h
 * (tests/unit/fake_usb.c), against a U-Boot fastboot board whose every
 * answer comes from the input.
 *
 * The plan is fixed: getvar version; flash a raw image; flash an Android
 * sparse image (512-byte blocks: RAW, FILL, DONT_CARE, RAW), which a
 * max-download-size of 0x2000 splits; flash -raw2sparse a raw image with
 * zero and FILL blocks; download; ucmd; acmd; erase; reboot; done. Images
 * live in memory. Timeouts are 1 ms.
 *
 * Input: 4 header bytes, then the board's answers.
 *  h[0] bits 0-1: xfers_in_flight - 1; bits 2-3: xfer_size 512 << n;
 *       bit 4: transfer buffers cannot be allocated; bit 5: the events
 *       free the session (h[1]: bit 7 at the n-th step(), bit 6 at
 *       done(), else at the n-th progress(), n = h[1] & 15); bit 6: a
 *       submit fails (h[2]: after h[2] & 63 submits, with the error
 *       h[2] >> 6 picks); bit 7: start at step h[3] % (steps + 1).
 *  Each bulk OUT (a command or data) takes one byte c: c < 0xC0 accepted;
 *  0xC0-0xDF a short write of c & 31 bytes; 0xE0-0xEF a -errno status
 *  (EPIPE, ETIMEDOUT, EIO, EOVERFLOW, ENODEV, EPROTO, ...); 0xF0-0xF7
 *  timed out: a data transfer is held (once per run: the session's data
 *  timer ends it, a real 1 ms timer), any other is -ETIMEDOUT at once (it
 *  is the only transfer in flight: the same callback, without the
 *  wait); 0xF8-0xFF the board unplugged.
 *  Each bulk IN (a reply) takes one byte c; c & 15 picks: OKAY; OKAY +
 *  text; DATA with the size of the last download: command; DATA + 4
 *  bytes as the size; FAIL/INFO/TEXT + text; raw bytes (any length);
 *  OKAY0x2000; OKAY0x100000; OKAY + a number; a -errno status;
 *  -ETIMEDOUT; an unplug; OKAY padded with NULs; what a good board answers (OKAY0x2000
 *  to getvar:max-download-size, DATA to download:, OKAY to the rest).
 *  Texts: one length byte (% 65), then that many bytes.
 *  The input running out is the board unplugged, so every run ends.
 *
 * Invariants (abort, or a cmocka assertion of fake_usb / session_rec,
 * which exits): the loop runs dry; done() is called exactly once (never
 * inside fb_session_start), unless the session was freed before; status
 * 0 only at "done" or the end of the plan, with the data bytes the board
 * took; progress never passes its total nor goes back; no transfer, no
 * transfer buffer, no event and no plan left afterwards. */
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

#include "daemon/session.h"
#include "../unit/fake_plan.h"
#include "fz_input.h"
#include "../unit/fake_usb.h"
#include "../unit/session_rec.h"
#include "flashd/sparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TIMEOUT_MS 1u
#define FZ_BLK 512u
#define FZ_DONE_STEP 9u
#define FZ_STEPS 10u

enum fz_reply {
	FZ_OKAY, FZ_OKAY_TEXT, FZ_DATA, FZ_DATA_ANY, FZ_FAIL, FZ_INFO, FZ_TEXT, FZ_RAW,
	FZ_MAXDL_SMALL, FZ_MAXDL_BIG, FZ_OKAY_NUM, FZ_ERROR, FZ_TIMEOUT, FZ_UNPLUG, FZ_OKAY_PAD,
	FZ_GOOD,
};

struct fz_board {
	struct usb_dev *dev;
	struct fz_input in;         /* the board's answers */
	unsigned holds;
	char last_cmd[65];
	uint32_t dl_size;
	uint32_t data_left;        /* of the download the board took */
	uint64_t accepted;         /* bulk OUT bytes taken, commands included */
};

/* ---- images (built once) ---- */

static uint8_t fz_raw[3000], fz_r2s[3 * 4096], fz_dl[700], fz_sparse[10000];
static size_t fz_sparse_len;
static struct plan_image fz_img_raw, fz_img_sparse, fz_img_r2s, fz_img_dl;

static void fz_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* a chunk header and its payload at fz_sparse + fz_sparse_len */
static void fz_chunk(uint16_t type, uint32_t blocks, const uint8_t *payload, size_t len)
{
	uint8_t *c = fz_sparse + fz_sparse_len;

	c[0] = (uint8_t)type;
	c[1] = (uint8_t)(type >> 8);
	c[2] = c[3] = 0;
	fz_le32(c + 4, blocks);
	fz_le32(c + 8, (uint32_t)(SPARSE_CHUNK_HDR_SZ + len));
	if (len)
		memcpy(c + SPARSE_CHUNK_HDR_SZ, payload, len);
	fz_sparse_len += SPARSE_CHUNK_HDR_SZ + len;
}

static void fz_images(void)
{
	static const uint8_t fill[4] = { 0x11, 0x22, 0x33, 0x44 };
	uint8_t *h = fz_sparse;

	for (size_t i = 0; i < sizeof(fz_raw); i++)
		fz_raw[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(fz_dl); i++)
		fz_dl[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < 4096; i++) /* block 1 stays zero, block 2 a FILL */
		fz_r2s[i] = (uint8_t)(i * 13);
	for (size_t i = 8192; i < sizeof(fz_r2s); i += 4)
		memcpy(fz_r2s + i, fill, 4);
	fz_le32(h, SPARSE_MAGIC);
	h[4] = 1;                         /* major 1, minor 0 */
	h[8] = SPARSE_FILE_HDR_SZ;
	h[10] = SPARSE_CHUNK_HDR_SZ;
	fz_le32(h + 12, FZ_BLK);
	fz_le32(h + 16, 10 + 4 + 6 + 4);  /* total blocks */
	fz_le32(h + 20, 4);               /* chunks */
	fz_sparse_len = SPARSE_FILE_HDR_SZ;
	fz_chunk(SPARSE_CHUNK_RAW, 10, fz_r2s + 1000, 10 * FZ_BLK);
	fz_chunk(SPARSE_CHUNK_FILL, 4, fill, 4);
	fz_chunk(SPARSE_CHUNK_DONT_CARE, 6, NULL, 0);
	fz_chunk(SPARSE_CHUNK_RAW, 4, fz_r2s + 7000, 4 * FZ_BLK);
	fake_plan_image(&fz_img_raw, "boot.bin", fz_raw, sizeof(fz_raw));
	fake_plan_image(&fz_img_sparse, "rootfs.simg", fz_sparse, fz_sparse_len);
	fake_plan_image(&fz_img_r2s, "data.ext4", fz_r2s, sizeof(fz_r2s));
	fake_plan_image(&fz_img_dl, "dl.bin", fz_dl, sizeof(fz_dl));
	if (!fz_img_sparse.sparse_ok || !fz_img_sparse.sparse.sparse || fz_img_raw.sparse.sparse)
		abort();
}

static struct plan_step *fz_add(struct plan *p, enum plan_op op, const char *text,
				const char *cmd, struct plan_image *img)
{
	struct plan_step *st = fake_plan_add(p, PLAN_PROTO_FB, op, text, cmd);

	st->image = img;
	st->image_len = img ? img->size : 0;
	return st;
}

static struct plan *fz_plan(void)
{
	struct plan *p = fake_plan_new();

	fz_add(p, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version", NULL)->arg = "version";
	fz_add(p, PLAN_OP_FLASH, "FB: flash boot boot.bin", "flash:boot", &fz_img_raw)->arg = "boot";
	fz_add(p, PLAN_OP_FLASH, "FB: flash rootfs rootfs.simg", "flash:rootfs", &fz_img_sparse)
		->arg = "rootfs";
	fz_add(p, PLAN_OP_FLASH, "FB: flash -raw2sparse data data.ext4", "flash:data", &fz_img_r2s)
		->raw2sparse = true;
	fz_add(p, PLAN_OP_DOWNLOAD, "FB: download -f dl.bin", NULL, &fz_img_dl);
	fz_add(p, PLAN_OP_UCMD, "FB: ucmd setenv a b", "UCmd:setenv a b", NULL);
	fz_add(p, PLAN_OP_ACMD, "FB: acmd bootm", "ACmd:bootm", NULL);
	fz_add(p, PLAN_OP_ERASE, "FB: erase misc", "erase:misc", NULL)->timeout_ms = FZ_TIMEOUT_MS;
	fz_add(p, PLAN_OP_REBOOT, "FB: reboot", "reboot", NULL);
	fz_add(p, PLAN_OP_DONE, "FB: done", NULL, NULL);
	if (plan_n_steps(p) != FZ_STEPS || plan_step(p, FZ_DONE_STEP)->op != PLAN_OP_DONE)
		abort();
	return p;
}

/* ---- the board ---- */

/* The input ran out, or the board leaves. */
static int fz_unplug(struct fz_board *b)
{
	fake_usb_unplug(b->dev);
	return -ENODEV;
}

/* A transfer that times out: a data transfer is held once per run (no
 * libusb timeout: the session's data timer must end it), anything else
 * gets -ETIMEDOUT now. */
static int fz_timeout(struct fz_board *b)
{
	return b->data_left && !b->holds++ ? FAKE_HOLD : -ETIMEDOUT;
}

static int fz_out(void *ud, const struct fake_setup *setup, uint8_t ep, const uint8_t *data,
		  size_t len, size_t *actual)
{
	struct fz_board *b = ud;
	int c = fz_in_byte(&b->in);

	if (setup || ep != 0x01 || !len)
		abort(); /* bulk OUT on the fastboot endpoint, never a zero-length packet */
	if (c < 0 || c >= 0xF8)
		return fz_unplug(b);
	if (c >= 0xF0)
		return fz_timeout(b);
	if (c >= 0xE0)
		return fz_errors[c & 7];
	*actual = c >= 0xC0 ? (size_t)(c & 31) % len : len;
	b->accepted += *actual;
	if (b->data_left) {
		/* more than download: announced desyncs U-Boot (fastboot.c's
		 * rx_handler_dl_image) */
		if (len > b->data_left)
			abort();
		b->data_left -= (uint32_t)*actual;
		if (!b->data_left)
			b->last_cmd[0] = '\0'; /* the data is in: OKAY */
		return 0;
	}
	if (*actual == len && len < sizeof(b->last_cmd)) {
		memcpy(b->last_cmd, data, len);
		b->last_cmd[len] = '\0';
		if (!strncmp(b->last_cmd, "download:", 9)) {
			if (len != 17 || sscanf(b->last_cmd, "download:%8x", &b->dl_size) != 1)
				abort(); /* fastboot's download:%08x */
			b->data_left = b->dl_size;
		}
	}
	return 0;
}

/* "HEAD" + a text from the input: one length byte, then the bytes. */
static size_t fz_text(struct fz_board *b, const char *head, uint8_t *buf, size_t len)
{
	int n = fz_in_byte(&b->in);
	size_t k = 4;

	memcpy(buf, head, 4);
	for (n = n < 0 ? 0 : n % 65; n > 0 && k < len; n--) {
		int c = fz_in_byte(&b->in);
		if (c < 0)
			break;
		buf[k++] = (uint8_t)c;
	}
	return k;
}

/* The reply of a board that does everything right. */
static size_t fz_good(struct fz_board *b, char *buf, size_t len)
{
	if (!strcmp(b->last_cmd, "getvar:max-download-size"))
		return (size_t)snprintf(buf, len, "OKAY0x2000");
	if (!strncmp(b->last_cmd, "download:", 9))
		return (size_t)snprintf(buf, len, "DATA%08x", b->dl_size);
	return (size_t)snprintf(buf, len, "OKAY");
}

static int fz_in(void *ud, uint8_t ep, uint8_t *buf, size_t len, size_t *actual)
{
	struct fz_board *b = ud;
	int c = fz_in_byte(&b->in);
	uint32_t v = 0;

	if (ep != 0x81 || len < 64)
		abort();
	if (c < 0)
		return fz_unplug(b);
	switch ((enum fz_reply)(c & 15)) {
	case FZ_OKAY:
		*actual = (size_t)snprintf((char *)buf, len, "OKAY");
		return 0;
	case FZ_OKAY_TEXT:
		*actual = fz_text(b, "OKAY", buf, len);
		return 0;
	case FZ_DATA:
		*actual = (size_t)snprintf((char *)buf, len, "DATA%08x", b->dl_size);
		return 0;
	case FZ_DATA_ANY:
	case FZ_OKAY_NUM:
		v = fz_in_word(&b->in);
		*actual = (size_t)snprintf((char *)buf, len, (c & 15) == FZ_DATA_ANY ? "DATA%08x" :
					   c & 16 ? "OKAY%u" : "OKAY0x%x", v);
		return 0;
	case FZ_FAIL:
		*actual = fz_text(b, "FAIL", buf, len);
		return 0;
	case FZ_INFO:
		*actual = fz_text(b, "INFO", buf, len);
		return 0;
	case FZ_TEXT:
		*actual = fz_text(b, "TEXT", buf, len);
		return 0;
	case FZ_RAW:
		fz_in_raw(&b->in, buf, len, actual);
		return 0;
	case FZ_MAXDL_SMALL:
		*actual = (size_t)snprintf((char *)buf, len, "OKAY0x2000");
		return 0;
	case FZ_MAXDL_BIG:
		*actual = (size_t)snprintf((char *)buf, len, "OKAY0x100000");
		return 0;
	case FZ_ERROR:
		return fz_errors[c >> 5];
	case FZ_TIMEOUT:
		return -ETIMEDOUT;
	case FZ_UNPLUG:
		return fz_unplug(b);
	case FZ_OKAY_PAD:
		memset(buf, 0, 64);
		memcpy(buf, "OKAY", 4);
		*actual = 64;
		return 0;
	case FZ_GOOD:
		break;
	}
	*actual = fz_good(b, (char *)buf, len);
	return 0;
}

static const struct fake_dev_ops fz_ops = { fz_out, fz_in, NULL };

/* ---- the session ---- */

static void fz_rec_free(struct session_rec *r)
{
	r->fb = fb_session_free(r->fb);
}

static size_t fz_rec_next(const struct session_rec *r)
{
	return fb_session_next_step(r->fb);
}

static uint64_t fz_rec_bytes(const struct session_rec *r)
{
	return fb_session_bytes(r->fb);
}

static const struct session_rec_ops fz_rec_ops = { fz_rec_free, fz_rec_next, fz_rec_bytes };

static void fz_options(const uint8_t *h, struct usb_dev *dev, struct session_rec *rec,
		       struct session_opts *o, size_t *first)
{
	o->xfers_in_flight = 1u + (h[0] & 3u);
	o->xfer_size = 512u << (h[0] >> 2 & 3);
	fake_usb_fail_buf_alloc(dev, h[0] & 0x10);
	if (h[0] & 0x20) {
		if (h[1] & 0x80)
			rec->free_at_step = h[1] & 15u;
		else if (h[1] & 0x40)
			rec->free_at_done = true;
		else
			rec->free_at_progress = h[1] & 15u;
	}
	if (h[0] & 0x40) {
		static const int e[] = { -ENODEV, -ENOMEM, -EIO, -EPIPE };
		fake_usb_fail_submit(dev, h[2] & 63u, e[h[2] >> 6]);
	}
	*first = h[0] & 0x80 ? h[3] % (FZ_STEPS + 1) : 0;
}

/* After the loop ran dry. */
static void fz_check(const struct session_rec *rec, const struct fz_board *b, size_t first,
		     bool freed_early)
{
	if (rec->ndone != (freed_early ? 0 : 1) || rec->status > 0 || rec->progress_regressed)
		abort();
	if (rec->ndone && rec->status < 0 && !rec->reason[0])
		abort();
	if (rec->ndone && rec->status == 0 &&
	    rec->next_at_done != (first > FZ_DONE_STEP ? FZ_STEPS : FZ_DONE_STEP))
		abort();
	if (rec->ndone && rec->bytes_at_done > b->accepted)
		abort(); /* counted data the board did not take */
	for (unsigned i = 0; i < rec->nsteps; i++)
		if (rec->steps[i] < first || (i && rec->steps[i] <= rec->steps[i - 1]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	struct fz_board b = { .in = { data + 4, size > 4 ? size - 4 : 0 } };
	struct session_opts o = { .fb_cmd_timeout_ms = FZ_TIMEOUT_MS,
				  .fb_flash_min_ms = FZ_TIMEOUT_MS,
				  .fb_erase_timeout_ms = FZ_TIMEOUT_MS,
				  .fb_flash_rate_kbps = 1000000 };
	struct session_rec rec;
	struct session_events ev;
	struct plan *plan;
	size_t first;
	bool freed_early;

	if (size < 4)
		return 0;
	if (!base) {
		base = event_base_new();
		if (!base)
			abort();
		fz_images();
	}
	o.base = base;
	b.dev = fake_usb_new(base, &fz_ops, &b);
	plan = fz_plan();
	ev = session_rec_init(&rec, &fz_rec_ops);
	fz_options(data, b.dev, &rec, &o, &first);
	if (fb_session_start(b.dev, plan, first, &o, &ev, &rec.fb) < 0 || rec.ndone)
		abort();
	event_base_dispatch(base);
	freed_early = !rec.fb && !rec.ndone;
	fz_check(&rec, &b, first, freed_early);
	session_rec_free(&rec);
	event_base_loop(base, EVLOOP_NONBLOCK);
	fake_usb_free(b.dev); /* fails while a transfer or a buffer is live */
	plan_unref(plan);
	if (fake_plan_live || event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED))
		abort();
	return 0;
}
