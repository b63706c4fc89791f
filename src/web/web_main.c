/* flashd-web: the station's dashboard and Prometheus metrics, a client of
 * flashd's control socket (flashd-web(8)). Options, wiring, systemd
 * (socket activation, READY=1, the watchdog); nothing else. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "flashd/protocol.h"
#include "web_http.h"
#include "web_metrics.h"
#include "web_state.h"
#include "web_upstream.h"

#define WEB_LISTEN_DEFAULT "127.0.0.1:9477"

struct web {
	struct event_base *base;
	struct web_state *st;
	struct web_upstream *up;
	struct web_http *http;
	struct event *sigterm, *sigint, *watchdog;
	bool activated; /* listening on systemd's socket */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flashd-web [OPTION]...\n"
		"Serve flashd's station dashboard, /metrics and /api over HTTP.\n\n"
		"  -s, --socket PATH       flashd's control socket (default %s)\n"
		"  -l, --listen ADDR:PORT  listen there unless systemd passes a socket\n"
		"                          (default %s; [ADDR]:PORT for IPv6)\n"
		"      --max-sse N         dashboards at once (default 64)\n"
		"  -h, --help              this help\n"
		"  -V, --version           the version\n",
		PROTOCOL_SOCKET_DEFAULT, WEB_LISTEN_DEFAULT);
}

/* ---- the wiring of the modules */

static void on_upstream(void *ud, const char *type, const json_t *data)
{
	struct web *w = ud;

	web_http_broadcast(w->http, type, data);
}

static json_t *op_status(void *ud)
{
	return web_state_status(((struct web *)ud)->st);
}

static json_t *op_snapshot(void *ud)
{
	return web_state_snapshot(((struct web *)ud)->st);
}

static char *op_metrics(void *ud, unsigned sse_clients, size_t *len)
{
	return web_metrics_render(((struct web *)ud)->st, sse_clients, len);
}

static struct web_query *op_history(void *ud, json_t *request, web_query_fn done, void *done_ud)
{
	return web_upstream_query(((struct web *)ud)->up, request, done, done_ud);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct web *w = arg;

	(void)what;
	log_info("signal %d: stopping", (int)fd);
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(w->base);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

static int setup_systemd(struct web *w)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		/* pet it twice per period */
		struct timeval tv = { (time_t)(usec / 2 / 1000000),
				      (suseconds_t)(usec / 2 % 1000000) };
		w->watchdog = event_new(w->base, -1, EV_PERSIST, on_watchdog, w);
		if (!w->watchdog || evtimer_add(w->watchdog, &tv) < 0)
			return log_error_errno(-ENOMEM, "watchdog timer");
	}
	w->sigterm = evsignal_new(w->base, SIGTERM, on_signal, w);
	w->sigint = evsignal_new(w->base, SIGINT, on_signal, w);
	if (!w->sigterm || !w->sigint || evsignal_add(w->sigterm, NULL) < 0 ||
	    evsignal_add(w->sigint, NULL) < 0)
		return log_error_errno(-ENOMEM, "signals");
	return 0;
}

/* systemd's socket (flashd-web.socket) when there is one, else --listen. */
static int setup_listen(struct web *w, const char *listen)
{
	int n = sd_listen_fds(1), r;

	if (n < 0)
		return log_error_errno(n, "sd_listen_fds");
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			log_error("fd %d from systemd is no listening stream socket", fd);
			return -EBADF;
		}
		r = web_http_listen_fd(w->http, fd);
		if (r < 0)
			return log_error_errno(r, "socket from systemd");
	}
	w->activated = n > 0;
	if (n > 0)
		return 0;
	r = web_http_listen(w->http, listen);
	if (r == -EINVAL)
		return log_error("--listen %s: not ADDR:PORT", listen), r;
	if (r < 0)
		return log_error_errno(r, "listen on %s", listen);
	return 0;
}

static int parse_args(int argc, char **argv, const char **sock, const char **listen,
		      struct web_http_config *cfg)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "max-sse", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;
	char *end;
	unsigned long v;

	while ((c = getopt_long(argc, argv, "s:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*sock = optarg;
			break;
		case 'l':
			*listen = optarg;
			break;
		case 'm':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 4096) {
				log_error("--max-sse %s: not a number from 1 to 4096", optarg);
				return 2;
			}
			cfg->max_sse = (unsigned)v;
			if (cfg->max_conns < cfg->max_sse + 64)
				cfg->max_conns = cfg->max_sse + 64;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("flashd-web %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument: %s", argv[optind]);
		return 2;
	}
	return -1;
}

static void web_free(struct web *w)
{
	w->http = web_http_free(w->http);
	w->up = web_upstream_free(w->up);
	w->st = web_state_free(w->st);
	if (w->watchdog)
		event_free(w->watchdog);
	if (w->sigterm)
		event_free(w->sigterm);
	if (w->sigint)
		event_free(w->sigint);
	if (w->base)
		event_base_free(w->base);
}

int main(int argc, char **argv)
{
	struct web_http_config cfg = WEB_HTTP_CONFIG_DEFAULT;
	static const struct web_http_ops ops = { .status = op_status,
						 .snapshot = op_snapshot,
						 .metrics = op_metrics,
						 .history = op_history,
						 .cancel = web_query_cancel };
	const char *sock = getenv(PROTOCOL_SOCKET_ENV), *listen = WEB_LISTEN_DEFAULT;
	struct web w = { 0 };
	int r;

	log_open("flashd-web");
	if (!sock || !*sock)
		sock = PROTOCOL_SOCKET_DEFAULT;
	r = parse_args(argc, argv, &sock, &listen, &cfg);
	if (r >= 0)
		return r;
	signal(SIGPIPE, SIG_IGN);
	w.base = event_base_new();
	w.st = w.base ? web_state_new() : NULL;
	w.http = w.st ? web_http_new(w.base, &cfg, &ops, &w) : NULL;
	if (!w.http) {
		log_error("out of memory");
		web_free(&w);
		return 1;
	}
	r = setup_listen(&w, listen);
	if (r < 0 || setup_systemd(&w) < 0) {
		web_free(&w);
		return r == -EINVAL ? 2 : 1; /* a --listen that is no ADDR:PORT: usage */
	}
	w.up = web_upstream_new(w.base, sock, w.st, on_upstream, &w);
	if (!w.up) {
		log_error("out of memory");
		web_free(&w);
		return 1;
	}
	log_info("serving on %s, flashd at %s", w.activated ? "systemd's socket" : listen,
		 sock);
	sd_notify(0, "READY=1");
	r = event_base_dispatch(w.base);
	web_free(&w);
	return r < 0 ? 1 : 0;
}
