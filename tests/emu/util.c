/* util: see util.h */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int util_cpu_sample(struct util_cpu *c)
{
	unsigned long long v[8] = { 0 };
	struct timespec ts;
	char line[256];
	FILE *f;
	int n;

	memset(c, 0, sizeof(*c));
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		c->self_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	n = fgets(line, sizeof(line), f)
		? sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &v[6], &v[7])
		: 0;
	fclose(f);
	if (n < 4)
		return -EIO;
	/* user nice system idle iowait irq softirq steal */
	c->busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	c->idle_ticks = v[3] + v[4];
	return 0;
}

int util_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int util_parse_size(const char *s, uint64_t *out)
{
	char buf[64];
	size_t n;
	unsigned shift = 0;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	default: break;
	}
	if (shift)
		buf[n - 1] = '\0';
	r = util_parse_u64(buf, &v);
	if (r < 0)
		return r;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int util_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

uint64_t util_strtoul_uboot(const char *s, const char **end, unsigned base)
{
	uint64_t v = 0;
	int d;

	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			base = 8;
			if ((s[1] == 'x' || s[1] == 'X') && util_digit(s[2]) < 16) {
				base = 16;
				s += 2;
			}
		}
	} else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	}
	while ((d = util_digit(*s)) < (int)base) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			v = UINT64_MAX;
		else
			v = v * base + (uint64_t)d;
		s++;
	}
	if (end)
		*end = s;
	return v;
}
