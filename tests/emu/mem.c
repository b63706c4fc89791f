/* mem: two-level table of 64 KiB pages over the 4 GiB address space */
#include "mem.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MEM_PAGE_SHIFT 16u
#define MEM_PAGE_SIZE (1u << MEM_PAGE_SHIFT)
#define MEM_PAGES (1u << (32u - MEM_PAGE_SHIFT))

struct mem {
	uint8_t *page[MEM_PAGES];
	size_t used;
	size_t cap;
};

struct mem *mem_new(size_t cap_bytes)
{
	struct mem *m = calloc(1, sizeof(*m));

	if (m)
		m->cap = cap_bytes;
	return m;
}

void mem_clear(struct mem *m)
{
	for (size_t i = 0; i < MEM_PAGES; i++) {
		free(m->page[i]);
		m->page[i] = NULL;
	}
	m->used = 0;
}

struct mem *mem_free(struct mem *m)
{
	if (!m)
		return NULL;
	mem_clear(m);
	free(m);
	return NULL;
}

size_t mem_used(const struct mem *m)
{
	return m->used;
}

static int mem_range_ok(uint32_t addr, size_t len)
{
	return (uint64_t)addr + len <= 0x100000000ull ? 0 : -EFAULT;
}

/* The piece of [a, a + len) in a's page: its page index and offset; the
 * piece's length (up to the page's end). */
static size_t mem_piece(uint64_t a, size_t len, size_t *page, size_t *off)
{
	size_t n;

	*page = (size_t)(a >> MEM_PAGE_SHIFT);
	*off = (size_t)(a & (MEM_PAGE_SIZE - 1));
	n = MEM_PAGE_SIZE - *off;
	return n > len ? len : n;
}

int mem_write(struct mem *m, uint32_t addr, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	uint64_t a = addr;
	size_t need = 0;

	if (mem_range_ok(addr, len) < 0)
		return -EFAULT;
	/* check the cap first so a refused write changes nothing */
	for (uint64_t p = a >> MEM_PAGE_SHIFT; len && p <= (a + len - 1) >> MEM_PAGE_SHIFT; p++)
		if (!m->page[p])
			need += MEM_PAGE_SIZE;
	if (need > m->cap - m->used)
		return -ENOMEM;
	while (len) {
		size_t p, off, n = mem_piece(a, len, &p, &off);

		if (!m->page[p]) {
			m->page[p] = calloc(1, MEM_PAGE_SIZE);
			if (!m->page[p])
				return -ENOMEM;
			m->used += MEM_PAGE_SIZE;
		}
		memcpy(m->page[p] + off, src, n);
		src += n;
		a += n;
		len -= n;
	}
	return 0;
}

int mem_read(const struct mem *m, uint32_t addr, void *buf, size_t len)
{
	uint8_t *dst = buf;
	uint64_t a = addr;

	if (mem_range_ok(addr, len) < 0)
		return -EFAULT;
	while (len) {
		size_t p, off, n = mem_piece(a, len, &p, &off);

		if (m->page[p])
			memcpy(dst, m->page[p] + off, n);
		else
			memset(dst, 0, n);
		dst += n;
		a += n;
		len -= n;
	}
	return 0;
}

uint32_t mem_read32(const struct mem *m, uint32_t addr)
{
	uint8_t b[4];

	if (mem_read(m, addr, b, sizeof(b)) < 0)
		return 0;
	return util_le32(b);
}

int mem_write32(struct mem *m, uint32_t addr, uint32_t v)
{
	uint8_t b[4];

	util_put_le32(b, v);
	return mem_write(m, addr, b, sizeof(b));
}
