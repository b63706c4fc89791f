/* spl: see spl.h. Every rule below is mainline drivers/usb/gadget/f_sdp.c unless
 * said otherwise; README.md ("U-Boot SPL") lists the emulator's choices. */
#include "spl.h"

#include "crc32.h"
#include "image.h"
#include "ivt.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPL_CMD_READ_REGISTER 0x0101u
#define SPL_CMD_WRITE_FILE 0x0404u
#define SPL_CMD_ERROR_STATUS 0x0505u
#define SPL_CMD_DCD_WRITE 0x0A0Au
#define SPL_CMD_JUMP_ADDRESS 0x0B0Bu
#define SPL_CMD_SKIP_DCD_HEADER 0x0C0Cu
#define SPL_HAB_OPEN 0x56787856u          /* SDP_SECURITY_OPEN: SPL never reports closed */
#define SPL_WRITE_FILE_COMPLETE 0x88888888u
#define SPL_WRITE_REGISTER_COMPLETE 0x128A8A12u
#define SPL_SKIP_DCD_COMPLETE 0x900DD009u
#define SPL_COMMAND_LEN 16u
#define SPL_CRC_CHUNK (1u << 20)
#define SPL_MAX_IMAGE (64u << 20)         /* emulator bound on the data CRC */

enum spl_out { SPL_OUT_CMD, SPL_OUT_DATA };

struct spl {
	struct spl_cfg cfg;
	struct mem *mem;
	struct log *log;
	enum spl_state state, next_state;
	uint32_t dnl_address, dnl_bytes, dnl_bytes_remaining, jmp_address, error_status;
	uint32_t file_start; /* the WRITE_FILE destination (for the log) */
	bool always_send_status, configuration_done, ep_int_enable, dcd;
	enum spl_out out_kind;
	uint8_t in_buf[SPL_REPORT_IN_LEN]; /* in_req->buf, reused between reports */
	struct spl_boot boot;
};

static const char *const spl_state_names[] = {
	[SPL_IDLE] = "idle",
	[SPL_RX_CMD] = "rx-cmd",
	[SPL_RX_DCD_DATA] = "rx-dcd-data",
	[SPL_RX_FILE_DATA] = "rx-file-data",
	[SPL_RX_FILE_DATA_BUSY] = "rx-file-data-busy",
	[SPL_TX_SEC_CONF] = "tx-sec-conf",
	[SPL_TX_SEC_CONF_BUSY] = "tx-sec-conf-busy",
	[SPL_TX_REGISTER] = "tx-register",
	[SPL_TX_REGISTER_BUSY] = "tx-register-busy",
	[SPL_TX_STATUS] = "tx-status",
	[SPL_TX_STATUS_BUSY] = "tx-status-busy",
	[SPL_JUMP] = "jump",
	[SPL_BOOTED] = "booted",
	[SPL_HUNG] = "hung",
};

const char *spl_state_to_string(enum spl_state s)
{
	return (unsigned)s < ARRAY_SIZE(spl_state_names) ? spl_state_names[s] : "?";
}

int spl_new(const struct spl_cfg *cfg, struct mem *mem, struct log *log, struct spl **out)
{
	struct spl *s;

	if (!cfg || !cfg->soc || !mem)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->mem = mem;
	s->log = log;
	spl_start(s);
	*out = s;
	return 0;
}

struct spl *spl_free(struct spl *s)
{
	free(s);
	return NULL;
}

enum spl_state spl_state(const struct spl *s)
{
	return s->state;
}

const struct spl_boot *spl_boot(const struct spl *s)
{
	return &s->boot;
}

void spl_start(struct spl *s)
{
	/* sdp_bind_config(): the function state is zeroed */
	s->state = s->next_state = SPL_IDLE;
	s->dnl_address = s->dnl_bytes = s->dnl_bytes_remaining = 0;
	s->jmp_address = s->error_status = 0;
	s->always_send_status = s->configuration_done = s->ep_int_enable = s->dcd = false;
	memset(s->in_buf, 0, sizeof(s->in_buf));
	memset(&s->boot, 0, sizeof(s->boot));
	s->boot.kind = "none";
	s->boot.reason = "no-jump";
}

void spl_set_alt(struct spl *s)
{
	if (s->state == SPL_BOOTED || s->state == SPL_HUNG)
		return;
	/* sdp_set_alt(): fresh requests (sdp_start_ep() zeroes them), state idle */
	memset(s->in_buf, 0, sizeof(s->in_buf));
	s->state = SPL_IDLE;
	s->ep_int_enable = true;
}

void spl_config_done(struct spl *s)
{
	if (!s->configuration_done)
		log_simple(s->log, "spl-serving");
	s->configuration_done = true;
}

bool spl_serving(const struct spl *s)
{
	return s->configuration_done && s->state != SPL_BOOTED && s->state != SPL_HUNG;
}

static void spl_hang(struct spl *s, const char *why)
{
	struct log_ev e;

	s->state = SPL_HUNG;
	log_begin(&e, s->log, "hang");
	log_str(&e, "phase", "spl");
	log_str(&e, "reason", why);
	log_end(&e);
}

static const char *spl_cmd_name(uint16_t cmd)
{
	switch (cmd) {
	case SPL_CMD_READ_REGISTER: return "READ_REGISTER";
	case 0x0202u: return "WRITE_REGISTER";
	case SPL_CMD_WRITE_FILE: return "WRITE_FILE";
	case SPL_CMD_ERROR_STATUS: return "ERROR_STATUS";
	case SPL_CMD_DCD_WRITE: return "DCD_WRITE";
	case SPL_CMD_JUMP_ADDRESS: return "JUMP_ADDRESS";
	case SPL_CMD_SKIP_DCD_HEADER: return "SKIP_DCD_HEADER";
	default: return "unknown";
	}
}

static void spl_log_cmd(struct spl *s, uint16_t cmd, uint32_t addr, uint32_t cnt, const char *via)
{
	struct log_ev e;

	log_begin(&e, s->log, "spl-sdp");
	log_str(&e, "cmd", spl_cmd_name(cmd));
	log_hex32(&e, "addr", addr);
	log_u64(&e, "count", cnt);
	log_str(&e, "via", via);
	log_end(&e);
}

/* sdp_rx_command_complete() */
static void spl_command(struct spl *s, const uint8_t *buf, size_t len, const char *via)
{
	uint16_t cmd;
	uint32_t addr, cnt;

	if (len < 1 + SPL_COMMAND_LEN || buf[0] != 1) {
		/* "Unexpected report": dropped, the state stays where it is */
		log_simple_str(s->log, "spl-bad-report", "via", via);
		return;
	}
	cmd = util_be16(buf + 1);
	addr = util_be32(buf + 3);
	cnt = util_be32(buf + 8);
	spl_log_cmd(s, cmd, addr, cnt, via);
	s->dcd = false;
	switch (cmd) {
	case SPL_CMD_READ_REGISTER:
		s->always_send_status = false;
		s->error_status = 0;
		s->state = SPL_TX_SEC_CONF;
		s->dnl_address = addr;
		s->dnl_bytes_remaining = cnt;
		s->next_state = SPL_TX_REGISTER;
		break;
	case SPL_CMD_WRITE_FILE:
		s->always_send_status = true;
		s->error_status = SPL_WRITE_FILE_COMPLETE;
		s->state = SPL_RX_FILE_DATA;
		s->dnl_address = s->file_start = addr ? addr : s->cfg.loadaddr;
		s->dnl_bytes_remaining = s->dnl_bytes = cnt;
		s->next_state = SPL_IDLE;
		break;
	case SPL_CMD_ERROR_STATUS:
		s->always_send_status = true;
		s->error_status = 0;
		s->state = SPL_TX_SEC_CONF;
		s->next_state = SPL_IDLE;
		break;
	case SPL_CMD_DCD_WRITE:
		s->always_send_status = true;
		s->error_status = SPL_WRITE_REGISTER_COMPLETE;
		s->state = SPL_RX_DCD_DATA;
		s->dnl_bytes_remaining = cnt;
		s->next_state = SPL_IDLE;
		s->dcd = true;
		break;
	case SPL_CMD_JUMP_ADDRESS:
		s->always_send_status = false;
		s->error_status = 0;
		s->jmp_address = addr ? addr : s->cfg.loadaddr;
		s->state = SPL_TX_SEC_CONF;
		s->next_state = SPL_JUMP;
		break;
	case SPL_CMD_SKIP_DCD_HEADER:
		s->always_send_status = true;
		s->error_status = SPL_SKIP_DCD_COMPLETE;
		s->state = SPL_TX_SEC_CONF;
		s->next_state = SPL_IDLE;
		break;
	default:
		/* "Unknown command" (WRITE_REGISTER too): no reply, state unchanged */
		log_simple_str(s->log, "spl-ignored", "cmd", spl_cmd_name(cmd));
		break;
	}
}

static void spl_log_file(struct spl *s)
{
	uint32_t crc = 0, start = s->file_start;
	uint8_t buf[4096];
	struct log_ev e;

	for (uint32_t off = 0; off < s->dnl_bytes; off += sizeof(buf)) {
		size_t n = s->dnl_bytes - off < sizeof(buf) ? s->dnl_bytes - off : sizeof(buf);

		(void)mem_read(s->mem, start + off, buf, n);
		crc = crc32_update(crc, buf, n);
	}
	log_begin(&e, s->log, "spl-file");
	log_hex32(&e, "addr", start);
	log_u64(&e, "count", s->dnl_bytes);
	log_hex32(&e, "crc32", crc);
	log_end(&e);
}

/* sdp_rx_data_complete() */
static void spl_data(struct spl *s, const uint8_t *buf, size_t len)
{
	uint32_t datalen;

	if (len < 1 || buf[0] != 2) {
		log_simple_str(s->log, "spl-bad-report", "via", "data");
		return;
	}
	datalen = (uint32_t)(len - 1);
	s->dnl_bytes_remaining = s->dnl_bytes_remaining < datalen ? 0 :
				 s->dnl_bytes_remaining - datalen;
	if (s->state == SPL_RX_FILE_DATA_BUSY && !s->dcd) {
		/* memcpy() of the whole payload: outside RAM the SPL takes a data
		 * abort (choice: the emulator hangs) */
		if (!soc_in_dram(s->cfg.soc, s->dnl_address, datalen) &&
		    !soc_in_ocram(s->cfg.soc, s->dnl_address, datalen)) {
			spl_hang(s, "write-outside-ram");
			return;
		}
		if (mem_write(s->mem, s->dnl_address, buf + 1, datalen) < 0) {
			spl_hang(s, "emulator-memory-cap");
			return;
		}
		s->dnl_address += datalen;
	}
	if (s->dnl_bytes_remaining) {
		s->state = SPL_RX_FILE_DATA;
		return;
	}
	if (s->state == SPL_RX_FILE_DATA_BUSY && !s->dcd)
		spl_log_file(s);
	if (s->state == SPL_RX_FILE_DATA_BUSY || s->state == SPL_RX_DCD_DATA)
		s->state = SPL_TX_SEC_CONF;
	else
		log_simple_str(s->log, "spl-bad-state", "state", spl_state_to_string(s->state));
}

int spl_setup_report(struct spl *s, const uint8_t *buf, size_t len)
{
	if (s->state == SPL_BOOTED || s->state == SPL_HUNG || !buf || len < 1)
		return -EBADMSG;
	switch (buf[0]) {
	case 1:
		/* the host uses ep0: f_sdp stops queueing OUT requests */
		s->ep_int_enable = false;
		spl_command(s, buf, len, "ep0");
		return (int)(1 + SPL_COMMAND_LEN);
	case 2:
		s->state = SPL_RX_FILE_DATA_BUSY;
		spl_data(s, buf, len);
		return (int)len;
	default:
		return 0;
	}
}

bool spl_out_wanted(struct spl *s)
{
	if (!spl_serving(s) || !s->ep_int_enable)
		return false;
	if (s->state == SPL_IDLE) {
		s->out_kind = SPL_OUT_CMD;
		s->state = SPL_RX_CMD;
		return true;
	}
	if (s->state == SPL_RX_FILE_DATA) {
		s->out_kind = SPL_OUT_DATA;
		s->state = SPL_RX_FILE_DATA_BUSY;
		return true;
	}
	return false;
}

void spl_out_done(struct spl *s, const uint8_t *buf, long len)
{
	if (len < 0 || s->state == SPL_BOOTED || s->state == SPL_HUNG)
		return; /* "Status: %d": the request is not queued again */
	if (s->out_kind == SPL_OUT_CMD)
		spl_command(s, buf, (size_t)len, "out");
	else
		spl_data(s, buf, (size_t)len);
}

static void spl_log_jump(struct spl *s)
{
	struct log_ev e;

	log_begin(&e, s->log, "spl-jump");
	log_hex32(&e, "addr", s->boot.addr);
	log_str(&e, "kind", s->boot.kind);
	log_hex32(&e, "entry", s->boot.entry);
	if (!strcmp(s->boot.kind, "uimage")) {
		log_hex32(&e, "load", s->boot.u.load);
		log_u64(&e, "size", s->boot.u.size);
		log_str(&e, "name", s->boot.u.name);
	}
	log_str(&e, "result", s->boot.reason);
	log_end(&e);
}

static uint32_t spl_mem_crc(const struct spl *s, uint32_t addr, uint32_t len)
{
	uint8_t *buf = malloc(SPL_CRC_CHUNK);
	uint32_t crc = 0;

	if (!buf)
		return 0;
	for (uint32_t off = 0; off < len; off += SPL_CRC_CHUNK) {
		size_t n = len - off < SPL_CRC_CHUNK ? len - off : SPL_CRC_CHUNK;

		(void)mem_read(s->mem, addr + off, buf, n);
		crc = crc32_update(crc, buf, n);
	}
	free(buf);
	return crc;
}

/* the jump (sdp_handle_in_ep() SDP_STATE_JUMP in an SPL build): it never returns */
static void spl_jump(struct spl *s)
{
	uint8_t hdr[UIMAGE_HDR_SIZE];
	const char *why;

	s->boot.addr = s->jmp_address;
	(void)mem_read(s->mem, s->jmp_address, hdr, sizeof(hdr));
	if (hdr[0] == IVT_TAG) {
		/* sdp_jump_imxheader(): only the tag is checked, then entry() */
		s->boot.kind = "ivt";
		s->boot.entry = util_le32(hdr + 4);
		why = soc_in_dram(s->cfg.soc, s->boot.entry, 4) ? NULL : "ivt-entry-not-in-dram";
	} else if (uimage_parse(hdr, sizeof(hdr), &s->boot.u) < 0) {
		/* spl_parse_image_header() fails (no raw-image support on i.MX6 with
		 * SPL_MMC, common/spl/Kconfig SPL_RAW_IMAGE_SUPPORT); f_sdp.c ignores
		 * the error and jump_to_image() runs an empty spl_image: entry 0 */
		s->boot.kind = "none";
		why = "no-image-header";
	} else {
		s->boot.kind = "uimage";
		s->boot.entry = s->boot.u.ep;
		why = s->boot.u.size > SPL_MAX_IMAGE ? "image-too-large" :
		      image_uboot_check(s->cfg.soc, &s->boot.u,
					spl_mem_crc(s, s->boot.u.load, s->boot.u.size));
	}
	s->boot.reason = why ? why : "ok";
	spl_log_jump(s);
	if (why)
		spl_hang(s, why);
	else
		s->state = SPL_BOOTED;
}

static void spl_fill_register(struct spl *s)
{
	uint32_t n = s->dnl_bytes_remaining > 64 ? 64 : s->dnl_bytes_remaining;

	s->in_buf[0] = 4;
	(void)mem_read(s->mem, s->dnl_address, s->in_buf + 1, n);
	s->dnl_bytes_remaining -= n;
	s->dnl_address += n;
}

int spl_in_next(struct spl *s, uint8_t *buf, size_t *len)
{
	if (!spl_serving(s))
		return -EAGAIN;
	switch (s->state) {
	case SPL_TX_SEC_CONF:
		s->in_buf[0] = 3;
		util_put_le32(s->in_buf + 1, SPL_HAB_OPEN);
		*len = 5;
		s->state = SPL_TX_SEC_CONF_BUSY;
		break;
	case SPL_TX_STATUS:
		s->in_buf[0] = 4;
		util_put_le32(s->in_buf + 1, s->error_status);
		*len = SPL_REPORT_IN_LEN;
		s->state = SPL_TX_STATUS_BUSY;
		break;
	case SPL_TX_REGISTER:
		spl_fill_register(s);
		*len = SPL_REPORT_IN_LEN;
		s->state = SPL_TX_REGISTER_BUSY;
		break;
	case SPL_JUMP:
		spl_jump(s);
		return -EAGAIN;
	default:
		return -EAGAIN;
	}
	memcpy(buf, s->in_buf, *len);
	return 0;
}

void spl_in_done(struct spl *s, long res)
{
	if (res < 0 || s->state == SPL_BOOTED || s->state == SPL_HUNG)
		return; /* "Status: %d": the state stays busy */
	switch (s->state) {
	case SPL_TX_SEC_CONF_BUSY:
		s->state = s->always_send_status || s->error_status ? SPL_TX_STATUS : s->next_state;
		break;
	case SPL_TX_STATUS_BUSY:
		s->state = s->next_state;
		break;
	case SPL_TX_REGISTER_BUSY:
		s->state = s->dnl_bytes_remaining ? SPL_TX_REGISTER : SPL_IDLE;
		break;
	default:
		s->state = SPL_IDLE; /* "Wrong State" */
		break;
	}
}
