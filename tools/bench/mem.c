// SPDX-License-Identifier: GPL-2.0
/*
 * The memory kernels: read every byte, write every byte. Every mechanism
 * is read and written with the same code, in 32-byte vectors (AVX2 when
 * the CPU has it), so that a difference between mechanisms is the
 * mechanism's. Copies use the C library's memcpy(), as programs do.
 */
#include <string.h>

#include "bench.h"

typedef uint64_t vec_t __attribute__((vector_size(32), aligned(1)));

#define VEC	sizeof(vec_t)
#define UNROLL	4

__attribute__((target_clones("avx2", "default")))
uint64_t mem_read(const void *p, size_t len)
{
	const unsigned char *c = p;
	vec_t a = { 0 }, b = { 0 }, d = { 0 }, e = { 0 };
	size_t i = 0;
	uint64_t sum;

	for (; i + UNROLL * VEC <= len; i += UNROLL * VEC) {
		a += *(const vec_t *)(c + i);
		b += *(const vec_t *)(c + i + VEC);
		d += *(const vec_t *)(c + i + 2 * VEC);
		e += *(const vec_t *)(c + i + 3 * VEC);
	}
	a += b + d + e;
	sum = a[0] + a[1] + a[2] + a[3];
	for (; i < len; i++)
		sum += c[i];
	return sum;
}

__attribute__((target_clones("avx2", "default")))
void mem_write(void *p, size_t len, uint64_t pattern)
{
	unsigned char *c = p;
	vec_t v = { pattern, pattern, pattern, pattern };
	size_t i = 0;

	for (; i + UNROLL * VEC <= len; i += UNROLL * VEC) {
		*(vec_t *)(c + i) = v;
		*(vec_t *)(c + i + VEC) = v;
		*(vec_t *)(c + i + 2 * VEC) = v;
		*(vec_t *)(c + i + 3 * VEC) = v;
	}
	for (; i < len; i++)
		c[i] = (unsigned char)pattern;
}
