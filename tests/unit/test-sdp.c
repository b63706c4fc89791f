/* test-sdp: SDP encoders/decoders byte for byte against protocols.md §2, and
 * the upload step machine driven against a scripted fake boot ROM that
 * parses every report it gets, stores WRITE_FILE data in a RAM model (whole
 * 1 KiB payloads, like the ROM), checks the IVT at JUMP, and injects faults
 * at any command. */
#include "flashd/sdp.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../data/imx/imx-builder.h"

#define SELF 0x177FF400u
#define MiB (1024u * 1024u)

/* ---- encoders and decoders ---- */

/* bytes from hex digits; spaces only group them for the reader */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		assert_true(n / 2 < cap);
		unsigned v = (unsigned)(*hex <= '9' ? *hex - '0' : (*hex | 0x20) - 'a' + 10);
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] << 4 | v : v);
		n++;
	}
	return n / 2;
}

static void test_encode_commands(void **state)
{
	/* report 1: ID, command (BE16), address (BE32), format, count (BE32),
	 * data (BE32), reserved */
	static const struct {
		enum sdp_cmd cmd;
		uint32_t addr;
		uint8_t format;
		uint32_t count, data;
		const char *want;
	} cases[] = {
		/* protocols.md §2.2 */
		{ SDP_WRITE_FILE, 0x177FF400, 0, 0x4AC00, 0, "01 0404 177FF400 00 0004AC00 00000000 00" },
		{ SDP_READ_REGISTER, 0x021BC410, 0x20, 4, 0, "01 0101 021BC410 20 00000004 00000000 00" },
		{ SDP_ERROR_STATUS, 0, 0, 0, 0, "01 0505 00000000 00 00000000 00000000 00" },
		/* the other commands */
		{ SDP_WRITE_REGISTER, 0x020C4068, 0x20, 4, 0x12345678,
		  "01 0202 020C4068 20 00000004 12345678 00" },
		{ SDP_DCD_WRITE, 0x00910000, 0, 0x2E8, 0, "01 0A0A 00910000 00 000002E8 00000000 00" },
		{ SDP_JUMP_ADDRESS, 0x877FF400, 0, 0, 0, "01 0B0B 877FF400 00 00000000 00000000 00" },
		{ SDP_SKIP_DCD_HEADER, 0, 0, 0, 0, "01 0C0C 00000000 00 00000000 00000000 00" },
	};
	uint8_t out[SDP_REPORT1_LEN], want[SDP_REPORT1_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(unhex(cases[i].want, want, sizeof(want)), SDP_REPORT1_LEN);
		memset(out, 0xCC, sizeof(out));
		sdp_encode_cmd(out, cases[i].cmd, cases[i].addr, cases[i].format, cases[i].count,
			       cases[i].data);
		assert_memory_equal(out, want, SDP_REPORT1_LEN);
	}
}

static void test_encode_data(void **state)
{
	uint8_t src[SDP_DATA_PER_REPORT + 8], out[SDP_REPORT2_LEN];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);

	memset(out, 0xCC, sizeof(out));
	sdp_encode_data(out, src, SDP_DATA_PER_REPORT);
	assert_int_equal(out[0], 2);
	assert_memory_equal(out + 1, src, SDP_DATA_PER_REPORT);

	memset(out, 0xCC, sizeof(out));
	sdp_encode_data(out, src, 10);
	assert_int_equal(out[0], 2);
	assert_memory_equal(out + 1, src, 10);
	for (size_t i = 11; i < SDP_REPORT2_LEN; i++)
		assert_int_equal(out[i], 0);

	memset(out, 0xCC, sizeof(out));
	sdp_encode_data(out, src, sizeof(src)); /* clipped to one report */
	assert_memory_equal(out + 1, src, SDP_DATA_PER_REPORT);

	memset(out, 0xCC, sizeof(out));
	sdp_encode_data(out, NULL, 0);
	assert_int_equal(out[0], 2);
	for (size_t i = 1; i < SDP_REPORT2_LEN; i++)
		assert_int_equal(out[i], 0);
}

static void test_decode_hab(void **state)
{
	uint8_t r[SDP_REPORT4_LEN] = { 3, 0x56, 0x78, 0x78, 0x56 };
	uint32_t w = 1;

	assert_int_equal(sdp_decode_hab(r, 5, &w), 0);
	assert_int_equal(w, SDP_HAB_OPEN);
	memcpy(r + 1, (const uint8_t[]){ 0x12, 0x34, 0x34, 0x12 }, 4);
	assert_int_equal(sdp_decode_hab(r, 5, &w), 0);
	assert_int_equal(w, SDP_HAB_CLOSED);
	assert_int_equal(sdp_decode_hab(r, SDP_REPORT4_LEN, &w), 0); /* padded report */

	w = 7;
	assert_int_equal(sdp_decode_hab(r, 4, &w), -EBADMSG);
	assert_int_equal(sdp_decode_hab(r, 0, &w), -EBADMSG);
	assert_int_equal(sdp_decode_hab(r, SDP_REPORT4_LEN + 1, &w), -EBADMSG);
	r[0] = 4;
	assert_int_equal(sdp_decode_hab(r, 5, &w), -EBADMSG);
	assert_int_equal(w, 7);
	assert_int_equal(sdp_decode_hab(NULL, 5, &w), -EINVAL);
	assert_int_equal(sdp_decode_hab(r, 5, NULL), -EINVAL);
}

static void test_decode_status(void **state)
{
	static const struct {
		uint8_t bytes[4];
		uint32_t word;
		const char *name;
	} cases[] = {
		{ { 0x12, 0x34, 0x34, 0x12 }, SDP_HAB_CLOSED, "hab-closed" },
		{ { 0x56, 0x78, 0x78, 0x56 }, SDP_HAB_OPEN, "hab-open" },
		{ { 0x88, 0x88, 0x88, 0x88 }, SDP_WRITE_FILE_OK, "write-file-ok" },
		{ { 0x12, 0x8A, 0x8A, 0x12 }, SDP_WRITE_OK, "write-ok" },
		{ { 0x09, 0xD0, 0x0D, 0x90 }, SDP_SKIP_DCD_OK, "skip-dcd-ok" },
		{ { 0xF0, 0xF0, 0xF0, 0xF0 }, SDP_STATUS_IDLE, "idle" },
		{ { 0x33, 0x05, 0x0A, 0x00 }, 0x000A0533u, NULL },
		{ { 0x90, 0x0D, 0xD0, 0x09 }, 0x09D00D90u, NULL }, /* SKIP_DCD read big-endian */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t r[SDP_REPORT4_LEN] = { 4 };
		uint32_t w = 0;
		memcpy(r + 1, cases[i].bytes, 4);
		assert_int_equal(sdp_decode_status(r, sizeof(r), &w), 0);
		assert_int_equal(w, cases[i].word);
		if (cases[i].name)
			assert_string_equal(sdp_status_to_string(w), cases[i].name);
		else
			assert_null(sdp_status_to_string(w));
	}
	uint8_t r[SDP_REPORT4_LEN + 1] = { 4 };
	uint32_t w = 5;
	/* any length that holds the word, up to the report's 65 (uuu's get_status) */
	r[1] = 0x12;
	assert_int_equal(sdp_decode_status(r, 5, &w), 0);
	assert_int_equal(w, 0x12);
	assert_int_equal(sdp_decode_status(r, SDP_REPORT4_LEN - 1, &w), 0);
	w = 5;
	assert_int_equal(sdp_decode_status(r, SDP_REPORT4_LEN + 1, &w), -EBADMSG);
	assert_int_equal(sdp_decode_status(r, 4, &w), -EBADMSG);
	assert_int_equal(sdp_decode_status(r, 1, &w), -EBADMSG);
	r[0] = 3;
	assert_int_equal(sdp_decode_status(r, SDP_REPORT4_LEN, &w), -EBADMSG);
	assert_int_equal(w, 5);
	assert_int_equal(sdp_decode_status(NULL, SDP_REPORT4_LEN, &w), -EINVAL);
	assert_int_equal(sdp_decode_status(r, SDP_REPORT4_LEN, NULL), -EINVAL);
}

static void test_hab_event_strings(void **state)
{
	char buf[160];

	assert_ptr_equal(sdp_hab_event_to_string(0x000A0533u, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "status HAB failure, reason invalid IVT, context authenticate, "
				 "engine any");
	sdp_hab_event_to_string(0x1DDD2769u, buf, sizeof(buf));
	assert_string_equal(buf, "status HAB warning, reason invalid DCD, context DCD, engine CAAM");
	sdp_hab_event_to_string(0x21C018F0u, buf, sizeof(buf));
	assert_string_equal(buf, "status HAB success, reason invalid signature, context command, "
				 "engine OCOTP");
	sdp_hab_event_to_string(0x77BB7F12u, buf, sizeof(buf));
	assert_string_equal(buf, "status 0x12, reason 0x7f, context 0xbb, engine 0x77");
	/* truncation is safe */
	char small[12];
	sdp_hab_event_to_string(0x000A0533u, small, sizeof(small));
	assert_string_equal(small, "status HAB ");
	assert_null(sdp_hab_event_to_string(0, buf, 0));
	assert_null(sdp_hab_event_to_string(0, NULL, 10));
}

static void test_soc_table(void **state)
{
	static const struct {
		uint16_t vid, pid;
		const char *name;
		bool skip_dcd;
		uint32_t dcd_addr;
	} want[] = {
		{ 0x15a2, 0x0054, "MX6Q", false, 0x00910000 },
		{ 0x15a2, 0x0061, "MX6DL", false, 0x00910000 },
		{ 0x15a2, 0x0063, "MX6SL", false, 0x00910000 },
		{ 0x15a2, 0x0071, "MX6SX", false, 0x00910000 },
		{ 0x15a2, 0x007d, "MX6UL", true, 0x00910000 },
		{ 0x15a2, 0x0080, "MX6ULL", true, 0x00910000 },
		{ 0x1fc9, 0x0128, "MX6SLL", true, 0x00910000 },
		{ 0x15a2, 0x0076, "MX7D", true, 0x00911000 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct sdp_soc *s = sdp_soc_lookup(want[i].vid, want[i].pid);
		assert_non_null(s);
		assert_string_equal(s->name, want[i].name);
		assert_int_equal(s->vid, want[i].vid);
		assert_int_equal(s->pid, want[i].pid);
		assert_int_equal(s->skip_dcd, want[i].skip_dcd);
		assert_int_equal(s->dcd_addr, want[i].dcd_addr);
	}
	assert_null(sdp_soc_lookup(0x15a2, 0x004e)); /* i.MX53: bulk, not HID */
	assert_null(sdp_soc_lookup(0x0525, 0xa4a5)); /* U-Boot fastboot */
	assert_null(sdp_soc_lookup(0x1fc9, 0x0054));
	assert_null(sdp_soc_lookup(0, 0));
}

/* ---- fake boot ROM ---- */

enum fault {
	FAULT_NONE,
	FAULT_CMD_SEND,     /* SET_REPORT of report 1 fails */
	FAULT_DATA_SEND,    /* SET_REPORT of the first report 2 fails */
	FAULT_HAB_ID,       /* report 3 comes with ID 4 */
	FAULT_HAB_WORD,     /* report 3 word neither open nor closed */
	FAULT_HAB_SHORT,    /* report 3 of 4 bytes */
	FAULT_HAB_TIMEOUT,  /* no report 3 */
	FAULT_STATUS_WORD,  /* report 4 = 0x33333333 */
	FAULT_STATUS_EVENT, /* report 4 = HAB event: failure, invalid DCD, DCD */
	FAULT_STATUS_SHORT, /* report 4 of 4 bytes: no room for the word */
	FAULT_STATUS_ID,    /* report 4 comes with ID 3 */
	FAULT_STATUS_TIMEOUT,
	FAULT_SKIP_DCD_BE,  /* SKIP_DCD ack in big-endian byte order */
	FAULT_JUMP_IVT,     /* JUMP finds no IVT */
};

enum board_state { BOARD_IDLE, BOARD_DATA, BOARD_HAB, BOARD_STATUS, BOARD_JUMPED };

struct logged_cmd {
	uint16_t cmd;
	uint32_t addr;
	uint32_t count;
};

struct board {
	bool skip_dcd_rom;   /* the ROM implements SKIP_DCD_HEADER (6UL/ULL/SLL/7D) */
	uint32_t hab;
	uint32_t fuse[2];
	uint8_t dcd[2048];
	bool dcd_run;
	uint32_t ram_base;   /* DRAM model */
	size_t ram_size;
	uint8_t *ram;
	enum board_state st;
	uint16_t cmd;
	uint32_t addr, count, received;
	uint32_t status;
	bool status_is_data;
	bool skip_dcd_seen;
	bool jump_ok;
	int after_jump;      /* read result after a good jump: -ETIMEDOUT… */
	int jump_hab_err;    /* ≠ 0: the report-3 read of JUMP fails with it */
	struct logged_cmd log[64];
	size_t nlog;
	size_t reports2;
	size_t fault_at;     /* index of the command that gets the fault */
	enum fault fault;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool board_fault(const struct board *b, enum fault f)
{
	return b->fault == f && b->nlog - 1 == b->fault_at;
}

static void board_init(struct board *b, uint32_t ram_base, size_t ram_size, bool skip_dcd_rom)
{
	memset(b, 0, sizeof(*b));
	b->skip_dcd_rom = skip_dcd_rom;
	b->hab = SDP_HAB_OPEN;
	b->fuse[0] = 0x11223344;
	b->fuse[1] = 0xAABBCCDD;
	b->ram_base = ram_base;
	b->ram_size = ram_size;
	b->ram = calloc(1, ram_size);
	assert_non_null(b->ram);
	b->after_jump = -ETIMEDOUT;
	b->fault = FAULT_NONE;
}

static void board_free(struct board *b)
{
	free(b->ram);
}

/* JUMP: like the ROM, re-read the IVT at addr; its DCD would run again
 * unless cleared or skipped, which fails on a board whose DRAM holds data. */
static void board_jump(struct board *b, uint32_t addr)
{
	uint64_t off = (uint64_t)addr - b->ram_base;
	b->jump_ok = false;
	b->status = 0x000A0533u; /* failure, invalid IVT, authenticate */
	if (addr < b->ram_base || off + 32 > b->ram_size || board_fault(b, FAULT_JUMP_IVT))
		return;
	const uint8_t *ivt = b->ram + off;
	if (ivt[0] != 0xD1 || ivt[1] != 0 || ivt[2] != 0x20 || (ivt[3] & 0xF0) != 0x40)
		return;
	if (le32(ivt + 12) && !(b->skip_dcd_rom && b->skip_dcd_seen)) {
		b->status = 0x00DD2733u; /* failure, invalid DCD, DCD */
		return;
	}
	b->jump_ok = true;
}

static void board_command(struct board *b, const uint8_t *r)
{
	assert_int_equal(r[16], 0);
	b->cmd = (uint16_t)(r[1] << 8 | r[2]);
	b->addr = be32(r + 3);
	b->count = be32(r + 8);
	b->received = 0;
	b->status_is_data = false;
	assert_true(b->nlog < 64);
	b->log[b->nlog++] = (struct logged_cmd){ b->cmd, b->addr, b->count };

	switch (b->cmd) {
	case SDP_WRITE_FILE:
	case SDP_DCD_WRITE:
		assert_true(b->count > 0);
		assert_int_equal(r[7], 0);
		b->st = BOARD_DATA;
		break;
	case SDP_READ_REGISTER:
		assert_int_equal(r[7], 0x20);
		assert_int_equal(b->count, 4);
		assert_true(b->addr == SDP_OCOTP_CFG0 || b->addr == SDP_OCOTP_CFG1);
		b->status = b->fuse[b->addr == SDP_OCOTP_CFG1];
		b->status_is_data = true;
		b->st = BOARD_HAB;
		break;
	case SDP_SKIP_DCD_HEADER:
		b->skip_dcd_seen = true;
		b->status = board_fault(b, FAULT_SKIP_DCD_BE) ? 0x09D00D90u : SDP_SKIP_DCD_OK;
		b->st = BOARD_HAB;
		break;
	case SDP_JUMP_ADDRESS:
		board_jump(b, b->addr);
		b->st = BOARD_HAB;
		break;
	case SDP_ERROR_STATUS:
		b->status = SDP_STATUS_IDLE;
		b->status_is_data = true;
		b->st = BOARD_HAB;
		break;
	default:
		fail_msg("unexpected command 0x%04x", b->cmd);
	}
}

static void board_data(struct board *b, const uint8_t *r)
{
	b->reports2++;
	if (b->cmd == SDP_DCD_WRITE) {
		assert_true(b->received + SDP_DATA_PER_REPORT <= sizeof(b->dcd));
		memcpy(b->dcd + b->received, r + 1, SDP_DATA_PER_REPORT);
	} else {
		/* the ROM stores whole 1 KiB payloads */
		uint64_t off = (uint64_t)b->addr + b->received - b->ram_base;
		assert_true(b->addr >= b->ram_base);
		assert_true(off + SDP_DATA_PER_REPORT <= b->ram_size);
		memcpy(b->ram + off, r + 1, SDP_DATA_PER_REPORT);
	}
	uint32_t left = b->count - b->received;
	b->received += left < SDP_DATA_PER_REPORT ? left : SDP_DATA_PER_REPORT;
	if (b->received < b->count)
		return;
	b->st = BOARD_HAB;
	if (b->cmd == SDP_WRITE_FILE) {
		b->status = SDP_WRITE_FILE_OK;
		return;
	}
	b->dcd_run = imx_dcd_validate(b->dcd, b->count, NULL) == 0 &&
		     b->count == (uint32_t)(b->dcd[1] << 8 | b->dcd[2]);
	b->status = b->dcd_run ? SDP_WRITE_OK : 0x00DD2733u;
}

static int board_send(struct board *b, const uint8_t *data, size_t len)
{
	switch (b->st) {
	case BOARD_IDLE:
		assert_int_equal(len, SDP_REPORT1_LEN);
		assert_int_equal(data[0], 1);
		board_command(b, data);
		if (board_fault(b, FAULT_CMD_SEND)) {
			b->st = BOARD_IDLE;
			return -EPIPE;
		}
		return 0;
	case BOARD_DATA:
		assert_int_equal(len, SDP_REPORT2_LEN);
		assert_int_equal(data[0], 2);
		if (board_fault(b, FAULT_DATA_SEND))
			return -EIO;
		board_data(b, data);
		return 0;
	case BOARD_HAB:
	case BOARD_STATUS:
	case BOARD_JUMPED:
		break;
	}
	fail_msg("report sent in board state %d", b->st);
	return -EINVAL;
}

static int board_hab(struct board *b, uint8_t *buf, size_t *len)
{
	if (board_fault(b, FAULT_HAB_TIMEOUT))
		return -ETIMEDOUT;
	if (b->jump_hab_err && b->cmd == SDP_JUMP_ADDRESS)
		return b->jump_hab_err;
	buf[0] = board_fault(b, FAULT_HAB_ID) ? 4 : 3;
	imxb_put_le32(buf + 1, board_fault(b, FAULT_HAB_WORD) ? 0x12345678u : b->hab);
	*len = board_fault(b, FAULT_HAB_SHORT) ? 4 : 5;
	b->st = b->cmd == SDP_JUMP_ADDRESS && b->jump_ok ? BOARD_JUMPED : BOARD_STATUS;
	return 0;
}

static int board_recv(struct board *b, uint8_t *buf, size_t *len)
{
	switch (b->st) {
	case BOARD_HAB:
		return board_hab(b, buf, len);
	case BOARD_STATUS:
		b->st = BOARD_IDLE;
		if (board_fault(b, FAULT_STATUS_TIMEOUT))
			return -ETIMEDOUT;
		memset(buf, 0, SDP_REPORT4_LEN);
		buf[0] = board_fault(b, FAULT_STATUS_ID) ? 3 : 4;
		imxb_put_le32(buf + 1, b->status);
		if (board_fault(b, FAULT_STATUS_WORD))
			imxb_put_le32(buf + 1, 0x33333333u);
		if (board_fault(b, FAULT_STATUS_EVENT))
			imxb_put_le32(buf + 1, 0x00DD2733u);
		*len = board_fault(b, FAULT_STATUS_SHORT) ? 4 : SDP_REPORT4_LEN;
		return 0;
	case BOARD_JUMPED:
		return b->after_jump;
	case BOARD_IDLE:
	case BOARD_DATA:
		break;
	}
	return -ETIMEDOUT; /* nothing queued: the host would time out */
}

/* Run the upload against the board until DONE or failure. */
static int drive(struct sdp_upload *u, struct board *b)
{
	for (unsigned steps = 0; steps < 100000; steps++) {
		struct sdp_io io;
		uint8_t buf[SDP_REPORT4_LEN];
		size_t len = 0;
		int r = sdp_upload_next(u, &io);
		if (r < 0)
			return r;
		assert_true(sdp_upload_bytes_done(u) <= sdp_upload_bytes_total(u));
		switch (io.kind) {
		case SDP_IO_DONE:
			return 0;
		case SDP_IO_SEND:
			assert_false(io.after_jump);
			r = board_send(b, io.data, io.len);
			r = r < 0 ? sdp_upload_feed_error(u, r) : sdp_upload_sent(u);
			break;
		case SDP_IO_RECV:
			/* report 3 and report 4 of JUMP_ADDRESS */
			assert_int_equal(io.after_jump, b->st == BOARD_JUMPED ||
						       (b->st != BOARD_IDLE && b->cmd == SDP_JUMP_ADDRESS));
			r = board_recv(b, buf, &len);
			r = r < 0 ? sdp_upload_feed_error(u, r) : sdp_upload_feed(u, buf, len);
			break;
		}
		if (r < 0) {
			/* the failure sticks */
			struct sdp_io again;
			assert_int_equal(sdp_upload_next(u, &again), r);
			assert_non_null(sdp_upload_error(u));
			return r;
		}
	}
	fail_msg("upload did not finish");
	return -EINVAL;
}

struct setup {
	struct imxb_opts img;
	struct sdp_upload_opts opts;
	bool skip_dcd_rom;
};

struct run {
	uint8_t *file;
	size_t len;
	struct imx_image info;
	struct board board;
	struct sdp_upload *u;
	int result;
};

static void run_start(struct run *run, const struct setup *s)
{
	const char *why = NULL;

	memset(run, 0, sizeof(*run));
	run->file = malloc(imxb_size(&s->img));
	assert_non_null(run->file);
	run->len = imxb_build(run->file, &s->img);
	assert_int_equal(imx_image_parse(run->file, run->len, &run->info, &why), 0);
	board_init(&run->board, run->info.load_addr, run->info.upload_size + SDP_DATA_PER_REPORT,
		   s->skip_dcd_rom);
	assert_int_equal(sdp_upload_new(run->file, run->len, &run->info, &s->opts, &run->u), 0);
	assert_string_equal(sdp_upload_step(run->u), s->opts.read_uid ? "uid" :
						      s->img.dcd ? "dcd" : "write");
	assert_null(sdp_upload_error(run->u));
}

static void run_finish(struct run *run)
{
	sdp_upload_free(run->u);
	board_free(&run->board);
	free(run->file);
}

static int run_upload(struct run *run, const struct setup *s)
{
	run_start(run, s);
	run->result = drive(run->u, &run->board);
	return run->result;
}

/* RAM holds the file bytes [0, upload_size), with the IVT's dcd field
 * cleared when cleared is set. */
static void check_ram(const struct run *run, bool cleared)
{
	size_t dcd_field = run->info.ivt_offset + 12;
	const uint8_t *ram = run->board.ram;

	assert_memory_equal(ram, run->file, dcd_field);
	if (cleared)
		assert_int_equal(le32(ram + dcd_field), 0);
	else
		assert_memory_equal(ram + dcd_field, run->file + dcd_field, 4);
	assert_memory_equal(ram + dcd_field + 4, run->file + dcd_field + 4,
			    run->info.upload_size - dcd_field - 4);
}

/* the board's commands at, at + 1 … are want[0 … n) */
static void check_log_at(const struct board *b, size_t at, const struct logged_cmd *want, size_t n)
{
	for (size_t i = 0; i < n && at + i < b->nlog; i++) {
		const struct logged_cmd *got = &b->log[at + i];

		if (got->cmd != want[i].cmd || got->addr != want[i].addr || got->count != want[i].count)
			fail_msg("command %zu: got %04x %08x %u, want %04x %08x %u", at + i, got->cmd,
				 got->addr, got->count, want[i].cmd, want[i].addr, want[i].count);
	}
}

/* the board got exactly the commands want */
static void check_log(const struct board *b, const struct logged_cmd *want, size_t n)
{
	check_log_at(b, 0, want, n);
	assert_int_equal(b->nlog, n);
}

/* A 5 MiB payload at SELF with a DCD, as uploaded to a 6Q: the UID, the
 * DCD, the image in 2 MiB chunks; the jump comes after these. */
#define TOTAL_5MIB (0xC00 + 5 * MiB)

static const struct logged_cmd log_6q_5mib[] = {
	{ SDP_READ_REGISTER, SDP_OCOTP_CFG0, 4 },
	{ SDP_READ_REGISTER, SDP_OCOTP_CFG1, 4 },
	{ SDP_DCD_WRITE, 0x00910000, IMXB_DCD_SIZE },
	{ SDP_WRITE_FILE, SELF, 2 * MiB },
	{ SDP_WRITE_FILE, SELF + 2 * MiB, 2 * MiB },
	{ SDP_WRITE_FILE, SELF + 4 * MiB, TOTAL_5MIB - 4 * MiB },
};

/* A 3000-byte payload at SELF, jump on */
static const struct setup small = { .img = { 0, SELF, 3000, true }, .opts = { 0, false, false, true, 0 } };

/* A whole upload to the ROM of the SoC with this PID (vendor 0x15a2). */
static void upload_on(struct run *run, uint16_t pid, struct imxb_opts img, bool read_uid)
{
	const struct sdp_soc *soc = sdp_soc_lookup(0x15a2, pid);
	struct setup s = { .img = img, .skip_dcd_rom = soc ? soc->skip_dcd : false };

	assert_non_null(soc);
	s.opts = (struct sdp_upload_opts){ soc->dcd_addr, soc->skip_dcd, read_uid, true, 0 };
	assert_int_equal(run_upload(run, &s), 0);
}

/* A whole upload of 3000 bytes at SELF, with or without DCD and jump, to
 * a ROM that skips DCDs or not, told to skip likewise. */
static void upload_small(struct run *run, bool dcd, bool jump, bool skip)
{
	struct setup s = {
		.img = { 0, SELF, 3000, dcd },
		.opts = { SDP_DCD_ADDR_MX6, skip, false, jump, 0 },
		.skip_dcd_rom = skip,
	};

	assert_int_equal(run_upload(run, &s), 0);
}

/* 6Q: UID, DCD, three WRITE_FILE chunks with the IVT block cleared, JUMP. */
static void test_upload_6q(void **state)
{
	const struct logged_cmd jump = { SDP_JUMP_ADDRESS, SELF, 0 };
	size_t total = TOTAL_5MIB;
	struct run run;

	upload_on(&run, 0x0054, (struct imxb_opts){ 0, SELF, 5 * MiB, true }, true);
	check_log_at(&run.board, 0, log_6q_5mib, 6);
	check_log_at(&run.board, 6, &jump, 1);
	assert_int_equal(run.board.nlog, 7);
	assert_int_equal(run.board.reports2, 1 + (total + 1023) / 1024);
	check_ram(&run, true);
	assert_true(run.board.dcd_run);
	assert_memory_equal(run.board.dcd, run.file + IMXB_DCD, IMXB_DCD_SIZE);
	assert_true(run.board.jump_ok);

	uint64_t uid = 0;
	assert_true(sdp_upload_uid(run.u, &uid));
	assert_int_equal(uid, 0xAABBCCDD11223344ull);
	assert_false(sdp_upload_hab_closed(run.u));
	assert_string_equal(sdp_upload_step(run.u), "done");
	assert_int_equal(sdp_upload_bytes_done(run.u), total);
	assert_int_equal(sdp_upload_bytes_total(run.u), total);
	assert_null(sdp_upload_error(run.u));
	/* the caller's file is not modified */
	assert_int_equal(le32(run.file + 12), SELF + IMXB_DCD);
	run_finish(&run);
}

/* 6UL: SKIP_DCD_HEADER before the jump; the IVT in RAM keeps its DCD. */
static void test_upload_6ul(void **state)
{
	struct run run;

	upload_on(&run, 0x007d, (struct imxb_opts){ 0, 0x877FF400u, 3 * MiB, true }, false);
	size_t total = 0xC00 + 3 * MiB;
	const struct logged_cmd want[] = {
		{ SDP_DCD_WRITE, 0x00910000, IMXB_DCD_SIZE },
		{ SDP_WRITE_FILE, 0x877FF400u, 2 * MiB },
		{ SDP_WRITE_FILE, 0x877FF400u + 2 * MiB, (uint32_t)(total - 2 * MiB) },
		{ SDP_SKIP_DCD_HEADER, 0, 0 },
		{ SDP_JUMP_ADDRESS, 0x877FF400u, 0 },
	};
	check_log(&run.board, want, sizeof(want) / sizeof(want[0]));
	check_ram(&run, false);
	assert_true(run.board.jump_ok);
	assert_false(sdp_upload_uid(run.u, NULL));
	assert_int_equal(sdp_upload_bytes_done(run.u), total);
	run_finish(&run);
}

/* 7D: DCD goes to 0x00911000; IVT at 0x400 (boot-medium dump). */
static void test_upload_7d_ivt_at_0x400(void **state)
{
	struct run run;

	upload_on(&run, 0x0076, (struct imxb_opts){ 0x400, SELF, 100000, true }, false);
	const struct logged_cmd want[] = {
		{ SDP_DCD_WRITE, 0x00911000, IMXB_DCD_SIZE },
		{ SDP_WRITE_FILE, SELF - 0x400, (uint32_t)run.len },
		{ SDP_SKIP_DCD_HEADER, 0, 0 },
		{ SDP_JUMP_ADDRESS, SELF, 0 },
	};
	check_log(&run.board, want, sizeof(want) / sizeof(want[0]));
	check_ram(&run, false);
	run_finish(&run);
}

/* 6Q with the IVT at 0x400: the cleared block is the second KiB. */
static void test_upload_6q_ivt_at_0x400(void **state)
{
	struct setup s = {
		.img = { 0x400, SELF, 70000, true },
		.opts = { 0, false, false, true, 4096 }, /* dcd_addr 0: i.MX6 default */
	};
	struct run run;

	assert_int_equal(run_upload(&run, &s), 0);
	assert_int_equal(run.board.log[0].addr, SDP_DCD_ADDR_MX6);
	assert_int_equal(run.board.nlog, 1 + (run.len + 4095) / 4096 + 1);
	for (size_t i = 1; i + 1 < run.board.nlog; i++) {
		assert_int_equal(run.board.log[i].addr, SELF - 0x400 + (i - 1) * 4096);
		assert_true(run.board.log[i].count <= 4096);
	}
	check_ram(&run, true);
	assert_true(run.board.jump_ok);
	run_finish(&run);
}

/* No DCD: no DCD_WRITE, and no SKIP_DCD_HEADER even on a skip-DCD ROM. */
static void test_upload_no_dcd(void **state)
{
	for (int skip = 0; skip < 2; skip++) {
		struct run run;

		upload_small(&run, false, true, skip);
		const struct logged_cmd want[] = {
			{ SDP_WRITE_FILE, SELF, (uint32_t)run.len },
			{ SDP_JUMP_ADDRESS, SELF, 0 },
		};
		check_log(&run.board, want, 2);
		check_ram(&run, false);
		run_finish(&run);
	}
}

/* jump = false: stop after the writes, no SKIP_DCD, no JUMP. */
static void test_upload_nojump(void **state)
{
	for (int skip = 0; skip < 2; skip++) {
		struct run run;

		upload_small(&run, true, false, skip);
		assert_int_equal(run.board.nlog, 2);
		assert_int_equal(run.board.log[1].cmd, SDP_WRITE_FILE);
		check_ram(&run, !skip);
		run_finish(&run);
	}
}

static void test_upload_hab_closed(void **state)
{
	struct setup s = { .img = { 0, SELF, 3000, true }, .opts = { 0, false, true, true, 0 } };
	struct run run;

	run_start(&run, &s);
	run.board.hab = SDP_HAB_CLOSED;
	assert_int_equal(drive(run.u, &run.board), 0);
	assert_true(sdp_upload_hab_closed(run.u));
	run_finish(&run);
}

/* A good jump: the four read errors that mean "board is gone" are success,
 * anything else is not — on the report-4 read, and (e2e bug #4: dummy_hcd
 * and real host controllers give a read back with an error when the device
 * disconnects) already on the report-3 read. Whether the image runs is
 * decided by the fastboot device showing up. */
static void test_upload_after_jump(void **state)
{
	static const struct {
		int err;
		int result;
	} cases[] = {
		{ -ETIMEDOUT, 0 }, { -ENODEV, 0 }, { -EIO, 0 }, { -EPIPE, 0 },
		{ -ECANCELED, -ECANCELED }, { -ENOMEM, -ENOMEM },
	};
	for (size_t k = 0; k < 2 * sizeof(cases) / sizeof(cases[0]); k++) {
		bool report3 = k % 2;
		size_t i = k / 2;
		struct run run;

		run_start(&run, &small);
		if (report3)
			run.board.jump_hab_err = cases[i].err;
		else
			run.board.after_jump = cases[i].err;
		assert_int_equal(drive(run.u, &run.board), cases[i].result);
		assert_string_equal(sdp_upload_step(run.u), cases[i].result ? "jump" : "done");
		if (cases[i].result)
			assert_non_null(strstr(sdp_upload_error(run.u),
					       report3 ? "JUMP_ADDRESS at 0x177ff400: waiting for report 3"
						       : "JUMP_ADDRESS at 0x177ff400: waiting for report 4"));
		else
			assert_null(sdp_upload_error(run.u));
		run_finish(&run);
	}
}

/* The ROM refuses the jump: report 4 after JUMP is an error word. */
static void test_upload_jump_error(void **state)
{
	static const struct {
		bool skip_dcd, skip_dcd_rom;
		enum fault fault;
		const char *error;
	} cases[] = {
		/* the IVT is not there any more */
		{ false, false, FAULT_JUMP_IVT,
		  "JUMP_ADDRESS at 0x177ff400: error 0x000a0533 (status HAB failure, "
		  "reason invalid IVT, context authenticate, engine any)" },
		/* wrong ROM profile: SKIP_DCD sent to a ROM that does not skip */
		{ true, false, FAULT_NONE,
		  "JUMP_ADDRESS at 0x177ff400: error 0x00dd2733 (status HAB failure, "
		  "reason invalid DCD, context DCD, engine any)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct setup s = {
			.img = { 0, SELF, 3000, true },
			.opts = { 0, cases[i].skip_dcd, false, true, 0 },
			.skip_dcd_rom = cases[i].skip_dcd_rom,
		};
		struct run run;

		run_start(&run, &s);
		run.board.fault = cases[i].fault;
		run.board.fault_at = cases[i].skip_dcd ? 3 : 2; /* dcd, write, [skip], jump */
		assert_int_equal(drive(run.u, &run.board), -EPROTO);
		assert_string_equal(sdp_upload_error(run.u), cases[i].error);
		assert_string_equal(sdp_upload_step(run.u), "jump");
		assert_int_equal(sdp_upload_bytes_done(run.u), run.len);
		run_finish(&run);
	}
}

struct fault_case {
	enum fault fault;
	size_t at;          /* command index: 0 uid0, 1 uid1, 2 dcd, 3.. write, then jump */
	int result;
	const char *step;
	const char *error;  /* expected prefix of the reason */
	uint64_t done;      /* bytes acknowledged */
};

#define W0 SELF

static const struct fault_case fault_cases[] = {
	{ FAULT_HAB_ID, 0, -EBADMSG, "uid",
	  "READ_REGISTER at 0x021bc410: got report 4, expected report 3", 0 },
	{ FAULT_STATUS_SHORT, 1, -EBADMSG, "uid",
	  "READ_REGISTER at 0x021bc420: report 4 is 4 bytes, expected 5 to 65", 0 },
	{ FAULT_STATUS_TIMEOUT, 1, -ETIMEDOUT, "uid",
	  "READ_REGISTER at 0x021bc420: waiting for report 4: ", 0 },
	{ FAULT_HAB_WORD, 2, -EPROTO, "dcd",
	  "DCD_WRITE at 0x00910000: HAB word 0x12345678 is neither open nor closed", 0 },
	{ FAULT_STATUS_EVENT, 2, -EPROTO, "dcd",
	  "DCD_WRITE at 0x00910000: status 0x00dd2733, expected 0x128a8a12 (status HAB failure, "
	  "reason invalid DCD, context DCD, engine any)", 0 },
	{ FAULT_DATA_SEND, 2, -EIO, "dcd", "DCD_WRITE at 0x00910000: sending report 2: ", 0 },
	{ FAULT_CMD_SEND, 3, -EPIPE, "write", "WRITE_FILE at 0x177ff400: sending report 1: ", 0 },
	{ FAULT_STATUS_WORD, 3, -EPROTO, "write",
	  "WRITE_FILE at 0x177ff400: status 0x33333333, expected 0x88888888", 0 },
	{ FAULT_HAB_SHORT, 4, -EBADMSG, "write",
	  "WRITE_FILE at 0x179ff400: report 3 is 4 bytes, expected 5 to 65", 2 * MiB },
	{ FAULT_STATUS_ID, 5, -EBADMSG, "write",
	  "WRITE_FILE at 0x17bff400: got report 3, expected report 4", 4 * MiB },
	{ FAULT_HAB_TIMEOUT, 5, -ETIMEDOUT, "write",
	  "WRITE_FILE at 0x17bff400: waiting for report 3: ", 4 * MiB },
	{ FAULT_HAB_ID, 6, -EBADMSG, "jump",
	  "JUMP_ADDRESS at 0x177ff400: got report 4, expected report 3", TOTAL_5MIB },
	{ FAULT_CMD_SEND, 6, -EPIPE, "jump", "JUMP_ADDRESS at 0x177ff400: sending report 1: ",
	  TOTAL_5MIB },
};

static void test_upload_faults_6q(void **state)
{
	for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++) {
		const struct fault_case *c = &fault_cases[i];
		struct setup s = {
			.img = { 0, SELF, 5 * MiB, true },
			.opts = { SDP_DCD_ADDR_MX6, false, true, true, 0 },
		};
		struct run run;

		run_start(&run, &s);
		run.board.fault = c->fault;
		run.board.fault_at = c->at;
		int r = drive(run.u, &run.board);
		const char *err = sdp_upload_error(run.u);
		print_message("fault %d at %zu: %d %s\n", c->fault, c->at, r, err ? err : "(none)");
		assert_int_equal(r, c->result);
		assert_non_null(err);
		assert_int_equal(strncmp(err, c->error, strlen(c->error)), 0);
		assert_string_equal(sdp_upload_step(run.u), c->step);
		assert_int_equal(sdp_upload_bytes_done(run.u), c->done);
		/* the UID stays known once both words were read */
		uint64_t uid = 0;
		assert_int_equal(sdp_upload_uid(run.u, &uid), c->at >= 2);
		assert_int_equal(uid, c->at >= 2 ? 0xAABBCCDD11223344ull : 0);
		run_finish(&run);
	}
}

/* 6UL: SKIP_DCD_HEADER faults, including the big-endian ack. */
static void test_upload_faults_skip_dcd(void **state)
{
	static const struct {
		enum fault fault;
		int result;
		const char *error;
	} cases[] = {
		{ FAULT_SKIP_DCD_BE, -EPROTO, "SKIP_DCD_HEADER: status 0x09d00d90, expected 0x900dd009" },
		{ FAULT_STATUS_TIMEOUT, -ETIMEDOUT, "SKIP_DCD_HEADER: waiting for report 4: " },
		{ FAULT_HAB_WORD, -EPROTO, "SKIP_DCD_HEADER: HAB word 0x12345678" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct setup s = {
			.img = { 0, SELF, 3000, true },
			.opts = { SDP_DCD_ADDR_MX6, true, false, true, 0 },
			.skip_dcd_rom = true,
		};
		struct run run;

		run_start(&run, &s);
		run.board.fault = cases[i].fault;
		run.board.fault_at = 2; /* dcd, write, skip */
		assert_int_equal(drive(run.u, &run.board), cases[i].result);
		assert_int_equal(strncmp(sdp_upload_error(run.u), cases[i].error,
					 strlen(cases[i].error)), 0);
		assert_string_equal(sdp_upload_step(run.u), "skip-dcd");
		assert_int_equal(sdp_upload_bytes_done(run.u), run.len);
		run_finish(&run);
	}
}

static void test_upload_next_is_stable(void **state)
{
	struct run run;
	struct sdp_io a, b;
	uint8_t copy[SDP_REPORT2_LEN];

	run_start(&run, &small);
	assert_int_equal(sdp_upload_next(run.u, &a), 0);
	assert_int_equal(a.kind, SDP_IO_SEND);
	assert_int_equal(a.len, SDP_REPORT1_LEN);
	memcpy(copy, a.data, a.len);
	assert_int_equal(sdp_upload_next(run.u, &b), 0);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, copy, a.len);
	run_finish(&run);
}

static void test_upload_misuse(void **state)
{
	struct run run;
	struct sdp_io io;
	uint8_t r3[5] = { 3, 0x56, 0x78, 0x78, 0x56 };

	run_start(&run, &small);
	/* feed while a SEND is due: refused, nothing changes */
	assert_int_equal(sdp_upload_feed(run.u, r3, 5), -EINVAL);
	assert_int_equal(sdp_upload_next(run.u, &io), 0);
	assert_int_equal(io.kind, SDP_IO_SEND);
	/* DCD_WRITE: report 1 then one report 2 */
	assert_int_equal(sdp_upload_sent(run.u), 0);
	assert_int_equal(sdp_upload_next(run.u, &io), 0);
	assert_int_equal(io.len, SDP_REPORT2_LEN);
	assert_int_equal(sdp_upload_sent(run.u), 0);
	assert_int_equal(sdp_upload_next(run.u, &io), 0);
	assert_int_equal(io.kind, SDP_IO_RECV);
	assert_false(io.after_jump);
	/* sent while a RECV is due: refused */
	assert_int_equal(sdp_upload_sent(run.u), -EINVAL);
	assert_int_equal(sdp_upload_feed_error(run.u, 0), -EINVAL);
	assert_int_equal(sdp_upload_feed_error(run.u, 5), -EINVAL);
	assert_int_equal(sdp_upload_feed(run.u, NULL, 5), -EINVAL);
	/* an empty report fails the upload */
	assert_int_equal(sdp_upload_feed(run.u, r3, 0), -EBADMSG);
	assert_string_equal(sdp_upload_error(run.u),
			    "DCD_WRITE at 0x00910000: empty report, expected report 3");
	/* and everything after reports that failure */
	assert_int_equal(sdp_upload_next(run.u, &io), -EBADMSG);
	assert_int_equal(sdp_upload_sent(run.u), -EBADMSG);
	assert_int_equal(sdp_upload_feed(run.u, r3, 5), -EBADMSG);
	assert_int_equal(sdp_upload_feed_error(run.u, -ETIMEDOUT), -EBADMSG);
	run_finish(&run);

	/* NULLs */
	assert_int_equal(sdp_upload_next(NULL, &io), -EINVAL);
	assert_int_equal(sdp_upload_sent(NULL), -EINVAL);
	assert_int_equal(sdp_upload_feed(NULL, r3, 5), -EINVAL);
	assert_int_equal(sdp_upload_feed_error(NULL, -EIO), -EINVAL);
	assert_null(sdp_upload_error(NULL));
	assert_null(sdp_upload_step(NULL));
	assert_int_equal(sdp_upload_bytes_done(NULL), 0);
	assert_int_equal(sdp_upload_bytes_total(NULL), 0);
	assert_false(sdp_upload_hab_closed(NULL));
	assert_false(sdp_upload_uid(NULL, NULL));
	assert_null(sdp_upload_free(NULL));
}

static void test_upload_after_done(void **state)
{
	struct setup s = { .img = { 0, SELF, 3000, false }, .opts = { 0, false, false, false, 0 } };
	struct run run;
	struct sdp_io io;
	uint8_t r4[SDP_REPORT4_LEN] = { 4 };

	assert_int_equal(run_upload(&run, &s), 0);
	assert_int_equal(sdp_upload_next(run.u, &io), 0);
	assert_int_equal(io.kind, SDP_IO_DONE);
	assert_int_equal(sdp_upload_sent(run.u), -EINVAL);
	assert_int_equal(sdp_upload_feed(run.u, r4, sizeof(r4)), -EINVAL);
	assert_int_equal(sdp_upload_feed_error(run.u, -ETIMEDOUT), -EINVAL);
	assert_string_equal(sdp_upload_step(run.u), "done");
	run_finish(&run);
}

/* ---- command lists (plans that spell the upload out step by step) ---- */

/* uid, dcd, write (split in chunks, file as is), the IVT block rewritten
 * with dcd = 0, jump: what the session's dcd/write/jump steps send. */
static void test_commands_step_by_step(void **state)
{
	struct setup s = { .img = { 0, SELF, 5 * MiB, true }, .opts = { 0, false, false, true, 0 } };
	struct run run;
	uint8_t hdr[IMX_HEADER_BLOCK];
	size_t hdr_off = 0, hdr_len;
	uint64_t uid = 0;
	uint32_t word = 0;

	run_start(&run, &s);
	run.u = sdp_upload_free(run.u);
	hdr_len = imx_image_cleared_header(&run.info, run.file, hdr, &hdr_off);
	const struct sdp_command cmds[] = {
		{ SDP_READ_REGISTER, SDP_OCOTP_CFG0, NULL, 0 },
		{ SDP_READ_REGISTER, SDP_OCOTP_CFG1, NULL, 0 },
		{ SDP_DCD_WRITE, SDP_DCD_ADDR_MX6, run.file + run.info.dcd_offset,
		  (uint32_t)run.info.dcd_size },
		{ SDP_WRITE_FILE, run.info.load_addr, run.file, (uint32_t)run.info.upload_size },
		{ SDP_WRITE_FILE, run.info.load_addr + (uint32_t)hdr_off, hdr, (uint32_t)hdr_len },
		{ SDP_JUMP_ADDRESS, run.info.self, NULL, 0 },
	};
	assert_int_equal(sdp_upload_new_commands(cmds, 6, &run.u), 0);
	assert_string_equal(sdp_upload_step(run.u), "uid");
	assert_int_equal(sdp_upload_bytes_total(run.u), run.info.upload_size + hdr_len);
	assert_false(sdp_upload_word(run.u, NULL));
	assert_int_equal(drive(run.u, &run.board), 0);
	size_t total = TOTAL_5MIB;
	const struct logged_cmd tail[] = {
		{ SDP_WRITE_FILE, SELF + (uint32_t)hdr_off, (uint32_t)hdr_len },
		{ SDP_JUMP_ADDRESS, SELF, 0 },
	};
	check_log_at(&run.board, 0, log_6q_5mib, 6);
	check_log_at(&run.board, 6, tail, 2);
	assert_int_equal(run.board.nlog, 8);
	check_ram(&run, true);
	assert_true(run.board.dcd_run);
	assert_true(run.board.jump_ok);
	assert_string_equal(sdp_upload_step(run.u), "done");
	assert_int_equal(sdp_upload_bytes_done(run.u), total + hdr_len);
	assert_true(sdp_upload_uid(run.u, &uid));
	assert_int_equal(uid, 0xAABBCCDD11223344ull);
	assert_true(sdp_upload_word(run.u, &word));
	assert_int_equal(word, 0xAABBCCDD);
	run_finish(&run);
}

/* ERROR_STATUS answers with a word, and failures name it without an
 * address; a single READ_REGISTER is not a UID. */
static void test_commands_status(void **state)
{
	const struct sdp_command st = { SDP_ERROR_STATUS, 0, NULL, 0 };
	const struct sdp_command reg = { SDP_READ_REGISTER, SDP_OCOTP_CFG1, NULL, 0 };
	struct run run;
	uint32_t word = 0;

	run_start(&run, &small);
	run.u = sdp_upload_free(run.u);
	assert_int_equal(sdp_upload_new_commands(&st, 1, &run.u), 0);
	assert_string_equal(sdp_upload_step(run.u), "status");
	assert_int_equal(drive(run.u, &run.board), 0);
	assert_true(sdp_upload_word(run.u, &word));
	assert_int_equal(word, SDP_STATUS_IDLE);
	assert_false(sdp_upload_uid(run.u, NULL));
	assert_int_equal(sdp_upload_bytes_total(run.u), 0);
	run.u = sdp_upload_free(run.u);

	run.board.fault = FAULT_HAB_TIMEOUT;
	run.board.fault_at = 1;
	assert_int_equal(sdp_upload_new_commands(&st, 1, &run.u), 0);
	assert_int_equal(drive(run.u, &run.board), -ETIMEDOUT);
	assert_int_equal(strncmp(sdp_upload_error(run.u), "ERROR_STATUS: waiting for report 3: ",
				 strlen("ERROR_STATUS: waiting for report 3: ")), 0);
	assert_string_equal(sdp_upload_step(run.u), "status");
	run.u = sdp_upload_free(run.u);

	run.board.st = BOARD_IDLE;
	assert_int_equal(sdp_upload_new_commands(&reg, 1, &run.u), 0);
	assert_int_equal(drive(run.u, &run.board), 0);
	assert_true(sdp_upload_word(run.u, &word));
	assert_int_equal(word, 0xAABBCCDD);
	assert_false(sdp_upload_uid(run.u, NULL));
	run_finish(&run);
}

/* A jump step on a ROM that skips DCDs: SKIP_DCD_HEADER then JUMP; the
 * board leaving after the jump is success, as in the upload. */
static void test_commands_skip_and_jump(void **state)
{
	struct setup s = {
		.img = { 0, SELF, 3000, true },
		.opts = { 0, true, false, false, 0 },
		.skip_dcd_rom = true,
	};
	struct run run;

	assert_int_equal(run_upload(&run, &s), 0); /* dcd + write, no jump */
	check_ram(&run, false);
	run.u = sdp_upload_free(run.u);
	const struct sdp_command cmds[] = {
		{ SDP_SKIP_DCD_HEADER, 0x12345678, NULL, 0 },
		{ SDP_JUMP_ADDRESS, SELF, NULL, 0 },
	};
	run.board.after_jump = -ENODEV;
	assert_int_equal(sdp_upload_new_commands(cmds, 2, &run.u), 0);
	assert_string_equal(sdp_upload_step(run.u), "skip-dcd");
	assert_int_equal(drive(run.u, &run.board), 0);
	assert_int_equal(run.board.log[2].cmd, SDP_SKIP_DCD_HEADER);
	assert_int_equal(run.board.log[2].addr, 0);
	assert_true(run.board.jump_ok);
	assert_string_equal(sdp_upload_step(run.u), "done");
	run_finish(&run);
}

static void test_commands_rejects(void **state)
{
	static const uint8_t data[16];
	struct sdp_upload *u = (struct sdp_upload *)&u; /* must stay untouched */
	const struct sdp_command ok = { SDP_ERROR_STATUS, 0, NULL, 0 };
	const struct sdp_command bad[] = {
		{ SDP_WRITE_FILE, 0x1000, NULL, 16 },
		{ SDP_WRITE_FILE, 0x1000, data, 0 },
		{ SDP_WRITE_FILE, 0xFFFFFFF8u, data, 16 },
		{ SDP_DCD_WRITE, SDP_DCD_ADDR_MX6, NULL, 16 },
		{ SDP_DCD_WRITE, SDP_DCD_ADDR_MX6, data, 0 },
		{ SDP_DCD_WRITE, SDP_DCD_ADDR_MX6, data, IMX_DCD_MAX + 4 },
		{ SDP_WRITE_REGISTER, 0x1000, NULL, 4 },
		{ (enum sdp_cmd)0x7777, 0, NULL, 0 },
	};
	const struct sdp_command jump_first[] = { { SDP_JUMP_ADDRESS, SELF, NULL, 0 }, ok };
	struct sdp_command many[SDP_COMMANDS_MAX + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sdp_upload_new_commands(&bad[i], 1, &u), -EINVAL);
	assert_int_equal(sdp_upload_new_commands(jump_first, 2, &u), -EINVAL);
	for (size_t i = 0; i < SDP_COMMANDS_MAX + 1; i++)
		many[i] = ok;
	assert_int_equal(sdp_upload_new_commands(many, SDP_COMMANDS_MAX + 1, &u), -EINVAL);
	assert_int_equal(sdp_upload_new_commands(many, 0, &u), -EINVAL);
	assert_int_equal(sdp_upload_new_commands(NULL, 1, &u), -EINVAL);
	assert_int_equal(sdp_upload_new_commands(&ok, 1, NULL), -EINVAL);
	assert_ptr_equal(u, (struct sdp_upload *)&u);
	assert_int_equal(sdp_upload_new_commands(many, SDP_COMMANDS_MAX, &u), 0);
	sdp_upload_free(u);
	assert_false(sdp_upload_word(NULL, NULL));
	assert_string_equal(sdp_cmd_to_string(SDP_SKIP_DCD_HEADER), "SKIP_DCD_HEADER");
	assert_string_equal(sdp_cmd_to_string(SDP_WRITE_REGISTER), "WRITE_REGISTER");
	assert_null(sdp_cmd_to_string((enum sdp_cmd)0x7777));
}

/* U-Boot SPL's f_sdp: a write is one command block, whatever its size
 * (uuu: ROM_INFO_HID_SDP_NO_MAX_PER_TRANS); the ROM-only commands are refused. */
static void test_spl_machine(void **state)
{
	struct setup s = { .img = { 0, SELF, 5 * MiB, false }, .opts = { 0, false, false, true, 0 } };
	static const uint8_t data[16];
	struct sdp_upload *u = NULL;
	struct run run;

	run_start(&run, &s);
	run.u = sdp_upload_free(run.u);
	const struct sdp_command cmds[] = {
		{ SDP_WRITE_FILE, run.info.load_addr, run.file, (uint32_t)run.info.upload_size },
		{ SDP_JUMP_ADDRESS, run.info.self, NULL, 0 },
	};
	assert_int_equal(sdp_upload_new_spl(cmds, 2, &run.u), 0);
	assert_int_equal(sdp_upload_bytes_total(run.u), run.info.upload_size);
	run.board.after_jump = -ENODEV;
	assert_int_equal(drive(run.u, &run.board), 0);
	const struct logged_cmd want[] = {
		{ SDP_WRITE_FILE, SELF, (uint32_t)run.info.upload_size },
		{ SDP_JUMP_ADDRESS, SELF, 0 },
	};
	check_log(&run.board, want, 2);
	assert_memory_equal(run.board.ram, run.file, run.info.upload_size);
	assert_int_equal(sdp_upload_bytes_done(run.u), run.info.upload_size);
	run_finish(&run);
	/* never DCD_WRITE, SKIP_DCD_HEADER or WRITE_REGISTER to the SPL */
	const struct sdp_command bad[] = {
		{ SDP_DCD_WRITE, SDP_DCD_ADDR_MX6, data, 16 },
		{ SDP_SKIP_DCD_HEADER, 0, NULL, 0 },
		{ SDP_WRITE_REGISTER, 0x1000, NULL, 4 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sdp_upload_new_spl(&bad[i], 1, &u), -EINVAL);
	assert_null(u);
	/* address 0: the SPL's CONFIG_SDP_LOADADDR, sent as 0 */
	const struct sdp_command zero[] = { { SDP_WRITE_FILE, 0, data, 16 },
					    { SDP_JUMP_ADDRESS, 0, NULL, 0 } };
	assert_int_equal(sdp_upload_new_spl(zero, 2, &u), 0);
	sdp_upload_free(u);
}

static void test_spl_lookup(void **state)
{
	static const struct {
		uint16_t vid, pid, bcd;
		enum sdp_spl_kind kind;
	} cases[] = {
		{ 0x0525, 0xb4a4, 0x0000, SDP_SPL_SDPU }, { 0x0525, 0xb4a4, 0x04ff, SDP_SPL_SDPU },
		{ 0x0525, 0xb4a4, 0x0500, SDP_SPL_SDPV }, { 0x0525, 0xb4a4, 0x9998, SDP_SPL_SDPV },
		{ 0x0525, 0xb4a4, 0x9999, SDP_SPL_SDPU }, { 0x0525, 0xb4a4, 0xa000, SDP_SPL_NONE },
		{ 0x1fc9, 0x0151, 0x0500, SDP_SPL_SDPV }, { 0x1fc9, 0x0151, 0x0100, SDP_SPL_NONE },
		{ 0x3016, 0x1001, 0x0001, SDP_SPL_SDPU }, { 0x3016, 0x1001, 0x2021, SDP_SPL_SDPV },
		{ 0x0525, 0xa4a5, 0x0500, SDP_SPL_NONE }, /* fastboot */
		{ 0x1b67, 0x4fff, 0x0500, SDP_SPL_NONE }, /* Toradex: not in uuu's table */
		{ 0x15a2, 0x0054, 0x0001, SDP_SPL_NONE }, /* the ROM */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sdp_spl_lookup(cases[i].vid, cases[i].pid, cases[i].bcd),
				 cases[i].kind);
}

static void test_upload_new_rejects(void **state)
{
	struct imxb_opts o = { 0, SELF, 3000, true };
	uint8_t *file = malloc(imxb_size(&o));
	assert_non_null(file);
	size_t len = imxb_build(file, &o);
	struct imx_image info, bad;
	struct sdp_upload_opts opts = { 0, false, false, true, 0 };
	struct sdp_upload *u = (struct sdp_upload *)&o; /* must stay untouched */

	assert_int_equal(imx_image_parse(file, len, &info, NULL), 0);
	assert_int_equal(sdp_upload_new(NULL, len, &info, &opts, &u), -EINVAL);
	assert_int_equal(sdp_upload_new(file, len, NULL, &opts, &u), -EINVAL);
	assert_int_equal(sdp_upload_new(file, len, &info, NULL, &u), -EINVAL);
	assert_int_equal(sdp_upload_new(file, len, &info, &opts, NULL), -EINVAL);
	assert_int_equal(sdp_upload_new(file, len - 1, &info, &opts, &u), -EINVAL);
	bad = info;
	bad.upload_size = len + 1;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.upload_size = 0;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.dcd_offset = len - 4;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.dcd_size = IMX_DCD_MAX + 4;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.load_addr = 0xFFFFF000u;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.ivt_offset = 0x400;
	bad.upload_size = 0x410;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	bad = info;
	bad.plugin = 1;
	assert_int_equal(sdp_upload_new(file, len, &bad, &opts, &u), -EINVAL);
	opts.max_chunk = SDP_MAX_WRITE_CHUNK + 1024;
	assert_int_equal(sdp_upload_new(file, len, &info, &opts, &u), -EINVAL);
	opts.max_chunk = 1000;
	assert_int_equal(sdp_upload_new(file, len, &info, &opts, &u), -EINVAL);
	assert_ptr_equal(u, (struct sdp_upload *)&o);
	opts.max_chunk = 1024;
	assert_int_equal(sdp_upload_new(file, len, &info, &opts, &u), 0);
	assert_ptr_equal(sdp_upload_free(u), NULL);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_commands),
		cmocka_unit_test(test_encode_data),
		cmocka_unit_test(test_decode_hab),
		cmocka_unit_test(test_decode_status),
		cmocka_unit_test(test_spl_machine),
		cmocka_unit_test(test_spl_lookup),
		cmocka_unit_test(test_hab_event_strings),
		cmocka_unit_test(test_soc_table),
		cmocka_unit_test(test_upload_6q),
		cmocka_unit_test(test_upload_6ul),
		cmocka_unit_test(test_upload_7d_ivt_at_0x400),
		cmocka_unit_test(test_upload_6q_ivt_at_0x400),
		cmocka_unit_test(test_upload_no_dcd),
		cmocka_unit_test(test_upload_nojump),
		cmocka_unit_test(test_upload_hab_closed),
		cmocka_unit_test(test_upload_after_jump),
		cmocka_unit_test(test_upload_jump_error),
		cmocka_unit_test(test_upload_faults_6q),
		cmocka_unit_test(test_upload_faults_skip_dcd),
		cmocka_unit_test(test_upload_next_is_stable),
		cmocka_unit_test(test_upload_misuse),
		cmocka_unit_test(test_upload_after_done),
		cmocka_unit_test(test_commands_step_by_step),
		cmocka_unit_test(test_commands_status),
		cmocka_unit_test(test_commands_skip_and_jump),
		cmocka_unit_test(test_commands_rejects),
		cmocka_unit_test(test_upload_new_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
