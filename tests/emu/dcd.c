/* dcd: see dcd.h. Command encodings: protocols.md §3.3 (U-Boot tools/imximage.c
 * writes them; HAB v4 defines them). */
#include "dcd.h"

#include "util.h"

#define DCD_CMD_WRITE 0xCCu
#define DCD_CMD_CHECK 0xCFu
#define DCD_CMD_NOP 0xC0u
#define DCD_CMD_UNLOCK 0xB2u
#define DCD_FLAG_MASK 0x08u
#define DCD_FLAG_SET 0x10u

/* HAB event bytes: status, reason, context, engine (protocols.md §2.3) */
#define DCD_HAB_WORD(reason) (0x33u | (reason) << 8 | 0xDDu << 16)
#define DCD_REASON_INV_ADDRESS 0x22u
#define DCD_REASON_INV_DCD 0x27u

static const char *const dcd_status_names[] = {
	[DCD_OK] = "ok",
	[DCD_BAD_HEADER] = "bad-header",
	[DCD_TOO_BIG] = "too-big",
	[DCD_BAD_COMMAND] = "bad-command",
	[DCD_BAD_LENGTH] = "bad-length",
	[DCD_BAD_WIDTH] = "bad-width",
	[DCD_BAD_ADDRESS] = "bad-address",
	[DCD_CHECK_FAILED] = "check-failed",
	[DCD_CHECK_HANGS] = "check-hangs",
	[DCD_NO_MEMORY] = "no-memory",
};

const char *dcd_status_to_string(enum dcd_status s)
{
	return (unsigned)s < ARRAY_SIZE(dcd_status_names) ? dcd_status_names[s] : "?";
}

uint32_t dcd_status_hab_word(enum dcd_status s)
{
	return s == DCD_BAD_ADDRESS ? DCD_HAB_WORD(DCD_REASON_INV_ADDRESS)
				    : DCD_HAB_WORD(DCD_REASON_INV_DCD);
}

static const char *dcd_write_op(uint8_t flags)
{
	if (!(flags & DCD_FLAG_MASK))
		return "write";
	return flags & DCD_FLAG_SET ? "set" : "clear";
}

static enum dcd_status dcd_write(const uint8_t *c, size_t clen, const struct dcd_target *t,
				 struct log *log, struct dcd_result *res)
{
	uint8_t flags = c[3] & (DCD_FLAG_MASK | DCD_FLAG_SET);
	unsigned width = c[3] & 7u;

	if (width != 1 && width != 2 && width != 4)
		return DCD_BAD_WIDTH;
	if ((clen - 4) % 8)
		return DCD_BAD_LENGTH;
	for (size_t o = 4; o < clen; o += 8) {
		uint32_t addr = util_be32(c + o), val = util_be32(c + o + 4), v = val;
		struct log_ev e;

		if (!t->soc || !soc_dcd_addr_ok(t->soc, addr, width))
			return DCD_BAD_ADDRESS;
		if (flags & DCD_FLAG_MASK) {
			uint32_t old = soc_read(t->soc, t->mem, t->uid, addr, width);

			v = flags & DCD_FLAG_SET ? old | val : old & ~val;
		}
		if (soc_write(t->soc, t->mem, addr, v, width) < 0)
			return DCD_NO_MEMORY;
		res->writes++;
		log_begin(&e, log, "dcd-write");
		log_hex32(&e, "addr", addr);
		log_hex32(&e, "value", val);
		log_str(&e, "op", dcd_write_op(flags));
		log_u64(&e, "width", width);
		log_end(&e);
	}
	return DCD_OK;
}

static bool dcd_check_ok(uint8_t flags, uint32_t v, uint32_t m)
{
	switch (flags) {
	case 0: return (v & m) == 0;
	case DCD_FLAG_MASK: return (v & m) != m;
	case DCD_FLAG_SET: return (v & m) == m;
	default: return (v & m) != 0;
	}
}

static enum dcd_status dcd_check(const uint8_t *c, size_t clen, const struct dcd_target *t,
				 struct log *log, struct dcd_result *res)
{
	uint8_t flags = c[3] & (DCD_FLAG_MASK | DCD_FLAG_SET);
	unsigned width = c[3] & 7u;
	uint32_t addr, mask, v;
	bool has_count = clen == 16, ok;
	struct log_ev e;

	if (width != 1 && width != 2 && width != 4)
		return DCD_BAD_WIDTH;
	if (clen != 12 && clen != 16)
		return DCD_BAD_LENGTH;
	addr = util_be32(c + 4);
	mask = util_be32(c + 8);
	if (!t->soc || !soc_dcd_addr_ok(t->soc, addr, width))
		return DCD_BAD_ADDRESS;
	/* the emulated registers do not change while polled: one read decides */
	v = soc_read(t->soc, t->mem, t->uid, addr, width);
	ok = dcd_check_ok(flags, v, mask);
	res->checks++;
	log_begin(&e, log, "dcd-check");
	log_hex32(&e, "addr", addr);
	log_hex32(&e, "mask", mask);
	log_hex32(&e, "value", v);
	log_u64(&e, "cond", flags);
	if (has_count)
		log_u64(&e, "count", util_be32(c + 12));
	log_bool(&e, "ok", ok);
	log_end(&e);
	if (ok)
		return DCD_OK;
	return has_count ? DCD_CHECK_FAILED : DCD_CHECK_HANGS;
}

static enum dcd_status dcd_command(const uint8_t *c, size_t clen, const struct dcd_target *t,
				   struct log *log, struct dcd_result *res)
{
	struct log_ev e;

	switch (c[0]) {
	case DCD_CMD_WRITE:
		return dcd_write(c, clen, t, log, res);
	case DCD_CMD_CHECK:
		return dcd_check(c, clen, t, log, res);
	case DCD_CMD_NOP:
		if (clen != 4)
			return DCD_BAD_LENGTH;
		log_simple(log, "dcd-nop");
		return DCD_OK;
	case DCD_CMD_UNLOCK:
		if ((clen - 4) % 4)
			return DCD_BAD_LENGTH;
		log_begin(&e, log, "dcd-unlock");
		log_u64(&e, "engine", c[3]);
		log_end(&e);
		return DCD_OK;
	default:
		return DCD_BAD_COMMAND;
	}
}

void dcd_run(const uint8_t *b, size_t len, const struct dcd_target *t, struct log *log,
	     struct dcd_result *res)
{
	size_t total, o = 4;

	res->status = DCD_OK;
	res->offset = 0;
	res->writes = res->checks = 0;
	if (!b || len < 4 || b[0] != DCD_TAG || (b[3] & 0xF0) != 0x40) {
		res->status = DCD_BAD_HEADER;
		return;
	}
	total = util_be16(b + 1);
	if (total > DCD_MAX_SIZE) {
		res->status = DCD_TOO_BIG;
		return;
	}
	if (total < 4 || total > len) {
		res->status = DCD_BAD_HEADER;
		return;
	}
	while (o < total) {
		size_t clen;

		res->offset = o;
		if (total - o < 4) {
			res->status = DCD_BAD_LENGTH;
			return;
		}
		clen = util_be16(b + o + 1);
		if (clen < 4 || clen > total - o) {
			res->status = DCD_BAD_LENGTH;
			return;
		}
		res->status = dcd_command(b + o, clen, t, log, res);
		if (res->status != DCD_OK)
			return;
		o += clen;
	}
	res->offset = total;
}
