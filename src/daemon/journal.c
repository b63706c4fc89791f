/* journal: append-only JSONL results journal (design.md §6).
 *
 * One JSON object per line.  A line is written with a single write() on an
 * O_APPEND descriptor and made durable with fdatasync() before
 * journal_append() returns, so a record a client was told about survives a
 * power cut.  A power cut during the write can leave a torn last line: on
 * open, a last line without its newline or that does not parse is cut off
 * (and reported on stderr); a complete line is never cut for its length.
 *
 * Queries do not read the file: an index of every line (journal_index.c),
 * built at open and extended by each append, picks a page (journal_page_new,
 * on the loop), and only the page's lines are read and checked
 * (journal_page_read, on the control server's history thread). A page
 * holds at most PROTOCOL_HISTORY_BYTES_MAX bytes of records, so what one
 * query reads and what its reply holds are bounded however large the
 * journal grows
 * (docs/design-notes.md "History from an index of the journal, read on a
 * thread").
 *
 * A failed append leaves nothing behind: the journal remembers the size it
 * had after its last successful fdatasync() (the last known-good offset).
 * A write refused whole (ENOSPC, EDQUOT, EFBIG) wrote nothing; a short
 * write is cut back at once. After any other failed write() or fdatasync()
 * (EIO, ENOSPC at writeback) the state of the bytes after that offset is
 * unknown -- Linux may have marked the dirty pages clean without writing
 * them and reports the error only once -- so the next append first opens
 * the file again (onto the same descriptor number), cuts it back to the
 * known-good offset and syncs that, then writes its line: a record the
 * caller retries is in the file once, never torn, never twice. */
#include "daemon/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/journal_index.h"
#include "flashd/protocol.h"

#define JOURNAL_CHUNK (64u * 1024u)

struct journal {
	int fd;
	char *path;
	off_t good;       /* size after the last successful fdatasync */
	bool suspect;     /* a write or sync failed: bytes after `good` are not trusted */
	struct jindex *idx;
	uint64_t query_bytes; /* read by queries, for tests and the benchmark */
};

static int journal_size(struct journal *j, off_t *size)
{
	struct stat st;
	if (fstat(j->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = st.st_size;
	return 0;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* Offset just after the last '\n' before `end` (0 if none). */
static int last_newline(int fd, off_t end, off_t *after, char *buf)
{
	off_t pos = end;
	while (pos > 0) {
		size_t n = pos > (off_t)JOURNAL_CHUNK ? JOURNAL_CHUNK : (size_t)pos;
		int r = pread_full(fd, buf, n, pos - (off_t)n);
		if (r < 0)
			return r;
		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				*after = pos - (off_t)n + (off_t)i;
				return 0;
			}
		}
		pos -= (off_t)n;
	}
	*after = 0;
	return 0;
}

/* A complete line too long to parse here: it is kept unless it shows what a
 * lost block leaves (a NUL byte), or does not look like an object at its
 * ends. Read in chunks: bounded memory for a line of any length. */
static int long_line_is_record(int fd, off_t start, off_t end, bool *ok)
{
	char *buf = malloc(JOURNAL_CHUNK);
	off_t pos = start;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	*ok = true;
	while (r == 0 && *ok && pos < end) {
		size_t n = end - pos > (off_t)JOURNAL_CHUNK ? JOURNAL_CHUNK : (size_t)(end - pos);
		r = pread_full(fd, buf, n, pos);
		if (r == 0 && (memchr(buf, 0, n) || (pos == start && buf[0] != '{') ||
			       (pos + (off_t)n == end && buf[n - 1] != '}')))
			*ok = false;
		pos += (off_t)n;
	}
	free(buf);
	return r;
}

/* Is the complete line [start, end) (newline excluded) a JSON object? */
static int line_is_record(int fd, off_t start, off_t end, bool *ok)
{
	size_t n = (size_t)(end - start);
	if (n >= JOURNAL_LINE_MAX)
		return long_line_is_record(fd, start, end, ok);
	char *line = malloc(n + 1);
	if (!line)
		return -ENOMEM;
	int r = pread_full(fd, line, n, start);
	if (r == 0) {
		json_t *v = json_loadb(line, n, 0, NULL);
		*ok = json_is_object(v);
		json_decref(v);
	}
	free(line);
	return r;
}

/* Cut a torn last line away: one without a newline, or one that does not parse. */
static int journal_recover(struct journal *j)
{
	char *buf = malloc(JOURNAL_CHUNK);
	off_t size = 0, keep = 0;
	const char *why = NULL;
	bool ok = true;
	int r;

	if (!buf)
		return -ENOMEM;
	r = journal_size(j, &size);
	if (r == 0 && size > 0)
		r = last_newline(j->fd, size, &keep, buf);
	if (r == 0 && size > 0 && keep != size) {
		why = "no newline at its end";
	} else if (r == 0 && size > 0) {
		off_t start;
		r = last_newline(j->fd, size - 1, &start, buf);
		if (r == 0)
			r = line_is_record(j->fd, start, size - 1, &ok);
		keep = start;
		if (r == 0 && !ok)
			why = "not a JSON object";
	}
	free(buf);
	if (r < 0 || !why)
		return r;
	log_warning("journal %s: dropping a torn last line (%lld bytes at offset %lld: %s)",
		    j->path, (long long)(size - keep), (long long)keep, why);
	if (ftruncate(j->fd, keep) < 0 || fdatasync(j->fd) < 0)
		return -errno;
	return 0;
}

/* ---- the index ---- */

static int index_one(struct journal *j, off_t off, const char *line, size_t len)
{
	struct jindex_fields f;
	struct jindex_slot slot;
	json_t *hold = NULL;
	int r = 0;

	if (line)
		r = jindex_fields_from_line(line, len, &f, &hold);
	if (r == 0)
		r = jindex_prepare(j->idx, line ? &f : NULL, &slot);
	if (r == 0)
		jindex_commit(j->idx, off, len, &slot);
	json_decref(hold);
	return r;
}

/* Index the complete lines of [from, size): a line longer than
 * JOURNAL_LINE_MAX gets an entry that matches nothing, a last line without
 * its newline none. Memory: one JOURNAL_LINE_MAX buffer. */
static int index_lines(struct journal *j, off_t from, off_t size)
{
	char *buf = malloc(JOURNAL_LINE_MAX);
	off_t buf_off = from, rd = from, skip_from = -1;
	size_t have = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (r == 0 && rd < size) {
		size_t want = JOURNAL_LINE_MAX - have, start = 0;
		if ((off_t)want > size - rd)
			want = (size_t)(size - rd);
		r = pread_full(j->fd, buf + have, want, rd);
		rd += (off_t)want;
		have += want;
		for (char *nl; r == 0 && (nl = memchr(buf + start, '\n', have - start));) {
			size_t i = (size_t)(nl - buf);
			if (skip_from >= 0)
				r = index_one(j, skip_from, NULL, (size_t)(buf_off + (off_t)i - skip_from));
			else
				r = index_one(j, buf_off + (off_t)start, buf + start, i - start);
			skip_from = -1;
			start = i + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		buf_off += (off_t)start;
		if (have == JOURNAL_LINE_MAX) {
			if (skip_from < 0)
				skip_from = buf_off; /* too long to parse: an entry without fields */
			buf_off += (off_t)have;
			have = 0;
		}
	}
	free(buf);
	return r;
}

/* Bring the index in step with a file of `size` bytes: lines someone else
 * appended are indexed, a file that shrank is indexed again. */
static int index_sync(struct journal *j, off_t size)
{
	if (size < jindex_end(j->idx))
		jindex_reset(j->idx);
	if (size > jindex_end(j->idx))
		return index_lines(j, jindex_end(j->idx), size);
	return 0;
}

int journal_open(const char *path, struct journal **out)
{
	struct journal *j;
	off_t size = 0;
	int r;

	if (!path || !*path || !out)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->path = strdup(path);
	j->idx = jindex_new();
	if (!j->path || !j->idx) {
		journal_close(j);
		return -ENOMEM;
	}
	j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	r = j->fd < 0 ? -errno : journal_size(j, &size);
	if (r == 0)
		r = journal_recover(j);
	if (r == 0)
		r = journal_size(j, &size);
	if (r == 0)
		j->good = size;
	if (r == 0 && (r = index_lines(j, 0, size)) < 0) {
		/* appends need no index: queries try again (and say why if they fail) */
		log_warning_errno(r, "journal %s: cannot index it", path);
		jindex_reset(j->idx);
		r = 0;
	}
	if (r < 0) {
		journal_close(j);
		return r;
	}
	*out = j;
	return 0;
}

struct journal *journal_close(struct journal *j)
{
	if (!j)
		return NULL;
	if (j->fd >= 0)
		close(j->fd);
	jindex_free(j->idx);
	free(j->path);
	free(j);
	return NULL;
}

/* After a failed write or sync: the same path opened again onto the same
 * descriptor number (a reader holding j->fd keeps a valid descriptor), cut
 * back to the last known-good offset, and that made durable. A file that
 * is now shorter than that offset was changed behind our back: its torn
 * last line is cut as at start and its size becomes the good one. */
static int journal_repair(struct journal *j)
{
	off_t size = 0;
	int fd, r;

	fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return -errno;
	r = dup3(fd, j->fd, O_CLOEXEC) < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		r = journal_size(j, &size);
	if (r == 0 && size > j->good && ftruncate(j->fd, j->good) < 0)
		r = -errno;
	if (r == 0 && size < j->good) {
		log_warning("journal %s: %lld bytes long, %lld were written: changed by someone else",
			    j->path, (long long)size, (long long)j->good);
		r = journal_recover(j);
		if (r == 0)
			r = journal_size(j, &j->good);
	}
	if (r == 0 && fdatasync(j->fd) < 0)
		r = -errno;
	if (r == 0) {
		log_notice("journal %s: cut back to %lld bytes, the last synced record",
			   j->path, (long long)j->good);
		j->suspect = false;
		jindex_reset(j->idx);   /* it may name lines that were cut: built again */
	}
	return r;
}

static int journal_write_line(struct journal *j, const char *line, size_t len)
{
	ssize_t n;

	do
		n = write(j->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n == len)
		return 0;
	if (n < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG))
		return -errno;   /* refused whole: nothing was written */
	j->suspect = true;
	if (n < 0)
		return -errno;
	/* a short write (disk full): take the piece back, nothing torn stays */
	if (ftruncate(j->fd, j->good) == 0)
		j->suspect = false;
	return -ENOSPC;
}

/* Everything a new line's index entry needs that may fail, before it is written. */
static int index_prepare(struct journal *j, off_t size, const json_t *record,
			 struct jindex_slot *slot)
{
	struct jindex_fields f;
	int r = index_sync(j, size);

	jindex_fields_from_json(record, &f);
	return r < 0 ? r : jindex_prepare(j->idx, &f, slot);
}

int journal_append(struct journal *j, json_t *record)
{
	struct jindex_slot slot;
	off_t before = 0;
	bool indexed;
	char *line;
	size_t len;
	int r = 0;

	if (!j || !json_is_object(record))
		return -EINVAL;
	len = json_dumpb(record, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (len == 0)
		return -EINVAL;
	if (len + 1 > JOURNAL_LINE_MAX)
		return -E2BIG;
	line = malloc(len + 1);
	if (!line)
		return -ENOMEM;
	json_dumpb(record, line, len, JSON_COMPACT | JSON_PRESERVE_ORDER);
	line[len++] = '\n';
	if (j->suspect)
		r = journal_repair(j);
	if (r == 0)
		r = journal_size(j, &before);
	/* the record goes in even if its index entry cannot: the index is then
	 * built again by the next query */
	indexed = r == 0 && index_prepare(j, before, record, &slot) == 0;
	if (r == 0 && !indexed)
		jindex_reset(j->idx);
	if (r == 0)
		r = journal_write_line(j, line, len);
	if (r == 0 && indexed && before == jindex_end(j->idx))
		jindex_commit(j->idx, before, len - 1, &slot);
	free(line);
	if (r == 0 && fdatasync(j->fd) < 0) {
		r = -errno;
		j->suspect = true;
	}
	if (r == 0)
		j->good += (off_t)len;
	return r;
}

/* ---- queries ---- */

/* A page: chosen on the loop from the index, read anywhere. */
struct journal_page {
	int fd;                 /* a dup of the journal's: the page outlives nothing */
	struct journal_filter f;
	char *port, *result;    /* f's strings, copied */
	struct {
		int64_t off;
		size_t len;
	} *at;
	size_t n, bytes;
	uint64_t older, newer;
};

/* The filter again, on a parsed record: the index may only say "maybe"
 * (a port name it had no room for), and a line may have changed. */
static bool record_matches(const json_t *rec, const struct journal_filter *f)
{
	struct jindex_fields got;

	jindex_fields_from_json(rec, &got);
	if (!got.record)
		return false;
	if (f->port && (!got.port || strcmp(got.port, f->port) != 0))
		return false;
	if (f->result) {
		const char *res = json_string_value(json_object_get(rec, PROTOCOL_KEY_RESULT));
		if (!res || strcmp(res, f->result) != 0)
			return false;
	}
	return f->since_ms <= 0 || (got.has_ms && got.ms >= f->since_ms);
}

struct journal_page *journal_page_free(struct journal_page *p)
{
	if (!p)
		return NULL;
	if (p->fd >= 0)
		close(p->fd);
	free(p->port);
	free(p->result);
	free(p->at);
	free(p);
	return NULL;
}

static int page_fill(struct journal *j, struct journal_page *p, const struct jindex_page *sel)
{
	p->at = calloc(sel->n ? sel->n : 1, sizeof(*p->at));
	if (!p->at)
		return -ENOMEM;
	for (size_t i = 0; i < sel->n; i++)
		if (jindex_line(j->idx, sel->lines[i], &p->at[p->n].off, &p->at[p->n].len))
			p->bytes += p->at[p->n++].len;
	p->older = sel->older;
	p->newer = sel->newer;
	j->query_bytes += p->bytes;
	return 0;
}

int journal_page_new(struct journal *j, const struct journal_filter *f,
		     struct journal_page **out)
{
	static const struct journal_filter none = { 0 };
	struct jindex_page sel = { 0 };
	struct journal_page *p;
	off_t size = 0;
	int r;

	if (!j || !out)
		return -EINVAL;
	f = f ? f : &none;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->f = *f;
	p->fd = fcntl(j->fd, F_DUPFD_CLOEXEC, 0);
	p->port = f->port ? strdup(f->port) : NULL;
	p->result = f->result ? strdup(f->result) : NULL;
	p->f.port = p->port;
	p->f.result = p->result;
	r = p->fd < 0 ? -errno : (f->port && !p->port) || (f->result && !p->result) ? -ENOMEM : 0;
	struct jindex_query q = {
		.port = f->port, .result = jindex_result(f->result), .since_ms = f->since_ms,
		.before = f->before, .has_after = f->has_after, .after = f->after,
		.limit = f->limit && f->limit < PROTOCOL_HISTORY_MAX ? f->limit : PROTOCOL_HISTORY_MAX,
		.budget = f->budget ? f->budget : PROTOCOL_HISTORY_BYTES_MAX,
	};
	if (r == 0)
		r = journal_size(j, &size);
	if (r == 0)
		r = index_sync(j, size);
	if (r == 0)
		r = jindex_select(j->idx, &q, &sel);
	if (r == 0)
		r = page_fill(j, p, &sel);
	free(sel.lines);
	if (r < 0) {
		journal_page_free(p);
		return r;
	}
	*out = p;
	return 0;
}

static size_t put_cursor(char *out, const char *key, uint64_t c)
{
	if (!c)
		return (size_t)sprintf(out, ",\"%s\":null", key);
	return (size_t)sprintf(out, ",\"%s\":%llu", key, (unsigned long long)c);
}

/* Each line is read straight into the text and kept there only if jansson
 * reads it as a record that passes the filter: the text is valid JSON
 * without being encoded again. */
int journal_page_read(struct journal_page *p, char **text, size_t *len)
{
	static const char head[] = "\"" PROTOCOL_KEY_RECORDS "\":[";
	size_t cap = sizeof(head) + p->bytes + p->n + 2 * 40 + 64, pos = sizeof(head) - 1;
	char *out = malloc(cap);
	int r = 0;

	if (!out)
		return -ENOMEM;
	memcpy(out, head, pos);
	for (size_t i = 0; r == 0 && i < p->n; i++) {
		r = pread_full(p->fd, out + pos, p->at[i].len, p->at[i].off);
		json_t *rec = r == 0 ? json_loadb(out + pos, p->at[i].len, 0, NULL) : NULL;
		if (rec && record_matches(rec, &p->f)) {
			pos += p->at[i].len;
			out[pos++] = ',';
		}
		json_decref(rec);
	}
	if (r < 0) {
		free(out);
		return r;
	}
	if (out[pos - 1] == ',')
		pos--;
	out[pos++] = ']';
	pos += put_cursor(out + pos, PROTOCOL_KEY_OLDER, p->older);
	pos += put_cursor(out + pos, PROTOCOL_KEY_NEWER, p->newer);
	*text = out;
	*len = pos;
	return 0;
}

json_t *journal_query(struct journal *j, const struct journal_filter *f)
{
	struct journal_page *p = NULL;
	json_t *out = NULL;
	char *text = NULL;
	size_t len;
	int r = journal_page_new(j, f, &p);

	if (r == 0)
		r = journal_page_read(p, &text, &len);
	journal_page_free(p);
	if (r == 0) {
		/* "{" + fields + "}": the text the reply carries, as JSON */
		char *obj = malloc(len + 2);
		if (obj) {
			obj[0] = '{';
			memcpy(obj + 1, text, len);
			obj[len + 1] = '}';
			out = json_loadb(obj, len + 2, 0, NULL);
		}
		r = out ? 0 : -ENOMEM;
		free(obj);
	}
	free(text);
	errno = -r;
	return out;
}

uint64_t journal_query_bytes(const struct journal *j)
{
	return j ? j->query_bytes : 0;
}
