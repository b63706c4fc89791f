/* cachedir: where decompressed images are kept (decompress.h): the folder
 * "cache" in the state directory, the results journal's folder
 * (/var/lib/flashd/cache by default; systemd's StateDirectory). The plan
 * core knows no state directory: the daemon and `flashd --check-plan` pass
 * this folder to the image opener (image.h). */
#ifndef FLASHD_DAEMON_CACHEDIR_H
#define FLASHD_DAEMON_CACHEDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "flashd/conf.h"

/* "<folder of journal_path>/cache" into buf; -ENAMETOOLONG. */
int cachedir_for_conf(const struct conf *c, char *buf, size_t len);
/* For a one-off load (--check-plan): the configured cache folder if it, or
 * (not made yet) the state directory, is owned by us and writable; else a
 * fresh private folder under $TMPDIR (or /tmp) and *private set, to be
 * removed with cachedir_remove(). Creates nothing but the private folder. */
int cachedir_pick(const struct conf *c, char *buf, size_t len, bool *private_dir);
/* Remove a private cache folder made by cachedir_pick and the files in it. */
void cachedir_remove(const char *dir);

#endif
