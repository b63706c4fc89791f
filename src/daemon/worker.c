/* worker: see worker.h. Two FIFO lists under one mutex: todo (waiting for
 * the thread) and done (run, waiting for the loop). The thread signals the
 * loop with an eventfd; the loop moves the whole done list out under the
 * lock and calls the done() callbacks without it. */
#include "daemon/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct worker_list {
	struct worker_job *head, *tail;
};

struct worker {
	struct event_base *base;
	int efd;
	struct event *ev;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;                  /* under lock */
	struct worker_list todo;    /* under lock */
	struct worker_list done;    /* under lock */
	unsigned pending;           /* loop only */
};

static void worker_push(struct worker_list *l, struct worker_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct worker_job *worker_pop(struct worker_list *l)
{
	struct worker_job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const uint64_t one = 1;
	struct worker_job *j;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->todo.head)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		j = worker_pop(&w->todo);
		pthread_mutex_unlock(&w->lock);
		j->run(j);
		pthread_mutex_lock(&w->lock);
		worker_push(&w->done, j);
		/* cannot fail short of a counter overflow, and the loop reads
		 * the whole done list on any wake-up */
		ssize_t n = write(w->efd, &one, sizeof(one));
		(void)n;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worker_on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_list l;
	struct worker_job *j;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->lock);
	l = w->done;
	w->done = (struct worker_list){ NULL, NULL };
	pthread_mutex_unlock(&w->lock);
	while ((j = worker_pop(&l))) {
		w->pending--;
		j->done(j, 0);
	}
}

static int worker_start(struct worker *w)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	w->started = true;
	return 0;
}

int worker_new(struct event_base *base, struct worker **out)
{
	struct worker *w;
	int r;

	if (!base || !out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->base = base;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		worker_free(w);
		return r;
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, worker_on_ready, w);
	r = w->ev && event_add(w->ev, NULL) == 0 ? worker_start(w) : -ENOMEM;
	if (r < 0) {
		worker_free(w);
		return r;
	}
	*out = w;
	return 0;
}

void worker_submit(struct worker *w, struct worker_job *j)
{
	w->pending++;
	pthread_mutex_lock(&w->lock);
	worker_push(&w->todo, j);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

unsigned worker_pending(const struct worker *w)
{
	return w ? w->pending : 0;
}

struct worker *worker_free(struct worker *w)
{
	struct worker_job *j;

	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	/* alone now: the finished jobs were submitted before the waiting ones */
	while ((j = worker_pop(&w->done)) || (j = worker_pop(&w->todo)))
		j->done(j, -ECANCELED);
	if (w->ev)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}
