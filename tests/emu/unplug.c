/* unplug: see unplug.h */
#include "unplug.h"

#include "rom.h"
#include "util.h"

#define UNPLUG_SDP_WRITE_FILE 0x0404u /* protocols.md §2.2 */
#define UNPLUG_SDP_DCD_WRITE 0x0A0Au

static bool unplug_mine(const struct board *b, enum opts_unplug_where w)
{
	return b->unplug_armed && !b->unplug_done && b->o->unplug_where == w;
}

/* the power goes: log it and end the session (the caller unbinds the UDC) */
static void unplug_fire(struct board *b)
{
	struct log_ev e;

	b->unplug_done = true;
	b->unplug_armed = false;
	log_begin(&e, b->log, "unplug");
	log_str(&e, "when", opts_unplug_when_to_string(b->o->unplug_when));
	log_str(&e, "where", opts_unplug_where_to_string(b->o->unplug_where));
	log_u64(&e, "n", b->o->unplug_n);
	log_str(&e, "phase", board_phase_to_string(b->phase));
	log_u64(&e, "data", b->unplug_got);
	log_end(&e);
	board_end(b, BOARD_END_UNPLUG, "unplug");
}

uint64_t unplug_sdp_data(const uint8_t *r1, size_t len)
{
	uint16_t cmd;

	if (len < ROM_REPORT1_LEN || r1[0] != 1)
		return 0;
	cmd = util_be16(r1 + 1);
	return cmd == UNPLUG_SDP_WRITE_FILE || cmd == UNPLUG_SDP_DCD_WRITE ? util_be32(r1 + 8) : 0;
}

bool unplug_cmd(struct board *b, enum opts_unplug_where w, uint64_t data)
{
	const struct opts *o = b->o;

	if (b->unplug_done || o->unplug_where != w)
		return false;
	if (b->unplug_armed) {
		/* the armed command ended without its point being reached (a reply
		 * the hooks did not see): the power goes before the next one runs */
		unplug_fire(b);
		return true;
	}
	if (++b->unplug_count != o->unplug_n)
		return false;
	b->unplug_armed = true;
	b->unplug_got = 0;
	b->unplug_total = data;
	if (o->unplug_when == OPTS_UNPLUG_BEFORE) {
		unplug_fire(b);
		return true;
	}
	return false;
}

void unplug_expect_data(struct board *b, enum opts_unplug_where w, uint64_t data)
{
	if (unplug_mine(b, w))
		b->unplug_total = data;
}

bool unplug_data(struct board *b, enum opts_unplug_where w, uint64_t bytes)
{
	if (!unplug_mine(b, w))
		return false;
	b->unplug_got += bytes;
	if (b->o->unplug_when != OPTS_UNPLUG_MIDDLE || !b->unplug_total ||
	    b->unplug_got * 2 < b->unplug_total)
		return false;
	unplug_fire(b);
	return true;
}

bool unplug_processed(struct board *b, enum opts_unplug_where w)
{
	if (!unplug_mine(b, w) || b->o->unplug_when != OPTS_UNPLUG_MIDDLE || b->unplug_total)
		return false;
	unplug_fire(b);
	return true;
}

bool unplug_replied(struct board *b, enum opts_unplug_where w)
{
	if (!unplug_mine(b, w))
		return false;
	if (b->o->unplug_when != OPTS_UNPLUG_AFTER) {
		b->unplug_armed = false; /* its point passed (a data phase cut short) */
		return false;
	}
	/* dummy_hcd completes a short IN request as soon as it is queued: give
	 * the host the time to read the reply before the power goes */
	board_sleep_ms(b, BOARD_DRAIN_MS);
	unplug_fire(b);
	return true;
}

bool unplug_reenum(struct board *b)
{
	const struct opts *o = b->o;

	if (b->unplug_done || o->unplug_where != OPTS_UNPLUG_REENUM ||
	    ++b->unplug_count != o->unplug_n)
		return false;
	if (o->unplug_when != OPTS_UNPLUG_BEFORE) {
		b->unplug_armed = true; /* the next session's BIND or ENABLE */
		return false;
	}
	unplug_fire(b);
	return true;
}

bool unplug_session(struct board *b, bool enabled)
{
	enum opts_unplug_when want = enabled ? OPTS_UNPLUG_AFTER : OPTS_UNPLUG_MIDDLE;

	if (!unplug_mine(b, OPTS_UNPLUG_REENUM) || b->o->unplug_when != want)
		return false;
	unplug_fire(b);
	return true;
}

enum board_phase unplug_replug(struct board *b)
{
	board_set_phase(b, BOARD_PHASE_UNPLUGGED);
	if (!b->o->replug_ms) {
		board_set_phase(b, BOARD_PHASE_OFF);
		return BOARD_PHASE_OFF;
	}
	board_sleep_ms(b, b->o->replug_ms);
	if (b->terminate)
		return BOARD_PHASE_OFF;
	/* power-on: the ROM's RAM and registers are gone; U-Boot and the SPL
	 * start afresh when the ROM jumps again (board_do_jump) */
	rom_power_on(b->rom);
	log_simple_str(b->log, "replug", "phase", "rom");
	return BOARD_PHASE_ROM;
}
