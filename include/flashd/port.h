/* port: the per-port state machine (design.md §3). Pure: an event and the
 * current time go in, the port's new state and a list of actions come out.
 * No I/O, no clock reads, no allocation. The station executes the actions
 * (start/stop sessions, arm the deadline timer, journal and publish).
 *
 *   EMPTY ──rom──▶ SDP ──jump ok──▶ WAIT_REENUM ──fastboot──▶ FASTBOOT ──ok──▶ DONE
 *     │  └─fastboot (restore)──────────────────────────────────▲        └─err─▶ FAILED
 *     │                                  │ spl (plan has SPL lines)  │ fastboot
 *     │                                  ▼                           │
 *     │                              SPL ──jump ok──▶ WAIT_REENUM ───┘ (fastboot only)
 *     ├─(paused)─▶ PAUSED ──resume──▶ SDP / FASTBOOT
 *     └─(held)───▶ WAITING ──release─▶ SDP / FASTBOOT (a pool the plan needs is back)
 *   DONE/FAILED latch until the port has been empty for `settle_ms`, then EMPTY.
 *   The board of the last DONE coming back (same SoC UID or USB serial, or any
 *   flashable device within `guard_ms` when it cannot be identified) ─▶ BOOT_LOOP,
 *   which holds until an operator's retry.
 *
 * SPL boards (mainline U-Boot's SPL with its own SDP gadget): after the ROM's
 * jump the board may come back as U-Boot SPL's SDP gadget; when the plan has
 * SDPU/SDPV lines after the ROM stage the port runs them in SPL ("spl-sdp"),
 * then waits for a second re-enumeration, which only a fastboot device ends.
 * A fastboot device right after the ROM's jump skips the SPL lines (the
 * image was a full U-Boot), as uuu does. The boot ROM coming back in either
 * wait means U-Boot (or its SPL) did not start: FAILED.
 *
 * Every state has its deadline: SDP, SPL and FASTBOOT a stall deadline re-armed by
 * each step/progress event (SPL: sdp_stall_ms), WAIT_REENUM the re-enumeration
 * timeout (each wait its own), DONE and
 * FAILED the settle time once the port is empty; EMPTY, PAUSED, WAITING and
 * BOOT_LOOP wait for a person (or a pool) and have none. WAIT suspends FASTBOOT's
 * stall deadline while the station holds the session's start (its pool values
 * are not there yet); its end re-arms it. */
#ifndef FLASHD_PORT_H
#define FLASHD_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORT_NAME_MAX 64u
#define PORT_TEXT_MAX 256u
#define PORT_SERIAL_MAX 128u
#define PORT_ACTIONS_MAX 8u      /* port_handle never emits more */
#define PORT_STEP_NONE SIZE_MAX  /* no step started yet */
#define PORT_STEP_FIRST_FB SIZE_MAX /* START_FASTBOOT: the plan's first FB step */

enum port_state {
	PORT_STATE_EMPTY,
	PORT_STATE_PAUSED,       /* a board waits while the station is paused */
	PORT_STATE_SDP,          /* uploading U-Boot to the boot ROM */
	PORT_STATE_WAIT_REENUM,  /* jumped; waiting for the fastboot device */
	PORT_STATE_FASTBOOT,     /* running the plan's FB steps */
	PORT_STATE_SPL,          /* "spl-sdp": running the plan's SDPU/SDPV steps */
	PORT_STATE_DONE,
	PORT_STATE_FAILED,
	PORT_STATE_BOOT_LOOP,
	PORT_STATE_WAITING,      /* a board waits: its plan needs a pool that cannot give now */
	_PORT_STATE_MAX,
};

enum port_dev {
	PORT_DEV_NONE,
	PORT_DEV_ROM,            /* an SDP boot ROM */
	PORT_DEV_FASTBOOT,       /* a fastboot gadget */
	PORT_DEV_OTHER,          /* anything else (e.g. the flashed board's OS) */
	PORT_DEV_SPL,            /* U-Boot SPL's SDP gadget (the station knows SDPU/SDPV) */
	_PORT_DEV_MAX,
};

enum port_result {
	PORT_RESULT_NONE,
	PORT_RESULT_OK,
	PORT_RESULT_FAILED,
	PORT_RESULT_BOOT_LOOP,
	PORT_RESULT_ABORTED,
	_PORT_RESULT_MAX,
};

enum port_event_type {
	PORT_EV_DEV_ADDED,       /* dev_added */
	PORT_EV_DEV_REMOVED,     /* the device present on the port left */
	PORT_EV_STEP,            /* step: a plan step starts */
	PORT_EV_PROGRESS,        /* progress: bytes of the current step */
	PORT_EV_UID,             /* uid: SoC unique ID read over SDP */
	PORT_EV_SESSION_DONE,    /* session_done */
	PORT_EV_DEADLINE,        /* the timer of the last TIMER action fired */
	PORT_EV_PAUSE,
	PORT_EV_RESUME,
	PORT_EV_ABORT,
	PORT_EV_RETRY,
	PORT_EV_HOLD,            /* hold: new boards wait (WAITING) while on */
	PORT_EV_WAIT,            /* wait: FASTBOOT only: the session waits for the station
				  * (pool values), its stall deadline suspended while on */
	_PORT_EV_MAX,
};

struct port_event {
	enum port_event_type type;
	union {
		struct {
			enum port_dev kind;
			const char *serial;   /* USB iSerialNumber or NULL */
		} dev_added;
		struct {
			size_t index;
			const char *text;
		} step;
		struct {
			uint64_t bytes, total;
		} progress;
		uint64_t uid;
		const char *abort_reason;     /* ABORT: NULL = "aborted by the operator" */
		bool hold;                    /* HOLD */
		bool wait;                    /* WAIT */
		struct {
			int status;           /* 0 or -errno */
			const char *reason;   /* NULL when status == 0 */
			bool more;            /* SDP/SPL: the plan goes on after this stage
					       * (FB steps, or SPL steps when spl) */
			size_t next_step;     /* SDP/SPL: first FB step (plan_n_steps if none) */
			bool spl;             /* SDP: the plan has SDPU/SDPV steps next */
			bool spl_required;    /* SDP, spl: the ROM got an SPL (plan_boots_spl):
					       * a fastboot device before the SPL stage ran is
					       * not the plan's U-Boot */
			size_t spl_step;      /* SDP, spl: the first of them */
		} session_done;
	};
};

enum port_action_type {
	PORT_ACT_STATE,          /* state: changed from old to new (log, publish "port") */
	PORT_ACT_TIMER,          /* deadline_ms: arm the port's timer; 0 = disarm */
	PORT_ACT_START_SDP,      /* open the ROM device and start an SDP session */
	PORT_ACT_START_FASTBOOT, /* start a fastboot session at first_step */
	PORT_ACT_START_SPL,      /* open the SPL gadget, start its SDP session at
				  * first_step (the station picks the SDPU/SDPV
				  * lines of the device's flavour from there) */
	PORT_ACT_STOP_SESSION,   /* free the session (deferred) and close its device */
	PORT_ACT_STEP_END,       /* step_end: a step finished or stopped (durations) */
	PORT_ACT_PROGRESS,       /* publish progress (rate limited to progress_ms) */
	PORT_ACT_RESULT,         /* a board finished: journal, then publish "result" */
	_PORT_ACT_MAX,
};

struct port_action {
	enum port_action_type type;
	union {
		struct {
			enum port_state old, new;
		} state;
		uint64_t deadline_ms;
		size_t first_step;       /* START_FASTBOOT (PORT_STEP_FIRST_FB for a
					  * restore), START_SPL */
		struct {
			size_t index;
			uint64_t ms, bytes;
			bool ok;
		} step_end;
		enum port_result result;
	};
};

struct port_cfg {
	uint32_t sdp_stall_ms;       /* SDP: no step/progress for this long → FAILED */
	uint32_t fastboot_stall_ms;  /* FASTBOOT: same */
	uint32_t reenum_ms;          /* WAIT_REENUM → SPL or fastboot device (each wait) */
	uint32_t settle_ms;          /* DONE/FAILED: empty this long → EMPTY */
	uint32_t guard_ms;           /* unidentified board back after DONE → BOOT_LOOP */
	uint32_t gone_grace_ms;      /* device left mid-session: wait for the session's own verdict;
				      * session I/O error: wait for a removal */
	uint32_t progress_ms;        /* at most one PROGRESS action per this interval */
	bool read_uid;               /* SDP sessions report the SoC UID */
};

/* Read-only outside port.c. */
struct port {
	char name[PORT_NAME_MAX];
	struct port_cfg cfg;
	enum port_state state;
	bool paused;                 /* station-wide pause, mirrored per port */
	bool held;                   /* the station holds new boards (HOLD) */
	bool waiting;                /* FASTBOOT: the session waits for the station (WAIT) */
	enum port_dev dev;           /* what is plugged in now */
	char serial[PORT_SERIAL_MAX];/* USB serial of the present/last device ("" = none) */
	bool gone;                   /* SDP/FASTBOOT: the device left, session draining */
	bool failing;                /* SDP/FASTBOOT: the session failed with an I/O error;
				      * a removal within gone_grace_ms makes it a disconnect */
	char pending[PORT_TEXT_MAX]; /* failing: the session's reason */
	uint64_t deadline_ms;        /* 0 = none */
	uint64_t activity_ms;        /* SDP/FASTBOOT: last step/progress (stall deadline) */
	uint64_t state_ms;           /* when the state was entered */

	/* the current (or last) board */
	uint64_t start_ms, end_ms;
	bool have_uid;
	uint64_t uid;
	size_t step_index;           /* PORT_STEP_NONE before the first step */
	char step[PORT_TEXT_MAX];
	uint64_t step_start_ms;
	uint64_t bytes, total;       /* current step */
	uint64_t bytes_done;         /* finished steps */
	uint64_t last_progress_ms;
	size_t next_step;            /* first FB step after SDP/SPL */
	bool spl_next;               /* WAIT_REENUM after the ROM: an SPL gadget may come */
	bool spl_required;           /* … and must: the ROM got an SPL */
	size_t spl_step;             /* its first SDPU/SDPV step */
	bool spl_ran;                /* the SPL stage ran (WAIT_REENUM after it) */
	enum port_result result;
	char failed_step[PORT_TEXT_MAX];
	char reason[PORT_TEXT_MAX];

	/* the board of the last DONE on this port (boot-loop detection) */
	bool have_done;
	uint64_t done_ms;
	bool done_have_uid;
	uint64_t done_uid;
	char done_serial[PORT_SERIAL_MAX];
};

void port_init(struct port *p, const char *name, const struct port_cfg *cfg);
void port_set_cfg(struct port *p, const struct port_cfg *cfg);
/* Returns the number of actions written to acts (≤ PORT_ACTIONS_MAX), or
 * -EINVAL for max < PORT_ACTIONS_MAX or a bad event; for operator events that
 * do not apply in the current state (abort of an idle port, retry of a
 * running one): -EBUSY, with the port unchanged. */
int port_handle(struct port *p, const struct port_event *ev, uint64_t now_ms,
		struct port_action *acts, size_t max);

/* Bytes of the current board: finished steps + the current one. */
uint64_t port_bytes(const struct port *p);
/* Bytes per second of the current step, 0 if unknown. */
uint64_t port_rate(const struct port *p, uint64_t now_ms);
bool port_is_busy(const struct port *p);   /* SDP, WAIT_REENUM, SPL or FASTBOOT */
/* DONE, FAILED or BOOT_LOOP: the board has its result (p->result), latched. */
bool port_state_is_final(enum port_state s);

const char *port_state_to_string(enum port_state s);   /* "empty", "wait-reenum", … */
int port_state_from_string(const char *s);              /* enum value or -EINVAL */
const char *port_dev_to_string(enum port_dev d);
const char *port_result_to_string(enum port_result r);  /* NULL for NONE; "ok", "failed", "boot-loop", "aborted" */
const char *port_event_type_to_string(enum port_event_type t);
const char *port_action_type_to_string(enum port_action_type t);

#endif
