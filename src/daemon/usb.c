/* usb: libusb driven by the daemon's libevent loop.
 *
 * libusb is initialised without device discovery; devices are opened from
 * the devnode udev gave us (libusb_wrap_sys_device). libusb's pollfds are
 * events on the loop, and one timer follows libusb_get_next_timeout(); both
 * run libusb_handle_events_timeout_completed() with a zero timeout, so the
 * loop never blocks in libusb. This is the one place libusb error codes
 * become -errno.
 *
 * A device is never freed inside a transfer callback: usb_dev_close()
 * cancels what is in flight and marks the device dead; a deferred event
 * reaps it once every transfer callback has run. */
#include "daemon/usb.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libusb.h>

#include "common/log.h"

struct usb_pollfd {
	struct usb_pollfd *next;
	int fd;
	struct event *ev;
};

struct usb_ctx {
	libusb_context *lusb;
	struct event_base *base;
	struct event *timer;
	struct event *reaper;
	struct usb_pollfd *pollfds;
	struct usb_dev *devs;        /* all open or dying devices */
};

struct usb_dev {
	struct usb_dev *next;
	struct usb_ctx *ctx;
	libusb_device_handle *h;
	int fd;
	bool dead;
	unsigned pending;
	struct usb_xfer *xfers;      /* in flight */
	struct usb_buf *bufs;        /* usb_dev_buf_alloc'd, not yet freed */
	uint32_t claimed;            /* bit per interface 0..31 */
};

struct usb_buf {
	struct usb_buf *next;
	uint8_t *p;
	size_t len;
	bool zerocopy;               /* libusb_dev_mem_alloc'd */
};

struct usb_xfer {
	struct usb_xfer *next, *prev;
	struct usb_dev *dev;
	struct libusb_transfer *t;
	usb_cb cb;
	void *ud;
	bool control;                /* buffer owned: setup + data copy */
	uint8_t *in_buf;             /* control IN: the caller's buffer, filled at completion */
};

/* libusb error code → -errno. */
static int usb_errno(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS:
		return 0;
	case LIBUSB_ERROR_INVALID_PARAM:
		return -EINVAL;
	case LIBUSB_ERROR_ACCESS:
		return -EACCES;
	case LIBUSB_ERROR_NO_DEVICE:
		return -ENODEV;
	case LIBUSB_ERROR_NOT_FOUND:
		return -ENOENT;
	case LIBUSB_ERROR_BUSY:
		return -EBUSY;
	case LIBUSB_ERROR_TIMEOUT:
		return -ETIMEDOUT;
	case LIBUSB_ERROR_OVERFLOW:
		return -EOVERFLOW;
	case LIBUSB_ERROR_PIPE:
		return -EPIPE;
	case LIBUSB_ERROR_INTERRUPTED:
		return -EINTR;
	case LIBUSB_ERROR_NO_MEM:
		return -ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

static int usb_status_errno(enum libusb_transfer_status s)
{
	switch (s) {
	case LIBUSB_TRANSFER_COMPLETED:
		return 0;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return -ETIMEDOUT;
	case LIBUSB_TRANSFER_CANCELLED:
		return -ECANCELED;
	case LIBUSB_TRANSFER_STALL:
		return -EPIPE;
	case LIBUSB_TRANSFER_NO_DEVICE:
		return -ENODEV;
	case LIBUSB_TRANSFER_OVERFLOW:
		return -EOVERFLOW;
	case LIBUSB_TRANSFER_ERROR:
		break;
	}
	return -EIO;
}

/* Arm the timer for libusb's next timeout (none when it uses a timerfd). */
static void usb_rearm(struct usb_ctx *ctx)
{
	struct timeval tv;
	int r = libusb_get_next_timeout(ctx->lusb, &tv);

	if (r == 1)
		evtimer_add(ctx->timer, &tv);
	else
		evtimer_del(ctx->timer);
}

static void usb_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct usb_ctx *ctx = arg;
	struct timeval zero = { 0, 0 };
	int r;

	r = libusb_handle_events_timeout_completed(ctx->lusb, &zero, NULL);
	if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED && r != LIBUSB_ERROR_TIMEOUT)
		log_warning_errno(usb_errno(r), "usb: handling events failed");
	usb_rearm(ctx);
}

static void usb_pollfd_added(int fd, short events, void *arg)
{
	struct usb_ctx *ctx = arg;
	struct usb_pollfd *pf;
	short what = EV_PERSIST;

	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		goto fail;
	pf->fd = fd;
	pf->ev = event_new(ctx->base, fd, what, usb_dispatch, ctx);
	if (!pf->ev || event_add(pf->ev, NULL) < 0)
		goto fail;
	pf->next = ctx->pollfds;
	ctx->pollfds = pf;
	return;
fail:
	if (pf && pf->ev)
		event_free(pf->ev);
	free(pf);
	log_error("usb: cannot watch libusb fd %d: out of memory", fd);
}

static void usb_pollfd_removed(int fd, void *arg)
{
	struct usb_ctx *ctx = arg;

	for (struct usb_pollfd **pp = &ctx->pollfds; *pp; pp = &(*pp)->next) {
		struct usb_pollfd *pf = *pp;

		if (pf->fd != fd)
			continue;
		*pp = pf->next;
		event_free(pf->ev);
		free(pf);
		return;
	}
}

/* Closed, no transfer in flight, no buffer lent out: the reaper may free it. */
static bool usb_dev_reapable(const struct usb_dev *d)
{
	return d->dead && d->pending == 0 && !d->bufs;
}

static void usb_buf_release(struct usb_dev *d, struct usb_buf *b)
{
	if (b->zerocopy)
		libusb_dev_mem_free(d->h, b->p, b->len);
	else
		free(b->p);
	free(b);
}

static void usb_dev_destroy(struct usb_dev *d)
{
	struct usb_ctx *ctx = d->ctx;

	while (d->bufs) { /* only at usb_ctx_free: owners free theirs first */
		struct usb_buf *b = d->bufs;
		d->bufs = b->next;
		usb_buf_release(d, b);
	}
	for (struct usb_dev **pp = &ctx->devs; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	for (int i = 0; i < 32; i++)
		if (d->claimed & (1u << i))
			libusb_release_interface(d->h, i);
	libusb_close(d->h);
	close(d->fd);
	free(d);
}

static void usb_reap(evutil_socket_t fd, short what, void *arg)
{
	struct usb_ctx *ctx = arg;
	struct usb_dev *d = ctx->devs;

	while (d) {
		struct usb_dev *next = d->next;

		if (usb_dev_reapable(d))
			usb_dev_destroy(d);
		d = next;
	}
}

int usb_ctx_new(struct event_base *base, struct usb_ctx **out)
{
	const struct libusb_pollfd **fds;
	struct usb_ctx *ctx;
	int r;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->base = base;
	r = usb_errno(libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY));
	if (r < 0)
		goto fail;
	r = usb_errno(libusb_init(&ctx->lusb));
	if (r < 0)
		goto fail;
	ctx->timer = evtimer_new(base, usb_dispatch, ctx);
	ctx->reaper = event_new(base, -1, 0, usb_reap, ctx);
	r = -ENOMEM;
	if (!ctx->timer || !ctx->reaper)
		goto fail;
	libusb_set_pollfd_notifiers(ctx->lusb, usb_pollfd_added, usb_pollfd_removed, ctx);
	fds = libusb_get_pollfds(ctx->lusb);
	if (!fds)
		goto fail;
	for (size_t i = 0; fds[i]; i++)
		usb_pollfd_added(fds[i]->fd, fds[i]->events, ctx);
	libusb_free_pollfds(fds);
	usb_rearm(ctx);
	*out = ctx;
	return 0;
fail:
	usb_ctx_free(ctx);
	return r;
}

static bool usb_ctx_pending(const struct usb_ctx *ctx)
{
	for (const struct usb_dev *d = ctx->devs; d; d = d->next)
		if (d->pending)
			return true;
	return false;
}

struct usb_ctx *usb_ctx_free(struct usb_ctx *ctx)
{
	struct timeval tv = { 0, 100000 };

	if (!ctx)
		return NULL;
	for (struct usb_dev *d = ctx->devs; d; d = d->next)
		usb_dev_close(d);
	/* let cancelled transfers complete (bounded: shutdown only) */
	for (int i = 0; i < 50 && usb_ctx_pending(ctx); i++) {
		libusb_handle_events_timeout_completed(ctx->lusb, &tv, NULL);
		usb_reap(-1, 0, ctx);
	}
	/* buffers their owners did not free go with their device */
	for (struct usb_dev *d = ctx->devs, *next; d; d = next) {
		next = d->next;
		if (d->pending == 0)
			usb_dev_destroy(d);
	}
	if (ctx->lusb) {
		libusb_set_pollfd_notifiers(ctx->lusb, NULL, NULL, NULL);
		while (ctx->pollfds)
			usb_pollfd_removed(ctx->pollfds->fd, ctx);
		if (!ctx->devs)
			libusb_exit(ctx->lusb);
	}
	if (ctx->timer)
		event_free(ctx->timer);
	if (ctx->reaper)
		event_free(ctx->reaper);
	free(ctx);
	return NULL;
}

int usb_dev_open(struct usb_ctx *ctx, const char *devnode, struct usb_dev **out)
{
	struct usb_dev *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ctx = ctx;
	d->fd = open(devnode, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (d->fd < 0) {
		r = -errno;
		free(d);
		return r;
	}
	r = usb_errno(libusb_wrap_sys_device(ctx->lusb, (intptr_t)d->fd, &d->h));
	if (r < 0) {
		close(d->fd);
		free(d);
		return r;
	}
	d->next = ctx->devs;
	ctx->devs = d;
	*out = d;
	return 0;
}

int usb_dev_claim(struct usb_dev *d, int iface, bool detach_kernel_driver)
{
	bool detached = false;
	int r;

	if (d->dead)
		return -ENODEV;
	if (iface < 0 || iface > 31)
		return -EINVAL;

	if (detach_kernel_driver) {
		r = libusb_detach_kernel_driver(d->h, iface);
		if (r < 0 && r != LIBUSB_ERROR_NOT_FOUND)
			return usb_errno(r);
		detached = r == 0;
	}
	r = usb_errno(libusb_claim_interface(d->h, iface));
	if (r < 0)
		return r;
	d->claimed |= 1u << iface;
	return detached ? 1 : 0;
}

static bool usb_alt_find_bulk(const struct libusb_interface_descriptor *alt, uint8_t *in,
			      uint8_t *outp, uint16_t *mps)
{
	uint8_t ep_in = 0, ep_out = 0;
	uint16_t max = 0;

	for (int e = 0; e < alt->bNumEndpoints; e++) {
		const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];

		if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
			continue;
		if (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) {
			if (!ep_in)
				ep_in = ep->bEndpointAddress;
		} else if (!ep_out) {
			ep_out = ep->bEndpointAddress;
			max = ep->wMaxPacketSize & 0x7ff;
		}
	}
	if (!ep_in || !ep_out)
		return false;
	*in = ep_in;
	*outp = ep_out;
	*mps = max;
	return true;
}

/* The active configuration's descriptor (libusb_free_config_descriptor it). */
static int usb_dev_config(struct usb_dev *d, struct libusb_config_descriptor **cfg)
{
	if (d->dead)
		return -ENODEV;
	return usb_errno(libusb_get_active_config_descriptor(libusb_get_device(d->h), cfg));
}

/* Interface i's first alternate setting, NULL if it has none. */
static const struct libusb_interface_descriptor *usb_alt0(const struct libusb_config_descriptor *cfg,
							   int i)
{
	return cfg->interface[i].num_altsetting < 1 ? NULL : &cfg->interface[i].altsetting[0];
}

int usb_dev_find_bulk(struct usb_dev *d, uint8_t cls, uint8_t sub, uint8_t proto, int *iface,
		      uint8_t *ep_in, uint8_t *ep_out, uint16_t *max_packet)
{
	struct libusb_config_descriptor *cfg;
	int r = usb_dev_config(d, &cfg);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (int i = 0; i < cfg->bNumInterfaces && r < 0; i++) {
		const struct libusb_interface_descriptor *alt = usb_alt0(cfg, i);
		uint8_t in, outp;
		uint16_t mps;

		if (!alt || alt->bInterfaceClass != cls || alt->bInterfaceSubClass != sub ||
		    alt->bInterfaceProtocol != proto)
			continue;
		if (!usb_alt_find_bulk(alt, &in, &outp, &mps))
			continue;
		/* any out-param may be NULL */
		if (iface)
			*iface = alt->bInterfaceNumber;
		if (ep_in)
			*ep_in = in;
		if (ep_out)
			*ep_out = outp;
		if (max_packet)
			*max_packet = mps;
		r = 0;
	}
	libusb_free_config_descriptor(cfg);
	return r;
}

int usb_dev_find_interrupt_out(struct usb_dev *d, int iface, uint8_t *ep)
{
	struct libusb_config_descriptor *cfg;
	int r = usb_dev_config(d, &cfg);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (int i = 0; i < cfg->bNumInterfaces && r < 0; i++) {
		const struct libusb_interface_descriptor *alt = usb_alt0(cfg, i);

		if (!alt || alt->bInterfaceNumber != iface)
			continue;
		for (int e = 0; e < alt->bNumEndpoints && r < 0; e++) {
			const struct libusb_endpoint_descriptor *d_ep = &alt->endpoint[e];

			if ((d_ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) ==
				    LIBUSB_TRANSFER_TYPE_INTERRUPT &&
			    !(d_ep->bEndpointAddress & LIBUSB_ENDPOINT_IN)) {
				*ep = d_ep->bEndpointAddress;
				r = 0;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return r;
}

int usb_dev_ids(struct usb_dev *d, uint16_t *vid, uint16_t *pid, uint16_t *bcd)
{
	struct libusb_device_descriptor desc;
	int r;

	r = usb_errno(libusb_get_device_descriptor(libusb_get_device(d->h), &desc));
	if (r < 0)
		return r;
	if (vid)
		*vid = desc.idVendor;
	if (pid)
		*pid = desc.idProduct;
	if (bcd)
		*bcd = desc.bcdDevice;
	return 0;
}

/* The kernel caches the string descriptor: read it from sysfs rather than
 * asking the device (a blocking control transfer). */
int usb_dev_serial(struct usb_dev *d, char *buf, size_t len)
{
	char path[64], tmp[256];
	struct stat st;
	ssize_t n;
	int fd;

	if (len == 0)
		return -EINVAL;
	if (fstat(d->fd, &st) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/serial", major(st.st_rdev),
		 minor(st.st_rdev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
		n--;
	if (n == 0)
		return -ENOENT;
	tmp[n] = '\0';
	if ((size_t)n >= len)
		return -ENOBUFS;
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}

static void usb_xfer_done(struct libusb_transfer *t)
{
	struct usb_xfer *x = t->user_data;
	struct usb_dev *d = x->dev;
	int status = usb_status_errno(t->status);
	size_t actual = t->actual_length > 0 ? (size_t)t->actual_length : 0;

	if (x->prev)
		x->prev->next = x->next;
	else
		d->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	d->pending--;
	if (x->in_buf && status == 0 && actual)
		memcpy(x->in_buf, libusb_control_transfer_get_data(t), actual);
	x->cb(x->ud, status, actual);
	if (x->control)
		free(t->buffer);
	libusb_free_transfer(t);
	free(x);
	if (usb_dev_reapable(d))
		event_active(d->ctx->reaper, 0, 0);
}

static int usb_submit(struct usb_dev *d, struct libusb_transfer *t, bool control, usb_cb cb,
		      void *ud, struct usb_xfer **out)
{
	struct usb_xfer *x;
	int r;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->dev = d;
	x->t = t;
	x->cb = cb;
	x->ud = ud;
	x->control = control;
	t->user_data = x;
	t->callback = usb_xfer_done;
	r = usb_errno(libusb_submit_transfer(t));
	if (r < 0) {
		free(x);
		return r;
	}
	x->next = d->xfers;
	if (d->xfers)
		d->xfers->prev = x;
	d->xfers = x;
	d->pending++;
	usb_rearm(d->ctx);
	if (out)
		*out = x;
	return 0;
}

static int usb_check(struct usb_dev *d, size_t len, usb_cb cb)
{
	if (!d || !cb || len > INT32_MAX)
		return -EINVAL;
	return d->dead ? -ENODEV : 0;
}

int usb_control_out(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx,
		    const void *data, size_t len, unsigned timeout_ms, usb_cb cb, void *ud,
		    struct usb_xfer **out)
{
	struct libusb_transfer *t;
	unsigned char *buf;
	int r = usb_check(d, len, cb);

	if (r < 0)
		return r;
	if (len > UINT16_MAX)
		return -EINVAL;
	buf = malloc(LIBUSB_CONTROL_SETUP_SIZE + len);
	t = libusb_alloc_transfer(0);
	if (!buf || !t) {
		free(buf);
		libusb_free_transfer(t);
		return -ENOMEM;
	}
	libusb_fill_control_setup(buf, bm, req, val, idx, (uint16_t)len);
	if (len)
		memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, data, len);
	libusb_fill_control_transfer(t, d->h, buf, usb_xfer_done, NULL, timeout_ms);
	r = usb_submit(d, t, true, cb, ud, out);
	if (r < 0) {
		free(buf);
		libusb_free_transfer(t);
	}
	return r;
}

int usb_control_in(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx,
		   void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud,
		   struct usb_xfer **out)
{
	struct libusb_transfer *t;
	unsigned char *tbuf;
	struct usb_xfer *x;
	int r = usb_check(d, len, cb);

	if (r < 0)
		return r;
	if (!len || len > UINT16_MAX || !buf)
		return -EINVAL;
	tbuf = malloc(LIBUSB_CONTROL_SETUP_SIZE + len);
	t = libusb_alloc_transfer(0);
	if (!tbuf || !t) {
		free(tbuf);
		libusb_free_transfer(t);
		return -ENOMEM;
	}
	libusb_fill_control_setup(tbuf, bm | LIBUSB_ENDPOINT_IN, req, val, idx, (uint16_t)len);
	libusb_fill_control_transfer(t, d->h, tbuf, usb_xfer_done, NULL, timeout_ms);
	r = usb_submit(d, t, true, cb, ud, &x);
	if (r < 0) {
		free(tbuf);
		libusb_free_transfer(t);
		return r;
	}
	x->in_buf = buf;
	if (out)
		*out = x;
	return 0;
}

static int usb_simple(struct usb_dev *d, uint8_t ep, unsigned char type, void *buf, size_t len,
		      unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out)
{
	struct libusb_transfer *t;
	int r = usb_check(d, len, cb);

	if (r < 0)
		return r;
	t = libusb_alloc_transfer(0);
	if (!t)
		return -ENOMEM;
	if (type == LIBUSB_TRANSFER_TYPE_BULK)
		libusb_fill_bulk_transfer(t, d->h, ep, buf, (int)len, usb_xfer_done, NULL,
					  timeout_ms);
	else
		libusb_fill_interrupt_transfer(t, d->h, ep, buf, (int)len, usb_xfer_done, NULL,
					       timeout_ms);
	r = usb_submit(d, t, false, cb, ud, out);
	if (r < 0)
		libusb_free_transfer(t);
	return r;
}

int usb_interrupt_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms,
		     usb_cb cb, void *ud, struct usb_xfer **out)
{
	return usb_simple(d, ep | LIBUSB_ENDPOINT_IN, LIBUSB_TRANSFER_TYPE_INTERRUPT, buf, len,
			  timeout_ms, cb, ud, out);
}

int usb_interrupt_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len,
		      unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out)
{
	/* libusb's buffer is not const, but an OUT transfer only reads it */
	return usb_simple(d, ep & ~LIBUSB_ENDPOINT_IN, LIBUSB_TRANSFER_TYPE_INTERRUPT, (void *)buf,
			  len, timeout_ms, cb, ud, out);
}

int usb_bulk_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len, unsigned timeout_ms,
		 usb_cb cb, void *ud, struct usb_xfer **out)
{
	/* libusb's buffer is not const, but an OUT transfer only reads it */
	return usb_simple(d, ep & ~LIBUSB_ENDPOINT_IN, LIBUSB_TRANSFER_TYPE_BULK, (void *)buf,
			  len, timeout_ms, cb, ud, out);
}

int usb_bulk_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms,
		usb_cb cb, void *ud, struct usb_xfer **out)
{
	return usb_simple(d, ep | LIBUSB_ENDPOINT_IN, LIBUSB_TRANSFER_TYPE_BULK, buf, len,
			  timeout_ms, cb, ud, out);
}

void usb_xfer_cancel(struct usb_xfer *x)
{
	int r;

	if (!x)
		return;
	r = libusb_cancel_transfer(x->t);
	if (r < 0 && r != LIBUSB_ERROR_NOT_FOUND)
		log_debug_errno(usb_errno(r), "usb: cancel failed");
}

uint8_t *usb_dev_buf_alloc(struct usb_dev *d, size_t len, bool *zerocopy)
{
	struct usb_buf *b;

	if (!d || !len)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->len = len;
	if (!d->dead)
		b->p = libusb_dev_mem_alloc(d->h, len);
	b->zerocopy = b->p != NULL;
	if (!b->p && posix_memalign((void **)&b->p, 4096, len) != 0)
		b->p = NULL;
	if (!b->p) {
		free(b);
		return NULL;
	}
	b->next = d->bufs;
	d->bufs = b;
	if (zerocopy)
		*zerocopy = b->zerocopy;
	return b->p;
}

void usb_dev_buf_free(struct usb_dev *d, uint8_t *p)
{
	if (!d || !p)
		return;
	for (struct usb_buf **pp = &d->bufs; *pp; pp = &(*pp)->next) {
		struct usb_buf *b = *pp;
		if (b->p != p)
			continue;
		*pp = b->next;
		usb_buf_release(d, b);
		if (usb_dev_reapable(d))
			event_active(d->ctx->reaper, 0, 0);
		return;
	}
}

void usb_dev_close(struct usb_dev *d)
{
	if (!d || d->dead)
		return;
	d->dead = true;
	for (struct usb_xfer *x = d->xfers; x; x = x->next)
		usb_xfer_cancel(x);
	event_active(d->ctx->reaper, 0, 0);
}
