/* spl: U-Boot SPL's SDP gadget, device side, without I/O: a model of mainline
 * drivers/usb/gadget/f_sdp.c (states, replies, what each command does) and of
 * what SPL does on JUMP_ADDRESS (f_sdp.c sdp_handle_in_ep(): an i.MX IVT is
 * jumped to at its entry; else common/spl/spl.c spl_parse_image_header() on a
 * legacy header, then jump_to_image()). Memory is the board's RAM (mem.c): the
 * SPL has set up DRAM itself, so no DCD is needed.
 *
 * USB (splusb.c) calls in the order f_sdp.c's loop does: spl_setup_report() for
 * a SET_REPORT on ep0, spl_out_wanted()/spl_out_done() for the interrupt OUT
 * endpoint, spl_in_next()/spl_in_done() for the interrupt IN endpoint. */
#ifndef EMU_SPL_H
#define EMU_SPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "mem.h"
#include "soc.h"
#include "uimage.h"

#define SPL_REPORT_IN_LEN 65u   /* in_req: 65 bytes */
#define SPL_OUT_REQ_LEN 2048u   /* out_req: 2048 bytes */

/* f_sdp.c enum sdp_state, plus the two ends of the jump */
enum spl_state {
	SPL_IDLE,
	SPL_RX_CMD,
	SPL_RX_DCD_DATA,
	SPL_RX_FILE_DATA,
	SPL_RX_FILE_DATA_BUSY,
	SPL_TX_SEC_CONF,
	SPL_TX_SEC_CONF_BUSY,
	SPL_TX_REGISTER,
	SPL_TX_REGISTER_BUSY,
	SPL_TX_STATUS,
	SPL_TX_STATUS_BUSY,
	SPL_JUMP,
	SPL_BOOTED, /* jumped into U-Boot proper */
	SPL_HUNG,   /* jumped into something else, or a fault: silent */
};

struct spl_cfg {
	const struct soc_info *soc;
	uint32_t loadaddr; /* CONFIG_SDP_LOADADDR: WRITE_FILE/JUMP_ADDRESS with addr 0 */
};

/* what the jump found */
struct spl_boot {
	uint32_t addr;       /* the jump address (after the addr 0 default) */
	const char *kind;    /* "ivt", "uimage", "none" */
	const char *reason;  /* "ok" or why nothing runs */
	uint32_t entry;
	struct uimage u;
};

struct spl;

int spl_new(const struct spl_cfg *cfg, struct mem *mem, struct log *log, struct spl **out);
struct spl *spl_free(struct spl *s);
const char *spl_state_to_string(enum spl_state s);
enum spl_state spl_state(const struct spl *s);
/* SPL starts (power-on of the SPL stage): everything idle, nothing configured */
void spl_start(struct spl *s);
/* sdp_set_alt(): the host configured the gadget */
void spl_set_alt(struct spl *s);
/* the host fetched the HID report descriptor (f_sdp.c configuration_done):
 * sdp_init() returns and sdp_handle() starts serving */
void spl_config_done(struct spl *s);
bool spl_serving(const struct spl *s);
/* SET_REPORT data stage on ep0 (report id first); returns the bytes f_sdp.c
 * takes for the request (report 1: 17, report 2: all), or -EBADMSG */
int spl_setup_report(struct spl *s, const uint8_t *buf, size_t len);
/* sdp_handle_out_ep(): true when an OUT request is to be queued now */
bool spl_out_wanted(struct spl *s);
/* the queued OUT request completed with BUF/LEN (LEN < 0: an error) */
void spl_out_done(struct spl *s, const uint8_t *buf, long len);
/* sdp_handle_in_ep(): 0 and a report in BUF (SPL_REPORT_IN_LEN bytes) to queue,
 * or -EAGAIN; runs the jump when it is due (state SPL_BOOTED or SPL_HUNG after) */
int spl_in_next(struct spl *s, uint8_t *buf, size_t *len);
/* sdp_tx_complete() */
void spl_in_done(struct spl *s, long res);
const struct spl_boot *spl_boot(const struct spl *s);

#endif
