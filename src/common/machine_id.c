/* machine_id: see machine_id.h */
#include "common/machine_id.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int machine_id_read(const char *path, char *out, size_t len)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	bool got;

	if (!f)
		return -errno;
	got = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!got)
		return -EBADMSG;
	buf[strcspn(buf, "\n")] = 0;
	if (strlen(buf) != 32 || strspn(buf, "0123456789abcdef") != 32 || len <= 32)
		return -EBADMSG;
	memcpy(out, buf, 33);
	return 0;
}
