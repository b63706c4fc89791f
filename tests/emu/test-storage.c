/* test-storage: the emulated eMMC (emmc.c), partition tables as U-Boot reads them
 * (part.c), U-Boot's sparse writer (fbsparse.c) and the ROM's eMMC boot check
 * (boot.c) */
#include "boot.h"
#include "crc32.h"
#include "emmc.h"
#include "fbsparse.h"
#include "part.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>
#include <sys/stat.h>

#define MB (1u << 20)

static uint64_t slept_ns;

static void fake_sleep(void *ctx, uint64_t ns)
{
	(void)ctx;
	slept_ns += ns;
}

struct fx {
	char *dir;
	char path[512];
	struct emmc *m;
};

static struct fx *fx_new(uint64_t size, unsigned mbps)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct emmc_cfg c = { NULL, size, mbps, fake_sleep, NULL };

	assert_non_null(f);
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/emmc.img", f->dir);
	c.path = f->path;
	assert_int_equal(emmc_open(&c, NULL, &f->m), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	emmc_free(f->m);
	tu_rmdir(f->dir);
	free(f);
}

static void test_emmc_basics(void **state)
{
	struct fx *f = fx_new(8 * MB, 0);
	uint8_t w[4096], r[4096];
	struct stat st;
	char p[600];

	(void)state;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 8 * MB);
	snprintf(p, sizeof(p), "%s.boot0", f->path);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, EMMC_BOOT_SIZE);
	assert_int_equal(emmc_lba(f->m), 8 * MB / 512);
	tu_fill(w, sizeof(w), 1);
	assert_int_equal(emmc_bwrite(f->m, 10, 8, w), 8);
	assert_int_equal(emmc_bread(f->m, 10, 8, r), 8);
	assert_memory_equal(w, r, sizeof(w));
	/* past the end: nothing */
	assert_int_equal(emmc_bwrite(f->m, emmc_lba(f->m) - 4, 8, w), 0);
	assert_int_equal(emmc_bread(f->m, emmc_lba(f->m), 1, r), 0);
	assert_int_equal(emmc_bread(f->m, UINT64_MAX - 1, 4, r), 0);
	/* boot partitions are separate */
	assert_int_equal(emmc_select(f->m, EMMC_BOOT1), 0);
	assert_int_equal(emmc_current(f->m), EMMC_BOOT1);
	assert_int_equal(emmc_lba(f->m), EMMC_BOOT_SIZE / 512);
	assert_int_equal(emmc_bread(f->m, 10, 8, r), 8);
	assert_int_not_equal(memcmp(w, r, sizeof(w)), 0);
	assert_int_equal(emmc_select(f->m, (enum emmc_hwpart)5), -EINVAL);
	assert_string_equal(emmc_hwpart_to_string(EMMC_BOOT1), "boot1");
	emmc_select(f->m, EMMC_USER);
	/* erase reads back zeros, as does a FILL 0 write */
	assert_int_equal(emmc_berase(f->m, 10, 4), 4);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 10 * 512, r, 4096), 0);
	memset(w, 0, 2048);
	assert_memory_equal(r, w, 2048);
	assert_memory_equal(r + 2048, w + 2048, 2048); /* the next blocks are intact */
	assert_int_equal(emmc_bwrite_zero(f->m, 14, 4), 4);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 14 * 512, r, 2048), 0);
	assert_memory_equal(r, w, 2048);
	assert_int_equal(emmc_pread(f->m, EMMC_BOOT0, EMMC_BOOT_SIZE - 1, r, 2), -EINVAL);
	/* partconf */
	emmc_set_partconf(f->m, 1, 2, 1);
	assert_int_equal(emmc_partconf(f->m), 0x40 | 0x10 | 1);
	assert_int_equal(emmc_boot_partition(f->m), 2);
	assert_int_equal(emmc_bytes_written(f->m), 4096 + 2048);
	emmc_set_bootbus(f->m, 0x0a);
	{
		/* EXT_CSD is non-volatile: a new run of the board finds it as it was */
		struct emmc_cfg c = { f->path, 8 * MB, 0, NULL, NULL };

		emmc_free(f->m);
		assert_int_equal(emmc_open(&c, NULL, &f->m), 0);
		assert_int_equal(emmc_partconf(f->m), 0x40 | 0x10 | 1);
		assert_int_equal(emmc_boot_partition(f->m), 2);
	}
	fx_free(f);
}

static void test_emmc_throttle(void **state)
{
	struct fx *f = fx_new(8 * MB, 2);
	static uint8_t w[MB];

	(void)state;
	slept_ns = 0;
	/* 1 MB at 2 MB/s: the medium is busy for about 0.5 s */
	assert_int_equal(emmc_bwrite(f->m, 0, sizeof(w) / 512, w), sizeof(w) / 512);
	assert_true(slept_ns > 450000000ull && slept_ns <= 524288000ull);
	fx_free(f);
}

static void test_emmc_open_errors(void **state)
{
	struct emmc_cfg c = { "/nonexistent/dir/emmc.img", 8 * MB, 0, NULL, NULL };
	struct emmc *m;

	(void)state;
	assert_int_equal(emmc_open(&c, NULL, &m), -ENOENT);
	c.user_size = 1000;
	assert_int_equal(emmc_open(&c, NULL, &m), -EINVAL);
	assert_int_equal(emmc_open(NULL, NULL, &m), -EINVAL);
}

static void test_part_dos(void **state)
{
	struct fx *f = fx_new(8 * MB, 0);
	uint8_t mbr[512] = { 0 }, ebr1[512] = { 0 }, ebr2[512] = { 0 };
	struct part_info pi;

	(void)state;
	assert_int_equal(part_detect(f->m), PART_TYPE_NONE);
	assert_int_equal(part_find(f->m, "mmcsda1", &pi), -1);
	tu_put_dos(mbr, 0, 0x80, 0x83, 2048, 4096);
	tu_put_dos(mbr, 1, 0x00, 0x0c, 6144, 1024);
	tu_put_dos(mbr, 2, 0x00, 0x05, 8192, 8000); /* extended, in slot 3 */
	/* logical partitions: EBR at 8192 and at 8192 + 4000 */
	tu_put_dos(ebr1, 0, 0, 0x83, 63, 1000);
	tu_put_dos(ebr1, 1, 0, 0x05, 4000, 2000);
	tu_put_dos(ebr2, 0, 0, 0x83, 63, 500);
	assert_int_equal(part_dos_buf_check(mbr), 0);
	assert_int_equal(part_mbr_write(f->m, mbr), 0);
	assert_int_equal(emmc_bwrite(f->m, 8192, 1, ebr1), 1);
	assert_int_equal(emmc_bwrite(f->m, 12192, 1, ebr2), 1);
	assert_int_equal(part_detect(f->m), PART_TYPE_DOS);
	assert_string_equal(part_type_to_string(PART_TYPE_DOS), "dos");
	assert_int_equal(part_find(f->m, "mmcsda1", &pi), 1);
	assert_int_equal(pi.start, 2048);
	assert_int_equal(pi.size, 4096);
	assert_int_equal(part_find(f->m, "mmcsda2", &pi), 2);
	assert_int_equal(pi.start, 6144);
	/* an extended partition in the MBR counts as a partition itself */
	assert_int_equal(part_find(f->m, "mmcsda3", &pi), 3);
	assert_int_equal(pi.start, 8192);
	/* logicals are numbered from 5, relative to their EBR ... */
	assert_int_equal(part_get(f->m, 5, &pi), 0);
	assert_string_equal(pi.name, "mmcsda5");
	assert_int_equal(pi.start, 8192 + 63);
	assert_int_equal(part_get(f->m, 6, &pi), 0);
	assert_int_equal(pi.start, 12192 + 63);
	assert_int_equal(pi.size, 500);
	/* ... but the name search stops at the empty slot 4, as U-Boot's does */
	assert_int_equal(part_get(f->m, 4, &pi), -1);
	assert_int_equal(part_find(f->m, "mmcsda5", &pi), -ENOENT);
	/* with all four slots used the logicals are found by name */
	tu_put_dos(mbr, 3, 0x00, 0x83, 7168, 1024);
	assert_int_equal(part_mbr_write(f->m, mbr), 0);
	assert_int_equal(part_find(f->m, "mmcsda6", &pi), 6);
	assert_int_equal(pi.start, 12192 + 63);
	assert_int_equal(part_get(f->m, 7, &pi), -1);
	assert_int_equal(part_get(f->m, 0, &pi), -1);
	/* an EBR chain that loops on itself ends */
	tu_put_dos(ebr1, 0, 0, 0x00, 0, 0);
	tu_put_dos(ebr1, 1, 0, 0x05, 0, 2000);
	assert_int_equal(emmc_bwrite(f->m, 8192, 1, ebr1), 1);
	assert_int_equal(part_get(f->m, 5, &pi), -1);
	/* bad boot indicator: not an MBR */
	mbr[446] = 0x12;
	assert_int_equal(part_dos_buf_check(mbr), -1);
	assert_int_equal(part_mbr_write(f->m, mbr), -1);
	/* a FAT boot sector is a PBR, not a table */
	memset(mbr, 0, sizeof(mbr));
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	memcpy(mbr + 0x36, "FAT16", 5);
	assert_int_equal(part_dos_buf_check(mbr), -1);
	fx_free(f);
}

static void test_part_gpt(void **state)
{
	struct fx *f = fx_new(8 * MB, 0);
	const char *const names[] = { "boot", "rootfs", "da\x01ta", NULL };
	const uint64_t starts[] = { 2048, 4096, 10000 }, ends[] = { 4095, 9999, 12000 };
	uint64_t lba = emmc_lba(f->m);
	uint8_t buf[34 * 512], copy[34 * 512], blk[512];
	struct part_info pi;

	(void)state;
	tu_mk_gpt(buf, lba, names, starts, ends);
	memcpy(copy, buf, sizeof(buf));
	assert_int_equal(part_gpt_buf_check(buf, sizeof(buf), lba), 0);
	assert_int_equal(part_gpt_buf_check(buf, sizeof(buf), 1000), -1); /* disk too small */
	assert_int_equal(part_gpt_buf_check(buf, 600, lba), -1);
	assert_int_equal(part_gpt_write(f->m, buf, sizeof(buf)), 0);
	/* the buffer now holds the backup header: a second write is refused */
	assert_int_equal(part_gpt_write(f->m, buf, sizeof(buf)), -1);
	assert_int_equal(part_detect(f->m), PART_TYPE_EFI);
	assert_int_equal(part_find(f->m, "rootfs", &pi), 2);
	assert_int_equal(pi.start, 4096);
	assert_int_equal(pi.size, 5904);
	assert_string_equal(pi.name, "rootfs");
	/* non-printable characters become '.' */
	assert_int_equal(part_find(f->m, "da.ta", &pi), 3);
	assert_int_equal(part_find(f->m, "nope", &pi), -ENOENT);
	/* the backup at the last block is used when the primary is broken */
	memset(blk, 0, sizeof(blk));
	assert_int_equal(emmc_bwrite(f->m, 1, 1, blk), 1);
	assert_int_equal(part_find(f->m, "boot", &pi), 1);
	assert_int_equal(pi.start, 2048);
	/* both broken: no partitions */
	assert_int_equal(emmc_bwrite(f->m, lba - 1, 1, blk), 1);
	assert_int_equal(part_find(f->m, "boot", &pi), -ENOENT);
	/* header CRC wrong, entries CRC wrong, my_lba wrong */
	memcpy(buf, copy, sizeof(buf));
	buf[512 + 16] ^= 1;
	assert_int_equal(part_gpt_buf_check(buf, sizeof(buf), lba), -1);
	memcpy(buf, copy, sizeof(buf));
	buf[1024 + 60] ^= 1;
	assert_int_equal(part_gpt_buf_check(buf, sizeof(buf), lba), -1);
	memcpy(buf, copy, sizeof(buf));
	util_put_le32(buf + 512 + 12, 4096); /* header_size beyond a block */
	assert_int_equal(part_gpt_buf_check(buf, sizeof(buf), lba), -1);
	fx_free(f);
}

struct sb {
	uint8_t *b;
	size_t n;
	uint32_t blk, chunks, blocks;
};

static void sb_start(struct sb *s, uint32_t blk)
{
	s->b = calloc(1, 4 * MB);
	assert_non_null(s->b);
	s->blk = blk;
	s->n = 28;
	s->chunks = s->blocks = 0;
}

static void sb_chunk(struct sb *s, uint16_t type, uint32_t csz, uint32_t tsz)
{
	util_put_le16(s->b + s->n, type);
	util_put_le32(s->b + s->n + 4, csz);
	util_put_le32(s->b + s->n + 8, tsz);
	s->n += 12;
	s->chunks++;
	s->blocks += csz;
}

static void sb_raw(struct sb *s, uint32_t nblk, uint32_t seed)
{
	sb_chunk(s, 0xCAC1, nblk, 12 + nblk * s->blk);
	tu_fill(s->b + s->n, (size_t)nblk * s->blk, seed);
	s->n += (size_t)nblk * s->blk;
}

static void sb_fill(struct sb *s, uint32_t nblk, uint32_t val)
{
	sb_chunk(s, 0xCAC2, nblk, 16);
	util_put_le32(s->b + s->n, val);
	s->n += 4;
}

static void sb_finish(struct sb *s)
{
	util_put_le32(s->b, FBSPARSE_MAGIC);
	util_put_le16(s->b + 4, 1);
	util_put_le16(s->b + 8, 28);
	util_put_le16(s->b + 10, 12);
	util_put_le32(s->b + 12, s->blk);
	util_put_le32(s->b + 16, s->blocks);
	util_put_le32(s->b + 20, s->chunks);
}

static void write_sparse(struct fx *f, struct sb *s, uint64_t start, uint64_t size,
			 struct fbsparse_result *r)
{
	assert_true(fbsparse_is_sparse(s->b, s->n));
	fbsparse_write(f->m, start, size, s->b, s->n, r);
}

static void test_sparse_ok(void **state)
{
	struct fx *f = fx_new(8 * MB, 0);
	struct fbsparse_result r;
	uint8_t got[4096], want[4096];
	struct sb s;
	size_t raw1;

	(void)state;
	sb_start(&s, 4096);
	sb_raw(&s, 2, 11);
	raw1 = 28 + 12;
	sb_fill(&s, 3, 0x01EFCDAB);
	sb_chunk(&s, 0xCAC3, 4, 12); /* don't care */
	sb_fill(&s, 1, 0);
	sb_raw(&s, 1, 12);
	sb_finish(&s);
	/* blocks 8..: RAW at 8, FILL at 16, skip, FILL 0, RAW */
	memset(got, 0x77, sizeof(got));
	assert_int_equal(emmc_bwrite(f->m, 8 + 9 * 8, 8, got), 8); /* the FILL 0 zeroes it */
	assert_int_equal(emmc_bwrite(f->m, 8 + 5 * 8, 8, got), 8); /* DONT_CARE keeps it */
	write_sparse(f, &s, 8, 4096, &r);
	assert_null(r.fail);
	assert_int_equal(r.chunks, 5);
	assert_int_equal(r.bytes_written, (2 + 3 + 1 + 1) * 4096);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 8 * 512, got, 4096), 0);
	assert_memory_equal(got, s.b + raw1, 4096);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 8 * 512 + 2 * 4096, got, 4096), 0);
	for (int i = 0; i < 4096; i += 4)
		assert_int_equal(util_le32(got + i), 0x01EFCDAB);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 8 * 512 + 5 * 4096, got, 4096), 0);
	memset(want, 0x77, sizeof(want));
	assert_memory_equal(got, want, 4096);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 8 * 512 + 9 * 4096, got, 4096), 0);
	memset(want, 0, sizeof(want));
	assert_memory_equal(got, want, 4096);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 8 * 512 + 10 * 4096, got, 4096), 0);
	assert_memory_equal(got, s.b + s.n - 4096, 4096);
	free(s.b);
	fx_free(f);
}

static void sparse_fail(struct sb *s, uint64_t size, const char *want)
{
	struct fx *f = fx_new(8 * MB, 0);
	struct fbsparse_result r;

	fbsparse_write(f->m, 0, size, s->b, s->n, &r);
	assert_non_null(r.fail);
	assert_string_equal(r.fail, want);
	fx_free(f);
}

static void test_sparse_errors(void **state)
{
	struct sb s;

	(void)state;
	/* block size not a multiple of 512 */
	sb_start(&s, 1000);
	sb_raw(&s, 1, 1);
	sb_finish(&s);
	sparse_fail(&s, 1000, "sparse image block size issue");
	free(s.b);
	/* larger than the partition */
	sb_start(&s, 4096);
	sb_raw(&s, 4, 1);
	sb_finish(&s);
	sparse_fail(&s, 16, "Request would exceed partition size!");
	free(s.b);
	sb_start(&s, 4096);
	sb_fill(&s, 4, 7);
	sb_finish(&s);
	sparse_fail(&s, 16, "Request would exceed partition size!");
	free(s.b);
	/* bogus total_sz */
	sb_start(&s, 4096);
	sb_raw(&s, 1, 1);
	util_put_le32(s.b + 28 + 8, 12 + 4095);
	sb_finish(&s);
	sparse_fail(&s, 1000, "Bogus chunk size for chunk type Raw");
	free(s.b);
	sb_start(&s, 4096);
	sb_chunk(&s, 0xCAC2, 1, 20);
	sb_finish(&s);
	sparse_fail(&s, 1000, "Bogus chunk size for chunk type FILL");
	free(s.b);
	sb_start(&s, 4096);
	sb_chunk(&s, 0xCAC4, 0, 12);
	sb_finish(&s);
	sparse_fail(&s, 1000, "Bogus chunk size for chunk type CRC32");
	free(s.b);
	/* unknown type; and chunks running past the buffer read as zero: type 0 */
	sb_start(&s, 4096);
	sb_chunk(&s, 0xCAFE, 1, 12);
	sb_finish(&s);
	sparse_fail(&s, 1000, "Unknown chunk type");
	util_put_le16(s.b + 28, 0xCAC3);
	util_put_le32(s.b + 20, 1000);
	sparse_fail(&s, 1000, "Unknown chunk type");
	free(s.b);
}

static void test_sparse_quirks(void **state)
{
	struct fx *f = fx_new(8 * MB, 0);
	struct fbsparse_result r;
	uint8_t got[4096];
	struct sb s;

	(void)state;
	/* total_blks wrong: reported only after the data was written */
	sb_start(&s, 4096);
	sb_raw(&s, 1, 5);
	sb_finish(&s);
	util_put_le32(s.b + 16, 99);
	fbsparse_write(f->m, 0, 1000, s.b, s.n, &r);
	assert_string_equal(r.fail, "sparse image write failure");
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0, got, 4096), 0);
	assert_memory_equal(got, s.b + 40, 4096);
	free(s.b);
	/* a CRC32 chunk: its 4 bytes are not skipped, the next chunk is misparsed */
	sb_start(&s, 4096);
	sb_chunk(&s, 0xCAC4, 0, 16);
	util_put_le32(s.b + s.n, 0x12345678);
	s.n += 4;
	sb_raw(&s, 1, 6);
	sb_finish(&s);
	fbsparse_write(f->m, 0, 1000, s.b, s.n, &r);
	assert_non_null(r.fail);
	free(s.b);
	/* a longer file header is skipped twice by U-Boot */
	sb_start(&s, 4096);
	s.n = 28 + 8; /* header 32 bytes, then 4 more bytes U-Boot skips again */
	sb_raw(&s, 1, 8);
	sb_finish(&s);
	util_put_le16(s.b + 8, 32);
	fbsparse_write(f->m, 0, 1000, s.b, s.n, &r);
	assert_null(r.fail);
	assert_int_equal(emmc_pread(f->m, EMMC_USER, 0, got, 4096), 0);
	assert_memory_equal(got, s.b + 36 + 12, 4096);
	/* not sparse */
	assert_false(fbsparse_is_sparse(s.b, 4));
	util_put_le16(s.b + 4, 2);
	assert_false(fbsparse_is_sparse(s.b, s.n));
	free(s.b);
	fx_free(f);
}

/* an .imx image as mkimage lays it out: IVT at file offset 0, written at 0x400 */
static void mk_imx(uint8_t *img, size_t len, uint32_t self, uint32_t entry, uint32_t csf)
{
	memset(img, 0, len);
	img[0] = 0xD1;
	img[2] = 0x20;
	img[3] = 0x40;
	util_put_le32(img + 4, entry);
	util_put_le32(img + 12, self + 0x2C);
	util_put_le32(img + 16, self + 0x20);
	util_put_le32(img + 20, self);
	util_put_le32(img + 24, csf);
	util_put_le32(img + 32, self - 0x400);
	util_put_le32(img + 36, (uint32_t)len + 0x400);
	img[0x2C] = 0xD2;
	img[0x2E] = 8;
	img[0x2F] = 0x40;
	img[0x30] = 0xC0;
	img[0x32] = 4;
	tu_fill(img + 0xC00, len - 0xC00, 4);
}

static void boot_write(struct fx *f, enum emmc_hwpart p, const uint8_t *img, size_t len)
{
	emmc_select(f->m, p);
	assert_int_equal(emmc_bwrite(f->m, 2, len / 512, img), len / 512);
	emmc_select(f->m, EMMC_USER);
}

static void test_boot(void **state)
{
	static const struct {
		uint32_t entry;
		size_t off;         /* then the field at off … */
		unsigned width;     /* … of width bytes (0: none) … */
		uint32_t v;         /* … holds v */
		const char *reason;
	} broken[] = {
		{ 0x30000000, 0, 0, 0, "entry-outside-image" },
		{ 0x17800000, 0x2C, 1, 0xD3, "bad-dcd" },
		{ 0x17800000, 32, 4, 0x177ff000 + 0x100, "ivt-self-not-at-0x400" },
		{ 0x17800000, 36, 4, 64u << 20, "bad-image-length" },
		{ 0x17800000, 16, 4, 0x177ff400 + 0x2000, "boot-data-outside-initial-load" },
	};
	struct fx *f = fx_new(8 * MB, 0);
	const struct soc_info *q = soc_find("6q"), *ul = soc_find("6ul");
	static uint8_t img[0x10000];
	struct boot_result r;

	(void)state;
	boot_check(f->m, q, false, &r);
	assert_false(r.ok);
	assert_string_equal(r.reason, "no-ivt");
	mk_imx(img, sizeof(img), 0x177ff400, 0x17800000, 0);
	boot_write(f, EMMC_USER, img, sizeof(img));
	boot_check(f->m, q, false, &r);
	assert_true(r.ok);
	assert_int_equal(r.source, EMMC_USER);
	assert_int_equal(r.ivt.entry, 0x17800000);
	assert_int_not_equal(r.crc32, 0);
	/* the same image on a 6UL: DRAM is elsewhere */
	boot_check(f->m, ul, false, &r);
	assert_string_equal(r.reason, "image-not-in-ram");
	/* HAB closed needs a CSF */
	boot_check(f->m, q, true, &r);
	assert_string_equal(r.reason, "unsigned-image");
	/* boot0 selected by partconf: empty there */
	emmc_set_partconf(f->m, 0, 1, 0);
	boot_check(f->m, q, false, &r);
	assert_int_equal(r.source, EMMC_BOOT0);
	assert_false(r.ok);
	boot_write(f, EMMC_BOOT0, img, sizeof(img));
	boot_check(f->m, q, false, &r);
	assert_true(r.ok);
	/* boot partition 7 = user area */
	emmc_set_partconf(f->m, 0, 7, 0);
	boot_check(f->m, q, false, &r);
	assert_int_equal(r.source, EMMC_USER);
	/* broken images: a good one with one field changed */
	for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
		mk_imx(img, sizeof(img), 0x177ff400, broken[i].entry, 0);
		if (broken[i].width == 1)
			img[broken[i].off] = (uint8_t)broken[i].v;
		else if (broken[i].width == 4)
			util_put_le32(img + broken[i].off, broken[i].v);
		boot_write(f, EMMC_USER, img, sizeof(img));
		boot_check(f->m, q, false, &r);
		assert_string_equal(r.reason, broken[i].reason);
	}
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emmc_basics),
		cmocka_unit_test(test_emmc_throttle),
		cmocka_unit_test(test_emmc_open_errors),
		cmocka_unit_test(test_part_dos),
		cmocka_unit_test(test_part_gpt),
		cmocka_unit_test(test_sparse_ok),
		cmocka_unit_test(test_sparse_errors),
		cmocka_unit_test(test_sparse_quirks),
		cmocka_unit_test(test_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
