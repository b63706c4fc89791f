/* log: stderr logging with sd-daemon priority prefixes. */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static bool log_prefix = true;
static int log_max_level = LOG_INFO;
static const char *log_ident;
static log_hook log_hook_fn;
static void *log_hook_ud;
static bool log_in_hook;     /* a hook that logs does not recurse */

static const char *const log_level_names[] = {
	[LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",       [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_open(const char *ident)
{
	const char *js = getenv("JOURNAL_STREAM");

	log_ident = ident;
	log_prefix = (js && *js) || !isatty(STDERR_FILENO);
}

void log_set_prefix(bool prefix)
{
	log_prefix = prefix;
}

void log_set_max_level(int max_level)
{
	if (max_level < LOG_EMERG)
		max_level = LOG_EMERG;
	if (max_level > LOG_DEBUG)
		max_level = LOG_DEBUG;
	log_max_level = max_level;
}

int log_get_max_level(void)
{
	return log_max_level;
}

int log_level_from_string(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	if (strcmp(s, "error") == 0)
		return LOG_ERR;
	for (int i = LOG_EMERG; i <= LOG_DEBUG; i++)
		if (strcmp(s, log_level_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *log_level_to_string(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return NULL;
	return log_level_names[level];
}

void log_set_hook(log_hook hook, void *ud)
{
	log_hook_fn = hook;
	log_hook_ud = ud;
}

int log_internalv(int level, int err, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;
	int n;

	if (err < 0)
		err = -err;
	if (level > log_max_level)
		goto out;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unprintable log message)");
	else if (err && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(err));
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", level & LOG_PRIMASK, msg);
	else if (log_ident)
		fprintf(stderr, "%s: %s\n", log_ident, msg);
	else
		fprintf(stderr, "%s\n", msg);
	if (log_hook_fn && !log_in_hook) {
		log_in_hook = true;
		log_hook_fn(log_hook_ud, level, msg);
		log_in_hook = false;
	}
out:
	errno = saved;
	return -err;
}

int log_internal(int level, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_internalv(level, err, fmt, ap);
	va_end(ap);
	return r;
}
