/* pgrow: a journal record as a row of flashd_results (conf/postgresql/
 * schema.sql, flashd-export(8)), and the guard against a replaced journal.
 * Pure: no libpq here; the parameters are libpq's text format. */
#ifndef FLASHD_FLASHCTL_PGROW_H
#define FLASHD_FLASHCTL_PGROW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The INSERT, its parameters in pgrow_params() order. ON CONFLICT DO
 * NOTHING: a row already there is the same record exported before (or,
 * pgrow_guard() says, a different journal). */
extern const char pgrow_insert_sql[];
#define PGROW_NPARAMS 15

struct pgrow {
	const char *values[PGROW_NPARAMS]; /* NULL: SQL NULL */
	char line[24], start_ms[24], end_ms[24], bytes[24];
	char *record; /* the record as compact JSON, owned */
};

/* Map rec (a journal record, flashd-control(7) RECORD) on journal line
 * `line` of station `station`. -EBADMSG when rec is not a record (no
 * string result), -ENOMEM; row untouched then. */
int pgrow_from_record(struct pgrow *row, const char *station, uint64_t line, const json_t *rec);
void pgrow_clear(struct pgrow *row);

/* The replaced-journal guard: 0 when `stored` (the row's record, as the
 * database has it) is `journal` (the record now on that line); else -1
 * and what differs in why ("end_ms: 1764151101000 in the database,
 * 1764151102000 in the journal"). */
int pgrow_guard(const json_t *stored, const json_t *journal, char *why, size_t len);

#endif
