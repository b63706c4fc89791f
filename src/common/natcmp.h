/* natcmp: natural order of names with numbers in them, as people sort USB
 * port names: "1-2" < "1-9" < "1-10" < "1-10.2" < "2-1". No I/O. */
#ifndef FLASHD_NATCMP_H
#define FLASHD_NATCMP_H

/* <0, 0, >0 as strcmp, comparing runs of decimal digits by value (leading
 * zeros ignored; equal values: the shorter run first, so the order is total
 * and 0 only for equal strings). NULL sorts before any string. */
int natcmp(const char *a, const char *b);

#endif
