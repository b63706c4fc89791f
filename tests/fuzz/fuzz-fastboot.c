/* fuzz-fastboot: fastboot_parse_reply, the getvar size parsers and the
 * command formatters on arbitrary bytes. Accepted results must satisfy the
 * invariants the daemon relies on; anything else aborts. */
#include "flashd/fastboot.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const uint8_t *data, size_t size)
{
	struct fastboot_reply r;
	int rc = fastboot_parse_reply(data, size, &r);
	size_t n;

	if (rc < 0) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	if (size < 4 || size > FASTBOOT_REPLY_MAX || memcmp(data, fastboot_reply_kind_to_string(r.kind), 4))
		abort();
	n = strlen(r.text);
	if (n > size - 4)
		abort();
	for (size_t i = 0; i < n; i++)
		if (r.text[i] < 0x20 || r.text[i] > 0x7e)
			abort();
	if (r.kind == FASTBOOT_REPLY_DATA && (n != 8 || strtoul(r.text, NULL, 16) != r.data_size))
		abort();
}

static void check_text(const uint8_t *data, size_t size)
{
	char s[300], out[FASTBOOT_CMD_MAX + 1];
	uint64_t v;
	uint32_t m;
	int rc;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = fastboot_parse_size(s, &v);
	if (rc < 0 && rc != -EINVAL && rc != -ERANGE)
		abort();
	rc = fastboot_parse_max_download(s, &m);
	if (rc == 0 && (m == 0 || fastboot_parse_size(s, &v) < 0 || v != m))
		abort();
	rc = fastboot_format(out, "UCmd", s);
	if (rc >= 0 && ((size_t)rc != strlen(out) || rc > (int)FASTBOOT_CMD_MAX || strncmp(out, "UCmd:", 5)))
		abort();
	if (rc < 0 && rc != -E2BIG && rc != -EINVAL)
		abort();
	rc = fastboot_format_oem(out, s);
	if (rc >= 0 && ((size_t)rc != strlen(out) || rc > (int)FASTBOOT_CMD_MAX))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reply(data, size);
	check_text(data, size);
	return 0;
}
