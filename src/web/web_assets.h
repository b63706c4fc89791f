/* web_assets: the dashboard's files (src/web/assets/), embedded in the
 * binary at build time by src/web/embed.sh (web_assets.c is generated). */
#ifndef FLASHD_WEB_ASSETS_H
#define FLASHD_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;          /* URL path: "/" for index.html, else "/NAME" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
