/* test-devwatch: interface lists (from ID_USB_INTERFACES and from raw
 * descriptors), PRODUCT and TYPE parsing, port names, and USB 3 peer ports resolved
 * on a fake sysfs tree in a temporary folder. */
#include "daemon/devwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void test_has_interface(void **state)
{
	assert_true(devwatch_has_interface(":030000:", 3, 0, 0));
	assert_true(devwatch_has_interface(":030000:ff4203:", 0xff, 0x42, 0x03));
	assert_false(devwatch_has_interface(":ff4201:", 0xff, 0x42, 0x03));
	assert_false(devwatch_has_interface("ff4203", 0xff, 0x42, 0x03));
	assert_false(devwatch_has_interface("", 3, 0, 0));
	assert_false(devwatch_has_interface(NULL, 3, 0, 0));
}

static const uint8_t dev_desc[18] = { 18, 1, 0x00, 0x02, 0, 0, 0, 64, 0xa2, 0x15, 0x54, 0x00,
				      0x01, 0x00, 1, 2, 0, 1 };

static size_t build(uint8_t *buf, const uint8_t *extra, size_t n)
{
	memcpy(buf, dev_desc, sizeof(dev_desc));
	memcpy(buf + sizeof(dev_desc), extra, n);
	return sizeof(dev_desc) + n;
}

static void test_descriptors(void **state)
{
	/* config, HID interface, HID class desc, endpoint, fastboot interface, its duplicate */
	static const uint8_t cfg[] = {
		9, 2, 50, 0, 2, 1, 0, 0x80, 50,
		9, 4, 0, 0, 1, 3, 0, 0, 0,
		9, 0x21, 0x10, 0x01, 0, 1, 0x22, 76, 0,
		7, 5, 0x81, 3, 64, 0, 1,
		9, 4, 1, 0, 2, 0xff, 0x42, 0x03, 0,
		9, 4, 1, 1, 2, 0xff, 0x42, 0x03, 0,
	};
	uint8_t buf[256];
	char out[64];
	size_t n = build(buf, cfg, sizeof(cfg));

	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), 0);
	assert_string_equal(out, ":030000:ff4203:");
	/* only the device descriptor: no interfaces */
	assert_int_equal(devwatch_parse_descriptors(buf, 18, out, sizeof(out)), 0);
	assert_string_equal(out, ":");
	/* output too small */
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, 10), -ENOBUFS);
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, 1), -ENOBUFS);
}

static void test_descriptors_hostile(void **state)
{
	uint8_t buf[64];
	char out[64];
	size_t n;

	/* short, wrong type, zero-length and overlong descriptors */
	assert_int_equal(devwatch_parse_descriptors(dev_desc, 17, out, sizeof(out)), -EBADMSG);
	memcpy(buf, dev_desc, 18);
	buf[1] = 2;
	assert_int_equal(devwatch_parse_descriptors(buf, 18, out, sizeof(out)), -EBADMSG);
	n = build(buf, (const uint8_t[]){ 0, 4 }, 2);
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), -EBADMSG);
	n = build(buf, (const uint8_t[]){ 9, 4, 0, 0 }, 4);
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), -EBADMSG);
	n = build(buf, (const uint8_t[]){ 9 }, 1);
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), -EBADMSG);
	/* a short interface descriptor is skipped, not read past */
	n = build(buf, (const uint8_t[]){ 4, 4, 0, 0 }, 4);
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), 0);
	assert_string_equal(out, ":");
}

static void test_descriptors_many(void **state)
{
	uint8_t buf[18 + 9 * 100];
	char out[DEVWATCH_IFACES_MAX];
	size_t n = 18;

	memcpy(buf, dev_desc, 18);
	for (int i = 0; i < 100; i++, n += 9) {
		const uint8_t d[9] = { 9, 4, (uint8_t)i, 0, 0, (uint8_t)i, 1, 2, 0 };

		memcpy(buf + n, d, 9);
	}
	assert_int_equal(devwatch_parse_descriptors(buf, n, out, sizeof(out)), -ENOBUFS);
	assert_true(strlen(out) < sizeof(out));
}

static void test_port_dir_to_name(void **state)
{
	char out[DEVWATCH_NAME_MAX];

	assert_int_equal(devwatch_port_dir_to_name("1-1-port4", out, sizeof(out)), 0);
	assert_string_equal(out, "1-1.4");
	assert_int_equal(devwatch_port_dir_to_name("2-1.3-port12", out, sizeof(out)), 0);
	assert_string_equal(out, "2-1.3.12");
	assert_int_equal(devwatch_port_dir_to_name("usb2-port3", out, sizeof(out)), 0);
	assert_string_equal(out, "2-3");
	assert_int_equal(devwatch_port_dir_to_name("usb10-port1", out, sizeof(out)), 0);
	assert_string_equal(out, "10-1");
	assert_int_equal(devwatch_port_dir_to_name("1-1-port", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("1-1-port0", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("1-1-port4x", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("-port4", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("usb-port4", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("usbx-port4", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("1-1", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("1-1-port999", out, sizeof(out)), -EINVAL);
	assert_int_equal(devwatch_port_dir_to_name("1-1-port4", out, 5), -EINVAL);
}

static void test_parse_product(void **state)
{
	uint16_t v = 1, p = 2, b = 3;

	assert_int_equal(devwatch_parse_product("15a2/54/1", &v, &p, &b), 0);
	assert_int_equal(v, 0x15a2);
	assert_int_equal(p, 0x54);
	assert_int_equal(b, 1);
	assert_int_equal(devwatch_parse_product("525/a4a5/221", &v, &p, &b), 0);
	assert_int_equal(b, 0x221);
	v = 9;
	assert_int_equal(devwatch_parse_product("15a2/54", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("15a2/54/1/2", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("115a2/54/1", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("-1/54/1", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("g/54/1", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("", &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product(NULL, &v, &p, &b), -EINVAL);
	assert_int_equal(devwatch_parse_product("15a2/\t54/1", &v, &p, &b), -EINVAL);
	assert_int_equal(v, 9);
}

static void test_parse_type(void **state)
{
	uint8_t c = 7;

	assert_int_equal(devwatch_parse_type("9/0/3", &c), 0);
	assert_int_equal(c, 9);
	assert_int_equal(devwatch_parse_type("0/0/0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(devwatch_parse_type("255/255/255", &c), 0);
	assert_int_equal(c, 255);
	/* decimal, as the kernel's "TYPE=%d/%d/%d": "ff" is not a class */
	assert_int_equal(devwatch_parse_type("239/2/1", &c), 0);
	assert_int_equal(c, 0xef);
	c = 7;
	assert_int_equal(devwatch_parse_type("ff/0/0", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("256/0/0", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("9/0", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("9/0/3/1", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("9/0/3 ", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type(" 9/0/3", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("-9/0/3", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("+9/0/3", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("9//3", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("99999999999999999999/0/0", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type("", &c), -EINVAL);
	assert_int_equal(devwatch_parse_type(NULL, &c), -EINVAL);
	assert_int_equal(c, 7);
}

/* ---- a fake sysfs: one USB 2 hub (1-1) and its USB 3 twin (2-1), port 4 peered ---- */

static char root[64];

static void mk(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void ln(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int sysfs_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test-devwatch-XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("1-1");
	put("1-1/speed", "480\n");
	mk("1-1/1-1:1.0");
	mk("1-1/1-1:1.0/1-1-port4");
	mk("1-1/1-1:1.0/1-1-port5");
	mk("2-1");
	put("2-1/speed", "5000\n");
	mk("2-1/2-1:1.0");
	mk("2-1/2-1:1.0/2-1-port4");
	ln("../../../2-1/2-1:1.0/2-1-port4", "1-1/1-1:1.0/1-1-port4/peer");
	ln("../../../1-1/1-1:1.0/1-1-port4", "2-1/2-1:1.0/2-1-port4/peer");
	/* devices: 1-1.4 (USB 2 side), 2-1.4 (USB 3 side), 1-1.5 (no peer), 3-1 (no port link) */
	mk("1-1/1-1.4");
	ln("../1-1:1.0/1-1-port4", "1-1/1-1.4/port");
	mk("2-1/2-1.4");
	ln("../2-1:1.0/2-1-port4", "2-1/2-1.4/port");
	mk("1-1/1-1.5");
	ln("../1-1:1.0/1-1-port5", "1-1/1-1.5/port");
	mk("3-1");
	return 0;
}

static int sysfs_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void name_of(const char *rel, const char *sysname, const char *want)
{
	char path[PATH_MAX], out[DEVWATCH_NAME_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	devwatch_port_name(path, sysname, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_port_names(void **state)
{
	name_of("1-1/1-1.4", "1-1.4", "1-1.4");
	name_of("2-1/2-1.4", "2-1.4", "1-1.4");   /* the USB 3 twin takes the USB 2 name */
	name_of("1-1/1-1.5", "1-1.5", "1-1.5");
	name_of("3-1", "3-1", "3-1");
	name_of("nonexistent", "9-9", "9-9");
}

static void test_port_names_paths(void **state)
{
	/* reached through a symlink, as /sys/bus/usb/devices/2-1.4 */
	ln("2-1/2-1.4", "bus-2-1.4");
	name_of("bus-2-1.4", "2-1.4", "1-1.4");
	/* the hub owning the port decides, not the folder holding the device */
	mk("elsewhere");
	mk("elsewhere/2-1.4");
	ln("../../2-1/2-1:1.0/2-1-port4", "elsewhere/2-1.4/port");
	name_of("elsewhere/2-1.4", "2-1.4", "1-1.4");
	/* SuperSpeed Plus hub */
	put("2-1/speed", "10000\n");
	name_of("2-1/2-1.4", "2-1.4", "1-1.4");
	/* a root hub twin: "usbN-portM" names the port "N-M" */
	mk("usb3");
	put("usb3/speed", "5000\n");
	mk("usb3/3-0:1.0");
	mk("usb3/3-0:1.0/usb3-port2");
	mk("usb4");
	mk("usb4/4-0:1.0");
	mk("usb4/4-0:1.0/usb4-port2");
	ln("../../../usb4/4-0:1.0/usb4-port2", "usb3/3-0:1.0/usb3-port2/peer");
	mk("usb3/3-2");
	ln("../3-0:1.0/usb3-port2", "usb3/3-2/port");
	name_of("usb3/3-2", "3-2", "4-2");
}

static void test_port_names_odd(void **state)
{
	/* a peer whose name is no port folder: keep the device's own name */
	mk("2-1/2-1:1.0/2-1-port6");
	mk("1-1/1-1:1.0/odd");
	ln("../../../1-1/1-1:1.0/odd", "2-1/2-1:1.0/2-1-port6/peer");
	mk("2-1/2-1.6");
	ln("../2-1:1.0/2-1-port6", "2-1/2-1.6/port");
	name_of("2-1/2-1.6", "2-1.6", "2-1.6");
	/* a hub speed that is no number counts as slow */
	put("2-1/speed", "fast\n");
	name_of("2-1/2-1.4", "2-1.4", "2-1.4");
	/* a "port" that is no link to a port folder */
	mk("2-1/2-1.7");
	put("2-1/2-1.7/port", "x");
	name_of("2-1/2-1.7", "2-1.7", "2-1.7");
}

static void test_port_names_long(void **state)
{
	char path[PATH_MAX + 16], out[DEVWATCH_NAME_MAX];

	/* a syspath too long for a path: the device's own name, nothing read */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	devwatch_port_name(path, "1-1.4", out, sizeof(out));
	assert_string_equal(out, "1-1.4");
	/* an output too small for the peer's name: the device's own name, cut */
	snprintf(path, sizeof(path), "%s/2-1/2-1.4", root);
	devwatch_port_name(path, "2-1.4", out, 4);
	assert_string_equal(out, "2-1");
}

static void test_port_names_no_speed(void **state)
{
	char path[PATH_MAX];

	/* the hub's speed unreadable: keep the device's own name */
	snprintf(path, sizeof(path), "%s/2-1/speed", root);
	assert_int_equal(unlink(path), 0);
	name_of("2-1/2-1.4", "2-1.4", "2-1.4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_interface),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_descriptors_hostile),
		cmocka_unit_test(test_descriptors_many),
		cmocka_unit_test(test_port_dir_to_name),
		cmocka_unit_test(test_parse_product),
		cmocka_unit_test(test_parse_type),
		cmocka_unit_test_setup_teardown(test_port_names, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_port_names_no_speed, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_port_names_paths, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_port_names_odd, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_port_names_long, sysfs_setup, sysfs_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
