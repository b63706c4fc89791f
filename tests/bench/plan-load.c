/* plan-load: how long a plan load takes with a compressed image, per format
 * (decompression into the cache, hashing both files, the block map), a
 * second load that finds the payload in the cache, and a reload that reuses
 * the unchanged image of the plan in force. Prints figures; asserts
 * nothing (docs/performance.md).
 *
 * usage: plan-load [--mib N] [--dir DIR] [--formats "zstd gzip bzip2 xz"]
 *   --mib N    payload size (default 1024): 1/4 random bytes, 1/4 text-like,
 *              1/2 zeros, in 1 MiB runs (a disk image with free space)
 *   --dir DIR  keep the generated images there and reuse them next time
 *              (default: a temporary folder, removed at exit)
 * The inputs are compressed here with fast levels (zstd 3, gzip 1, bzip2 1,
 * xz 1) to keep set-up short; decompression speed hardly depends on them. */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "flashd/decompress.h"
#include "daemon/image.h"
#include "flashd/plan.h"

#define CHUNK (1u << 20)

struct sink {
	FILE *f;
	enum decompress_format fmt;
	ZSTD_CCtx *z;
	z_stream gz;
	bz_stream bz;
	lzma_stream xz;
	uint8_t out[CHUNK];
};

static void die(const char *what)
{
	fprintf(stderr, "plan-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sink_write(struct sink *s, size_t n)
{
	if (n && fwrite(s->out, 1, n, s->f) != n)
		die("write");
}

static void sink_open(struct sink *s, enum decompress_format fmt)
{
	s->fmt = fmt;
	switch (fmt) {
	case DECOMPRESS_FORMAT_ZSTD:
		s->z = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(s->z, ZSTD_c_compressionLevel, 3);
		break;
	case DECOMPRESS_FORMAT_GZIP:
		deflateInit2(&s->gz, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		break;
	case DECOMPRESS_FORMAT_BZIP2:
		BZ2_bzCompressInit(&s->bz, 1, 0, 0);
		break;
	case DECOMPRESS_FORMAT_XZ:
		s->xz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_easy_encoder(&s->xz, 1, LZMA_CHECK_CRC64) != LZMA_OK)
			die("lzma_easy_encoder");
		break;
	case DECOMPRESS_FORMAT_NONE:
		break;
	}
}

/* Compress n bytes of in (n == 0: finish the stream). */
static void sink_put(struct sink *s, const uint8_t *in, size_t n)
{
	bool fin = n == 0, more = true;

	switch (s->fmt) {
	case DECOMPRESS_FORMAT_ZSTD: {
		ZSTD_inBuffer ib = { in, n, 0 };
		while (more) {
			ZSTD_outBuffer ob = { s->out, sizeof(s->out), 0 };
			size_t r = ZSTD_compressStream2(s->z, &ob, &ib, fin ? ZSTD_e_end : ZSTD_e_continue);
			sink_write(s, ob.pos);
			more = fin ? r != 0 : ib.pos < ib.size;
		}
		break;
	}
	case DECOMPRESS_FORMAT_GZIP:
		s->gz.next_in = (uint8_t *)in;
		s->gz.avail_in = (uInt)n;
		do {
			s->gz.next_out = s->out;
			s->gz.avail_out = sizeof(s->out);
			deflate(&s->gz, fin ? Z_FINISH : Z_NO_FLUSH);
			sink_write(s, sizeof(s->out) - s->gz.avail_out);
		} while (s->gz.avail_out == 0 || s->gz.avail_in);
		break;
	case DECOMPRESS_FORMAT_BZIP2:
		s->bz.next_in = (char *)in;
		s->bz.avail_in = (unsigned)n;
		do {
			s->bz.next_out = (char *)s->out;
			s->bz.avail_out = sizeof(s->out);
			more = BZ2_bzCompress(&s->bz, fin ? BZ_FINISH : BZ_RUN) != BZ_STREAM_END && fin;
			sink_write(s, sizeof(s->out) - s->bz.avail_out);
		} while (more || s->bz.avail_in || s->bz.avail_out == 0);
		break;
	case DECOMPRESS_FORMAT_XZ:
		s->xz.next_in = in;
		s->xz.avail_in = n;
		do {
			s->xz.next_out = s->out;
			s->xz.avail_out = sizeof(s->out);
			more = lzma_code(&s->xz, fin ? LZMA_FINISH : LZMA_RUN) != LZMA_STREAM_END && fin;
			sink_write(s, sizeof(s->out) - s->xz.avail_out);
		} while (more || s->xz.avail_in || s->xz.avail_out == 0);
		break;
	case DECOMPRESS_FORMAT_NONE:
		if (n && fwrite(in, 1, n, s->f) != n)
			die("write");
		break;
	}
}

static void sink_close(struct sink *s)
{
	sink_put(s, NULL, 0);
	ZSTD_freeCCtx(s->z);
	if (s->fmt == DECOMPRESS_FORMAT_GZIP)
		deflateEnd(&s->gz);
	if (s->fmt == DECOMPRESS_FORMAT_BZIP2)
		BZ2_bzCompressEnd(&s->bz);
	if (s->fmt == DECOMPRESS_FORMAT_XZ)
		lzma_end(&s->xz);
}

/* MiB number i of the payload: random, text-like or zeros. */
static void payload_chunk(uint8_t *b, size_t i)
{
	static const char words[] = "usr lib bin etc share locale firmware module systemd udev ";
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	switch (i % 4) {
	case 0:
		for (size_t k = 0; k < CHUNK; k += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(b + k, &x, 8);
		}
		break;
	case 1:
		for (size_t k = 0; k < CHUNK; k++) {
			if (k % 64 == 0)
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b[k] = (uint8_t)words[(k + (x & 31)) % (sizeof(words) - 1)];
		}
		break;
	default:
		memset(b, 0, CHUNK);
	}
}

static const char *ext(enum decompress_format f)
{
	return f == DECOMPRESS_FORMAT_NONE ? "img" : decompress_format_to_string(f);
}

static void make_input(const char *dir, enum decompress_format f, size_t mib)
{
	char path[4096], tmp[4200];
	struct stat st;
	struct sink *s = calloc(1, sizeof(*s));
	uint8_t *b = malloc(CHUNK);

	snprintf(path, sizeof(path), "%s/disk-%zu.%s", dir, mib, ext(f));
	if (stat(path, &st) == 0 || !s || !b) {
		free(s);
		free(b);
		return;
	}
	fprintf(stderr, "plan-load: making %s\n", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	s->f = fopen(tmp, "wbe");
	if (!s->f)
		die(tmp);
	sink_open(s, f);
	for (size_t i = 0; i < mib; i++) {
		payload_chunk(b, i);
		sink_put(s, b, CHUNK);
	}
	sink_close(s);
	if (fclose(s->f) != 0 || rename(tmp, path) < 0)
		die(path);
	free(s);
	free(b);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct timing {
	double wall, cpu;
};

static struct plan *load(const char *planpath, const struct image_opts *o, struct timing *t)
{
	char err[1024];
	struct plan *p = NULL;
	double w0 = now(), c0 = cpu();

	if (image_plan_load(planpath, NULL, 0, o, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "plan-load: %s\n", err);
		exit(1);
	}
	t->wall = now() - w0;
	t->cpu = cpu() - c0;
	return p;
}

static void rm_cache(const char *cache)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	if (system(cmd) != 0)
		fprintf(stderr, "plan-load: could not empty %s\n", cache);
}

static void bench_format(const char *dir, enum decompress_format f, size_t mib)
{
	char planpath[4096], cache[4096], text[256], img[4096];
	struct image_opts o = { 0 };
	struct timing cold, hit, reuse;
	struct plan *p, *q, *r;
	struct stat st;
	double mb = (double)mib * 1048576.0 / 1e6;

	snprintf(img, sizeof(img), "%s/disk-%zu.%s", dir, mib, ext(f));
	snprintf(planpath, sizeof(planpath), "%s/load-%s.lst", dir, ext(f));
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(text, sizeof(text), "FB: flash -raw2sparse all disk-%zu.%s\nFB: done\n", mib, ext(f));
	FILE *pf = fopen(planpath, "we");
	if (!pf || fputs(text, pf) < 0 || fclose(pf) != 0)
		die(planpath);
	if (stat(img, &st) < 0)
		die(img);
	rm_cache(cache);
	o.cache_dir = cache;
	p = load(planpath, &o, &cold);
	q = load(planpath, &o, &hit);
	o.reuse = &q;
	o.nreuse = 1;
	r = load(planpath, &o, &reuse);
	printf("%-6s %6.0f MB file  %6.0f MB payload  first load %6.2f s (%5.0f MB/s, %5.0f MB/s per "
	       "core)  from the cache %5.2f s  reload, image unchanged %6.3f s\n",
	       f == DECOMPRESS_FORMAT_NONE ? "raw" : ext(f), (double)st.st_size / 1e6, mb, cold.wall,
	       mb / cold.wall, mb / (cold.cpu > 0 ? cold.cpu : cold.wall), hit.wall, reuse.wall);
	fflush(stdout);
	plan_unref(r);
	plan_unref(q);
	plan_unref(p);
	rm_cache(cache);
}

int main(int argc, char **argv)
{
	static const enum decompress_format all[] = {
		DECOMPRESS_FORMAT_NONE, DECOMPRESS_FORMAT_ZSTD, DECOMPRESS_FORMAT_GZIP,
		DECOMPRESS_FORMAT_BZIP2, DECOMPRESS_FORMAT_XZ,
	};
	const char *dir = NULL, *formats = "raw zstd gzip bzip2 xz";
	char tmpl[] = "/tmp/plan-load.XXXXXX";
	size_t mib = 1024;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--formats") == 0 && i + 1 < argc)
			formats = argv[++i];
		else {
			fprintf(stderr, "usage: plan-load [--mib N] [--dir DIR] [--formats \"raw zstd gzip bzip2 xz\"]\n");
			return 2;
		}
	}
	if (!mib)
		return 2;
	if (dir && mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(dir);
	if (!dir && !(dir = mkdtemp(tmpl)))
		die("mkdtemp");
	printf("plan load of a %zu MiB disk image (1/4 random, 1/4 text, 1/2 zeros), one core:\n", mib);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strstr(formats, all[i] == DECOMPRESS_FORMAT_NONE ? "raw" : ext(all[i])))
			continue;
		make_input(dir, all[i], mib);
		bench_format(dir, all[i], mib);
	}
	if (strcmp(dir, tmpl) == 0) {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
