/* render: flashctl's text for people: tables, sizes, durations, bars.
 * Every string that came from the daemon goes through render_clean so a
 * board's serial number cannot drive the terminal. */
#ifndef FLASHD_FLASHCTL_RENDER_H
#define FLASHD_FLASHCTL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* snprintf for text that may be cut on purpose (table cells, screen lines). */
void render_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* s with control characters as '?', cut to fit (NULL or "" → "-"). */
void render_clean(char *out, size_t len, const char *s);
/* A step label for a narrow column: every word with a '/' in it (a path)
 * shortened to its base name ("SDP: boot -f /tmp/x.3/u-boot.imx" ->
 * "SDP: boot -f u-boot.imx"); other text as it is. */
void render_step_short(char *out, size_t len, const char *step);
/* 0 B, 999 B, 1.5 kB, 21.5 MB, 1.20 GB (SI units, as USB rates are quoted). */
void render_bytes(char *out, size_t len, uint64_t bytes);
/* "21.5 MB/s", or "-" for 0. */
void render_rate(char *out, size_t len, uint64_t bytes_per_s);
/* "0:05", "12:34", "1:02:03". */
void render_duration(char *out, size_t len, int64_t ms);
/* Local time: "2024-05-01 12:03:04" (with_date) or "12:03:04". */
void render_clock(char *out, size_t len, int64_t unix_ms, bool with_date);
/* "[#####-----]" of the given inner width; unknown total: all '-'. */
void render_bar(char *out, size_t len, uint64_t done, uint64_t total, int width);
/* 0..100, or -1 when total is 0. */
int render_percent(uint64_t done, uint64_t total);
/* "loading plan PATH (use): FILE 12 of 345 MiB[, N more queued]" from a
 * status/"plan" event "loading" object; "" when it is null. */
void render_loading(char *out, size_t len, const json_t *loading);
/* "JOURNAL ALARM since 12:03:04: the results journal cannot be written: …;
 * 2 records (3.1 kB) not yet in the journal, next try in 8 s; new boards
 * wait" from a status/snapshot/"journal" event "journal" object; "" when it
 * is null or writable with nothing waiting. */
void render_journal(char *out, size_t len, const json_t *journal);
/* "PAUSED" (the operator's), "HELD" (records wait for the journal) or
 * "running", from a status reply or snapshot. */
const char *render_station_state(const json_t *status);

/* The fields of a PORT object (flashd-control(7)), cleaned. */
struct render_port {
	char slot[24];   /* "-": none */
	char yield[48];  /* "12 ok, 1 failed", or "-" */
	char alert[160]; /* the slot's alert, or "-" */
	bool ignored;    /* slots-only and no slot */
	char port[72];
	char state[24];
	char step[96];   /* "6/7 flash rootfs rootfs.ext4", or "-" */
	char board[72];  /* uid, else serial, else "-" */
	char result[16];
	char failed_step[96];
	char reason[160];
	uint64_t bytes, total, rate;
	int64_t elapsed_ms;
};
void render_port_from_json(const json_t *p, struct render_port *out);
/* "A3 1-1.4.2" for a port (or log event) with a slot, else "1-1.4.2" (cleaned). */
void render_port_label(const json_t *p, char *out, size_t len);
/* Order of ports in lists: slots first, in natural order of their names, then
 * the other ports in natural order of theirs (slot may be NULL). */
int render_port_cmp(const char *slot_a, const char *port_a, const char *slot_b,
		    const char *port_b);
/* A PORT's state is one where a board is being flashed (elapsed time runs). */
bool render_state_active(const char *state);

/* A table: cells copied, columns padded to the widest cell, last column not. */
struct render_table;
struct render_table *render_table_new(size_t ncols);
int render_table_add(struct render_table *t, const char *const *cells);
void render_table_print(FILE *fp, const struct render_table *t);
struct render_table *render_table_free(struct render_table *t);

void render_status(FILE *fp, const json_t *status);
void render_history(FILE *fp, const json_t *records);
/* The hint for the next page of a history reply (its "older" cursor), if any. */
void render_history_more(FILE *fp, const json_t *reply);
void render_plans(FILE *fp, const json_t *plans);
/* The pools reply's array as a table, then the reasons of those in trouble. */
void render_pools(FILE *fp, const json_t *pools);
/* "pool NAME: STATE, N of M left[: reason]" of one pool (status, watch). */
void render_pool_line(char *out, size_t len, const json_t *pool);
/* The stats reply: uptime, boards, bytes, a table of step durations; any
 * other key through render_object. */
void render_stats(FILE *fp, const json_t *stats);
/* Any object as indented "key: value" lines (sizes and durations spelled out). */
void render_object(FILE *fp, const json_t *obj, int indent);
/* One line for a `result` event or journal record: port, result, board,
 * time, detail; "(NOT YET IN THE JOURNAL)" after a result with "durable": false. */
void render_result_line(char *out, size_t len, const json_t *rec);

#endif
