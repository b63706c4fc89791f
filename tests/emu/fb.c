/* fb: see fb.h */
#include "fb.h"

#include "fbmmc.h"
#include "ucmd.h"
#include "util.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FB_VERSION "0.4"

enum fb_state { FB_STATE_COMMAND, FB_STATE_DATA };

struct fb {
	struct fb_cfg cfg;
	struct uboot *u;
	uint8_t *buf;
	size_t buf_size;      /* max_download + one packet of slack */
	enum fb_state state;
	uint32_t expected, received, image_size;
	uint64_t dl_t0;
	unsigned ncmd;
	char acmd[FB_ACMD_MAX + 1];
};

int fb_new(const struct fb_cfg *cfg, struct uboot *u, struct fb **out)
{
	struct fb *fb;

	if (!cfg || !u || !cfg->max_download)
		return -EINVAL;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->cfg = *cfg;
	fb->u = u;
	/* RAM is only committed where the host's data lands */
	fb->buf_size = (size_t)cfg->max_download + FB_MAX_PACKET;
	fb->buf = mmap(NULL, fb->buf_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fb->buf == MAP_FAILED) {
		free(fb);
		return -ENOMEM;
	}
	/* the buffer is U-Boot's RAM at CONFIG_FASTBOOT_BUF_ADDR */
	if (uboot_set_dlbuf(u, fb->buf, cfg->max_download) < 0) {
		munmap(fb->buf, fb->buf_size);
		free(fb);
		return -ENOMEM;
	}
	*out = fb;
	return 0;
}

struct fb *fb_free(struct fb *fb)
{
	if (!fb)
		return NULL;
	(void)uboot_set_dlbuf(fb->u, NULL, 0);
	munmap(fb->buf, fb->buf_size);
	free(fb);
	return NULL;
}

void fb_usb_reset(struct fb *fb)
{
	fb->state = FB_STATE_COMMAND;
	fb->expected = fb->received = 0;
}

bool fb_downloading(const struct fb *fb)
{
	return fb->state == FB_STATE_DATA;
}

uint32_t fb_remaining(const struct fb *fb)
{
	return fb->state == FB_STATE_DATA ? fb->expected - fb->received : 0;
}

uint8_t *fb_buffer(const struct fb *fb)
{
	return fb->buf;
}

size_t fb_buffer_size(const struct fb *fb)
{
	return fb->buf_size;
}

uint32_t fb_received(const struct fb *fb)
{
	return fb->received;
}

unsigned fb_command_count(const struct fb *fb)
{
	return fb->ncmd;
}

static char *fb_next(struct fb_out *out)
{
	if (out->n >= FB_OUT_MAX)
		return out->resp[FB_OUT_MAX - 1];
	return out->resp[out->n++];
}

/* ---- getvar (fb_getvar.c) ---- */

typedef void (*fb_var_fn)(struct fb *fb, const char *param, char *resp);

static void fb_var_version(struct fb *fb, const char *p, char *resp)
{
	(void)fb;
	(void)p;
	fbresp_okay(resp, FB_VERSION);
}

static void fb_var_bootloader(struct fb *fb, const char *p, char *resp)
{
	(void)fb;
	(void)p;
	fbresp_okay(resp, UBOOT_VERSION);
}

static void fb_var_downloadsize(struct fb *fb, const char *p, char *resp)
{
	(void)p;
	fbresp_set(resp, "OKAY", "0x%08x", fb->cfg.max_download);
}

static void fb_var_env(struct fb *fb, const char *name, const char *fail, char *resp)
{
	const char *v = env_get(fb->u->env, name);

	if (v)
		fbresp_okay(resp, v);
	else
		fbresp_fail(resp, fail);
}

static void fb_var_serialno(struct fb *fb, const char *p, char *resp)
{
	(void)p;
	if (fb->u->cfg.flavour == UBOOT_NXP) {
		/* uboot-imx fb_fsl_getvar.c get_serial(): "%08x%08x" of
		 * serialnr.high (OCOTP CFG1), serialnr.low (CFG0) */
		fbresp_set(resp, "OKAY", "%08x%08x", (uint32_t)(fb->u->cfg.uid >> 32),
			   (uint32_t)fb->u->cfg.uid);
		return;
	}
	fb_var_env(fb, "serial#", "Value not set", resp);
}

static void fb_var_baseband(struct fb *fb, const char *p, char *resp)
{
	(void)fb;
	(void)p;
	fbresp_okay(resp, "N/A");
}

static void fb_var_product(struct fb *fb, const char *p, char *resp)
{
	(void)p;
	if (fb->u->cfg.flavour == UBOOT_NXP) {
		fbresp_okay(resp, "NXP i.MX"); /* fb_fsl_getvar.c PRODUCT_NAME */
		return;
	}
	fb_var_env(fb, "board", "Board not set", resp);
}

static void fb_var_platform(struct fb *fb, const char *p, char *resp)
{
	(void)p;
	fb_var_env(fb, "platform", "platform not set", resp);
}

static void fb_var_slot(struct fb *fb, const char *p, char *resp)
{
	(void)fb;
	(void)p;
	fbresp_okay(resp, "a");
}

static void fb_var_has_slot(struct fb *fb, const char *p, char *resp)
{
	struct part_info info;
	char slotted[FBRESP_LEN];

	if (!p || !*p || strlen(p) >= 32 - 3) {
		fbresp_fail(resp, "invalid partition name");
		return;
	}
	snprintf(slotted, sizeof(slotted), "%s_a", p);
	if (fbmmc_part_info(fb->u, slotted, &info, resp) >= 0) {
		fbresp_okay(resp, "yes");
		return;
	}
	if (fbmmc_part_info(fb->u, p, &info, resp) >= 0)
		fbresp_okay(resp, "no");
}

static void fb_var_part_type(struct fb *fb, const char *p, char *resp)
{
	struct part_info info;
	const char *fs;
	int r = fbmmc_part_info(fb->u, p, &info, resp);

	if (r < 0)
		return;
	fs = fbmmc_fs_type(fb->u, r, &info);
	if (fs)
		fbresp_okay(resp, fs);
	else
		fbresp_fail(resp, "failed to set partition");
}

static void fb_var_part_size(struct fb *fb, const char *p, char *resp)
{
	struct part_info info;

	if (fbmmc_part_info(fb->u, p, &info, resp) >= 0)
		fbresp_set(resp, "OKAY", "0x%016llx", (unsigned long long)info.size * EMMC_BLKSZ);
}

static void fb_var_userspace(struct fb *fb, const char *p, char *resp)
{
	(void)fb;
	(void)p;
	fbresp_okay(resp, "no");
}

static const struct {
	const char *name;
	fb_var_fn fn;
	bool list; /* shown by getvar all */
} fb_vars[] = {
	{ "version", fb_var_version, true },
	{ "version-bootloader", fb_var_bootloader, true },
	{ "downloadsize", fb_var_downloadsize, true },
	{ "max-download-size", fb_var_downloadsize, true },
	{ "serialno", fb_var_serialno, true },
	{ "version-baseband", fb_var_baseband, true },
	{ "product", fb_var_product, true },
	{ "platform", fb_var_platform, true },
	{ "current-slot", fb_var_slot, true },
	{ "has-slot", fb_var_has_slot, false },
	{ "partition-type", fb_var_part_type, false },
	{ "partition-size", fb_var_part_size, false },
	{ "is-userspace", fb_var_userspace, true },
};

static void fb_getvar_all(struct fb *fb, struct fb_out *out)
{
	char r[FBRESP_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(fb_vars); i++) {
		const char *v = r;

		if (!fb_vars[i].list)
			continue;
		r[0] = '\0';
		fb_vars[i].fn(fb, NULL, r);
		if (!strncmp(r, "OKAY", 4) || !strncmp(r, "FAIL", 4))
			v = r + 4;
		fbresp_set(fb_next(out), "INFO", "%s: %s", fb_vars[i].name, v);
	}
	fbresp_okay(fb_next(out), NULL);
}

/* uboot-imx drivers/fastboot/fb_fsl/fb_fsl_getvar.c, where it differs from
 * mainline fb_getvar.c; false: not one of them */
static bool fb_getvar_nxp(struct fb *fb, const char *name, char *resp)
{
	if (!strcmp(name, "downloadsize") || !strcmp(name, "max-download-size"))
		fbresp_set(resp, "OKAY", "0x%x", fb->cfg.max_download);
	else if (!strcmp(name, "logical-block-size"))
		fbresp_set(resp, "OKAY", "0x%x", EMMC_BLKSZ);
	else if (!strcmp(name, "erase-block-size"))
		fbresp_set(resp, "OKAY", "0x%x", EMMC_ERASE_GRP_BLKS * EMMC_BLKSZ);
	else if (!strcmp(name, "battery-voltage"))
		fbresp_okay(resp, "0mV");
	else if (!strcmp(name, "battery-soc-ok"))
		fbresp_okay(resp, "yes");
	else if (!strcmp(name, "off-mode-charge"))
		fbresp_okay(resp, "1");
	else
		return false;
	return true;
}

static void fb_getvar(struct fb *fb, char *param, struct fb_out *out)
{
	char key[FBRESP_LEN], *name = param, *sub;
	const char *v;

	if (!param) {
		fbresp_fail(fb_next(out), "missing var");
		return;
	}
	if (!strcmp(param, "all")) {
		fb_getvar_all(fb, out);
		return;
	}
	snprintf(key, sizeof(key) - 1, "fastboot.%s", param);
	v = env_get(fb->u->env, key);
	if (v) {
		fbresp_set(fb_next(out), "OKAY", "%s", v);
		return;
	}
	sub = strchr(name, ':');
	if (sub)
		*sub++ = '\0';
	if (fb->u->cfg.flavour == UBOOT_NXP && fb_getvar_nxp(fb, name, key)) {
		memcpy(fb_next(out), key, FBRESP_LEN);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fb_vars); i++)
		if (!strcmp(fb_vars[i].name, name)) {
			fb_vars[i].fn(fb, sub, fb_next(out));
			return;
		}
	fbresp_fail(fb_next(out), "Variable not implemented");
}

/* ---- commands (fb_command.c) ---- */

/* the CPU figures of a download's start and end: what the benchmarks need to tell a
 * host tool's cost per byte from the link's (tests/bench, P1) */
static void fb_log_cpu(struct log_ev *e)
{
	struct util_cpu c;

	if (util_cpu_sample(&c) == 0) {
		log_u64(e, "cpu_busy", c.busy_ticks);
		log_u64(e, "cpu_idle", c.idle_ticks);
	}
	log_u64(e, "self_cpu_us", c.self_ns / 1000u);
}

static void fb_cmd_download(struct fb *fb, char *param, struct fb_out *out)
{
	if (!param) {
		fbresp_fail(fb_next(out), "Expected command parameter");
		return;
	}
	fb->received = 0;
	fb->expected = (uint32_t)util_strtoul_uboot(param, NULL, 16);
	if (fb->expected == 0) {
		fbresp_fail(fb_next(out), "Expected nonzero image size");
		return;
	}
	if (fb->expected > fb->cfg.max_download) {
		fbresp_fail(fb_next(out), param);
		return;
	}
	fbresp_set(fb_next(out), "DATA", "%s", param);
	fb->state = FB_STATE_DATA;
	uboot_dl_start(fb->u); /* the data lands in RAM at CONFIG_FASTBOOT_BUF_ADDR */
	fb->dl_t0 = util_now_ns();
	{
		struct log_ev e;

		log_begin(&e, fb->u->log, "download");
		log_u64(&e, "size", fb->expected);
		fb_log_cpu(&e);
		log_end(&e);
	}
}

static void fb_cmd_flash(struct fb *fb, char *param, struct fb_out *out)
{
	fbmmc_flash(fb->u, param, fb->buf, fb->buf_size, fb->image_size, fb_next(out));
}

static void fb_cmd_erase(struct fb *fb, char *param, struct fb_out *out)
{
	fbmmc_erase(fb->u, param, fb_next(out));
}

static void fb_cmd_getvar(struct fb *fb, char *param, struct fb_out *out)
{
	fb_getvar(fb, param, out);
}

static void fb_cmd_okay(struct fb *fb, char *param, struct fb_out *out)
{
	(void)fb;
	(void)param;
	fbresp_okay(fb_next(out), NULL);
}

static void fb_cmd_boot(struct fb *fb, char *param, struct fb_out *out)
{
	fb_cmd_okay(fb, param, out);
	out->after = FB_AFTER_BOOT;
}

static void fb_cmd_continue(struct fb *fb, char *param, struct fb_out *out)
{
	fb_cmd_okay(fb, param, out);
	out->after = FB_AFTER_CONTINUE;
}

static void fb_cmd_reboot(struct fb *fb, char *param, struct fb_out *out)
{
	fb_cmd_okay(fb, param, out);
	out->after = FB_AFTER_RESET;
}

/* fastboot_set_reboot_flag() is not implemented for i.MX6 (no "misc" BCB) */
static void fb_cmd_reboot_bl(struct fb *fb, char *param, struct fb_out *out)
{
	(void)fb;
	(void)param;
	fbresp_fail(fb_next(out), "Cannot set reboot flag");
}

static void fb_cmd_reboot_fb(struct fb *fb, char *param, struct fb_out *out)
{
	(void)fb;
	(void)param;
	fbresp_fail(fb_next(out), "Cannot set fastboot flag");
}

static void fb_cmd_reboot_rec(struct fb *fb, char *param, struct fb_out *out)
{
	(void)fb;
	(void)param;
	fbresp_fail(fb_next(out), "Cannot set recovery flag");
}

/* run_command() of a U-Boot command; a "reset" takes the board down at once */
static int fb_run(struct fb *fb, const char *cmd, struct fb_out *out)
{
	int rc = ucmd_run(fb->u, cmd);

	if (fb->u->reset)
		out->after = FB_AFTER_RESET_NOW;
	return rc;
}

static void fb_cmd_ucmd(struct fb *fb, char *param, struct fb_out *out)
{
	int rc;

	if (!param) {
		fbresp_fail(fb_next(out), "missing command");
		return;
	}
	rc = fb_run(fb, param, out);
	if (out->after == FB_AFTER_RESET_NOW)
		return; /* no reply: the board is resetting */
	if (rc)
		fbresp_fail(fb_next(out), "");
	else
		fbresp_okay(fb_next(out), NULL);
}

static void fb_cmd_acmd(struct fb *fb, char *param, struct fb_out *out)
{
	if (!param) {
		fbresp_fail(fb_next(out), "missing command");
		return;
	}
	if (strlen(param) >= FB_ACMD_MAX) {
		fbresp_fail(fb_next(out), "too long command");
		return;
	}
	snprintf(fb->acmd, sizeof(fb->acmd), "%s", param);
	fbresp_okay(fb_next(out), NULL);
	out->after = FB_AFTER_ACMD;
}

static void fb_cmd_oem_format(struct fb *fb, char *param, struct fb_out *out)
{
	char cmd[32];

	(void)param;
	if (!env_get(fb->u->env, "partitions")) {
		fbresp_fail(fb_next(out), "partitions not set");
		return;
	}
	snprintf(cmd, sizeof(cmd), "gpt write mmc %x $partitions", UBOOT_MMC_DEV);
	if (fb_run(fb, cmd, out))
		fbresp_fail(fb_next(out), "");
	else
		fbresp_okay(fb_next(out), NULL);
}

static void fb_cmd_oem_mmc(struct fb *fb, char *param, struct fb_out *out, const char *sub,
			   const char *suffix, const char *fail)
{
	char cmd[32];

	if (!param) {
		fbresp_fail(fb_next(out), "Expected command parameter");
		return;
	}
	/* cmdbuf[32] in U-Boot: long arguments are cut */
	snprintf(cmd, sizeof(cmd), "mmc %s %x %s%s", sub, UBOOT_MMC_DEV, param, suffix);
	if (fb_run(fb, cmd, out))
		fbresp_fail(fb_next(out), fail);
	else
		fbresp_okay(fb_next(out), NULL);
}

static void fb_cmd_oem_partconf(struct fb *fb, char *param, struct fb_out *out)
{
	fb_cmd_oem_mmc(fb, param, out, "partconf", " 0", "Cannot set oem partconf");
}

static void fb_cmd_oem_bootbus(struct fb *fb, char *param, struct fb_out *out)
{
	fb_cmd_oem_mmc(fb, param, out, "bootbus", "", "Cannot set oem bootbus");
}

static const struct {
	const char *name;
	void (*fn)(struct fb *fb, char *param, struct fb_out *out);
} fb_cmds[] = {
	{ "getvar", fb_cmd_getvar },
	{ "download", fb_cmd_download },
	{ "flash", fb_cmd_flash },
	{ "erase", fb_cmd_erase },
	{ "boot", fb_cmd_boot },
	{ "continue", fb_cmd_continue },
	{ "reboot", fb_cmd_reboot },
	{ "reboot-bootloader", fb_cmd_reboot_bl },
	{ "reboot-fastboot", fb_cmd_reboot_fb },
	{ "reboot-recovery", fb_cmd_reboot_rec },
	{ "set_active", fb_cmd_okay },
	{ "oem format", fb_cmd_oem_format },
	{ "oem partconf", fb_cmd_oem_partconf },
	{ "oem bootbus", fb_cmd_oem_bootbus },
	{ "oem run", fb_cmd_ucmd },
	{ "UCmd", fb_cmd_ucmd },
	{ "ACmd", fb_cmd_acmd },
};

/* mainline fb_command.c: UCmd/ACmd need CONFIG_FASTBOOT_UUU_SUPPORT, "oem run"
 * CONFIG_FASTBOOT_OEM_RUN (default n; the flashd and nxp builds have it) */
static bool fb_cmd_built(const struct fb *fb, const char *cmd)
{
	if (!strcmp(cmd, "UCmd") || !strcmp(cmd, "ACmd"))
		return !fb->u->cfg.no_uuu;
	if (!strcmp(cmd, "oem run"))
		return fb->u->cfg.flavour != UBOOT_MAINLINE;
	return true;
}

static void fb_log_cmd(struct fb *fb, const uint8_t *buf, size_t len)
{
	struct log_ev e;

	log_begin(&e, fb->u->log, "fb-cmd");
	log_u64(&e, "n", fb->ncmd);
	log_strn(&e, "cmd", (const char *)buf, len > 256 ? 256 : len);
	log_u64(&e, "len", len);
	log_end(&e);
}

void fb_command(struct fb *fb, const uint8_t *buf, size_t len, struct fb_out *out)
{
	char cmd[FB_EP_BUFFER], *param;

	out->n = 0;
	out->after = FB_AFTER_NONE;
	fb->ncmd++;
	fb_log_cmd(fb, buf, len);
	if (len >= FB_EP_BUFFER) {
		fbresp_fail(fb_next(out), "buffer overflow");
		return;
	}
	memcpy(cmd, buf, len);
	cmd[len] = '\0';
	if (fb->cfg.fault_fail && !fnmatch(fb->cfg.fault_fail, cmd, 0)) {
		log_simple_str(fb->u->log, "fault", "fault", "fail");
		fbresp_fail(fb_next(out), "injected fault");
		return;
	}
	param = strchr(cmd, ':');
	if (param)
		*param++ = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(fb_cmds); i++)
		if (!strcmp(fb_cmds[i].name, cmd)) {
			if (!fb_cmd_built(fb, cmd)) {
				/* in the table with a NULL dispatch (fb_command.c) */
				fbresp_fail(fb_next(out), "Unsupported command");
				return;
			}
			fb_cmds[i].fn(fb, param, out);
			return;
		}
	fbresp_fail(fb_next(out), "unrecognized command");
}

void fb_data(struct fb *fb, size_t at, size_t actual, struct fb_out *out)
{
	uint32_t rem = fb->expected - fb->received;
	size_t use = actual < rem ? actual : rem;
	struct log_ev e;

	out->n = 0;
	out->after = FB_AFTER_NONE;
	if (fb->state != FB_STATE_DATA)
		return;
	if (actual == 0) {
		fbresp_fail(fb_next(out), "Received invalid data length");
		return;
	}
	if (at != fb->received && at < fb->buf_size && fb->received + use <= fb->buf_size)
		memmove(fb->buf + fb->received, fb->buf + at, use);
	fb->received += (uint32_t)use;
	if (fb->received < fb->expected)
		return;
	fbresp_okay(fb_next(out), NULL);
	fb->image_size = fb->received;
	fb->state = FB_STATE_COMMAND;
	{
		char hex[16];

		snprintf(hex, sizeof(hex), "%x", fb->image_size);
		env_set_force(fb->u->env, "filesize", hex);
	}
	log_begin(&e, fb->u->log, "download-done");
	log_u64(&e, "bytes", fb->received);
	log_u64(&e, "ms", (util_now_ns() - fb->dl_t0) / 1000000u);
	fb_log_cpu(&e);
	log_end(&e);
}

void fb_run_acmd(struct fb *fb)
{
	if (fb->acmd[0])
		(void)ucmd_run(fb->u, fb->acmd);
	fb->acmd[0] = '\0';
}
