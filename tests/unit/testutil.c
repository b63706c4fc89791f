/* testutil: helpers shared by the unit tests (see testutil.h). */
#include "testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

char *testutil_mkdtemp(const char *name)
{
	char t[256];

	if (snprintf(t, sizeof(t), "/tmp/%s.XXXXXX", name) >= (int)sizeof(t) || !mkdtemp(t))
		return NULL;
	return strdup(t);
}

static int testutil_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

int testutil_rmtree(char *dir)
{
	int r = 0;

	if (dir)
		r = nftw(dir, testutil_remove, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
	free(dir);
	return r;
}

const char *testutil_path(const char *dir, const char *name)
{
	static char buf[8][600];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

int testutil_mkimages(const char *dir)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "sh '%s/tests/data/plans/mkimages.sh' '%s'", top, dir);
	return system(cmd) == 0 ? 0 : -1;
}

char *testutil_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	assert_true(fd >= 0);
	assert_non_null(buf);
	while ((r = read(fd, buf + n, cap - 1 - n)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
	}
	assert_int_equal(r, 0);
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void testutil_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

void testutil_sha256sum(const char *path, char out[65])
{
	char cmd[700];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fread(out, 1, 64, f), 64);
	out[64] = '\0';
	assert_int_equal(pclose(f), 0);
}

void testutil_rows(void **state, size_t n, int (*setup)(void **), int (*teardown)(void **),
		   void (*row)(void **state, size_t i))
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_int_equal(setup(state), 0);
		row(state, i);
		if (i + 1 < n)
			assert_int_equal(teardown(state), 0);
	}
}

void testutil_assert_contains(const char *text, const char *const *needles)
{
	for (size_t i = 0; needles[i]; i++) {
		if (!strstr(text, needles[i]))
			print_error("'%s' not found in:\n%s\n", needles[i], text);
		assert_non_null(strstr(text, needles[i]));
	}
}
