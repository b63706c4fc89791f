/* ctldata: sample station JSON as flashd's station produces it. */
#include "ctldata.h"

#include <stdio.h>

json_t *fake_status(size_t n, bool paused)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "1-%zu", i + 1);
		json_array_append_new(
			ports,
			i == 0 ? json_pack("{s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:I,s:s,s:s,s:I,s:s,"
					   "s:n,s:n}",
					   "port", name, "state", "fastboot", "step",
					   "flash rootfs rootfs.ext4", "step_index", 5, "steps", 7,
					   "bytes", (json_int_t)50000000, "total",
					   (json_int_t)200000000, "rate", (json_int_t)21500000,
					   "uid", "0a1b2c3d4e5f6071", "serial", "", "elapsed_ms",
					   (json_int_t)83000, "plan", "/etc/flashd/full.lst",
					   "result", "reason")
			       : json_pack("{s:s,s:s,s:n,s:i,s:i,s:i,s:i,s:i,s:n,s:n,s:i,s:n,s:n,"
					   "s:n}",
					   "port", name, "state", "empty", "step", "step_index", 0,
					   "steps", 0, "bytes", 0, "total", 0, "rate", 0, "uid",
					   "serial", "elapsed_ms", 0, "plan", "result", "reason"));
	}
	return json_pack("{s:b,s:s,s:o}", "paused", paused, "plan", "/etc/flashd/full.lst",
			 "ports", ports);
}

json_t *fake_stats(void)
{
	return json_pack("{s:I,s:i,s:i,s:{s:i,s:i,s:i,s:i,s:i},s:I,s:[{s:s,s:i,s:I,s:I,"
			 "s:I,s:I}]}",
			 "uptime_ms", (json_int_t)3723000, "ports", 4, "busy", 1, "boards",
			 "ok", 3, "failed", 1, "boot-loop", 0, "aborted", 0, "total", 4,
			 "bytes", (json_int_t)123456789, "steps", "step", "flash rootfs",
			 "count", 3, "total_ms", (json_int_t)249000, "avg_ms",
			 (json_int_t)83000, "min_ms", (json_int_t)80000, "max_ms",
			 (json_int_t)86000);
}

json_t *fake_plans(void)
{
	return json_pack("{s:s,s:{s:s},s:[{s:s,s:s,s:i}]}", "default", "/p/full.lst",
			 "ports", "1-2", "/p/boot.lst", "loaded", "path", "/p/full.lst",
			 "sha256", "ab", "steps", 8);
}
