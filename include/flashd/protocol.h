/* protocol: names shared by flashd and its clients on the control socket.
 *
 * NDJSON over a Unix stream socket, one JSON object per line each way.
 * The full description, with an example of every message, is
 * flashd-control(7). */
#ifndef FLASHD_PROTOCOL_H
#define FLASHD_PROTOCOL_H

#define PROTOCOL_NAME "flashd"
#define PROTOCOL_VERSION 1

/* Where flashctl looks for the socket unless --socket or $FLASHD_SOCKET say otherwise. */
#define PROTOCOL_SOCKET_DEFAULT "/run/flashd/flashd.sock"
#define PROTOCOL_SOCKET_ENV "FLASHD_SOCKET"

/* Longest request line the server accepts (bytes, newline included); a
 * longer line gets an error and the connection is closed. */
#define PROTOCOL_LINE_MAX (64u * 1024u)
/* Longest string id echoed back. */
#define PROTOCOL_ID_MAX 128u
/* Argument bounds. */
#define PROTOCOL_PORT_MAX 64u         /* bytes in a port name */
#define PROTOCOL_PATH_MAX 4096u       /* bytes in a plan path */
#define PROTOCOL_PORTS_MAX 128u       /* ports in one `use` */
#define PROTOCOL_PLAN_ARGS_MAX 64u    /* plan arguments in one `use` */
#define PROTOCOL_HISTORY_DEFAULT 100  /* records when `limit` is absent */
#define PROTOCOL_HISTORY_MAX 10000    /* largest `limit` */
/* Bytes of records one history reply holds at most (beyond its first
 * record, which is always there): the rest is another page. */
#define PROTOCOL_HISTORY_BYTES_MAX (1u << 20)
/* Largest history cursor (`before`, `after`: journal line numbers). */
#define PROTOCOL_CURSOR_MAX ((1ull << 53) - 1)

/* Message keys. */
#define PROTOCOL_KEY_HELLO "hello"
#define PROTOCOL_KEY_VERSION "version"
#define PROTOCOL_KEY_PROTOCOL "protocol"
#define PROTOCOL_KEY_ID "id"
#define PROTOCOL_KEY_CMD "cmd"
#define PROTOCOL_KEY_OK "ok"
#define PROTOCOL_KEY_ERROR "error"
#define PROTOCOL_KEY_CODE "code"
#define PROTOCOL_KEY_MESSAGE "message"
#define PROTOCOL_KEY_EVENT "event"
#define PROTOCOL_KEY_SEQ "seq"
#define PROTOCOL_KEY_TS "ts"
#define PROTOCOL_KEY_DROPPED "dropped"
#define PROTOCOL_KEY_RECORDS "records"
#define PROTOCOL_KEY_OLDER "older"   /* history: cursor for `before`, null: no older record */
#define PROTOCOL_KEY_NEWER "newer"   /* history: cursor for `after` */

/* Payload keys (flashd-control(7)): the status reply and snapshot event
 * ({"paused","plan","loading","ports":[port…]}), port objects, progress
 * events, journal records (history, "result" events) and their images,
 * the stats reply. Written by ctlproto_payload.c and stats.c, read by
 * flashctl and the journal's filter: one spelling of each. */
#define PROTOCOL_KEY_PORTS "ports"
#define PROTOCOL_KEY_PAUSED "paused"
#define PROTOCOL_KEY_PLAN "plan"
#define PROTOCOL_KEY_LOADING "loading"
#define PROTOCOL_KEY_PORT "port"
#define PROTOCOL_KEY_STATE "state"
#define PROTOCOL_KEY_DEVICE "device"
#define PROTOCOL_KEY_STEP "step"
#define PROTOCOL_KEY_STEP_INDEX "step_index"
#define PROTOCOL_KEY_STEPS "steps"
#define PROTOCOL_KEY_REGIONS "regions"
/* timings of a record (flashd-control(7) RECORD): ms from the boot ROM
 * device's arrival to the first SDP step, or null; one entry per
 * re-enumeration; per step its kind and, for a flash step, the time in
 * downloads, in flash commands and in the read-back */
#define PROTOCOL_KEY_PLUG_TO_SDP_MS "plug_to_sdp_ms"
#define PROTOCOL_KEY_REENUM_MS "reenum_ms"
#define PROTOCOL_KEY_KIND "kind"
#define PROTOCOL_KEY_DOWNLOAD_MS "download_ms"
#define PROTOCOL_KEY_FLASH_MS "flash_ms"
#define PROTOCOL_KEY_VERIFY_MS "verify_ms"
#define PROTOCOL_KEY_BYTES "bytes"
#define PROTOCOL_KEY_TOTAL "total"
#define PROTOCOL_KEY_BOARD_BYTES "board_bytes"
#define PROTOCOL_KEY_RATE "rate"
#define PROTOCOL_KEY_UID "uid"
#define PROTOCOL_KEY_SERIAL "serial"
#define PROTOCOL_KEY_ELAPSED_MS "elapsed_ms"
#define PROTOCOL_KEY_RESULT "result"
#define PROTOCOL_KEY_FAILED_STEP "failed_step"
#define PROTOCOL_KEY_REASON "reason"
#define PROTOCOL_KEY_PLAN_SHA256 "plan_sha256"
#define PROTOCOL_KEY_IMAGES "images"
#define PROTOCOL_KEY_START_MS "start_ms"
#define PROTOCOL_KEY_END_MS "end_ms"
#define PROTOCOL_KEY_PATH "path"
#define PROTOCOL_KEY_SHA256 "sha256"
#define PROTOCOL_KEY_COMPRESSION "compression"
#define PROTOCOL_KEY_SOURCE_SHA256 "source_sha256"
#define PROTOCOL_KEY_UPTIME_MS "uptime_ms"
#define PROTOCOL_KEY_PROCESS "process"      /* stats: the daemon's own resources */
#define PROTOCOL_KEY_RSS_KIB "rss_kib"
#define PROTOCOL_KEY_FDS "fds"
/* pools (flashd-control(7) POOL): status "pools", the "pools" request's
 * reply, "pool" events; a record's "values": {"POOL": ["value", …]} */
#define PROTOCOL_KEY_POOLS "pools"
#define PROTOCOL_KEY_POOL "pool"
#define PROTOCOL_KEY_NAME "name"
#define PROTOCOL_KEY_BACKEND "backend"
#define PROTOCOL_KEY_BLOCKS "blocks"
#define PROTOCOL_KEY_BOUND "bound"
#define PROTOCOL_KEY_LEFT "left"
#define PROTOCOL_KEY_LOW "low"
#define PROTOCOL_KEY_VALUES "values"
#define PROTOCOL_KEY_LOOP_EVENTS "loop_events"
#define PROTOCOL_KEY_BUSY "busy"
#define PROTOCOL_KEY_BOARDS "boards"
#define PROTOCOL_KEY_COUNT "count"
#define PROTOCOL_KEY_TOTAL_MS "total_ms"
#define PROTOCOL_KEY_AVG_MS "avg_ms"
#define PROTOCOL_KEY_MIN_MS "min_ms"
#define PROTOCOL_KEY_MAX_MS "max_ms"
/* slots (flashd.conf "slot NAME = PORT"): "slot" beside "port" in port
 * objects, progress events and records; "ignored" and "yield" in port
 * objects; "slots":[{"slot","port",yield…}] in the stats reply. A yield:
 * {"ok","failed","failures_in_row","last_reason","alert"} */
#define PROTOCOL_KEY_SLOT "slot"
#define PROTOCOL_KEY_SLOTS "slots"
#define PROTOCOL_KEY_IGNORED "ignored"
#define PROTOCOL_KEY_YIELD "yield"
#define PROTOCOL_KEY_FAILURES_IN_ROW "failures_in_row"
#define PROTOCOL_KEY_LAST_REASON "last_reason"
#define PROTOCOL_KEY_ALERT "alert"
/* the plans reply {"default","ports":{port: path},"loaded":[{"path","sha256","steps"}]}
 * and the loading object {"kind","path","file","bytes","total","queued"} */
#define PROTOCOL_KEY_DEFAULT "default"
#define PROTOCOL_KEY_LOADED "loaded"
#define PROTOCOL_KEY_KIND "kind"
#define PROTOCOL_KEY_FILE "file"
#define PROTOCOL_KEY_QUEUED "queued"
/* the journal's state (status reply and snapshot "journal", the "journal"
 * event): {"path","writable","reason","since_ms","retry_ms","backlog",
 * "backlog_bytes","backlog_max","backlog_full"}; and "durable" on "result"
 * events (false: the record waits in the backlog; a "durable" event with
 * the same record follows once it is in the journal) */
#define PROTOCOL_KEY_JOURNAL "journal"
#define PROTOCOL_KEY_DURABLE "durable"
/* "result" events: ms the journal append + fdatasync took; null when the
 * record went to the backlog (absent without a journal) */
#define PROTOCOL_KEY_JOURNAL_MS "journal_ms"
#define PROTOCOL_KEY_WRITABLE "writable"
#define PROTOCOL_KEY_SINCE_MS "since_ms"
#define PROTOCOL_KEY_RETRY_MS "retry_ms"
#define PROTOCOL_KEY_BACKLOG "backlog"
#define PROTOCOL_KEY_BACKLOG_BYTES "backlog_bytes"
#define PROTOCOL_KEY_BACKLOG_MAX "backlog_max"
#define PROTOCOL_KEY_BACKLOG_FULL "backlog_full"

/* Request argument names. */
#define PROTOCOL_ARG_PORT "port"
#define PROTOCOL_ARG_PORTS "ports"
#define PROTOCOL_ARG_PLAN "plan"
#define PROTOCOL_ARG_ARGS "args"
#define PROTOCOL_ARG_SINCE "since"
#define PROTOCOL_ARG_RESULT "result"
#define PROTOCOL_ARG_LIMIT "limit"
#define PROTOCOL_ARG_BEFORE "before"
#define PROTOCOL_ARG_AFTER "after"

/* Event types. */
#define PROTOCOL_EVENT_PORT "port"
#define PROTOCOL_EVENT_PROGRESS "progress"
#define PROTOCOL_EVENT_LOG "log"
#define PROTOCOL_EVENT_RESULT "result"
#define PROTOCOL_EVENT_SNAPSHOT "snapshot"
#define PROTOCOL_EVENT_OVERFLOW "overflow"
#define PROTOCOL_EVENT_PLAN "plan"          /* a `use`/reload load: {"loading": … | null} */
#define PROTOCOL_EVENT_JOURNAL "journal"    /* the journal's state changed: {"journal": …} */
#define PROTOCOL_EVENT_PAUSE "pause"        /* the operator paused or resumed: {"paused": bool} */
#define PROTOCOL_EVENT_DURABLE "durable"    /* a backlogged record is in the journal now */
#define PROTOCOL_EVENT_POOL "pool"          /* a pool's state or use changed: {"pool": POOL} */

/* Journal results (the `result` key of a record, the `result` filter). */
#define PROTOCOL_RESULT_OK "ok"
#define PROTOCOL_RESULT_FAILED "failed"
#define PROTOCOL_RESULT_BOOT_LOOP "boot-loop"
#define PROTOCOL_RESULT_ABORTED "aborted"

/* Error codes (error.code of a failed reply). */
#define PROTOCOL_ERR_BAD_JSON "bad-json"                   /* line is not a JSON object */
#define PROTOCOL_ERR_BAD_REQUEST "bad-request"             /* cmd missing or not a string, bad id */
#define PROTOCOL_ERR_UNKNOWN_COMMAND "unknown-command"
#define PROTOCOL_ERR_BAD_ARGUMENT "bad-argument"           /* missing, bad type, out of range */
#define PROTOCOL_ERR_PERMISSION_DENIED "permission-denied" /* mutating command, not admin */
#define PROTOCOL_ERR_LINE_TOO_LONG "line-too-long"         /* connection is closed after it */
#define PROTOCOL_ERR_TOO_MANY_CLIENTS "too-many-clients"   /* connection is closed after it */
#define PROTOCOL_ERR_NOT_FOUND "not-found"                 /* no such port or plan */
#define PROTOCOL_ERR_BUSY "busy"                           /* not possible in the port's state */
#define PROTOCOL_ERR_INVALID "invalid"                     /* e.g. a plan that does not load */
#define PROTOCOL_ERR_UNAVAILABLE "unavailable"             /* e.g. no journal configured */
#define PROTOCOL_ERR_FAILED "failed"                       /* any other failure */
#define PROTOCOL_ERR_INTERNAL "internal"                   /* out of memory and such */

#endif
