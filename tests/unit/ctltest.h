/* ctltest: a fake station behind the control server, and a blocking test
 * client that pumps the server's event loop while it waits (so server and
 * client run in one thread, deterministically). Used by test-control and
 * test-flashctl. */
#ifndef FLASHD_TEST_CTLTEST_H
#define FLASHD_TEST_CTLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <event2/event.h>
#include <jansson.h>

#include "ctldata.h"
#include "daemon/control.h"
#include "flashd/ctlproto.h"

struct fake_station {
	json_t *status; /* what status() returns (a copy); NULL: returns NULL */
	json_t *stats;
	json_t *plans;
	int ret;         /* what the operations return */
	const char *err; /* and the text they put in err */
	unsigned calls[CTLPROTO_CMD_COUNT];
	char plan[256];
	char ports[512]; /* comma-joined */
	char args[512];  /* use: the plan arguments, comma-joined */
	char port[64];
	struct control *publish_on_abort; /* abort publishes a "port" event here */
	bool later;                       /* use/reload keep their request … */
	struct control_pending *pending;  /* … here, answered by the test */
	const char *missing_port;         /* abort/retry on it: -ENOENT "no port …" */
};

/* A backend over fs, with every operation. */
void fake_station_backend(struct fake_station *fs, struct control_backend *be);
void fake_station_init(struct fake_station *fs);
void fake_station_clear(struct fake_station *fs);

struct ctltest_conn {
	int fd;
	struct event_base *base; /* pumped while waiting; NULL: server elsewhere */
	char *buf;
	size_t len, cap;
};

/* Connect (blocking socket). */
int ctltest_connect(struct ctltest_conn *t, const char *path, struct event_base *base);
void ctltest_close(struct ctltest_conn *t);
/* Connect as uid/gid/groups (in a child: needs root); the connected fd, or
 * -errno. */
int ctltest_connect_as(const char *path, uid_t uid, gid_t gid, const gid_t *groups, size_t n);
void ctltest_send(struct ctltest_conn *t, const char *text);
/* One line: a new ref, or NULL on EOF (or timeout: then *timed_out). */
json_t *ctltest_recv(struct ctltest_conn *t, int timeout_ms, bool *timed_out);
/* Send a request line, return the reply (events in between are skipped). */
json_t *ctltest_call(struct ctltest_conn *t, const char *request);
/* Run the loop for a while. */
void ctltest_pump(struct event_base *base, int ms);
/* The error code of a reply, or "ok". */
const char *ctltest_code(const json_t *reply);

#endif
