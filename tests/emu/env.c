/* env: see env.h */
#include "env.h"

#include "crc32.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct env_var {
	char *name;
	char *value;
};

struct env {
	struct env_var var[ENV_MAX_VARS];
	size_t n;
};

int env_new(struct env **out)
{
	struct env *env = calloc(1, sizeof(*env));

	if (!env)
		return -ENOMEM;
	*out = env;
	return 0;
}

void env_clear(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		free(env->var[i].name);
		free(env->var[i].value);
	}
	env->n = 0;
}

struct env *env_free(struct env *env)
{
	if (!env)
		return NULL;
	env_clear(env);
	free(env);
	return NULL;
}

/* index of NAME, or -(insertion point) - 1 */
static long env_find(const struct env *env, const char *name)
{
	size_t lo = 0, hi = env->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(env->var[mid].name, name);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

const char *env_get(const struct env *env, const char *name)
{
	long i = name ? env_find(env, name) : -1;

	return i >= 0 ? env->var[i].value : NULL;
}

static bool env_write_once(const char *name)
{
	return !strcmp(name, "serial#") || !strcmp(name, "ethaddr");
}

int env_set_force(struct env *env, const char *name, const char *value)
{
	long i;
	char *v;

	if (!name || !*name || strchr(name, '=') || strlen(name) >= ENV_NAME_MAX)
		return -EINVAL;
	i = env_find(env, name);
	if (!value || !*value) {
		if (i >= 0) {
			free(env->var[i].name);
			free(env->var[i].value);
			memmove(&env->var[i], &env->var[i + 1], (env->n - (size_t)i - 1) * sizeof(env->var[0]));
			env->n--;
		}
		return 0;
	}
	if (strlen(value) >= ENV_VALUE_MAX)
		return -E2BIG;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (i >= 0) {
		free(env->var[i].value);
		env->var[i].value = v;
		return 0;
	}
	if (env->n >= ENV_MAX_VARS) {
		free(v);
		return -E2BIG;
	}
	i = -i - 1;
	memmove(&env->var[i + 1], &env->var[i], (env->n - (size_t)i) * sizeof(env->var[0]));
	env->var[i].name = strdup(name);
	env->var[i].value = v;
	if (!env->var[i].name) {
		free(v);
		memmove(&env->var[i], &env->var[i + 1], (env->n - (size_t)i) * sizeof(env->var[0]));
		return -ENOMEM;
	}
	env->n++;
	return 0;
}

int env_set(struct env *env, const char *name, const char *value)
{
	if (name && env_write_once(name) && env_get(env, name))
		return -EPERM;
	return env_set_force(env, name, value);
}

size_t env_count(const struct env *env)
{
	return env->n;
}

void env_at(const struct env *env, size_t i, const char **name, const char **value)
{
	*name = env->var[i].name;
	*value = env->var[i].value;
}

int env_export(const struct env *env, uint8_t *region, size_t size)
{
	size_t o = 4;

	if (size < 6)
		return -E2BIG;
	memset(region, 0, size);
	for (size_t i = 0; i < env->n; i++) {
		size_t nl = strlen(env->var[i].name), vl = strlen(env->var[i].value);

		/* entry, its NUL and the list's final NUL must fit */
		if (o + nl + 1 + vl + 2 > size)
			return -E2BIG;
		memcpy(region + o, env->var[i].name, nl);
		region[o + nl] = '=';
		memcpy(region + o + nl + 1, env->var[i].value, vl);
		o += nl + 1 + vl + 1;
	}
	util_put_le32(region, crc32_update(0, region + 4, size - 4));
	return 0;
}

int env_import(struct env *env, const uint8_t *region, size_t size)
{
	char name[ENV_NAME_MAX];
	size_t o = 4;

	if (size < 6 || crc32_update(0, region + 4, size - 4) != util_le32(region))
		return -EBADMSG;
	env_clear(env);
	while (o < size && region[o]) {
		const char *s = (const char *)region + o;
		size_t len = strnlen(s, size - o);
		const char *eq = memchr(s, '=', len);

		if (len == size - o)
			break; /* unterminated: stop */
		if (eq && (size_t)(eq - s) < sizeof(name) && eq != s) {
			memcpy(name, s, (size_t)(eq - s));
			name[eq - s] = '\0';
			(void)env_set_force(env, name, eq + 1);
		}
		o += len + 1;
	}
	return 0;
}
