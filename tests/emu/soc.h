/* soc: what differs between the emulated i.MX6 parts (USB identity, memory map,
 * SKIP_DCD_HEADER support) and the few hardware registers whose behaviour a DCD
 * depends on (OCOTP unique ID, MMDC handshakes and self-clearing bits, PLL lock). */
#ifndef EMU_SOC_H
#define EMU_SOC_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"

#define SOC_ROM_VID 0x15a2
#define SOC_OCOTP_CFG0 0x021BC410u
#define SOC_OCOTP_CFG1 0x021BC420u
#define SOC_MMDC_MDCTL 0x021B0000u

struct soc_info {
	const char *name;       /* "6q" … */
	uint16_t pid;           /* ROM PID (VID 0x15a2) */
	const char *product;    /* ROM iProduct */
	bool skip_dcd;          /* ROM implements SKIP_DCD_HEADER */
	uint32_t dram_start, dram_end;   /* inclusive */
	uint32_t ocram_start, ocram_end; /* inclusive */
	const char *board;      /* U-Boot's env "board" */
};

const struct soc_info *soc_find(const char *name);
/* the whole range lies in DRAM / OCRAM */
bool soc_in_dram(const struct soc_info *s, uint32_t addr, uint64_t len);
bool soc_in_ocram(const struct soc_info *s, uint32_t addr, uint64_t len);
/* the ROM accepts a DCD write/check at ADDR (RM "valid DCD address ranges") */
bool soc_dcd_addr_ok(const struct soc_info *s, uint32_t addr, unsigned width);
/* a register/memory read as the CPU sees it: OCOTP CFG0/CFG1 give the UID,
 * modelled status bits are applied, everything else comes from MEM */
uint32_t soc_read(const struct soc_info *s, const struct mem *m, uint64_t uid, uint32_t addr,
		  unsigned width);
/* a register/memory write (width 1, 2 or 4) with the modelled side effects;
 * -ENOMEM when the emulator's memory cap is reached */
int soc_write(const struct soc_info *s, struct mem *m, uint32_t addr, uint32_t val,
	      unsigned width);
/* the MMDC has been configured (MDCTL.SDE_0 set): DRAM accesses work */
bool soc_dram_ready(const struct soc_info *s, const struct mem *m);

#endif
