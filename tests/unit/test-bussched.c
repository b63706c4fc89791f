/* Unit tests for bussched: grant order (FIFO, fewest bytes first), one
 * download at a time per bus (and max_active), cancel while waiting, while
 * active and before the grant was collected, the starvation bounds (grants
 * and time), buses independent, bus keys of port names, bad arguments, and
 * random sequences of 100k operations checked against the invariants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flashd/bussched.h"

static int h[64]; /* handles: &h[i] */

static struct bussched *mk(unsigned max_active, enum bussched_order order, unsigned grants,
			   uint64_t ms)
{
	struct bussched_cfg cfg = { max_active, order, grants, ms };
	struct bussched *s = NULL;

	assert_int_equal(bussched_new(&cfg, &s), 0);
	assert_non_null(s);
	return s;
}

/* The one grant a release gave, or NULL. */
static void *one_grant(struct bussched *s)
{
	void *g = NULL, *more;

	if (!bussched_granted(s, &g))
		return NULL;
	assert_false(bussched_granted(s, &more));
	return g;
}

static void test_fifo_one_at_a_time(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_FIFO, 0, 0);

	(void)state;
	assert_int_equal(bussched_request(s, "usb1", &h[0], 300, 0), 1);
	assert_int_equal(bussched_request(s, "usb1", &h[1], 100, 1), 0);
	assert_int_equal(bussched_request(s, "usb1", &h[2], 200, 2), 0);
	assert_int_equal(bussched_active(s, "usb1"), 1);
	assert_int_equal(bussched_waiting(s, "usb1"), 2);
	assert_int_equal(bussched_state(s, &h[0]), 1);
	assert_int_equal(bussched_state(s, &h[1]), 0);
	assert_int_equal(bussched_ahead(s, &h[0], 3), 0);
	assert_int_equal(bussched_ahead(s, &h[1], 3), 0);
	assert_int_equal(bussched_ahead(s, &h[2], 3), 1);
	assert_null(one_grant(s));
	assert_int_equal(bussched_release(s, &h[0], 10), 0);
	assert_ptr_equal(one_grant(s), &h[1]);
	assert_int_equal(bussched_state(s, &h[0]), -ENOENT);
	assert_int_equal(bussched_release(s, &h[1], 11), 0);
	assert_ptr_equal(one_grant(s), &h[2]);
	assert_int_equal(bussched_release(s, &h[2], 12), 0);
	assert_null(one_grant(s));
	assert_int_equal(bussched_active(s, "usb1"), 0);
	assert_int_equal(bussched_waiting(s, "usb1"), 0);
	/* a handle may ask again once its request is gone, not before */
	assert_int_equal(bussched_request(s, "usb1", &h[0], 1, 13), 1);
	assert_int_equal(bussched_request(s, "usb1", &h[0], 1, 13), -EBUSY);
	assert_int_equal(bussched_request(s, "usb2", &h[0], 1, 13), -EBUSY);
	bussched_free(s);
}

static void test_shortest_first(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_SHORTEST, 0, 0);

	(void)state;
	assert_int_equal(bussched_request(s, "b", &h[0], 500, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 300, 0), 0);
	assert_int_equal(bussched_request(s, "b", &h[2], 100, 0), 0);
	assert_int_equal(bussched_request(s, "b", &h[3], 300, 0), 0);
	assert_int_equal(bussched_ahead(s, &h[2], 0), 0);
	assert_int_equal(bussched_ahead(s, &h[1], 0), 1);
	assert_int_equal(bussched_ahead(s, &h[3], 0), 2);
	assert_int_equal(bussched_release(s, &h[0], 1), 0);
	assert_ptr_equal(one_grant(s), &h[2]);
	assert_int_equal(bussched_release(s, &h[2], 2), 0);
	assert_ptr_equal(one_grant(s), &h[1]); /* a tie: first come */
	assert_int_equal(bussched_release(s, &h[1], 3), 0);
	assert_ptr_equal(one_grant(s), &h[3]);
	bussched_free(s);
}

static void test_max_active(void **state)
{
	struct bussched *s = mk(2, BUSSCHED_ORDER_FIFO, 0, 0);
	struct bussched_cfg three = { 3, BUSSCHED_ORDER_FIFO, 0, 0 };
	void *g;

	(void)state;
	assert_int_equal(bussched_request(s, "b", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[2], 1, 0), 0);
	assert_int_equal(bussched_request(s, "b", &h[3], 1, 0), 0);
	assert_int_equal(bussched_request(s, "b", &h[4], 1, 0), 0);
	assert_int_equal(bussched_active(s, "b"), 2);
	/* one more slot: the next one goes at once */
	assert_int_equal(bussched_set_cfg(s, &three, 1), 0);
	assert_ptr_equal(one_grant(s), &h[2]);
	assert_int_equal(bussched_release(s, &h[0], 2), 0);
	assert_int_equal(bussched_release(s, &h[1], 2), 0);
	assert_true(bussched_granted(s, &g));
	assert_ptr_equal(g, &h[3]);
	assert_true(bussched_granted(s, &g));
	assert_ptr_equal(g, &h[4]);
	assert_false(bussched_granted(s, &g));
	assert_int_equal(bussched_active(s, "b"), 3);
	bussched_free(s);
}

static void test_cancel(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_FIFO, 0, 0);

	(void)state;
	assert_int_equal(bussched_request(s, "b", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 1, 0), 0);
	assert_int_equal(bussched_request(s, "b", &h[2], 1, 0), 0);
	/* a waiting one leaves: nothing granted, the rest keeps its order */
	assert_int_equal(bussched_release(s, &h[1], 1), 0);
	assert_null(one_grant(s));
	assert_int_equal(bussched_ahead(s, &h[2], 1), 0);
	/* the active one leaves: the next goes */
	assert_int_equal(bussched_request(s, "b", &h[3], 1, 1), 0);
	assert_int_equal(bussched_release(s, &h[0], 2), 0);
	/* granted, not collected yet, then cancelled: its grant is withdrawn
	 * and the next one gets the slot */
	assert_int_equal(bussched_release(s, &h[2], 3), 0);
	assert_ptr_equal(one_grant(s), &h[3]);
	assert_int_equal(bussched_release(s, &h[3], 4), 0);
	assert_null(one_grant(s));
	assert_int_equal(bussched_release(s, &h[3], 4), -ENOENT);
	assert_int_equal(bussched_release(s, NULL, 4), -ENOENT);
	assert_int_equal(bussched_active(s, "b"), 0);
	bussched_free(s);
}

/* Fewest bytes first would pass over a large download for ever while small
 * ones keep coming: after starve_grants grants it goes first. */
static void test_starve_grants(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_SHORTEST, 3, 0);
	void *cur = &h[0];
	unsigned grants = 0;

	(void)state;
	assert_int_equal(bussched_request(s, "b", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 1u << 30, 0), 0);
	for (unsigned i = 2; i < 20; i++) {
		void *g;
		assert_int_equal(bussched_request(s, "b", &h[i], 10, i), 0);
		assert_int_equal(bussched_release(s, cur, i), 0);
		g = one_grant(s);
		assert_non_null(g);
		grants++;
		cur = g;
		if (g == &h[1])
			break;
	}
	assert_ptr_equal(cur, &h[1]);
	assert_int_equal(grants, 4); /* passed over 3 times, then first */
	bussched_free(s);

	/* without a bound it would wait as long as small ones come */
	s = mk(1, BUSSCHED_ORDER_SHORTEST, 0, 0);
	cur = &h[0];
	assert_int_equal(bussched_request(s, "b", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 1u << 30, 0), 0);
	for (unsigned i = 2; i < 40; i++) {
		assert_int_equal(bussched_request(s, "b", &h[i], 10, i), 0);
		assert_int_equal(bussched_release(s, cur, i), 0);
		cur = one_grant(s);
		assert_ptr_not_equal(cur, &h[1]);
	}
	bussched_free(s);
}

static void test_starve_time(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_SHORTEST, 0, 1000);

	(void)state;
	assert_int_equal(bussched_request(s, "b", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "b", &h[1], 1000, 100), 0);
	assert_int_equal(bussched_request(s, "b", &h[2], 10, 200), 0);
	assert_int_equal(bussched_ahead(s, &h[1], 1099), 1);
	assert_int_equal(bussched_ahead(s, &h[1], 1100), 0);
	/* before 1000 ms the small one goes */
	assert_int_equal(bussched_release(s, &h[0], 500), 0);
	assert_ptr_equal(one_grant(s), &h[2]);
	assert_int_equal(bussched_request(s, "b", &h[3], 10, 600), 0);
	/* h[1] has waited 1000 ms: it goes before the smaller h[3] */
	assert_int_equal(bussched_release(s, &h[2], 1100), 0);
	assert_ptr_equal(one_grant(s), &h[1]);
	bussched_free(s);
}

static void test_buses_independent(void **state)
{
	struct bussched *s = mk(1, BUSSCHED_ORDER_FIFO, 0, 0);

	(void)state;
	assert_int_equal(bussched_request(s, "usb1", &h[0], 1, 0), 1);
	assert_int_equal(bussched_request(s, "usb2", &h[1], 1, 0), 1);
	assert_int_equal(bussched_request(s, "usb1", &h[2], 1, 0), 0);
	assert_int_equal(bussched_request(s, "usb2", &h[3], 1, 0), 0);
	assert_int_equal(bussched_request(s, "usb3", &h[4], 1, 0), 1);
	assert_int_equal(bussched_release(s, &h[1], 1), 0);
	assert_ptr_equal(one_grant(s), &h[3]);
	assert_int_equal(bussched_state(s, &h[2]), 0);
	assert_int_equal(bussched_release(s, &h[4], 1), 0);
	assert_null(one_grant(s));
	assert_int_equal(bussched_release(s, &h[0], 2), 0);
	assert_ptr_equal(one_grant(s), &h[2]);
	bussched_free(s);
}

static void test_bad_args(void **state)
{
	struct bussched_cfg bad[] = {
		{ 0, BUSSCHED_ORDER_FIFO, 0, 0 },
		{ BUSSCHED_ACTIVE_MAX + 1, BUSSCHED_ORDER_FIFO, 0, 0 },
		{ 1, _BUSSCHED_ORDER_MAX, 0, 0 },
	};
	char key[BUSSCHED_KEY_MAX + 1];
	struct bussched *s = NULL;
	enum bussched_order o;
	void *g;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bussched_new(&bad[i], &s), -EINVAL);
	assert_null(s);
	s = mk(1, BUSSCHED_ORDER_FIFO, 0, 0);
	assert_int_equal(bussched_set_cfg(s, &bad[0], 0), -EINVAL);
	assert_int_equal(bussched_request(s, "b", NULL, 1, 0), -EINVAL);
	assert_int_equal(bussched_request(s, "", &h[0], 1, 0), -EINVAL);
	assert_int_equal(bussched_request(s, NULL, &h[0], 1, 0), -EINVAL);
	memset(key, 'k', sizeof(key) - 1);
	key[BUSSCHED_KEY_MAX] = '\0';
	assert_int_equal(bussched_request(s, key, &h[0], 1, 0), -EINVAL);
	key[BUSSCHED_KEY_MAX - 1] = '\0';
	assert_int_equal(bussched_request(s, key, &h[0], 1, 0), 1);
	assert_int_equal(bussched_ahead(s, &h[9], 0), -ENOENT);
	assert_false(bussched_granted(NULL, &g));
	assert_null(bussched_free(s));
	assert_null(bussched_free(NULL));

	assert_int_equal(bussched_order_from_string("fifo", &o), 0);
	assert_int_equal(o, BUSSCHED_ORDER_FIFO);
	assert_int_equal(bussched_order_from_string("shortest", &o), 0);
	assert_int_equal(o, BUSSCHED_ORDER_SHORTEST);
	assert_int_equal(bussched_order_from_string("srpt", &o), -EINVAL);
	assert_string_equal(bussched_order_to_string(BUSSCHED_ORDER_SHORTEST), "shortest");
}

static void test_port_bus(void **state)
{
	char b[16];

	(void)state;
	assert_int_equal(bussched_port_bus("3-1.4.2", b, sizeof(b)), 0);
	assert_string_equal(b, "usb3");
	assert_int_equal(bussched_port_bus("12-1", b, sizeof(b)), 0);
	assert_string_equal(b, "usb12");
	assert_int_equal(bussched_port_bus("x-1", b, sizeof(b)), -EINVAL);
	assert_int_equal(bussched_port_bus("3", b, sizeof(b)), -EINVAL);
	assert_int_equal(bussched_port_bus("-1", b, sizeof(b)), -EINVAL);
	assert_int_equal(bussched_port_bus(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(bussched_port_bus("123-1", b, 6), -EINVAL);
}

/* ---- random sequences against a model of what each handle did ---- */

#define RH 48u   /* handles */
#define RB 3u    /* buses */

struct rmodel {
	int bus;                 /* -1: no request */
	bool active, notified;   /* holds a slot; its grant was collected (or immediate) */
	unsigned ahead_at_entry; /* waiting on its bus when it came */
	unsigned grants_seen;    /* grants on its bus while it waited */
};

static const char *const rbus[RB] = { "usb1", "usb2", "conf:line" };

static void r_collect(struct bussched *s, struct rmodel *m)
{
	void *g;

	while (bussched_granted(s, &g)) {
		int i = (int *)g - h;
		assert_true(i >= 0 && i < (int)RH);
		assert_int_not_equal(m[i].bus, -1);
		assert_false(m[i].notified);
		assert_int_equal(bussched_state(s, g), 1);
		m[i].active = m[i].notified = true;
	}
}

static void r_check(struct bussched *s, const struct rmodel *m, unsigned max_active,
		    unsigned starve_grants)
{
	for (unsigned b = 0; b < RB; b++) {
		unsigned act = 0, wait = 0;
		for (unsigned i = 0; i < RH; i++) {
			if (m[i].bus != (int)b)
				continue;
			int st = bussched_state(s, &h[i]);
			assert_true(st == 0 || st == 1);
			if (st)
				act++;
			else
				wait++;
			/* the starvation bound: passed over at most this often */
			if (!st && starve_grants)
				assert_true(m[i].grants_seen <= starve_grants + m[i].ahead_at_entry);
		}
		assert_int_equal(bussched_active(s, rbus[b]), act);
		assert_int_equal(bussched_waiting(s, rbus[b]), wait);
		assert_true(act <= max_active);
		assert_true(!wait || act == max_active); /* no idle slot while one waits */
	}
}

static void test_random(void **state)
{
	struct rmodel m[RH];
	uint64_t now = 0;

	(void)state;
	srand(15);
	for (unsigned round = 0; round < 4; round++) {
		unsigned max_active = 1 + round % 2, sg = round < 2 ? 5 : 0;
		struct bussched *s = mk(max_active, round % 2 ? BUSSCHED_ORDER_SHORTEST
							      : BUSSCHED_ORDER_FIFO,
					sg, round == 3 ? 50 : 0);

		for (unsigned i = 0; i < RH; i++)
			m[i] = (struct rmodel){ .bus = -1 };
		for (unsigned op = 0; op < 25000; op++) {
			unsigned i = (unsigned)rand() % RH;
			int r;

			now += (unsigned)rand() % 3;
			if (m[i].bus < 0 || rand() % 3 == 0) {
				unsigned b = (unsigned)rand() % RB;
				unsigned waiting = (unsigned)bussched_waiting(s, rbus[b]);
				r = bussched_request(s, rbus[b], &h[i], (uint64_t)(rand() % 1000), now);
				if (m[i].bus >= 0) {
					assert_int_equal(r, -EBUSY);
				} else {
					assert_true(r == 0 || r == 1);
					m[i] = (struct rmodel){ .bus = (int)b, .active = r == 1,
								.notified = r == 1,
								.ahead_at_entry = waiting };
				}
			} else {
				unsigned b = (unsigned)m[i].bus;
				size_t before = bussched_active(s, rbus[b]);
				bool was_active = bussched_state(s, &h[i]) == 1;

				assert_int_equal(bussched_release(s, &h[i], now), 0);
				m[i] = (struct rmodel){ .bus = -1 };
				/* grants on b: the waiting ones saw them */
				size_t after = bussched_active(s, rbus[b]);
				size_t g = after + (was_active ? 1 : 0) - before;
				for (unsigned k = 0; k < RH; k++)
					if (m[k].bus == (int)b && bussched_state(s, &h[k]) == 0)
						m[k].grants_seen += (unsigned)g;
				/* collect now or later: both must work */
				if (rand() % 2)
					r_collect(s, m);
			}
			assert_int_equal(bussched_release(s, &h[RH], now), -ENOENT);
			if (op % 16 == 0)
				r_check(s, m, max_active, sg);
		}
		r_collect(s, m);
		for (unsigned i = 0; i < RH; i++)
			if (m[i].bus >= 0)
				assert_int_equal(m[i].notified, bussched_state(s, &h[i]) == 1);
		bussched_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_one_at_a_time),
		cmocka_unit_test(test_shortest_first),
		cmocka_unit_test(test_max_active),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_starve_grants),
		cmocka_unit_test(test_starve_time),
		cmocka_unit_test(test_buses_independent),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_port_bus),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
