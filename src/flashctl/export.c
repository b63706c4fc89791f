/* flashd-export: every journal record of a station into PostgreSQL, once
 * (issue 14, "Results in PostgreSQL"); flashd-export(8).
 *
 * The database is the cursor: flashd_results is keyed by (station, journal
 * line) and each page of records goes in with INSERT … ON CONFLICT DO
 * NOTHING in one transaction, so a kill at any point leaves either all of
 * a page or none of it, and the next run asks flashd for the records after
 * max(line) of its station. The journal is the buffer while PostgreSQL is
 * away. A row already there with another record, or a journal line that no
 * longer holds the record the database has for it, means a replaced
 * journal: stop and say so, never write over it. The following of the
 * journal (history pages, watch wake-ups, reconnects) is follow.c's. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "exportopt.h"
#include "flashd/conf.h"
#include "follow.h"
#include "pgrow.h"
#include "pgschema.h"

#define EXPORT_PAGE 200
#define EXPORT_SCHEMA_VERSION 1

struct export {
	struct exportopt o;
	char station[CONF_STATION_ID_MAX + 1];
	PGconn *db;
	bool db_down;         /* said that PostgreSQL is away; say when it is back */
	uint64_t last_line;   /* max(line) of the station when the session began */
	json_t *last_record;  /* the record the database has on that line */
	unsigned long rows, again; /* inserted; already there (same record) */
	struct follow *f;
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *fp)
{
	fputs("usage: flashd-export [--socket PATH] [--db CONNINFO] [--station ID]\n"
	      "                     [--config FILE] [--db-timeout SECONDS] [--init-schema]\n"
	      "                     [--once]\n"
	      "Insert every record of flashd's results journal into the PostgreSQL table\n"
	      "flashd_results once, keyed by station and journal line; see flashd-export(8).\n",
	      fp);
}

/* ---------------------------------------------------------------- PostgreSQL */

/* An error that a later try may not have: the server or the link went away,
 * was shut down, cancelled the statement (timeout), or a serialization
 * conflict. Anything else (no table, no right) is said and fatal. */
static bool transient(const PGconn *db, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(db) != CONNECTION_OK || !st)
		return true;
	return !strncmp(st, "08", 2) || !strncmp(st, "57", 2) || !strncmp(st, "53", 2) ||
	       !strcmp(st, "40001") || !strcmp(st, "40P01");
}

static void db_close(struct export *e)
{
	if (e->db)
		PQfinish(e->db);
	e->db = NULL;
}

/* A failed statement: FOLLOW_RETRY (said once until it works again) or
 * FOLLOW_FATAL (said). res is cleared. */
static int db_failed(struct export *e, PGresult *res, const char *what)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(e->db);
	char text[512];

	snprintf(text, sizeof(text), "%s", msg && *msg ? msg : "no answer");
	text[strcspn(text, "\n")] = 0;
	bool retry = transient(e->db, res);
	PQclear(res);
	if (!retry) {
		follow_say(e->f, "PostgreSQL: %s: %s", what, text);
		return FOLLOW_FATAL;
	}
	if (!e->db_down)
		follow_say(e->f,
			   "PostgreSQL: %s: %s; trying again (the journal keeps the records)", what,
			   text);
	e->db_down = true;
	db_close(e);
	return FOLLOW_RETRY;
}

/* A command without rows: 0 or db_failed(). */
static int db_exec(struct export *e, const char *sql, const char *what)
{
	PGresult *res = PQexec(e->db, sql);

	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return 0;
	}
	return db_failed(e, res, what);
}

/* The schema is there (or made, --init-schema) and one this program knows. */
static int db_schema(struct export *e)
{
	PGresult *res = PQexec(e->db, "SELECT max(version) FROM flashd_schema");
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && st && !strcmp(st, "42P01") &&
	    !e->o.init_schema) {
		PQclear(res);
		follow_say(e->f,
			   "PostgreSQL: the database has no flashd tables: run flashd-export "
			   "--init-schema once, or psql -f %s/schema.sql",
			   PGSQLDIR);
		return FOLLOW_FATAL;
	}
	if (e->o.init_schema && (PQresultStatus(res) != PGRES_TUPLES_OK ||
				 atoi(PQgetvalue(res, 0, 0)) < EXPORT_SCHEMA_VERSION)) {
		if (PQresultStatus(res) != PGRES_TUPLES_OK && !(st && !strcmp(st, "42P01")))
			return db_failed(e, res, "reading the schema version");
		PQclear(res);
		int r = db_exec(e, pgschema_sql, "creating the schema");
		if (r < 0)
			return r;
		follow_say(e->f, "PostgreSQL: schema version %d created", EXPORT_SCHEMA_VERSION);
		return 0;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_failed(e, res, "reading the schema version");
	int v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v > EXPORT_SCHEMA_VERSION) {
		follow_say(e->f,
			   "PostgreSQL: schema version %d is newer than this flashd-export's (%d): "
			   "upgrade flashd-export",
			   v, EXPORT_SCHEMA_VERSION);
		return FOLLOW_FATAL;
	}
	return 0;
}

static int db_connect(struct export *e)
{
	struct exportopt_conn c;

	exportopt_conn_params(&e->o, &c);
	e->db = PQconnectdbParams(c.keys, c.values, 1);
	if (!e->db) {
		follow_say(e->f, "PostgreSQL: out of memory");
		return FOLLOW_FATAL;
	}
	if (PQstatus(e->db) != CONNECTION_OK) {
		if (!e->db_down) {
			char text[512];
			snprintf(text, sizeof(text), "%s", PQerrorMessage(e->db));
			text[strcspn(text, "\n")] = 0;
			follow_say(e->f,
				   "PostgreSQL: cannot connect: %s; trying again (the journal keeps "
				   "the records)",
				   text);
		}
		e->db_down = true;
		db_close(e);
		return FOLLOW_RETRY;
	}
	return db_schema(e);
}

/* The station's last line and its record: the cursor and the guard. */
static int db_last(struct export *e)
{
	const char *params[] = { e->station };
	PGresult *res = PQexecParams(e->db,
				     "SELECT line, record::text FROM flashd_results WHERE station = $1"
				     " ORDER BY line DESC LIMIT 1",
				     1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_failed(e, res, "reading the station's last line");
	json_decref(e->last_record);
	e->last_record = NULL;
	e->last_line = 0;
	if (PQntuples(res) == 1) {
		e->last_line = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		e->last_record = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	}
	PQclear(res);
	return 0;
}

/* ---------------------------------------------------------------- following */

static struct export *export_of(struct follow *f)
{
	return f->ud;
}

/* Before each connection to flashd: PostgreSQL is there, and says where
 * this station's export stands. */
static int export_prepare(struct follow *f)
{
	struct export *e = export_of(f);
	int r = 0;

	if (e->db && PQstatus(e->db) != CONNECTION_OK)
		db_close(e);
	if (!e->db)
		r = db_connect(e);
	if (r == 0)
		r = db_last(e);
	if (r == 0 && e->db_down) {
		follow_say(f, "PostgreSQL: connected again");
		e->db_down = false;
	}
	return r;
}

/* After each connection: the record the database has last must still be on
 * its line, else the journal is not the one exported. */
static int export_start(struct follow *f)
{
	struct export *e = export_of(f);
	json_t *now = NULL;
	char why[256];

	if (e->last_line) {
		int r = follow_record_at(f, e->last_line, &now);
		if (r < 0)
			return r;
		if (!now) {
			follow_say(f,
				   "station %s: journal line %" PRIu64 " holds no record, but the "
				   "database has one for it: this is not the journal exported "
				   "(replaced or cut); stopping, nothing written",
				   e->station, e->last_line);
			return FOLLOW_FATAL;
		}
		if (!e->last_record || pgrow_guard(e->last_record, now, why, sizeof(why)) < 0) {
			follow_say(f,
				   "station %s: journal line %" PRIu64 " is not the record the "
				   "database has for it (%s): the journal was replaced; stopping, "
				   "nothing written",
				   e->station, e->last_line,
				   e->last_record ? why : "unreadable row");
			json_decref(now);
			return FOLLOW_FATAL;
		}
		json_decref(now);
	}
	f->cursor = e->last_line;
	follow_say(f, "station %s: exporting after journal line %" PRIu64, e->station,
		   e->last_line);
	return 0;
}

/* A row that was there: the same record, or a replaced journal (fatal). */
static int check_present(struct export *e, const struct pgrow *row, const json_t *rec)
{
	const char *params[] = { row->values[0], row->values[1] };
	PGresult *res = PQexecParams(e->db,
				     "SELECT record::text FROM flashd_results"
				     " WHERE station = $1 AND line = $2",
				     2, NULL, params, NULL, NULL, 0);
	char why[256];

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_failed(e, res, "reading a row");
	json_t *stored = PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
	PQclear(res);
	int r = stored ? pgrow_guard(stored, rec, why, sizeof(why)) : -1;
	json_decref(stored);
	if (r < 0) {
		follow_say(e->f,
			   "station %s: journal line %s is not the record the database has for it "
			   "(%s): the journal was replaced; stopping, nothing written",
			   e->station, row->values[1], stored ? why : "unreadable row");
		return FOLLOW_FATAL;
	}
	e->again++;
	return 0;
}

static int insert_one(struct export *e, const json_t *rec, uint64_t line, bool *skipped)
{
	struct pgrow row;
	int r = pgrow_from_record(&row, e->station, line, rec);

	*skipped = r == -EBADMSG;
	if (r == -EBADMSG)
		return 0; /* not a record: history never gives one, but never stop on it */
	if (r < 0) {
		follow_say(e->f, "out of memory");
		return FOLLOW_FATAL;
	}
	PGresult *res = PQexecParams(e->db, pgrow_insert_sql, PGROW_NPARAMS, NULL, row.values,
				     NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = db_failed(e, res, "inserting");
	} else {
		bool inserted = !strcmp(PQcmdTuples(res), "1");
		PQclear(res);
		if (inserted)
			e->rows++;
		else
			r = check_present(e, &row, rec);
	}
	pgrow_clear(&row);
	return r;
}

/* A page in one transaction: all of it is in the database, or none. */
static int export_records(struct follow *f, json_t *const *recs, const uint64_t *lines, size_t n)
{
	struct export *e = export_of(f);
	unsigned long before = e->rows;
	size_t skipped = 0;
	int r = db_exec(e, "BEGIN", "starting a transaction");

	for (size_t i = 0; r == 0 && i < n; i++) {
		bool skip;
		r = insert_one(e, recs[i], lines[i], &skip);
		skipped += skip;
	}
	if (r == 0)
		r = db_exec(e, "COMMIT", "committing");
	if (r < 0) {
		e->rows = before;
		if (e->db)
			PQclear(PQexec(e->db, "ROLLBACK"));
		return r;
	}
	follow_say(f, "lines %" PRIu64 "..%" PRIu64 ": %lu rows inserted%s", lines[0],
		   lines[n - 1], e->rows - before, skipped ? " (some lines not records)" : "");
	return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct export e = { 0 };
	char err[256];
	int r = exportopt_parse(argc, argv, &e.o, err, sizeof(err));

	if (r == 1) {
		usage(stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "flashd-export: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (exportopt_station(&e.o, e.station, sizeof(e.station), err, sizeof(err)) < 0) {
		fprintf(stderr, "flashd-export: %s\n", err);
		return 1;
	}

	struct follow f = {
		.prog = "flashd-export", .socket = e.o.socket, .limit = EXPORT_PAGE,
		.backoff_min_ms = 250, .backoff_max_ms = 5000, .once = e.o.once,
		.cut_hint = "the database has records of lines the journal does not; stopping",
		.stopping = &stopping, .ud = &e, .prepare = export_prepare,
		.start = export_start, .records = export_records,
	};
	e.f = &f;
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = follow_run(&f);
	follow_say(&f, "%s: %lu rows inserted, %lu already there", r ? "stopped on an error" : "done",
		   e.rows, e.again);
	db_close(&e);
	json_decref(e.last_record);
	return r;
}
