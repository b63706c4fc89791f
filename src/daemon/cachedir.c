/* cachedir: the cache folder for decompressed images (cachedir.h). */
#include "daemon/cachedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cachedir_for_conf(const struct conf *c, char *buf, size_t len)
{
	const char *j = c && c->journal_path ? c->journal_path : "results.jsonl";
	const char *slash = strrchr(j, '/');
	int n;

	if (!slash)
		n = snprintf(buf, len, "cache");
	else
		n = snprintf(buf, len, "%.*s/cache", (int)(slash - j), j);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Made if missing (one level: the state directory must exist), and ours
 * to write. */
static bool cachedir_writable(const char *dir)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return false;
	return access(dir, W_OK | X_OK) == 0;
}

int cachedir_pick(const struct conf *c, char *buf, size_t len, bool *private_dir)
{
	const char *tmp = getenv("TMPDIR");
	int r = cachedir_for_conf(c, buf, len), n;

	*private_dir = false;
	if (r == 0 && cachedir_writable(buf))
		return 0;
	n = snprintf(buf, len, "%s/flashd-check-plan.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!mkdtemp(buf))
		return -errno;
	*private_dir = true;
	return 0;
}

void cachedir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}
