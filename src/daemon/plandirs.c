/* plandirs: `use` confined to the plan folders (plandirs.h).
 *
 * Why resolve and then compare: a plan folder may hold a symbolic link to
 * anywhere (/etc/shadow); only the resolved path says where a name leads.
 * Why still refuse "..": it is never needed to name a plan in a plan
 * folder, and refusing it early keeps the rule simple to state and to test.
 * What is left: a name is checked, then opened by the loader; whoever can
 * change a plan folder between the two can change the plans anyway. */
#include "daemon/plandirs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool plandirs_has_dotdot(const char *path)
{
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		p += strspn(p, "/");
	}
	return false;
}

/* path starts with dir (no trailing '/' unless dir is "/") at a component boundary */
static bool plandirs_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

/* path (resolved when resolved is true) lies in one of dirs, as resolved;
 * a path that does not exist is compared with the folders as written too */
static bool plandirs_inside(const char *const *dirs, size_t ndirs, const char *path,
			    bool resolved)
{
	char real[PATH_MAX];

	for (size_t i = 0; i < ndirs; i++) {
		if (realpath(dirs[i], real) && plandirs_under(real, path))
			return true;
		if (!resolved && plandirs_under(dirs[i], path))
			return true;
	}
	return false;
}

static void plandirs_list(const char *const *dirs, size_t ndirs, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ndirs && at < len; i++) {
		int n = snprintf(buf + at, len - at, "%s%s", i ? " " : "", dirs[i]);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

static int plandirs_join(char *out, size_t len, const char *dir, const char *name)
{
	int n = dir && name[0] != '/' ? snprintf(out, len, "%s/%s", dir, name) :
					snprintf(out, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The first candidate that exists: name itself when absolute, else base/name,
 * then dir/name for each plan folder. -ENOENT when none does. */
static int plandirs_find(const char *const *dirs, size_t ndirs, const char *base,
			 const char *name, char *real)
{
	char cand[PATH_MAX];
	int r = plandirs_join(cand, sizeof(cand), base, name);

	if (r < 0)
		return r;
	if (realpath(cand, real))
		return 0;
	if (errno != ENOENT || name[0] == '/')
		return -errno;
	for (size_t i = 0; i < ndirs; i++) {
		if (plandirs_join(cand, sizeof(cand), dirs[i], name) < 0)
			continue;
		if (realpath(cand, real))
			return 0;
	}
	return -ENOENT;
}

int plandirs_resolve_plan(const char *const *dirs, size_t ndirs, const char *base,
			  const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	char real[PATH_MAX], list[512];
	struct stat st;
	int r;

	if (plandirs_has_dotdot(name)) {
		snprintf(err, errlen, "%s: \"..\" is not allowed in a plan path", name);
		return -EINVAL;
	}
	r = plandirs_find(dirs, ndirs, base, name, real);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r == -ENOENT || r == -ENAMETOOLONG ? r : -ENOENT;
	}
	if (!plandirs_inside(dirs, ndirs, real, true)) {
		plandirs_list(dirs, ndirs, list, sizeof(list));
		snprintf(err, errlen, "%s: not in a plan folder (plan-dirs: %s)", name, list);
		return -EACCES;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", name);
		return -EINVAL;
	}
	if (strlen(real) >= outlen) {
		snprintf(err, errlen, "%s: path too long", name);
		return -ENAMETOOLONG;
	}
	memcpy(out, real, strlen(real) + 1);
	return 0;
}

static int plandirs_check_arg(const char *const *dirs, size_t ndirs, const char *folder,
			      const char *arg, char *err, size_t errlen)
{
	char cand[PATH_MAX], real[PATH_MAX], list[512];
	bool inside;

	if (plandirs_has_dotdot(arg)) {
		snprintf(err, errlen, "argument %s: \"..\" is not allowed", arg);
		return -EINVAL;
	}
	if (!strchr(arg, '/'))
		return 0;
	if (plandirs_join(cand, sizeof(cand), folder, arg) < 0) {
		snprintf(err, errlen, "argument %s: path too long", arg);
		return -EINVAL;
	}
	if (realpath(cand, real))
		inside = plandirs_inside(dirs, ndirs, real, true);
	else
		inside = plandirs_inside(dirs, ndirs, cand, false);
	if (!inside) {
		plandirs_list(dirs, ndirs, list, sizeof(list));
		snprintf(err, errlen, "argument %s: not in a plan folder (plan-dirs: %s)", arg, list);
		return -EACCES;
	}
	return 0;
}

int plandirs_check_args(const char *const *dirs, size_t ndirs, const char *plan,
			const char *const *args, size_t nargs, char *err, size_t errlen)
{
	char folder[PATH_MAX];
	const char *slash = strrchr(plan, '/');
	int r;

	if (slash && (size_t)(slash - plan) < sizeof(folder))
		snprintf(folder, sizeof(folder), "%.*s", (int)(slash - plan), plan);
	else
		snprintf(folder, sizeof(folder), ".");
	for (size_t i = 0; i < nargs; i++) {
		r = plandirs_check_arg(dirs, ndirs, folder, args[i], err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}
