/* strnum: see flashd/strnum.h. */
#include "common/strnum.h"

#include <errno.h>

int strnum_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int strnum_parse(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	const char *end = s + len;
	unsigned base = 10;
	uint64_t v = 0;

	if (!s || !len || !out)
		return -EINVAL;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; s < end; s++) {
		int d = strnum_digit(*s);
		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return 0;
}
