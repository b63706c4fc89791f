/* test-fb_session: the fastboot session against a scripted U-Boot fastboot
 * board (fake_usb + a small device model that keeps an eMMC partition and
 * applies raw and sparse downloads as U-Boot does). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>
#include <event2/event.h>

#include "daemon/session.h"
#include "fake_plan.h"
#include "fake_usb.h"
#include "fb_board.h"
#include "session_rec.h"
#include "testutil.h"
#include "flashd/sparse.h"

#define BLK 4096u

/* ---- the harness ---- */

static void rec_free(struct session_rec *r)
{
	r->fb = fb_session_free(r->fb);
}

static size_t rec_next_step(const struct session_rec *r)
{
	return fb_session_next_step(r->fb);
}

static uint64_t rec_bytes(const struct session_rec *r)
{
	return fb_session_bytes(r->fb);
}

static const struct session_rec_ops rec_ops = { rec_free, rec_next_step, rec_bytes };

struct fixture {
	struct event_base *base;
	struct board b;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	struct session_rec rec;
	struct plan_image img[2];
	uint8_t *data[2];
	size_t size[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->b.dev = fake_usb_new(f->base, &fb_board_ops, &f->b);
	f->b.maxdl = "OKAY0x00100000";
	f->b.dl = malloc(PART_MAX);
	f->b.part = calloc(1, PART_MAX);
	assert_non_null(f->b.dl);
	assert_non_null(f->b.part);
	f->plan = fake_plan_new();
	f->o = (struct session_opts){ .fb_cmd_timeout_ms = 2000, .fb_flash_min_ms = 3000,
				      .fb_erase_timeout_ms = 4000, .fb_flash_rate_kbps = 1000,
				      .xfer_size = 16384, .xfers_in_flight = 4, .base = f->base };
	f->ev = session_rec_init(&f->rec, &rec_ops);
	f->b.xfer_size = f->o.xfer_size;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	session_rec_free(&f->rec);
	event_base_loop(f->base, 0); /* let cancelled transfers call back */
	fake_usb_free(f->b.dev);
	plan_unref(f->plan);
	assert_int_equal(fake_plan_live, 0);
	event_base_free(f->base);
	free(f->b.dl);
	free(f->b.part);
	for (int i = 0; i < 2; i++)
		free(f->data[i]);
	free(f);
	return 0;
}

/* Raw image: random blocks with zero runs (so raw2sparse finds FILLs). */
static struct plan_image *make_image(struct fixture *f, int i, size_t size, unsigned seed)
{
	uint8_t *d = malloc(size);

	assert_non_null(d);
	srand(seed);
	for (size_t k = 0; k < size; k++)
		d[k] = (k / BLK) % 5 == 2 ? 0 : (uint8_t)rand();
	f->data[i] = d;
	f->size[i] = size;
	fake_plan_image(&f->img[i], "image.bin", d, size);
	return &f->img[i];
}

static struct plan_step *add(struct fixture *f, enum plan_op op, const char *text, const char *cmd)
{
	return fake_plan_add(f->plan, PLAN_PROTO_FB, op, text, cmd);
}

static struct plan_step *add_flash(struct fixture *f, struct plan_image *img, const char *part)
{
	static char cmd[8][64];
	static unsigned n;
	char *c = cmd[n++ % 8];

	snprintf(c, 64, "flash:%s", part);
	struct plan_step *st = add(f, PLAN_OP_FLASH, "FB: flash part image.bin", c);
	st->image = img;
	st->image_len = img->size;
	st->arg = part;
	return st;
}

static void start(struct fixture *f, size_t first)
{
	assert_int_equal(fb_session_start(f->b.dev, f->plan, first, &f->o, &f->ev, &f->rec.fb), 0);
}

static void run(struct fixture *f, size_t first)
{
	start(f, first);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
}

/* flash a fresh image of size bytes to "boot", alone in the plan */
static struct plan_image *run_flash(struct fixture *f, size_t size, unsigned seed)
{
	struct plan_image *img = make_image(f, 0, size, seed);

	add_flash(f, img, "boot");
	run(f, 0);
	return img;
}

/* the commands the board got: want, NULL-terminated */
static void assert_cmds(struct board *b, const char *const *want)
{
	unsigned n = 0;

	for (; want[n]; n++)
		if (n < b->ncmds)
			assert_string_equal(b->cmds[n], want[n]);
	assert_int_equal(b->ncmds, n);
}

/* ---- tests: normal flows ---- */

/* ${pool:…} in a command: the station's expand() makes the wire command, just
 * before it goes; a refusal fails the step with its reason, nothing sent */
static void test_pool_values(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st;

	st = add(f, PLAN_OP_UCMD, "FB: ucmd setenv serial# ${pool:serial}",
		 "UCmd:setenv serial# ${pool:serial}");
	st->pool_vars = true;
	st = add(f, PLAN_OP_UCMD, "FB: ucmd setenv ethaddr ${pool:mac:1} ${loadaddr}",
		 "UCmd:setenv ethaddr ${pool:mac:1} ${loadaddr}");
	st->pool_vars = true;
	add(f, PLAN_OP_UCMD, "FB: ucmd echo ${pool:x}", "UCmd:echo ${pool:x}"); /* not marked */
	add(f, PLAN_OP_DONE, "FB: done", NULL);
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nexpand, 2);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size",
						  "UCmd:setenv serial# v(serial)",
						  "UCmd:setenv ethaddr v(mac:1) ${loadaddr}",
						  "UCmd:echo ${pool:x}", NULL });
}

static void test_pool_values_refused(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st;

	add(f, PLAN_OP_UCMD, "FB: ucmd true", "UCmd:true");
	st = add(f, PLAN_OP_UCMD, "FB: ucmd setenv serial# ${pool:serial}",
		 "UCmd:setenv serial# ${pool:serial}");
	st->pool_vars = true;
	add(f, PLAN_OP_DONE, "FB: done", NULL);
	f->rec.pool_fail = true;
	run(f, 0);
	assert_int_equal(f->rec.status, -ENOENT);
	assert_non_null(strstr(f->rec.reason, "pool values: no values (test)"));
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "UCmd:true", NULL });
}

static void test_raw_flash_flow(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 100000, 1);
	struct plan_step *st;

	st = add(f, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version");
	st->arg = "version";
	add_flash(f, img, "boot");
	add(f, PLAN_OP_UCMD, "FB: ucmd setenv a b", "UCmd:setenv a b");
	add(f, PLAN_OP_ACMD, "FB: acmd reset", "ACmd:reset");
	add(f, PLAN_OP_OEM, "FB: oem run:x", "oem run:x");
	add(f, PLAN_OP_CONTINUE, "FB: continue", "continue");
	add(f, PLAN_OP_REBOOT, "FB: reboot", "reboot");
	add(f, PLAN_OP_DONE, "FB: done", NULL);
	add(f, PLAN_OP_REBOOT, "FB: reboot", "reboot"); /* after done: never sent */
	run(f, 0);

	assert_int_equal(f->rec.status, 0);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "getvar:version",
						  "download:000186a0", "flash:boot", "UCmd:setenv a b",
						  "ACmd:reset", "oem run:x", "continue", "reboot",
						  NULL });
	assert_int_equal(f->rec.nsteps, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(f->rec.steps[i], i);
	assert_int_equal(f->b.part_len, 100000);
	assert_memory_equal(f->b.part, img->data, 100000);
	assert_int_equal(f->rec.bytes, 100000);
	assert_int_equal(f->rec.total, 100000);
	assert_false(f->rec.progress_regressed);
	/* once per pipeline's worth (4 x 16 KiB), and the end */
	assert_true(f->rec.nprogress >= 100000 / (4 * 16384) + 1);
	assert_true(f->rec.nprogress <= 100000 / (4 * 16384) + 2);
	assert_int_equal(f->rec.bytes_at_done, 100000);
	assert_int_equal(f->rec.next_at_done, 7);
	assert_string_equal(f->rec.info[0], "version: value-of-version");
	const struct fake_stats *st2 = fake_usb_stats(f->b.dev);
	assert_int_equal(st2->zlps, 0);
	assert_int_equal(st2->out_max_live, 4);
	assert_int_equal(st2->claimed_iface, 0);
	/* every data transfer full but the last: ceil(100000 / 16384) */
	assert_int_equal(f->b.max_data_len, 16384);
	assert_int_equal(f->b.unaligned, 0);
	assert_int_equal(f->b.not_full, 0);
	assert_int_equal(f->b.data_xfers, 7);
	assert_false(st2->claim_detach);
}

static void test_raw2sparse_pieces(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 40 * BLK + 1000, 2);

	f->b.maxdl = "OKAY0x8000"; /* 32 KiB: many pieces */
	f->o.xfer_size = f->b.xfer_size = 4096;
	f->o.xfers_in_flight = 3;
	add_flash(f, img, "rootfs")->raw2sparse = true;
	run(f, 0);

	assert_int_equal(f->rec.status, 0);
	assert_false(f->b.bad_sparse);
	assert_true(f->b.flashes > 4);
	assert_memory_equal(f->b.part, img->data, img->size);
	for (size_t k = img->size; k < 41 * BLK; k++) /* the last block is padded with zeros */
		assert_int_equal(f->b.part[k], 0);
	assert_int_equal(f->rec.bytes, img->size);
	assert_int_equal(f->rec.total, img->size);
	assert_false(f->rec.progress_regressed);
	assert_int_equal(fake_usb_stats(f->b.dev)->out_max_live, 3);
	/* no short packet before the end of a download (e2e bug #5): headers,
	 * FILL words and data are gathered into full transfers */
	assert_int_equal(f->b.unaligned, 0);
	assert_int_equal(f->b.not_full, 0);
	assert_int_equal(f->b.max_data_len, 4096);
	assert_int_equal(fake_usb_stats(f->b.dev)->zlps, 0);
	/* zero blocks went as FILL chunks: less on the wire than the image */
	assert_true(fb_session_bytes(f->rec.fb) < img->size);
	assert_int_equal(fb_session_bytes(f->rec.fb), f->b.data_bytes);
}

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? 0xEDB88320u : 0);
	}
	return ~c;
}

/* A sparse file header (v1.0, BLK-byte blocks); returns the end. */
static uint8_t *put_sparse_header(uint8_t *p, uint32_t blocks, uint32_t chunks)
{
	memset(p, 0, 28);
	fb_board_wr32(p, SPARSE_MAGIC);
	p[4] = 1;
	p[8] = 28;
	p[10] = 12;
	fb_board_wr32(p + 12, BLK);
	fb_board_wr32(p + 16, blocks);
	fb_board_wr32(p + 20, chunks);
	return p + 28;
}

/* A chunk header of total_sz bytes (header + payload); returns the end. */
static uint8_t *put_chunk_header(uint8_t *p, uint16_t type, uint32_t blocks, uint32_t total_sz)
{
	memset(p, 0, 12);
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)(type >> 8);
	fb_board_wr32(p + 4, blocks);
	fb_board_wr32(p + 8, total_sz);
	return p + 12;
}

/* A sparse input file: RAW, FILL, DONT_CARE, RAW, CRC32 (to be dropped). */
static size_t build_sparse(uint8_t *out, const uint8_t *raw, uint32_t raw_blocks)
{
	uint8_t *p = put_sparse_header(out, raw_blocks + 3 + 2, 5);

	uint32_t half = raw_blocks / 2;
	uint16_t types[5] = { SPARSE_CHUNK_RAW, SPARSE_CHUNK_FILL, SPARSE_CHUNK_DONT_CARE,
			      SPARSE_CHUNK_RAW, SPARSE_CHUNK_CRC32 };
	uint32_t sizes[5] = { half, 3, 2, raw_blocks - half, 0 };
	for (int c = 0; c < 5; c++) {
		size_t payload = types[c] == SPARSE_CHUNK_RAW ? (size_t)sizes[c] * BLK :
				 types[c] == SPARSE_CHUNK_DONT_CARE ? 0 : 4;
		p = put_chunk_header(p, types[c], sizes[c], (uint32_t)(12 + payload));
		if (types[c] == SPARSE_CHUNK_RAW) {
			memcpy(p, raw + (c ? half : 0) * BLK, payload);
		} else if (types[c] == SPARSE_CHUNK_FILL) {
			fb_board_wr32(p, 0xA5A5F00Du);
		} else if (types[c] == SPARSE_CHUNK_CRC32) {
			size_t total = (size_t)(raw_blocks + 5) * BLK;
			uint8_t *x = calloc(1, total);
			assert_non_null(x);
			memcpy(x, raw, (size_t)half * BLK);
			for (size_t k = 0; k < 3 * BLK; k += 4)
				fb_board_wr32(x + (size_t)half * BLK + k, 0xA5A5F00Du);
			memcpy(x + (size_t)(half + 5) * BLK, raw + (size_t)half * BLK,
			       (size_t)(raw_blocks - half) * BLK);
			fb_board_wr32(p, crc32_ref(x, total));
			free(x);
		}
		p += payload;
	}
	return (size_t)(p - out);
}

static void test_sparse_resplit(void **state)
{
	struct fixture *f = *state;
	struct plan_image *raw = make_image(f, 0, 20 * BLK, 3);
	uint8_t *sp = malloc(30 * BLK);
	size_t n;

	assert_non_null(sp);
	n = build_sparse(sp, raw->data, 20);
	f->data[1] = sp;
	fake_plan_image(&f->img[1], "sparse.img", sp, n);
	assert_true(f->img[1].sparse_ok);
	f->b.maxdl = "OKAY0x6000";
	add_flash(f, &f->img[1], "system");
	run(f, 0);

	assert_int_equal(f->rec.status, 0);
	assert_false(f->b.bad_sparse);
	assert_true(f->b.flashes >= 3);
	assert_memory_equal(f->b.part, raw->data, 10 * BLK);
	for (size_t k = 10 * BLK; k < 13 * BLK; k += 4)
		assert_int_equal(fb_board_rd32(f->b.part + k), 0xA5A5F00Du);
	for (size_t k = 13 * BLK; k < 15 * BLK; k++)
		assert_int_equal(f->b.part[k], 0);
	assert_memory_equal(f->b.part + 15 * BLK, raw->data + 10 * BLK, 10 * BLK);
	assert_int_equal(f->rec.bytes, n);
	assert_int_equal(f->rec.total, n);
	assert_int_equal(f->b.unaligned, 0);
}

/* Long header runs (300 FILL chunks of 16 bytes, then RAW data starting off
 * a packet boundary): gathered into full transfers, never a short packet
 * before the end. */
static void test_many_small_segments(void **state)
{
	struct fixture *f = *state;
	enum { NFILL = 300, NRAW = 3 };
	struct plan_image *raw = make_image(f, 0, NRAW * BLK + 100, 4);
	size_t cap = 28 + NFILL * 16 + 12 + NRAW * BLK;
	uint8_t *sp = malloc(cap), *p;

	assert_non_null(sp);
	p = put_sparse_header(sp, NFILL + NRAW, NFILL + 1);
	for (uint32_t c = 0; c <= NFILL; c++) {
		bool is_raw = c == NFILL;

		p = put_chunk_header(p, is_raw ? SPARSE_CHUNK_RAW : SPARSE_CHUNK_FILL, is_raw ? NRAW : 1,
				     is_raw ? 12 + NRAW * BLK : 16);
		if (is_raw) {
			memcpy(p, raw->data, NRAW * BLK);
			p += NRAW * BLK;
		} else {
			fb_board_wr32(p, 0x01010101u * (c % 250 + 1));
			p += 4;
		}
	}
	assert_int_equal((size_t)(p - sp), cap);
	f->data[1] = sp;
	fake_plan_image(&f->img[1], "fills.img", sp, cap);
	assert_true(f->img[1].sparse_ok);
	add_flash(f, &f->img[1], "system");
	run(f, 0);

	assert_int_equal(f->rec.status, 0);
	assert_false(f->b.bad_sparse);
	for (uint32_t c = 0; c < NFILL; c++)
		assert_int_equal(fb_board_rd32(f->b.part + (size_t)c * BLK + BLK - 4),
				 0x01010101u * (c % 250 + 1));
	assert_memory_equal(f->b.part + (size_t)NFILL * BLK, raw->data, NRAW * BLK);
	assert_int_equal(f->b.unaligned, 0);
	assert_int_equal(f->b.not_full, 0);
	assert_int_equal(f->b.data_xfers, (cap + 16383) / 16384);
	assert_int_equal(f->b.data_bytes, cap);
}

static void test_download_only_and_info(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 5000, 4);

	f->b.info_lines = 2;
	struct plan_step *st = add(f, PLAN_OP_DOWNLOAD, "FB: download -f x", NULL);
	st->image = img;
	st->image_len = 5000;
	add(f, PLAN_OP_UCMD, "FB: ucmd true", "UCmd:true");
	run(f, 0);

	assert_int_equal(f->rec.status, 0);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "download:00001388",
						  "UCmd:true", NULL });
	assert_int_equal(f->b.flashes, 0);
	assert_memory_equal(f->b.dl, img->data, 5000);
	/* 2 INFO lines before the replies to each of the 3 commands */
	assert_int_equal(f->rec.ninfo, 6);
	assert_string_equal(f->rec.info[0], "line 0");
	assert_string_equal(f->rec.info[1], "line 1");
	assert_int_equal(f->rec.bytes, 5000);
}

static void test_skip_and_protocol_end(void **state)
{
	struct fixture *f = *state;

	fake_plan_add(f->plan, PLAN_PROTO_SDP, PLAN_OP_BOOT, "SDP: boot -f x", NULL);
	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	fake_plan_add(f->plan, PLAN_PROTO_SDPU, PLAN_OP_DELAY, "SDPU: delay 1000", NULL)
		->runs_on_imx6 = false;
	add(f, PLAN_OP_UCMD, "FB: ucmd b", "UCmd:b");
	fake_plan_add(f->plan, PLAN_PROTO_SDP, PLAN_OP_STATUS, "SDP: status", NULL);
	add(f, PLAN_OP_UCMD, "FB: ucmd c", "UCmd:c");
	run(f, 1);

	assert_int_equal(f->rec.status, 0);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "UCmd:a", "UCmd:b",
						  NULL });
	assert_int_equal(f->rec.nsteps, 2);
	assert_int_equal(f->rec.steps[0], 1);
	assert_int_equal(f->rec.steps[1], 3);
	assert_int_equal(f->rec.next_at_done, 4);
}

static void test_delay(void **state)
{
	struct fixture *f = *state;
	struct timeval t0, t1;

	add(f, PLAN_OP_DELAY, "FB: delay 60", NULL)->delay_ms = 60;
	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	gettimeofday(&t0, NULL);
	run(f, 0);
	gettimeofday(&t1, NULL);
	assert_int_equal(f->rec.status, 0);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	assert_true(ms >= 55);
	assert_int_equal(f->b.ncmds, 2);
}

/* ---- timeouts ---- */

static void test_timeouts_per_command(void **state)
{
	struct fixture *f = *state;
	const struct fake_stats *st = fake_usb_stats(f->b.dev);
	struct plan_image *img = make_image(f, 0, 4 * BLK, 5);

	f->b.hold_cmd = "UCmd:sleep";
	add(f, PLAN_OP_ERASE, "FB: erase misc", "erase:misc");
	add_flash(f, img, "boot");
	struct plan_step *s3 = add(f, PLAN_OP_UCMD, "FB[-t 50]: ucmd sleep", "UCmd:sleep");
	s3->timeout_ms = 50;
	run(f, 0);

	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "FB[-t 50]: ucmd sleep"));
	assert_int_equal(st->last_timeout_ms, 50);
	assert_int_equal(st->max_timeout_ms, 4000); /* erase; the flash got min 3000 */
}

static void test_flash_timeout_scales(void **state)
{
	struct fixture *f = *state;

	f->o.fb_flash_rate_kbps = 100;  /* 256 KiB / 100 kB/s * 2 = 5242 ms */
	run_flash(f, 64 * BLK, 6);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->max_timeout_ms, 64 * BLK / 100 * 2);
}

static void test_flash_timeout_counts_fill(void **state)
{
	struct fixture *f = *state;
	uint8_t *z = calloc(1, 256 * BLK);

	/* 1 MiB of zeros as one FILL chunk: tiny on the wire, 1 MiB to write */
	f->data[0] = z;
	fake_plan_image(&f->img[0], "zero.bin", z, 256 * BLK);
	f->o.fb_flash_rate_kbps = 100;
	add_flash(f, &f->img[0], "misc")->raw2sparse = true;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->max_timeout_ms, 256 * BLK / 100 * 2);
	assert_true(fb_session_bytes(f->rec.fb) < 200);
}

/* ---- failures ---- */

/* One step against a board with one fault or quirk: what comes of it. */
static const struct outcome {
	const char *name;
	/* the board's script */
	const char *maxdl, *raw_reply, *raw_reply_text, *hold_cmd;
	bool reboot_unplug;
	unsigned submits_ok;        /* submits that succeed before one fails with -ENODEV; 0: none fails */
	/* the step; FLASH and DOWNLOAD steps with image > 0 get a fresh image */
	enum plan_op op;
	const char *text, *cmd;
	size_t image;
	unsigned timeout_ms;
	/* the outcome */
	int status;
	const char *reason[3];      /* each is in the reason; NULL-terminated */
	bool no_step;               /* it fails before the first step */
	unsigned ncmds;             /* commands the board got; 0: not checked */
} outcomes[] = {
	{ "max-download-size FAIL", .maxdl = "FAILVariable not implemented",
	  .op = PLAN_OP_UCMD, .text = "FB: ucmd a", .cmd = "UCmd:a", .status = -EREMOTEIO,
	  .reason = { "max-download-size", "FAIL: Variable not implemented" }, .no_step = true },
	{ "max-download-size garbage", .maxdl = "OKAYlots",
	  .op = PLAN_OP_UCMD, .text = "FB: ucmd a", .cmd = "UCmd:a", .status = -EPROTO,
	  .no_step = true },
	{ "hostile reply", .raw_reply = "UCmd:x", .raw_reply_text = "WHAT is this",
	  .op = PLAN_OP_UCMD, .text = "FB: ucmd x", .cmd = "UCmd:x", .status = -EBADMSG },
	{ "DATA to a getvar", .raw_reply = "getvar:version", .raw_reply_text = "DATA00001000",
	  .op = PLAN_OP_GETVAR, .text = "FB: getvar version", .cmd = "getvar:version",
	  .status = -EPROTO },
	{ "OKAY instead of DATA", .raw_reply = "download:", .raw_reply_text = "OKAY",
	  .op = PLAN_OP_FLASH, .text = "FB: flash part image.bin", .cmd = "flash:boot", .image = 3000,
	  .status = -EPROTO, .reason = { "unexpected OKAY" } },
	{ "download too big", .maxdl = "OKAY0x1000",
	  .op = PLAN_OP_DOWNLOAD, .text = "FB: download -f x", .image = 0x2000, .status = -EFBIG,
	  .ncmds = 1 },
	{ "flash without image",
	  .op = PLAN_OP_FLASH, .text = "FB: flash boot x", .cmd = "flash:boot", .status = -EINVAL },
	{ "reboot: a disconnect is success", .reboot_unplug = true,
	  .op = PLAN_OP_REBOOT, .text = "FB: reboot", .cmd = "reboot", .status = 0 },
	{ "reboot: no reply fails", .hold_cmd = "reboot",
	  .op = PLAN_OP_REBOOT, .text = "FB[-t 30]: reboot", .cmd = "reboot", .timeout_ms = 30,
	  .status = -ETIMEDOUT },
	{ "the step's command cannot be submitted", .submits_ok = 2,
	  .op = PLAN_OP_UCMD, .text = "FB: ucmd a", .cmd = "UCmd:a", .status = -ENODEV,
	  .reason = { "FB: ucmd a" } },
};

static void run_outcome(void **state, size_t i)
{
	struct fixture *f = *state;
	const struct outcome *c = &outcomes[i];
	struct plan_step *st;

	if (c->maxdl)
		f->b.maxdl = c->maxdl;
	f->b.raw_reply = c->raw_reply;
	f->b.raw_reply_text = c->raw_reply_text;
	f->b.hold_cmd = c->hold_cmd;
	f->b.reboot_unplug = c->reboot_unplug;
	if (c->submits_ok)
		fake_usb_fail_submit(f->b.dev, c->submits_ok, -ENODEV);
	st = add(f, c->op, c->text, c->cmd);
	st->timeout_ms = c->timeout_ms;
	if (c->image) {
		st->image = make_image(f, 0, c->image, 100 + (unsigned)i);
		st->image_len = c->image;
		if (c->op == PLAN_OP_FLASH)
			st->arg = strchr(c->cmd, ':') + 1;
	}
	run(f, 0);
	print_message("%s: %d %s\n", c->name, f->rec.status, f->rec.reason);
	assert_int_equal(f->rec.status, c->status);
	for (size_t k = 0; c->reason[k]; k++)
		assert_non_null(strstr(f->rec.reason, c->reason[k]));
	if (c->no_step)
		assert_int_equal(f->rec.nsteps, 0);
	if (c->ncmds)
		assert_int_equal(f->b.ncmds, c->ncmds);
}

static void test_outcomes(void **state)
{
	testutil_rows(state, sizeof(outcomes) / sizeof(outcomes[0]), setup, teardown, run_outcome);
}

static void test_fail_reply(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 3000, 7);

	f->b.fail_cmd = "flash:nope";
	f->b.fail_text = "no such partition";
	add_flash(f, img, "nope");
	add(f, PLAN_OP_UCMD, "FB: ucmd never", "UCmd:never");
	run(f, 0);

	assert_int_equal(f->rec.status, -EREMOTEIO);
	assert_string_equal(f->rec.reason, "FB: flash part image.bin: FAIL: no such partition");
	assert_int_equal(f->b.ncmds, 3);
}

static void test_data_size_mismatch(void **state)
{
	struct fixture *f = *state;

	f->b.data_delta = 1;
	run_flash(f, 3000, 8);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_non_null(strstr(f->rec.reason, "DATA00000bb9"));
	assert_int_equal(fake_usb_stats(f->b.dev)->out_bytes,
			 strlen("getvar:max-download-size") + strlen("download:00000bb8"));
}

/* The board stops taking data mid-download: data transfers have no libusb
 * timeout of their own, the data phase's watchdog fails the board. */
static void test_data_stall(void **state)
{
	struct fixture *f = *state;

	f->o.fb_cmd_timeout_ms = 200;
	f->b.hold_data_at = 100000;
	run_flash(f, 300000, 22);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "the board took nothing for 200 ms"));
	assert_true(f->b.data_bytes >= 100000 && f->b.data_bytes < 300000);
	event_base_loop(f->base, 0); /* the held transfers were cancelled */
	assert_int_equal(fake_usb_stats(f->b.dev)->live, 0);
}

static void test_unplug_mid_transfer(void **state)
{
	struct fixture *f = *state;

	f->b.unplug_at = 50000;
	run_flash(f, 200000, 11);
	assert_int_equal(f->rec.status, -ENODEV);
	assert_non_null(strstr(f->rec.reason, "data phase"));
	assert_true(f->rec.bytes < 50000);
	assert_int_equal(fake_usb_stats(f->b.dev)->live, 0);
}

/* The board resets so fast that the read of reboot's reply cannot even be
 * submitted (-ENODEV from the submit call): success, as in the callback. */
static void test_reboot_gone_at_submit(void **state)
{
	struct fixture *f = *state;

	/* max-dl cmd + reply, reboot cmd; then its reply read fails to submit */
	fake_usb_fail_submit(f->b.dev, 3, -ENODEV);
	add(f, PLAN_OP_REBOOT, "FB: reboot", "reboot");
	add(f, PLAN_OP_DONE, "FB: done", NULL);
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nsteps, 2);
	assert_string_equal(f->b.cmds[f->b.ncmds - 1], "reboot");
}

static void test_unplug_before_reboot_reply_of_other_cmd(void **state)
{
	struct fixture *f = *state;

	/* a disconnect while waiting for anything but reboot's reply fails */
	f->b.hold_cmd = "UCmd:a";
	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	start(f, 0);
	for (int i = 0; f->b.ncmds < 2; i++) {
		assert_true(i < 100000); /* a broken path fails, never spins */
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	fake_usb_unplug(f->b.dev);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
	assert_int_equal(f->rec.status, -ENODEV);
}

static void test_submit_enomem_degrades(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img;

	/* max-dl cmd+reply, download cmd+reply, then 2 data transfers fit */
	fake_usb_fail_submit(f->b.dev, 6, -ENOMEM);
	img = run_flash(f, 100000, 12);
	assert_int_equal(f->rec.status, 0);
	assert_memory_equal(f->b.part, img->data, 100000);
}

/* ---- cancellation ---- */

static void test_free_in_progress_callback(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 300000, 13);

	f->rec.free_at_progress = 3;
	add_flash(f, img, "boot");
	start(f, 0);
	event_base_dispatch(f->base);
	assert_null(f->rec.fb);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(f->rec.nprogress, 3);
	assert_int_equal(fake_usb_stats(f->b.dev)->live, 0);
	assert_true(fake_usb_stats(f->b.dev)->cancels >= 1);
	assert_int_equal(f->plan->refs, 1); /* the zombie let go of the plan */
}

static void test_free_in_step_callback(void **state)
{
	struct fixture *f = *state;

	f->rec.free_at_step = 1;
	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	start(f, 0);
	event_base_dispatch(f->base);
	assert_null(f->rec.fb);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(f->b.ncmds, 1);
	assert_int_equal(f->plan->refs, 1);
}

static void test_free_in_done_callback(void **state)
{
	struct fixture *f = *state;

	f->b.unplug_at = 20000;  /* done() runs with transfers still live */
	f->rec.free_at_done = true;
	run_flash(f, 100000, 14);
	assert_null(f->rec.fb);
	assert_int_equal(f->rec.status, -ENODEV);
	assert_int_equal(f->plan->refs, 1);
}

static void test_free_from_outside_mid_transfer(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 300000, 15);

	add_flash(f, img, "boot");
	start(f, 0);
	for (int i = 0; f->rec.nprogress < 2; i++) {
		assert_true(i < 100000); /* a broken path fails, never spins */
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	assert_true(fake_usb_stats(f->b.dev)->live > 0);
	f->rec.fb = fb_session_free(f->rec.fb);
	assert_int_equal(f->plan->refs, 2); /* zombie: transfers still live */
	unsigned n = f->rec.nprogress;
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.nprogress, n);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->live, 0);
	assert_int_equal(f->plan->refs, 1);
}

static void test_free_before_start_runs(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	start(f, 0);
	f->rec.fb = fb_session_free(f->rec.fb);
	event_base_dispatch(f->base);
	assert_int_equal(f->b.ncmds, 0);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(f->plan->refs, 1);
}

/* ---- start ---- */

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct fb_session *s = NULL;
	struct session_opts o = f->o;

	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	o.base = NULL;
	assert_int_equal(fb_session_start(f->b.dev, f->plan, 0, &o, &f->ev, &s), -EINVAL);
	assert_int_equal(fb_session_start(NULL, f->plan, 0, &f->o, &f->ev, &s), -EINVAL);
	assert_int_equal(fb_session_start(f->b.dev, f->plan, 2, &f->o, &f->ev, &s), -EINVAL);
	fake_usb_set_bulk(f->b.dev, -ENOENT, 0, 0x81, 0x01);
	assert_int_equal(fb_session_start(f->b.dev, f->plan, 0, &f->o, &f->ev, &s), -ENOENT);
	fake_usb_set_bulk(f->b.dev, 0, 1, 0x81, 0x01);
	fake_usb_set_claim_result(f->b.dev, -EBUSY);
	assert_int_equal(fb_session_start(f->b.dev, f->plan, 0, &f->o, &f->ev, &s), -EBUSY);
	assert_null(s);
	assert_int_equal(f->plan->refs, 1);
	assert_null(fb_session_free(NULL));
	assert_int_equal(fb_session_bytes(NULL), 0);
}

static void test_endpoints_and_defaults(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 3 * 512 * 1024, 16);

	/* other interface/endpoint numbers; all-zero options take the defaults */
	fake_usb_set_bulk(f->b.dev, 0, 2, 0x81, 0x01);
	f->o = (struct session_opts){ .base = f->base };
	f->b.xfer_size = SESSION_XFER_SIZE;
	f->b.maxdl = "OKAY0x07000000";
	add_flash(f, img, "boot");
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->claimed_iface, 2);
	assert_int_equal(fake_usb_stats(f->b.dev)->out_max_live, SESSION_XFERS_IN_FLIGHT);
	assert_int_equal(fake_usb_stats(f->b.dev)->max_timeout_ms, SESSION_FB_FLASH_MIN_MS);
	assert_int_equal(f->b.max_data_len, SESSION_XFER_SIZE);
	assert_int_equal(f->b.not_full, 0);
	assert_memory_equal(f->b.part, img->data, img->size);
}

/* Transfer buffers come with the first download, not before the first
 * command; without them the flash step fails with a reason. */
static void test_transfer_buffers(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 50000, 9);
	struct plan_step *st = add(f, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version");

	st->arg = "version";
	add_flash(f, img, "boot");
	fake_usb_fail_buf_alloc(f->b.dev, true);
	run(f, 0);
	assert_int_equal(f->rec.status, -ENOMEM);
	assert_non_null(strstr(f->rec.reason, "no memory for 4 transfer buffers of 16384 bytes"));
	assert_int_equal(f->rec.nsteps, 2);   /* getvar ran, then the flash step failed */
	assert_int_equal(f->b.data_bytes, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->bufs_allocated, 0);
}

static void test_no_buffers_without_download(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st = add(f, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version");

	st->arg = "version";
	add(f, PLAN_OP_REBOOT, "FB: reboot", "reboot");
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->bufs_allocated, 0);
}

/* ---- tests: images read when sent ---- */

/* An image read through a reader (as image.c gives for files it does not
 * hold in memory): it counts reads and starts failing with fail_err once
 * fail_after bytes were read (a file truncated or rewritten meanwhile). */
static struct {
	const uint8_t *bytes;
	uint64_t read, fail_after;
	int fail_err;
	unsigned reads;
} rdr;

static int reader_read(void *ud, uint64_t off, void *buf, size_t n)
{
	(void)ud;
	rdr.reads++;
	if (rdr.read + n > rdr.fail_after)
		return rdr.fail_err;
	rdr.read += n;
	memcpy(buf, rdr.bytes + off, n);
	return 0;
}

static struct plan_image *reader_image(struct fixture *f, size_t size, unsigned seed, uint64_t fail_after,
				       int err)
{
	struct plan_image *img = make_image(f, 0, size, seed);

	rdr.bytes = img->data;
	rdr.read = 0;
	rdr.reads = 0;
	rdr.fail_after = fail_after;
	rdr.fail_err = err;
	img->data = NULL;   /* only the reader has the bytes */
	img->src = (struct imgsrc){ .len = size, .read = reader_read };
	return img;
}

/* Raw and raw2sparse data come from the reader, byte for byte. */
static void test_image_read_when_sent(void **state)
{
	struct fixture *f = *state;
	const size_t size = 3u << 20;
	struct plan_image *img = reader_image(f, size, 21, UINT64_MAX, 0);

	f->b.maxdl = "OKAY0x00100000"; /* 1 MiB pieces */
	add_flash(f, img, "boot");
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_true(rdr.reads > 3);
	assert_int_equal(f->b.part_len, size);
	assert_memory_equal(f->b.part, rdr.bytes, size);
}

/* The image's file changed after the plan was loaded: the read fails
 * (image.c: -ESTALE) and the board fails with the reason, at once. */
static void test_image_changed_mid_flash(void **state)
{
	struct fixture *f = *state;
	const size_t size = 3u << 20;
	struct plan_image *img = reader_image(f, size, 22, 1u << 20, -ESTALE);

	f->b.maxdl = "OKAY0x01000000"; /* one raw download */
	add_flash(f, img, "boot");
	run(f, 0);
	assert_int_equal(f->rec.status, -ESTALE);
	assert_non_null(strstr(f->rec.reason, "changed since the plan was loaded"));
	assert_non_null(strstr(f->rec.reason, "reload the plan"));
	assert_true(f->b.data_bytes <= (1u << 20));
}

/* A sparse image whose chunk headers cannot be read any more. */
static void test_image_changed_sparse(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = reader_image(f, 40 * BLK, 23, 0, -ESTALE);

	f->b.maxdl = "OKAY0x00010000";
	add_flash(f, img, "boot")->raw2sparse = true;
	run(f, 0);
	assert_int_equal(f->rec.status, -ESTALE);
	assert_non_null(strstr(f->rec.reason, "changed since the plan was loaded"));
	assert_int_equal(f->b.data_bytes, 0);
}

/* ---- flash -verify (the read-back) ---- */

static unsigned count_cmds(const struct board *b, const char *prefix)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->ncmds; i++)
		n += strncmp(b->cmds[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* A raw image at -verify-at 0 in 32 KiB pieces: one mmc read and one
 * crc32 -v per piece, the wrong-digest probe once (it FAILs, as it must),
 * the region verified with the CRC-32 of the whole image. */
static void test_verify_raw_at(void **state)
{
	struct fixture *f = *state;
	const size_t size = 100000;
	struct plan_image *img = make_image(f, 0, size, 31);
	struct plan_step *st = add_flash(f, img, "bootloader");

	st->verify = st->has_verify_at = true;
	f->o.verify_piece = 32768;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nregions, 1);
	assert_true(f->rec.regions[0].verify && f->rec.regions[0].verified);
	assert_string_equal(f->rec.regions[0].where, "at 0x0");
	assert_int_equal(f->rec.regions[0].pieces, 4);
	assert_int_equal(f->rec.regions[0].checked, size);
	assert_int_equal(f->rec.regions[0].bytes, size);
	assert_int_equal(f->rec.regions[0].crc32, (uint32_t)crc32(0, f->data[0], size));
	assert_int_equal(f->b.reads, 4);
	assert_int_equal(f->b.checks, 6); /* + the two probes */
	assert_string_equal(f->b.cmds[3], "UCmd:crc32 -v ${loadaddr} 0x0 00000000");
	assert_string_equal(f->b.cmds[4], "UCmd:crc32 -v ${loadaddr} 0x0 ffffffff");
	assert_string_equal(f->b.cmds[5], "UCmd:mmc read ${loadaddr} 0x0 0x40");
	assert_int_equal(count_cmds(&f->b, "UCmd:part"), 0);
	/* the last piece: 100000 - 3 * 32768 bytes, read as whole blocks */
	assert_int_equal(count_cmds(&f->b, "UCmd:mmc read ${loadaddr} 0xc0 0x4"), 1);
	assert_int_equal(count_cmds(&f->b, "UCmd:crc32 -v ${loadaddr} 0x6a0 "), 1);
}

/* raw2sparse to a named partition: part start, then setexpr per piece; the
 * region is the whole raw image (zero blocks are written as FILL). */
static void test_verify_part_raw2sparse(void **state)
{
	struct fixture *f = *state;
	const size_t size = 40 * BLK;
	struct plan_image *img = make_image(f, 0, size, 32);
	struct plan_step *st = add_flash(f, img, "rootfs");

	st->raw2sparse = true;
	f->b.maxdl = "OKAY0x00010000";
	f->o.verify_all = true; /* the station's verify = on */
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rec.regions[0].verified);
	assert_string_equal(f->rec.regions[0].where, "part rootfs");
	assert_int_equal(f->rec.regions[0].checked, size);
	assert_int_equal(f->rec.regions[0].crc32, (uint32_t)crc32(0, f->data[0], size));
	/* pieces of at most max-download-size (64 KiB) */
	assert_int_equal(f->rec.regions[0].pieces, size / 65536 + !!(size % 65536));
	assert_int_equal(count_cmds(&f->b, "UCmd:part start mmc 0 rootfs fv_start"), 1);
	assert_int_equal(count_cmds(&f->b, "UCmd:setexpr fv_blk ${fv_start} + 0x"),
			 f->rec.regions[0].pieces);
	assert_int_equal(count_cmds(&f->b, "UCmd:mmc read ${loadaddr} ${fv_blk} 0x"),
			 f->rec.regions[0].pieces);
}

/* A bit that the eMMC got wrong: the board fails at the flash step with the
 * piece and region; the region is recorded as not verified. */
static void test_verify_catches_flip(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 200000, 33);
	struct plan_step *st = add_flash(f, img, "rootfs");

	st->verify = true;
	f->o.verify_piece = 65536;
	f->b.flip_at = 1 + 150000;
	run(f, 0);
	assert_int_equal(f->rec.status, -EBADMSG);
	assert_non_null(strstr(f->rec.reason, "verify rootfs: bytes 0x20000+0x10000 of the region (part "
					      "rootfs) differ from what was sent"));
	assert_int_equal(f->rec.nregions, 1);
	assert_true(f->rec.regions[0].verify);
	assert_false(f->rec.regions[0].verified);
	assert_int_equal(f->rec.regions[0].pieces, 2); /* the two before it matched */
	assert_non_null(strstr(f->rec.regions[0].why, "differ"));
}

/* A U-Boot without CONFIG_CRC32_VERIFY refuses the first probe; one whose
 * check takes any digest passes it and fails the second: either way the
 * board fails as one that cannot verify, before any read, and nothing is
 * called verified. */
static void test_verify_uboot_cannot(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st = add_flash(f, make_image(f, 0, 4096, 34), "rootfs");

	st->verify = true;
	f->b.no_verify_build = true;
	run(f, 0);
	assert_int_equal(f->rec.status, -ENOTSUP);
	assert_non_null(strstr(f->rec.reason, "refused \"crc32 -v ${loadaddr} 0x0 00000000\""));
	assert_non_null(strstr(f->rec.reason, "CONFIG_CRC32_VERIFY"));
	assert_false(f->rec.regions[0].verified);
	assert_int_equal(f->b.reads, 0);

	session_rec_free(&f->rec);
	f->ev = session_rec_init(&f->rec, &rec_ops);
	f->b.no_verify_build = false;
	f->b.accept_any = true;
	run(f, 0);
	assert_int_equal(f->rec.status, -ENOTSUP);
	assert_non_null(strstr(f->rec.reason, "accepted a wrong crc32"));
	assert_false(f->rec.regions[0].verified);
	assert_int_equal(f->b.reads, 0);
}

/* hash -v sha256 instead of crc32 -v; the part command failing names the way out. */
static void test_verify_sha256_and_no_part(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st = add_flash(f, make_image(f, 0, 70000, 35), "boot");

	st->verify = true;
	f->o.verify_sha256 = true;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rec.regions[0].verified);
	assert_int_equal(count_cmds(&f->b, "UCmd:hash -v sha256 ${loadaddr} 0x"), 3); /* probes + 1 piece */
	assert_int_equal(count_cmds(&f->b, "UCmd:hash -v sha256 ${loadaddr} 0x0 "
					   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 1);
	assert_int_equal(count_cmds(&f->b, "UCmd:crc32"), 0);

	session_rec_free(&f->rec);
	f->b.ncmds = 0;
	f->ev = session_rec_init(&f->rec, &rec_ops);
	f->b.part_missing = true;
	run(f, 0);
	assert_int_equal(f->rec.status, -EREMOTEIO);
	assert_non_null(strstr(f->rec.reason, "part command did not find boot"));
	assert_non_null(strstr(f->rec.reason, "-verify-at"));
}

/* Flash steps that are not read back say why; a download is no region. */
static void test_verify_off_regions(void **state)
{
	struct fixture *f = *state;
	struct plan_image *img = make_image(f, 0, 5000, 36);

	add_flash(f, img, "a");
	add_flash(f, img, "b")->no_verify = true;
	add_flash(f, img, "gpt");
	add(f, PLAN_OP_DOWNLOAD, "FB: download -f image.bin", NULL)->image = img;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nregions, 3);
	assert_string_equal(f->rec.regions[0].why, "verify off");
	assert_string_equal(f->rec.regions[0].part, "a");
	assert_int_equal(f->rec.regions[0].bytes, 5000);

	session_rec_free(&f->rec);
	f->ev = session_rec_init(&f->rec, &rec_ops);
	f->o.verify_all = true;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nregions, 3);
	assert_true(f->rec.regions[0].verified);
	assert_string_equal(f->rec.regions[1].why, "-no-verify");
	assert_non_null(strstr(f->rec.regions[2].why, "not verifiable"));
}


/* ---- bus scheduling (session_opts.bus, bussched.h) ---- */

static struct bussched *bus_new(void)
{
	struct bussched_cfg cfg = { 1, BUSSCHED_ORDER_FIFO, 0, 0 };
	struct bussched *bus = NULL;

	assert_int_equal(bussched_new(&cfg, &bus), 0);
	return bus;
}

static void bus_opts(struct fixture *f, struct bussched *bus)
{
	f->o.bus = bus;
	snprintf(f->o.bus_key, sizeof(f->o.bus_key), "usb1");
}

/* Another holds the bus: the session sends getvar and its first commands,
 * then nothing until its turn; the download goes when the bus is given back,
 * and the slot is returned at the download's OKAY. */
static void test_bus_waits_for_grant(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	struct plan_image *img = make_image(f, 0, 100000, 31);
	static int other;
	struct plan_step *st;

	bus_opts(f, bus);
	assert_int_equal(bussched_request(bus, "usb1", &other, 1, 0), 1);
	st = add(f, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version");
	st->arg = "version";
	add_flash(f, img, "boot");
	add(f, PLAN_OP_UCMD, "FB: ucmd a", "UCmd:a");
	start(f, 0);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 0);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "getvar:version",
						  NULL });
	assert_true(f->rec.bus_waiting);
	assert_int_equal(f->rec.nbus_waits, 1);
	assert_int_equal(f->rec.bus_bytes, 100000);
	assert_int_equal(f->rec.bus_ahead, 0);
	assert_int_equal(fake_usb_stats(f->b.dev)->live, 0); /* nothing in flight */
	assert_int_equal(bussched_state(bus, f->rec.fb), 0);
	assert_int_equal(f->rec.nprogress, 0);

	assert_int_equal(bussched_release(bus, &other, 1), 0);
	fb_session_bus_kick(bus);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
	assert_int_equal(f->rec.status, 0);
	assert_false(f->rec.bus_waiting);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "getvar:version",
						  "download:000186a0", "flash:boot", "UCmd:a", NULL });
	assert_memory_equal(f->b.part, img->data, 100000);
	assert_int_equal(bussched_state(bus, f->rec.fb), -ENOENT);
	assert_int_equal(bussched_active(bus, "usb1"), 0);
	session_rec_free(&f->rec);
	bussched_free(bus);
}

/* The bus is free: the download goes at once, no wait reported; the slot
 * is back at the OKAY, before the flash command. */
static void test_bus_free_goes_at_once(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();

	bus_opts(f, bus);
	run_flash(f, 3000, 32);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nbus_waits, 0);
	assert_int_equal(bussched_active(bus, "usb1"), 0);
	session_rec_free(&f->rec);
	bussched_free(bus);
}

/* The board fails the download, or the session is freed while it waits or
 * while it holds the bus: the slot (or its place in the queue) is given back. */
static void test_bus_released_on_failure_and_free(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	struct plan_image *img = make_image(f, 0, 300000, 33);
	static int other;

	bus_opts(f, bus);
	f->b.fail_cmd = "download:";
	f->b.fail_text = "no room";
	add_flash(f, img, "boot");
	run(f, 0);
	assert_int_equal(f->rec.status, -EREMOTEIO);
	assert_int_equal(bussched_active(bus, "usb1"), 0);
	assert_int_equal(bussched_state(bus, f->rec.fb), -ENOENT);
	session_rec_free(&f->rec);

	/* freed while waiting */
	f->b.fail_cmd = NULL;
	f->ev = session_rec_init(&f->rec, &rec_ops);
	assert_int_equal(bussched_request(bus, "usb1", &other, 1, 0), 1);
	start(f, 0);
	event_base_dispatch(f->base);
	assert_true(f->rec.bus_waiting);
	assert_int_equal(bussched_waiting(bus, "usb1"), 1);
	f->rec.fb = fb_session_free(f->rec.fb);
	assert_int_equal(bussched_waiting(bus, "usb1"), 0);
	assert_int_equal(bussched_release(bus, &other, 1), 0);
	fb_session_bus_kick(bus);
	event_base_dispatch(f->base);

	/* freed while its download holds the bus */
	f->ev = session_rec_init(&f->rec, &rec_ops);
	f->rec.free_at_progress = 2;
	start(f, 0);
	event_base_dispatch(f->base);
	assert_null(f->rec.fb);
	assert_int_equal(f->rec.nprogress, 2);
	assert_int_equal(bussched_active(bus, "usb1"), 0);
	bussched_free(bus);
}

/* A second board on the same bus, on its own fake device. */
struct bus_twin {
	struct board b;
	struct plan *plan;
	struct session_rec rec;
	struct session_events ev;
	struct plan_image img;
	uint8_t *data;
};

static void bus_twin_mark(struct session_rec *r)
{
	const struct board *other = r->hook_arg;

	/* data went to this board while the other took data too (the step's
	 * last report, bytes == total, comes after its flash: not data) */
	if (r->bytes < r->total && other->in_data)
		r->marks++;
}

static void bus_twin_init(struct fixture *f, struct bus_twin *t, size_t size)
{
	memset(t, 0, sizeof(*t));
	t->b.dev = fake_usb_new(f->base, &fb_board_ops, &t->b);
	t->b.maxdl = f->b.maxdl;
	t->b.xfer_size = f->b.xfer_size;
	t->b.dl = malloc(PART_MAX);
	t->b.part = calloc(1, PART_MAX);
	t->data = malloc(size);
	assert_non_null(t->b.dl);
	assert_non_null(t->b.part);
	assert_non_null(t->data);
	for (size_t k = 0; k < size; k++)
		t->data[k] = (uint8_t)(k * 7 + k / 4096);
	fake_plan_image(&t->img, "twin.bin", t->data, size);
	t->plan = fake_plan_new();
	struct plan_step *st = fake_plan_add(t->plan, PLAN_PROTO_FB, PLAN_OP_FLASH,
					     "FB: flash part twin.bin", "flash:boot");
	st->image = &t->img;
	st->image_len = size;
	st->arg = "boot";
	st->raw2sparse = true;
	t->ev = session_rec_init(&t->rec, &rec_ops);
}

static void bus_twin_free(struct bus_twin *t)
{
	session_rec_free(&t->rec);
	fake_usb_free(t->b.dev);
	plan_unref(t->plan);
	free(t->b.dl);
	free(t->b.part);
	free(t->data);
}

/* Two boards flash 3 downloads each: on one bus no data goes to one while
 * the other takes data; without the scheduler it does (the check can see
 * an overlap). Both eMMCs byte for byte. */
static void run_twins(struct fixture *f, struct bussched *bus, unsigned *marks)
{
	struct plan_image *img = make_image(f, 0, 2560u << 10, 34);
	struct bus_twin t;

	f->b.maxdl = "OKAY0x00100000"; /* 1 MiB: 3 downloads each */
	if (bus)
		bus_opts(f, bus);
	bus_twin_init(f, &t, 2560u << 10);
	add_flash(f, img, "boot")->raw2sparse = true;
	f->rec.on_progress = bus_twin_mark;
	f->rec.hook_arg = &t.b;
	t.rec.on_progress = bus_twin_mark;
	t.rec.hook_arg = &f->b;
	start(f, 0);
	assert_int_equal(fb_session_start(t.b.dev, t.plan, 0, &f->o, &t.ev, &t.rec.fb), 0);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
	assert_int_equal(t.rec.ndone, 1);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(t.rec.status, 0);
	assert_memory_equal(f->b.part, img->data, img->size);
	assert_memory_equal(t.b.part, t.data, t.img.size);
	assert_true(f->b.flashes >= 3 && t.b.flashes >= 3);
	*marks = f->rec.marks + t.rec.marks;
	if (bus) {
		assert_true(f->rec.nbus_waits + t.rec.nbus_waits >= 3);
		assert_int_equal(bussched_active(bus, "usb1"), 0);
		assert_int_equal(bussched_waiting(bus, "usb1"), 0);
	}
	session_rec_free(&f->rec);
	bus_twin_free(&t);
	event_base_loop(f->base, 0);
}

static void test_bus_two_boards_never_overlap(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	unsigned marks = 1;

	run_twins(f, bus, &marks);
	assert_int_equal(marks, 0);
	bussched_free(bus);
}

static void test_bus_off_two_boards_overlap(void **state)
{
	struct fixture *f = *state;
	unsigned marks = 0;

	run_twins(f, NULL, &marks);
	assert_true(marks > 0);
}

/* bus_small: while another board holds the bus, a download of at most
 * bus_small bytes goes at once (no wait reported, no slot taken); a larger
 * one waits as before. */
static void test_bus_small_goes_past(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	struct plan_image *small = make_image(f, 0, 3000, 35);
	struct plan_image *big = make_image(f, 1, 5000, 36);
	static int other;

	bus_opts(f, bus);
	f->o.bus_small = 4096;
	assert_int_equal(bussched_request(bus, "usb1", &other, 1, 0), 1);
	add_flash(f, small, "boot");
	add_flash(f, big, "misc");
	start(f, 0);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 0);
	assert_cmds(&f->b, (const char *const[]){ "getvar:max-download-size", "download:00000bb8",
						  "flash:boot", NULL });
	assert_true(f->rec.bus_waiting);
	assert_int_equal(f->rec.nbus_waits, 1);
	assert_int_equal(f->rec.bus_bytes, 5000);

	assert_int_equal(bussched_release(bus, &other, 1), 0);
	fb_session_bus_kick(bus);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.status, 0);
	assert_memory_equal(f->b.part, big->data, big->size);
	assert_int_equal(bussched_active(bus, "usb1"), 0);
	session_rec_free(&f->rec);
	bussched_free(bus);
}

/* bus_piece: on a scheduled bus a raw2sparse image goes in pieces of at most
 * bus_piece bytes (max-download-size 1 MiB, bus_piece 64 KiB); the same
 * image without the bus goes in max-download-size pieces; a raw image that
 * fits max-download-size goes whole either way. */
static unsigned bus_piece_run(struct fixture *f, struct bussched *bus, bool raw2sparse,
			      uint32_t *max_len)
{
	struct plan_image *img = make_image(f, 0, 600000, 37);
	unsigned n;

	f->b.maxdl = "OKAY0x00100000";
	f->o.bus = NULL;
	if (bus)
		bus_opts(f, bus);
	f->o.bus_piece = 64u << 10;
	add_flash(f, img, "boot")->raw2sparse = raw2sparse;
	run(f, 0);
	assert_int_equal(f->rec.status, 0);
	assert_memory_equal(f->b.part, img->data, img->size);
	n = count_cmds(&f->b, "download:");
	*max_len = 0;
	for (unsigned i = 0; i < f->b.ncmds; i++) {
		unsigned v;

		if (sscanf(f->b.cmds[i], "download:%8x", &v) == 1 && v > *max_len)
			*max_len = v;
	}
	session_rec_free(&f->rec);
	return n;
}

static void test_bus_piece_caps_sparse(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	uint32_t len = 0;

	assert_true(bus_piece_run(f, bus, true, &len) >= 8);
	assert_true(len <= 64u << 10);
	bussched_free(bus);
}

static void test_bus_piece_needs_bus(void **state)
{
	struct fixture *f = *state;
	uint32_t len = 0;

	assert_int_equal(bus_piece_run(f, NULL, true, &len), 1);
	assert_true(len > 64u << 10);
}

static void test_bus_piece_leaves_raw(void **state)
{
	struct fixture *f = *state;
	struct bussched *bus = bus_new();
	uint32_t len = 0;

	assert_int_equal(bus_piece_run(f, bus, false, &len), 1);
	assert_int_equal(len, 600000);
	bussched_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_raw_flash_flow),
		T(test_pool_values),
		T(test_pool_values_refused),
		T(test_verify_raw_at),
		T(test_verify_part_raw2sparse),
		T(test_verify_catches_flip),
		T(test_verify_uboot_cannot),
		T(test_verify_sha256_and_no_part),
		T(test_verify_off_regions),
		T(test_raw2sparse_pieces),
		T(test_sparse_resplit),
		T(test_many_small_segments),
		T(test_download_only_and_info),
		T(test_skip_and_protocol_end),
		T(test_delay),
		T(test_timeouts_per_command),
		T(test_flash_timeout_scales),
		T(test_flash_timeout_counts_fill),
		T(test_outcomes),
		T(test_fail_reply),
		T(test_data_size_mismatch),
		T(test_data_stall),
		T(test_unplug_mid_transfer),
		T(test_reboot_gone_at_submit),
		T(test_unplug_before_reboot_reply_of_other_cmd),
		T(test_submit_enomem_degrades),
		T(test_free_in_progress_callback),
		T(test_free_in_step_callback),
		T(test_free_in_done_callback),
		T(test_free_from_outside_mid_transfer),
		T(test_free_before_start_runs),
		T(test_start_errors),
		T(test_endpoints_and_defaults),
		T(test_transfer_buffers),
		T(test_no_buffers_without_download),
		T(test_image_read_when_sent),
		T(test_image_changed_mid_flash),
		T(test_image_changed_sparse),
		T(test_bus_waits_for_grant),
		T(test_bus_free_goes_at_once),
		T(test_bus_released_on_failure_and_free),
		T(test_bus_two_boards_never_overlap),
		T(test_bus_off_two_boards_overlap),
		T(test_bus_small_goes_past),
		T(test_bus_piece_caps_sparse),
		T(test_bus_piece_needs_bus),
		T(test_bus_piece_leaves_raw),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
