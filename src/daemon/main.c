/* flashd: options, wiring, module init/exit order; nothing else.
 *
 * Init: file descriptor limit → event loop → configuration → results journal → libusb → station
 * (plans) → control socket → udev monitor + enumeration → signals →
 * READY=1. Exit in reverse. SIGTERM/SIGINT: stop taking new boards, record
 * every running board as "aborted" in the journal, cancel its session,
 * close its device, exit 0. SIGHUP: reload (a bad configuration or plan is
 * refused and the running one stays), loaded off the loop; READY=1 when
 * it is done. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/checkplan.h"
#include "daemon/control.h"
#include "daemon/devwatch.h"
#include "daemon/journal.h"
#include "daemon/loop.h"
#include "daemon/station.h"
#include "daemon/usb.h"
#include "flashd/conf.h"

#define FLASHD_CONFIG_DEFAULT SYSCONFDIR "/flashd/flashd.conf"
#define FLASHD_STATUS_INTERVAL_S 2

struct flashd {
	struct event_base *base;
	struct journal *journal;
	struct usb_ctx *usb;
	struct station *station;
	struct control *control;
	struct devwatch *devwatch;
	struct event *sig[3];
	struct event *watchdog;
	struct event *status;
	char last_status[256];
	int exit_code;
};

struct flashd_opts {
	const char *config;
	bool config_given;
	int log_level;
};

static void flashd_usage(FILE *f)
{
	fputs("usage: flashd [-f] [-c CONFIG] [--log-level LEVEL]\n"
	      "       flashd --check-plan PLAN [ARG...] [--max-download-size N] [--json]\n"
	      "  -c, --config FILE     configuration (default " FLASHD_CONFIG_DEFAULT ")\n"
	      "  -f, --foreground      run in the foreground (the only mode; logs to stderr)\n"
	      "      --log-level LEVEL err, warning, notice, info (default) or debug\n"
	      "      --check-plan      load a plan as the daemon would, print its steps\n"
	      "  -V, --version         print the version\n"
	      "  -h, --help            this help\n",
	      f);
}

/* 0: run, 1: done (help/version), -1: usage error */
static int flashd_parse_args(int argc, char **argv, struct flashd_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct flashd_opts){ .config = FLASHD_CONFIG_DEFAULT, .log_level = LOG_INFO };
	while ((c = getopt_long(argc, argv, "c:fVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			o->config_given = true;
			break;
		case 'f':
			break;
		case 'l':
			o->log_level = log_level_from_string(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "flashd: bad log level \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'V':
			printf("flashd %s\n", PACKAGE_VERSION);
			return 1;
		case 'h':
			flashd_usage(stdout);
			return 1;
		default:
			flashd_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flashd: unexpected argument \"%s\"\n", argv[optind]);
		flashd_usage(stderr);
		return -1;
	}
	return 0;
}

/* Every client, board, plan and image takes a descriptor; the soft limit
 * (1024 by default) is for programs that use select(). flashd does not
 * (libevent uses epoll, libusb and libudev poll), so take the hard limit
 * (systemd.exec(5), LimitNOFILE=, recommends exactly this). */
static void flashd_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warning_errno(errno, "file descriptor limit");
		return;
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warning_errno(errno, "raising the file descriptor limit to %llu",
				  (unsigned long long)rl.rlim_max);
	else
		log_info("file descriptor limit raised from %llu to %llu", (unsigned long long)old,
			 (unsigned long long)rl.rlim_max);
}

static bool flashd_wants_check_plan(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--check-plan") == 0 || strncmp(argv[i], "--check-plan=", 13) == 0)
			return true;
	return false;
}

/* A missing default configuration means built-in defaults; a missing
 * configuration named with -c is an error. */
static int flashd_load_conf(const struct flashd_opts *o, struct conf **out)
{
	char *errors = NULL;
	int r;

	if (!o->config_given && access(o->config, F_OK) < 0 && errno == ENOENT) {
		log_notice("%s: not found, using built-in defaults", o->config);
		*out = conf_new_default();
		return *out ? 0 : log_error_errno(-ENOMEM, "configuration");
	}
	r = conf_load(o->config, out, &errors);
	if (r < 0) {
		/* one log line per "file:line: message" */
		for (char *line = errors, *nl; line && *line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			log_error("%s", line);
		}
		if (!errors)
			log_error_errno(r, "%s", o->config);
		free(errors);
	}
	return r;
}

static gid_t flashd_group(const char *name, const char *what)
{
	struct group *g;

	if (!name || !*name)
		return (gid_t)-1;
	g = getgrnam(name);
	if (!g) {
		log_warning("%s \"%s\" does not exist: ignored", what, name);
		return (gid_t)-1;
	}
	return g->gr_gid;
}

/* The socket-activated listening socket, if systemd passed one. */
static int flashd_listen_fd(void)
{
	int n = sd_listen_fds(1);

	if (n <= 0)
		return -1;
	if (n > 1)
		log_warning("systemd passed %d sockets; using the first", n);
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
		log_warning("the socket systemd passed is not a listening Unix stream socket: ignored");
		return -1;
	}
	return SD_LISTEN_FDS_START;
}

static int flashd_control(struct flashd *d, const struct conf *c)
{
	struct control_backend be;
	struct control_opts o = {
		.path = c->socket_path,
		.listen_fd = flashd_listen_fd(),
		.admin_gid = flashd_group(c->admin_group, "admin-group"),
		.sock_gid = flashd_group(c->socket_group, "socket-group"),
		.mode = 0660,
		.max_clients = c->max_clients,
		.queue_bytes = c->client_queue,
		.max_clients_per_uid = c->max_clients_per_user,
		.admin_clients = c->admin_clients,
		.idle_timeout_ms = c->client_idle_timeout_ms,
	};
	int r;

	station_backend(d->station, &be);
	r = control_new(d->base, &o, &be, d->journal, &d->control);
	if (r < 0)
		return log_error_errno(r, "control socket %s",
				       o.listen_fd >= 0 ? "(socket activation)" : c->socket_path);
	station_set_control(d->station, d->control);
	return 0;
}

static void flashd_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct flashd *d = arg;
	char reason[64];

	snprintf(reason, sizeof(reason), "flashd stopped (%s)", strsignal((int)sig));
	log_notice("%s: aborting running boards and exiting", strsignal((int)sig));
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	station_shutdown(d->station, reason);
	event_base_loopexit(d->base, NULL);
}

static void flashd_reload_done(void *ud, int r, const char *err)
{
	(void)ud;
	(void)err; /* logged by the station */
	if (r == -ECANCELED)
		return; /* flashd is stopping */
	if (r < 0)
		sd_notify(0, "READY=1\nSTATUS=reload refused, previous configuration kept");
	else
		sd_notify(0, "READY=1");
}

/* The reload runs on the station's loader thread; READY=1 follows when it
 * is done. */
static void flashd_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct flashd *d = arg;
	char err[256];
	int r;

	sd_notify(0, "RELOADING=1");
	r = station_reload(d->station, flashd_reload_done, d, err, sizeof(err));
	if (r < 0) {
		log_error("reload: %s", err);
		flashd_reload_done(d, r, err);
	}
}

static void flashd_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static void flashd_on_status(evutil_socket_t fd, short what, void *arg)
{
	struct flashd *d = arg;
	char line[256], msg[300];

	station_status_line(d->station, line, sizeof(line));
	if (strcmp(line, d->last_status) == 0)
		return;
	snprintf(d->last_status, sizeof(d->last_status), "%s", line);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	sd_notify(0, msg);
}

static int flashd_timers(struct flashd *d)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct timeval tv = { FLASHD_STATUS_INTERVAL_S, 0 };
	uint64_t usec = 0;

	for (int i = 0; i < 3; i++) {
		d->sig[i] = loop_prio(evsignal_new(d->base, sigs[i],
						   sigs[i] == SIGHUP ? flashd_on_hup : flashd_on_stop, d),
				      LOOP_PRIO_URGENT);
		if (!d->sig[i] || evsignal_add(d->sig[i], NULL) < 0)
			return log_error_errno(-ENOMEM, "signals");
	}
	d->status = event_new(d->base, -1, EV_PERSIST, flashd_on_status, d);
	if (!d->status || event_add(d->status, &tv) < 0)
		return log_error_errno(-ENOMEM, "status timer");
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		tv.tv_sec = (time_t)(usec / 2 / 1000000u);
		tv.tv_usec = (suseconds_t)(usec / 2 % 1000000u);
		d->watchdog = loop_prio(event_new(d->base, -1, EV_PERSIST, flashd_on_watchdog, d),
					LOOP_PRIO_URGENT);
		if (!d->watchdog || event_add(d->watchdog, &tv) < 0)
			return log_error_errno(-ENOMEM, "watchdog timer");
		log_info("systemd watchdog: pinging every %llu ms", (unsigned long long)(usec / 2000u));
	}
	return 0;
}

static int flashd_start(struct flashd *d, const struct flashd_opts *o)
{
	struct station_opts so;
	struct conf *conf;
	char err[2048];
	int r;

	d->base = loop_new();
	if (!d->base)
		return log_error_errno(-ENOMEM, "event loop");
	r = flashd_load_conf(o, &conf);
	if (r < 0)
		return r;
	r = journal_open(conf->journal_path, &d->journal);
	if (r < 0) {
		log_error_errno(r, "results journal %s", conf->journal_path);
		conf_free(conf);
		return r;
	}
	r = usb_ctx_new(d->base, &d->usb);
	if (r < 0) {
		conf_free(conf);
		return log_error_errno(r, "libusb");
	}
	so = (struct station_opts){ .base = d->base, .usb = d->usb, .journal = d->journal,
				    .config_path = o->config_given || access(o->config, F_OK) == 0
							   ? o->config : NULL };
	r = station_new(&so, conf, &d->station, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return r;
	}
	r = flashd_control(d, station_conf(d->station));
	if (r < 0)
		return r;
	r = devwatch_new(d->base, station_on_device, d->station, &d->devwatch);
	if (r >= 0)
		r = devwatch_enumerate(d->devwatch);
	if (r < 0)
		return log_error_errno(r, "udev monitor");
	return flashd_timers(d);
}

static void flashd_stop(struct flashd *d)
{
	d->devwatch = devwatch_free(d->devwatch);
	if (d->station)
		station_set_control(d->station, NULL);   /* the shutdown's events go nowhere */
	d->control = control_free(d->control);
	if (d->station)
		station_shutdown(d->station, "flashd stopped");
	d->station = station_free(d->station);
	d->usb = usb_ctx_free(d->usb);
	d->journal = journal_close(d->journal);
	for (int i = 0; i < 3; i++)
		if (d->sig[i])
			event_free(d->sig[i]);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->status)
		event_free(d->status);
	if (d->base)
		event_base_free(d->base);
}

int main(int argc, char **argv)
{
	struct flashd d = { 0 };
	struct flashd_opts o;
	int r;

	if (flashd_wants_check_plan(argc, argv))
		return checkplan_main(argc, argv);
	r = flashd_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	log_open("flashd");
	log_set_max_level(o.log_level);
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM, SIGINT and SIGHUP wait until the loop handles them: the control
	 * socket listens before the signal events exist, and a SIGHUP or SIGTERM in
	 * between must not kill flashd (threads started meanwhile keep them blocked) */
	sigset_t stop_sigs, old_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_sigs, &old_sigs);
	flashd_raise_nofile();
	r = flashd_start(&d, &o);
	sigprocmask(SIG_SETMASK, &old_sigs, NULL);
	if (r >= 0) {
		log_info("flashd %s ready", PACKAGE_VERSION);
		sd_notify(0, "READY=1\nSTATUS=ready");
		r = event_base_dispatch(d.base) < 0 ? -EIO : 0;
	}
	flashd_stop(&d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
