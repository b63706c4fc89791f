/* station_fakes: link-time fakes of the usb, session, control and journal
 * functions the station calls, for test-station. Include after <cmocka.h>. */
#ifndef FLASHD_TEST_STATION_FAKES_H
#define FLASHD_TEST_STATION_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

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
	struct plan *plan;
	size_t first, next;
	bool have_uid;
	uint64_t uid;
};

struct fake_sess_state {
	struct fake_sess *last;
	struct fake_sess *all[64];
	unsigned n, sdp_starts, fb_starts, frees;
	int start_err;
};
extern struct fake_sess_state fs;

extern json_t *events;     /* published: [{"type":…, "fields":…}] */
extern json_t *records;    /* journal_append'ed records */

#endif
