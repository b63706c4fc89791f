/* strnum: unsigned numbers in text, as plans and fastboot write them —
 * "0x…" (or "0X…") hexadecimal or decimal. No I/O. */
#ifndef FLASHD_STRNUM_H
#define FLASHD_STRNUM_H

#include <stddef.h>
#include <stdint.h>

/* 0..15 for 0-9, a-f, A-F; -1 otherwise. */
int strnum_digit(char c);
/* The number spelled by exactly the len bytes at s: no sign, no blanks.
 * -EINVAL: empty, junk (also a bare "0x"); -ERANGE: above max. *out is
 * written only on success. */
int strnum_parse(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif
