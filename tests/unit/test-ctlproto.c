/* test-ctlproto: request parsing/validation, message construction, encoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flashd/ctlproto.h"

/* Parse; on failure check the error code (and the id echoed, or none). */
static int parse(const char *line, struct ctlproto_request *req, const char **code,
		 json_t **reply)
{
	json_t *err = NULL;
	int r = ctlproto_request_parse(line, strlen(line), req, &err);
	if (r == 0) {
		assert_null(err);
		return 0;
	}
	assert_non_null(err);
	assert_int_equal(ctlproto_classify(err), CTLPROTO_KIND_REPLY);
	const char *message;
	assert_int_equal(ctlproto_reply_status(err, code, &message), 0);
	assert_true(strlen(message) > 0);
	*reply = err;
	return r;
}

static void expect_error(const char *line, int want_r, const char *want_code,
			 const json_t *want_id)
{
	struct ctlproto_request req = { .command = NULL };
	const char *code = NULL;
	json_t *reply = NULL;
	int r = parse(line, &req, &code, &reply);
	if (r != want_r || strcmp(code, want_code) != 0)
		fail_msg("%s: got %d %s, want %d %s", line, r, code, want_r, want_code);
	assert_null(req.command); /* untouched on failure */
	json_t *id = json_object_get(reply, "id");
	if (want_id)
		assert_true(json_equal(id, want_id));
	else
		assert_null(id);
	json_decref(reply);
}

static void test_every_command_parses(void **state)
{
	for (size_t i = 0; i < CTLPROTO_CMD_COUNT; i++) {
		const struct ctlproto_command *c = &ctlproto_commands[i];
		char line[256];
		struct ctlproto_request req;
		json_t *err = NULL;

		assert_int_equal(c->cmd, (enum ctlproto_cmd)i);
		assert_ptr_equal(ctlproto_command_lookup(c->name), c);
		assert_string_equal(ctlproto_cmd_to_string(c->cmd), c->name);
		snprintf(line, sizeof(line),
			 "{\"id\":%zu,\"cmd\":\"%s\",\"port\":\"1-1.4\",\"plan\":\"/p/full.lst\"}", i,
			 c->name);
		assert_int_equal(ctlproto_request_parse(line, strlen(line), &req, &err), 0);
		assert_ptr_equal(req.command, c);
		assert_int_equal(json_integer_value(req.id), (json_int_t)i);
		ctlproto_request_clear(&req);
		assert_null(req.msg);
	}
	assert_null(ctlproto_command_lookup("nope"));
	assert_null(ctlproto_command_lookup(NULL));
	assert_null(ctlproto_cmd_to_string(CTLPROTO_CMD_COUNT));
	assert_true(ctlproto_commands[CTLPROTO_CMD_USE].flags & CTLPROTO_MUTATING);
	assert_false(ctlproto_commands[CTLPROTO_CMD_STATUS].flags & CTLPROTO_MUTATING);
	assert_true(ctlproto_commands[CTLPROTO_CMD_WATCH].flags & CTLPROTO_STREAM);
}

static void test_ids(void **state)
{
	struct ctlproto_request req;
	const char *code;
	json_t *reply;

	/* string id echoed; trailing CR accepted; unknown fields ignored */
	const char *l = "{\"id\":\"abc\",\"cmd\":\"status\",\"extra\":[1,2,{}]}\r";
	assert_int_equal(parse(l, &req, &code, &reply), 0);
	assert_string_equal(json_string_value(req.id), "abc");
	ctlproto_request_clear(&req);
	/* no id, null id: no id */
	assert_int_equal(parse("{\"cmd\":\"status\"}", &req, &code, &reply), 0);
	assert_null(req.id);
	ctlproto_request_clear(&req);
	assert_int_equal(parse("{\"id\":null,\"cmd\":\"stats\"}", &req, &code, &reply), 0);
	assert_null(req.id);
	ctlproto_request_clear(&req);
	/* negative and huge integers are fine */
	assert_int_equal(parse("{\"id\":-9223372036854775807,\"cmd\":\"plans\"}", &req, &code,
			       &reply), 0);
	ctlproto_request_clear(&req);
	/* bad ids: not echoed */
	expect_error("{\"id\":1.5,\"cmd\":\"status\"}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, NULL);
	expect_error("{\"id\":true,\"cmd\":\"status\"}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, NULL);
	expect_error("{\"id\":{},\"cmd\":\"status\"}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, NULL);
	expect_error("{\"id\":[1],\"cmd\":\"status\"}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, NULL);
	char longid[PROTOCOL_ID_MAX + 40];
	snprintf(longid, sizeof(longid), "{\"id\":\"%0*d\",\"cmd\":\"status\"}",
		 (int)PROTOCOL_ID_MAX + 1, 7);
	expect_error(longid, -EPROTO, PROTOCOL_ERR_BAD_REQUEST, NULL);
	snprintf(longid, sizeof(longid), "{\"id\":\"%0*d\",\"cmd\":\"status\"}",
		 (int)PROTOCOL_ID_MAX, 7);
	assert_int_equal(parse(longid, &req, &code, &reply), 0);
	ctlproto_request_clear(&req);
}

static void test_bad_json(void **state)
{
	expect_error("", -EBADMSG, PROTOCOL_ERR_BAD_JSON, NULL);
	expect_error("{", -EBADMSG, PROTOCOL_ERR_BAD_JSON, NULL);
	expect_error("[1,2]", -EBADMSG, PROTOCOL_ERR_BAD_JSON, NULL);
	expect_error("\"status\"", -EBADMSG, PROTOCOL_ERR_BAD_JSON, NULL);
	expect_error("{\"cmd\":\"status\"} {}", -EBADMSG, PROTOCOL_ERR_BAD_JSON, NULL);
	expect_error("{\"cmd\":\"status\",\"cmd\":\"pause\"}", -EBADMSG, PROTOCOL_ERR_BAD_JSON,
		     NULL);
	/* embedded NUL in the buffer */
	struct ctlproto_request req;
	json_t *err = NULL;
	assert_int_equal(ctlproto_request_parse("{\"cmd\":\"status\"}\0x", 18, &req, &err),
			 -EBADMSG);
	json_decref(err);
}

static void test_bad_cmd(void **state)
{
	json_t *id7 = json_integer(7);
	expect_error("{\"id\":7}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, id7);
	expect_error("{\"id\":7,\"cmd\":3}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, id7);
	expect_error("{\"id\":7,\"cmd\":null}", -EPROTO, PROTOCOL_ERR_BAD_REQUEST, id7);
	expect_error("{\"id\":7,\"cmd\":\"frobnicate\"}", -ENOENT, PROTOCOL_ERR_UNKNOWN_COMMAND,
		     id7);
	expect_error("{\"id\":7,\"cmd\":\"STATUS\"}", -ENOENT, PROTOCOL_ERR_UNKNOWN_COMMAND, id7);
	expect_error("{\"id\":7,\"cmd\":\"\"}", -ENOENT, PROTOCOL_ERR_UNKNOWN_COMMAND, id7);

	/* the unknown name is quoted bounded and without control characters */
	struct ctlproto_request req;
	const char *code, *message;
	json_t *reply;
	char line[400];
	snprintf(line, sizeof(line), "{\"id\":7,\"cmd\":\"\\u001b[2J%0200d\"}", 0);
	assert_int_equal(parse(line, &req, &code, &reply), -ENOENT);
	assert_int_equal(ctlproto_reply_status(reply, &code, &message), 0);
	assert_null(strchr(message, 0x1b));
	assert_true(strlen(message) < 80);
	assert_non_null(strstr(message, "..."));
	json_decref(reply);
	json_decref(id7);
}

static void test_args(void **state)
{
	struct ctlproto_request req;
	const char *code, *v[4];
	json_t *reply, *id = json_string("x");
	int64_t n;

	assert_int_equal(parse("{\"cmd\":\"history\",\"port\":\"1-1\",\"since\":0,"
			       "\"result\":\"boot-loop\",\"limit\":10000}",
			       &req, &code, &reply), 0);
	assert_string_equal(ctlproto_request_string(&req, "port"), "1-1");
	assert_string_equal(ctlproto_request_string(&req, "result"), "boot-loop");
	assert_true(ctlproto_request_int(&req, "since", &n));
	assert_int_equal(n, 0);
	assert_true(ctlproto_request_int(&req, "limit", &n));
	assert_int_equal(n, 10000);
	assert_false(ctlproto_request_int(&req, "port", &n));
	assert_null(ctlproto_request_string(&req, "plan"));
	ctlproto_request_clear(&req);
	/* history cursors: 0 (after: from the first line) up to PROTOCOL_CURSOR_MAX */
	assert_int_equal(parse("{\"cmd\":\"history\",\"after\":0,"
			       "\"before\":9007199254740991}", &req, &code, &reply), 0);
	assert_true(ctlproto_request_int(&req, "after", &n));
	assert_int_equal(n, 0);
	assert_true(ctlproto_request_int(&req, "before", &n));
	assert_int_equal(n, (int64_t)PROTOCOL_CURSOR_MAX);
	ctlproto_request_clear(&req);

	assert_int_equal(parse("{\"cmd\":\"use\",\"plan\":\"a.lst\",\"ports\":[\"1-1\",\"1-2\","
			       "\"2-1\"]}", &req, &code, &reply), 0);
	assert_int_equal(ctlproto_request_strings(&req, "ports", v, 2), 3);
	assert_string_equal(v[0], "1-1");
	assert_string_equal(v[1], "1-2");
	assert_int_equal(ctlproto_request_strings(&req, "nope", v, 2), 0);
	ctlproto_request_clear(&req);
	/* ports optional, may be empty or null */
	assert_int_equal(parse("{\"cmd\":\"use\",\"plan\":\"a\",\"ports\":[]}", &req, &code,
			       &reply), 0);
	ctlproto_request_clear(&req);
	assert_int_equal(parse("{\"cmd\":\"use\",\"plan\":\"a\",\"ports\":null}", &req, &code,
			       &reply), 0);
	ctlproto_request_clear(&req);

	static const char *const bad[] = {
		"{\"id\":\"x\",\"cmd\":\"abort\"}",
		"{\"id\":\"x\",\"cmd\":\"abort\",\"port\":null}",
		"{\"id\":\"x\",\"cmd\":\"abort\",\"port\":5}",
		"{\"id\":\"x\",\"cmd\":\"abort\",\"port\":\"\"}",
		"{\"id\":\"x\",\"cmd\":\"abort\",\"port\":\"1-1\\n\"}",
		"{\"id\":\"x\",\"cmd\":\"retry\",\"port\":[\"1-1\"]}",
		"{\"id\":\"x\",\"cmd\":\"use\"}",
		"{\"id\":\"x\",\"cmd\":\"use\",\"plan\":\"a\",\"ports\":\"1-1\"}",
		"{\"id\":\"x\",\"cmd\":\"use\",\"plan\":\"a\",\"ports\":[1]}",
		"{\"id\":\"x\",\"cmd\":\"use\",\"plan\":\"a\",\"ports\":[\"\"]}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"limit\":0}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"limit\":-1}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"limit\":10001}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"limit\":\"5\"}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"limit\":5.0}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"since\":-1}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"since\":\"yesterday\"}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"result\":\"great\"}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"result\":true}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"before\":-1}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"after\":9007199254740992}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"after\":\"12\"}",
		"{\"id\":\"x\",\"cmd\":\"history\",\"before\":1.5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i], -EINVAL, PROTOCOL_ERR_BAD_ARGUMENT, id);
	json_decref(id);
}

static void test_arg_bounds(void **state)
{
	size_t cap = 64 * 1024;
	char *line = malloc(cap), *p;
	struct ctlproto_request req;
	const char *code;
	json_t *reply;

	/* PROTOCOL_PORTS_MAX ports pass, one more fails */
	for (size_t extra = 0; extra < 2; extra++) {
		p = line + sprintf(line, "{\"cmd\":\"use\",\"plan\":\"a\",\"ports\":[");
		for (size_t i = 0; i < PROTOCOL_PORTS_MAX + extra; i++)
			p += sprintf(p, "%s\"1-%zu\"", i ? "," : "", i);
		strcpy(p, "]}");
		int r = parse(line, &req, &code, &reply);
		if (extra) {
			assert_int_equal(r, -EINVAL);
			json_decref(reply);
		} else {
			assert_int_equal(r, 0);
			ctlproto_request_clear(&req);
		}
	}
	/* port names up to PROTOCOL_PORT_MAX bytes */
	for (size_t extra = 0; extra < 2; extra++) {
		p = line + sprintf(line, "{\"cmd\":\"abort\",\"port\":\"");
		memset(p, '7', PROTOCOL_PORT_MAX + extra);
		strcpy(p + PROTOCOL_PORT_MAX + extra, "\"}");
		int r = parse(line, &req, &code, &reply);
		assert_int_equal(r, extra ? -EINVAL : 0);
		if (r)
			json_decref(reply);
		else
			ctlproto_request_clear(&req);
	}
	free(line);
}

static void test_usage(void **state)
{
	char buf[256];
	int n = ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_HISTORY], buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "history [--port PORT] [--since TIME] [--result RESULT] "
				 "[--limit N] [--before LINE] [--after LINE]");
	ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_USE], buf, sizeof(buf));
	assert_string_equal(buf, "use [--args ARG...] PLAN [PORT...]");
	ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_ABORT], buf, sizeof(buf));
	assert_string_equal(buf, "abort PORT");
	ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_PAUSE], buf, sizeof(buf));
	assert_string_equal(buf, "pause");
	/* truncation: snprintf semantics */
	char small[8];
	n = ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_USE], small, sizeof(small));
	assert_int_equal(n, (int)strlen("use [--args ARG...] PLAN [PORT...]"));
	assert_string_equal(small, "use [--");
	assert_int_equal(ctlproto_command_usage(&ctlproto_commands[CTLPROTO_CMD_USE], NULL, 0), n);
	assert_int_equal(ctlproto_command_usage(NULL, buf, sizeof(buf)), -EINVAL);
}

static char *encode(const json_t *m)
{
	char *s;
	size_t len;
	assert_int_equal(ctlproto_encode(m, &s, &len), 0);
	assert_int_equal(len, strlen(s));
	assert_int_equal(s[len - 1], '\n');
	assert_null(memchr(s, '\n', len - 1));
	s[len - 1] = 0;
	return s;
}

static void check_encoded(json_t *m, const char *want)
{
	assert_non_null(m);
	char *s = encode(m);
	assert_string_equal(s, want);
	free(s);
	json_decref(m);
}

static void test_construct(void **state)
{
	json_t *id = json_integer(7), *sid = json_string("a\nb");

	check_encoded(ctlproto_hello_new("1.2.3"),
		      "{\"hello\":\"flashd\",\"version\":\"1.2.3\",\"protocol\":1}");
	check_encoded(ctlproto_reply_new(id, NULL), "{\"id\":7,\"ok\":true}");
	check_encoded(ctlproto_reply_new(NULL, json_pack("{s:b}", "paused", 1)),
		      "{\"ok\":true,\"paused\":true}");
	/* fields never override id/ok */
	check_encoded(ctlproto_reply_new(sid, json_pack("{s:i,s:b,s:[]}", "id", 9, "ok", 0,
							"ports")),
		      "{\"id\":\"a\\nb\",\"ok\":true,\"ports\":[]}");
	check_encoded(ctlproto_reply_error_new(id, PROTOCOL_ERR_NOT_FOUND, "port %s: no", "1-9"),
		      "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"not-found\","
		      "\"message\":\"port 1-9: no\"}}");
	check_encoded(ctlproto_event_new("port", 42, 1700000000123,
					 json_pack("{s:s,s:I,s:s}", "port", "1-1", "seq", 1,
						   "event", "x")),
		      "{\"event\":\"port\",\"seq\":42,\"ts\":1700000000123,\"port\":\"1-1\"}");
	check_encoded(ctlproto_event_new("overflow", 3, 5, NULL),
		      "{\"event\":\"overflow\",\"seq\":3,\"ts\":5}");
	/* a message that is not UTF-8 (a parser quoting bad input) is made ASCII */
	check_encoded(ctlproto_reply_error_new(NULL, "x", "bad \xff\xfe%s", "\xc3"),
		      "{\"ok\":false,\"error\":{\"code\":\"x\",\"message\":\"bad ???\"}}");
	/* valid UTF-8 is kept */
	check_encoded(ctlproto_reply_error_new(NULL, "x", "caf\xc3\xa9"),
		      "{\"ok\":false,\"error\":{\"code\":\"x\",\"message\":\"caf\xc3\xa9\"}}");
	/* non-object fields are refused (and consumed) */
	assert_null(ctlproto_reply_new(id, json_integer(3)));
	assert_null(ctlproto_event_new("x", 1, 1, json_array()));

	char *s;
	size_t len;
	assert_int_equal(ctlproto_encode(NULL, &s, &len), -EINVAL);
	json_decref(id);
	json_decref(sid);
}

static void test_client_side(void **state)
{
	json_t *m = ctlproto_hello_new("x");
	const char *code, *message;

	assert_int_equal(ctlproto_classify(m), CTLPROTO_KIND_HELLO);
	assert_int_equal(ctlproto_hello_check(m), 0);
	json_object_set_new(m, "protocol", json_integer(2));
	assert_int_equal(ctlproto_hello_check(m), -EPROTONOSUPPORT);
	json_object_set_new(m, "protocol", json_string("1"));
	assert_int_equal(ctlproto_hello_check(m), -EPROTO);
	json_object_set_new(m, "protocol", json_integer(1));
	json_object_set_new(m, "hello", json_string("other"));
	assert_int_equal(ctlproto_hello_check(m), -EPROTO);
	json_decref(m);
	assert_int_equal(ctlproto_hello_check(NULL), -EPROTO);

	m = ctlproto_event_new("log", 1, 2, NULL);
	assert_int_equal(ctlproto_classify(m), CTLPROTO_KIND_EVENT);
	assert_int_equal(ctlproto_reply_status(m, &code, &message), -EPROTO);
	json_decref(m);
	m = json_pack("{s:i}", "x", 1);
	assert_int_equal(ctlproto_classify(m), CTLPROTO_KIND_INVALID);
	json_decref(m);
	assert_int_equal(ctlproto_classify(NULL), CTLPROTO_KIND_INVALID);

	m = ctlproto_reply_new(NULL, NULL);
	assert_int_equal(ctlproto_reply_status(m, &code, &message), 1);
	json_decref(m);
	m = json_pack("{s:b,s:{}}", "ok", 0, "error");
	assert_int_equal(ctlproto_reply_status(m, &code, &message), -EPROTO);
	json_decref(m);
	m = json_pack("{s:b,s:{s:s}}", "ok", 0, "error", "code", "busy");
	assert_int_equal(ctlproto_reply_status(m, &code, &message), 0);
	assert_string_equal(code, "busy");
	assert_string_equal(message, "");
	json_decref(m);

	/* a request built by a client parses on the server */
	m = ctlproto_request_new(5, &ctlproto_commands[CTLPROTO_CMD_RETRY]);
	json_object_set_new(m, "port", json_string("3-1"));
	char *s = encode(m);
	struct ctlproto_request req;
	json_t *err = NULL;
	assert_int_equal(ctlproto_request_parse(s, strlen(s), &req, &err), 0);
	assert_int_equal(req.command->cmd, CTLPROTO_CMD_RETRY);
	assert_string_equal(ctlproto_request_string(&req, "port"), "3-1");
	ctlproto_request_clear(&req);
	ctlproto_request_clear(NULL);
	free(s);
	json_decref(m);
	assert_null(ctlproto_request_new(1, NULL));
}

static void test_errno_codes(void **state)
{
	assert_string_equal(ctlproto_errno_to_code(-ENOENT), PROTOCOL_ERR_NOT_FOUND);
	assert_string_equal(ctlproto_errno_to_code(ENOENT), PROTOCOL_ERR_NOT_FOUND);
	assert_string_equal(ctlproto_errno_to_code(-EBUSY), PROTOCOL_ERR_BUSY);
	assert_string_equal(ctlproto_errno_to_code(-EINVAL), PROTOCOL_ERR_INVALID);
	assert_string_equal(ctlproto_errno_to_code(-EPERM), PROTOCOL_ERR_PERMISSION_DENIED);
	assert_string_equal(ctlproto_errno_to_code(-ENOMEM), PROTOCOL_ERR_INTERNAL);
	assert_string_equal(ctlproto_errno_to_code(-ENOTSUP), PROTOCOL_ERR_UNAVAILABLE);
	assert_string_equal(ctlproto_errno_to_code(-EIO), PROTOCOL_ERR_FAILED);
	assert_string_equal(ctlproto_errno_to_code(0), PROTOCOL_ERR_FAILED);
}

/* the payload objects: every key, NULL strings as null, the uid in hex */
static void test_payload(void **state)
{
	struct ctlproto_port p = { .port = "1-1", .state = "fastboot", .device = "fastboot",
				   .step = "FB: flash rootfs rootfs.ext4", .serial = "",
				   .plan = "/p/full.lst", .has_step_index = true, .step_index = 4,
				   .steps = 7, .bytes = 10, .total = 20, .board_bytes = 30,
				   .rate = 40, .elapsed_ms = 50, .has_uid = true,
				   .uid = 0x0a1b2c3d4e5f6071ull };
	struct ctlproto_image img = { .path = "/p/rootfs.ext4.zst", .sha256 = "ab",
				      .compression = "zstd", .source_sha256 = "cd" };
	struct ctlproto_record r = { .port = "2-1", .result = PROTOCOL_RESULT_OK, .start_ms = 1,
				     .end_ms = 2, .bytes = 3, .images = &img, .nimages = 1 };
	json_t *j;
	char *txt;

	(void)state;
	j = ctlproto_port_new(&p);
	txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(txt, "{\"board_bytes\":30,\"bytes\":10,\"device\":\"fastboot\","
			    "\"elapsed_ms\":50,\"failed_step\":null,\"ignored\":false,\"paused\":false,"
			    "\"plan\":\"/p/full.lst\",\"port\":\"1-1\",\"rate\":40,"
			    "\"reason\":null,\"result\":null,\"serial\":null,\"slot\":null,"
			    "\"state\":\"fastboot\",\"step\":\"FB: flash rootfs rootfs.ext4\","
			    "\"step_index\":4,\"steps\":7,\"total\":20,"
			    "\"uid\":\"0a1b2c3d4e5f6071\",\"yield\":null}");
	free(txt);
	json_decref(j);
	p.has_step_index = false;
	j = ctlproto_progress_new(&p);
	assert_int_equal(json_object_size(j), 8);
	assert_true(json_is_null(json_object_get(j, PROTOCOL_KEY_STEP_INDEX)));
	json_decref(j);
	j = ctlproto_record_new(&r);
	txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(txt, "{\"bytes\":3,\"end_ms\":2,\"failed_step\":null,"
			    "\"images\":[{\"compression\":\"zstd\",\"path\":\"/p/rootfs.ext4.zst\","
			    "\"sha256\":\"ab\",\"source_sha256\":\"cd\"}],\"plan\":null,"
			    "\"plan_sha256\":null,\"plug_to_sdp_ms\":null,\"port\":\"2-1\",\"reason\":null,"
			    "\"reenum_ms\":[],\"regions\":[],\"result\":\"ok\",\"serial\":null,\"slot\":null,\"start_ms\":1,\"steps\":[],"
			    "\"uid\":null,\"values\":{}}");
	free(txt);
	json_decref(j);
	/* a board's pool values */
	r.values = json_pack("{s:[s]}", "serial", "SN000001");
	j = ctlproto_record_new(&r);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(j, PROTOCOL_KEY_VALUES), "serial"), 0)),
			    "SN000001");
	json_decref(r.values);
	json_decref(j);
}

/* the journal's state and a record's "durable" copy */
static void test_payload_journal(void **state)
{
	struct ctlproto_journal jq = { .path = "/var/lib/flashd/results.jsonl", .writable = false,
				       .reason = "no space", .has_since = true, .since_ms = 5,
				       .has_retry = true, .retry_ms = 500, .backlog = 2,
				       .backlog_bytes = 900, .backlog_max = 256 };
	json_t *j, *rec, *d;
	char *txt;

	(void)state;
	j = ctlproto_journal_new(&jq);
	txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(txt, "{\"backlog\":2,\"backlog_bytes\":900,\"backlog_full\":false,"
			    "\"backlog_max\":256,\"path\":\"/var/lib/flashd/results.jsonl\","
			    "\"reason\":\"no space\",\"retry_ms\":500,\"since_ms\":5,"
			    "\"writable\":false}");
	free(txt);
	json_decref(j);
	jq = (struct ctlproto_journal){ .writable = true, .backlog_max = 256 };
	j = ctlproto_journal_new(&jq);
	assert_true(json_is_null(json_object_get(j, PROTOCOL_KEY_REASON)));
	assert_true(json_is_null(json_object_get(j, PROTOCOL_KEY_SINCE_MS)));
	assert_true(json_is_null(json_object_get(j, PROTOCOL_KEY_RETRY_MS)));
	json_decref(j);

	rec = json_pack("{s:s, s:s}", "port", "1-1", "result", "ok");
	d = ctlproto_record_durable(rec, false);
	assert_true(json_is_false(json_object_get(d, PROTOCOL_KEY_DURABLE)));
	assert_null(json_object_get(rec, PROTOCOL_KEY_DURABLE));   /* the record is untouched */
	assert_int_equal(json_object_size(d), 3);
	json_decref(d);
	d = ctlproto_record_durable(rec, true);
	assert_true(json_is_true(json_object_get(d, PROTOCOL_KEY_DURABLE)));
	json_decref(d);
	json_decref(rec);
	assert_null(ctlproto_record_durable(NULL, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_payload_journal),
		cmocka_unit_test(test_every_command_parses),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_cmd),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_arg_bounds),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_construct),
		cmocka_unit_test(test_client_side),
		cmocka_unit_test(test_errno_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
