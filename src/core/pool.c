/* pool: the values of a pool (serial numbers, MAC addresses, list lines),
 * their fingerprint, and the ${pool:NAME[:K]} variables of plan lines.
 * Pure except pool_def_load_list, which reads the list file. */
#include "flashd/pool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/sha256.h"

#define POOL_FORMAT_WIDTH_MAX 64u /* %0Nu: N at most this */

const char *pool_kind_to_string(enum pool_kind k)
{
	switch (k) {
	case POOL_KIND_SERIAL:
		return "serial";
	case POOL_KIND_MAC:
		return "mac";
	case POOL_KIND_LIST:
		return "list";
	}
	return "?";
}

const char *pool_backend_to_string(enum pool_backend b)
{
	switch (b) {
	case POOL_BACKEND_SQLITE:
		return "sqlite";
	case POOL_BACKEND_POSTGRESQL:
		return "postgresql";
	}
	return "?";
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

bool pool_name_valid(const char *s)
{
	size_t n;

	if (!s || !is_alpha(s[0]))
		return false;
	for (n = 1; s[n]; n++)
		if (!name_char(s[n]))
			return false;
	return n <= POOL_NAME_MAX;
}

/* The bytes a value may hold: one word for U-Boot's command parser
 * (common/cli_simple.c, common/cli_hush.c split on blanks and ';', expand
 * '$', take quotes and '\\'), none of which is here. */
static bool value_char(char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("+/=:._@,-", c));
}

bool pool_value_valid(const char *s)
{
	size_t n;

	if (!s || !s[0])
		return false;
	for (n = 0; s[n]; n++)
		if (!value_char(s[n]))
			return false;
	return n <= POOL_VALUE_MAX;
}

static void whyf(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- serial formats ---- */

/* The one conversion of a format: where it starts and ends in the text. */
struct fmt_conv {
	size_t off, len; /* of "%08u" in the format */
	unsigned width;
	bool zero;
	char conv; /* 'u', 'x' or 'X' */
};

/* The conversion at f (f[0] == '%', not "%%"): its length, or 0 if refused. */
static size_t fmt_conv_at(const char *f, struct fmt_conv *c)
{
	size_t i = 1;
	unsigned w = 0;

	c->zero = false;
	if (f[i] == '0') {
		c->zero = true;
		i++;
	}
	if (c->zero && !is_digit(f[i]))
		return 0; /* "%0u": a zero flag without a width */
	while (is_digit(f[i])) {
		w = w * 10 + (unsigned)(f[i] - '0');
		if (w > POOL_FORMAT_WIDTH_MAX)
			return 0;
		i++;
	}
	if (f[i] != 'u' && f[i] != 'x' && f[i] != 'X')
		return 0;
	c->width = w;
	c->conv = f[i];
	return i + 1;
}

static int fmt_parse(const char *f, struct fmt_conv *out, char *why, size_t whylen)
{
	size_t nconv = 0;

	if (!f || !f[0]) {
		whyf(why, whylen, "empty format");
		return -EINVAL;
	}
	for (size_t i = 0; f[i];) {
		struct fmt_conv c;
		size_t n;

		if (f[i] != '%') {
			if (!value_char(f[i])) {
				whyf(why, whylen,
				     "format '%s': '%c' is not allowed (letters, digits, "
				     "+ / = : . _ @ , - and %%%% only)",
				     f, f[i]);
				return -EINVAL;
			}
			i++;
			continue;
		}
		if (f[i + 1] == '%') {
			i += 2;
			continue;
		}
		n = fmt_conv_at(f + i, &c);
		if (!n) {
			whyf(why, whylen,
			     "format '%s': bad conversion at '%.8s' (%%u, %%Nu, %%0Nu, %%x, %%X "
			     "with N at most %u)",
			     f, f + i, POOL_FORMAT_WIDTH_MAX);
			return -EINVAL;
		}
		c.off = i;
		c.len = n;
		if (++nconv > 1) {
			whyf(why, whylen, "format '%s' has more than one conversion", f);
			return -EINVAL;
		}
		*out = c;
		i += n;
	}
	if (!nconv) {
		whyf(why, whylen, "format '%s' has no conversion (%%u, %%0Nu, %%x …)", f);
		return -EINVAL;
	}
	return 0;
}

int pool_format_check(const char *format, char *why, size_t whylen)
{
	struct fmt_conv c;

	return fmt_parse(format, &c, why, whylen);
}

/* format with v in it: the length it has (as snprintf), written if it fits */
static size_t fmt_render(const char *f, const struct fmt_conv *c, uint64_t v, char *out,
			 size_t outlen)
{
	char num[POOL_FORMAT_WIDTH_MAX + 24];
	size_t n = 0;

	if (c->conv == 'u')
		snprintf(num, sizeof(num), c->zero ? "%0*" PRIu64 : "%*" PRIu64, (int)c->width, v);
	else if (c->conv == 'x')
		snprintf(num, sizeof(num), c->zero ? "%0*" PRIx64 : "%*" PRIx64, (int)c->width, v);
	else
		snprintf(num, sizeof(num), c->zero ? "%0*" PRIX64 : "%*" PRIX64, (int)c->width, v);
	for (size_t i = 0; f[i];) {
		const char *piece = f + i;
		size_t plen = 1;

		if (i == c->off) {
			piece = num;
			plen = strlen(num);
			i += c->len;
		} else if (f[i] == '%') { /* "%%" */
			i += 2;
		} else {
			i++;
		}
		for (size_t k = 0; k < plen; k++, n++)
			if (n + 1 < outlen)
				out[n] = piece[k];
	}
	if (outlen)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

/* ---- values ---- */

uint64_t pool_size(const struct pool_def *d)
{
	switch (d->kind) {
	case POOL_KIND_SERIAL:
	case POOL_KIND_MAC:
		if (d->end < d->start)
			return 0;
		if (d->end - d->start == UINT64_MAX)
			return UINT64_MAX; /* the whole 64-bit range: one short */
		return d->end - d->start + 1;
	case POOL_KIND_LIST:
		return d->nvalues;
	}
	return 0;
}

uint64_t pool_blocks(const struct pool_def *d)
{
	return d->count ? pool_size(d) / d->count : 0;
}

int pool_value(const struct pool_def *d, uint64_t index, char *out, size_t outlen)
{
	struct fmt_conv c;
	size_t n;

	if (index >= pool_size(d))
		return -ERANGE;
	switch (d->kind) {
	case POOL_KIND_SERIAL:
		if (fmt_parse(d->format, &c, NULL, 0) < 0)
			return -EINVAL;
		n = fmt_render(d->format, &c, d->start + index, out, outlen);
		break;
	case POOL_KIND_MAC: {
		uint64_t a = d->start + index;

		if (a > 0xffffffffffffULL)
			return -ERANGE;
		n = (size_t)snprintf(out, outlen, "%02x:%02x:%02x:%02x:%02x:%02x",
				     (unsigned)(a >> 40) & 0xff, (unsigned)(a >> 32) & 0xff,
				     (unsigned)(a >> 24) & 0xff, (unsigned)(a >> 16) & 0xff,
				     (unsigned)(a >> 8) & 0xff, (unsigned)a & 0xff);
		break;
	}
	case POOL_KIND_LIST:
		n = (size_t)snprintf(out, outlen, "%s", d->values[index]);
		break;
	default:
		return -EINVAL;
	}
	return n < outlen ? 0 : -ENOSPC;
}

size_t pool_value_max_len(const struct pool_def *d)
{
	struct fmt_conv c;
	size_t m = 0;

	switch (d->kind) {
	case POOL_KIND_SERIAL:
		/* widths are minimums and the numbers grow: the end is the longest */
		if (fmt_parse(d->format, &c, NULL, 0) < 0)
			return 0;
		return fmt_render(d->format, &c, d->end, NULL, 0);
	case POOL_KIND_MAC:
		return 17;
	case POOL_KIND_LIST:
		for (size_t i = 0; i < d->nvalues; i++) {
			size_t l = strlen(d->values[i]);

			if (l > m)
				m = l;
		}
		return m;
	}
	return 0;
}

int pool_fingerprint_n(const struct pool_def *d, uint64_t n_values, char *out, size_t outlen)
{
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 s;
	uint8_t dig[SHA256_DIGEST_LEN];
	size_t nv = n_values < d->nvalues ? (size_t)n_values : d->nvalues;
	int n = -1;

	switch (d->kind) {
	case POOL_KIND_SERIAL:
		n = snprintf(out, outlen, "serial %s from %" PRIu64 " count %" PRIu32,
			     d->format ? d->format : "", d->start, d->count);
		break;
	case POOL_KIND_MAC:
		n = snprintf(out, outlen, "mac from %012" PRIx64 " count %" PRIu32, d->start,
			     d->count);
		break;
	case POOL_KIND_LIST:
		sha256_init(&s);
		for (size_t i = 0; i < nv; i++) {
			if (i)
				sha256_update(&s, "\n", 1);
			sha256_update(&s, d->values[i], strlen(d->values[i]));
		}
		sha256_final(&s, dig);
		sha256_to_hex(dig, hex);
		n = snprintf(out, outlen, "list sha256:%s %zu count %" PRIu32, hex, nv, d->count);
		break;
	}
	if (n < 0)
		return -EINVAL;
	return (size_t)n < outlen ? 0 : -ENOSPC;
}

int pool_fingerprint(const struct pool_def *d, char *out, size_t outlen)
{
	return pool_fingerprint_n(d, pool_blocks(d) * d->count, out, outlen);
}

int pool_def_check(const struct pool_def *d, char *why, size_t whylen)
{
	char first[POOL_VALUE_MAX + 1];
	size_t maxlen;
	int r;

	if (d->count < 1 || d->count > POOL_COUNT_MAX) {
		whyf(why, whylen, "count %" PRIu32 " is not 1 … %u", d->count, POOL_COUNT_MAX);
		return -EINVAL;
	}
	switch (d->kind) {
	case POOL_KIND_SERIAL:
		r = pool_format_check(d->format, why, whylen);
		if (r < 0)
			return r;
		if (d->start > d->end) {
			whyf(why, whylen, "start %" PRIu64 " is above end %" PRIu64, d->start,
			     d->end);
			return -EINVAL;
		}
		maxlen = pool_value_max_len(d);
		if (maxlen > POOL_VALUE_MAX) {
			whyf(why, whylen, "format '%s' makes values of %zu bytes (at most %u)",
			     d->format, maxlen, POOL_VALUE_MAX);
			return -EINVAL;
		}
		break;
	case POOL_KIND_MAC:
		if (d->start > 0xffffffffffffULL || d->end > 0xffffffffffffULL) {
			whyf(why, whylen, "MAC addresses have 48 bits");
			return -EINVAL;
		}
		if (d->start > d->end) {
			whyf(why, whylen, "range start %012" PRIx64 " is above its end %012" PRIx64,
			     d->start, d->end);
			return -EINVAL;
		}
		break;
	case POOL_KIND_LIST:
		break;
	default:
		whyf(why, whylen, "unknown kind");
		return -EINVAL;
	}
	if (pool_size(d) < d->count) {
		whyf(why, whylen, "count %" PRIu32 " is larger than the pool (%" PRIu64 " values)",
		     d->count, pool_size(d));
		return -EINVAL;
	}
	r = pool_value(d, 0, first, sizeof(first));
	if (r < 0) {
		whyf(why, whylen, "the first value does not fit %u bytes", POOL_VALUE_MAX);
		return r;
	}
	return 0;
}

/* ---- list files ---- */

struct list_line {
	char *value;
	unsigned line;
};

static int list_line_cmp(const void *a, const void *b)
{
	const struct list_line *x = a, *y = b;
	int c = strcmp(x->value, y->value);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void values_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The first line (in file order) repeating an earlier value: 0 or -EEXIST. */
static int list_find_duplicate(char **values, const unsigned *lines, size_t n, unsigned *dup_line,
			       unsigned *first_line, size_t *dup_index)
{
	struct list_line *s;
	bool found = false;

	if (n < 2)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = (struct list_line){.value = values[i], .line = lines[i]};
	qsort(s, n, sizeof(*s), list_line_cmp);
	for (size_t i = 0; i + 1 < n; i++) {
		/* the first of a run of equals is the value's first line */
		size_t r = i;

		while (i + 1 < n && !strcmp(s[i + 1].value, s[r].value))
			i++;
		if (i > r && (!found || s[r + 1].line < *dup_line)) {
			found = true;
			*dup_line = s[r + 1].line;
			*first_line = s[r].line;
		}
	}
	if (found)
		for (size_t i = 0; i < n; i++)
			if (lines[i] == *dup_line)
				*dup_index = i;
	free(s);
	return found ? -EEXIST : 0;
}

#define POOL_LIST_LINE_MAX 4096u /* bytes of a line kept (a longer comment is fine) */
#define LIST_EOF ((size_t)-1)
#define LIST_NUL ((size_t)1 << 62)  /* list_line: the line holds a NUL byte */
#define LIST_LONG ((size_t)1 << 61) /* list_line: longer than the buffer (cut) */
#define LIST_LEN (LIST_LONG - 1)

/* The list file, a regular file (not a FIFO or a device that never ends):
 * NULL with *r and why when not. */
static FILE *list_open(const char *path, char *why, size_t whylen, int *r)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	FILE *f;

	if (fd < 0) {
		*r = -errno;
		whyf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*r = -EINVAL;
		whyf(why, whylen, "%s: not a regular file", path);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*r = -errno;
		close(fd);
		whyf(why, whylen, "%s: %s", path, strerror(-*r));
	}
	return f;
}

/* The next line without its newline into buf (NUL-terminated, cut at
 * cap - 1 bytes): its kept length | LIST_NUL | LIST_LONG, or LIST_EOF. */
static size_t list_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0, flags = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			flags |= LIST_NUL;
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			flags |= LIST_LONG;
	}
	buf[n] = '\0';
	if (c == EOF && !n && !flags)
		return LIST_EOF;
	return n | flags;
}

int pool_def_load_list(struct pool_def *d, char *why, size_t whylen)
{
	char buf[POOL_LIST_LINE_MAX + 1], **values = NULL;
	size_t got;
	unsigned *lines = NULL;
	size_t n = 0, cap = 0;
	unsigned line = 0;
	FILE *f;
	int r = 0;

	if (!d->file) {
		whyf(why, whylen, "list pool without a file");
		return -EINVAL;
	}
	f = list_open(d->file, why, whylen, &r);
	if (!f)
		return r;
	while ((got = list_line(f, buf, sizeof(buf))) != LIST_EOF) {
		size_t len = got & LIST_LEN, b = 0;

		line++;
		if (got & LIST_NUL) {
			whyf(why, whylen, "%s:%u: NUL byte", d->file, line);
			r = -EINVAL;
			goto out;
		}
		if (got & LIST_LONG && buf[strspn(buf, " \t")] != '#') {
			whyf(why, whylen, "%s:%u: line longer than %zu bytes", d->file, line,
			     sizeof(buf) - 1);
			r = -EINVAL;
			goto out;
		}
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			buf[--len] = '\0';
		while (buf[b] == ' ' || buf[b] == '\t')
			b++;
		if (!buf[b] || buf[b] == '#')
			continue;
		if (!pool_value_valid(buf + b)) {
			whyf(why, whylen,
			     "%s:%u: '%s' is not a value (1 to %u bytes of letters, digits and "
			     "+ / = : . _ @ , -)",
			     d->file, line, buf + b, POOL_VALUE_MAX);
			r = -EINVAL;
			goto out;
		}
		if (n == POOL_LIST_MAX) {
			whyf(why, whylen, "%s:%u: more than %u values", d->file, line,
			     POOL_LIST_MAX);
			r = -E2BIG;
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(values, nc * sizeof(*nv));
			unsigned *nl;

			if (!nv) {
				r = -ENOMEM;
				goto oom;
			}
			values = nv;
			nl = realloc(lines, nc * sizeof(*nl));
			if (!nl) {
				r = -ENOMEM;
				goto oom;
			}
			lines = nl;
			cap = nc;
		}
		values[n] = strdup(buf + b);
		if (!values[n]) {
			r = -ENOMEM;
			goto oom;
		}
		lines[n++] = line;
	}
	if (ferror(f)) {
		r = -EIO;
		whyf(why, whylen, "%s: read error", d->file);
		goto out;
	}
	if (!n) {
		whyf(why, whylen, "%s: no values", d->file);
		r = -EINVAL;
		goto out;
	}
	{
		unsigned dup = 0, first = 0;
		size_t di = 0;

		r = list_find_duplicate(values, lines, n, &dup, &first, &di);
		if (r == -EEXIST) {
			whyf(why, whylen, "%s:%u: duplicate value '%s' (first at %s:%u)", d->file,
			     dup, values[di], d->file, first);
			r = -EINVAL;
			goto out;
		}
		if (r < 0)
			goto oom;
	}
	values_free(d->values, d->nvalues);
	d->values = values;
	d->nvalues = n;
	values = NULL;
	n = 0;
	goto out;
oom:
	whyf(why, whylen, "%s: out of memory", d->file);
out:
	fclose(f);
	values_free(values, n);
	free(lines);
	return r;
}

void pool_def_clear(struct pool_def *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->format);
	free(d->file);
	values_free(d->values, d->nvalues);
	*d = (struct pool_def){0};
}

const struct pool_def *pool_find(const struct pool_def *defs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (defs[i].name && !strcmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

/* ---- variables ---- */

/* The reference at text (which starts with "${pool:"): 0 with *r, or
 * -EINVAL with why. */
static int ref_parse(const char *text, struct pool_ref *r, char *why, size_t whylen)
{
	const char *p = text + strlen(POOL_REF_OPEN), *close = strchr(p, '}');
	const char *colon;
	size_t nlen;

	if (!close) {
		whyf(why, whylen, "'%s' not closed by '}'", POOL_REF_OPEN);
		return -EINVAL;
	}
	colon = memchr(p, ':', (size_t)(close - p));
	nlen = (size_t)((colon ? colon : close) - p);
	if (nlen == 0 || nlen > POOL_NAME_MAX) {
		whyf(why, whylen,
		     "bad pool name in '%.*s' ([A-Za-z][A-Za-z0-9_-]*, at most %u bytes)",
		     (int)(close + 1 - text), text, POOL_NAME_MAX);
		return -EINVAL;
	}
	memcpy(r->name, p, nlen);
	r->name[nlen] = '\0';
	if (!pool_name_valid(r->name)) {
		whyf(why, whylen, "bad pool name '%s' in '%.*s' ([A-Za-z][A-Za-z0-9_-]*)", r->name,
		     (int)(close + 1 - text), text);
		return -EINVAL;
	}
	r->index = 0;
	if (colon) {
		const char *k = colon + 1;
		uint32_t v = 0;

		if (k == close) {
			whyf(why, whylen, "empty index in '%.*s'", (int)(close + 1 - text), text);
			return -EINVAL;
		}
		for (; k < close; k++) {
			if (!is_digit(*k) ||
			    (v = v * 10 + (uint32_t)(*k - '0')) >= POOL_COUNT_MAX) {
				whyf(why, whylen, "bad index in '%.*s' (0 … %u)",
				     (int)(close + 1 - text), text, POOL_COUNT_MAX - 1);
				return -EINVAL;
			}
		}
		r->index = v;
	}
	r->len = (size_t)(close + 1 - text);
	return 0;
}

int pool_refs_scan(const char *text, struct pool_ref *refs, size_t max, size_t *n, char *why,
		   size_t whylen)
{
	size_t count = 0;
	const char *p = text;

	while ((p = strstr(p, POOL_REF_OPEN))) {
		struct pool_ref r;
		int e = ref_parse(p, &r, why, whylen);

		if (e < 0) {
			*n = count;
			return e;
		}
		r.off = (size_t)(p - text);
		if (count < max)
			refs[count] = r;
		count++;
		p += r.len;
	}
	*n = count;
	return 0;
}

int pool_expand(const char *text, pool_lookup_fn lookup, void *ud, char *out, size_t outlen)
{
	const char *p = text;
	size_t n = 0;

	if (!outlen)
		return -E2BIG;
	for (;;) {
		const char *at = strstr(p, POOL_REF_OPEN);
		size_t lit = at ? (size_t)(at - p) : strlen(p);
		char val[POOL_VALUE_MAX + 1];
		struct pool_ref r;
		size_t vlen;
		int e;

		if (n + lit >= outlen)
			return -E2BIG;
		memcpy(out + n, p, lit);
		n += lit;
		out[n] = '\0';
		if (!at)
			return 0;
		e = ref_parse(at, &r, NULL, 0);
		if (e < 0)
			return e;
		e = lookup(ud, r.name, r.index, val, sizeof(val));
		if (e < 0)
			return e;
		vlen = strlen(val);
		if (n + vlen >= outlen)
			return -E2BIG;
		memcpy(out + n, val, vlen + 1);
		n += vlen;
		p = at + r.len;
	}
}
