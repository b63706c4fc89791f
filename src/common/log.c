/* log: stderr logging with sd-daemon priority prefixes, rate-limited per
 * call site.
 *
 * The rate limit: a small direct-mapped table keyed by the call site (the
 * format string's address, as the kernel's printk_ratelimited and
 * systemd's log_ratelimit_* keep one state per site) and the line's text,
 * so only a line that repeats is held back: "port 1-1: …" and "port 1-2: …"
 * from one site never limit each other. A slot taken by another line is
 * handed over after its pending count is reported. */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_SITES 64u          /* rate-limit slots */
#define LOG_SITE_TEXT 96u      /* bytes of a site's last line kept for its summary */
#define LOG_SUMMARIES_MAX 4u   /* pending summaries written by one call */

struct log_site {
	const char *fmt;       /* NULL: free */
	uint64_t hash;         /* of fmt and the line */
	int level;
	int64_t window_ms;     /* start of the current interval */
	unsigned lines;        /* written in it */
	unsigned long long suppressed;
	char text[LOG_SITE_TEXT];
};

struct log_summary {
	int level;
	char line[LOG_SITE_TEXT + 80];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_site log_sites[LOG_SITES];
static unsigned log_rl_interval_ms = LOG_RATELIMIT_INTERVAL_MS;
static unsigned log_rl_burst = LOG_RATELIMIT_BURST;
static unsigned long long log_suppressed;

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

void log_set_ratelimit(unsigned interval_ms, unsigned burst)
{
	pthread_mutex_lock(&log_lock);
	log_rl_interval_ms = interval_ms;
	log_rl_burst = burst;
	memset(log_sites, 0, sizeof(log_sites));
	pthread_mutex_unlock(&log_lock);
}

unsigned long long log_suppressed_total(void)
{
	pthread_mutex_lock(&log_lock);
	unsigned long long n = log_suppressed;
	pthread_mutex_unlock(&log_lock);
	return n;
}

static int64_t log_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take a site's pending count into *out (when there is room). */
static void log_site_summary(struct log_site *s, struct log_summary *out, size_t *n)
{
	if (!s->suppressed || *n >= LOG_SUMMARIES_MAX)
		return;
	out[*n].level = s->level;
	snprintf(out[*n].line, sizeof(out[*n].line),
		 "%llu more messages like this were suppressed: %.*s", s->suppressed,
		 (int)sizeof(s->text) - 1, s->text);
	(*n)++;
	s->suppressed = 0;
}

/* Under log_lock: the summaries of sites whose interval is over. */
static void log_sites_expired(int64_t now, struct log_summary *out, size_t *n)
{
	for (size_t i = 0; i < LOG_SITES; i++) {
		struct log_site *s = &log_sites[i];
		if (s->fmt && s->suppressed && now - s->window_ms >= (int64_t)log_rl_interval_ms)
			log_site_summary(s, out, n);
	}
}

static uint64_t log_hash(const char *fmt, const char *msg)
{
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)fmt;

	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* Whether msg (from fmt) may be written now; collects due summaries. */
static bool log_ratelimit_pass(const char *fmt, const char *msg, int level,
			       struct log_summary *out, size_t *n)
{
	uint64_t h = log_hash(fmt, msg);
	struct log_site *s = &log_sites[h % LOG_SITES];
	int64_t now = log_now_ms();

	if (!log_rl_burst)
		return true;
	log_sites_expired(now, out, n);
	if (s->fmt != fmt || s->hash != h) {
		log_site_summary(s, out, n); /* the slot's previous line */
		*s = (struct log_site){ .fmt = fmt, .hash = h, .level = level, .window_ms = now };
		snprintf(s->text, sizeof(s->text), "%.*s", (int)sizeof(s->text) - 1, msg);
	} else if (now - s->window_ms >= (int64_t)log_rl_interval_ms) {
		s->window_ms = now;
		s->lines = 0;
	}
	if (s->lines >= log_rl_burst) {
		s->suppressed++;
		log_suppressed++;
		return false;
	}
	s->lines++;
	return true;
}

static void log_write(int level, const char *msg)
{
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
}

int log_internalv(int level, int err, const char *fmt, va_list ap)
{
	struct log_summary sum[LOG_SUMMARIES_MAX];
	char msg[LOG_LINE_MAX];
	size_t nsum = 0;
	int saved = errno;
	int n;
	bool pass;

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
	pthread_mutex_lock(&log_lock);
	pass = log_ratelimit_pass(fmt, msg, level, sum, &nsum);
	pthread_mutex_unlock(&log_lock);
	for (size_t i = 0; i < nsum; i++)
		log_write(sum[i].level, sum[i].line);
	if (pass)
		log_write(level, msg);
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
