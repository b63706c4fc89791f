/* sparse-scan: how fast the sparse writer scans a raw image for zero/fill
 * blocks. Figures only, never assertions.
 *
 * Builds a rootfs-like image in memory (default 512 MiB: about half random
 * data in runs, half zeros, a few fill runs), then over it, max 64 MiB:
 * sparse_count_pieces and the writer with raw2sparse, and without (all RAW,
 * no scan) for reference. Prints CPU time (GB/s per core) and wall time,
 * best of 3. Usage: sparse-scan [MiB] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flashd/sparse.h"

#define BENCH_BLK 4096u
#define BENCH_MAX ((uint64_t)64 << 20)

struct bench_time {
	double cpu;
	double wall;
};

static double bench_now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t bench_rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Runs of data (1–256 blocks) and zeros (1–512 blocks), picking whichever
 * is behind so the image ends about half zero; one run in 20 is a fill. */
static void bench_build(uint8_t *img, size_t len, uint64_t *zero_bytes, uint64_t *fill_bytes)
{
	uint64_t s = 0x9E3779B97F4A7C15ull, data = 0;
	size_t at = 0;

	*zero_bytes = *fill_bytes = 0;
	while (at < len) {
		uint64_t r = bench_rng(&s);
		size_t run = (size_t)(1 + r % (*zero_bytes < data ? 512 : 256)) * BENCH_BLK;

		if (run > len - at)
			run = len - at;
		if (r % 20 == 0) {
			uint32_t pat = (uint32_t)(r >> 32) | 1;
			for (size_t k = 0; k < run; k += 4)
				memcpy(img + at + k, &pat, 4);
			*fill_bytes += run;
		} else if (*zero_bytes < data) {
			memset(img + at, 0, run);
			*zero_bytes += run;
		} else {
			for (size_t k = 0; k < run; k += 8) {
				uint64_t v = bench_rng(&s);
				memcpy(img + at + k, &v, 8);
			}
			data += run;
		}
		at += run;
	}
}

static int bench_count(const uint8_t *img, size_t len, const struct sparse_opts *o, uint64_t *pieces)
{
	const char *why = "";
	int r = sparse_count_pieces(IMGSRC_MEM(img, len), o, pieces, &why);

	if (r < 0)
		fprintf(stderr, "sparse_count_pieces: %d %s\n", r, why);
	return r;
}

static int bench_write(const uint8_t *img, size_t len, const struct sparse_opts *o, uint64_t *pieces)
{
	struct sparse_writer *w;
	struct sparse_piece pc;
	const char *why = "";
	uint64_t n = 0, bytes = 0, segs = 0;
	int r = sparse_writer_new(IMGSRC_MEM(img, len), o, &w, &why);

	if (r < 0) {
		fprintf(stderr, "sparse_writer_new: %d %s\n", r, why);
		return r;
	}
	while ((r = sparse_writer_next(w, &pc)) == 1) {
		n++;
		bytes += pc.size;
		segs += pc.nseg;
	}
	sparse_writer_free(w);
	if (r < 0)
		return r;
	if (!*pieces)
		printf("    %" PRIu64 " MiB to send in %" PRIu64 " segments\n", bytes >> 20, segs);
	*pieces = n;
	return 0;
}

static void bench_run(const char *name, int (*fn)(const uint8_t *, size_t, const struct sparse_opts *, uint64_t *),
		      const uint8_t *img, size_t len, const struct sparse_opts *o)
{
	struct bench_time best = { 1e9, 1e9 };
	uint64_t pieces = 0;

	printf("%s:\n", name);
	for (int i = 0; i < 3; i++) {
		double c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID), w0 = bench_now(CLOCK_MONOTONIC);
		if (fn(img, len, o, &pieces) < 0)
			return;
		double c = bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0, w = bench_now(CLOCK_MONOTONIC) - w0;
		if (c < best.cpu)
			best.cpu = c;
		if (w < best.wall)
			best.wall = w;
	}
	if (best.cpu < 1e-3 || best.wall < 1e-3) {
		printf("    %" PRIu64 " pieces; under 1 ms (nothing scanned)\n", pieces);
		return;
	}
	printf("    %" PRIu64 " pieces; cpu %.3f s = %.2f GB/s per core; wall %.3f s = %.2f GB/s\n", pieces,
	       best.cpu, (double)len / best.cpu / 1e9, best.wall, (double)len / best.wall / 1e9);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 512;
	size_t len = mib << 20;
	uint64_t zeros, fills;
	uint8_t *img;

	if (!mib) {
		fprintf(stderr, "usage: %s [MiB]\n", argv[0]);
		return 2;
	}
	img = malloc(len);
	if (!img) {
		fprintf(stderr, "cannot allocate %zu MiB\n", mib);
		return 1;
	}
	bench_build(img, len, &zeros, &fills);
	printf("image %zu MiB: %.1f%% zero, %.1f%% fill, rest random; blocks %u, max piece %" PRIu64 " MiB\n", mib,
	       100.0 * (double)zeros / (double)len, 100.0 * (double)fills / (double)len, BENCH_BLK, BENCH_MAX >> 20);

	struct sparse_opts scan = { .max_piece = BENCH_MAX, .raw2sparse = true, .blk_sz = BENCH_BLK };
	struct sparse_opts plain = { .max_piece = BENCH_MAX, .raw2sparse = false, .blk_sz = BENCH_BLK };

	bench_run("sparse_count_pieces, raw2sparse", bench_count, img, len, &scan);
	bench_run("writer, raw2sparse", bench_write, img, len, &scan);
	bench_run("sparse_count_pieces, all RAW (no scan)", bench_count, img, len, &plain);
	free(img);
	return 0;
}
