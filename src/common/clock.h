/* clock: milliseconds of a clock, the one copy for flashd and flashctl. */
#ifndef FLASHD_CLOCK_H
#define FLASHD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clk's time in ms (CLOCK_MONOTONIC for deadlines, CLOCK_REALTIME for
 * timestamps people read). */
int64_t clock_ms(clockid_t clk);
/* The same in microseconds (short durations). */
int64_t clock_us(clockid_t clk);

#endif
