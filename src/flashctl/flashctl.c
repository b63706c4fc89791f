/* flashctl: control and watch flashd (flashctl(1)). Options, the
 * connection, and which renderer shows the answer; nothing else. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "ctlclient.h"
#include "flashd/ctlproto.h"
#include "live.h"
#include "render.h"

#define FLASHCTL_HELLO_TIMEOUT_MS 10000
#define FLASHCTL_REPLY_TIMEOUT_MS 300000 /* reload may load and hash large images */

static int fail_connect(const char *path, int err)
{
	fprintf(stderr, "flashctl: cannot connect to %s: %s", path, strerror(-err));
	if (err == -EACCES || err == -EPERM) {
		fprintf(stderr, " — are you in the socket's group?\n");
		return CLI_EXIT_DENIED;
	}
	fprintf(stderr, " — is flashd running?\n");
	return CLI_EXIT_CONNECT;
}

static int fail_recv(const char *path, int err)
{
	if (err == -ECONNRESET)
		fprintf(stderr, "flashctl: %s: connection closed by flashd\n", path);
	else if (err == -ETIMEDOUT)
		fprintf(stderr, "flashctl: %s: flashd does not answer\n", path);
	else if (err == -EBADMSG || err == -E2BIG)
		fprintf(stderr, "flashctl: %s: flashd sent something that is not a JSON line\n",
			path);
	else
		fprintf(stderr, "flashctl: %s: %s\n", path, strerror(-err));
	return err == -EBADMSG || err == -E2BIG ? CLI_EXIT_ERROR : CLI_EXIT_CONNECT;
}

/* An error reply: "flashctl: CODE: message". */
static int fail_reply(const json_t *reply)
{
	const char *code = "?", *message = "";
	char c[64], m[1024];

	if (ctlproto_reply_status(reply, &code, &message) < 0) {
		fprintf(stderr, "flashctl: flashd sent a malformed reply\n");
		return CLI_EXIT_ERROR;
	}
	render_clean(c, sizeof(c), code);
	render_clean(m, sizeof(m), message);
	fprintf(stderr, "flashctl: %s: %s\n", c, m);
	return strcmp(code, PROTOCOL_ERR_PERMISSION_DENIED) == 0 ? CLI_EXIT_DENIED
								: CLI_EXIT_ERROR;
}

/* Connect, check the hello. */
static int flashctl_open(const struct cli *cli, struct ctlclient *cl)
{
	json_t *hello = NULL;
	int r = ctlclient_connect(cl, cli->socket);

	if (r < 0)
		return fail_connect(cli->socket, r);
	r = ctlclient_recv(cl, FLASHCTL_HELLO_TIMEOUT_MS, &hello, NULL, NULL);
	if (r < 0)
		return fail_recv(cli->socket, r);
	if (ctlproto_classify(hello) == CTLPROTO_KIND_REPLY) { /* e.g. too many clients */
		r = fail_reply(hello);
		json_decref(hello);
		return r;
	}
	r = ctlproto_hello_check(hello);
	if (r < 0) {
		const json_t *p = json_object_get(hello, PROTOCOL_KEY_PROTOCOL);
		if (r == -EPROTONOSUPPORT)
			fprintf(stderr,
				"flashctl: %s speaks control protocol %" JSON_INTEGER_FORMAT
				", this flashctl protocol %d\n",
				cli->socket, json_integer_value(p), PROTOCOL_VERSION);
		else
			fprintf(stderr, "flashctl: %s is not a flashd control socket\n",
				cli->socket);
		json_decref(hello);
		return CLI_EXIT_ERROR;
	}
	json_decref(hello);
	return CLI_EXIT_OK;
}

/* Send the request, wait for its reply (events before it are skipped). */
static int flashctl_call(const struct cli *cli, struct ctlclient *cl, json_t **reply)
{
	int r = ctlclient_send(cl, cli->request);
	if (r < 0)
		return fail_recv(cli->socket, r);
	for (;;) {
		json_t *m = NULL;
		r = ctlclient_recv(cl, FLASHCTL_REPLY_TIMEOUT_MS, &m, NULL, NULL);
		if (r < 0)
			return fail_recv(cli->socket, r);
		if (ctlproto_classify(m) == CTLPROTO_KIND_REPLY) {
			if (ctlproto_reply_status(m, &(const char *){ NULL },
						  &(const char *){ NULL }) == 1) {
				*reply = m;
				return CLI_EXIT_OK;
			}
			r = fail_reply(m);
			json_decref(m);
			return r;
		}
		json_decref(m);
	}
}

static void terminal_size(int *cols, int *rows)
{
	struct winsize ws;
	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Events until the daemon goes away: raw lines, or the live view. */
static int flashctl_watch(const struct cli *cli, struct ctlclient *cl)
{
	bool tty = !cli->json && isatty(STDOUT_FILENO);
	const char *nc = getenv("NO_COLOR");
	struct live *lv = tty ? live_new(stdout, !(nc && *nc)) : NULL;
	int r;

	if (tty && !lv)
		return CLI_EXIT_ERROR;
	for (;;) {
		const char *line;
		size_t len;
		json_t *ev = NULL;
		int cols, rows;

		r = ctlclient_recv(cl, tty ? LIVE_REDRAW_MS : -1, tty ? &ev : NULL, &line, &len);
		if (r == -ETIMEDOUT && tty) {
			/* nothing new: the elapsed clocks still run */
		} else if (r < 0) {
			break;
		} else if (!tty) {
			fwrite(line, 1, len, stdout);
			fputc('\n', stdout);
			if (fflush(stdout) == EOF) {
				r = -errno;
				break;
			}
			continue;
		} else {
			live_event(lv, ev, clock_ms(CLOCK_REALTIME));
			json_decref(ev);
		}
		if (live_due(lv, clock_ms(CLOCK_REALTIME))) {
			terminal_size(&cols, &rows);
			live_draw(lv, cols, rows, clock_ms(CLOCK_REALTIME));
		}
	}
	live_free(lv);
	if (r == -EPIPE) { /* the reader went away (| head): done */
		clearerr(stdout);
		return CLI_EXIT_OK;
	}
	if (r == -ECONNRESET) {
		fprintf(stderr, "flashctl: %s: flashd closed the connection\n", cli->socket);
		return CLI_EXIT_CONNECT;
	}
	return fail_recv(cli->socket, r);
}

static void print_json(const json_t *reply)
{
	char *s = NULL;
	size_t len;
	if (ctlproto_encode(reply, &s, &len) == 0)
		fwrite(s, 1, len, stdout);
	free(s);
}

static void flashctl_show(const struct cli *cli, const json_t *reply)
{
	if (cli->json) {
		print_json(reply);
		return;
	}
	switch (cli->command->cmd) {
	case CTLPROTO_CMD_STATUS:
		render_status(stdout, reply);
		break;
	case CTLPROTO_CMD_HISTORY:
		render_history(stdout, json_object_get(reply, PROTOCOL_KEY_RECORDS));
		render_history_more(stderr, reply);
		break;
	case CTLPROTO_CMD_PLANS:
		render_plans(stdout, reply);
		break;
	case CTLPROTO_CMD_STATS:
		render_stats(stdout, reply);
		break;
	case CTLPROTO_CMD_POOLS:
		render_pools(stdout, json_object_get(reply, PROTOCOL_KEY_POOLS));
		break;
	case CTLPROTO_CMD_WATCH:
	case CTLPROTO_CMD_USE:
	case CTLPROTO_CMD_PAUSE:
	case CTLPROTO_CMD_RESUME:
	case CTLPROTO_CMD_ABORT:
	case CTLPROTO_CMD_RETRY:
	case CTLPROTO_CMD_RELOAD:
	case CTLPROTO_CMD_COUNT:
		break; /* done: nothing to say */
	}
}

int main(int argc, char **argv)
{
	struct ctlclient cl = { .fd = -1 };
	struct cli cli;
	json_t *reply = NULL;
	char err[512];
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(argc, argv, clock_ms(CLOCK_REALTIME), &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "flashctl: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (cli.help || cli.version) {
		if (cli.help)
			cli_usage(stdout);
		else
			printf("flashctl %s (control protocol %d)\n", PACKAGE_VERSION,
			       PROTOCOL_VERSION);
		cli_clear(&cli);
		return CLI_EXIT_OK;
	}
	r = flashctl_open(&cli, &cl);
	if (r == CLI_EXIT_OK)
		r = flashctl_call(&cli, &cl, &reply);
	if (r == CLI_EXIT_OK && cli.command->cmd == CTLPROTO_CMD_WATCH)
		r = flashctl_watch(&cli, &cl);
	else if (r == CLI_EXIT_OK)
		flashctl_show(&cli, reply);
	if (r == CLI_EXIT_OK && (fflush(stdout) == EOF || ferror(stdout))) {
		fprintf(stderr, "flashctl: writing the output: %s\n", strerror(errno));
		r = CLI_EXIT_ERROR;
	}
	json_decref(reply);
	ctlclient_close(&cl);
	cli_clear(&cli);
	return r;
}
