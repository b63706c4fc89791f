/* rom: see rom.h. Behaviour per protocols.md §2.2–2.6 and §2.11; the choices that
 * no public source confirms are listed in README.md ("ROM"). */
#include "rom.h"

#include "crc32.h"
#include "dcd.h"
#include "mem.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROM_CMD_READ_REGISTER 0x0101u
#define ROM_CMD_WRITE_REGISTER 0x0202u
#define ROM_CMD_WRITE_FILE 0x0404u
#define ROM_CMD_ERROR_STATUS 0x0505u
#define ROM_CMD_WRITE_CSF 0x0606u
#define ROM_CMD_DCD_WRITE 0x0A0Au
#define ROM_CMD_JUMP_ADDRESS 0x0B0Bu
#define ROM_CMD_SKIP_DCD_HEADER 0x0C0Cu
#define ROM_DATA_PER_REPORT 1024u
#define ROM_DCD_BUF 4096u
#define ROM_RANGES 128u

enum rom_r4 { ROM_R4_NONE, ROM_R4_WORD, ROM_R4_READ };

struct rom_range {
	uint32_t start;
	uint64_t end; /* exclusive */
};

struct rom {
	struct rom_cfg cfg;
	struct log *log;
	struct mem *mem;
	enum rom_state state;
	bool first_seen;
	bool skip_dcd;
	uint32_t last_status;
	/* command being received */
	uint16_t cmd;
	uint32_t addr, count, data;
	uint8_t format;
	uint64_t rx_left, rx_stored, rx_next;
	uint32_t rx_crc;
	bool rx_refused; /* destination not writable: data is discarded */
	uint8_t dcd[ROM_DCD_BUF];
	/* reports due */
	bool hab_due, jump_due;
	enum rom_r4 r4;
	uint32_t r4_word;
	uint32_t rd_addr;
	uint64_t rd_left;
	unsigned rd_width;
	struct rom_jump jump;
	struct rom_range loaded[ROM_RANGES];
	unsigned nloaded;
};

static const char *const rom_state_names[] = {
	[ROM_IDLE] = "idle",
	[ROM_RX_DATA] = "rx-data",
	[ROM_JUMPED] = "jumped",
	[ROM_HUNG] = "hung",
};

const char *rom_state_to_string(enum rom_state s)
{
	return (unsigned)s < ARRAY_SIZE(rom_state_names) ? rom_state_names[s] : "?";
}

int rom_new(const struct rom_cfg *cfg, struct log *log, struct rom **out)
{
	struct rom *r;

	if (!cfg || !cfg->soc)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->log = log;
	r->mem = mem_new(cfg->ram_cap);
	if (!r->mem) {
		free(r);
		return -ENOMEM;
	}
	rom_power_on(r);
	*out = r;
	return 0;
}

struct rom *rom_free(struct rom *r)
{
	if (!r)
		return NULL;
	mem_free(r->mem);
	free(r);
	return NULL;
}

enum rom_state rom_state(const struct rom *r)
{
	return r->state;
}

const struct rom_jump *rom_jump(const struct rom *r)
{
	return &r->jump;
}

struct mem *rom_mem(struct rom *r)
{
	return r->mem;
}

uint32_t rom_last_status(const struct rom *r)
{
	return r->last_status;
}

void rom_usb_reset(struct rom *r)
{
	r->state = ROM_IDLE;
	r->first_seen = false;
	r->hab_due = r->jump_due = false;
	r->r4 = ROM_R4_NONE;
	r->rx_left = 0;
}

void rom_power_on(struct rom *r)
{
	mem_clear(r->mem);
	r->skip_dcd = false;
	r->nloaded = 0;
	r->last_status = ROM_STATUS_OK;
	memset(&r->jump, 0, sizeof(r->jump));
	rom_usb_reset(r);
}

static const char *rom_cmd_name(uint16_t cmd)
{
	switch (cmd) {
	case ROM_CMD_READ_REGISTER: return "READ_REGISTER";
	case ROM_CMD_WRITE_REGISTER: return "WRITE_REGISTER";
	case ROM_CMD_WRITE_FILE: return "WRITE_FILE";
	case ROM_CMD_ERROR_STATUS: return "ERROR_STATUS";
	case ROM_CMD_WRITE_CSF: return "WRITE_CSF";
	case ROM_CMD_DCD_WRITE: return "DCD_WRITE";
	case ROM_CMD_JUMP_ADDRESS: return "JUMP_ADDRESS";
	case ROM_CMD_SKIP_DCD_HEADER: return "SKIP_DCD_HEADER";
	default: return "unknown";
	}
}

static unsigned rom_width(uint8_t format)
{
	return format == 0x08 ? 1 : format == 0x10 ? 2 : 4;
}

static uint32_t rom_hab(const struct rom *r)
{
	return r->cfg.hab_closed ? ROM_HAB_CLOSED : ROM_HAB_OPEN;
}

/* queue report 3 and (unless NONE) a status word as report 4 */
static void rom_reply(struct rom *r, enum rom_r4 kind, uint32_t word)
{
	struct log_ev e;

	r->hab_due = true;
	r->r4 = kind;
	r->r4_word = word;
	log_begin(&e, r->log, "sdp-reply");
	log_str(&e, "cmd", rom_cmd_name(r->cmd));
	log_hex32(&e, "hab", rom_hab(r));
	if (kind == ROM_R4_WORD)
		log_hex32(&e, "status", word);
	else if (kind == ROM_R4_READ)
		log_u64(&e, "data_bytes", r->rd_left);
	log_end(&e);
}

static void rom_hang(struct rom *r, const char *why)
{
	struct log_ev e;

	r->state = ROM_HUNG;
	r->hab_due = false;
	r->r4 = ROM_R4_NONE;
	log_begin(&e, r->log, "hang");
	log_str(&e, "phase", "rom");
	log_str(&e, "reason", why);
	log_end(&e);
}

static bool rom_ram_ok(const struct rom *r, uint32_t addr, uint64_t len)
{
	return soc_in_dram(r->cfg.soc, addr, len) || soc_in_ocram(r->cfg.soc, addr, len);
}

/* an access to DRAM before the MMDC is set up stalls the bus: the ROM hangs */
static bool rom_dram_stalls(const struct rom *r, uint32_t addr, uint64_t len)
{
	uint64_t end = (uint64_t)addr + (len ? len : 1);

	if (!r->cfg.dram_check || soc_dram_ready(r->cfg.soc, r->mem))
		return false;
	return addr <= r->cfg.soc->dram_end && end > r->cfg.soc->dram_start;
}

static void rom_add_loaded(struct rom *r, uint32_t start, uint64_t end)
{
	for (unsigned i = 0; i < r->nloaded; i++) {
		struct rom_range *g = &r->loaded[i];

		if (start <= g->end && end >= g->start) {
			if (start < g->start)
				g->start = start;
			if (end > g->end)
				g->end = end;
			return;
		}
	}
	if (r->nloaded < ROM_RANGES) {
		r->loaded[r->nloaded].start = start;
		r->loaded[r->nloaded++].end = end;
	} else {
		r->loaded[ROM_RANGES - 1].end = end; /* coarse, but bounded */
	}
}

static bool rom_is_loaded(const struct rom *r, uint32_t addr, uint64_t len)
{
	for (unsigned i = 0; i < r->nloaded; i++)
		if (addr >= r->loaded[i].start && (uint64_t)addr + len <= r->loaded[i].end)
			return true;
	return false;
}

/* a failed command: report 3, then the error word; ERROR_STATUS returns it from now on */
static void rom_fail(struct rom *r, uint32_t word, const char *why)
{
	struct log_ev e;

	r->last_status = word;
	log_begin(&e, r->log, "sdp-error");
	log_str(&e, "cmd", rom_cmd_name(r->cmd));
	log_hex32(&e, "status", word);
	log_str(&e, "reason", why);
	log_end(&e);
	rom_reply(r, ROM_R4_WORD, word);
}

static void rom_log_cmd(struct rom *r)
{
	struct log_ev e;
	char code[8];

	snprintf(code, sizeof(code), "0x%04x", r->cmd);
	log_begin(&e, r->log, "sdp");
	log_str(&e, "cmd", rom_cmd_name(r->cmd));
	log_str(&e, "code", code);
	log_hex32(&e, "addr", r->addr);
	log_u64(&e, "format", r->format);
	log_u64(&e, "count", r->count);
	log_hex32(&e, "data", r->data);
	log_end(&e);
}

static void rom_read_register(struct rom *r)
{
	if (rom_dram_stalls(r, r->addr, r->count)) {
		rom_hang(r, "dram-not-initialised");
		return;
	}
	r->rd_addr = r->addr;
	r->rd_left = r->count ? r->count : 1;
	r->rd_width = rom_width(r->format);
	rom_reply(r, ROM_R4_READ, 0);
}

static void rom_write_register(struct rom *r)
{
	unsigned width = rom_width(r->format);

	if (rom_dram_stalls(r, r->addr, width)) {
		rom_hang(r, "dram-not-initialised");
		return;
	}
	if (soc_write(r->cfg.soc, r->mem, r->addr, r->data, width) < 0) {
		rom_fail(r, ROM_ERR_TARGET, "emulator-memory-cap");
		return;
	}
	rom_reply(r, ROM_R4_WORD, ROM_WRITE_OK);
}

static void rom_start_data(struct rom *r)
{
	uint64_t stored = ((uint64_t)r->count + ROM_DATA_PER_REPORT - 1) / ROM_DATA_PER_REPORT *
			  ROM_DATA_PER_REPORT;

	r->rx_left = r->count;
	r->rx_stored = 0;
	r->rx_next = r->addr;
	r->rx_crc = 0;
	r->rx_refused = false;
	if (r->cmd == ROM_CMD_WRITE_FILE && !rom_ram_ok(r, r->addr, stored ? stored : 1))
		r->rx_refused = true;
	if (r->count == 0) {
		/* nothing to receive: complete at once */
		if (r->cmd == ROM_CMD_WRITE_FILE)
			rom_reply(r, ROM_R4_WORD, r->rx_refused ? ROM_ERR_TARGET : ROM_WRITE_FILE_OK);
		else
			rom_fail(r, ROM_ERR_DCD, "empty-dcd");
		return;
	}
	r->state = ROM_RX_DATA;
}

static void rom_file_done(struct rom *r)
{
	struct log_ev e;
	uint32_t word = ROM_WRITE_FILE_OK;

	if (r->rx_refused) {
		rom_fail(r, ROM_ERR_TARGET, "destination-not-writable");
		return;
	}
	rom_add_loaded(r, r->addr, (uint64_t)r->addr + r->rx_stored);
	log_begin(&e, r->log, "file");
	log_hex32(&e, "addr", r->addr);
	log_u64(&e, "count", r->count);
	log_u64(&e, "stored", r->rx_stored);
	log_hex32(&e, "crc32", r->rx_crc);
	log_end(&e);
	if (r->cfg.fault_bad_status) {
		word = 0x88888889u;
		log_simple_str(r->log, "fault", "fault", "bad-status");
	}
	rom_reply(r, ROM_R4_WORD, word);
}

static void rom_dcd_done(struct rom *r)
{
	struct dcd_target t = { r->cfg.soc, r->mem, r->cfg.uid };
	size_t len = r->count < ROM_DCD_BUF ? r->count : ROM_DCD_BUF;
	struct dcd_result res;
	struct log_ev e;

	/* the ROM keeps the table where the host asked it to go */
	if (rom_ram_ok(r, r->addr, len) && !rom_dram_stalls(r, r->addr, len))
		(void)mem_write(r->mem, r->addr, r->dcd, len);
	dcd_run(r->dcd, len, &t, r->log, &res);
	log_begin(&e, r->log, "dcd");
	log_hex32(&e, "addr", r->addr);
	log_u64(&e, "len", r->count);
	log_str(&e, "result", dcd_status_to_string(res.status));
	log_u64(&e, "offset", res.offset);
	log_u64(&e, "writes", res.writes);
	log_u64(&e, "checks", res.checks);
	log_end(&e);
	if (res.status == DCD_CHECK_HANGS)
		rom_hang(r, "dcd-check-never-true");
	else if (res.status != DCD_OK)
		rom_fail(r, dcd_status_hab_word(res.status), dcd_status_to_string(res.status));
	else
		rom_reply(r, ROM_R4_WORD, ROM_WRITE_OK);
}

static void rom_data(struct rom *r, const uint8_t *p, size_t n)
{
	size_t use = r->rx_left < n ? (size_t)r->rx_left : n;

	if (r->cmd == ROM_CMD_WRITE_FILE) {
		if (!r->rx_refused && rom_dram_stalls(r, (uint32_t)r->rx_next, n)) {
			rom_hang(r, "dram-not-initialised");
			return;
		}
		/* the whole report payload lands in RAM (1 KiB rounding, §2.5) */
		if (!r->rx_refused && r->rx_next + n <= 0x100000000ull &&
		    mem_write(r->mem, (uint32_t)r->rx_next, p, n) == 0)
			r->rx_stored += n;
		else if (!r->rx_refused)
			r->rx_refused = true;
		r->rx_crc = crc32_update(r->rx_crc, p, use);
		r->rx_next += n;
	} else {
		uint64_t off = r->count - r->rx_left;

		if (off < ROM_DCD_BUF)
			memcpy(r->dcd + off, p, off + use <= ROM_DCD_BUF ? use : ROM_DCD_BUF - off);
	}
	r->rx_left -= use;
	if (r->rx_left)
		return;
	r->state = ROM_IDLE;
	if (r->cmd == ROM_CMD_WRITE_FILE)
		rom_file_done(r);
	else
		rom_dcd_done(r);
}

static bool rom_jump_valid(struct rom *r, struct rom_jump *j)
{
	uint8_t b[IVT_SIZE], bd[IVT_BOOT_DATA_SIZE];

	j->addr = r->addr;
	(void)mem_read(r->mem, r->addr, b, sizeof(b));
	if (!rom_is_loaded(r, r->addr, IVT_SIZE) || ivt_parse(b, sizeof(b), &j->ivt) < 0 ||
	    j->ivt.self != r->addr) {
		rom_fail(r, ROM_ERR_IVT, "invalid-ivt");
		return false;
	}
	if (!rom_is_loaded(r, j->ivt.boot_data, IVT_BOOT_DATA_SIZE)) {
		rom_fail(r, ROM_ERR_IVT, "boot-data-not-loaded");
		return false;
	}
	(void)mem_read(r->mem, j->ivt.boot_data, bd, sizeof(bd));
	(void)ivt_parse_boot(bd, sizeof(bd), &j->boot);
	return true;
}

static void rom_log_jump(struct rom *r, const struct rom_jump *j, const char *result)
{
	struct log_ev e;

	log_begin(&e, r->log, "jump");
	log_hex32(&e, "addr", j->addr);
	log_hex32(&e, "entry", j->ivt.entry);
	log_hex32(&e, "dcd", j->ivt.dcd);
	log_hex32(&e, "boot_data", j->ivt.boot_data);
	log_hex32(&e, "csf", j->ivt.csf);
	log_hex32(&e, "start", j->boot.start);
	log_u64(&e, "length", j->boot.length);
	log_u64(&e, "plugin", j->boot.plugin);
	log_bool(&e, "skip_dcd", r->skip_dcd);
	log_str(&e, "result", result);
	log_end(&e);
}

static void rom_jump_address(struct rom *r)
{
	struct rom_jump j = { 0 };
	uint64_t end;

	if (rom_dram_stalls(r, r->addr, IVT_SIZE)) {
		rom_hang(r, "dram-not-initialised");
		return;
	}
	if (!rom_jump_valid(r, &j)) {
		rom_log_jump(r, &j, "invalid-ivt");
		return;
	}
	if (j.boot.plugin & IVT_PLUGIN) {
		/* the plugin runs and returns to the serial downloader */
		rom_log_jump(r, &j, "plugin-returned");
		rom_reply(r, ROM_R4_NONE, 0);
		return;
	}
	end = (uint64_t)j.boot.start + j.boot.length;
	if (j.ivt.entry < j.boot.start || j.ivt.entry >= end || !rom_is_loaded(r, j.ivt.entry, 4)) {
		rom_log_jump(r, &j, "entry-outside-image");
		rom_fail(r, ROM_ERR_ENTRY, "entry-outside-image");
		return;
	}
	if (r->cfg.hab_closed && j.ivt.csf == 0) {
		rom_log_jump(r, &j, "unsigned-image");
		rom_fail(r, ROM_ERR_CSF, "hab-closed-no-csf");
		return;
	}
	if (j.ivt.dcd && !r->skip_dcd) {
		/* the ROM re-runs the DCD: reprogramming live DRAM fails */
		rom_log_jump(r, &j, "dcd-rerun-failed");
		rom_fail(r, ROM_ERR_DCD, "dcd-rerun");
		return;
	}
	r->jump = j;
	rom_log_jump(r, &j, "ok");
	rom_reply(r, ROM_R4_NONE, 0);
	r->jump_due = true;
}

static void rom_command(struct rom *r)
{
	switch (r->cmd) {
	case ROM_CMD_READ_REGISTER:
		rom_read_register(r);
		break;
	case ROM_CMD_WRITE_REGISTER:
		rom_write_register(r);
		break;
	case ROM_CMD_WRITE_FILE:
	case ROM_CMD_DCD_WRITE:
		rom_start_data(r);
		break;
	case ROM_CMD_ERROR_STATUS:
		rom_reply(r, ROM_R4_WORD, r->last_status);
		break;
	case ROM_CMD_JUMP_ADDRESS:
		rom_jump_address(r);
		break;
	case ROM_CMD_SKIP_DCD_HEADER:
		if (!r->cfg.soc->skip_dcd) {
			/* this ROM does not know the command */
			log_simple_str(r->log, "sdp-ignored", "cmd", rom_cmd_name(r->cmd));
			break;
		}
		r->skip_dcd = true;
		rom_reply(r, ROM_R4_WORD, ROM_SKIP_DCD_OK);
		break;
	default:
		log_simple_str(r->log, "sdp-ignored", "cmd", rom_cmd_name(r->cmd));
		break;
	}
}

static void rom_first(struct rom *r, uint8_t id)
{
	struct log_ev e;

	if (r->first_seen)
		return;
	r->first_seen = true;
	log_begin(&e, r->log, "sdp-first");
	log_u64(&e, "report", id);
	log_end(&e);
}

int rom_set_report(struct rom *r, const uint8_t *buf, size_t len)
{
	struct log_ev e;

	if (r->state == ROM_HUNG || r->state == ROM_JUMPED)
		return 0;
	if (!buf || len < 2 || (buf[0] == 1 && len < ROM_REPORT1_LEN) || buf[0] == 0 || buf[0] > 2) {
		log_begin(&e, r->log, "sdp-bad-report");
		log_u64(&e, "id", buf && len ? buf[0] : 0);
		log_u64(&e, "len", len);
		log_end(&e);
		return -EBADMSG;
	}
	rom_first(r, buf[0]);
	if (buf[0] == 2) {
		if (r->state != ROM_RX_DATA) {
			log_simple(r->log, "sdp-stray-data");
			return 0;
		}
		rom_data(r, buf + 1, len - 1);
		return 0;
	}
	if (r->state == ROM_RX_DATA)
		log_simple_str(r->log, "sdp-abort", "cmd", rom_cmd_name(r->cmd));
	if (r->hab_due || r->r4 != ROM_R4_NONE)
		log_simple_str(r->log, "sdp-unread-reply", "cmd", rom_cmd_name(r->cmd));
	r->state = ROM_IDLE;
	r->hab_due = r->jump_due = false;
	r->r4 = ROM_R4_NONE;
	r->cmd = util_be16(buf + 1);
	r->addr = util_be32(buf + 3);
	r->format = buf[7];
	r->count = util_be32(buf + 8);
	r->data = util_be32(buf + 12);
	rom_log_cmd(r);
	rom_command(r);
	return 0;
}

static void rom_fill_read(struct rom *r, uint8_t *out)
{
	unsigned w = r->rd_width;

	memset(out, 0, 64);
	for (unsigned i = 0; i + w <= 64 && i < r->rd_left; i += w) {
		uint32_t v = soc_read(r->cfg.soc, r->mem, r->cfg.uid, r->rd_addr + i, w);

		for (unsigned k = 0; k < w; k++)
			out[i + k] = (uint8_t)(v >> (8 * k));
	}
	r->rd_addr += 64;
	r->rd_left = r->rd_left > 64 ? r->rd_left - 64 : 0;
	if (!r->rd_left)
		r->r4 = ROM_R4_NONE;
}

int rom_next_report(struct rom *r, uint8_t *buf, size_t *len)
{
	if (r->state == ROM_HUNG)
		return -EAGAIN;
	if (r->hab_due) {
		buf[0] = 3;
		util_put_le32(buf + 1, rom_hab(r));
		*len = ROM_REPORT3_LEN;
		r->hab_due = false;
		if (r->jump_due) {
			r->jump_due = false;
			r->state = ROM_JUMPED;
		}
		return 0;
	}
	switch (r->r4) {
	case ROM_R4_NONE:
		return -EAGAIN;
	case ROM_R4_WORD:
		buf[0] = 4;
		util_put_le32(buf + 1, r->r4_word);
		memset(buf + 5, 0, ROM_REPORT4_LEN - 5);
		r->r4 = ROM_R4_NONE;
		break;
	case ROM_R4_READ:
		buf[0] = 4;
		rom_fill_read(r, buf + 1);
		break;
	}
	*len = ROM_REPORT4_LEN;
	return 0;
}
