/* fake_usb: a test-only implementation of the usb.h transfer functions the
 * sessions use, driven by a scripted device model.
 *
 * Like libusb, a transfer never completes inside its submit call: it is
 * queued, offered to the model from the event loop in submission order,
 * and its callback runs from the loop. A transfer the model holds (FAKE_HOLD)
 * stays pending until fake_usb_kick() re-offers it, it is cancelled, the
 * device is unplugged, or its timeout expires (-ETIMEDOUT, real libevent
 * timer). usb_xfer_cancel() completes with -ECANCELED from the loop. */
#ifndef FLASHD_TEST_FAKE_USB_H
#define FLASHD_TEST_FAKE_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/usb.h"

#define FAKE_HOLD 1

struct fake_setup {
	uint8_t bm, req;
	uint16_t val, idx;
};

struct fake_dev_ops {
	/* OUT (control when setup != NULL, else bulk on ep): return 0 with
	 * *actual set (preset to len), -errno as the status, or FAKE_HOLD. */
	int (*out)(void *ud, const struct fake_setup *setup, uint8_t ep, const uint8_t *data,
		   size_t len, size_t *actual);
	/* IN (interrupt or bulk): fill buf (≤ len), set *actual; return 0,
	 * -errno, or FAKE_HOLD (nothing to send yet). */
	int (*in)(void *ud, uint8_t ep, uint8_t *buf, size_t len, size_t *actual);
	/* control IN (optional; NULL: every request stalls, -EPIPE): fill buf
	 * (≤ len), set *actual; return 0, -errno or FAKE_HOLD. */
	int (*ctl_in)(void *ud, const struct fake_setup *setup, uint8_t *buf, size_t len,
		      size_t *actual);
};

struct fake_stats {
	unsigned submitted;      /* transfers accepted by a submit call */
	unsigned live;           /* submitted and whose callback has not returned */
	unsigned out_live;       /* bulk OUT transfers live now */
	unsigned out_max_live;   /* most bulk OUT transfers live at once */
	unsigned zlps;           /* zero-length bulk OUT transfers (must stay 0) */
	unsigned ctl_live;       /* control (or interrupt) OUT transfers live now */
	unsigned ctl_max_live;   /* most of them live at once */
	unsigned in_beside_ctl;  /* IN transfers submitted while one was live */
	unsigned int_out;        /* interrupt OUT transfers offered to the model */
	unsigned cancels;        /* usb_xfer_cancel calls */
	unsigned ctl_in;         /* control IN transfers offered to the model */
	unsigned last_timeout_ms;/* timeout of the last IN transfer submitted */
	unsigned max_timeout_ms; /* largest timeout of any IN transfer */
	uint64_t out_bytes;      /* bulk OUT bytes accepted by the model */
	unsigned bufs_live;      /* usb_dev_buf_alloc'd and not freed */
	unsigned bufs_allocated; /* usb_dev_buf_alloc successes */
	int claimed_iface;       /* -1 until usb_dev_claim */
	bool claim_detach;
};

struct event_base;
struct usb_dev *fake_usb_new(struct event_base *base, const struct fake_dev_ops *ops, void *ud);
/* Fails the test if transfers are still live. */
void fake_usb_free(struct usb_dev *d);
void fake_usb_kick(struct usb_dev *d);
/* usb_dev_buf_alloc fails (NULL) while on. */
void fake_usb_fail_buf_alloc(struct usb_dev *d, bool on);
/* Pending transfers complete with -ENODEV; later submits fail with -ENODEV. */
void fake_usb_unplug(struct usb_dev *d);
/* Make the next n submits succeed, then the following one fail with err. */
void fake_usb_fail_submit(struct usb_dev *d, unsigned after, int err);
/* Fastboot interface lookup results (defaults: iface 0, 0x81, 0x01, 512). */
void fake_usb_set_bulk(struct usb_dev *d, int find_result, int iface, uint8_t ep_in,
		       uint8_t ep_out);
/* usb_dev_claim's result: -errno, or 1 (with detach: a kernel driver was detached) */
void fake_usb_set_claim_result(struct usb_dev *d, int r);
/* The interrupt OUT endpoint usb_dev_find_interrupt_out finds (0: none, the default). */
void fake_usb_set_interrupt_out(struct usb_dev *d, uint8_t ep);
const struct fake_stats *fake_usb_stats(const struct usb_dev *d);

#endif
