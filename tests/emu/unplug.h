/* unplug: --unplug-at WHEN:WHERE:N, the board's power cut at a chosen point (just
 * before, in the middle of, or just after the N-th ROM SDP command, SPL SDP command,
 * fastboot command or re-enumeration), then --replug-after MS later a fresh board
 * (power-on: boot ROM, RAM and registers cleared, eMMC kept).
 *
 * Nothing to cite for the board side: a cut leaves no trace on the device; the host
 * sees what the kernel shows for a UDC unbind (Linux drivers/usb/gadget/udc/core.c
 * usb_gadget_disconnect(): the pull-up goes, the host's hub reports the port
 * disconnected), exactly as for a cable pulled out. The phase modules (romusb.c,
 * splusb.c, fbusb.c, board.c) call the hooks below; a hook that returns true has
 * ended the session (BOARD_END_UNPLUG) and the caller drops what it was doing. */
#ifndef EMU_UNPLUG_H
#define EMU_UNPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"

/* a command of W arrived (ROM/SPL report 1, fastboot command); DATA: the bytes of
 * its data phase when the command announces one (WRITE_FILE, DCD_WRITE), else 0 */
bool unplug_cmd(struct board *b, enum opts_unplug_where w, uint64_t data);
/* the current command of W turned out to have a data phase of DATA bytes (download) */
void unplug_expect_data(struct board *b, enum opts_unplug_where w, uint64_t data);
/* BYTES more of the current command's data arrived, not yet handed on */
bool unplug_data(struct board *b, enum opts_unplug_where w, uint64_t bytes);
/* the current command of W was carried out, its replies not yet sent */
bool unplug_processed(struct board *b, enum opts_unplug_where w);
/* the last reply of the current command of W went to the host */
bool unplug_replied(struct board *b, enum opts_unplug_where w);
/* the board left the bus to re-enumerate (a jump) */
bool unplug_reenum(struct board *b);
/* FunctionFS BIND (ENABLED false) or ENABLE of the session after that re-enumeration */
bool unplug_session(struct board *b, bool enabled);
/* after a session ended with BOARD_END_UNPLUG (or unplug_reenum()): off the bus for
 * --replug-after, then power-on; the next phase (BOARD_PHASE_OFF when it stays off) */
enum board_phase unplug_replug(struct board *b);
/* the data phase length announced by an SDP report 1 (WRITE_FILE, DCD_WRITE), else 0 */
uint64_t unplug_sdp_data(const uint8_t *report1, size_t len);

#endif
