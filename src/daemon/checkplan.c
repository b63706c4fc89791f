/* checkplan: load a plan as the daemon would and print its steps, as a
 * table for people or as one JSON object. */
#include "daemon/checkplan.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cachedir.h"
#include "daemon/image.h"
#include "flashd/conf.h"
#include "flashd/fastboot.h"
#include "flashd/plan.h"
#include "flashd/pool.h"
#include "flashd/sparse.h"

#define CHECKPLAN_ARGS_MAX 64u
#define CHECKPLAN_DEFAULT_MAX_DOWNLOAD 0x7000000u /* U-Boot's FASTBOOT_BUF_SIZE on i.MX */
#define CHECKPLAN_CONFIG_DEFAULT SYSCONFDIR "/flashd/flashd.conf"

struct checkplan_opts {
	const char *plan;
	const char *config;       /* -c: its state directory holds the image cache,
				   * its [pool] sections are the pools plans may use */
	const char *args[CHECKPLAN_ARGS_MAX];
	size_t nargs;
	uint32_t max_download;
	bool json;
	bool help;
	struct conf *conf;        /* the configuration read (defaults when there is none) */
};

/* What a step's image turns into with the given max-download-size. */
struct checkplan_fb {
	bool sparse;
	uint64_t size, expanded, pieces;
};

static void checkplan_usage(FILE *f)
{
	fputs("usage: flashd --check-plan PLAN [ARG...] [--max-download-size N] [--json] [-c FILE]\n"
	      "  PLAN     a plan file (flashd-plan(5)); ARGs bind its _name parameters in order\n"
	      "  -c, --config FILE  configuration whose state directory caches decompressed images\n"
	      "                     and whose pools the plan's ${pool:NAME} variables may use\n"
	      "                     (default " CHECKPLAN_CONFIG_DEFAULT "; none: no pools)\n"
	      "  --max-download-size N  the device's fastboot buffer, hex (0x…) or decimal\n"
	      "                         (default 0x7000000)\n"
	      "  --json   print one JSON object instead of a table\n",
	      f);
}

static int checkplan_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int checkplan_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("flashd: --check-plan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	checkplan_usage(stderr);
	return CHECKPLAN_EXIT_USAGE;
}

static int checkplan_max(struct checkplan_opts *o, const char *v)
{
	if (!v)
		return checkplan_usage_error("%s needs a value", "--max-download-size");
	if (fastboot_parse_max_download(v, &o->max_download) < 0)
		return checkplan_usage_error("bad --max-download-size '%s' (1 to 0xffffffff, hex or decimal)",
					     v);
	return 0;
}

static int checkplan_option(struct checkplan_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (strcmp(a, "--check-plan") == 0)
		return 0;
	if (strcmp(a, "--json") == 0) {
		o->json = true;
		return 0;
	}
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		o->help = true;
		return 0;
	}
	if (strncmp(a, "--max-download-size=", 20) == 0)
		return checkplan_max(o, a + 20);
	if (strcmp(a, "--max-download-size") == 0) {
		++*i;
		return checkplan_max(o, *i < argc ? argv[*i] : NULL);
	}
	if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
		if (++*i >= argc)
			return checkplan_usage_error("%s needs a value", a);
		o->config = argv[*i];
		return 0;
	}
	if (strncmp(a, "--config=", 9) == 0 && a[9]) {
		o->config = a + 9;
		return 0;
	}
	if (strncmp(a, "--check-plan=", 13) == 0 && !o->plan && a[13]) {
		o->plan = a + 13;
		return 0;
	}
	return checkplan_usage_error("unknown option '%s'", a);
}

static int checkplan_parse_args(int argc, char **argv, struct checkplan_opts *o)
{
	bool opts_done = false;
	int r;

	o->max_download = CHECKPLAN_DEFAULT_MAX_DOWNLOAD;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && a[0] == '-' && a[1]) {
			r = checkplan_option(o, argc, argv, &i);
			if (r)
				return r;
		} else if (!o->plan) {
			o->plan = a;
		} else if (o->nargs < CHECKPLAN_ARGS_MAX) {
			o->args[o->nargs++] = a;
		} else {
			return checkplan_usage_error("more than %u plan arguments", CHECKPLAN_ARGS_MAX);
		}
	}
	if (!o->plan && !o->help)
		return checkplan_usage_error("%s", "no plan given");
	return 0;
}

/* Pieces of a flash/download step at max-download-size. */
static int checkplan_fb(const struct plan *p, const struct plan_step *step, uint32_t max,
			struct checkplan_fb *fb)
{
	const struct plan_image *img = step->image;
	struct sparse_opts so = { .max_piece = max, .raw2sparse = step->raw2sparse, .map = img->map,
				  .map_off = step->image_offset };
	const char *why = NULL;
	int r;

	fb->sparse = img->sparse.sparse;
	fb->size = step->image_len;
	fb->expanded = img->sparse.sparse ? img->sparse.expanded_size : step->image_len;
	if (step->op == PLAN_OP_DOWNLOAD) {
		fb->pieces = 1;
		if (step->image_len <= max)
			return 0;
		fprintf(stderr, "%s:%u: %s: %" PRIu64 " bytes do not fit max-download-size 0x%x\n",
			plan_path(p), step->line, step->file, step->image_len, (unsigned)max);
		return -EINVAL;
	}
	if (step->sparse_limit && step->sparse_limit < so.max_piece)
		so.max_piece = step->sparse_limit;
	struct imgsrc src = imgsrc_sub(&img->src, step->image_offset, step->image_len);

	r = sparse_count_pieces(&src, &so, &fb->pieces, &why);
	if (r < 0) {
		fprintf(stderr, "%s:%u: %s: %s\n", plan_path(p), step->line, step->file,
			why ? why : "cannot be split to max-download-size");
		return r;
	}
	return 0;
}

static bool checkplan_is_fb_image(const struct plan_step *step)
{
	return step->image && (step->op == PLAN_OP_FLASH || step->op == PLAN_OP_DOWNLOAD);
}

/* ---- table ---- */

/* A compressed file: the hash above is the payload's (what is sent). */
static void checkplan_table_source(const struct plan_image *img)
{
	if (img->compression)
		printf("        %s-compressed file, sha256 %s%s\n", img->compression, img->source_sha256,
		       img->cache_hit ? " (decompressed copy from the cache)" : "");
}

static void checkplan_table_imx(const struct plan_step *step)
{
	const struct plan_image *img = step->image;

	printf("        %s: i.MX image, %zu bytes, IVT at 0x%x, load 0x%08x, entry 0x%08x, DCD %zu bytes%s\n",
	       step->file, img->size, (unsigned)img->imx.ivt_offset, (unsigned)img->imx.load_addr,
	       (unsigned)img->imx.entry, img->imx.dcd_size, img->imx.csf ? ", signed (CSF)" : "");
	printf("        sha256 %s\n", img->sha256);
	checkplan_table_source(img);
}

static void checkplan_table_fb(const struct plan_step *step, const struct checkplan_fb *fb)
{
	printf("        %s: %s, %" PRIu64 " bytes", step->file, fb->sparse ? "sparse" : "raw", fb->size);
	if (step->image_offset || step->image_len != step->image->size)
		printf(" at offset 0x%" PRIx64 " (-scanterm)", step->image_offset);
	if (fb->sparse)
		printf(", %" PRIu64 " bytes expanded", fb->expanded);
	printf(", %" PRIu64 " download%s%s\n", fb->pieces, fb->pieces == 1 ? "" : "s",
	       !fb->sparse && (step->raw2sparse || fb->pieces > 1) ? " (sent as sparse)" : "");
	printf("        sha256 %s\n", step->image->sha256);
	checkplan_table_source(step->image);
}

/* Where a flash line's read-back finds its region (flashd-plan(5) "Verify"),
 * as U-Boot will be told: into buf. */
static const char *checkplan_verify_where(const struct plan_step *step, char *buf, size_t len)
{
	struct plan_verify_target t;

	if (plan_verify_target(step, &t) < 0)
		return NULL;
	if (t.loc == PLAN_VERIFY_AT)
		snprintf(buf, len, "eMMC user area at 0x%" PRIx64, t.at);
	else if (t.loc == PLAN_VERIFY_PART)
		snprintf(buf, len, "where U-Boot's part command finds %s", t.part);
	else
		snprintf(buf, len, "boot partition %d", t.loc == PLAN_VERIFY_BOOT1 ? 1 : 2);
	return buf;
}

static void checkplan_table_verify(const struct plan_step *step)
{
	char where[96];

	if (step->op != PLAN_OP_FLASH || !checkplan_verify_where(step, where, sizeof(where)))
		return;
	if (step->verify)
		printf("        read back and checked on the board: %s\n", where);
	else if (step->no_verify)
		printf("        never read back (-no-verify)\n");
	else if (plan_step_verify_skipped(step))
		printf("        not read back, even with verify = on: give -verify-at or -verify-part\n");
	else
		printf("        read back with verify = on: %s\n", where);
}

static bool checkplan_is_spl(const struct plan_step *step)
{
	return step->proto == PLAN_PROTO_SDPU || step->proto == PLAN_PROTO_SDPV;
}

static const char *checkplan_note(const struct plan *p, const struct plan_step *step)
{
	if (!step->runs_on_imx6)
		return "    (not run on i.MX6)";
	if (checkplan_is_spl(step) && !plan_boots_spl(p))
		return "    (runs if the board comes up as U-Boot SPL)";
	return "";
}

/* SDP and SPL lines: what goes where */
static void checkplan_table_sdp(const struct plan_step *step)
{
	if (step->image && step->image->is_imx && (step->op != PLAN_OP_WRITE || step->use_ivt)) {
		checkplan_table_imx(step);
		if (plan_image_is_spl(step->image))
			printf("        a U-Boot SPL: the board comes back as U-Boot SPL's SDP gadget\n");
	} else if (step->image) {
		printf("        %s: %" PRIu64 " bytes from offset 0x%" PRIx64 " to ", step->file, step->image_len,
		       step->image_offset);
		if (step->addr || step->proto == PLAN_PROTO_SDP)
			printf("0x%08x\n", (unsigned)step->addr);
		else
			printf("the SPL's load address (CONFIG_SDP_LOADADDR)\n");
	} else if (checkplan_is_spl(step) && step->op == PLAN_OP_JUMP) {
		if (step->addr)
			printf("        jumps to 0x%08x\n", (unsigned)step->addr);
		else
			printf("        jumps to what it loaded (CONFIG_SDP_LOADADDR)\n");
	}
}

/* ---- pool variables: the pools a plan uses, and a line with sample values ---- */

/* The values of a pool's first block (pool.h): what the first board gets. */
static int checkplan_pool_sample(void *ud, const char *name, uint32_t index, char *out,
				 size_t outlen)
{
	const struct conf *c = ud;
	const struct pool_def *d = pool_find(c->pools, c->npools, name);

	return d ? pool_value(d, index, out, outlen) : -ENOENT;
}

/* step's fastboot command with the first block's values, into buf; NULL
 * when it has no pool variables */
static const char *checkplan_pool_example(const struct plan_step *step, const struct conf *c,
					  char *buf, size_t len)
{
	if (!step->pool_vars || !step->fb_cmd || !c)
		return NULL;
	if (pool_expand(step->fb_cmd, checkplan_pool_sample, (void *)c, buf, len) < 0)
		return NULL;
	return buf;
}

static void checkplan_table_pools(const struct plan *p, const struct conf *c)
{
	char fp[POOL_VALUE_MAX + 128];

	for (size_t i = 0; i < plan_n_pools(p); i++) {
		const struct pool_def *d = pool_find(c->pools, c->npools, plan_pool_name(p, i));

		if (!d || pool_fingerprint(d, fp, sizeof(fp)) < 0)
			continue;
		printf("pool    %s: %s, %" PRIu64 " board%s, %s\n", d->name, fp, pool_blocks(d),
		       pool_blocks(d) == 1 ? "" : "s", pool_backend_to_string(d->backend));
	}
}

static json_t *checkplan_json_pools(const struct plan *p, const struct conf *c)
{
	json_t *a = json_array();
	char fp[POOL_VALUE_MAX + 128];

	for (size_t i = 0; c && i < plan_n_pools(p); i++) {
		const struct pool_def *d = pool_find(c->pools, c->npools, plan_pool_name(p, i));

		if (!d || pool_fingerprint(d, fp, sizeof(fp)) < 0)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "name", d->name,
						   "kind", pool_kind_to_string(d->kind), "backend",
						   pool_backend_to_string(d->backend), "count",
						   (json_int_t)d->count, "blocks",
						   (json_int_t)pool_blocks(d), "fingerprint", fp));
	}
	return a;
}

static int checkplan_table(const struct plan *p, const struct checkplan_opts *o)
{
	char example[PLAN_FB_CMD_MAX + 1];
	const char *name, *value;

	printf("plan    %s\nsha256  %s\n", plan_path(p), plan_sha256(p));
	for (size_t i = 0; plan_param(p, i, &name, &value) == 0; i++)
		printf("param   %s = %s\n", name, value ? value : "(no argument: a literal word)");
	checkplan_table_pools(p, o->conf);
	printf("max-download-size 0x%x\n\n", (unsigned)o->max_download);
	for (size_t i = 0; i < plan_n_steps(p); i++) {
		const struct plan_step *step = plan_step(p, i);
		struct checkplan_fb fb;
		printf("%5u  %s%s\n", step->line, step->cmd, checkplan_note(p, step));
		if (step->fb_cmd)
			printf("        sends \"%s\"%s\n", step->fb_cmd, step->timeout_ms ? " (own timeout)" : "");
		if (checkplan_pool_example(step, o->conf, example, sizeof(example)))
			printf("        e.g. \"%s\" (the pools' first values)\n", example);
		if ((step->proto == PLAN_PROTO_SDP || checkplan_is_spl(step)) && step->runs_on_imx6)
			checkplan_table_sdp(step);
		if (checkplan_is_fb_image(step)) {
			if (checkplan_fb(p, step, o->max_download, &fb) < 0)
				return CHECKPLAN_EXIT_PLAN;
			checkplan_table_fb(step, &fb);
			checkplan_table_verify(step);
		}
	}
	if (plan_no_write(p))
		printf("\nwrites nothing to the board (# flashd: no-write)\n");
	return CHECKPLAN_EXIT_OK;
}

/* ---- JSON ---- */

/* A JSON string even for bytes that are not UTF-8 (from the command line). */
static json_t *checkplan_jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *checkplan_json_image(const struct plan *p, const struct plan_step *step,
				    const struct checkplan_opts *o, int *err)
{
	const struct plan_image *img = step->image;
	struct checkplan_fb fb;
	json_t *j = json_object();

	json_object_set_new(j, "file", checkplan_jstr(step->file));
	json_object_set_new(j, "path", checkplan_jstr(img->path));
	json_object_set_new(j, "sha256", json_string(img->sha256));
	json_object_set_new(j, "compression", img->compression ? json_string(img->compression) : json_null());
	json_object_set_new(j, "source_sha256",
			    img->compression ? json_string(img->source_sha256) : json_null());
	if (checkplan_is_fb_image(step)) {
		*err = checkplan_fb(p, step, o->max_download, &fb);
		json_object_set_new(j, "format", json_string(fb.sparse ? "sparse" : "raw"));
		json_object_set_new(j, "offset", json_integer((json_int_t)step->image_offset));
		json_object_set_new(j, "size", json_integer((json_int_t)fb.size));
		json_object_set_new(j, "expanded_size", json_integer((json_int_t)fb.expanded));
		json_object_set_new(j, "pieces", json_integer((json_int_t)fb.pieces));
	} else if (img->is_imx && (step->op != PLAN_OP_WRITE || step->use_ivt)) {
		json_object_set_new(j, "ivt_offset", json_integer(img->imx.ivt_offset));
		json_object_set_new(j, "load_addr", json_integer(img->imx.load_addr));
		json_object_set_new(j, "entry", json_integer(img->imx.entry));
		json_object_set_new(j, "dcd_size", json_integer((json_int_t)img->imx.dcd_size));
		json_object_set_new(j, "plugin", json_boolean(img->imx.plugin & 1));
		json_object_set_new(j, "spl", json_boolean(plan_image_is_spl(img)));
		json_object_set_new(j, "size", json_integer((json_int_t)img->size));
	} else {
		json_object_set_new(j, "offset", json_integer((json_int_t)step->image_offset));
		json_object_set_new(j, "size", json_integer((json_int_t)step->image_len));
	}
	return j;
}

static json_t *checkplan_json_step(const struct plan *p, const struct plan_step *step,
				   const struct checkplan_opts *o, int *err)
{
	char example[PLAN_FB_CMD_MAX + 1];
	json_t *j = json_object();

	json_object_set_new(j, "line", json_integer(step->line));
	json_object_set_new(j, "cmd", checkplan_jstr(step->cmd));
	json_object_set_new(j, "proto", json_string(plan_proto_to_string(step->proto)));
	json_object_set_new(j, "op", json_string(plan_op_to_string(step->op)));
	json_object_set_new(j, "runs", json_boolean(step->runs_on_imx6));
	if (step->fb_cmd)
		json_object_set_new(j, "fastboot", checkplan_jstr(step->fb_cmd));
	if (checkplan_pool_example(step, o->conf, example, sizeof(example)))
		json_object_set_new(j, "fastboot_example", checkplan_jstr(example));
	if (step->timeout_ms)
		json_object_set_new(j, "timeout_ms", json_integer(step->timeout_ms));
	if (step->op == PLAN_OP_DELAY)
		json_object_set_new(j, "delay_ms", json_integer(step->delay_ms));
	if (checkplan_is_spl(step) && (step->op == PLAN_OP_WRITE || step->op == PLAN_OP_JUMP))
		json_object_set_new(j, "addr", json_integer(step->addr));
	if (step->image && step->runs_on_imx6)
		json_object_set_new(j, "image", checkplan_json_image(p, step, o, err));
	if (step->op == PLAN_OP_FLASH) {
		char where[96];
		/* always: -verify; on: with verify = on; never: -no-verify or not placeable */
		const char *when = step->verify ? "always" : plan_step_verify_skipped(step) ? "never" : "on";

		json_object_set_new(j, "verify", json_pack("{s:s, s:s?}", "when", when, "where",
							   checkplan_verify_where(step, where, sizeof(where))));
	}
	return j;
}

static int checkplan_json(const struct plan *p, const struct checkplan_opts *o)
{
	json_t *root = json_object(), *steps = json_array(), *params = json_object(), *ids = json_array();
	const struct plan_usb_id *id;
	const char *name, *value;
	size_t nid;
	int err = 0;

	json_object_set_new(root, "plan", checkplan_jstr(plan_path(p)));
	json_object_set_new(root, "sha256", json_string(plan_sha256(p)));
	json_object_set_new(root, "max_download_size", json_integer(o->max_download));
	for (size_t i = 0; plan_param(p, i, &name, &value) == 0; i++)
		json_object_set_new(params, name, value ? checkplan_jstr(value) : json_null());
	json_object_set_new(root, "params", params);
	id = plan_usb_ids(p, &nid);
	for (size_t i = 0; i < nid; i++)
		json_array_append_new(ids, json_pack("{s:s,s:i,s:i,s:i,s:i,s:i}", "proto",
						     plan_proto_to_string(id[i].proto), "vid", id[i].vid, "pid",
						     id[i].pid, "bcd_min", id[i].bcd_min, "bcd_max", id[i].bcd_max,
						     "line", id[i].line));
	json_object_set_new(root, "usb_ids", ids);
	json_object_set_new(root, "boots_spl", json_boolean(plan_boots_spl(p)));
	json_object_set_new(root, "spl_stage", json_boolean(plan_has_spl_stage(p)));
	json_object_set_new(root, "no_write", json_boolean(plan_no_write(p)));
	json_object_set_new(root, "pools", checkplan_json_pools(p, o->conf));
	for (size_t i = 0; i < plan_n_steps(p) && !err; i++)
		json_array_append_new(steps, checkplan_json_step(p, plan_step(p, i), o, &err));
	json_object_set_new(root, "steps", steps);
	if (!err) {
		json_dumpf(root, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	}
	json_decref(root);
	return err ? CHECKPLAN_EXIT_PLAN : CHECKPLAN_EXIT_OK;
}

/* Decompressed images go to the configured state directory's cache if we
 * may write there, else to a private temporary folder removed at exit. The
 * configuration read stays in o->conf (its pools). */
static int checkplan_cache(struct checkplan_opts *o, char *buf, size_t len, bool *priv)
{
	const char *path = o->config ? o->config : CHECKPLAN_CONFIG_DEFAULT;
	struct conf *c = NULL;
	char *errors = NULL;
	int r;

	if (!o->config && access(path, F_OK) < 0) {
		c = conf_new_default();
	} else if ((r = conf_load(path, &c, &errors)) < 0) {
		fprintf(stderr, "%s%s", errors ? errors : path, errors ? "" : ": cannot be read\n");
		free(errors);
		return r;
	}
	r = c ? cachedir_pick(c, buf, len, priv) : -ENOMEM;
	o->conf = c;
	if (r < 0)
		fprintf(stderr, "flashd: --check-plan: no folder for decompressed images: %s\n",
			strerror(-r));
	return r;
}

/* On a terminal: which image is being read or decompressed, and how far. */
static void checkplan_progress(void *ud, const char *file, uint64_t done, uint64_t total)
{
	if (done >= total)
		fputs("\r\033[K", stderr);
	else
		fprintf(stderr, "\rloading %s: %" PRIu64 " of %" PRIu64 " MiB\033[K", file, done >> 20,
			total >> 20);
}

int checkplan_main(int argc, char **argv)
{
	struct checkplan_opts o = { 0 };
	struct image_opts lo = { 0 };
	struct plan *p;
	char err[1024], cache[4096];
	bool priv = false;
	int r = checkplan_parse_args(argc, argv, &o);

	if (r)
		return r;
	if (o.help) {
		checkplan_usage(stdout);
		return CHECKPLAN_EXIT_OK;
	}
	if (checkplan_cache(&o, cache, sizeof(cache), &priv) < 0) {
		conf_free(o.conf);
		return CHECKPLAN_EXIT_USAGE;
	}
	lo.cache_dir = cache;
	lo.pools = o.conf->pools;
	lo.npools = o.conf->npools;
	lo.progress = isatty(STDERR_FILENO) ? checkplan_progress : NULL;
	r = image_plan_load(o.plan, o.args, o.nargs, &lo, &p, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : strerror(-r));
		r = CHECKPLAN_EXIT_PLAN;
	} else {
		r = o.json ? checkplan_json(p, &o) : checkplan_table(p, &o);
		plan_unref(p);
	}
	if (priv)
		cachedir_remove(cache);
	conf_free(o.conf);
	fflush(stdout);
	return r;
}
