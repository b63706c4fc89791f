/* station_fakes: link-time fakes of the usb, session, control and journal
 * functions the station calls, for test-station. Include after <cmocka.h>. */
#ifndef FLASHD_TEST_STATION_FAKES_H
#define FLASHD_TEST_STATION_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <jansson.h>

#include "daemon/image.h"
#include "daemon/session.h"
#include "daemon/usb.h"

struct usb_dev {
	char node[64];
	bool closed;
	struct usb_dev *next;
};

struct fake_usb_state {
	struct usb_dev *devs;
	unsigned opens, closes;
	int open_err;            /* returned by the next open_err_n opens */
	unsigned open_err_n;
};
extern struct fake_usb_state fu;

/* one started session (sdp or fastboot); never freed before the test ends */
struct fake_sess {
	bool fb, freed;
	struct session_events ev;
	struct usb_dev *dev;
	const struct sdp_soc *soc;
	enum plan_proto spl;     /* SPL sessions: the flavour */
	struct plan *plan;
	size_t first, next;
	bool have_uid;
	uint64_t uid;
	struct session_opts o;   /* as given to *_start */
};

struct fake_sess_state {
	struct fake_sess *last;
	struct fake_sess *all[64];
	unsigned n, sdp_starts, spl_starts, fb_starts, frees;
	int start_err;
	unsigned start_err_n;    /* > 0: only this many starts fail */
	bool start_err_last;
	unsigned bus_kicks;      /* fb_session_bus_kick calls */
};
extern struct fake_sess_state fs;

extern json_t *events;     /* published: [{"type":…, "fields":…}] */
extern json_t *records;    /* journal_append'ed records */
extern int journal_fail;   /* != 0: journal_append returns it (-errno), keeps nothing */
extern unsigned journal_calls;

/* what the station answered a `use` or reload with (control_pending_done) */
struct control_pending {
	unsigned done;           /* times answered (must end up 1) */
	int r;
	char err[2048];
};

/* image_plan_load, wrapped (-Wl,--wrap=image_plan_load): counts calls and where they
 * run, and can hold them until the test releases them. */
struct fake_load_state {
	pthread_t loop_thread;   /* set by fake_load_init */
	unsigned calls, calls_on_loop;   /* atomics */
	bool hold;               /* loads wait for fake_load_release() … */
	unsigned held;           /* atomic: loads waiting now */
};
extern struct fake_load_state fl;
void fake_load_init(void);
void fake_load_release(unsigned n);
void fake_load_exit(void);

#endif
