/* devwatch: USB devices coming and going, from udev.
 *
 * A libudev monitor (events after udevd has applied its rules, so device
 * permissions are in place) for subsystem usb / devtype usb_device, plus an
 * initial enumeration. Each device is reported with its physical port name:
 * the sysfs device name ("1-1.4"); on a USB 3 hub the two sysfs twins of one
 * physical port (linked by portN/peer) get the same name, that of the USB 2
 * side. Root hubs are not reported. Add/remove are reported once per device:
 * a second add for a known device is dropped, a remove for an unknown one too. */
#ifndef FLASHD_DAEMON_DEVWATCH_H
#define FLASHD_DAEMON_DEVWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#define DEVWATCH_NAME_MAX 64u
#define DEVWATCH_IFACES_MAX 256u
#define DEVWATCH_DEVICES_MAX 1024u   /* devices tracked at once */

struct devwatch;

enum devwatch_action {
	DEVWATCH_ADD,
	DEVWATCH_REMOVE,
};

struct devwatch_dev {
	const char *port;        /* physical port name (USB 3 peers unified) */
	const char *sysname;     /* sysfs device name, e.g. "2-1.4" */
	const char *devnode;     /* "/dev/bus/usb/001/005", or NULL */
	uint16_t vid, pid, bcd;
	uint8_t dev_class;       /* bDeviceClass (9 = hub) */
	const char *interfaces;  /* ":030000:ff4203:" (ID_USB_INTERFACES style), "" if unknown */
	const char *serial;      /* iSerialNumber string, or NULL */
};

typedef void (*devwatch_cb)(void *ud, enum devwatch_action action, const struct devwatch_dev *dev);

/* Starts monitoring; nothing is reported before devwatch_enumerate(). */
int devwatch_new(struct event_base *base, devwatch_cb cb, void *ud, struct devwatch **out);
/* Reports DEVWATCH_ADD for every USB device present now. */
int devwatch_enumerate(struct devwatch *w);
struct devwatch *devwatch_free(struct devwatch *w);

/* Helpers (pure or on a sysfs tree, unit-tested). */
/* Whether an ID_USB_INTERFACES-style list holds class/subclass/protocol. */
bool devwatch_has_interface(const char *interfaces, uint8_t cls, uint8_t sub, uint8_t proto);
/* Interface list from a usb_device's "descriptors" sysfs attribute (device
 * descriptor + configuration descriptors): 0, -EBADMSG, -ENOBUFS. */
int devwatch_parse_descriptors(const uint8_t *buf, size_t len, char *out, size_t outlen);
/* "1-1-port4" → "1-1.4", "usb2-port3" → "2-3": the device name a hub port
 * gives its device. 0 or -EINVAL. */
int devwatch_port_dir_to_name(const char *portdir, char *out, size_t outlen);
/* Physical port name of the device at syspath (sysfs name sysname): its
 * "port" link and that port's "peer" decide (the peer's name when our own
 * hub is SuperSpeed, speed >= 5000); falls back to sysname. */
void devwatch_port_name(const char *syspath, const char *sysname, char *out, size_t outlen);
/* "15a2/54/1" (PRODUCT) → vid, pid, bcd. 0 or -EINVAL. */
int devwatch_parse_product(const char *s, uint16_t *vid, uint16_t *pid, uint16_t *bcd);
/* "9/0/3" (TYPE: bDeviceClass/SubClass/Protocol in decimal) → bDeviceClass.
 * 0 or -EINVAL. */
int devwatch_parse_type(const char *s, uint8_t *dev_class);

#endif
