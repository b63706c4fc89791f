/* test-imx_image: i.MX boot image parsing. Real images are made at test time
 * by mkimage (u-boot-tools) from the .cfg files in tests/data/imx; hostile
 * variants are built in memory (tests/data/imx/imx-builder.h) and corrupted
 * field by field, one case per error branch. */
#include "flashd/imx_image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../data/imx/imx-builder.h"

#define SELF 0x177FF400u
#define ENTRY "0x17800000"
#define PAYLOAD_SIZE 300000u
#define PLUGIN_ADDR 0x00907000u

static char tmpdir[256];
static bool have_mkimage;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_file(const char *name, const uint8_t *buf, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static uint8_t *read_file(const char *name, size_t *len)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Run argv[0] in tmpdir with output discarded; exit status, or 127 if it
 * could not be run. */
static int run_in_tmpdir(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (chdir(tmpdir) < 0 || null < 0)
			_exit(126);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test-imx_image.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;

	uint8_t *payload = malloc(PAYLOAD_SIZE);
	if (!payload)
		return -1;
	for (size_t i = 0; i < PAYLOAD_SIZE; i++)
		payload[i] = imxb_pattern(i);
	int r = write_file("payload.bin", payload, PAYLOAD_SIZE);
	/* plugin code: "mov r0, #0; bx lr" then filler */
	static const uint8_t ret[8] = { 0x00, 0x00, 0xa0, 0xe3, 0x1e, 0xff, 0x2f, 0xe1 };
	memcpy(payload, ret, sizeof(ret));
	if (r == 0)
		r = write_file("plugin.bin", payload, 208);
	free(payload);
	if (r < 0)
		return -1;

	char *argv[] = { "mkimage", "-V", NULL };
	have_mkimage = run_in_tmpdir(argv) == 0;
	return 0;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return rmdir(tmpdir);
}

/* mkimage -n tests/data/imx/<cfg>.cfg -T imximage -e ENTRY -d payload.bin */
static uint8_t *mkimage(const char *cfg, size_t *len)
{
	char cfgpath[512], out[64];
	const char *top = getenv("top_srcdir");

	if (!have_mkimage) {
		print_message("mkimage not found (apt-get install u-boot-tools): skipping %s.cfg\n",
			      cfg);
		skip();
	}
	snprintf(cfgpath, sizeof(cfgpath), "%s/tests/data/imx/%s.cfg", top ? top : ".", cfg);
	snprintf(out, sizeof(out), "%s.imx", cfg);
	char *argv[] = { "mkimage", "-n", cfgpath, "-T", "imximage", "-e", ENTRY,
			 "-d", "payload.bin", out, NULL };
	assert_int_equal(run_in_tmpdir(argv), 0);
	return read_file(out, len);
}

static void parse_ok(const uint8_t *buf, size_t len, struct imx_image *img)
{
	const char *why = NULL;
	int r = imx_image_parse(buf, len, img, &why);
	if (r < 0)
		print_message("parse failed: %s\n", why ? why : "?");
	assert_int_equal(r, 0);
}

/* mkimage's image for cfg, parsed into img */
static uint8_t *mkimage_parsed(const char *cfg, size_t *len, struct imx_image *img)
{
	uint8_t *buf = mkimage(cfg, len);

	parse_ok(buf, *len, img);
	return buf;
}

/* the image as it sits on the boot medium: 1 KiB of zeros in front */
static uint8_t *at_0x400(const uint8_t *raw, size_t len)
{
	uint8_t *buf = calloc(1, len + 0x400);

	assert_non_null(buf);
	memcpy(buf + 0x400, raw, len);
	return buf;
}

static void test_mkimage_dcd(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *buf = mkimage_parsed("dcd", &len, &img);

	assert_int_equal(img.ivt_offset, 0);
	assert_int_equal(img.entry, 0x17800000u);
	assert_int_equal(img.self, SELF);
	assert_int_equal(img.load_addr, SELF);
	assert_int_equal(img.boot_data_addr, SELF + 0x20);
	assert_int_equal(img.boot_start, SELF - 0x400);
	/* mkimage pads the file so the boot-medium image is whole 4 KiB */
	assert_int_equal(img.boot_length, len + 0x400);
	assert_int_equal(img.boot_length % 4096, 0);
	assert_true(len >= 0xC00 + PAYLOAD_SIZE);
	assert_int_equal(img.upload_size, len);
	assert_int_equal(img.file_size, len);
	assert_int_equal(img.plugin, 0);
	assert_int_equal(img.csf, 0);
	assert_int_equal(img.dcd_addr, SELF + 0x2C);
	assert_int_equal(img.dcd_offset, 0x2C);
	/* header + write(4 DATA) + 2 checks + clear bits + set bits */
	assert_int_equal(img.dcd_size, 4 + (4 + 4 * 8) + 4 * 12);

	size_t dlen = 0;
	const uint8_t *dcd = imx_image_dcd(&img, buf, &dlen);
	assert_ptr_equal(dcd, buf + 0x2C);
	assert_int_equal(dlen, img.dcd_size);
	assert_int_equal(imx_dcd_validate(dcd, dlen, NULL), 0);
	/* every payload byte is where the RAM address says */
	assert_memory_equal(buf + (img.entry - img.load_addr), buf + 0xC00, 64);
	assert_int_equal(buf[0xC00 + 1234], imxb_pattern(1234));
	free(buf);
}

/* The same image as it sits on the boot medium: 1 KiB in front of the IVT. */
static void test_mkimage_ivt_at_0x400(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *raw = mkimage("dcd", &len);
	uint8_t *buf = at_0x400(raw, len);

	parse_ok(buf, len + 0x400, &img);
	assert_int_equal(img.ivt_offset, 0x400);
	assert_int_equal(img.self, SELF);
	assert_int_equal(img.load_addr, SELF - 0x400);
	assert_int_equal(img.load_addr, img.boot_start);
	assert_int_equal(img.upload_size, len + 0x400);
	assert_int_equal(img.upload_size, img.boot_length);
	assert_int_equal(img.dcd_offset, 0x42C);
	assert_int_equal(img.dcd_size, 88);
	free(raw);
	free(buf);
}

static void test_mkimage_nodcd(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *buf = mkimage_parsed("nodcd", &len, &img);

	assert_int_equal(img.dcd_addr, 0);
	assert_int_equal(img.dcd_offset, 0);
	assert_int_equal(img.dcd_size, 0);
	size_t dlen = 77;
	assert_null(imx_image_dcd(&img, buf, &dlen));
	assert_int_equal(dlen, 77);
	assert_int_equal(img.upload_size, len);
	free(buf);
}

static void test_mkimage_csf(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *buf = mkimage_parsed("csf", &len, &img);

	assert_int_equal(img.boot_length, len + 0x400 + 0x2000);
	assert_int_equal(img.csf, img.boot_start + img.boot_length - 0x2000);
	/* the CSF is not in the file yet: upload what there is */
	assert_int_equal(img.upload_size, len);
	assert_int_equal(img.dcd_size, 4 + 12 + 12);
	free(buf);
}

static void test_mkimage_plugin(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *buf = mkimage_parsed("plugin", &len, &img);

	assert_int_equal(img.plugin, 1);
	assert_int_equal(img.self, PLUGIN_ADDR + 0x400);
	assert_int_equal(img.boot_start, PLUGIN_ADDR);
	assert_true(img.entry > img.self && img.entry < img.self + 0x100);
	assert_int_equal(img.dcd_size, 0);
	/* only the plugin's region is loaded, not the whole file */
	assert_true(img.boot_length < len);
	assert_int_equal(img.upload_size, img.boot_start + img.boot_length - img.load_addr);
	free(buf);
}

static void check_cleared(const struct imx_image *img, const uint8_t *buf, size_t want_off,
			  size_t want_len)
{
	uint8_t out[IMX_HEADER_BLOCK];
	size_t blk = 99;
	size_t n = imx_image_cleared_header(img, buf, out, &blk);
	size_t dcd_field = img->ivt_offset - blk + 12;

	assert_int_equal(blk, want_off);
	assert_int_equal(n, want_len);
	assert_memory_equal(out, buf + blk, dcd_field);
	assert_int_equal(le32(out + dcd_field), 0);
	assert_memory_equal(out + dcd_field + 4, buf + blk + dcd_field + 4, n - dcd_field - 4);
	/* the file itself is untouched */
	assert_int_equal(le32(buf + img->ivt_offset + 12), img->dcd_addr);
}

static void test_mkimage_cleared_header(void **state)
{
	size_t len;
	struct imx_image img;
	uint8_t *raw = mkimage_parsed("dcd", &len, &img);
	uint8_t *buf = at_0x400(raw, len);

	assert_int_not_equal(img.dcd_addr, 0);
	check_cleared(&img, raw, 0, IMX_HEADER_BLOCK);
	parse_ok(buf, len + 0x400, &img);
	check_cleared(&img, buf, 0x400, IMX_HEADER_BLOCK);
	uint8_t out[IMX_HEADER_BLOCK];
	assert_int_equal(imx_image_cleared_header(&img, buf, out, NULL), IMX_HEADER_BLOCK);
	free(raw);
	free(buf);
}

/* ---- built images ---- */

static uint8_t *build(const struct imxb_opts *o, size_t *len)
{
	uint8_t *buf = malloc(imxb_size(o));
	assert_non_null(buf);
	*len = imxb_build(buf, o);
	return buf;
}

static void test_built_variants(void **state)
{
	static const struct imxb_opts opts[] = {
		{ 0, SELF, 0x200, true },
		{ 0x400, SELF, 0x200, true },
		{ 0, SELF, 5000, false },
		{ 0x400, 0x00907400u, 16, true },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t len;
		struct imx_image img;
		uint8_t *buf = build(&opts[i], &len);

		parse_ok(buf, len, &img);
		assert_int_equal(img.ivt_offset, opts[i].ivt_offset);
		assert_int_equal(img.load_addr, opts[i].self - opts[i].ivt_offset);
		assert_int_equal(img.entry, opts[i].self + IMXB_PAYLOAD);
		assert_int_equal(img.upload_size, len);
		assert_int_equal(img.dcd_size, opts[i].dcd ? IMXB_DCD_SIZE : 0);
		assert_int_equal(img.dcd_offset, opts[i].dcd ? opts[i].ivt_offset + IMXB_DCD : 0);
		check_cleared(&img, buf, opts[i].ivt_offset, IMX_HEADER_BLOCK);
		free(buf);
	}
}

static void test_ivt_versions(void **state)
{
	static const uint8_t ok[] = { 0x40, 0x41, 0x43, 0x4F };
	struct imxb_opts o = { 0, SELF, 16, true };
	size_t len;
	uint8_t *buf = build(&o, &len);
	struct imx_image img;

	for (size_t i = 0; i < sizeof(ok); i++) {
		buf[3] = ok[i];
		parse_ok(buf, len, &img);
	}
	free(buf);
}

/* An IVT-like header at 0 that fails the check does not hide the real one. */
static void test_ivt_fallback_to_0x400(void **state)
{
	struct imxb_opts o = { 0x400, SELF, 16, true };
	size_t len;
	uint8_t *buf = build(&o, &len);
	struct imx_image img;

	memcpy(buf, (const uint8_t[]){ 0xD1, 0x00, 0x21, 0x40 }, 4);
	parse_ok(buf, len, &img);
	assert_int_equal(img.ivt_offset, 0x400);
	free(buf);
}

/* A file shorter than 1 KiB: the cleared block is the whole file. */
static void test_cleared_header_short_file(void **state)
{
	uint8_t buf[0x100] = { 0 };
	struct imx_image img;

	memcpy(buf, (const uint8_t[]){ 0xD1, 0x00, 0x20, 0x40 }, 4);
	imxb_put_le32(buf + 4, SELF + 0x80);
	imxb_put_le32(buf + 12, SELF + 0x40);
	imxb_put_le32(buf + 16, SELF + 0x20);
	imxb_put_le32(buf + 20, SELF);
	imxb_put_le32(buf + 0x20, SELF - 0x400);
	imxb_put_le32(buf + 0x24, 0x500);
	memcpy(buf + 0x40, (const uint8_t[]){ 0xD2, 0x00, 0x08, 0x40, 0xC0, 0x00, 0x04, 0x00 }, 8);
	for (size_t i = 0x80; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;

	parse_ok(buf, sizeof(buf), &img);
	assert_int_equal(img.upload_size, sizeof(buf));
	assert_int_equal(img.dcd_size, 8);
	check_cleared(&img, buf, 0, sizeof(buf));
}

enum poke_kind { POKE_NONE, POKE_U8, POKE_BE16, POKE_LE32 };

struct poke {
	enum poke_kind kind;
	long off;   /* from the IVT; negative: from the end of the file */
	uint32_t v;
};

struct bad_case {
	const char *name;
	uint32_t ivt_offset;
	size_t trunc;            /* != 0: file cut to this size */
	struct poke pokes[4];
	const char *why;         /* expected substring of the reason */
};

#define BD 0x20   /* boot data, from the IVT */
#define DCD 0x2C  /* DCD header; its commands follow at 0x30, 0x4C, 0x58, 0x5C */
#define START (SELF - 0x400)

static const struct bad_case bad_cases[] = {
	{ "tiny", 0, 31, { { 0 } }, "shorter than an IVT" },
	{ "tag", 0, 0, { { POKE_U8, 0, 0xD0 } }, "no IVT" },
	{ "ivt length", 0, 0, { { POKE_BE16, 1, 0x21 } }, "no IVT" },
	{ "version 0x30", 0, 0, { { POKE_U8, 3, 0x30 } }, "no IVT" },
	{ "version 0x50", 0, 0, { { POKE_U8, 3, 0x50 } }, "no IVT" },
	{ "tag at 0x400", 0x400, 0, { { POKE_U8, 0, 0x00 } }, "no IVT" },
	{ "short for 0x400", 0x400, 0x41F, { { 0 } }, "no IVT" },
	{ "self below offset", 0x400, 0, { { POKE_LE32, 20, 0x100 } }, "self address below" },
	{ "boot data below", 0, 0, { { POKE_LE32, 16, SELF - 4 } }, "boot_data pointer outside" },
	{ "boot data at eof", 0, 0, { { POKE_LE32, 16, SELF + 0xE00 - 8 } }, "boot_data pointer outside" },
	{ "boot data far", 0, 0, { { POKE_LE32, 16, 0xFFFFFFFFu } }, "boot_data pointer outside" },
	{ "boot length 0", 0, 0, { { POKE_LE32, BD + 4, 0 } }, "length is 0" },
	{ "boot overflow", 0, 0, { { POKE_LE32, BD + 4, 0xF0000000u } }, "overflows" },
	{ "start above file", 0, 0, { { POKE_LE32, BD, SELF + 0x10 } }, "below the boot data start" },
	{ "ivt outside", 0, 0, { { POKE_LE32, BD + 4, 0x410 } }, "IVT lies outside" },
	{ "boot data unloaded", 0, 0, { { POKE_LE32, BD + 4, 0x420 } }, "boot data lies outside" },
	{ "entry below", 0, 0, { { POKE_LE32, 4, SELF - 4 } }, "entry point outside" },
	{ "entry past end", 0, 0, { { POKE_LE32, 4, SELF + 0xE00 } }, "entry point outside" },
	{ "entry max", 0, 0, { { POKE_LE32, 4, 0xFFFFFFFFu } }, "entry point outside" },
	{ "csf below", 0, 0, { { POKE_LE32, 24, START - 4 } }, "csf pointer outside" },
	{ "csf at end", 0, 0, { { POKE_LE32, 24, START + 0x2000 } }, "csf pointer outside" },
	{ "dcd below", 0, 0, { { POKE_LE32, 12, SELF - 4 } }, "dcd pointer outside" },
	{ "dcd at eof", 0, 0, { { POKE_LE32, 12, SELF + 0xE00 - 2 } }, "dcd pointer outside" },
	{ "dcd far", 0, 0, { { POKE_LE32, 12, 0xFFFFFFFFu } }, "dcd pointer outside" },
	{ "dcd tag", 0, 0, { { POKE_U8, DCD, 0xD3 } }, "bad header tag" },
	{ "dcd version", 0, 0, { { POKE_U8, DCD + 3, 0x41 } }, "bad header version" },
	{ "dcd len 2", 0, 0, { { POKE_BE16, DCD + 1, 2 } }, "shorter than its header" },
	{ "dcd len 1772", 0, 0, { { POKE_BE16, DCD + 1, 1772 } }, "longer than 1768" },
	{ "dcd past eof", 0, 0,
	  { { POKE_LE32, 12, SELF + 0xE00 - 8 }, { POKE_U8, -8, 0xD2 }, { POKE_BE16, -7, 64 },
	    { POKE_U8, -5, 0x40 } },
	  "length past end of file" },
	{ "truncated cmd", 0, 0, { { POKE_BE16, DCD + 1, 6 } }, "truncated command header" },
	{ "cmd len 2", 0, 0, { { POKE_BE16, 0x31, 2 } }, "command length shorter" },
	{ "cmd past dcd", 0, 0, { { POKE_BE16, 0x31, 0x100 } }, "runs past the DCD" },
	{ "write width 3", 0, 0, { { POKE_U8, 0x33, 0x03 } }, "write command: bad width" },
	{ "write width 0", 0, 0, { { POKE_U8, 0x33, 0x08 } }, "write command: bad width" },
	{ "write flag 5", 0, 0, { { POKE_U8, 0x33, 0x24 } }, "write command: bad width or flags" },
	{ "write len", 0, 0, { { POKE_BE16, 0x31, 24 } }, "not 4 + 8n" },
	{ "check param", 0, 0, { { POKE_U8, 0x4F, 0x83 } }, "check command: bad width" },
	{ "check len 8", 0, 0, { { POKE_BE16, 0x4D, 8 } }, "not 12 or 16" },
	{ "nop len 8", 0, 0, { { POKE_BE16, 0x59, 8 } }, "nop command: length" },
	{ "unknown cmd", 0, 0, { { POKE_U8, 0x58, 0xAA } }, "unknown command tag" },
	{ "unlock len 6", 0, 0, { { POKE_U8, 0x58, 0xB2 }, { POKE_BE16, 0x59, 6 } },
	  "unlock command: length" },
};

static void apply_poke(uint8_t *buf, size_t len, uint32_t ivt, const struct poke *p)
{
	size_t at = p->off < 0 ? len - (size_t)-p->off : ivt + (size_t)p->off;

	switch (p->kind) {
	case POKE_NONE:
		break;
	case POKE_U8:
		buf[at] = (uint8_t)p->v;
		break;
	case POKE_BE16:
		imxb_put_be16(buf + at, (uint16_t)p->v);
		break;
	case POKE_LE32:
		imxb_put_le32(buf + at, p->v);
		break;
	}
}

static void test_bad_images(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct imxb_opts o = { c->ivt_offset, SELF, 0x200, true };
		size_t len;
		uint8_t *buf = build(&o, &len);
		/* the base image is valid: each case breaks one thing */
		struct imx_image img;
		parse_ok(buf, len, &img);
		assert_int_equal(len - c->ivt_offset, 0xE00);

		for (size_t k = 0; k < 4; k++)
			apply_poke(buf, len, c->ivt_offset, &c->pokes[k]);
		if (c->trunc)
			len = c->trunc;

		const char *why = NULL;
		memset(&img, 0xA5, sizeof(img));
		int r = imx_image_parse(buf, len, &img, &why);
		print_message("%-20s -> %d %s\n", c->name, r, why ? why : "(null)");
		assert_int_equal(r, -EBADMSG);
		assert_non_null(why);
		assert_non_null(strstr(why, c->why));
		/* out untouched on error */
		for (size_t b = 0; b < sizeof(img); b++)
			assert_int_equal(((const uint8_t *)&img)[b], 0xA5);
		/* and a NULL why is fine */
		assert_int_equal(imx_image_parse(buf, len, &img, NULL), -EBADMSG);
		free(buf);
	}
}

static void test_empty_and_null(void **state)
{
	struct imx_image img;
	const char *why = NULL;
	uint8_t b[4] = { 0 };

	assert_int_equal(imx_image_parse(b, 0, &img, &why), -EBADMSG);
	assert_non_null(strstr(why, "shorter than an IVT"));
	assert_int_equal(imx_image_parse(NULL, 10, &img, &why), -EINVAL);
	assert_int_equal(imx_image_parse(b, sizeof(b), NULL, &why), -EINVAL);
	assert_int_equal(imx_dcd_validate(NULL, 10, &why), -EINVAL);
}

/* Every DCD command form the ROM knows, including those mkimage can't write. */
static void test_dcd_all_commands(void **state)
{
	static const uint8_t dcd[] = {
		0xD2, 0x00, 0x58, 0x40,
		0xCC, 0x00, 0x04, 0x04,                          /* empty write */
		0xCC, 0x00, 0x0C, 0x01, 0, 0, 0, 1, 0, 0, 0, 0xFF, /* byte write */
		0xCC, 0x00, 0x14, 0x0A, 0, 0, 0, 2, 0, 0, 0, 1,    /* halfword clear */
		0, 0, 0, 4, 0, 0, 0, 1,
		0xCF, 0x00, 0x10, 0x1C, 0, 0, 0, 8, 0, 0, 0, 1,    /* check with count */
		0, 0, 0x10, 0,
		0xCF, 0x00, 0x0C, 0x04, 0, 0, 0, 8, 0, 0, 0, 1,    /* check, no count */
		0xC0, 0x00, 0x04, 0x00,                          /* nop */
		0xB2, 0x00, 0x04, 0x1D,                          /* unlock CAAM */
		0xB2, 0x00, 0x0C, 0x21, 0, 0, 0, 1, 0, 0, 0, 2,    /* unlock OCOTP */
	};
	const char *why = NULL;

	assert_int_equal(sizeof(dcd), 0x58);
	assert_int_equal(imx_dcd_validate(dcd, sizeof(dcd), &why), 0);
	/* trailing bytes after the DCD are not part of it */
	uint8_t more[sizeof(dcd) + 8];
	memcpy(more, dcd, sizeof(dcd));
	memset(more + sizeof(dcd), 0xFF, 8);
	assert_int_equal(imx_dcd_validate(more, sizeof(more), &why), 0);
	/* but a blob shorter than its length is not a DCD */
	assert_int_equal(imx_dcd_validate(dcd, sizeof(dcd) - 1, &why), -EBADMSG);
	assert_non_null(strstr(why, "past end"));
	assert_int_equal(imx_dcd_validate(dcd, 3, &why), -EBADMSG);
	assert_non_null(strstr(why, "truncated header"));
	/* header only: an empty DCD */
	assert_int_equal(imx_dcd_validate((const uint8_t[]){ 0xD2, 0, 4, 0x40 }, 4, &why), 0);
}

static void test_dcd_max_size(void **state)
{
	uint8_t dcd[IMX_DCD_MAX + 4];
	const char *why = NULL;

	memset(dcd, 0, sizeof(dcd));
	imxb_cmd(dcd, 0xD2, IMX_DCD_MAX, 0x40);
	imxb_cmd(dcd + 4, 0xCC, IMX_DCD_MAX - 4, 0x04); /* 220 address/value pairs */
	assert_int_equal(imx_dcd_validate(dcd, sizeof(dcd), &why), 0);

	imxb_cmd(dcd, 0xD2, IMX_DCD_MAX + 4, 0x40);
	imxb_cmd(dcd + 4, 0xCC, IMX_DCD_MAX, 0x04);
	assert_int_equal(imx_dcd_validate(dcd, sizeof(dcd), &why), -EBADMSG);
	assert_non_null(strstr(why, "1768"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkimage_dcd),
		cmocka_unit_test(test_mkimage_ivt_at_0x400),
		cmocka_unit_test(test_mkimage_nodcd),
		cmocka_unit_test(test_mkimage_csf),
		cmocka_unit_test(test_mkimage_plugin),
		cmocka_unit_test(test_mkimage_cleared_header),
		cmocka_unit_test(test_built_variants),
		cmocka_unit_test(test_ivt_versions),
		cmocka_unit_test(test_ivt_fallback_to_0x400),
		cmocka_unit_test(test_cleared_header_short_file),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_dcd_all_commands),
		cmocka_unit_test(test_dcd_max_size),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
