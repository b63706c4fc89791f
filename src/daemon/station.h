/* station: the set of ports of this PC, keyed by physical port name.
 *
 * Routes devwatch events and session callbacks to the pure per-port state
 * machines (flashd/port.h) and executes their actions: opens devices, starts
 * and stops SDP/fastboot sessions, arms deadlines, writes the results
 * journal (before the "result" event goes out) and publishes events on the
 * control socket. Owns the configuration, the plans (default and per port,
 * refcounted: a board keeps the plan it started with) and the statistics,
 * and implements the control socket's commands (station_backend). */
#ifndef FLASHD_DAEMON_STATION_H
#define FLASHD_DAEMON_STATION_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/event.h>

#include "daemon/control.h"
#include "daemon/devwatch.h"

struct conf;
struct journal;
struct usb_ctx;
struct station;

#define STATION_PORTS_MAX 1024u        /* ports tracked */
#define STATION_OPEN_TRIES 10u         /* device open: tries … */
#define STATION_OPEN_RETRY_MS 100u     /* … this far apart (udev permission race) */
#define STATION_GONE_GRACE_MS 2000u    /* unplugged mid-session: wait for the session's verdict */
#define STATION_PROGRESS_MS 250u       /* progress events per port at most this often */
/* results the journal did not take (station_journal.c): "full" past this
 * many (said loudly; kept all the same) */
#define STATION_JOURNAL_BACKLOG_MAX 256u
#define STATION_JOURNAL_RETRY_MIN_MS 500u   /* first retry after a failed append … */
#define STATION_JOURNAL_RETRY_MAX_MS 10000u /* … doubling up to this */

struct station_opts {
	struct event_base *base;
	struct usb_ctx *usb;          /* NULL only in tests that never open devices */
	struct journal *journal;      /* NULL: results are not recorded */
	const char *config_path;      /* re-read by reload; NULL: reload refused */
};

/* Takes conf (freed by the station, also on failure). Loads every plan conf
 * names (synchronously: the loop does not run yet); a plan that does not
 * load fails with "file:line: message" in err. Starts the loader thread
 * for later loads (reload, `use`). */
int station_new(const struct station_opts *o, struct conf *conf, struct station **out,
		char *err, size_t errlen);
/* Aborts every running board (journal result "aborted", reason given),
 * stops sessions, closes devices. Then station_free, which waits for a plan
 * load that is running and cancels the queued ones (done() with
 * -ECANCELED). */
void station_shutdown(struct station *st, const char *reason);
struct station *station_free(struct station *st);

void station_set_control(struct station *st, struct control *ctl);
/* The control socket's command implementations, ud = st. */
void station_backend(struct station *st, struct control_backend *be);
const struct conf *station_conf(const struct station *st);

/* devwatch_cb: ud = st. */
void station_on_device(void *ud, enum devwatch_action action, const struct devwatch_dev *dev);

/* How a plan load that runs on the station's loader thread ends: r ≥ 0, or
 * -errno with a message ("file:line: …"); -ECANCELED when the station is
 * freed first. Called once, on the loop. */
typedef void (*station_done_fn)(void *ud, int r, const char *err);

/* Re-read the configuration and every plan it names, on the loader thread
 * (boards keep flashing meanwhile); done() tells how it went. All or
 * nothing: on error the running configuration and plans stay. Choices made
 * with `use` are dropped: the configuration decides again. Loads (reload
 * and `use`) are applied in the order they were asked for.
 * 0: queued, done() will be called. < 0: refused now (err set), done()
 * will not be called. */
int station_reload(struct station *st, station_done_fn done, void *ud, char *err,
		   size_t errlen);
/* One line for sd_notify STATUS=. */
void station_status_line(const struct station *st, char *buf, size_t len);

#endif
