/* fuzz-plan: plan_parse on arbitrary text (syntax only: images are not
 * opened). The first byte picks how many arguments are bound. An accepted
 * plan must satisfy the invariants the daemon relies on; a rejected one
 * must say where. */
#include "flashd/plan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_step(const struct plan_step *s, unsigned lines)
{
	if (!s->text || !s->cmd || !*s->text || s->line == 0 || s->line > lines)
		abort();
	if (!plan_op_to_string(s->op) || !plan_proto_to_string(s->proto))
		abort();
	if (s->runs_on_imx6 && (s->proto == PLAN_PROTO_SDPS || s->proto == PLAN_PROTO_CFG))
		abort();
	if (!s->runs_on_imx6 && (s->proto == PLAN_PROTO_SDP || s->proto == PLAN_PROTO_FB))
		abort();
	if (s->fb_cmd && (s->proto != PLAN_PROTO_FB || strlen(s->fb_cmd) > PLAN_FB_CMD_MAX))
		abort();
	if (s->op == PLAN_OP_ACMD && strlen(s->arg) > PLAN_ACMD_MAX)
		abort();
	if (s->runs_on_imx6 && s->proto == PLAN_PROTO_FB && !s->fb_cmd && s->op != PLAN_OP_DOWNLOAD &&
	    s->op != PLAN_OP_DELAY && s->op != PLAN_OP_DONE)
		abort();
	if ((s->op == PLAN_OP_FLASH || s->op == PLAN_OP_DOWNLOAD || s->op == PLAN_OP_BOOT) &&
	    s->runs_on_imx6 && !s->file)
		abort();
	if (s->image) /* no opener: never set */
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "u-boot.imx", "my rootfs.img", "x" };
	struct plan *p = NULL;
	char err[512];
	size_t nargs = size ? data[0] % 4 : 0;
	unsigned lines = 1;
	int r;

	if (size) {
		data++;
		size--;
	}
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	r = plan_parse("fuzz.lst", NULL, (const char *)data, size, args, nargs, NULL, &p, err,
		       sizeof(err));
	if (r < 0) {
		if (p || strncmp(err, "fuzz.lst", 8) != 0)
			abort();
		return 0;
	}
	if (plan_n_steps(p) == 0 || plan_n_steps(p) > PLAN_STEPS_MAX || strlen(plan_sha256(p)) != 64)
		abort();
	for (size_t i = 0; i < plan_n_steps(p); i++)
		check_step(plan_step(p, i), lines);
	plan_unref(p);
	return 0;
}
