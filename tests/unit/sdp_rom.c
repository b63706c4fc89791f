/* sdp_rom: see sdp_rom.h. */
#include "sdp_rom.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#include <cmocka.h>

#include "../data/imx/imx-builder.h"
#include "flashd/sdp.h"



static uint32_t rdbe32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t rom_rdle32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void rom_queue(struct rom *r, uint8_t id, uint32_t word, size_t len)
{
	assert_true(r->rtail - r->rhead < 8);
	uint8_t *p = r->reports[r->rtail % 8];
	memset(p, 0, 65);
	p[0] = id;
	imxb_put_le32(p + 1, word);
	r->rlen[r->rtail++ % 8] = len;
}

static void rom_hab(struct rom *r)
{
	if (r->bad_report3)
		rom_queue(r, 4, SDP_HAB_OPEN, 65);
	else
		rom_queue(r, 3, r->hab_closed ? SDP_HAB_CLOSED : SDP_HAB_OPEN, 5);
}

uint8_t *rom_ram(struct rom *r, uint32_t addr, uint32_t len)
{
	assert_true(addr >= DRAM_BASE && addr - DRAM_BASE + (uint64_t)len <= DRAM_SIZE);
	return r->dram + (addr - DRAM_BASE);
}

/* JUMP_ADDRESS: the IVT must be there, and its DCD must not run again. */
static bool rom_jump_ok(struct rom *r, uint32_t addr)
{
	const uint8_t *ivt = rom_ram(r, addr, 32);

	if (ivt[0] != 0xD1 || rom_rdle32(ivt + 20) != addr)
		return false;
	return rom_rdle32(ivt + 12) == 0 || r->skip_dcd_seen;
}

static void rom_status(struct rom *r, uint16_t type, uint32_t word)
{
	rom_hab(r);
	rom_queue(r, 4, type == r->bad_status_for ? 0x33220A00u : word,
		  r->status_len ? r->status_len : 65);
}

static void rom_command(struct rom *r, const uint8_t *c)
{
	uint16_t type = (uint16_t)(c[0] << 8 | c[1]);
	uint32_t addr = rdbe32(c + 2), count = rdbe32(c + 7);

	assert_true(r->nlog < 64);
	r->log[r->nlog++] = (struct cmdlog){ type, addr, count, c[6] };
	if (r->nlog == 1)
		r->desc_before_cmd = r->desc_fetches > 0;
	if (r->spl) {
		/* protocols.md 2.9: never DCD_WRITE, SKIP_DCD or WRITE_REGISTER to the SPL */
		assert_true(type == SDP_WRITE_FILE || type == SDP_JUMP_ADDRESS);
		if (!addr)
			addr = SPL_LOADADDR;
	}
	switch (type) {
	case SDP_WRITE_FILE:
	case SDP_DCD_WRITE:
		r->rx = true;
		r->rx_type = type;
		r->rx_addr = addr;
		r->rx_left = count;
		if (type == SDP_DCD_WRITE) {
			assert_true(count <= sizeof(r->dcd));
			r->dcd_addr = addr;
			r->dcd_len = count;
		}
		break;
	case SDP_READ_REGISTER:
		rom_status(r, type, addr == SDP_OCOTP_CFG0 ? 0x11223344u : 0x55667788u);
		break;
	case SDP_ERROR_STATUS:
		rom_status(r, type, r->status_word);
		break;
	case SDP_SKIP_DCD_HEADER:
		r->skip_dcd_seen = true;
		rom_status(r, type, SDP_SKIP_DCD_OK);
		break;
	case SDP_JUMP_ADDRESS:
		if (!r->jump_error && (r->spl || rom_jump_ok(r, addr))) {
			r->jumped = true;
			r->jump_addr = addr;
			if (!r->jump_no_hab)
				rom_hab(r);
			else if (r->jump_gone_at_submit)
				fake_usb_fail_submit(r->dev, 0, -ENODEV);
		} else {
			rom_hab(r);
			rom_queue(r, 4, 0x000A0533u, 65);
		}
		break;
	default:
		break; /* unknown commands get no answer */
	}
}

static void rom_data(struct rom *r, const uint8_t *d)
{
	uint32_t n = r->rx_left < 1024 ? r->rx_left : 1024;

	if (r->rx_type == SDP_DCD_WRITE)
		memcpy(r->dcd + (r->dcd_len - r->rx_left), d, n);
	else
		memcpy(rom_ram(r, r->rx_addr, n), d, n);
	r->rx_addr += n;
	r->rx_left -= n;
	if (!r->rx_left) {
		r->rx = false;
		rom_status(r, r->rx_type,
			   r->rx_type == SDP_WRITE_FILE ? SDP_WRITE_FILE_OK : SDP_WRITE_OK);
	}
}

static int rom_out(void *ud, const struct fake_setup *setup, uint8_t ep, const uint8_t *data,
		   size_t len, size_t *actual)
{
	struct rom *r = ud;

	(void)ep;
	assert_non_null(setup);
	assert_int_equal(setup->bm, 0x21);
	if (setup->req == 0x0A) { /* SET_IDLE */
		assert_int_equal(len, 0);
		r->idles++;
		*actual = 0;
		return 0;
	}
	assert_int_equal(setup->req, 0x09);
	assert_int_equal(setup->idx, 0);
	assert_int_equal(setup->val, 0x0200 | data[0]);
	assert_false(r->jumped);
	*actual = len;
	if (data[0] == 1 && r->hold_cmds) {
		r->hold_cmds--;
		return -ETIMEDOUT;  /* lost: timed out, the ROM never saw it */
	}
	if (data[0] == 2 && r->hold_data && r->hold_data_skip)
		r->hold_data_skip--;
	else if (data[0] == 2 && r->hold_data) {
		r->hold_data--;
		return -ETIMEDOUT;
	}
	r->outs++;
	if (r->unplug_after && r->outs >= r->unplug_after) {
		fake_usb_unplug(r->dev);
		return -ENODEV;
	}
	if (data[0] == 1) {
		assert_int_equal(len, SDP_REPORT1_LEN);
		assert_false(r->rx);
		rom_command(r, data + 1);
	} else {
		assert_int_equal(data[0], 2);
		assert_int_equal(len, SDP_REPORT2_LEN); /* always full reports */
		assert_true(r->rx);
		rom_data(r, data + 1);
	}
	fake_usb_kick(r->dev);
	return 0;
}

static int rom_in(void *ud, uint8_t ep, uint8_t *buf, size_t len, size_t *actual)
{
	struct rom *r = ud;

	assert_int_equal(ep, 0x81);
	assert_true(len >= 65);
	if (r->hold_after && r->outs >= r->hold_after)
		return FAKE_HOLD;
	if (r->spl && !r->desc_fetches)
		return FAKE_HOLD;   /* f_sdp's sdp_init() waits for configuration_done */
	if (r->hold_reads && r->rhead != r->rtail) {
		r->hold_reads--;
		return -ETIMEDOUT;  /* this read timed out; the report stays queued */
	}
	if (r->rhead == r->rtail) {
		if (!r->jumped || r->jump_mode == JUMP_HOLD)
			return FAKE_HOLD;
		if (r->jump_mode == JUMP_UNPLUG) {
			fake_usb_unplug(r->dev);
			return -ENODEV;
		}
		return -EPIPE;
	}
	size_t n = r->rlen[r->rhead % 8];
	memcpy(buf, r->reports[r->rhead++ % 8], n);
	*actual = n;
	if (r->jumped && r->jump_gone_at_submit && r->rhead == r->rtail)
		fake_usb_fail_submit(r->dev, 0, -ENODEV); /* report 3 was its last word */
	return 0;
}

/* GET_DESCRIPTOR(HID report) to interface 0: the 76-byte descriptor */
static int rom_ctl_in(void *ud, const struct fake_setup *setup, uint8_t *buf, size_t len,
		      size_t *actual)
{
	struct rom *r = ud;
	size_t n = len < 76 ? len : 76;

	assert_int_equal(setup->bm, 0x81);
	assert_int_equal(setup->req, 0x06);
	assert_int_equal(setup->val, 0x2200);
	assert_int_equal(setup->idx, 0);
	if (r->stall_ctl_in)
		return -EPIPE;
	memset(buf, 0, n);
	buf[0] = 0x06;
	r->desc_fetches++;
	fake_usb_kick(r->dev);
	*actual = n;
	return 0;
}

const struct fake_dev_ops rom_ops = { rom_out, rom_in, rom_ctl_in };
