/* pgrow: journal record → flashd_results row (see pgrow.h). */
#include "pgrow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flashd/protocol.h"

const char pgrow_insert_sql[] =
	"INSERT INTO flashd_results (station, line, port, slot, uid, serial, plan, plan_sha256,"
	" result, failed_step, reason, start_ms, end_ms, bytes, record)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)"
	" ON CONFLICT (station, line) DO NOTHING";

/* The text columns, in parameter order from $3 (NULL: a number column). */
static const char *const text_keys[] = {
	PROTOCOL_KEY_PORT, PROTOCOL_KEY_SLOT, PROTOCOL_KEY_UID, "serial", "plan", "plan_sha256",
	PROTOCOL_KEY_RESULT, "failed_step", PROTOCOL_KEY_REASON,
};

/* A string as it is, null or missing as NULL; another type is not what
 * the column means: NULL too (the record column keeps it). */
static const char *text_of(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* An integer as decimal text in buf, anything else NULL. */
static const char *int_of(const json_t *rec, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(rec, key);

	if (!json_is_integer(v))
		return NULL;
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

int pgrow_from_record(struct pgrow *row, const char *station, uint64_t line, const json_t *rec)
{
	struct pgrow r = { 0 };
	size_t i = 0;

	if (!json_is_object(rec) || !text_of(rec, PROTOCOL_KEY_RESULT) || !station || !line)
		return -EBADMSG;
	r.record = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!r.record)
		return -ENOMEM;
	snprintf(r.line, sizeof(r.line), "%" PRIu64, line);
	r.values[i++] = station;
	r.values[i++] = NULL; /* the line: set below, row's own buffer */
	for (size_t k = 0; k < sizeof(text_keys) / sizeof(text_keys[0]); k++)
		r.values[i++] = text_of(rec, text_keys[k]);
	i += 3; /* start_ms, end_ms, bytes: below */
	r.values[i++] = r.record;
	*row = r;
	row->values[1] = row->line;
	row->values[11] = int_of(rec, "start_ms", row->start_ms, sizeof(row->start_ms));
	row->values[12] = int_of(rec, "end_ms", row->end_ms, sizeof(row->end_ms));
	row->values[13] = int_of(rec, "bytes", row->bytes, sizeof(row->bytes));
	return 0;
}

void pgrow_clear(struct pgrow *row)
{
	if (!row)
		return;
	free(row->record);
	memset(row, 0, sizeof(*row));
}

static void say_value(char *buf, size_t len, const json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	snprintf(buf, len, "%.60s%s", text ? text : "(none)", text && strlen(text) > 60 ? "…" : "");
	free(text);
}

/* The first key of a whose value differs in b (or that b lacks). */
static const char *first_difference(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)a, key, v)
		if (!json_equal(v, json_object_get(b, key)))
			return key;
	return NULL;
}

int pgrow_guard(const json_t *stored, const json_t *journal, char *why, size_t len)
{
	char was[80], now[80];

	if (json_equal(stored, journal))
		return 0;
	const char *key = json_is_object(stored) && json_is_object(journal)
				  ? first_difference(stored, journal)
				  : NULL;
	if (!key && json_is_object(stored) && json_is_object(journal))
		key = first_difference(journal, stored);
	if (!key) {
		snprintf(why, len, "the record differs");
		return -1;
	}
	say_value(was, sizeof(was), json_object_get(stored, key));
	say_value(now, sizeof(now), json_object_get(journal, key));
	snprintf(why, len, "%s: %s in the database, %s in the journal", key, was, now);
	return -1;
}
