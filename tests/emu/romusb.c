/* romusb: the boot ROM's USB side: ep0 carries HID class requests (SET_IDLE,
 * the report descriptor, SET_REPORT with reports 1 and 2); reports 3 and 4 go
 * out one at a time on the interrupt IN endpoint (ep1). The protocol is rom.c. */
#include "board.h"

#include "unplug.h"
#include "util.h"

#include <string.h>

#define ROMUSB_HID_GET_REPORT 0x01
#define ROMUSB_HID_SET_REPORT 0x09
#define ROMUSB_HID_SET_IDLE 0x0A
#define ROMUSB_SETUP_MAX 2048u
#define ROMUSB_JUMP_TIMEOUT_MS 2000u

/* queue the next due report if none is on the endpoint */
static void romusb_kick(struct board *b)
{
	size_t len;

	if (b->rom_in_busy || !b->enabled || b->hung)
		return;
	if (rom_next_report(b->rom, b->rom_in, &len) < 0)
		return;
	if (b->o->fault_garbage == OPTS_PHASE_ROM) {
		/* a board that answers garbage: the report ID stays, the rest is noise */
		memset(b->rom_in + 1, 0xA5, len - 1);
		board_fault(b, "garbage");
	}
	if (ffs_submit(b->ffs, 1, true, b->rom_in, len, BOARD_TAG_ROM_IN) == 0)
		b->rom_in_busy = true;
	if (rom_state(b->rom) == ROM_JUMPED)
		board_timer(b, ROMUSB_JUMP_TIMEOUT_MS);
}

static void romusb_jump(struct board *b)
{
	board_set_phase(b, BOARD_PHASE_JUMP);
	board_end(b, BOARD_END_JUMP, "jump");
}

static void romusb_enable(struct board *b)
{
	romusb_kick(b);
}

/* a bus reset or reconfiguration restarts the ROM's USB stack: the command in
 * progress and the reports not yet read are gone (RAM stays) */
static void romusb_disable(struct board *b)
{
	if (rom_state(b->rom) != ROM_JUMPED && rom_state(b->rom) != ROM_HUNG)
		rom_usb_reset(b->rom);
}

static void romusb_set_report(struct board *b, const struct usb_ctrlrequest *req)
{
	uint8_t buf[ROMUSB_SETUP_MAX];
	uint16_t len = req->wLength < sizeof(buf) ? req->wLength : sizeof(buf);
	int n;

	if (b->hang_sdp) {
		/* never answered: the host's control transfer times out */
		b->hung = true;
		log_simple_str(b->log, "hang", "phase", "rom");
		return;
	}
	if (b->o->fault_stall == OPTS_STALL_EP0) {
		board_fault(b, "stall-ep0");
		ffs_setup_stall(b->ffs, req);
		return;
	}
	n = ffs_setup_out(b->ffs, buf, len);
	if (n <= 0)
		return;
	if (buf[0] == 2 && b->o->fault_sdp_byte && !b->fault_sdp_byte_done) {
		b->sdp_data_total += (uint64_t)n - 1;
		if (b->sdp_data_total >= b->o->fault_sdp_byte) {
			/* off the bus in the middle of a write: the reports the host
			 * has queued behind this one never arrive */
			b->fault_sdp_byte_done = true;
			board_fault(b, "disconnect-at-sdp-byte");
			board_end(b, BOARD_END_FAULT, "fault-disconnect-at-sdp-byte");
			return;
		}
	}
	if (buf[0] == 1 && unplug_cmd(b, OPTS_UNPLUG_ROM, unplug_sdp_data(buf, (size_t)n)))
		return;
	if (buf[0] == 2 && unplug_data(b, OPTS_UNPLUG_ROM, (uint64_t)n - 1))
		return;
	if (buf[0] == 2)
		board_bus_take(b, (uint64_t)n - 1); /* --bus-group: the report's payload */
	rom_set_report(b->rom, buf, (size_t)n);
	if (rom_state(b->rom) == ROM_HUNG) {
		b->hung = true;
		return;
	}
	if (rom_state(b->rom) != ROM_RX_DATA && unplug_processed(b, OPTS_UNPLUG_ROM))
		return;
	romusb_kick(b);
}

static void romusb_get_descriptor(struct board *b, const struct usb_ctrlrequest *req)
{
	uint8_t type = (uint8_t)(req->wValue >> 8);
	const uint8_t *d = NULL;
	size_t len = 0;
	struct log_ev e;

	log_begin(&e, b->log, "hid");
	log_str(&e, "request", "get-descriptor");
	log_hex32(&e, "value", req->wValue);
	log_end(&e);
	if (type == 0x22) {
		d = ffs_hid_report_desc;
		len = sizeof(ffs_hid_report_desc);
	} else if (type == 0x21) {
		d = ffs_hid_desc;
		len = sizeof(ffs_hid_desc);
	}
	if (!d) {
		ffs_setup_stall(b->ffs, req);
		return;
	}
	ffs_setup_in(b->ffs, d, len < req->wLength ? len : req->wLength);
}

static void romusb_setup(struct board *b, const struct usb_ctrlrequest *req)
{
	uint8_t type = req->bRequestType & USB_TYPE_MASK;

	if (type == USB_TYPE_CLASS && req->bRequest == ROMUSB_HID_SET_REPORT &&
	    !(req->bRequestType & USB_DIR_IN)) {
		romusb_set_report(b, req);
	} else if (type == USB_TYPE_CLASS && req->bRequest == ROMUSB_HID_SET_IDLE) {
		log_simple_str(b->log, "hid", "request", "set-idle");
		ffs_setup_out(b->ffs, NULL, 0);
	} else if (type == USB_TYPE_STANDARD && req->bRequest == USB_REQ_GET_DESCRIPTOR &&
		   (req->bRequestType & USB_DIR_IN)) {
		romusb_get_descriptor(b, req);
	} else {
		board_setup_stall(b, req);
	}
}

static void romusb_io(struct board *b, uint64_t tag, long res)
{
	if ((tag & 0xff) != BOARD_TAG_ROM_IN)
		return;
	b->rom_in_busy = false;
	if (rom_state(b->rom) == ROM_JUMPED) {
		if (unplug_replied(b, OPTS_UNPLUG_ROM))
			return;
		/* report 3 of the jump is queued (or the host went away): the ROM
		 * branches once the host had time to read it */
		board_timer(b, BOARD_DRAIN_MS);
		return;
	}
	if (res >= 0)
		romusb_kick(b);
	if (!b->rom_in_busy && rom_state(b->rom) == ROM_IDLE)
		(void)unplug_replied(b, OPTS_UNPLUG_ROM);
}

static void romusb_timer(struct board *b)
{
	/* report 3 of the jump had its time (or was never taken): the ROM branches */
	if (rom_state(b->rom) == ROM_JUMPED)
		romusb_jump(b);
}

const struct board_ops romusb_ops = {
	.enable = romusb_enable,
	.disable = romusb_disable,
	.setup = romusb_setup,
	.io = romusb_io,
	.timer = romusb_timer,
};
