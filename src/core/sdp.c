/* sdp: i.MX Serial Download Protocol over HID, host side, without I/O.
 * Command blocks are big-endian, status words little-endian
 * (protocols.md §2). One machine runs a list of commands: the upload's
 * fixed sequence uid → dcd → write (chunks) → skip-dcd → jump, or the
 * commands a plan spells out one step at a time; each command block is
 * report 1, optional report-2 data, then report 3 and report 4. */
#include "flashd/sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

#define SDP_ID_CMD 1u
#define SDP_ID_DATA 2u
#define SDP_ID_HAB 3u
#define SDP_ID_STATUS 4u
#define SDP_UID_FORMAT 0x20u
#define SDP_UID_COUNT 4u
#define SDP_ADDR_SPACE 0x100000000ull

static void sdp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t sdp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void sdp_encode_cmd(uint8_t out[SDP_REPORT1_LEN], enum sdp_cmd cmd, uint32_t addr,
		    uint8_t format, uint32_t count, uint32_t data)
{
	out[0] = SDP_ID_CMD;
	out[1] = (uint8_t)((unsigned)cmd >> 8);
	out[2] = (uint8_t)cmd;
	sdp_put_be32(out + 3, addr);
	out[7] = format;
	sdp_put_be32(out + 8, count);
	sdp_put_be32(out + 12, data);
	out[16] = 0;
}

void sdp_encode_data(uint8_t out[SDP_REPORT2_LEN], const uint8_t *data, size_t len)
{
	if (len > SDP_DATA_PER_REPORT)
		len = SDP_DATA_PER_REPORT;
	out[0] = SDP_ID_DATA;
	if (len)
		memcpy(out + 1, data, len);
	memset(out + 1 + len, 0, SDP_DATA_PER_REPORT - len);
}

int sdp_decode_hab(const uint8_t *buf, size_t len, uint32_t *hab)
{
	if (!buf || !hab)
		return -EINVAL;
	if (len < SDP_REPORT3_LEN || len > SDP_REPORT4_LEN || buf[0] != SDP_ID_HAB)
		return -EBADMSG;
	*hab = sdp_le32(buf + 1);
	return 0;
}

int sdp_decode_status(const uint8_t *buf, size_t len, uint32_t *status)
{
	if (!buf || !status)
		return -EINVAL;
	if (len < SDP_REPORT3_LEN || len > SDP_REPORT4_LEN || buf[0] != SDP_ID_STATUS)
		return -EBADMSG;
	*status = sdp_le32(buf + 1);
	return 0;
}

struct sdp_name {
	uint32_t value;
	const char *name;
};

static const char *sdp_name_lookup(const struct sdp_name *t, size_t n, uint32_t value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

#define SDP_LOOKUP(table, v) sdp_name_lookup(table, ELEMENTSOF(table), v)

static const struct sdp_name sdp_status_names[] = {
	{ SDP_HAB_CLOSED, "hab-closed" },   { SDP_HAB_OPEN, "hab-open" },
	{ SDP_WRITE_FILE_OK, "write-file-ok" }, { SDP_WRITE_OK, "write-ok" },
	{ SDP_SKIP_DCD_OK, "skip-dcd-ok" }, { SDP_STATUS_IDLE, "idle" },
};

const char *sdp_status_to_string(uint32_t status)
{
	return SDP_LOOKUP(sdp_status_names, status);
}

/* HAB event fields (HAB4 API, as in U-Boot's hab.h, snagboot, SPSDK) */
static const struct sdp_name sdp_hab_status_names[] = {
	{ 0x00, "any" }, { 0x33, "HAB failure" }, { 0x69, "HAB warning" }, { 0xF0, "HAB success" },
};

static const struct sdp_name sdp_hab_reason_names[] = {
	{ 0x00, "any" }, { 0x03, "unsupported command" }, { 0x05, "invalid IVT" },
	{ 0x06, "invalid command" }, { 0x09, "unsuitable state" }, { 0x0A, "unsupported engine" },
	{ 0x0C, "invalid assertion" }, { 0x0F, "invalid index" }, { 0x11, "invalid CSF" },
	{ 0x12, "unsupported algorithm" }, { 0x14, "unsupported protocol" },
	{ 0x17, "invalid data size" }, { 0x18, "invalid signature" },
	{ 0x1B, "unsupported key type" }, { 0x1D, "invalid key" },
	{ 0x1E, "failed callback function" }, { 0x21, "invalid certificate" },
	{ 0x22, "invalid address" }, { 0x24, "unsupported configuration item" },
	{ 0x27, "invalid DCD" }, { 0x28, "function called out of sequence" },
	{ 0x2B, "expired poll count" }, { 0x2D, "exhausted storage region" },
	{ 0x2E, "memory failure" }, { 0x30, "engine failure" },
};

static const struct sdp_name sdp_hab_context_names[] = {
	{ 0x00, "any" },    { 0x0A, "authenticate" }, { 0x33, "target" },  { 0xA0, "assert" },
	{ 0xC0, "command" }, { 0xCF, "CSF" },          { 0xDB, "auth data" }, { 0xDD, "DCD" },
	{ 0xE1, "entry" },  { 0xEE, "exit" },         { 0xFF, "fab test" },
};

static const struct sdp_name sdp_hab_engine_names[] = {
	{ 0x00, "any" },  { 0x03, "SCC" },  { 0x05, "RTIC" },  { 0x06, "SAHARA" }, { 0x0A, "CSU" },
	{ 0x0C, "SRTC" }, { 0x1B, "DCP" },  { 0x1D, "CAAM" },  { 0x1E, "SNVS" },   { 0x21, "OCOTP" },
	{ 0x22, "DTCP" }, { 0x24, "HDCP" }, { 0x36, "ROM" },   { 0xFF, "SW" },
};

static int sdp_append_field(char *buf, size_t size, size_t at, const char *label,
			    const char *name, unsigned value)
{
	if (at >= size)
		return 0;
	if (name)
		return snprintf(buf + at, size - at, "%s%s%s", at ? ", " : "", label, name);
	return snprintf(buf + at, size - at, "%s%s0x%02x", at ? ", " : "", label, value);
}

const char *sdp_hab_event_to_string(uint32_t word, char *buf, size_t size)
{
	uint8_t sts = (uint8_t)word, rsn = (uint8_t)(word >> 8);
	uint8_t ctx = (uint8_t)(word >> 16), eng = (uint8_t)(word >> 24);
	size_t at = 0;

	if (!buf || !size)
		return NULL;
	buf[0] = 0;
	at += (size_t)sdp_append_field(buf, size, at, "status ", SDP_LOOKUP(sdp_hab_status_names, sts), sts);
	at += (size_t)sdp_append_field(buf, size, at, "reason ", SDP_LOOKUP(sdp_hab_reason_names, rsn), rsn);
	at += (size_t)sdp_append_field(buf, size, at, "context ", SDP_LOOKUP(sdp_hab_context_names, ctx), ctx);
	sdp_append_field(buf, size, at, "engine ", SDP_LOOKUP(sdp_hab_engine_names, eng), eng);
	return buf;
}

/* ROM profiles: protocols.md §1.1 (IDs) and §1.4 (uuu rominfo: DCD address,
 * SKIP_DCD). 0x0054 is 6Quad and 6Dual; 0x0061 is 6DualLite and 6Solo. */
static const struct sdp_soc sdp_socs[] = {
	{ "MX6Q", 0x15a2, 0x0054, false, SDP_DCD_ADDR_MX6 },
	{ "MX6DL", 0x15a2, 0x0061, false, SDP_DCD_ADDR_MX6 },
	{ "MX6SL", 0x15a2, 0x0063, false, SDP_DCD_ADDR_MX6 },
	{ "MX6SX", 0x15a2, 0x0071, false, SDP_DCD_ADDR_MX6 },
	{ "MX6UL", 0x15a2, 0x007d, true, SDP_DCD_ADDR_MX6 },
	{ "MX6ULL", 0x15a2, 0x0080, true, SDP_DCD_ADDR_MX6 },
	{ "MX6SLL", 0x1fc9, 0x0128, true, SDP_DCD_ADDR_MX6 },
	{ "MX7D", 0x15a2, 0x0076, true, SDP_DCD_ADDR_MX7D },
};

const struct sdp_soc *sdp_soc_lookup(uint16_t vid, uint16_t pid)
{
	for (size_t i = 0; i < ELEMENTSOF(sdp_socs); i++)
		if (sdp_socs[i].vid == vid && sdp_socs[i].pid == pid)
			return &sdp_socs[i];
	return NULL;
}

/* uuu's libuuu/config.cpp: SPL gadgets by VID:PID and bcdDevice range */
static const struct {
	uint16_t vid, pid, bcd_min, bcd_max;
	enum sdp_spl_kind kind;
} sdp_spls[] = {
	{ 0x0525, 0xb4a4, 0x0000, 0x04ff, SDP_SPL_SDPU },
	{ 0x0525, 0xb4a4, 0x0500, 0x9998, SDP_SPL_SDPV },
	{ 0x1fc9, 0x0151, 0x0500, 0x9998, SDP_SPL_SDPV },
	{ 0x0525, 0xb4a4, 0x9999, 0x9999, SDP_SPL_SDPU }, /* old i.MX8MQ SPL */
	{ 0x3016, 0x1001, 0x0000, 0x04ff, SDP_SPL_SDPU },
	{ 0x3016, 0x1001, 0x0500, 0x9998, SDP_SPL_SDPV },
};

enum sdp_spl_kind sdp_spl_lookup(uint16_t vid, uint16_t pid, uint16_t bcd)
{
	for (size_t i = 0; i < ELEMENTSOF(sdp_spls); i++)
		if (sdp_spls[i].vid == vid && sdp_spls[i].pid == pid &&
		    bcd >= sdp_spls[i].bcd_min && bcd <= sdp_spls[i].bcd_max)
			return sdp_spls[i].kind;
	return SDP_SPL_NONE;
}

/* ---- the command machine ---- */

enum sdp_phase {
	SDP_PHASE_CMD,    /* send report 1 */
	SDP_PHASE_DATA,   /* send report 2s */
	SDP_PHASE_HAB,    /* receive report 3 */
	SDP_PHASE_STATUS, /* receive report 4 */
};

static const char *const sdp_phase_names[] = {
	[SDP_PHASE_CMD] = "sending report 1",
	[SDP_PHASE_DATA] = "sending report 2",
	[SDP_PHASE_HAB] = "waiting for report 3",
	[SDP_PHASE_STATUS] = "waiting for report 4",
};

struct sdp_upload {
	struct sdp_command cmds[SDP_COMMANDS_MAX];
	size_t ncmds;
	size_t icmd;           /* the command in progress; ncmds: done */
	uint32_t max_chunk;    /* WRITE_FILE bytes per command block */
	enum sdp_phase phase;
	int err;               /* < 0 once the machine failed */
	/* the command block in progress (a WRITE_FILE is split into chunks) */
	uint32_t chunk_off;    /* data bytes of the command before this chunk */
	uint32_t chunk_len;    /* data bytes of this chunk */
	uint32_t data_sent;
	/* results */
	unsigned uid_mask;     /* bit 0: CFG0 read, bit 1: CFG1 read */
	uint32_t uid[2];
	bool have_word;
	uint32_t word;         /* report 4 of the last READ_REGISTER/ERROR_STATUS */
	bool hab_closed;
	uint64_t bytes_done;
	uint64_t bytes_total;
	/* boot: the block holding the IVT, with dcd = 0, sent instead of the
	 * file's (offsets into the WRITE_FILE data) */
	bool patch_header;
	size_t hdr_off;
	size_t hdr_len;
	uint8_t hdr[IMX_HEADER_BLOCK];
	uint8_t report[SDP_REPORT2_LEN];
	char error[256];
};

const char *sdp_cmd_to_string(enum sdp_cmd cmd)
{
	switch (cmd) {
	case SDP_READ_REGISTER:
		return "READ_REGISTER";
	case SDP_WRITE_REGISTER:
		return "WRITE_REGISTER";
	case SDP_WRITE_FILE:
		return "WRITE_FILE";
	case SDP_ERROR_STATUS:
		return "ERROR_STATUS";
	case SDP_DCD_WRITE:
		return "DCD_WRITE";
	case SDP_JUMP_ADDRESS:
		return "JUMP_ADDRESS";
	case SDP_SKIP_DCD_HEADER:
		return "SKIP_DCD_HEADER";
	}
	return NULL;
}

/* The step a command is, for sdp_upload_step(). */
static const char *sdp_cmd_step(enum sdp_cmd cmd)
{
	switch (cmd) {
	case SDP_READ_REGISTER:
		return "uid";
	case SDP_DCD_WRITE:
		return "dcd";
	case SDP_WRITE_FILE:
		return "write";
	case SDP_SKIP_DCD_HEADER:
		return "skip-dcd";
	case SDP_JUMP_ADDRESS:
		return "jump";
	case SDP_ERROR_STATUS:
		return "status";
	case SDP_WRITE_REGISTER:
		break;
	}
	return "?";
}

/* The report-4 word that acknowledges cmd; 0: any word is an answer. */
static uint32_t sdp_cmd_expect(enum sdp_cmd cmd)
{
	switch (cmd) {
	case SDP_WRITE_FILE:
		return SDP_WRITE_FILE_OK;
	case SDP_DCD_WRITE:
	case SDP_WRITE_REGISTER:
		return SDP_WRITE_OK;
	case SDP_SKIP_DCD_HEADER:
		return SDP_SKIP_DCD_OK;
	case SDP_READ_REGISTER:
	case SDP_ERROR_STATUS:
	case SDP_JUMP_ADDRESS:
		break;
	}
	return 0;
}

static const struct sdp_command *sdp_current(const struct sdp_upload *u)
{
	return &u->cmds[u->icmd];
}

/* The address in the current command block. */
static uint32_t sdp_block_addr(const struct sdp_upload *u)
{
	return sdp_current(u)->addr + u->chunk_off;
}

__attribute__((format(printf, 3, 4)))
static int sdp_fail(struct sdp_upload *u, int err, const char *fmt, ...)
{
	enum sdp_cmd cmd = sdp_current(u)->cmd;
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (cmd == SDP_SKIP_DCD_HEADER || cmd == SDP_ERROR_STATUS)
		snprintf(u->error, sizeof(u->error), "%s: %s", sdp_cmd_to_string(cmd), what);
	else
		snprintf(u->error, sizeof(u->error), "%s at 0x%08x: %s", sdp_cmd_to_string(cmd),
			 sdp_block_addr(u), what);
	u->err = err;
	return err;
}

/* Start the command block at chunk_off of the current command. */
static void sdp_begin(struct sdp_upload *u)
{
	const struct sdp_command *c = sdp_current(u);
	uint32_t left = c->count - u->chunk_off;

	u->phase = SDP_PHASE_CMD;
	u->data_sent = 0;
	if (c->cmd == SDP_WRITE_FILE)
		u->chunk_len = left < u->max_chunk ? left : u->max_chunk;
	else
		u->chunk_len = c->cmd == SDP_DCD_WRITE ? c->count : 0;
}

/* The command block in progress got its final reply. */
static void sdp_block_done(struct sdp_upload *u)
{
	if (sdp_current(u)->cmd == SDP_WRITE_FILE) {
		u->bytes_done += u->chunk_len;
		u->chunk_off += u->chunk_len;
		if (u->chunk_off < sdp_current(u)->count) {
			sdp_begin(u);
			return;
		}
	}
	u->chunk_off = 0;
	if (++u->icmd < u->ncmds)
		sdp_begin(u);
}

static int sdp_check_command(const struct sdp_command *c, bool last)
{
	switch (c->cmd) {
	case SDP_WRITE_FILE:
		if (!c->data || !c->count || (uint64_t)c->addr + c->count > SDP_ADDR_SPACE)
			return -EINVAL;
		return 0;
	case SDP_DCD_WRITE:
		return c->data && c->count && c->count <= IMX_DCD_MAX ? 0 : -EINVAL;
	case SDP_JUMP_ADDRESS:
		return last ? 0 : -EINVAL;
	case SDP_READ_REGISTER:
	case SDP_ERROR_STATUS:
	case SDP_SKIP_DCD_HEADER:
		return 0;
	case SDP_WRITE_REGISTER:
		break;
	}
	return -EINVAL;
}

static int sdp_machine_new(const struct sdp_command *cmds, size_t n, uint32_t max_chunk,
			   struct sdp_upload **out)
{
	struct sdp_upload *u;

	if (!cmds || !n || n > SDP_COMMANDS_MAX || !out)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (sdp_check_command(&cmds[i], i + 1 == n) < 0)
			return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	memcpy(u->cmds, cmds, n * sizeof(*cmds));
	u->ncmds = n;
	u->max_chunk = max_chunk;
	for (size_t i = 0; i < n; i++)
		if (cmds[i].cmd == SDP_WRITE_FILE)
			u->bytes_total += cmds[i].count;
	sdp_begin(u);
	*out = u;
	return 0;
}

int sdp_upload_new_commands(const struct sdp_command *cmds, size_t n, struct sdp_upload **out)
{
	return sdp_machine_new(cmds, n, SDP_MAX_WRITE_CHUNK, out);
}

int sdp_upload_new_spl(const struct sdp_command *cmds, size_t n, struct sdp_upload **out)
{
	for (size_t i = 0; cmds && i < n; i++)
		if (cmds[i].cmd == SDP_DCD_WRITE || cmds[i].cmd == SDP_SKIP_DCD_HEADER ||
		    cmds[i].cmd == SDP_WRITE_REGISTER)
			return -EINVAL;
	return sdp_machine_new(cmds, n, UINT32_MAX, out);
}

static int sdp_check_opts(const uint8_t *img, size_t len, const struct imx_image *info,
			  const struct sdp_upload_opts *opts)
{
	if (!img || !info || !opts)
		return -EINVAL;
	if (info->file_size != len || !info->upload_size || info->upload_size > len)
		return -EINVAL;
	if ((uint64_t)info->load_addr + info->upload_size > SDP_ADDR_SPACE)
		return -EINVAL;
	if ((size_t)info->ivt_offset + IMX_IVT_SIZE > info->upload_size)
		return -EINVAL;
	if (info->dcd_size > IMX_DCD_MAX || info->dcd_offset > len ||
	    len - info->dcd_offset < info->dcd_size)
		return -EINVAL;
	if (info->plugin & 1u) /* the ROM returns to SDP after a plugin: not supported */
		return -EINVAL;
	if (opts->max_chunk > SDP_MAX_WRITE_CHUNK || opts->max_chunk % SDP_DATA_PER_REPORT)
		return -EINVAL;
	return 0;
}

/* The boot sequence: [uid] → [dcd] → write → [skip-dcd] → [jump]. */
static size_t sdp_boot_commands(const uint8_t *img, const struct imx_image *info,
				const struct sdp_upload_opts *opts, struct sdp_command *c)
{
	size_t n = 0;

	if (opts->read_uid) {
		c[n++] = (struct sdp_command){ SDP_READ_REGISTER, SDP_OCOTP_CFG0, NULL, 0 };
		c[n++] = (struct sdp_command){ SDP_READ_REGISTER, SDP_OCOTP_CFG1, NULL, 0 };
	}
	if (info->dcd_size)
		c[n++] = (struct sdp_command){ SDP_DCD_WRITE,
					       opts->dcd_addr ? opts->dcd_addr : SDP_DCD_ADDR_MX6,
					       img + info->dcd_offset, (uint32_t)info->dcd_size };
	c[n++] = (struct sdp_command){ SDP_WRITE_FILE, info->load_addr, img,
				       (uint32_t)info->upload_size };
	if (opts->jump && opts->skip_dcd && info->dcd_size)
		c[n++] = (struct sdp_command){ SDP_SKIP_DCD_HEADER, 0, NULL, 0 };
	if (opts->jump)
		c[n++] = (struct sdp_command){ SDP_JUMP_ADDRESS, info->self, NULL, 0 };
	return n;
}

int sdp_upload_new(const uint8_t *img, size_t len, const struct imx_image *info,
		   const struct sdp_upload_opts *opts, struct sdp_upload **out)
{
	struct sdp_command cmds[SDP_COMMANDS_MAX];
	struct sdp_upload *u;
	int r = sdp_check_opts(img, len, info, opts);

	if (r < 0)
		return r;
	if (!out)
		return -EINVAL;
	r = sdp_machine_new(cmds, sdp_boot_commands(img, info, opts, cmds),
			    opts->max_chunk ? opts->max_chunk : SDP_MAX_WRITE_CHUNK, &u);
	if (r < 0)
		return r;
	if (!opts->skip_dcd && info->dcd_addr) {
		u->patch_header = true;
		u->hdr_len = imx_image_cleared_header(info, img, u->hdr, &u->hdr_off);
	}
	*out = u;
	return 0;
}

struct sdp_upload *sdp_upload_free(struct sdp_upload *u)
{
	free(u);
	return NULL;
}

/* Report 2 for the next 1 KiB of the data phase; the part of the IVT's
 * block that falls into it comes from the cleared copy. */
static void sdp_fill_data(struct sdp_upload *u)
{
	const struct sdp_command *c = sdp_current(u);
	size_t off = (size_t)u->chunk_off + u->data_sent;
	size_t n = u->chunk_len - u->data_sent;

	if (n > SDP_DATA_PER_REPORT)
		n = SDP_DATA_PER_REPORT;
	sdp_encode_data(u->report, c->data + off, n);
	if (c->cmd != SDP_WRITE_FILE || !u->patch_header)
		return;
	size_t lo = off > u->hdr_off ? off : u->hdr_off;
	size_t hi_a = off + n, hi_b = u->hdr_off + u->hdr_len;
	size_t hi = hi_a < hi_b ? hi_a : hi_b;
	if (lo < hi)
		memcpy(u->report + 1 + (lo - off), u->hdr + (lo - u->hdr_off), hi - lo);
}

static void sdp_encode_block(struct sdp_upload *u)
{
	const struct sdp_command *c = sdp_current(u);
	bool reg = c->cmd == SDP_READ_REGISTER;

	sdp_encode_cmd(u->report, c->cmd, c->cmd == SDP_SKIP_DCD_HEADER ? 0 : sdp_block_addr(u),
		       reg ? SDP_UID_FORMAT : 0, reg ? SDP_UID_COUNT : u->chunk_len, 0);
}

static void sdp_send(struct sdp_upload *u, struct sdp_io *io, size_t len)
{
	io->kind = SDP_IO_SEND;
	io->data = u->report;
	io->len = len;
}

int sdp_upload_next(struct sdp_upload *u, struct sdp_io *io)
{
	if (!u || !io)
		return -EINVAL;
	if (u->err)
		return u->err;
	memset(io, 0, sizeof(*io));
	if (u->icmd == u->ncmds) {
		io->kind = SDP_IO_DONE;
		return 0;
	}
	switch (u->phase) {
	case SDP_PHASE_CMD:
		sdp_encode_block(u);
		sdp_send(u, io, SDP_REPORT1_LEN);
		break;
	case SDP_PHASE_DATA:
		sdp_fill_data(u);
		sdp_send(u, io, SDP_REPORT2_LEN);
		break;
	case SDP_PHASE_HAB:
	case SDP_PHASE_STATUS:
		io->kind = SDP_IO_RECV;
		io->after_jump = sdp_current(u)->cmd == SDP_JUMP_ADDRESS;
		break;
	}
	return 0;
}

/* The failure that sticks, or -EINVAL when the machine is done. */
static int sdp_running(const struct sdp_upload *u)
{
	if (u->err)
		return u->err;
	return u->icmd == u->ncmds ? -EINVAL : 0;
}

int sdp_upload_sent(struct sdp_upload *u)
{
	int r = u ? sdp_running(u) : -EINVAL;

	if (r < 0)
		return r;
	switch (u->phase) {
	case SDP_PHASE_CMD:
		u->phase = u->chunk_len ? SDP_PHASE_DATA : SDP_PHASE_HAB;
		return 0;
	case SDP_PHASE_DATA: {
		uint32_t n = u->chunk_len - u->data_sent;
		u->data_sent += n < SDP_DATA_PER_REPORT ? n : SDP_DATA_PER_REPORT;
		if (u->data_sent == u->chunk_len)
			u->phase = SDP_PHASE_HAB;
		return 0;
	}
	case SDP_PHASE_HAB:
	case SDP_PHASE_STATUS:
		return -EINVAL;
	}
	return -EINVAL;
}

/* Report ID and length; on mismatch fail the upload with -EBADMSG. */
static int sdp_check_report(struct sdp_upload *u, const uint8_t *buf, size_t len, uint8_t id,
			    size_t min, size_t max)
{
	if (!len)
		return sdp_fail(u, -EBADMSG, "empty report, expected report %u", id);
	if (buf[0] != id)
		return sdp_fail(u, -EBADMSG, "got report %u, expected report %u", buf[0], id);
	if (len < min || len > max)
		return sdp_fail(u, -EBADMSG, "report %u is %zu bytes, expected %zu to %zu", id, len,
				min, max);
	return 0;
}

static int sdp_feed_hab(struct sdp_upload *u, const uint8_t *buf, size_t len)
{
	int r = sdp_check_report(u, buf, len, SDP_ID_HAB, SDP_REPORT3_LEN, SDP_REPORT4_LEN);
	if (r < 0)
		return r;
	uint32_t hab = sdp_le32(buf + 1);
	if (hab == SDP_HAB_OPEN)
		u->hab_closed = false;
	else if (hab == SDP_HAB_CLOSED)
		u->hab_closed = true;
	else
		return sdp_fail(u, -EPROTO, "HAB word 0x%08x is neither open nor closed", hab);
	u->phase = SDP_PHASE_STATUS;
	return 0;
}

/* A word that answers a read. */
static void sdp_record(struct sdp_upload *u, const struct sdp_command *c, uint32_t word)
{
	u->have_word = true;
	u->word = word;
	if (c->cmd != SDP_READ_REGISTER)
		return;
	if (c->addr == SDP_OCOTP_CFG0) {
		u->uid[0] = word;
		u->uid_mask |= 1u;
	} else if (c->addr == SDP_OCOTP_CFG1) {
		u->uid[1] = word;
		u->uid_mask |= 2u;
	}
}

static int sdp_feed_status(struct sdp_upload *u, const uint8_t *buf, size_t len)
{
	const struct sdp_command *c = sdp_current(u);
	uint32_t want = sdp_cmd_expect(c->cmd), word;
	char ev[128];
	int r = sdp_check_report(u, buf, len, SDP_ID_STATUS, SDP_REPORT3_LEN, SDP_REPORT4_LEN);

	if (r < 0)
		return r;
	word = sdp_le32(buf + 1);
	if (c->cmd == SDP_JUMP_ADDRESS)
		return sdp_fail(u, -EPROTO, "error 0x%08x (%s)", word,
				sdp_hab_event_to_string(word, ev, sizeof(ev)));
	if (!want) {
		sdp_record(u, c, word);
	} else if (word != want) {
		uint8_t sts = (uint8_t)word;
		if (sts == 0x33 || sts == 0x69)
			return sdp_fail(u, -EPROTO, "status 0x%08x, expected 0x%08x (%s)", word, want,
					sdp_hab_event_to_string(word, ev, sizeof(ev)));
		return sdp_fail(u, -EPROTO, "status 0x%08x, expected 0x%08x", word, want);
	}
	sdp_block_done(u);
	return 0;
}

int sdp_upload_feed(struct sdp_upload *u, const uint8_t *buf, size_t len)
{
	int r = u && (buf || !len) ? sdp_running(u) : -EINVAL;

	if (r < 0)
		return r;
	switch (u->phase) {
	case SDP_PHASE_HAB:
		return sdp_feed_hab(u, buf, len);
	case SDP_PHASE_STATUS:
		return sdp_feed_status(u, buf, len);
	case SDP_PHASE_CMD:
	case SDP_PHASE_DATA:
		break;
	}
	return -EINVAL;
}

int sdp_upload_feed_error(struct sdp_upload *u, int err)
{
	int r = u && err < 0 ? sdp_running(u) : -EINVAL;

	if (r < 0)
		return r;
	/* JUMP_ADDRESS was sent: the ROM may leave before or after report 3 */
	if (sdp_current(u)->cmd == SDP_JUMP_ADDRESS &&
	    (u->phase == SDP_PHASE_HAB || u->phase == SDP_PHASE_STATUS) &&
	    (err == -ETIMEDOUT || err == -ENODEV || err == -EIO || err == -EPIPE)) {
		u->icmd = u->ncmds;
		return 0;
	}
	return sdp_fail(u, err, "%s: %s", sdp_phase_names[u->phase], strerror(-err));
}

const char *sdp_upload_error(const struct sdp_upload *u)
{
	return u && u->err ? u->error : NULL;
}

const char *sdp_upload_step(const struct sdp_upload *u)
{
	if (!u)
		return NULL;
	return u->icmd == u->ncmds ? "done" : sdp_cmd_step(sdp_current(u)->cmd);
}

uint64_t sdp_upload_bytes_done(const struct sdp_upload *u)
{
	return u ? u->bytes_done : 0;
}

uint64_t sdp_upload_bytes_total(const struct sdp_upload *u)
{
	return u ? u->bytes_total : 0;
}

bool sdp_upload_hab_closed(const struct sdp_upload *u)
{
	return u && u->hab_closed;
}

bool sdp_upload_uid(const struct sdp_upload *u, uint64_t *uid)
{
	if (!u || u->uid_mask != 3u)
		return false;
	if (uid)
		*uid = u->uid[0] | (uint64_t)u->uid[1] << 32;
	return true;
}

bool sdp_upload_word(const struct sdp_upload *u, uint32_t *word)
{
	if (!u || !u->have_word)
		return false;
	if (word)
		*word = u->word;
	return true;
}
