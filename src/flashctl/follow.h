/* follow: read flashd's results journal record by record, through the
 * control socket, for the clients that must see every record once
 * (flashd-hook(1), flashd-export(8)); see docs/design-notes.md, "Result
 * hooks: a client, driven by the journal".
 *
 * The journal is the truth: records come from `history` pages after a
 * cursor (a journal line number, stable across restarts of flashd), each
 * with the exact line it is on; `watch` events on the same connection are
 * only wake-ups. A lost connection is opened again with a backoff; the
 * cursor is the caller's (a file, a database), asked for again after each
 * reconnect. */
#ifndef FLASHD_FLASHCTL_FOLLOW_H
#define FLASHD_FLASHCTL_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ctlclient;

/* What a callback returns besides 0: the connection (or the caller's own
 * store) is gone, try again after a backoff; or stop for good. */
#define FOLLOW_RETRY (-1)
#define FOLLOW_FATAL (-2)

struct follow {
	/* set by the caller */
	const char *prog;   /* prefix of messages: "flashd-hook" */
	const char *socket; /* the control socket */
	const char *port, *result; /* history filters, or NULL */
	size_t limit;       /* records per page, 1 .. PROTOCOL_HISTORY_MAX */
	unsigned backoff_min_ms, backoff_max_ms;
	bool once;          /* return once caught up (0) instead of waiting */
	const char *cut_hint; /* said after "the journal ends … before the cursor" */
	volatile sig_atomic_t *stopping;
	void *ud;
	/* Before each connection: the caller's store is ready (it may block,
	 * watching *stopping). 0, FOLLOW_RETRY or FOLLOW_FATAL. May be NULL. */
	int (*prepare)(struct follow *f);
	/* After each connection, before the first page: set f->cursor (the
	 * last line handled). follow_newest()/follow_record_at() may be used. */
	int (*start)(struct follow *f);
	/* n records, oldest first, lines[i] the journal line of recs[i]; 0
	 * when every one is handled (the cursor then moves to lines[n-1]). */
	int (*records)(struct follow *f, json_t *const *recs, const uint64_t *lines, size_t n);
	/* The cursor moved over lines that hold no matching record. May be NULL. */
	void (*skipped)(struct follow *f);

	/* state */
	uint64_t cursor;
	bool woken; /* a result/durable/overflow/snapshot event came in */
	struct ctlclient *cl;
};

/* Run until *stopping (0) or a fatal error (1): the exit status. */
int follow_run(struct follow *f);
/* The line after which records finishing from now on come (`newer` of the
 * newest page), in *line; 0 or FOLLOW_RETRY/FOLLOW_FATAL (said). */
int follow_newest(struct follow *f, uint64_t *line);
/* The record on journal line `line`, or NULL in *rec when that line holds
 * none (no record, or past the journal's end). 0 or FOLLOW_RETRY/FATAL. */
int follow_record_at(struct follow *f, uint64_t line, json_t **rec);
void follow_say(const struct follow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
