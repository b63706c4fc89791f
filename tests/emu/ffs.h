/* ffs: FunctionFS (usb_f_fs) I/O for one function instance: the descriptor and
 * string blocks of the three emulated functions, ep0 events and control
 * replies, and asynchronous endpoint transfers (kernel AIO with an eventfd, so
 * one poll() loop drives everything and several bulk requests stay queued). */
#ifndef EMU_FFS_H
#define EMU_FFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

#define FFS_MAX_IO 32
#define FFS_HID_REPORT_DESC_LEN 76

enum ffs_kind {
	FFS_KIND_ROM,      /* HID, one interrupt IN endpoint (ep1) */
	FFS_KIND_FASTBOOT, /* ff/42/03, bulk IN (ep1) + bulk OUT (ep2) */
	FFS_KIND_RUNTIME,  /* ff/00/00, bulk IN (ep1) + bulk OUT (ep2) */
	FFS_KIND_SPL,      /* HID, interrupt IN (ep1) + interrupt OUT (ep2): f_sdp.c */
};

struct ffs_done {
	uint64_t tag;
	long res; /* bytes or -errno */
};

struct ffs;

/* the HID report descriptor of the i.MX6 ROM (reports 1-4, protocols.md §2.1) */
extern const uint8_t ffs_hid_report_desc[FFS_HID_REPORT_DESC_LEN];
/* its HID class descriptor (9 bytes) */
extern const uint8_t ffs_hid_desc[9];

/* the blocks written to ep0 (exposed for unit tests); -ENOSPC */
int ffs_build_descs(enum ffs_kind kind, uint8_t *buf, size_t cap, size_t *len);
int ffs_build_strings(enum ffs_kind kind, uint8_t *buf, size_t cap, size_t *len);

/* open DIR/ep0, write the blocks, open the endpoint files, set up AIO; -errno */
int ffs_open(const char *dir, enum ffs_kind kind, struct ffs **out);
/* cancels and reaps every transfer, closes everything */
struct ffs *ffs_close(struct ffs *f);
int ffs_ep0_fd(const struct ffs *f);
/* readable when transfers completed */
int ffs_event_fd(const struct ffs *f);
/* up to MAX ep0 events: count, 0 if none (-EAGAIN), or -errno */
int ffs_read_events(struct ffs *f, struct usb_functionfs_event *ev, unsigned max);
/* control transfers: data stage IN, data stage OUT (or the status stage when
 * LEN is 0), or a stall; -errno */
int ffs_setup_in(struct ffs *f, const void *data, size_t len);
int ffs_setup_out(struct ffs *f, void *buf, size_t len);
int ffs_setup_stall(struct ffs *f, const struct usb_ctrlrequest *req);
/* queue a transfer on endpoint file EP (1-based); -EBUSY when FFS_MAX_IO are queued */
int ffs_submit(struct ffs *f, unsigned ep, bool in, void *buf, size_t len, uint64_t tag);
/* completed transfers, in completion order; count or -errno */
int ffs_reap(struct ffs *f, struct ffs_done *done, unsigned max);
/* Same, but waits up to timeout_ms for at least one completion (0 if none came). */
int ffs_reap_wait(struct ffs *f, struct ffs_done *done, unsigned max, unsigned timeout_ms);
unsigned ffs_inflight(const struct ffs *f);
/* cancel every queued transfer (completions are reaped later) */
void ffs_cancel_all(struct ffs *f);
/* halt (stall) endpoint EP until the host clears it; -errno */
int ffs_halt(struct ffs *f, unsigned ep, bool in);

#endif
