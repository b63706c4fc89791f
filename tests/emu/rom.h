/* rom: the i.MX6 boot ROM's serial download protocol, device side, without I/O
 * (protocols.md §2, state table §2.11). Reports 1/2 come in through
 * rom_set_report() (the data stage of a SET_REPORT on ep0); reports 3/4 go out
 * through rom_next_report() (the interrupt IN endpoint), one at a time. Commands
 * act on the emulated RAM and register space (mem + soc models); DCDs are
 * executed (dcd.c); JUMP_ADDRESS validates the IVT the way the ROM does. */
#ifndef EMU_ROM_H
#define EMU_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivt.h"
#include "log.h"
#include "mem.h"
#include "soc.h"

#define ROM_REPORT1_LEN 17u
#define ROM_REPORT2_LEN 1025u
#define ROM_REPORT3_LEN 5u
#define ROM_REPORT4_LEN 65u

#define ROM_HAB_CLOSED 0x12343412u
#define ROM_HAB_OPEN 0x56787856u
#define ROM_WRITE_FILE_OK 0x88888888u
#define ROM_WRITE_OK 0x128A8A12u
#define ROM_SKIP_DCD_OK 0x900DD009u
#define ROM_STATUS_OK 0xF0F0F0F0u
/* HAB event words, LE32 of the bytes status/reason/context/engine (§2.3) */
#define ROM_ERR_IVT 0x000A0533u     /* failure, invalid IVT, authenticate */
#define ROM_ERR_ENTRY 0x000A2233u   /* failure, invalid address, authenticate */
#define ROM_ERR_CSF 0x000A1133u     /* failure, invalid CSF, authenticate */
#define ROM_ERR_DCD 0x00DD2733u     /* failure, invalid DCD, DCD */
#define ROM_ERR_TARGET 0x00332233u  /* failure, invalid address, target */

enum rom_state {
	ROM_IDLE,
	ROM_RX_DATA,  /* WRITE_FILE / DCD_WRITE data reports expected */
	ROM_JUMPED,   /* the jump's report 3 was handed out: the ROM has left */
	ROM_HUNG,     /* stuck (DRAM access before DRAM init, endless DCD poll) */
};

struct rom_cfg {
	const struct soc_info *soc;
	uint64_t uid;
	bool hab_closed;
	bool fault_bad_status;  /* WRITE_FILE completion 0x88888889 */
	bool dram_check;        /* DRAM access hangs until the MMDC is configured */
	size_t ram_cap;         /* emulator limit on RAM pages */
};

struct rom_jump {
	uint32_t addr;
	struct ivt ivt;
	struct ivt_boot boot;
};

struct rom;

int rom_new(const struct rom_cfg *cfg, struct log *log, struct rom **out);
struct rom *rom_free(struct rom *r);
const char *rom_state_to_string(enum rom_state s);
enum rom_state rom_state(const struct rom *r);
/* a new USB connection: protocol state back to idle, RAM and registers kept */
void rom_usb_reset(struct rom *r);
/* power-on reset: RAM, registers and the SKIP_DCD flag cleared */
void rom_power_on(struct rom *r);
/* one SET_REPORT data stage (report ID first); malformed reports are dropped and
 * logged (-EBADMSG); in ROM_HUNG/ROM_JUMPED everything is ignored */
int rom_set_report(struct rom *r, const uint8_t *buf, size_t len);
/* the next report to send on the interrupt IN endpoint: 0 and *len set, or
 * -EAGAIN when nothing is due. BUF must hold ROM_REPORT4_LEN bytes. */
int rom_next_report(struct rom *r, uint8_t *buf, size_t *len);
/* valid after ROM_JUMPED */
const struct rom_jump *rom_jump(const struct rom *r);
/* the RAM and registers (the SPL and U-Boot run in the same memory) */
struct mem *rom_mem(struct rom *r);
/* the status word of the last error (ERROR_STATUS answer) */
uint32_t rom_last_status(const struct rom *r);

#endif
