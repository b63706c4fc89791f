/* fuzz-sdp: the SDP upload machine and report decoders on arbitrary input.
 *
 * Byte 0 selects the mode and options: bit 0 skip_dcd, bit 1 read_uid,
 * bit 2 jump, bit 3 max_chunk 1 KiB (else the 2 MiB default), bit 7 mode.
 * - bit 7 clear: the board's replies are the rest of the input, against a
 *   fixed built image (5000-byte payload, DCD). For each RECV one control
 *   byte c: c >= 0xF8 is a read error (-ETIMEDOUT, -ENODEV, -EIO, -EPIPE,
 *   -ECANCELED, ...), else a report of c % 66 bytes taken from the input.
 *   Every SEND succeeds. The input running out ends the run.
 * - bit 7 set: the rest of the input is an image file; if it parses, it is
 *   uploaded to a well-behaved board and must finish with every byte sent.
 * Invariant violations abort. */
#include "flashd/sdp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/imx/imx-builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_errors[] = { -ETIMEDOUT, -ENODEV, -EIO, -EPIPE,
				   -ECANCELED, -EPROTO, -ENOMEM, -EBUSY };

static void fuzz_opts(uint8_t flags, struct sdp_upload_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->skip_dcd = flags & 1;
	o->read_uid = flags & 2;
	o->jump = flags & 4;
	o->max_chunk = flags & 8 ? 1024 : 0;
}

static void fuzz_check(const struct sdp_upload *u)
{
	if (sdp_upload_bytes_done(u) > sdp_upload_bytes_total(u) || !sdp_upload_step(u))
		abort();
}

/* Replies of a board that does everything right. */
static int fuzz_good_reply(struct sdp_upload *u, uint16_t cmd, bool hab_sent)
{
	uint8_t r[SDP_REPORT4_LEN] = { 3, 0x56, 0x78, 0x78, 0x56 };
	uint32_t word = SDP_WRITE_OK;

	if (!hab_sent)
		return sdp_upload_feed(u, r, SDP_REPORT3_LEN);
	if (cmd == SDP_JUMP_ADDRESS)
		return sdp_upload_feed_error(u, -ENODEV);
	if (cmd == SDP_WRITE_FILE)
		word = SDP_WRITE_FILE_OK;
	if (cmd == SDP_SKIP_DCD_HEADER)
		word = SDP_SKIP_DCD_OK;
	r[0] = 4;
	imxb_put_le32(r + 1, word);
	return sdp_upload_feed(u, r, SDP_REPORT4_LEN);
}

static void fuzz_image(uint8_t flags, const uint8_t *img, size_t len)
{
	struct imx_image info;
	struct sdp_upload_opts opts;
	struct sdp_upload *u;
	uint16_t cmd = 0;
	bool hab_sent = false;

	if (imx_image_parse(img, len, &info, NULL) < 0)
		return;
	fuzz_opts(flags, &opts);
	if (sdp_upload_new(img, len, &info, &opts, &u) < 0) {
		if (!(info.plugin & 1))
			abort();
		return;
	}
	for (;;) {
		struct sdp_io io;
		if (sdp_upload_next(u, &io) < 0)
			abort();
		fuzz_check(u);
		if (io.kind == SDP_IO_DONE)
			break;
		if (io.kind == SDP_IO_SEND) {
			if (io.len == SDP_REPORT1_LEN) {
				cmd = (uint16_t)(io.data[1] << 8 | io.data[2]);
				hab_sent = false;
			}
			if (sdp_upload_sent(u) < 0)
				abort();
			continue;
		}
		if (fuzz_good_reply(u, cmd, hab_sent) < 0)
			abort();
		hab_sent = true;
	}
	if (sdp_upload_bytes_done(u) != info.upload_size || sdp_upload_error(u))
		abort();
	sdp_upload_free(u);
}

static int fuzz_recv(struct sdp_upload *u, const uint8_t **p, const uint8_t *end)
{
	uint8_t c = *(*p)++;
	if (c >= 0xF8)
		return sdp_upload_feed_error(u, fuzz_errors[c - 0xF8]);
	size_t n = c % (SDP_REPORT4_LEN + 1);
	if ((size_t)(end - *p) < n)
		return 1;
	int r = sdp_upload_feed(u, *p, n);
	*p += n;
	return r;
}

static void fuzz_replies(uint8_t flags, const uint8_t *p, const uint8_t *end)
{
	static uint8_t file[IMXB_PAYLOAD + 5000];
	static const struct imxb_opts o = { 0, 0x177FF400u, 5000, true };
	struct imx_image info;
	struct sdp_upload_opts opts;
	struct sdp_upload *u;

	size_t len = imxb_build(file, &o);
	if (imx_image_parse(file, len, &info, NULL) < 0)
		abort();
	fuzz_opts(flags, &opts);
	if (sdp_upload_new(file, len, &info, &opts, &u) < 0)
		abort();
	for (;;) {
		struct sdp_io io;
		int r = sdp_upload_next(u, &io);
		fuzz_check(u);
		if (r < 0) {
			if (!sdp_upload_error(u) || sdp_upload_sent(u) != r)
				abort();
			break;
		}
		if (io.kind == SDP_IO_DONE || (io.kind == SDP_IO_RECV && p == end))
			break;
		r = io.kind == SDP_IO_SEND ? sdp_upload_sent(u) : fuzz_recv(u, &p, end);
		if (r > 0)
			break;
	}
#ifdef FUZZ_SDP_TRACE
	fprintf(stderr, "step %s, %llu/%llu bytes, error %s\n", sdp_upload_step(u),
		(unsigned long long)sdp_upload_bytes_done(u),
		(unsigned long long)sdp_upload_bytes_total(u),
		sdp_upload_error(u) ? sdp_upload_error(u) : "none");
#endif
	sdp_upload_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t w;
	char text[128];

	if (!data || !size)
		return 0;
	/* decoders on the raw input */
	if (sdp_decode_hab(data, size, &w) == 0 || sdp_decode_status(data, size, &w) == 0) {
		sdp_status_to_string(w);
		sdp_hab_event_to_string(w, text, sizeof(text));
	}
	if (data[0] & 0x80)
		fuzz_image(data[0], data + 1, size - 1);
	else
		fuzz_replies(data[0], data + 1, data + size);
	return 0;
}
