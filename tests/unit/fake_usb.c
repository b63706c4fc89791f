/* fake_usb: scripted stand-in for src/daemon/usb.c in the session tests. */
#include "fake_usb.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

enum fake_kind {
	FAKE_CONTROL_OUT,
	FAKE_CONTROL_IN,
	FAKE_INTERRUPT_IN,
	FAKE_BULK_OUT,
	FAKE_BULK_IN,
	FAKE_INTERRUPT_OUT,
};

enum fake_xstate {
	FAKE_QUEUED,   /* to be offered to the model (or completed) by the loop */
	FAKE_HELD,     /* the model has nothing yet; timer = timeout */
};

struct usb_xfer {
	struct usb_dev *d;
	struct usb_xfer *next;
	enum fake_kind kind;
	enum fake_xstate state;
	struct fake_setup setup;
	uint8_t ep;
	uint8_t *buf;
	const uint8_t *obuf;
	uint8_t *ocopy;          /* control OUT: the data, copied at submit as usb.c does */
	size_t len;
	unsigned timeout_ms;
	bool cancelled;
	usb_cb cb;
	void *ud;
	struct event *ev;
};

struct usb_dev {
	struct event_base *base;
	const struct fake_dev_ops *ops;
	void *ud;
	const struct timeval *soon;  /* FIFO "next loop iteration" timeout */
	struct usb_xfer *head;   /* live transfers, submission order */
	struct usb_xfer *current;/* being offered to the model */
	bool gone;
	bool buf_fail;
	unsigned fail_after;
	int fail_err;
	int find_result, iface, claim_result;
	uint8_t ep_in, ep_out;
	uint8_t int_out;         /* interrupt OUT endpoint of interface 0, 0: none */
	struct fake_stats st;
};

static void fake_unlink(struct usb_dev *d, struct usb_xfer *x)
{
	for (struct usb_xfer **p = &d->head; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			return;
		}
	fail_msg("fake_usb: transfer not on its list");
}

static void fake_complete(struct usb_xfer *x, int status, size_t actual)
{
	struct usb_dev *d = x->d;

	fake_unlink(d, x);
	if (x->kind == FAKE_BULK_OUT)
		d->st.out_live--;
	else if (x->kind == FAKE_CONTROL_OUT || x->kind == FAKE_INTERRUPT_OUT)
		d->st.ctl_live--;
	x->cb(x->ud, status, actual);
	d->st.live--;
	event_free(x->ev);
	free(x->ocopy);
	free(x);
}

static int fake_offer(struct usb_xfer *x, size_t *actual)
{
	struct usb_dev *d = x->d;

	*actual = x->len;
	switch (x->kind) {
	case FAKE_CONTROL_OUT:
		return d->ops->out(d->ud, &x->setup, 0, x->obuf, x->len, actual);
	case FAKE_BULK_OUT:
		return d->ops->out(d->ud, NULL, x->ep, x->obuf, x->len, actual);
	case FAKE_INTERRUPT_OUT:
		/* a HID report on the OUT endpoint reaches the model as the
		 * SET_REPORT it stands for (f_sdp's rx path treats both alike) */
		d->st.int_out++;
		return d->ops->out(d->ud, &x->setup, 0, x->obuf, x->len, actual);
	case FAKE_CONTROL_IN:
		*actual = 0;
		d->st.ctl_in++;
		if (!d->ops->ctl_in)
			return -EPIPE;   /* a model without it stalls every request */
		return d->ops->ctl_in(d->ud, &x->setup, x->buf, x->len, actual);
	case FAKE_INTERRUPT_IN:
	case FAKE_BULK_IN:
		*actual = 0;
		return d->ops->in(d->ud, x->ep, x->buf, x->len, actual);
	}
	return -EINVAL;
}

static void fake_event(evutil_socket_t fd, short what, void *arg)
{
	struct usb_xfer *x = arg;
	size_t actual = 0;
	int r;

	(void)fd;
	(void)what;
	if (x->cancelled) {
		fake_complete(x, -ECANCELED, 0);
		return;
	}
	if (x->d->gone) {
		fake_complete(x, -ENODEV, 0);
		return;
	}
	if (x->state == FAKE_HELD) {
		fake_complete(x, -ETIMEDOUT, 0);
		return;
	}
	x->d->current = x;
	r = fake_offer(x, &actual);
	x->d->current = NULL;
	if (x->d->gone) { /* the model unplugged the device while handling x */
		fake_complete(x, -ENODEV, 0);
		return;
	}
	if (r == FAKE_HOLD) {
		x->state = FAKE_HELD;
		if (x->timeout_ms) {
			struct timeval tv = { x->timeout_ms / 1000, (x->timeout_ms % 1000) * 1000 };
			evtimer_add(x->ev, &tv);
		}
		return;
	}
	assert_true(actual <= x->len);
	if (x->kind == FAKE_BULK_OUT && r == 0)
		x->d->st.out_bytes += actual;
	fake_complete(x, r, actual);
}

/* Offer x (again) from a later loop iteration, after what is queued. */
static void fake_activate(struct usb_xfer *x)
{
	evtimer_del(x->ev);
	x->state = FAKE_QUEUED;
	evtimer_add(x->ev, x->d->soon);
}

static int fake_submit(struct usb_dev *d, struct usb_xfer *tmpl, struct usb_xfer **out)
{
	if (d->gone)
		return -ENODEV;
	if (d->fail_err) {
		if (!d->fail_after) {
			int err = d->fail_err;
			d->fail_err = 0;
			return err;
		}
		d->fail_after--;
	}
	struct usb_xfer *x = malloc(sizeof(*x));
	assert_non_null(x);
	*x = *tmpl;
	x->d = d;
	x->next = NULL;
	x->state = FAKE_QUEUED;
	x->cancelled = false;
	x->ev = evtimer_new(d->base, fake_event, x);
	assert_non_null(x->ev);
	struct usb_xfer **p = &d->head;
	while (*p)
		p = &(*p)->next;
	*p = x;
	d->st.submitted++;
	d->st.live++;
	if (x->kind == FAKE_BULK_OUT) {
		d->st.out_live++;
		if (d->st.out_live > d->st.out_max_live)
			d->st.out_max_live = d->st.out_live;
		if (!x->len)
			d->st.zlps++;
	} else if (x->kind == FAKE_CONTROL_OUT || x->kind == FAKE_INTERRUPT_OUT) {
		if (++d->st.ctl_live > d->st.ctl_max_live)
			d->st.ctl_max_live = d->st.ctl_live;
	} else if (x->kind == FAKE_BULK_IN || x->kind == FAKE_INTERRUPT_IN) {
		if (d->st.ctl_live)
			d->st.in_beside_ctl++;
		d->st.last_timeout_ms = x->timeout_ms;
		if (x->timeout_ms > d->st.max_timeout_ms)
			d->st.max_timeout_ms = x->timeout_ms;
	}
	evtimer_add(x->ev, d->soon);
	if (out)
		*out = x;
	return 0;
}

int usb_control_out(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx,
		    const void *data, size_t len, unsigned timeout_ms, usb_cb cb, void *ud,
		    struct usb_xfer **out)
{
	struct usb_xfer t = { .kind = FAKE_CONTROL_OUT, .setup = { bm, req, val, idx },
			      .len = len, .timeout_ms = timeout_ms, .cb = cb, .ud = ud };
	int r;

	/* usb.c copies the data into the transfer: the caller's buffer is free
	 * again once this returns (sdp_session reuses it for the next report) */
	t.ocopy = malloc(len ? len : 1);
	assert_non_null(t.ocopy);
	if (len)
		memcpy(t.ocopy, data, len);
	t.obuf = t.ocopy;
	r = fake_submit(d, &t, out);
	if (r < 0)
		free(t.ocopy);
	return r;
}

int usb_control_in(struct usb_dev *d, uint8_t bm, uint8_t req, uint16_t val, uint16_t idx,
		   void *buf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud,
		   struct usb_xfer **out)
{
	struct usb_xfer t = { .kind = FAKE_CONTROL_IN, .setup = { bm | 0x80, req, val, idx },
			      .buf = buf, .len = len, .timeout_ms = timeout_ms, .cb = cb,
			      .ud = ud };

	return fake_submit(d, &t, out);
}

/* an interrupt or bulk transfer: IN into buf, or OUT from obuf */
static int fake_submit_ep(struct usb_dev *d, enum fake_kind kind, uint8_t ep, void *buf,
			  const void *obuf, size_t len, unsigned timeout_ms, usb_cb cb, void *ud,
			  struct usb_xfer **out)
{
	struct usb_xfer t = { .kind = kind, .ep = ep, .buf = buf, .obuf = obuf, .len = len,
			      .timeout_ms = timeout_ms, .cb = cb, .ud = ud };
	return fake_submit(d, &t, out);
}

int usb_interrupt_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms,
		     usb_cb cb, void *ud, struct usb_xfer **out)
{
	return fake_submit_ep(d, FAKE_INTERRUPT_IN, ep, buf, NULL, len, timeout_ms, cb, ud, out);
}

int usb_interrupt_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len,
		      unsigned timeout_ms, usb_cb cb, void *ud, struct usb_xfer **out)
{
	const uint8_t *b = buf;
	struct usb_xfer t = { .kind = FAKE_INTERRUPT_OUT, .ep = ep, .obuf = buf, .len = len,
			      .timeout_ms = timeout_ms, .cb = cb, .ud = ud,
			      /* SET_REPORT, output report b[0], interface 0 */
			      .setup = { 0x21, 0x09, (uint16_t)(0x0200 | (len ? b[0] : 0)), 0 } };

	assert_int_equal(ep, d->int_out);
	return fake_submit(d, &t, out);
}

int usb_dev_find_interrupt_out(struct usb_dev *d, int iface, uint8_t *ep)
{
	assert_int_equal(iface, 0);
	if (!d->int_out)
		return -ENOENT;
	*ep = d->int_out;
	return 0;
}

void fake_usb_set_interrupt_out(struct usb_dev *d, uint8_t ep)
{
	d->int_out = ep;
}

int usb_bulk_out(struct usb_dev *d, uint8_t ep, const void *buf, size_t len, unsigned timeout_ms,
		 usb_cb cb, void *ud, struct usb_xfer **out)
{
	return fake_submit_ep(d, FAKE_BULK_OUT, ep, NULL, buf, len, timeout_ms, cb, ud, out);
}

int usb_bulk_in(struct usb_dev *d, uint8_t ep, void *buf, size_t len, unsigned timeout_ms,
		usb_cb cb, void *ud, struct usb_xfer **out)
{
	return fake_submit_ep(d, FAKE_BULK_IN, ep, buf, NULL, len, timeout_ms, cb, ud, out);
}

void usb_xfer_cancel(struct usb_xfer *x)
{
	struct usb_xfer *i;

	for (i = x->d->head; i && i != x; i = i->next)
		;
	assert_ptr_equal(i, x); /* cancelling a completed transfer is a use after free */
	x->d->st.cancels++;
	if (x->cancelled)
		return;
	x->cancelled = true;
	fake_activate(x);
}

int usb_dev_find_bulk(struct usb_dev *d, uint8_t cls, uint8_t sub, uint8_t proto, int *iface,
		      uint8_t *ep_in, uint8_t *ep_out, uint16_t *max_packet)
{
	assert_int_equal(cls, 0xff);
	assert_int_equal(sub, 0x42);
	assert_int_equal(proto, 0x03);
	if (d->find_result < 0)
		return d->find_result;
	*iface = d->iface;
	*ep_in = d->ep_in;
	*ep_out = d->ep_out;
	if (max_packet)
		*max_packet = 512;
	return 0;
}

int usb_dev_claim(struct usb_dev *d, int iface, bool detach_kernel_driver)
{
	if (d->claim_result < 0)
		return d->claim_result;
	d->st.claimed_iface = iface;
	d->st.claim_detach = detach_kernel_driver;
	return detach_kernel_driver && d->claim_result > 0 ? 1 : 0;
}

struct usb_dev *fake_usb_new(struct event_base *base, const struct fake_dev_ops *ops, void *ud)
{
	struct usb_dev *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	struct timeval us = { 0, 0 };
	d->base = base;
	d->soon = event_base_init_common_timeout(base, &us);
	assert_non_null(d->soon);
	d->ops = ops;
	d->ud = ud;
	d->ep_in = 0x81;
	d->ep_out = 0x01;
	d->st.claimed_iface = -1;
	return d;
}

void fake_usb_free(struct usb_dev *d)
{
	if (!d)
		return;
	assert_null(d->head);
	assert_int_equal(d->st.live, 0);
	assert_int_equal(d->st.bufs_live, 0); /* usb_dev_buf_alloc'd buffers were freed */
	free(d);
}

uint8_t *usb_dev_buf_alloc(struct usb_dev *d, size_t len, bool *zerocopy)
{
	uint8_t *p = len && !d->buf_fail ? malloc(len) : NULL;

	if (p) {
		d->st.bufs_live++;
		d->st.bufs_allocated++;
	}
	if (zerocopy)
		*zerocopy = false;
	return p;
}

void fake_usb_fail_buf_alloc(struct usb_dev *d, bool on)
{
	d->buf_fail = on;
}

void usb_dev_buf_free(struct usb_dev *d, uint8_t *p)
{
	if (!p)
		return;
	assert_true(d->st.bufs_live > 0);
	d->st.bufs_live--;
	free(p);
}

void fake_usb_kick(struct usb_dev *d)
{
	for (struct usb_xfer *x = d->head; x; x = x->next)
		if (x->state == FAKE_HELD && x != d->current)
			fake_activate(x);
}

void fake_usb_unplug(struct usb_dev *d)
{
	d->gone = true;
	for (struct usb_xfer *x = d->head; x; x = x->next)
		if (x != d->current)
			fake_activate(x);
}

void fake_usb_fail_submit(struct usb_dev *d, unsigned after, int err)
{
	d->fail_after = after;
	d->fail_err = err;
}

void fake_usb_set_bulk(struct usb_dev *d, int find_result, int iface, uint8_t ep_in,
		       uint8_t ep_out)
{
	d->find_result = find_result;
	d->iface = iface;
	d->ep_in = ep_in;
	d->ep_out = ep_out;
}

void fake_usb_set_claim_result(struct usb_dev *d, int r)
{
	d->claim_result = r;
}

const struct fake_stats *fake_usb_stats(const struct usb_dev *d)
{
	return &d->st;
}
