/* exportopt: flashd-export(8)'s command line, its station id and the
 * parameters it hands libpq (pure: no libpq, no socket). */
#ifndef FLASHD_FLASHCTL_EXPORTOPT_H
#define FLASHD_FLASHCTL_EXPORTOPT_H

#include <stdbool.h>
#include <stddef.h>

/* libpq keywords exportopt_conn_params() fills in, plus the NULL end */
#define EXPORTOPT_CONN_MAX 8

struct exportopt {
	const char *socket;  /* --socket, else $FLASHD_SOCKET, else the default */
	const char *db;      /* --db CONNINFO or URI; NULL: libpq's PG* variables */
	const char *station; /* --station, else NULL: station-id of config */
	const char *config;  /* --config: flashd.conf, for its station-id */
	const char *machine_id; /* the station id when neither says one */
	bool init_schema, once;
	unsigned timeout_s;  /* --db-timeout: connect and statement timeout */
};

/* Parse argv into o (its strings point into argv). 0, 1 for --help, or
 * -EINVAL with the reason in err. */
int exportopt_parse(int argc, char **argv, struct exportopt *o, char *err, size_t len);
/* The station id, in out (CONF_STATION_ID_MAX + 1 bytes): --station, else
 * station-id of the flashd.conf o->config (a file that is not there says
 * none), else the machine id. 0, or -errno with the reason in err. */
int exportopt_station(const struct exportopt *o, char *out, size_t len, char *err, size_t errlen);
/* libpq's PQconnectdbParams() keywords and values (expand_dbname = 1),
 * NULL-terminated: timeouts, keepalives and the application name first,
 * then the user's CONNINFO as dbname, which may set them otherwise. */
struct exportopt_conn {
	const char *keys[EXPORTOPT_CONN_MAX], *values[EXPORTOPT_CONN_MAX];
	char connect_timeout[16], options[64];
};
void exportopt_conn_params(const struct exportopt *o, struct exportopt_conn *c);

#endif
