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
#include "session_rec.h"
#include "testutil.h"
#include "sdp_session_fixture.h"
#include "flashd/sdp.h"

/* ---- harness (sdp_session_fixture.h) ---- */

static void rec_free(struct session_rec *r)
{
	r->sdp = sdp_session_free(r->sdp);
}

static size_t rec_next_step(const struct session_rec *r)
{
	return sdp_session_next_step(r->sdp);
}

const struct session_rec_ops sdp_rec_ops = { rec_free, rec_next_step, NULL };

int setup(void **state)
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
	f->ev = session_rec_init(&f->rec, &sdp_rec_ops);
	f->rec.strict_progress = true;
	f->soc = (struct sdp_soc){ "MX6Q", 0x15a2, 0x0054, false, SDP_DCD_ADDR_MX6 };
	f->img_data = malloc(imxb_size(&io));
	assert_non_null(f->img_data);
	imxb_build(f->img_data, &io);
	fake_plan_image(&f->img, "u-boot.imx", f->img_data, imxb_size(&io));
	assert_true(f->img.is_imx);
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	session_rec_free(&f->rec);
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

struct plan_step *add(struct fixture *f, enum plan_op op, const char *text)
{
	struct plan_step *st = fake_plan_add(f->plan, PLAN_PROTO_SDP, op, text, NULL);

	if (op != PLAN_OP_STATUS && op != PLAN_OP_DELAY && op != PLAN_OP_DONE)
		st->image = &f->img;
	return st;
}

void start(struct fixture *f)
{
	assert_int_equal(sdp_session_start(f->rom.dev, &f->soc, f->plan, 0, &f->o, &f->ev,
					   &f->rec.sdp), 0);
}

void run(struct fixture *f)
{
	start(f);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 1);
}

unsigned count_cmds(const struct rom *r, uint16_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nlog; i++)
		n += r->log[i].type == type;
	return n;
}

/* DRAM holds the image's bytes [0, upload_size) at its load address; the
 * IVT's DCD pointer cleared iff cleared. */
void assert_uploaded(struct fixture *f, bool cleared)
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
	assert_false(sdp_session_uid(f->rec.sdp, NULL));
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
	assert_true(sdp_session_uid(f->rec.sdp, &uid));
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

/* e2e bugs #2 and #4: after a good JUMP_ADDRESS the ROM leaves the bus at
 * any moment — before its report 3, after it, and so fast that the next
 * read cannot even be submitted. All of it is a board that jumped, for the
 * boot step (the core's upload machine) and for a jump step alike. */
static const struct {
	bool no_hab, gone_at_submit;
	enum jump_mode mode;
} leaves[] = {
	{ false, true, JUMP_HOLD },  /* report 3, then the report-4 submit fails */
	{ true, true, JUMP_HOLD },   /* the report-3 submit fails */
	{ true, false, JUMP_UNPLUG },/* the report-3 read ends with -ENODEV */
	{ true, false, JUMP_PIPE },
	{ true, false, JUMP_HOLD },  /* the report-3 read times out */
};

/* row i: case i / 2 of leaves, by a boot step (odd) or write + jump steps */
static void run_board_leaves(void **state, size_t i)
{
	struct fixture *f = *state;
	bool boot = i % 2;

	f->o.sdp_timeout_ms = 40;
	f->rom.jump_no_hab = leaves[i / 2].no_hab;
	f->rom.jump_gone_at_submit = leaves[i / 2].gone_at_submit;
	f->rom.jump_mode = leaves[i / 2].mode;
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
}

static void test_jump_board_leaves(void **state)
{
	testutil_rows(state, 2 * sizeof(leaves) / sizeof(leaves[0]), setup, teardown, run_board_leaves);
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
	assert_true(sdp_session_uid(f->rec.sdp, NULL));
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

/* ---- one step, one fault or quirk: the outcome ---- */

enum outcome_image { IMAGE_UBOOT, IMAGE_JUNK, IMAGE_NONE };

static const struct outcome {
	const char *name;
	/* the ROM's script and the session's timeout (0: the fixture's) */
	bool hab_closed, jump_error, bad_report3;
	enum jump_mode jump_mode;
	uint16_t bad_status_for;
	unsigned hold_after, unplug_after, timeout_ms;
	unsigned submits_ok;        /* submits that succeed before one fails with -ENOMEM; 0: none fails */
	/* the step (in the SDP protocol), its image and -addr (0: none) */
	enum plan_op op;
	const char *text;
	enum outcome_image image;
	uint32_t addr;
	/* the outcome; the transfers are all over in any case */
	int status;
	const char *reason[3];      /* each is in the reason; NULL-terminated */
	bool jumped;                /* checked when set */
	bool no_cmds;               /* the ROM got no command at all */
	const char *info0;          /* the first info line; NULL: not checked */
} outcomes[] = {
	{ "a jump, then the board leaves", .jump_mode = JUMP_UNPLUG,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = 0, .jumped = true },
	{ "a jump, then a stall", .jump_mode = JUMP_PIPE,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = 0 },
	{ "HAB closed", .hab_closed = true,
	  .op = PLAN_OP_STATUS, .text = "SDP: status", .status = 0, .info0 = "HAB closed" },
	{ "an error word after JUMP", .jump_error = true,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -EPROTO,
	  .reason = { "SDP: boot -f u-boot.imx: ", "0x000a0533" } },
	{ "an error word after a jump step", .jump_error = true,
	  .op = PLAN_OP_JUMP, .text = "SDP: jump -f u-boot.imx", .status = -EPROTO,
	  .reason = { "JUMP_ADDRESS" } },
	{ "a wrong DCD_WRITE status", .bad_status_for = SDP_DCD_WRITE,
	  .op = PLAN_OP_DCD, .text = "SDP: dcd -f u-boot.imx", .status = -EPROTO,
	  .reason = { "DCD_WRITE" } },
	{ "silence mid-upload", .timeout_ms = 40, .hold_after = 10,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -ETIMEDOUT,
	  .reason = { "SDP: boot -f u-boot.imx" } },
	{ "silence after ERROR_STATUS", .timeout_ms = 30, .hold_after = 1,
	  .op = PLAN_OP_STATUS, .text = "SDP: status", .status = -ETIMEDOUT,
	  .reason = { "waiting for report 3" } },
	{ "unplugged mid-upload", .unplug_after = 50,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -ENODEV },
	{ "a bad report 3 in an upload", .bad_report3 = true,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -EBADMSG },
	{ "a bad report 3 to ERROR_STATUS", .bad_report3 = true,
	  .op = PLAN_OP_STATUS, .text = "SDP: status", .status = -EBADMSG },
	{ "boot: not an i.MX image",
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f junk.bin", .image = IMAGE_JUNK,
	  .status = -EINVAL, .reason = { "junk.bin" }, .no_cmds = true },
	{ "write without -addr needs an i.MX image",
	  .op = PLAN_OP_WRITE, .text = "SDP: write -f junk.bin", .image = IMAGE_JUNK,
	  .status = -EINVAL },
	{ "write past the end of the address space",
	  .op = PLAN_OP_WRITE, .text = "SDP: write -f u-boot.imx -addr 0xffffff00",
	  .addr = 0xFFFFFF00u, .status = -EINVAL, .no_cmds = true },
	{ "a fastboot op in SDP",
	  .op = PLAN_OP_FLASH, .text = "SDP: flash?", .image = IMAGE_NONE, .status = -EINVAL },
	{ "a submit fails", .submits_ok = 3,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -ENOMEM },
	{ "a data report's submit fails, others in flight", .submits_ok = 40,
	  .op = PLAN_OP_BOOT, .text = "SDP: boot -f u-boot.imx", .status = -ENOMEM,
	  .reason = { "SDP: boot -f u-boot.imx: ", "data report" } },
};

static void run_outcome(void **state, size_t i)
{
	struct fixture *f = *state;
	const struct outcome *c = &outcomes[i];
	static const uint8_t junk[4096];
	struct plan_step *st;

	f->rom.hab_closed = c->hab_closed;
	f->rom.jump_error = c->jump_error;
	f->rom.bad_report3 = c->bad_report3;
	f->rom.jump_mode = c->jump_mode;
	f->rom.bad_status_for = c->bad_status_for;
	f->rom.hold_after = c->hold_after;
	f->rom.unplug_after = c->unplug_after;
	if (c->timeout_ms)
		f->o.sdp_timeout_ms = c->timeout_ms;
	if (c->submits_ok)
		fake_usb_fail_submit(f->rom.dev, c->submits_ok, -ENOMEM);
	st = fake_plan_add(f->plan, PLAN_PROTO_SDP, c->op, c->text, NULL);
	if (c->image == IMAGE_JUNK)
		fake_plan_image(&f->raw, "junk.bin", junk, sizeof(junk));
	if (c->image != IMAGE_NONE && c->op != PLAN_OP_STATUS)
		st->image = c->image == IMAGE_JUNK ? &f->raw : &f->img;
	st->has_addr = c->addr != 0;
	st->addr = c->addr;
	run(f);
	print_message("%s: %d %s\n", c->name, f->rec.status, f->rec.reason);
	assert_int_equal(f->rec.status, c->status);
	for (size_t k = 0; c->reason[k]; k++)
		assert_non_null(strstr(f->rec.reason, c->reason[k]));
	assert_int_equal(fake_usb_stats(f->rom.dev)->live, 0);
	if (c->timeout_ms)
		assert_int_equal(fake_usb_stats(f->rom.dev)->last_timeout_ms, c->timeout_ms);
	if (c->jumped)
		assert_true(f->rom.jumped);
	if (c->no_cmds)
		assert_int_equal(f->rom.nlog, 0);
	if (c->info0)
		assert_string_equal(f->rec.info[0], c->info0);
}

static void test_outcomes(void **state)
{
	testutil_rows(state, sizeof(outcomes) / sizeof(outcomes[0]), setup, teardown, run_outcome);
}

/* ---- failures ---- */

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
	/* the reason names the step and the image, not just -EINVAL */
	assert_string_equal(f->rec.reason, "SDP: dcd -f nodcd.imx: nodcd.imx has no DCD");
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
	start(f);
	event_base_dispatch(f->base);
	assert_null(f->rec.sdp);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(count_cmds(&f->rom, SDP_WRITE_FILE), 1);
	assert_int_equal(f->plan->refs, 1);
}

static void test_free_from_outside(void **state)
{
	struct fixture *f = *state;
	unsigned outs;

	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	start(f);
	while (f->rom.outs < 20)
		event_base_loop(f->base, EVLOOP_ONCE);
	/* mid-DCD data: several data reports queued */
	assert_in_range(fake_usb_stats(f->rom.dev)->live, 2, SESSION_SDP_REPORTS);
	outs = f->rom.outs;
	f->rec.sdp = sdp_session_free(f->rec.sdp);
	assert_int_equal(f->plan->refs, 2);
	event_base_dispatch(f->base);
	assert_int_equal(f->rec.ndone, 0);
	assert_int_equal(f->rom.outs, outs); /* nothing reached the ROM after the free */
	assert_int_equal(fake_usb_stats(f->rom.dev)->live, 0);
	assert_int_equal(f->plan->refs, 1);
}

/* Data reports are queued up to sdp_reports at a time (default
 * SESSION_SDP_REPORTS, at most SESSION_SDP_REPORTS_MAX); commands and reads
 * never go out beside them; the ROM gets the same bytes either way. */
static const struct {
	unsigned opt, max_live;
} in_flight[] = {
	{ 0, SESSION_SDP_REPORTS }, { 1, 1 }, { 2, 2 }, { 100, SESSION_SDP_REPORTS_MAX },
};

static void run_data_reports_in_flight(void **state, size_t i)
{
	struct fixture *f = *state;

	print_message("sdp_reports %u\n", in_flight[i].opt);
	f->o.sdp_reports = in_flight[i].opt;
	add(f, PLAN_OP_BOOT, "SDP: boot -f u-boot.imx");
	run(f);
	assert_int_equal(f->rec.status, 0);
	assert_true(f->rom.jumped);
	assert_uploaded(f, true);
	assert_int_equal(fake_usb_stats(f->rom.dev)->ctl_max_live, in_flight[i].max_live);
	assert_int_equal(fake_usb_stats(f->rom.dev)->in_beside_ctl, 0);
}

static void test_data_reports_in_flight(void **state)
{
	testutil_rows(state, sizeof(in_flight) / sizeof(in_flight[0]), setup, teardown,
		      run_data_reports_in_flight);
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
	assert_int_equal(sdp_session_start(f->rom.dev, NULL, f->plan, 0, &f->o, &f->ev, &f->rec.sdp), 0);
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
		T(test_jump_board_leaves),
		T(test_separate_steps_mx6q),
		T(test_separate_jump_mx6ul),
		T(test_write_addr_chunks),
		T(test_delay_and_done),
		T(test_outcomes),
		T(test_bad_write_status),
		T(test_dcd_without_dcd),
		T(test_free_in_progress),
		T(test_free_from_outside),
		T(test_data_reports_in_flight),
		T(test_start_errors),
		T(test_null_soc_defaults),
#undef T
	};
	int failed = cmocka_run_group_tests_name("sdp_session: boot ROM", tests, NULL, NULL);

	return failed + _cmocka_run_group_tests("sdp_session: SPL, HID setup, retries",
						sdp_spl_tests, sdp_spl_ntests, NULL, NULL);
}
