/* fbusb: U-Boot's fastboot gadget on the USB side (f_fastboot.c): one 4096-byte
 * OUT request for commands; during a download up to BOARD_DL_REQS requests of up
 * to 1 MiB each, never more than the announced size rounded up to a packet (so
 * surplus behaves as in U-Boot); replies on the IN endpoint, one transfer each;
 * reboot/continue/ACmd act once their OKAY has been sent. The protocol is fb.c. */
#include "board.h"

#include "unplug.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#define FBUSB_EP_IN 1
#define FBUSB_EP_OUT 2

static void fbusb_arm(struct board *b);

static bool fbusb_final(const char *r)
{
	return !strncmp(r, "OKAY", 4) || !strncmp(r, "FAIL", 4);
}

/* leave the bus once the last reply had time to reach the host */
static void fbusb_leave(struct board *b, enum board_end end, const char *why)
{
	if (end == BOARD_END_RESET)
		board_set_phase(b, BOARD_PHASE_REBOOT);
	b->drain_end = end;
	b->drain_why = why;
	board_timer(b, BOARD_DRAIN_MS);
}

/* the replies of the last command are out: do what the command asked for */
static void fbusb_after(struct board *b)
{
	enum fb_after a = b->after;

	b->after = FB_AFTER_NONE;
	switch (a) {
	case FB_AFTER_NONE:
		break;
	case FB_AFTER_ACMD:
		fb_run_acmd(b->fb);
		if (b->uboot->reset)
			fbusb_leave(b, BOARD_END_RESET, "reset");
		break;
	case FB_AFTER_RESET_NOW:
		/* no reply went out: the board resets at once */
		board_set_phase(b, BOARD_PHASE_REBOOT);
		board_end(b, BOARD_END_RESET, "reset");
		break;
	case FB_AFTER_RESET:
		fbusb_leave(b, BOARD_END_RESET, "reboot");
		break;
	case FB_AFTER_BOOT:
		fbusb_leave(b, BOARD_END_RESET, "boot");
		break;
	case FB_AFTER_CONTINUE:
		fbusb_leave(b, BOARD_END_CONTINUE, "continue");
		break;
	}
}

static void fbusb_send(struct board *b)
{
	for (unsigned i = 0; i < b->out.n; i++) {
		char *slot = b->reply[b->reply_next++ % BOARD_REPLY_RING];
		struct log_ev e;

		memcpy(slot, b->out.resp[i], FBRESP_LEN);
		slot[FBRESP_LEN - 1] = '\0';
		if (b->o->fault_garbage == OPTS_PHASE_FASTBOOT) {
			/* --fault-garbage fastboot: no OKAY/FAIL/INFO/DATA, noise */
			snprintf(slot, FBRESP_LEN, "%s", "\x7f\x01garbage\xa5\xa5");
			if (!b->delay_logged)
				board_fault(b, "garbage");
			b->delay_logged = true;
		}
		if (b->o->fault_delay_reply_ms && fbusb_final(slot)) {
			if (!b->delay_logged)
				board_fault(b, "delay-reply");
			b->delay_logged = true;
			board_sleep_ms(b, b->o->fault_delay_reply_ms);
		}
		log_begin(&e, b->log, "fb-reply");
		log_str(&e, "reply", slot);
		log_end(&e);
		if (ffs_submit(b->ffs, FBUSB_EP_IN, true, slot, strlen(slot), BOARD_TAG_FB_REPLY) == 0)
			b->out_pending++;
	}
	b->out.n = 0;
	if (b->out.after != FB_AFTER_NONE)
		b->after = b->out.after;
	if (!b->out_pending)
		fbusb_after(b);
}

/* the kernel could not allocate a request buffer: use smaller requests */
static bool fbusb_shrink(struct board *b)
{
	if (b->dl_chunk <= BOARD_DL_CHUNK_MIN)
		return false;
	b->dl_chunk /= 2;
	log_simple_str(b->log, "usb-request-shrunk", "reason", "ENOMEM");
	return true;
}

static void fbusb_arm_data(struct board *b)
{
	uint64_t rem = fb_remaining(b->fb), cap;
	int r;

	while (b->dl_n < BOARD_DL_REQS && rem > b->dl_queued) {
		struct board_dl *d = &b->dl[(b->dl_head + b->dl_n) % BOARD_DL_REQS];
		uint64_t want = rem - b->dl_queued;

		if (b->o->fault_byte && !b->fault_byte_done) {
			/* stop requesting at the fault byte (a whole packet: a request
			 * that ends inside a packet makes the UDC babble) */
			cap = b->o->fault_byte > b->dl_total ? b->o->fault_byte - b->dl_total : 0;
			cap = (cap + FB_MAX_PACKET - 1) / FB_MAX_PACKET * FB_MAX_PACKET;
			if (cap <= b->dl_queued)
				break;
			if (want > cap - b->dl_queued)
				want = cap - b->dl_queued;
		}
		want = (want + FB_MAX_PACKET - 1) / FB_MAX_PACKET * FB_MAX_PACKET;
		if (want > b->dl_chunk)
			want = b->dl_chunk;
		/* after every request still in flight: one that completes short leaves a
		 * gap, closed when its successors are moved down in fbusb_data_done() */
		if (b->dl_n) {
			const struct board_dl *t = &b->dl[(b->dl_head + b->dl_n - 1) % BOARD_DL_REQS];

			d->at = t->at + t->len;
		} else {
			d->at = fb_received(b->fb);
		}
		d->len = (size_t)want;
		d->done = false;
		if (d->at + d->len > fb_buffer_size(b->fb))
			break;
		r = ffs_submit(b->ffs, FBUSB_EP_OUT, false, fb_buffer(b->fb) + d->at, d->len,
			       BOARD_TAG_FB_DATA | (uint64_t)((b->dl_head + b->dl_n) % BOARD_DL_REQS) << 8);
		if (r == -ENOMEM && fbusb_shrink(b))
			continue;
		if (r < 0)
			break;
		b->dl_n++;
		b->dl_queued += d->len;
	}
}

static void fbusb_arm(struct board *b)
{
	if (!b->enabled || b->hung || b->end != BOARD_END_NONE || b->drain_end != BOARD_END_NONE)
		return;
	if (fb_downloading(b->fb)) {
		fbusb_arm_data(b);
		return;
	}
	if (b->fb_cmd_busy || b->dl_n)
		return;
	if (ffs_submit(b->ffs, FBUSB_EP_OUT, false, b->fb_cmd, sizeof(b->fb_cmd), BOARD_TAG_FB_CMD) == 0)
		b->fb_cmd_busy = true;
}

static void fbusb_command(struct board *b, size_t len)
{
	struct log_ev e;

	if (!b->first_seen) {
		b->first_seen = true;
		log_begin(&e, b->log, "fb-first");
		log_strn(&e, "cmd", (const char *)b->fb_cmd, len > 64 ? 64 : len);
		log_end(&e);
	}
	if (b->o->fault_cmd && !b->fault_cmd_done &&
	    fb_command_count(b->fb) + 1 == b->o->fault_cmd) {
		b->fault_cmd_done = true;
		board_fault(b, "disconnect-at-cmd");
		board_end(b, BOARD_END_FAULT, "fault-disconnect-at-cmd");
		return;
	}
	if (unplug_cmd(b, OPTS_UNPLUG_FB, 0))
		return;
	fb_command(b->fb, b->fb_cmd, len, &b->out);
	if (fb_downloading(b->fb))
		unplug_expect_data(b, OPTS_UNPLUG_FB, fb_remaining(b->fb));
	else if (unplug_processed(b, OPTS_UNPLUG_FB))
		return;
	fbusb_send(b);
}

/* --link-mbps: the board takes BYTES no faster than the link's speed; the
 * requests still queued fill meanwhile, like a controller's FIFO. The link is
 * a schedule: each request's bytes take bytes/speed after the previous ones.
 * If the host had the next request filled before the board woke up (the
 * completion was waiting), the link never idled and the schedule runs on,
 * whatever the board's own handling and its timer's lateness cost in the guest;
 * otherwise the host left the link idle and the schedule restarts now: that
 * time is not made up for later.
 * --bus-group: the same bytes also hold the group's shared bus for their slot
 * (bus.h); the board wakes when both its link and the bus are done with them. */
static void fbusb_link_throttle(struct board *b, uint64_t bytes)
{
	uint64_t now, until;
	struct pollfd p = { .fd = ffs_event_fd(b->ffs), .events = POLLIN };

	if (!b->o->link_mbps && !b->bus)
		return;
	if (fb_received(b->fb) == 0)
		b->link_next_ready = false; /* a new download */
	now = util_now_ns();
	until = board_bus_reserve(b, bytes, now);
	if (b->o->link_mbps) {
		if (!b->link_next_ready && b->link_busy_until_ns < now)
			b->link_busy_until_ns = now;
		/* ns at 10^6 B/s per MB/s */
		b->link_busy_until_ns += bytes * 1000u / b->o->link_mbps;
		if (b->link_busy_until_ns > until)
			until = b->link_busy_until_ns;
	}
	b->link_next_ready = false;
	if (until > now) {
		board_sleep_ns(b, until - now);
		b->link_next_ready = poll(&p, 1, 0) > 0;
	}
}

/* completed download requests, in the order they were queued */
static void fbusb_data_done(struct board *b)
{
	while (b->dl_n && b->dl[b->dl_head].done) {
		struct board_dl d = b->dl[b->dl_head];

		b->dl_head = (b->dl_head + 1) % BOARD_DL_REQS;
		b->dl_n--;
		b->dl_queued -= d.len;
		if (d.res == -ENOMEM)
			fbusb_shrink(b);
		if (d.res < 0 || !fb_downloading(b->fb))
			continue; /* cancelled (disable/reset), or resubmitted by fbusb_arm() */
		b->dl_total += (uint64_t)d.res;
		if (unplug_data(b, OPTS_UNPLUG_FB, (uint64_t)d.res))
			return;
		fbusb_link_throttle(b, (uint64_t)d.res);
		fb_data(b->fb, d.at, (size_t)d.res, &b->out);
		if (!fb_downloading(b->fb))
			board_bus_log(b, "download-done");
		fbusb_send(b);
		if (b->o->fault_byte && !b->fault_byte_done && b->dl_total >= b->o->fault_byte) {
			b->fault_byte_done = true;
			board_fault(b, "disconnect-at-byte");
			board_end(b, BOARD_END_FAULT, "fault-disconnect-at-byte");
			return;
		}
	}
}

static void fbusb_io(struct board *b, uint64_t tag, long res)
{
	switch ((enum board_tag)(tag & 0xff)) {
	case BOARD_TAG_FB_CMD:
		b->fb_cmd_busy = false;
		if (res >= 0 && b->enabled)
			fbusb_command(b, (size_t)res);
		break;
	case BOARD_TAG_FB_DATA:
		b->dl[(tag >> 8) % BOARD_DL_REQS].done = true;
		b->dl[(tag >> 8) % BOARD_DL_REQS].res = res;
		fbusb_data_done(b);
		break;
	case BOARD_TAG_FB_REPLY:
		if (b->out_pending)
			b->out_pending--;
		if (!b->out_pending && !fb_downloading(b->fb) && unplug_replied(b, OPTS_UNPLUG_FB))
			return;
		if (!b->out_pending)
			fbusb_after(b);
		break;
	case BOARD_TAG_ROM_IN:
	case BOARD_TAG_SPL_IN:
	case BOARD_TAG_SPL_OUT:
		break;
	}
	fbusb_arm(b);
}

static void fbusb_enable(struct board *b)
{
	fb_usb_reset(b->fb);
	fbusb_arm(b);
}

static void fbusb_disable(struct board *b)
{
	fb_usb_reset(b->fb);
}

static void fbusb_setup(struct board *b, const struct usb_ctrlrequest *req)
{
	/* f_fastboot has no setup handler: composite stalls */
	board_setup_stall(b, req);
}

static void fbusb_timer(struct board *b)
{
	if (b->drain_end != BOARD_END_NONE)
		board_end(b, b->drain_end, b->drain_why);
}

const struct board_ops fbusb_ops = {
	.enable = fbusb_enable,
	.disable = fbusb_disable,
	.setup = fbusb_setup,
	.io = fbusb_io,
	.timer = fbusb_timer,
};
