/* machine_id: the station id a line PC has without configuration, its
 * systemd machine id (machine-id(5)); flashd-export(8) and the pools'
 * bindings (flashd.conf(5) station-id) use it. */
#ifndef FLASHD_COMMON_MACHINE_ID_H
#define FLASHD_COMMON_MACHINE_ID_H

#include <stddef.h>

/* The id from a machine-id file (32 hex digits and a newline), in out
 * (at least 33 bytes); 0 or -errno (-EBADMSG: not a machine id, or no room). */
int machine_id_read(const char *path, char *out, size_t len);

#endif
