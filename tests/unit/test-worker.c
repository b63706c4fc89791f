/* test-worker: the background job thread — jobs run off the loop in order,
 * done() comes back on the loop in order, the loop keeps running while a
 * job blocks, and worker_free cancels what has not completed. */
#include "daemon/worker.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#define JOBS 4

struct tjob {
	struct worker_job job;     /* first: the callbacks cast back */
	unsigned id;
	sem_t *started;            /* run() posts it first */
	sem_t *wait;               /* then waits for this one (5 s at most) */
	bool waited;               /* … and got it */
	bool ran;
	pthread_t run_thread;
	unsigned run_seq, done_seq;
	int status;
	unsigned ndone;
	struct worker *resubmit;   /* done() queues the job once more */
};

static unsigned run_seq, done_seq;
static struct event_base *base;

static void tjob_run(struct worker_job *j)
{
	struct tjob *t = (struct tjob *)j;

	if (t->started)
		sem_post(t->started);
	if (t->wait) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		t->waited = sem_timedwait(t->wait, &ts) == 0;
	}
	t->run_thread = pthread_self();
	t->ran = true;
	t->run_seq = __atomic_add_fetch(&run_seq, 1, __ATOMIC_SEQ_CST);
}

static void tjob_done(struct worker_job *j, int status)
{
	struct tjob *t = (struct tjob *)j;

	t->status = status;
	t->ndone++;
	t->done_seq = ++done_seq;
	if (t->resubmit) {
		struct worker *w = t->resubmit;

		t->resubmit = NULL;
		worker_submit(w, &t->job);
	}
}

static void tjob_init(struct tjob *t, unsigned id)
{
	*t = (struct tjob){ .job = { .run = tjob_run, .done = tjob_done }, .id = id };
}

/* Run the loop until w has nothing pending (5 s at most). */
static void drain(struct worker *w)
{
	for (int i = 0; i < 5000 && worker_pending(w); i++) {
		struct timeval ms = { 0, 1000 };

		event_base_loopexit(base, &ms);
		event_base_dispatch(base);
	}
	assert_int_equal(worker_pending(w), 0);
}

static int setup(void **state)
{
	(void)state;
	base = event_base_new();
	assert_non_null(base);
	run_seq = done_seq = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

/* a new worker with the JOBS jobs of t submitted, in order */
static struct worker *worker_with_jobs(struct tjob *t)
{
	struct worker *w = NULL;

	assert_int_equal(worker_new(base, &w), 0);
	for (unsigned i = 0; i < JOBS; i++) {
		tjob_init(&t[i], i);
		worker_submit(w, &t[i].job);
	}
	return w;
}

static void test_order_and_threads(void **state)
{
	struct tjob t[JOBS];
	struct worker *w = worker_with_jobs(t);

	(void)state;
	assert_int_equal(worker_pending(w), JOBS);
	drain(w);
	for (unsigned i = 0; i < JOBS; i++) {
		assert_true(t[i].ran);
		assert_false(pthread_equal(t[i].run_thread, pthread_self()));
		assert_int_equal(t[i].run_seq, i + 1);
		assert_int_equal(t[i].done_seq, i + 1);
		assert_int_equal(t[i].status, 0);
		assert_int_equal(t[i].ndone, 1);
	}
	/* every job ran on the same (single) thread */
	for (unsigned i = 1; i < JOBS; i++)
		assert_true(pthread_equal(t[i].run_thread, t[0].run_thread));
	assert_null(worker_free(w));
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sem_post(arg);
}

/* A job that takes long does not stop the loop: the loop's timer is what
 * lets the job finish. */
static void test_loop_runs_meanwhile(void **state)
{
	struct worker *w = NULL;
	struct tjob t;
	sem_t sem;
	struct timeval tv = { 0, 20000 };
	struct event *tick;

	(void)state;
	assert_int_equal(sem_init(&sem, 0, 0), 0);
	tick = evtimer_new(base, on_tick, &sem);
	assert_int_equal(worker_new(base, &w), 0);
	tjob_init(&t, 0);
	t.wait = &sem;
	worker_submit(w, &t.job);
	evtimer_add(tick, &tv);
	drain(w);
	assert_true(t.waited);
	assert_int_equal(t.status, 0);
	event_free(tick);
	worker_free(w);
	sem_destroy(&sem);
}

/* done() may queue more work. */
static void test_resubmit_from_done(void **state)
{
	struct worker *w = NULL;
	struct tjob t;

	(void)state;
	assert_int_equal(worker_new(base, &w), 0);
	tjob_init(&t, 0);
	t.resubmit = w;
	worker_submit(w, &t.job);
	drain(w);
	assert_int_equal(t.ndone, 2);
	assert_int_equal(run_seq, 2);
	worker_free(w);
}

/* Freeing waits for the running job, then cancels everything not
 * completed, in order; jobs that never started never run. */
static void test_free_cancels(void **state)
{
	struct tjob t[JOBS];
	struct worker *w = worker_with_jobs(t);

	(void)state;
	assert_null(worker_free(w));
	for (unsigned i = 0; i < JOBS; i++) {
		assert_int_equal(t[i].ndone, 1);
		assert_int_equal(t[i].status, -ECANCELED);
		assert_int_equal(t[i].done_seq, i + 1);
		if (i)   /* the jobs that ran are a prefix */
			assert_true(!t[i].ran || t[i - 1].ran);
	}
}

static void *post_later(void *arg)
{
	struct timespec ms200 = { 0, 200000000 };

	nanosleep(&ms200, NULL);
	sem_post(arg);
	return NULL;
}

static void test_free_while_blocked(void **state)
{
	struct worker *w = NULL;
	struct tjob a, b;
	sem_t sem, started;

	(void)state;
	assert_int_equal(sem_init(&sem, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	assert_int_equal(worker_new(base, &w), 0);
	tjob_init(&a, 0);
	tjob_init(&b, 1);
	pthread_t helper;

	a.started = &started;
	a.wait = &sem;
	worker_submit(w, &a.job);
	worker_submit(w, &b.job);
	/* a runs; it is released 200 ms later, while worker_free waits for it */
	sem_wait(&started);
	assert_int_equal(pthread_create(&helper, NULL, post_later, &sem), 0);
	worker_free(w);
	pthread_join(helper, NULL);
	assert_true(a.ran);
	assert_true(a.waited);
	assert_false(b.ran);
	assert_int_equal(a.status, -ECANCELED);
	assert_int_equal(b.status, -ECANCELED);
	assert_int_equal(a.done_seq, 1);
	assert_int_equal(b.done_seq, 2);
	sem_destroy(&sem);
	sem_destroy(&started);
}

static void test_misuse(void **state)
{
	struct worker *w = (struct worker *)&w;

	(void)state;
	assert_int_equal(worker_new(NULL, &w), -EINVAL);
	assert_int_equal(worker_new(base, NULL), -EINVAL);
	assert_ptr_equal(w, (struct worker *)&w); /* untouched on failure */
	assert_null(worker_free(NULL));
	assert_int_equal(worker_pending(NULL), 0);
	assert_int_equal(worker_new(base, &w), 0);
	assert_int_equal(worker_pending(w), 0);
	assert_null(worker_free(w)); /* idle */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_order_and_threads),
		T(test_loop_runs_meanwhile),
		T(test_resubmit_from_done),
		T(test_free_cancels),
		T(test_free_while_blocked),
		T(test_misuse),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
