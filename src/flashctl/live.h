/* live: `flashctl watch` on a terminal: a per-port view with progress bars,
 * redrawn in place (ANSI cursor movement, no curses), with log lines and
 * results scrolling above it. Fed with the events of the watch stream. */
#ifndef FLASHD_FLASHCTL_LIVE_H
#define FLASHD_FLASHCTL_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define LIVE_PORTS_MAX 512u
#define LIVE_REDRAW_MS 100

struct live;

struct live *live_new(FILE *out, bool color);
/* Take one event: the view's state changes; log, result and overflow lines
 * (and seq gaps) are printed above the view at once. */
void live_event(struct live *lv, const json_t *ev, int64_t now_ms);
/* Whether a redraw is due: changed since the last draw, and not drawn in
 * the last LIVE_REDRAW_MS (at once after lines were printed above). Active
 * ports' elapsed time makes it due once a second. */
bool live_due(const struct live *lv, int64_t now_ms);
void live_draw(struct live *lv, int cols, int rows, int64_t now_ms);
/* Render one port's line, without colour, at most cols-1 columns (tests). */
void live_port_line(const json_t *port, int64_t elapsed_extra_ms, int cols, int name_width,
		    char *out, size_t len);
struct live *live_free(struct live *lv);

#endif
