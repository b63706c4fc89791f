/* session: the machinery the SDP and fastboot sessions share; see
 * session_priv.h. */
#include "daemon/session_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <event2/event.h>

static void session_destroy(struct session *b)
{
	if (b->timer)
		event_free(b->timer);
	plan_unref(b->plan);
	b->ops->destroy(b);
}

static void session_cancel(struct session *b)
{
	b->ops->cancel(b);
	evtimer_del(b->timer);
}

void session_enter(struct session *b)
{
	b->busy++;
}

void session_leave(struct session *b)
{
	if (--b->busy == 0 && b->freed && b->live == 0)
		session_destroy(b);
}

void session_submitted(struct session *b)
{
	b->live++;
}

void session_xfer_enter(struct session *b)
{
	b->live--;
	b->busy++;
}

bool session_active(const struct session *b)
{
	return !b->freed && !b->finished;
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *b = arg;

	(void)fd;
	(void)what;
	session_enter(b);
	if (b->delaying) {
		b->delaying = false;
		session_step_done(b);
	} else {
		b->ops->begin(b);
	}
	session_leave(b);
}

int session_check_args(const struct usb_dev *dev, const struct plan *plan, size_t first,
		       const struct session_opts *o, const struct session_events *ev,
		       const void *out)
{
	if (!dev || !plan || !o || !o->base || !ev || !out || first > plan_n_steps(plan))
		return -EINVAL;
	return 0;
}

int session_init(struct session *b, const struct session_ops *ops, struct usb_dev *dev,
		 struct plan *plan, size_t first, const struct session_opts *o,
		 const struct session_events *ev)
{
	struct timeval now = { 0, 0 };

	b->timer = evtimer_new(o->base, session_timer_cb, b);
	if (!b->timer)
		return -ENOMEM;
	b->ops = ops;
	b->dev = dev;
	b->plan = plan_ref(plan);
	b->o = *o;
	b->ev = *ev;
	b->idx = first;
	b->proto = ops->proto;
	evtimer_add(b->timer, &now);
	return 0;
}

void session_free(struct session *b)
{
	if (b->freed)
		return;
	b->freed = true;
	session_cancel(b);
	if (!b->live && !b->busy)
		session_destroy(b);
}

void session_finish(struct session *b, int status, const char *reason)
{
	b->finished = true;
	session_cancel(b);
	if (b->ev.done)
		b->ev.done(b->ev.ud, status, reason);
}

void session_failv(struct session *b, int err, const char *fmt, va_list ap)
{
	char what[320], reason[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	snprintf(reason, sizeof(reason), "%s: %s", b->step ? b->step->cmd : b->ops->before_steps,
		 what);
	session_finish(b, err, reason);
}

void session_fail(struct session *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_failv(b, err, fmt, ap);
	va_end(ap);
}

void session_run_step(struct session *b)
{
	const struct plan_step *st;

	while ((st = plan_step(b->plan, b->idx)) &&
	       (!st->runs_on_imx6 || (b->skip_other && st->proto == b->skip_proto)))
		b->idx++;
	if (!st || st->proto != b->proto) {
		session_finish(b, 0, NULL);
		return;
	}
	b->step = st;
	if (b->ev.step) {
		b->ev.step(b->ev.ud, b->idx, st->cmd);
		if (b->freed)
			return;
	}
	b->ops->exec(b);
}

void session_step_done(struct session *b)
{
	b->idx++;
	session_run_step(b);
}

void session_delay(struct session *b, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	b->delaying = true;
	evtimer_add(b->timer, &tv);
}

bool session_info(struct session *b, const char *text)
{
	if (b->ev.info)
		b->ev.info(b->ev.ud, text);
	return !b->freed;
}

bool session_region(struct session *b, const struct session_region *r)
{
	if (b->ev.region)
		b->ev.region(b->ev.ud, r);
	return !b->freed;
}

bool session_progress(struct session *b, uint64_t bytes, uint64_t total)
{
	if (b->ev.progress)
		b->ev.progress(b->ev.ud, bytes, total);
	return !b->freed;
}
