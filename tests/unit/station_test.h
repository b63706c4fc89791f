/* station_test: the fixture test-station.c and test-station-spl.c share
 * (a temporary folder with plans and images, a configuration, a station on
 * a real libevent loop over the fakes of station_fakes.c). Include after
 * <cmocka.h> and station_fakes.h. */
#ifndef FLASHD_TEST_STATION_TEST_H
#define FLASHD_TEST_STATION_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "daemon/devwatch.h"
#include "daemon/station_priv.h"

extern char dir[64];
extern struct station *st;
extern struct control_backend be;   /* the station's commands */

void write_text(const char *name, const char *text);
/* flashd.conf with plan_line (e.g. "plan = a.lst"), reenum-timeout 1s … */
void write_conf(const char *plan_line, const char *extra);
int start_station(void);                   /* on the written configuration */
int setup(void **state);
int teardown(void **state);
void run(unsigned ms);                     /* the loop, for ms */
void device(enum devwatch_action a, const char *port, const char *node, uint16_t vid,
	    uint16_t pid, const char *ifaces, const char *serial);
void rom(const char *port, const char *node);          /* 15a2:0054 added */
void fastboot(const char *port, const char *node, const char *serial);
void removed(const char *port, const char *node);
struct station_port *find_port(const char *name);
enum port_state state_of(const char *name);
size_t step_index(const struct plan *p, const char *prefix);
size_t count_events(const char *type);
json_t *last_record(void);
const char *rec_str(const char *key);
struct fake_sess *live(void);              /* the last session, live */
json_t *status_port(json_t *status, const char *port); /* its port object */

/* `use` (args may be NULL) and reload, waited for: the station's answer */
int use_args_wait(const char *plan, const char *const *args, size_t nargs,
		  const char *const *ports, size_t n, char *err, size_t errlen);
int reload_wait(char *err, size_t errlen);

/* test-station-use.c */
extern const struct CMUnitTest station_use_tests[];
extern const size_t station_use_ntests;

/* test-station-slots.c */
extern const struct CMUnitTest station_slots_tests[];
extern const size_t station_slots_ntests;

/* test-station-pools.c */
extern const struct CMUnitTest station_pools_tests[];
extern const size_t station_pools_ntests;

/* test-station-bus.c */
extern const struct CMUnitTest station_bus_tests[];
extern const size_t station_bus_ntests;

/* test-station-spl.c */
extern const struct CMUnitTest station_spl_tests[];
extern const size_t station_spl_ntests;
/* test-station-journal.c */
extern const struct CMUnitTest station_journal_tests[];
extern const size_t station_journal_ntests;

#endif
