/* fuzz-journal_index: the journal index's line scanner against jansson,
 * and page selection over the lines of the input.
 *
 * The scanner (src/daemon/journal_index.c) reads a line's filter fields
 * without building JSON. For every input that jansson reads as an object,
 * it must find the same port, result and time; an input that jansson
 * reads as another kind of value is never a record. Then every line of the
 * input goes into an index and pages are chosen with a query made from the
 * input's first bytes: every page must hold matching lines in ascending
 * order, within its cursors, within limit and budget. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/journal_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fields(const char *line, size_t len)
{
	struct jindex_fields f, g;
	json_t *hold = NULL, *ref = json_loadb(line, len, 0, NULL);

	if (jindex_fields_from_line(line, len, &f, &hold) < 0)
		abort();
	jindex_fields_from_json(ref, &g);
	if (ref && !json_is_object(ref) && f.record)
		abort();
	if (json_is_object(ref)) {
		if (!f.record || f.result != g.result || f.has_ms != g.has_ms ||
		    (f.has_ms && f.ms != g.ms) || !f.port != !g.port)
			abort();
		if (f.port && (f.port_len != g.port_len || memcmp(f.port, g.port, f.port_len)))
			abort();
	}
	json_decref(hold);
	json_decref(ref);
}

static struct jindex *index_lines(const char *text, size_t size)
{
	struct jindex *x = jindex_new();
	size_t start = 0;

	if (!x)
		abort();
	for (size_t i = 0; i < size; i++) {
		if (text[i] != '\n')
			continue;
		struct jindex_fields f;
		struct jindex_slot slot;
		json_t *hold;
		if (jindex_fields_from_line(text + start, i - start, &f, &hold) < 0 ||
		    jindex_prepare(x, &f, &slot) < 0)
			abort();
		jindex_commit(x, (int64_t)start, i - start, &slot);
		json_decref(hold);
		start = i + 1;
	}
	if (jindex_end(x) != (int64_t)start)
		abort();
	return x;
}

static void check_page(const struct jindex *x, const struct jindex_query *q)
{
	struct jindex_page p;
	size_t n = jindex_count(x);

	if (jindex_select(x, q, &p) < 0)
		abort();
	if (p.n > q->limit || (p.n > 1 && p.bytes > q->budget) || p.newer > n ||
	    p.older > n + 1 || (n && !q->has_after && !q->before && p.newer != n))
		abort();
	for (size_t i = 0; i < p.n; i++) {
		int64_t off;
		size_t len;
		if (!jindex_line(x, p.lines[i], &off, &len) || (i && p.lines[i] <= p.lines[i - 1]) ||
		    (q->before && p.lines[i] >= q->before) ||
		    (q->has_after && p.lines[i] <= q->after) || (p.older && p.lines[i] < p.older))
			abort();
	}
	free(p.lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const results[] = { NULL, "ok", "failed", "aborted", "nope" };
	const char *text = (const char *)data;
	uint8_t k[4] = { 0 };

	if (size > (1u << 20))
		return 0;
	check_fields(text, size);
	struct jindex *x = index_lines(text, size);
	memcpy(k, data, size < sizeof(k) ? size : sizeof(k));
	struct jindex_query q = {
		.port = k[0] & 1 ? "a" : k[0] & 2 ? "1-1" : NULL,
		.result = jindex_result(results[k[1] % 5]),
		.since_ms = k[1] & 0x80 ? 5 : 0,
		.limit = 1 + k[2] % 4,
		.budget = 1 + (size_t)k[3] * 4,
	};
	check_page(x, &q);
	q.before = k[2] % 8;
	check_page(x, &q);
	q.has_after = true;
	q.after = k[3] % 8;
	check_page(x, &q);
	q.before = 0;
	check_page(x, &q);
	jindex_free(x);
	return 0;
}
