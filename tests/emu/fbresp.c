/* fbresp: see fbresp.h */
#include "fbresp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fbresp_set(char *resp, const char *tag, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(resp, FBRESP_LEN, "%s", tag);
	if (!fmt)
		return;
	n = strlen(resp);
	va_start(ap, fmt);
	vsnprintf(resp + n, FBRESP_LEN - n - 1, fmt, ap);
	va_end(ap);
}

void fbresp_okay(char *resp, const char *text)
{
	if (text)
		fbresp_set(resp, "OKAY", "%s", text);
	else
		fbresp_set(resp, "OKAY", NULL);
}

void fbresp_fail(char *resp, const char *text)
{
	fbresp_set(resp, "FAIL", "%s", text);
}
