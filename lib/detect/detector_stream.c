#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/order_stats.h"
#include "core/radix_select.h"
#include "detect/detector_stream.h"
#include "features/moments.h"

int fin_detector_streams(enum fin_method m)
{
	return m == FIN_DET_ZSCORE || m == FIN_DET_MAHALANOBIS || m == FIN_DET_IFOREST;
}

/* Digits as wide as 8 MiB of counts allow the selectors, 8 to 16 bits. */
static unsigned digit_width(size_t selectors)
{
	unsigned w = 16;

	while (w > 8 && ((size_t)sizeof(size_t) << w) * selectors > ((size_t)8 << 20))
		w--;
	return w;
}

/* The median of every column, then the median of the absolute deviations
 * from it, each found exactly by radix selection over passes: values as
 * float32 keys, then deviations as double keys, the deviations computed
 * as the in-memory fit computes them. The sum of the deviations comes from
 * the first pass over them. */
static int fit_zscore(fin_detector *d, fin_feature_pass *p, fin_err *err)
{
	size_t n = p->expected, w = d->nfeat, lo = (n - 1) / 2, hi = n / 2;
	size_t nr = lo == hi ? 1 : 2, nsel = w * nr, i, j, r;
	fin_radix_select *sel = calloc(nsel, sizeof *sel);
	double *deviations = calloc(w, sizeof *deviations);
	unsigned width = digit_width(nsel), stage;
	int rc = FIN_OK, got;

	if (!sel || !deviations) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (stage = 0; stage < 2 && rc == FIN_OK; stage++) {
		int found = 0, first = 1;
		for (j = 0; j < nsel; j++)
			if (fin_radix_select_init(&sel[j], stage ? 64 : 32, width, j % nr ? hi : lo) != 0) {
				rc = fin_fail(err, FIN_EDATA, "out of memory");
				goto done;
			}
		while (!found) {
			if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
				goto done;
			while ((got = fin_feature_pass_next(p, err)) > 0)
				for (i = 0; i < p->n; i++)
					for (j = 0; j < w; j++) {
						float v = p->x[i * w + j];
						uint64_t key;
						if (stage) {
							double dev = fabs(v - d->center[j]);
							key = fin_double_key(dev);
							if (first)
								deviations[j] += dev;
						} else {
							key = fin_float_key(v);
						}
						for (r = 0; r < nr; r++)
							fin_radix_select_add(&sel[j * nr + r], key);
					}
			if (got < 0) {
				rc = -got;
				goto done;
			}
			first = 0;
			for (j = 0; j < nsel; j++)
				found = fin_radix_select_next(&sel[j]);
		}
		/* the median of sorted values: the middle one, or the mean of two */
		for (j = 0; j < w; j++) {
			const fin_radix_select *a = &sel[j * nr], *b = &sel[j * nr + nr - 1];
			double va = stage ? fin_double_of_key(a->prefix)
					  : fin_float_of_key((uint32_t)a->prefix);
			double vb = stage ? fin_double_of_key(b->prefix)
					  : fin_float_of_key((uint32_t)b->prefix);
			double median = nr == 1 ? va : (va + vb) / 2.0;
			if (stage)
				d->scale[j] = fin_zscore_scale(median, deviations[j], n);
			else
				d->center[j] = median;
		}
		for (j = 0; j < nsel; j++)
			fin_radix_select_free(&sel[j]);
	}
done:
	for (j = 0; sel && j < nsel; j++)
		fin_radix_select_free(&sel[j]);
	free(sel);
	free(deviations);
	return rc;
}

/* A row of the data wanted in a tree's subsample, at slot of the gathered
 * rows. */
struct wanted {
	uint32_t row, slot;
};

static int by_row(const void *pa, const void *pb)
{
	const struct wanted *a = pa, *b = pb;

	if (a->row != b->row)
		return a->row < b->row ? -1 : 1;
	return (a->slot > b->slot) - (a->slot < b->slot);
}

/* The rows of every tree's subsample, drawn from the row count the scan
 * found, copied out of one pass, each distinct row once (a row several
 * trees draw, or every row when there are few); then the trees grow from
 * them. */
static int fit_iforest(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
		       fin_err *err)
{
	size_t w = d->nfeat, m, k = 0, at = 0, distinct = 0, i;
	fin_iforest_plan plan;
	struct wanted *want = NULL;
	float *gathered = NULL;
	int rc, got;

	if ((rc = fin_iforest_plan_draw(&plan, p->expected, w, o->trees, o->sample, o->seed,
					err)) != FIN_OK)
		return rc;
	m = plan.ntrees * plan.psi;
	if (!(want = malloc(m * sizeof *want))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
		goto done;
	}
	for (i = 0; i < m; i++)
		want[i] = (struct wanted){ plan.rows[i], (uint32_t)i };
	qsort(want, m, sizeof *want, by_row);
	/* The plan's rows renumbered as the distinct rows come, in row order. */
	for (i = 0; i < m; i++) {
		distinct += i == 0 || want[i].row != want[i - 1].row;
		plan.rows[want[i].slot] = (uint32_t)(distinct - 1);
	}
	if (!(gathered = malloc(distinct * w * sizeof *gathered))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
		goto done;
	}
	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		goto done;
	while ((got = fin_feature_pass_next(p, err)) > 0) {
		for (; k < m && want[k].row < at + p->n; k++)
			if (k == 0 || want[k].row != want[k - 1].row)
				memcpy(gathered + plan.rows[want[k].slot] * w,
				       p->x + (want[k].row - at) * w, w * sizeof *gathered);
		at += p->n;
	}
	if (got < 0) {
		rc = -got;
		goto done;
	}
	plan.n = distinct;
	rc = fin_iforest_grow(&d->forest, &plan, gathered, err);
done:
	fin_iforest_plan_free(&plan);
	free(want);
	free(gathered);
	return rc;
}

static int fit_mahalanobis(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			   fin_err *err)
{
	fin_moments mo;
	int rc, got;

	if (fin_moments_init(&mo, d->nfeat, p->cap) != 0)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		goto done;
	while ((got = fin_feature_pass_next(p, err)) > 0)
		fin_moments_add(&mo, p->x, p->n);
	if (got < 0) {
		rc = -got;
		goto done;
	}
	fin_moments_mean(&mo, d->center);
	if (fin_detector_set_covariance(d, mo.c, mo.n, mo.s4, o->shrinkage) != 0)
		rc = fin_fail(err, FIN_EDATA, "the covariance is singular: give --shrinkage above 0");
done:
	fin_moments_free(&mo);
	return rc;
}

/* The threshold from a pass that scores every row, keeping only the top
 * (or bottom) share the quantile needs. */
static int fit_threshold(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			 fin_err *err)
{
	size_t n = p->expected, i;
	fin_order_stats top;
	double *score = NULL, at_r, next;
	int rc, got;

	if (!isnan(o->threshold)) {
		fin_detector_set_threshold(d, NAN, NAN, n, o);
		return FIN_OK;
	}
	if (fin_order_stats_init(&top, n, fin_quantile_rank(1 - o->contamination, n)) != 0 ||
	    !(score = malloc(p->cap * sizeof *score))) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	if ((rc = fin_feature_pass_start(p, err)) != FIN_OK)
		goto done;
	while ((got = fin_feature_pass_next(p, err)) > 0) {
		if ((rc = fin_detector_score(d, p->x, p->n, score, err)) != FIN_OK)
			goto done;
		for (i = 0; i < p->n; i++)
			fin_order_stats_add(&top, score[i]);
	}
	if (got < 0) {
		rc = -got;
		goto done;
	}
	fin_order_stats_get(&top, &at_r, &next);
	fin_detector_set_threshold(d, at_r, next, n, o);
done:
	fin_order_stats_free(&top);
	free(score);
	return rc;
}

int fin_detector_fit_passes(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			    fin_err *err)
{
	int rc;

	d->method = o->method;
	d->rows_fit = p->expected;
	if (p->expected < 2)
		return fin_fail(err, FIN_ENOROWS, "a detector needs at least 2 rows to fit");
	if (!fin_detector_streams(o->method))
		return fin_fail(err, FIN_EUSAGE, "%s does not fit in passes",
				fin_method_name(o->method));
	d->center = calloc(d->nfeat, sizeof *d->center);
	d->scale = calloc(d->nfeat, sizeof *d->scale);
	if (!d->center || !d->scale)
		return fin_fail(err, FIN_EDATA, "out of memory");
	if (o->method == FIN_DET_IFOREST) {
		d->trees = o->trees;
		d->sample = o->sample;
		d->seed = o->seed;
		rc = fit_iforest(d, p, o, err);
	} else if (o->method == FIN_DET_MAHALANOBIS) {
		rc = fit_mahalanobis(d, p, o, err);
	} else {
		rc = fit_zscore(d, p, err);
	}
	return rc == FIN_OK ? fit_threshold(d, p, o, err) : rc;
}
