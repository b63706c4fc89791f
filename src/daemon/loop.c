/* loop: see loop.h. */
#include "daemon/loop.h"

struct event_base *loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct timeval burst = { 0, LOOP_CLIENT_BURST_US };
	struct event_base *base = NULL;

	if (!cfg)
		return NULL;
	/* only the clients' level is cut short: station callbacks run to the end
	 * of their level, as they must to keep each board's transfers moving */
	if (event_config_set_max_dispatch_interval(cfg, &burst, LOOP_CLIENT_BURST,
						   LOOP_PRIO_CLIENTS) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base && event_base_priority_init(base, LOOP_PRIOS) < 0) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}

struct event *loop_prio(struct event *ev, int prio)
{
	int n;

	if (!ev)
		return NULL;
	n = event_base_get_npriorities(event_get_base(ev));
	event_priority_set(ev, prio < n ? prio : n - 1);
	return ev;
}

/* every event nobody places lands at libevent's default, npriorities / 2 */
_Static_assert(LOOP_PRIOS / 2 == LOOP_PRIO_STATION, "the station is the default level");
