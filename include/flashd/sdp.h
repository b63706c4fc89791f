/* sdp: i.MX Serial Download Protocol (HID) — command encoding, reply
 * decoding and the upload sequence as a step machine. No I/O: the caller
 * sends what sdp_upload_next() asks for and feeds back what the board said. */
#ifndef FLASHD_SDP_H
#define FLASHD_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/imx_image.h"

#define SDP_REPORT1_LEN 17u     /* id + 16-byte command block */
#define SDP_REPORT2_LEN 1025u   /* id + 1024 data bytes */
#define SDP_REPORT3_LEN 5u      /* id + HAB word */
#define SDP_REPORT4_LEN 65u     /* id + 64 bytes */
#define SDP_DATA_PER_REPORT 1024u
#define SDP_MAX_WRITE_CHUNK 0x200000u   /* ≤ 2 MiB per WRITE_FILE */

enum sdp_cmd {
	SDP_READ_REGISTER = 0x0101,
	SDP_WRITE_REGISTER = 0x0202,
	SDP_WRITE_FILE = 0x0404,
	SDP_ERROR_STATUS = 0x0505,
	SDP_DCD_WRITE = 0x0A0A,
	SDP_JUMP_ADDRESS = 0x0B0B,
	SDP_SKIP_DCD_HEADER = 0x0C0C,
};

/* status words, as LE32 readings of the report payload */
#define SDP_HAB_CLOSED 0x12343412u
#define SDP_HAB_OPEN 0x56787856u
#define SDP_WRITE_FILE_OK 0x88888888u
#define SDP_WRITE_OK 0x128A8A12u      /* DCD_WRITE, WRITE_REGISTER */
#define SDP_SKIP_DCD_OK 0x900DD009u
#define SDP_STATUS_IDLE 0xF0F0F0F0u

/* OCOTP shadow registers holding the SoC unique ID (i.MX6) */
#define SDP_OCOTP_CFG0 0x021BC410u
#define SDP_OCOTP_CFG1 0x021BC420u
#define SDP_DCD_ADDR_MX6 0x00910000u
#define SDP_DCD_ADDR_MX7D 0x00911000u

/* "WRITE_FILE", "JUMP_ADDRESS", …; NULL for a value not in enum sdp_cmd. */
const char *sdp_cmd_to_string(enum sdp_cmd cmd);
/* Encode report 1 (17 bytes incl. the ID byte) into out. */
void sdp_encode_cmd(uint8_t out[SDP_REPORT1_LEN], enum sdp_cmd cmd, uint32_t addr,
		    uint8_t format, uint32_t count, uint32_t data);
/* Encode one report 2: ID byte + up to 1024 bytes of data, zero padded. */
void sdp_encode_data(uint8_t out[SDP_REPORT2_LEN], const uint8_t *data, size_t len);
/* Decode report 3 / report 4: checks ID and length (5..65 bytes: the ID and
 * at least the 4-byte word, as uuu's get_status accepts), returns the LE32
 * word. -EBADMSG if malformed. */
int sdp_decode_hab(const uint8_t *buf, size_t len, uint32_t *hab);
int sdp_decode_status(const uint8_t *buf, size_t len, uint32_t *status);
const char *sdp_status_to_string(uint32_t status); /* "hab-open", "write-file-ok", ... or NULL */
/* Describe an error word in the HAB event layout (byte 0 status, 1 reason,
 * 2 context, 3 engine), e.g. 0x000A0533 → "status HAB failure, reason
 * invalid IVT, context authenticate, engine any". Returns buf. */
const char *sdp_hab_event_to_string(uint32_t word, char *buf, size_t size);

/* i.MX6/7 boot ROMs speaking SDP over HID (protocols.md §1.1, §1.4). */
struct sdp_soc {
	const char *name;      /* "MX6Q", "MX6DL", "MX6SL", "MX6SX", "MX6UL", ... */
	uint16_t vid;
	uint16_t pid;
	bool skip_dcd;         /* use SKIP_DCD_HEADER, not the IVT rewrite */
	uint32_t dcd_addr;     /* sdp_upload_opts.dcd_addr for this ROM */
};
/* The ROM with this VID:PID, or NULL if it is not an i.MX6/7 HID ROM. */
const struct sdp_soc *sdp_soc_lookup(uint16_t vid, uint16_t pid);

/* U-Boot SPL's SDP gadget (protocols.md §1.2, §1.4): uuu's config.cpp table
 * calls it SDPU or SDPV by VID:PID and bcdDevice. */
enum sdp_spl_kind {
	SDP_SPL_NONE,
	SDP_SPL_SDPU,   /* 0525:b4a4 bcd 0000-04ff and 9999, 3016:1001 0000-04ff */
	SDP_SPL_SDPV,   /* 0525:b4a4, 1fc9:0151, 3016:1001 bcd 0500-9998 */
};
enum sdp_spl_kind sdp_spl_lookup(uint16_t vid, uint16_t pid, uint16_t bcd);

struct sdp_upload_opts {
	uint32_t dcd_addr;     /* where the ROM stores the DCD: 0x00910000 on i.MX6; 0 = that */
	bool skip_dcd;         /* SKIP_DCD_HEADER (6UL/ULL/SLL/7D) instead of IVT rewrite */
	bool read_uid;         /* READ_REGISTER the OCOTP UID words first */
	bool jump;             /* false: -nojump */
	uint32_t max_chunk;    /* bytes per WRITE_FILE, ≤ SDP_MAX_WRITE_CHUNK; 0 = default */
};

/* What the caller must do next. */
enum sdp_io_kind {
	SDP_IO_SEND,     /* SET_REPORT data/len (report 1 or 2; first byte = report ID) */
	SDP_IO_RECV,     /* read one interrupt-IN report of ≤ SDP_REPORT4_LEN bytes */
	SDP_IO_DONE,     /* upload finished (after JUMP: board is jumping) */
};

struct sdp_io {
	enum sdp_io_kind kind;
	const uint8_t *data;   /* SDP_IO_SEND: bytes to send, valid until next call */
	size_t len;
	bool after_jump;       /* SDP_IO_RECV of report 3 or 4 after JUMP: a
				* timeout/no-device/IO/pipe error means the ROM
				* left to run the image, i.e. success — call
				* sdp_upload_feed_error */
};

struct sdp_upload;

/* img/len: the whole image file (caller keeps it mapped for the upload's life).
 * Sequence: [uid: READ_REGISTER CFG0, CFG1] → [dcd: DCD_WRITE, if the image
 * has a DCD] → write: WRITE_FILE chunks of file bytes [0, upload_size) to
 * load_addr (without skip_dcd, the 1 KiB block holding the IVT is sent with
 * dcd = 0) → [skip-dcd: SKIP_DCD_HEADER, if skip_dcd, jump and a DCD] →
 * [jump: JUMP_ADDRESS self, if jump] → done.
 * -EINVAL: info does not describe img/len, a plugin image, or max_chunk not a
 * multiple of 1024 or above SDP_MAX_WRITE_CHUNK. */
int sdp_upload_new(const uint8_t *img, size_t len, const struct imx_image *info,
		   const struct sdp_upload_opts *opts, struct sdp_upload **out);
struct sdp_upload *sdp_upload_free(struct sdp_upload *u);
/* One command of a list, for plans that spell the upload out step by step
 * (uuu's SDP: dcd / write / jump / status). */
struct sdp_command {
	enum sdp_cmd cmd;
	uint32_t addr;         /* READ_REGISTER (one 32-bit word), WRITE_FILE,
				* DCD_WRITE, JUMP_ADDRESS; ignored otherwise */
	const uint8_t *data;   /* WRITE_FILE, DCD_WRITE: count bytes, kept
				* alive by the caller for the machine's life */
	uint32_t count;        /* WRITE_FILE (sent in SDP_MAX_WRITE_CHUNK
				* pieces), DCD_WRITE (≤ IMX_DCD_MAX) */
};
#define SDP_COMMANDS_MAX 8u

/* A machine for cmds[0..n) in order, driven like the upload (next, sent,
 * feed, feed_error; the upload itself is such a list). WRITE_FILE,
 * DCD_WRITE and SKIP_DCD_HEADER must be acknowledged with their status
 * word; READ_REGISTER and ERROR_STATUS answer with a word
 * (sdp_upload_word; the OCOTP UID words also via sdp_upload_uid);
 * JUMP_ADDRESS ends as in the upload. sdp_upload_step names the running
 * command: "uid" (READ_REGISTER), "dcd", "write", "skip-dcd", "jump",
 * "status" (ERROR_STATUS); bytes done/total count WRITE_FILE data.
 * -EINVAL: n is 0 or above SDP_COMMANDS_MAX, WRITE_REGISTER or a value not
 * in enum sdp_cmd, data missing or count 0 for WRITE_FILE/DCD_WRITE, a
 * DCD above IMX_DCD_MAX, a write past the 32-bit address space, or
 * JUMP_ADDRESS that is not the last command. */
int sdp_upload_new_commands(const struct sdp_command *cmds, size_t n, struct sdp_upload **out);
/* The same for U-Boot SPL's f_sdp (protocols.md §2.9): a WRITE_FILE goes
 * out as one command block whatever its size (the SPL needs no 2 MiB split,
 * and address 0 -- "the SPL's CONFIG_SDP_LOADADDR" -- cannot be split at
 * all), and only WRITE_FILE, JUMP_ADDRESS, ERROR_STATUS and READ_REGISTER
 * are accepted: DCD_WRITE, SKIP_DCD_HEADER and WRITE_REGISTER are never sent
 * to the SPL (-EINVAL). After JUMP_ADDRESS the SPL sends report 3 and
 * jumps; a report 4 is an error word (U-Boot proper's f_sdp answers a jump
 * to data without an IVT with 0x000A0533 after running it as a script). */
int sdp_upload_new_spl(const struct sdp_command *cmds, size_t n, struct sdp_upload **out);

/* Next I/O to perform. Returns 0, or a negative errno if the upload failed
 * (reason via sdp_upload_error). */
int sdp_upload_next(struct sdp_upload *u, struct sdp_io *io);
/* The SEND asked for has completed. */
int sdp_upload_sent(struct sdp_upload *u);
/* A report arrived for the RECV asked for. -EBADMSG: wrong report ID or
 * length; -EPROTO: unexpected word (or any report 4 after JUMP). Either
 * fails the upload. -EINVAL (no state change) if no RECV was asked for. */
int sdp_upload_feed(struct sdp_upload *u, const uint8_t *buf, size_t len);
/* The I/O asked for failed with err (negative errno: -ETIMEDOUT, -ENODEV, -EIO, -EPIPE).
 * For the RECV with after_jump set, those four mean success (returns 0,
 * next I/O is DONE); anything else fails the upload and returns err. */
int sdp_upload_feed_error(struct sdp_upload *u, int err);
const char *sdp_upload_error(const struct sdp_upload *u);   /* reason of the failure, NULL if none */
/* "uid", "dcd", "write", "skip-dcd", "jump", "done"; after a failure, the
 * step that failed. */
const char *sdp_upload_step(const struct sdp_upload *u);
uint64_t sdp_upload_bytes_done(const struct sdp_upload *u); /* image bytes acknowledged */
uint64_t sdp_upload_bytes_total(const struct sdp_upload *u);
bool sdp_upload_hab_closed(const struct sdp_upload *u); /* from the last report 3 */
/* UID if read_uid and read OK: CFG0 | (uint64_t)CFG1 << 32. false if not read. */
bool sdp_upload_uid(const struct sdp_upload *u, uint64_t *uid);
/* The word the last READ_REGISTER or ERROR_STATUS answered; false if none. */
bool sdp_upload_word(const struct sdp_upload *u, uint32_t *word);

#endif
