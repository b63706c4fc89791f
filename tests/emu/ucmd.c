/* ucmd: see ucmd.h. Command behaviour from U-Boot cmd/nvedit.c, cmd/mmc.c,
 * cmd/test.c, cmd/mem.c, cmd/hash.c, cmd/part.c, cmd/setexpr.c; parsing from
 * common/cli_hush.c, reduced. */
#include "ucmd.h"

#include "ucmd_hash.h"
#include "ucmd_mmc.h"
#include "ucmd_part.h"
#include "ucmd_setexpr.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UCMD_MAX_ARGS 32
#define UCMD_MAX_DEPTH 8

enum ush_tok { USH_WORD, USH_SEP, USH_END };

struct ush {
	struct uboot *u;
	const char *s;
	size_t pos;
	int last_rc;
	int depth;
	bool error;
};

static void ush_skip_blanks(struct ush *sh)
{
	while (sh->s[sh->pos] == ' ' || sh->s[sh->pos] == '\t')
		sh->pos++;
}

/* the next token without consuming it; a word's raw text is [*start, *end) */
static enum ush_tok ush_peek(struct ush *sh, size_t *start, size_t *end)
{
	size_t p;
	char q = 0;

	ush_skip_blanks(sh);
	p = sh->pos;
	if (!sh->s[p])
		return USH_END;
	if (sh->s[p] == ';' || sh->s[p] == '\n') {
		*start = p;
		*end = p + 1;
		return USH_SEP;
	}
	*start = p;
	for (; sh->s[p]; p++) {
		char c = sh->s[p];

		if (q) {
			if (c == q)
				q = 0;
			else if (c == '\\' && q == '"' && sh->s[p + 1])
				p++;
			continue;
		}
		if (c == '\'' || c == '"')
			q = c;
		else if (c == '\\' && sh->s[p + 1])
			p++;
		else if (c == ' ' || c == '\t' || c == ';' || c == '\n')
			break;
	}
	if (q)
		sh->error = true; /* unterminated quote */
	*end = p;
	return USH_WORD;
}

static bool ush_word_is(struct ush *sh, size_t a, size_t b, const char *kw)
{
	return b - a == strlen(kw) && !memcmp(sh->s + a, kw, b - a);
}

static void ush_put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *o + 1 < cap; i++)
		out[(*o)++] = s[i];
}

/* $name, ${name}, $? at S[*p] (just past the '$') */
static void ush_var(struct ush *sh, const char *raw, size_t end, size_t *p, char *out, size_t cap,
		    size_t *o)
{
	char name[ENV_NAME_MAX], num[16];
	size_t n = 0;
	const char *v;

	if (*p < end && raw[*p] == '{') {
		(*p)++;
		while (*p < end && raw[*p] != '}' && n + 1 < sizeof(name))
			name[n++] = raw[(*p)++];
		if (*p < end && raw[*p] == '}')
			(*p)++;
	} else if (*p < end && raw[*p] == '?') {
		(*p)++;
		snprintf(num, sizeof(num), "%d", sh->last_rc);
		ush_put(out, cap, o, num, strlen(num));
		return;
	} else {
		while (*p < end && (isalnum((unsigned char)raw[*p]) || raw[*p] == '_') &&
		       n + 1 < sizeof(name))
			name[n++] = raw[(*p)++];
	}
	name[n] = '\0';
	if (!n) {
		ush_put(out, cap, o, "$", 1);
		return;
	}
	v = env_get(sh->u->env, name);
	if (v)
		ush_put(out, cap, o, v, strlen(v));
}

/* quote removal and variable expansion of RAW[a, b); true when the word had
 * quotes (so an empty result still counts as an argument) */
static bool ush_expand(struct ush *sh, size_t a, size_t b, char *out, size_t cap)
{
	const char *raw = sh->s;
	size_t o = 0, p = a;
	bool quoted = false;
	char q = 0;

	while (p < b) {
		char c = raw[p++];

		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				ush_put(out, cap, &o, &c, 1);
		} else if (c == '\\' && p < b) {
			ush_put(out, cap, &o, &raw[p++], 1);
		} else if (c == '$') {
			ush_var(sh, raw, b, &p, out, cap, &o);
		} else if (c == '"' || (c == '\'' && !q)) {
			quoted = true;
			q = q == c ? 0 : c;
		} else {
			ush_put(out, cap, &o, &c, 1);
		}
	}
	out[o] = '\0';
	return quoted;
}

static int ush_list(struct ush *sh, bool exec, const char *const *stops, const char **stopped);

/* setenv [-f] NAME [VALUE...]: cmd/nvedit.c _do_env_set(): "-f" (H_FORCE)
 * overwrites a write-once variable (serial#, ethaddr: env/flags.c), any
 * other option is a usage error */
static int ucmd_setenv(struct uboot *u, int argc, char **argv)
{
	char value[ENV_VALUE_MAX];
	size_t o = 0;
	bool force = false;
	int r;

	while (argc > 1 && argv[1][0] == '-') {
		for (const char *f = argv[1] + 1; *f; f++) {
			if (*f != 'f')
				return -1;
			force = true;
		}
		argc--;
		argv++;
	}
	if (argc < 2)
		return -1;
	if (strchr(argv[1], '=')) {
		uboot_console(u, "## Error: illegal character '=' in variable name \"%s\"", argv[1]);
		return 1;
	}
	value[0] = '\0';
	for (int i = 2; i < argc; i++) {
		if (i > 2)
			ush_put(value, sizeof(value), &o, " ", 1);
		ush_put(value, sizeof(value), &o, argv[i], strlen(argv[i]));
	}
	value[o] = '\0';
	r = force ? env_set_force(u->env, argv[1], value) : env_set(u->env, argv[1], value);
	if (r == -EPERM)
		uboot_console(u, "## Error: Can't overwrite \"%s\"", argv[1]);
	else if (r < 0)
		uboot_console(u, "## Error inserting \"%s\" variable, errno=%d", argv[1], -r);
	return r < 0;
}

static int ucmd_printenv(struct uboot *u, int argc, char **argv)
{
	const char *n, *v;
	int rc = 0;

	if (argc < 2) {
		for (size_t i = 0; i < env_count(u->env); i++) {
			env_at(u->env, i, &n, &v);
			uboot_console(u, "%s=%s", n, v);
		}
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		v = env_get(u->env, argv[i]);
		if (v) {
			uboot_console(u, "%s=%s", argv[i], v);
		} else {
			uboot_console(u, "## Error: \"%s\" not defined", argv[i]);
			rc = 1;
		}
	}
	return rc;
}

static int ucmd_saveenv(struct uboot *u, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (uboot_saveenv(u) < 0) {
		uboot_console(u, "Failed (1)");
		return 1;
	}
	uboot_console(u, "OK");
	return 0;
}

static int ucmd_env(struct uboot *u, int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (!strcmp(argv[1], "set"))
		return ucmd_setenv(u, argc - 1, argv + 1);
	if (!strcmp(argv[1], "print"))
		return ucmd_printenv(u, argc - 1, argv + 1);
	if (!strcmp(argv[1], "save"))
		return ucmd_saveenv(u, argc - 1, argv + 1);
	if (!strcmp(argv[1], "exists"))
		return argc == 3 ? !env_get(u->env, argv[2]) : -1;
	if (!strcmp(argv[1], "default")) {
		if (argc == 3 && !strcmp(argv[2], "-a")) {
			uboot_console(u, "## Resetting to default environment");
			return uboot_env_default(u) < 0;
		}
		return -1;
	}
	if (!strcmp(argv[1], "delete")) {
		int rc = 0, i = 2;

		if (i < argc && !strcmp(argv[i], "-f"))
			i++;
		for (; i < argc; i++)
			if (env_set(u->env, argv[i], NULL) < 0)
				rc = 1;
		return rc;
	}
	return -1;
}

static int ucmd_echo(struct uboot *u, int argc, char **argv)
{
	char line[UCMD_LINE_MAX];
	size_t o = 0;

	for (int i = 1; i < argc; i++) {
		if (i > 1)
			ush_put(line, sizeof(line), &o, " ", 1);
		ush_put(line, sizeof(line), &o, argv[i], strlen(argv[i]));
	}
	line[o] = '\0';
	uboot_console(u, "%s", line);
	return 0;
}

static bool ucmd_test_num(const char *op, long long a, long long b, bool *res)
{
	static const char *const ops[] = { "-eq", "-ne", "-lt", "-le", "-gt", "-ge" };
	const bool v[] = { a == b, a != b, a < b, a <= b, a > b, a >= b };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(op, ops[i])) {
			*res = v[i];
			return true;
		}
	return false;
}

/* cmd/test.c, the common forms: -n/-z S, A = B, A != B, numeric comparisons, ! */
static int ucmd_test(struct uboot *u, int argc, char **argv)
{
	bool neg = false, res;

	(void)u;
	argc--;
	argv++;
	if (argc && !strcmp(argv[0], "!")) {
		neg = true;
		argc--;
		argv++;
	}
	if (argc == 2 && !strcmp(argv[0], "-n"))
		res = argv[1][0] != '\0';
	else if (argc == 2 && !strcmp(argv[0], "-z"))
		res = argv[1][0] == '\0';
	else if (argc == 3 && !strcmp(argv[1], "="))
		res = !strcmp(argv[0], argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "!="))
		res = strcmp(argv[0], argv[2]) != 0;
	else if (argc == 3 && ucmd_test_num(argv[1], (long long)util_strtoul_uboot(argv[0], NULL, 10),
					    (long long)util_strtoul_uboot(argv[2], NULL, 10), &res))
		;
	else
		return 1;
	return res == neg;
}

static int ucmd_true(struct uboot *u, int argc, char **argv)
{
	(void)u;
	(void)argc;
	return strcmp(argv[0], "true") != 0;
}

static int ucmd_sleep(struct uboot *u, int argc, char **argv)
{
	char *end;
	double s;

	if (argc != 2)
		return -1;
	s = strtod(argv[1], &end);
	if (*end || s < 0 || s > 3600)
		return -1;
	uboot_sleep(u, (uint64_t)(s * 1e9));
	return 0;
}

static int ucmd_reset(struct uboot *u, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uboot_console(u, "resetting ...");
	u->reset = true;
	return 0;
}

static int ucmd_version(struct uboot *u, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uboot_console(u, "%s", UBOOT_VERSION);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct uboot *u, int argc, char **argv);
} ucmd_table[] = {
	{ "crc32", ucmd_crc32 },
	{ "echo", ucmd_echo },
	{ "env", ucmd_env },
	{ "false", ucmd_true },
	{ "hash", ucmd_hash },
	{ "mmc", ucmd_mmc },
	{ "part", ucmd_part },
	{ "printenv", ucmd_printenv },
	{ "reset", ucmd_reset },
	{ "saveenv", ucmd_saveenv },
	{ "setenv", ucmd_setenv },
	{ "setexpr", ucmd_setexpr },
	{ "sleep", ucmd_sleep },
	{ "test", ucmd_test },
	{ "true", ucmd_true },
	{ "version", ucmd_version },
};

static int ush_run(struct uboot *u, const char *line, int depth, int *last_rc);

static int ush_builtin_run(struct ush *sh, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *cmd = env_get(sh->u->env, argv[i]);

		if (!cmd) {
			uboot_console(sh->u, "## Error: \"%s\" not defined", argv[i]);
			return 1;
		}
		if (ush_run(sh->u, cmd, sh->depth + 1, &sh->last_rc))
			return 1;
	}
	return argc < 2;
}

static int ush_exec(struct ush *sh, int argc, char **argv)
{
	/* common/command.c find_cmd_tbl(): the name up to a '.' (setexpr.b …) */
	size_t len = strcspn(argv[0], ".");

	if (!strcmp(argv[0], "run"))
		return ush_builtin_run(sh, argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(ucmd_table); i++) {
		if (strlen(ucmd_table[i].name) != len || strncmp(argv[0], ucmd_table[i].name, len) ||
		    !uboot_has_cmd(sh->u, ucmd_table[i].name))
			continue;
		int rc = ucmd_table[i].fn(sh->u, argc, argv);

		if (rc < 0) {
			uboot_console(sh->u, "Usage: %s ...", argv[0]);
			rc = 1;
		}
		return rc ? 1 : 0;
	}
	uboot_console(sh->u, "Unknown command '%s' - try 'help'", argv[0]);
	return 1;
}

static int ush_simple(struct ush *sh, bool exec)
{
	char buf[UCMD_LINE_MAX], *argv[UCMD_MAX_ARGS + 1];
	size_t o = 0, a, b;
	int argc = 0, rc;

	while (ush_peek(sh, &a, &b) == USH_WORD) {
		bool quoted = ush_expand(sh, a, b, buf + o, sizeof(buf) - o);
		size_t n = strlen(buf + o);

		sh->pos = b;
		if (!n && !quoted)
			continue; /* an empty unquoted expansion is no argument */
		if (argc == UCMD_MAX_ARGS || o + n + 1 >= sizeof(buf)) {
			uboot_console(sh->u, "too many arguments");
			sh->error = true;
			return 1;
		}
		argv[argc++] = buf + o;
		o += n + 1;
	}
	argv[argc] = NULL;
	if (!exec || !argc)
		return sh->last_rc;
	rc = ush_exec(sh, argc, argv);
	sh->last_rc = rc;
	return rc;
}

static int ush_if(struct ush *sh, bool exec)
{
	static const char *const then_kw[] = { "then", NULL };
	static const char *const else_kw[] = { "else", "fi", NULL };
	static const char *const fi_kw[] = { "fi", NULL };
	const char *st;
	int cond, rc = 0, r;
	bool take;

	cond = ush_list(sh, exec, then_kw, &st);
	if (!st)
		goto syntax;
	take = exec && cond == 0;
	r = ush_list(sh, take, else_kw, &st);
	if (take)
		rc = r;
	if (st && !strcmp(st, "else")) {
		r = ush_list(sh, exec && !take, fi_kw, &st);
		if (exec && !take)
			rc = r;
	}
	if (!st || strcmp(st, "fi"))
		goto syntax;
	return rc;
syntax:
	uboot_console(sh->u, "syntax error");
	sh->error = true;
	return 1;
}

static int ush_list(struct ush *sh, bool exec, const char *const *stops, const char **stopped)
{
	size_t a, b;
	int rc = 0;

	*stopped = NULL;
	for (;;) {
		enum ush_tok t = ush_peek(sh, &a, &b);

		if (sh->error)
			return 1;
		if (t == USH_END)
			return rc;
		if (t == USH_SEP) {
			sh->pos = b;
			continue;
		}
		for (size_t i = 0; stops && stops[i]; i++)
			if (ush_word_is(sh, a, b, stops[i])) {
				sh->pos = b;
				*stopped = stops[i];
				return rc;
			}
		if (ush_word_is(sh, a, b, "if")) {
			sh->pos = b;
			rc = ush_if(sh, exec);
		} else {
			rc = ush_simple(sh, exec);
		}
		if (sh->error)
			return 1;
	}
}

static int ush_run(struct uboot *u, const char *line, int depth, int *last_rc)
{
	struct ush sh = { .u = u, .s = line, .depth = depth, .last_rc = *last_rc };
	const char *st;
	int rc;

	if (depth > UCMD_MAX_DEPTH || strlen(line) >= UCMD_LINE_MAX) {
		uboot_console(u, "## Error: command too long or nested too deep");
		return 1;
	}
	rc = ush_list(&sh, true, NULL, &st);
	*last_rc = sh.last_rc;
	return rc || sh.error ? 1 : 0;
}

int ucmd_run(struct uboot *u, const char *line)
{
	struct log_ev e;
	int last = 0, rc;

	rc = ush_run(u, line, 0, &last);
	log_begin(&e, u->log, "ucmd");
	log_str(&e, "cmd", line);
	log_i64(&e, "rc", rc);
	log_end(&e);
	return rc;
}
