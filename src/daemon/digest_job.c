/* digest_job: see digest_job.h. */
#include "daemon/digest_job.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/worker.h"

struct digest_job {
	struct worker_job w;       /* first: the worker hands it back */
	struct plan_image *img;    /* a reference: src's bytes */
	struct imgsrc src;
	struct sparse_info info;
	struct verify_opts o;
	void (*done)(void *ud);
	void *ud;
	/* the result (written by run, read on the loop after done) */
	struct verify_piece *p;
	size_t n, cap;
	int err;
	const char *why;
	bool ready;                /* run's result is in (on the loop) */
	bool dropped;              /* the owner let go: free at done */
};

static void digest_job_free(struct digest_job *j)
{
	plan_image_unref(j->img);
	free(j->p);
	free(j);
}

/* Every piece of the region, in order: on the worker thread (or inline). */
static void digest_job_run(struct worker_job *w)
{
	struct digest_job *j = (struct digest_job *)w;
	struct verify_iter *it = NULL;
	struct verify_piece piece;
	int r;

	j->err = verify_iter_new(&j->src, &j->info, &j->o, &it, &j->why);
	while (!j->err && (r = verify_iter_next(it, &piece)) != 0) {
		if (r < 0) {
			j->err = r;
			j->why = "cannot read the image";
			break;
		}
		if (j->n == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 16;
			struct verify_piece *p = realloc(j->p, cap * sizeof(*p));

			if (!p) {
				j->err = -ENOMEM;
				j->why = "out of memory";
				break;
			}
			j->p = p;
			j->cap = cap;
		}
		j->p[j->n++] = piece;
	}
	verify_iter_free(it);
}

static void digest_job_done(struct worker_job *w, int status)
{
	struct digest_job *j = (struct digest_job *)w;

	if (status < 0 && !j->err) {
		j->err = status;
		j->why = "the digest worker stopped";
	}
	j->ready = true;
	if (j->dropped) {
		digest_job_free(j);
		return;
	}
	j->done(j->ud);
}

int digest_job_start(struct worker *w, struct plan_image *img, const struct imgsrc *src,
		     const struct sparse_info *info, const struct verify_opts *o,
		     void (*done)(void *ud), void *ud, struct digest_job **out)
{
	struct digest_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->img = plan_image_ref(img);
	j->src = *src;
	j->info = *info;
	j->o = *o;
	j->done = done;
	j->ud = ud;
	j->w.run = digest_job_run;
	j->w.done = digest_job_done;
	*out = j;
	if (!w) {
		digest_job_run(&j->w);
		j->ready = true;
		return 0;
	}
	worker_submit(w, &j->w);
	return 0;
}

bool digest_job_ready(const struct digest_job *j)
{
	return j && j->ready;
}

int digest_job_result(const struct digest_job *j, const struct verify_piece **p, size_t *n,
		      const char **why)
{
	if (!j->ready)
		return -EAGAIN;
	*p = j->p;
	*n = j->n;
	*why = j->why;
	return j->err;
}

struct digest_job *digest_job_drop(struct digest_job *j)
{
	if (!j)
		return NULL;
	if (j->ready)
		digest_job_free(j);
	else
		j->dropped = true;
	return NULL;
}
