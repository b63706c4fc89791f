/* journal.h - append-only JSONL results journal (design.md §6). */
#ifndef FLASHD_DAEMON_JOURNAL_H
#define FLASHD_DAEMON_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct journal;

/* Creates the file 0640 if missing; detects/skips a torn last line. */
int journal_open(const char *path, struct journal **out);
/* One line, O_APPEND + fdatasync before returning 0. */
int journal_append(struct journal *j, json_t *record);

struct journal_filter {
	const char *port;
	int64_t since_ms;
	const char *result;
	size_t limit;
};
/* New ref: array, oldest first, last `limit`. */
json_t *journal_query(struct journal *j, const struct journal_filter *f);
struct journal *journal_close(struct journal *j);

#endif
