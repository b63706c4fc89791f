/* plan: parse a uuu-dialect plan into an immutable, refcounted list of
 * steps (flashd-plan(5)): the object, parameters, the two passes and the
 * entry points. One line → one step is plan_cmd.c, lexing plan_lex.c,
 * images plan_image.c, names of ops and protocols plan_names.c. */
#include "flashd/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sha256.h"
#include "plan_priv.h"

/* ---- loader ---- */

int plan_fail(struct plan_loader *ld, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!ld->err || !ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->line)
		snprintf(ld->err, ld->errlen, "%s:%u: %s", ld->name, ld->line, msg);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->name, msg);
	return -EINVAL;
}

static void plan_step_clear(struct plan_step *step)
{
	free((char *)step->text);
	free((char *)step->cmd);
	free((char *)step->arg);
	free((char *)step->fb_cmd);
	free((char *)step->file);
	free((char *)step->verify_part);
	memset(step, 0, sizeof(*step));
}

struct plan *plan_ref(struct plan *p)
{
	if (p)
		p->refs++;
	return p;
}

struct plan *plan_unref(struct plan *p)
{
	if (!p || --p->refs > 0)
		return NULL;
	for (size_t i = 0; i < p->nsteps; i++)
		plan_step_clear(&p->steps[i]);
	free(p->steps);
	for (size_t i = 0; i < p->nimages; i++)
		plan_image_unref(p->images[i]);
	free(p->images);
	for (size_t i = 0; i < p->nparams; i++) {
		free(p->params[i].name);
		free(p->params[i].def);
		free(p->params[i].owned);
	}
	plan_pools_clear(p);
	free(p->path);
	free(p->dir);
	free(p);
	return NULL;
}

const char *plan_path(const struct plan *p)
{
	return p->path;
}

const char *plan_sha256(const struct plan *p)
{
	return p->sha256;
}

bool plan_no_write(const struct plan *p)
{
	return p->no_write;
}

size_t plan_n_steps(const struct plan *p)
{
	return p->nsteps;
}

const struct plan_step *plan_step(const struct plan *p, size_t i)
{
	return i < p->nsteps ? &p->steps[i] : NULL;
}

size_t plan_n_images(const struct plan *p)
{
	return p->nimages;
}

struct plan_image *plan_image(const struct plan *p, size_t i)
{
	return i < p->nimages ? p->images[i] : NULL;
}

const struct plan_usb_id *plan_usb_ids(const struct plan *p, size_t *n)
{
	*n = p->nusb_ids;
	return p->usb_ids;
}

size_t plan_n_params(const struct plan *p)
{
	return p->nparams;
}

int plan_param(const struct plan *p, size_t i, const char **name, const char **value)
{
	if (i >= p->nparams)
		return -ENOENT;
	*name = p->params[i].name;
	*value = p->params[i].value;
	return 0;
}

/* ---- parameters: as uuu's BuiltInScript (uuu/buildincmd.cpp) ---- */

static struct plan_param *plan_param_find(struct plan *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (strlen(p->params[i].name) == len && memcmp(p->params[i].name, name, len) == 0)
			return &p->params[i];
	return NULL;
}

static bool plan_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The default of pm: uuu takes the first "@_name" in the text and the
 * first '|' after it; a '[' between them starts the name of the parameter
 * whose argument pm takes when it is not given, up to ']'. */
static int plan_param_default(struct plan_param *pm, const char *text, size_t len)
{
	char key[PLAN_LINE_MAX + 2];
	const char *at, *bar, *lb, *rb, *end = text + len;

	if ((size_t)snprintf(key, sizeof(key), "@%s", pm->name) >= sizeof(key))
		return 0;
	at = memmem(text, len, key, strlen(key));
	if (!at || !(bar = memchr(at, '|', (size_t)(end - at))))
		return 0;
	lb = memchr(at, '[', (size_t)(bar - at));
	if (!lb)
		return 0;
	rb = memchr(lb, ']', (size_t)(bar - lb));
	pm->def = strndup(lb + 1, (size_t)((rb ? rb : bar) - lb - 1));
	return pm->def ? 0 : -ENOMEM;
}

static int plan_param_add(struct plan_loader *ld, const char *name, size_t len)
{
	struct plan *p = ld->p;
	char *nm;

	if (plan_param_find(p, name, len))
		return 0;
	if (p->nparams >= PLAN_PARAMS_MAX)
		return plan_fail(ld, "more than %u parameters (words '_name' after a blank or '@')",
				 PLAN_PARAMS_MAX);
	nm = strndup(name, len);
	if (!nm)
		return -ENOMEM;
	p->params[p->nparams++] = (struct plan_param){ .name = nm, .line = ld->line };
	return 0;
}

/* Every "_word" after '@' or a space is a parameter (uuu's regex
 * "(@| )(_\S+)"), whether or not a "# @_name" line declares it. */
static int plan_collect(struct plan_loader *ld, const char *text, size_t len)
{
	int r;

	ld->line = 1;
	for (size_t i = 1; i < len; i++) {
		size_t j = i;
		if (text[i - 1] == '\n')
			ld->line++;
		if (text[i] != '_' || (text[i - 1] != '@' && text[i - 1] != ' '))
			continue;
		while (j < len && !plan_is_space(text[j]))
			j++;
		if (j - i > PLAN_LINE_MAX) {
			i = j - 1;
			continue;
		}
		r = plan_param_add(ld, text + i, j - i);
		if (r < 0)
			return r;
		i = j - 1; /* the regex goes on after its match: "@_a@_b" is one name */
	}
	for (size_t i = 0; i < ld->p->nparams; i++) {
		r = plan_param_default(&ld->p->params[i], text, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static int plan_check_arg(struct plan_loader *ld, size_t i, const char *a, const char *name)
{
	if (!a)
		return plan_fail(ld, "argument %zu is NULL", i + 1);
	if (!*a)
		return plan_fail(ld, "argument %zu (%s) is empty", i + 1, name);
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return plan_fail(ld, "argument %zu (%s) contains a control character", i + 1, name);
	if (strchr(a, '"'))
		return plan_fail(ld, "argument %zu (%s) contains a double quote", i + 1, name);
	return 0;
}

/* uuu's replace_script_args: argument i binds parameter i; a parameter
 * without an argument takes the argument of the parameter its [default]
 * names, if that one was given; otherwise its name stays, a literal word. */
static int plan_bind(struct plan_loader *ld, const char *const *args, size_t nargs)
{
	struct plan *p = ld->p;

	ld->line = 0;
	if (nargs > p->nparams)
		return plan_fail(ld, "%zu argument%s given, but the plan has %zu parameter%s (words '_name')",
				 nargs, nargs == 1 ? "" : "s", p->nparams, p->nparams == 1 ? "" : "s");
	for (size_t i = 0; i < nargs; i++) {
		int r = plan_check_arg(ld, i, args[i], p->params[i].name);
		if (r < 0)
			return r;
		p->params[i].owned = strdup(args[i]);
		if (!p->params[i].owned)
			return -ENOMEM;
		p->params[i].value = p->params[i].owned;
	}
	for (size_t i = nargs; i < p->nparams; i++) {
		struct plan_param *pm = &p->params[i];
		for (size_t j = 0; pm->def && j < nargs; j++)
			if (strcmp(p->params[j].name, pm->def) == 0) {
				pm->value = p->params[j].owned;
				break;
			}
	}
	return 0;
}

/* Pass 1: lexical checks on every line. */
static int plan_pass_lex(struct plan_loader *ld, const char *text, size_t len)
{
	char buf[PLAN_LINE_MAX + 1];
	const char *why;
	size_t pos = 0;
	int r;

	ld->line = 0;
	while ((r = plan_lex_next(text, len, &pos, buf, &ld->line, &why)) != 0)
		if (r < 0)
			return plan_fail(ld, "%s", why);
	return 0;
}

/* ---- pass 2: steps ---- */

static int plan_step_add(struct plan_loader *ld, const struct plan_step *step, size_t *cap)
{
	struct plan *p = ld->p;

	if (p->nsteps >= PLAN_STEPS_MAX)
		return plan_fail(ld, "more than %u steps", PLAN_STEPS_MAX);
	if (p->nsteps == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct plan_step *v = realloc(p->steps, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->steps = v;
		*cap = ncap;
	}
	p->steps[p->nsteps++] = *step;
	return 0;
}

/* A comment line "# flashd: no-write" (blanks free around and inside the
 * words): the plan means to write nothing to the board (flashd-plan(5),
 * "Plans that write nothing"). */
static bool plan_says_no_write(const char *text, size_t len)
{
	static const char want[] = "flashd:no-write";

	for (size_t i = 0; i < len;) {
		size_t e = i, k = 0;
		bool ok = true;

		while (e < len && text[e] != '\n')
			e++;
		while (i < e && plan_lex_is_blank(text[i]))
			i++;
		if (i < e && text[i] == '#') {
			for (i++; i < e && ok; i++) {
				if (plan_lex_is_blank(text[i]) || text[i] == '\r')
					continue;
				ok = k < sizeof(want) - 1 && text[i] == want[k++];
			}
			if (ok && k == sizeof(want) - 1)
				return true;
		}
		i = e + 1;
	}
	return false;
}

/* A step that writes to the board's storage, or may (U-Boot commands). */
static bool plan_step_writes(const struct plan_step *s)
{
	if (!s->runs_on_imx6 || s->proto != PLAN_PROTO_FB)
		return false;
	return s->op == PLAN_OP_FLASH || s->op == PLAN_OP_ERASE || s->op == PLAN_OP_UCMD ||
	       s->op == PLAN_OP_ACMD || s->op == PLAN_OP_OEM;
}

static int plan_pass_steps(struct plan_loader *ld, const char *text, size_t len)
{
	char buf[PLAN_LINE_MAX + 1];
	const char *why;
	size_t pos = 0, cap = 0;
	bool runnable = false, spl = false, writes = false;
	int r;

	ld->line = 0;
	while ((r = plan_lex_next(text, len, &pos, buf, &ld->line, &why)) != 0) {
		struct plan_step step = { 0 };
		if (r < 0)
			return plan_fail(ld, "%s", why);
		r = plan_cmd_line(ld, buf, &step);
		if (r <= 0) {
			plan_step_clear(&step);
			if (r < 0)
				return r;
			continue;
		}
		runnable |= step.runs_on_imx6 && (step.proto == PLAN_PROTO_SDP || step.proto == PLAN_PROTO_FB);
		writes |= plan_step_writes(&step);
		spl |= step.runs_on_imx6 && step.proto != PLAN_PROTO_SDP && step.proto != PLAN_PROTO_FB;
		r = plan_step_add(ld, &step, &cap);
		if (r < 0) {
			plan_step_clear(&step);
			return r;
		}
	}
	ld->line = 0;
	if (!runnable && spl)
		return plan_fail(ld, "SDPU:/SDPV: lines but no SDP: boot: a board in the boot ROM never "
				 "reaches U-Boot SPL (add 'SDP: boot -f SPL')");
	if (!runnable)
		return plan_fail(ld, "no SDP: or FB: steps");
	r = plan_sdp_chain(ld);
	if (r < 0)
		return r;
	ld->line = 0;
	if (!writes && !plan_says_no_write(text, len))
		return plan_fail(ld, "no line writes to the board (FB: flash, erase, ucmd, acmd or oem): "
				 "every board would end \"ok\" with nothing flashed; a plan meant for "
				 "that says so with a line \"# flashd: no-write\"");
	ld->p->no_write = !writes;
	return 0;
}

/* ---- entry points ---- */

static int plan_parse_with(const char *name, const char *dir, const char *text, size_t len,
			   const char *const *args, size_t nargs, const struct plan_images *images,
			   struct plan **out, char *err, size_t errlen)
{
	struct plan_loader ld = { .name = name ? name : "plan", .images = images, .err = err,
				  .errlen = errlen };
	struct plan *p;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if ((!text && len) || (!args && nargs) || !out)
		return -EINVAL;
	if (len > PLAN_FILE_MAX)
		return plan_fail(&ld, "larger than %u bytes", PLAN_FILE_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ld.p = p;
	p->refs = 1;
	p->path = strdup(ld.name);
	p->dir = strdup(dir && *dir ? dir : ".");
	sha256_hex(text ? text : "", len, p->sha256);
	r = p->path && p->dir ? 0 : -ENOMEM;
	/* a UTF-8 byte order mark (editors on Windows add one): skipped */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (r == 0)
		r = plan_pass_lex(&ld, text, len);
	if (r == 0)
		r = plan_collect(&ld, text, len);
	if (r == 0)
		r = plan_bind(&ld, args, nargs);
	if (r == 0)
		r = plan_pass_steps(&ld, text, len);
	if (r < 0) {
		if (r == -ENOMEM) {
			ld.line = 0;
			plan_fail(&ld, "out of memory");
		}
		plan_unref(p);
		return r;
	}
	*out = p;
	return 0;
}

int plan_parse(const char *name, const char *dir, const char *text, size_t len,
	       const char *const *args, size_t nargs, const struct plan_images *images,
	       struct plan **out, char *err, size_t errlen)
{
	if (images && !images->open)
		return -EINVAL;
	return plan_parse_with(name, dir, text, len, args, nargs, images, out, err, errlen);
}

static char *plan_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* The plan file's bytes (at most PLAN_FILE_MAX), read: never mapped, so a
 * file truncated meanwhile is a short read, not a SIGBUS. */
static int plan_read_file(struct plan_loader *ld, const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), r = 0;
	struct stat sb;
	size_t n = 0;
	char *buf;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		plan_fail(ld, "%s", strerror(-r));
		return r;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > PLAN_FILE_MAX) {
		close(fd);
		plan_fail(ld, "%s", !S_ISREG(sb.st_mode) ? "not a regular file" : "larger than 1 MiB");
		return !S_ISREG(sb.st_mode) ? -EINVAL : -EFBIG;
	}
	buf = malloc(PLAN_FILE_MAX + 1);
	while (buf && n <= PLAN_FILE_MAX) {
		ssize_t k = read(fd, buf + n, PLAN_FILE_MAX + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : 0;
			break;
		}
		n += (size_t)k;
	}
	close(fd);
	if (!buf || r < 0 || n > PLAN_FILE_MAX) {
		free(buf);
		r = !buf ? -ENOMEM : r < 0 ? r : -EFBIG;
		plan_fail(ld, "%s", r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	*text = buf;
	*len = n;
	return 0;
}

int plan_load(const char *path, const char *const *args, size_t nargs, const struct plan_images *images,
	      struct plan **out, char *err, size_t errlen)
{
	struct plan_loader ld = { .name = path, .err = err, .errlen = errlen };
	char *dir, *text = NULL;
	size_t len = 0;
	int r;

	if (!path || !out || (images && !images->open))
		return -EINVAL;
	r = plan_read_file(&ld, path, &text, &len);
	if (r < 0)
		return r;
	dir = plan_dirname(path);
	r = dir ? plan_parse_with(path, dir, text, len, args, nargs, images, out, err, errlen) : -ENOMEM;
	free(dir);
	free(text);
	return r;
}
