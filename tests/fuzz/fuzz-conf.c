/* fuzz-conf: conf_parse on arbitrary text. An accepted configuration must
 * hold values within the documented bounds; a rejected one must list its
 * errors, each as "file:…". */
#include "flashd/conf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf(const struct conf *c)
{
	if (!c->socket_path || c->socket_path[0] != '/' || !c->journal_path || c->journal_path[0] != '/')
		abort();
	if (!c->socket_group || !*c->socket_group || !c->admin_group)
		abort();
	if (c->sdp_timeout_ms < 100 || c->sdp_timeout_ms > 60000 || c->reenum_timeout_ms < 1000)
		abort();
	if (c->usb_transfer_size % 512 || c->usb_transfer_size < 512 || c->usb_transfers < 1 ||
	    c->usb_transfers > 64 || c->max_clients < 1 || c->flash_rate < 65536)
		abort();
	if (!c->plan && c->nplan_args)
		abort();
	for (size_t i = 0; i < c->nports; i++) {
		if (!c->ports[i].name || !c->ports[i].plan || !*c->ports[i].plan)
			abort();
		if (conf_port_find(c, c->ports[i].name) != &c->ports[i])
			abort();
	}
	if (conf_flash_timeout_ms(c, UINT64_MAX) != UINT32_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char *errors = NULL;
	int r = conf_parse("fuzz.conf", "/etc/flashd", (const char *)data, size, &c, &errors);

	if (r < 0) {
		if (c || (r == -EINVAL && (!errors || strncmp(errors, "fuzz.conf", 9) != 0)))
			abort();
		free(errors);
		return 0;
	}
	if (errors)
		abort();
	check_conf(c);
	conf_free(c);
	return 0;
}
