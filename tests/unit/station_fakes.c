/* station_fakes: see station_fakes.h. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "daemon/control.h"
#include "daemon/journal.h"
#include "flashd/plan.h"
#include "station_fakes.h"

/* ---- fakes: usb ---- */


struct fake_usb_state fu;

int usb_dev_open(struct usb_ctx *ctx, const char *devnode, struct usb_dev **out)
{
	struct usb_dev *d;

	fu.opens++;
	if (fu.open_err_n) {
		fu.open_err_n--;
		return fu.open_err;
	}
	d = calloc(1, sizeof(*d));
	assert_non_null(d);
	snprintf(d->node, sizeof(d->node), "%s", devnode);
	d->next = fu.devs;
	fu.devs = d;
	*out = d;
	return 0;
}

void usb_dev_close(struct usb_dev *d)
{
	assert_false(d->closed);
	d->closed = true;
	fu.closes++;
}

/* ---- fakes: sessions ---- */


struct sdp_session {
	struct fake_sess f;
};

struct fb_session {
	struct fake_sess f;
};

struct fake_sess_state fs;

static struct fake_sess *fake_start(bool fb, struct usb_dev *dev, struct plan *plan, size_t first,
				    const struct session_opts *o, const struct session_events *ev)
{
	struct fake_sess *f;

	assert_non_null(o->base);
	assert_false(dev->closed);
	f = calloc(1, sizeof(struct sdp_session) > sizeof(struct fb_session)
			      ? sizeof(struct sdp_session) : sizeof(struct fb_session));
	assert_non_null(f);
	f->fb = fb;
	f->ev = *ev;
	f->o = *o;
	f->dev = dev;
	f->plan = plan_ref(plan);
	f->first = first;
	f->next = first;
	assert_true(fs.n < 64);
	fs.all[fs.n++] = f;
	fs.last = f;
	return f;
}

static int fake_start_err(void)
{
	int e = fs.start_err;

	if (fs.start_err_last) {
		fs.start_err = 0;
		fs.start_err_last = false;
	}
	return e;
}

/* fs.start_err for every start, or only for the next start_err_n */
static bool fake_start_fails(void)
{
	if (!fs.start_err)
		return false;
	if (fs.start_err_n && --fs.start_err_n == 0)
		fs.start_err_last = true;   /* this one fails, the next ones start */
	return true;
}

int sdp_session_start(struct usb_dev *dev, const struct sdp_soc *soc, struct plan *plan,
		      size_t first, const struct session_opts *o, const struct session_events *ev,
		      struct sdp_session **out)
{
	struct fake_sess *f;

	if (fake_start_fails())
		return fake_start_err();
	f = fake_start(false, dev, plan, first, o, ev);
	f->soc = soc;
	fs.sdp_starts++;
	*out = (struct sdp_session *)f;
	return 0;
}

int sdp_session_start_spl(struct usb_dev *dev, enum plan_proto flavour, struct plan *plan,
			  size_t first, const struct session_opts *o,
			  const struct session_events *ev, struct sdp_session **out)
{
	struct fake_sess *f;

	if (fake_start_fails())
		return fake_start_err();
	f = fake_start(false, dev, plan, first, o, ev);
	f->spl = flavour;
	fs.spl_starts++;
	*out = (struct sdp_session *)f;
	return 0;
}

bool sdp_session_uid(const struct sdp_session *s, uint64_t *uid)
{
	if (!s->f.have_uid)
		return false;
	*uid = s->f.uid;
	return true;
}

size_t sdp_session_next_step(const struct sdp_session *s)
{
	return s->f.next;
}

static void fake_free(struct fake_sess *f)
{
	assert_false(f->freed);
	f->freed = true;
	f->plan = plan_unref(f->plan);
	fs.frees++;
}

struct sdp_session *sdp_session_free(struct sdp_session *s)
{
	if (s)
		fake_free(&s->f);
	return NULL;
}

int fb_session_start(struct usb_dev *dev, struct plan *plan, size_t first,
		     const struct session_opts *o, const struct session_events *ev,
		     struct fb_session **out)
{
	if (fake_start_fails())
		return fake_start_err();
	*out = (struct fb_session *)fake_start(true, dev, plan, first, o, ev);
	fs.fb_starts++;
	return 0;
}

/* The station hands out grants after a reload (station_bus_apply): counted. */
void fb_session_bus_kick(struct bussched *bus)
{
	void *h;

	fs.bus_kicks++;
	while (bussched_granted(bus, &h))
		;
}

uint64_t fb_session_bytes(const struct fb_session *s)
{
	return 0;
}

struct fb_session *fb_session_free(struct fb_session *s)
{
	if (s)
		fake_free(&s->f);
	return NULL;
}

/* ---- fakes: control and journal ---- */

json_t *events;
json_t *records;
int journal_fail;
unsigned journal_calls;

/* fields without "durable" equal a journal record: the last one (last) or any */
static bool fake_journaled(const json_t *fields, bool last)
{
	json_t *rec = json_copy((json_t *)fields);
	bool found = false;
	size_t i;
	json_t *r;

	json_object_del(rec, "durable");
	json_object_del(rec, "journal_ms"); /* the event's own: how long the append took */
	json_array_foreach(records, i, r)
		if ((!last || i + 1 == json_array_size(records)) && json_equal(r, rec))
			found = true;
	json_decref(rec);
	return found;
}

void control_publish(struct control *c, const char *type, json_t *fields)
{
	assert_null(c);
	assert_non_null(fields);
	if (strcmp(type, "result") == 0 || strcmp(type, "durable") == 0) {
		const json_t *d = json_object_get(fields, "durable");

		/* the journal has it before any client is told it is durable, and
		 * does not have it when they are told it is not */
		assert_true(json_is_boolean(d));
		assert_true(strcmp(type, "result") == 0 || json_is_true(d));
		assert_int_equal(fake_journaled(fields, json_is_true(d)), json_is_true(d));
	}
	json_array_append_new(events, json_pack("{s:s, s:o}", "type", type, "fields", fields));
}

int journal_append(struct journal *j, json_t *record)
{
	assert_non_null(j);
	journal_calls++;
	if (journal_fail)
		return journal_fail;
	json_array_append(records, record);
	return 0;
}

void control_pending_done(struct control_pending *p, int r, const char *err)
{
	assert_non_null(p);
	p->done++;
	p->r = r;
	snprintf(p->err, sizeof(p->err), "%s", err ? err : "");
}

/* ---- image_plan_load, wrapped ---- */

struct fake_load_state fl;
static sem_t fl_release;

int __real_image_plan_load(const char *path, const char *const *args, size_t nargs,
			const struct image_opts *o, struct plan **out, char *err, size_t errlen);
int __wrap_image_plan_load(const char *path, const char *const *args, size_t nargs,
			const struct image_opts *o, struct plan **out, char *err, size_t errlen);

int __wrap_image_plan_load(const char *path, const char *const *args, size_t nargs,
			const struct image_opts *o, struct plan **out, char *err, size_t errlen)
{
	__atomic_add_fetch(&fl.calls, 1, __ATOMIC_SEQ_CST);
	if (pthread_equal(pthread_self(), fl.loop_thread))
		__atomic_add_fetch(&fl.calls_on_loop, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fl.hold, __ATOMIC_SEQ_CST)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10; /* a test that forgets to release fails, not hangs */
		__atomic_add_fetch(&fl.held, 1, __ATOMIC_SEQ_CST);
		int r = sem_timedwait(&fl_release, &ts);
		__atomic_sub_fetch(&fl.held, 1, __ATOMIC_SEQ_CST);
		if (r < 0) {
			snprintf(err, errlen, "%s: held and never released", path);
			return -ETIMEDOUT;
		}
	}
	return __real_image_plan_load(path, args, nargs, o, out, err, errlen);
}

void fake_load_init(void)
{
	memset(&fl, 0, sizeof(fl));
	fl.loop_thread = pthread_self();
	assert_int_equal(sem_init(&fl_release, 0, 0), 0);
}

void fake_load_release(unsigned n)
{
	while (n--)
		sem_post(&fl_release);
}

void fake_load_exit(void)
{
	sem_destroy(&fl_release);
}
