/* gadget: one configfs USB gadget (/sys/kernel/config/usb_gadget/NAME) with one
 * configuration and one FunctionFS function (ffs.NAME, mounted on /dev/ffs-NAME),
 * bound to and unbound from one UDC. The device identity can be changed while
 * unbound; that is how the emulator re-enumerates as something else. */
#ifndef EMU_GADGET_H
#define EMU_GADGET_H

#include <stdint.h>

struct gadget_ids {
	uint16_t vid, pid, bcd_device;
	const char *manufacturer, *product;
	const char *serial;        /* NULL: no iSerialNumber */
	const char *configuration; /* NULL: no iConfiguration */
	uint8_t attributes;        /* bmAttributes */
	unsigned max_power_ma;
};

struct gadget;

/* create (or take over a stale) gadget; mounts configfs and functionfs if needed */
int gadget_new(const char *name, const char *udc, struct gadget **out);
/* unbinds, unmounts and removes everything it created */
struct gadget *gadget_free(struct gadget *g);
/* the FunctionFS mount point */
const char *gadget_ffs_dir(const struct gadget *g);
/* set the identity (only while unbound) */
int gadget_set_ids(struct gadget *g, const struct gadget_ids *ids);
int gadget_bind(struct gadget *g);
int gadget_unbind(struct gadget *g);

#endif
