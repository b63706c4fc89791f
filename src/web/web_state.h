/* web_state: flashd-web's model of the station, built from the control
 * socket's messages (flashd-control(7)): the watch stream's snapshot, port,
 * progress, result, durable, journal, plan and overflow events, the stats
 * and plans replies, history pages. Counters and histograms for /metrics,
 * the JSON for /api/status and the dashboard. No I/O: time is passed in. */
#ifndef FLASHD_WEB_STATE_H
#define FLASHD_WEB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Last results kept for the dashboard. */
#define WEB_STATE_RESULTS_MAX 20u
/* Boards of one day remembered to count a board seen both live and in
 * history once; past this, history records are counted without the check. */
#define WEB_STATE_TODAY_MAX 50000u

enum web_result {
	WEB_RESULT_OK,
	WEB_RESULT_FAILED,
	WEB_RESULT_BOOT_LOOP,
	WEB_RESULT_ABORTED,
	WEB_RESULT_COUNT
};

/* Step kinds of the step-duration histogram: the protocol's steps[].kind
 * ("sdp", "spl-sdp", "flash", "ucmd", "other"), the flash steps split into
 * download, flash and verify time, and the re-enumerations (reenum_ms). */
enum web_kind {
	WEB_KIND_SDP,
	WEB_KIND_SPL_SDP,
	WEB_KIND_REENUM,
	WEB_KIND_DOWNLOAD,
	WEB_KIND_FLASH,
	WEB_KIND_VERIFY,
	WEB_KIND_UCMD,
	WEB_KIND_OTHER,
	WEB_KIND_COUNT
};

#define WEB_HIST_BOUNDS_MAX 16u

/* A Prometheus histogram: counts[i] observations <= bounds[i] (not
 * cumulative here; the renderer sums), counts[nbounds] the rest. Seconds. */
struct web_hist {
	const double *bounds;
	size_t nbounds;
	uint64_t counts[WEB_HIST_BOUNDS_MAX + 1];
	double sum;
	uint64_t count;
};

void web_hist_observe(struct web_hist *h, double v);

struct web_counters {
	bool connected;
	uint64_t boards[WEB_RESULT_COUNT]; /* since the daemon started (stats, then results) */
	uint64_t written_bytes;
	uint64_t resyncs;                  /* snapshots taken after the first */
	bool journal_known;                /* the daemon keeps a journal */
	bool journal_writable;
	struct web_hist steps[WEB_KIND_COUNT];
	struct web_hist plug_to_sdp;
	struct web_hist journal_write;
};

/* Flags web_state_event returns. */
#define WEB_STATE_FORWARD 0x1u  /* pass the event on to the dashboards as it is */
#define WEB_STATE_SNAPSHOT 0x2u /* the state was replaced: send dashboards a snapshot and
				   ask stats, plans and today's history again */
#define WEB_STATE_SUMMARY 0x4u  /* the station summary changed (counters, results) */

struct web_state;

struct web_state *web_state_new(void);
struct web_state *web_state_free(struct web_state *st);

/* One watch-stream event (a message with "event"). Unknown events and
 * malformed ones are ignored (0). */
unsigned web_state_event(struct web_state *st, const json_t *ev, int64_t now_ms);
/* The stats reply: counters since the daemon started. */
void web_state_stats(struct web_state *st, const json_t *reply);
/* The plans reply: the loaded plans and their SHA-256, and the station's
 * plan ("default"). */
void web_state_plans(struct web_state *st, const json_t *reply);
/* Connected to flashd or not (a lost connection clears nothing: the page
 * shows the last state, marked as stale). */
void web_state_set_connected(struct web_state *st, bool connected, int64_t now_ms);
/* Start counting today's boards anew from midnight_ms (unix ms of local
 * midnight); then history pages (their records arrays) and live results
 * add to it, each board once. */
void web_state_today_begin(struct web_state *st, int64_t midnight_ms);
int64_t web_state_today_midnight(const struct web_state *st);
void web_state_history(struct web_state *st, const json_t *records);

const struct web_counters *web_state_counters(const struct web_state *st);
/* Port objects of the protocol, in the dashboard's order (natural by slot,
 * then port). Borrowed. */
const json_t *web_state_ports(const struct web_state *st);
/* [{"path","sha256","steps"}] from the last plans reply. Borrowed. */
const json_t *web_state_plans_loaded(const struct web_state *st);
/* New refs. status: the snapshot's shape plus "connected", "resynced_ms",
 * "resyncs" and "lost_ms"; snapshot: status plus "boards", "bytes", "today",
 * "results" and "plans" (the dashboard's whole state); summary: those five
 * and "plan". */
json_t *web_state_status(const struct web_state *st);
json_t *web_state_snapshot(const struct web_state *st);
json_t *web_state_summary(const struct web_state *st);

const char *web_result_to_string(enum web_result r);
/* Prometheus label value of a kind: "sdp", "spl_sdp", "reenum", … */
const char *web_kind_to_label(enum web_kind k);

#endif
