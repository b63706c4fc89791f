/* control_accept: the listening socket and who may connect (issue 11).
 *
 * Whether a peer may connect is decided from the credentials the kernel
 * recorded at connect() (control_socket_peer): an admin while fewer than
 * max_clients are connected; anyone else while fewer than max_clients -
 * admin_clients are connected and its uid holds fewer than
 * max_clients_per_uid, so that read-only users cannot lock an admin out.
 *
 * When accept() runs out of descriptors (or memory) the connection stays
 * in the backlog, and a level-triggered listener left armed would fire
 * again at once, forever: 100 % CPU and a log line per try. So the
 * listener is disarmed and re-armed after a back-off (100 ms doubling to
 * 2 s) or as soon as a client goes (nginx's ngx_event_accept.c likewise
 * disables its accept events on EMFILE and tries again on a timer). */
#include "daemon/control_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/control_socket.h"
#include "daemon/loop.h"
#include "flashd/ctlproto.h"

#define CONTROL_ACCEPT_BURST 16
#define CONTROL_BACKOFF_MIN_MS 100u
#define CONTROL_BACKOFF_MAX_MS 2000u

/* Why a peer may not connect now (NULL: it may). */
static const char *control_refusal(const struct control *c, const struct ucred *cred, bool admin,
				   char *why, size_t len)
{
	size_t open_to_all = c->o.max_clients - c->o.admin_clients, same = 0;

	if (c->n.clients >= c->o.max_clients) {
		snprintf(why, len, "too many clients (%zu)", c->o.max_clients);
		return why;
	}
	if (admin)
		return NULL;
	if (c->n.clients >= open_to_all) {
		snprintf(why, len, "too many clients (%zu; the last %zu are kept for admins)",
			 c->o.max_clients, c->o.admin_clients);
		return why;
	}
	for (const struct control_client *cl = c->clients; cl; cl = cl->next)
		same += !cl->dead && !cl->admin && cl->cred.uid == cred->uid;
	if (c->o.max_clients_per_uid && same >= c->o.max_clients_per_uid) {
		snprintf(why, len, "too many clients of uid %u (%zu)", (unsigned)cred->uid,
			 c->o.max_clients_per_uid);
		return why;
	}
	return NULL;
}

static void control_reject(struct control *c, int fd, const struct ucred *cred, const char *why)
{
	json_t *e = ctlproto_reply_error_new(NULL, PROTOCOL_ERR_TOO_MANY_CLIENTS, "%s", why);
	char *line;
	size_t len;

	c->n.rejected++;
	log_notice("control: uid %u refused: %s", (unsigned)cred->uid, why); /* no pid: repeats are held back */
	if (e && ctlproto_encode(e, &line, &len) == 0) {
		if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug_errno(errno, "control: rejecting a client");
		free(line);
	}
	json_decref(e);
	close(fd);
}

/* A connected peer: admitted, or told why not. */
static void control_admit(struct control *c, int fd)
{
	struct ucred cred;
	bool admin;
	char why[160];
	int r = control_socket_peer(fd, c->o.admin_gid, &cred, &admin);

	if (r < 0) {
		log_warning_errno(r, "control: peer credentials");
		close(fd);
		return;
	}
	if (control_refusal(c, &cred, admin, why, sizeof(why))) {
		control_reject(c, fd, &cred, why);
		return;
	}
	r = control_client_new(c, fd, &cred, admin);
	if (r < 0) {
		log_warning_errno(r, "control: new client");
		close(fd);
	}
}

/* accept() failed for lack of descriptors or memory: the connection stays
 * in the backlog and the level-triggered listener would fire again at
 * once, forever. Stop listening for a while instead. */
static void control_accept_pause(struct control *c, int err)
{
	uint32_t ms = c->accept_backoff_ms ? c->accept_backoff_ms * 2 : CONTROL_BACKOFF_MIN_MS;
	struct timeval tv;

	if (ms > CONTROL_BACKOFF_MAX_MS)
		ms = CONTROL_BACKOFF_MAX_MS;
	c->accept_backoff_ms = ms;
	c->n.accept_errors++;
	c->n.accept_pauses++;
	c->accept_paused = true;
	event_del(c->listen_ev);
	tv = (struct timeval){ ms / 1000, (suseconds_t)(ms % 1000) * 1000 };
	event_add(c->accept_ev, &tv);
	log_warning_errno(err, "control: accept: not taking new clients for a while");
}

void control_accept_resume(struct control *c)
{
	if (!c->accept_paused)
		return;
	c->accept_paused = false;
	event_del(c->accept_ev);
	event_add(c->listen_ev, NULL);
}

static void control_on_backoff(evutil_socket_t fd, short what, void *arg)
{
	control_accept_resume(arg);
}

static void control_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *c = arg;

	for (int i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			int err = errno;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
				control_accept_pause(c, err);
			else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
				 err != ECONNABORTED)
				log_warning_errno(err, "control: accept");
			return;
		}
		c->accept_backoff_ms = 0;
		control_admit(c, fd);
	}
}

/* ---- the listening socket ---- */

int control_listen(struct control *c)
{
	int fd = c->o.listen_fd, r;

	if (fd >= 0) {
		r = control_socket_adopt(fd);
		if (r < 0)
			return r;
	} else {
		r = control_socket_bind(c->o.path, c->o.mode, c->o.sock_gid, &fd);
		if (r < 0)
			return r;
		c->path = strdup(c->o.path);
		if (!c->path) {
			unlink(c->o.path);
			close(fd);
			return -ENOMEM;
		}
	}
	c->listen_fd = fd;
	c->listen_ev = loop_prio(event_new(c->base, fd, EV_READ | EV_PERSIST, control_on_accept, c),
				 LOOP_PRIO_CLIENTS);
	c->accept_ev = loop_prio(event_new(c->base, -1, 0, control_on_backoff, c), LOOP_PRIO_CLIENTS);
	if (!c->listen_ev || !c->accept_ev || event_add(c->listen_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}
