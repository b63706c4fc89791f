/* ctlproto_payload: the objects the control protocol carries besides its
 * envelope -- port objects, progress events, journal records -- written in
 * one place with the keys of protocol.h (flashd-control(7)). No I/O. */
#include "flashd/ctlproto.h"

#include <inttypes.h>
#include <stdio.h>

static json_t *ctlproto_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *ctlproto_uid(bool has, uint64_t uid)
{
	char buf[20];

	if (!has)
		return json_null();
	snprintf(buf, sizeof(buf), "%016" PRIx64, uid);
	return json_string(buf);
}

static json_t *ctlproto_step_index(const struct ctlproto_port *p)
{
	return p->has_step_index ? json_integer((json_int_t)p->step_index) : json_null();
}

json_t *ctlproto_port_new(const struct ctlproto_port *p)
{
	return json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I,"
			 " s:o, s:o, s:o, s:o, s:b, s:b, s:o}",
			 PROTOCOL_KEY_PORT, p->port,
			 PROTOCOL_KEY_SLOT, ctlproto_str_or_null(p->slot),
			 PROTOCOL_KEY_STATE, p->state,
			 PROTOCOL_KEY_DEVICE, p->device,
			 PROTOCOL_KEY_STEP, ctlproto_str_or_null(p->step),
			 PROTOCOL_KEY_STEP_INDEX, ctlproto_step_index(p),
			 PROTOCOL_KEY_STEPS, (json_int_t)p->steps,
			 PROTOCOL_KEY_BYTES, (json_int_t)p->bytes,
			 PROTOCOL_KEY_TOTAL, (json_int_t)p->total,
			 PROTOCOL_KEY_BOARD_BYTES, (json_int_t)p->board_bytes,
			 PROTOCOL_KEY_RATE, (json_int_t)p->rate,
			 PROTOCOL_KEY_UID, ctlproto_uid(p->has_uid, p->uid),
			 PROTOCOL_KEY_SERIAL, ctlproto_str_or_null(p->serial),
			 PROTOCOL_KEY_ELAPSED_MS, (json_int_t)p->elapsed_ms,
			 PROTOCOL_KEY_PLAN, ctlproto_str_or_null(p->plan),
			 PROTOCOL_KEY_RESULT, ctlproto_str_or_null(p->result),
			 PROTOCOL_KEY_FAILED_STEP, ctlproto_str_or_null(p->failed_step),
			 PROTOCOL_KEY_REASON, ctlproto_str_or_null(p->reason),
			 PROTOCOL_KEY_PAUSED, p->paused,
			 PROTOCOL_KEY_IGNORED, p->ignored,
			 PROTOCOL_KEY_YIELD, p->yield ? json_incref(p->yield) : json_null());
}

json_t *ctlproto_progress_new(const struct ctlproto_port *p)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", PROTOCOL_KEY_PORT, p->port,
			 PROTOCOL_KEY_SLOT, ctlproto_str_or_null(p->slot),
			 PROTOCOL_KEY_STEP, ctlproto_str_or_null(p->step),
			 PROTOCOL_KEY_STEP_INDEX, ctlproto_step_index(p),
			 PROTOCOL_KEY_BYTES, (json_int_t)p->bytes,
			 PROTOCOL_KEY_TOTAL, (json_int_t)p->total,
			 PROTOCOL_KEY_BOARD_BYTES, (json_int_t)p->board_bytes,
			 PROTOCOL_KEY_RATE, (json_int_t)p->rate);
}

static json_t *ctlproto_images(const struct ctlproto_record *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->nimages; i++) {
		const struct ctlproto_image *img = &r->images[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", PROTOCOL_KEY_PATH,
						   img->path, PROTOCOL_KEY_SHA256, img->sha256,
						   PROTOCOL_KEY_COMPRESSION,
						   ctlproto_str_or_null(img->compression),
						   PROTOCOL_KEY_SOURCE_SHA256,
						   ctlproto_str_or_null(img->source_sha256)));
	}
	return a;
}

json_t *ctlproto_record_new(const struct ctlproto_record *r)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o}",
			 PROTOCOL_KEY_PORT, r->port,
			 PROTOCOL_KEY_SLOT, ctlproto_str_or_null(r->slot),
			 PROTOCOL_KEY_UID, ctlproto_uid(r->has_uid, r->uid),
			 PROTOCOL_KEY_SERIAL, ctlproto_str_or_null(r->serial),
			 PROTOCOL_KEY_PLAN, ctlproto_str_or_null(r->plan),
			 PROTOCOL_KEY_PLAN_SHA256, ctlproto_str_or_null(r->plan_sha256),
			 PROTOCOL_KEY_IMAGES, ctlproto_images(r),
			 PROTOCOL_KEY_START_MS, (json_int_t)r->start_ms,
			 PROTOCOL_KEY_END_MS, (json_int_t)r->end_ms,
			 PROTOCOL_KEY_RESULT, r->result,
			 PROTOCOL_KEY_FAILED_STEP, ctlproto_str_or_null(r->failed_step),
			 PROTOCOL_KEY_REASON, ctlproto_str_or_null(r->reason),
			 PROTOCOL_KEY_BYTES, (json_int_t)r->bytes,
			 PROTOCOL_KEY_STEPS, r->steps ? json_incref(r->steps) : json_array(),
			 PROTOCOL_KEY_REGIONS, r->regions ? json_incref(r->regions) : json_array(),
			 PROTOCOL_KEY_PLUG_TO_SDP_MS,
			 r->has_plug_to_sdp ? json_integer((json_int_t)r->plug_to_sdp_ms) : json_null(),
			 PROTOCOL_KEY_REENUM_MS, r->reenum_ms ? json_incref(r->reenum_ms) : json_array(),
			 PROTOCOL_KEY_VALUES, r->values ? json_incref(r->values) : json_object());
}

json_t *ctlproto_record_durable(const json_t *record, bool durable)
{
	json_t *j = json_is_object(record) ? json_copy((json_t *)record) : NULL;

	if (j && json_object_set_new(j, PROTOCOL_KEY_DURABLE, json_boolean(durable)) < 0)
		j = (json_decref(j), NULL);
	return j;
}

json_t *ctlproto_journal_new(const struct ctlproto_journal *j)
{
	return json_pack("{s:o, s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:b}",
			 PROTOCOL_KEY_PATH, ctlproto_str_or_null(j->path),
			 PROTOCOL_KEY_WRITABLE, j->writable,
			 PROTOCOL_KEY_REASON, ctlproto_str_or_null(j->reason),
			 PROTOCOL_KEY_SINCE_MS,
			 j->has_since ? json_integer((json_int_t)j->since_ms) : json_null(),
			 PROTOCOL_KEY_RETRY_MS,
			 j->has_retry ? json_integer((json_int_t)j->retry_ms) : json_null(),
			 PROTOCOL_KEY_BACKLOG, (json_int_t)j->backlog,
			 PROTOCOL_KEY_BACKLOG_BYTES, (json_int_t)j->backlog_bytes,
			 PROTOCOL_KEY_BACKLOG_MAX, (json_int_t)j->backlog_max,
			 PROTOCOL_KEY_BACKLOG_FULL, j->backlog_full);
}
