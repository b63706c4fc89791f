/* decompress_cache: one decompressed copy per compressed content, named by
 * the compressed bytes' SHA-256 (decompress_cache.h explains the layout and why a
 * sidecar). Written to temporary files, fdatasync'd and renamed, payload
 * first and the .sum (the commit record) last. */
#include "daemon/decompress_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DCC_SUM_MAX 256u
#define DCC_MAGIC "flashd-cache 1"

static int dcc_path(char *buf, size_t len, const char *dir, const char *prefix, const char *sha,
		    const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s%s", dir, prefix, sha, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int dcc_sha_ok(const char *sha)
{
	size_t n = 0;

	for (; sha[n]; n++)
		if (!((sha[n] >= '0' && sha[n] <= '9') || (sha[n] >= 'a' && sha[n] <= 'f')))
			return -EINVAL;
	return n == 64 ? 0 : -EINVAL;
}

/* "flashd-cache 1 FORMAT SIZE SHA256\n" from DIR/SHA.sum */
static int dcc_read_sum(const char *path, enum decompress_format f, struct decompress_result *res)
{
	char buf[DCC_SUM_MAX + 1], fmt[16], hex[65];
	unsigned long long size;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), n;
	ssize_t got;

	if (fd < 0)
		return -errno;
	got = read(fd, buf, DCC_SUM_MAX);
	close(fd);
	if (got <= 0)
		return -EINVAL;
	buf[got] = '\0';
	if (strncmp(buf, DCC_MAGIC " ", sizeof(DCC_MAGIC)) != 0 ||
	    sscanf(buf + sizeof(DCC_MAGIC), "%15s %llu %64s%n", fmt, &size, hex, &n) != 3 ||
	    buf[sizeof(DCC_MAGIC) + (size_t)n] != '\n' || dcc_sha_ok(hex) < 0 ||
	    strcmp(fmt, decompress_format_to_string(f)) != 0)
		return -EINVAL;
	res->size = size;
	memcpy(res->sha256, hex, sizeof(res->sha256));
	return 0;
}

/* A complete entry: the .sum parses, names the same format, and the payload
 * has the size it records. */
static int dcc_lookup(const char *dir, const char *sha, enum decompress_format f, int *fd_out,
		      struct decompress_result *res)
{
	char raw[4096], sum[4096];
	struct stat st;
	int fd, r;

	if (dcc_path(raw, sizeof(raw), dir, "", sha, ".raw") < 0 ||
	    dcc_path(sum, sizeof(sum), dir, "", sha, ".sum") < 0)
		return -ENAMETOOLONG;
	r = dcc_read_sum(sum, f, res);
	if (r < 0)
		return r;
	fd = open(raw, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != res->size) {
		close(fd);
		return -EINVAL;
	}
	*fd_out = fd;
	return 0;
}

static int dcc_sync_rename(int fd, const char *tmp, const char *final)
{
	if (fdatasync(fd) < 0 || rename(tmp, final) < 0)
		return -errno;
	return 0;
}

static int dcc_write_sum(const char *dir, const char *sha, enum decompress_format f,
			 const struct decompress_result *res)
{
	char tmp[4096], sum[4096], line[DCC_SUM_MAX];
	int fd, n, r;

	if (dcc_path(tmp, sizeof(tmp), dir, ".", sha, ".sum.XXXXXX") < 0 ||
	    dcc_path(sum, sizeof(sum), dir, "", sha, ".sum") < 0)
		return -ENAMETOOLONG;
	n = snprintf(line, sizeof(line), DCC_MAGIC " %s %llu %s\n", decompress_format_to_string(f),
		     (unsigned long long)res->size, res->sha256);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, line, (size_t)n) == n ? 0 : -EIO;
	if (r == 0 && fchmod(fd, 0640) < 0)
		r = -errno;
	if (r == 0)
		r = dcc_sync_rename(fd, tmp, sum);
	close(fd);
	if (r < 0)
		unlink(tmp);
	return r;
}

static void dcc_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Decompress into DIR/.SHA.raw.XXXXXX, then rename it to DIR/SHA.raw. */
static int dcc_fill(const char *dir, const char *sha, enum decompress_format f, int src_fd,
		    const struct decompress_opts *o, struct decompress_result *res, char *why)
{
	char tmp[4096], raw[4096];
	int fd, r;

	if (dcc_path(tmp, sizeof(tmp), dir, ".", sha, ".raw.XXXXXX") < 0 ||
	    dcc_path(raw, sizeof(raw), dir, "", sha, ".raw") < 0) {
		snprintf(why, DECOMPRESS_WHY_MAX, "cache path too long");
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, DECOMPRESS_WHY_MAX, "cache %.300s: %s", dir, strerror(-r));
		return r;
	}
	r = fchmod(fd, 0640) < 0 ? -errno : 0;
	if (r == 0)
		r = decompress_fd(f, src_fd, fd, o, res, why);
	if (r == 0 && (r = dcc_sync_rename(fd, tmp, raw)) < 0)
		snprintf(why, DECOMPRESS_WHY_MAX, "cache %.300s: %s", raw, strerror(-r));
	if (r == 0 && (r = dcc_write_sum(dir, sha, f, res)) < 0)
		snprintf(why, DECOMPRESS_WHY_MAX, "cache %.300s: writing the .sum: %s", dir, strerror(-r));
	close(fd);
	if (r < 0)
		unlink(tmp);
	else
		dcc_sync_dir(dir);
	return r;
}

int decompress_cache(const char *dir, const char *src_sha256, enum decompress_format f,
		     int src_fd, const struct decompress_opts *o, int *fd_out,
		     struct decompress_result *res, bool *hit, char why[DECOMPRESS_WHY_MAX])
{
	struct decompress_result got;
	int r;

	why[0] = '\0';
	if (!dir || !*dir || dcc_sha_ok(src_sha256) < 0 || !decompress_format_to_string(f)) {
		snprintf(why, DECOMPRESS_WHY_MAX, "bad cache request");
		return -EINVAL;
	}
	if (dcc_lookup(dir, src_sha256, f, fd_out, res) == 0) {
		*hit = true;
		return 0;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(why, DECOMPRESS_WHY_MAX, "cache %.300s: %s", dir, strerror(-r));
		return r;
	}
	r = dcc_fill(dir, src_sha256, f, src_fd, o, &got, why);
	if (r < 0)
		return r;
	r = dcc_lookup(dir, src_sha256, f, fd_out, res);
	if (r < 0) {
		snprintf(why, DECOMPRESS_WHY_MAX, "cache %.300s: the entry just written is gone: %s", dir,
			 strerror(-r));
		return r;
	}
	*hit = false;
	return 0;
}

void decompress_cache_drop(const char *dir, const char *src_sha256)
{
	char path[4096];

	if (dcc_sha_ok(src_sha256) < 0)
		return;
	if (dcc_path(path, sizeof(path), dir, "", src_sha256, ".sum") == 0)
		unlink(path);
	if (dcc_path(path, sizeof(path), dir, "", src_sha256, ".raw") == 0)
		unlink(path);
}
