/* test-sdp_session-spl: the SDP session's HID setup (report descriptor,
 * SET_IDLE), its retries of timed-out transfers, and SPL sessions against a
 * scripted U-Boot SPL f_sdp (sdp_rom in spl mode: silent until the report
 * descriptor was fetched, WRITE_FILE to 0 = its load address, report 3
 * then the jump). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sdp_session_fixture.h"

#define SPL_IMG_SIZE (3u << 20)      /* above the ROM's 2 MiB per command */
#define SPL_OFFSET 0x11000u

static bool has_info(const struct fixture *f, const char *needle)
{
	for (unsigned i = 0; i < f->rec.ninfo; i++)
		if (strstr(f->rec.info[i], needle))
			return true;
	return false;
}

/* A raw (non-i.MX) image, like u-boot.img / flash.bin for the SPL. */
static void raw_image(struct fixture *f)
{
	f->raw_data = malloc(SPL_IMG_SIZE);
	assert_non_null(f->raw_data);
	for (size_t i = 0; i < SPL_IMG_SIZE; i++)
		f->raw_data[i] = (uint8_t)(i * 7 + (i >> 12));
	fake_plan_image(&f->raw, "flash.bin", f->raw_data, SPL_IMG_SIZE);
	assert_false(f->raw.is_imx);
}

static struct plan_step *spl_add(struct fixture *f, enum plan_proto proto, enum plan_op op,
				 const char *text, uint32_t addr)
{
	struct plan_step *st = fake_plan_add(f->plan, proto, op, text, NULL);

	st->runs_on_imx6 = true;   /* the plan parser's contract for SDPU/SDPV lines */
	st->addr = addr;
	if (op == PLAN_OP_WRITE) {
		st->image = &f->raw;
		st->image_offset = SPL_OFFSET;
		st->image_len = SPL_IMG_SIZE - SPL_OFFSET;
	}
	return st;
}

/* uuu's built-in scripts: SDPU lines, then SDPV lines, then FB */
static void spl_plan(struct fixture *f)
{
	raw_image(f);
	spl_add(f, PLAN_PROTO_SDPU, PLAN_OP_WRITE, "SDPU: write -f flash.bin -offset 0x11000", 0);
	spl_add(f, PLAN_PROTO_SDPU, PLAN_OP_JUMP, "SDPU: jump", 0);
	spl_add(f, PLAN_PROTO_SDPV, PLAN_OP_DELAY, "SDPV: delay 10", 0)->delay_ms = 10;
	spl_add(f, PLAN_PROTO_SDPV, PLAN_OP_WRITE, "SDPV: write -f flash.bin -skipspl",
		0x17900000u);
	spl_add(f, PLAN_PROTO_SDPV, PLAN_OP_JUMP, "SDPV: jump", 0x17900000u);
	fake_plan_add(f->plan, PLAN_PROTO_FB, PLAN_OP_GETVAR, "FB: getvar version", "getvar:version");
	f->rom.spl = true;
}

static void run_spl(struct fixture *f, enum plan_proto flavour, size_t first)
{
	assert_int_equal(sdp_session_start_spl(f->rom.dev, flavour, f->plan, first, &f->o, &f->ev,
					       &f->rec.sdp), 0);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
}

/* ---- HID setup ---- */

static void test_hid_setup_first(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.jump_mode = JUMP_UNPLUG;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.desc_fetches, 1);
	assert_int_equal(f->rom.idles, 1);
	assert_true(f->rom.desc_before_cmd);
	assert_int_equal(fake_usb_stats(f->rom.dev)->ctl_in, 1);
	assert_false(has_info(f, "going on"));
}

/* usbhid had the interface: it fetched the descriptor and set idle when it
 * bound, so the session sends neither and starts at once */
static void test_hid_setup_after_usbhid(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.jump_mode = JUMP_UNPLUG;
	fake_usb_set_claim_result(f->rom.dev, 1);
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.desc_fetches, 0);
	assert_int_equal(f->rom.idles, 0);
	assert_int_equal(fake_usb_stats(f->rom.dev)->ctl_in, 0);
	assert_true(fake_usb_stats(f->rom.dev)->claim_detach);
}

/* a device that stalls the descriptor request: said, and the ROM goes on */
static void test_hid_setup_stall_goes_on(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.stall_ctl_in = true;
	f->rom.jump_mode = JUMP_UNPLUG;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(has_info(f, "HID report descriptor: Broken pipe (going on)"));
	assert_int_equal(f->rom.idles, 1);
	assert_int_equal(count_cmds(&f->rom, SDP_JUMP_ADDRESS), 1);
}

static void test_hid_setup_unplugged(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	start(f);
	fake_usb_unplug(f->rom.dev);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
	assert_int_equal(f->rec.status, -ENODEV);
	assert_non_null(strstr(f->rec.reason, "SDP: HID report descriptor"));
	assert_int_equal(f->rom.nlog, 0);
}

/* ---- retries ---- */

static void test_retry_command_and_read(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.jump_mode = JUMP_UNPLUG;
	f->rom.hold_cmds = 2;    /* the DCD_WRITE command is lost twice */
	f->rom.hold_reads = 1;   /* and its report 3 read times out once */
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(has_info(f, "dcd: command timed out, trying again (1 of 2)"));
	assert_true(has_info(f, "dcd: command timed out, trying again (2 of 2)"));
	assert_true(has_info(f, "dcd: read timed out, trying again (1 of 2)"));
	assert_int_equal(count_cmds(&f->rom, SDP_DCD_WRITE), 1);
	assert_uploaded(f, true);
}

static void test_retry_bounded(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.hold_cmds = 3;
	run(f);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "sending report 1"));
	assert_int_equal(f->rom.nlog, 0);
}

/* one data report at a time (sdp-reports = 1): a lost one is sent again */
static void test_retry_lone_data_report(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->o.sdp_reports = 1;
	f->rom.jump_mode = JUMP_UNPLUG;
	f->rom.hold_data = 1;
	f->rom.hold_data_skip = 5;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(has_info(f, "data report timed out, trying again (1 of 2)"));
	assert_uploaded(f, true);
}

/* with reports queued behind the lost one the ROM got them already: fail */
static void test_no_retry_with_reports_behind(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->o.sdp_reports = 4;
	f->rom.hold_data = 1;
	f->rom.hold_data_skip = 5;   /* the DCD's report, then into the write */
	run(f);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "data report"));
	assert_false(has_info(f, "data report timed out"));
}

/* a report 4 of just the ID and the word is an answer (uuu accepts it) */
static void test_short_report4(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	f->rom.status_len = 5;
	f->rom.jump_mode = JUMP_UNPLUG;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_uploaded(f, true);
}

/* ---- SPL ---- */

static void test_spl_sdpu_skips_sdpv(void **state)
{
	struct fixture *f = *state;

	spl_plan(f);
	f->rom.jump_mode = JUMP_UNPLUG;
	run_spl(f, PLAN_PROTO_SDPU, 0);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rom.desc_before_cmd);
	/* one command for 3 MiB, to address 0 (the SPL's load address), then jump 0 */
	assert_int_equal(f->rom.nlog, 2);
	assert_int_equal(f->rom.log[0].type, SDP_WRITE_FILE);
	assert_int_equal(f->rom.log[0].addr, 0);
	assert_int_equal(f->rom.log[0].count, SPL_IMG_SIZE - SPL_OFFSET);
	assert_int_equal(f->rom.log[1].type, SDP_JUMP_ADDRESS);
	assert_int_equal(f->rom.log[1].addr, 0);
	assert_memory_equal(rom_ram(&f->rom, SPL_LOADADDR, SPL_IMG_SIZE - SPL_OFFSET),
			    f->raw_data + SPL_OFFSET, SPL_IMG_SIZE - SPL_OFFSET);
	/* the SDPU lines ran, the SDPV ones were passed over, FB is next */
	assert_int_equal(f->rec.nsteps, 2);
	assert_int_equal(f->rec.steps[0], 0);
	assert_int_equal(f->rec.steps[1], 1);
	assert_int_equal(f->rec.next_at_done, 5);
	assert_int_equal(f->rec.bytes, SPL_IMG_SIZE - SPL_OFFSET);
	/* no UID reads, no HAB line: f_sdp's HAB word says nothing */
	assert_int_equal(count_cmds(&f->rom, SDP_READ_REGISTER), 0);
	assert_false(has_info(f, "HAB"));
}

static void test_spl_sdpv_skips_sdpu(void **state)
{
	struct fixture *f = *state;

	spl_plan(f);
	run_spl(f, PLAN_PROTO_SDPV, 0);   /* JUMP_HOLD: the report-4 read times out */
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.nsteps, 3);
	assert_int_equal(f->rec.steps[0], 2);
	assert_int_equal(f->rec.steps[1], 3);
	assert_int_equal(f->rec.steps[2], 4);
	assert_int_equal(f->rom.nlog, 2);
	assert_int_equal(f->rom.log[0].addr, 0x17900000u);
	assert_int_equal(f->rom.log[1].addr, 0x17900000u);
	assert_int_equal(f->rec.next_at_done, 5);
}

/* with an interrupt OUT endpoint (f_sdp has one) every report goes there,
 * none on EP0 (uuu's HIDTrans does the same); the SPL gets the same bytes */
static void test_spl_reports_on_interrupt_out(void **state)
{
	struct fixture *f = *state;
	const struct fake_stats *st;

	spl_plan(f);
	fake_usb_set_interrupt_out(f->rom.dev, 0x02);
	run_spl(f, PLAN_PROTO_SDPV, 0);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.nlog, 2);
	assert_int_equal(f->rom.log[0].addr, 0x17900000u);
	st = fake_usb_stats(f->rom.dev);
	/* WRITE_FILE, its data reports, JUMP_ADDRESS: all on the OUT endpoint;
	 * EP0 saw only SET_IDLE (and the descriptor read) */
	assert_int_equal(st->int_out, 2 + (SPL_IMG_SIZE - SPL_OFFSET + 1023) / 1024);
	assert_true(has_info(f, "reports on interrupt OUT 0x02"));
	assert_int_equal(st->in_beside_ctl, 0);
}

/* without the descriptor fetch f_sdp never answers: the step times out */
static void test_spl_needs_descriptor(void **state)
{
	struct fixture *f = *state;

	spl_plan(f);
	f->rom.stall_ctl_in = true;
	run_spl(f, PLAN_PROTO_SDPU, 0);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "SDPU: write"));
	assert_non_null(strstr(f->rec.reason, "waiting for report 3"));
	assert_true(has_info(f, "write: read timed out, trying again (2 of 2)"));
}

/* U-Boot proper's f_sdp answers a jump to data without an IVT with
 * report 4 = 0x000A0533 (it ran the data as a script and stays in SDP) */
static void test_spl_jump_error_word(void **state)
{
	struct fixture *f = *state;

	spl_plan(f);
	f->rom.jump_error = true;
	run_spl(f, PLAN_PROTO_SDPU, 0);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_non_null(strstr(f->rec.reason, "SDPU: jump"));
	assert_non_null(strstr(f->rec.reason, "0x000a0533"));
}

static void test_spl_unplug(void **state)
{
	struct fixture *f = *state;

	spl_plan(f);
	f->rom.unplug_after = 100;   /* in the middle of the write's data */
	run_spl(f, PLAN_PROTO_SDPU, 0);
	assert_int_equal(f->rec.status, -ENODEV);
	assert_non_null(strstr(f->rec.reason, "SDPU: write"));
}

/* ROM-only lines never reach the SPL */
static void test_spl_refuses_rom_lines(void **state)
{
	struct fixture *f = *state;

	raw_image(f);
	f->rom.spl = true;
	spl_add(f, PLAN_PROTO_SDPV, PLAN_OP_DCD, "SDPV: dcd -f u-boot.imx", 0)->image = &f->img;
	run_spl(f, PLAN_PROTO_SDPV, 0);
	assert_int_equal(f->rec.status, -EINVAL);
	assert_non_null(strstr(f->rec.reason, "not an SPL SDP command (dcd)"));
	assert_int_equal(f->rom.nlog, 0);
}

static void test_spl_bad_args(void **state)
{
	struct fixture *f = *state;
	struct sdp_session *s = NULL;

	spl_plan(f);
	assert_int_equal(sdp_session_start_spl(f->rom.dev, PLAN_PROTO_SDP, f->plan, 0, &f->o,
					       &f->ev, &s), -EINVAL);
	assert_int_equal(sdp_session_start_spl(f->rom.dev, PLAN_PROTO_FB, f->plan, 0, &f->o,
					       &f->ev, &s), -EINVAL);
	assert_null(s);
	/* a write range past the image's end */
	f->plan->steps[0].image_len = SPL_IMG_SIZE;
	run_spl(f, PLAN_PROTO_SDPU, 0);
	assert_int_equal(f->rec.status, -EINVAL);
	assert_non_null(strstr(f->rec.reason, "bad write range"));
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
const struct CMUnitTest sdp_spl_tests[] = {
	T(test_hid_setup_first),
	T(test_hid_setup_after_usbhid),
	T(test_hid_setup_stall_goes_on),
	T(test_hid_setup_unplugged),
	T(test_retry_command_and_read),
	T(test_retry_bounded),
	T(test_retry_lone_data_report),
	T(test_no_retry_with_reports_behind),
	T(test_short_report4),
	T(test_spl_sdpu_skips_sdpv),
	T(test_spl_sdpv_skips_sdpu),
	T(test_spl_reports_on_interrupt_out),
	T(test_spl_needs_descriptor),
	T(test_spl_jump_error_word),
	T(test_spl_unplug),
	T(test_spl_refuses_rom_lines),
	T(test_spl_bad_args),
};
#undef T
const size_t sdp_spl_ntests = sizeof(sdp_spl_tests) / sizeof(sdp_spl_tests[0]);
