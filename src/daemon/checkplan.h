/* checkplan: `flashd --check-plan PLAN [ARG…] [--max-download-size N] [--json]`
 * loads a plan exactly as the daemon does and prints every step. */
#ifndef FLASHD_CHECKPLAN_H
#define FLASHD_CHECKPLAN_H

#define CHECKPLAN_EXIT_OK 0     /* the plan loads */
#define CHECKPLAN_EXIT_PLAN 1   /* it does not: "file:line: message" on stderr */
#define CHECKPLAN_EXIT_USAGE 2  /* bad command line */

/* argv as given to flashd (argv[0] is the program, "--check-plan" is
 * somewhere in it). Writes to stdout/stderr; returns the exit status. */
int checkplan_main(int argc, char **argv);

#endif
