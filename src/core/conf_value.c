/* conf_value: the value syntaxes of flashd.conf — durations, sizes,
 * booleans, numbers and quoted word lists. */
#include "flashd/conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"


static const char *conf_skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int conf_parse_digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*v = x;
	return 0;
}

/* "  123  unit": the number, and *sp moved to the unit (or the end). */
static int conf_parse_number(const char **sp, uint64_t *v)
{
	int r;

	if (!*sp)
		return -EINVAL;
	*sp = conf_skip_blank(*sp);
	r = conf_parse_digits(sp, v);
	if (r < 0)
		return r;
	*sp = conf_skip_blank(*sp);
	return 0;
}

int conf_parse_uint(const char *s, uint64_t *v)
{
	uint64_t x;
	int r = conf_parse_number(&s, &x);

	if (r < 0)
		return r;
	if (*s)
		return -EINVAL;
	*v = x;
	return 0;
}

int conf_parse_duration(const char *s, uint32_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "min", 60000 } };
	uint64_t v;
	int r = conf_parse_number(&s, &v);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		size_t ul = strlen(units[i].unit);
		if (strncmp(s, units[i].unit, ul) != 0 || *conf_skip_blank(s + ul))
			continue;
		if (v > UINT32_MAX / units[i].mul)
			return -ERANGE;
		*ms = (uint32_t)(v * units[i].mul);
		return 0;
	}
	return -EINVAL;
}

int conf_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v;
	unsigned shift = 0;
	int r = conf_parse_number(&s, &v);

	if (r < 0)
		return r;
	switch (*s) {
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	default: break;
	}
	if (*conf_skip_blank(s))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

int conf_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

void conf_words_free(char **words, size_t n)
{
	if (!words)
		return;
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/* One word starting at *sp (not blank); quotes removed. */
static int conf_next_word(const char **sp, char **word)
{
	const char *s = *sp;
	size_t cap = strlen(s) + 1, n = 0;
	bool quoted = false;
	char *w = malloc(cap);

	if (!w)
		return -ENOMEM;
	for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"')
			quoted = !quoted;
		else
			w[n++] = *s;
	}
	if (quoted) {
		free(w);
		return -EINVAL;
	}
	w[n] = '\0';
	*sp = s;
	*word = w;
	return 0;
}

int conf_split_words(const char *s, size_t max, char ***words, size_t *n)
{
	char **v = NULL;
	size_t k = 0;
	int r = 0;

	if (!s)
		return -EINVAL;
	for (s = conf_skip_blank(s); *s; s = conf_skip_blank(s)) {
		char *w, **nv;
		if (k >= max) {
			r = -E2BIG;
			break;
		}
		r = conf_next_word(&s, &w);
		if (r < 0)
			break;
		nv = realloc(v, (k + 1) * sizeof(*v));
		if (!nv) {
			free(w);
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[k++] = w;
	}
	if (r < 0) {
		conf_words_free(v, k);
		return r;
	}
	*words = v;
	*n = k;
	return 0;
}
