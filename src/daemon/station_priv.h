/* station_priv: what station.c, station_plan.c and station_json.c share. */
#ifndef FLASHD_DAEMON_STATION_PRIV_H
#define FLASHD_DAEMON_STATION_PRIV_H

#include "daemon/station.h"

#include <jansson.h>

#include "daemon/image.h"
#include "daemon/session.h"
#include "daemon/slots.h"
#include "daemon/stats.h"
#include "flashd/conf.h"
#include "flashd/plan.h"
#include "flashd/port.h"

struct sdp_soc;
struct pools;
struct pools_board;

struct station_port {
	struct port port;
	struct station *st;
	char devnode[64];              /* present device ("" = none) */
	uint16_t vid, pid;
	uint16_t bcd;                  /* bcdDevice */
	const struct sdp_soc *soc;     /* ROM profile of the present device */
	enum plan_proto spl;           /* SPL gadget present: PLAN_PROTO_SDPU or _SDPV */
	struct usb_dev *dev;           /* open for the running session */
	struct sdp_session *sdp;
	struct fb_session *fb;
	struct plan *plan;             /* the board's plan (kept for its record) */
	json_t *steps;                 /* the board's step durations */
	json_t *regions;               /* the board's flash regions (session_region) */
	json_t *reenum;                /* the board's re-enumerations, ms each */
	int64_t plug_us;               /* CLOCK_MONOTONIC µs: udev's add of the boot ROM device reached us */
	bool has_plug_to_sdp;
	uint64_t plug_to_sdp_ms;       /* plug_us -> the board's first SDP step */
	uint64_t reenum_since;         /* monotonic: WAIT_REENUM entered */
	struct {                       /* the last region's times, for its step's entry */
		bool set, verify;
		size_t index;
		uint64_t download_ms, flash_ms, verify_ms;
	} rt;
	struct event *timer;           /* the port's deadline */
	struct event *starter;         /* deferred session start and open retries */
	enum port_action_type start;   /* START_SDP / START_SPL / START_FASTBOOT pending */
	size_t first_step;
	unsigned open_tries;
	enum port_dev ignored;         /* a board on a port slots-only ignores (NONE: none) */
	struct pools_board *pb;        /* the board's pool values (plans with ${pool:…}) */
	char hold_why[PORT_TEXT_MAX];  /* WAITING: which pool and why */
	char values_why[PORT_TEXT_MAX]; /* the board's pool values: what was last logged */
	bool bus_waiting;              /* FASTBOOT: a download waits for the bus (station_bus.c) */
	char bus_why[PORT_TEXT_MAX];   /* then: how many are ahead */
};

struct station_plan_sel {
	char *port;
	struct plan *plan;
};

/* the default plan and the per-port ones */
struct station_plan_set {
	struct plan *plan;             /* default, or NULL */
	struct station_plan_sel *sel;
	size_t nsel;
};

struct worker;

/* station_journal.c: records the journal did not take yet */
struct station_jq {
	json_t *backlog;               /* records not written yet, oldest first */
	size_t bytes;                  /* their journal lines */
	int err;                       /* the last append's -errno; 0: writable */
	char why[160];                 /* "the results journal cannot be written: …" */
	uint64_t since_ms;             /* monotonic: the first failure of this outage */
	uint64_t retry_at_ms;          /* monotonic: the next try */
	uint32_t delay_ms;             /* back-off */
	struct event *retry;
	char *path;
};

struct station {
	struct event_base *base;
	struct worker *loader;         /* plan loads for reload and `use` */
	struct worker *digests;        /* flash -verify: the read-back digests (digest_job.h) */
	struct pools *pools;           /* flashd.conf's pools, their store on a thread (pools.h) */
	struct bussched *bus;          /* downloads per USB bus (station_bus.c), for the station's life */
	struct usb_ctx *usb;
	struct journal *journal;
	struct control *ctl;
	char *config_path;
	struct conf *conf;
	struct port_cfg port_cfg;
	struct session_opts sopts;
	bool paused;
	bool stopping;

	struct station_port **ports;
	size_t nports;

	struct station_plan_set plans;
	struct station_loads *loads;   /* station_load.c: `use`/reload under way, or NULL */

	uint64_t started_ms;
	struct stats stats;
	struct slots slots;            /* from conf; yields since start */
	struct station_jq jq;
};

/* station.c */
uint64_t station_now_ms(void);          /* CLOCK_MONOTONIC */
int64_t station_wall_ms(uint64_t mono_ms); /* unix ms of a monotonic time */

/* station.c: the session of ps ended before it began (status, reason) */
void station_session_failed(struct station_port *ps, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* station_pools.c */
int station_pools_init(struct station *st);
/* Take (new) pools from st->conf: after a reload. */
void station_pools_apply(struct station *st);
/* Hold or let go the ports whose new boards need a pool that cannot give. */
void station_pools_gate_all(struct station *st);
void station_pools_gate(struct station_port *ps);
/* The board's UID is known: ask for its values (plans with pools). */
void station_pools_uid(struct station_port *ps);
/* START_FASTBOOT: 0 go on; -EAGAIN the session waits (the port said so);
 * < 0 otherwise: the board failed (station_session_failed done). */
int station_pools_ready(struct station_port *ps);
/* fb_session's expansion of ${pool:…} in a step's command. */
int station_pools_expand(void *ud, const char *text, char *out, size_t outlen, const char **why);
/* The board's values for its record (new ref, or NULL without pools), and its end. */
json_t *station_pools_values(const struct station_port *ps);
void station_pools_board_end(struct station_port *ps, bool failed);
json_t *station_pools_json(void *ud);

/* station_bus.c */
int station_bus_init(struct station *st);
/* st->conf's bus-* keys for what comes next, and st->sopts.bus
 * (bus-scheduling); after station_apply_conf built st->sopts. */
void station_bus_apply(struct station *st);
/* so->bus_key for the port (its bus line, or the bus of its sysfs name);
 * so->bus NULL when the name has no bus number. */
void station_bus_opts(const struct station_port *ps, struct session_opts *so);
/* session_events.bus_wait: the port's wait (PORT_EV_WAIT), logged at debug */
void station_ev_bus_wait(void *ud, bool waiting, uint64_t bytes, int ahead);

/* station_slots.c: the slots of st->conf (new, or after a reload): keeps the yields of the
 * names that stay; every slot's port is listed, plugged in or not. */
void station_slots_apply(struct station *st);
/* A port by its name or by its slot's name; NULL if none. */
struct station_port *station_find_port(const struct station *st, const char *name);

/* Logs "port NAME: message" and sends it to watchers as a "log" event. */
void station_log(struct station_port *ps, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A port by its name (NULL if none); a new port (NULL: no memory, or too many). */
struct station_port *station_find(const struct station *st, const char *name);
struct station_port *station_port_new(struct station *st, const char *name);

/* station_slots.c */
/* A board (kind) appeared on a port slots-only ignores: logged, listed,
 * never opened. false: not ignored, the caller goes on. */
bool station_slot_ignores(struct station *st, const struct devwatch_dev *dev, enum port_dev kind);
/* The ignored board of ps left. */
void station_slot_ignored_gone(struct station_port *ps);
/* A board ended on ps with r: its slot's yield, and the alert. */
void station_slot_result(struct station_port *ps, enum port_result r);
/* control backend: the port of a slot name, or NULL */
const char *station_slot_port(void *ud, const char *name);

/* Feed a port event and execute the port's actions. */
int station_port_event(struct station_port *ps, const struct port_event *ev);

/* station_journal.c */
int station_journal_init(struct station *st, const char *path);
/* Last try to write the backlog; what is left is logged whole (LOG_CRIT). */
void station_journal_fini(struct station *st);
/* A board's record (stolen): journal or backlog, then the "result" event. */
void station_journal_result(struct station *st, const char *port, json_t *rec);
/* Records wait for the journal: no new board starts. */
bool station_journal_held(const struct station *st);
/* Why, while held; NULL else. */
const char *station_journal_reason(const struct station *st);
/* The journal's state (flashd-control(7)), or JSON null without a journal. */
json_t *station_journal_json(const struct station *st);

/* station_plan.c */
int station_plans_load(const struct conf *c, struct station_plan_set *out, char *err, size_t errlen);
/* Same with base's progress and reuse (the cache folder comes from c). */
int station_plans_load_opts(const struct conf *c, const struct image_opts *base,
			    struct station_plan_set *out, char *err, size_t errlen);
/* Log (info) each compressed image: both hashes, and whether it was
 * decompressed, taken from the cache or kept from the plans of old. */
void station_plan_log_images(const struct plan *p, const struct station_plan_set *old);
void station_plans_log_images(const struct station_plan_set *s, const struct station_plan_set *old);
void station_plans_clear(struct station_plan_set *ps);
struct plan *station_plan_for(const struct station *st, const char *port);
void station_apply_conf(struct station *st);
/* control backend: `use` and reload (answer with control_pending_done) */
int station_use(void *ud, const char *plan, const char *const *args, size_t nargs,
		const char *const *ports, size_t nports,
		struct control_pending *p, char *err, size_t errlen);
int station_reload_op(void *ud, struct control_pending *p, char *err, size_t errlen);
json_t *station_plans_json(void *ud);
/* `use` on ports: each must be a valid name (-EINVAL) and known (-ENOENT):
 * flashd has seen a board on it, flashd.conf declares it, it already has a
 * plan, or sysfs shows a hub port of that name. Made-up names would each
 * keep a plan (and its image descriptors) for nothing. */
int station_use_ports_check(const struct station *st, const char *const *ports, size_t nports,
			    char *err, size_t errlen);
/* Where station_use_ports_check looks for hub ports (tests; default /sys). */
void station_plan_set_sysfs(const char *root);

/* station_load.c (the control backends station_use and station_reload_op
 * are declared above) */
/* The load under way: {"kind","path","file","bytes","total","queued"}, or
 * JSON null. */
json_t *station_loading_json(const struct station *st);
/* Index of the first runnable step of proto at or after from; plan_n_steps if none. */
size_t station_plan_first(const struct plan *p, size_t from, enum plan_proto proto);
/* Index of the first runnable step; plan_n_steps if none. */
size_t station_plan_first_runnable(const struct plan *p);
bool station_plan_is_fastboot_id(const struct plan *p, uint16_t vid, uint16_t pid);

/* station_json.c */
json_t *station_port_json(const struct station_port *ps, uint64_t now);
json_t *station_status_json(void *ud);
json_t *station_progress_json(const struct station_port *ps, uint64_t now);
json_t *station_record_json(const struct station_port *ps);
json_t *station_stats_json(void *ud);   /* the control backend's stats (stats.h) */

#endif
