/* plan_cmd: one plan line → one step: the protocol and command tables,
 * options, the checks of a parsed step (images, fastboot command) and CFG
 * lines. */
#include "plan_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"


/* ---- tables ---- */

static const struct {
	const char *name;
	int proto;            /* enum plan_proto, or -1: known to uuu, unsupported */
	const char *why;
} plan_protos[] = {
	{ "SDP", PLAN_PROTO_SDP, NULL },   { "SDPS", PLAN_PROTO_SDPS, NULL },
	{ "SDPU", PLAN_PROTO_SDPU, NULL }, { "SDPV", PLAN_PROTO_SDPV, NULL },
	{ "FB", PLAN_PROTO_FB, NULL },     { "FASTBOOT", PLAN_PROTO_FB, NULL },
	{ "CFG", PLAN_PROTO_CFG, NULL },
	{ "FBK", -1, "uuu's fastboot in a Linux ramdisk runs programs on the board; flashd flashes "
		     "from U-Boot only" },
};

enum plan_opt_kind {
	PLAN_OPT_FLAG,       /* bool */
	PLAN_OPT_U32,        /* uint32_t */
	PLAN_OPT_U64,        /* uint64_t */
	PLAN_OPT_FILE,       /* const char *file */
	PLAN_OPT_ADDR,       /* uint32_t addr + has_addr */
	PLAN_OPT_IVT,        /* number, sets use_ivt */
	PLAN_OPT_SKIP_FLAG,  /* accepted and ignored (uuu ignores it there too) */
	PLAN_OPT_SKIP_VALUE, /* the same, with a value */
	PLAN_OPT_NO,         /* known to uuu, refused */
	PLAN_OPT_VERIFY_AT,  /* uint64_t verify_at + has_verify_at */
	PLAN_OPT_WORD,       /* const char * (strdup) */
};

struct plan_opt {
	const char *name;
	enum plan_opt_kind kind;
	size_t off;
	const char *why;
};

#define OPT(n, k, f) { n, PLAN_OPT_##k, offsetof(struct plan_step, f), NULL }
#define OPT_NO(n, why) { n, PLAN_OPT_NO, 0, why }
#define OPT_SKIP(n) { n, PLAN_OPT_SKIP_FLAG, 0, NULL }
#define OPT_SKIPV(n) { n, PLAN_OPT_SKIP_VALUE, 0, NULL }
#define OPT_END { NULL, PLAN_OPT_FLAG, 0, NULL }

static const struct plan_opt plan_opts_boot[] = {
	OPT("-f", FILE, file), OPT("-nojump", FLAG, nojump), OPT("-cleardcd", FLAG, cleardcd),
	OPT("-dcdaddr", U32, dcd_addr), OPT("-scanlimited", U64, scan_limit),
	OPT_NO("-barebox", "barebox images are not supported"), OPT_END,
};
static const struct plan_opt plan_opts_dcd[] = {
	OPT("-f", FILE, file), OPT("-dcdaddr", U32, dcd_addr), OPT_END,
};
static const struct plan_opt plan_opts_write[] = {
	OPT("-f", FILE, file), OPT("-addr", ADDR, addr), OPT("-ivt", IVT, use_ivt),
	OPT("-offset", U64, image_offset), OPT("-scanterm", FLAG, scanterm),
	OPT("-scanlimited", U64, scan_limit),
	OPT_NO("-skipspl", "-skipspl is for U-Boot SPL (SDPV:), not the i.MX6 boot ROM"),
	OPT_NO("-skipfhdr", "-skipfhdr is for FlexSPI images, not the i.MX6 boot ROM"), OPT_END,
};
static const struct plan_opt plan_opts_jump[] = {
	OPT("-f", FILE, file), OPT("-ivt", IVT, use_ivt), OPT("-cleardcd", FLAG, cleardcd),
	OPT("-scanlimited", U64, scan_limit),
	OPT_NO("-plugin", "plugin images are not supported"),
	OPT_NO("-addr", "the i.MX6 boot ROM jumps to an IVT: use -f FILE"), OPT_END,
};
/* SDPS: lines never run on i.MX6: accept what uuu accepts */
static const struct plan_opt plan_opts_sdps[] = {
	OPT("-f", FILE, file), OPT("-offset", U64, image_offset), OPT("-addr", ADDR, addr),
	OPT("-ivt", IVT, use_ivt), OPT("-scanterm", FLAG, scanterm),
	OPT("-scanlimited", U64, scan_limit), OPT("-nojump", FLAG, nojump),
	OPT("-cleardcd", FLAG, cleardcd), OPT("-dcdaddr", U32, dcd_addr),
	OPT_SKIP("-skipspl"), OPT_SKIP("-skipfhdr"), OPT_SKIP("-plugin"), OPT_SKIP("-barebox"),
	OPT_END,
};
/* SDPU:/SDPV: on U-Boot SPL's SDP gadget: uuu's SDPWriteCmd options */
static const struct plan_opt plan_opts_spl_write[] = {
	OPT("-f", FILE, file), OPT("-offset", U64, image_offset), OPT("-addr", ADDR, addr),
	OPT("-skipspl", FLAG, skipspl), OPT("-skipfhdr", FLAG, skipfhdr), OPT("-scanterm", FLAG, scanterm),
	OPT("-scanlimited", U64, scan_limit),
	OPT_NO("-ivt", "-ivt sends a boot ROM image to its IVT address; U-Boot SPL loads U-Boot proper "
		       "from its load address: use -offset N or -skipspl"),
	OPT_NO("-barebox-bl33", "barebox images are not supported"), OPT_END,
};
/* uuu's SPL jump sends only -addr (ROM_INFO_SPL_JUMP in libuuu/sdp.cpp) and
 * ignores the rest, as flashd does */
static const struct plan_opt plan_opts_spl_jump[] = {
	OPT("-addr", ADDR, addr), OPT_SKIPV("-f"), OPT_SKIPV("-ivt"), OPT_SKIPV("-scanlimited"),
	OPT_SKIP("-plugin"), OPT_SKIP("-cleardcd"), OPT_END,
};
static const struct plan_opt plan_opts_flash[] = {
	OPT("-raw2sparse", FLAG, raw2sparse), OPT("-no-bmap", FLAG, no_bmap),
	OPT("-scanterm", FLAG, scanterm), OPT("-scanlimited", U64, scan_limit),
	OPT("-S", U64, sparse_limit),
	OPT("-verify", FLAG, verify), OPT("-no-verify", FLAG, no_verify),
	OPT("-verify-at", VERIFY_AT, verify_at), OPT("-verify-part", WORD, verify_part),
	OPT_NO("-bmap", "bmap files are not supported: use a sparse image, or -no-bmap"), OPT_END,
};
static const struct plan_opt plan_opts_download[] = { OPT("-f", FILE, file), OPT_END };

enum plan_args {
	PLAN_ARGS_NONE,  /* nothing after the command */
	PLAN_ARGS_OPTS,  /* options from a table, then npos positionals */
	PLAN_ARGS_REST,  /* the rest of the line, verbatim */
	PLAN_ARGS_WORD,  /* exactly one word */
	PLAN_ARGS_MS,    /* one number (milliseconds) */
};

#define P(x) (1u << PLAN_PROTO_##x)
#define P_SPL (P(SDPU) | P(SDPV))
#define P_ALL (P(SDP) | P(SDPS) | P_SPL | P(FB))

struct plan_cmd {
	const char *name;
	enum plan_op op;
	unsigned protos;
	enum plan_args args;
	const struct plan_opt *opts;
	unsigned npos;
	const char *unsupported;
};

#define CMD(n, op, pr, a, o, np) { n, PLAN_OP_##op, pr, PLAN_ARGS_##a, o, np, NULL }
#define CMD_NO(n, pr, why) { n, PLAN_OP_DONE, pr, PLAN_ARGS_NONE, NULL, 0, why }

static const struct plan_cmd plan_cmds[] = {
	CMD("boot", BOOT, P(SDP), OPTS, plan_opts_boot, 0),
	CMD("boot", BOOT, P(SDPS), OPTS, plan_opts_sdps, 0),
	CMD("dcd", DCD, P(SDP), OPTS, plan_opts_dcd, 0),
	CMD("write", WRITE, P(SDP), OPTS, plan_opts_write, 0),
	CMD("write", WRITE, P_SPL, OPTS, plan_opts_spl_write, 0),
	CMD("jump", JUMP, P(SDP), OPTS, plan_opts_jump, 0),
	CMD("jump", JUMP, P_SPL, OPTS, plan_opts_spl_jump, 0),
	CMD("status", STATUS, P(SDP), NONE, NULL, 0),
	CMD("getvar", GETVAR, P(FB), WORD, NULL, 0),
	CMD("ucmd", UCMD, P(FB), REST, NULL, 0),
	CMD("acmd", ACMD, P(FB), REST, NULL, 0),
	CMD("oem", OEM, P(FB), REST, NULL, 0),
	CMD("flash", FLASH, P(FB), OPTS, plan_opts_flash, 2),
	CMD("download", DOWNLOAD, P(FB), OPTS, plan_opts_download, 0),
	CMD("erase", ERASE, P(FB), WORD, NULL, 0),
	CMD("reboot", REBOOT, P(FB), NONE, NULL, 0),
	CMD("continue", CONTINUE, P(FB), NONE, NULL, 0),
	CMD("delay", DELAY, P_ALL, MS, NULL, 0),
	CMD("done", DONE, P_ALL, NONE, NULL, 0),
	CMD_NO("rdmem", P(SDP) | P_SPL, "memory reads are not supported"),
	CMD_NO("wrmem", P(SDP) | P_SPL, "memory writes are not supported"),
	CMD_NO("blog", P(SDP) | P_SPL, "boot logs are not supported"),
	CMD_NO("boot", P(FB), "booting a downloaded image is not supported"),
	CMD_NO("upload", P(FB), "uploads are not supported"),
	CMD_NO("set_active", P(FB), "A/B slots are not supported"),
	CMD_NO("flashing", P(FB), "flashing lock/unlock is not supported"),
	CMD_NO("crc", P(FB), "not supported"),
	CMD_NO("write", P(FB), "not supported"),
	CMD_NO("update-super", P(FB), "logical partitions are not supported"),
	CMD_NO("create-logical-partition", P(FB), "logical partitions are not supported"),
	CMD_NO("delete-logical-partition", P(FB), "logical partitions are not supported"),
	CMD_NO("resize-logical-partition", P(FB), "logical partitions are not supported"),
	CMD_NO("sh", P_ALL, "shell commands are not supported"),
	CMD_NO("shell", P_ALL, "shell commands are not supported"),
	CMD_NO("<", P_ALL, "shell commands are not supported"),
	CMD_NO("@", P_ALL, "environment expansion is not supported"),
	CMD_NO("if", P_ALL, "conditionals are not supported"),
	CMD_NO("error", P_ALL, "not supported"),
};

/* ---- one line ---- */

/* "FB[-t 30000]" → proto and timeout */
static int plan_proto_head(struct plan_loader *ld, char *head, struct plan_step *step)
{
	char *br = strchr(head, '['), *name = head, *e;
	struct plan_lex_tokens tk;
	uint64_t t;

	if (br) {
		char *close = strchr(br, ']');
		if (!close)
			return plan_fail(ld, "missing ']' after '%s'", head);
		if (close[1 + strspn(close + 1, " \t")] != '\0')
			return plan_fail(ld, "unexpected text after ']'");
		*close = '\0';
		*br = '\0';
		if (plan_lex_tokenize(br + 1, &tk) < 0 || tk.n != 2 || strcmp(tk.tok[0], "-t") != 0)
			return plan_fail(ld, "bad protocol option '[%s]' (only [-t MS])", br + 1);
		if (plan_lex_number(tk.tok[1], UINT32_MAX, &t) < 0 || t == 0)
			return plan_fail(ld, "-t: bad timeout '%s' (milliseconds)", tk.tok[1]);
		step->timeout_ms = (uint32_t)t;
	}
	while (plan_lex_is_blank(*name))
		name++;
	e = name + strlen(name);
	while (e > name && plan_lex_is_blank(e[-1]))
		*--e = '\0';
	for (size_t i = 0; i < ELEMENTSOF(plan_protos); i++) {
		if (strcasecmp(plan_protos[i].name, name) != 0)
			continue;
		if (plan_protos[i].proto < 0)
			return plan_fail(ld, "unsupported protocol '%s:' (%s)", name, plan_protos[i].why);
		step->proto = (enum plan_proto)plan_protos[i].proto;
		return 0;
	}
	return plan_fail(ld, "unknown protocol '%s:'", name);
}

static const struct plan_opt *plan_opt_find(const struct plan_opt *opts, const char *name, size_t *idx)
{
	for (size_t i = 0; opts[i].name; i++)
		if (strcmp(opts[i].name, name) == 0) {
			*idx = i;
			return &opts[i];
		}
	return NULL;
}

static int plan_opt_value(struct plan_loader *ld, const struct plan_opt *o, const char *v,
			  struct plan_step *step)
{
	char *field = (char *)step + o->off;
	uint64_t n;
	int r;

	if (o->kind == PLAN_OPT_FILE) {
		if (!*v)
			return plan_fail(ld, "%s: empty file name", o->name);
		free((char *)step->file);
		step->file = strdup(v);
		return step->file ? 0 : -ENOMEM;
	}
	if (o->kind == PLAN_OPT_WORD) {
		if (!*v)
			return plan_fail(ld, "%s: empty value", o->name);
		*(char **)field = strdup(v);
		return *(char **)field ? 0 : -ENOMEM;
	}
	r = plan_lex_number(v, o->kind == PLAN_OPT_U64 ? UINT64_MAX : UINT32_MAX, &n);
	if (r == -ERANGE)
		return plan_fail(ld, "%s: number '%s' too large", o->name, v);
	if (r < 0)
		return plan_fail(ld, "%s: bad number '%s'", o->name, v);
	switch (o->kind) {
	case PLAN_OPT_U32:
		*(uint32_t *)field = (uint32_t)n;
		break;
	case PLAN_OPT_U64:
		*(uint64_t *)field = n;
		break;
	case PLAN_OPT_ADDR:
		step->addr = (uint32_t)n;
		step->has_addr = true;
		break;
	case PLAN_OPT_IVT:
		step->use_ivt = true;
		break;
	case PLAN_OPT_VERIFY_AT:
		step->verify_at = n;
		step->has_verify_at = true;
		break;
	case PLAN_OPT_FLAG:
	case PLAN_OPT_WORD:
	case PLAN_OPT_FILE:
	case PLAN_OPT_SKIP_FLAG:
	case PLAN_OPT_SKIP_VALUE:
	case PLAN_OPT_NO:
		return -EINVAL;   /* no number: the caller handles these */
	}
	return 0;
}

/* Options from a table, positionals into pos[]. */
static int plan_opts(struct plan_loader *ld, const struct plan_cmd *c, struct plan_lex_tokens *tk,
		     struct plan_step *step, const char **pos)
{
	uint32_t seen = 0;
	unsigned npos = 0;

	for (size_t i = 1; i < tk->n; i++) {
		const char *t = tk->tok[i];
		const struct plan_opt *o;
		size_t idx;
		int r;
		if (t[0] != '-' || !t[1]) {
			if (npos >= c->npos)
				return plan_fail(ld, "%s: unexpected argument '%s'", c->name, t);
			pos[npos++] = t;
			continue;
		}
		o = plan_opt_find(c->opts, t, &idx);
		if (!o)
			return plan_fail(ld, "%s: unknown option '%s'", c->name, t);
		if (o->kind == PLAN_OPT_NO)
			return plan_fail(ld, "%s: unsupported option %s (%s)", c->name, t, o->why);
		if (seen & (1u << idx))
			return plan_fail(ld, "%s: option %s given twice", c->name, t);
		seen |= 1u << idx;
		if (o->kind == PLAN_OPT_FLAG)
			*(bool *)((char *)step + o->off) = true;
		if (o->kind == PLAN_OPT_FLAG || o->kind == PLAN_OPT_SKIP_FLAG)
			continue;
		if (++i >= tk->n)
			return plan_fail(ld, "%s: option %s needs a value", c->name, t);
		if (o->kind == PLAN_OPT_SKIP_VALUE)
			continue;
		r = plan_opt_value(ld, o, tk->tok[i], step);
		if (r < 0)
			return r;
	}
	if (npos < c->npos)
		return plan_fail(ld, "%s: needs %s", c->name, c->npos == 2 ? "PARTITION FILE" : "an argument");
	return 0;
}

static int plan_set_arg(struct plan_step *step, const char *s)
{
	step->arg = strdup(s);
	return step->arg ? 0 : -ENOMEM;
}

static int plan_args(struct plan_loader *ld, const struct plan_cmd *c, struct plan_lex_tokens *tk,
		     struct plan_step *step)
{
	const char *pos[2] = { NULL, NULL };
	uint64_t n;
	int r;

	switch (c->args) {
	case PLAN_ARGS_NONE:
		if (tk->n > 1)
			return plan_fail(ld, "%s: unexpected argument '%s'", c->name, tk->tok[1]);
		return 0;
	case PLAN_ARGS_WORD:
		if (tk->n != 2)
			return plan_fail(ld, "%s: needs exactly one argument", c->name);
		return plan_set_arg(step, tk->tok[1]);
	case PLAN_ARGS_REST:
		if (tk->n < 2)
			return plan_fail(ld, "%s: needs an argument", c->name);
		return plan_set_arg(step, tk->src[1]);
	case PLAN_ARGS_MS:
		if (tk->n != 2)
			return plan_fail(ld, "%s: needs one number (milliseconds)", c->name);
		r = plan_lex_number(tk->tok[1], UINT32_MAX, &n);
		if (r < 0)
			return plan_fail(ld, "%s: bad number '%s' (milliseconds)", c->name, tk->tok[1]);
		step->delay_ms = (uint32_t)n;
		return 0;
	case PLAN_ARGS_OPTS:
		r = plan_opts(ld, c, tk, step, pos);
		if (r < 0 || c->npos != 2)
			return r;
		step->file = strdup(pos[1]);
		return step->file ? plan_set_arg(step, pos[0]) : -ENOMEM;
	}
	return -EINVAL;
}

static const struct plan_cmd *plan_cmd_find(const char *name, enum plan_proto proto)
{
	for (size_t i = 0; i < ELEMENTSOF(plan_cmds); i++)
		if ((plan_cmds[i].protos & (1u << proto)) && strcasecmp(plan_cmds[i].name, name) == 0)
			return &plan_cmds[i];
	return NULL;
}

/* ---- checks of a parsed step ---- */

static int plan_check_imx(struct plan_loader *ld, struct plan_step *step)
{
	const struct plan_image *img = step->image;

	if (!img->is_imx)
		return plan_fail(ld, "%s: %s", step->file, img->imx_why ? img->imx_why : "not an i.MX boot image");
	if (img->imx.plugin & 1)
		return plan_fail(ld, "%s: plugin images are not supported", step->file);
	if (step->op == PLAN_OP_DCD && !img->imx.dcd_size)
		return plan_fail(ld, "%s: the image has no DCD", step->file);
	if (step->scan_limit && img->imx.ivt_offset >= step->scan_limit)
		return plan_fail(ld, "%s: IVT at 0x%x is beyond -scanlimited 0x%llx", step->file,
				 (unsigned)img->imx.ivt_offset, (unsigned long long)step->scan_limit);
	return 0;
}

/* The step's image; held in memory for what SDP, SDPU and SDPV send. */
static int plan_open(struct plan_loader *ld, struct plan_step *step)
{
	unsigned how = step->proto != PLAN_PROTO_FB ? PLAN_IMAGE_IN_MEMORY : 0;
	const char *why = ld->why;
	int r = plan_image_open(ld, step->file, how, &step->image);

	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		for (size_t i = 0; i < ld->p->nparams; i++)
			if (!ld->p->params[i].value && strcmp(ld->p->params[i].name, step->file) == 0)
				return plan_fail(ld, "%s: %s (parameter '%s' got no argument, so it is a file "
						 "name, as in uuu)", step->file, why, step->file);
		return plan_fail(ld, "%s: %s", step->file, why);
	}
	step->image_len = step->image->size;
	return 0;
}

static int plan_check_sdp(struct plan_loader *ld, struct plan_step *step)
{
	const char *op = plan_op_to_string(step->op);
	int r;

	if (step->op == PLAN_OP_STATUS || step->op == PLAN_OP_DELAY || step->op == PLAN_OP_DONE)
		return 0;
	if (!step->file)
		return plan_fail(ld, "%s: -f FILE missing", op);
	if (step->op == PLAN_OP_WRITE && !step->use_ivt && !step->has_addr)
		return plan_fail(ld, "write: needs -addr ADDR or -ivt 0");
	if (!ld->images)
		return 0;
	r = plan_open(ld, step);
	if (r < 0)
		return r;
	if (step->op == PLAN_OP_WRITE && !step->use_ivt)
		return plan_sdp_range(ld, step);
	if (step->image_offset >= step->image->size)
		return plan_fail(ld, "%s: -offset 0x%llx is beyond the end of the file (%zu bytes)",
				 step->file, (unsigned long long)step->image_offset, step->image->size);
	step->image_len = step->image->size - step->image_offset;
	return plan_check_imx(ld, step);
}

/* SDPU:/SDPV: on U-Boot SPL. A write's range needs to know whether the
 * line can be reached at all: computed after the last line (plan_sdp.c). */
static int plan_check_spl(struct plan_loader *ld, struct plan_step *step)
{
	if (step->op != PLAN_OP_WRITE)
		return 0; /* jump -addr A (0: the SPL's CONFIG_SDP_LOADADDR), delay, done */
	if (!step->file)
		return plan_fail(ld, "write: -f FILE missing");
	if (step->proto == PLAN_PROTO_SDPU && step->skipspl)
		return plan_fail(ld, "write: -skipspl needs an SPL that uuu calls SDPV: (uuu: \"SPL doesn't "
				 "support auto scan uboot position\"): use SDPV: or -offset N");
	if (!ld->images)
		return 0;
	return plan_open(ld, step);
}

static int plan_check_fb_image(struct plan_loader *ld, struct plan_step *step)
{
	const struct plan_image *img;
	int r;

	if (!step->file)
		return plan_fail(ld, "download: -f FILE missing");
	if (!ld->images)
		return 0;
	r = plan_open(ld, step);
	if (r < 0)
		return r;
	img = step->image;
	if (!img->sparse_ok)
		return plan_fail(ld, "%s: %s", step->file, img->sparse_why ? img->sparse_why : "bad sparse image");
	if (step->op == PLAN_OP_DOWNLOAD && img->size > UINT32_MAX)
		return plan_fail(ld, "%s: %zu bytes do not fit in one download (4 GiB - 1)", step->file, img->size);
	if (step->raw2sparse && img->sparse.sparse)
		return plan_fail(ld, "%s: -raw2sparse given, but the image is already sparse", step->file);
	if (step->raw2sparse && !step->no_bmap && img->has_bmap)
		return plan_fail(ld, "%s.bmap exists and uuu would use it, but flashd does not support bmap: add -no-bmap",
				 step->file);
	if (step->scanterm && !img->sparse.sparse) {
		uint64_t dl = img->size, off, len;
		if (step->scan_limit && step->scan_limit < dl)
			dl = step->scan_limit;
		r = plan_sdp_scanterm(ld, step, dl, &off, &len);
		if (r < 0)
			return r;
		if (r > 0) {
			step->image_offset = off;
			step->image_len = len;
		}
	}
	return 0;
}

/* The fastboot wire command, "verb:arg" ("oem arg"). U-Boot's fastboot
 * gadget reads a command into one EP_BUFFER_SIZE (4096) request and
 * takes it only if it is shorter than that (rx_handler_command in
 * drivers/usb/gadget/f_fastboot.c, mainline and NXP's uboot-imx), so the
 * limit is PLAN_FB_CMD_MAX; an ACmd's text is copied into a 64-byte buffer
 * and refused from 64 bytes on ("too long command", run_acmd in
 * drivers/fastboot/fb_command.c and uboot-imx's fb_fsl_command.c). A tab
 * is U-Boot text like any other and goes out as written. */
static int plan_fb_cmd(struct plan_loader *ld, struct plan_step *step)
{
	static const char *const verbs[] = {
		[PLAN_OP_GETVAR] = "getvar", [PLAN_OP_UCMD] = "UCmd", [PLAN_OP_ACMD] = "ACmd",
		[PLAN_OP_FLASH] = "flash",   [PLAN_OP_ERASE] = "erase", [PLAN_OP_REBOOT] = "reboot",
		[PLAN_OP_CONTINUE] = "continue", [PLAN_OP_OEM] = "oem",
	};
	const char *verb = (unsigned)step->op < ELEMENTSOF(verbs) ? verbs[step->op] : NULL;
	size_t len;
	char *cmd;

	if (!verb)
		return 0;
	if (step->pool_vars) {
		/* the limits hold for the line with the values in it: plan_bind_pools */
		int r = plan_pool_check_refs(ld, step);

		if (r < 0)
			return r;
	}
	len = strlen(verb) + (step->arg ? 1 + strlen(step->arg) : 0);
	if (len > PLAN_FB_CMD_MAX && !step->pool_vars)
		return plan_fail(ld, "fastboot command '%s%s%.24s…' is %zu bytes; U-Boot takes at most %u "
				 "(f_fastboot.c: EP_BUFFER_SIZE 4096)", verb, step->op == PLAN_OP_OEM ? " " : ":",
				 step->arg, len, PLAN_FB_CMD_MAX);
	if (step->op == PLAN_OP_ACMD && strlen(step->arg) > PLAN_ACMD_MAX && !step->pool_vars)
		return plan_fail(ld, "acmd: '%.24s…' is %zu bytes; U-Boot takes at most %u "
				 "(fb_command.c: \"too long command\")", step->arg, strlen(step->arg), PLAN_ACMD_MAX);
	cmd = malloc(len + 1);
	if (!cmd)
		return -ENOMEM;
	strcpy(cmd, verb);
	if (step->arg) {
		cmd[strlen(verb)] = step->op == PLAN_OP_OEM ? ' ' : ':';
		strcpy(cmd + strlen(verb) + 1, step->arg);
	}
	step->fb_cmd = cmd;
	return 0;
}

/* ---- flash -verify (flashd-plan(5) "Verify"; plan_verify.c) ---- */

/* The verify options of a flash line, whether or not it verifies (the
 * station's verify = on may make it): what can never work is refused. */
static int plan_check_verify(struct plan_loader *ld, struct plan_step *step)
{
	struct plan_verify_target t;

	if (step->has_verify_at || step->verify_part)
		step->verify = true;
	if (step->no_verify && step->verify)
		return plan_fail(ld, "flash: -no-verify contradicts -verify, -verify-at and -verify-part");
	if (step->has_verify_at && step->verify_part)
		return plan_fail(ld, "flash: -verify-at and -verify-part both say where the region is: "
				 "give one");
	if (step->has_verify_at && step->verify_at % 512)
		return plan_fail(ld, "flash: -verify-at 0x%llx is not a multiple of the eMMC's "
				 "512-byte blocks", (unsigned long long)step->verify_at);
	if (step->verify_part && !plan_verify_word(step->verify_part))
		return plan_fail(ld, "flash: -verify-part '%s' is not a partition name or number "
				 "U-Boot's part command takes (letters, digits, _ . - :, at most %u)",
				 step->verify_part, PLAN_VERIFY_WORD_MAX);
	if (step->no_verify)
		return 0;
	if (!strcmp(step->arg, "gpt") && !step->has_verify_at && !step->verify_part) {
		if (!step->verify)
			return 0; /* verify = on passes over it: see flashd-plan(5) */
		return plan_fail(ld, "flash gpt -verify: U-Boot writes a GPT of its own from the one it "
				 "is given (write_mbr_and_gpt_partitions, disk/part_efi.c), so the bytes "
				 "sent are not the bytes on the eMMC: verify the partitions instead");
	}
	if (plan_verify_target(step, &t) == 0 && t.loc == PLAN_VERIFY_PART && !plan_verify_word(t.part)) {
		if (!step->verify)
			return 0; /* said where it is run */
		return plan_fail(ld, "flash -verify: '%s' cannot be given to U-Boot's part command: "
				 "say where the region is with -verify-at BYTES or -verify-part P", t.part);
	}
	return 0;
}

static int plan_check(struct plan_loader *ld, struct plan_step *step)
{
	int r;

	if (!step->runs_on_imx6)
		return 0;
	if (step->proto == PLAN_PROTO_SDP)
		return plan_check_sdp(ld, step);
	if (step->proto == PLAN_PROTO_SDPU || step->proto == PLAN_PROTO_SDPV)
		return plan_check_spl(ld, step);
	if (step->op == PLAN_OP_FLASH) {
		r = plan_check_verify(ld, step);
		if (r < 0)
			return r;
	}
	if (step->op == PLAN_OP_FLASH || step->op == PLAN_OP_DOWNLOAD) {
		r = plan_check_fb_image(ld, step);
		if (r < 0)
			return r;
	}
	return plan_fb_cmd(ld, step);
}

/* ---- CFG: PROTO: -vid V -pid P … (uuu's CfgCmd, libuuu/config.cpp) ---- */

static int plan_cfg_opts(struct plan_loader *ld, const struct plan_lex_tokens *tk, int64_t v[4])
{
	static const char *const nums[] = { "-vid", "-pid", "-bcdmin", "-bcdmax", "-bcdversion" };
	static const char *const strs[] = { "-chip", "-compatible" };

	for (size_t i = 0; i < tk->n; i += 2) {
		const char *o = tk->tok[i];
		int num = -1;
		bool str = false;
		uint64_t n;
		for (size_t k = 0; k < ELEMENTSOF(nums); k++)
			num = strcmp(o, nums[k]) == 0 ? (int)k : num;
		for (size_t k = 0; k < ELEMENTSOF(strs); k++)
			str |= strcmp(o, strs[k]) == 0;
		if (num < 0 && !str)
			return plan_fail(ld, "CFG: unknown option '%s'", o);
		if (i + 1 >= tk->n)
			return plan_fail(ld, "CFG: option %s needs a value", o);
		if (num < 0)
			continue;
		if (plan_lex_number(tk->tok[i + 1], 0xFFFF, &n) < 0)
			return plan_fail(ld, "CFG: %s: bad 16-bit number '%s'", o, tk->tok[i + 1]);
		if (num == 4)
			v[2] = v[3] = (int64_t)n; /* -bcdversion B: [B, B] */
		else
			v[num] = (int64_t)n;
	}
	if (v[0] < 0 || v[1] < 0)
		return plan_fail(ld, "CFG: needs -vid and -pid");
	if (v[2] > v[3])
		return plan_fail(ld, "CFG: -bcdmin 0x%04x is above -bcdmax 0x%04x", (unsigned)v[2], (unsigned)v[3]);
	return 0;
}

static int plan_cfg_add(struct plan_loader *ld, enum plan_proto proto, const int64_t v[4])
{
	struct plan *p = ld->p;
	struct plan_usb_id id = { .proto = proto, .vid = (uint16_t)v[0], .pid = (uint16_t)v[1],
				  .bcd_min = (uint16_t)v[2], .bcd_max = (uint16_t)v[3], .line = ld->line };

	for (size_t i = 0; i < p->nusb_ids; i++) {
		const struct plan_usb_id *o = &p->usb_ids[i];
		if (o->proto == id.proto && o->vid == id.vid && o->pid == id.pid &&
		    o->bcd_min == id.bcd_min && o->bcd_max == id.bcd_max)
			return 0;
	}
	if (p->nusb_ids >= PLAN_USB_IDS_MAX)
		return plan_fail(ld, "CFG: more than %u FB:/SDPU:/SDPV: devices", PLAN_USB_IDS_MAX);
	p->usb_ids[p->nusb_ids++] = id;
	return 0;
}

/* "CFG: PROTO: options". uuu takes the first word after "CFG:" as the
 * protocol; when there is none ("CFG: -vid 1 -pid 2") its entry matches
 * no protocol and does nothing: kept for display. */
static int plan_cfg(struct plan_loader *ld, struct plan_step *step, char *rest)
{
	struct plan_step target = { 0 };
	struct plan_lex_tokens tk;
	int64_t v[4] = { -1, -1, 0, 0xFFFF };
	char *colon;
	bool fbk;
	int r;

	step->op = PLAN_OP_CFG;
	while (plan_lex_is_blank(*rest))
		rest++;
	r = plan_set_arg(step, rest);
	if (r < 0)
		return r;
	colon = strchr(rest, ':');
	if (!*rest || *rest == '-' || !colon)
		return 0; /* no protocol: uuu ignores the line */
	*colon = '\0';
	for (char *e = colon; e > rest && plan_lex_is_blank(e[-1]);)
		*--e = '\0';
	fbk = strcasecmp(rest, "FBK") == 0; /* uuu's own gadget: a valid CFG target */
	if (!fbk) {
		r = plan_proto_head(ld, rest, &target);
		if (r < 0)
			return r;
	}
	r = plan_lex_tokenize(colon + 1, &tk);
	if (r < 0)
		return plan_fail(ld, "CFG: %s", r == -E2BIG ? "too many words" : "unterminated quote");
	r = plan_cfg_opts(ld, &tk, v);
	if (r < 0)
		return r;
	if (!fbk && (target.proto == PLAN_PROTO_FB || target.proto == PLAN_PROTO_SDPU ||
		     target.proto == PLAN_PROTO_SDPV))
		return plan_cfg_add(ld, target.proto, v);
	return 0;
}

/* ---- a line ---- */

static int plan_version(struct plan_loader *ld, const char *s)
{
	unsigned groups = 0;

	while (plan_lex_is_blank(*s))
		s++;
	for (;;) {
		if (*s < '0' || *s > '9')
			break;
		while (*s >= '0' && *s <= '9')
			s++;
		groups++;
		if (*s != '.')
			break;
		s++;
	}
	while (plan_lex_is_blank(*s))
		s++;
	if (groups < 2 || groups > 4 || *s)
		return plan_fail(ld, "bad uuu_version line (expected e.g. 'uuu_version 1.4.0')");
	return 0;
}

static char *plan_find_colon(char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == ':' && !quoted)
			return s;
	}
	return NULL;
}

static int plan_command(struct plan_loader *ld, struct plan_step *step, char *rest)
{
	const char *proto = plan_proto_to_string(step->proto);
	const struct plan_cmd *c;
	struct plan_lex_tokens tk;
	int r = plan_lex_tokenize(rest, &tk);

	if (r < 0)
		return plan_fail(ld, "%s", r == -E2BIG ? "more than 32 words" : "unterminated quote");
	if (tk.n == 0)
		return plan_fail(ld, "missing command after '%s:'", proto);
	c = plan_cmd_find(tk.tok[0], step->proto);
	if (!c)
		return plan_fail(ld, "unknown command '%s' for %s:", tk.tok[0], proto);
	if (c->unsupported)
		return plan_fail(ld, "unsupported command '%s' for %s: (%s)", tk.tok[0], proto, c->unsupported);
	step->op = c->op;
	step->runs_on_imx6 = step->proto != PLAN_PROTO_SDPS; /* CFG lines do not come here */
	if (strstr(rest, POOL_REF_OPEN)) {
		if (step->proto != PLAN_PROTO_FB ||
		    (c->op != PLAN_OP_GETVAR && c->op != PLAN_OP_UCMD && c->op != PLAN_OP_ACMD &&
		     c->op != PLAN_OP_OEM))
			return plan_fail(ld, "%s", PLAN_POOL_WHERE);
		step->pool_vars = true;
	}
	r = plan_args(ld, c, &tk, step);
	if (r < 0)
		return r;
	return plan_check(ld, step);
}

int plan_cmd_line(struct plan_loader *ld, char *buf, struct plan_step *step)
{
	char cmd[PLAN_LINE_MAX + 1], *s, *colon;
	const char *param = NULL, *why;
	int r;

	if (strncmp(buf, "uuu_version", 11) == 0)
		return plan_version(ld, buf + 11);
	s = plan_lex_strip(buf);
	if (!*s)
		return 0;
	if (strncmp(s, "uuu_version", 11) == 0 && (!s[11] || plan_lex_is_blank(s[11])))
		return plan_fail(ld, "'uuu_version' must start the line (uuu does not know an indented one: "
				 "\"Unknown Command\")");
	step->line = ld->line;
	step->text = strdup(s);
	if (!step->text)
		return -ENOMEM;
	if (plan_lex_substitute(s, ld->p->params, ld->p->nparams, cmd, &param, &why) < 0)
		return param ? plan_fail(ld, "parameter '%s' %s", param, why) : plan_fail(ld, "%s", why);
	step->cmd = strdup(cmd);
	if (!step->cmd)
		return -ENOMEM;
	colon = plan_find_colon(cmd);
	if (!colon)
		return plan_fail(ld, "expected 'PROTOCOL: command', e.g. 'FB: getvar version'");
	*colon = '\0';
	r = plan_proto_head(ld, cmd, step);
	if (r < 0)
		return r;
	if (step->proto == PLAN_PROTO_CFG && strstr(colon + 1, POOL_REF_OPEN))
		return plan_fail(ld, "%s", PLAN_POOL_WHERE);
	r = step->proto == PLAN_PROTO_CFG ? plan_cfg(ld, step, colon + 1) : plan_command(ld, step, colon + 1);
	return r < 0 ? r : 1;
}

