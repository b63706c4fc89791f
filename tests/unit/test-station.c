/* test-station: the station against fake usb, session, control and journal
 * layers (link-time fakes in station_fakes.c), with real plans, configuration, ports and
 * a real libevent loop. Checks routing of udev events to ports, device
 * opens (with udev's permission race), session start/stop, the journal
 * record written before the "result" event, operator commands, `use`,
 * reload, boot-loop by UID and shutdown. */
#include "daemon/station_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "../data/imx/imx-builder.h"
#include "common/log.h"
#include "daemon/journal.h"
#include "flashd/sdp.h"

#include "station_fakes.h"
#include "station_test.h"

/* ---- test fixture ---- */

char dir[64];
static struct event_base *base;
struct station *st;
struct control_backend be;
static char conf_path[128];

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

void write_text(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

static void make_files(void)
{
	struct imxb_opts o = { .ivt_offset = 0, .self = 0x177ff400u, .payload = 8192, .dcd = true };
	size_t size = imxb_size(&o);
	uint8_t *img = malloc(size), raw[4096];

	assert_non_null(img);
	imxb_build(img, &o);
	write_file("boot.imx", img, size);
	free(img);
	memset(raw, 0x5a, sizeof(raw));
	write_file("raw.bin", raw, sizeof(raw));
	/* a U-Boot SPL (IVT and entry in OCRAM), and flash.bin: that SPL with
	 * u-boot.img after its boot data's length, where uuu's -skipspl finds it */
	o = (struct imxb_opts){ .ivt_offset = 0, .self = 0x00907400u, .payload = 4096 };
	size = imxb_size(&o);
	img = calloc(1, size + sizeof(raw));
	assert_non_null(img);
	imxb_build(img, &o);
	write_file("spl.imx", img, size);
	memcpy(raw, "\x27\x05\x19\x56", 4); /* U-Boot proper: a uImage (u-boot.img) */
	write_file("u-boot.img", raw, sizeof(raw));
	memcpy(img + size, raw, sizeof(raw));
	write_file("flash.bin", img, size + sizeof(raw));
	free(img);
	write_text("a.lst", "uuu_version 1.4.0\nSDP: boot -f boot.imx\nFB: getvar version\n"
			    "FB: flash rootfs raw.bin\nFB: done\n");
	write_text("b.lst", "# flashd: no-write\nFB: getvar serialno\nFB: done\n");
	write_text("c.lst", "CFG: FB: -vid 0x1b67 -pid 0x4000\nSDP: boot -f boot.imx\nFB: done\n# flashd: no-write\n");
	write_text("bad.lst", "SDP: boot -f boot.imx\nFB: frobnicate\n");
}

void write_conf(const char *plan_line, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "socket = %s/sock\njournal = %s/journal\n%s\nsettle = 50ms\n"
		 "reenum-timeout = 1s\nbootloop-guard = 0ms\nread-uid = yes\nplan-dirs = .\n%s",
		 dir, dir, plan_line, extra);
	write_text("flashd.conf", text);
}

int start_station(void)
{
	struct station_opts o = { .base = base, .journal = (struct journal *)&records,
				  .config_path = conf_path };
	struct conf *c = NULL;
	char *errors = NULL, err[512];
	int r;

	r = conf_load(conf_path, &c, &errors);
	if (r < 0)
		fail_msg("conf: %s", errors);
	r = station_new(&o, c, &st, err, sizeof(err));
	if (r == 0)
		station_backend(st, &be);
	return r;
}

/* sysfs's hub ports: usb1-port1 … usb1-port4 (ports 1-1 … 1-4, boards or
 * not) for `use` (station_use_ports_check). */
static void fake_sysfs_ports(void)
{
	static char root[96];
	char cmd[1024];

	snprintf(root, sizeof(root), "%s/sys", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/bus/usb/devices/1-0:1.0/usb1-port1 "
		 "%s/bus/usb/devices/1-0:1.0/usb1-port2 %s/bus/usb/devices/1-0:1.0/usb1-port3 "
		 "%s/bus/usb/devices/1-0:1.0/usb1-port4", root, root, root, root);
	assert_int_equal(system(cmd), 0);
	station_plan_set_sysfs(root);
}

int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test-station-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/flashd.conf", dir);
	make_files();
	write_conf("plan = a.lst", "[port 1-3]\nplan = b.lst\n");
	fake_sysfs_ports();
	base = event_base_new();
	events = json_array();
	records = json_array();
	memset(&fu, 0, sizeof(fu));
	memset(&fs, 0, sizeof(fs));
	journal_fail = 0;
	journal_calls = 0;
	fake_load_init();
	log_set_max_level(LOG_WARNING);
	assert_int_equal(start_station(), 0);
	return 0;
}

int teardown(void **state)
{
	char cmd[128];

	st = station_free(st);
	for (unsigned i = 0; i < fs.n; i++) {
		assert_true(fs.all[i]->freed);
		free(fs.all[i]);
	}
	while (fu.devs) {
		struct usb_dev *d = fu.devs;

		assert_true(d->closed);
		fu.devs = d->next;
		free(d);
	}
	json_decref(events);
	json_decref(records);
	fake_load_exit();
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Run the loop for ms milliseconds. */
void run(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

void device(enum devwatch_action a, const char *port, const char *node, uint16_t vid,
		   uint16_t pid, const char *ifaces, const char *serial)
{
	struct devwatch_dev d = { .port = port, .sysname = port, .devnode = node, .vid = vid,
				  .pid = pid, .interfaces = ifaces, .serial = serial };

	station_on_device(st, a, &d);
}

void rom(const char *port, const char *node)
{
	device(DEVWATCH_ADD, port, node, 0x15a2, 0x0054, ":030000:", NULL);
}

void fastboot(const char *port, const char *node, const char *serial)
{
	device(DEVWATCH_ADD, port, node, 0x0525, 0xa4a5, ":ff4203:", serial);
}

void removed(const char *port, const char *node)
{
	device(DEVWATCH_REMOVE, port, node, 0, 0, "", NULL);
}

struct station_port *find_port(const char *name)
{
	for (size_t i = 0; i < st->nports; i++)
		if (strcmp(st->ports[i]->port.name, name) == 0)
			return st->ports[i];
	return NULL;
}

enum port_state state_of(const char *name)
{
	struct station_port *ps = find_port(name);

	assert_non_null(ps);
	return ps->port.state;
}

/* The index of the first step of plan p whose text starts with prefix. */
size_t step_index(const struct plan *p, const char *prefix)
{
	for (size_t i = 0; i < plan_n_steps(p); i++)
		if (strncmp(plan_step(p, i)->text, prefix, strlen(prefix)) == 0)
			return i;
	fail_msg("no step %s", prefix);
	return 0;
}

size_t count_events(const char *type)
{
	size_t i, n = 0;
	json_t *e;

	json_array_foreach(events, i, e)
		n += strcmp(json_string_value(json_object_get(e, "type")), type) == 0;
	return n;
}

/* the fields of the last event of type (NULL: none) */
static json_t *last_event_fields(const char *type)
{
	json_t *found = NULL, *e;
	size_t i;

	json_array_foreach(events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0)
			found = json_object_get(e, "fields");
	return found;
}

json_t *last_record(void)
{
	size_t n = json_array_size(records);

	assert_true(n > 0);
	return json_array_get(records, n - 1);
}

const char *rec_str(const char *key)
{
	return json_string_value(json_object_get(last_record(), key));
}

/* The port object of port in a status reply (fails the test if none). */
json_t *status_port(json_t *status, const char *port)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(status, "ports"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "port")), port) == 0)
			return p;
	fail_msg("no port %s in status", port);
	return NULL;
}

/* The fake session of the last start, checked to be live. */
struct fake_sess *live(void)
{
	assert_non_null(fs.last);
	assert_false(fs.last->freed);
	return fs.last;
}

/* A board through SDP into fastboot on port/node (ROM) then node2 (fastboot). */
static void board_to_fastboot(const char *port, const char *node, const char *node2)
{
	struct fake_sess *s;

	rom(port, node);
	assert_int_equal(state_of(port), PORT_STATE_SDP);
	run(5);
	s = live();
	assert_false(s->fb);
	s->ev.step(s->ev.ud, s->first, plan_step(s->plan, s->first)->text);
	s->ev.progress(s->ev.ud, 1024, 9216);
	s->ev.progress(s->ev.ud, 9216, 9216);
	s->next = s->first + 1;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_true(s->freed);
	assert_true(s->dev->closed);
	assert_int_equal(state_of(port), PORT_STATE_WAIT_REENUM);
	removed(port, node);
	fastboot(port, node2, "SER0001");
	assert_int_equal(state_of(port), PORT_STATE_FASTBOOT);
	run(5);
	assert_true(live()->fb);
}

/* The answer to a `use` or reload: runs the loop until it came (5 s at most). */
static int await(struct control_pending *p, char *err, size_t errlen)
{
	for (unsigned i = 0; i < 5000 && !p->done; i++)
		run(1);
	assert_int_equal(p->done, 1);
	assert_true(errlen > 0);
	size_t n = strnlen(p->err, errlen - 1);
	memcpy(err, p->err, n);
	err[n] = '\0';
	return p->r;
}

/* The loads run on the station's loader thread: these return what the
 * station finally answered. An answer given at once keeps nothing. */
int use_args_wait(const char *plan, const char *const *args, size_t nargs,
		  const char *const *ports, size_t n, char *err, size_t errlen)
{
	struct control_pending p = { 0 };
	int r = be.use(be.ud, plan, args, nargs, ports, n, &p, err, errlen);

	if (r != CONTROL_PENDING) {
		assert_int_equal(p.done, 0);
		return r;
	}
	return await(&p, err, errlen);
}

static int use_wait(const char *plan, const char *const *ports, size_t n, char *err,
		    size_t errlen)
{
	return use_args_wait(plan, NULL, 0, ports, n, err, errlen);
}

int reload_wait(char *err, size_t errlen)
{
	struct control_pending p = { 0 };
	int r = be.reload(be.ud, &p, err, errlen);

	if (r != CONTROL_PENDING) {
		assert_int_equal(p.done, 0);
		return r;
	}
	return await(&p, err, errlen);
}

/* Hold plan loads on the loader thread from now on; wait until n are held. */
static void hold_loads(void)
{
	__atomic_store_n(&fl.hold, true, __ATOMIC_SEQ_CST);
}

static void wait_held(unsigned n)
{
	for (unsigned i = 0; i < 5000 && __atomic_load_n(&fl.held, __ATOMIC_SEQ_CST) < n; i++)
		run(1);
	assert_int_equal(__atomic_load_n(&fl.held, __ATOMIC_SEQ_CST), n);
}

/* status shows the load under way (kind and plan), and the last "plan"
 * event said the same; kind NULL: no load. */
static void assert_loading(const char *kind, const char *path)
{
	json_t *status = be.status(be.ud), *l = json_object_get(status, "loading"), *ev = NULL;

	for (size_t i = json_array_size(events); i-- > 0 && !ev;)
		if (strcmp(json_string_value(json_object_get(json_array_get(events, i), "type")), "plan") == 0)
			ev = json_object_get(json_object_get(json_array_get(events, i), "fields"), "loading");
	assert_non_null(ev);
	if (!kind) {
		assert_true(json_is_null(l));
		assert_true(json_is_null(ev));
	} else {
		assert_string_equal(json_string_value(json_object_get(l, "kind")), kind);
		assert_non_null(strstr(json_string_value(json_object_get(l, "path")), path));
		assert_int_equal(json_integer_value(json_object_get(l, "queued")), 0);
		assert_string_equal(json_string_value(json_object_get(ev, "kind")), kind);
	}
	json_decref(status);
}

/* ---- tests ---- */

static void test_seed_flow(void **state)
{
	struct station_port *ps;
	struct fake_sess *s;
	json_t *steps;

	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	ps = find_port("1-1");
	s = live();
	assert_int_equal(s->first, step_index(ps->plan, "FB: getvar"));
	assert_string_equal(s->dev->node, "/dev/bus/usb/001/003");
	s->ev.step(s->ev.ud, s->first, "FB: getvar version");
	s->ev.info(s->ev.ud, "version: 2024.01");
	s->ev.step(s->ev.ud, s->first + 1, "FB: flash rootfs raw.bin");
	s->ev.progress(s->ev.ud, 4096, 4096);
	s->ev.region(s->ev.ud, &(struct session_region){ .step_index = s->first + 1, .part = "rootfs",
							  .bytes = 4096, .why = "verify off",
							  .download_ms = 7, .flash_ms = 9 });
	s->ev.done(s->ev.ud, 0, NULL);
	assert_true(s->freed);
	assert_int_equal(state_of("1-1"), PORT_STATE_DONE);
	assert_int_equal(json_array_size(records), 1);
	assert_string_equal(rec_str("result"), "ok");
	assert_string_equal(rec_str("port"), "1-1");
	assert_string_equal(rec_str("serial"), "SER0001");
	assert_true(json_is_null(json_object_get(last_record(), "reason")));
	assert_int_equal(json_integer_value(json_object_get(last_record(), "bytes")), 9216 + 4096);
	assert_int_equal(strlen(rec_str("plan_sha256")), 64);
	assert_non_null(strstr(rec_str("plan"), "a.lst"));
	assert_int_equal(json_array_size(json_object_get(last_record(), "images")), 2);
	steps = json_object_get(last_record(), "steps");
	assert_int_equal(json_array_size(steps), 3);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(steps, 0), "text")),
			       "SDP: boot"));
	/* the timings dashboards make histograms of (flashd-control(7) RECORD) */
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "kind")), "sdp");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "kind")), "other");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 2), "kind")), "flash");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 2), "download_ms")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 2), "flash_ms")), 9);
	assert_null(json_object_get(json_array_get(steps, 2), "verify_ms"));
	assert_null(json_object_get(json_array_get(steps, 1), "download_ms"));
	assert_int_equal(json_array_size(json_object_get(last_record(), "reenum_ms")), 1);
	assert_true(json_is_integer(json_object_get(last_record(), "plug_to_sdp_ms")));
	assert_true(json_is_real(json_object_get(last_event_fields("result"), "journal_ms")));
	assert_int_equal(count_events("result"), 1);
	assert_true(count_events("progress") >= 3);
	assert_true(count_events("port") >= 4);
	assert_true(count_events("log") >= 1);
	assert_int_equal(st->stats.ok, 1);
	/* the board reboots and leaves: settle → empty */
	removed("1-1", "/dev/bus/usb/001/003");
	run(120);
	assert_int_equal(state_of("1-1"), PORT_STATE_EMPTY);
}

static void test_open_race(void **state)
{
	fu.open_err = -EACCES;
	fu.open_err_n = 2;
	rom("2-1", "/dev/bus/usb/002/002");
	run(50);
	assert_int_equal(fs.sdp_starts, 0);
	run(250);
	assert_int_equal(fu.opens, 3);
	assert_int_equal(fs.sdp_starts, 1);
	assert_non_null(live()->soc);
	assert_string_equal(live()->soc->name, sdp_soc_lookup(0x15a2, 0x0054)->name);
	live()->ev.done(live()->ev.ud, -EPROTO, "HAB closed");
	assert_int_equal(state_of("2-1"), PORT_STATE_FAILED);
}

static void test_open_fails(void **state)
{
	fu.open_err = -EACCES;
	fu.open_err_n = 100;
	rom("2-1", "/dev/bus/usb/002/002");
	run(STATION_OPEN_TRIES * STATION_OPEN_RETRY_MS + 300);
	assert_int_equal(fu.opens, STATION_OPEN_TRIES);
	assert_int_equal(fs.sdp_starts, 0);
	assert_int_equal(state_of("2-1"), PORT_STATE_FAILED);
	assert_string_equal(rec_str("result"), "failed");
	assert_non_null(strstr(rec_str("reason"), "cannot open /dev/bus/usb/002/002"));
	assert_non_null(strstr(rec_str("reason"), "Permission denied"));
	assert_string_equal(rec_str("failed_step"), "sdp");
}

static void test_open_other_error_no_retry(void **state)
{
	fu.open_err = -ENODEV;
	fu.open_err_n = 1;
	fastboot("2-2", "/dev/bus/usb/003/002", NULL);
	run(20);
	assert_int_equal(fu.opens, 1);
	assert_int_equal(state_of("2-2"), PORT_STATE_FAILED);
}

static void test_session_start_error(void **state)
{
	fs.start_err = -EINVAL;
	rom("2-1", "/dev/bus/usb/002/002");
	run(20);
	assert_int_equal(state_of("2-1"), PORT_STATE_FAILED);
	assert_int_equal(fu.closes, 1);
	assert_non_null(strstr(rec_str("reason"), "cannot start the SDP session"));
}

/* right after udev's add the interface may not be there yet (-ENOENT) or
 * still be held (-EBUSY): the claim is tried again on a timer, bounded */
static void test_session_start_claim_retry(void **state)
{
	fs.start_err = -EBUSY;
	fs.start_err_n = 2;
	rom("2-1", "/dev/bus/usb/002/002");
	run(5);
	assert_int_equal(fs.sdp_starts, 0);
	assert_int_equal(state_of("2-1"), PORT_STATE_SDP);
	run(STATION_OPEN_RETRY_MS * 2 + 50);
	assert_int_equal(fs.sdp_starts, 1);
	assert_int_equal(fu.opens, 3);
	assert_int_equal(fu.closes, 2);
	assert_int_equal(state_of("2-1"), PORT_STATE_SDP);
	assert_false(live()->freed);
}

static void test_session_start_claim_retry_bounded(void **state)
{
	fs.start_err = -ENOENT;
	fastboot("2-2", "/dev/bus/usb/003/002", NULL);
	/* the retries are real timers: on a loaded machine each may fire late, so
	 * run until the port gave up (a bound far above the tries' total), then
	 * a while longer: no open after the last try */
	for (unsigned i = 0; i < 10 * STATION_OPEN_TRIES && state_of("2-2") != PORT_STATE_FAILED; i++)
		run(STATION_OPEN_RETRY_MS);
	run(STATION_OPEN_RETRY_MS * 2);
	assert_int_equal(fu.opens, STATION_OPEN_TRIES);
	assert_int_equal(fs.fb_starts, 0);
	assert_int_equal(state_of("2-2"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "cannot start the fastboot session"));
}

static void test_unplug_mid_flash(void **state)
{
	struct fake_sess *s;

	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	s = live();
	s->ev.step(s->ev.ud, s->first + 1, "FB: flash rootfs raw.bin");
	s->ev.progress(s->ev.ud, 2048, 4096);
	removed("1-1", "/dev/bus/usb/001/003");
	/* the session is not cut short: it reports what the device did */
	assert_false(s->freed);
	assert_int_equal(state_of("1-1"), PORT_STATE_FASTBOOT);
	s->ev.done(s->ev.ud, -ENODEV, "flash rootfs: no device");
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
	assert_string_equal(rec_str("reason"), "board disconnected: flash rootfs: no device");
	assert_string_equal(rec_str("failed_step"), "FB: flash rootfs raw.bin");
	assert_int_equal(json_integer_value(json_object_get(last_record(), "bytes")), 9216 + 2048);
	/* replug after settle: flashed again */
	run(120);
	assert_int_equal(state_of("1-1"), PORT_STATE_EMPTY);
	rom("1-1", "/dev/bus/usb/001/004");
	assert_int_equal(state_of("1-1"), PORT_STATE_SDP);
	run(5);
	live()->ev.done(live()->ev.ud, -EIO, "x");
}

static void test_unplug_grace_expires(void **state)
{
	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	removed("1-1", "/dev/bus/usb/001/002");
	run(STATION_GONE_GRACE_MS + 200);
	assert_true(fs.last->freed);
	assert_int_equal(state_of("1-1"), PORT_STATE_EMPTY);   /* failed, then settled */
	assert_string_equal(rec_str("reason"), "board disconnected");
}

static void test_reenum_timeout(void **state)
{
	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	live()->next = live()->first + 1;
	live()->ev.done(live()->ev.ud, 0, NULL);
	removed("1-1", "/dev/bus/usb/001/002");
	run(900);
	assert_int_equal(state_of("1-1"), PORT_STATE_WAIT_REENUM);
	run(300);
	assert_int_equal(state_of("1-1"), PORT_STATE_EMPTY);
	assert_string_equal(rec_str("failed_step"), "wait-reenum");
	assert_non_null(strstr(rec_str("reason"), "no fastboot device"));
}

static void test_ignored_devices(void **state)
{
	struct devwatch_dev hub = { .port = "1-4", .sysname = "1-4", .devnode = "/dev/x",
				    .dev_class = 9, .interfaces = ":090000:" };

	station_on_device(st, DEVWATCH_ADD, &hub);
	device(DEVWATCH_ADD, "1-5", "/dev/bus/usb/001/009", 0x046d, 0xc077, ":030102:", NULL);
	assert_int_equal(st->nports, 0);
	/* a known port tracks any device */
	rom("1-5", "/dev/bus/usb/001/010");
	run(5);
	live()->ev.done(live()->ev.ud, -EIO, "x");
	removed("1-5", "/dev/bus/usb/001/010");
	device(DEVWATCH_ADD, "1-5", "/dev/bus/usb/001/011", 0x046d, 0xc077, ":030102:", NULL);
	assert_int_equal(find_port("1-5")->port.dev, PORT_DEV_OTHER);
	assert_int_equal(state_of("1-5"), PORT_STATE_FAILED);
	/* removal of a device we do not track there: ignored */
	removed("1-5", "/dev/bus/usb/001/099");
	assert_int_equal(find_port("1-5")->port.dev, PORT_DEV_OTHER);
	removed("1-6", "/dev/bus/usb/001/012");
	/* no devnode: ignored */
	device(DEVWATCH_ADD, "1-7", NULL, 0x15a2, 0x0054, "", NULL);
	assert_null(find_port("1-7"));
}

static void test_replaced_without_remove(void **state)
{
	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	/* a second add on the port: the first device is treated as gone */
	rom("1-1", "/dev/bus/usb/001/005");
	assert_true(find_port("1-1")->port.gone);
	assert_string_equal(find_port("1-1")->devnode, "/dev/bus/usb/001/005");
	live()->ev.done(live()->ev.ud, -ENODEV, "gone");
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
}

static void test_pause_resume(void **state)
{
	assert_int_equal(be.pause(be.ud), 0);
	assert_int_equal(count_events("pause"), 1);
	assert_true(json_is_true(json_object_get(last_event_fields("pause"), "paused")));
	assert_int_equal(be.pause(be.ud), 0); /* no change: no event */
	assert_int_equal(count_events("pause"), 1);
	rom("1-1", "/dev/bus/usb/001/002");
	assert_int_equal(state_of("1-1"), PORT_STATE_PAUSED);
	run(20);
	assert_int_equal(fu.opens, 0);
	/* a port seen while paused is paused too */
	fastboot("1-2", "/dev/bus/usb/001/003", NULL);
	assert_int_equal(state_of("1-2"), PORT_STATE_PAUSED);
	assert_int_equal(be.resume(be.ud), 0);
	assert_int_equal(count_events("pause"), 2);
	assert_true(json_is_false(json_object_get(last_event_fields("pause"), "paused")));
	assert_int_equal(state_of("1-1"), PORT_STATE_SDP);
	assert_int_equal(state_of("1-2"), PORT_STATE_FASTBOOT);
	run(5);
	assert_int_equal(fs.sdp_starts, 1);
	assert_int_equal(fs.fb_starts, 1);
	for (unsigned i = 0; i < fs.n; i++)
		fs.all[i]->ev.done(fs.all[i]->ev.ud, -EIO, "x");
}

static void test_abort_retry(void **state)
{
	char err[256] = "";
	struct fake_sess *s;

	assert_int_equal(be.abort_port(be.ud, "9-9", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no port 9-9");
	assert_int_equal(be.retry(be.ud, NULL, err, sizeof(err)), -ENOENT);
	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	s = live();
	assert_int_equal(be.retry(be.ud, "1-1", err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "port 1-1 is fastboot"));
	assert_int_equal(be.abort_port(be.ud, "1-1", err, sizeof(err)), 0);
	assert_true(s->freed);
	assert_true(s->dev->closed);
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
	assert_string_equal(rec_str("result"), "aborted");
	assert_string_equal(rec_str("reason"), "aborted by the operator");
	assert_int_equal(st->stats.aborted, 1);
	err[0] = '\0';
	assert_int_equal(be.abort_port(be.ud, "1-1", err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "nothing runs there"));
	/* retry: the fastboot device is still there, restore from the first FB step */
	assert_int_equal(be.retry(be.ud, "1-1", err, sizeof(err)), 0);
	assert_int_equal(state_of("1-1"), PORT_STATE_FASTBOOT);
	run(5);
	assert_int_equal(live()->first, step_index(live()->plan, "FB:"));
	assert_int_equal(json_array_size(find_port("1-1")->steps), 0);
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_string_equal(rec_str("result"), "ok");
}

static void test_restore_and_port_plan(void **state)
{
	/* [port 1-3] runs b.lst: fastboot only */
	fastboot("1-3", "/dev/bus/usb/001/002", "X");
	run(5);
	assert_true(live()->fb);
	assert_non_null(strstr(plan_path(live()->plan), "b.lst"));
	assert_int_equal(live()->first, 0);
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_int_equal(state_of("1-3"), PORT_STATE_DONE);
	/* a ROM on a port whose plan has no SDP step */
	removed("1-3", "/dev/bus/usb/001/002");
	run(120);
	rom("1-3", "/dev/bus/usb/001/004");
	run(5);
	assert_int_equal(fs.sdp_starts, 0);
	assert_int_equal(state_of("1-3"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "has no SDP step"));
}

static void test_use(void **state)
{
	char err[512] = "";
	const char *ports[] = { "1-2" };
	struct fake_sess *running;
	json_t *plans;

	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	running = live();
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	/* the running board keeps its plan */
	assert_non_null(strstr(plan_path(running->plan), "a.lst"));
	assert_non_null(strstr(plan_path(find_port("1-1")->plan), "a.lst"));
	rom("1-2", "/dev/bus/usb/001/003");
	run(5);
	assert_non_null(strstr(plan_path(live()->plan), "c.lst"));
	plans = be.plans(be.ud);
	assert_non_null(strstr(json_string_value(json_object_get(plans, "default")), "a.lst"));
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(plans, "ports"),
								 "1-2")), "c.lst"));
	assert_int_equal(json_array_size(json_object_get(plans, "loaded")), 3);
	json_decref(plans);
	/* a bad plan is refused with file:line, nothing changes */
	assert_int_equal(use_wait("bad.lst", NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad.lst:2"));
	assert_non_null(strstr(plan_path(st->plans.plan), "a.lst"));
	assert_int_equal(use_wait("", NULL, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(use_wait("a.lst", (const char *const[]){ "" }, 1, err, sizeof(err)),
			 -EINVAL);
	/* station-wide */
	assert_int_equal(use_wait("b.lst", NULL, 0, err, sizeof(err)), 0);
	assert_non_null(strstr(plan_path(st->plans.plan), "b.lst"));
	for (unsigned i = 0; i < fs.n; i++)
		fs.all[i]->ev.done(fs.all[i]->ev.ud, -EIO, "x");
}

/* Issue 11: an admin `use` on hundreds of made-up port names kept a plan
 * (and its image descriptors) for each, until flashd ran out of them.
 * Only ports that exist or are declared take a plan. */
static void test_use_unknown_ports(void **state)
{
	char err[512] = "", name[32], path[256];
	const char *ports[2];
	size_t nsel = st->plans.nsel;
	unsigned calls = __atomic_load_n(&fl.calls, __ATOMIC_SEQ_CST);

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "7-%d", i + 1);
		ports[0] = name;
		assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), -ENOENT);
	}
	assert_string_equal(err, "no port 7-300: no board seen there, no such USB hub port, "
				 "no [port 7-300] in flashd.conf");
	assert_int_equal(st->plans.nsel, nsel);
	assert_int_equal(__atomic_load_n(&fl.calls, __ATOMIC_SEQ_CST), calls); /* nothing loaded */
	/* one unknown port refuses the whole request */
	ports[0] = "1-2";
	ports[1] = "1-9";
	assert_int_equal(use_wait("c.lst", ports, 2, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no port 1-9"));
	assert_ptr_equal(station_plan_for(st, "1-2"), st->plans.plan);
	/* names that are no port path at all */
	ports[0] = "../../etc";
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad port name '../../etc'"));
	ports[0] = "1-1.";
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), -EINVAL);
	/* known: declared in flashd.conf, seen with a board, a hub port in sysfs */
	ports[0] = "1-3";
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	rom("5-1", "/dev/bus/usb/005/002");
	run(5);
	ports[0] = "5-1";
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	ports[0] = "1-4";
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	ports[0] = "1-1.3"; /* port 3 of a hub on port 1-1 */
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), -ENOENT);
	snprintf(path, sizeof(path), "mkdir -p %s/sys/bus/usb/devices/1-1:1.0/1-1-port3", dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	assert_int_equal(st->plans.nsel, nsel + 3); /* 1-3 had one already */
	for (unsigned i = 0; i < fs.n; i++)
		fs.all[i]->ev.done(fs.all[i]->ev.ud, -EIO, "x");
}

static void test_cfg_fastboot_id(void **state)
{
	char err[256];
	const char *ports[] = { "1-2" };

	assert_int_equal(use_wait("c.lst", ports, 1, err, sizeof(err)), 0);
	/* no interface list, but the plan's CFG: FB: line names the VID:PID */
	device(DEVWATCH_ADD, "1-2", "/dev/bus/usb/001/003", 0x1b67, 0x4000, "", NULL);
	assert_int_equal(state_of("1-2"), PORT_STATE_FASTBOOT);
	/* not on another port */
	device(DEVWATCH_ADD, "1-1", "/dev/bus/usb/001/004", 0x1b67, 0x4000, "", NULL);
	assert_null(find_port("1-1"));
	run(5);
	live()->ev.done(live()->ev.ud, -EIO, "x");
}

static void test_reload(void **state)
{
	char err[1024] = "";

	write_conf("plan = bad.lst", "");
	assert_int_equal(reload_wait(err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad.lst:2"));
	assert_non_null(strstr(plan_path(st->plans.plan), "a.lst"));
	assert_int_equal(st->plans.nsel, 1);
	write_text("flashd.conf", "settle = banana\n");
	assert_int_equal(reload_wait(err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "flashd.conf:1"));
	write_conf("plan = c.lst", "settle = 5s\n");
	write_conf("plan = c.lst", "");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_non_null(strstr(plan_path(st->plans.plan), "c.lst"));
	assert_int_equal(st->plans.nsel, 0);
}

/* `use` of a plan with a gzip image: decompressed into the cache beside the
 * journal; the board's journal record has both hashes. */
static void test_use_compressed(void **state)
{
	const char *ports[] = { "1-2" };
	char err[512] = "", path[600];
	struct plan_image *img;
	json_t *rimg;
	gzFile gz;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/raw.bin.gz", dir);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	uint8_t raw[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/raw.bin", dir);
	f = fopen(path, "rbe");
	assert_non_null(f);
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	assert_int_equal(gzwrite(gz, raw, (unsigned)n), (int)n);
	assert_int_equal(gzclose(gz), Z_OK);
	write_text("z.lst", "SDP: boot -f boot.imx\nFB: flash rootfs raw.bin.gz\nFB: done\n");
	assert_int_equal(use_wait("z.lst", ports, 1, err, sizeof(err)), 0);
	img = plan_image(station_plan_for(st, "1-2"), 1);
	assert_string_equal(img->compression, "gzip");
	assert_int_equal(img->size, n);
	assert_int_equal(strlen(img->source_sha256), 64);
	snprintf(path, sizeof(path), "%s/cache/%s.raw", dir, img->source_sha256);
	assert_int_equal(access(path, R_OK), 0);
	board_to_fastboot("1-2", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_string_equal(rec_str("result"), "ok");
	rimg = json_array_get(json_object_get(last_record(), "images"), 1);
	assert_string_equal(json_string_value(json_object_get(rimg, "compression")), "gzip");
	assert_string_equal(json_string_value(json_object_get(rimg, "source_sha256")),
			    img->source_sha256);
	assert_string_equal(json_string_value(json_object_get(rimg, "sha256")), img->sha256);
	rimg = json_array_get(json_object_get(last_record(), "images"), 0);
	assert_true(json_is_null(json_object_get(rimg, "compression")));
	assert_true(json_is_null(json_object_get(rimg, "source_sha256")));
}

/* A reload with unchanged images shares them with the plans in force
 * instead of reading (hashing) them again. */
static void test_reload_reuses_images(void **state)
{
	struct plan_image *before;
	char err[1024] = "";

	before = plan_image(st->plans.plan, 0);
	assert_non_null(before);
	write_conf("plan = a.lst", "");
	assert_int_equal(reload_wait(err, sizeof(err)), 0);
	assert_ptr_equal(plan_image(st->plans.plan, 0), before);
}

/* `use` binds its arguments to the plan's parameters; a missing one is
 * refused with file:line and changes nothing */
static void test_use_with_args(void **state)
{
	const char *ports[] = { "1-2" }, *args[] = { "boot.imx" };
	char err[512] = "";

	write_text("p.lst", "# @_img | the U-Boot\nSDP: boot -f _img\nFB: done\n# flashd: no-write\n");
	assert_int_not_equal(use_args_wait("p.lst", NULL, 0, ports, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "p.lst:2:"));
	assert_ptr_equal(station_plan_for(st, "1-2"), st->plans.plan);
	assert_int_equal(use_args_wait("p.lst", args, 1, ports, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(plan_path(station_plan_for(st, "1-2")), "p.lst"));
}

/* `use` loads on the loader thread: while the load is held there, the loop
 * goes on (a board runs through SDP into fastboot) and the answer waits. */
static void test_use_does_not_block(void **state)
{
	const char *ports[] = { "1-2" };
	struct control_pending p = { 0 };
	unsigned on_loop = fl.calls_on_loop;
	char err[512] = "";

	hold_loads();
	assert_int_equal(be.use(be.ud, "c.lst", NULL, 0, ports, 1, &p, err, sizeof(err)), CONTROL_PENDING);
	wait_held(1);
	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	assert_non_null(strstr(plan_path(live()->plan), "a.lst"));
	run(20);
	assert_int_equal(p.done, 0);
	assert_ptr_equal(station_plan_for(st, "1-2"), st->plans.plan);   /* not yet */
	assert_loading("use", "c.lst");
	fake_load_release(1);
	assert_int_equal(await(&p, err, sizeof(err)), 0);
	assert_loading(NULL, NULL);
	assert_non_null(strstr(plan_path(station_plan_for(st, "1-2")), "c.lst"));
	assert_int_equal(fl.calls_on_loop, on_loop);   /* never loaded on the loop */
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_string_equal(rec_str("result"), "ok");
}

/* Same for reload; its answer carries the load's error. */
static void test_reload_does_not_block(void **state)
{
	struct control_pending p = { 0 };
	unsigned on_loop = fl.calls_on_loop;
	char err[1024] = "";
	json_t *s;

	write_conf("plan = bad.lst", "");
	hold_loads();
	assert_int_equal(be.reload(be.ud, &p, err, sizeof(err)), CONTROL_PENDING);
	wait_held(1);
	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	assert_false(live()->fb);
	s = be.status(be.ud);
	assert_non_null(s);
	json_decref(s);
	assert_int_equal(p.done, 0);
	fake_load_release(1);
	assert_int_equal(await(&p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad.lst:2"));
	assert_non_null(strstr(plan_path(st->plans.plan), "a.lst"));
	assert_int_equal(fl.calls_on_loop, on_loop);
	live()->ev.done(live()->ev.ud, -EIO, "x");
}

/* Loads are applied in the order they were asked for. */
static void test_loads_in_order(void **state)
{
	const char *ports[] = { "1-2" };
	struct control_pending p[3] = { { 0 } };
	char err[1024] = "";

	hold_loads();
	assert_int_equal(be.use(be.ud, "b.lst", NULL, 0, NULL, 0, &p[0], err, sizeof(err)), CONTROL_PENDING);
	write_conf("plan = c.lst", "");
	assert_int_equal(be.reload(be.ud, &p[1], err, sizeof(err)), CONTROL_PENDING);
	assert_int_equal(be.use(be.ud, "a.lst", NULL, 0, ports, 1, &p[2], err, sizeof(err)),
			 CONTROL_PENDING);
	wait_held(1);
	fake_load_release(3);
	assert_int_equal(await(&p[2], err, sizeof(err)), 0);
	assert_int_equal(p[0].done, 1);
	assert_int_equal(p[0].r, 0);
	assert_int_equal(p[1].done, 1);
	assert_int_equal(p[1].r, 0);
	/* the reload dropped b.lst; the last `use` came after it */
	assert_non_null(strstr(plan_path(st->plans.plan), "c.lst"));
	assert_non_null(strstr(plan_path(station_plan_for(st, "1-2")), "a.lst"));
	assert_int_equal(st->plans.nsel, 1);
}

/* Freeing the station waits for the running load and cancels the rest:
 * every answer comes, as -ECANCELED, and nothing is applied. */
static void test_free_cancels_loads(void **state)
{
	struct control_pending p[2] = { { 0 } };
	char err[512] = "";

	hold_loads();
	assert_int_equal(be.use(be.ud, "b.lst", NULL, 0, NULL, 0, &p[0], err, sizeof(err)), CONTROL_PENDING);
	assert_int_equal(be.reload(be.ud, &p[1], err, sizeof(err)), CONTROL_PENDING);
	wait_held(1);
	fake_load_release(3);   /* b.lst; a.lst and b.lst of the configuration */
	st = station_free(st);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(p[i].done, 1);
		assert_int_equal(p[i].r, -ECANCELED);
		assert_string_equal(p[i].err, "flashd is stopping");
	}
}

/* SIGHUP's path: a reload with its own completion, refused at once
 * without a configuration file. */
static void reload_done_cb(void *ud, int r, const char *err)
{
	struct control_pending *p = ud;

	control_pending_done(p, r, err);
}

static void test_reload_direct(void **state)
{
	struct station_opts o = { .base = base };
	struct control_pending p = { 0 };
	struct conf *c = NULL;
	char err[512] = "";

	write_conf("plan = b.lst", "");
	assert_int_equal(station_reload(st, reload_done_cb, &p, err, sizeof(err)), 0);
	assert_int_equal(await(&p, err, sizeof(err)), 0);
	assert_non_null(strstr(plan_path(st->plans.plan), "b.lst"));
	st = station_free(st);
	assert_int_equal(conf_load(conf_path, &c, NULL), 0);
	assert_int_equal(station_new(&o, c, &st, err, sizeof(err)), 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(station_reload(st, reload_done_cb, &p, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "no configuration file to reload");
	station_backend(st, &be);
	assert_int_equal(be.reload(be.ud, &p, err, sizeof(err)), -ENOTSUP);
	run(5);
	assert_int_equal(p.done, 0);
}

static void test_boot_loop_uid(void **state)
{
	struct fake_sess *s;

	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	live()->ev.done(live()->ev.ud, 0, NULL);
	assert_string_equal(rec_str("result"), "ok");
	removed("1-1", "/dev/bus/usb/001/003");
	run(120);
	/* board_to_fastboot's session reported no UID: set one for the next boards */
	find_port("1-1")->port.done_have_uid = true;
	find_port("1-1")->port.done_uid = 0x1234;
	rom("1-1", "/dev/bus/usb/001/004");
	run(5);
	s = live();
	s->have_uid = true;
	s->uid = 0x1234;
	s->ev.step(s->ev.ud, s->first, "SDP: boot -f boot.imx");
	assert_true(s->freed);
	assert_int_equal(state_of("1-1"), PORT_STATE_BOOT_LOOP);
	assert_string_equal(rec_str("result"), "boot-loop");
	assert_string_equal(rec_str("uid"), "0000000000001234");
	assert_int_equal(st->stats.boot_loop, 1);
}

static void test_boot_loop_uid_at_done(void **state)
{
	struct fake_sess *s;

	rom("1-1", "/dev/bus/usb/001/004");
	find_port("1-1")->port.have_done = true;
	find_port("1-1")->port.done_have_uid = true;
	find_port("1-1")->port.done_uid = 7;
	run(5);
	s = live();
	s->have_uid = true;
	s->uid = 7;
	s->next = s->first + 1;
	s->ev.done(s->ev.ud, 0, NULL);
	assert_true(s->freed);
	assert_int_equal(state_of("1-1"), PORT_STATE_BOOT_LOOP);
}

static void test_no_plan(void **state)
{
	st = station_free(st);
	write_conf("", "");
	assert_int_equal(start_station(), 0);
	rom("1-1", "/dev/bus/usb/001/002");
	run(5);
	assert_int_equal(fu.opens, 0);
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
	assert_non_null(strstr(rec_str("reason"), "no plan"));
}

static void test_bad_plan_at_start(void **state)
{
	char err[512];
	struct station_opts o = { .base = base };
	struct conf *c;

	st = station_free(st);
	write_conf("plan = bad.lst", "");
	assert_int_equal(conf_load(conf_path, &c, NULL), 0);
	assert_int_equal(station_new(&o, c, &st, err, sizeof(err)) < 0, 1);
	assert_null(st);
	assert_non_null(strstr(err, "bad.lst:2"));
}

static void test_shutdown(void **state)
{
	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	fastboot("1-2", "/dev/bus/usb/001/005", NULL);
	run(5);
	live()->ev.done(live()->ev.ud, 0, NULL);   /* 1-2 done */
	station_shutdown(st, "flashd stopped (Terminated)");
	assert_int_equal(state_of("1-1"), PORT_STATE_FAILED);
	assert_string_equal(rec_str("result"), "aborted");
	assert_string_equal(rec_str("reason"), "flashd stopped (Terminated)");
	assert_int_equal(state_of("1-2"), PORT_STATE_DONE);
	assert_int_equal(json_array_size(records), 2);
	/* no new boards after that */
	rom("1-4", "/dev/bus/usb/001/009");
	assert_null(find_port("1-4"));
}

static void test_json(void **state)
{
	json_t *s, *p, *stats;
	char line[256];

	board_to_fastboot("1-1", "/dev/bus/usb/001/002", "/dev/bus/usb/001/003");
	live()->ev.step(live()->ev.ud, live()->first, "FB: getvar version");
	s = be.status(be.ud);
	assert_false(json_boolean_value(json_object_get(s, "paused")));
	p = json_array_get(json_object_get(s, "ports"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "port")), "1-1");
	assert_string_equal(json_string_value(json_object_get(p, "state")), "fastboot");
	assert_string_equal(json_string_value(json_object_get(p, "step")), "FB: getvar version");
	assert_string_equal(json_string_value(json_object_get(p, "serial")), "SER0001");
	assert_true(json_is_null(json_object_get(p, "uid")));
	assert_true(json_is_null(json_object_get(p, "result")));
	assert_int_equal(json_integer_value(json_object_get(p, "steps")),
			 plan_n_steps(find_port("1-1")->plan));
	for (const char *const *k = (const char *const[]){ "step_index", "bytes", "total", "rate",
							   "elapsed_ms", "plan", "reason", NULL };
	     *k; k++)
		assert_non_null(json_object_get(p, *k));
	json_decref(s);
	live()->ev.done(live()->ev.ud, -EPROTO, "FAIL: no such partition");
	stats = be.stats(be.ud);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(stats, "boards"),
							    "failed")), 1);
	assert_int_equal(json_array_size(json_object_get(stats, "steps")), 1);   /* SDP boot */
	json_decref(stats);
	station_status_line(st, line, sizeof(line));
	assert_string_equal(line, "1 ports, 0 flashing; 0 done, 1 failed, 0 boot loops");
}

/* status lists ports in natural name order, not in the order they came */
static void test_status_port_order(void **state)
{
	static const char *const arrival[] = { "1-1", "2-1", "4-1", "3-1", "1-10", "1-9" };
	static const char *const sorted[] = { "1-1", "1-9", "1-10", "2-1", "3-1", "4-1" };
	char node[32];
	json_t *s, *ports;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		snprintf(node, sizeof(node), "/dev/bus/usb/00%zu/002", i + 1);
		rom(arrival[i], node);
	}
	assert_int_equal(st->nports, 6);
	assert_string_equal(st->ports[1]->port.name, "2-1");   /* kept in arrival order */
	s = be.status(be.ud);
	ports = json_object_get(s, "ports");
	assert_int_equal(json_array_size(ports), 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(ports, i), "port")),
				    sorted[i]);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_seed_flow),
		T(test_open_race),
		T(test_open_fails),
		T(test_open_other_error_no_retry),
		T(test_session_start_error),
		T(test_session_start_claim_retry),
		T(test_session_start_claim_retry_bounded),
		T(test_unplug_mid_flash),
		T(test_unplug_grace_expires),
		T(test_reenum_timeout),
		T(test_ignored_devices),
		T(test_replaced_without_remove),
		T(test_pause_resume),
		T(test_abort_retry),
		T(test_restore_and_port_plan),
		T(test_use),
		T(test_use_unknown_ports),
		T(test_cfg_fastboot_id),
		T(test_reload),
		T(test_use_with_args),
		T(test_use_does_not_block),
		T(test_reload_reuses_images),
		T(test_use_compressed),
		T(test_reload_does_not_block),
		T(test_loads_in_order),
		T(test_free_cancels_loads),
		T(test_reload_direct),
		T(test_boot_loop_uid),
		T(test_boot_loop_uid_at_done),
		T(test_no_plan),
		T(test_bad_plan_at_start),
		T(test_shutdown),
		T(test_json),
		T(test_status_port_order),
#undef T
	};

	int failed = cmocka_run_group_tests_name("station", tests, NULL, NULL);

	failed += _cmocka_run_group_tests("station: SPL stage", station_spl_tests,
					  station_spl_ntests, NULL, NULL);
	failed += _cmocka_run_group_tests("station: journal failures", station_journal_tests,
					  station_journal_ntests, NULL, NULL);
	failed += _cmocka_run_group_tests("station: slots", station_slots_tests,
					  station_slots_ntests, NULL, NULL);
	failed += _cmocka_run_group_tests("station: pools", station_pools_tests,
					  station_pools_ntests, NULL, NULL);
	failed += _cmocka_run_group_tests("station: bus", station_bus_tests, station_bus_ntests,
					  NULL, NULL);
	return failed + _cmocka_run_group_tests("station: use confined", station_use_tests,
						station_use_ntests, NULL, NULL);
}
