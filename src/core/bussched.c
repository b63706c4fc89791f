/* bussched: see bussched.h. One array of requests for all buses (a bus is
 * its key: requests on it), so a bus needs no lifetime of its own; one FIFO
 * of grants the caller has not collected. A station has at most a few
 * hundred ports: linear walks are cheaper than any index here. Invariant
 * after every call: on each bus, requests wait only while max_active of
 * them hold a slot (bs_fill). */
#include "flashd/bussched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

struct bs_req {
	void *h;
	char bus[BUSSCHED_KEY_MAX];
	uint64_t bytes;
	uint64_t since_ms;           /* when it was queued */
	uint64_t seq;                /* arrival order */
	unsigned passed;             /* grants to others on its bus while it waited */
	bool active;                 /* holds a slot */
};

struct bussched {
	struct bussched_cfg cfg;
	struct bs_req *reqs;
	size_t n, cap;
	void **grants;               /* granted, not collected yet: oldest first */
	size_t ngrants;              /* ≤ n: each is an active request */
	uint64_t seq;
};

static const char *const bs_order_names[] = {
	[BUSSCHED_ORDER_FIFO] = "fifo",
	[BUSSCHED_ORDER_SHORTEST] = "shortest",
};
_Static_assert(ELEMENTSOF(bs_order_names) == _BUSSCHED_ORDER_MAX, "bs_order_names");

const char *bussched_order_to_string(enum bussched_order o)
{
	return (unsigned)o < _BUSSCHED_ORDER_MAX ? bs_order_names[o] : "?";
}

int bussched_order_from_string(const char *s, enum bussched_order *o)
{
	for (unsigned i = 0; s && i < _BUSSCHED_ORDER_MAX; i++) {
		if (strcmp(s, bs_order_names[i]) == 0) {
			*o = (enum bussched_order)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool bs_cfg_valid(const struct bussched_cfg *cfg)
{
	return cfg && cfg->max_active >= 1 && cfg->max_active <= BUSSCHED_ACTIVE_MAX &&
	       (unsigned)cfg->order < _BUSSCHED_ORDER_MAX;
}

int bussched_new(const struct bussched_cfg *cfg, struct bussched **out)
{
	struct bussched *s;

	if (!bs_cfg_valid(cfg) || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	*out = s;
	return 0;
}

struct bussched *bussched_free(struct bussched *s)
{
	if (!s)
		return NULL;
	free(s->reqs);
	free(s->grants);
	free(s);
	return NULL;
}

static struct bs_req *bs_find(const struct bussched *s, const void *h)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->reqs[i].h == h)
			return &s->reqs[i];
	return NULL;
}

static bool bs_starving(const struct bussched *s, const struct bs_req *r, uint64_t now)
{
	if (s->cfg.starve_grants && r->passed >= s->cfg.starve_grants)
		return true;
	return s->cfg.starve_ms && now >= r->since_ms && now - r->since_ms >= s->cfg.starve_ms;
}

/* Whether waiting request a goes before waiting request b. */
static bool bs_before(const struct bussched *s, const struct bs_req *a, const struct bs_req *b,
		      uint64_t now)
{
	bool sa = bs_starving(s, a, now), sb = bs_starving(s, b, now);

	if (sa != sb)
		return sa;
	if (!sa && s->cfg.order == BUSSCHED_ORDER_SHORTEST && a->bytes != b->bytes)
		return a->bytes < b->bytes;
	return a->seq < b->seq;
}

static size_t bs_count(const struct bussched *s, const char *bus, bool active)
{
	size_t k = 0;

	for (size_t i = 0; bus && i < s->n; i++)
		if (s->reqs[i].active == active && strcmp(s->reqs[i].bus, bus) == 0)
			k++;
	return k;
}

size_t bussched_waiting(const struct bussched *s, const char *bus)
{
	return s ? bs_count(s, bus, false) : 0;
}

size_t bussched_active(const struct bussched *s, const char *bus)
{
	return s ? bs_count(s, bus, true) : 0;
}

/* The request of bus that goes next, or NULL when none waits. */
static struct bs_req *bs_next(struct bussched *s, const char *bus, uint64_t now)
{
	struct bs_req *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		struct bs_req *r = &s->reqs[i];

		if (r->active || strcmp(r->bus, bus) != 0)
			continue;
		if (!best || bs_before(s, r, best, now))
			best = r;
	}
	return best;
}

/* Grant on bus while a slot is free and a request waits. The grants array
 * has room for every request (bs_reserve), so this cannot fail. */
static void bs_fill(struct bussched *s, const char *key, uint64_t now)
{
	char bus[BUSSCHED_KEY_MAX];
	struct bs_req *r;

	snprintf(bus, sizeof(bus), "%s", key); /* key may be a request's, which moves */
	while (bs_count(s, bus, true) < s->cfg.max_active && (r = bs_next(s, bus, now))) {
		r->active = true;
		s->grants[s->ngrants++] = r->h;
		for (size_t i = 0; i < s->n; i++) {
			struct bs_req *o = &s->reqs[i];
			if (!o->active && strcmp(o->bus, bus) == 0 && o->passed < UINT32_MAX)
				o->passed++;
		}
	}
}

int bussched_set_cfg(struct bussched *s, const struct bussched_cfg *cfg, uint64_t now_ms)
{
	if (!s || !bs_cfg_valid(cfg))
		return -EINVAL;
	s->cfg = *cfg;
	for (size_t i = 0; i < s->n; i++)
		if (!s->reqs[i].active)
			bs_fill(s, s->reqs[i].bus, now_ms);
	return 0;
}

/* Room for one more request, and for its grant. */
static int bs_reserve(struct bussched *s)
{
	size_t cap;
	struct bs_req *r;
	void **g;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 16;
	if (cap > BUSSCHED_REQUESTS_MAX)
		cap = BUSSCHED_REQUESTS_MAX;
	r = realloc(s->reqs, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->reqs = r;
	g = realloc(s->grants, cap * sizeof(*g));
	if (!g)
		return -ENOMEM;
	s->grants = g;
	s->cap = cap;
	return 0;
}

int bussched_request(struct bussched *s, const char *bus, void *h, uint64_t bytes,
		     uint64_t now_ms)
{
	size_t len = bus ? strlen(bus) : 0;
	struct bs_req *r;
	bool now;
	int e;

	if (!s || !h || !len || len >= BUSSCHED_KEY_MAX)
		return -EINVAL;
	if (bs_find(s, h))
		return -EBUSY;
	if (s->n >= BUSSCHED_REQUESTS_MAX)
		return -ENOSPC;
	e = bs_reserve(s);
	if (e < 0)
		return e;
	now = bs_count(s, bus, true) < s->cfg.max_active && !bs_count(s, bus, false);
	r = &s->reqs[s->n++];
	*r = (struct bs_req){ .h = h, .bytes = bytes, .since_ms = now_ms, .seq = s->seq++,
			      .active = now };
	memcpy(r->bus, bus, len + 1);
	return now ? 1 : 0;
}

static void bs_drop_grant(struct bussched *s, const void *h)
{
	for (size_t i = 0; i < s->ngrants; i++) {
		if (s->grants[i] != h)
			continue;
		memmove(&s->grants[i], &s->grants[i + 1], (s->ngrants - i - 1) * sizeof(*s->grants));
		s->ngrants--;
		return;
	}
}

int bussched_release(struct bussched *s, void *h, uint64_t now_ms)
{
	char bus[BUSSCHED_KEY_MAX];
	struct bs_req *r = s && h ? bs_find(s, h) : NULL;

	if (!r)
		return -ENOENT;
	memcpy(bus, r->bus, sizeof(bus));
	if (r->active)
		bs_drop_grant(s, h);
	*r = s->reqs[--s->n]; /* order lives in seq, not in the array */
	bs_fill(s, bus, now_ms);
	return 0;
}

bool bussched_granted(struct bussched *s, void **h)
{
	if (!s || !s->ngrants)
		return false;
	*h = s->grants[0];
	memmove(&s->grants[0], &s->grants[1], (s->ngrants - 1) * sizeof(*s->grants));
	s->ngrants--;
	return true;
}

int bussched_state(const struct bussched *s, const void *h)
{
	const struct bs_req *r = s && h ? bs_find(s, h) : NULL;

	return r ? r->active : -ENOENT;
}

int bussched_ahead(const struct bussched *s, const void *h, uint64_t now_ms)
{
	const struct bs_req *r = s && h ? bs_find(s, h) : NULL;
	int k = 0;

	if (!r)
		return -ENOENT;
	if (r->active)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct bs_req *o = &s->reqs[i];
		if (o != r && !o->active && strcmp(o->bus, r->bus) == 0 && bs_before(s, o, r, now_ms))
			k++;
	}
	return k;
}

int bussched_port_bus(const char *port, char *out, size_t outlen)
{
	size_t d = port ? strspn(port, "0123456789") : 0;
	int n;

	if (!d || port[d] != '-' || d > 10)
		return -EINVAL;
	n = snprintf(out, outlen, "usb%.*s", (int)d, port);
	return n < 0 || (size_t)n >= outlen ? -EINVAL : 0;
}
