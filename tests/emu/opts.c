/* opts: see opts.h */
#include "opts.h"

#include "bus.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

enum {
	OPT_UDC = 256, OPT_NAME, OPT_LOG, OPT_EMMC, OPT_SOC, OPT_UID, OPT_EMMC_SIZE, OPT_START,
	OPT_REENUM, OPT_FB_VID, OPT_FB_PID, OPT_MAXDL, OPT_HAB, OPT_OFFSET, OPT_RUNTIME,
	OPT_MBPS, OPT_ENV, OPT_EXIT, OPT_NO_DRAM, OPT_RAM_CAP, OPT_F_BYTE, OPT_F_CMD,
	OPT_F_DISC, OPT_F_STALL, OPT_F_FAIL, OPT_F_BAD, OPT_F_NOREENUM, OPT_F_DELAY,
	OPT_F_HANG, OPT_LINK_MBPS, OPT_F_SDP_BYTE, OPT_SPL_VID, OPT_SPL_PID, OPT_SPL_BCD,
	OPT_SDP_LOADADDR, OPT_SPL_SECTOR, OPT_UBOOT, OPT_UUU, OPT_ENV_OFFSET, OPT_ENV_SIZE,
	OPT_UNPLUG, OPT_REPLUG, OPT_F_GARBAGE, OPT_NO_VERIFY, OPT_NO_CMD, OPT_F_BITFLIP,
	OPT_BUS_GROUP, OPT_BUS_MBPS, OPT_HELP,
};

static const struct option opts_long[] = {
	{ "udc", required_argument, NULL, OPT_UDC },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "emmc", required_argument, NULL, OPT_EMMC },
	{ "soc", required_argument, NULL, OPT_SOC },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "emmc-size", required_argument, NULL, OPT_EMMC_SIZE },
	{ "start", required_argument, NULL, OPT_START },
	{ "reenum-delay", required_argument, NULL, OPT_REENUM },
	{ "fb-vid", required_argument, NULL, OPT_FB_VID },
	{ "fb-pid", required_argument, NULL, OPT_FB_PID },
	{ "max-download-size", required_argument, NULL, OPT_MAXDL },
	{ "hab-closed", no_argument, NULL, OPT_HAB },
	{ "offset-names", no_argument, NULL, OPT_OFFSET },
	{ "runtime-gadget", no_argument, NULL, OPT_RUNTIME },
	{ "emmc-mbps", required_argument, NULL, OPT_MBPS },
	{ "link-mbps", required_argument, NULL, OPT_LINK_MBPS },
	{ "bus-group", required_argument, NULL, OPT_BUS_GROUP },
	{ "bus-mbps", required_argument, NULL, OPT_BUS_MBPS },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "exit-when", required_argument, NULL, OPT_EXIT },
	{ "no-dram-check", no_argument, NULL, OPT_NO_DRAM },
	{ "ram-cap", required_argument, NULL, OPT_RAM_CAP },
	{ "fault-disconnect-at-byte", required_argument, NULL, OPT_F_BYTE },
	{ "fault-disconnect-at-sdp-byte", required_argument, NULL, OPT_F_SDP_BYTE },
	{ "fault-disconnect-at-cmd", required_argument, NULL, OPT_F_CMD },
	{ "fault-disconnect-in", required_argument, NULL, OPT_F_DISC },
	{ "fault-stall", required_argument, NULL, OPT_F_STALL },
	{ "fault-fail", required_argument, NULL, OPT_F_FAIL },
	{ "fault-bad-status", no_argument, NULL, OPT_F_BAD },
	{ "fault-no-reenum", no_argument, NULL, OPT_F_NOREENUM },
	{ "fault-delay-reply", required_argument, NULL, OPT_F_DELAY },
	{ "fault-hang-in", required_argument, NULL, OPT_F_HANG },
	{ "spl-vid", required_argument, NULL, OPT_SPL_VID },
	{ "spl-pid", required_argument, NULL, OPT_SPL_PID },
	{ "spl-bcd", required_argument, NULL, OPT_SPL_BCD },
	{ "sdp-loadaddr", required_argument, NULL, OPT_SDP_LOADADDR },
	{ "spl-uboot-sector", required_argument, NULL, OPT_SPL_SECTOR },
	{ "uboot", required_argument, NULL, OPT_UBOOT },
	{ "uuu-support", required_argument, NULL, OPT_UUU },
	{ "env-offset", required_argument, NULL, OPT_ENV_OFFSET },
	{ "env-size", required_argument, NULL, OPT_ENV_SIZE },
	{ "fault-garbage", required_argument, NULL, OPT_F_GARBAGE },
	{ "fault-emmc-bitflip", required_argument, NULL, OPT_F_BITFLIP },
	{ "uboot-no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "uboot-no-cmd", required_argument, NULL, OPT_NO_CMD },
	{ "unplug-at", required_argument, NULL, OPT_UNPLUG },
	{ "replug-after", required_argument, NULL, OPT_REPLUG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void opts_usage(FILE *f)
{
	fputs("usage: flashd-emu --udc dummy_udc.K --name BOARD --log FILE.jsonl --emmc FILE\n"
	      "  [--soc 6q|6dl|6sl|6sx|6ul|6ull] [--uid HEX64] [--emmc-size SIZE]\n"
	      "  [--start rom|fastboot] [--reenum-delay MS] [--fb-vid V --fb-pid P]\n"
	      "  [--max-download-size N] [--hab-closed] [--offset-names] [--runtime-gadget]\n"
	      "  [--emmc-mbps N] [--link-mbps N] [--bus-group NAME --bus-mbps N]\n"
	      "  [--env KEY=VALUE]... [--exit-when booted|rom|never]\n"
	      "  [--no-dram-check] [--ram-cap SIZE]\n"
	      "  [--spl-vid V] [--spl-pid P] [--spl-bcd B] [--sdp-loadaddr A] [--spl-uboot-sector N]\n"
	      "  [--uboot flashd|mainline|nxp] [--uuu-support yes|no] [--env-offset N] [--env-size N]\n"
	      "  [--uboot-no-verify] [--uboot-no-cmd crc32|hash|part|setexpr]...\n"
	      "  [--fault-disconnect-at-byte N] [--fault-disconnect-at-sdp-byte N]\n"
	      "  [--fault-disconnect-at-cmd K] [--fault-disconnect-in rom|spl|fastboot]\n"
	      "  [--fault-stall ep0|in|out] [--fault-fail PATTERN] [--fault-bad-status]\n"
	      "  [--fault-no-reenum] [--fault-delay-reply MS] [--fault-hang-in rom|spl|fastboot]\n"
	      "  [--fault-garbage rom|spl|fastboot] [--fault-emmc-bitflip OFFSET]\n"
	      "  [--unplug-at before|middle|after:rom|spl|fb|reenum:N] [--replug-after MS]\n"
	      "Emulates one i.MX6 board (boot ROM, U-Boot fastboot, eMMC) on one UDC through\n"
	      "FunctionFS; every event goes to the JSON-lines log. See tests/emu/README.md.\n",
	      f);
}

static const char *const opts_uboot_names[] = {
	[OPTS_UBOOT_FLASHD] = "flashd",
	[OPTS_UBOOT_MAINLINE] = "mainline",
	[OPTS_UBOOT_NXP] = "nxp",
};

const char *opts_uboot_to_string(enum opts_uboot u)
{
	return (unsigned)u < ARRAY_SIZE(opts_uboot_names) ? opts_uboot_names[u] : "?";
}

static const char *const opts_unplug_where_names[] = {
	[OPTS_UNPLUG_NONE] = "none",
	[OPTS_UNPLUG_ROM] = "rom",
	[OPTS_UNPLUG_SPL] = "spl",
	[OPTS_UNPLUG_FB] = "fb",
	[OPTS_UNPLUG_REENUM] = "reenum",
};

static const char *const opts_unplug_when_names[] = {
	[OPTS_UNPLUG_BEFORE] = "before",
	[OPTS_UNPLUG_MIDDLE] = "middle",
	[OPTS_UNPLUG_AFTER] = "after",
};

const char *opts_unplug_where_to_string(enum opts_unplug_where w)
{
	return (unsigned)w < ARRAY_SIZE(opts_unplug_where_names) ? opts_unplug_where_names[w] : "?";
}

const char *opts_unplug_when_to_string(enum opts_unplug_when w)
{
	return (unsigned)w < ARRAY_SIZE(opts_unplug_when_names) ? opts_unplug_when_names[w] : "?";
}

uint64_t opts_default_uid(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = name; p && *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int opts_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int opts_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int opts_num(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (util_parse_u64(s, &v) < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int opts_phase(const char *s, enum opts_phase *out)
{
	if (!strcmp(s, "rom"))
		*out = OPTS_PHASE_ROM;
	else if (!strcmp(s, "fastboot"))
		*out = OPTS_PHASE_FASTBOOT;
	else if (!strcmp(s, "spl"))
		*out = OPTS_PHASE_SPL;
	else
		return -EINVAL;
	return 0;
}

/* 1..16 hex digits, optional 0x */
static int opts_hex64(const char *s, uint64_t *out)
{
	const char *end;
	size_t n;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	n = strlen(s);
	if (n == 0 || n > 16 || strspn(s, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	*out = util_strtoul_uboot(s, &end, 16);
	return 0;
}

static void opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->soc = soc_find("6q");
	o->emmc_size = 256ull << 20;
	o->start = OPTS_START_ROM;
	o->reenum_delay_ms = 500;
	o->fb_vid = 0x0525;
	o->fb_pid = 0xa4a5;
	o->max_download = 0x7000000;
	o->exit_when = OPTS_EXIT_NEVER;
	o->dram_check = true;
	o->ram_cap = 64ull << 20;
	/* U-Boot's default gadget IDs (CONFIG_USB_GADGET_VENDOR_NUM 0x0525,
	 * CONFIG_USB_GADGET_PRODUCT_NUM 0xa4a5) as SPL shows them: PID + 0xfff and
	 * bcdDevice 0x0500 (arch/arm/mach-imx/spl.c g_dnl_bind_fixup(),
	 * g_dnl_get_board_bcd_device_number(), SDPV_BCD_DEVICE) */
	o->spl_vid = 0x0525;
	o->spl_pid = 0xb4a4;
	o->spl_bcd = 0x0500;
	o->sdp_loadaddr = UINT32_MAX; /* per SoC, set after parsing */
	o->spl_uboot_sector = 0x8a;   /* common/spl/Kconfig: 0x8a if ARCH_MX6 || ARCH_MX7 */
	o->uboot = OPTS_UBOOT_FLASHD;
	o->uuu_support = -1;
	o->env_offset = 0xC0000;      /* mx6sabresd CONFIG_ENV_OFFSET */
	o->env_size = 0x2000;         /* CONFIG_ENV_SIZE */
	o->replug_ms = 2000;
}

/* the SPL/U-Boot options that take a word; 1 when C is not one of them */
static int opts_uboot_opts(struct opts *o, int c, const char *a, char *err, size_t el)
{
	uint64_t v;

	switch (c) {
	case OPT_SPL_VID:
	case OPT_SPL_PID:
	case OPT_SPL_BCD:
		if (opts_num(a, 0xffff, &v) < 0)
			return opts_err(err, el, "--spl-vid/--spl-pid/--spl-bcd: 16-bit number");
		*(c == OPT_SPL_VID ? &o->spl_vid : c == OPT_SPL_PID ? &o->spl_pid : &o->spl_bcd) =
			(uint16_t)v;
		break;
	case OPT_SDP_LOADADDR:
		if (opts_num(a, UINT32_MAX - 1, &v) < 0)
			return opts_err(err, el, "--sdp-loadaddr: 32-bit address");
		o->sdp_loadaddr = (uint32_t)v;
		break;
	case OPT_SPL_SECTOR:
		if (opts_num(a, 0xffffff, &v) < 0 || !v)
			return opts_err(err, el, "--spl-uboot-sector: 1..0xffffff");
		o->spl_uboot_sector = (uint32_t)v;
		break;
	case OPT_ENV_OFFSET:
	case OPT_ENV_SIZE:
		if (opts_num(a, 0xffffffff, &v) < 0 || v % 512 || (c == OPT_ENV_SIZE &&
		    (v < 512 || v > (1u << 20))))
			return opts_err(err, el, "--env-offset/--env-size: multiples of 512 (size <= 1M)");
		*(c == OPT_ENV_OFFSET ? &o->env_offset : &o->env_size) = (uint32_t)v;
		break;
	case OPT_NO_CMD:
		if (strcmp(a, "crc32") && strcmp(a, "hash") && strcmp(a, "part") &&
		    strcmp(a, "setexpr"))
			return opts_err(err, el, "--uboot-no-cmd: crc32, hash, part or setexpr");
		if (o->n_uboot_no_cmd == OPTS_MAX_NO_CMD)
			return opts_err(err, el, "--uboot-no-cmd: at most %d", OPTS_MAX_NO_CMD);
		o->uboot_no_cmd[o->n_uboot_no_cmd++] = a;
		break;
	case OPT_UBOOT:
		for (v = 0; v < ARRAY_SIZE(opts_uboot_names); v++)
			if (!strcmp(a, opts_uboot_names[v]))
				break;
		if (v == ARRAY_SIZE(opts_uboot_names))
			return opts_err(err, el, "--uboot: flashd, mainline or nxp");
		o->uboot = (enum opts_uboot)v;
		break;
	case OPT_UUU:
		if (strcmp(a, "yes") && strcmp(a, "no"))
			return opts_err(err, el, "--uuu-support: yes or no");
		o->uuu_support = !strcmp(a, "yes");
		break;
	default:
		return 1;
	}
	return 0;
}

/* options naming things; 1 when C is not one of them, -EINVAL with ERR set */
static int opts_names(struct opts *o, int c, const char *a, bool *uid_set, char *err, size_t el)
{
	switch (c) {
	case OPT_UDC: o->udc = a; break;
	case OPT_NAME: o->name = a; break;
	case OPT_LOG: o->log = a; break;
	case OPT_EMMC: o->emmc = a; break;
	case OPT_BUS_GROUP:
		if (!bus_name_valid(a))
			return opts_err(err, el, "--bus-group: 1..%d characters of A-Z a-z 0-9 . _ -: '%s'",
					BUS_NAME_MAX - 1, a);
		o->bus_group = a;
		break;
	case OPT_SOC:
		o->soc = soc_find(a);
		if (!o->soc)
			return opts_err(err, el, "--soc: unknown SoC '%s'", a);
		break;
	case OPT_UID:
		if (opts_hex64(a, &o->uid) < 0)
			return opts_err(err, el, "--uid: 1 to 16 hex digits: '%s'", a);
		*uid_set = true;
		break;
	case OPT_START:
		if (!strcmp(a, "rom"))
			o->start = OPTS_START_ROM;
		else if (!strcmp(a, "fastboot"))
			o->start = OPTS_START_FASTBOOT;
		else
			return opts_err(err, el, "--start: rom or fastboot");
		break;
	case OPT_ENV:
		if (!strchr(a, '=') || a[0] == '=' || o->n_env >= OPTS_MAX_ENV)
			return opts_err(err, el, "--env: KEY=VALUE (at most %d)", OPTS_MAX_ENV);
		o->env[o->n_env++] = a;
		break;
	case OPT_EXIT:
		if (!strcmp(a, "booted"))
			o->exit_when = OPTS_EXIT_BOOTED;
		else if (!strcmp(a, "rom"))
			o->exit_when = OPTS_EXIT_ROM;
		else if (!strcmp(a, "never"))
			o->exit_when = OPTS_EXIT_NEVER;
		else
			return opts_err(err, el, "--exit-when: booted, rom or never");
		break;
	default:
		return 1;
	}
	return 0;
}

/* numeric options; 1 when C is not one of them */
static int opts_numbers(struct opts *o, int c, const char *a, char *err, size_t el)
{
	uint64_t v;

	switch (c) {
	case OPT_EMMC_SIZE:
		if (util_parse_size(a, &o->emmc_size) < 0 || o->emmc_size < (4u << 20) ||
		    o->emmc_size % 512 || o->emmc_size > (1ull << 40))
			return opts_err(err, el, "--emmc-size: 4M..1T, a multiple of 512: '%s'", a);
		break;
	case OPT_REENUM:
		if (opts_num(a, 600000, &v) < 0)
			return opts_err(err, el, "--reenum-delay: milliseconds");
		o->reenum_delay_ms = (unsigned)v;
		break;
	case OPT_FB_VID:
	case OPT_FB_PID:
		if (opts_num(a, 0xffff, &v) < 0)
			return opts_err(err, el, "--fb-vid/--fb-pid: 16-bit number");
		*(c == OPT_FB_VID ? &o->fb_vid : &o->fb_pid) = (uint16_t)v;
		break;
	case OPT_MAXDL:
		if (util_parse_size(a, &v) < 0 || v < 512 || v > 0x40000000)
			return opts_err(err, el, "--max-download-size: 512..1G");
		o->max_download = (uint32_t)v;
		break;
	case OPT_MBPS:
		if (opts_num(a, 100000, &v) < 0)
			return opts_err(err, el, "--emmc-mbps: MB/s");
		o->emmc_mbps = (unsigned)v;
		break;
	case OPT_LINK_MBPS:
		if (opts_num(a, 100000, &v) < 0)
			return opts_err(err, el, "--link-mbps: MB/s");
		o->link_mbps = (unsigned)v;
		break;
	case OPT_BUS_MBPS:
		if (opts_num(a, BUS_MBPS_MAX, &v) < 0 || !v)
			return opts_err(err, el, "--bus-mbps: 1..%u MB/s", BUS_MBPS_MAX);
		o->bus_mbps = (unsigned)v;
		break;
	case OPT_RAM_CAP:
		if (util_parse_size(a, &o->ram_cap) < 0 || o->ram_cap < (1u << 20) ||
		    o->ram_cap > (4ull << 30))
			return opts_err(err, el, "--ram-cap: 1M..4G");
		break;
	default:
		return 1;
	}
	return 0;
}

/* index of the NUL- or ':'-terminated word at S in NAMES[FIRST..N), or -1 */
static int opts_word(const char *s, const char *const *names, int first, int n)
{
	size_t len = strcspn(s, ":");

	for (int i = first; i < n; i++)
		if (strlen(names[i]) == len && !strncmp(s, names[i], len))
			return i;
	return -1;
}

/* --unplug-at WHEN:WHERE:N */
static int opts_unplug(struct opts *o, const char *a)
{
	const char *p = a, *num;
	int when, where;
	uint64_t v;

	when = opts_word(p, opts_unplug_when_names, 0, _OPTS_UNPLUG_WHEN_MAX);
	p = strchr(p, ':');
	if (when < 0 || !p)
		return -EINVAL;
	where = opts_word(++p, opts_unplug_where_names, OPTS_UNPLUG_ROM, _OPTS_UNPLUG_WHERE_MAX);
	num = strchr(p, ':');
	if (where < 0 || !num || opts_num(num + 1, 1000000, &v) < 0 || !v)
		return -EINVAL;
	o->unplug_when = (enum opts_unplug_when)when;
	o->unplug_where = (enum opts_unplug_where)where;
	o->unplug_n = (unsigned)v;
	return 0;
}

/* --fault-* options with an argument; 1 when C is not one of them */
static int opts_faults(struct opts *o, int c, const char *a, char *err, size_t el)
{
	uint64_t v;

	switch (c) {
	case OPT_F_BYTE:
		if (opts_num(a, UINT64_MAX, &o->fault_byte) < 0 || !o->fault_byte)
			return opts_err(err, el, "--fault-disconnect-at-byte: N > 0");
		break;
	case OPT_F_SDP_BYTE:
		if (opts_num(a, UINT64_MAX, &o->fault_sdp_byte) < 0 || !o->fault_sdp_byte)
			return opts_err(err, el, "--fault-disconnect-at-sdp-byte: N > 0");
		break;
	case OPT_F_CMD:
		if (opts_num(a, 1000000, &v) < 0 || !v)
			return opts_err(err, el, "--fault-disconnect-at-cmd: K >= 1");
		o->fault_cmd = (unsigned)v;
		break;
	case OPT_F_DISC:
	case OPT_F_HANG:
		if (opts_phase(a, c == OPT_F_DISC ? &o->fault_disconnect_in : &o->fault_hang_in) < 0)
			return opts_err(err, el, "--fault-*-in: rom, spl or fastboot");
		break;
	case OPT_F_GARBAGE:
		if (opts_phase(a, &o->fault_garbage) < 0)
			return opts_err(err, el, "--fault-garbage: rom, spl or fastboot");
		break;
	case OPT_F_BITFLIP:
		if (opts_num(a, UINT64_MAX, &o->fault_bitflip_off) < 0)
			return opts_err(err, el, "--fault-emmc-bitflip: a byte offset");
		o->fault_bitflip = true;
		break;
	case OPT_F_STALL:
		if (!strcmp(a, "ep0"))
			o->fault_stall = OPTS_STALL_EP0;
		else if (!strcmp(a, "in"))
			o->fault_stall = OPTS_STALL_IN;
		else if (!strcmp(a, "out"))
			o->fault_stall = OPTS_STALL_OUT;
		else
			return opts_err(err, el, "--fault-stall: ep0, in or out");
		break;
	case OPT_F_FAIL:
		o->fault_fail = a;
		break;
	case OPT_F_DELAY:
		if (opts_num(a, 3600000, &v) < 0)
			return opts_err(err, el, "--fault-delay-reply: milliseconds");
		o->fault_delay_reply_ms = (unsigned)v;
		break;
	case OPT_UNPLUG:
		if (opts_unplug(o, a) < 0)
			return opts_err(err, el, "--unplug-at: before|middle|after:rom|spl|fb|reenum:N (N >= 1)");
		break;
	case OPT_REPLUG:
		if (opts_num(a, 600000, &v) < 0)
			return opts_err(err, el, "--replug-after: milliseconds");
		o->replug_ms = (unsigned)v;
		break;
	default:
		return 1;
	}
	return 0;
}

/* one option with an argument; -EINVAL with ERR set */
static int opts_one(struct opts *o, int c, const char *a, bool *uid_set, char *err, size_t el)
{
	int r = opts_names(o, c, a, uid_set, err, el);

	if (r == 1)
		r = opts_numbers(o, c, a, err, el);
	if (r == 1)
		r = opts_faults(o, c, a, err, el);
	if (r == 1)
		r = opts_uboot_opts(o, c, a, err, el);
	if (r == 1)
		return opts_err(err, el, "unknown option");
	return r;
}

int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
	bool uid_set = false;
	int c;

	opts_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts_long, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			opts_usage(stdout);
			return 1;
		case OPT_HAB: o->hab_closed = true; break;
		case OPT_OFFSET: o->offset_names = true; break;
		case OPT_RUNTIME: o->runtime_gadget = true; break;
		case OPT_NO_DRAM: o->dram_check = false; break;
		case OPT_F_BAD: o->fault_bad_status = true; break;
		case OPT_F_NOREENUM: o->fault_no_reenum = true; break;
		case OPT_NO_VERIFY: o->uboot_no_verify = true; break;
		case '?':
			return opts_err(err, errlen, "unknown option or missing argument: %s",
					argv[optind - 1]);
		default:
			if (opts_one(o, c, optarg, &uid_set, err, errlen) < 0)
				return -EINVAL;
			break;
		}
	}
	if (optind < argc)
		return opts_err(err, errlen, "unexpected argument: %s", argv[optind]);
	if (!o->udc || !o->name || !o->log || !o->emmc)
		return opts_err(err, errlen, "--udc, --name, --log and --emmc are required");
	if (!uid_set)
		o->uid = opts_default_uid(o->name);
	if (!o->bus_group != !o->bus_mbps)
		return opts_err(err, errlen, "--bus-group and --bus-mbps go together");
	if (o->fault_bitflip && o->fault_bitflip_off >= o->emmc_size)
		return opts_err(err, errlen, "--fault-emmc-bitflip: offset past the user area (%llu bytes)",
				(unsigned long long)o->emmc_size);
	/* CONFIG_SDP_LOADADDR: u-boot.img's header right below CONFIG_TEXT_BASE
	 * (0x17800000 on the i.MX6Q/DL SPL boards, 0x87800000 on UL/ULL/SL/SX), as
	 * configs/imx6ulz_smm_m2.config (0x877fffc0) and dh_imx6.config set it */
	if (o->sdp_loadaddr == UINT32_MAX)
		o->sdp_loadaddr = o->soc->dram_start == 0x10000000u ? 0x177fffc0u : 0x877fffc0u;
	/* CONFIG_FASTBOOT_UUU_SUPPORT: default n in mainline drivers/fastboot/Kconfig;
	 * uboot-imx and the flashd build have it */
	if (o->uuu_support < 0)
		o->uuu_support = o->uboot != OPTS_UBOOT_MAINLINE;
	return 0;
}
