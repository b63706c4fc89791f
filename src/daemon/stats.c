/* stats: the station's statistics (stats.h). */
#include "daemon/stats.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flashd/protocol.h"

static struct stats_step *stats_step(struct stats *s, const char *text)
{
	struct stats_step *n;

	for (size_t i = 0; i < s->nsteps; i++)
		if (strcmp(s->steps[i].text, text) == 0)
			return &s->steps[i];
	if (s->nsteps >= STATS_STEPS_MAX)
		return NULL;
	n = realloc(s->steps, (s->nsteps + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->steps = n;
	n = &s->steps[s->nsteps];
	memset(n, 0, sizeof(*n));
	n->text = strdup(text);
	if (!n->text)
		return NULL;
	n->min_ms = UINT64_MAX;
	s->nsteps++;
	return n;
}

void stats_add_step(struct stats *s, const char *text, uint64_t ms)
{
	struct stats_step *t = stats_step(s, text);

	if (!t)
		return;
	t->count++;
	t->total_ms += ms;
	if (ms < t->min_ms)
		t->min_ms = ms;
	if (ms > t->max_ms)
		t->max_ms = ms;
}

void stats_add_result(struct stats *s, enum port_result r, uint64_t bytes)
{
	switch (r) {
	case PORT_RESULT_OK:
		s->ok++;
		break;
	case PORT_RESULT_FAILED:
	case PORT_RESULT_NONE:
	case _PORT_RESULT_MAX:
		s->failed++;
		break;
	case PORT_RESULT_BOOT_LOOP:
		s->boot_loop++;
		break;
	case PORT_RESULT_ABORTED:
		s->aborted++;
		break;
	}
	s->bytes += bytes;
}

void stats_clear(struct stats *s)
{
	for (size_t i = 0; i < s->nsteps; i++)
		free(s->steps[i].text);
	free(s->steps);
	s->steps = NULL;
	s->nsteps = 0;
}

void stats_process_read(struct stats_process *p)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	DIR *d;
	struct dirent *e;

	p->rss_kib = p->fds = 0;
	if (f) {
		if (fscanf(f, "%llu %llu", &size, &res) == 2 && page > 0)
			p->rss_kib = res * (uint64_t)page / 1024;
		fclose(f);
	}
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d)))
		p->fds += e->d_name[0] != '.';
	closedir(d);
	p->fds -= p->fds > 0;   /* the directory stream's own */
}

json_t *stats_json(const struct stats *s, uint64_t uptime_ms, size_t ports, size_t busy,
		   const struct stats_process *proc)
{
	json_t *steps = json_array();

	if (!steps)
		return NULL;
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct stats_step *t = &s->steps[i];

		json_array_append_new(steps, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
						       PROTOCOL_KEY_STEP, t->text,
						       PROTOCOL_KEY_COUNT, (json_int_t)t->count,
						       PROTOCOL_KEY_TOTAL_MS, (json_int_t)t->total_ms,
						       PROTOCOL_KEY_AVG_MS,
						       (json_int_t)(t->total_ms / t->count),
						       PROTOCOL_KEY_MIN_MS, (json_int_t)t->min_ms,
						       PROTOCOL_KEY_MAX_MS, (json_int_t)t->max_ms));
	}
	return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:o, s:{s:I, s:I, s:I}}",
			 PROTOCOL_KEY_UPTIME_MS, (json_int_t)uptime_ms,
			 PROTOCOL_KEY_PORTS, (json_int_t)ports, PROTOCOL_KEY_BUSY, (json_int_t)busy,
			 PROTOCOL_KEY_BOARDS, PROTOCOL_RESULT_OK, (json_int_t)s->ok,
			 PROTOCOL_RESULT_FAILED, (json_int_t)s->failed,
			 PROTOCOL_RESULT_BOOT_LOOP, (json_int_t)s->boot_loop,
			 PROTOCOL_RESULT_ABORTED, (json_int_t)s->aborted,
			 PROTOCOL_KEY_TOTAL, (json_int_t)(s->ok + s->failed + s->boot_loop + s->aborted),
			 PROTOCOL_KEY_BYTES, (json_int_t)s->bytes, PROTOCOL_KEY_STEPS, steps,
			 PROTOCOL_KEY_PROCESS, PROTOCOL_KEY_RSS_KIB, (json_int_t)proc->rss_kib,
			 PROTOCOL_KEY_FDS, (json_int_t)proc->fds, PROTOCOL_KEY_LOOP_EVENTS,
			 (json_int_t)proc->loop_events);
}
