/* decompress: zstd, gzip, bzip2 and xz images into sparse files, through
 * libzstd, zlib, libbz2 and liblzma (decompress.h). The decoders follow each
 * library's documented streaming loop (zstd.h ZSTD_decompressStream, zlib.h
 * inflate with windowBits 15+16, bzlib.h BZ2_bzDecompress, lzma/base.h
 * lzma_code with LZMA_CONCATENATED); what uuu does with the same libraries
 * is in libuuu/buffer.cpp (Gzstream, Bz2stream, ZstdStream). */
#include "flashd/decompress.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/macro.h"
#include "common/sha256.h"

#define DC_BUF (1u << 20)            /* input and output buffer (a multiple of DC_BLK) */
#define DC_BLK 4096u                 /* zero blocks of this size become holes */
#define DC_SPACE_EVERY (64ull << 20) /* free space checked every this many payload bytes */
#define DC_PROGRESS_EVERY (16ull << 20)

static const char *const decompress_names[] = {
	[DECOMPRESS_FORMAT_NONE] = NULL,
	[DECOMPRESS_FORMAT_ZSTD] = "zstd",
	[DECOMPRESS_FORMAT_GZIP] = "gzip",
	[DECOMPRESS_FORMAT_BZIP2] = "bzip2",
	[DECOMPRESS_FORMAT_XZ] = "xz",
};

const char *decompress_format_to_string(enum decompress_format f)
{
	return (unsigned)f < ELEMENTSOF(decompress_names)
		       ? decompress_names[f] : NULL;
}

enum decompress_format decompress_detect(const void *head, size_t len)
{
	const uint8_t *h = head;

	if (len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
		return DECOMPRESS_FORMAT_ZSTD;
	if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return DECOMPRESS_FORMAT_GZIP;
	if (len >= 4 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9')
		return DECOMPRESS_FORMAT_BZIP2;
	if (len >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return DECOMPRESS_FORMAT_XZ;
	return DECOMPRESS_FORMAT_NONE;
}

/* ---- the job: input, output, reason ---- */

struct dc {
	int in_fd;
	uint8_t *in;
	size_t in_len, in_pos;
	bool eof;
	uint64_t in_done, in_total, next_report;
	int out_fd;
	uint8_t *out;
	size_t fill;            /* payload bytes in out */
	uint64_t off;           /* payload offset of out[0] */
	uint64_t max, min_free, next_check;
	struct sha256 sha;
	const struct decompress_opts *o;
	char *why;
};

static int dc_fail(struct dc *d, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int dc_fail(struct dc *d, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, DECOMPRESS_WHY_MAX, fmt, ap);
	va_end(ap);
	return r;
}

/* Next chunk of compressed input once the last one is used up. */
static int dc_read(struct dc *d)
{
	ssize_t n;

	if (d->in_pos < d->in_len || d->eof)
		return 0;
	do
		n = read(d->in_fd, d->in, DC_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dc_fail(d, -errno, "reading the compressed file: %s", strerror(errno));
	d->in_len = (size_t)n;
	d->in_pos = 0;
	d->eof = n == 0;
	d->in_done += (uint64_t)n;
	if (d->o->progress && (d->in_done >= d->next_report || d->eof)) {
		d->o->progress(d->o->ud, d->in_done, d->in_total);
		d->next_report = d->in_done + DC_PROGRESS_EVERY;
	}
	return 0;
}

static bool dc_zero(const uint8_t *p, size_t n)
{
	static const uint8_t z[16];

	if (n <= 16)
		return memcmp(p, z, n) == 0;
	return memcmp(p, z, 16) == 0 && memcmp(p, p + 16, n - 16) == 0;
}

static int dc_pwrite(struct dc *d, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(d->out_fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			return dc_fail(d, -e, "writing the payload at byte %llu: %s",
				       (unsigned long long)off, strerror(e));
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int dc_space(struct dc *d)
{
	struct statvfs sv;
	uint64_t avail;

	if (d->off < d->next_check)
		return 0;
	d->next_check = d->off + DC_SPACE_EVERY;
	if (fstatvfs(d->out_fd, &sv) < 0)
		return 0;   /* no figure: the write's own ENOSPC still stops us */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < d->min_free)   /* checked every DC_SPACE_EVERY bytes: may go that far below */
		return dc_fail(d, -ENOSPC,
			       "not enough free space for the payload: %llu MiB left after %llu MiB "
			       "written (%llu MiB are kept free)",
			       (unsigned long long)(avail >> 20), (unsigned long long)(d->off >> 20),
			       (unsigned long long)(d->min_free >> 20));
	return 0;
}

/* Write out the buffered payload, runs of zero blocks left as holes. */
static int dc_flush(struct dc *d)
{
	size_t i = 0, j, n;
	int r = dc_space(d);

	if (r < 0)
		return r;
	sha256_update(&d->sha, d->out, d->fill);
	while (i < d->fill) {
		n = d->fill - i < DC_BLK ? d->fill - i : DC_BLK;
		if (dc_zero(d->out + i, n)) {
			i += n;
			continue;
		}
		for (j = i + n; j < d->fill; j += n) {
			n = d->fill - j < DC_BLK ? d->fill - j : DC_BLK;
			if (dc_zero(d->out + j, n))
				break;
		}
		r = dc_pwrite(d, d->out + i, j - i, d->off + i);
		if (r < 0)
			return r;
		i = j;
	}
	d->off += d->fill;
	d->fill = 0;
	return 0;
}

/* The decoder has written up to new_fill bytes of out. */
static int dc_produced(struct dc *d, size_t new_fill)
{
	d->fill = new_fill;
	if (d->off + d->fill > d->max)
		return dc_fail(d, -EFBIG, "the payload is larger than the limit of %llu bytes",
			       (unsigned long long)d->max);
	return d->fill == DC_BUF ? dc_flush(d) : 0;
}

static int dc_truncated(struct dc *d, const char *fmt)
{
	return dc_fail(d, -EBADMSG, "%s: truncated stream (ends after %llu compressed bytes)", fmt,
		       (unsigned long long)d->in_done);
}

/* ---- zstd: ZSTD_decompressStream goes on into the next frame by itself ---- */

static int dc_zstd_run(struct dc *d, ZSTD_DCtx *z)
{
	size_t ret = 0;
	bool full;
	int r;

	for (;;) {
		if ((r = dc_read(d)) < 0)
			return r;
		if (d->eof)
			return ret == 0 ? 0 : dc_truncated(d, "zstd");
		ZSTD_inBuffer ib = { d->in, d->in_len, d->in_pos };
		do {
			ZSTD_outBuffer ob = { d->out, DC_BUF, d->fill };
			ret = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(ret))
				return dc_fail(d, -EBADMSG, "zstd: %s (%llu compressed bytes read)",
					       ZSTD_getErrorName(ret), (unsigned long long)d->in_done);
			full = ob.pos == ob.size;
			if ((r = dc_produced(d, ob.pos)) < 0)
				return r;
		} while (ib.pos < ib.size || (full && ret != 0));
		d->in_pos = ib.pos;
	}
}

static int dc_zstd(struct dc *d)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	int r;

	if (!z)
		return dc_fail(d, -ENOMEM, "out of memory");
	r = dc_zstd_run(d, z);
	ZSTD_freeDCtx(z);
	return r;
}

/* ---- gzip: a new member may follow the end of one (gzip(1) concatenation) ---- */

static int dc_gzip_run(struct dc *d, z_stream *s)
{
	bool ended = false, full;
	int zr, r;

	for (;;) {
		if ((r = dc_read(d)) < 0)
			return r;
		if (d->eof)
			return ended ? 0 : dc_truncated(d, "gzip");
		s->next_in = d->in + d->in_pos;
		s->avail_in = (uInt)(d->in_len - d->in_pos);
		do {
			if (ended && s->avail_in) {
				inflateReset(s);
				ended = false;
			}
			s->next_out = d->out + d->fill;
			s->avail_out = (uInt)(DC_BUF - d->fill);
			zr = inflate(s, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
				return dc_fail(d, zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG,
					       "gzip: %s (%llu compressed bytes read)",
					       s->msg ? s->msg : zError(zr), (unsigned long long)d->in_done);
			ended = zr == Z_STREAM_END;
			full = s->avail_out == 0;
			if ((r = dc_produced(d, DC_BUF - s->avail_out)) < 0)
				return r;
		} while ((s->avail_in && zr != Z_BUF_ERROR) || full);
		d->in_pos = d->in_len;
	}
}

static int dc_gzip(struct dc *d)
{
	z_stream s = { 0 };
	int r;

	if (inflateInit2(&s, 15 + 16) != Z_OK)   /* 16: gzip header and trailer */
		return dc_fail(d, -ENOMEM, "out of memory");
	r = dc_gzip_run(d, &s);
	inflateEnd(&s);
	return r;
}

/* ---- bzip2: streams may be concatenated (pbzip2, cat a.bz2 b.bz2) ---- */

static const char *dc_bz2_error(int br)
{
	switch (br) {
	case BZ_DATA_ERROR: return "BZ_DATA_ERROR (data integrity error in the compressed stream)";
	case BZ_DATA_ERROR_MAGIC: return "BZ_DATA_ERROR_MAGIC (not a bzip2 stream)";
	case BZ_MEM_ERROR: return "BZ_MEM_ERROR (out of memory)";
	case BZ_PARAM_ERROR: return "BZ_PARAM_ERROR";
	default: return "unexpected libbz2 error";
	}
}

static int dc_bzip2_run(struct dc *d, bz_stream *b)
{
	bool ended = false, full;
	int br, r;

	for (;;) {
		if ((r = dc_read(d)) < 0)
			return r;
		if (d->eof)
			return ended ? 0 : dc_truncated(d, "bzip2");
		b->next_in = (char *)(d->in + d->in_pos);
		b->avail_in = (unsigned)(d->in_len - d->in_pos);
		do {
			if (ended && b->avail_in) {
				BZ2_bzDecompressEnd(b);
				if (BZ2_bzDecompressInit(b, 0, 0) != BZ_OK)
					return dc_fail(d, -ENOMEM, "out of memory");
				ended = false;
			}
			b->next_out = (char *)(d->out + d->fill);
			b->avail_out = (unsigned)(DC_BUF - d->fill);
			br = BZ2_bzDecompress(b);
			if (br != BZ_OK && br != BZ_STREAM_END)
				return dc_fail(d, br == BZ_MEM_ERROR ? -ENOMEM : -EBADMSG,
					       "bzip2: %s (%llu compressed bytes read)", dc_bz2_error(br),
					       (unsigned long long)d->in_done);
			ended = br == BZ_STREAM_END;
			full = b->avail_out == 0;
			if ((r = dc_produced(d, DC_BUF - b->avail_out)) < 0)
				return r;
		} while (b->avail_in || (full && !ended));
		d->in_pos = d->in_len;
	}
}

static int dc_bzip2(struct dc *d)
{
	bz_stream b = { 0 };
	int r;

	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return dc_fail(d, -ENOMEM, "out of memory");
	r = dc_bzip2_run(d, &b);
	BZ2_bzDecompressEnd(&b);
	return r;
}

/* ---- xz: LZMA_CONCATENATED, LZMA_FINISH at the end of the input ---- */

static const char *dc_xz_error(lzma_ret lr)
{
	switch (lr) {
	case LZMA_MEM_ERROR: return "LZMA_MEM_ERROR (cannot allocate memory)";
	case LZMA_MEMLIMIT_ERROR: return "LZMA_MEMLIMIT_ERROR (memory usage limit reached)";
	case LZMA_FORMAT_ERROR: return "LZMA_FORMAT_ERROR (file format not recognized)";
	case LZMA_OPTIONS_ERROR: return "LZMA_OPTIONS_ERROR (unsupported options)";
	case LZMA_DATA_ERROR: return "LZMA_DATA_ERROR (compressed data is corrupt)";
	case LZMA_BUF_ERROR: return "LZMA_BUF_ERROR (compressed data is truncated or otherwise corrupt)";
	default: return "unexpected liblzma error";
	}
}

static int dc_xz_run(struct dc *d, lzma_stream *x)
{
	lzma_ret lr;
	bool full;
	int r;

	for (;;) {
		if ((r = dc_read(d)) < 0)
			return r;
		x->next_in = d->in + d->in_pos;
		x->avail_in = d->in_len - d->in_pos;
		do {
			x->next_out = d->out + d->fill;
			x->avail_out = DC_BUF - d->fill;
			lr = lzma_code(x, d->eof ? LZMA_FINISH : LZMA_RUN);
			full = x->avail_out == 0;
			if ((r = dc_produced(d, DC_BUF - x->avail_out)) < 0)
				return r;
			if (lr == LZMA_STREAM_END)
				return 0;
			if (lr != LZMA_OK)
				return dc_fail(d, lr == LZMA_MEM_ERROR ? -ENOMEM : -EBADMSG,
					       "xz: %s (%llu compressed bytes read)", dc_xz_error(lr),
					       (unsigned long long)d->in_done);
		} while (x->avail_in || full || d->eof);
		d->in_pos = d->in_len;
	}
}

static int dc_xz(struct dc *d)
{
	lzma_stream x = LZMA_STREAM_INIT;
	int r;

	if (lzma_stream_decoder(&x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return dc_fail(d, -ENOMEM, "out of memory");
	r = dc_xz_run(d, &x);
	lzma_end(&x);
	return r;
}

/* ---- entry point ---- */

static int dc_decode(struct dc *d, enum decompress_format f)
{
	switch (f) {
	case DECOMPRESS_FORMAT_ZSTD: return dc_zstd(d);
	case DECOMPRESS_FORMAT_GZIP: return dc_gzip(d);
	case DECOMPRESS_FORMAT_BZIP2: return dc_bzip2(d);
	case DECOMPRESS_FORMAT_XZ: return dc_xz(d);
	case DECOMPRESS_FORMAT_NONE: break;
	}
	return dc_fail(d, -EINVAL, "not a compressed file");
}

static int dc_finish(struct dc *d, struct decompress_result *res)
{
	uint8_t digest[SHA256_DIGEST_LEN];
	int r = dc_flush(d);

	if (r < 0)
		return r;
	if (ftruncate(d->out_fd, (off_t)d->off) < 0)
		return dc_fail(d, -errno, "setting the payload's size: %s", strerror(errno));
	sha256_final(&d->sha, digest);
	sha256_to_hex(digest, res->sha256);
	res->size = d->off;
	return 0;
}

int decompress_fd(enum decompress_format f, int in_fd, int out_fd,
		  const struct decompress_opts *o, struct decompress_result *res,
		  char why[DECOMPRESS_WHY_MAX])
{
	static const struct decompress_opts defaults;
	struct dc d = { .in_fd = in_fd, .out_fd = out_fd, .o = o ? o : &defaults, .why = why };
	struct stat st;
	int r;

	why[0] = '\0';
	d.max = d.o->max_size ? d.o->max_size : DECOMPRESS_MAX_DEFAULT;
	d.min_free = d.o->min_free ? d.o->min_free : DECOMPRESS_MIN_FREE_DEFAULT;
	if (fstat(in_fd, &st) < 0)
		return dc_fail(&d, -errno, "%s", strerror(errno));
	d.in_total = (uint64_t)st.st_size;
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		return dc_fail(&d, -errno, "%s", strerror(errno));
	d.in = malloc(DC_BUF);
	d.out = malloc(DC_BUF);
	sha256_init(&d.sha);
	r = d.in && d.out ? dc_decode(&d, f) : dc_fail(&d, -ENOMEM, "out of memory");
	if (r == 0)
		r = dc_finish(&d, res);
	free(d.in);
	free(d.out);
	return r;
}
