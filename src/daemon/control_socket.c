/* control_socket: binding, socket activation, peer credentials.
 *
 * Why SO_PEERGROUPS for the admin check: it is the connecting process's
 * real credential set as the kernel recorded it at connect() — including
 * groups from newgrp or a unit's SupplementaryGroups= — with no pid-reuse
 * race (/proc/PID/status may describe another process by the time we read
 * it, or none in another pid namespace) and no NSS lookup that could block
 * the event loop on LDAP (getgrouplist describes the user database, not the
 * process). Linux >= 4.13; on older kernels only uid 0 and the primary
 * group count.
 *
 * Why a private folder for the socket file: chown and chmod by path after
 * bind() (as before) follow whatever the path is by then, a symbolic link
 * to /etc/shadow included, if anyone else can write the folder. They
 * cannot be done on the fd instead: fchown/fchmod on a socket succeed but
 * change the socket's own (sockfs) inode, not the file bind() made, which
 * is what connect() checks (tried on Linux 6.x). So the socket is bound in
 * a fresh 0700 folder beside the path (mkdtemp), given its group and mode
 * there, where nobody else can swap it, put to listen, and renamed into
 * place: the path only ever shows the finished socket, and a stale one is
 * replaced atomically. No umask change either (the umask is the whole
 * process's, and the loader thread creates files). */
#include "daemon/control_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CONTROL_SOCKET_BACKLOG 64
#define CONTROL_SOCKET_GROUPS_MAX 65536u /* NGROUPS_MAX on Linux */

/* A socket file nobody listens on is stale (the rename replaces it); a
 * live one or anything else stays. */
static int control_socket_check_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return r == 0 ? -EADDRINUSE : 0;
}

/* The private folder beside path: "DIR/.flashd-XXXXXX", mode 0700. */
static int control_socket_private_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n = slash ? snprintf(dir, len, "%.*s/.flashd-XXXXXX", (int)(slash - path), path)
		      : snprintf(dir, len, ".flashd-XXXXXX");

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return mkdtemp(dir) ? 0 : -errno;
}

/* Bound and set up in the private folder, where nobody else can swap the
 * path under chown and chmod; then renamed into place, complete. */
static int control_socket_bind_in(const char *dir, const char *path, mode_t mode, gid_t gid,
				  int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	int r = 0;

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if ((gid != (gid_t)-1 && chown(sa.sun_path, (uid_t)-1, gid) < 0) ||
	    chmod(sa.sun_path, mode) < 0 || listen(fd, CONTROL_SOCKET_BACKLOG) < 0 ||
	    rename(sa.sun_path, path) < 0) {
		r = -errno;
		unlink(sa.sun_path);
	}
	return r;
}

int control_socket_bind(const char *path, mode_t mode, gid_t gid, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int fd, r;

	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = control_socket_check_stale(&sa);
	if (r < 0)
		return r;
	r = control_socket_private_dir(path, dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r = fd < 0 ? -errno : control_socket_bind_in(dir, path, mode, gid, fd);
	rmdir(dir);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int control_socket_adopt(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static bool control_socket_peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE || len > CONTROL_SOCKET_GROUPS_MAX * sizeof(gid_t))
			return false;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found |= groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

int control_socket_peer(int fd, gid_t admin_gid, struct ucred *cred, bool *admin)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	*admin = cr.uid == 0 || (admin_gid != (gid_t)-1 &&
				 (cr.gid == admin_gid || control_socket_peer_in_group(fd, admin_gid)));
	*cred = cr;
	return 0;
}
