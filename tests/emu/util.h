/* util: byte-order helpers, the monotonic clock and number parsing shared by the
 * board emulator's modules. */
#ifndef EMU_UTIL_H
#define EMU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline uint16_t util_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t util_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t util_le64(const uint8_t *p)
{
	return (uint64_t)util_le32(p) | (uint64_t)util_le32(p + 4) << 32;
}

static inline uint16_t util_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t util_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void util_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void util_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void util_put_le64(uint8_t *p, uint64_t v)
{
	util_put_le32(p, (uint32_t)v);
	util_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* CLOCK_MONOTONIC in nanoseconds */
uint64_t util_now_ns(void);
/* where the CPUs' time went, for the benchmarks: the whole machine's busy and idle
 * clock ticks (/proc/stat; busy = user nice system irq softirq steal, idle = idle
 * iowait) and this process's own CPU time */
struct util_cpu {
	uint64_t busy_ticks, idle_ticks;
	uint64_t self_ns;
};
/* 0, or -errno when /proc/stat cannot be read (self_ns is filled anyway) */
int util_cpu_sample(struct util_cpu *c);
/* strtoull with base auto-detection, whole string, no sign; -EINVAL / -ERANGE */
int util_parse_u64(const char *s, uint64_t *out);
/* a size with an optional K/M/G suffix (binary units); -EINVAL / -ERANGE */
int util_parse_size(const char *s, uint64_t *out);
/* U-Boot's simple_strtoul: optional 0x prefix when base is 0 or 16, stops at the
 * first non-digit, never fails (0 when nothing parses); saturates at UINT64_MAX */
uint64_t util_strtoul_uboot(const char *s, const char **end, unsigned base);

#endif
