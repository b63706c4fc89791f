/* journal_index: what `history` needs to know about every line of the
 * results journal, kept in memory (docs/design-notes.md "History from an
 * index of the journal, read on a thread").
 *
 * One entry per line of the file, in file order, so the 1-based line
 * number is the entry's position + 1 and serves as the history cursor. An
 * entry holds where the line is (offset, length) and the few fields the
 * filters use (port, result, time); a line that is not a record (garbage,
 * over-long, not an object) has an entry that matches nothing. Selecting a
 * page is a scan of this array: no I/O, no JSON. Pure: no file access here;
 * journal.c reads the lines and fills the index. */
#ifndef FLASHD_DAEMON_JOURNAL_INDEX_H
#define FLASHD_DAEMON_JOURNAL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct jindex;

/* The filter fields of one line; port points into the line (or into a
 * json_t the caller keeps) and is not NUL-terminated. */
struct jindex_fields {
	bool record;          /* a JSON object: false makes the entry match nothing */
	const char *port;     /* NULL: no string "port" */
	size_t port_len;
	int result;           /* index in ctlproto_results, -1: none or another */
	bool has_ms;
	int64_t ms;           /* end_ms, else start_ms (integers only) */
};

/* Fields of a line (no newline). A line the fast scanner is unsure of is
 * parsed with jansson: then *hold is a new ref the fields point into (the
 * caller decrefs it), else NULL. -ENOMEM only. */
int jindex_fields_from_line(const char *line, size_t len, struct jindex_fields *f,
			    json_t **hold);
/* Fields of a record about to be written (borrowed strings). */
void jindex_fields_from_json(const json_t *rec, struct jindex_fields *f);

struct jindex *jindex_new(void);
struct jindex *jindex_free(struct jindex *x);
/* Lines indexed, and the file offset just after the last one. */
size_t jindex_count(const struct jindex *x);
int64_t jindex_end(const struct jindex *x);
/* Forget every entry (the file changed under us: the caller re-reads it). */
void jindex_reset(struct jindex *x);

/* Adding a line is two steps so that a journal append can do everything
 * that may fail before it writes: jindex_prepare allocates (room for one
 * more entry, the port's name); jindex_commit cannot fail. */
struct jindex_slot {
	uint32_t port;
	int result;
	bool record, has_ms;
	int64_t ms;
};
int jindex_prepare(struct jindex *x, const struct jindex_fields *f, struct jindex_slot *s);
/* The line [off, off + len) (newline excluded); off must be jindex_end(). */
void jindex_commit(struct jindex *x, int64_t off, size_t len, const struct jindex_slot *s);

/* ---- selecting a page ---- */

struct jindex_query {
	const char *port;     /* NULL: any */
	int result;           /* jindex_result(): -1 any, -2 nothing */
	int64_t since_ms;     /* 0: any */
	uint64_t before;      /* 0: none; else lines < before */
	bool has_after;
	uint64_t after;       /* lines > after (the page then starts at the oldest) */
	size_t limit;         /* ≥ 1 */
	size_t budget;        /* bytes of lines in the page; its first line always fits */
};

/* The result filter for a name: its index in ctlproto_results, -1 for
 * NULL (any), -2 for a name that is not a result (nothing matches). */
int jindex_result(const char *name);

struct jindex_page {
	uint64_t *lines;      /* line numbers of the page, oldest first (caller frees) */
	size_t n;
	uint64_t older;       /* a cursor for `before`, 0: no older match */
	uint64_t newer;       /* a cursor for `after`, 0: the journal is empty */
	size_t bytes;         /* sum of the page's line lengths */
};
int jindex_select(const struct jindex *x, const struct jindex_query *q,
		  struct jindex_page *page);
/* Where line number `line` (1-based) is; false if there is no such line. */
bool jindex_line(const struct jindex *x, uint64_t line, int64_t *off, size_t *len);

#endif
