#include <gsl/gsl_blas.h>
#include <stdlib.h>
#include <string.h>

#include "features/moments.h"

int fin_moments_init(fin_moments *m, size_t p, size_t cap)
{
	memset(m, 0, sizeof *m);
	m->p = p;
	m->cap = cap;
	m->mean = calloc(p, sizeof *m->mean);
	m->shift = calloc(p, sizeof *m->shift);
	m->c = calloc(p * p, sizeof *m->c);
	m->v = calloc(p, sizeof *m->v);
	m->y = malloc(cap * p * sizeof *m->y);
	m->bmean = malloc(p * sizeof *m->bmean);
	m->bc = malloc(p * p * sizeof *m->bc);
	m->bv = malloc(p * sizeof *m->bv);
	m->t = malloc(p * sizeof *m->t);
	m->da = malloc(p * sizeof *m->da);
	m->db = malloc(p * sizeof *m->db);
	if (!m->mean || !m->shift || !m->c || !m->v || !m->y || !m->bmean || !m->bc || !m->bv || !m->t ||
	    !m->da || !m->db) {
		fin_moments_free(m);
		return -1;
	}
	return 0;
}

void fin_moments_free(fin_moments *m)
{
	free(m->mean);
	free(m->shift);
	free(m->c);
	free(m->v);
	free(m->y);
	free(m->bmean);
	free(m->bc);
	free(m->bv);
	free(m->t);
	free(m->da);
	free(m->db);
	memset(m, 0, sizeof *m);
}

/* Moves sums taken about their own mean to a mean delta below it, for k
 * rows: C + k dd^T, v + tr(C) d + 2 C d + k |d|^2 d, and s4 + 4 d.C d +
 * 4 d.v + 2 |d|^2 tr(C) + k |d|^4, from expanding |y + d|^2 with the
 * rows' y summing to 0. t is scratch [p]. */
static void shift(size_t p, size_t k, const double *d, double *c, double *v, double *s4,
		  double *t)
{
	double tr = 0, dd = 0, dcd = 0, dv = 0;
	size_t i, j;

	for (i = 0; i < p; i++) {
		double s = 0;
		for (j = 0; j < p; j++)
			s += c[i * p + j] * d[j];
		t[i] = s; /* C d */
		tr += c[i * p + i];
		dd += d[i] * d[i];
		dv += d[i] * v[i];
	}
	for (i = 0; i < p; i++)
		dcd += d[i] * t[i];
	*s4 += 4 * dcd + 4 * dv + 2 * dd * tr + (double)k * dd * dd;
	for (i = 0; i < p; i++)
		v[i] += tr * d[i] + 2 * t[i] + (double)k * dd * d[i];
	for (i = 0; i < p; i++)
		for (j = 0; j < p; j++)
			c[i * p + j] += (double)k * (d[i] * d[j]); /* symmetric, bit for bit */
}

/* Merges the sums of n more rows, held in the scratch bmean (their mean
 * of x - shift), bc, bv and bs4 (their sums about that mean), into m's. */
static void merge_part(fin_moments *m, size_t n, double bs4)
{
	size_t p = m->p, j, total = m->n + n;

	if (m->n == 0) {
		memcpy(m->mean, m->bmean, p * sizeof *m->mean);
		memcpy(m->c, m->bc, p * p * sizeof *m->c);
		memcpy(m->v, m->bv, p * sizeof *m->v);
		m->s4 = bs4;
		m->n = n;
		return;
	}
	/* The merged mean, and each part's mean relative to it. */
	for (j = 0; j < p; j++) {
		double diff = m->bmean[j] - m->mean[j];
		m->da[j] = -diff * ((double)n / (double)total);
		m->db[j] = diff * ((double)m->n / (double)total);
	}
	shift(p, m->n, m->da, m->c, m->v, &m->s4, m->t);
	shift(p, n, m->db, m->bc, m->bv, &bs4, m->t);
	for (j = 0; j < p; j++)
		m->mean[j] -= m->da[j];
	m->n = total;
	m->s4 += bs4;
	for (j = 0; j < p * p; j++)
		m->c[j] += m->bc[j];
	for (j = 0; j < p; j++)
		m->v[j] += m->bv[j];
}

void fin_moments_add(fin_moments *m, const float *x, size_t n)
{
	size_t p = m->p, i, j;
	double bs4 = 0;

	if (n == 0)
		return;
	/* Values are taken relative to the first row, exactly (float32 in
	 * double): the means merged are then near 0 and lose no digits that
	 * the spread needs. */
	if (m->n == 0)
		for (j = 0; j < p; j++)
			m->shift[j] = x[j];
	/* the batch's mean, and its rows about it */
	for (j = 0; j < p; j++)
		m->bmean[j] = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
			m->bmean[j] += x[i * p + j] - m->shift[j];
	for (j = 0; j < p; j++)
		m->bmean[j] /= (double)n;
	for (j = 0; j < p; j++)
		m->bv[j] = 0;
	for (i = 0; i < n; i++) {
		double *y = m->y + i * p, r2 = 0;
		for (j = 0; j < p; j++) {
			y[j] = x[i * p + j] - m->shift[j] - m->bmean[j];
			r2 += y[j] * y[j];
		}
		for (j = 0; j < p; j++)
			m->bv[j] += r2 * y[j];
		bs4 += r2 * r2;
	}
	{
		gsl_matrix_const_view yv = gsl_matrix_const_view_array(m->y, n, p);
		gsl_matrix_view cv = gsl_matrix_view_array(m->bc, p, p);
		gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, &yv.matrix, 0.0, &cv.matrix);
		for (i = 0; i < p; i++)
			for (j = i + 1; j < p; j++)
				m->bc[i * p + j] = m->bc[j * p + i];
	}
	merge_part(m, n, bs4);
}

void fin_moments_mean(const fin_moments *m, double *mean)
{
	size_t j;

	for (j = 0; j < m->p; j++)
		mean[j] = m->shift[j] + m->mean[j];
}

size_t fin_moments_doubles(size_t p)
{
	return 2 + 3 * p + p * p;
}

/* [n, s4, shift, mean, v, c]: what another process needs to merge them. */
void fin_moments_save(const fin_moments *m, double *to)
{
	size_t p = m->p;

	to[0] = (double)m->n;
	to[1] = m->s4;
	memcpy(to + 2, m->shift, p * sizeof *to);
	memcpy(to + 2 + p, m->mean, p * sizeof *to);
	memcpy(to + 2 + 2 * p, m->v, p * sizeof *to);
	memcpy(to + 2 + 3 * p, m->c, p * p * sizeof *to);
}

void fin_moments_merge(fin_moments *m, const double *from)
{
	size_t p = m->p, n = (size_t)from[0], j;
	const double *shift = from + 2, *mean = shift + p;

	if (n == 0)
		return;
	if (m->n == 0)
		memcpy(m->shift, shift, p * sizeof *m->shift);
	/* Their mean taken relative to m's first row, as add takes a batch's. */
	for (j = 0; j < p; j++)
		m->bmean[j] = (shift[j] - m->shift[j]) + mean[j];
	memcpy(m->bv, mean + p, p * sizeof *m->bv);
	memcpy(m->bc, mean + 2 * p, p * p * sizeof *m->bc);
	merge_part(m, n, from[1]);
}
