/* conf_slot: "slot NAME = PORT" lines of flashd.conf — the names printed on
 * the fixture for its ports (flashd.conf(5), "Slots"). */
#include "flashd/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool conf_slot_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool conf_slot_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_SLOT_NAME_MAX || !conf_slot_char(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!conf_slot_char(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return !conf_port_name_valid(s);
}

const struct conf_slot *conf_slot_of_port(const struct conf *c, const char *port)
{
	if (!c || !port)
		return NULL;
	for (size_t i = 0; i < c->nslots; i++)
		if (strcmp(c->slots[i].port, port) == 0)
			return &c->slots[i];
	return NULL;
}

const struct conf_slot *conf_slot_find(const struct conf *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->nslots; i++)
		if (strcmp(c->slots[i].name, name) == 0)
			return &c->slots[i];
	return NULL;
}

int conf_slot_add(struct conf *c, const char *name, const char *port, unsigned line,
		  char *why, size_t whylen)
{
	const struct conf_slot *other;
	struct conf_slot *n;

	if (!conf_slot_name_valid(name)) {
		snprintf(why, whylen, "bad slot name '%s' (1 to %u letters, digits, '_', '-', '.',"
			 " starting with a letter or digit, not a port path)", name,
			 CONF_SLOT_NAME_MAX);
		return -EINVAL;
	}
	if (!conf_port_name_valid(port)) {
		snprintf(why, whylen, "slot %s: bad port name '%s' (a sysfs port path such as 1-1.4)",
			 name, port);
		return -EINVAL;
	}
	if ((other = conf_slot_find(c, name))) {
		snprintf(why, whylen, "slot %s: declared twice (first on line %u)", name, other->line);
		return -EINVAL;
	}
	if ((other = conf_slot_of_port(c, port))) {
		snprintf(why, whylen, "slot %s: port %s is already slot %s (line %u)", name, port,
			 other->name, other->line);
		return -EINVAL;
	}
	if (c->nslots >= CONF_SLOTS_MAX) {
		snprintf(why, whylen, "more than %u slots", CONF_SLOTS_MAX);
		return -EINVAL;
	}
	n = realloc(c->slots, (c->nslots + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->slots = n;
	n = &c->slots[c->nslots];
	n->name = strdup(name);
	n->port = strdup(port);
	n->line = line;
	if (!n->name || !n->port) {
		free(n->name);
		free(n->port);
		return -ENOMEM;
	}
	c->nslots++;
	return 0;
}

void conf_slots_free(struct conf *c)
{
	for (size_t i = 0; i < c->nslots; i++) {
		free(c->slots[i].name);
		free(c->slots[i].port);
	}
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
}
