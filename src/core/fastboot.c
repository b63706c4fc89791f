/* fastboot: command formatting and reply parsing for USB fastboot as
 * U-Boot speaks it (protocols.md §4). No I/O. */
#include "flashd/fastboot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "common/strnum.h"

static const char *const fastboot_reply_kind_names[] = {
	[FASTBOOT_REPLY_OKAY] = "OKAY",
	[FASTBOOT_REPLY_FAIL] = "FAIL",
	[FASTBOOT_REPLY_DATA] = "DATA",
	[FASTBOOT_REPLY_INFO] = "INFO",
	[FASTBOOT_REPLY_TEXT] = "TEXT",
};

const char *fastboot_reply_kind_to_string(enum fastboot_reply_kind k)
{
	if ((unsigned)k >= ELEMENTSOF(fastboot_reply_kind_names))
		return NULL;
	return fastboot_reply_kind_names[k];
}

static bool fastboot_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int fastboot_join(char out[FASTBOOT_CMD_MAX + 1], const char *verb, char sep,
			 const char *arg)
{
	size_t vl, al = 0, len;

	if (!verb || !*verb || fastboot_has_control(verb) || (arg && fastboot_has_control(arg)))
		return -EINVAL;
	vl = strlen(verb);
	if (arg)
		al = strlen(arg);
	len = vl + (arg ? 1 + al : 0);
	if (len > FASTBOOT_CMD_MAX)
		return -E2BIG;
	memcpy(out, verb, vl);
	if (arg) {
		out[vl] = sep;
		memcpy(out + vl + 1, arg, al);
	}
	out[len] = '\0';
	return (int)len;
}

int fastboot_format(char out[FASTBOOT_CMD_MAX + 1], const char *verb, const char *arg)
{
	return fastboot_join(out, verb, ':', arg);
}

int fastboot_format_oem(char out[FASTBOOT_CMD_MAX + 1], const char *text)
{
	if (!text || !*text)
		return -EINVAL;
	return fastboot_join(out, "oem", ' ', text);
}

int fastboot_format_download(char out[FASTBOOT_CMD_MAX + 1], uint32_t size)
{
	if (size == 0)
		return -EINVAL;
	return snprintf(out, FASTBOOT_CMD_MAX + 1, "download:%08x", (unsigned)size);
}

static int fastboot_parse_data_size(const char *text, uint32_t *size)
{
	uint32_t v = 0;

	if (strlen(text) != 8)
		return -EBADMSG;
	for (unsigned i = 0; i < 8; i++) {
		int d = strnum_digit(text[i]);
		if (d < 0)
			return -EBADMSG;
		v = v << 4 | (uint32_t)d;
	}
	*size = v;
	return 0;
}

static int fastboot_tag_kind(const uint8_t *buf, enum fastboot_reply_kind *kind)
{
	for (unsigned k = 0; k < ELEMENTSOF(fastboot_reply_kind_names); k++)
		if (memcmp(buf, fastboot_reply_kind_names[k], 4) == 0) {
			*kind = (enum fastboot_reply_kind)k;
			return 0;
		}
	return -EBADMSG;
}

int fastboot_parse_reply(const uint8_t *buf, size_t len, struct fastboot_reply *out)
{
	struct fastboot_reply r;
	size_t n = 0;

	if (!buf || len < 4 || len > FASTBOOT_REPLY_MAX)
		return -EBADMSG;
	if (fastboot_tag_kind(buf, &r.kind) < 0)
		return -EBADMSG;
	for (size_t i = 4; i < len && buf[i]; i++) {
		uint8_t c = buf[i];
		r.text[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r.text[n] = '\0';
	r.data_size = 0;
	if (r.kind == FASTBOOT_REPLY_DATA && fastboot_parse_data_size(r.text, &r.data_size) < 0)
		return -EBADMSG;
	memcpy(out, &r, sizeof(r));
	return 0;
}

static bool fastboot_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int fastboot_parse_size(const char *text, uint64_t *out)
{
	const char *p, *end;

	if (!text)
		return -EINVAL;
	for (p = text; fastboot_is_space(*p); p++)
		;
	for (end = p + strlen(p); end > p && fastboot_is_space(end[-1]); end--)
		;
	return strnum_parse(p, (size_t)(end - p), UINT64_MAX, out);
}

int fastboot_parse_max_download(const char *text, uint32_t *out)
{
	uint64_t v;
	int r = fastboot_parse_size(text, &v);

	if (r < 0)
		return r;
	if (v == 0)
		return -EINVAL;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}
