/* devwatch: libudev monitor + initial enumeration of USB devices. */
#include "daemon/devwatch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "common/log.h"

struct devwatch_entry {
	char *syspath;
	char *devnode;
	char port[DEVWATCH_NAME_MAX];
};

struct devwatch {
	struct udev *udev;
	struct udev_monitor *mon;
	struct event *ev;
	devwatch_cb cb;
	void *ud;
	bool enumerated;
	struct devwatch_entry *devs;
	size_t ndevs;
};

bool devwatch_has_interface(const char *interfaces, uint8_t cls, uint8_t sub, uint8_t proto)
{
	char needle[16];

	if (!interfaces)
		return false;
	snprintf(needle, sizeof(needle), ":%02x%02x%02x:", cls, sub, proto);
	return strstr(interfaces, needle) != NULL;
}

int devwatch_parse_descriptors(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen < 2)
		return -ENOBUFS;
	out[n++] = ':';
	out[n] = '\0';
	if (len < 18 || buf[0] < 18 || buf[1] != 1)
		return -EBADMSG;
	for (size_t off = buf[0]; off < len; off += buf[off]) {
		char item[8];

		if (len - off < 2 || buf[off] < 2 || buf[off] > len - off)
			return -EBADMSG;
		if (buf[off + 1] != 4 || buf[off] < 9)
			continue;
		snprintf(item, sizeof(item), "%02x%02x%02x", buf[off + 5], buf[off + 6], buf[off + 7]);
		if (devwatch_has_interface(out, buf[off + 5], buf[off + 6], buf[off + 7]))
			continue;
		if (outlen - n < 8)
			return -ENOBUFS;
		memcpy(out + n, item, 6);
		out[n + 6] = ':';
		out[n + 7] = '\0';
		n += 7;
	}
	return 0;
}

int devwatch_port_dir_to_name(const char *portdir, char *out, size_t outlen)
{
	const char *p = strstr(portdir, "-port");
	const char *next;
	char *end;
	unsigned long port, bus;
	int n;

	if (!p)
		return -EINVAL;
	while ((next = strstr(p + 1, "-port")))
		p = next;
	errno = 0;
	port = strtoul(p + 5, &end, 10);
	if (errno || end == p + 5 || *end || port == 0 || port > 255 || p == portdir)
		return -EINVAL;
	if (strncmp(portdir, "usb", 3) == 0) {
		bus = strtoul(portdir + 3, &end, 10);
		if (end == portdir + 3 || end != p || bus == 0 || bus > 9999)
			return -EINVAL;
		n = snprintf(out, outlen, "%lu-%lu", bus, port);
	} else {
		n = snprintf(out, outlen, "%.*s.%lu", (int)(p - portdir), portdir, port);
	}
	return n < 0 || (size_t)n >= outlen ? -EINVAL : 0;
}

static long devwatch_read_long(const char *dir, const char *file)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* One readlink: the kernel follows "<syspath>/port" on the way to its "peer"
 * link, whose text ends in the twin port's directory name. The hub owning our
 * own port is "<syspath>/port/../.." (".." after a symlink is the parent of
 * its target). Resolving both with realpath() cost ~20 readlink calls. */
void devwatch_port_name(const char *syspath, const char *sysname, char *out, size_t outlen)
{
	char path[PATH_MAX], peer[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(out, outlen, "%s", sysname);
	if ((size_t)snprintf(path, sizeof(path), "%s/port/peer", syspath) >= sizeof(path))
		return;
	n = readlink(path, peer, sizeof(peer));
	if (n <= 0 || (size_t)n >= sizeof(peer))
		return;
	peer[n] = '\0';
	/* twins: the USB 2 side names the physical port */
	if ((size_t)snprintf(path, sizeof(path), "%s/port/../..", syspath) >= sizeof(path) ||
	    devwatch_read_long(path, "speed") < 5000)
		return;
	base = strrchr(peer, '/');
	base = base ? base + 1 : peer;
	if (devwatch_port_dir_to_name(base, out, outlen) < 0)
		snprintf(out, outlen, "%s", sysname);
}

/* "a/b/c": three unsigned numbers in base, each at most max, nothing else. */
static int devwatch_parse_triple(const char *s, int base, unsigned long max, unsigned long v[3])
{
	const char *p = s;
	char *end;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		errno = 0;
		v[i] = strtoul(p, &end, base);
		if (errno || end == p || v[i] > max || *p == '-' || *p == '+' ||
		    isspace((unsigned char)*p))
			return -EINVAL;
		if (i < 2 && *end != '/')
			return -EINVAL;
		p = end + 1;
	}
	return *end ? -EINVAL : 0;
}

int devwatch_parse_product(const char *s, uint16_t *vid, uint16_t *pid, uint16_t *bcd)
{
	unsigned long v[3];

	if (devwatch_parse_triple(s, 16, 0xffff, v) < 0)
		return -EINVAL;
	*vid = (uint16_t)v[0];
	*pid = (uint16_t)v[1];
	*bcd = (uint16_t)v[2];
	return 0;
}

int devwatch_parse_type(const char *s, uint8_t *dev_class)
{
	unsigned long v[3];

	if (devwatch_parse_triple(s, 10, 0xff, v) < 0)
		return -EINVAL;
	*dev_class = (uint8_t)v[0];
	return 0;
}

static struct devwatch_entry *devwatch_find(struct devwatch *w, const char *syspath)
{
	for (size_t i = 0; i < w->ndevs; i++)
		if (strcmp(w->devs[i].syspath, syspath) == 0)
			return &w->devs[i];
	return NULL;
}

static void devwatch_forget(struct devwatch *w, struct devwatch_entry *e)
{
	free(e->syspath);
	free(e->devnode);
	*e = w->devs[--w->ndevs];
}

static void devwatch_interfaces(struct udev_device *d, char *out, size_t outlen)
{
	const char *prop = udev_device_get_property_value(d, "ID_USB_INTERFACES");
	char path[PATH_MAX];
	uint8_t buf[4096];
	ssize_t n;
	int fd;

	out[0] = '\0';
	if (prop) {
		snprintf(out, outlen, "%s", prop);
		return;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/descriptors", udev_device_get_syspath(d)) >=
	    sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || devwatch_parse_descriptors(buf, (size_t)n, out, outlen) < 0)
		out[0] = '\0';
}

static void devwatch_fill_ids(struct udev_device *d, struct devwatch_dev *dev)
{
	const char *cls;

	if (devwatch_parse_product(udev_device_get_property_value(d, "PRODUCT"), &dev->vid,
				   &dev->pid, &dev->bcd) < 0)
		dev->vid = dev->pid = dev->bcd = 0;
	/* the kernel's TYPE holds the same descriptor byte as sysfs bDeviceClass,
	 * without reading sysfs (5 system calls per device) */
	if (devwatch_parse_type(udev_device_get_property_value(d, "TYPE"), &dev->dev_class) == 0)
		return;
	cls = udev_device_get_sysattr_value(d, "bDeviceClass");
	if (cls)
		dev->dev_class = (uint8_t)strtoul(cls, NULL, 16);
}

static void devwatch_added(struct devwatch *w, struct udev_device *d)
{
	const char *syspath = udev_device_get_syspath(d);
	const char *devnode = udev_device_get_devnode(d);
	char ifaces[DEVWATCH_IFACES_MAX];
	struct devwatch_dev dev = { .sysname = udev_device_get_sysname(d), .devnode = devnode };
	struct devwatch_entry *e = devwatch_find(w, syspath);

	if (e) {
		if (devnode && e->devnode && strcmp(devnode, e->devnode) == 0)
			return;   /* enumeration and monitor both saw it */
		dev.port = e->port;
		dev.devnode = e->devnode;
		w->cb(w->ud, DEVWATCH_REMOVE, &dev);
		devwatch_forget(w, e);
		dev.devnode = devnode;
	}
	if (w->ndevs >= DEVWATCH_DEVICES_MAX) {
		log_warning("devwatch: more than %u USB devices, ignoring %s",
			    DEVWATCH_DEVICES_MAX, dev.sysname);
		return;
	}
	e = &w->devs[w->ndevs];
	memset(e, 0, sizeof(*e));
	e->syspath = strdup(syspath);
	e->devnode = devnode ? strdup(devnode) : NULL;
	if (!e->syspath || (devnode && !e->devnode)) {
		free(e->syspath);
		free(e->devnode);
		log_error("devwatch: out of memory");
		return;
	}
	w->ndevs++;
	devwatch_port_name(syspath, dev.sysname, e->port, sizeof(e->port));
	devwatch_fill_ids(d, &dev);
	devwatch_interfaces(d, ifaces, sizeof(ifaces));
	dev.port = e->port;
	dev.interfaces = ifaces;
	dev.serial = udev_device_get_sysattr_value(d, "serial");
	w->cb(w->ud, DEVWATCH_ADD, &dev);
}

static void devwatch_removed(struct devwatch *w, struct udev_device *d)
{
	struct devwatch_entry *e = devwatch_find(w, udev_device_get_syspath(d));
	struct devwatch_dev dev = { .sysname = udev_device_get_sysname(d), .interfaces = "" };

	if (!e)
		return;
	devwatch_fill_ids(d, &dev);
	dev.port = e->port;
	dev.devnode = e->devnode;
	w->cb(w->ud, DEVWATCH_REMOVE, &dev);
	devwatch_forget(w, e);
}

static void devwatch_process(struct devwatch *w, struct udev_device *d, const char *action)
{
	const char *sysname = udev_device_get_sysname(d);
	const char *devtype = udev_device_get_devtype(d);

	if (!sysname || !udev_device_get_syspath(d) || strncmp(sysname, "usb", 3) == 0)
		return;
	if (!devtype || strcmp(devtype, "usb_device") != 0)
		return;
	if (strcmp(action, "add") == 0)
		devwatch_added(w, d);
	else if (strcmp(action, "remove") == 0)
		devwatch_removed(w, d);
}

static void devwatch_on_monitor(evutil_socket_t fd, short what, void *arg)
{
	struct devwatch *w = arg;
	struct udev_device *d;

	/* bounded per wakeup so one flood cannot starve the loop */
	for (int i = 0; i < 64 && (d = udev_monitor_receive_device(w->mon)); i++) {
		const char *action = udev_device_get_action(d);

		if (action && w->enumerated)
			devwatch_process(w, d, action);
		udev_device_unref(d);
	}
}

int devwatch_new(struct event_base *base, devwatch_cb cb, void *ud, struct devwatch **out)
{
	struct devwatch *w;
	int r = -ENOMEM;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->ud = ud;
	w->devs = calloc(DEVWATCH_DEVICES_MAX, sizeof(*w->devs));
	w->udev = udev_new();
	if (!w->devs || !w->udev)
		goto fail;
	w->mon = udev_monitor_new_from_netlink(w->udev, "udev");
	if (!w->mon) {
		r = errno > 0 ? -errno : -EIO;
		goto fail;
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(w->mon, "usb", "usb_device");
	if (r >= 0)
		r = udev_monitor_enable_receiving(w->mon);
	if (r < 0)
		goto fail;
	/* best effort: a big buffer survives a hub full of boards at once */
	udev_monitor_set_receive_buffer_size(w->mon, 4 * 1024 * 1024);
	w->ev = event_new(base, udev_monitor_get_fd(w->mon), EV_READ | EV_PERSIST,
			  devwatch_on_monitor, w);
	r = -ENOMEM;
	if (!w->ev || event_add(w->ev, NULL) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	devwatch_free(w);
	return r;
}

int devwatch_enumerate(struct devwatch *w)
{
	struct udev_enumerate *en = udev_enumerate_new(w->udev);
	struct udev_list_entry *item;
	int r;

	if (!en)
		return -ENOMEM;
	r = udev_enumerate_add_match_subsystem(en, "usb");
	if (r >= 0)
		r = udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
	if (r >= 0)
		r = udev_enumerate_scan_devices(en);
	if (r < 0) {
		udev_enumerate_unref(en);
		return r;
	}
	w->enumerated = true;
	udev_list_entry_foreach(item, udev_enumerate_get_list_entry(en)) {
		struct udev_device *d =
			udev_device_new_from_syspath(w->udev, udev_list_entry_get_name(item));

		if (!d)
			continue;
		devwatch_process(w, d, "add");
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
	return 0;
}

struct devwatch *devwatch_free(struct devwatch *w)
{
	if (!w)
		return NULL;
	if (w->ev)
		event_free(w->ev);
	udev_monitor_unref(w->mon);
	udev_unref(w->udev);
	while (w->ndevs)
		devwatch_forget(w, &w->devs[0]);
	free(w->devs);
	free(w);
	return NULL;
}
