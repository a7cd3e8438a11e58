/* Loops that run over every value of a batch or every parameter at every
 * step: a build for the baseline x86-64 also carries AVX2 and AVX-512
 * versions of a function marked FIN_CLONES, chosen when the program
 * starts. Each lane does the same IEEE operations as the scalar code (C11
 * keeps a * b + c unfused, and sums are not reordered without
 * -ffast-math), so every version gives the same bits. gcc only: clang 14
 * leaves the clones of a function in a static library without their
 * resolver; and not under ThreadSanitizer, which cannot run a resolver, as
 * resolvers run before it starts. */
#ifndef FIN_CLONES_H
#define FIN_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__AVX512F__) && \
	!defined(__SANITIZE_THREAD__)
#define FIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FIN_CLONES
#endif

#endif
