/* fake_plan: a test-only stand-in for the plan module's accessors, so the
 * session tests can build exact step lists (and images in memory) without
 * the plan parser. struct plan is defined here; the sessions only use
 * plan_ref/unref, plan_n_steps, plan_step, and plan_op_to_string (the real
 * one: link src/core/plan_names.c). */
#ifndef FLASHD_TEST_FAKE_PLAN_H
#define FLASHD_TEST_FAKE_PLAN_H

#include "flashd/plan.h"

#define FAKE_PLAN_STEPS 32u

struct plan {
	unsigned refs;
	size_t n;
	struct plan_step steps[FAKE_PLAN_STEPS];
};

/* Plans alive (created and not yet unreferenced to 0). */
extern unsigned fake_plan_live;

struct plan *fake_plan_new(void);
/* Appends a runnable step (runs_on_imx6 = proto is SDP or FB). */
struct plan_step *fake_plan_add(struct plan *p, enum plan_proto proto, enum plan_op op,
				const char *text, const char *fb_cmd);
/* An image over data (not copied): parses i.MX and sparse headers. */
void fake_plan_image(struct plan_image *img, const char *path, const uint8_t *data, size_t size);

#endif
