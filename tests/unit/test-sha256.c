/* Unit tests for sha256: FIPS 180-4 / NIST example vectors, streaming in
 * every split, and the block-boundary paddings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sha256.h"

static void hex_of(const void *data, size_t len, char out[65])
{
	sha256_hex(data, len, out);
}

static void test_vectors(void **state)
{
	char h[65];

	hex_of("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	       112, h);
	assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
	struct sha256 s;
	uint8_t d[SHA256_DIGEST_LEN], chunk[1000];
	char h[65];

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sha256_update(&s, chunk, sizeof(chunk));
	sha256_final(&s, d);
	sha256_to_hex(d, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* every split point and every length around the 55/56/64-byte paddings
 * gives the one-shot digest */
static void test_streaming_splits(void **state)
{
	uint8_t buf[200];
	char want[65], got[65];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		hex_of(buf, len, want);
		for (size_t cut = 0; cut <= len; cut += (len > 70 ? 13 : 1)) {
			struct sha256 s;
			uint8_t d[SHA256_DIGEST_LEN];
			sha256_init(&s);
			sha256_update(&s, buf, cut);
			sha256_update(&s, buf + cut, 0);
			sha256_update(&s, buf + cut, len - cut);
			sha256_final(&s, d);
			sha256_to_hex(d, got);
			assert_string_equal(got, want);
		}
	}
}

static void test_padding_lengths(void **state)
{
	/* digests of 55, 56, 63, 64 and 65 'a's (cross-checked with sha256sum) */
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	};
	char a[65], h[65];

	memset(a, 'a', sizeof(a));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex_of(a, v[i].len, h);
		assert_string_equal(h, v[i].hex);
	}
}

/* the accelerated and the portable code agree on random data of random
 * lengths, fed in random pieces */
static void test_accel_matches_portable(void **state)
{
	static uint8_t buf[70000];
	uint32_t x = 0x9e3779b9u;

	sha256_use_accel(true);
	if (!sha256_accelerated())
		skip();
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (int round = 0; round < 200; round++) {
		size_t len = (x = x * 1103515245u + 12345u) % sizeof(buf);
		char h[2][65];
		for (int accel = 0; accel < 2; accel++) {
			struct sha256 s;
			uint8_t d[SHA256_DIGEST_LEN];
			size_t off = 0;
			sha256_use_accel(accel);
			sha256_init(&s);
			while (off < len) {
				size_t n = ((x = x * 1103515245u + 12345u) >> 8) % 5000;
				n = n > len - off ? len - off : n;
				sha256_update(&s, buf + off, n);
				off += n;
			}
			sha256_final(&s, d);
			sha256_to_hex(d, h[accel]);
		}
		sha256_use_accel(true);
		assert_string_equal(h[0], h[1]);
	}
}

static int use_portable(void **state)
{
	sha256_use_accel(false);
	return 0;
}

static int use_default(void **state)
{
	sha256_use_accel(true);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_streaming_splits),
		cmocka_unit_test(test_padding_lengths),
		cmocka_unit_test(test_accel_matches_portable),
	};
	int r;

	printf("# SHA extensions %s\n", sha256_accelerated() ? "used" : "not available");
	r = cmocka_run_group_tests_name("default", tests, use_default, use_default);
	/* the same vectors through the portable code */
	r |= cmocka_run_group_tests_name("portable", tests, use_portable, use_default);
	return r;
}
