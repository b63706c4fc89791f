/* flashd-emu: one emulated i.MX6 board on one dummy_hcd UDC (see README.md) */
#include "board.h"
#include "log.h"
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct board *b = NULL;
	struct log *log = NULL;
	struct opts o;
	char err[256];
	int r;

	r = opts_parse(argc, argv, &o, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "flashd-emu: %s\n", err);
		opts_usage(stderr);
		return 2;
	}
	r = log_open(o.log, o.name, &log);
	if (r < 0) {
		fprintf(stderr, "flashd-emu: %s: %s\n", o.log, strerror(-r));
		return 1;
	}
	r = board_new(&o, log, &b);
	if (r < 0) {
		fprintf(stderr, "flashd-emu: %s: setup failed: %s%s\n", o.name, strerror(-r),
			r == -ENOENT ? " (is libcomposite loaded, configfs mounted?)" : "");
		log_simple_str(log, "error", "error", strerror(-r));
		log_free(log);
		return 1;
	}
	r = board_run(b);
	board_free(b);
	log_free(log);
	return r;
}
