/* web_metrics: the Prometheus text exposition format (version 0.0.4) of a
 * web_state: every metric flashd-web serves on /metrics (flashd-web(8)),
 * each with HELP and TYPE. No I/O. */
#ifndef FLASHD_WEB_METRICS_H
#define FLASHD_WEB_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "web_state.h"

#define WEB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The page, malloc'd and NUL-terminated, its length in *len; NULL when out
 * of memory. sse_clients: the dashboards connected now. */
char *web_metrics_render(const struct web_state *st, unsigned sse_clients, size_t *len);
/* Write s escaped as a label value (backslash, double quote, newline). */
void web_metrics_escape(FILE *f, const char *s);

#endif
