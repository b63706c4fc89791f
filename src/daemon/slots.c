/* slots: named fixture slots and their yield (slots.h). */
#include "daemon/slots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/natcmp.h"
#include "flashd/conf.h"
#include "flashd/protocol.h"

static int slots_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return natcmp(x->name, y->name);
}

static void slots_alert_update(const struct slots *s, struct slot *sl)
{
	sl->alert = s->alert_after && sl->in_row >= s->alert_after;
}

int slots_build(const struct conf *c, const struct slots *old, struct slots *out)
{
	struct slots s = { .only = c->slots_only, .alert_after = c->slot_alert };

	s.v = calloc(c->nslots ? c->nslots : 1, sizeof(*s.v));
	if (!s.v)
		return -ENOMEM;
	for (size_t i = 0; i < c->nslots; i++) {
		struct slot *sl = &s.v[s.n];
		const struct slot *was = old ? slots_find(old, c->slots[i].name) : NULL;

		if (was)
			*sl = *was;   /* the yield; the strings are new */
		sl->name = strdup(c->slots[i].name);
		sl->port = strdup(c->slots[i].port);
		s.n++;
		if (!sl->name || !sl->port) {
			slots_clear(&s);
			return -ENOMEM;
		}
		slots_alert_update(&s, sl);
	}
	qsort(s.v, s.n, sizeof(*s.v), slots_cmp);
	*out = s;
	return 0;
}

void slots_clear(struct slots *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].port);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct slot *slots_of_port(const struct slots *s, const char *port)
{
	for (size_t i = 0; port && i < s->n; i++)
		if (strcmp(s->v[i].port, port) == 0)
			return &s->v[i];
	return NULL;
}

struct slot *slots_find(const struct slots *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

bool slots_ignores(const struct slots *s, const char *port)
{
	return s->only && !slots_of_port(s, port);
}

bool slots_add_result(const struct slots *s, struct slot *sl, enum port_result r,
		      const char *reason)
{
	bool was = sl->alert;

	switch (r) {
	case PORT_RESULT_OK:
		sl->ok++;
		sl->in_row = 0;
		break;
	case PORT_RESULT_FAILED:
	case PORT_RESULT_NONE:
	case _PORT_RESULT_MAX:
		sl->failed++;
		if (sl->in_row < UINT32_MAX)
			sl->in_row++;
		snprintf(sl->last_reason, sizeof(sl->last_reason), "%s",
			 reason && *reason ? reason : "failed");
		break;
	case PORT_RESULT_BOOT_LOOP:
	case PORT_RESULT_ABORTED:
		return false;
	}
	slots_alert_update(s, sl);
	return sl->alert != was;
}

const char *slots_alert_text(const struct slots *s, const struct slot *sl, char *buf, size_t len)
{
	(void)s;
	if (!sl->alert)
		return NULL;
	snprintf(buf, len, "%u failure%s in a row: check cable/pogo pins", sl->in_row,
		 sl->in_row == 1 ? "" : "s");
	return buf;
}

json_t *slots_yield_json(const struct slots *s, const struct slot *sl)
{
	char buf[96];
	const char *alert = slots_alert_text(s, sl, buf, sizeof(buf));

	return json_pack("{s:I, s:I, s:I, s:o, s:o}", PROTOCOL_RESULT_OK, (json_int_t)sl->ok,
			 PROTOCOL_RESULT_FAILED, (json_int_t)sl->failed,
			 PROTOCOL_KEY_FAILURES_IN_ROW, (json_int_t)sl->in_row,
			 PROTOCOL_KEY_LAST_REASON,
			 sl->last_reason[0] ? json_string(sl->last_reason) : json_null(),
			 PROTOCOL_KEY_ALERT, alert ? json_string(alert) : json_null());
}

json_t *slots_json(const struct slots *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->n; i++) {
		json_t *o = json_pack("{s:s, s:s}", PROTOCOL_KEY_SLOT, s->v[i].name,
				      PROTOCOL_KEY_PORT, s->v[i].port);
		json_t *y = slots_yield_json(s, &s->v[i]);
		int r = o && y ? json_object_update(o, y) : -1;

		json_decref(y);
		if (r < 0 || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
