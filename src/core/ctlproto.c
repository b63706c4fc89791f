/* ctlproto: control protocol messages, sans I/O (see ctlproto.h). */
#include "flashd/ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

const char *const ctlproto_results[] = {
	PROTOCOL_RESULT_OK, PROTOCOL_RESULT_FAILED, PROTOCOL_RESULT_BOOT_LOOP,
	PROTOCOL_RESULT_ABORTED, NULL,
};

#define ARG_PORT(f)                                                                           \
	{ .name = PROTOCOL_ARG_PORT, .type = CTLPROTO_ARG_STRING, .flags = (f),               \
	  .max = PROTOCOL_PORT_MAX, .meta = "PORT" }

static const struct ctlproto_arg ctlproto_args_history[] = {
	ARG_PORT(0),
	{ .name = PROTOCOL_ARG_SINCE, .type = CTLPROTO_ARG_TIME, .meta = "TIME" },
	{ .name = PROTOCOL_ARG_RESULT, .type = CTLPROTO_ARG_STRING, .max = 16,
	  .choices = ctlproto_results, .meta = "RESULT" },
	{ .name = PROTOCOL_ARG_LIMIT, .type = CTLPROTO_ARG_COUNT, .max = PROTOCOL_HISTORY_MAX,
	  .meta = "N" },
	/* (size_t): SIZE_MAX on a 32-bit host, where no journal has more lines */
	{ .name = PROTOCOL_ARG_BEFORE, .type = CTLPROTO_ARG_CURSOR,
	  .max = (size_t)PROTOCOL_CURSOR_MAX, .meta = "LINE" },
	{ .name = PROTOCOL_ARG_AFTER, .type = CTLPROTO_ARG_CURSOR,
	  .max = (size_t)PROTOCOL_CURSOR_MAX, .meta = "LINE" },
};

static const struct ctlproto_arg ctlproto_args_use[] = {
	{ .name = PROTOCOL_ARG_PLAN, .type = CTLPROTO_ARG_STRING,
	  .flags = CTLPROTO_ARG_REQUIRED | CTLPROTO_ARG_POSITIONAL, .max = PROTOCOL_PATH_MAX,
	  .meta = "PLAN" },
	{ .name = PROTOCOL_ARG_ARGS, .type = CTLPROTO_ARG_STRINGS, .max = PROTOCOL_PLAN_ARGS_MAX,
	  .elem_max = PROTOCOL_PATH_MAX, .meta = "ARG" },
	{ .name = PROTOCOL_ARG_PORTS, .type = CTLPROTO_ARG_STRINGS, .flags = CTLPROTO_ARG_POSITIONAL,
	  .max = PROTOCOL_PORTS_MAX, .elem_max = PROTOCOL_PORT_MAX, .meta = "PORT" },
};

static const struct ctlproto_arg ctlproto_args_port[] = {
	ARG_PORT(CTLPROTO_ARG_REQUIRED | CTLPROTO_ARG_POSITIONAL),
};

#define ARGS(a) .args = (a), .nargs = ELEMENTSOF(a)

#define COMMAND(id, n, f, text, ...)                                                          \
	[id] = { .name = (n), .cmd = (id), .flags = (f), .summary = (text), __VA_ARGS__ }

const struct ctlproto_command ctlproto_commands[CTLPROTO_CMD_COUNT] = {
	COMMAND(CTLPROTO_CMD_STATUS, "status", 0,
		"show every port: state, step, progress, rate, board"),
	COMMAND(CTLPROTO_CMD_WATCH, "watch", CTLPROTO_STREAM,
		"follow port changes, progress, logs and results live"),
	COMMAND(CTLPROTO_CMD_HISTORY, "history", 0,
		"show finished boards from the results journal",
		ARGS(ctlproto_args_history)),
	COMMAND(CTLPROTO_CMD_PLANS, "plans", 0,
		"show the default plan, per-port plans and loaded plans"),
	COMMAND(CTLPROTO_CMD_USE, "use", CTLPROTO_MUTATING,
		"flash new boards with PLAN, on the station or on the ports given",
		ARGS(ctlproto_args_use)),
	COMMAND(CTLPROTO_CMD_PAUSE, "pause", CTLPROTO_MUTATING,
		"start no new board (running boards finish)"),
	COMMAND(CTLPROTO_CMD_RESUME, "resume", CTLPROTO_MUTATING, "start new boards again"),
	COMMAND(CTLPROTO_CMD_ABORT, "abort", CTLPROTO_MUTATING,
		"stop the board on PORT now (result: aborted)",
		ARGS(ctlproto_args_port)),
	COMMAND(CTLPROTO_CMD_RETRY, "retry", CTLPROTO_MUTATING,
		"flash the board on PORT again after a failure or boot loop",
		ARGS(ctlproto_args_port)),
	COMMAND(CTLPROTO_CMD_RELOAD, "reload", CTLPROTO_MUTATING,
		"re-read flashd.conf and the plans (like SIGHUP)"),
	COMMAND(CTLPROTO_CMD_POOLS, "pools", 0,
		"show each pool of serials, MACs and list values: use, what is left, state"),
	COMMAND(CTLPROTO_CMD_STATS, "stats", 0,
		"show counters: boards done and failed, bytes, step durations"),
};

const struct ctlproto_command *ctlproto_command_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < CTLPROTO_CMD_COUNT; i++)
		if (strcmp(ctlproto_commands[i].name, name) == 0)
			return &ctlproto_commands[i];
	return NULL;
}

const char *ctlproto_cmd_to_string(enum ctlproto_cmd cmd)
{
	if ((unsigned)cmd >= CTLPROTO_CMD_COUNT)
		return NULL;
	return ctlproto_commands[cmd].name;
}

static int usage_arg(const struct ctlproto_arg *a, char *buf, size_t len)
{
	bool req = a->flags & CTLPROTO_ARG_REQUIRED;
	const char *dots = a->type == CTLPROTO_ARG_STRINGS ? "..." : "";

	if (a->flags & CTLPROTO_ARG_POSITIONAL)
		return snprintf(buf, len, req ? " %s%s" : " [%s%s]", a->meta, dots);
	return snprintf(buf, len, req ? " --%s %s%s" : " [--%s %s%s]", a->name, a->meta, dots);
}

int ctlproto_command_usage(const struct ctlproto_command *c, char *buf, size_t len)
{
	char scratch[1];

	if (!c || (!buf && len))
		return -EINVAL;
	if (!buf)
		buf = scratch; /* len is 0: nothing is written, the length is counted */
	size_t need = (size_t)snprintf(buf, len, "%s", c->name);
	/* options first, then positionals, as people type them */
	for (int pos = 0; pos < 2; pos++) {
		for (size_t i = 0; i < c->nargs; i++) {
			const struct ctlproto_arg *a = &c->args[i];
			if (!!(a->flags & CTLPROTO_ARG_POSITIONAL) != pos)
				continue;
			size_t at = need < len ? need : len;
			need += (size_t)usage_arg(a, buf + at, len - at);
		}
	}
	return (int)need;
}

/* ---- parsing ---- */

static bool string_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool string_ok(const json_t *v, size_t max)
{
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	return n > 0 && n <= max && strlen(s) == n && string_clean(s, n);
}

static bool choice_ok(const char *const *choices, const char *s)
{
	if (!choices)
		return true;
	for (; *choices; choices++)
		if (strcmp(*choices, s) == 0)
			return true;
	return false;
}

/* true when v fits a; else why not in text. */
static bool arg_check(const struct ctlproto_arg *a, const json_t *v, char *text, size_t len)
{
	switch (a->type) {
	case CTLPROTO_ARG_STRING:
		if (!string_ok(v, a->max)) {
			snprintf(text, len, "must be a non-empty string of at most %zu bytes "
				 "without control characters", a->max);
			return false;
		}
		if (!choice_ok(a->choices, json_string_value(v))) {
			snprintf(text, len, "has a value that is not allowed");
			return false;
		}
		return true;
	case CTLPROTO_ARG_STRINGS: {
		size_t i;
		json_t *e;
		if (!json_is_array(v) || json_array_size(v) > a->max) {
			snprintf(text, len, "must be an array of at most %zu strings", a->max);
			return false;
		}
		json_array_foreach(v, i, e) {
			if (!string_ok(e, a->elem_max)) {
				snprintf(text, len, "must hold non-empty strings of at most %zu "
					 "bytes without control characters", a->elem_max);
				return false;
			}
		}
		return true;
	}
	case CTLPROTO_ARG_COUNT:
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    (uint64_t)json_integer_value(v) > a->max) {
			snprintf(text, len, "must be an integer from 1 to %zu", a->max);
			return false;
		}
		return true;
	case CTLPROTO_ARG_TIME:
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(text, len, "must be a non-negative integer (unix time in ms)");
			return false;
		}
		return true;
	case CTLPROTO_ARG_CURSOR:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (uint64_t)json_integer_value(v) > a->max) {
			snprintf(text, len, "must be an integer from 0 to %zu", a->max);
			return false;
		}
		return true;
	}
	snprintf(text, len, "has an unknown type");
	return false;
}

static int args_check(const struct ctlproto_command *c, const json_t *msg, const json_t *id,
		      json_t **error_reply)
{
	for (size_t i = 0; i < c->nargs; i++) {
		const struct ctlproto_arg *a = &c->args[i];
		const json_t *v = json_object_get(msg, a->name);
		char text[128];

		if (!v || json_is_null(v)) {
			if (!(a->flags & CTLPROTO_ARG_REQUIRED))
				continue;
			*error_reply = ctlproto_reply_error_new(id, PROTOCOL_ERR_BAD_ARGUMENT,
								"%s: missing argument \"%s\"",
								c->name, a->name);
			return -EINVAL;
		}
		if (arg_check(a, v, text, sizeof(text)))
			continue;
		*error_reply = ctlproto_reply_error_new(id, PROTOCOL_ERR_BAD_ARGUMENT,
							"%s: argument \"%s\" %s", c->name,
							a->name, text);
		return -EINVAL;
	}
	return 0;
}

static bool id_ok(const json_t *id)
{
	if (json_is_integer(id))
		return true;
	return json_is_string(id) && json_string_length(id) <= PROTOCOL_ID_MAX &&
	       strlen(json_string_value(id)) == json_string_length(id);
}

static int request_head(const json_t *msg, json_t **id_out, const struct ctlproto_command **c,
			json_t **error_reply)
{
	json_t *id = json_object_get(msg, PROTOCOL_KEY_ID);
	const json_t *cmd = json_object_get(msg, PROTOCOL_KEY_CMD);

	if (json_is_null(id))
		id = NULL;
	if (id && !id_ok(id)) {
		*error_reply = ctlproto_reply_error_new(NULL, PROTOCOL_ERR_BAD_REQUEST,
							"\"id\" must be an integer or a string of at most %u bytes",
							PROTOCOL_ID_MAX);
		return -EPROTO;
	}
	if (!json_is_string(cmd)) {
		*error_reply = ctlproto_reply_error_new(id, PROTOCOL_ERR_BAD_REQUEST,
							cmd ? "\"cmd\" must be a string"
							    : "missing \"cmd\"");
		return -EPROTO;
	}
	*c = ctlproto_command_lookup(json_string_value(cmd));
	if (!*c) {
		char name[40];
		const char *s = json_string_value(cmd);
		/* quote a bounded, printable prefix of what was asked */
		size_t n = strnlen(s, sizeof(name) - 1);
		memcpy(name, s, n);
		name[n] = 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '"')
				name[i] = '?';
		*error_reply = ctlproto_reply_error_new(id, PROTOCOL_ERR_UNKNOWN_COMMAND,
							"unknown command \"%s%s\"", name,
							s[n] ? "..." : "");
		return -ENOENT;
	}
	*id_out = id;
	return 0;
}

int ctlproto_request_parse(const char *line, size_t len, struct ctlproto_request *req,
			   json_t **error_reply)
{
	const struct ctlproto_command *c = NULL;
	json_t *msg, *id = NULL;
	json_error_t jerr;
	int r;

	if (len && line[len - 1] == '\r')
		len--;
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(msg)) {
		*error_reply = ctlproto_reply_error_new(
			NULL, PROTOCOL_ERR_BAD_JSON, "%s",
			msg ? "a request must be a JSON object" : jerr.text);
		json_decref(msg);
		return -EBADMSG;
	}
	r = request_head(msg, &id, &c, error_reply);
	if (r == 0)
		r = args_check(c, msg, id, error_reply);
	if (r < 0) {
		json_decref(msg);
		return r;
	}
	req->command = c;
	req->id = json_incref(id);
	req->msg = msg;
	return 0;
}

void ctlproto_request_clear(struct ctlproto_request *req)
{
	if (!req)
		return;
	json_decref(req->id);
	json_decref(req->msg);
	req->id = req->msg = NULL;
	req->command = NULL;
}

const char *ctlproto_request_string(const struct ctlproto_request *req, const char *name)
{
	return json_string_value(json_object_get(req->msg, name));
}

bool ctlproto_request_int(const struct ctlproto_request *req, const char *name, int64_t *v)
{
	const json_t *j = json_object_get(req->msg, name);
	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

size_t ctlproto_request_strings(const struct ctlproto_request *req, const char *name,
				const char **v, size_t max)
{
	const json_t *a = json_object_get(req->msg, name);
	size_t n = json_array_size(a);
	for (size_t i = 0; i < n && i < max; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return n;
}

/* ---- construction and encoding ---- */

json_t *ctlproto_hello_new(const char *version)
{
	return json_pack("{s:s, s:s, s:i}", PROTOCOL_KEY_HELLO, PROTOCOL_NAME,
			 PROTOCOL_KEY_VERSION, version ? version : "", PROTOCOL_KEY_PROTOCOL,
			 PROTOCOL_VERSION);
}

/* Adds the stolen fields under the keys already there. */
static json_t *merge(json_t *msg, json_t *fields)
{
	if (fields && (!json_is_object(fields) || json_object_update_missing(msg, fields) < 0)) {
		json_decref(msg);
		msg = NULL;
	}
	json_decref(fields);
	return msg;
}

static json_t *reply_head(const json_t *id, bool ok)
{
	json_t *msg = json_object();
	if (!msg)
		return NULL;
	if ((id && json_object_set_new(msg, PROTOCOL_KEY_ID, json_deep_copy(id)) < 0) ||
	    json_object_set_new(msg, PROTOCOL_KEY_OK, json_boolean(ok)) < 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

json_t *ctlproto_reply_new(const json_t *id, json_t *fields)
{
	json_t *msg = reply_head(id, true);
	if (!msg) {
		json_decref(fields);
		return NULL;
	}
	return merge(msg, fields);
}

/* The text as a JSON string; not UTF-8 (a parser's quote of bad input, a
 * cut at the buffer's end): bytes outside printable ASCII become '?'. */
static json_t *message_string(char *text)
{
	json_t *s = json_string(text);
	if (s)
		return s;
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return json_string(text);
}

json_t *ctlproto_reply_error_newv(const json_t *id, const char *code, const char *fmt, va_list ap)
{
	char text[512];
	json_t *msg = reply_head(id, false);

	vsnprintf(text, sizeof(text), fmt, ap);
	if (msg && json_object_set_new(msg, PROTOCOL_KEY_ERROR,
				       json_pack("{s:s, s:o}", PROTOCOL_KEY_CODE, code,
						 PROTOCOL_KEY_MESSAGE, message_string(text))) < 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

json_t *ctlproto_reply_error_new(const json_t *id, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *msg = ctlproto_reply_error_newv(id, code, fmt, ap);
	va_end(ap);
	return msg;
}

json_t *ctlproto_event_new(const char *type, uint64_t seq, int64_t ts_ms, json_t *fields)
{
	json_t *msg = json_pack("{s:s, s:I, s:I}", PROTOCOL_KEY_EVENT, type ? type : "",
				PROTOCOL_KEY_SEQ, (json_int_t)seq, PROTOCOL_KEY_TS,
				(json_int_t)ts_ms);
	if (!msg) {
		json_decref(fields);
		return NULL;
	}
	return merge(msg, fields);
}

static const struct {
	int err;
	const char *code;
} ctlproto_errno_codes[] = {
	{ ENOENT, PROTOCOL_ERR_NOT_FOUND },	{ ENODEV, PROTOCOL_ERR_NOT_FOUND },
	{ EBUSY, PROTOCOL_ERR_BUSY },		{ EALREADY, PROTOCOL_ERR_BUSY },
	{ EAGAIN, PROTOCOL_ERR_BUSY },		{ EINVAL, PROTOCOL_ERR_INVALID },
	{ EBADMSG, PROTOCOL_ERR_INVALID },	{ ENOEXEC, PROTOCOL_ERR_INVALID },
	{ EPERM, PROTOCOL_ERR_PERMISSION_DENIED }, { ENOTSUP, PROTOCOL_ERR_UNAVAILABLE },
	{ ENOMEM, PROTOCOL_ERR_INTERNAL },
};

const char *ctlproto_errno_to_code(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ELEMENTSOF(ctlproto_errno_codes); i++)
		if (ctlproto_errno_codes[i].err == err)
			return ctlproto_errno_codes[i].code;
	return PROTOCOL_ERR_FAILED;
}

int ctlproto_encode(const json_t *msg, char **out, size_t *len)
{
	if (!msg)
		return -EINVAL;
	size_t n = json_dumpb(msg, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0)
		return -EINVAL;
	char *buf = malloc(n + 2);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(msg, buf, n, JSON_COMPACT | JSON_PRESERVE_ORDER) != n) {
		free(buf);
		return -EINVAL;
	}
	buf[n] = '\n';
	buf[n + 1] = 0;
	*out = buf;
	*len = n + 1;
	return 0;
}

/* ---- client side ---- */

enum ctlproto_kind ctlproto_classify(const json_t *msg)
{
	if (!json_is_object(msg))
		return CTLPROTO_KIND_INVALID;
	if (json_is_string(json_object_get(msg, PROTOCOL_KEY_HELLO)))
		return CTLPROTO_KIND_HELLO;
	if (json_is_boolean(json_object_get(msg, PROTOCOL_KEY_OK)))
		return CTLPROTO_KIND_REPLY;
	if (json_is_string(json_object_get(msg, PROTOCOL_KEY_EVENT)))
		return CTLPROTO_KIND_EVENT;
	return CTLPROTO_KIND_INVALID;
}

json_t *ctlproto_request_new(json_int_t id, const struct ctlproto_command *c)
{
	if (!c)
		return NULL;
	return json_pack("{s:I, s:s}", PROTOCOL_KEY_ID, id, PROTOCOL_KEY_CMD, c->name);
}

int ctlproto_hello_check(const json_t *msg)
{
	const json_t *p = json_object_get(msg, PROTOCOL_KEY_PROTOCOL);
	const char *name = json_string_value(json_object_get(msg, PROTOCOL_KEY_HELLO));

	if (!name || strcmp(name, PROTOCOL_NAME) != 0 || !json_is_integer(p))
		return -EPROTO;
	if (json_integer_value(p) != PROTOCOL_VERSION)
		return -EPROTONOSUPPORT;
	return 0;
}

int ctlproto_reply_status(const json_t *msg, const char **code, const char **message)
{
	const json_t *ok = json_object_get(msg, PROTOCOL_KEY_OK);
	const json_t *err = json_object_get(msg, PROTOCOL_KEY_ERROR);

	if (!json_is_boolean(ok))
		return -EPROTO;
	if (json_is_true(ok))
		return 1;
	const char *c = json_string_value(json_object_get(err, PROTOCOL_KEY_CODE));
	if (!c)
		return -EPROTO;
	*code = c;
	*message = json_string_value(json_object_get(err, PROTOCOL_KEY_MESSAGE));
	if (!*message)
		*message = "";
	return 0;
}
