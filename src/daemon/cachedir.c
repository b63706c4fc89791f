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

/* A folder owned by us and writable: files made there are ours, so neither
 * we nor its owner are left with entries the other cannot read or replace
 * (root checking a plan must not fill the daemon's cache with root's files). */
static bool cachedir_ours(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       access(path, W_OK | X_OK) == 0;
}

/* The cache folder if it is ours; if it does not exist yet, the state
 * directory that will hold it (decompress_cache makes it when needed). */
static bool cachedir_writable(const char *dir)
{
	char parent[4096];
	const char *slash;
	struct stat st;

	if (stat(dir, &st) == 0)
		return cachedir_ours(dir);
	if (errno != ENOENT)
		return false;
	slash = strrchr(dir, '/');
	if (!slash)
		return cachedir_ours(".");
	snprintf(parent, sizeof(parent), "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
	return cachedir_ours(parent);
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
