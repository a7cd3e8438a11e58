#include <gsl/gsl_cblas.h>

#include "nn/gemm.h"

/* OpenBLAS's own entry point; GSL's CBLAS header does not declare it. */
void openblas_set_num_threads(int n);

void fin_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
	      size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void fin_gemm_threads(int n)
{
	openblas_set_num_threads(n);
}
