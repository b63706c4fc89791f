/* fb_board: see fb_board.h. */
#include "fb_board.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>

#include <zlib.h>

#include "common/sha256.h"
#include "flashd/sparse.h"



static void board_reply(struct board *b, const char *fmt, ...)
{
	va_list ap;

	assert_true(b->rtail - b->rhead < 16);
	va_start(ap, fmt);
	vsnprintf(b->replies[b->rtail++ % 16], 80, fmt, ap);
	va_end(ap);
}

uint32_t fb_board_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void fb_board_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Expand a sparse file into out (as U-Boot's image-sparse.c does). */
bool fb_board_sparse_apply(const uint8_t *s, size_t len, uint8_t *out, size_t cap, size_t *hi)
{
	if (len < 28 || fb_board_rd32(s) != SPARSE_MAGIC)
		return false;
	size_t fhs = (size_t)(s[8] | s[9] << 8), chs = (size_t)(s[10] | s[11] << 8);
	uint32_t blk = fb_board_rd32(s + 12), total = fb_board_rd32(s + 16), chunks = fb_board_rd32(s + 20), sum = 0;
	size_t off = fhs, pos = 0;
	for (uint32_t i = 0; i < chunks; i++) {
		if (off + chs > len)
			return false;
		uint16_t type = (uint16_t)(s[off] | s[off + 1] << 8);
		uint32_t n = fb_board_rd32(s + off + 4), tsz = fb_board_rd32(s + off + 8);
		size_t bytes = (size_t)n * blk;
		if (off + tsz > len || pos + bytes > cap)
			return false;
		if (type == SPARSE_CHUNK_RAW) {
			if (tsz != chs + bytes)
				return false;
			memcpy(out + pos, s + off + chs, bytes);
		} else if (type == SPARSE_CHUNK_FILL) {
			for (size_t k = 0; k < bytes; k += 4)
				memcpy(out + pos + k, s + off + chs, 4);
		} else if (type != SPARSE_CHUNK_DONT_CARE) {
			return false; /* CRC32 must never reach U-Boot */
		}
		if (type != SPARSE_CHUNK_DONT_CARE && pos + bytes > *hi)
			*hi = pos + bytes;
		pos += bytes;
		sum += n;
		off += tsz;
	}
	return sum == total && off == len;
}

static bool prefix(const char *cmd, const char *p)
{
	return p && strncmp(cmd, p, strlen(p)) == 0;
}

static void board_flash(struct board *b)
{
	size_t hi = b->part_len;

	b->flashes++;
	if (b->dl_len >= 4 && fb_board_rd32(b->dl) == SPARSE_MAGIC) {
		if (!fb_board_sparse_apply(b->dl, b->dl_len, b->part, PART_MAX, &hi))
			b->bad_sparse = true;
		b->part_len = hi;
	} else {
		assert_true(b->dl_len <= PART_MAX);
		memcpy(b->part, b->dl, b->dl_len);
		if (b->dl_len > b->part_len)
			b->part_len = b->dl_len;
	}

}

/* 0x… or ${fv_start}/${fv_blk} */
static bool board_num(const struct board *b, const char *s, uint64_t *v)
{
	char *e;

	if (!strcmp(s, "${fv_blk}"))
		*v = b->fv_blk;
	else if (!strcmp(s, "${fv_start}"))
		*v = b->fv_start;
	else if (strncmp(s, "0x", 2) || (*v = strtoull(s + 2, &e, 16), *e))
		return false;
	return true;
}

/* The read-back commands flash -verify sends; false: not one of them. */
static bool board_ucmd(struct board *b, const char *cmd)
{
	char a[64], c[80], d[80];
	uint64_t blk, cnt, len;
	int n = 0;

	if (sscanf(cmd, "UCmd:part start mmc 0 %63s fv_start%n", a, &n) == 1 && !cmd[n]) {
		b->fv_start = 0; /* the one partition starts at block 0 */
		board_reply(b, b->part_missing ? "FAIL" : "OKAY");
	} else if (sscanf(cmd, "UCmd:setexpr fv_blk ${fv_start} + %79s", c) == 1 && board_num(b, c, &blk)) {
		b->fv_blk = b->fv_start + blk;
		board_reply(b, "OKAY");
	} else if (sscanf(cmd, "UCmd:mmc read ${loadaddr} %79s %79s", c, d) == 2) {
		b->reads++;
		if (!board_num(b, c, &blk) || !board_num(b, d, &cnt) || (blk + cnt) * 512 > PART_MAX ||
		    cnt * 512 > PART_MAX) {
			board_reply(b, "FAIL");
			return true;
		}
		if (b->flip_at && !b->flipped) {
			b->part[b->flip_at - 1] ^= 1; /* a write error nobody saw */
			b->flipped = true;
		}
		memcpy(b->dl, b->part + blk * 512, cnt * 512);
		board_reply(b, "OKAY");
	} else if (sscanf(cmd, "UCmd:crc32 -v ${loadaddr} %79s %79s", c, d) == 2 && board_num(b, c, &len)) {
		char want[9];

		b->checks++;
		assert_true(len <= PART_MAX);
		snprintf(want, sizeof(want), "%08lx", crc32(0, b->dl, (uInt)len));
		board_reply(b, !b->no_verify_build && (b->accept_any || !strcmp(want, d)) ? "OKAY" : "FAIL");
	} else if (sscanf(cmd, "UCmd:hash -v sha256 ${loadaddr} %79s %79s", c, d) == 2 &&
		   board_num(b, c, &len)) {
		char want[SHA256_HEX_LEN + 1];

		b->checks++;
		assert_true(len <= PART_MAX);
		sha256_hex(b->dl, len, want);
		board_reply(b, !b->no_verify_build && (b->accept_any || !strcmp(want, d)) ? "OKAY" : "FAIL");
	} else if (!strncmp(cmd, "UCmd:mmc dev 0 ", 15)) {
		board_reply(b, "OKAY");
	} else {
		return false;
	}
	return true;
}

static void board_command(struct board *b, const char *cmd)
{
	unsigned size;

	for (unsigned i = 0; i < b->info_lines; i++)
		board_reply(b, "INFOline %u", i);
	if (prefix(cmd, b->hold_cmd))
		return;
	if (prefix(cmd, b->fail_cmd)) {
		board_reply(b, "FAIL%s", b->fail_text);
	} else if (prefix(cmd, b->raw_reply)) {
		board_reply(b, "%s", b->raw_reply_text);
	} else if (!strcmp(cmd, "getvar:max-download-size")) {
		board_reply(b, "%s", b->maxdl);
	} else if (prefix(cmd, "getvar:")) {
		board_reply(b, "OKAYvalue-of-%s", cmd + 7);
	} else if (sscanf(cmd, "download:%8x", &size) == 1) {
		b->in_data = true;
		b->remaining = size;
		b->dl_len = 0;
		board_reply(b, "DATA%08x", size + (unsigned)b->data_delta);
	} else if (prefix(cmd, "flash:")) {
		board_flash(b);
		board_reply(b, "OKAY");
	} else if (board_ucmd(b, cmd)) {
		/* answered */
	} else if (!strcmp(cmd, "reboot") && b->reboot_unplug) {
		b->unplug_pending = true; /* resets before its OKAY goes out */
	} else {
		board_reply(b, "OKAY");
	}
}

static int board_out(void *ud, const struct fake_setup *setup, uint8_t ep, const uint8_t *data,
		     size_t len, size_t *actual)
{
	struct board *b = ud;

	assert_null(setup);
	assert_int_equal(ep, 0x01);
	*actual = len;
	if (b->in_data) {
		if (b->hold_data_at && b->data_bytes >= b->hold_data_at)
			return FAKE_HOLD;      /* the board stops taking data */
		assert_true(len <= b->remaining); /* surplus data desyncs U-Boot */
		assert_true(len > 0);
		b->data_xfers++;
		if (b->xfer_size && len != b->xfer_size && len != b->remaining)
			b->not_full++;
		if (len % 512 && len != b->remaining)
			b->unaligned++;
		if (len > b->max_data_len)
			b->max_data_len = len;
		memcpy(b->dl + b->dl_len, data, len);
		b->dl_len += len;
		b->remaining -= (uint32_t)len;
		b->data_bytes += len;
		if (b->unplug_at && b->data_bytes >= b->unplug_at) {
			fake_usb_unplug(b->dev);
			return -ENODEV;
		}
		if (!b->remaining) {
			b->in_data = false;
			board_reply(b, "OKAY");
		}
	} else {
		assert_true(len > 0 && len < 160);
		assert_true(b->ncmds < 64);
		memcpy(b->cmds[b->ncmds], data, len);
		b->cmds[b->ncmds][len] = '\0';
		board_command(b, b->cmds[b->ncmds++]);
	}
	fake_usb_kick(b->dev);
	return 0;
}

static int board_in(void *ud, uint8_t ep, uint8_t *buf, size_t len, size_t *actual)
{
	struct board *b = ud;

	assert_int_equal(ep, 0x81);
	assert_true(len >= 64);
	if (b->unplug_pending) {
		fake_usb_unplug(b->dev);
		return -ENODEV;
	}
	if (b->rhead == b->rtail)
		return FAKE_HOLD;
	const char *r = b->replies[b->rhead++ % 16];
	*actual = strlen(r);
	memcpy(buf, r, *actual);
	return 0;
}

const struct fake_dev_ops fb_board_ops = { board_out, board_in, NULL };
