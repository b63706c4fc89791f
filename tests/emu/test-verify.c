/* test-verify: the "proof of flash" commands of the emulated U-Boot (issue 16):
 * mmc read/write (ucmd_mmc.c), crc32 and hash (ucmd_hash.c, sha256.c), part
 * (ucmd_part.c), setexpr (ucmd_setexpr.c), the builds without them or without
 * CONFIG_CRC32_VERIFY / CONFIG_HASH_VERIFY, and --fault-emmc-bitflip (emmc.c),
 * driven through fastboot UCmd: as flashd sends them. */
#include "fb.h"

#include "crc32.h"
#include "env.h"
#include "log.h"
#include "sha256.h"
#include "uboot.h"
#include "util.h"

#include "test-util.h"

#include <errno.h>

#define MB (1u << 20)
#define MAXDL (1u * MB)
#define LOADADDR 0x12000000u /* the 6Q default env's loadaddr */

struct vfx {
	struct tu_board *b;
	struct log *log;
	char logpath[600];
	size_t seen; /* log bytes already looked at */
};

static void vfx_start(struct vfx *v, const struct uboot_build *build)
{
	struct uboot_cfg uc = { soc_find("6q"), 0x1122334455667788ull, MAXDL, false, NULL, 0, NULL,
				NULL, UBOOT_FLASHD, false, 0, 0 };
	struct fb_cfg fc = { MAXDL, NULL };
	struct tu_board *f = v->b;

	f->fb = fb_free(f->fb);
	f->u = uboot_free(f->u);
	assert_int_equal(uboot_new(&uc, f->m, v->log, &f->u), 0);
	if (build)
		uboot_set_build(f->u, build);
	assert_int_equal(uboot_start(f->u), 0);
	assert_int_equal(fb_new(&fc, f->u, &f->fb), 0);
}

static struct vfx *vfx_new(const struct uboot_build *build)
{
	struct vfx *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->b = tu_board_new(64 * MB);
	snprintf(v->logpath, sizeof(v->logpath), "%s/emu.jsonl", v->b->dir);
	assert_int_equal(log_open(v->logpath, "b", &v->log), 0);
	vfx_start(v, build);
	return v;
}

static void vfx_free(struct vfx *v)
{
	tu_board_free(v->b); /* removes the folder: close the log after */
	log_free(v->log);
	free(v);
}

static int vfx_setup(void **state)
{
	*state = vfx_new(NULL);
	return 0;
}

static int vfx_teardown(void **state)
{
	vfx_free(*state);
	return 0;
}

static void expect(struct vfx *v, const char *cmd, const char *reply)
{
	struct fb_out *o = &v->b->out;

	fb_command(v->b->fb, (const uint8_t *)cmd, strlen(cmd), o);
	if (o->n != 1 || strcmp(o->resp[0], reply))
		print_error("command \"%s\": %s\n", cmd, o->n ? o->resp[0] : "(no reply)");
	assert_int_equal(o->n, 1);
	assert_string_equal(o->resp[0], reply);
}

/* the console printed TEXT (a JSON-escaped substring) since the last call that
 * found something */
static bool console_has(struct vfx *v, const char *text)
{
	size_t len;
	char *all = tu_slurp(v->logpath, &len), *hit;
	bool found;

	assert_non_null(all);
	hit = strstr(all + (v->seen < len ? v->seen : len), text);
	found = hit != NULL;
	if (!found)
		print_error("console lacks \"%s\"\n", text);
	else
		v->seen = (size_t)(hit - all) + strlen(text);
	free(all);
	return found;
}

static void download(struct vfx *v, const uint8_t *data, size_t len)
{
	char cmd[32], want[32];

	snprintf(cmd, sizeof(cmd), "download:%08zx", len);
	snprintf(want, sizeof(want), "DATA%08zx", len);
	expect(v, cmd, want);
	memcpy(fb_buffer(v->b->fb), data, len);
	fb_data(v->b->fb, 0, len, &v->b->out);
	assert_string_equal(v->b->out.resp[0], "OKAY");
}

static void flash(struct vfx *v, const char *part, const uint8_t *data, size_t len)
{
	char cmd[80];

	download(v, data, len);
	snprintf(cmd, sizeof(cmd), "flash:%s", part);
	expect(v, cmd, "OKAY");
}

static void hexstr(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 c;
	uint8_t d[SHA256_LEN];

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	hexstr(d, sizeof(d), out);
}

/* FIPS 180-2 appendix B vectors, the million 'a' one fed unevenly */
static void test_sha256(void **state)
{
	static char a[1000000];
	struct sha256 c;
	uint8_t d[SHA256_LEN];
	char hex[65];

	(void)state;
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (size_t o = 0, n = 1; o < sizeof(a); o += n, n = n * 3 % 1000 + 1)
		sha256_update(&c, a + o, o + n > sizeof(a) ? sizeof(a) - o : n);
	sha256_final(&c, d);
	hexstr(d, sizeof(d), hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* mmc read: blocks of the selected hardware partition into RAM; the real
 * messages; past the partition's end, outside RAM and CNT 0 as mmc_bread() */
static void test_mmc_read(void **state)
{
	struct vfx *v = *state;
	uint8_t blocks[8 * 512], got[8 * 512], boot[512];
	char cmd[96];

	tu_fill(blocks, sizeof(blocks), 7);
	assert_int_equal(emmc_bwrite(v->b->m, 0x10, 8, blocks), 8);
	expect(v, "UCmd:mmc read ${loadaddr} 0x10 8", "OKAY");
	assert_true(console_has(v, "MMC read: dev # 0, block # 16, count 8 ... "));
	assert_true(console_has(v, "8 blocks read: OK"));
	assert_int_equal(uboot_ram_read(v->b->u, LOADADDR, got, sizeof(got)), 0);
	assert_memory_equal(got, blocks, sizeof(got));
	/* the hardware partition selected by mmc dev */
	memset(boot, 0xB1, sizeof(boot));
	emmc_select(v->b->m, EMMC_BOOT1);
	assert_int_equal(emmc_bwrite(v->b->m, 3, 1, boot), 1);
	emmc_select(v->b->m, EMMC_USER);
	expect(v, "UCmd:mmc dev 0 2; mmc read 0x12100000 3 1; mmc dev 0 0", "OKAY");
	assert_int_equal(uboot_ram_read(v->b->u, 0x12100000, got, 512), 0);
	assert_memory_equal(got, boot, 512);
	/* boot1 has 0x2000 blocks: one past its end */
	expect(v, "UCmd:mmc dev 0 2; mmc read ${loadaddr} 0x1fff 2", "FAIL");
	assert_true(console_has(v, "MMC: block number 0x2001 exceeds max(0x2000)"));
	assert_true(console_has(v, "0 blocks read: ERROR"));
	expect(v, "UCmd:mmc dev 0 0", "OKAY");
	/* DMA outside RAM: an error, nothing transferred (6Q DRAM from 0x10000000) */
	expect(v, "UCmd:mmc read 0x0c000000 0x10 1", "FAIL");
	assert_true(console_has(v, "0 blocks read: ERROR"));
	/* last block of DRAM (0x4fffffff) and one past it */
	expect(v, "UCmd:mmc read 0x4ffffe00 0x10 1", "OKAY");
	expect(v, "UCmd:mmc read 0x4ffffe00 0x10 2", "FAIL");
	/* the emulator's RAM cap (2 x max-download-size + 16 MiB = 18 MiB): an
	 * emu-limit, the read fails */
	expect(v, "UCmd:mmc read 0x20000000 0 0xa000", "FAIL");
	assert_true(console_has(v, "\"emu-limit\""));
	/* count 0: mmc_bread() returns 0 == cnt */
	expect(v, "UCmd:mmc read ${loadaddr} 0x10 0", "OKAY");
	assert_true(console_has(v, "0 blocks read: OK"));
	expect(v, "UCmd:mmc read ${loadaddr} 0x10", "FAIL"); /* usage */
	/* mmc write: RAM to the eMMC */
	snprintf(cmd, sizeof(cmd), "UCmd:mmc write 0x%x 0x200 2", LOADADDR);
	expect(v, cmd, "OKAY");
	assert_true(console_has(v, "MMC write: dev # 0, block # 512, count 2 ... "));
	assert_true(console_has(v, "2 blocks written: OK"));
	assert_int_equal(emmc_pread(v->b->m, EMMC_USER, 0x200 * 512, got, 1024), 0);
	assert_memory_equal(got, blocks, 1024);
	expect(v, "UCmd:mmc write ${loadaddr} 0x1ffff 2", "FAIL"); /* 64 MiB: 0x20000 blocks */
}

/* crc32 -v (CONFIG_CRC32_VERIFY): silent on a match, the real message on a
 * mismatch; without -v the CRC is printed and optionally stored big-endian */
static void test_crc32(void **state)
{
	struct vfx *v = *state;
	uint8_t data[3000], stored[4];
	char cmd[128];
	uint32_t crc;

	tu_fill(data, sizeof(data), 3);
	crc = crc32_update(0, data, sizeof(data));
	assert_int_equal(uboot_ram_write(v->b->u, LOADADDR, data, sizeof(data)), 0);
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08x", sizeof(data), crc);
	expect(v, cmd, "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08X", sizeof(data), crc);
	expect(v, cmd, "OKAY"); /* hextoul() takes either case */
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08x", sizeof(data), crc ^ 1);
	expect(v, cmd, "FAIL");
	snprintf(cmd, sizeof(cmd), "crc32 for 12000000 ... 12000bb7 ==> %08x != %08x ** ERROR **",
		 crc, crc ^ 1);
	assert_true(console_has(v, cmd));
	/* not 8 digits: an env variable's name */
	snprintf(cmd, sizeof(cmd), "UCmd:setenv want %08x; crc32 -v ${loadaddr} 0x%zx want", crc,
		 sizeof(data));
	expect(v, cmd, "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx 0x%08x", sizeof(data), crc);
	expect(v, cmd, "FAIL");
	assert_true(console_has(v, "Expected 8 hex digits in env var"));
	assert_true(console_has(v, "does not contain a valid crc32 sum"));
	/* print and store at an address (crc32 takes no env variable) */
	expect(v, "UCmd:crc32 ${loadaddr} 0xbb8 0x13000000", "OKAY");
	snprintf(cmd, sizeof(cmd), "crc32 for 12000000 ... 12000bb7 ==> %08x", crc);
	assert_true(console_has(v, cmd));
	assert_int_equal(uboot_ram_read(v->b->u, 0x13000000, stored, 4), 0);
	assert_int_equal(util_be32(stored), crc);
	/* the "*ADDR" form of the expected value */
	expect(v, "UCmd:crc32 -v ${loadaddr} 0xbb8 *0x13000000", "OKAY");
	expect(v, "UCmd:crc32 ${loadaddr}", "FAIL");        /* usage */
	expect(v, "UCmd:crc32 -v 1 2 3 4", "FAIL");         /* maxargs 5 */
}

/* hash: sha256 and crc32, print / store to env or address, -v against hex,
 * env variable or address */
static void test_hash(void **state)
{
	struct vfx *v = *state;
	uint8_t data[5000];
	char cmd[200], sum[65], bad[65];

	tu_fill(data, sizeof(data), 11);
	sha256_hex(data, sizeof(data), sum);
	assert_int_equal(uboot_ram_write(v->b->u, LOADADDR, data, sizeof(data)), 0);
	snprintf(cmd, sizeof(cmd), "UCmd:hash -v sha256 ${loadaddr} 0x1388 %s", sum);
	expect(v, cmd, "OKAY");
	memcpy(bad, sum, sizeof(bad));
	bad[63] = bad[63] == '0' ? '1' : '0';
	snprintf(cmd, sizeof(cmd), "UCmd:hash -v sha256 ${loadaddr} 0x1388 %s", bad);
	expect(v, cmd, "FAIL");
	snprintf(cmd, sizeof(cmd), "sha256 for 12000000 ... 12001387 ==> %s != %s ** ERROR **", sum,
		 bad);
	assert_true(console_has(v, cmd));
	/* print, store in a variable, verify against it; the name is lower-cased */
	expect(v, "UCmd:hash SHA256 ${loadaddr} 0x1388 got", "OKAY");
	snprintf(cmd, sizeof(cmd), "sha256 for 12000000 ... 12001387 ==> %s", sum);
	assert_true(console_has(v, cmd));
	assert_string_equal(env_get(v->b->u->env, "got"), sum);
	expect(v, "UCmd:hash -v sha256 ${loadaddr} 0x1388 got", "OKAY");
	/* *ADDR: stored in RAM, verified from RAM */
	expect(v, "UCmd:hash sha256 ${loadaddr} 0x1388 *0x13000000; "
		  "hash -v sha256 ${loadaddr} 0x1388 *0x13000000", "OKAY");
	/* crc32 through hash */
	snprintf(cmd, sizeof(cmd), "UCmd:hash -v crc32 ${loadaddr} 0x1388 %08x",
		 crc32_update(0, data, sizeof(data)));
	expect(v, cmd, "OKAY");
	expect(v, "UCmd:hash sha1 ${loadaddr} 0x10", "FAIL");
	assert_true(console_has(v, "Unknown hash algorithm 'sha1'"));
	expect(v, "UCmd:hash -v sha256 ${loadaddr} 0x1388", "FAIL"); /* usage */
	expect(v, "UCmd:hash -v sha256 ${loadaddr} 0x1388 nothere", "FAIL");
	assert_true(console_has(v, "Expected 64 hex digits in env var"));
}

/* a build without CONFIG_CRC32_VERIFY and CONFIG_HASH_VERIFY: crc32 takes 4
 * words at most and "-v" is its address; hash takes "-v" as the algorithm */
static void test_no_verify(void **state)
{
	struct uboot_build nv = { true, true, { NULL }, 0 };
	struct vfx *v = vfx_new(&nv);
	uint8_t data[64], stored[4];
	char cmd[160], sum[65];
	uint32_t crc;

	(void)state;
	tu_fill(data, sizeof(data), 5);
	assert_int_equal(uboot_ram_write(v->b->u, 0x100, data, sizeof(data)), 0);
	crc = crc32_update(0, data, sizeof(data));
	/* flashd's line: five words, a usage error */
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v 0x100 0x40 %08x", crc);
	expect(v, cmd, "FAIL");
	assert_true(console_has(v, "Usage: crc32"));
	/* four words: CRC of [hextoul("-v") = 0, 0x100), stored at 0x40 (success) */
	expect(v, "UCmd:crc32 -v 0x100 0x40", "OKAY");
	assert_true(console_has(v, "crc32 for 00000000 ... 000000ff ==> "));
	{
		uint8_t zero_then[0x100];

		assert_int_equal(uboot_ram_read(v->b->u, 0, zero_then, sizeof(zero_then)), 0);
		assert_int_equal(uboot_ram_read(v->b->u, 0x40, stored, 4), 0);
		/* computed before the store */
		memcpy(zero_then + 0x40, "\0\0\0\0", 4);
		assert_int_equal(util_be32(stored), crc32_update(0, zero_then, sizeof(zero_then)));
	}
	sha256_hex(data, sizeof(data), sum);
	snprintf(cmd, sizeof(cmd), "UCmd:hash -v sha256 0x100 0x40 %s", sum);
	expect(v, cmd, "FAIL"); /* six words: usage */
	expect(v, "UCmd:hash -v sha256 0x100 0x40", "FAIL");
	assert_true(console_has(v, "Unknown hash algorithm '-v'"));
	/* the plain forms still work */
	expect(v, "UCmd:hash sha256 0x100 0x40 s", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "s"), sum);
	vfx_free(v);
}

/* --uboot-no-cmd: those commands are unknown */
static void test_no_cmd(void **state)
{
	struct uboot_build nc = { false, false, { "hash", "part", "setexpr", "crc32" }, 4 };
	struct vfx *v = vfx_new(&nc);
	static const char *const cmds[] = {
		"UCmd:hash sha256 0 1", "UCmd:part start mmc 0 1 x", "UCmd:setexpr x 1",
		"UCmd:crc32 0 1",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		expect(v, cmds[i], "FAIL");
	assert_true(console_has(v, "Unknown command 'hash' - try 'help'"));
	assert_true(console_has(v, "Unknown command 'crc32' - try 'help'"));
	expect(v, "UCmd:mmc read ${loadaddr} 0 1", "OKAY");
	vfx_free(v);
}

/* part start/size/number on GPT (by name and number) and MBR (number, generic
 * name), values as LBAF: hexadecimal without 0x */
static void test_part(void **state)
{
	static const char *const names[] = { "boot", "rootfs", NULL };
	static const uint64_t starts[] = { 2048, 0x3000 }, ends[] = { 4095, 0x7fff };
	struct vfx *v = *state;
	static uint8_t gpt[34 * 512];
	uint8_t mbr[512];

	tu_mk_gpt(gpt, 64 * MB / 512, names, starts, ends);
	assert_int_equal(emmc_bwrite(v->b->m, 0, 34, gpt), 34);
	expect(v, "UCmd:part start mmc 0 rootfs s; part size mmc 0 rootfs n; part number mmc 0 "
		  "rootfs k", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "s"), "3000");
	assert_string_equal(env_get(v->b->u->env, "n"), "5000");
	assert_string_equal(env_get(v->b->u->env, "k"), "0x2");
	expect(v, "UCmd:part start mmc 0 1 s; part size mmc 0 0x1 n", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "s"), "800");
	assert_string_equal(env_get(v->b->u->env, "n"), "800");
	expect(v, "UCmd:part start mmc 0 1", "OKAY"); /* printed */
	assert_true(console_has(v, "\"800\""));
	expect(v, "UCmd:part start mmc 0 nothere s", "FAIL");
	expect(v, "UCmd:part start mmc 0 3 s", "FAIL");
	expect(v, "UCmd:part start mmc 1 1 s", "FAIL");
	expect(v, "UCmd:part start mmc 0x 1 s", "OKAY"); /* simple_strtoul(): "0x" is 0 */
	expect(v, "UCmd:part start mmc 0z 1 s", "FAIL");
	assert_true(console_has(v, "** Bad device specification mmc 0z **"));
	expect(v, "UCmd:part start usb 0 1 s", "FAIL");
	expect(v, "UCmd:part start mmc 0", "FAIL"); /* usage */
	expect(v, "UCmd:part frob mmc 0 1", "FAIL");
	/* the device string selects the hardware partition: 0.1 is boot0 (no table) */
	expect(v, "UCmd:part start mmc 0.1 1 s", "FAIL");
	assert_int_equal(emmc_current(v->b->m), EMMC_BOOT0);
	expect(v, "UCmd:part start mmc 0 rootfs s", "OKAY");
	assert_int_equal(emmc_current(v->b->m), EMMC_USER);
	/* MBR: numbers and U-Boot's generic names */
	memset(mbr, 0, sizeof(mbr));
	tu_put_dos(mbr, 0, 0, 0x83, 0x2000, 0x4000);
	tu_put_dos(mbr, 1, 0, 0x83, 0x6000, 0x100);
	assert_int_equal(emmc_bwrite(v->b->m, 0, 1, mbr), 1);
	memset(mbr, 0, sizeof(mbr));
	assert_int_equal(emmc_bwrite(v->b->m, 1, 1, mbr), 1); /* no GPT header any more */
	expect(v, "UCmd:part start mmc 0 2 s; part size mmc 0 mmcsda1 n", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "s"), "6000");
	assert_string_equal(env_get(v->b->u->env, "n"), "4000");
}

/* setexpr: hextoul() values, 32-bit ulong arithmetic, env_set_hex() results */
static void test_setexpr(void **state)
{
	static const struct {
		const char *expr, *want;
	} t[] = {
		{ "800 + 0x10", "810" }, { "0x10 - 0x11", "ffffffff" }, { "3 * 5", "f" },
		{ "10 / 3", "5" }, { "10 % 3", "1" }, { "f0 & 3c", "30" }, { "f0 | f", "ff" },
		{ "ff ^ f", "f0" }, { "0x0010", "10" }, { "ffffffff + 2", "1" },
	};
	struct vfx *v = *state;
	char cmd[96];
	uint8_t w[4] = { 0x78, 0x56, 0x34, 0x12 };

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		snprintf(cmd, sizeof(cmd), "UCmd:setexpr r %s", t[i].expr);
		expect(v, cmd, "OKAY");
		assert_string_equal(env_get(v->b->u->env, "r"), t[i].want);
	}
	/* ${var} expansion: flashd's sequence */
	expect(v, "UCmd:setenv fv_start 3000; setexpr fv_blk ${fv_start} + 0x20", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "fv_blk"), "3020");
	/* an unset variable vanishes: four words, a usage error */
	expect(v, "UCmd:setexpr fv_blk ${nothere} + 0x20", "FAIL");
	expect(v, "UCmd:setexpr r 1 ? 2", "FAIL");
	assert_true(console_has(v, "invalid op"));
	expect(v, "UCmd:setexpr r 1 ++ 2", "FAIL");
	expect(v, "UCmd:setexpr r 1 / 0", "FAIL");
	/* *ADDR with the command's width */
	assert_int_equal(uboot_ram_write(v->b->u, 0x13000000, w, 4), 0);
	expect(v, "UCmd:setexpr.b r *0x13000000; setexpr.w q *0x13000000; setexpr p *0x13000000",
	       "OKAY");
	assert_string_equal(env_get(v->b->u->env, "r"), "78");
	assert_string_equal(env_get(v->b->u->env, "q"), "5678");
	assert_string_equal(env_get(v->b->u->env, "p"), "12345678");
	/* .s: strings from RAM only (v2023.04), '+' concatenates */
	assert_int_equal(uboot_ram_write(v->b->u, 0x13000010, "ab\0cd", 6), 0);
	expect(v, "UCmd:setexpr.s r *0x13000010 + *0x13000013", "OKAY");
	assert_string_equal(env_get(v->b->u->env, "r"), "abcd");
	expect(v, "UCmd:setexpr.s r abc", "FAIL");
}

static void count_fault(void *ctx, const char *fault)
{
	assert_string_equal(fault, "emmc-bitflip");
	(*(unsigned *)ctx)++;
}

/* --fault-emmc-bitflip: every store of that byte keeps bit 0 flipped, fastboot
 * says OKAY, crc32 -v of the read-back catches it */
static void test_bitflip(void **state)
{
	struct vfx *v = *state;
	static uint8_t img[20000];
	uint8_t b, z[512];
	char cmd[160], sum[65];
	unsigned faults = 0;
	uint32_t crc;

	/* the flashd build's raw partition "bootloader" starts at block 2 */
	emmc_set_bitflip(v->b->m, 2 * 512 + 777, count_fault, &faults);
	tu_fill(img, sizeof(img), 9);
	crc = crc32_update(0, img, sizeof(img));
	sha256_hex(img, sizeof(img), sum);
	flash(v, "bootloader", img, sizeof(img));
	assert_int_equal(emmc_pread(v->b->m, EMMC_USER, 2 * 512 + 777, &b, 1), 0);
	assert_int_equal(b, img[777] ^ 1);
	assert_int_equal(emmc_bitflips(v->b->m), 1);
	/* flashd's verification lines */
	expect(v, "UCmd:mmc read ${loadaddr} 0x2 0x28", "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08x", sizeof(img), crc);
	expect(v, cmd, "FAIL");
	snprintf(cmd, sizeof(cmd), "UCmd:hash -v sha256 ${loadaddr} 0x%zx %s", sizeof(img), sum);
	expect(v, cmd, "FAIL");
	/* one fault report only, however often it hits */
	flash(v, "bootloader", img, sizeof(img));
	assert_int_equal(emmc_bitflips(v->b->m), 2);
	assert_int_equal(faults, 1);
	/* zero fills (sparse FILL 0 / DONT_CARE-less erase) and erase store it too */
	assert_int_equal(emmc_bwrite_zero(v->b->m, 2, 4), 4);
	assert_int_equal(emmc_pread(v->b->m, EMMC_USER, 2 * 512 + 777, &b, 1), 0);
	assert_int_equal(b, 1);
	expect(v, "UCmd:mmc erase 2 4", "OKAY");
	assert_int_equal(emmc_pread(v->b->m, EMMC_USER, 2 * 512 + 777, &b, 1), 0);
	assert_int_equal(b, 1);
	/* other blocks and other hardware partitions are untouched */
	memset(z, 0, sizeof(z));
	emmc_select(v->b->m, EMMC_BOOT0);
	assert_int_equal(emmc_bwrite(v->b->m, 2, 1, z), 1);
	emmc_select(v->b->m, EMMC_USER);
	assert_int_equal(emmc_pread(v->b->m, EMMC_BOOT0, 2 * 512 + 777, &b, 1), 0);
	assert_int_equal(b, 0);
	assert_int_equal(emmc_bitflips(v->b->m), 4);
}

/* the download buffer is RAM at CONFIG_FASTBOOT_BUF_ADDR (= loadaddr on the
 * 6Q): until mmc read overwrites it, RAM holds the downloaded image, so a check
 * without the read passes even when the eMMC holds something else */
static void test_dlbuf(void **state)
{
	struct vfx *v = *state;
	static uint8_t img[3 * 0x10000 + 100], got[sizeof(img)];
	uint8_t four[4];
	char cmd[128];
	uint32_t crc;

	tu_fill(img, sizeof(img), 33);
	crc = crc32_update(0, img, sizeof(img));
	assert_int_equal(uboot_dl_addr(v->b->u), LOADADDR);
	emmc_set_bitflip(v->b->m, 2 * 512 + 5, NULL, NULL);
	flash(v, "bootloader", img, sizeof(img));
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08x", sizeof(img), crc);
	expect(v, cmd, "OKAY"); /* the download, not the eMMC */
	expect(v, "UCmd:mmc read ${loadaddr} 2 0x181", "OKAY");
	expect(v, cmd, "FAIL");    /* the eMMC's copy has the flipped bit */
	/* a write into a download page keeps the rest of that page */
	download(v, img, sizeof(img));
	expect(v, cmd, "OKAY");
	expect(v, "UCmd:crc32 0x13000000 4 0x12010002", "OKAY"); /* stores 4 bytes there */
	assert_int_equal(uboot_ram_read(v->b->u, LOADADDR, got, sizeof(got)), 0);
	assert_memory_equal(got, img, 0x10002);
	assert_memory_equal(got + 0x10006, img + 0x10006, sizeof(img) - 0x10006);
	assert_int_equal(uboot_ram_read(v->b->u, 0x12010002, four, 4), 0);
	assert_int_equal(util_be32(four), crc32_update(0, "\0\0\0\0", 4));
	/* a new download replaces it all */
	download(v, img, sizeof(img));
	expect(v, cmd, "OKAY");
}

/* flashd's whole verification after flashing a GPT partition by name, and a
 * boot partition by number, through fastboot; a mismatch is FAIL */
static void test_flashd_sequence(void **state)
{
	static const char *const names[] = { "rootfs", NULL };
	static const uint64_t starts[] = { 0x1000 }, ends[] = { 0x7fff };
	struct vfx *v = *state;
	static uint8_t gpt[34 * 512], img[MAXDL];
	char cmd[200], sum[65];
	const size_t piece = 0x40000;

	tu_mk_gpt(gpt, 64 * MB / 512, names, starts, ends);
	flash(v, "gpt", gpt, sizeof(gpt));
	tu_fill(img, sizeof(img), 21);
	flash(v, "rootfs", img, sizeof(img));
	/* the image in pieces, each at ${loadaddr} */
	for (size_t off = 0; off < sizeof(img); off += piece) {
		expect(v, "UCmd:part start mmc 0 rootfs fv_start", "OKAY");
		snprintf(cmd, sizeof(cmd), "UCmd:setexpr fv_blk ${fv_start} + 0x%zx", off / 512);
		expect(v, cmd, "OKAY");
		snprintf(cmd, sizeof(cmd), "UCmd:mmc read ${loadaddr} ${fv_blk} 0x%zx", piece / 512);
		expect(v, cmd, "OKAY");
		snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%zx %08x", piece,
			 crc32_update(0, img + off, piece));
		expect(v, cmd, "OKAY");
		sha256_hex(img + off, piece, sum);
		snprintf(cmd, sizeof(cmd), "UCmd:hash -v sha256 ${loadaddr} 0x%zx %s", piece, sum);
		expect(v, cmd, "OKAY");
	}
	assert_string_equal(env_get(v->b->u->env, "fv_start"), "1000");
	/* a whole max-download-size piece fits in RAM */
	snprintf(cmd, sizeof(cmd), "UCmd:mmc read ${loadaddr} 0x1000 0x%x", MAXDL / 512);
	expect(v, cmd, "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x%x %08x", MAXDL,
		 crc32_update(0, img, sizeof(img)));
	expect(v, cmd, "OKAY");
	/* boot0: mmc dev 0 1, read by block number, back to the user area */
	flash(v, "mmc0boot0", img, 0x8000);
	expect(v, "UCmd:mmc dev 0 1", "OKAY");
	expect(v, "UCmd:mmc read ${loadaddr} 0x0 0x40", "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x8000 %08x",
		 crc32_update(0, img, 0x8000));
	expect(v, cmd, "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x8000 %08x",
		 crc32_update(0, img + 1, 0x8000));
	expect(v, cmd, "FAIL");
	expect(v, "UCmd:mmc dev 0 0", "OKAY");
	assert_int_equal(emmc_current(v->b->m), EMMC_USER);
	/* mmc dev takes decimal (dectoul): "0x1" is 0, the user area */
	expect(v, "UCmd:mmc dev 0 1; mmc dev 0 0x1", "OKAY");
	assert_int_equal(emmc_current(v->b->m), EMMC_USER);
	/* a count of 0 reads nothing and succeeds: RAM keeps what the last read left */
	expect(v, "UCmd:mmc read ${loadaddr} 0x1000 0", "OKAY");
	snprintf(cmd, sizeof(cmd), "UCmd:crc32 -v ${loadaddr} 0x8000 %08x",
		 crc32_update(0, img, 0x8000));
	expect(v, cmd, "OKAY");
}

#define T(x) cmocka_unit_test_setup_teardown(x, vfx_setup, vfx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256), T(test_mmc_read), T(test_crc32), T(test_hash),
		cmocka_unit_test(test_no_verify), cmocka_unit_test(test_no_cmd), T(test_part),
		T(test_setexpr), T(test_bitflip), T(test_dlbuf), T(test_flashd_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
