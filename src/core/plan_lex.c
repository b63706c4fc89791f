/* plan_lex: the lexical layer of plans — lines, comments, parameter
 * declarations and substitution, numbers, tokens. */
#include "plan_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strnum.h"

bool plan_lex_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the UTF-8 sequence at s (≤ n bytes), 0 if invalid (overlong,
 * surrogate, > U+10FFFF, truncated). */
static size_t plan_lex_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static const char *plan_lex_check(const char *buf, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)buf[i];
		size_t l;
		if (c == 0)
			return "NUL byte in line";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "control character in line";
		l = plan_lex_utf8_len((const unsigned char *)buf + i, n - i);
		if (!l)
			return "invalid UTF-8";
		i += l;
	}
	return NULL;
}

int plan_lex_next(const char *text, size_t len, size_t *pos, char buf[PLAN_LINE_MAX + 1],
		  unsigned *lineno, const char **why)
{
	size_t i = *pos, n = 0;
	bool toolong = false;

	if (i >= len)
		return 0;
	for (; i < len && text[i] != '\n'; i++) {
		if (text[i] == '\r')
			continue;
		if (n < PLAN_LINE_MAX)
			buf[n++] = text[i];
		else
			toolong = true;
	}
	*pos = i + 1;
	(*lineno)++;
	buf[n] = '\0';
	if (toolong) {
		*why = "line longer than 4096 bytes";
		return -EINVAL;
	}
	*why = plan_lex_check(buf, n);
	return *why ? -EINVAL : 1;
}

char *plan_lex_strip(char *line)
{
	char *s = line, *e;
	bool quoted = false;

	while (plan_lex_is_blank(*s))
		s++;
	if (*s == '#') {
		*s = '\0';
		return s;
	}
	for (char *c = s; *c; c++) {
		if (*c == '"') {
			quoted = !quoted;
		} else if (*c == '#' && !quoted && plan_lex_is_blank(c[-1])) {
			*c = '\0';
			break;
		}
	}
	for (e = s + strlen(s); e > s && plan_lex_is_blank(e[-1]); e--)
		;
	*e = '\0';
	return s;
}

int plan_lex_number(const char *s, uint64_t max, uint64_t *out)
{
	if (!s)
		return -EINVAL;
	return strnum_parse(s, strlen(s), max, out);
}

static bool plan_lex_append(char *out, size_t *o, const char *s, size_t n)
{
	if (*o + n > PLAN_LINE_MAX)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

/* One parameter over in → out, as uuu's replace_str (uuu/buildincmd.cpp):
 * every occurrence of the name that starts the text or follows a space
 * (not a tab, not a quote), with no check where the token ends. A value
 * with a space goes in quoted, as uuu's main() quotes such arguments. */
static bool plan_lex_replace(const char *in, const struct plan_param *pm, char *out)
{
	size_t nl = strlen(pm->name), vl = strlen(pm->value), o = 0;
	bool wrap = strchr(pm->value, ' ') != NULL;

	for (size_t i = 0; in[i];) {
		if ((i == 0 || in[i - 1] == ' ') && strncmp(in + i, pm->name, nl) == 0) {
			if ((wrap && !plan_lex_append(out, &o, "\"", 1)) ||
			    !plan_lex_append(out, &o, pm->value, vl) ||
			    (wrap && !plan_lex_append(out, &o, "\"", 1)))
				return false;
			i += nl;
			continue;
		}
		if (!plan_lex_append(out, &o, in + i, 1))
			return false;
		i++;
	}
	out[o] = '\0';
	return true;
}

int plan_lex_substitute(const char *in, const struct plan_param *params, size_t n,
			char out[PLAN_LINE_MAX + 1], const char **param, const char **why)
{
	char tmp[PLAN_LINE_MAX + 1];

	*param = NULL;
	if (strlen(in) > PLAN_LINE_MAX) {
		*why = "line longer than 4096 bytes";
		return -EINVAL;
	}
	strcpy(out, in);
	/* one parameter after the other over the whole line, as uuu does:
	 * a later one also replaces inside an earlier one's value */
	for (size_t k = 0; k < n; k++) {
		if (!params[k].value)
			continue; /* not given: the name stays, a literal word */
		if (!plan_lex_replace(out, &params[k], tmp)) {
			*why = "line longer than 4096 bytes after parameter substitution";
			return -EINVAL;
		}
		strcpy(out, tmp);
	}
	return 0;
}

int plan_lex_tokenize(const char *s, struct plan_lex_tokens *t)
{
	size_t o = 0;

	t->n = 0;
	for (;;) {
		bool quoted = false;
		while (plan_lex_is_blank(*s))
			s++;
		if (!*s)
			return 0;
		if (t->n >= PLAN_TOKENS_MAX)
			return -E2BIG;
		t->src[t->n] = s;
		t->tok[t->n] = t->store + o;
		for (; *s && (quoted || !plan_lex_is_blank(*s)); s++) {
			if (*s == '"')
				quoted = !quoted;
			else
				t->store[o++] = *s;
		}
		if (quoted)
			return -EINVAL;
		t->store[o++] = '\0';
		t->n++;
	}
}
