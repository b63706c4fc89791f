/* runtime: the gadget a booted board shows with --runtime-gadget (1d6b:0104, a
 * vendor-specific interface that does nothing): the board is up and running an
 * OS, and it is neither a ROM nor a fastboot device */
#include "board.h"

static void runtime_nop(struct board *b)
{
	(void)b;
}

static void runtime_setup(struct board *b, const struct usb_ctrlrequest *req)
{
	ffs_setup_stall(b->ffs, req);
}

static void runtime_io(struct board *b, uint64_t tag, long res)
{
	(void)b;
	(void)tag;
	(void)res;
}

const struct board_ops runtime_ops = {
	.enable = runtime_nop,
	.disable = runtime_nop,
	.setup = runtime_setup,
	.io = runtime_io,
	.timer = runtime_nop,
};
