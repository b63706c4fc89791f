/* plan_sdp: what the SDP lines of a plan send and whether the plan's boot
 * chain can be followed. The byte range of a write is computed at load as
 * uuu computes it when it runs the line (SDPWriteCmd::run in libuuu/sdp.cpp,
 * helpers in libuuu/rominfo.cpp); -scanterm as uuu (ScanTerm, IsMBR), for
 * SDP and FB lines alike. */
#include "plan_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

#define PLAN_SDP_SKIPSPL_SCAN 0x100000u  /* uuu looks for the IVT below 1 MiB */
#define PLAN_SDP_SCANTERM_MAX 0x800000u  /* ScanTerm's default limit */
#define PLAN_SDP_TAG "UUUBURNXXOEUZX7+A-XY5601QQWWZ"
#define PLAN_SDP_OCRAM_LO 0x00900000u    /* i.MX6/7 OCRAM: where an SPL runs */
#define PLAN_SDP_OCRAM_HI 0x0093FFFFu

static uint32_t plan_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- -scanterm ---- */

/* A disk image (MBR signature) carries the bootloader followed by uuu's tag
 * "UUUBURNXXOEUZX7+A-XY5601QQWWZ<length>", looked for from byte 512 to
 * min(data, 8 MiB) - 93. Not a disk image: 0, the line uses the whole data
 * (uuu does the same). 1 and the range; -EINVAL (via plan_fail) for a disk
 * image without a valid tag, where uuu stops. */
/* The first n bytes of step's image: in memory, or read into *tmp (freed
 * by the caller). NULL with the reason via plan_fail in *r. */
static const uint8_t *plan_sdp_head(struct plan_loader *ld, const struct plan_step *step, size_t n,
				    uint8_t **tmp, int *r)
{
	const struct plan_image *img = step->image;

	*tmp = NULL;
	if (img->data)
		return img->data;
	*tmp = malloc(n ? n : 1);
	if (!*tmp) {
		*r = -ENOMEM;
		return NULL;
	}
	*r = imgsrc_read(&img->src, 0, *tmp, n);
	if (*r < 0) {
		*r = plan_fail(ld, "%s: -scanterm: reading the image: %s", step->file, strerror(-*r));
		return NULL;
	}
	return *tmp;
}

static int plan_sdp_tag(struct plan_loader *ld, const struct plan_step *step, const uint8_t *d, size_t lim,
			uint64_t *off, uint64_t *len)
{
	size_t tl = strlen(PLAN_SDP_TAG), end;
	const uint8_t *t = NULL;
	uint64_t n = 0;

	if (lim > tl + 64 + 512) {
		end = lim - tl - 64; /* last start uuu tries + 1 */
		t = memmem(d + 512, end - 512 + tl - 1, PLAN_SDP_TAG, tl);
	}
	for (const uint8_t *c = t ? t + tl : NULL; c && c < d + lim && *c >= '0' && *c <= '9'; c++)
		n = n > UINT32_MAX ? n : n * 10 + (uint64_t)(*c - '0');
	if (!t || n == 0)
		return plan_fail(ld, "%s: -scanterm: a disk image (MBR) without uuu's bootloader tag in its "
				 "first 8 MiB (uuu stops: \"This wic have NOT terminate tag after bootloader\")",
				 step->file);
	if (n > (uint64_t)(t - d))
		return plan_fail(ld, "%s: -scanterm: the tag at 0x%zx says %llu bytes, more than precede it "
				 "(uuu: \"This wic boot length is wrong\")", step->file, (size_t)(t - d),
				 (unsigned long long)n);
	*off = (uint64_t)(t - d) - n;
	*len = n;
	return 1;
}

int plan_sdp_scanterm(struct plan_loader *ld, const struct plan_step *step, uint64_t data_len,
		      uint64_t *off, uint64_t *len)
{
	size_t lim = data_len < PLAN_SDP_SCANTERM_MAX ? (size_t)data_len : PLAN_SDP_SCANTERM_MAX;
	uint8_t *tmp;
	const uint8_t *d;
	int r = 0;

	if (data_len < 512)
		return 0;
	d = plan_sdp_head(ld, step, lim, &tmp, &r);
	if (!d)
		return r;
	r = d[510] != 0x55 || d[511] != 0xAA ? 0 : plan_sdp_tag(ld, step, d, lim, off, len);
	free(tmp);
	return r;
}

/* ---- write ---- */

/* uuu's search_ivt_header: an IVT (or i.MX8M's second IVT tag) at a
 * 4-byte step from *off, below limit. */
static bool plan_sdp_find_ivt(const uint8_t *d, size_t dlen, size_t *off, size_t limit)
{
	if (limit > dlen)
		limit = dlen;
	for (size_t o = *off; o < limit && o + 32 <= dlen; o += 4) {
		uint32_t barker = plan_rd32(d + o), bd;
		if (barker == 0x402000D1) {
			*off = o;
			return true;
		}
		if (barker != 0x412000D1)
			continue;
		bd = (uint32_t)o + plan_rd32(d + o + 16) - plan_rd32(d + o + 20);
		if ((size_t)bd + 12 <= dlen && (plan_rd32(d + bd + 8) & 0xFFFFFFFEu))
			continue; /* i.MX8MQ's HDMI firmware */
		*off = o;
		return true;
	}
	return false;
}

/* -skipspl: U-Boot proper follows the SPL whose IVT is found first: at
 * ivt + boot_data.length - (ivt.self - boot_data.start). */
static int plan_sdp_skipspl(struct plan_loader *ld, const struct plan_step *step, uint64_t data_len,
			    uint64_t *offset)
{
	const uint8_t *d = step->image->data;
	size_t off = (size_t)*offset;
	int64_t o;
	uint32_t bd;

	if (*offset >= data_len || !plan_sdp_find_ivt(d, (size_t)data_len, &off, PLAN_SDP_SKIPSPL_SCAN))
		return plan_fail(ld, "%s: -skipspl: no IVT in the first 1 MiB from offset 0x%llx: not an "
				 "SPL image (uuu: \"Unknown Image type, can't use skipspl format\")",
				 step->file, (unsigned long long)*offset);
	if (!plan_rd32(d + off + 16))
		return 0; /* no boot data: uuu leaves the offset as it is */
	bd = (uint32_t)off + plan_rd32(d + off + 16) - plan_rd32(d + off + 20);
	if ((uint64_t)bd + 12 > data_len)
		return plan_fail(ld, "%s: -skipspl: the boot data of the IVT at 0x%zx lie outside the file",
				 step->file, off);
	o = (int64_t)off + (int64_t)plan_rd32(d + bd + 4) -
	    ((int64_t)plan_rd32(d + off + 20) - (int64_t)plan_rd32(d + bd));
	if (o < 0 || (uint64_t)o >= data_len)
		return plan_fail(ld, "%s: -skipspl: the SPL at 0x%zx ends at 0x%llx, %s (uuu: \"Unknown "
				 "Image type, can't use skipspl format\")", step->file, off, (long long)o,
				 o < 0 ? "before the file" : "nothing follows it");
	*offset = (uint64_t)o;
	return 0;
}

/* -skipfhdr: uuu skips 0x1000 bytes when a FlexSPI header's magic is at
 * one of its offsets (GetFlashHeaderSize); an i.MX6/7 image has none. */
static uint64_t plan_sdp_fhdr(const struct plan_step *step, uint64_t data_len, uint64_t offset)
{
	static const uint64_t at[] = { 0, 0x400, 0x1fc, 0x5fc };

	for (size_t i = 0; i < ELEMENTSOF(at); i++) {
		uint32_t m;
		if (offset >= data_len || data_len - offset < at[i] + 4)
			return 0;
		m = plan_rd32(step->image->data + offset + at[i]);
		if (m == 0xc0ffee01u || m == 0x42464346u)
			return 0x1000;
	}
	return 0;
}

/* What an SPL write to CONFIG_SDP_LOADADDR (address 0) sends is what the
 * SPL's jump (address 0, the same place) starts: U-Boot SPL's f_sdp.c hands
 * the bytes there to spl_parse_image_header() (common/spl/spl.c), which
 * knows a legacy uImage (u-boot.img), a FIT and an i.MX IVT; anything else
 * is taken as a raw U-Boot at CONFIG_SYS_TEXT_BASE, or refused, and the
 * board hangs silently. A u-boot-with-spl.imx padded to CONFIG_SPL_PAD_TO is
 * the usual case: uuu's -skipspl takes the SPL's boot-data length, which
 * mkimage rounds to 4 KiB, and lands in the padding. */
static int plan_sdp_spl_payload(struct plan_loader *ld, const struct plan_step *step)
{
	const uint8_t *d = step->image->data + step->image_offset;
	uint32_t le;

	if ((step->proto != PLAN_PROTO_SDPU && step->proto != PLAN_PROTO_SDPV) ||
	    (step->has_addr && step->addr != 0))
		return 0;
	if (step->image_len >= 4) {
		le = plan_rd32(d);
		if (le == 0x56190527u /* uImage ih_magic 0x27051956, big endian */ ||
		    le == 0xedfe0dd0u /* FDT magic 0xd00dfeed: a FIT */ ||
		    le == 0x402000D1u || le == 0x412000D1u)
			return 0;
	}
	return plan_fail(ld, "%s: the %s data at offset 0x%llx is no U-Boot image (no uImage, FIT or "
			 "IVT header): U-Boot SPL would not start it and the board would hang%s",
			 step->file, step->skipspl ? "-skipspl" : "written",
			 (unsigned long long)step->image_offset,
			 step->skipspl ? " (a flash.bin padded to CONFIG_SPL_PAD_TO? -skipspl lands in the "
				       "padding: write u-boot.img itself)" : "");
}

int plan_sdp_range(struct plan_loader *ld, struct plan_step *step)
{
	uint64_t data_len = step->image->size, size, offset = step->image_offset, toff, tlen;
	int r;

	if (step->scan_limit && step->scan_limit < data_len)
		data_len = step->scan_limit; /* uuu reads only that much of the file */
	size = data_len;
	if (step->skipfhdr)
		offset += plan_sdp_fhdr(step, data_len, offset);
	if (step->scanterm) {
		r = plan_sdp_scanterm(ld, step, data_len, &toff, &tlen);
		if (r < 0)
			return r;
		if (r > 0) {
			offset = toff;
			size = toff + tlen;
		}
	}
	if (step->skipspl) {
		r = plan_sdp_skipspl(ld, step, data_len, &offset);
		if (r < 0)
			return r;
	}
	if (offset >= size)
		return plan_fail(ld, "%s: -offset 0x%llx is beyond the end of the %s (%llu bytes)", step->file,
				 (unsigned long long)offset, step->scan_limit ? "-scanlimited data" : "file",
				 (unsigned long long)size);
	step->image_offset = offset;
	step->image_len = size - offset;
	return plan_sdp_spl_payload(ld, step);
}

/* ---- the boot chain ---- */

bool plan_image_is_spl(const struct plan_image *img)
{
	return img && img->is_imx &&
	       ((img->imx.entry >= PLAN_SDP_OCRAM_LO && img->imx.entry <= PLAN_SDP_OCRAM_HI) ||
		(img->imx.self >= PLAN_SDP_OCRAM_LO && img->imx.self <= PLAN_SDP_OCRAM_HI));
}

/* The image the boot ROM starts: the first SDP boot, or jump -f. */
static const struct plan_step *plan_sdp_boot_step(const struct plan *p)
{
	for (size_t i = 0; i < p->nsteps; i++) {
		const struct plan_step *s = &p->steps[i];
		if (s->proto == PLAN_PROTO_SDP && (s->op == PLAN_OP_BOOT || s->op == PLAN_OP_JUMP))
			return s;
	}
	return NULL;
}

static bool plan_has_proto(const struct plan *p, enum plan_proto proto)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].proto == proto && p->steps[i].runs_on_imx6)
			return true;
	return false;
}

static bool plan_has(const struct plan *p, enum plan_proto proto, enum plan_op op)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].proto == proto && p->steps[i].op == op)
			return true;
	return false;
}

static bool plan_runs(const struct plan *p, enum plan_proto proto, enum plan_op op)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].proto == proto && p->steps[i].op == op && p->steps[i].runs_on_imx6)
			return true;
	return false;
}

bool plan_has_spl_stage(const struct plan *p)
{
	return (plan_runs(p, PLAN_PROTO_SDPU, PLAN_OP_WRITE) && plan_runs(p, PLAN_PROTO_SDPU, PLAN_OP_JUMP)) ||
	       (plan_runs(p, PLAN_PROTO_SDPV, PLAN_OP_WRITE) && plan_runs(p, PLAN_PROTO_SDPV, PLAN_OP_JUMP));
}

bool plan_boots_spl(const struct plan *p)
{
	const struct plan_step *b = plan_sdp_boot_step(p);

	return b && plan_image_is_spl(b->image);
}

bool plan_spl_reachable(const struct plan *p)
{
	const struct plan_step *b = plan_sdp_boot_step(p);

	return !b || !b->image || plan_image_is_spl(b->image);
}

static void plan_sdp_not_run(struct plan *p, enum plan_proto proto)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].proto == proto)
			p->steps[i].runs_on_imx6 = false;
}

/* Ranges of the SPL writes. A line that will run if the board comes up as
 * SPL must work: an error refuses the plan. A line that cannot be reached
 * and whose range cannot be computed makes its protocol's lines display
 * only: the ROM boots a full U-Boot (no SPL ever comes up), or it is an
 * SDPU: line beside SDPV: ones — U-Boot SPL on i.MX6/7 reports bcdDevice
 * 0x0500 (SDPV_BCD_DEVICE, arch/arm/mach-imx/spl.c), older builds their
 * version number, both uuu's SDPV: range; NXP's scripts carry SDPU: lines
 * with i.MX8 offsets for old i.MX8MQ SPLs. */
static int plan_sdp_spl_ranges(struct plan_loader *ld)
{
	struct plan *p = ld->p;
	bool reachable = plan_spl_reachable(p), sdpv = plan_has(p, PLAN_PROTO_SDPV, PLAN_OP_WRITE);

	for (size_t i = 0; i < p->nsteps; i++) {
		struct plan_step *s = &p->steps[i];
		struct plan_loader quiet = *ld;
		bool strict = reachable && (s->proto == PLAN_PROTO_SDPV || !sdpv);
		int r;
		if ((s->proto != PLAN_PROTO_SDPU && s->proto != PLAN_PROTO_SDPV) || s->op != PLAN_OP_WRITE ||
		    !s->image)
			continue;
		ld->line = quiet.line = s->line;
		if (!strict)
			quiet.err = NULL;
		r = plan_sdp_range(strict ? ld : &quiet, s);
		if (r == -EINVAL && !strict)
			plan_sdp_not_run(p, s->proto);
		else if (r < 0)
			return r;
	}
	return 0;
}

static int plan_sdp_spl_pairs(struct plan_loader *ld, enum plan_proto proto)
{
	bool w = plan_has(ld->p, proto, PLAN_OP_WRITE), j = plan_has(ld->p, proto, PLAN_OP_JUMP);
	const char *n = plan_proto_to_string(proto);

	if (w == j)
		return 0;
	for (size_t i = 0; i < ld->p->nsteps; i++)
		if (ld->p->steps[i].proto == proto) {
			ld->line = ld->p->steps[i].line;
			break;
		}
	return w ? plan_fail(ld, "%s: write without %s: jump: U-Boot SPL would never start what it got", n, n)
		 : plan_fail(ld, "%s: jump without %s: write: U-Boot SPL would jump to nothing", n, n);
}

int plan_sdp_chain(struct plan_loader *ld)
{
	const struct plan_step *b;
	int r = plan_sdp_spl_ranges(ld);

	if (r == 0)
		r = plan_sdp_spl_pairs(ld, PLAN_PROTO_SDPU);
	if (r == 0)
		r = plan_sdp_spl_pairs(ld, PLAN_PROTO_SDPV);
	if (r < 0)
		return r;
	b = plan_sdp_boot_step(ld->p);
	if (b && plan_image_is_spl(b->image) && !plan_has_spl_stage(ld->p)) {
		ld->line = b->line;
		return plan_fail(ld, "%s is a U-Boot SPL (entry 0x%08x in OCRAM): the plan needs SDPV: (or "
				 "SDPU:) write and jump lines for U-Boot proper", b->file,
				 (unsigned)b->image->imx.entry);
	}
	if (!b && plan_has_spl_stage(ld->p) && !plan_has_proto(ld->p, PLAN_PROTO_FB)) {
		ld->line = 0;
		return plan_fail(ld, "SDPU:/SDPV: lines but no SDP: boot: a board in the boot ROM never "
				 "reaches U-Boot SPL (add 'SDP: boot -f SPL')");
	}
	return 0;
}
