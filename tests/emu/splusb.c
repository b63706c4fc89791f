/* splusb: U-Boot SPL's SDP gadget on USB (drivers/usb/gadget/f_sdp.c): ep0 takes
 * GET_DESCRIPTOR (the HID report descriptor; the first fetch ends sdp_init()'s
 * wait, configuration_done) and SET_REPORT; every other request to the
 * interface is acked with no data, as sdp_setup() does. Reports 3/4 go out on
 * the interrupt IN endpoint (ep1), reports 1/2 come in on ep0 or the interrupt
 * OUT endpoint (ep2). The protocol is spl.c. */
#include "board.h"

#include "unplug.h"
#include "util.h"

#include <string.h>

#define SPLUSB_HID_SET_REPORT 0x09
#define SPLUSB_SETUP_MAX 2048u

static void splusb_kick(struct board *b)
{
	size_t len;

	if (!b->enabled || b->hung)
		return;
	/* one turn of sdp_handle(): the IN side first, then the OUT side */
	if (!b->spl_in_busy && spl_in_next(b->spl, b->spl_in, &len) == 0) {
		if (b->o->fault_garbage == OPTS_PHASE_SPL) {
			memset(b->spl_in + 1, 0xA5, len - 1); /* --fault-garbage spl */
			board_fault(b, "garbage");
		}
		if (ffs_submit(b->ffs, 1, true, b->spl_in, len, BOARD_TAG_SPL_IN) == 0)
			b->spl_in_busy = true;
	}
	if (spl_state(b->spl) == SPL_BOOTED) {
		/* report 3 of the jump may still sit in dummy_hcd's FIFO: leave
		 * the bus once the host had time to read it */
		board_timer(b, BOARD_DRAIN_MS);
		return;
	}
	if (spl_state(b->spl) == SPL_HUNG) {
		b->hung = true;
		return;
	}
	if (!b->spl_out_busy && spl_out_wanted(b->spl) &&
	    ffs_submit(b->ffs, 2, false, b->spl_out, sizeof(b->spl_out), BOARD_TAG_SPL_OUT) == 0)
		b->spl_out_busy = true;
}

static void splusb_enable(struct board *b)
{
	spl_set_alt(b->spl);
	splusb_kick(b);
}

static void splusb_disable(struct board *b)
{
	/* sdp_disable(): the requests are freed; set_alt makes new ones */
	(void)b;
}

extern const struct board_ops splusb_ops;

/* A report arrived while the last IN report is still ours: the host only
 * sends after reading it, so its completion is on the way (FunctionFS
 * completes AIO from a workqueue, after the UDC gave the request back; in
 * U-Boot sdp_tx_complete() has run by now). Take it first, or the command
 * meets a "busy" state and f_sdp's "Wrong State" path drops the next
 * report 3. */
static void splusb_settle_in(struct board *b)
{
	for (int i = 0; i < 20 && b->spl_in_busy; i++)
		board_reap_wait(b, &splusb_ops, 10);
}

/* --unplug-at spl: a report 1 or 2 arrived (true: the power is gone, drop it) */
static bool splusb_unplug_in(struct board *b, const uint8_t *buf, long len)
{
	if (len >= 1 && buf[0] == 1)
		return unplug_cmd(b, OPTS_UNPLUG_SPL, unplug_sdp_data(buf, (size_t)len));
	if (len >= 1 && buf[0] == 2)
		return unplug_data(b, OPTS_UNPLUG_SPL, (uint64_t)len - 1);
	return false;
}

/* the report was a command carried out at once (no data phase): true when the
 * power is cut before its reply */
static bool splusb_unplug_done(struct board *b, const uint8_t *buf, long len)
{
	enum spl_state s = spl_state(b->spl);

	return len >= 1 && buf[0] == 1 && s != SPL_RX_DCD_DATA && s != SPL_RX_FILE_DATA &&
	       s != SPL_RX_FILE_DATA_BUSY && unplug_processed(b, OPTS_UNPLUG_SPL);
}

/* the IN side is idle after a command: its last reply went out */
static void splusb_unplug_out(struct board *b)
{
	enum spl_state s = spl_state(b->spl);

	if (!b->spl_in_busy && (s == SPL_IDLE || s == SPL_RX_CMD || s == SPL_BOOTED))
		(void)unplug_replied(b, OPTS_UNPLUG_SPL);
}

static void splusb_set_report(struct board *b, const struct usb_ctrlrequest *req)
{
	uint8_t buf[SPLUSB_SETUP_MAX];
	uint16_t len = req->wLength < sizeof(buf) ? req->wLength : sizeof(buf);
	int n = ffs_setup_out(b->ffs, buf, len);

	if (n <= 0)
		return;
	splusb_settle_in(b);
	if (splusb_unplug_in(b, buf, n))
		return;
	(void)spl_setup_report(b->spl, buf, (size_t)n);
	if (spl_state(b->spl) == SPL_HUNG) {
		b->hung = true;
		return;
	}
	if (splusb_unplug_done(b, buf, n))
		return;
	splusb_kick(b);
}

static void splusb_setup(struct board *b, const struct usb_ctrlrequest *req)
{
	uint8_t type = req->bRequestType & USB_TYPE_MASK;
	struct log_ev e;

	if (type == USB_TYPE_STANDARD && req->bRequest == USB_REQ_GET_DESCRIPTOR) {
		/* sdp_setup(): any GET_DESCRIPTOR that reaches the function gets
		 * the report descriptor and sets configuration_done */
		log_begin(&e, b->log, "hid");
		log_str(&e, "request", "get-descriptor");
		log_hex32(&e, "value", req->wValue);
		log_end(&e);
		ffs_setup_in(b->ffs, ffs_hid_report_desc,
			     sizeof(ffs_hid_report_desc) < req->wLength ? sizeof(ffs_hid_report_desc)
									: req->wLength);
		spl_config_done(b->spl);
		splusb_kick(b);
		return;
	}
	if (type == USB_TYPE_CLASS && req->bRequest == SPLUSB_HID_SET_REPORT &&
	    !(req->bRequestType & USB_DIR_IN)) {
		splusb_set_report(b, req);
		return;
	}
	/* everything else: value 0, a zero-length reply (SET_IDLE among them) */
	log_begin(&e, b->log, "hid");
	log_str(&e, "request", type == USB_TYPE_CLASS && req->bRequest == 0x0A ? "set-idle" : "other");
	log_hex32(&e, "value", req->wValue);
	log_end(&e);
	if (req->bRequestType & USB_DIR_IN)
		ffs_setup_in(b->ffs, NULL, 0);
	else
		ffs_setup_out(b->ffs, NULL, 0);
}

static void splusb_io(struct board *b, uint64_t tag, long res)
{
	switch ((enum board_tag)(tag & 0xff)) {
	case BOARD_TAG_SPL_IN:
		b->spl_in_busy = false;
		spl_in_done(b->spl, res);
		if (res >= 0)
			splusb_kick(b);
		if (b->end == BOARD_END_NONE)
			splusb_unplug_out(b);
		return;
	case BOARD_TAG_SPL_OUT:
		b->spl_out_busy = false;
		if (res > 0)
			splusb_settle_in(b);
		if (res > 0 && splusb_unplug_in(b, b->spl_out, res))
			return;
		if (res > 1 && b->spl_out[0] == 2)
			board_bus_take(b, (uint64_t)res - 1); /* --bus-group: a data report's payload */
		spl_out_done(b->spl, b->spl_out, res);
		if (spl_state(b->spl) == SPL_HUNG) {
			b->hung = true;
			return;
		}
		if (res > 0 && splusb_unplug_done(b, b->spl_out, res))
			return;
		break;
	case BOARD_TAG_ROM_IN:
	case BOARD_TAG_FB_CMD:
	case BOARD_TAG_FB_DATA:
	case BOARD_TAG_FB_REPLY:
		return;
	}
	if (res >= 0)
		splusb_kick(b);
}

static void splusb_timer(struct board *b)
{
	/* jump_to_image(): U-Boot proper starts and sets up USB anew */
	if (spl_state(b->spl) == SPL_BOOTED) {
		board_set_phase(b, BOARD_PHASE_SPL_JUMP);
		board_end(b, BOARD_END_JUMP, "spl-jump");
	}
}

const struct board_ops splusb_ops = {
	.enable = splusb_enable,
	.disable = splusb_disable,
	.setup = splusb_setup,
	.io = splusb_io,
	.timer = splusb_timer,
};
