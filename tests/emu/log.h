/* log: the emulator's event log, one JSON object per line:
 *   {"ts":<CLOCK_MONOTONIC ns>,"board":"<name>","ev":"<event>",<details>}
 * Every line is written with one write() on an O_APPEND file as soon as it is
 * complete, so tests can tail the file. A NULL log accepts and drops events
 * (unit tests). Lines are bounded (LOG_LINE_MAX); long strings are cut. */
#ifndef EMU_LOG_H
#define EMU_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 2048

struct log;

struct log_ev {
	struct log *log;
	char buf[LOG_LINE_MAX];
	size_t len;
	bool full;
};

/* open (create, append) PATH; -errno */
int log_open(const char *path, const char *board, struct log **out);
struct log *log_free(struct log *log);
/* events written so far (for tests) */
uint64_t log_count(const struct log *log);

void log_begin(struct log_ev *e, struct log *log, const char *ev);
void log_str(struct log_ev *e, const char *key, const char *val);
/* LEN bytes of VAL; bytes outside printable ASCII are escaped */
void log_strn(struct log_ev *e, const char *key, const char *val, size_t len);
void log_u64(struct log_ev *e, const char *key, uint64_t v);
void log_i64(struct log_ev *e, const char *key, int64_t v);
/* "0x%08x" as a string */
void log_hex32(struct log_ev *e, const char *key, uint32_t v);
void log_bool(struct log_ev *e, const char *key, bool v);
/* close the object and write the line; -errno */
int log_end(struct log_ev *e);

/* one-shot helpers: an event with no details / with one string */
void log_simple(struct log *log, const char *ev);
void log_simple_str(struct log *log, const char *ev, const char *key, const char *val);

#endif
