/* cli: flashctl's command line (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/macro.h"
#include "flashd/protocol.h"

void cli_usage(FILE *fp)
{
	char usage[256];

	fprintf(fp, "Usage: flashctl [--socket PATH] [--json] COMMAND [ARGUMENTS]\n\n"
		    "Control and watch flashd, the i.MX6 flashing station.\n\nCommands:\n");
	for (size_t i = 0; i < CTLPROTO_CMD_COUNT; i++) {
		const struct ctlproto_command *c = &ctlproto_commands[i];
		ctlproto_command_usage(c, usage, sizeof(usage));
		fprintf(fp, "  %s\n      %s%s\n", usage, c->summary,
			c->flags & CTLPROTO_MUTATING ? " [admin]" : "");
	}
	fprintf(fp, "[admin]: needs root or the daemon's admin group.\n"
		    "\nOptions:\n"
		    "  --socket PATH  the control socket (default: $%s, else %s)\n"
		    "  --json         print the daemon's JSON: a reply, or the events of watch,\n"
		    "                 one per line\n"
		    "  -h, --help     this text\n"
		    "  --version      flashctl's version\n"
		    "\nTIME (history --since): @SECONDS, 30s, 15m, 2h, 3d (ago), today, yesterday,\n"
		    "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS] (local time).\n"
		    "RESULT: ok, failed, boot-loop, aborted.\n"
		    "\nExit status: 0 done, 1 error reply, 2 usage, 3 cannot connect, "
		    "4 permission denied.\n",
		PROTOCOL_SOCKET_ENV, PROTOCOL_SOCKET_DEFAULT);
}

/* ---- time ---- */

static int local_ms(struct tm *tm, int64_t *out)
{
	tm->tm_isdst = -1;
	time_t t = mktime(tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = (int64_t)t * 1000;
	return 0;
}

static int parse_ago(const char *s, int64_t now_ms, int64_t *out)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = { { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	char *end;

	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || end == s || n < 0 || n > 100000000 || *s < '0' || *s > '9')
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			int64_t v = now_ms - n * units[i].ms;
			*out = v < 0 ? 0 : v;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_day(const char *s, int64_t now_ms, int64_t *out)
{
	int back = strcmp(s, "today") == 0 ? 0 : strcmp(s, "yesterday") == 0 ? 1 : -1;
	if (back < 0)
		return -EINVAL;
	time_t now = (time_t)(now_ms / 1000);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= back;
	return local_ms(&tm, out);
}

static int parse_date(const char *s, int64_t *out)
{
	static const char *const formats[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%dT%H:%M",    "%Y-%m-%d",
	};
	for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(s, formats[i], &tm);
		if (end && !*end)
			return local_ms(&tm, out);
	}
	return -EINVAL;
}

int cli_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '@') {
		char *end;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v < 0 || v > INT64_MAX / 1000)
			return -EINVAL;
		*out = (int64_t)v * 1000;
		return 0;
	}
	if (parse_ago(s, now_ms, out) == 0 || parse_day(s, now_ms, out) == 0)
		return 0;
	return parse_date(s, out);
}

/* ---- arguments ---- */

static int arg_value(const struct ctlproto_arg *a, const char *text, int64_t now_ms,
		     json_t **out, char *err, size_t errlen)
{
	char *end;
	long long n;
	int64_t t;

	switch (a->type) {
	case CTLPROTO_ARG_STRING:
	case CTLPROTO_ARG_STRINGS:
		if (!*text || strlen(text) > (a->type == CTLPROTO_ARG_STRING ? a->max : a->elem_max))
			break;
		if (a->choices) {
			size_t i = 0;
			while (a->choices[i] && strcmp(a->choices[i], text) != 0)
				i++;
			if (!a->choices[i])
				break;
		}
		*out = json_string(text);
		return *out ? 0 : -ENOMEM;
	case CTLPROTO_ARG_COUNT:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno || end == text || *end || n < 1 || (unsigned long long)n > a->max)
			break;
		*out = json_integer(n);
		return *out ? 0 : -ENOMEM;
	case CTLPROTO_ARG_TIME:
		if (cli_parse_time(text, now_ms, &t) < 0)
			break;
		*out = json_integer(t);
		return *out ? 0 : -ENOMEM;
	case CTLPROTO_ARG_CURSOR:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno || end == text || *end || n < 0 || (unsigned long long)n > a->max)
			break;
		*out = json_integer(n);
		return *out ? 0 : -ENOMEM;
	}
	snprintf(err, errlen, "invalid %s: '%s'", a->meta, text);
	return -EINVAL;
}

static const struct ctlproto_arg *option_arg(const struct ctlproto_command *c, const char *name,
					     size_t len)
{
	for (size_t i = 0; i < c->nargs; i++) {
		const struct ctlproto_arg *a = &c->args[i];
		if (!(a->flags & CTLPROTO_ARG_POSITIONAL) && strlen(a->name) == len &&
		    strncmp(a->name, name, len) == 0)
			return a;
	}
	return NULL;
}

static const struct ctlproto_arg *next_positional(const struct ctlproto_command *c, size_t *at)
{
	for (; *at < c->nargs; (*at)++)
		if (c->args[*at].flags & CTLPROTO_ARG_POSITIONAL)
			return &c->args[*at];
	return NULL;
}

/* Set argument a to v (stolen); a STRINGS argument collects every value given. */
static int set_arg(struct cli *out, const struct ctlproto_arg *a, json_t *v, char *err, size_t errlen)
{
	if (a->type != CTLPROTO_ARG_STRINGS)
		return json_object_set_new(out->request, a->name, v) < 0 ? -ENOMEM : 0;
	json_t *arr = json_object_get(out->request, a->name);
	if (!arr) {
		arr = json_array();
		if (json_object_set_new(out->request, a->name, arr) < 0) {
			json_decref(v);
			return -ENOMEM;
		}
	}
	if (json_array_size(arr) >= a->max) {
		json_decref(v);
		snprintf(err, errlen, "%s: at most %zu %ss", out->command->name, a->max, a->meta);
		return -EINVAL;
	}
	return json_array_append_new(arr, v) < 0 ? -ENOMEM : 0;
}

/* Add one positional argument: a STRINGS argument takes all that follow. */
static int add_positional(struct cli *out, size_t *at, const char *text, int64_t now_ms,
			  char *err, size_t errlen)
{
	const struct ctlproto_arg *a = next_positional(out->command, at);
	json_t *v;

	if (!a) {
		snprintf(err, errlen, "%s: unexpected argument '%s'", out->command->name, text);
		return -EINVAL;
	}
	int r = arg_value(a, text, now_ms, &v, err, errlen);
	if (r < 0)
		return r;
	if (a->type != CTLPROTO_ARG_STRINGS)
		(*at)++;
	return set_arg(out, a, v, err, errlen);
}

/* --name VALUE or --name=VALUE of the command; *i advanced past what it took. */
static int add_option(struct cli *out, int argc, char *const *argv, int *i, int64_t now_ms,
		      char *err, size_t errlen)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct ctlproto_arg *a = out->command ? option_arg(out->command, name, len) : NULL;
	const char *value = eq ? eq + 1 : NULL;
	json_t *v;

	if (!a) {
		snprintf(err, errlen, "%s%sunknown option '%.*s'",
			 out->command ? out->command->name : "", out->command ? ": " : "",
			 (int)len + 2, argv[*i]);
		return -EINVAL;
	}
	if (!value) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "%s: --%s needs a value", out->command->name, a->name);
			return -EINVAL;
		}
		value = argv[++*i];
	}
	int r = arg_value(a, value, now_ms, &v, err, errlen);
	if (r < 0)
		return r;
	return set_arg(out, a, v, err, errlen);
}

/* Global options: 1 taken, 0 not one of them, <0 error. */
static int global_option(struct cli *out, int argc, char *const *argv, int *i, char *err,
			 size_t errlen)
{
	const char *s = argv[*i];

	if (strcmp(s, "--json") == 0)
		out->json = true;
	else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0)
		out->help = true;
	else if (strcmp(s, "--version") == 0)
		out->version = true;
	else if (strncmp(s, "--socket=", 9) == 0)
		out->socket = s + 9;
	else if (strcmp(s, "--socket") == 0) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "--socket needs a path");
			return -EINVAL;
		}
		out->socket = argv[++*i];
	} else
		return 0;
	return 1;
}

static int set_command(struct cli *out, const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "help") == 0) {
		out->help = true;
		return 0;
	}
	out->command = ctlproto_command_lookup(name);
	if (!out->command) {
		snprintf(err, errlen, "unknown command '%s'", name);
		return -EINVAL;
	}
	out->request = ctlproto_request_new(1, out->command);
	return out->request ? 0 : -ENOMEM;
}

static int check_required(const struct cli *out, char *err, size_t errlen)
{
	const struct ctlproto_command *c = out->command;
	for (size_t i = 0; c && i < c->nargs; i++) {
		const struct ctlproto_arg *a = &c->args[i];
		if ((a->flags & CTLPROTO_ARG_REQUIRED) && !json_object_get(out->request, a->name)) {
			char usage[160];
			ctlproto_command_usage(c, usage, sizeof(usage));
			snprintf(err, errlen, "%s: missing %s (usage: flashctl %s)", c->name, a->meta,
				 usage);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_args(int argc, char *const *argv, int64_t now_ms, struct cli *out, char *err,
		      size_t errlen)
{
	bool dashdash = false;
	size_t pos = 0;
	int r = 0;

	for (int i = 1; r >= 0 && i < argc; i++) {
		const char *s = argv[i];
		if (!dashdash && strcmp(s, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (!dashdash && s[0] == '-' && s[1]) {
			r = global_option(out, argc, argv, &i, err, errlen);
			if (r == 0)
				r = s[1] == '-' ? add_option(out, argc, argv, &i, now_ms, err, errlen)
						: (snprintf(err, errlen, "unknown option '%s'", s),
						   -EINVAL);
			continue;
		}
		if (!out->command && !out->help)
			r = set_command(out, s, err, errlen);
		else if (out->command)
			r = add_positional(out, &pos, s, now_ms, err, errlen);
	}
	if (r >= 0 && !out->command && !out->help && !out->version) {
		snprintf(err, errlen, "no command given (try flashctl --help)");
		r = -EINVAL;
	}
	if (r >= 0 && !out->help && !out->version)
		r = check_required(out, err, errlen);
	return r < 0 ? r : 0;
}

int cli_parse(int argc, char *const *argv, int64_t now_ms, struct cli *out, char *err,
	      size_t errlen)
{
	struct cli c = { .socket = getenv(PROTOCOL_SOCKET_ENV) };

	if (!c.socket || !*c.socket)
		c.socket = PROTOCOL_SOCKET_DEFAULT;
	int r = parse_args(argc, argv, now_ms, &c, err, errlen);
	if (r < 0) {
		cli_clear(&c);
		return r == -ENOMEM ? (snprintf(err, errlen, "out of memory"), r) : r;
	}
	*out = c;
	return 0;
}

void cli_clear(struct cli *c)
{
	if (!c)
		return;
	json_decref(c->request);
	c->request = NULL;
	c->command = NULL;
}
