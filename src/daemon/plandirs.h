/* plandirs: what `use` may load — plans, and files its arguments name —
 * confined to the configured plan folders (flashd.conf(5) plan-dirs).
 *
 * A name with a ".." component is refused before anything is looked up;
 * then symbolic links are resolved (realpath) and the result must lie in one
 * of the folders, themselves resolved. Messages name the path asked for and
 * never quote a file's contents. These functions touch the file system
 * (realpath, stat): call them where blocking is allowed (the loader thread). */
#ifndef FLASHD_DAEMON_PLANDIRS_H
#define FLASHD_DAEMON_PLANDIRS_H

#include <stdbool.h>
#include <stddef.h>

/* true when path has a ".." component ("..", "../x", "x/..", "x/../y") */
bool plandirs_has_dotdot(const char *path);

/* The plan name: absolute, or relative to base (the configuration's folder;
 * NULL: the current folder) and, when that does not exist, to each of dirs
 * in order. On success the resolved path is in out (< outlen) and 0 is
 * returned; else -ENOENT, -EACCES (outside every folder), -EINVAL (".." or
 * not a regular file), -ENAMETOOLONG, with a message in err. */
int plandirs_resolve_plan(const char *const *dirs, size_t ndirs, const char *base,
			  const char *name, char *out, size_t outlen, char *err, size_t errlen);

/* The plan's arguments: one that contains a '/' names a file (relative to
 * the folder of plan, the resolved plan path) and must lie in one of dirs;
 * a ".." component is refused in any argument. A bare name stays in the
 * plan's folder, which is in a plan folder already. 0 or -EACCES / -EINVAL
 * with a message in err. */
int plandirs_check_args(const char *const *dirs, size_t ndirs, const char *plan,
			const char *const *args, size_t nargs, char *err, size_t errlen);

#endif
