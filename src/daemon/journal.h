/* journal.h - append-only JSONL results journal (design.md §6). */
#ifndef FLASHD_DAEMON_JOURNAL_H
#define FLASHD_DAEMON_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct journal;

/* Longest record line (newline included): journal_append refuses longer
 * records (-E2BIG); history returns every record up to this size. A longer
 * line someone else wrote is kept but never returned. */
#define JOURNAL_LINE_MAX (1u << 20)

/* Creates the file 0640 if missing; cuts a torn last line (no newline, or
 * a complete one that is not a JSON object); indexes every line. */
int journal_open(const char *path, struct journal **out);
/* One line, O_APPEND + fdatasync before returning 0. */
int journal_append(struct journal *j, json_t *record);

/* A history query (flashd-control(7) "history"). Cursors are 1-based line
 * numbers of the journal. */
struct journal_filter {
	const char *port;
	int64_t since_ms;
	const char *result;
	size_t limit;       /* 0 or more than PROTOCOL_HISTORY_MAX: PROTOCOL_HISTORY_MAX */
	uint64_t before;    /* 0: none; else only lines < before */
	bool has_after;     /* only lines > after, and the page starts at the oldest */
	uint64_t after;
	size_t budget;      /* bytes of records in a page, 0: PROTOCOL_HISTORY_BYTES_MAX */
};

/* A page of history in two steps, for the control server: chosen on the
 * loop (a scan of the in-memory index: no I/O), then read on the worker
 * thread. The page holds its own descriptor and copies of the filter's
 * strings: reading it touches nothing else, also after journal_close. */
struct journal_page;
int journal_page_new(struct journal *j, const struct journal_filter *f,
		     struct journal_page **out);
/* *text (malloc'd, *len bytes, not NUL-terminated): the history reply's
 * fields as JSON text without braces:
 *   "records":[…oldest first],"older":cursor|null,"newer":cursor|null
 * Each record is the journal line as it is, once jansson has read it as
 * a record that passes the filter (a line that does not is left out). */
int journal_page_read(struct journal_page *p, char **text, size_t *len);
struct journal_page *journal_page_free(struct journal_page *p);

/* Both steps at once: new ref {"records":…, "older":…, "newer":…}; NULL with errno. */
json_t *journal_query(struct journal *j, const struct journal_filter *f);
/* Bytes of journal lines read by queries so far (tests, benchmark). */
uint64_t journal_query_bytes(const struct journal *j);
struct journal *journal_close(struct journal *j);

#endif
