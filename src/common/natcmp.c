/* natcmp: natural order of names with numbers in them. */
#include "natcmp.h"

#include <stddef.h>
#include <string.h>

static int natcmp_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Compares the digit runs at *a and *b by value and moves both past them. */
static int natcmp_number(const char **a, const char **b)
{
	const char *x = *a, *y = *b;
	size_t lx, ly, zx = 0, zy = 0;
	int c;

	while (x[zx] == '0' && natcmp_isdigit(x[zx + 1]))
		zx++;
	while (y[zy] == '0' && natcmp_isdigit(y[zy + 1]))
		zy++;
	for (lx = zx; natcmp_isdigit(x[lx]); lx++)
		;
	for (ly = zy; natcmp_isdigit(y[ly]); ly++)
		;
	*a = x + lx;
	*b = y + ly;
	if (lx - zx != ly - zy)
		return lx - zx < ly - zy ? -1 : 1;
	c = memcmp(x + zx, y + zy, lx - zx);
	if (c)
		return c;
	return lx == ly ? 0 : lx < ly ? -1 : 1;
}

int natcmp(const char *a, const char *b)
{
	if (!a || !b)
		return a == b ? 0 : a ? 1 : -1;
	while (*a && *b) {
		int c;
		if (natcmp_isdigit(*a) && natcmp_isdigit(*b)) {
			c = natcmp_number(&a, &b);
			if (c)
				return c;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}
