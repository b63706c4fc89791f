/* conf_pool: the [pool NAME] sections of flashd.conf (flashd.conf(5),
 * "Pools"), for conf.c's parser. Messages come without "file:line: "; the
 * parser adds the line it is on (keys) or the section header's (ends). */
#ifndef FLASHD_CONF_POOL_H
#define FLASHD_CONF_POOL_H

#include <stddef.h>

#include "flashd/conf.h"

/* the keys of a [pool] section, in the order of conf_pool.c's table */
enum conf_pool_key {
	CONF_POOL_KIND,
	CONF_POOL_FORMAT,
	CONF_POOL_START,
	CONF_POOL_END,
	CONF_POOL_RANGE,
	CONF_POOL_FILE,
	CONF_POOL_COUNT,
	CONF_POOL_BACKEND,
	CONF_POOL_LOW,
	CONF_POOL_RETURN_UNUSED,
	CONF_POOL_NKEYS,
};

/* The section being read: the lines its keys were on (0 = not given). */
struct conf_pool_section {
	unsigned line[CONF_POOL_NKEYS];
};

/* "[pool NAME]" on line: a new pool at the end of c->pools (defaults
 * count 1, backend sqlite). 0, -ENOMEM, or -EINVAL with why (bad name,
 * declared twice, more than POOL_MAX). */
int conf_pool_begin(struct conf *c, const char *name, unsigned line, char *why, size_t whylen);
/* "key = value" in the section of d on line. dir resolves a relative file.
 * 0, -ENOMEM, or -EINVAL with why. */
int conf_pool_key(struct conf_pool_section *s, struct pool_def *d, const char *dir, const char *key,
		  const char *value, unsigned line, char *why, size_t whylen);
/* End of d's section: the keys its kind needs and no other, a list's file
 * loaded, the values checked (pool_def_check), a postgresql backend only
 * with c->pool_postgresql. 0, -ENOMEM, or -EINVAL with why. */
int conf_pool_end(const struct conf *c, const struct conf_pool_section *s, struct pool_def *d,
		  char *why, size_t whylen);
/* "48-bit address-48-bit address": 0 or -EINVAL. */
int conf_pool_parse_mac_range(const char *s, uint64_t *start, uint64_t *end);

#endif
