/* test-util: helpers shared by the emulator's cmocka tests (header-only) */
#ifndef EMU_TEST_UTIL_H
#define EMU_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "crc32.h"
#include "emmc.h"
#include "fb.h"
#include "uboot.h"
#include "util.h"

/* a fresh temporary folder; removed with everything in it by tu_rmdir() */
static inline char *tu_tmpdir(void)
{
	char *d = strdup("/tmp/flashd-emu-test.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static inline void tu_rmdir(char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* the whole content of a file (NUL-terminated), *len set */
static inline char *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* deterministic pseudo-random bytes */
static inline void tu_fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* a DOS partition entry in slot 0…3 of the boot sector sec, and its signature */
static inline void tu_put_dos(uint8_t *sec, int slot, uint8_t boot, uint8_t type, uint32_t start,
			      uint32_t size)
{
	uint8_t *p = sec + 446 + 16 * slot;

	p[0] = boot;
	p[4] = type;
	util_put_le32(p + 8, start);
	util_put_le32(p + 12, size);
	sec[510] = 0x55;
	sec[511] = 0xaa;
}

/* protective MBR + primary GPT (34 blocks) for a disk of lba blocks:
 * partitions names (NULL-terminated), starts[i] … ends[i] */
static inline void tu_mk_gpt(uint8_t *buf, uint64_t lba, const char *const *names,
			     const uint64_t *starts, const uint64_t *ends)
{
	uint8_t *h = buf + 512, *e = buf + 1024;

	memset(buf, 0, 34 * 512);
	tu_put_dos(buf, 0, 0, 0xEE, 1, (uint32_t)(lba - 1));
	memcpy(h, "EFI PART", 8);
	util_put_le32(h + 8, 0x00010000);
	util_put_le32(h + 12, 92);
	util_put_le64(h + 24, 1);
	util_put_le64(h + 32, lba - 1);
	util_put_le64(h + 40, 34);
	util_put_le64(h + 48, lba - 34);
	util_put_le64(h + 72, 2);
	util_put_le32(h + 80, 128);
	util_put_le32(h + 84, 128);
	for (int i = 0; names[i]; i++) {
		uint8_t *p = e + 128 * i;

		memset(p, 0xAF, 16); /* any non-zero type GUID */
		p[16] = (uint8_t)i;
		util_put_le64(p + 32, starts[i]);
		util_put_le64(p + 40, ends[i]);
		for (size_t k = 0; names[i][k]; k++)
			p[56 + 2 * k] = (uint8_t)names[i][k];
	}
	util_put_le32(h + 88, crc32_update(0, e, 128 * 128));
	util_put_le32(h + 16, crc32_update(0, h, 92));
}


/* SDP data as uuu and imx_usb send it: 1025-byte reports (report ID 2, then
 * 1024 bytes, the last report zero-padded), each handed to send(ctx, report, 1025) */
static inline void tu_data_reports(const uint8_t *p, size_t n,
				   void (*send)(void *ctx, const uint8_t *report, size_t len),
				   void *ctx)
{
	uint8_t b[1025];

	for (size_t o = 0; o < n; o += 1024) {
		size_t k = n - o < 1024 ? n - o : 1024;

		memset(b, 0, sizeof(b));
		b[0] = 2;
		memcpy(b + 1, p + o, k);
		send(ctx, b, sizeof(b));
	}
}

/* A U-Boot board for the fastboot tests (test-fb, test-uboot): an eMMC image
 * in a fresh temporary folder, U-Boot and its fastboot on it, their replies. */
struct tu_board {
	char *dir;
	char path[512];
	struct emmc *m;
	struct uboot *u;
	struct fb *fb;
	struct fb_out out;
};

/* (Re)starts U-Boot and fastboot on f's eMMC: a power cycle when running. */
static inline void tu_board_start(struct tu_board *f, const struct uboot_cfg *uc,
				  const struct fb_cfg *fc)
{
	f->fb = fb_free(f->fb);
	f->u = uboot_free(f->u);
	assert_int_equal(uboot_new(uc, f->m, NULL, &f->u), 0);
	assert_int_equal(uboot_start(f->u), 0);
	assert_int_equal(fb_new(fc, f->u, &f->fb), 0);
}

/* A board with an eMMC user area of emmc_size bytes; nothing runs until
 * tu_board_start(). */
static inline struct tu_board *tu_board_new(uint64_t emmc_size)
{
	struct tu_board *f = calloc(1, sizeof(*f));
	struct emmc_cfg ec = { NULL, emmc_size, 0, NULL, NULL };

	assert_non_null(f);
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/emmc.img", f->dir);
	ec.path = f->path;
	assert_int_equal(emmc_open(&ec, NULL, &f->m), 0);
	return f;
}

/* Stops the board and removes its folder. */
static inline void tu_board_free(struct tu_board *f)
{
	fb_free(f->fb);
	uboot_free(f->u);
	emmc_free(f->m);
	tu_rmdir(f->dir);
	free(f);
}

#endif
