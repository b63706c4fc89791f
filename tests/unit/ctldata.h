/* ctldata: sample station JSON (status, stats, plans) for the control and
 * flashctl tests, shaped like flashd's station output. */
#ifndef FLASHD_TEST_CTLDATA_H
#define FLASHD_TEST_CTLDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* A status of n ports "1-1".."1-n", the first flashing. */
json_t *fake_status(size_t n, bool paused);
json_t *fake_stats(void);
json_t *fake_plans(void);

#endif
