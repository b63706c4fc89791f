/* ctlproto: control protocol messages, sans I/O.
 *
 * The command table (names, flags, argument schema) that both the server
 * (src/daemon/control.c) and flashctl use; parsing and validation of one
 * request line; construction and encoding of hello, replies and events.
 * Names and error codes are in <flashd/protocol.h>; the protocol is described
 * in flashd-control(7). */
#ifndef FLASHD_CTLPROTO_H
#define FLASHD_CTLPROTO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "flashd/protocol.h"

enum ctlproto_cmd {
	CTLPROTO_CMD_STATUS,
	CTLPROTO_CMD_WATCH,
	CTLPROTO_CMD_HISTORY,
	CTLPROTO_CMD_PLANS,
	CTLPROTO_CMD_USE,
	CTLPROTO_CMD_PAUSE,
	CTLPROTO_CMD_RESUME,
	CTLPROTO_CMD_ABORT,
	CTLPROTO_CMD_RETRY,
	CTLPROTO_CMD_RELOAD,
	CTLPROTO_CMD_STATS,
	CTLPROTO_CMD_POOLS,
	CTLPROTO_CMD_COUNT
};

enum ctlproto_arg_type {
	CTLPROTO_ARG_STRING,  /* 1..max bytes, no control characters, optionally one of choices */
	CTLPROTO_ARG_STRINGS, /* array of 0..max strings of 1..elem_max bytes */
	CTLPROTO_ARG_COUNT,   /* integer 1..max */
	CTLPROTO_ARG_TIME,    /* integer >= 0: unix time in milliseconds */
	CTLPROTO_ARG_CURSOR,  /* integer 0..max: a position (history: a journal line number) */
};

#define CTLPROTO_ARG_REQUIRED 0x1u   /* absent or null: bad-argument */
#define CTLPROTO_ARG_POSITIONAL 0x2u /* flashctl takes it without --name, in table order */

struct ctlproto_arg {
	const char *name;
	enum ctlproto_arg_type type;
	unsigned flags;
	size_t max;
	size_t elem_max;
	const char *const *choices; /* NULL-terminated, or NULL */
	const char *meta;           /* placeholder in usage text: PORT, PLAN, TIME, N, LINE */
};

#define CTLPROTO_MUTATING 0x1u /* needs uid 0 or the admin group */
#define CTLPROTO_STREAM 0x2u   /* the connection becomes an event stream */

struct ctlproto_command {
	const char *name;
	enum ctlproto_cmd cmd;
	unsigned flags;
	const char *summary;
	const struct ctlproto_arg *args;
	size_t nargs;
};

/* Indexed by enum ctlproto_cmd. */
extern const struct ctlproto_command ctlproto_commands[CTLPROTO_CMD_COUNT];

/* NULL when there is no such command. */
const struct ctlproto_command *ctlproto_command_lookup(const char *name);
const char *ctlproto_cmd_to_string(enum ctlproto_cmd cmd);
/* "history [--port PORT] [--since TIME] …": snprintf semantics (returns the
 * length it needed, or -EINVAL). */
int ctlproto_command_usage(const struct ctlproto_command *c, char *buf, size_t len);
/* Result values accepted by the `result` filter (NULL-terminated). */
extern const char *const ctlproto_results[];

/* A validated request. */
struct ctlproto_request {
	const struct ctlproto_command *command;
	json_t *id;  /* new ref to an integer or string, or NULL when absent */
	json_t *msg; /* new ref to the request object */
};

/* Parse one request line (without its newline; a trailing "\r" is allowed).
 * 0: *req filled (release with ctlproto_request_clear).  <0: -EBADMSG (not a
 * JSON object), -EPROTO (bad id or cmd), -ENOENT (unknown command), -EINVAL
 * (bad argument); then *error_reply is a new error reply carrying the id when
 * one could be read, and *req is untouched. */
int ctlproto_request_parse(const char *line, size_t len, struct ctlproto_request *req,
			   json_t **error_reply);
void ctlproto_request_clear(struct ctlproto_request *req);
/* Typed access to validated arguments: borrowed; NULL / false / 0 when absent. */
const char *ctlproto_request_string(const struct ctlproto_request *req, const char *name);
bool ctlproto_request_int(const struct ctlproto_request *req, const char *name, int64_t *v);
/* Fills at most max pointers (borrowed), returns how many the array holds. */
size_t ctlproto_request_strings(const struct ctlproto_request *req, const char *name,
				const char **v, size_t max);

/* Message construction: every function returns a new reference or NULL
 * (out of memory). "Steals" means the reference is consumed even on failure. */
json_t *ctlproto_hello_new(const char *version);
/* {"id":…,"ok":true, …fields}; fields (an object or NULL) is stolen; its
 * "id"/"ok" keys never override. id may be NULL (then no "id" key). */
json_t *ctlproto_reply_new(const json_t *id, json_t *fields);
json_t *ctlproto_reply_error_new(const json_t *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *ctlproto_reply_error_newv(const json_t *id, const char *code, const char *fmt,
				  va_list ap) __attribute__((format(printf, 3, 0)));
/* {"event":type,"seq":seq,"ts":ts_ms, …fields}; fields stolen. */
json_t *ctlproto_event_new(const char *type, uint64_t seq, int64_t ts_ms, json_t *fields);
/* Payload objects (ctlproto_payload.c). A NULL string is JSON null. */
struct ctlproto_port {
	const char *port, *state, *device;   /* never NULL */
	const char *step, *serial, *plan, *result;
	const char *failed_step, *reason;    /* failed boards; a board held by the journal: why */
	bool has_step_index;                 /* no step started yet: null */
	uint64_t step_index, steps, bytes, total, board_bytes, rate, elapsed_ms;
	bool has_uid;                        /* "%016llx", or null */
	uint64_t uid;
	bool paused;
	const char *slot;                    /* the port's slot name, or null */
	bool ignored;                        /* slots-only and no slot: never flashed */
	json_t *yield;                       /* the slot's yield (borrowed), NULL: null */
};
/* A port object: every key of struct ctlproto_port. New ref or NULL. */
json_t *ctlproto_port_new(const struct ctlproto_port *p);
/* The fields of a progress event: port, slot, step, step_index, bytes,
 * total, board_bytes, rate. */
json_t *ctlproto_progress_new(const struct ctlproto_port *p);
struct ctlproto_image {
	const char *path, *sha256, *compression, *source_sha256;
};
struct ctlproto_record {
	const char *port, *slot, *serial, *plan, *plan_sha256;  /* slot: NULL = none */
	const char *result;                  /* never NULL */
	const char *failed_step, *reason;    /* NULL for an ok board */
	bool has_uid;
	uint64_t uid;
	int64_t start_ms, end_ms;            /* unix ms */
	uint64_t bytes;
	const struct ctlproto_image *images;
	size_t nimages;
	json_t *steps;                       /* borrowed (a ref is taken); NULL: [] */
	json_t *regions;                     /* flash steps' regions (borrowed); NULL: [] */
	bool has_plug_to_sdp;
	uint64_t plug_to_sdp_ms;             /* ROM device added -> first SDP step */
	json_t *reenum_ms;                   /* ms of each re-enumeration (borrowed); NULL: [] */
	json_t *values;                      /* pool values {"POOL": [...]} (borrowed); NULL: {} */
};
/* A journal record (history, "result" events). New ref or NULL. */
json_t *ctlproto_record_new(const struct ctlproto_record *r);
/* A copy of record (its values shared) with "durable": durable, for the
 * "result" and "durable" events. New ref or NULL. */
json_t *ctlproto_record_durable(const json_t *record, bool durable);
/* The journal's state. */
struct ctlproto_journal {
	const char *path;
	bool writable;                       /* the last append (or retry) worked */
	const char *reason;                  /* why not: NULL when writable */
	bool has_since;
	int64_t since_ms;                    /* unix ms of the first failure; null when writable */
	bool has_retry;
	uint64_t retry_ms;                   /* next try in; null when none is due */
	uint64_t backlog, backlog_bytes, backlog_max;
	bool backlog_full;
};
json_t *ctlproto_journal_new(const struct ctlproto_journal *j);

/* Error code for a backend's -errno. */
const char *ctlproto_errno_to_code(int err);

/* One compact line with its "\n" (and a NUL after it, not counted in *len),
 * malloc'd. -ENOMEM, -EINVAL (not encodable). */
int ctlproto_encode(const json_t *msg, char **out, size_t *len);

/* Client side. */
enum ctlproto_kind {
	CTLPROTO_KIND_INVALID,
	CTLPROTO_KIND_HELLO,
	CTLPROTO_KIND_REPLY,
	CTLPROTO_KIND_EVENT,
};
enum ctlproto_kind ctlproto_classify(const json_t *msg);
/* {"id":id,"cmd":name}; arguments are added by the caller. */
json_t *ctlproto_request_new(json_int_t id, const struct ctlproto_command *c);
/* 0: a hello of our protocol; -EPROTO: not a hello; -EPROTONOSUPPORT: other version. */
int ctlproto_hello_check(const json_t *msg);
/* For a reply: 1 ok, 0 error (code/message set, borrowed), -EPROTO malformed. */
int ctlproto_reply_status(const json_t *msg, const char **code, const char **message);

#endif
