/* sparse_map: what every block of a raw image holds — data, zeros or one
 * repeated 32-bit value — classified once, two bits a block (sparse.h).
 * Writers that have the map never read a block they do not send. */
#include "flashd/sparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sparse_priv.h"

bool sparse_block_fill(const uint8_t *p, uint32_t blk_sz, uint32_t *pattern)
{
	uint64_t first;

	memcpy(&first, p, 8);
	if ((uint32_t)first != (uint32_t)(first >> 32))
		return false;
	for (size_t i = 0; i < blk_sz; i += 64) {
		uint64_t acc = 0;

		for (size_t k = 0; k < 64; k += 8) {
			uint64_t v;

			memcpy(&v, p + i + k, 8);
			acc |= v ^ first;
		}
		if (acc)
			return false;
	}
	*pattern = sparse_le32(p);
	return true;
}

int sparse_map_new(uint64_t len, uint32_t blk_sz, struct sparse_map **out)
{
	struct sparse_map *m;
	uint64_t nblk, words;

	if (!out || !blk_sz || blk_sz % 512 || blk_sz > SPARSE_RAW_BLK_SZ_MAX)
		return -EINVAL;
	nblk = len / blk_sz;
	if (nblk > SPARSE_MAP_MAX_BLKS)
		return -EFBIG;
	words = (nblk + 31) / 32;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->kind = calloc(words ? words : 1, sizeof(*m->kind));
	if (!m->kind) {
		free(m);
		return -ENOMEM;
	}
	m->len = len;
	m->blk_sz = blk_sz;
	m->nblk = (uint32_t)nblk;
	*out = m;
	return 0;
}

struct sparse_map *sparse_map_free(struct sparse_map *m)
{
	if (m) {
		free(m->kind);
		free(m);
	}
	return NULL;
}

static void sparse_map_set(struct sparse_map *m, uint32_t b, enum sparse_map_kind k)
{
	unsigned sh = (b % 32) * 2;

	m->kind[b / 32] = (m->kind[b / 32] & ~(3ull << sh)) | (uint64_t)k << sh;
}

enum sparse_map_kind sparse_map_get(const struct sparse_map *m, uint32_t b)
{
	return (enum sparse_map_kind)(m->kind[b / 32] >> (b % 32) * 2 & 3);
}

/* The next n bytes at off: in order, from a block boundary, whole blocks
 * unless they reach the end of the image. */
static int sparse_map_check(const struct sparse_map *m, uint64_t off, uint64_t n)
{
	if (!m || off != m->covered || n > m->len - off)
		return -EINVAL;
	if (n % m->blk_sz && off + n != m->len)
		return -EINVAL;
	return 0;
}

int sparse_map_scan(struct sparse_map *m, uint64_t off, const uint8_t *p, size_t n)
{
	uint32_t b, pat;
	int r = sparse_map_check(m, off, n);

	if (r < 0)
		return r;
	if (n && !p)
		return -EINVAL;
	b = (uint32_t)(off / m->blk_sz);
	for (size_t at = 0; n - at >= m->blk_sz; at += m->blk_sz, b++) {
		enum sparse_map_kind k = SPARSE_MAP_DATA;

		if (sparse_block_fill(p + at, m->blk_sz, &pat))
			k = pat ? SPARSE_MAP_FILL : SPARSE_MAP_ZERO;
		sparse_map_set(m, b, k);
	}
	m->covered += n;
	return 0;
}

int sparse_map_zero(struct sparse_map *m, uint64_t off, uint64_t n)
{
	int r = sparse_map_check(m, off, n);

	if (r < 0)
		return r;
	for (uint64_t b = off / m->blk_sz; b < (off + n) / m->blk_sz; b++)
		sparse_map_set(m, (uint32_t)b, SPARSE_MAP_ZERO);
	m->covered += n;
	return 0;
}

bool sparse_map_complete(const struct sparse_map *m)
{
	return m && m->covered == m->len;
}
