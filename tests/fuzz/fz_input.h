/* fz_input: the fuzz input read as a board's answers, for the session targets
 * (fuzz-fb_session.c, fuzz-sdp_session.c). Past its end every read gives -1
 * (a byte) or zeros, so that a board whose input ran out can still answer. */
#ifndef FLASHD_FUZZ_FZ_INPUT_H
#define FLASHD_FUZZ_FZ_INPUT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* The statuses a transfer may end with (usb.h), picked by three bits. */
static const int fz_errors[8] = { -EPIPE, -ETIMEDOUT, -EIO, -EOVERFLOW, -ENODEV, -EPROTO,
				  -ENOMEM, -EBUSY };

struct fz_input {
	const uint8_t *in;
	size_t left;
};

/* The next byte, or -1 when the input ran out. */
static inline int fz_in_byte(struct fz_input *x)
{
	if (!x->left)
		return -1;
	x->left--;
	return *x->in++;
}

/* Four bytes, big-endian; those past the end read as 0. */
static inline uint32_t fz_in_word(struct fz_input *x)
{
	uint32_t v = 0;

	for (int i = 0, c; i < 4; i++)
		v = v << 8 | (uint8_t)((c = fz_in_byte(x)) < 0 ? 0 : c);
	return v;
}

/* A length byte, then that many bytes of input appended at buf + *actual
 * (fewer when buf's len bytes are full or the input runs out). */
static inline void fz_in_raw(struct fz_input *x, uint8_t *buf, size_t len, size_t *actual)
{
	for (int n = fz_in_byte(x), m = n < 0 ? 0 : n; m > 0 && *actual < len && x->left; m--)
		buf[(*actual)++] = (uint8_t)fz_in_byte(x);
}

#endif
