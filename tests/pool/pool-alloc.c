/* pool-alloc: a test program for tests/pool/pool-pg (not installed). One
 * process of a station's pool thread, without the station: it allocates (or
 * releases) the blocks of uids P0 … P(K-1) in a serial pool of N blocks of C
 * values ("SN%08u" over 0 … N*C-1) through pool_store, one call after the
 * other, and prints one line per uid: "UID BLOCK FRESH" (FRESH 1: bound by
 * this call, 0: the uid held it already), or "UID released"; --usage prints
 * the pool's use instead, "blocks N bound B left L".
 * -ENOTCONN (PostgreSQL away) is tried again every 100 ms, for up to 60 s.
 * Exit: 0 done; 3 the pool has no block left (said with the uid); 1 another
 * error; 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/pool_store.h"
#include "flashd/pool.h"

#define RETRY_MS 100
#define RETRY_FOR_S 60

static void usage(FILE *fp)
{
	fputs("usage: pool-alloc (--pg CONNINFO | --sqlite PATH) --pool NAME --blocks N --count C\n"
	      "                  (--uid-prefix P --n K [--station S] [--release] | --usage)\n",
	      fp);
}

static uint64_t number(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || !*s || *end || v == 0) {
		fprintf(stderr, "pool-alloc: %s: not a positive number: %s\n", opt, s);
		exit(2);
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pg", required_argument, NULL, 'p' },
		{ "sqlite", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'o' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "uid-prefix", required_argument, NULL, 'u' },
		{ "n", required_argument, NULL, 'n' },
		{ "station", required_argument, NULL, 't' },
		{ "release", no_argument, NULL, 'r' },
		{ "usage", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pg = NULL, *sq = NULL, *name = NULL, *prefix = NULL, *station = NULL;
	uint64_t blocks = 0, count = 1, n = 0;
	bool release = false, use = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pg = optarg; break;
		case 's': sq = optarg; break;
		case 'o': name = optarg; break;
		case 'b': blocks = number("--blocks", optarg); break;
		case 'c': count = number("--count", optarg); break;
		case 'u': prefix = optarg; break;
		case 'n': n = number("--n", optarg); break;
		case 't': station = optarg; break;
		case 'r': release = true; break;
		case 'U': use = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !pg == !sq || !name || !blocks || count > POOL_COUNT_MAX ||
	    (!use && (!prefix || !n))) {
		usage(stderr);
		return 2;
	}

	struct pool_def d = { .name = (char *)name,
			      .kind = POOL_KIND_SERIAL,
			      .format = "SN%08u",
			      .start = 0,
			      .end = blocks * count - 1,
			      .count = (uint32_t)count };
	char why[512];
	struct pool_store *s;
	int r = pg ? pool_store_open_pg(pg, &s, why, sizeof(why)) :
		     pool_store_open_sqlite(sq, &s, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "pool-alloc: %s\n", why);
		return 1;
	}
	if (use) {
		struct pool_usage u;
		r = pool_store_usage(s, &d, &u, why, sizeof(why));
		if (r < 0)
			fprintf(stderr, "pool-alloc: %s (%s)\n", why, strerror(-r));
		else
			printf("blocks %" PRIu64 " bound %" PRIu64 " left %" PRIu64 "\n", u.blocks,
			       u.bound, u.left);
		pool_store_close(s);
		return r < 0;
	}
	unsigned waits = 0;
	for (uint64_t i = 0; !use && i < n; i++) {
		char uid[80];
		uint64_t b = 0;
		bool fresh = false;
		double give_up = now_s() + RETRY_FOR_S;

		snprintf(uid, sizeof(uid), "%s%" PRIu64, prefix, i);
		for (;;) {
			r = release ? pool_store_release(s, &d, uid, why, sizeof(why)) :
				      pool_store_allocate(s, &d, uid, station, &b, &fresh, why,
							  sizeof(why));
			if (r != -ENOTCONN || now_s() > give_up)
				break;
			if (!waits++)
				fprintf(stderr, "pool-alloc: %s: %s; trying again every %d ms\n",
					uid, why, RETRY_MS);
			nanosleep(&(struct timespec){ .tv_nsec = RETRY_MS * 1000000L }, NULL);
		}
		if (r == -ENOSPC) {
			fprintf(stderr, "pool-alloc: %s: ENOSPC: %s\n", uid, why);
			pool_store_close(s);
			return 3;
		}
		if (r < 0) {
			fprintf(stderr, "pool-alloc: %s: %s (%s)\n", uid, why, strerror(-r));
			pool_store_close(s);
			return 1;
		}
		if (release)
			printf("%s released\n", uid);
		else
			printf("%s %" PRIu64 " %d\n", uid, b, fresh);
	}
	if (waits)
		fprintf(stderr, "pool-alloc: %u tries waited for the database\n", waits);
	pool_store_close(s);
	return 0;
}
