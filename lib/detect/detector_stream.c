#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/order_stats.h"
#include "core/radix_select.h"
#include "detect/detector_stream.h"
#include "features/moments.h"
#include "par/dist.h"

int fin_detector_streams(enum fin_method m)
{
	return m == FIN_DET_ZSCORE || m == FIN_DET_MAHALANOBIS || m == FIN_DET_IFOREST;
}

/* Under mpirun, every rank reads the rows in every pass and works on its
 * own part of them, a block of consecutive rows, the ranks in order
 * (fin-anomaly(1), MPI); alone, the one part is every row. With --shard
 * a rank's part is the rows of its own files, which it reads alone
 * (fin_feature_pass_part). */
static fin_pass_part rank_part(const fin_feature_pass *p, size_t r)
{
	return fin_feature_pass_part(p, (int)r, 1);
}

/* Under mpirun, every rank's status at the same point of the fit (the end
 * of a pass, before the ranks put together what they found): that of the
 * first rank that failed, whose message alone is kept. A rank that failed
 * before the pass skips its reading but still comes here, so that no rank
 * waits for it for ever. Alone, rc. */
static int agree(int rc, fin_err *err)
{
	return fin_dist_agree_msg(rc, err ? err->msg : NULL);
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
 * the first pass over them. Under mpirun, each rank counts the keys of its
 * own rows and the counts are summed over the ranks after each pass: the
 * same counts, so the same medians, as one process. */
static int fit_zscore(fin_detector *d, fin_feature_pass *p, fin_err *err)
{
	size_t n = p->expected, w = d->nfeat, lo = (n - 1) / 2, hi = n / 2;
	size_t nr = lo == hi ? 1 : 2, nsel = w * nr, i, j, r, b, e;
	fin_radix_select *sel = calloc(nsel, sizeof *sel);
	double *deviations = calloc(w, sizeof *deviations);
	unsigned width = digit_width(nsel), stage;
	size_t digits = (size_t)1 << width, *counts = NULL;
	fin_pass_part q = rank_part(p, (size_t)fin_dist_rank());
	int rc = FIN_OK, got;

	if (!sel || !deviations ||
	    (fin_dist_active() && !(counts = malloc(nsel * digits * sizeof *counts))))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	for (stage = 0; stage < 2; stage++) {
		int found = 0, first = 1;
		for (j = 0; rc == FIN_OK && j < nsel; j++)
			if (fin_radix_select_init(&sel[j], stage ? 64 : 32, width, j % nr ? hi : lo) != 0)
				rc = fin_fail(err, FIN_EDATA, "out of memory");
		while (!found) {
			if (rc == FIN_OK)
				rc = fin_feature_pass_start_part(p, &q, err);
			while (rc == FIN_OK && (got = fin_feature_pass_next(p, err)) != 0) {
				if (got < 0) {
					rc = -got;
					break;
				}
				fin_feature_pass_part_rows(p, &q, &b, &e);
				for (i = b; i < e; i++)
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
			}
			if ((rc = agree(rc, err)) != FIN_OK)
				goto done;
			if (fin_dist_active()) {
				for (j = 0; j < nsel; j++)
					memcpy(counts + j * digits, sel[j].count, digits * sizeof *counts);
				fin_dist_sum_sizes(counts, nsel * digits);
				for (j = 0; j < nsel; j++)
					memcpy(sel[j].count, counts + j * digits, digits * sizeof *counts);
				if (stage && first)
					fin_dist_sum_doubles(deviations, w);
			}
			first = 0;
			for (j = 0; j < nsel; j++)
				found = fin_radix_select_next(&sel[j]);
		}
		/* the median of sorted values: the middle one, or the mean of two */
		for (j = 0; j < w; j++) {
			const fin_radix_select *a = &sel[j * nr], *c = &sel[j * nr + nr - 1];
			double va = stage ? fin_double_of_key(a->prefix)
					  : fin_float_of_key((uint32_t)a->prefix);
			double vb = stage ? fin_double_of_key(c->prefix)
					  : fin_float_of_key((uint32_t)c->prefix);
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
	free(counts);
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

/* Under mpirun, each rank copied the wanted rows of its own part, which
 * are a block of the distinct rows (numbered in row order, as want[m] is
 * sorted): each block goes from its rank to every rank. */
static void share_rows(float *gathered, const struct wanted *want, size_t m, size_t w,
		       const fin_feature_pass *p)
{
	size_t ranks = (size_t)fin_dist_size(), r, k = 0, distinct = 0, start = 0;

	for (r = 0; r < ranks; r++) {
		size_t to = rank_part(p, r).to;
		for (; k < m && want[k].row < to; k++)
			distinct += k == 0 || want[k].row != want[k - 1].row;
		fin_dist_broadcast(gathered + start * w, (distinct - start) * w * sizeof *gathered,
				   (int)r);
		start = distinct;
	}
}

/* The rows of every tree's subsample, drawn from the row count the scan
 * found, copied out of one pass, each distinct row once (a row several
 * trees draw, or every row when there are few); then the trees grow from
 * them. Under mpirun, every rank draws the same subsamples and copies the
 * rows of its own part; the rows are shared and every rank grows the same
 * forest as one process, from the same seed. */
static int fit_iforest(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
		       fin_err *err)
{
	size_t w = d->nfeat, m = 0, k = 0, distinct = 0, at, i, b, e;
	fin_pass_part q = rank_part(p, (size_t)fin_dist_rank());
	fin_iforest_plan plan;
	struct wanted *want = NULL;
	float *gathered = NULL;
	int rc, got;

	rc = fin_iforest_plan_draw(&plan, p->expected, w, o->trees, o->sample, o->seed, err);
	if (rc == FIN_OK) {
		m = plan.ntrees * plan.psi;
		if (!(want = malloc(m * sizeof *want)))
			rc = fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
	}
	if (rc == FIN_OK) {
		for (i = 0; i < m; i++)
			want[i] = (struct wanted){ plan.rows[i], (uint32_t)i };
		qsort(want, m, sizeof *want, by_row);
		/* The plan's rows renumbered as the distinct rows come, in row order. */
		for (i = 0; i < m; i++) {
			distinct += i == 0 || want[i].row != want[i - 1].row;
			plan.rows[want[i].slot] = (uint32_t)(distinct - 1);
		}
		if (!(gathered = malloc(distinct * w * sizeof *gathered)))
			rc = fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
	}
	if (rc == FIN_OK)
		rc = fin_feature_pass_start_part(p, &q, err);
	while (rc == FIN_OK && (got = fin_feature_pass_next(p, err)) != 0) {
		if (got < 0) {
			rc = -got;
			break;
		}
		fin_feature_pass_part_rows(p, &q, &b, &e);
		at = p->rows - p->n;
		for (; k < m && want[k].row < at + e; k++)
			if (want[k].row >= at + b && (k == 0 || want[k].row != want[k - 1].row))
				memcpy(gathered + plan.rows[want[k].slot] * w,
				       p->x + (want[k].row - at) * w, w * sizeof *gathered);
	}
	if ((rc = agree(rc, err)) != FIN_OK)
		goto done;
	if (fin_dist_active())
		share_rows(gathered, want, m, w, p);
	plan.n = distinct;
	rc = agree(fin_iforest_grow(&d->forest, &plan, gathered, err), err);
done:
	fin_iforest_plan_free(&plan);
	free(want);
	free(gathered);
	return rc;
}

/* One pass of moments. Under mpirun, each rank's moments of its own rows,
 * sent to every rank in turn and merged in rank order there, so that every
 * rank holds the same bits. */
static int fit_mahalanobis(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			   fin_err *err)
{
	size_t ranks = (size_t)fin_dist_size(), rank = (size_t)fin_dist_rank();
	size_t size = fin_moments_doubles(d->nfeat), r, b, e;
	fin_pass_part q = rank_part(p, rank);
	fin_moments mo = { 0 }, all = { 0 };
	const fin_moments *sums = &mo;
	double *sent = NULL;
	int rc = FIN_OK, got;

	if (fin_moments_init(&mo, d->nfeat, p->cap) != 0 ||
	    (fin_dist_active() && (fin_moments_init(&all, d->nfeat, 1) != 0 ||
				   !(sent = malloc(size * sizeof *sent)))))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if (rc == FIN_OK)
		rc = fin_feature_pass_start_part(p, &q, err);
	while (rc == FIN_OK && (got = fin_feature_pass_next(p, err)) != 0) {
		if (got < 0) {
			rc = -got;
			break;
		}
		fin_feature_pass_part_rows(p, &q, &b, &e);
		fin_moments_add(&mo, p->x + b * d->nfeat, e - b);
	}
	if ((rc = agree(rc, err)) != FIN_OK)
		goto done;
	if (fin_dist_active()) {
		for (r = 0; r < ranks; r++) {
			if (r == rank)
				fin_moments_save(&mo, sent);
			fin_dist_broadcast(sent, size * sizeof *sent, (int)r);
			fin_moments_merge(&all, sent);
		}
		sums = &all;
	}
	fin_moments_mean(sums, d->center);
	if (fin_detector_set_covariance(d, sums->c, sums->n, sums->s4, o->shrinkage) != 0)
		rc = fin_fail(err, FIN_EDATA, "the covariance is singular: give --shrinkage above 0");
	rc = agree(rc, err);
done:
	fin_moments_free(&mo);
	fin_moments_free(&all);
	free(sent);
	return rc;
}

/* The threshold from a pass that scores every row, keeping only the top
 * (or bottom) share the quantile needs. Under mpirun, each rank keeps that
 * share of its own rows' scores; each rank's is sent to every rank in turn
 * and kept again there, which leaves the values one process keeps. */
static int fit_threshold(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			 fin_err *err)
{
	size_t n = p->expected, ranks = (size_t)fin_dist_size(), rank = (size_t)fin_dist_rank();
	size_t i, r, b, e;
	fin_pass_part q = rank_part(p, rank);
	fin_order_stats top = { 0 }, all = { 0 };
	const fin_order_stats *kept = &top;
	double *score = NULL, *sent = NULL, at_r, next;
	int rc = FIN_OK, got;

	if (!isnan(o->threshold)) {
		fin_detector_set_threshold(d, NAN, NAN, n, o);
		return FIN_OK;
	}
	if (fin_order_stats_init(&top, n, fin_quantile_rank(1 - o->contamination, n)) != 0 ||
	    !(score = malloc(p->cap * sizeof *score)) ||
	    (fin_dist_active() &&
	     (fin_order_stats_init(&all, n, top.r) != 0 ||
	      !(sent = malloc(top.cap * sizeof *sent)))))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if (rc == FIN_OK)
		rc = fin_feature_pass_start_part(p, &q, err);
	while (rc == FIN_OK && (got = fin_feature_pass_next(p, err)) != 0) {
		if (got < 0) {
			rc = -got;
			break;
		}
		fin_feature_pass_part_rows(p, &q, &b, &e);
		if (e > b && (rc = fin_detector_score(d, p->x + b * d->nfeat, e - b, score, err)) !=
				     FIN_OK)
			break;
		for (i = 0; i < e - b; i++)
			fin_order_stats_add(&top, score[i]);
	}
	if ((rc = agree(rc, err)) != FIN_OK)
		goto done;
	if (fin_dist_active()) {
		for (r = 0; r < ranks; r++) {
			size_t count = top.size;
			fin_dist_broadcast(&count, sizeof count, (int)r);
			if (r == rank)
				memcpy(sent, top.heap, count * sizeof *sent);
			fin_dist_broadcast(sent, count * sizeof *sent, (int)r);
			for (i = 0; i < count; i++)
				fin_order_stats_add(&all, sent[i]);
		}
		kept = &all;
	}
	fin_order_stats_get(kept, &at_r, &next);
	fin_detector_set_threshold(d, at_r, next, n, o);
done:
	fin_order_stats_free(&top);
	fin_order_stats_free(&all);
	free(score);
	free(sent);
	return rc;
}

int fin_detector_fit_passes(fin_detector *d, fin_feature_pass *p, const fin_detector_opts *o,
			    fin_err *err)
{
	int rc = FIN_OK;

	d->method = o->method;
	d->rows_fit = p->expected;
	if (p->expected < 2)
		rc = fin_fail(err, FIN_ENOROWS, "a detector needs at least 2 rows to fit");
	else if (!fin_detector_streams(o->method))
		rc = fin_fail(err, FIN_EUSAGE, "%s does not fit in passes",
			      fin_method_name(o->method));
	else if (!(d->center = calloc(d->nfeat, sizeof *d->center)) ||
		 !(d->scale = calloc(d->nfeat, sizeof *d->scale)))
		rc = fin_fail(err, FIN_EDATA, "out of memory");
	if ((rc = agree(rc, err)) != FIN_OK)
		return rc;
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
