/* test-spl: U-Boot SPL's SDP gadget as emulated (spl.c, after mainline
 * drivers/usb/gadget/f_sdp.c), the legacy image header (uimage.c), the image model
 * (image.c) and the eMMC boot chain through an SPL (boot.c boot_check_chain()) */
#include "spl.h"

#include "boot.h"
#include "crc32.h"
#include "emmc.h"
#include "image.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>

#define LOADADDR 0x177fffc0u /* the 6Q default: u-boot.img's header below 0x17800000 */
#define TEXT_BASE 0x17800000u
#define UDATA 5000u          /* u-boot.img payload bytes */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* bytes into the user area (read-modify-write of whole blocks) */
static void user_write(struct emmc *m, uint64_t off, const uint8_t *p, size_t n)
{
	uint8_t blk[512];

	for (size_t i = 0; i < n;) {
		uint64_t b = (off + i) / 512, at = (off + i) % 512;
		size_t k = n - i < 512 - at ? n - i : (size_t)(512 - at);

		assert_int_equal(emmc_bread(m, b, 1, blk), 1);
		memcpy(blk + at, p + i, k);
		assert_int_equal(emmc_bwrite(m, b, 1, blk), 1);
		i += k;
	}
}

struct sfx {
	struct mem *mem;
	struct spl *s;
};

static struct sfx mk(void)
{
	struct sfx f = { mem_new(16u << 20), NULL };
	struct spl_cfg c = { soc_find("6q"), LOADADDR };

	assert_non_null(f.mem);
	assert_int_equal(spl_new(&c, f.mem, NULL, &f.s), 0);
	spl_set_alt(f.s);
	return f;
}

static void rm(struct sfx *f)
{
	spl_free(f->s);
	mem_free(f->mem);
}

/* a legacy image: 64-byte header + LEN payload bytes at OUT (mkimage's layout) */
static void mk_uimage(uint8_t *out, uint32_t load, uint32_t ep, uint32_t len, uint8_t comp)
{
	memset(out, 0, UIMAGE_HDR_SIZE);
	tu_fill(out + UIMAGE_HDR_SIZE, len, 7);
	put_be32(out, UIMAGE_MAGIC);
	put_be32(out + 12, len);
	put_be32(out + 16, load);
	put_be32(out + 20, ep);
	put_be32(out + 24, crc32_update(0, out + UIMAGE_HDR_SIZE, len));
	out[28] = 17; /* IH_OS_U_BOOT */
	out[29] = 2;  /* IH_ARCH_ARM */
	out[30] = 5;  /* IH_TYPE_FIRMWARE */
	out[31] = comp;
	memcpy(out + 32, "test U-Boot", 11);
	put_be32(out + 4, crc32_update(0, out, UIMAGE_HDR_SIZE));
}

static void cmd_buf(uint8_t *b, uint16_t code, uint32_t addr, uint32_t count)
{
	memset(b, 0, 17);
	b[0] = 1;
	b[1] = (uint8_t)(code >> 8);
	b[2] = (uint8_t)code;
	put_be32(b + 3, addr);
	put_be32(b + 8, count);
}

/* a command over the interrupt OUT endpoint */
static void out_cmd(struct spl *s, uint16_t code, uint32_t addr, uint32_t count)
{
	uint8_t b[17];

	assert_true(spl_out_wanted(s));
	cmd_buf(b, code, addr, count);
	spl_out_done(s, b, sizeof(b));
}

/* WRITE_FILE data over OUT: 1025-byte reports, the last zero-padded */
static void out_report(void *s, const uint8_t *b, size_t len)
{
	assert_true(spl_out_wanted(s));
	spl_out_done(s, b, (long)len);
}

static void out_data(struct spl *s, const uint8_t *p, size_t n)
{
	tu_data_reports(p, n, out_report, s);
}

/* report 3 (HAB open), then report 4's word, or -1 when none follows */
static int64_t replies(struct spl *s)
{
	uint8_t b[SPL_REPORT_IN_LEN];
	size_t len;

	assert_int_equal(spl_in_next(s, b, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(b[0], 3);
	assert_int_equal(util_le32(b + 1), 0x56787856u);
	spl_in_done(s, 5);
	if (spl_in_next(s, b, &len) < 0)
		return -1;
	assert_int_equal(len, SPL_REPORT_IN_LEN);
	assert_int_equal(b[0], 4);
	spl_in_done(s, (long)len);
	return util_le32(b + 1);
}

static void test_uimage(void **state)
{
	uint8_t img[UIMAGE_HDR_SIZE + 100];
	struct uimage u;

	(void)state;
	mk_uimage(img, TEXT_BASE, TEXT_BASE, 100, 0);
	assert_int_equal(uimage_parse(img, sizeof(img), &u), 0);
	assert_true(u.hcrc_ok);
	assert_int_equal(u.load, TEXT_BASE);
	assert_int_equal(u.size, 100);
	assert_string_equal(u.name, "test U-Boot");
	img[40] ^= 1; /* a name byte: the header CRC no longer matches */
	assert_int_equal(uimage_parse(img, sizeof(img), &u), 0);
	assert_false(u.hcrc_ok);
	assert_int_equal(uimage_parse(img, 63, &u), -EBADMSG);
	img[0] = 0;
	assert_int_equal(uimage_parse(img, sizeof(img), &u), -EBADMSG);
}

static void test_image_model(void **state)
{
	const struct soc_info *soc = soc_find("6q");
	struct ivt spl = { 0x40, 0x00908000u, 0, 0x00907420u, 0x00907400u, 0 };
	struct ivt full = { 0x40, 0x17800000u, 0, 0x177ff420u, 0x177ff400u, 0 };
	uint8_t img[UIMAGE_HDR_SIZE + 64];
	struct uimage u;
	uint32_t crc;

	(void)state;
	assert_true(image_ivt_is_spl(soc, &spl));
	assert_false(image_ivt_is_spl(soc, &full));
	mk_uimage(img, TEXT_BASE, TEXT_BASE + 8, 64, 0);
	assert_int_equal(uimage_parse(img, sizeof(img), &u), 0);
	crc = crc32_update(0, img + UIMAGE_HDR_SIZE, 64);
	assert_null(image_uboot_check(soc, &u, crc));
	assert_string_equal(image_uboot_check(soc, &u, crc ^ 1), "data-crc");
	u.ep = TEXT_BASE + 64;
	assert_string_equal(image_uboot_check(soc, &u, crc), "entry-outside-image");
	u.ep = u.load = 0x00910000u; /* OCRAM: not where U-Boot proper runs */
	assert_string_equal(image_uboot_check(soc, &u, crc), "load-not-in-dram");
	u.comp = 1;
	assert_string_equal(image_uboot_check(soc, &u, crc), "compressed");
	u.hcrc_ok = false;
	assert_string_equal(image_uboot_check(soc, &u, crc), "header-crc");
}

/* sdp_init(): nothing is served before the host fetched the report descriptor */
static void test_serves_after_descriptor(void **state)
{
	struct sfx f = mk();
	uint8_t b[SPL_REPORT_IN_LEN];
	size_t len;

	(void)state;
	assert_false(spl_serving(f.s));
	assert_false(spl_out_wanted(f.s));
	/* ep0 still takes a command (sdp_setup() runs in sdp_init()'s loop) ... */
	cmd_buf(b, 0x0505, 0, 0);
	assert_int_equal(spl_setup_report(f.s, b, 17), 17);
	/* ... but no report goes out */
	assert_int_equal(spl_in_next(f.s, b, &len), -EAGAIN);
	spl_config_done(f.s);
	assert_int_equal(replies(f.s), 0); /* ERROR_STATUS: 0 */
	assert_int_equal(spl_state(f.s), SPL_IDLE);
	/* the host used ep0: f_sdp queues no OUT requests any more */
	assert_false(spl_out_wanted(f.s));
	rm(&f);
}

static void test_write_and_jump_uimage(void **state)
{
	struct sfx f = mk();
	uint8_t img[UIMAGE_HDR_SIZE + UDATA], back[UDATA];

	(void)state;
	spl_config_done(f.s);
	mk_uimage(img, TEXT_BASE, TEXT_BASE, UDATA, 0);
	out_cmd(f.s, 0x0404, 0, sizeof(img)); /* addr 0: CONFIG_SDP_LOADADDR */
	assert_int_equal(spl_state(f.s), SPL_RX_FILE_DATA);
	out_data(f.s, img, sizeof(img));
	assert_int_equal(replies(f.s), 0x88888888u);
	assert_int_equal(mem_read(f.mem, TEXT_BASE, back, UDATA), 0);
	assert_memory_equal(back, img + UIMAGE_HDR_SIZE, UDATA);
	out_cmd(f.s, 0x0B0B, 0, 0);
	assert_int_equal(replies(f.s), -1); /* report 3 only, then the jump */
	assert_int_equal(spl_state(f.s), SPL_BOOTED);
	assert_string_equal(spl_boot(f.s)->kind, "uimage");
	assert_string_equal(spl_boot(f.s)->reason, "ok");
	assert_int_equal(spl_boot(f.s)->addr, LOADADDR);
	assert_int_equal(spl_boot(f.s)->entry, TEXT_BASE);
	/* U-Boot proper runs: the SPL gadget is gone */
	assert_false(spl_out_wanted(f.s));
	rm(&f);
}

static void jump_to(struct spl *s, uint32_t addr)
{
	uint8_t b[17];

	cmd_buf(b, 0x0B0B, addr, 0);
	assert_int_equal(spl_setup_report(s, b, 17), 17);
	assert_int_equal(replies(s), -1);
}

static void test_jump_failures(void **state)
{
	struct sfx f = mk(), g = mk(), h = mk(), k = mk();
	uint8_t img[UIMAGE_HDR_SIZE + UDATA], ivt[32] = { 0xD1, 0x00, 0x20, 0x40 };

	(void)state;
	spl_config_done(f.s);
	jump_to(f.s, 0); /* nothing at SDP_LOADADDR */
	assert_int_equal(spl_state(f.s), SPL_HUNG);
	assert_string_equal(spl_boot(f.s)->reason, "no-image-header");
	assert_false(spl_serving(f.s));
	/* a u-boot.img whose data is not at its load address */
	spl_config_done(g.s);
	mk_uimage(img, TEXT_BASE, TEXT_BASE, UDATA, 0);
	assert_int_equal(mem_write(g.mem, 0x12000000u, img, sizeof(img)), 0);
	jump_to(g.s, 0x12000000u);
	assert_int_equal(spl_state(g.s), SPL_HUNG);
	assert_string_equal(spl_boot(g.s)->reason, "data-crc");
	/* an IVT: entry in DRAM is U-Boot proper, in OCRAM it is not */
	spl_config_done(h.s);
	util_put_le32(ivt + 4, 0x17800000u);
	assert_int_equal(mem_write(h.mem, 0x177ff400u, ivt, sizeof(ivt)), 0);
	jump_to(h.s, 0x177ff400u);
	assert_int_equal(spl_state(h.s), SPL_BOOTED);
	assert_string_equal(spl_boot(h.s)->kind, "ivt");
	spl_config_done(k.s);
	util_put_le32(ivt + 4, 0x00908000u);
	assert_int_equal(mem_write(k.mem, 0x00907400u, ivt, sizeof(ivt)), 0);
	jump_to(k.s, 0x00907400u);
	assert_int_equal(spl_state(k.s), SPL_HUNG);
	rm(&f);
	rm(&g);
	rm(&h);
	rm(&k);
}

static void test_other_commands(void **state)
{
	struct sfx f = mk(), g = mk();
	uint8_t b[1025], rd[SPL_REPORT_IN_LEN];
	size_t len;

	(void)state;
	spl_config_done(f.s);
	out_cmd(f.s, 0x0C0C, 0, 0); /* SKIP_DCD_HEADER: acked */
	assert_int_equal(replies(f.s), 0x900DD009u);
	assert_int_equal(mem_write32(f.mem, 0x00910000u, 0xA1B2C3D4u), 0);
	out_cmd(f.s, 0x0101, 0x00910000u, 4); /* READ_REGISTER: memory */
	assert_int_equal(replies(f.s), 0xA1B2C3D4u);
	assert_int_equal(spl_state(f.s), SPL_IDLE);
	/* DCD_WRITE over OUT: f_sdp queues no request in RX_DCD_DATA: stuck */
	out_cmd(f.s, 0x0A0A, 0x00910000u, 16);
	assert_false(spl_out_wanted(f.s));
	assert_int_equal(spl_in_next(f.s, rd, &len), -EAGAIN);
	/* over ep0 it is acked, and nothing is written */
	spl_config_done(g.s);
	cmd_buf(b, 0x0A0A, 0x00910000u, 16);
	assert_int_equal(spl_setup_report(g.s, b, 17), 17);
	memset(b, 0xEE, sizeof(b));
	b[0] = 2;
	assert_int_equal(spl_setup_report(g.s, b, 17), 17);
	assert_int_equal(replies(g.s), 0x128A8A12u);
	assert_int_equal(mem_read32(g.mem, 0x00910000u), 0);
	/* WRITE_REGISTER is unknown to f_sdp: no reply at all */
	cmd_buf(b, 0x0202, 0x020C4000u, 4);
	assert_int_equal(spl_setup_report(g.s, b, 17), 17);
	assert_int_equal(spl_in_next(g.s, rd, &len), -EAGAIN);
	/* WRITE_FILE outside RAM: the SPL dies */
	cmd_buf(b, 0x0404, 0x00001000u, 16);
	assert_int_equal(spl_setup_report(g.s, b, 17), 17);
	b[0] = 2;
	assert_int_equal(spl_setup_report(g.s, b, 17), 17);
	assert_int_equal(spl_state(g.s), SPL_HUNG);
	assert_string_equal(spl_state_to_string(spl_state(g.s)), "hung");
	rm(&f);
	rm(&g);
}

/* the eMMC: an SPL at 0x400 of the user area, u-boot.img at a raw sector */
static void put_spl(struct emmc *m)
{
	uint8_t ivt[44] = { 0xD1, 0x00, 0x20, 0x40 };

	util_put_le32(ivt + 4, 0x00908000u);
	util_put_le32(ivt + 16, 0x00907420u);
	util_put_le32(ivt + 20, 0x00907400u);
	util_put_le32(ivt + 32, 0x00907000u);
	util_put_le32(ivt + 36, 0x11000u);
	user_write(m, 0x400, ivt, sizeof(ivt));
}

static void test_boot_chain(void **state)
{
	char *dir = tu_tmpdir(), path[512];
	struct emmc_cfg ec = { path, 8u << 20, 0, NULL, NULL };
	const struct soc_info *soc = soc_find("6q");
	uint8_t img[UIMAGE_HDR_SIZE + UDATA];
	struct boot_result r;
	struct emmc *m;

	(void)state;
	snprintf(path, sizeof(path), "%s/emmc.img", dir);
	assert_int_equal(emmc_open(&ec, NULL, &m), 0);
	put_spl(m);
	boot_check_chain(m, soc, false, 0x8a, &r);
	assert_false(r.ok);
	assert_true(r.hang); /* SPL finds no U-Boot: silent, not back to the ROM */
	assert_true(r.spl);
	assert_string_equal(r.reason, "spl-no-image-header");
	mk_uimage(img, TEXT_BASE, TEXT_BASE, UDATA, 0);
	user_write(m, 0x8a * 512, img, sizeof(img));
	boot_check_chain(m, soc, false, 0x8a, &r);
	assert_true(r.ok);
	assert_int_equal(r.uboot_offset, 0x11400);
	assert_int_equal(r.uimg.size, UDATA);
	/* a different sector: nothing there */
	boot_check_chain(m, soc, false, 0x88, &r);
	assert_true(r.hang);
	/* one payload byte broken */
	img[UIMAGE_HDR_SIZE + 10] ^= 0xFF;
	user_write(m, 0x8a * 512, img, sizeof(img));
	boot_check_chain(m, soc, false, 0x8a, &r);
	assert_true(r.hang);
	assert_string_equal(r.reason, "data-crc");
	emmc_free(m);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uimage),
		cmocka_unit_test(test_image_model),
		cmocka_unit_test(test_serves_after_descriptor),
		cmocka_unit_test(test_write_and_jump_uimage),
		cmocka_unit_test(test_jump_failures),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_boot_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
