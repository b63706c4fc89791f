/* fake_plan: see fake_plan.h. */
#include "fake_plan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

unsigned fake_plan_live;

struct plan *fake_plan_new(void)
{
	struct plan *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->refs = 1;
	fake_plan_live++;
	return p;
}

struct plan_step *fake_plan_add(struct plan *p, enum plan_proto proto, enum plan_op op,
				const char *text, const char *fb_cmd)
{
	assert_true(p->n < FAKE_PLAN_STEPS);
	struct plan_step *st = &p->steps[p->n++];
	memset(st, 0, sizeof(*st));
	st->line = (unsigned)p->n;
	st->proto = proto;
	st->op = op;
	st->runs_on_imx6 = proto == PLAN_PROTO_SDP || proto == PLAN_PROTO_FB;
	st->text = text;
	st->cmd = text;
	st->fb_cmd = fb_cmd;
	return st;
}

void fake_plan_image(struct plan_image *img, const char *path, const uint8_t *data, size_t size)
{
	const char *why;

	memset(img, 0, sizeof(*img));
	img->refs = 1;
	img->path = (char *)path;
	img->data = data;
	img->size = size;
	img->src = imgsrc_mem(data, size);
	img->is_imx = imx_image_parse(data, size, &img->imx, &why) == 0;
	img->sparse_ok = sparse_probe(data, size, &img->sparse, &why) == 0;
}

struct plan *plan_ref(struct plan *p)
{
	if (p)
		p->refs++;
	return p;
}

struct plan *plan_unref(struct plan *p)
{
	if (p && --p->refs == 0) {
		fake_plan_live--;
		free(p);
	}
	return NULL;
}

/* Images of fake plans belong to the test (release NULL): references are
 * counted, never the last one dropped here. */
struct plan_image *plan_image_ref(struct plan_image *img)
{
	if (img)
		__atomic_add_fetch(&img->refs, 1, __ATOMIC_RELAXED);
	return img;
}

struct plan_image *plan_image_unref(struct plan_image *img)
{
	if (img && __atomic_sub_fetch(&img->refs, 1, __ATOMIC_ACQ_REL) == 0 && img->release)
		img->release(img);
	return NULL;
}

size_t plan_n_steps(const struct plan *p)
{
	return p->n;
}

const struct plan_step *plan_step(const struct plan *p, size_t i)
{
	return i < p->n ? &p->steps[i] : NULL;
}

