/* sha256-rate: hashing rate of src/common/sha256.c (plans hash every image
 * at load), with the x86 SHA extensions and with the portable code.
 * Prints figures; asserts nothing. Usage: sha256-rate [MiB] (default 256). */
#include "common/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	size_t n = mib << 20;
	unsigned char *b = malloc(n ? n : 1);
	char h[SHA256_HEX_LEN + 1];

	if (!b || !n) {
		fprintf(stderr, "sha256-rate: bad size\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 131 + (i >> 12));
	sha256_use_accel(true);
	int have = sha256_accelerated();
	for (int accel = have; accel >= 0; accel--) {
		sha256_use_accel(accel);
		double t0 = now();
		sha256_hex(b, n, h);
		double s = now() - t0;
		printf("sha256 %-8s %zu MiB: %.0f MB/s\n", accel ? "sha-ni" : "portable", mib, (double)n / 1e6 / s);
	}
	if (!have)
		printf("sha256 sha-ni: not available on this CPU\n");
	free(b);
	return 0;
}
