/* plan_image: the core's side of a plan's images — references, the call
 * to the caller's opener (plan.h, struct plan_images; the daemon's
 * image.c opens, reads, hashes and probes files). No file I/O here. */
#include "plan_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plan_image *plan_image_ref(struct plan_image *img)
{
	if (img)
		__atomic_add_fetch(&img->refs, 1, __ATOMIC_RELAXED);
	return img;
}

struct plan_image *plan_image_unref(struct plan_image *img)
{
	if (!img || __atomic_sub_fetch(&img->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	img->release(img);
	return NULL;
}

static int plan_image_keep(struct plan *p, struct plan_image *img)
{
	struct plan_image **v;

	for (size_t i = 0; i < p->nimages; i++)
		if (p->images[i] == img) {
			plan_image_unref(img);   /* the plan holds it already */
			return 0;
		}
	v = realloc(p->images, (p->nimages + 1) * sizeof(*v));
	if (!v) {
		plan_image_unref(img);
		return -ENOMEM;
	}
	p->images = v;
	p->images[p->nimages++] = img;
	return 0;
}

int plan_image_open(struct plan_loader *ld, const char *file, unsigned how, struct plan_image **img)
{
	struct plan *p = ld->p;
	struct plan_image *got = NULL;
	int r;

	ld->why[0] = '\0';
	r = ld->images->open(ld->images->ud, p->dir, file, how, p->images, p->nimages, &got, ld->why,
			     sizeof(ld->why));
	if (r < 0) {
		if (!ld->why[0])
			snprintf(ld->why, sizeof(ld->why), "%s", strerror(-r));
		return r;
	}
	if (!got || ((how & PLAN_IMAGE_IN_MEMORY) && !got->data)) {
		plan_image_unref(got);
		snprintf(ld->why, sizeof(ld->why), "the image opener did not hold it in memory");
		return -EINVAL;
	}
	r = plan_image_keep(p, got);
	if (r < 0) {
		snprintf(ld->why, sizeof(ld->why), "out of memory");
		return r;
	}
	*img = got;
	return 0;
}
