/* journal_index: see journal_index.h.
 *
 * An entry is 24 bytes: 100,000 records cost 2.4 MB. Port names are
 * interned (an open-addressing table of 16-bit ids); a journal with more
 * distinct names than ids gives the rest JINDEX_PORT_OTHER, which every port
 * filter treats as a maybe (journal.c checks the parsed record again).
 *
 * The fast field scanner walks the top level of a compact JSON object
 * (what journal_append writes) and picks port, result, end_ms and
 * start_ms; nested values are skipped by bracket depth. Whatever it is not
 * sure of (an escaped key or port, an integer too long, any syntax it does
 * not expect) goes to jansson, whose answer is the rule: the fast path
 * must agree with json_loadb on every line it accepts. */
#include "daemon/journal_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flashd/ctlproto.h"

#define JINDEX_PORT_NONE 0u
#define JINDEX_PORT_OTHER 0xffffu /* the name table is full */
#define JINDEX_PORTS_MAX 0xfffeu
#define JINDEX_RESULT_NONE 0xffu
#define JINDEX_F_RECORD 0x1u
#define JINDEX_F_MS 0x2u

struct jindex_ent {
	int64_t off;
	int64_t ms;
	uint32_t len;
	uint16_t port;
	uint8_t result;
	uint8_t flags;
};

struct jindex {
	struct jindex_ent *ent;
	size_t n, cap;
	int64_t end;
	char **names;       /* names[id - 1] */
	size_t nnames;
	uint16_t *slots;    /* hash table of ids, 0: empty */
	size_t nslots;      /* a power of two, > 2 * nnames */
};

/* ---- the fast scanner ---- */

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* p at '"': just past the closing quote, or NULL; *esc when it holds a '\'. */
static const char *skip_string(const char *p, const char *e, bool *esc)
{
	for (p++; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			*esc = true;
			if (++p == e)
				return NULL;
		}
	}
	return NULL;
}

static const char *skip_value(const char *p, const char *e)
{
	bool esc = false;
	size_t depth = 0;

	if (p < e && *p == '"')
		return skip_string(p, e, &esc);
	if (p < e && *p != '{' && *p != '[') {
		const char *s = p;
		while (p < e && ((*p && strchr("+-.E", *p)) || (*p >= '0' && *p <= '9') ||
				 (*p >= 'a' && *p <= 'z')))
			p++;
		return p > s ? p : NULL;
	}
	while (p < e) {
		char c = *p;
		if (c == '"') {
			p = skip_string(p, e, &esc);
			if (!p)
				return NULL;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return p + 1;
		else if ((unsigned char)c < 0x20 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return NULL;
		p++;
	}
	return NULL;
}

/* An integer value: 1 (set *v), 0 (another kind of value), -1 (unsure). */
static int scan_int(const char *p, const char *e, int64_t *v)
{
	bool neg = p < e && *p == '-';
	int64_t x = 0;
	size_t digits = 0;

	if (neg)
		p++;
	while (p < e && *p >= '0' && *p <= '9') {
		if (++digits > 18)
			return -1;
		x = x * 10 + (*p++ - '0');
	}
	if (!digits)
		return 0;
	if (p < e && (*p == '.' || *p == 'e' || *p == 'E'))
		return 0;
	*v = neg ? -x : x;
	return 1;
}

static int result_index(const char *s, size_t len)
{
	for (int i = 0; ctlproto_results[i]; i++)
		if (strlen(ctlproto_results[i]) == len && memcmp(ctlproto_results[i], s, len) == 0)
			return i;
	return -1;
}

int jindex_result(const char *name)
{
	return !name ? -1 : result_index(name, strlen(name)) >= 0 ? result_index(name, strlen(name)) : -2;
}

struct scan_state {
	bool has_end, has_start;
	int64_t end_ms, start_ms;
};

static bool key_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

/* One member's value at v (its key k, klen): false when unsure. */
static bool scan_member(const char *k, size_t klen, const char *v, const char *e,
			struct jindex_fields *f, struct scan_state *st)
{
	bool esc = false;
	int r;

	if (key_is(k, klen, PROTOCOL_KEY_PORT) || key_is(k, klen, PROTOCOL_KEY_RESULT)) {
		const char *s = NULL, *end = v < e && *v == '"' ? skip_string(v, e, &esc) : NULL;
		if (esc)
			return false;
		if (end)
			s = v + 1;
		if (key_is(k, klen, PROTOCOL_KEY_PORT)) {
			f->port = s;
			f->port_len = s ? (size_t)(end - 1 - s) : 0;
		} else {
			f->result = s ? result_index(s, (size_t)(end - 1 - s)) : -1;
		}
		return true;
	}
	if (key_is(k, klen, PROTOCOL_KEY_END_MS) || key_is(k, klen, PROTOCOL_KEY_START_MS)) {
		bool is_end = key_is(k, klen, PROTOCOL_KEY_END_MS);
		r = scan_int(v, e, is_end ? &st->end_ms : &st->start_ms);
		if (r < 0)
			return false;
		if (is_end)
			st->has_end = r;
		else
			st->has_start = r;
	}
	return true;
}

/* The fast path: false when the line needs jansson. */
static bool scan_line(const char *p, size_t len, struct jindex_fields *f)
{
	const char *e = p + len;
	struct scan_state st = { 0 };

	p = skip_ws(p, e);
	if (p == e || *p++ != '{')
		return false;
	p = skip_ws(p, e);
	if (p < e && *p == '}')
		p++;
	else {
		for (;;) {
			bool esc = false;
			const char *k = p, *v;
			if (p == e || *p != '"' || !(p = skip_string(p, e, &esc)) || esc)
				return false;
			size_t klen = (size_t)(p - k) - 2;
			p = skip_ws(p, e);
			if (p == e || *p++ != ':')
				return false;
			v = skip_ws(p, e);
			if (!scan_member(k + 1, klen, v, e, f, &st) || !(p = skip_value(v, e)))
				return false;
			p = skip_ws(p, e);
			if (p < e && *p == ',') {
				p = skip_ws(p + 1, e);
				continue;
			}
			if (p == e || *p++ != '}')
				return false;
			break;
		}
	}
	if (skip_ws(p, e) != e)
		return false;
	f->record = true;
	f->has_ms = st.has_end || st.has_start;
	f->ms = st.has_end ? st.end_ms : st.start_ms;
	return true;
}

void jindex_fields_from_json(const json_t *rec, struct jindex_fields *f)
{
	const json_t *t;
	const char *res;

	*f = (struct jindex_fields){ .result = -1 };
	if (!json_is_object(rec))
		return;
	f->record = true;
	f->port = json_string_value(json_object_get(rec, PROTOCOL_KEY_PORT));
	f->port_len = f->port ? strlen(f->port) : 0;
	res = json_string_value(json_object_get(rec, PROTOCOL_KEY_RESULT));
	f->result = res ? result_index(res, strlen(res)) : -1;
	t = json_object_get(rec, PROTOCOL_KEY_END_MS);
	if (!json_is_integer(t))
		t = json_object_get(rec, PROTOCOL_KEY_START_MS);
	f->has_ms = json_is_integer(t);
	f->ms = f->has_ms ? json_integer_value(t) : 0;
}

int jindex_fields_from_line(const char *line, size_t len, struct jindex_fields *f,
			    json_t **hold)
{
	json_error_t err;

	*hold = NULL;
	*f = (struct jindex_fields){ .result = -1 };
	if (scan_line(line, len, f))
		return 0;
	*f = (struct jindex_fields){ .result = -1 };
	*hold = json_loadb(line, len, 0, &err);
	if (!*hold && json_error_code(&err) == json_error_out_of_memory)
		return -ENOMEM;
	jindex_fields_from_json(*hold, f);
	return 0;
}

/* ---- the index ---- */

struct jindex *jindex_new(void)
{
	return calloc(1, sizeof(struct jindex));
}

void jindex_reset(struct jindex *x)
{
	x->n = 0;
	x->end = 0;
}

struct jindex *jindex_free(struct jindex *x)
{
	if (!x)
		return NULL;
	for (size_t i = 0; i < x->nnames; i++)
		free(x->names[i]);
	free(x->names);
	free(x->slots);
	free(x->ent);
	free(x);
	return NULL;
}

size_t jindex_count(const struct jindex *x)
{
	return x->n;
}

int64_t jindex_end(const struct jindex *x)
{
	return x->end;
}

static size_t name_hash(const char *s, size_t len)
{
	size_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The slot of name (its id there, or the empty slot it would go to). */
static size_t name_slot(const struct jindex *x, const char *s, size_t len)
{
	size_t mask = x->nslots - 1, i = name_hash(s, len) & mask;
	for (;; i = (i + 1) & mask) {
		uint16_t id = x->slots[i];
		if (!id)
			return i;
		const char *n = x->names[id - 1];
		if (strlen(n) == len && memcmp(n, s, len) == 0)
			return i;
	}
}

static int names_grow(struct jindex *x)
{
	size_t nslots = x->nslots ? x->nslots * 2 : 64;
	uint16_t *slots = calloc(nslots, sizeof(*slots));
	char **names = realloc(x->names, (nslots / 2) * sizeof(*names));

	if (names)
		x->names = names;
	if (!slots || !names) {
		free(slots);
		return -ENOMEM;
	}
	free(x->slots);
	x->slots = slots;
	x->nslots = nslots;
	for (size_t id = 1; id <= x->nnames; id++) {
		const char *n = x->names[id - 1];
		x->slots[name_slot(x, n, strlen(n))] = (uint16_t)id;
	}
	return 0;
}

/* The id of a port name (interned), or JINDEX_PORT_NONE for a name no filter can ask for. */
static int port_intern(struct jindex *x, const char *s, size_t len, uint32_t *id)
{
	*id = JINDEX_PORT_NONE;
	if (!s || !len || len > PROTOCOL_PORT_MAX || memchr(s, 0, len))
		return 0;
	if (x->nslots && x->slots[name_slot(x, s, len)]) {
		*id = x->slots[name_slot(x, s, len)];
		return 0;
	}
	if (x->nnames == JINDEX_PORTS_MAX) {
		*id = JINDEX_PORT_OTHER;
		return 0;
	}
	if (2 * (x->nnames + 1) >= x->nslots && names_grow(x) < 0)
		return -ENOMEM;
	char *copy = strndup(s, len);
	if (!copy)
		return -ENOMEM;
	x->names[x->nnames++] = copy;
	*id = (uint32_t)x->nnames;
	x->slots[name_slot(x, s, len)] = (uint16_t)*id;
	return 0;
}

int jindex_prepare(struct jindex *x, const struct jindex_fields *f, struct jindex_slot *s)
{
	*s = (struct jindex_slot){ .result = -1 };
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		struct jindex_ent *ent = realloc(x->ent, cap * sizeof(*ent));
		if (!ent)
			return -ENOMEM;
		x->ent = ent;
		x->cap = cap;
	}
	if (!f || !f->record)
		return 0;
	s->record = true;
	s->result = f->result;
	s->has_ms = f->has_ms;
	s->ms = f->ms;
	return port_intern(x, f->port, f->port_len, &s->port);
}

void jindex_commit(struct jindex *x, int64_t off, size_t len, const struct jindex_slot *s)
{
	struct jindex_ent *e = &x->ent[x->n++];

	e->off = off;
	e->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	e->ms = s->ms;
	e->port = (uint16_t)s->port;
	e->result = s->result < 0 ? JINDEX_RESULT_NONE : (uint8_t)s->result;
	e->flags = (s->record ? JINDEX_F_RECORD : 0) | (s->has_ms ? JINDEX_F_MS : 0);
	x->end = off + (int64_t)len + 1;
}

bool jindex_line(const struct jindex *x, uint64_t line, int64_t *off, size_t *len)
{
	if (line < 1 || line > x->n)
		return false;
	*off = x->ent[line - 1].off;
	*len = x->ent[line - 1].len;
	return true;
}

/* ---- selecting a page ---- */

struct jindex_match {
	uint32_t port;    /* JINDEX_PORT_NONE: any */
	bool port_filter;
	int result;
	int64_t since_ms;
};

static bool ent_matches(const struct jindex_ent *e, const struct jindex_match *m)
{
	if (!(e->flags & JINDEX_F_RECORD))
		return false;
	if (m->port_filter && e->port != m->port && e->port != JINDEX_PORT_OTHER)
		return false;
	if (m->result != -1 && e->result != m->result)
		return false;
	if (m->since_ms > 0 && (!(e->flags & JINDEX_F_MS) || e->ms < m->since_ms))
		return false;
	return true;
}

static void match_init(const struct jindex *x, const struct jindex_query *q,
		       struct jindex_match *m)
{
	*m = (struct jindex_match){ .result = q->result, .since_ms = q->since_ms };
	if (!q->port)
		return;
	m->port_filter = true;
	m->port = JINDEX_PORT_OTHER; /* an unknown name: only OTHER entries may be it */
	size_t len = strlen(q->port);
	if (x->nslots && len && len <= PROTOCOL_PORT_MAX && x->slots[name_slot(x, q->port, len)])
		m->port = x->slots[name_slot(x, q->port, len)];
}

/* Is there a match among lines [1, below)? */
static bool match_below(const struct jindex *x, const struct jindex_match *m, uint64_t below)
{
	for (uint64_t line = below > x->n + 1 ? x->n : below - 1; line >= 1; line--)
		if (ent_matches(&x->ent[line - 1], m))
			return true;
	return false;
}

/* Take line into the page unless it is full: false then. */
static bool page_take(const struct jindex *x, const struct jindex_query *q,
		      struct jindex_page *page, uint64_t line)
{
	size_t len = x->ent[line - 1].len;

	if (page->n == q->limit || (page->n && page->bytes + len > q->budget))
		return false;
	page->lines[page->n++] = line;
	page->bytes += len;
	return true;
}

static void select_backward(const struct jindex *x, const struct jindex_query *q,
			    const struct jindex_match *m, uint64_t hi, struct jindex_page *page)
{
	bool more = false;

	for (uint64_t line = hi; line >= 1 && !more; line--)
		if (ent_matches(&x->ent[line - 1], m))
			more = !page_take(x, q, page, line);
	for (size_t i = 0; i < page->n / 2; i++) {
		uint64_t t = page->lines[i];
		page->lines[i] = page->lines[page->n - 1 - i];
		page->lines[page->n - 1 - i] = t;
	}
	page->older = more ? page->lines[0] : 0;
	page->newer = hi;
}

static void select_forward(const struct jindex *x, const struct jindex_query *q,
			   const struct jindex_match *m, uint64_t hi, struct jindex_page *page)
{
	uint64_t lo = q->after + 1, start;
	bool more = false;

	for (uint64_t line = lo; line <= hi && !more; line++)
		if (ent_matches(&x->ent[line - 1], m))
			more = !page_take(x, q, page, line);
	if (more)
		page->newer = page->lines[page->n - 1];
	else if (hi >= lo)
		page->newer = hi;
	else
		page->newer = q->after <= x->n ? q->after : x->n;
	start = page->n ? page->lines[0] : (lo <= x->n ? lo : x->n + 1);
	page->older = match_below(x, m, start) ? start : 0;
}

int jindex_select(const struct jindex *x, const struct jindex_query *q,
		  struct jindex_page *page)
{
	struct jindex_match m;
	uint64_t hi = x->n;

	*page = (struct jindex_page){ 0 };
	if (!q->limit)
		return -EINVAL;
	page->lines = malloc(q->limit * sizeof(*page->lines));
	if (!page->lines)
		return -ENOMEM;
	match_init(x, q, &m);
	if (q->before && q->before - 1 < hi)
		hi = q->before - 1;
	if (q->has_after)
		select_forward(x, q, &m, hi, page);
	else
		select_backward(x, q, &m, hi, page);
	return 0;
}
