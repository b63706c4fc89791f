/* conf_bus: "bus NAME = PORT PORT …" lines of flashd.conf — ports that share
 * one USB bus where sysfs cannot tell (flashd.conf(5), "Bus scheduling"). */
#include "flashd/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct conf_bus *conf_bus_of_port(const struct conf *c, const char *port)
{
	if (!c || !port)
		return NULL;
	for (size_t i = 0; i < c->nbuses; i++)
		for (size_t k = 0; k < c->buses[i].nports; k++)
			if (strcmp(c->buses[i].ports[k], port) == 0)
				return &c->buses[i];
	return NULL;
}

const struct conf_bus *conf_bus_find(const struct conf *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->nbuses; i++)
		if (strcmp(c->buses[i].name, name) == 0)
			return &c->buses[i];
	return NULL;
}

/* The ports of a bus line: valid, each once in the file. */
static int conf_bus_check_ports(const struct conf *c, const char *name, char **ports, size_t n,
				char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_bus *other;

		if (!conf_port_name_valid(ports[i])) {
			snprintf(why, whylen, "bus %s: bad port name '%s' (a sysfs port path such as 1-1.4)",
				 name, ports[i]);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(ports[k], ports[i]) == 0) {
				snprintf(why, whylen, "bus %s: port %s named twice", name, ports[i]);
				return -EINVAL;
			}
		}
		if ((other = conf_bus_of_port(c, ports[i]))) {
			snprintf(why, whylen, "bus %s: port %s is already on bus %s (line %u)", name,
				 ports[i], other->name, other->line);
			return -EINVAL;
		}
	}
	return 0;
}

int conf_bus_add(struct conf *c, const char *name, const char *ports, unsigned line, char *why,
		 size_t whylen)
{
	const struct conf_bus *other;
	struct conf_bus *n;
	char **words = NULL;
	size_t nw = 0;
	int r;

	if (!conf_slot_name_valid(name)) {
		snprintf(why, whylen, "bad bus name '%s' (1 to %u letters, digits, '_', '-', '.',"
			 " starting with a letter or digit, not a port path)", name,
			 CONF_SLOT_NAME_MAX);
		return -EINVAL;
	}
	if ((other = conf_bus_find(c, name))) {
		snprintf(why, whylen, "bus %s: declared twice (first on line %u)", name, other->line);
		return -EINVAL;
	}
	r = conf_split_words(ports, CONF_BUS_PORTS_MAX, &words, &nw);
	if (r == -ENOMEM)
		return r;
	if (r == -E2BIG)
		snprintf(why, whylen, "bus %s: more than %u ports", name, CONF_BUS_PORTS_MAX);
	else if (r < 0)
		snprintf(why, whylen, "bus %s: unterminated quote", name);
	else if (!nw)
		snprintf(why, whylen, "bus %s: no port (bus NAME = PORT PORT …)", name);
	if (r < 0 || !nw) {
		conf_words_free(words, nw);
		return -EINVAL;
	}
	r = conf_bus_check_ports(c, name, words, nw, why, whylen);
	if (r == 0 && c->nbuses >= CONF_BUSES_MAX) {
		snprintf(why, whylen, "more than %u bus lines", CONF_BUSES_MAX);
		r = -EINVAL;
	}
	if (r == 0 && !(n = realloc(c->buses, (c->nbuses + 1) * sizeof(*n))))
		r = -ENOMEM;
	if (r < 0) {
		conf_words_free(words, nw);
		return r;
	}
	c->buses = n;
	n = &c->buses[c->nbuses];
	*n = (struct conf_bus){ .name = strdup(name), .ports = words, .nports = nw, .line = line };
	if (!n->name) {
		conf_words_free(words, nw);
		return -ENOMEM;
	}
	c->nbuses++;
	return 0;
}

void conf_buses_free(struct conf *c)
{
	for (size_t i = 0; i < c->nbuses; i++) {
		free(c->buses[i].name);
		conf_words_free(c->buses[i].ports, c->buses[i].nports);
	}
	free(c->buses);
	c->buses = NULL;
	c->nbuses = 0;
}
