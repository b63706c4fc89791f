/* Standalone driver for the fuzz targets, used by `make check`.
 *
 * Without arguments it runs every file of $top_srcdir/tests/fuzz/corpus/<name>/
 * (name = this program's basename), then a fixed number of deterministic
 * mutations of each (bit flips, truncations, byte insertions), so the corpus
 * run explores beyond the seeds yet stays repeatable. With arguments, it runs
 * the named files only. Built with clang -fsanitize=fuzzer instead, the same
 * targets run under libFuzzer (see tests/fuzz/README.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUT (4u << 20)
#define DRIVER_MUTATIONS 200u

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > DRIVER_MAX_INPUT) {
		close(fd);
		return -EINVAL;
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n <= 0) {
			free(b);
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

static uint32_t rng_next(uint32_t *s)
{
	/* xorshift32: deterministic, good enough to pick mutations */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void run_mutations(const uint8_t *seed, size_t len, uint32_t *rng)
{
	uint8_t *m = malloc(len + 16);
	if (!m)
		return;
	for (unsigned i = 0; i < DRIVER_MUTATIONS; i++) {
		size_t n = len;
		memcpy(m, seed, len);
		switch (rng_next(rng) % 4) {
		case 0: /* flip a few bits */
			for (unsigned k = 0; n && k < 1 + rng_next(rng) % 4; k++)
				m[rng_next(rng) % n] ^= (uint8_t)(1u << (rng_next(rng) % 8));
			break;
		case 1: /* truncate */
			n = n ? rng_next(rng) % n : 0;
			break;
		case 2: /* overwrite a byte with an interesting value */
			if (n) {
				static const uint8_t v[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, 0x40 };
				m[rng_next(rng) % n] = v[rng_next(rng) % sizeof(v)];
			}
			break;
		default: /* insert bytes */
			if (n) {
				size_t at = rng_next(rng) % n;
				size_t k = 1 + rng_next(rng) % 16;
				memmove(m + at + k, m + at, n - at);
				for (size_t j = 0; j < k; j++)
					m[at + j] = (uint8_t)rng_next(rng);
				n += k;
			}
			break;
		}
		LLVMFuzzerTestOneInput(m, n);
	}
	free(m);
}

static int run_one(const char *path, int mutate, uint32_t *rng)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_file(path, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput(buf, len);
	if (mutate)
		run_mutations(buf, len, rng);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t rng = 0x2545F491u;
	unsigned runs = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_one(argv[i], 0, &rng) < 0)
				return 1;
		printf("%d inputs ran\n", argc - 1);
		return 0;
	}
	const char *top = getenv("top_srcdir");
	char self[256], dir[1024];
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".", basename(self));
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[2048];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (run_one(path, 1, &rng) < 0) {
			closedir(d);
			return 1;
		}
		runs++;
	}
	closedir(d);
	if (!runs) {
		fprintf(stderr, "%s: empty corpus\n", dir);
		return 1;
	}
	printf("%u seeds, %u runs each with mutations\n", runs, DRIVER_MUTATIONS + 1);
	return 0;
}
