/* plan internals shared by plan.c, plan_lex.c and plan_image.c. */
#ifndef FLASHD_PLAN_PRIV_H
#define FLASHD_PLAN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/plan.h"
#include "flashd/pool.h"

#define PLAN_TOKENS_MAX 32u
/* where a plan may have pool variables */
#define PLAN_POOL_WHERE "pool variables only in FB: getvar, ucmd, acmd and oem lines"

/* A parameter as uuu finds them (uuu/buildincmd.cpp): every word "_name"
 * after '@' or a space, in order of first appearance. */
struct plan_param {
	char *name;      /* "_flash.bin" */
	char *def;       /* "[_other]" of its "@_name [_other] |" declaration: the
			  * parameter whose argument it takes when not given; or NULL */
	const char *value; /* bound value (owned, or another param's), or NULL: not
			    * given, the name stays in the text as a literal word */
	char *owned;     /* copy of the argument owned by the plan */
	unsigned line;   /* where it first appears */
};

struct plan {
	unsigned refs;
	char *path;
	char *dir;
	char sha256[65];
	struct plan_step *steps;
	size_t nsteps;
	struct plan_image **images;
	size_t nimages;
	struct plan_usb_id usb_ids[PLAN_USB_IDS_MAX];
	size_t nusb_ids;
	struct plan_param params[PLAN_PARAMS_MAX];
	size_t nparams;
	bool no_write;      /* "# flashd: no-write" and no line writes to the board */
	char **pools;       /* plan_bind_pools: the pools its variables name, first use first */
	size_t npools;
};

/* ---- plan.c ---- */

struct plan_loader {
	struct plan *p;
	const char *name;
	unsigned line;      /* 0: message without a line */
	const struct plan_images *images; /* NULL: images are not opened */
	char *err;
	size_t errlen;
	char why[512];      /* the opener's reason */
};

/* Format "name:line: message" (or "name: message" for line 0) into the
 * caller's buffer; returns -EINVAL. */
int plan_fail(struct plan_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- plan_cmd.c ---- */

/* Parse one line into step. 1: a step; 0: nothing on this line (blank,
 * comment, uuu_version); < 0: error (message via plan_fail). */
int plan_cmd_line(struct plan_loader *ld, char *buf, struct plan_step *step);

/* ---- plan_pool.c ---- */

/* The line's pool variables (step->arg of an FB: getvar, ucmd, acmd or
 * oem) are well-formed: 0, or -EINVAL via plan_fail. */
int plan_pool_check_refs(struct plan_loader *ld, const struct plan_step *step);
void plan_pools_clear(struct plan *p);

/* ---- plan_sdp.c ---- */

/* uuu's -scanterm over the first data_len bytes of step's image: 0 (not a
 * disk image: the whole data), 1 and the range, or -EINVAL via plan_fail. */
int plan_sdp_scanterm(struct plan_loader *ld, const struct plan_step *step, uint64_t data_len,
		      uint64_t *off, uint64_t *len);
/* The range a non -ivt write sends (uuu's SDPWriteCmd::run): -scanlimited,
 * -offset, -skipfhdr, -scanterm, -skipspl → image_offset/image_len. */
int plan_sdp_range(struct plan_loader *ld, struct plan_step *step);
/* After all steps: SPL write ranges and the boot-chain rules. */
int plan_sdp_chain(struct plan_loader *ld);

/* ---- plan_lex.c ---- */

/* Next line of text from *pos: CR dropped, copied to buf. 1: a line;
 * 0: end of text; -EINVAL with *why: NUL, control character, invalid UTF-8
 * or a line longer than PLAN_LINE_MAX. *lineno counts lines. */
int plan_lex_next(const char *text, size_t len, size_t *pos, char buf[PLAN_LINE_MAX + 1],
		  unsigned *lineno, const char **why);
/* Remove the comment (a '#' first on the line, or after a blank outside
 * quotes) and surrounding blanks, in place. Returns the start of the text. */
char *plan_lex_strip(char *line);
/* uuu numbers: "0x…" hex or decimal. -EINVAL junk, -ERANGE > max. */
int plan_lex_number(const char *s, uint64_t max, uint64_t *out);
/* Replace each bound parameter (value != NULL) in turn, uuu's way: every
 * occurrence of its name at the start of the line or after a space. -EINVAL
 * with *why if the result is longer than PLAN_LINE_MAX. */
int plan_lex_substitute(const char *in, const struct plan_param *params, size_t n,
			char out[PLAN_LINE_MAX + 1], const char **param, const char **why);

struct plan_lex_tokens {
	size_t n;
	char *tok[PLAN_TOKENS_MAX];        /* quotes removed */
	const char *src[PLAN_TOKENS_MAX];  /* where each token starts in the input */
	char store[PLAN_LINE_MAX + PLAN_TOKENS_MAX + 1];
};
/* Split on blanks, "…" quoting. -EINVAL unterminated quote, -E2BIG too many. */
int plan_lex_tokenize(const char *s, struct plan_lex_tokens *t);
bool plan_lex_is_blank(char c);

/* ---- plan_image.c (the core's side of images; their I/O is the opener's) ---- */

/* Have the opener open file (resolved against the plan's folder) as how
 * (PLAN_IMAGE_*) asks, and keep it in the plan. 0 and *img (borrowed from
 * the plan), or -errno with the reason in ld->why. */
int plan_image_open(struct plan_loader *ld, const char *file, unsigned how, struct plan_image **img);
#endif
