/* control_socket: the control server's socket-level work: binding the
 * socket file (stale-socket removal, owner group, mode), adopting a
 * socket-activated fd, and who a connected peer is. */
#ifndef FLASHD_DAEMON_CONTROL_SOCKET_H
#define FLASHD_DAEMON_CONTROL_SOCKET_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A listening, non-blocking, close-on-exec socket at path: a stale socket
 * there (nobody accepts) is removed first, a live one gives -EADDRINUSE,
 * anything else -EEXIST.  Bound in a private 0700 folder beside path,
 * given group gid (unless (gid_t)-1) and mode there, listening, then renamed
 * to path: the path never shows a socket that is not finished. */
int control_socket_bind(const char *path, mode_t mode, gid_t gid, int *out);
/* Make a socket-activated fd non-blocking and close-on-exec. */
int control_socket_adopt(int fd);
/* The peer's credentials (SO_PEERCRED) and whether it is an admin: uid 0,
 * or admin_gid (unless (gid_t)-1) as its primary or a supplementary group
 * (SO_PEERGROUPS). Both are what the kernel recorded at connect(). */
int control_socket_peer(int fd, gid_t admin_gid, struct ucred *cred, bool *admin);

#endif
