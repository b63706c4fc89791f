/* test-sdp_session: the SDP session against a scripted i.MX6 boot ROM
 * (fake_usb + a small HID/SDP device model with DRAM and a DCD store). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "../data/imx/imx-builder.h"
#include "daemon/session.h"
#include "fake_plan.h"
#include "fake_usb.h"
#include "sdp_rom.h"
#include "flashd/sdp.h"

#define SELF 0x17800400u

/* ---- harness ---- */

struct rec {
	struct sdp_session *s;
	int ndone;
	int status;
	char reason[512];
	size_t steps[16];
	unsigned nsteps;
	uint64_t bytes, total;
	unsigned nprogress;
	char info[8][128];
	unsigned ninfo;
	unsigned free_at_progress;
	size_t next_at_done;
};

static void ev_step(void *ud, size_t i, const char *text)
{
	struct rec *r = ud;

	assert_non_null(text);
	assert_true(r->nsteps < 16);
	r->steps[r->nsteps++] = i;
}

static void ev_progress(void *ud, uint64_t bytes, uint64_t total)
{
	struct rec *r = ud;

	assert_true(bytes <= total);
	assert_true(bytes > r->bytes || total != r->total);
	r->bytes = bytes;
	r->total = total;
	if (++r->nprogress == r->free_at_progress)
		r->s = sdp_session_free(r->s);
}

static void ev_info(void *ud, const char *text)
{
	struct rec *r = ud;

	if (r->ninfo < 8)
		snprintf(r->info[r->ninfo++], 128, "%s", text);
}

static void ev_done(void *ud, int status, const char *reason)
{
	struct rec *r = ud;

	r->ndone++;
	r->status = status;
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	r->next_at_done = sdp_session_next_step(r->s);
}

struct fixture {
	struct event_base *base;
	struct rom rom;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	struct rec rec;
	struct sdp_soc soc;
	uint8_t *img_data;
	struct plan_image img;
	uint8_t *raw_data;
	struct plan_image raw;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct imxb_opts io = { .ivt_offset = 0x400, .self = SELF, .payload = 300000, .dcd = true };

	assert_non_null(f);
	f->base = event_base_new();
	f->rom.dev = fake_usb_new(f->base, &rom_ops, &f->rom);
	f->rom.dram = calloc(1, DRAM_SIZE);
	f->rom.status_word = SDP_STATUS_IDLE;
	f->plan = fake_plan_new();
	f->o = (struct session_opts){ .sdp_timeout_ms = 300, .base = f->base };
	f->ev = (struct session_events){ &f->rec, ev_step, ev_progress, ev_info, ev_done };
	f->soc = (struct sdp_soc){ "MX6Q", 0x15a2, 0x0054, false, SDP_DCD_ADDR_MX6 };
	f->img_data = malloc(imxb_size(&io));
	assert_non_null(f->img_data);
	imxb_build(f->img_data, &io);
	fake_plan_image(&f->img, "u-boot.imx", f->img_data, imxb_size(&io));
	assert_true(f->img.is_imx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sdp_session_free(f->rec.s);
	event_base_loop(f->base, 0);
	fake_usb_free(f->rom.dev);
	plan_unref(f->plan);
	assert_int_equal(fake_plan_live, 0);
	event_base_free(f->base);
	free(f->rom.dram);
	free(f->img_data);
	free(f->raw_data);
	free(f);
	return 0;
}

static struct plan_step *add(struct fixture *f, enum plan_op op, const char *text)
{
	struct plan_step *st = fake_plan_add(f->plan, PLAN_PROTO_SDP, op, text, NULL);

	if (op != PLAN_OP_STATUS && op != PLAN_OP_DELAY && op != PLAN_OP_DONE)
		st->image = &f->img;
	return st;
}

static void run(struct fixture *f)
{
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &f->o, &f->ev,
					   &f->rec.s), 0);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
}

static unsigned count_cmds(const struct rom *r, uint16_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nlog; i++)
		n += r->log[i].type == type;
	return n;
}

/* DRAM holds the image's bytes [0, upload_size) at its load address; the
 * IVT's DCD pointer cleared iff cleared. */
static void assert_uploaded(struct fixture *f, bool cleared)
{
	const struct imx_image *m = &f->img.imx;
	uint8_t *ram = rom_ram(&f->rom, m->load_addr, (uint32_t)m->upload_size);
	size_t dcdp = m->ivt_offset + 12;

	assert_memory_equal(ram, f->img_data, dcdp);
	assert_int_equal(rom_rdle32(ram + dcdp), cleared ? 0 : m->dcd_addr);
	assert_memory_equal(ram + dcdp + 4, f->img_data + dcdp + 4, m->upload_size - dcdp - 4);
}

/* ---- normal flows ---- */

static void test_boot_mx6q(void **state)
{
	struct fixture *f = *state;
	const struct imx_image *m = &f->img.imx;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	fake_plan_add(f->plan, PLAN_PROTO_SDPU, PLAN_OP_DELAY, "SDPU: delay 1000", NULL)
		->runs_on_imx6 = false;
	fake_plan_add(f->plan, PLAN_PROTO_FB, PLAN_OP_UCMD, "FB: ucmd x", "UCmd:x");
	run(f);

	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.next_at_done, 2);
	assert_int_equal(f->rec.nsteps, 1);
	assert_true(f->rom.jumped);
	assert_int_equal(f->rom.jump_addr, m->self);
	assert_false(f->rom.skip_dcd_seen);
	assert_int_equal(f->rom.log[0].type, SDP_DCD_WRITE);
	assert_int_equal(f->rom.dcd_addr, SDP_DCD_ADDR_MX6);
	assert_int_equal(f->rom.dcd_len, m->dcd_size);
	assert_memory_equal(f->rom.dcd, f->img_data + m->dcd_offset, m->dcd_size);
	assert_uploaded(f, true);
	assert_int_equal(f->rec.bytes, m->upload_size);
	assert_int_equal(f->rec.total, m->upload_size);
	assert_string_equal(f->rec.info[0], "HAB open");
	assert_int_equal(fake_usb_stats(f->rom.dev)->claimed_iface, 0);
	assert_true(fake_usb_stats(f->rom.dev)->claim_detach);
	assert_false(sdp_session_uid(f->rec.s, NULL));
}

static void test_boot_mx6ul_skip_dcd(void **state)
{
	struct fixture *f = *state;

	f->soc.skip_dcd = true;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rom.skip_dcd_seen);
	assert_uploaded(f, false);
	assert_int_equal(f->rec.next_at_done, 1);
}

static void test_boot_cleardcd_dcdaddr(void **state)
{
	struct fixture *f = *state;

	f->soc.skip_dcd = true;
	struct plan_step *st = add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx -cleardcd");
	st->cleardcd = true;
	st->dcd_addr = 0x00911000u;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_false(f->rom.skip_dcd_seen);
	assert_int_equal(f->rom.dcd_addr, 0x00911000u);
	assert_uploaded(f, true);
}

static void test_boot_uid(void **state)
{
	struct fixture *f = *state;
	uint64_t uid = 0;

	f->o.read_uid = true;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.log[0].type, SDP_READ_REGISTER);
	assert_int_equal(f->rom.log[0].addr, SDP_OCOTP_CFG0);
	assert_int_equal(f->rom.log[1].addr, SDP_OCOTP_CFG1);
	assert_true(sdp_session_uid(f->rec.s, &uid));
	assert_int_equal(uid, 0x5566778811223344ull);
}

static void test_boot_nojump_then_status(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx -nojump")->nojump = true;
	add(f, PLAN_OP_STATUS, "SDP: status");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_false(f->rom.jumped);
	assert_int_equal(count_cmds(&f->rom, SDP_JUMP_ADDRESS), 0);
	assert_int_equal(f->rom.log[f->rom.nlog - 1].type, SDP_ERROR_STATUS);
	assert_non_null(strstr(f->rec.info[1], "status 0xf0f0f0f0"));
	assert_int_equal(f->rec.nsteps, 2);
}

static void test_jump_unplug_and_pipe(void **state)
{
	struct fixture *f = *state;

	f->rom.jump_mode = JUMP_UNPLUG;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rom.jumped);
}

static void test_jump_pipe(void **state)
{
	struct fixture *f = *state;

	f->rom.jump_mode = JUMP_PIPE;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
}

/* e2e bugs #2 and #4: after a good JUMP_ADDRESS the ROM leaves the bus at
 * any moment — before its report 3, after it, and so fast that the next
 * read cannot even be submitted. All of it is a board that jumped, for the
 * boot step (the core's upload machine) and for a jump step alike. */
static void test_jump_board_leaves(void **state)
{
	static const struct {
		bool no_hab, gone_at_submit;
		enum jump_mode mode;
	} cases[] = {
		{ false, true, JUMP_HOLD },  /* report 3, then the report-4 submit fails */
		{ true, true, JUMP_HOLD },   /* the report-3 submit fails */
		{ true, false, JUMP_UNPLUG },/* the report-3 read ends with -ENODEV */
		{ true, false, JUMP_PIPE },
		{ true, false, JUMP_HOLD },  /* the report-3 read times out */
	};

	for (size_t i = 0; i < 2 * sizeof(cases) / sizeof(cases[0]); i++) {
		bool boot = i % 2;
		struct fixture *f;

		if (i)
			assert_int_equal(setup(state), 0);
		f = *state;
		f->o.sdp_timeout_ms = 40;
		f->rom.jump_no_hab = cases[i / 2].no_hab;
		f->rom.jump_gone_at_submit = cases[i / 2].gone_at_submit;
		f->rom.jump_mode = cases[i / 2].mode;
		if (boot) {
			add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
		} else {
			add(f, PLAN_OP_WRITE, "SDP: write -f u-boot.imx");
			add(f, PLAN_OP_JUMP, "SDP: jump -f u-boot.imx");
		}
		fake_plan_add(f->plan, PLAN_PROTO_FB, PLAN_OP_UCMD, "FB: ucmd x", "UCmd:x");
		run(f);
		print_message("case %zu: %d %s\n", i, f->rec.status, f->rec.reason);
		assert_int_equal(f->rec.status, 0);
		assert_true(f->rom.jumped);
		assert_int_equal(f->rec.next_at_done, boot ? 1 : 2);
		assert_int_equal(fake_usb_stats(f->rom.dev)->live, 0);
		if (i + 1 < 2 * sizeof(cases) / sizeof(cases[0]))
			assert_int_equal(teardown(state), 0);
	}
}

static void test_separate_steps_mx6q(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_DCD, "SDP: dcd -f u-boot.imx");
	add(f, PLAN_OP_WRITE, "SDP: write -f u-boot.imx -ivt 0")->use_ivt = true;
	add(f, PLAN_OP_JUMP, "SDP: jump -f u-boot.imx -ivt 0")->use_ivt = true;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.log[0].type, SDP_DCD_WRITE);
	assert_memory_equal(f->rom.dcd, f->img_data + f->img.imx.dcd_offset, f->img.imx.dcd_size);
	/* write stored the file as is; jump rewrote the IVT block with dcd = 0 */
	assert_int_equal(f->rom.log[f->rom.nlog - 2].type, SDP_WRITE_FILE);
	assert_int_equal(f->rom.log[f->rom.nlog - 2].count, 1024);
	assert_uploaded(f, true);
	assert_true(f->rom.jumped);
	assert_int_equal(f->rec.nsteps, 3);
}

static void test_separate_jump_mx6ul(void **state)
{
	struct fixture *f = *state;

	f->soc.skip_dcd = true;
	f->o.read_uid = true;
	add(f, PLAN_OP_WRITE, "SDP: write -f u-boot.imx");
	add(f, PLAN_OP_JUMP, "SDP: jump -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rom.skip_dcd_seen);
	assert_uploaded(f, false);
	assert_true(sdp_session_uid(f->rec.s, NULL));
	assert_int_equal(count_cmds(&f->rom, SDP_READ_REGISTER), 2); /* once per session */
}

static void test_write_addr_chunks(void **state)
{
	struct fixture *f = *state;
	size_t n = (5u << 20) / 2 + 100;

	f->raw_data = malloc(n);
	for (size_t i = 0; i < n; i++)
		f->raw_data[i] = (uint8_t)(i * 31 + (i >> 12));
	fake_plan_image(&f->raw, "blob.bin", f->raw_data, n);
	struct plan_step *st = fake_plan_add(f->plan, PLAN_PROTO_SDP, PLAN_OP_WRITE,
					     "SDP: write -f blob.bin -addr 0x17000000 -offset 100", NULL);
	st->image = &f->raw;
	st->has_addr = true;
	st->addr = DRAM_BASE;
	st->image_offset = 100;
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(count_cmds(&f->rom, SDP_WRITE_FILE), 2);
	assert_int_equal(f->rom.log[0].count, SDP_MAX_WRITE_CHUNK);
	assert_int_equal(f->rom.log[1].addr, DRAM_BASE + SDP_MAX_WRITE_CHUNK);
	assert_int_equal(f->rom.log[1].count, n - 100 - SDP_MAX_WRITE_CHUNK);
	assert_memory_equal(f->rom.dram, f->raw_data + 100, n - 100);
	assert_int_equal(f->rec.nprogress, 2);
	assert_int_equal(f->rec.bytes, n - 100);
	assert_int_equal(f->rec.total, n - 100);
}

static void test_delay_and_done(void **state)
{
	struct fixture *f = *state;
	struct timeval t0, t1;

	add(f, PLAN_OP_DELAY, "SDP: delay 40")->delay_ms = 40;
	add(f, PLAN_OP_DONE, "SDP: done");
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	gettimeofday(&t0, NULL);
	run(f);
	gettimeofday(&t1, NULL);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rec.next_at_done, 3); /* done: the plan is over */
	assert_int_equal(f->rom.nlog, 0);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000 >= 35);
}

static void test_hab_closed(void **state)
{
	struct fixture *f = *state;

	f->rom.hab_closed = true;
	add(f, PLAN_OP_STATUS, "SDP: status");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_string_equal(f->rec.info[0], "HAB closed");
}

/* ---- failures ---- */

static void test_jump_error_word(void **state)
{
	struct fixture *f = *state;

	f->rom.jump_error = true;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_non_null(strstr(f->rec.reason, "SDP: boot -f u-boot.imx: "));
	assert_non_null(strstr(f->rec.reason, "0x000a0533"));
}

static void test_jump_error_word_cmdq(void **state)
{
	struct fixture *f = *state;

	f->rom.jump_error = true;
	add(f, PLAN_OP_JUMP, "SDP: jump -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_non_null(strstr(f->rec.reason, "JUMP_ADDRESS"));
}

static void test_bad_write_status(void **state)
{
	struct fixture *f = *state;

	f->rom.bad_status_for = SDP_WRITE_FILE;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	add(f, PLAN_OP_DONE, "SDP: done");
	run(f);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_false(f->rom.jumped);
	assert_int_equal(f->rec.nsteps, 1);
}

static void test_bad_dcd_status_cmdq(void **state)
{
	struct fixture *f = *state;

	f->rom.bad_status_for = SDP_DCD_WRITE;
	add(f, PLAN_OP_DCD, "SDP: dcd -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -EPROTO);
	assert_non_null(strstr(f->rec.reason, "DCD_WRITE"));
}

static void test_timeout_mid_upload(void **state)
{
	struct fixture *f = *state;

	f->o.sdp_timeout_ms = 40;
	f->rom.hold_after = 10;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "SDP: boot -f u-boot.imx"));
	assert_int_equal(fake_usb_stats(f->rom.dev)->last_timeout_ms, 40);
}

static void test_timeout_cmdq(void **state)
{
	struct fixture *f = *state;

	f->o.sdp_timeout_ms = 30;
	f->rom.hold_after = 1;
	add(f, PLAN_OP_STATUS, "SDP: status");
	run(f);
	assert_int_equal(f->rec.status, -ETIMEDOUT);
	assert_non_null(strstr(f->rec.reason, "waiting for report 3"));
}

static void test_unplug_mid_upload(void **state)
{
	struct fixture *f = *state;

	f->rom.unplug_after = 50;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -ENODEV);
	assert_int_equal(fake_usb_stats(f->rom.dev)->live, 0);
}

static void test_bad_report3(void **state)
{
	struct fixture *f = *state;

	f->rom.bad_report3 = true;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -EBADMSG);
}

static void test_bad_report3_cmdq(void **state)
{
	struct fixture *f = *state;

	f->rom.bad_report3 = true;
	add(f, PLAN_OP_STATUS, "SDP: status");
	run(f);
	assert_int_equal(f->rec.status, -EBADMSG);
}

static void test_not_an_imx_image(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[4096];

	fake_plan_image(&f->raw, "junk.bin", junk, sizeof(junk));
	add(f, PLAN_OP_BOOT, "SDP: boot -f junk.bin")->image = &f->raw;
	run(f);
	assert_int_equal(f->rec.status, -EINVAL);
	assert_non_null(strstr(f->rec.reason, "junk.bin"));
	assert_int_equal(f->rom.nlog, 0);
}

static void test_write_without_addr_needs_imx(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[4096];

	fake_plan_image(&f->raw, "junk.bin", junk, sizeof(junk));
	add(f, PLAN_OP_WRITE, "SDP: write -f junk.bin")->image = &f->raw;
	run(f);
	assert_int_equal(f->rec.status, -EINVAL);
}

static void test_write_bad_range(void **state)
{
	struct fixture *f = *state;
	struct plan_step *st = add(f, PLAN_OP_WRITE, "SDP: write -f u-boot.imx -addr 0xffffff00");

	st->has_addr = true;
	st->addr = 0xFFFFFF00u;
	run(f);
	assert_int_equal(f->rec.status, -EINVAL);
	assert_int_equal(f->rom.nlog, 0);
}

static void test_dcd_without_dcd(void **state)
{
	struct fixture *f = *state;
	struct imxb_opts io = { .ivt_offset = 0, .self = SELF, .payload = 1000, .dcd = false };

	f->raw_data = malloc(imxb_size(&io));
	imxb_build(f->raw_data, &io);
	fake_plan_image(&f->raw, "nodcd.imx", f->raw_data, imxb_size(&io));
	add(f, PLAN_OP_DCD, "SDP: dcd -f nodcd.imx")->image = &f->raw;
	run(f);
	assert_int_equal(f->rec.status, -EINVAL);
}

static void test_fb_op_in_sdp(void **state)
{
	struct fixture *f = *state;

	fake_plan_add(f->plan, PLAN_PROTO_SDP, PLAN_OP_FLASH, "SDP: flash?", NULL);
	run(f);
	assert_int_equal(f->rec.status, -EINVAL);
}

static void test_submit_fails(void **state)
{
	struct fixture *f = *state;

	fake_usb_fail_submit(f->rom.dev, 3, -ENOMEM);
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, -ENOMEM);
}

/* ---- cancellation, start ---- */

static void test_free_in_progress(void **state)
{
	struct fixture *f = *state;
	size_t n = (5u << 20) / 2;

	f->raw_data = calloc(1, n);
	fake_plan_image(&f->raw, "blob.bin", f->raw_data, n);
	struct plan_step *st = add(f, PLAN_OP_WRITE, "SDP: write -f blob.bin -addr 0x17000000");
	st->image = &f->raw;
	st->has_addr = true;
	st->addr = DRAM_BASE;
	f->rec.free_at_progress = 1;
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &f->o, &f->ev,
					   &f->rec.s), 0);
	event_base_dispatch(f->base);
	assert_null(f->rec.s);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(count_cmds(&f->rom, SDP_WRITE_FILE), 1);
	assert_int_equal(f->plan->refs, 1);
}

static void test_free_from_outside(void **state)
{
	struct fixture *f = *state;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &f->o, &f->ev,
					   &f->rec.s), 0);
	while (f->rom.outs < 20)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(fake_usb_stats(f->rom.dev)->live, 1);
	f->rec.s = sdp_session_free(f->rec.s);
	assert_int_equal(f->plan->refs, 2);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(f->rom.outs, 20);
	assert_int_equal(fake_usb_stats(f->rom.dev)->live, 0);
	assert_int_equal(f->plan->refs, 1);
}

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct sdp_session *s = NULL;
	struct session_opts o = f->o;

	add(f, PLAN_OP_STATUS, "SDP: status");
	o.base = NULL;
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &o, &f->ev, &s), -EINVAL);
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 5, &f->o, &f->ev, &s),
			 -EINVAL);
	fake_usb_set_claim_result(f->rom.dev, -EBUSY);
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &f->o, &f->ev, &s),
			 -EBUSY);
	assert_null(s);
	assert_int_equal(f->plan->refs, 1);
	assert_null(sdp_session_free(NULL));
	assert_false(sdp_session_uid(NULL, NULL));
}

static void test_null_soc_defaults(void **state)
{
	struct fixture *f = *state;

	f->o.sdp_timeout_ms = 0;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	assert_int_equal(sdp_session_start(f->rom.dev, NULL, f->plan, 0, &f->o, &f->ev, &f->rec.s), 0);
	f->rom.jump_mode = JUMP_UNPLUG;
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.status, 0);
	assert_int_equal(f->rom.dcd_addr, SDP_DCD_ADDR_MX6);
	assert_int_equal(fake_usb_stats(f->rom.dev)->max_timeout_ms, SESSION_SDP_TIMEOUT_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_boot_mx6q),
		T(test_boot_mx6ul_skip_dcd),
		T(test_boot_cleardcd_dcdaddr),
		T(test_boot_uid),
		T(test_boot_nojump_then_status),
		T(test_jump_unplug_and_pipe),
		T(test_jump_pipe),
		T(test_jump_board_leaves),
		T(test_separate_steps_mx6q),
		T(test_separate_jump_mx6ul),
		T(test_write_addr_chunks),
		T(test_delay_and_done),
		T(test_hab_closed),
		T(test_jump_error_word),
		T(test_jump_error_word_cmdq),
		T(test_bad_write_status),
		T(test_bad_dcd_status_cmdq),
		T(test_timeout_mid_upload),
		T(test_timeout_cmdq),
		T(test_unplug_mid_upload),
		T(test_bad_report3),
		T(test_bad_report3_cmdq),
		T(test_not_an_imx_image),
		T(test_write_without_addr_needs_imx),
		T(test_write_bad_range),
		T(test_dcd_without_dcd),
		T(test_fb_op_in_sdp),
		T(test_submit_fails),
		T(test_free_in_progress),
		T(test_free_from_outside),
		T(test_start_errors),
		T(test_null_soc_defaults),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
