/* sdp_session_fixture: the fixture test-sdp_session.c and
 * test-sdp_session-spl.c share: a scripted ROM/SPL (sdp_rom), a fake plan,
 * the session recorder. Include after <cmocka.h>. */
#ifndef FLASHD_TEST_SDP_SESSION_FIXTURE_H
#define FLASHD_TEST_SDP_SESSION_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/session.h"
#include "fake_plan.h"
#include "sdp_rom.h"
#include "session_rec.h"
#include "flashd/sdp.h"

#define SELF 0x17800400u

struct fixture {
	struct event_base *base;
	struct rom rom;
	struct plan *plan;
	struct session_opts o;
	struct session_events ev;
	struct session_rec rec;
	struct sdp_soc soc;
	uint8_t *img_data;
	struct plan_image img;
	uint8_t *raw_data;
	struct plan_image raw;
};

extern const struct session_rec_ops sdp_rec_ops;
int setup(void **state);
int teardown(void **state);
/* an SDP step of op with the fixture's i.MX image (unless status/delay/done) */
struct plan_step *add(struct fixture *f, enum plan_op op, const char *text);
void start(struct fixture *f);                 /* ROM session from step 0 */
void run(struct fixture *f);                   /* start, loop until done */
unsigned count_cmds(const struct rom *r, uint16_t type);
/* DRAM holds the i.MX image's upload, its DCD pointer cleared iff cleared */
void assert_uploaded(struct fixture *f, bool cleared);

/* test-sdp_session-spl.c */
extern const struct CMUnitTest sdp_spl_tests[];
extern const size_t sdp_spl_ntests;

#endif
