/* cli: flashctl's command line, driven by ctlproto's command table: the
 * subcommands, their arguments and the help text all come from it. */
#ifndef FLASHD_FLASHCTL_CLI_H
#define FLASHD_FLASHCTL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "flashd/ctlproto.h"

/* Exit codes, documented in flashctl(1). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,     /* the daemon answered with an error, or spoke nonsense */
	CLI_EXIT_USAGE = 2,     /* bad command line */
	CLI_EXIT_CONNECT = 3,   /* cannot connect, or the connection broke */
	CLI_EXIT_DENIED = 4,    /* permission denied (socket or command) */
};

struct cli {
	const char *socket;   /* --socket, else $FLASHD_SOCKET, else the default */
	bool json;            /* --json */
	bool help;            /* --help, -h or "help": print the usage */
	bool version;         /* --version */
	const struct ctlproto_command *command;
	json_t *request;      /* {"id":1,"cmd":…, arguments…} */
};

/* 0: *out filled (release with cli_clear). -EINVAL: usage error, said in err. */
int cli_parse(int argc, char *const *argv, int64_t now_ms, struct cli *out, char *err,
	      size_t errlen);
void cli_clear(struct cli *c);

/* --since TIME to unix ms: "@SECONDS", "30s"/"15m"/"2h"/"3d" ago, "today",
 * "yesterday", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with a T), local time. */
int cli_parse_time(const char *s, int64_t now_ms, int64_t *out);

/* The help text: every command with its arguments and summary. */
void cli_usage(FILE *fp);

#endif
