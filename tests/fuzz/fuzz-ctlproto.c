/* fuzz-ctlproto: one control request line through the server's parser, and
 * every reply it makes through the encoder and the client's classifiers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flashd/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const json_t *msg)
{
	char *line;
	size_t len;
	if (ctlproto_encode(msg, &line, &len) < 0)
		abort();
	/* one line: exactly one newline, at the end */
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlproto_request req;
	json_t *reply = NULL;
	const char *code, *message;

	if (size > PROTOCOL_LINE_MAX)
		return 0;
	int r = ctlproto_request_parse((const char *)data, size, &req, &reply);
	if (r == 0) {
		const char *v[PROTOCOL_PORTS_MAX];
		int64_t n;
		if (!req.command || reply)
			abort();
		for (size_t i = 0; i < req.command->nargs; i++) {
			const struct ctlproto_arg *a = &req.command->args[i];
			const char *s = ctlproto_request_string(&req, a->name);
			if (s && strlen(s) > a->max)
				abort();
			if (ctlproto_request_int(&req, a->name, &n) && n < 0)
				abort();
			if (ctlproto_request_strings(&req, a->name, v, PROTOCOL_PORTS_MAX) > a->max &&
			    a->type == CTLPROTO_ARG_STRINGS)
				abort();
		}
		reply = ctlproto_reply_new(req.id, json_pack("{s:s}", "cmd", req.command->name));
		ctlproto_request_clear(&req);
		if (ctlproto_reply_status(reply, &code, &message) != 1)
			abort();
	} else {
		if (!reply || ctlproto_reply_status(reply, &code, &message) != 0)
			abort();
	}
	if (ctlproto_classify(reply) != CTLPROTO_KIND_REPLY)
		abort();
	check_line(reply);
	json_decref(reply);
	return 0;
}
