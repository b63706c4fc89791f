/* board: see board.h */
#include "board.h"

#include "boot.h"
#include "image.h"
#include "unplug.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static const char *const board_phase_names[] = {
	[BOARD_PHASE_ROM] = "rom",
	[BOARD_PHASE_JUMP] = "jump",
	[BOARD_PHASE_SPL] = "spl",
	[BOARD_PHASE_SPL_JUMP] = "spl-jump",
	[BOARD_PHASE_REENUM] = "reenum",
	[BOARD_PHASE_FASTBOOT] = "fastboot",
	[BOARD_PHASE_REBOOT] = "reboot",
	[BOARD_PHASE_BOOTED] = "booted",
	[BOARD_PHASE_OFF] = "off",
	[BOARD_PHASE_UNPLUGGED] = "unplugged",
};

static const char *const board_end_names[] = {
	[BOARD_END_NONE] = "none",
	[BOARD_END_SIGNAL] = "signal",
	[BOARD_END_JUMP] = "jump",
	[BOARD_END_RESET] = "reset",
	[BOARD_END_CONTINUE] = "continue",
	[BOARD_END_FAULT] = "fault",
	[BOARD_END_UNPLUG] = "unplug",
	[BOARD_END_ERROR] = "error",
};

const char *board_phase_to_string(enum board_phase p)
{
	return (unsigned)p < ARRAY_SIZE(board_phase_names) ? board_phase_names[p] : "?";
}

void board_set_phase(struct board *b, enum board_phase p)
{
	struct log_ev e;

	log_begin(&e, b->log, "phase");
	log_str(&e, "phase", board_phase_to_string(p));
	log_str(&e, "from", board_phase_to_string(b->phase));
	log_end(&e);
	b->phase = p;
}

void board_end(struct board *b, enum board_end end, const char *why)
{
	if (b->end == BOARD_END_NONE) {
		b->end = end;
		b->end_reason = why;
	}
}

void board_fault(struct board *b, const char *fault)
{
	struct log_ev e;

	log_begin(&e, b->log, "fault");
	log_str(&e, "fault", fault);
	log_str(&e, "phase", board_phase_to_string(b->phase));
	log_end(&e);
}

void board_sleep_ms(struct board *b, uint64_t ms)
{
	board_sleep_ns(b, ms * 1000000u);
}

void board_bus_take(struct board *b, uint64_t bytes)
{
	if (!b->bus || !bytes)
		return;
	b->bus_bytes += bytes;
	bus_take(b->bus, bytes, board_sleep_ns, b);
}

uint64_t board_bus_reserve(struct board *b, uint64_t bytes, uint64_t now)
{
	struct bus_slot slot;

	if (!b->bus || !bytes)
		return 0;
	b->bus_bytes += bytes;
	bus_reserve(b->bus, bytes, now, &slot);
	return slot.end_ns;
}

void board_bus_log(struct board *b, const char *at)
{
	struct bus_stats st;
	struct log_ev e;

	if (!b->bus)
		return;
	bus_stats(b->bus, &st);
	log_begin(&e, b->log, "bus");
	log_str(&e, "at", at);
	log_str(&e, "group", bus_name(b->bus));
	log_u64(&e, "mbps", st.mbps);
	log_u64(&e, "bytes", st.bytes);
	log_u64(&e, "busy_ns", st.busy_ns);
	log_u64(&e, "chunks", st.chunks);
	log_u64(&e, "wait_ns", st.wait_ns);
	log_u64(&e, "board_bytes", b->bus_bytes);
	log_end(&e);
}

static void board_check_signal(struct board *b, int timeout_ms)
{
	struct pollfd p = { .fd = b->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;

	if (poll(&p, 1, timeout_ms) > 0 && read(b->sigfd, &si, sizeof(si)) == sizeof(si)) {
		b->terminate = true;
		log_simple_str(b->log, "signal", "signal", strsignal((int)si.ssi_signo));
	}
}

void board_sleep_ns(void *ctx, uint64_t ns)
{
	struct board *b = ctx;
	uint64_t end = util_now_ns() + ns;

	while (!b->terminate) {
		uint64_t now = util_now_ns();

		if (now >= end)
			break;
		/* poll() has ms resolution: sleep the sub-ms rest plainly */
		if (end - now < 1000000u) {
			usleep((useconds_t)((end - now) / 1000u));
			break;
		}
		board_check_signal(b, (int)((end - now) / 1000000u));
	}
}

void board_timer(struct board *b, unsigned ms)
{
	struct itimerspec its = { { 0, 0 }, { ms / 1000, (long)(ms % 1000) * 1000000 } };

	timerfd_settime(b->timerfd, 0, &its, NULL);
}

static void board_emmc_fault(void *ctx, const char *fault)
{
	board_fault(ctx, fault);
}

/* --uboot-no-verify, --uboot-no-cmd, --fault-emmc-bitflip: once U-Boot exists */
static int board_uboot_build(struct board *b)
{
	const struct opts *o = b->o;
	struct uboot_build ub = { o->uboot_no_verify, o->uboot_no_verify, { NULL },
				  o->n_uboot_no_cmd };

	if (o->n_uboot_no_cmd > UBOOT_MAX_NO_CMD)
		return -EINVAL;
	for (size_t i = 0; i < o->n_uboot_no_cmd; i++)
		ub.no_cmd[i] = o->uboot_no_cmd[i];
	uboot_set_build(b->uboot, &ub);
	if (o->fault_bitflip)
		emmc_set_bitflip(b->emmc, o->fault_bitflip_off, board_emmc_fault, b);
	return 0;
}

/* --bus-group NAME --bus-mbps N: join (or create) the group's shared schedule */
static int board_bus_join(struct board *b)
{
	char err[256];
	struct log_ev e;
	int r = bus_open(b->o->bus_group, b->o->bus_mbps, &b->bus, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "flashd-emu: %s\n", err);
		log_simple_str(b->log, "error", "error", err);
		return r;
	}
	log_begin(&e, b->log, "bus-join");
	log_str(&e, "group", bus_name(b->bus));
	log_u64(&e, "mbps", b->o->bus_mbps);
	log_end(&e);
	return 0;
}

int board_new(const struct opts *o, struct log *log, struct board **out)
{
	struct emmc_cfg ec = { o->emmc, o->emmc_size, o->emmc_mbps, board_sleep_ns, NULL };
	struct rom_cfg rc = { o->soc, o->uid, o->hab_closed, o->fault_bad_status, o->dram_check,
			      (size_t)o->ram_cap };
	struct uboot_cfg uc = { o->soc, o->uid, o->max_download, o->offset_names, o->env,
				o->n_env, board_sleep_ns, NULL,
				o->uboot == OPTS_UBOOT_MAINLINE ? UBOOT_MAINLINE :
				o->uboot == OPTS_UBOOT_NXP ? UBOOT_NXP : UBOOT_FLASHD,
				!o->uuu_support, o->env_offset, o->env_size };
	struct fb_cfg fc = { o->max_download, o->fault_fail };
	struct spl_cfg sc = { o->soc, o->sdp_loadaddr };
	struct board *b;
	sigset_t set;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->o = o;
	b->log = log;
	b->sigfd = b->timerfd = -1;
	b->phase = BOARD_PHASE_OFF;
	ec.sleep_ctx = uc.sleep_ctx = b;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	b->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	b->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->sigfd < 0 || b->timerfd < 0) {
		r = -errno;
		goto fail;
	}
	if (o->bus_group && (r = board_bus_join(b)) < 0)
		goto fail;
	if ((r = emmc_open(&ec, log, &b->emmc)) < 0 || (r = rom_new(&rc, log, &b->rom)) < 0 ||
	    (r = spl_new(&sc, rom_mem(b->rom), log, &b->spl)) < 0 ||
	    (r = uboot_new(&uc, b->emmc, log, &b->uboot)) < 0 || (r = board_uboot_build(b)) < 0 ||
	    (r = fb_new(&fc, b->uboot, &b->fb)) < 0 ||
	    (r = gadget_new(o->name, o->udc, &b->gadget)) < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	board_free(b);
	return r;
}

struct board *board_free(struct board *b)
{
	if (!b)
		return NULL;
	ffs_close(b->ffs);
	gadget_free(b->gadget);
	fb_free(b->fb);
	uboot_free(b->uboot);
	spl_free(b->spl);
	rom_free(b->rom);
	emmc_free(b->emmc);
	if (b->bus) {
		board_bus_log(b, "exit");
		b->bus = bus_free(b->bus);
	}
	if (b->sigfd >= 0)
		close(b->sigfd);
	if (b->timerfd >= 0)
		close(b->timerfd);
	free(b);
	return NULL;
}

static void board_ids(struct board *b, enum ffs_kind kind, struct gadget_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	switch (kind) {
	case FFS_KIND_ROM:
		ids->vid = SOC_ROM_VID;
		ids->pid = b->o->soc->pid;
		ids->bcd_device = 0x0001;
		ids->manufacturer = "Freescale SemiConductor Inc ";
		ids->product = b->o->soc->product;
		ids->attributes = 0x80;
		ids->max_power_ma = 100;
		break;
	case FFS_KIND_FASTBOOT:
		ids->vid = b->o->fb_vid;
		ids->pid = b->o->fb_pid;
		ids->bcd_device = 0x0221;
		ids->manufacturer = "U-Boot";
		ids->product = "USB download gadget";
		ids->configuration = "USB download gadget";
		ids->serial = env_get(b->uboot->env, "serial#");
		ids->attributes = 0xC0;
		ids->max_power_ma = 2;
		break;
	case FFS_KIND_SPL:
		/* g_dnl.c: CONFIG_USB_GADGET_MANUFACTURER, "USB download gadget";
		 * no serial number in SPL (no environment) */
		ids->vid = b->o->spl_vid;
		ids->pid = b->o->spl_pid;
		ids->bcd_device = b->o->spl_bcd;
		ids->manufacturer = "U-Boot";
		ids->product = "USB download gadget";
		ids->configuration = "USB download gadget";
		ids->attributes = 0xC0;
		ids->max_power_ma = 2;
		break;
	case FFS_KIND_RUNTIME:
		ids->vid = 0x1d6b;
		ids->pid = 0x0104;
		ids->bcd_device = 0x0100;
		ids->manufacturer = "Linux";
		ids->product = "flashd-emu booted board";
		ids->serial = env_get(b->uboot->env, "serial#");
		ids->attributes = 0x80;
		ids->max_power_ma = 250;
		break;
	}
}

static bool board_fault_here(const struct board *b, enum opts_phase p)
{
	return (p == OPTS_PHASE_ROM && b->phase == BOARD_PHASE_ROM) ||
	       (p == OPTS_PHASE_SPL && b->phase == BOARD_PHASE_SPL) ||
	       (p == OPTS_PHASE_FASTBOOT && b->phase == BOARD_PHASE_FASTBOOT);
}

static void board_enable(struct board *b, const struct board_ops *ops)
{
	const struct opts *o = b->o;

	b->enabled = true;
	if (!b->fault_disc_done && board_fault_here(b, o->fault_disconnect_in)) {
		b->fault_disc_done = true;
		board_fault(b, "disconnect-in");
		board_end(b, BOARD_END_FAULT, "fault-disconnect-in");
		return;
	}
	if (board_fault_here(b, o->fault_hang_in)) {
		board_fault(b, "hang-in");
		/* the ROM still enumerates (HID requests) and hangs in its SDP handler */
		if (b->phase == BOARD_PHASE_ROM)
			b->hang_sdp = true;
		else
			b->hung = true;
		if (b->hung)
			return;
	}
	if (o->fault_stall == OPTS_STALL_IN || o->fault_stall == OPTS_STALL_OUT) {
		bool in = o->fault_stall == OPTS_STALL_IN;
		unsigned ep = in ? 1 : 2;

		if (!in && b->phase == BOARD_PHASE_ROM)
			board_fault(b, "stall-out-not-applicable");
		else if (ffs_halt(b->ffs, ep, in) == 0)
			board_fault(b, in ? "stall-in" : "stall-out");
	}
	ops->enable(b);
}

static void board_ep0(struct board *b, const struct board_ops *ops)
{
	static const char *const names[] = { "bind", "unbind", "enable", "disable", "setup",
					     "suspend", "resume" };
	struct usb_functionfs_event ev;

	while (b->end == BOARD_END_NONE && !b->hung && ffs_read_events(b->ffs, &ev, 1) == 1) {
		struct log_ev e;

		if (ev.type != FUNCTIONFS_SETUP) {
			log_begin(&e, b->log, "usb");
			log_str(&e, "event", ev.type < ARRAY_SIZE(names) ? names[ev.type] : "?");
			log_end(&e);
		}
		switch (ev.type) {
		case FUNCTIONFS_BIND:
			(void)unplug_session(b, false);
			break;
		case FUNCTIONFS_ENABLE:
			if (!unplug_session(b, true))
				board_enable(b, ops);
			break;
		case FUNCTIONFS_DISABLE:
			b->enabled = false;
			ffs_cancel_all(b->ffs);
			ops->disable(b);
			break;
		case FUNCTIONFS_SETUP:
			ops->setup(b, &ev.u.setup);
			break;
		default:
			break;
		}
	}
}

static bool board_tag_in(uint64_t tag)
{
	switch ((enum board_tag)(tag & 0xff)) {
	case BOARD_TAG_ROM_IN:
	case BOARD_TAG_FB_REPLY:
	case BOARD_TAG_SPL_IN:
		return true;
	case BOARD_TAG_FB_CMD:
	case BOARD_TAG_FB_DATA:
	case BOARD_TAG_SPL_OUT:
		break;
	}
	return false;
}

/* Completions, IN ones first: a report or reply the host read completed
 * before the host could send what it sends after reading it, and a UDC
 * driver (f_sdp's sdp_tx_complete, f_fastboot's) sees them in that order;
 * FunctionFS's AIO may hand them back in either. Once the session ended
 * (an unplug, a reset) nothing more runs: a command that reached the
 * buffer in the same batch died with the board (an "after" unplug that
 * let the next command through answered it before the power went). */
static void board_dispatch(struct board *b, const struct board_ops *ops,
			   const struct ffs_done *done, int n)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n && b->end == BOARD_END_NONE; i++)
			if (board_tag_in(done[i].tag) == (pass == 0))
				ops->io(b, done[i].tag, done[i].res);
}

static void board_reap(struct board *b, const struct board_ops *ops)
{
	struct ffs_done done[FFS_MAX_IO];
	int n = ffs_reap(b->ffs, done, FFS_MAX_IO);

	board_dispatch(b, ops, done, n);
}

void board_setup_stall(struct board *b, const struct usb_ctrlrequest *req)
{
	struct log_ev e;

	log_begin(&e, b->log, "usb-setup-stalled");
	log_u64(&e, "type", req->bRequestType);
	log_u64(&e, "request", req->bRequest);
	log_u64(&e, "value", req->wValue);
	log_end(&e);
	ffs_setup_stall(b->ffs, req);
}

void board_reap_wait(struct board *b, const struct board_ops *ops, unsigned timeout_ms)
{
	struct ffs_done done[FFS_MAX_IO];
	int n = ffs_reap_wait(b->ffs, done, FFS_MAX_IO, timeout_ms);

	board_dispatch(b, ops, done, n);
}

static void board_loop(struct board *b, const struct board_ops *ops)
{
	while (b->end == BOARD_END_NONE) {
		struct pollfd p[4] = {
			{ .fd = b->sigfd, .events = POLLIN },
			{ .fd = b->hung ? -1 : ffs_ep0_fd(b->ffs), .events = POLLIN },
			{ .fd = ffs_event_fd(b->ffs), .events = POLLIN },
			{ .fd = b->timerfd, .events = POLLIN },
		};
		uint64_t ticks;

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			board_end(b, BOARD_END_ERROR, "poll");
			break;
		}
		if (p[0].revents)
			board_check_signal(b, 0);
		if (b->terminate) {
			board_end(b, BOARD_END_SIGNAL, "signal");
			break;
		}
		/* completions first: a request the host already read completed
		 * on the board before the host could send its next command (the
		 * UDC gives the gadget request back before the host's URB), so
		 * f_sdp's sdp_tx_complete() runs before that command arrives; the
		 * other order made the SPL drop report 3 of a jump sent on ep0
		 * ("Wrong State") and never jump */
		if (p[2].revents)
			board_reap(b, ops);
		if (p[1].revents)
			board_ep0(b, ops);
		if (p[3].revents && read(b->timerfd, &ticks, sizeof(ticks)) == sizeof(ticks))
			ops->timer(b);
		if (b->terminate)
			board_end(b, BOARD_END_SIGNAL, "signal");
	}
}

static void board_session_reset(struct board *b)
{
	b->end = BOARD_END_NONE;
	b->end_reason = NULL;
	b->enabled = b->hung = b->first_seen = b->hang_sdp = false;
	b->rom_in_busy = b->fb_cmd_busy = false;
	b->spl_in_busy = b->spl_out_busy = false;
	b->dl_head = b->dl_n = 0;
	b->dl_queued = 0;
	b->dl_chunk = BOARD_DL_CHUNK;
	b->out_pending = 0;
	b->after = FB_AFTER_NONE;
	b->drain_end = BOARD_END_NONE;
	memset(&b->out, 0, sizeof(b->out));
}

static void board_log_link(struct board *b, const char *ev, const struct gadget_ids *ids,
			   const char *reason)
{
	struct log_ev e;
	char id[16];

	snprintf(id, sizeof(id), "%04x:%04x", ids->vid, ids->pid);
	log_begin(&e, b->log, ev);
	log_str(&e, "phase", board_phase_to_string(b->phase));
	log_str(&e, "id", id);
	log_str(&e, "udc", b->o->udc);
	if (reason)
		log_str(&e, "reason", reason);
	log_end(&e);
}

static enum board_end board_session(struct board *b, enum ffs_kind kind,
				     const struct board_ops *ops)
{
	struct gadget_ids ids;
	int r;

	board_session_reset(b);
	board_ids(b, kind, &ids);
	if ((r = gadget_set_ids(b->gadget, &ids)) < 0 ||
	    (r = ffs_open(gadget_ffs_dir(b->gadget), kind, &b->ffs)) < 0 ||
	    (r = gadget_bind(b->gadget)) < 0) {
		log_simple_str(b->log, "error", "error", strerror(-r));
		fprintf(stderr, "flashd-emu: setting up the gadget failed: %s\n", strerror(-r));
		b->ffs = ffs_close(b->ffs);
		return BOARD_END_ERROR;
	}
	board_log_link(b, "connect", &ids, NULL);
	board_loop(b, ops);
	board_timer(b, 0);
	gadget_unbind(b->gadget);
	board_log_link(b, "disconnect", &ids, b->end_reason ? b->end_reason : board_end_names[b->end]);
	b->ffs = ffs_close(b->ffs);
	return b->end;
}

/* off the bus for the re-enumeration delay */
static void board_off_delay(struct board *b)
{
	board_sleep_ms(b, b->o->reenum_delay_ms);
}

/* off the bus until a signal */
static void board_wait_off(struct board *b)
{
	board_set_phase(b, BOARD_PHASE_OFF);
	while (!b->terminate)
		board_check_signal(b, -1);
}

static void board_log_boot(struct board *b, const struct boot_result *r)
{
	struct log_ev e;

	log_begin(&e, b->log, "boot");
	log_str(&e, "result", r->ok ? "booted" : r->hang ? "hang" : "rom");
	log_str(&e, "source", emmc_hwpart_to_string(r->source));
	log_str(&e, "reason", r->reason);
	if (r->ok || r->spl) {
		log_hex32(&e, "entry", r->ivt.entry);
		log_hex32(&e, "self", r->ivt.self);
		log_u64(&e, "length", r->boot.length);
		log_hex32(&e, "crc32", r->crc32);
	}
	log_bool(&e, "spl", r->spl);
	if (r->spl) {
		log_u64(&e, "uboot_offset", r->uboot_offset);
		log_hex32(&e, "uboot_load", r->uimg.load);
		log_u64(&e, "uboot_size", r->uimg.size);
	}
	log_end(&e);
}

static enum board_phase board_do_rom(struct board *b, bool after_reboot)
{
	enum board_end end;

	if (after_reboot && b->o->exit_when == OPTS_EXIT_ROM) {
		b->terminate = true;
		return BOARD_PHASE_ROM;
	}
	board_set_phase(b, BOARD_PHASE_ROM);
	for (;;) {
		rom_usb_reset(b->rom);
		end = board_session(b, FFS_KIND_ROM, &romusb_ops);
		if (end != BOARD_END_FAULT)
			break;
		board_off_delay(b);
	}
	if (end == BOARD_END_UNPLUG)
		return BOARD_PHASE_UNPLUGGED;
	if (end == BOARD_END_JUMP)
		return BOARD_PHASE_JUMP;
	b->terminate = true;
	return BOARD_PHASE_ROM;
}

/* the ROM or SPL jumped: what comes up next (image.c) */
static enum board_phase board_do_jump(struct board *b)
{
	bool to_spl = b->phase == BOARD_PHASE_JUMP &&
		      image_ivt_is_spl(b->o->soc, &rom_jump(b->rom)->ivt);

	if (b->o->fault_no_reenum) {
		board_fault(b, "no-reenum");
		board_wait_off(b);
		return BOARD_PHASE_OFF;
	}
	board_set_phase(b, BOARD_PHASE_REENUM);
	if (unplug_reenum(b))
		return BOARD_PHASE_UNPLUGGED;
	board_off_delay(b);
	if (to_spl) {
		spl_start(b->spl);
		return BOARD_PHASE_SPL;
	}
	if (uboot_start(b->uboot) < 0) {
		log_simple_str(b->log, "error", "error", "bad --env");
		b->terminate = true;
	}
	return BOARD_PHASE_FASTBOOT;
}

/* U-Boot SPL's SDP gadget until it jumps to U-Boot proper (or hangs: it stays
 * on the bus and never answers, until a signal) */
static enum board_phase board_do_spl(struct board *b)
{
	enum board_end end;

	board_set_phase(b, BOARD_PHASE_SPL);
	for (;;) {
		end = board_session(b, FFS_KIND_SPL, &splusb_ops);
		if (end != BOARD_END_FAULT)
			break;
		board_off_delay(b);
	}
	if (end == BOARD_END_UNPLUG)
		return BOARD_PHASE_UNPLUGGED;
	if (end == BOARD_END_JUMP)
		return BOARD_PHASE_SPL_JUMP;
	b->terminate = true;
	return BOARD_PHASE_SPL;
}

static enum board_phase board_do_fastboot(struct board *b)
{
	enum board_end end;

	board_set_phase(b, BOARD_PHASE_FASTBOOT);
	for (;;) {
		fb_usb_reset(b->fb);
		end = board_session(b, FFS_KIND_FASTBOOT, &fbusb_ops);
		if (end != BOARD_END_FAULT)
			break;
		board_off_delay(b);
	}
	if (end == BOARD_END_UNPLUG)
		return BOARD_PHASE_UNPLUGGED;
	if (end == BOARD_END_RESET)
		return BOARD_PHASE_REBOOT;
	if (end == BOARD_END_CONTINUE)
		return BOARD_PHASE_BOOTED;
	b->terminate = true;
	return BOARD_PHASE_FASTBOOT;
}

static enum board_phase board_do_reboot(struct board *b)
{
	struct boot_result r;

	if (b->phase != BOARD_PHASE_REBOOT)
		board_set_phase(b, BOARD_PHASE_REBOOT);
	board_off_delay(b);
	if (b->terminate)
		return BOARD_PHASE_REBOOT;
	boot_check_chain(b->emmc, b->o->soc, b->o->hab_closed, b->o->spl_uboot_sector, &r);
	board_log_boot(b, &r);
	if (r.ok)
		return BOARD_PHASE_BOOTED;
	if (r.hang) {
		/* SPL hangs: silent, off the bus, until a signal */
		log_simple_str(b->log, "hang", "phase", "spl");
		board_wait_off(b);
		return BOARD_PHASE_OFF;
	}
	rom_power_on(b->rom);
	return BOARD_PHASE_ROM;
}

static void board_do_booted(struct board *b)
{
	board_set_phase(b, BOARD_PHASE_BOOTED);
	if (b->o->exit_when == OPTS_EXIT_BOOTED) {
		b->terminate = true;
		return;
	}
	if (b->o->runtime_gadget) {
		(void)board_session(b, FFS_KIND_RUNTIME, &runtime_ops);
		b->terminate = true;
		return;
	}
	board_wait_off(b);
}

int board_run(struct board *b)
{
	enum board_phase next;
	bool after_reboot = false;
	struct log_ev e;
	char uid[20];

	snprintf(uid, sizeof(uid), "%016llx", (unsigned long long)b->o->uid);
	log_begin(&e, b->log, "start");
	log_str(&e, "soc", b->o->soc->name);
	log_str(&e, "uid", uid);
	log_str(&e, "udc", b->o->udc);
	log_str(&e, "emmc", b->o->emmc);
	log_u64(&e, "emmc_size", b->o->emmc_size);
	log_str(&e, "start_in", b->o->start == OPTS_START_ROM ? "rom" : "fastboot");
	log_str(&e, "uboot", opts_uboot_to_string(b->o->uboot));
	log_u64(&e, "pid", (uint64_t)getpid());
	log_end(&e);
	if (b->o->start == OPTS_START_FASTBOOT) {
		if (uboot_start(b->uboot) < 0) {
			fprintf(stderr, "flashd-emu: bad --env\n");
			return 1;
		}
		next = BOARD_PHASE_FASTBOOT;
	} else {
		next = BOARD_PHASE_ROM;
	}
	while (!b->terminate) {
		switch (next) {
		case BOARD_PHASE_ROM:
			next = board_do_rom(b, after_reboot);
			break;
		case BOARD_PHASE_JUMP:
		case BOARD_PHASE_SPL_JUMP:
			next = board_do_jump(b);
			break;
		case BOARD_PHASE_SPL:
			next = board_do_spl(b);
			break;
		case BOARD_PHASE_FASTBOOT:
			next = board_do_fastboot(b);
			break;
		case BOARD_PHASE_REBOOT:
			next = board_do_reboot(b);
			after_reboot = true;
			break;
		case BOARD_PHASE_BOOTED:
			board_do_booted(b);
			break;
		case BOARD_PHASE_UNPLUGGED:
			next = unplug_replug(b);
			break;
		case BOARD_PHASE_REENUM:
		case BOARD_PHASE_OFF:
			board_wait_off(b);
			break;
		}
	}
	log_begin(&e, b->log, "exit");
	log_str(&e, "phase", board_phase_to_string(b->phase));
	log_end(&e);
	return b->end == BOARD_END_ERROR ? 1 : 0;
}
