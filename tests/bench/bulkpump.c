/* bulkpump: the raw bulk throughput of one fastboot link, as a yardstick for flashd.
 *
 * Opens the fastboot device (class ff/42/03) on one USB port, sends
 * "download:%08x", expects "DATA%08x", pumps that many bytes with several async bulk
 * transfers in flight, reads the final OKAY and prints one JSON line:
 *   {"port":"1-1","bytes":N,"depth":4,"chunk":1048576,"data_s":S,"total_s":S,"mbps":X}
 * data_s ends with the last completed OUT transfer, total_s with the OKAY; mbps is
 * bytes / total_s / 1e6. Nothing is written anywhere: the device only buffers it.
 * By default the transfers re-send DEPTH buffers of CHUNK bytes (the link alone);
 * with --file the data comes straight from a read-only mapping of the file, as any
 * tool that sends that image must read it (the link plus the data source). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libusb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>

#define BULKPUMP_REPLY_MAX 64
#define BULKPUMP_DEPTH_MAX 16
#define BULKPUMP_CHUNK_MAX (16u << 20)
#define BULKPUMP_BYTES_MAX 0xffffe000u /* "download:%08x" */

struct bulkpump {
	const char *port;   /* "BUS-P[.P…]" or NULL */
	int vid, pid;       /* -1: any */
	uint32_t bytes;
	unsigned depth;
	uint32_t chunk;
	unsigned timeout_ms;
	const char *file;   /* --file: send this file from its mapping */
	const uint8_t *map;
	libusb_context *ctx;
	libusb_device_handle *h;
	char port_name[32];
	uint8_t ep_in, ep_out;
	int iface;
	/* pump state */
	uint32_t queued, done;
	unsigned in_flight;
	int error;
	struct libusb_transfer *xfer[BULKPUMP_DEPTH_MAX];
};

static double bulkpump_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bulkpump_errno(int r)
{
	switch (r) {
	case LIBUSB_ERROR_TIMEOUT: return -ETIMEDOUT;
	case LIBUSB_ERROR_NO_DEVICE: return -ENODEV;
	case LIBUSB_ERROR_NOT_FOUND: return -ENOENT;
	case LIBUSB_ERROR_BUSY: return -EBUSY;
	case LIBUSB_ERROR_NO_MEM: return -ENOMEM;
	case LIBUSB_ERROR_ACCESS: return -EACCES;
	case LIBUSB_ERROR_PIPE: return -EPIPE;
	case LIBUSB_ERROR_OVERFLOW: return -EOVERFLOW;
	default: return -EIO;
	}
}

/* "BUS-P.P…" of DEV into BUF */
static void bulkpump_port_of(libusb_device *dev, char *buf, size_t cap)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, sizeof(ports));
	size_t len;

	len = (size_t)snprintf(buf, cap, "%u-", libusb_get_bus_number(dev));
	for (int i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, i ? ".%u" : "%u", ports[i]);
}

/* the fastboot interface of DEV: interface number and bulk endpoints */
static int bulkpump_find_iface(struct bulkpump *p, libusb_device *dev)
{
	struct libusb_config_descriptor *cfg;
	int r = -ENOENT;

	if (libusb_get_active_config_descriptor(dev, &cfg) < 0)
		return -EIO;
	for (int i = 0; i < cfg->bNumInterfaces && r < 0; i++) {
		const struct libusb_interface_descriptor *d = &cfg->interface[i].altsetting[0];
		uint8_t in = 0, out = 0;

		if (d->bInterfaceClass != 0xff || d->bInterfaceSubClass != 0x42 ||
		    d->bInterfaceProtocol != 0x03)
			continue;
		for (int e = 0; e < d->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &d->endpoint[e];

			if ((ep->bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN)
				in = ep->bEndpointAddress;
			else
				out = ep->bEndpointAddress;
		}
		if (in && out) {
			p->iface = d->bInterfaceNumber;
			p->ep_in = in;
			p->ep_out = out;
			r = 0;
		}
	}
	libusb_free_config_descriptor(cfg);
	return r;
}

static bool bulkpump_match(struct bulkpump *p, libusb_device *dev)
{
	struct libusb_device_descriptor dd;
	char name[sizeof(p->port_name)];

	if (libusb_get_device_descriptor(dev, &dd) < 0)
		return false;
	if ((p->vid >= 0 && dd.idVendor != p->vid) || (p->pid >= 0 && dd.idProduct != p->pid))
		return false;
	bulkpump_port_of(dev, name, sizeof(name));
	if (p->port && strcmp(p->port, name) != 0)
		return false;
	if (bulkpump_find_iface(p, dev) < 0)
		return false;
	memcpy(p->port_name, name, sizeof(name));
	return true;
}

static int bulkpump_open(struct bulkpump *p)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(p->ctx, &list);
	int r = -ENODEV;

	if (n < 0)
		return bulkpump_errno((int)n);
	for (ssize_t i = 0; i < n; i++) {
		if (!bulkpump_match(p, list[i]))
			continue;
		r = libusb_open(list[i], &p->h);
		r = r < 0 ? bulkpump_errno(r) : 0;
		break;
	}
	libusb_free_device_list(list, 1);
	if (r < 0)
		return r;
	libusb_set_auto_detach_kernel_driver(p->h, 1);
	r = libusb_claim_interface(p->h, p->iface);
	return r < 0 ? bulkpump_errno(r) : 0;
}

/* send a command; read replies until one is not INFO; the reply into BUF (NUL-ended) */
static int bulkpump_command(struct bulkpump *p, const char *cmd, char *buf)
{
	int n, r;

	r = libusb_bulk_transfer(p->h, p->ep_out, (unsigned char *)cmd, (int)strlen(cmd), &n,
				 p->timeout_ms);
	if (r < 0)
		return bulkpump_errno(r);
	do {
		r = libusb_bulk_transfer(p->h, p->ep_in, (unsigned char *)buf, BULKPUMP_REPLY_MAX,
					 &n, p->timeout_ms);
		if (r < 0)
			return bulkpump_errno(r);
		buf[n] = '\0';
	} while (strncmp(buf, "INFO", 4) == 0);
	return 0;
}

static void LIBUSB_CALL bulkpump_done(struct libusb_transfer *t);

/* queue the next piece on T, if any bytes are left */
static int bulkpump_submit(struct bulkpump *p, struct libusb_transfer *t)
{
	uint32_t len = p->bytes - p->queued;
	int r;

	if (len == 0)
		return 0;
	if (len > p->chunk)
		len = p->chunk;
	libusb_fill_bulk_transfer(t, p->h, p->ep_out, p->map ? (unsigned char *)p->map + p->queued : t->buffer,
				  (int)len, bulkpump_done, p, p->timeout_ms);
	r = libusb_submit_transfer(t);
	if (r < 0)
		return bulkpump_errno(r);
	p->queued += len;
	p->in_flight++;
	return 0;
}

/* the first error ends the pump: cancel what is still in flight */
static void bulkpump_fail(struct bulkpump *p, int err)
{
	if (p->error)
		return;
	p->error = err;
	for (unsigned k = 0; k < p->depth; k++)
		if (p->xfer[k])
			libusb_cancel_transfer(p->xfer[k]);
}

static void LIBUSB_CALL bulkpump_done(struct libusb_transfer *t)
{
	struct bulkpump *p = t->user_data;

	p->in_flight--;
	if (t->status != LIBUSB_TRANSFER_COMPLETED || t->actual_length != t->length) {
		bulkpump_fail(p, t->status == LIBUSB_TRANSFER_TIMED_OUT ? -ETIMEDOUT : -EIO);
		return;
	}
	p->done += (uint32_t)t->actual_length;
	if (!p->error) {
		int r = bulkpump_submit(p, t);

		if (r < 0)
			bulkpump_fail(p, r);
	}
}

/* the data phase: DEPTH transfers of CHUNK bytes in flight until BYTES are sent */
static int bulkpump_pump(struct bulkpump *p)
{
	struct libusb_transfer **t = p->xfer;
	unsigned k;
	int r = 0;

	for (k = 0; k < p->depth && r == 0; k++) {
		t[k] = libusb_alloc_transfer(0);
		if (t[k] && p->map)
			continue;
		if (!t[k] || !(t[k]->buffer = malloc(p->chunk))) {
			r = -ENOMEM;
			break;
		}
		t[k]->flags = LIBUSB_TRANSFER_FREE_BUFFER;
		memset(t[k]->buffer, 0xa5 ^ (int)k, p->chunk);
	}
	for (k = 0; k < p->depth && r == 0; k++)
		r = bulkpump_submit(p, t[k]);
	if (r < 0)
		bulkpump_fail(p, r);
	while (p->in_flight > 0) {
		r = libusb_handle_events(p->ctx);
		if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED)
			bulkpump_fail(p, bulkpump_errno(r));
	}
	for (k = 0; k < p->depth; k++) {
		libusb_free_transfer(t[k]);
		t[k] = NULL;
	}
	return p->error;
}

static int bulkpump_run(struct bulkpump *p)
{
	char cmd[32], reply[BULKPUMP_REPLY_MAX + 1], want[16];
	double t0, t1, t2;
	int n = 0, r;

	snprintf(cmd, sizeof(cmd), "download:%08" PRIx32, p->bytes);
	snprintf(want, sizeof(want), "DATA%08" PRIx32, p->bytes);
	r = bulkpump_command(p, cmd, reply);
	if (r < 0)
		return r;
	if (strcasecmp(reply, want) != 0) {
		fprintf(stderr, "bulkpump: %s: device answered \"%s\"\n", cmd, reply);
		return -EPROTO;
	}
	t0 = bulkpump_now();
	r = bulkpump_pump(p);
	t1 = bulkpump_now();
	if (r < 0)
		return r;
	r = libusb_bulk_transfer(p->h, p->ep_in, (unsigned char *)reply, BULKPUMP_REPLY_MAX, &n,
				 p->timeout_ms);
	t2 = bulkpump_now();
	if (r < 0)
		return bulkpump_errno(r);
	reply[n] = '\0';
	if (strncmp(reply, "OKAY", 4) != 0) {
		fprintf(stderr, "bulkpump: after the data: \"%s\"\n", reply);
		return -EPROTO;
	}
	printf("{\"port\":\"%s\",\"bytes\":%" PRIu32 ",\"depth\":%u,\"chunk\":%" PRIu32
	       ",\"data_s\":%.6f,\"total_s\":%.6f,\"mbps\":%.2f}\n",
	       p->port_name, p->bytes, p->depth, p->chunk, t1 - t0, t2 - t0,
	       (double)p->bytes / (t2 - t0) / 1e6);
	return 0;
}

/* --file: map it read-only; its size is what is sent */
static int bulkpump_map(struct bulkpump *p)
{
	struct stat st;
	void *m;
	int fd = open(p->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "bulkpump: %s: %s\n", p->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > BULKPUMP_BYTES_MAX) {
		fprintf(stderr, "bulkpump: %s: empty or larger than one download\n", p->file);
		close(fd);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		fprintf(stderr, "bulkpump: %s: mmap: %s\n", p->file, strerror(errno));
		return -errno;
	}
	p->map = m;
	p->bytes = (uint32_t)st.st_size;
	return 0;
}

static void bulkpump_usage(FILE *f)
{
	fputs("usage: bulkpump [--port BUS-PORT] [--vid HEX] [--pid HEX] [--mib N]\n"
	      "                [--chunk KIB] [--depth N] [--timeout MS] [--file PATH]\n"
	      "Pumps N MiB (default 64) into the fastboot device's download buffer with DEPTH\n"
	      "(default 4) bulk transfers of CHUNK KiB (default 1024) in flight; prints JSON.\n"
	      "--file sends that file (its size, instead of --mib) from a read-only mapping.\n",
	      f);
}

/* a number in [LO, HI] from S (base 0); -EINVAL otherwise */
static int bulkpump_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int bulkpump_args(struct bulkpump *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "vid", required_argument, NULL, 'V' },
		{ "pid", required_argument, NULL, 'P' },  { "mib", required_argument, NULL, 'm' },
		{ "chunk", required_argument, NULL, 'c' }, { "depth", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' }, { "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': p->port = optarg; break;
		case 'V': r = bulkpump_num(optarg, 0, 0xffff, &v); p->vid = (int)v; break;
		case 'P': r = bulkpump_num(optarg, 0, 0xffff, &v); p->pid = (int)v; break;
		case 'm': r = bulkpump_num(optarg, 1, BULKPUMP_BYTES_MAX >> 20, &v);
			p->bytes = (uint32_t)v << 20; break;
		case 'c': r = bulkpump_num(optarg, 1, BULKPUMP_CHUNK_MAX >> 10, &v);
			p->chunk = (uint32_t)v << 10; break;
		case 'd': r = bulkpump_num(optarg, 1, BULKPUMP_DEPTH_MAX, &v); p->depth = (unsigned)v;
			break;
		case 't': r = bulkpump_num(optarg, 1, 3600000, &v); p->timeout_ms = (unsigned)v; break;
		case 'f': p->file = optarg; break;
		case 'h': bulkpump_usage(stdout); exit(0);
		default: r = -EINVAL; break;
		}
	}
	if (r == 0 && optind != argc)
		r = -EINVAL;
	if (r < 0)
		bulkpump_usage(stderr);
	return r;
}

int main(int argc, char **argv)
{
	struct bulkpump p = {
		.vid = -1, .pid = -1, .bytes = 64u << 20, .depth = 4, .chunk = 1u << 20,
		.timeout_ms = 30000,
	};
	int r;

	if (bulkpump_args(&p, argc, argv) < 0)
		return 2;
	if (p.file && bulkpump_map(&p) < 0)
		return 1;
	if (libusb_init(&p.ctx) < 0) {
		fprintf(stderr, "bulkpump: libusb_init failed\n");
		return 1;
	}
	r = bulkpump_open(&p);
	if (r < 0)
		fprintf(stderr, "bulkpump: no usable fastboot device%s%s: %s\n",
			p.port ? " on port " : "", p.port ? p.port : "", strerror(-r));
	else {
		r = bulkpump_run(&p);
		if (r < 0)
			fprintf(stderr, "bulkpump: %s: %s\n", p.port_name, strerror(-r));
		libusb_release_interface(p.h, p.iface);
	}
	if (p.h)
		libusb_close(p.h);
	libusb_exit(p.ctx);
	return r < 0 ? 1 : 0;
}
