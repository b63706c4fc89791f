/* journal: append-only JSONL results journal (design.md §6).
 *
 * One JSON object per line.  A line is written with a single write() on an
 * O_APPEND descriptor and made durable with fdatasync() before
 * journal_append() returns, so a record a client was told about survives a
 * power cut.  A power cut during the write can leave a torn last line: on
 * open, a last line without its newline or that does not parse is cut off
 * (and reported on stderr).  Queries re-read the file: it holds one short
 * line per board, and reading is cheaper than keeping an index in step.
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
#include "flashd/protocol.h"

/* Longest record line (newline included); longer records are refused by
 * journal_append and skipped by journal_query. */
#define JOURNAL_LINE_MAX (1u << 20)
#define JOURNAL_CHUNK (64u * 1024u)

struct journal {
	int fd;
	char *path;
	off_t good;       /* size after the last successful fdatasync */
	bool suspect;     /* a write or sync failed: bytes after `good` are not trusted */
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

/* Is the complete line [start, end) (newline excluded) a JSON object? */
static int line_is_record(int fd, off_t start, off_t end, bool *ok)
{
	size_t n = (size_t)(end - start);
	if (n >= JOURNAL_LINE_MAX) {
		*ok = false;
		return 0;
	}
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
	if (!j->path) {
		journal_close(j);
		return -ENOMEM;
	}
	j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	r = j->fd < 0 ? -errno : journal_size(j, &size);
	if (r == 0)
		r = journal_recover(j);
	if (r == 0)
		r = journal_size(j, &j->good);
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

int journal_append(struct journal *j, json_t *record)
{
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
		r = journal_write_line(j, line, len);
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

static bool record_matches(const json_t *rec, const struct journal_filter *f)
{
	if (!json_is_object(rec))
		return false;
	if (!f)
		return true;
	if (f->port) {
		const char *port = json_string_value(json_object_get(rec, PROTOCOL_KEY_PORT));
		if (!port || strcmp(port, f->port) != 0)
			return false;
	}
	if (f->result) {
		const char *res = json_string_value(json_object_get(rec, PROTOCOL_KEY_RESULT));
		if (!res || strcmp(res, f->result) != 0)
			return false;
	}
	if (f->since_ms > 0) {
		const json_t *t = json_object_get(rec, PROTOCOL_KEY_END_MS);
		if (!json_is_integer(t))
			t = json_object_get(rec, PROTOCOL_KEY_START_MS);
		if (!json_is_integer(t) || json_integer_value(t) < f->since_ms)
			return false;
	}
	return true;
}

/* The last `cap` matches (all if cap == 0), oldest first. */
struct journal_keep {
	json_t **ring;
	size_t cap, n, head;
	json_t *all;
};

static int keep_add(struct journal_keep *k, json_t *rec)
{
	if (!k->cap)
		return json_array_append_new(k->all, rec) < 0 ? -ENOMEM : 0;
	if (k->n == k->cap) {
		json_decref(k->ring[k->head]);
		k->ring[k->head] = rec;
		k->head = (k->head + 1) % k->cap;
		return 0;
	}
	k->ring[(k->head + k->n++) % k->cap] = rec;
	return 0;
}

static void keep_line(struct journal_keep *k, const char *line, size_t len,
		      const struct journal_filter *f, int *r)
{
	json_t *rec = json_loadb(line, len, 0, NULL);

	if (!record_matches(rec, f)) {
		json_decref(rec);
		return;
	}
	if (keep_add(k, rec) < 0)
		*r = -ENOMEM;
}

/* Feed every complete line of [0, size) to keep_line; skip over-long ones. */
static int scan_lines(struct journal *j, off_t size, const struct journal_filter *f,
		      struct journal_keep *k)
{
	char *buf = malloc(JOURNAL_LINE_MAX);
	size_t have = 0;
	bool skipping = false;
	off_t off = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (r == 0 && off < size) {
		size_t want = JOURNAL_LINE_MAX - have;
		if ((off_t)want > size - off)
			want = (size_t)(size - off);
		r = pread_full(j->fd, buf + have, want, off);
		off += (off_t)want;
		have += want;
		size_t start = 0;
		for (size_t i = 0; r == 0 && i < have; i++) {
			if (buf[i] != '\n')
				continue;
			if (!skipping)
				keep_line(k, buf + start, i - start, f, &r);
			skipping = false;
			start = i + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == JOURNAL_LINE_MAX) {
			skipping = true; /* a line too long: drop what we have of it */
			have = 0;
		}
	}
	free(buf);
	return r;
}

json_t *journal_query(struct journal *j, const struct journal_filter *f)
{
	struct journal_keep k = { .cap = f ? f->limit : 0 };
	json_t *out = NULL;
	off_t size = 0;
	int r;

	if (!j) {
		errno = EINVAL;
		return NULL;
	}
	k.all = json_array();
	if (k.cap)
		k.ring = calloc(k.cap, sizeof(*k.ring));
	r = !k.all || (k.cap && !k.ring) ? -ENOMEM : journal_size(j, &size);
	if (r == 0)
		r = scan_lines(j, size, f, &k);
	for (size_t i = 0; i < k.n; i++) {
		json_t *rec = k.ring[(k.head + i) % k.cap];
		if (r == 0 && json_array_append(k.all, rec) < 0)
			r = -ENOMEM;
		json_decref(rec);
	}
	free(k.ring);
	if (r == 0)
		out = k.all;
	else
		json_decref(k.all);
	errno = -r;
	return out;
}
