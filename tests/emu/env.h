/* env: a U-Boot environment (name=value pairs, kept sorted like hexport_r() writes
 * them) and its on-flash format: LE32 CRC-32 of the data area, then
 * "name=value\0" entries, an empty entry ending the list, zero padding
 * (include/env_internal.h, non-redundant). "serial#" and "ethaddr" can be set
 * once only (CONFIG_ENV_OVERWRITE unset). */
#ifndef EMU_ENV_H
#define EMU_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENV_MAX_VARS 512
#define ENV_NAME_MAX 128
#define ENV_VALUE_MAX 4096

struct env;

int env_new(struct env **out);
struct env *env_free(struct env *env);
void env_clear(struct env *env);
const char *env_get(const struct env *env, const char *name);
/* set, or delete with VALUE NULL or ""; -EINVAL (bad name), -E2BIG (too long or
 * too many), -EPERM (write-once variable already set) */
int env_set(struct env *env, const char *name, const char *value);
/* the same without the write-once rule (the board's own init) */
int env_set_force(struct env *env, const char *name, const char *value);
size_t env_count(const struct env *env);
/* entry I in name order */
void env_at(const struct env *env, size_t i, const char **name, const char **value);
/* the flash image: REGION of SIZE bytes; -E2BIG when it does not fit */
int env_export(const struct env *env, uint8_t *region, size_t size);
/* replace the whole environment from a flash image; -EBADMSG on a bad CRC */
int env_import(struct env *env, const uint8_t *region, size_t size);

#endif
