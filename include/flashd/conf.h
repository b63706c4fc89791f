/* conf: flashd.conf parser (flashd.conf(5)). Table-driven; every error is
 * reported as "file:line: message" and all of them are collected, not just
 * the first. No I/O apart from reading the file in conf_load. */
#ifndef FLASHD_CONF_H
#define FLASHD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/pool.h"

#define CONF_FILE_MAX (1u << 20)   /* bytes in a configuration file */
#define CONF_LINE_MAX 4096u        /* bytes in one line */
#define CONF_ERRORS_MAX 64u        /* errors reported; further ones are counted */
#define CONF_PORTS_MAX 1024u       /* [port …] sections */
#define CONF_ARGS_MAX 64u          /* words in a plan-args value */
#define CONF_PLAN_DIRS_MAX 16u     /* folders in plan-dirs */
#define CONF_SLOTS_MAX 1024u       /* slot lines */
#define CONF_SLOT_NAME_MAX 16u     /* bytes in a slot name */
#define CONF_STATION_ID_MAX 64     /* bytes in a station-id */
#define CONF_BUSES_MAX 256u        /* bus lines */
#define CONF_BUS_PORTS_MAX 64u     /* ports on one bus line */

/* Three groups (flashd(8), "Users and groups"): the daemon's own group alone
 * gets the USB devices (60-flashd.rules); operators connect to the socket and
 * read status; admins may also change state. */
#define CONF_DEFAULT_SOCKET_GROUP "flashd-operators"
#define CONF_DEFAULT_ADMIN_GROUP "flashd-admin"

/* A [port NAME] section: the plan for one physical port. */
struct conf_port {
	char *name;          /* sysfs port path, e.g. "1-1.4" */
	char *plan;          /* absolute, or relative to the configuration file's folder */
	char **plan_args;
	size_t nplan_args;
	unsigned line;       /* line of the section header */
};

/* A "slot NAME = PORT" line: the name printed on the fixture for a port. */
struct conf_slot {
	char *name;          /* conf_slot_name_valid */
	char *port;          /* conf_port_name_valid */
	unsigned line;
};

/* A "bus NAME = PORT PORT …" line: ports that share one USB bus where
 * their sysfs names do not say so (flashd.conf(5), "Bus scheduling"). */
struct conf_bus {
	char *name;          /* conf_slot_name_valid */
	char **ports;        /* conf_port_name_valid, each on one bus line only */
	size_t nports;       /* 1..CONF_BUS_PORTS_MAX */
	unsigned line;
};

/* bus-order (the values of enum bussched_order, bussched.h) */
enum conf_bus_order {
	CONF_BUS_ORDER_FIFO,
	CONF_BUS_ORDER_SHORTEST,
};

/* Read-only after conf_load/conf_parse; freed with conf_free. Times in ms. */
struct conf {
	char *socket_path;
	char *socket_group;
	char *admin_group;             /* "" = only uid 0 may change state */
	char *journal_path;
	char *station_id;              /* flashd-export(8)'s; NULL = the machine id */
	char *plan;                    /* NULL = no default plan */
	char **plan_args;
	size_t nplan_args;
	/* folders `use` may load plans from (and name files in), absolute unless
	 * parsed without a folder; never empty. Default: DIR/plans for a file in
	 * DIR, then the packaged plan folder. */
	char **plan_dirs;
	size_t nplan_dirs;

	uint32_t sdp_timeout_ms;       /* one SDP transfer (report) */
	uint32_t reenum_timeout_ms;    /* jump → fastboot device on the same port */
	uint32_t fastboot_timeout_ms;  /* one fastboot command (getvar, ucmd, …) */
	uint32_t flash_timeout_min_ms; /* lower bound of a flash command's timeout */
	uint64_t flash_rate;           /* bytes/s assumed for sizing flash timeouts */
	uint32_t erase_timeout_ms;
	uint32_t settle_ms;            /* empty time before a DONE/FAILED port resets */
	uint32_t bootloop_guard_ms;    /* ROM return within this time after DONE: reported, not flashed */

	uint32_t usb_transfer_size;    /* bytes per bulk transfer */
	uint32_t usb_transfers;        /* bulk transfers in flight per board */
	uint32_t sdp_reports;          /* SDP data reports queued on EP0 per board */
	bool read_uid;                 /* read the SoC UID over SDP */

	uint32_t max_clients;
	uint64_t client_queue;         /* bytes queued per control client */
	uint32_t max_clients_per_user; /* connections of one non-admin uid */
	uint32_t admin_clients;        /* of max_clients, kept for admins */
	uint32_t client_idle_timeout_ms; /* 0 = never */

	struct conf_port *ports;
	size_t nports;

	struct conf_slot *slots;       /* in file order */
	size_t nslots;
	bool slots_only;               /* ports without a slot are ignored */
	uint32_t slot_alert;           /* failures in a row that flag a slot; 0 = never */

	bool verify;                   /* read back every flash step (flashd-plan(5) "Verify") */
	bool verify_sha256;            /* hash -v sha256 instead of crc32 -v */
	uint32_t verify_mmc_dev;       /* U-Boot's mmc device number of the eMMC */
	uint32_t verify_piece;         /* bytes read back at once */

	/* pools (pool.h; flashd.conf(5) "Pools"): [pool NAME] sections, in file order */
	struct pool_def *pools;
	size_t npools;
	char *pool_sqlite;             /* the SQLite backend's file (default under /var/lib/flashd) */
	char *pool_postgresql;         /* the PostgreSQL backend's libpq connection string, or NULL */
	uint32_t pool_retry_ms;        /* an unreachable database is tried again after this */
	uint32_t pool_refresh_ms;      /* the pools' use is read again after this */

	/* bus scheduling (bussched.h; flashd.conf(5) "Bus scheduling") */
	bool bus_scheduling;           /* fastboot downloads wait for their turn on their bus */
	uint32_t bus_order;            /* enum conf_bus_order */
	uint32_t bus_downloads;        /* downloads at once per bus */
	uint32_t bus_starve_grants;    /* passed over this often: first; 0 = no bound */
	uint32_t bus_starve_ms;        /* waiting this long: first; 0 = no bound */
	uint64_t bus_small;            /* downloads of at most this many bytes never wait */
	uint32_t bus_piece;            /* sparse pieces at most this large on a scheduled bus; 0: max-download-size */
	struct conf_bus *buses;        /* bus lines, in file order */
	size_t nbuses;
};

/* Built-in defaults (what an empty file gives). NULL on ENOMEM. */
struct conf *conf_new_default(void);
/* Parse text (len bytes, need not be NUL-terminated). name is used in error
 * messages; relative plan paths are resolved against dir (NULL: kept as is).
 * On success *out is set and 0 returned. On failure returns -EINVAL (or
 * -ENOMEM, -EFBIG), *out untouched, and if errors != NULL, *errors is set to
 * a malloc'd string of "name:line: message\n" lines (caller frees). */
int conf_parse(const char *name, const char *dir, const char *text, size_t len,
	       struct conf **out, char **errors);
/* Read and parse path. A file that cannot be read gives "path: reason". */
int conf_load(const char *path, struct conf **out, char **errors);
struct conf *conf_free(struct conf *c);

/* Whether s is a port name as flashd.conf takes it: a sysfs port path,
 * bus-port[.port…] (digits only), at most 32 bytes. */
bool conf_port_name_valid(const char *s);
/* Whether s is a station id (station-id, flashd-export --station): 1 to
 * CONF_STATION_ID_MAX letters, digits, '.', '_', ':' or '-'. */
bool conf_station_id_valid(const char *s);
/* Whether s is a slot name: 1 to CONF_SLOT_NAME_MAX bytes of letters,
 * digits, '_', '-', '.', starting with a letter or digit, and not a port
 * name (so that a name given where both are taken means one thing). */
bool conf_slot_name_valid(const char *s);
/* The slot of a port, or of a slot name; NULL when there is none. */
const struct conf_slot *conf_slot_of_port(const struct conf *c, const char *port);
const struct conf_slot *conf_slot_find(const struct conf *c, const char *name);
/* Add "slot NAME = PORT" (conf.c's parser): 0, -ENOMEM, or -EINVAL with a
 * message (without file:line) in why. */
int conf_slot_add(struct conf *c, const char *name, const char *port, unsigned line,
		  char *why, size_t whylen);
void conf_slots_free(struct conf *c);
/* The bus line naming a port, or a bus name; NULL when there is none. */
const struct conf_bus *conf_bus_of_port(const struct conf *c, const char *port);
const struct conf_bus *conf_bus_find(const struct conf *c, const char *name);
/* Add "bus NAME = PORT PORT …" (conf.c's parser): 0, -ENOMEM, or -EINVAL
 * with a message (without file:line) in why. */
int conf_bus_add(struct conf *c, const char *name, const char *ports, unsigned line,
		 char *why, size_t whylen);
void conf_buses_free(struct conf *c);
/* The [port] section for a port name, or NULL. */
const struct conf_port *conf_port_find(const struct conf *c, const char *port);
/* Timeout of a flash command writing bytes: max(flash-timeout-min,
 * 2 × bytes / flash-rate), saturated at UINT32_MAX ms. */
uint32_t conf_flash_timeout_ms(const struct conf *c, uint64_t bytes);

/* Value parsers, shared with callers that take the same syntax on their
 * command line. 0 or -EINVAL/-ERANGE; out written only on success. */
int conf_parse_duration(const char *s, uint32_t *ms);  /* "250ms", "15s", "2min" */
int conf_parse_size(const char *s, uint64_t *bytes);   /* "4096", "256K", "16M", "1G" (×1024) */
int conf_parse_bool(const char *s, bool *b);           /* yes/no true/false on/off 1/0 */
int conf_parse_uint(const char *s, uint64_t *v);       /* decimal digits */
/* Split a value into words: blanks separate, "…" quotes (quotes removed).
 * -EINVAL for an unterminated quote, -E2BIG for more than max words. */
int conf_split_words(const char *s, size_t max, char ***words, size_t *n);
void conf_words_free(char **words, size_t n);

#endif
