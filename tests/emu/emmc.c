/* emmc: see emmc.h */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "emmc.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EMMC_PATH_MAX 4096
#define EMMC_ZERO_CHUNK (1u << 20)

struct emmc {
	struct emmc_cfg cfg;
	struct log *log;
	int fd[EMMC_NPARTS];
	uint64_t size[EMMC_NPARTS];
	enum emmc_hwpart cur;
	unsigned partconf;
	unsigned bootbus;
	int extcsd_fd; /* FILE.extcsd: the non-volatile EXT_CSD bytes kept across runs */
	uint64_t written;
	uint64_t busy_until_ns; /* write-speed model */
	bool bitflip;           /* --fault-emmc-bitflip */
	uint64_t bitflip_off, bitflips;
	emmc_fault_fn fault_fn;
	void *fault_ctx;
};

static const char *const emmc_part_names[] = {
	[EMMC_USER] = "user",
	[EMMC_BOOT0] = "boot0",
	[EMMC_BOOT1] = "boot1",
};

const char *emmc_hwpart_to_string(enum emmc_hwpart p)
{
	return (unsigned)p < ARRAY_SIZE(emmc_part_names) ? emmc_part_names[p] : "?";
}

static int emmc_open_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* EXT_CSD PARTITION_CONFIG [179] and BOOT_BUS_CONDITIONS [177] are non-volatile on
 * an eMMC (JESD84-B51 7.4): they survive power cycles, so across emulator runs too,
 * in FILE.extcsd (two bytes: PARTITION_CONFIG, BOOT_BUS_CONDITIONS) */
static int emmc_extcsd_open(struct emmc *m, const char *path)
{
	uint8_t b[2];

	m->extcsd_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (m->extcsd_fd < 0)
		return -errno;
	if (pread(m->extcsd_fd, b, sizeof(b), 0) == (ssize_t)sizeof(b)) {
		m->partconf = b[0];
		m->bootbus = b[1];
	}
	return 0;
}

static void emmc_extcsd_save(struct emmc *m)
{
	uint8_t b[2] = { (uint8_t)m->partconf, (uint8_t)m->bootbus };

	if (m->extcsd_fd >= 0 && pwrite(m->extcsd_fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		log_simple_str(m->log, "error", "error", "extcsd-write");
}

int emmc_open(const struct emmc_cfg *cfg, struct log *log, struct emmc **out)
{
	char path[EMMC_PATH_MAX];
	struct emmc *m;

	if (!cfg || !cfg->path || !cfg->user_size || cfg->user_size % EMMC_BLKSZ ||
	    strlen(cfg->path) + 8 > sizeof(path))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->log = log;
	m->extcsd_fd = -1;
	for (int i = 0; i < EMMC_NPARTS; i++)
		m->fd[i] = -1;
	m->size[EMMC_USER] = cfg->user_size;
	m->size[EMMC_BOOT0] = m->size[EMMC_BOOT1] = EMMC_BOOT_SIZE;
	for (int i = 0; i < EMMC_NPARTS; i++) {
		if (i == EMMC_USER)
			snprintf(path, sizeof(path), "%s", cfg->path);
		else
			snprintf(path, sizeof(path), "%s.%s", cfg->path, emmc_part_names[i]);
		m->fd[i] = emmc_open_file(path, m->size[i]);
		if (m->fd[i] < 0) {
			int r = m->fd[i];

			emmc_free(m);
			return r;
		}
	}
	snprintf(path, sizeof(path), "%s.extcsd", cfg->path);
	if (emmc_extcsd_open(m, path) < 0) {
		int r = -errno;

		emmc_free(m);
		return r;
	}
	*out = m;
	return 0;
}

struct emmc *emmc_free(struct emmc *m)
{
	if (!m)
		return NULL;
	for (int i = 0; i < EMMC_NPARTS; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	if (m->extcsd_fd >= 0)
		close(m->extcsd_fd);
	free(m);
	return NULL;
}

int emmc_select(struct emmc *m, enum emmc_hwpart p)
{
	if ((unsigned)p >= EMMC_NPARTS)
		return -EINVAL;
	m->cur = p;
	return 0;
}

enum emmc_hwpart emmc_current(const struct emmc *m)
{
	return m->cur;
}

uint64_t emmc_part_lba(const struct emmc *m, enum emmc_hwpart p)
{
	return (unsigned)p < EMMC_NPARTS ? m->size[p] / EMMC_BLKSZ : 0;
}

uint64_t emmc_lba(const struct emmc *m)
{
	return emmc_part_lba(m, m->cur);
}

static bool emmc_fits(const struct emmc *m, uint64_t blk, uint64_t cnt)
{
	uint64_t lba = emmc_lba(m);

	return blk <= lba && cnt <= lba - blk;
}

static void emmc_sleep(struct emmc *m, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	if (m->cfg.sleep)
		m->cfg.sleep(m->cfg.sleep_ctx, ns);
	else
		nanosleep(&ts, NULL);
}

/* the medium needs BYTES / speed to program BYTES: wait until it is done */
static void emmc_throttle(struct emmc *m, uint64_t bytes)
{
	uint64_t now, cost;

	if (!m->cfg.write_mbps)
		return;
	now = util_now_ns();
	cost = bytes * 1000u / m->cfg.write_mbps; /* ns at 10^6 bytes/s per MB/s */
	if (m->busy_until_ns < now)
		m->busy_until_ns = now;
	m->busy_until_ns += cost;
	if (m->busy_until_ns > now)
		emmc_sleep(m, m->busy_until_ns - now);
}

/* pread into rbuf, or pwrite wbuf, len bytes at off: bytes done (short on
 * an error or end of file; EINTR is retried) */
static size_t emmc_rw(int fd, void *rbuf, const void *wbuf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = rbuf ? pread(fd, (char *)rbuf + done, len - done, off + (off_t)done)
				 : pwrite(fd, (const char *)wbuf + done, len - done,
					  off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

void emmc_set_bitflip(struct emmc *m, uint64_t offset, emmc_fault_fn fn, void *ctx)
{
	m->bitflip = true;
	m->bitflip_off = offset;
	m->fault_fn = fn;
	m->fault_ctx = ctx;
}

uint64_t emmc_bitflips(const struct emmc *m)
{
	return m->bitflips;
}

/* CNT blocks from BLK were just stored: the weak cell, when among them, keeps
 * its byte with bit 0 flipped */
static void emmc_bitflip_apply(struct emmc *m, uint64_t blk, uint64_t cnt)
{
	uint64_t off = m->bitflip_off;
	uint8_t b = 0;
	struct log_ev e;

	if (!m->bitflip || m->cur != EMMC_USER || off / EMMC_BLKSZ < blk ||
	    off / EMMC_BLKSZ - blk >= cnt)
		return;
	if (emmc_rw(m->fd[EMMC_USER], &b, NULL, 1, (off_t)off) != 1)
		b = 0; /* a hole past the file's data reads as zero */
	b ^= 1u;
	(void)emmc_rw(m->fd[EMMC_USER], NULL, &b, 1, (off_t)off);
	if (m->bitflips++)
		return;
	if (m->fault_fn) {
		m->fault_fn(m->fault_ctx, "emmc-bitflip");
		return;
	}
	log_begin(&e, m->log, "fault");
	log_str(&e, "fault", "emmc-bitflip");
	log_u64(&e, "offset", off);
	log_end(&e);
}

uint64_t emmc_bread(struct emmc *m, uint64_t blk, uint64_t cnt, void *buf)
{
	if (!emmc_fits(m, blk, cnt))
		return 0;
	return emmc_rw(m->fd[m->cur], buf, NULL, (size_t)(cnt * EMMC_BLKSZ),
		       (off_t)(blk * EMMC_BLKSZ)) / EMMC_BLKSZ;
}

uint64_t emmc_bwrite(struct emmc *m, uint64_t blk, uint64_t cnt, const void *buf)
{
	size_t done;

	if (!emmc_fits(m, blk, cnt))
		return 0;
	done = emmc_rw(m->fd[m->cur], NULL, buf, (size_t)(cnt * EMMC_BLKSZ),
		       (off_t)(blk * EMMC_BLKSZ));
	emmc_bitflip_apply(m, blk, done / EMMC_BLKSZ);
	m->written += done;
	emmc_throttle(m, done);
	return done / EMMC_BLKSZ;
}

static int emmc_zero(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[EMMC_ZERO_CHUNK];

	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

uint64_t emmc_bwrite_zero(struct emmc *m, uint64_t blk, uint64_t cnt)
{
	if (!emmc_fits(m, blk, cnt))
		return 0;
	if (cnt && emmc_zero(m->fd[m->cur], blk * EMMC_BLKSZ, cnt * EMMC_BLKSZ) < 0)
		return 0;
	emmc_bitflip_apply(m, blk, cnt);
	m->written += cnt * EMMC_BLKSZ;
	emmc_throttle(m, cnt * EMMC_BLKSZ);
	return cnt;
}

uint64_t emmc_berase(struct emmc *m, uint64_t blk, uint64_t cnt)
{
	if (!emmc_fits(m, blk, cnt))
		return 0;
	if (cnt && emmc_zero(m->fd[m->cur], blk * EMMC_BLKSZ, cnt * EMMC_BLKSZ) < 0)
		return 0;
	emmc_bitflip_apply(m, blk, cnt);
	return cnt;
}

int emmc_pread(struct emmc *m, enum emmc_hwpart p, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if ((unsigned)p >= EMMC_NPARTS || off > m->size[p] || len > m->size[p] - off)
		return -EINVAL;
	while (done < len) {
		ssize_t n = pread(m->fd[p], (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

void emmc_set_partconf(struct emmc *m, unsigned ack, unsigned boot_part, unsigned access)
{
	struct log_ev e;

	m->partconf = (ack & 1u) << 6 | (boot_part & 7u) << 3 | (access & 7u);
	emmc_extcsd_save(m);
	log_begin(&e, m->log, "partconf");
	log_u64(&e, "ack", ack & 1u);
	log_u64(&e, "boot_partition", boot_part & 7u);
	log_u64(&e, "access", access & 7u);
	log_hex32(&e, "value", m->partconf);
	log_end(&e);
}

unsigned emmc_partconf(const struct emmc *m)
{
	return m->partconf;
}

unsigned emmc_boot_partition(const struct emmc *m)
{
	return (m->partconf >> 3) & 7u;
}

void emmc_set_bootbus(struct emmc *m, unsigned value)
{
	struct log_ev e;

	m->bootbus = value;
	emmc_extcsd_save(m);
	log_begin(&e, m->log, "bootbus");
	log_hex32(&e, "value", value);
	log_end(&e);
}

uint64_t emmc_bytes_written(const struct emmc *m)
{
	return m->written;
}
