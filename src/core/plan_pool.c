/* plan_pool: ${pool:NAME[:K]} variables in plan lines (flashd-plan(5),
 * "Pool variables"): well-formed at parse, bound to flashd.conf's pools by
 * plan_bind_pools. The fb_cmd stays as written; the station substitutes a
 * board's values when it sends the command (pool_expand). */
#include "plan_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plan_pool_check_refs(struct plan_loader *ld, const struct plan_step *step)
{
	char why[256];
	size_t n;

	if (pool_refs_scan(step->arg ? step->arg : "", NULL, 0, &n, why, sizeof(why)) < 0)
		return plan_fail(ld, "%s", why);
	return 0;
}

void plan_pools_clear(struct plan *p)
{
	for (size_t i = 0; i < p->npools; i++)
		free(p->pools[i]);
	free(p->pools);
	p->pools = NULL;
	p->npools = 0;
}

size_t plan_n_pools(const struct plan *p)
{
	return p->npools;
}

const char *plan_pool_name(const struct plan *p, size_t i)
{
	return i < p->npools ? p->pools[i] : NULL;
}

static int plan_pool_note(struct plan *p, const char *name)
{
	char **np;

	for (size_t i = 0; i < p->npools; i++)
		if (!strcmp(p->pools[i], name))
			return 0;
	np = realloc(p->pools, (p->npools + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	p->pools = np;
	np[p->npools] = strdup(name);
	if (!np[p->npools])
		return -ENOMEM;
	p->npools++;
	return 0;
}

/* "unknown pool 'x' (flashd.conf declares: a, b)" */
static int plan_pool_unknown(struct plan_loader *ld, const char *name, const struct pool_def *defs,
			     size_t n)
{
	char list[400] = "";
	size_t len = 0;

	if (!n)
		return plan_fail(ld, "unknown pool '%s' (flashd.conf declares no pool)", name);
	for (size_t i = 0; i < n && len < sizeof(list); i++) {
		int w =
		    snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", defs[i].name);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	return plan_fail(ld, "unknown pool '%s' (flashd.conf declares: %s)", name, list);
}

/* One line: its references, and its length with the longest values. */
static int plan_pool_bind_step(struct plan_loader *ld, const struct plan_step *step,
			       const struct pool_def *defs, size_t n)
{
	struct pool_ref *refs = NULL;
	size_t nrefs, cmd_len, arg_len;
	char why[256];
	int r;

	if (pool_refs_scan(step->arg, NULL, 0, &nrefs, why, sizeof(why)) < 0)
		return plan_fail(ld, "%s", why);
	refs = calloc(nrefs ? nrefs : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	pool_refs_scan(step->arg, refs, nrefs, &nrefs, why, sizeof(why));
	arg_len = strlen(step->arg);
	for (size_t i = 0; i < nrefs; i++) {
		const struct pool_def *d = pool_find(defs, n, refs[i].name);

		if (!d) {
			r = plan_pool_unknown(ld, refs[i].name, defs, n);
			goto out;
		}
		if (refs[i].index >= d->count) {
			r = plan_fail(ld,
				      "'%.*s': pool '%s' gives a board %u value%s (count = %u), "
				      "numbered from 0",
				      (int)refs[i].len, step->arg + refs[i].off, d->name, d->count,
				      d->count == 1 ? "" : "s", d->count);
			goto out;
		}
		arg_len = arg_len - refs[i].len + pool_value_max_len(d);
		r = plan_pool_note(ld->p, d->name);
		if (r < 0)
			goto out;
	}
	cmd_len = strlen(step->fb_cmd) - strlen(step->arg) + arg_len;
	if (cmd_len > PLAN_FB_CMD_MAX) {
		r = plan_fail(ld,
			      "fastboot command '%.32s…' can be %zu bytes with the pools' longest "
			      "values; U-Boot takes at most %u (f_fastboot.c: EP_BUFFER_SIZE 4096)",
			      step->fb_cmd, cmd_len, PLAN_FB_CMD_MAX);
		goto out;
	}
	if (step->op == PLAN_OP_ACMD && arg_len > PLAN_ACMD_MAX) {
		r = plan_fail(ld,
			      "acmd: '%.32s…' can be %zu bytes with the pools' longest values; "
			      "U-Boot takes at most %u (fb_command.c: \"too long command\")",
			      step->arg, arg_len, PLAN_ACMD_MAX);
		goto out;
	}
	r = 0;
out:
	free(refs);
	return r;
}

int plan_bind_pools(struct plan *p, const struct pool_def *defs, size_t n, char *err, size_t errlen)
{
	struct plan_loader ld = {.p = p, .name = p->path, .err = err, .errlen = errlen};

	plan_pools_clear(p);
	for (size_t i = 0; i < p->nsteps; i++) {
		const struct plan_step *step = &p->steps[i];
		int r;

		if (!step->pool_vars || !step->fb_cmd || !step->arg)
			continue;
		ld.line = step->line;
		r = plan_pool_bind_step(&ld, step, defs, n);
		if (r < 0) {
			plan_pools_clear(p);
			if (r == -ENOMEM)
				plan_fail(&ld, "out of memory");
			return r;
		}
	}
	return 0;
}
