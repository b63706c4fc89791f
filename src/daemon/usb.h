/* SPDX-License-Identifier: GPL-2.0-or-later */
/* usb: libusb on the libevent loop. The one place libusb codes become -errno. */
#ifndef FLASHD_DAEMON_USB_H
#define FLASHD_DAEMON_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

struct usb_ctx; struct usb_dev; struct usb_xfer;
int usb_ctx_new(struct event_base *base, struct usb_ctx **out);   /* libusb ctx, NO_DEVICE_DISCOVERY, pollfds on the loop, next-timeout timer */
struct usb_ctx *usb_ctx_free(struct usb_ctx *ctx);
int usb_dev_open(struct usb_ctx *ctx, const char *devnode, struct usb_dev **out); /* open(devnode, O_RDWR|O_CLOEXEC) + libusb_wrap_sys_device; -EACCES/-ENOENT for the caller to retry */
int usb_dev_claim(struct usb_dev *d, int iface, bool detach_kernel_driver); /* 1: claimed after detaching a kernel driver, 0: claimed, -errno */
int usb_dev_find_bulk(struct usb_dev *d, uint8_t cls, uint8_t sub, uint8_t proto, int *iface, uint8_t *ep_in, uint8_t *ep_out, uint16_t *max_packet); /* out-params may be NULL */
/* The first interrupt OUT endpoint of interface iface (alt 0); -ENOENT if none. */
int usb_dev_find_interrupt_out(struct usb_dev *d, int iface, uint8_t *ep);
int usb_dev_ids(struct usb_dev *d, uint16_t *vid, uint16_t *pid, uint16_t *bcd);
int usb_dev_serial(struct usb_dev *d, char *buf, size_t len);     /* iSerialNumber or -ENOENT */
/* Async transfers. cb runs on the loop with status 0 or -errno (-ETIMEDOUT, -ENODEV, -EPIPE, -EOVERFLOW, -EIO, -ECANCELED) and the byte count.
 * Never free the usb_dev inside a cb: usb_dev_close() marks it dead and reaps it from a deferred event. */
typedef void (*usb_cb)(void *ud, int status, size_t actual);
/* usb_control_out copies data into the transfer (the caller's buffer is free again on
 * return); bulk and interrupt transfers use the caller's buffer until their cb ran. */
int usb_control_out(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx, const void *data, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
/* Control IN (bm gets LIBUSB_ENDPOINT_IN): up to len bytes land in buf
 * (which must stay valid until cb ran); actual = bytes received. */
int usb_control_in(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx, void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
int usb_interrupt_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
int usb_interrupt_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
int usb_bulk_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
int usb_bulk_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out);
void usb_xfer_cancel(struct usb_xfer *x);   /* cb will run later with -ECANCELED (or its real status) */
/* A buffer for bulk OUT data, owned by d until usb_dev_buf_free (d is not
 * freed before: a closed device waits for its buffers too). usbfs zero-copy
 * memory when the kernel grants it (libusb_dev_mem_alloc: the host
 * controller sends straight from it; counts against usbfs_memory_mb while
 * allocated; *zerocopy = true), else page-aligned heap memory that usbfs
 * copies at submit. NULL when out of memory. */
uint8_t *usb_dev_buf_alloc(struct usb_dev *d, size_t len, bool *zerocopy);
void usb_dev_buf_free(struct usb_dev *d, uint8_t *p);
void usb_dev_close(struct usb_dev *d);      /* cancels everything pending; their cbs run with -ECANCELED/-ENODEV, then the dev is freed */

#endif
