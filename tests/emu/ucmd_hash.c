/* ucmd_hash: see ucmd_hash.h. The argument handling, messages and return codes
 * follow cmd/mem.c do_mem_crc(), cmd/hash.c do_hash() and common/hash.c
 * hash_command(), store_result(), parse_verify_sum(), hash_show(); the build is
 * one where multi_hash() holds (CONFIG_CMD_HASH or CONFIG_SHA256 set). */
#include "ucmd_hash.h"

#include "crc32.h"
#include "sha256.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define HASH_FLAG_VERIFY 1 /* include/hash.h */
#define HASH_FLAG_ENV 2
#define HASH_MAX_DIGEST 32
#define HASH_CHUNK (64u << 10)

struct hash_algo {
	const char *name;
	size_t digest_size;
};

/* common/hash.c hash_algo[]: the ones this build has */
static const struct hash_algo hash_algos[] = {
	{ "sha256", SHA256_LEN },
	{ "crc32", 4 },
};

static uint32_t hash_hex(const char *s)
{
	return (uint32_t)util_strtoul_uboot(s, NULL, 16); /* hextoul(): ulong is 32-bit */
}

/* the digest of RAM [addr, addr + len) as the CPU reads it (32-bit addresses
 * wrap); crc32_wd_buf() stores the CRC big-endian */
static void hash_run(struct uboot *u, const struct hash_algo *a, uint32_t addr, uint32_t len,
		     uint8_t *out)
{
	static uint8_t chunk[HASH_CHUNK];
	struct sha256 sc;
	uint32_t crc = 0;

	sha256_init(&sc);
	while (len) {
		uint32_t n = len < HASH_CHUNK ? len : HASH_CHUNK;

		if ((uint64_t)addr + n > 0x100000000ull)
			n = (uint32_t)(0x100000000ull - addr);
		(void)uboot_ram_read(u, addr, chunk, n); /* cannot fail inside 4 GiB */
		if (a->digest_size == 4)
			crc = crc32_update(crc, chunk, n);
		else
			sha256_update(&sc, chunk, n);
		addr += n;
		len -= n;
	}
	if (a->digest_size == 4) {
		out[0] = (uint8_t)(crc >> 24);
		out[1] = (uint8_t)(crc >> 16);
		out[2] = (uint8_t)(crc >> 8);
		out[3] = (uint8_t)crc;
	} else {
		sha256_final(&sc, out);
	}
}

static void hash_tohex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* store_result(): an env variable, or with '*' (always for crc32) an address */
static void hash_store(struct uboot *u, const struct hash_algo *a, const uint8_t *sum,
		       const char *dest, bool env)
{
	char hex[2 * HASH_MAX_DIGEST + 1];

	if (env && *dest != '*') {
		hash_tohex(sum, a->digest_size, hex);
		(void)env_set(u->env, dest, hex); /* its result is not checked there */
		return;
	}
	if (*dest == '*' && env)
		dest++;
	(void)uboot_ram_write(u, hash_hex(dest), sum, a->digest_size);
}

/* parse_verify_sum(): 0 or 1 */
static int hash_verify_sum(struct uboot *u, const struct hash_algo *a, const char *s,
			   uint8_t *vsum, bool env)
{
	size_t digits = 2 * a->digest_size;
	const char *hex = s;

	if (!env || *s == '*') {
		(void)uboot_ram_read(u, hash_hex(s + (env ? 1 : 0)), vsum, a->digest_size);
		return 0;
	}
	if (strlen(s) != digits) {
		hex = env_get(u->env, s);
		if (!hex || strlen(hex) != digits) {
			uboot_console(u, "Expected %zu hex digits in env var", digits);
			return 1;
		}
	}
	/* hash_parse_string(): each pair through hextoul() */
	for (size_t i = 0; i < a->digest_size; i++) {
		char pair[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		vsum[i] = (uint8_t)hash_hex(pair);
	}
	return 0;
}

static int hash_command(struct uboot *u, const char *algo, int flags, int argc, char **argv)
{
	uint8_t sum[HASH_MAX_DIGEST], vsum[HASH_MAX_DIGEST];
	char hex[2 * HASH_MAX_DIGEST + 1], vhex[2 * HASH_MAX_DIGEST + 1];
	const struct hash_algo *a = NULL;
	uint32_t addr, len;

	if (argc < 2 || ((flags & HASH_FLAG_VERIFY) && argc < 3))
		return -1;
	addr = hash_hex(argv[0]);
	len = hash_hex(argv[1]);
	for (size_t i = 0; i < ARRAY_SIZE(hash_algos); i++)
		if (!strcmp(algo, hash_algos[i].name))
			a = &hash_algos[i];
	if (!a) {
		uboot_console(u, "Unknown hash algorithm '%s'", algo);
		return -1;
	}
	argc -= 2;
	hash_run(u, a, addr, len, sum);
	hash_tohex(sum, a->digest_size, hex);
	if (flags & HASH_FLAG_VERIFY) {
		if (hash_verify_sum(u, a, argv[2], vsum, flags & HASH_FLAG_ENV)) {
			uboot_console(u, "ERROR: %s does not contain a valid %s sum", argv[2],
				      a->name);
			return 1;
		}
		if (memcmp(sum, vsum, a->digest_size)) {
			hash_tohex(vsum, a->digest_size, vhex);
			uboot_console(u, "%s for %08x ... %08x ==> %s != %s ** ERROR **", a->name,
				      addr, addr + len - 1, hex, vhex);
			return 1;
		}
		return 0;
	}
	uboot_console(u, "%s for %08x ... %08x ==> %s", a->name, addr, addr + len - 1, hex);
	if (argc)
		hash_store(u, a, sum, argv[2], flags & HASH_FLAG_ENV);
	return 0;
}

/* cmd/mem.c do_mem_crc(): "crc32" has maxargs 4, or 5 with CONFIG_CRC32_VERIFY
 * (common/command.c cmd_process(): more arguments are a usage error); only that
 * build knows "-v" — without it "-v" is the address (hextoul: 0), the count is
 * the length and the third word where the CRC is stored */
int ucmd_crc32(struct uboot *u, int argc, char **argv)
{
	bool verify = !u->build.no_crc32_verify;
	int flags = 0;

	if (argc > (verify ? 5 : 4) || argc < 3)
		return -1;
	argc--;
	argv++;
	if (verify && !strcmp(argv[0], "-v")) {
		flags = HASH_FLAG_VERIFY | HASH_FLAG_ENV;
		argc--;
		argv++;
	}
	return hash_command(u, "crc32", flags, argc, argv);
}

/* cmd/hash.c do_hash(): maxargs 6 with CONFIG_HASH_VERIFY, else 5 and "-v" is
 * taken as the algorithm's name; the name is lower-cased */
int ucmd_hash(struct uboot *u, int argc, char **argv)
{
	bool verify = !u->build.no_hash_verify;
	int flags = HASH_FLAG_ENV;

	if (argc > (verify ? 6 : 5) || argc < 4)
		return -1;
	if (verify && !strcmp(argv[1], "-v")) {
		flags |= HASH_FLAG_VERIFY;
		argc--;
		argv++;
	}
	argc--;
	argv++;
	for (char *s = argv[0]; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	return hash_command(u, argv[0], flags, argc - 1, argv + 1);
}
