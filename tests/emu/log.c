/* log: see log.h */
#include "log.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_BOARD_MAX 64

struct log {
	int fd;
	char board[LOG_BOARD_MAX];
	uint64_t count;
};

int log_open(const char *path, const char *board, struct log **out)
{
	struct log *log;

	if (!path || !board || strlen(board) >= LOG_BOARD_MAX)
		return -EINVAL;
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log->fd < 0) {
		int r = -errno;

		free(log);
		return r;
	}
	memcpy(log->board, board, strlen(board) + 1);
	*out = log;
	return 0;
}

struct log *log_free(struct log *log)
{
	if (!log)
		return NULL;
	if (log->fd >= 0)
		close(log->fd);
	free(log);
	return NULL;
}

uint64_t log_count(const struct log *log)
{
	return log ? log->count : 0;
}

static void log_raw(struct log_ev *e, const char *s, size_t n)
{
	/* keep room for the closing "}\n" */
	if (e->full || e->len + n + 2 > sizeof(e->buf)) {
		e->full = true;
		return;
	}
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

/* escape S (N bytes) as a JSON string into OUT (room for CAP bytes, at least 3);
 * the string is cut to fit; returns the length written */
static size_t log_escape(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t k;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		} else {
			tmp[0] = (char)c;
			k = 1;
		}
		if (o + k + 1 > cap)
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	out[o++] = '"';
	return o;
}

/* append ,"KEY":VALUE as a whole, or nothing (and mark the line full) */
static void log_field(struct log_ev *e, const char *key, const char *val, size_t vlen)
{
	char k[80];
	size_t kn = log_escape(k, sizeof(k), key, strlen(key));

	if (e->full || e->len + 1 + kn + 1 + vlen + 2 > sizeof(e->buf)) {
		e->full = true;
		return;
	}
	log_raw(e, ",", 1);
	log_raw(e, k, kn);
	log_raw(e, ":", 1);
	log_raw(e, val, vlen);
}

static void log_field_str(struct log_ev *e, const char *key, const char *s, size_t n)
{
	char v[LOG_LINE_MAX / 2];
	size_t room = sizeof(e->buf) - e->len;
	size_t cap = room > 96 ? room - 96 : 3;

	if (cap > sizeof(v))
		cap = sizeof(v);
	if (cap < 3)
		cap = 3;
	log_field(e, key, v, log_escape(v, cap, s, n));
}

void log_begin(struct log_ev *e, struct log *log, const char *ev)
{
	char tmp[LOG_BOARD_MAX * 6 + 64];
	size_t n;

	e->log = log;
	e->len = 0;
	e->full = false;
	if (!log)
		return;
	n = (size_t)snprintf(tmp, sizeof(tmp), "{\"ts\":%llu,\"board\":",
			     (unsigned long long)util_now_ns());
	n += log_escape(tmp + n, sizeof(tmp) - n, log->board, strlen(log->board));
	log_raw(e, tmp, n);
	log_field_str(e, "ev", ev, strlen(ev));
}

void log_str(struct log_ev *e, const char *key, const char *val)
{
	if (!e->log)
		return;
	if (!val)
		log_field(e, key, "null", 4);
	else
		log_field_str(e, key, val, strlen(val));
}

void log_strn(struct log_ev *e, const char *key, const char *val, size_t len)
{
	if (e->log)
		log_field_str(e, key, val, len);
}

void log_u64(struct log_ev *e, const char *key, uint64_t v)
{
	char tmp[32];

	if (e->log)
		log_field(e, key, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v));
}

void log_i64(struct log_ev *e, const char *key, int64_t v)
{
	char tmp[32];

	if (e->log)
		log_field(e, key, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%lld", (long long)v));
}

void log_hex32(struct log_ev *e, const char *key, uint32_t v)
{
	char tmp[16];

	if (e->log)
		log_field(e, key, tmp, (size_t)snprintf(tmp, sizeof(tmp), "\"0x%08x\"", v));
}

void log_bool(struct log_ev *e, const char *key, bool v)
{
	if (e->log)
		log_field(e, key, v ? "true" : "false", v ? 4 : 5);
}

int log_end(struct log_ev *e)
{
	struct log *log = e->log;
	size_t off = 0;

	if (!log)
		return 0;
	/* log_raw always leaves room for these two bytes */
	e->buf[e->len++] = '}';
	e->buf[e->len++] = '\n';
	while (off < e->len) {
		ssize_t n = write(log->fd, e->buf + off, e->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	log->count++;
	return 0;
}

void log_simple(struct log *log, const char *ev)
{
	struct log_ev e;

	log_begin(&e, log, ev);
	log_end(&e);
}

void log_simple_str(struct log *log, const char *ev, const char *key, const char *val)
{
	struct log_ev e;

	log_begin(&e, log, ev);
	log_str(&e, key, val);
	log_end(&e);
}
