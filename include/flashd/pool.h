/* pool: per-board values (serial numbers, MAC addresses, customer-provided
 * lists) drawn from pools declared in flashd.conf (flashd.conf(5), "Pools")
 * and used by plans as ${pool:NAME} variables (flashd-plan(5), "Pool
 * variables"). Pure: definitions, the values of an index, the variables in
 * a plan line and their substitution. Who holds which index is the store's
 * business (src/daemon/pool_store.h); the station binds them to boards.
 *
 * A pool is a sequence of values 0 … pool_size()-1. A board takes a block
 * of `count` consecutive values (block b = values b*count … b*count+count-1);
 * ${pool:NAME} is the block's first value, ${pool:NAME:K} its K-th (0-based). */
#ifndef FLASHD_POOL_H
#define FLASHD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_NAME_MAX 32u      /* bytes in a pool name: [A-Za-z][A-Za-z0-9_-]* */
#define POOL_MAX 32u           /* pools in flashd.conf */
#define POOL_COUNT_MAX 16u     /* values per board */
#define POOL_VALUE_MAX 256u    /* bytes in one value (list lines; formatted serials) */
#define POOL_LIST_MAX 1000000u /* values in a list file */

enum pool_kind {
	POOL_KIND_SERIAL, /* format (one %u, %0Nu, %x, %0NX …) over [start, end] */
	POOL_KIND_MAC,    /* 48-bit addresses [start, end], "aa:bb:cc:dd:ee:ff" */
	POOL_KIND_LIST,   /* the lines of a file, in order */
};

enum pool_backend {
	POOL_BACKEND_SQLITE,     /* conf->pool_sqlite: this station's own file (default) */
	POOL_BACKEND_POSTGRESQL, /* conf->pool_postgresql: shared by the line's stations */
};

/* A [pool NAME] section of flashd.conf. */
struct pool_def {
	char *name;
	enum pool_kind kind;
	enum pool_backend backend;
	char *format;          /* SERIAL: the printf-like format (validated) */
	uint64_t start, end;   /* SERIAL: numbers; MAC: addresses (inclusive) */
	char *file;            /* LIST: absolute path of the values file */
	char **values;         /* LIST: the file's values, loaded by pool_def_load_list */
	size_t nvalues;
	uint32_t count;        /* values per board, 1 … POOL_COUNT_MAX (default 1) */
	uint64_t low;          /* blocks left at or under which the pool is "low"; 0 = never */
	bool return_unused;    /* a board that failed before any step used its values
				* gives them back (default: never) */
	unsigned line;         /* of the section header */
};

const char *pool_kind_to_string(enum pool_kind k);     /* "serial", "mac", "list" */
const char *pool_backend_to_string(enum pool_backend b); /* "sqlite", "postgresql" */
bool pool_name_valid(const char *s);
/* A value a list may hold and a U-Boot command line takes as one word:
 * 1 to POOL_VALUE_MAX bytes of letters, digits and + / = : . _ @ , - */
bool pool_value_valid(const char *s);

/* Values in the pool (LIST: nvalues) and whole blocks of count. */
uint64_t pool_size(const struct pool_def *d);
uint64_t pool_blocks(const struct pool_def *d);
/* Value number index (< pool_size) into out: 0, or -ERANGE / -ENOSPC (out too small). */
int pool_value(const struct pool_def *d, uint64_t index, char *out, size_t outlen);
/* The longest value the pool can give (bytes), for plan line limits. */
size_t pool_value_max_len(const struct pool_def *d);
/* A text that changes when the mapping block → values changes (kind, format,
 * start, count; LIST: the SHA-256 of its values): stations sharing a pool in
 * PostgreSQL must agree on it. The size is not in it but for lists, whose
 * text covers the values of whole blocks: a pool may grow (a larger end, more
 * lines appended to the list) and keep the values it gave.
 * pool_fingerprint_n: the text of the pool's first n_values values only
 * (what a database that knew fewer values has). */
int pool_fingerprint(const struct pool_def *d, char *out, size_t outlen);
int pool_fingerprint_n(const struct pool_def *d, uint64_t n_values, char *out, size_t outlen);

/* SERIAL: the format has exactly one conversion (%u, %Nu, %0Nu, %x, %Nx,
 * %0Nx, %X …, N at most 64), literal text of value characters otherwise,
 * "%%" for a '%'. 0, or -EINVAL with why. */
int pool_format_check(const char *format, char *why, size_t whylen);
/* The definition gives values: count 1 … POOL_COUNT_MAX and at most the
 * pool's size, start <= end (MAC: 48 bits), a valid format whose longest
 * value fits POOL_VALUE_MAX. LIST: after pool_def_load_list. 0, or -EINVAL
 * with why (no file:line: the caller adds it). */
int pool_def_check(const struct pool_def *d, char *why, size_t whylen);

/* LIST: read d->file (one value per line; blank lines and lines starting
 * with '#' skipped). Errors are "FILE:LINE: reason" in why. */
int pool_def_load_list(struct pool_def *d, char *why, size_t whylen);
void pool_def_clear(struct pool_def *d);
const struct pool_def *pool_find(const struct pool_def *defs, size_t n, const char *name);

/* ---- variables in plan lines ---- */

#define POOL_REF_OPEN "${pool:" /* how a reference starts */

/* One ${pool:NAME} or ${pool:NAME:K} in a text. */
struct pool_ref {
	size_t off, len;        /* of the whole ${…} in the text */
	char name[POOL_NAME_MAX + 1];
	uint32_t index;         /* K; 0 without it */
};

/* The references in text, at most max of them (*n set to how many there are).
 * -EINVAL with why for a malformed one ("${pool:" not closed, a bad name, a
 * bad index). */
int pool_refs_scan(const char *text, struct pool_ref *refs, size_t max, size_t *n,
		   char *why, size_t whylen);

/* Resolves one reference to its value: 0, or -errno. */
typedef int (*pool_lookup_fn)(void *ud, const char *name, uint32_t index, char *out,
			      size_t outlen);
/* text with every reference replaced by lookup's value. -E2BIG when the
 * result does not fit outlen; lookup's error otherwise. */
int pool_expand(const char *text, pool_lookup_fn lookup, void *ud, char *out, size_t outlen);

#endif
