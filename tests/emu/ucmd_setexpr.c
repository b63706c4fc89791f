/* ucmd_setexpr: see ucmd_setexpr.h. As cmd/setexpr.c of v2023.04 (the emulated
 * build): get_arg() reads "*ADDR" from RAM with the width of the command's
 * suffix (common/command.c cmd_get_data_size(): .b 1, .w 2, .l 4, .s a string,
 * anything else a ulong: 4 on ARM32), other values through hextoul(); .s takes
 * strings only from RAM (a plain value fails there), and only '+' (concatenation).
 * One divergence: dividing by zero hangs the real board (arch/arm/lib/div0.c
 * __div0() calls hang()); here the hang message is printed and the command fails. */
#include "ucmd_setexpr.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETEXPR_STR (-2) /* CMD_DATA_SIZE_STR */
#define SETEXPR_STR_MAX (64u << 10)

struct setexpr_arg {
	uint32_t ival;
	char *sval;
};

static int setexpr_width(const char *cmd)
{
	size_t n = strlen(cmd);

	if (n >= 2 && cmd[n - 2] == '.') {
		switch (cmd[n - 1]) {
		case 'b': return 1;
		case 'w': return 2;
		case 's': return SETEXPR_STR;
		default: return 4; /* .l, and CMD_DATA_SIZE_ERR reads a ulong */
		}
	}
	return 4;
}

/* get_arg(): 0, or 1 (CMD_RET_FAILURE) */
static int setexpr_get(struct uboot *u, const char *s, int w, struct setexpr_arg *a)
{
	uint8_t b[4] = { 0 };
	uint32_t addr;

	a->sval = NULL;
	if (s[0] != '*') {
		if (w == SETEXPR_STR)
			return 1; /* -EINVAL in v2023.04 */
		a->ival = (uint32_t)util_strtoul_uboot(s, NULL, 16);
		return 0;
	}
	addr = (uint32_t)util_strtoul_uboot(s + 1, NULL, 16);

	if (w == SETEXPR_STR) {
		a->sval = calloc(1, SETEXPR_STR_MAX + 1);
		if (!a->sval) {
			uboot_console(u, "Out of memory");
			return 1;
		}
		/* strnlen(p, SZ_64K): at most 64 KiB, cut at the NUL */
		for (uint32_t i = 0; i < SETEXPR_STR_MAX; i++)
			if (uboot_ram_read(u, addr + i, a->sval + i, 1) < 0 || !a->sval[i])
				break;
		return 0;
	}
	(void)uboot_ram_read(u, addr, b, (size_t)w);
	a->ival = w == 1 ? b[0] : w == 2 ? util_le16(b) : util_le32(b);
	return 0;
}

/* env_set_hex() */
static int setexpr_set_hex(struct uboot *u, const char *name, uint32_t v)
{
	char str[17];

	snprintf(str, sizeof(str), "%x", v);
	return env_set(u->env, name, str) < 0;
}

static int setexpr_str_op(struct uboot *u, char **argv, struct setexpr_arg *a,
			  struct setexpr_arg *b)
{
	size_t la = strlen(a->sval), lb = strlen(b->sval);
	char *s;
	int rc;

	if (argv[3][0] != '+') {
		uboot_console(u, "invalid op");
		return 1;
	}
	s = malloc(la + lb + 1);
	if (!s) {
		uboot_console(u, "Out of memory");
		return 1;
	}
	memcpy(s, a->sval, la);
	memcpy(s + la, b->sval, lb + 1);
	rc = env_set(u->env, argv[1], s) < 0;
	if (rc)
		uboot_console(u, "Could not set var");
	free(s);
	return rc;
}

static int setexpr_int_op(struct uboot *u, char **argv, uint32_t a, uint32_t b)
{
	uint32_t v;

	switch (argv[3][0]) {
	case '|': v = a | b; break;
	case '&': v = a & b; break;
	case '+': v = a + b; break;
	case '^': v = a ^ b; break;
	case '-': v = a - b; break;
	case '*': v = a * b; break;
	case '/':
	case '%':
		if (!b) {
			uboot_console(u, "### ERROR ### Please RESET the board ###");
			return 1;
		}
		v = argv[3][0] == '/' ? a / b : a % b;
		break;
	default:
		uboot_console(u, "invalid op");
		return 1;
	}
	(void)setexpr_set_hex(u, argv[1], v); /* do_setexpr() ignores its result */
	return 0;
}

int ucmd_setexpr(struct uboot *u, int argc, char **argv)
{
	struct setexpr_arg a, b = { 0, NULL };
	int w, rc;

	if (argc > 8 || argc < 3) /* maxargs 8 */
		return -1;
	w = setexpr_width(argv[0]);
	if (setexpr_get(u, argv[2], w, &a))
		return 1;
	if (argc == 4 || argc > 6 || (argc != 3 && (argc != 5 || strlen(argv[3]) != 1))) {
		free(a.sval);
		return -1;
	}
	if (argc == 3) {
		rc = w == SETEXPR_STR ? env_set(u->env, argv[1], a.sval) < 0
				      : setexpr_set_hex(u, argv[1], a.ival);
		free(a.sval);
		return rc;
	}
	if (setexpr_get(u, argv[4], w, &b)) {
		free(a.sval);
		return 1;
	}
	rc = w == SETEXPR_STR ? setexpr_str_op(u, argv, &a, &b)
			      : setexpr_int_op(u, argv, a.ival, b.ival);
	free(a.sval);
	free(b.sval);
	return rc;
}
