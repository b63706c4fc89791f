/* test-rom: the emulated boot ROM's SDP state machine, DCD execution, register
 * models and JUMP_ADDRESS validation (rom.c, dcd.c, soc.c, mem.c, ivt.c) */
#include "rom.h"

#include "dcd.h"
#include "mem.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>

#define CMD_READ 0x0101
#define CMD_WRITE_REG 0x0202
#define CMD_WRITE_FILE 0x0404
#define CMD_STATUS 0x0505
#define CMD_DCD 0x0A0A
#define CMD_JUMP 0x0B0B
#define CMD_SKIP 0x0C0C

static struct rom *mk(const char *soc, bool closed, bool bad_status, bool dram_check,
		      struct log *log)
{
	struct rom_cfg c = { soc_find(soc), 0x1122334455667788ull, closed, bad_status, dram_check,
			     8u << 20 };
	struct rom *r = NULL;

	assert_int_equal(rom_new(&c, log, &r), 0);
	return r;
}

static void cmd(struct rom *r, uint16_t code, uint32_t addr, uint8_t fmt, uint32_t count,
		uint32_t data)
{
	uint8_t b[17] = { 1, (uint8_t)(code >> 8), (uint8_t)code };

	b[3] = (uint8_t)(addr >> 24);
	b[4] = (uint8_t)(addr >> 16);
	b[5] = (uint8_t)(addr >> 8);
	b[6] = (uint8_t)addr;
	b[7] = fmt;
	b[8] = (uint8_t)(count >> 24);
	b[9] = (uint8_t)(count >> 16);
	b[10] = (uint8_t)(count >> 8);
	b[11] = (uint8_t)count;
	b[12] = (uint8_t)(data >> 24);
	b[13] = (uint8_t)(data >> 16);
	b[14] = (uint8_t)(data >> 8);
	b[15] = (uint8_t)data;
	assert_int_equal(rom_set_report(r, b, sizeof(b)), 0);
}

/* full 1025-byte reports, the last one zero-padded (as uuu/imx_usb send them) */
static void data_report(void *r, const uint8_t *b, size_t len)
{
	assert_int_equal(rom_set_report(r, b, len), 0);
}

static void data(struct rom *r, const uint8_t *p, size_t n)
{
	tu_data_reports(p, n, data_report, r);
}

/* report 3 (checked against HAB), then report 4's status word; -1 when none */
static int64_t reply(struct rom *r, uint32_t hab)
{
	uint8_t b[65];
	size_t len;

	assert_int_equal(rom_next_report(r, b, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(b[0], 3);
	assert_int_equal(util_le32(b + 1), hab);
	if (rom_next_report(r, b, &len) < 0)
		return -1;
	assert_int_equal(len, 65);
	assert_int_equal(b[0], 4);
	return util_le32(b + 1);
}

static void test_status_idle(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	struct rom *c = mk("6q", true, false, true, NULL);
	uint8_t b[65];
	size_t len;

	(void)state;
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	cmd(r, CMD_STATUS, 0, 0, 0, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_STATUS_OK);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	cmd(c, CMD_STATUS, 0, 0, 0, 0);
	assert_int_equal(reply(c, ROM_HAB_CLOSED), ROM_STATUS_OK);
	assert_string_equal(rom_state_to_string(rom_state(r)), "idle");
	rom_free(r);
	rom_free(c);
}

static void test_read_uid(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	uint8_t b[65];
	size_t len;

	(void)state;
	cmd(r, CMD_READ, SOC_OCOTP_CFG0, 0x20, 4, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), 0x55667788);
	cmd(r, CMD_READ, SOC_OCOTP_CFG1, 0x20, 4, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), 0x11223344);
	/* 8-bit reads of CFG0: bytes in address order */
	cmd(r, CMD_READ, SOC_OCOTP_CFG0 + 1, 0x08, 2, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN) & 0xffff, 0x6677);
	/* 100 bytes: two 64-byte reports, the last padded */
	cmd(r, CMD_READ, 0x020c4000, 0x20, 100, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), 0);
	assert_int_equal(rom_next_report(r, b, &len), 0);
	assert_int_equal(b[0], 4);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	rom_free(r);
}

static void test_write_register(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);

	(void)state;
	cmd(r, CMD_WRITE_REG, 0x020e0000, 0x20, 4, 0xdeadbeef);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_OK);
	cmd(r, CMD_READ, 0x020e0000, 0x20, 4, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), 0xdeadbeef);
	/* a 16-bit write changes two bytes only */
	cmd(r, CMD_WRITE_REG, 0x020e0000, 0x10, 2, 0x1234);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_OK);
	cmd(r, CMD_READ, 0x020e0000, 0x20, 4, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), 0xdead1234);
	rom_free(r);
}

/* a DCD: header + commands */
struct dcdb {
	uint8_t b[2048];
	size_t n;
};

static void dcd_start(struct dcdb *d)
{
	d->b[0] = 0xD2;
	d->b[3] = 0x40;
	d->n = 4;
}

static void dcd_put32(struct dcdb *d, uint32_t v)
{
	d->b[d->n++] = (uint8_t)(v >> 24);
	d->b[d->n++] = (uint8_t)(v >> 16);
	d->b[d->n++] = (uint8_t)(v >> 8);
	d->b[d->n++] = (uint8_t)v;
}

/* a command header: tag, length, param */
static void dcd_cmd(struct dcdb *d, uint8_t tag, uint16_t len, uint8_t param)
{
	d->b[d->n++] = tag;
	d->b[d->n++] = (uint8_t)(len >> 8);
	d->b[d->n++] = (uint8_t)len;
	d->b[d->n++] = param;
}

static void dcd_end(struct dcdb *d)
{
	d->b[1] = (uint8_t)(d->n >> 8);
	d->b[2] = (uint8_t)d->n;
}

static uint32_t rd32(struct rom *r, uint32_t addr)
{
	cmd(r, CMD_READ, addr, 0x20, 4, 0);
	return (uint32_t)reply(r, ROM_HAB_OPEN);
}

static int64_t send_dcd(struct rom *r, struct dcdb *d)
{
	cmd(r, CMD_DCD, 0x00910000, 0, (uint32_t)d->n, 0);
	data(r, d->b, d->n);
	return reply(r, ROM_HAB_OPEN);
}

/* the DRAM init every good DCD does (MDCTL.SDE_0, MDSCR handshake) */
static void dcd_dram(struct dcdb *d)
{
	dcd_cmd(d, 0xCC, 4 + 16, 0x04);
	dcd_put32(d, 0x021b0000);
	dcd_put32(d, 0x831a0000);
	dcd_put32(d, 0x021b001c);
	dcd_put32(d, 0x00008000);
	dcd_cmd(d, 0xCF, 12, 0x14); /* wait until CON_ACK set */
	dcd_put32(d, 0x021b001c);
	dcd_put32(d, 0x00004000);
}

static void test_dcd_execute(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	struct dcdb d;

	(void)state;
	dcd_start(&d);
	dcd_dram(&d);
	dcd_cmd(&d, 0xCC, 12, 0x04);
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 0xff);
	dcd_cmd(&d, 0xCC, 12, 0x0C); /* clear bit 0 */
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 0x01);
	dcd_cmd(&d, 0xCC, 12, 0x1C); /* set bit 8 */
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 0x100);
	dcd_cmd(&d, 0xC0, 4, 0);      /* nop */
	dcd_cmd(&d, 0xB2, 4, 0x1E);   /* unlock SNVS */
	dcd_cmd(&d, 0xCF, 16, 0x04);  /* ZQ_HW_FOR self-clears: (v & m) == 0, count 10 */
	dcd_put32(&d, 0x021b0800);
	dcd_put32(&d, 0x00010000);
	dcd_put32(&d, 10);
	dcd_end(&d);
	assert_int_equal(send_dcd(r, &d), ROM_WRITE_OK);
	assert_int_equal(rd32(r, 0x020c4070), 0x1fe);
	assert_int_equal(rd32(r, 0x021b0000), 0x831a0000);
	/* the table is kept where the host put it */
	assert_int_equal(rd32(r, 0x00910000), util_le32(d.b));
	rom_free(r);
}

static void dcd_expect(const struct dcdb *d, int64_t word, enum rom_state st)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	struct dcdb copy = *d;

	if (st == ROM_HUNG) {
		cmd(r, CMD_DCD, 0x00910000, 0, (uint32_t)copy.n, 0);
		data(r, copy.b, copy.n);
		assert_int_equal(rom_state(r), ROM_HUNG);
		uint8_t b[65];
		size_t len;

		assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
		/* a hung ROM ignores everything */
		cmd(r, CMD_STATUS, 0, 0, 0, 0);
		assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	} else {
		assert_int_equal(send_dcd(r, &copy), word);
		/* ERROR_STATUS now reports the failure */
		cmd(r, CMD_STATUS, 0, 0, 0, 0);
		assert_int_equal(reply(r, ROM_HAB_OPEN), word);
	}
	rom_free(r);
}

static void test_dcd_malformed(void **state)
{
	struct dcdb d;

	(void)state;
	/* bad header tag */
	dcd_start(&d);
	dcd_cmd(&d, 0xC0, 4, 0);
	dcd_end(&d);
	d.b[0] = 0xD3;
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* bad version */
	dcd_start(&d);
	dcd_end(&d);
	d.b[3] = 0x30;
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* header length larger than what was sent */
	dcd_start(&d);
	dcd_cmd(&d, 0xC0, 4, 0);
	dcd_end(&d);
	d.b[2] += 8;
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* more than 1768 bytes */
	dcd_start(&d);
	while (d.n < 1800)
		dcd_cmd(&d, 0xC0, 4, 0);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* unknown command */
	dcd_start(&d);
	dcd_cmd(&d, 0xAB, 4, 0);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* command length past the table, and a write with half a pair */
	dcd_start(&d);
	dcd_cmd(&d, 0xCC, 200, 4);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	dcd_start(&d);
	dcd_cmd(&d, 0xCC, 8, 4);
	dcd_put32(&d, 0x020c4070);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* width 3 */
	dcd_start(&d);
	dcd_cmd(&d, 0xCC, 12, 3);
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 1);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* a register outside the allowed blocks (OCOTP) */
	dcd_start(&d);
	dcd_cmd(&d, 0xCC, 12, 4);
	dcd_put32(&d, 0x021bc410);
	dcd_put32(&d, 1);
	dcd_end(&d);
	dcd_expect(&d, 0x00DD2233, ROM_IDLE);
	/* nop with a body */
	dcd_start(&d);
	dcd_cmd(&d, 0xC0, 8, 0);
	dcd_put32(&d, 0);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	/* a check that never holds: with a count it fails, without it hangs */
	dcd_start(&d);
	dcd_cmd(&d, 0xCF, 16, 0x14);
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 0x80000000);
	dcd_put32(&d, 100);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
	dcd_start(&d);
	dcd_cmd(&d, 0xCF, 12, 0x14);
	dcd_put32(&d, 0x020c4070);
	dcd_put32(&d, 0x80000000);
	dcd_end(&d);
	dcd_expect(&d, 0, ROM_HUNG);
	/* a check of bad length */
	dcd_start(&d);
	dcd_cmd(&d, 0xCF, 8, 0x14);
	dcd_put32(&d, 0x020c4070);
	dcd_end(&d);
	dcd_expect(&d, ROM_ERR_DCD, ROM_IDLE);
}

static void test_dcd_status_strings(void **state)
{
	(void)state;
	assert_string_equal(dcd_status_to_string(DCD_OK), "ok");
	assert_string_equal(dcd_status_to_string(DCD_CHECK_HANGS), "check-hangs");
	assert_string_equal(dcd_status_to_string((enum dcd_status)99), "?");
	assert_int_equal(dcd_status_hab_word(DCD_BAD_ADDRESS), 0x00DD2233);
	assert_int_equal(dcd_status_hab_word(DCD_TOO_BIG), ROM_ERR_DCD);
}

static void test_write_file_ocram(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	uint8_t img[3000], b[65];
	size_t len;

	(void)state;
	tu_fill(img, sizeof(img), 7);
	cmd(r, CMD_WRITE_FILE, 0x00907000, 0, sizeof(img), 0);
	assert_int_equal(rom_state(r), ROM_RX_DATA);
	data(r, img, sizeof(img));
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	assert_int_equal(rd32(r, 0x00907000), util_le32(img));
	assert_int_equal(rd32(r, 0x00907000 + 2996), util_le32(img + 2996));
	/* the whole last report landed: the padding overwrote what was after */
	cmd(r, CMD_WRITE_REG, 0x00907000 + 3072, 0x20, 4, 0x55aa55aa);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_OK);
	cmd(r, CMD_WRITE_FILE, 0x00907000 + 3068, 0, 2, 0);
	data(r, (const uint8_t *)"hi", 2);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	assert_int_equal(rd32(r, 0x00907000 + 3072), 0);
	rom_free(r);
}

static void test_write_file_errors(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	struct rom *bad = mk("6q", false, true, false, NULL);
	struct rom *nochk = mk("6q", false, false, false, NULL);
	uint8_t img[1024] = { 1, 2, 3 };

	(void)state;
	/* outside RAM: data accepted, then the error word */
	cmd(r, CMD_WRITE_FILE, 0x02000000, 0, sizeof(img), 0);
	data(r, img, sizeof(img));
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_ERR_TARGET);
	/* crossing the end of OCRAM */
	cmd(r, CMD_WRITE_FILE, 0x0093FF00, 0, sizeof(img), 0);
	data(r, img, sizeof(img));
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_ERR_TARGET);
	/* a zero-length file completes at once */
	cmd(r, CMD_WRITE_FILE, 0x00907000, 0, 0, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	/* DRAM before the DCD configured the MMDC: the ROM hangs */
	cmd(r, CMD_WRITE_FILE, 0x17800000, 0, sizeof(img), 0);
	data(r, img, sizeof(img));
	assert_int_equal(rom_state(r), ROM_HUNG);
	assert_string_equal(rom_state_to_string(ROM_HUNG), "hung");
	/* without the DRAM check the write succeeds */
	cmd(nochk, CMD_WRITE_FILE, 0x17800000, 0, sizeof(img), 0);
	data(nochk, img, sizeof(img));
	assert_int_equal(reply(nochk, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	/* injected fault: the completion word is corrupted */
	cmd(bad, CMD_WRITE_FILE, 0x00907000, 0, sizeof(img), 0);
	data(bad, img, sizeof(img));
	assert_int_equal(reply(bad, ROM_HAB_OPEN), 0x88888889);
	rom_free(r);
	rom_free(bad);
	rom_free(nochk);
}

static void test_bad_reports(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	uint8_t b[65], shortr[5] = { 1, 5, 5, 0, 0 }, id9[17] = { 9 }, stray[1025] = { 2 };
	size_t len;

	(void)state;
	assert_int_equal(rom_set_report(r, shortr, sizeof(shortr)), -EBADMSG);
	assert_int_equal(rom_set_report(r, id9, sizeof(id9)), -EBADMSG);
	assert_int_equal(rom_set_report(r, NULL, 0), -EBADMSG);
	assert_int_equal(rom_set_report(r, stray, 1), -EBADMSG);
	/* data without a command is dropped */
	assert_int_equal(rom_set_report(r, stray, sizeof(stray)), 0);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	/* a new command aborts an unfinished upload */
	cmd(r, CMD_WRITE_FILE, 0x00907000, 0, 4096, 0);
	data(r, stray + 1, 1024);
	cmd(r, CMD_STATUS, 0, 0, 0, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_STATUS_OK);
	/* unknown commands get no answer; SKIP_DCD is unknown to a 6Q ROM */
	cmd(r, 0x0707, 0, 0, 0, 0);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	cmd(r, CMD_SKIP, 0, 0, 0, 0);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	rom_free(r);
}

static void test_hostile(void **state)
{
	struct rom *r = mk("6ul", false, false, false, NULL);
	uint8_t b[1100], out[65];
	uint32_t seed = 1;
	size_t len;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n;

		tu_fill(b, sizeof(b), seed++);
		n = 1 + b[0] % 1100;
		b[0] = (uint8_t)(1 + b[1] % 2);
		(void)rom_set_report(r, b, n);
		for (int k = 0; k < 3 && rom_next_report(r, out, &len) == 0; k++)
			assert_true(len == 5 || len == 65);
		if (rom_state(r) == ROM_JUMPED || rom_state(r) == ROM_HUNG)
			rom_usb_reset(r);
	}
	/* a huge READ_REGISTER is answered lazily */
	rom_usb_reset(r);
	cmd(r, CMD_READ, 0x00900000, 0x20, 0xffffffff, 0);
	for (int k = 0; k < 100; k++)
		assert_int_equal(rom_next_report(r, out, &len), 0);
	rom_free(r);
}

#define IMG_SELF 0x00907400u
#define IMG_LEN 0x3000u

/* an i.MX image as uploaded from its IVT: OCRAM, entry at self + 0xC00 */
static void mk_image(uint8_t *img, uint32_t entry, uint32_t dcd, uint32_t csf, uint32_t plugin)
{
	memset(img, 0, IMG_LEN - 0x400);
	img[0] = 0xD1;
	img[1] = 0x00;
	img[2] = 0x20;
	img[3] = 0x40;
	util_put_le32(img + 4, entry);
	util_put_le32(img + 12, dcd);
	util_put_le32(img + 16, IMG_SELF + 0x20);
	util_put_le32(img + 20, IMG_SELF);
	util_put_le32(img + 24, csf);
	util_put_le32(img + 32, IMG_SELF - 0x400);
	util_put_le32(img + 36, IMG_LEN);
	util_put_le32(img + 40, plugin);
	tu_fill(img + 0xC00, 0x100, 3);
}

static int64_t jump(struct rom *r, const uint8_t *img, uint32_t to)
{
	cmd(r, CMD_WRITE_FILE, IMG_SELF, 0, IMG_LEN - 0x400, 0);
	data(r, img, IMG_LEN - 0x400);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	cmd(r, CMD_JUMP, to, 0, 0, 0);
	return reply(r, ROM_HAB_OPEN);
}

static void test_jump_ok(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	uint8_t img[IMG_LEN];

	(void)state;
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	assert_int_equal(jump(r, img, IMG_SELF), -1);
	assert_int_equal(rom_state(r), ROM_JUMPED);
	assert_int_equal(rom_jump(r)->ivt.entry, IMG_SELF + 0xC00);
	assert_int_equal(rom_jump(r)->boot.length, IMG_LEN);
	/* once jumped the ROM does not listen anymore */
	cmd(r, CMD_STATUS, 0, 0, 0, 0);
	uint8_t b[65];
	size_t len;

	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	/* power-on: RAM gone, a jump to the old address fails */
	rom_power_on(r);
	cmd(r, CMD_JUMP, IMG_SELF, 0, 0, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_ERR_IVT);
	rom_free(r);
}

static void test_jump_invalid(void **state)
{
	uint8_t img[IMG_LEN];
	struct rom *r;

	(void)state;
	/* not an IVT */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	img[0] = 0xD0;
	assert_int_equal(jump(r, img, IMG_SELF), ROM_ERR_IVT);
	rom_free(r);
	/* the jump address is not where the IVT says it is */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	util_put_le32(img + 20, IMG_SELF + 4);
	assert_int_equal(jump(r, img, IMG_SELF), ROM_ERR_IVT);
	rom_free(r);
	/* nothing loaded there */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	assert_int_equal(jump(r, img, 0x00910000), ROM_ERR_IVT);
	rom_free(r);
	/* boot data outside what was loaded */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	util_put_le32(img + 16, 0x00930000);
	assert_int_equal(jump(r, img, IMG_SELF), ROM_ERR_IVT);
	rom_free(r);
	/* entry outside the image */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + IMG_LEN + 0x1000, 0, 0, 0);
	assert_int_equal(jump(r, img, IMG_SELF), ROM_ERR_ENTRY);
	assert_int_equal(rom_state(r), ROM_IDLE);
	rom_free(r);
}

static void test_jump_dcd(void **state)
{
	uint8_t img[IMG_LEN];
	struct rom *r;

	(void)state;
	/* the DCD pointer left in place: re-running it fails (6Q has no SKIP_DCD) */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, IMG_SELF + 0x2C, 0, 0);
	assert_int_equal(jump(r, img, IMG_SELF), ROM_ERR_DCD);
	assert_int_equal(rom_last_status(r), ROM_ERR_DCD);
	rom_free(r);
	/* 6UL: SKIP_DCD_HEADER first, then the same image jumps */
	r = mk("6ul", false, false, true, NULL);
	cmd(r, CMD_SKIP, 0, 0, 0, 0);
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_SKIP_DCD_OK);
	mk_image(img, IMG_SELF + 0xC00, IMG_SELF + 0x2C, 0, 0);
	assert_int_equal(jump(r, img, IMG_SELF), -1);
	assert_int_equal(rom_state(r), ROM_JUMPED);
	rom_free(r);
}

static void test_jump_hab_plugin(void **state)
{
	struct rom *closed = mk("6q", true, false, true, NULL), *r;
	uint8_t img[IMG_LEN], b[65];
	size_t len;

	(void)state;
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	cmd(closed, CMD_WRITE_FILE, IMG_SELF, 0, IMG_LEN - 0x400, 0);
	data(closed, img, IMG_LEN - 0x400);
	assert_int_equal(reply(closed, ROM_HAB_CLOSED), ROM_WRITE_FILE_OK);
	cmd(closed, CMD_JUMP, IMG_SELF, 0, 0, 0);
	assert_int_equal(reply(closed, ROM_HAB_CLOSED), ROM_ERR_CSF);
	/* with a CSF pointer the (unverified) signature is accepted */
	mk_image(img, IMG_SELF + 0xC00, 0, IMG_SELF + 0x2000, 0);
	cmd(closed, CMD_WRITE_FILE, IMG_SELF, 0, IMG_LEN - 0x400, 0);
	data(closed, img, IMG_LEN - 0x400);
	assert_int_equal(reply(closed, ROM_HAB_CLOSED), ROM_WRITE_FILE_OK);
	cmd(closed, CMD_JUMP, IMG_SELF, 0, 0, 0);
	assert_int_equal(reply(closed, ROM_HAB_CLOSED), -1);
	assert_int_equal(rom_state(closed), ROM_JUMPED);
	rom_free(closed);
	/* a plugin returns to the serial downloader */
	r = mk("6q", false, false, true, NULL);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 1);
	assert_int_equal(jump(r, img, IMG_SELF), -1);
	assert_int_equal(rom_state(r), ROM_IDLE);
	assert_int_equal(rom_next_report(r, b, &len), -EAGAIN);
	rom_free(r);
}

static void test_dram_after_dcd(void **state)
{
	struct rom *r = mk("6q", false, false, true, NULL);
	uint8_t img[4096];
	struct dcdb d;

	(void)state;
	dcd_start(&d);
	dcd_dram(&d);
	dcd_end(&d);
	assert_int_equal(send_dcd(r, &d), ROM_WRITE_OK);
	tu_fill(img, sizeof(img), 9);
	cmd(r, CMD_WRITE_FILE, 0x17800000, 0, sizeof(img), 0);
	data(r, img, sizeof(img));
	assert_int_equal(reply(r, ROM_HAB_OPEN), ROM_WRITE_FILE_OK);
	assert_int_equal(rd32(r, 0x17800000 + 4092), util_le32(img + 4092));
	rom_free(r);
}

static void test_log_events(void **state)
{
	char *dir = tu_tmpdir(), path[512], *txt;
	struct log *log;
	struct rom *r;
	uint8_t img[IMG_LEN];

	(void)state;
	snprintf(path, sizeof(path), "%s/rom.jsonl", dir);
	assert_int_equal(log_open(path, "b0", &log), 0);
	r = mk("6q", false, false, true, log);
	mk_image(img, IMG_SELF + 0xC00, 0, 0, 0);
	assert_int_equal(jump(r, img, IMG_SELF), -1);
	rom_free(r);
	log_free(log);
	txt = tu_slurp(path, NULL);
	assert_non_null(strstr(txt, "\"ev\":\"sdp-first\""));
	assert_non_null(strstr(txt, "\"ev\":\"file\",\"addr\":\"0x00907400\",\"count\":11264,"
				    "\"stored\":11264"));
	assert_non_null(strstr(txt, "\"crc32\":\"0x"));
	assert_non_null(strstr(txt, "\"ev\":\"jump\""));
	assert_non_null(strstr(txt, "\"result\":\"ok\""));
	free(txt);
	tu_rmdir(dir);
}

static void test_mem(void **state)
{
	struct mem *m = mem_new(128 << 10);
	uint8_t b[8] = { 0 };

	(void)state;
	assert_int_equal(mem_write(m, 0xfffffffc, b, 8), -EFAULT);
	assert_int_equal(mem_read(m, 0xfffffffc, b, 8), -EFAULT);
	assert_int_equal(mem_write32(m, 0x1000, 0xabcd), 0);
	assert_int_equal(mem_read32(m, 0x1000), 0xabcd);
	assert_int_equal(mem_write32(m, 0x20000, 1), 0);
	assert_int_equal(mem_used(m), 128 << 10);
	/* the cap: a third page is refused and nothing changes */
	assert_int_equal(mem_write32(m, 0x40000, 1), -ENOMEM);
	assert_int_equal(mem_read32(m, 0x40000), 0);
	mem_clear(m);
	assert_int_equal(mem_used(m), 0);
	assert_int_equal(mem_read32(m, 0x1000), 0);
	mem_free(m);
	assert_null(soc_find("6xx"));
	assert_null(soc_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_idle),
		cmocka_unit_test(test_read_uid),
		cmocka_unit_test(test_write_register),
		cmocka_unit_test(test_dcd_execute),
		cmocka_unit_test(test_dcd_malformed),
		cmocka_unit_test(test_dcd_status_strings),
		cmocka_unit_test(test_write_file_ocram),
		cmocka_unit_test(test_write_file_errors),
		cmocka_unit_test(test_bad_reports),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_jump_ok),
		cmocka_unit_test(test_jump_invalid),
		cmocka_unit_test(test_jump_dcd),
		cmocka_unit_test(test_jump_hab_plugin),
		cmocka_unit_test(test_dram_after_dcd),
		cmocka_unit_test(test_log_events),
		cmocka_unit_test(test_mem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
