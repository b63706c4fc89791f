/* log: one logging API for flashd and flashctl.
 *
 * Writes to stderr. When stderr is not a terminal (or JOURNAL_STREAM is set,
 * i.e. systemd connected stderr to the journal) each line starts with the
 * sd-daemon priority prefix "<N>"; on a terminal lines are plain. */
#ifndef FLASHD_COMMON_LOG_H
#define FLASHD_COMMON_LOG_H

#include <stdbool.h>
#include <stdarg.h>
#include <syslog.h>

/* Decide the output style from the environment; call once at start. ident
 * (e.g. "flashd") is prepended on a terminal only. */
void log_open(const char *ident);
/* Force prefixes on or off (tests). */
void log_set_prefix(bool prefix);
/* Messages above max_level (LOG_DEBUG=7 … LOG_ERR=3) are dropped. */
void log_set_max_level(int max_level);
int log_get_max_level(void);
/* "debug", "info", "notice", "warning", "err"/"error", "crit", or a digit. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* Optional observer of every emitted line (after level filtering), e.g. to
 * forward log lines as control events. Lines it logs itself are written but
 * not passed back to it. */
typedef void (*log_hook)(void *ud, int level, const char *msg);
void log_set_hook(log_hook hook, void *ud);

/* Rate limiting of repeated lines: at most burst identical lines from one
 * call site (the format string identifies it) per interval_ms; the rest are counted,
 * not written, and once the interval is over one line says how many were
 * suppressed ("N more messages like this were suppressed: …"). A storm of
 * one repeated error (accept failing with EMFILE, say) then costs a few
 * lines, not millions. Defaults: 20 lines per 5000 ms; burst 0 turns it
 * off. Thread-safe. */
#define LOG_RATELIMIT_INTERVAL_MS 5000u
#define LOG_RATELIMIT_BURST 20u
void log_set_ratelimit(unsigned interval_ms, unsigned burst);
/* Lines suppressed by the rate limit since start (for tests and stats). */
unsigned long long log_suppressed_total(void);

/* Returns -|err| if err != 0, else 0; appends ": strerror(err)" when err != 0. */
int log_internal(int level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int log_internalv(int level, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(err, ...) log_internal(LOG_DEBUG, (err), __VA_ARGS__)
#define log_info_errno(err, ...) log_internal(LOG_INFO, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_internal(LOG_WARNING, (err), __VA_ARGS__)
#define log_error_errno(err, ...) log_internal(LOG_ERR, (err), __VA_ARGS__)

#endif
