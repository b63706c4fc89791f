/* digest_job: the read-back digests of a flash step's region (verify.h),
 * computed off the event loop. A flash step that will be read back starts
 * its job when its download begins; the worker thread reads the image and
 * computes every piece's CRC-32 (and SHA-256) while the board takes the
 * data, so the loop, which serves every other board, never spends the
 * seconds per GB that reading and hashing cost (worker.h).
 *
 * The job holds a reference to the image, so its bytes stay while it runs
 * whatever happens to the board. Its owner (fb_session.c) lets go with
 * digest_job_drop(): at once when the job is over, else when its run ends
 * (done is then not called). */
#ifndef FLASHD_DAEMON_DIGEST_JOB_H
#define FLASHD_DAEMON_DIGEST_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "flashd/imgsrc.h"
#include "flashd/plan.h"
#include "flashd/sparse.h"
#include "flashd/verify.h"

struct worker;
struct digest_job;

/* The pieces of the region src (inside img) with info's layout, cut by o.
 * On worker w: done(ud) runs on the loop when they are ready, never from
 * inside this call. w NULL: computed here and now (tests, and a station
 * without a worker); done is not called, the job is ready on return.
 * -ENOMEM. */
int digest_job_start(struct worker *w, struct plan_image *img, const struct imgsrc *src,
		     const struct sparse_info *info, const struct verify_opts *o,
		     void (*done)(void *ud), void *ud, struct digest_job **out);
bool digest_job_ready(const struct digest_job *j);
/* Ready: 0 and the pieces in order (valid until the drop), or the error of
 * the image read or of the layout with a static *why. */
int digest_job_result(const struct digest_job *j, const struct verify_piece **p, size_t *n,
		      const char **why);
/* The owner lets go (NULL-safe); returns NULL. */
struct digest_job *digest_job_drop(struct digest_job *j);

#endif
