/* soc: see soc.h. Memory maps from the i.MX6 reference manuals (via U-Boot's
 * imx-regs.h); ROM strings as observed on real boards (protocols.md §1.1). */
#include "soc.h"

#include "util.h"

#include <string.h>

static const struct soc_info soc_table[] = {
	{ "6q", 0x0054, "SE Blank ARIK", false, 0x10000000u, 0x4FFFFFFFu,
	  0x00900000u, 0x0093FFFFu, "mx6sabresd" },
	{ "6dl", 0x0061, "SP Blank RIGEL", false, 0x10000000u, 0x4FFFFFFFu,
	  0x00900000u, 0x0091FFFFu, "mx6sabresd" },
	{ "6sl", 0x0063, "SE Blank MEGREZ", false, 0x80000000u, 0xBFFFFFFFu,
	  0x00900000u, 0x0091FFFFu, "mx6slevk" },
	{ "6sx", 0x0071, "SE Blank PELE", true, 0x80000000u, 0xBFFFFFFFu,
	  0x00900000u, 0x0091FFFFu, "mx6sxsabresd" },
	{ "6ul", 0x007d, "SE Blank 6UL", true, 0x80000000u, 0xBFFFFFFFu,
	  0x00900000u, 0x0091FFFFu, "mx6ul_14x14_evk" },
	{ "6ull", 0x0080, "SE Blank 6ULL", true, 0x80000000u, 0xBFFFFFFFu,
	  0x00900000u, 0x0091FFFFu, "mx6ull_14x14_evk" },
};

const struct soc_info *soc_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(soc_table); i++)
		if (name && !strcmp(soc_table[i].name, name))
			return &soc_table[i];
	return NULL;
}

static bool soc_in(uint32_t lo, uint32_t hi, uint32_t addr, uint64_t len)
{
	return addr >= lo && (uint64_t)addr + len - 1 <= hi && len > 0;
}

bool soc_in_dram(const struct soc_info *s, uint32_t addr, uint64_t len)
{
	return soc_in(s->dram_start, s->dram_end, addr, len);
}

bool soc_in_ocram(const struct soc_info *s, uint32_t addr, uint64_t len)
{
	return soc_in(s->ocram_start, s->ocram_end, addr, len);
}

/* register blocks a DCD may touch (the RM's "valid DCD address ranges";
 * the exact lists per part are unverified, these are the common blocks) */
static const struct {
	uint32_t lo, hi;
} soc_dcd_regs[] = {
	{ 0x020C4000u, 0x020C7FFFu }, /* CCM */
	{ 0x020C8000u, 0x020C8FFFu }, /* CCM_ANALOG / PMU */
	{ 0x020E0000u, 0x020E3FFFu }, /* IOMUXC */
	{ 0x02290000u, 0x02293FFFu }, /* IOMUXC_SNVS (6UL/6ULL) */
	{ 0x021B0000u, 0x021B7FFFu }, /* MMDC0/MMDC1 */
	{ 0x021B8000u, 0x021BBFFFu }, /* EIM registers */
	{ 0x08000000u, 0x0FFEFFFFu }, /* EIM memory (6Q/6DL) */
};

bool soc_dcd_addr_ok(const struct soc_info *s, uint32_t addr, unsigned width)
{
	for (size_t i = 0; i < ARRAY_SIZE(soc_dcd_regs); i++)
		if (soc_in(soc_dcd_regs[i].lo, soc_dcd_regs[i].hi, addr, width))
			return true;
	/* OCRAM above the ROM's own area, and DRAM */
	return soc_in(0x00907000u, s->ocram_end, addr, width) || soc_in_dram(s, addr, width);
}

/* bits that the hardware clears by itself once the operation they start is done */
static const struct {
	uint32_t addr, bits;
} soc_self_clear[] = {
	{ 0x021B0800u, 1u << 16 }, /* MPZQHWCTRL.ZQ_HW_FOR */
	{ 0x021B4800u, 1u << 16 },
	{ 0x021B0808u, 1u << 0 },  /* MPWLGCR.HW_WL_EN */
	{ 0x021B4808u, 1u << 0 },
	{ 0x021B083Cu, 1u << 28 }, /* MPDGCTRL0.HW_DG_EN */
	{ 0x021B483Cu, 1u << 28 },
	{ 0x021B0860u, 1u << 4 },  /* MPRDDLHWCTL.HW_RD_DL_EN */
	{ 0x021B4860u, 1u << 4 },
	{ 0x021B0864u, 1u << 4 },  /* MPWRDLHWCTL.HW_WR_DL_EN */
	{ 0x021B4864u, 1u << 4 },
	{ 0x021B08B8u, 1u << 11 }, /* MPMUR0.FRC_MSR */
	{ 0x021B48B8u, 1u << 11 },
};

/* PLL control registers: LOCK (bit 31) reads as set */
static const uint32_t soc_pll[] = {
	0x020C8000u, 0x020C8010u, 0x020C8020u, 0x020C8030u,
	0x020C8070u, 0x020C80A0u, 0x020C80E0u,
};

#define SOC_CCM_CDHIPR 0x020C4048u
#define SOC_MMDC_MDSCR0 0x021B001Cu
#define SOC_MMDC_MDSCR1 0x021B401Cu
#define SOC_MDSCR_CON_REQ (1u << 15)
#define SOC_MDSCR_CON_ACK (1u << 14)

static uint32_t soc_model_read(uint32_t reg, uint32_t v)
{
	if (reg == SOC_CCM_CDHIPR)
		return 0; /* no clock divider handshake ever busy */
	if (reg == SOC_MMDC_MDSCR0 || reg == SOC_MMDC_MDSCR1)
		return (v & ~SOC_MDSCR_CON_ACK) | (v & SOC_MDSCR_CON_REQ ? SOC_MDSCR_CON_ACK : 0);
	for (size_t i = 0; i < ARRAY_SIZE(soc_pll); i++)
		if (reg == soc_pll[i])
			return v | 1u << 31;
	return v;
}

uint32_t soc_read(const struct soc_info *s, const struct mem *m, uint64_t uid, uint32_t addr,
		  unsigned width)
{
	uint32_t reg = addr & ~3u, shift = (addr & 3u) * 8, v;

	(void)s;
	if (reg == SOC_OCOTP_CFG0)
		v = (uint32_t)uid;
	else if (reg == SOC_OCOTP_CFG1)
		v = (uint32_t)(uid >> 32);
	else
		v = soc_model_read(reg, mem_read32(m, reg));
	v >>= shift;
	if (width == 1)
		return v & 0xff;
	if (width == 2)
		return v & 0xffff;
	return v;
}

int soc_write(const struct soc_info *s, struct mem *m, uint32_t addr, uint32_t val,
	      unsigned width)
{
	uint8_t b[4];
	uint32_t reg = addr & ~3u, v;
	int r;

	(void)s;
	util_put_le32(b, val);
	r = mem_write(m, addr, b, width);
	if (r < 0)
		return r;
	v = mem_read32(m, reg);
	for (size_t i = 0; i < ARRAY_SIZE(soc_self_clear); i++)
		if (soc_self_clear[i].addr == reg && (v & soc_self_clear[i].bits))
			r = mem_write32(m, reg, v & ~soc_self_clear[i].bits);
	return r;
}

bool soc_dram_ready(const struct soc_info *s, const struct mem *m)
{
	(void)s;
	return mem_read32(m, SOC_MMDC_MDCTL) & 1u << 31;
}
