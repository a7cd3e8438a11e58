/* The one matrix product: every layer's heavy work goes through here, to
 * cblas_sgemm (GSL's CBLAS interface, provided by OpenBLAS). */
#ifndef FIN_GEMM_H
#define FIN_GEMM_H

#include <stddef.h>

/* C[m][n] = alpha * op(A) op(B) + beta * C, row-major, where op(A) is
 * [m][k] (A^T when ta) and op(B) is [k][n] (B^T when tb). Leading
 * dimensions are those of the matrices as stored. */
void fin_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
	      size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

/* Threads OpenBLAS may use (1 keeps results bit-identical run to run). */
void fin_gemm_threads(int n);

#endif
