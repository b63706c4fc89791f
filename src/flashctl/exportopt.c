/* exportopt: flashd-export's options (see exportopt.h). */
#include "exportopt.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/machine_id.h"
#include "flashd/conf.h"
#include "flashd/protocol.h"

#define EXPORTOPT_MACHINE_ID "/etc/machine-id"
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

int exportopt_station(const struct exportopt *o, char *out, size_t len, char *err, size_t errlen)
{
	struct conf *c = NULL;
	char *errors = NULL;
	int r;

	if (o->station) {
		snprintf(out, len, "%s", o->station);
		return 0;
	}
	r = conf_load(o->config, &c, &errors);
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "%s", errors ? errors : strerror(-r));
		err[strcspn(err, "\n")] = 0;
		free(errors);
		return r;
	}
	free(errors);
	if (r == 0 && c->station_id) {
		snprintf(out, len, "%s", c->station_id);
		conf_free(c);
		return 0;
	}
	conf_free(c);
	r = machine_id_read(o->machine_id, out, len);
	if (r < 0)
		snprintf(err, errlen, "%s: %s; give the station's id with --station or station-id in %s",
			 o->machine_id, r == -EBADMSG ? "not a machine id" : strerror(-r), o->config);
	return r;
}

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int exportopt_parse(int argc, char **argv, struct exportopt *o, char *err, size_t len)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "station", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "db-timeout", required_argument, NULL, 't' },
		{ "init-schema", no_argument, NULL, 'I' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv(PROTOCOL_SOCKET_ENV);
	int c;

	*o = (struct exportopt){ .socket = env && *env ? env : PROTOCOL_SOCKET_DEFAULT,
				 .config = SYSCONFDIR "/flashd/flashd.conf",
				 .machine_id = EXPORTOPT_MACHINE_ID, .timeout_s = 10 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:d:S:c:t:I1h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'd': o->db = optarg; break;
		case 'c': o->config = optarg; break;
		case 'S':
			if (!conf_station_id_valid(optarg))
				return bad(err, len,
					   "--station: 1 to %d letters, digits, '.', '_', ':' or '-', "
					   "not '%.80s'",
					   CONF_STATION_ID_MAX, optarg);
			o->station = optarg;
			break;
		case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 || v > 3600)
				return bad(err, len, "--db-timeout: seconds from 1 to 3600, not %.40s",
					   optarg);
			o->timeout_s = (unsigned)v;
			break;
		case 'I': o->init_schema = true; break;
		case '1': o->once = true; break;
		case 'h': return 1;
		case ':': return bad(err, len, "%s needs a value", argv[optind - 1]);
		default: return bad(err, len, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, len, "unexpected argument '%.80s'", argv[optind]);
	if (!*o->socket)
		return bad(err, len, "--socket: empty");
	return 0;
}

void exportopt_conn_params(const struct exportopt *o, struct exportopt_conn *c)
{
	size_t i = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->connect_timeout, sizeof(c->connect_timeout), "%u", o->timeout_s);
	/* a statement that outlives it is cancelled by the server; keepalives
	 * notice a peer gone without a word (TCP only) */
	snprintf(c->options, sizeof(c->options), "-c statement_timeout=%u000", o->timeout_s);
	c->keys[i] = "connect_timeout", c->values[i++] = c->connect_timeout;
	c->keys[i] = "options", c->values[i++] = c->options;
	c->keys[i] = "keepalives", c->values[i++] = "1";
	c->keys[i] = "keepalives_idle", c->values[i++] = "30";
	c->keys[i] = "keepalives_interval", c->values[i++] = "10";
	c->keys[i] = "application_name", c->values[i++] = "flashd-export";
	if (o->db) {
		c->keys[i] = "dbname";
		c->values[i++] = o->db;
	}
	c->keys[i] = NULL;
	c->values[i] = NULL;
}
