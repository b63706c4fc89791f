/* sparse-testlib: helpers of test-sparse (see sparse-testlib.h). */
#include "sparse-testlib.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- small utilities ------------------------------------------------- */

uint64_t rng_next(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

/* Bitwise reference CRC-32 (zlib convention), independent of the module. */
uint32_t ref_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

void gbuf_new(struct gbuf *g, const uint8_t *src, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + pg - 1) / pg * pg;

	g->maplen = body + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + body, pg, PROT_NONE), 0);
	g->p = g->map + body - len;
	g->len = len;
	if (len)
		memcpy(g->p, src, len);
}

void gbuf_free(struct gbuf *g)
{
	munmap(g->map, g->maplen);
}

uint8_t *vec_grow(struct vec *v, size_t n)
{
	if (v->len + n > v->cap) {
		v->cap = (v->len + n) * 2 + 64;
		v->p = realloc(v->p, v->cap);
		assert_non_null(v->p);
	}
	v->len += n;
	return v->p + v->len - n;
}

void sb_header(struct vec *v, uint16_t fhs, uint16_t chs, uint32_t blk, uint32_t blks, uint32_t chunks)
{
	uint8_t *h = vec_grow(v, fhs);

	memset(h, 0xA5, fhs); /* extra header bytes are garbage readers skip */
	wr32(h, SPARSE_MAGIC);
	wr16(h + 4, 1);
	wr16(h + 6, 0);
	wr16(h + 8, fhs);
	wr16(h + 10, chs);
	wr32(h + 12, blk);
	wr32(h + 16, blks);
	wr32(h + 20, chunks);
	wr32(h + 24, 0);
}

void sb_chunk(struct vec *v, uint16_t chs, uint16_t type, uint32_t csz, uint32_t tsz, const void *pl,
		     size_t pllen)
{
	uint8_t *h = vec_grow(v, chs);

	memset(h, 0x5A, chs);
	wr16(h, type);
	wr16(h + 2, 0);
	wr32(h + 4, csz);
	wr32(h + 8, tsz);
	if (pllen)
		memcpy(vec_grow(v, pllen), pl, pllen);
}

/* ---- applier: what U-Boot's fastboot flash does with a download ------ */

/* Write one download onto dev. A sparse one starts at offset 0 with
 * DONT_CARE skipping; CRC32 chunks are only tolerated when allow_crc
 * (reading an input, not a piece meant for U-Boot). */
uint64_t apply(const uint8_t *p, size_t n, uint8_t *dev, size_t devlen, bool allow_crc)
{
	uint64_t written = 0;

	if (n < 4 || rd32(p) != SPARSE_MAGIC) {
		assert_true(n <= devlen);
		memcpy(dev, p, n);
		return n;
	}
	assert_true(n >= 28);
	uint16_t fhs = rd16(p + 8), chs = rd16(p + 10);
	uint32_t blk = rd32(p + 12), total = rd32(p + 16), chunks = rd32(p + 20);
	size_t off = fhs;
	uint64_t at = 0;

	assert_int_equal(rd16(p + 4), 1);
	assert_int_equal(blk % 512, 0);
	if (!allow_crc) {
		assert_int_equal(fhs, SPARSE_FILE_HDR_SZ);
		assert_int_equal(chs, SPARSE_CHUNK_HDR_SZ);
	}
	for (uint32_t i = 0; i < chunks; i++) {
		assert_true(off + chs <= n);
		uint16_t type = rd16(p + off);
		uint32_t csz = rd32(p + off + 4), tsz = rd32(p + off + 8);
		const uint8_t *pl = p + off + chs;
		uint64_t bytes = (uint64_t)csz * blk;

		assert_true(tsz <= n - off);
		if (type != SPARSE_CHUNK_DONT_CARE && type != SPARSE_CHUNK_CRC32)
			assert_true(at + bytes <= devlen);
		switch (type) {
		case SPARSE_CHUNK_RAW:
			assert_int_equal(tsz, chs + bytes);
			memcpy(dev + at, pl, bytes);
			break;
		case SPARSE_CHUNK_FILL:
			assert_int_equal(tsz, chs + 4);
			for (uint64_t k = 0; k < bytes; k += 4)
				memcpy(dev + at + k, pl, 4);
			break;
		case SPARSE_CHUNK_DONT_CARE:
			assert_int_equal(tsz, chs);
			break;
		case SPARSE_CHUNK_CRC32:
			assert_true(allow_crc);
			break;
		default:
			fail_msg("unknown chunk type %#x", type);
		}
		if (type == SPARSE_CHUNK_RAW || type == SPARSE_CHUNK_FILL)
			written += bytes;
		at += bytes;
		off += tsz;
	}
	assert_true(at == (uint64_t)total * blk);
	assert_true(off == n);
	return written;
}

/* ---- external AOSP tools --------------------------------------------- */

bool have_tool(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		return false;
	while (*path) {
		size_t k = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)k, path, name);
		if (access(buf, X_OK) == 0)
			return true;
		path += k + (path[k] == ':');
	}
	return false;
}

int run_tool(const char *a0, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL };
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(a0, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_true(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

uint8_t *read_file(const char *path, size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_true(read(fd, p, (size_t)st.st_size) == st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

void tmpdir_new(struct tmpdir *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/test-sparse.XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t->dir));
}

void tmpdir_path(const struct tmpdir *t, char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", t->dir, name);
}

void tmpdir_free(struct tmpdir *t, const char *const *names)
{
	char p[512];

	for (; *names; names++) {
		tmpdir_path(t, p, sizeof(p), *names);
		unlink(p);
	}
	rmdir(t->dir);
}

/* simg2img expands one piece: RAW/FILL ranges must hold the expected bytes
 * and the skipped ranges read back as zeros. */
void check_with_simg2img(const struct tmpdir *t, const uint8_t *piece, size_t n, const uint8_t *expect)
{
	char in[512], out[512];
	uint8_t *got;
	size_t glen, off = SPARSE_FILE_HDR_SZ;
	uint64_t at = 0;
	uint32_t blk = rd32(piece + 12), chunks = rd32(piece + 20);

	tmpdir_path(t, in, sizeof(in), "piece.simg");
	tmpdir_path(t, out, sizeof(out), "piece.raw");
	write_file(in, piece, n);
	assert_int_equal(run_tool("simg2img", in, out, NULL), 0);
	got = read_file(out, &glen);
	assert_true(glen == (uint64_t)rd32(piece + 16) * blk);
	for (uint32_t i = 0; i < chunks; i++) {
		uint16_t type = rd16(piece + off);
		uint64_t bytes = (uint64_t)rd32(piece + off + 4) * blk;

		if (type == SPARSE_CHUNK_DONT_CARE) {
			for (uint64_t k = 0; k < bytes; k++)
				assert_int_equal(got[at + k], 0);
		} else {
			assert_memory_equal(got + at, expect + at, bytes);
		}
		at += bytes;
		off += rd32(piece + off + 8);
	}
	free(got);
}

uint8_t *piece_concat(const struct sparse_piece *pc, const uint8_t *img)
{
	uint8_t *p = malloc(pc->size ? pc->size : 1);
	size_t at = 0;

	assert_non_null(p);
	for (size_t i = 0; i < pc->nseg; i++) {
		assert_true(at + pc->seg[i].len <= pc->size);
		memcpy(p + at, seg_bytes(&pc->seg[i], img), pc->seg[i].len);
		at += pc->seg[i].len;
	}
	assert_true(at == pc->size);
	return p;
}

/* ---- random images ----------------------------------------------------- */

/* A raw image of whole `unit` blocks: runs of random data, zeros, fills and
 * near-fills (one byte off), cut to an odd length one time in two. */
uint8_t *gen_raw(struct rng *r, uint32_t unit, uint32_t max_units, size_t *len)
{
	uint32_t units = 1 + rng_below(r, max_units);
	uint8_t *p = malloc((size_t)units * unit);

	assert_non_null(p);
	for (uint32_t u = 0; u < units;) {
		uint32_t kind = rng_below(r, 4), run = 1 + rng_below(r, 6);
		uint8_t pat[4];

		rng_fill(r, pat, 4);
		if (rng_below(r, 4) == 0)
			memset(pat, 0xFF, 4);
		for (; run && u < units; run--, u++) {
			uint8_t *b = p + (size_t)u * unit;
			if (kind == 0) {
				rng_fill(r, b, unit);
				continue;
			}
			for (uint32_t k = 0; k < unit; k += 4)
				memcpy(b + k, kind == 1 ? (const uint8_t[4]){ 0 } : pat, 4);
			if (kind == 3)
				b[rng_below(r, unit)] ^= (uint8_t)(1 + rng_below(r, 255));
		}
	}
	*len = (size_t)units * unit;
	if (rng_below(r, 2))
		*len -= rng_below(r, unit < *len ? unit : (uint32_t)*len);
	return p;
}

/* A valid sparse file: random chunk types (with zero-block chunks, CRC32
 * chunks and oversize headers now and then); *blk_out its block size. */
uint8_t *gen_sparse(struct rng *r, size_t *len, uint32_t *blk_out)
{
	static const uint32_t blks[] = { 512, 1024, 4096 };
	uint32_t blk = blks[rng_below(r, 3)], nch = 1 + rng_below(r, 24), total = 0, crc = 0;
	uint16_t fhs = rng_below(r, 3) ? 28 : (uint16_t)(28 + 4 * rng_below(r, 8));
	uint16_t chs = rng_below(r, 3) ? 12 : (uint16_t)(12 + rng_below(r, 9));
	struct vec v = { 0 };
	uint8_t *blkbuf = malloc(blk), *data = malloc((size_t)blk * 24);

	assert_non_null(blkbuf);
	assert_non_null(data);
	sb_header(&v, fhs, chs, blk, 0, nch);
	for (uint32_t i = 0; i < nch; i++) {
		uint32_t t = rng_below(r, 10), n = rng_below(r, 20) ? 1 + rng_below(r, 24) : 0;
		uint8_t pat[4];

		if (t < 4) {
			rng_fill(r, data, (size_t)n * blk);
			sb_chunk(&v, chs, SPARSE_CHUNK_RAW, n, chs + n * blk, data, (size_t)n * blk);
			crc = ref_crc32(crc, data, (size_t)n * blk);
		} else if (t < 9) {
			bool fill = t < 7;
			rng_fill(r, pat, 4);
			if (!fill || rng_below(r, 3) == 0)
				memset(pat, 0, 4);
			for (uint32_t k = 0; k < blk; k += 4)
				memcpy(blkbuf + k, pat, 4);
			sb_chunk(&v, chs, fill ? SPARSE_CHUNK_FILL : SPARSE_CHUNK_DONT_CARE, n,
				 chs + (fill ? 4u : 0u), pat, fill ? 4 : 0);
			for (uint32_t k = 0; k < n; k++)
				crc = ref_crc32(crc, blkbuf, blk);
		} else {
			uint8_t c[4];
			wr32(c, crc);
			n = 0;
			sb_chunk(&v, chs, SPARSE_CHUNK_CRC32, 0, chs + 4u, c, 4);
		}
		total += n;
	}
	if (total == 0) { /* total_blks must be > 0 */
		sb_chunk(&v, chs, SPARSE_CHUNK_DONT_CARE, 1, chs, NULL, 0);
		wr32(v.p + 20, nch + 1);
		total = 1;
	}
	wr32(v.p + 16, total);
	free(blkbuf);
	free(data);
	*len = v.len;
	*blk_out = blk;
	return v.p;
}

uint64_t pick_max(struct rng *r, uint32_t blk, size_t len)
{
	uint64_t min = sparse_min_piece(blk);

	switch (rng_below(r, 4)) {
	case 0:
		return min;
	case 1:
		return min + rng_below(r, 3 * blk);
	case 2:
		return min + rng_below(r, (uint32_t)len + 1);
	default: {
		uint64_t m = len + rng_below(r, 2 * blk);
		return m > min ? m : min;
	}
	}
}

/* Run the writer over a raw image, with its expected device content. */
