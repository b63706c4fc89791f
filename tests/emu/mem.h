/* mem: a sparse byte-addressed 32-bit memory (the emulated SoC's RAM and
 * register space). Pages are allocated on first write; unwritten bytes read as
 * zero. The total of allocated pages is capped (an emulator limit, not a ROM
 * behaviour). */
#ifndef EMU_MEM_H
#define EMU_MEM_H

#include <stddef.h>
#include <stdint.h>

struct mem;

/* CAP_BYTES: most bytes of pages that may be allocated */
struct mem *mem_new(size_t cap_bytes);
struct mem *mem_free(struct mem *m);
/* -ENOMEM when the cap is reached, -EFAULT when the range wraps past 4 GiB */
int mem_write(struct mem *m, uint32_t addr, const void *buf, size_t len);
/* -EFAULT when the range wraps; unwritten bytes read as zero */
int mem_read(const struct mem *m, uint32_t addr, void *buf, size_t len);
uint32_t mem_read32(const struct mem *m, uint32_t addr);
int mem_write32(struct mem *m, uint32_t addr, uint32_t v);
/* bytes of pages allocated */
size_t mem_used(const struct mem *m);
/* drop everything (power cycle) */
void mem_clear(struct mem *m);

#endif
