/* ffs: see ffs.h. Descriptor layout: Documentation/usb/functionfs.rst and
 * include/uapi/linux/usb/functionfs.h (v2 block, FS + HS sets). */
#include "ffs.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FFS_MAX_EPS 2
#define FFS_PATH_MAX 512

const uint8_t ffs_hid_report_desc[FFS_HID_REPORT_DESC_LEN] = {
	0x06, 0x00, 0xff, 0x09, 0x01, 0xa1, 0x01,
	/* report 1: 16 bytes out */
	0x85, 0x01, 0x19, 0x01, 0x29, 0x01, 0x15, 0x00, 0x26, 0xff, 0x00,
	0x75, 0x08, 0x95, 0x10, 0x91, 0x02,
	/* report 2: 64 x 128 bits = 1024 bytes out */
	0x85, 0x02, 0x19, 0x01, 0x29, 0x01, 0x15, 0x00, 0x26, 0xff, 0x00,
	0x75, 0x80, 0x95, 0x40, 0x91, 0x02,
	/* report 3: 4 bytes in */
	0x85, 0x03, 0x19, 0x01, 0x29, 0x01, 0x15, 0x00, 0x26, 0xff, 0x00,
	0x75, 0x08, 0x95, 0x04, 0x81, 0x02,
	/* report 4: 64 bytes in */
	0x85, 0x04, 0x19, 0x01, 0x29, 0x01, 0x15, 0x00, 0x26, 0xff, 0x00,
	0x75, 0x08, 0x95, 0x40, 0x81, 0x02,
	0xc0,
};

const uint8_t ffs_hid_desc[9] = {
	9, 0x21, 0x10, 0x01, 0x00, 0x01, 0x22, FFS_HID_REPORT_DESC_LEN, 0x00,
};

struct ffs_io {
	struct iocb cb;
	bool busy;
};

struct ffs {
	int ep0;
	int ep[FFS_MAX_EPS + 1];
	unsigned neps;
	aio_context_t ctx;
	int evfd;
	struct ffs_io io[FFS_MAX_IO];
	unsigned inflight;
};

struct ffs_buf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static void ffs_put(struct ffs_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void ffs_put_le32(struct ffs_buf *b, uint32_t v)
{
	uint8_t x[4];

	util_put_le32(x, v);
	ffs_put(b, x, 4);
}

static void ffs_put_intf(struct ffs_buf *b, uint8_t neps, uint8_t cls, uint8_t sub, uint8_t proto,
			 uint8_t istr)
{
	const uint8_t d[9] = { 9, USB_DT_INTERFACE, 0, 0, neps, cls, sub, proto, istr };

	ffs_put(b, d, sizeof(d));
}

static void ffs_put_ep(struct ffs_buf *b, uint8_t addr, uint8_t type, uint16_t mps, uint8_t ival)
{
	const uint8_t d[7] = { 7, USB_DT_ENDPOINT, addr, type, (uint8_t)mps, (uint8_t)(mps >> 8), ival };

	ffs_put(b, d, sizeof(d));
}

/* one speed's descriptor set; returns the count */
static uint32_t ffs_put_set(struct ffs_buf *b, enum ffs_kind kind, bool hs)
{
	switch (kind) {
	case FFS_KIND_ROM:
		ffs_put_intf(b, 1, USB_CLASS_HID, 0, 0, 0);
		ffs_put(b, ffs_hid_desc, sizeof(ffs_hid_desc));
		ffs_put_ep(b, 0x81, USB_ENDPOINT_XFER_INT, 64, 1);
		return 3;
	case FFS_KIND_FASTBOOT:
		ffs_put_intf(b, 2, 0xff, 0x42, 0x03, 1);
		ffs_put_ep(b, 0x81, USB_ENDPOINT_XFER_BULK, hs ? 512 : 64, 0);
		ffs_put_ep(b, 0x02, USB_ENDPOINT_XFER_BULK, hs ? 512 : 64, 0);
		return 3;
	case FFS_KIND_SPL:
		/* U-Boot's drivers/usb/gadget/f_sdp.c: sdp_intf_runtime, sdp_hid_desc,
		 * in_desc/out_desc (64, bInterval 1) and in_hs_desc (512) /
		 * out_hs_desc (1024, SDP_HID_PACKET_SIZE_EP1), bInterval 3 */
		ffs_put_intf(b, 2, USB_CLASS_HID, 0, 0, 1);
		ffs_put(b, ffs_hid_desc, sizeof(ffs_hid_desc));
		ffs_put_ep(b, 0x81, USB_ENDPOINT_XFER_INT, hs ? 512 : 64, hs ? 3 : 1);
		ffs_put_ep(b, 0x01, USB_ENDPOINT_XFER_INT, hs ? 1024 : 64, hs ? 3 : 1);
		return 4;
	case FFS_KIND_RUNTIME:
		ffs_put_intf(b, 2, 0xff, 0x00, 0x00, 0);
		ffs_put_ep(b, 0x81, USB_ENDPOINT_XFER_BULK, hs ? 512 : 64, 0);
		ffs_put_ep(b, 0x02, USB_ENDPOINT_XFER_BULK, hs ? 512 : 64, 0);
		return 3;
	}
	return 0;
}

int ffs_build_descs(enum ffs_kind kind, uint8_t *buf, size_t cap, size_t *len)
{
	struct ffs_buf b = { buf, cap, 0, false };
	struct ffs_buf scratch = { NULL, 0, 0, false };
	uint8_t tmp[128];
	uint32_t fs, hs;

	/* count first, then write header + counts + both sets */
	scratch.p = tmp;
	scratch.cap = sizeof(tmp);
	fs = ffs_put_set(&scratch, kind, false);
	scratch.len = 0;
	hs = ffs_put_set(&scratch, kind, true);
	ffs_put_le32(&b, FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	ffs_put_le32(&b, 0);
	ffs_put_le32(&b, FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	ffs_put_le32(&b, fs);
	ffs_put_le32(&b, hs);
	ffs_put_set(&b, kind, false);
	ffs_put_set(&b, kind, true);
	if (b.overflow)
		return -ENOSPC;
	util_put_le32(buf + 4, (uint32_t)b.len);
	*len = b.len;
	return 0;
}

int ffs_build_strings(enum ffs_kind kind, uint8_t *buf, size_t cap, size_t *len)
{
	static const char fastboot_name[] = "Android Fastboot";
	static const char sdp_name[] = "Serial Downloader Protocol"; /* f_sdp.c */
	struct ffs_buf b = { buf, cap, 0, false };
	bool has = kind == FFS_KIND_FASTBOOT || kind == FFS_KIND_SPL;
	const char *name = kind == FFS_KIND_SPL ? sdp_name : fastboot_name;
	const uint8_t lang[2] = { 0x09, 0x04 };

	ffs_put_le32(&b, FUNCTIONFS_STRINGS_MAGIC);
	ffs_put_le32(&b, 0);
	ffs_put_le32(&b, has ? 1 : 0);
	ffs_put_le32(&b, has ? 1 : 0);
	if (has) {
		ffs_put(&b, lang, sizeof(lang));
		ffs_put(&b, name, strlen(name) + 1);
	}
	if (b.overflow)
		return -ENOSPC;
	util_put_le32(buf + 4, (uint32_t)b.len);
	*len = b.len;
	return 0;
}

static long ffs_io_setup(unsigned nr, aio_context_t *ctx)
{
	return syscall(__NR_io_setup, nr, ctx);
}

static long ffs_io_destroy(aio_context_t ctx)
{
	return syscall(__NR_io_destroy, ctx);
}

static long ffs_io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
	return syscall(__NR_io_submit, ctx, n, cbs);
}

static long ffs_io_cancel(aio_context_t ctx, struct iocb *cb, struct io_event *ev)
{
	return syscall(__NR_io_cancel, ctx, cb, ev);
}

static long ffs_io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev,
			     struct timespec *ts)
{
	return syscall(__NR_io_getevents, ctx, min, max, ev, ts);
}

static int ffs_write_all(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int ffs_open(const char *dir, enum ffs_kind kind, struct ffs **out)
{
	char path[FFS_PATH_MAX];
	uint8_t blk[512];
	size_t len;
	struct ffs *f;
	int r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ep0 = f->evfd = -1;
	for (unsigned i = 0; i <= FFS_MAX_EPS; i++)
		f->ep[i] = -1;
	f->neps = kind == FFS_KIND_ROM ? 1 : 2;
	snprintf(path, sizeof(path), "%s/ep0", dir);
	f->ep0 = open(path, O_RDWR | O_CLOEXEC);
	if (f->ep0 < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = ffs_build_descs(kind, blk, sizeof(blk), &len)) < 0 ||
	    (r = ffs_write_all(f->ep0, blk, len)) < 0 ||
	    (r = ffs_build_strings(kind, blk, sizeof(blk), &len)) < 0 ||
	    (r = ffs_write_all(f->ep0, blk, len)) < 0)
		goto fail;
	for (unsigned i = 1; i <= f->neps; i++) {
		snprintf(path, sizeof(path), "%s/ep%u", dir, i);
		f->ep[i] = open(path, O_RDWR | O_CLOEXEC);
		if (f->ep[i] < 0) {
			r = -errno;
			goto fail;
		}
	}
	f->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->evfd < 0 || ffs_io_setup(FFS_MAX_IO, &f->ctx) < 0) {
		r = -errno;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	ffs_close(f);
	return r;
}

unsigned ffs_inflight(const struct ffs *f)
{
	return f->inflight;
}

void ffs_cancel_all(struct ffs *f)
{
	struct io_event ev;

	for (unsigned i = 0; i < FFS_MAX_IO; i++)
		if (f->io[i].busy)
			(void)ffs_io_cancel(f->ctx, &f->io[i].cb, &ev);
}

struct ffs *ffs_close(struct ffs *f)
{
	if (!f)
		return NULL;
	if (f->ctx) {
		ffs_cancel_all(f);
		/* io_destroy waits for everything still queued */
		ffs_io_destroy(f->ctx);
	}
	if (f->evfd >= 0)
		close(f->evfd);
	for (unsigned i = 1; i <= FFS_MAX_EPS; i++)
		if (f->ep[i] >= 0)
			close(f->ep[i]);
	if (f->ep0 >= 0)
		close(f->ep0);
	free(f);
	return NULL;
}

int ffs_ep0_fd(const struct ffs *f)
{
	return f->ep0;
}

int ffs_event_fd(const struct ffs *f)
{
	return f->evfd;
}

int ffs_read_events(struct ffs *f, struct usb_functionfs_event *ev, unsigned max)
{
	struct pollfd p = { .fd = f->ep0, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return 0;
	n = read(f->ep0, ev, max * sizeof(*ev));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return (int)((size_t)n / sizeof(*ev));
}

int ffs_setup_in(struct ffs *f, const void *data, size_t len)
{
	return write(f->ep0, data, len) < 0 ? -errno : 0;
}

int ffs_setup_out(struct ffs *f, void *buf, size_t len)
{
	ssize_t n = read(f->ep0, buf, len);

	return n < 0 ? -errno : (int)n;
}

int ffs_setup_stall(struct ffs *f, const struct usb_ctrlrequest *req)
{
	uint8_t dummy = 0;

	/* the wrong direction halts ep0 (FunctionFS returns -EL2HLT) */
	if (req->bRequestType & USB_DIR_IN)
		(void)!read(f->ep0, &dummy, 0);
	else
		(void)!write(f->ep0, &dummy, 0);
	return 0;
}

int ffs_submit(struct ffs *f, unsigned ep, bool in, void *buf, size_t len, uint64_t tag)
{
	struct iocb *cbp;
	unsigned i;

	if (ep < 1 || ep > f->neps)
		return -EINVAL;
	for (i = 0; i < FFS_MAX_IO && f->io[i].busy; i++)
		;
	if (i == FFS_MAX_IO)
		return -EBUSY;
	memset(&f->io[i].cb, 0, sizeof(f->io[i].cb));
	f->io[i].cb.aio_data = tag;
	f->io[i].cb.aio_lio_opcode = in ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	f->io[i].cb.aio_fildes = (uint32_t)f->ep[ep];
	f->io[i].cb.aio_buf = (uint64_t)(uintptr_t)buf;
	f->io[i].cb.aio_nbytes = len;
	f->io[i].cb.aio_flags = IOCB_FLAG_RESFD;
	f->io[i].cb.aio_resfd = (uint32_t)f->evfd;
	cbp = &f->io[i].cb;
	if (ffs_io_submit(f->ctx, 1, &cbp) != 1)
		return -errno;
	f->io[i].busy = true;
	f->inflight++;
	return 0;
}

static int ffs_collect(struct ffs *f, struct ffs_done *done, unsigned max, long min,
		       struct timespec *ts)
{
	struct io_event ev[FFS_MAX_IO];
	uint64_t cnt;
	long n;

	(void)!read(f->evfd, &cnt, sizeof(cnt));
	if (max > FFS_MAX_IO)
		max = FFS_MAX_IO;
	n = ffs_io_getevents(f->ctx, min, max, ev, ts);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (long i = 0; i < n; i++) {
		struct ffs_io *io = (struct ffs_io *)(uintptr_t)ev[i].obj;

		io->busy = false;
		f->inflight--;
		done[i].tag = ev[i].data;
		done[i].res = (long)ev[i].res;
	}
	/* more may be left: keep the eventfd readable for the next poll */
	if ((unsigned)n == max)
		(void)!write(f->evfd, &(uint64_t){ 1 }, sizeof(uint64_t));
	return (int)n;
}

int ffs_reap(struct ffs *f, struct ffs_done *done, unsigned max)
{
	return ffs_collect(f, done, max, 0, &(struct timespec){ 0, 0 });
}

int ffs_reap_wait(struct ffs *f, struct ffs_done *done, unsigned max, unsigned timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

	return ffs_collect(f, done, max, 1, &ts);
}

int ffs_halt(struct ffs *f, unsigned ep, bool in)
{
	uint8_t dummy = 0;
	ssize_t n;

	if (ep < 1 || ep > f->neps)
		return -EINVAL;
	/* I/O in the wrong direction sets the halt feature */
	n = in ? read(f->ep[ep], &dummy, 1) : write(f->ep[ep], &dummy, 1);
	if (n < 0 && errno == EBADMSG)
		return 0;
	return n < 0 ? -errno : -EIO;
}
