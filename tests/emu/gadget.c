/* gadget: see gadget.h. configfs layout: Documentation/usb/gadget_configfs.rst. */
#include "gadget.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define GADGET_CONFIGFS "/sys/kernel/config"
#define GADGET_ROOT GADGET_CONFIGFS "/usb_gadget"
#define GADGET_PATH_MAX 512
#define GADGET_NAME_MAX 32
#define GADGET_CONFIGFS_MAGIC 0x62656570

struct gadget {
	char name[GADGET_NAME_MAX + 1];
	char udc[64];
	char dir[GADGET_PATH_MAX];     /* the gadget folder */
	char ffs_dir[GADGET_PATH_MAX]; /* /dev/ffs-NAME */
	bool ffs_mounted;
	bool bound;
};

/* G's folder, or REL below it */
static int gadget_path(const struct gadget *g, const char *rel, char *out, size_t size)
{
	int n = rel ? snprintf(out, size, "%s/%s", g->dir, rel) : snprintf(out, size, "%s", g->dir);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int gadget_write(const struct gadget *g, const char *rel, const char *val)
{
	char path[GADGET_PATH_MAX * 2];
	size_t len = strlen(val);
	ssize_t n;
	int fd, r = 0;

	if (gadget_path(g, rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	close(fd);
	return r;
}

static int gadget_writef(const struct gadget *g, const char *rel, unsigned v, bool hex)
{
	char buf[32];

	snprintf(buf, sizeof(buf), hex ? "0x%04x" : "%u", v);
	return gadget_write(g, rel, buf);
}

static int gadget_mkdir(const struct gadget *g, const char *rel)
{
	char path[GADGET_PATH_MAX * 2];

	if (gadget_path(g, rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void gadget_rmdir(const struct gadget *g, const char *rel)
{
	char path[GADGET_PATH_MAX * 2];

	if (gadget_path(g, rel, path, sizeof(path)) == 0)
		(void)rmdir(path);
}

static int gadget_mount_configfs(void)
{
	struct statfs st;

	if (statfs(GADGET_CONFIGFS, &st) == 0 && st.f_type == GADGET_CONFIGFS_MAGIC)
		return 0;
	if (mount("configfs", GADGET_CONFIGFS, "configfs", 0, NULL) < 0)
		return -errno;
	return 0;
}

/* everything below the gadget folder, innermost first */
static void gadget_remove_tree(struct gadget *g)
{
	char path[GADGET_PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/configs/c.1/ffs.%s", g->dir, g->name);
	(void)unlink(path);
	gadget_rmdir(g, "configs/c.1/strings/0x409");
	gadget_rmdir(g, "configs/c.1");
	snprintf(path, sizeof(path), "functions/ffs.%s", g->name);
	gadget_rmdir(g, path);
	gadget_rmdir(g, "strings/0x409");
	gadget_rmdir(g, NULL);
}

static int gadget_create(struct gadget *g)
{
	char path[GADGET_PATH_MAX * 2], target[GADGET_PATH_MAX * 2];
	int r;

	if ((r = gadget_mkdir(g, NULL)) < 0 || (r = gadget_mkdir(g, "configs/c.1")) < 0)
		return r;
	snprintf(path, sizeof(path), "functions/ffs.%s", g->name);
	if ((r = gadget_mkdir(g, path)) < 0)
		return r;
	snprintf(target, sizeof(target), "%s/functions/ffs.%s", g->dir, g->name);
	snprintf(path, sizeof(path), "%s/configs/c.1/ffs.%s", g->dir, g->name);
	if (symlink(target, path) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int gadget_mount_ffs(struct gadget *g)
{
	if (mkdir(g->ffs_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* a stale mount from an earlier run is taken over */
	(void)umount2(g->ffs_dir, MNT_DETACH);
	if (mount(g->name, g->ffs_dir, "functionfs", 0, NULL) < 0)
		return -errno;
	g->ffs_mounted = true;
	return 0;
}

int gadget_new(const char *name, const char *udc, struct gadget **out)
{
	struct gadget *g;
	struct stat st;
	int r;

	if (!name || !*name || strlen(name) > GADGET_NAME_MAX || strchr(name, '/') ||
	    !udc || !*udc || strlen(udc) >= sizeof(g->udc))
		return -EINVAL;
	r = gadget_mount_configfs();
	if (r < 0)
		return r;
	if (stat(GADGET_ROOT, &st) < 0)
		return -ENOENT; /* libcomposite is not loaded */
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->udc, sizeof(g->udc), "%s", udc);
	snprintf(g->dir, sizeof(g->dir), "%s/%s", GADGET_ROOT, name);
	snprintf(g->ffs_dir, sizeof(g->ffs_dir), "/dev/ffs-%s", name);
	/* take over what a killed earlier run left behind */
	if (stat(g->dir, &st) == 0) {
		(void)gadget_write(g, "UDC", "\n");
		(void)umount2(g->ffs_dir, MNT_DETACH);
		gadget_remove_tree(g);
	}
	r = gadget_create(g);
	if (r == 0)
		r = gadget_mount_ffs(g);
	if (r < 0) {
		gadget_free(g);
		return r;
	}
	*out = g;
	return 0;
}

struct gadget *gadget_free(struct gadget *g)
{
	if (!g)
		return NULL;
	gadget_unbind(g);
	if (g->ffs_mounted && umount2(g->ffs_dir, 0) < 0)
		(void)umount2(g->ffs_dir, MNT_DETACH);
	(void)rmdir(g->ffs_dir);
	gadget_remove_tree(g);
	free(g);
	return NULL;
}

const char *gadget_ffs_dir(const struct gadget *g)
{
	return g->ffs_dir;
}

int gadget_set_ids(struct gadget *g, const struct gadget_ids *ids)
{
	int r;

	if (g->bound)
		return -EBUSY;
	/* fresh string folders: a serial number set earlier cannot be unset */
	gadget_rmdir(g, "strings/0x409");
	gadget_rmdir(g, "configs/c.1/strings/0x409");
	if ((r = gadget_writef(g, "idVendor", ids->vid, true)) < 0 ||
	    (r = gadget_writef(g, "idProduct", ids->pid, true)) < 0 ||
	    (r = gadget_writef(g, "bcdDevice", ids->bcd_device, true)) < 0 ||
	    (r = gadget_writef(g, "bcdUSB", 0x0200, true)) < 0 ||
	    (r = gadget_writef(g, "bDeviceClass", 0, false)) < 0 ||
	    (r = gadget_writef(g, "configs/c.1/bmAttributes", ids->attributes, true)) < 0 ||
	    (r = gadget_writef(g, "configs/c.1/MaxPower", ids->max_power_ma, false)) < 0 ||
	    (r = gadget_mkdir(g, "strings/0x409")) < 0 ||
	    (r = gadget_write(g, "strings/0x409/manufacturer", ids->manufacturer)) < 0 ||
	    (r = gadget_write(g, "strings/0x409/product", ids->product)) < 0)
		return r;
	if (ids->serial && (r = gadget_write(g, "strings/0x409/serialnumber", ids->serial)) < 0)
		return r;
	if (ids->configuration &&
	    ((r = gadget_mkdir(g, "configs/c.1/strings/0x409")) < 0 ||
	     (r = gadget_write(g, "configs/c.1/strings/0x409/configuration", ids->configuration)) < 0))
		return r;
	return 0;
}

int gadget_bind(struct gadget *g)
{
	int r = gadget_write(g, "UDC", g->udc);

	if (r == 0)
		g->bound = true;
	return r;
}

int gadget_unbind(struct gadget *g)
{
	int r;

	if (!g->bound)
		return 0;
	r = gadget_write(g, "UDC", "\n");
	if (r == 0 || r == -ENODEV)
		g->bound = false;
	return r == -ENODEV ? 0 : r;
}
