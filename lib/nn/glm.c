#include <cjson/cJSON.h>
#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "features/table.h"
#include "io/json_file.h"
#include "nn/glm.h"

/* Rows of the design built at a time: the data is read from the table's
 * float32 features on every pass, so that memory does not grow with it. */
enum { CHUNK = 512 };

/* Newton's method has converged when no coefficient moves by more than
 * this (in standardised units, relative beyond 1): the next step, as the
 * method converges quadratically, would move by about its square. */
#define STEP_TOL 1e-9
/* A class is ruled out for a row when its probability is below this: what
 * classes separated by the features become for the rows of the others. */
#define RULED_OUT 1e-10
/* A column is a linear function of the intercept and the columns before it
 * when the share of its variance they leave unexplained, 1 - R^2, is below
 * this. */
#define DEPENDENT 1e-9

static const char *const method_names[] = { "least_squares", "newton" };

int fin_glm_preset(const char *name)
{
	return strcmp(name, "linear") == 0 || strcmp(name, "logistic") == 0 ||
	       strcmp(name, "softmax") == 0;
}

const char *fin_glm_method_name(enum fin_glm_method method)
{
	return method_names[method];
}

void fin_glm_fit_free(fin_glm_fit *f)
{
	if (!f)
		return;
	free(f->coef);
	free(f->se);
	free(f);
}

/* ---- the objective ---- */

enum kind { LINEAR, LOGISTIC, SOFTMAX };

struct problem {
	enum kind kind;
	const fin_model *m;
	const fin_table *t;
	size_t n, p, P;      /* rows, features, terms (the intercept and the features) */
	size_t nout, K;      /* coefficient rows solved for; classes */
	int reference;       /* unpenalised softmax: class 0's logit is 0, and the
			      * rows are classes 1 to K - 1, as statsmodels' MNLogit */
	double l2;
	double *y;           /* [n] the standardised target, or the class index */
	gsl_matrix *z, *wz;  /* [CHUNK][P] the design, and its rows weighted */
	gsl_matrix *eta, *r; /* [CHUNK][nout] linear predictors; dLoss/deta */
	gsl_matrix *mu;      /* [CHUNK][nout] probabilities of the rows' classes */
	double *logit;       /* [K] */
	double loss;         /* after evaluate: the summed loss of the rows */
	size_t certain;      /* after evaluate: rows every other class is ruled out for */
	size_t excluded;     /* after evaluate: rows some other class is ruled out for */
};

/* Rows [at, at + b) of the standardised design: 1, then every feature as
 * the network sees it, (x - mean) / sd, but in double. */
static void design(struct problem *pr, size_t at, size_t b)
{
	const fin_model *m = pr->m;
	size_t i, j;

	for (i = 0; i < b; i++) {
		double *z = gsl_matrix_ptr(pr->z, i, 0);
		const float *x = pr->t->x + (at + i) * pr->p;
		z[0] = 1;
		for (j = 0; j < pr->p; j++)
			z[j + 1] = ((double)x[j] - m->mean[j]) / m->sd[j];
	}
}

/* Row i's loss, its gradient r with respect to the linear predictors eta,
 * and the probabilities mu of the classes of the coefficient rows. */
static void row_loss(struct problem *pr, size_t i, const double *eta, double *r, double *mu)
{
	double y = pr->y[i], loss;
	size_t k;

	if (pr->kind == LINEAR) {
		double e = eta[0] - y;
		loss = e * e;
		r[0] = 2 * e;
	} else if (pr->kind == LOGISTIC) {
		/* log(1 + e^z) - y z, written to stay finite for large |z| */
		double z = eta[0];
		loss = fmax(z, 0) - z * y + log1p(exp(-fabs(z)));
		mu[0] = 1 / (1 + exp(-z));
		r[0] = mu[0] - y;
		/* 1 - e^-loss, the other class's probability, is about the loss */
		pr->excluded += loss < RULED_OUT;
	} else {
		double *l = pr->logit, max, sum = 0, lse;
		size_t c, cls = (size_t)y;
		for (c = 0; c < pr->K; c++)
			l[c] = !pr->reference ? eta[c] : c ? eta[c - 1] : 0;
		for (max = l[0], c = 1; c < pr->K; c++)
			max = fmax(max, l[c]);
		for (c = 0; c < pr->K; c++)
			sum += exp(l[c] - max);
		lse = max + log(sum);
		loss = lse - l[cls];
		for (c = 0; c < pr->K && (c == cls || l[c] - lse >= log(RULED_OUT)); c++)
			;
		pr->excluded += c < pr->K;
		for (k = 0; k < pr->nout; k++) {
			c = k + (size_t)pr->reference;
			mu[k] = exp(l[c] - lse);
			r[k] = mu[k] - (c == cls);
		}
	}
	pr->loss += loss;
	pr->certain += pr->kind != LINEAR && loss < RULED_OUT;
}

/* The second derivative of a row's loss with respect to eta_k and eta_l. */
static double weight(const struct problem *pr, const double *mu, size_t k, size_t l)
{
	return pr->kind == LINEAR ? 2 : pr->kind == LOGISTIC ? mu[0] * (1 - mu[0])
							    : mu[k] * ((k == l) - mu[l]);
}

/* Adds z^T diag(w_kl) z over the chunk's b rows to each block (k, l),
 * k >= l, of the lower triangle of h: a block on the diagonal, whose
 * weights are not negative, as (sqrt(w) z)^T (sqrt(w) z), half the work. */
static void add_hessian(struct problem *pr, size_t b, gsl_matrix *h)
{
	gsl_matrix_view z = gsl_matrix_submatrix(pr->z, 0, 0, b, pr->P);
	gsl_matrix_view wz = gsl_matrix_submatrix(pr->wz, 0, 0, b, pr->P);
	size_t k, l, i;

	for (k = 0; k < pr->nout; k++)
		for (l = 0; l <= k; l++) {
			gsl_matrix_view block = gsl_matrix_submatrix(h, k * pr->P, l * pr->P, pr->P, pr->P);
			for (i = 0; i < b; i++) {
				gsl_vector_view from = gsl_matrix_row(pr->z, i), to = gsl_matrix_row(pr->wz, i);
				double w = weight(pr, gsl_matrix_ptr(pr->mu, i, 0), k, l);
				gsl_vector_memcpy(&to.vector, &from.vector);
				gsl_vector_scale(&to.vector, k == l ? sqrt(w) : w);
			}
			if (k == l)
				gsl_blas_dsyrk(CblasLower, CblasTrans, 1, &wz.matrix, 1, &block.matrix);
			else
				gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1, &wz.matrix, &z.matrix, 1,
					       &block.matrix);
		}
}

/* The objective at theta ([nout][P]): the training rows' mean loss plus
 * l2/2 times the sum of the squared weights (not the intercepts); with g
 * and h, its gradient ([nout][P]) and the lower triangle of its Hessian
 * ([nout P][nout P]) too. */
static double evaluate(struct problem *pr, const gsl_matrix *theta, gsl_matrix *g, gsl_matrix *h)
{
	const double n = (double)pr->n;
	double penalty = 0;
	size_t at, i, k, l, j;

	pr->loss = 0;
	pr->certain = pr->excluded = 0;
	if (g)
		gsl_matrix_set_zero(g);
	if (h)
		gsl_matrix_set_zero(h);
	for (at = 0; at < pr->n; at += CHUNK) {
		size_t b = pr->n - at < CHUNK ? pr->n - at : CHUNK;
		gsl_matrix_view z = gsl_matrix_submatrix(pr->z, 0, 0, b, pr->P);
		gsl_matrix_view eta = gsl_matrix_submatrix(pr->eta, 0, 0, b, pr->nout);
		gsl_matrix_view r = gsl_matrix_submatrix(pr->r, 0, 0, b, pr->nout);

		design(pr, at, b);
		gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1, &z.matrix, theta, 0, &eta.matrix);
		for (i = 0; i < b; i++)
			row_loss(pr, at + i, gsl_matrix_ptr(pr->eta, i, 0), gsl_matrix_ptr(pr->r, i, 0),
				 gsl_matrix_ptr(pr->mu, i, 0));
		if (g)
			gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1, &r.matrix, &z.matrix, 1, g);
		if (h)
			add_hessian(pr, b, h);
	}
	if (g)
		gsl_matrix_scale(g, 1 / n);
	if (h)
		gsl_matrix_scale(h, 1 / n);
	for (k = 0; k < pr->nout; k++)
		for (j = 1; j < pr->P; j++) {
			double w = gsl_matrix_get(theta, k, j);
			penalty += w * w;
			if (g)
				*gsl_matrix_ptr(g, k, j) += pr->l2 * w;
			if (h)
				*gsl_matrix_ptr(h, k * pr->P + j, k * pr->P + j) += pr->l2;
		}
	/* With a logit for every class, adding one number to every intercept
	 * changes nothing: the Hessian is singular along that direction u. H +
	 * u u^T has the same Newton step orthogonal to u, and none along it, so
	 * the intercepts keep the sum they start from, 0, as scikit-learn's do. */
	for (k = 0; h && pr->kind == SOFTMAX && !pr->reference && k < pr->nout; k++)
		for (l = 0; l <= k; l++)
			*gsl_matrix_ptr(h, k * pr->P, l * pr->P) += 1;
	return pr->loss / n + pr->l2 / 2 * penalty;
}

/* ---- refusing what has no unique optimum ---- */

/* Appends 'name', escaped and cut short, to a list in buf. */
static void append_name(char *buf, size_t len, const char *name)
{
	char shown[200];
	size_t at = strlen(buf);

	fin_quote_field(shown, sizeof shown, name, strlen(name));
	if (at < len)
		snprintf(buf + at, len - at, "%s'%s'", at ? ", " : "", shown);
}

/* How to leave columns out: -c '!TARGET,!NAME,...', since a -c list of
 * negations alone takes every other column, the target too. */
static void leave_out(char *buf, size_t len, const struct problem *pr, const size_t *cols,
		      size_t n)
{
	char shown[200];
	const char *t = pr->m->target;
	size_t i, at;

	at = (size_t)snprintf(buf, len, "-c '");
	if (t && at < len)
		at += (size_t)snprintf(buf + at, len - at, "!%s,",
				       fin_quote_field(shown, sizeof shown, t, strlen(t)));
	for (i = 0; i < n && at < len; i++) {
		const char *name = pr->m->feat[cols[i]];
		at += (size_t)snprintf(buf + at, len - at, "!%s%s",
				       fin_quote_field(shown, sizeof shown, name, strlen(name)),
				       i + 1 < n ? "," : "'");
	}
}

/* Refuses, naming them, the constant columns of the training rows. */
static int check_constant(const struct problem *pr, fin_err *err)
{
	enum { SHOWN = 5 };
	char names[600] = "", hint[1200];
	size_t i, j, count = 0, cols[SHOWN];

	for (j = 0; j < pr->p; j++) {
		const float *x = pr->t->x + j;
		for (i = 1; i < pr->n && x[i * pr->p] == x[0]; i++)
			;
		if (i < pr->n)
			continue;
		if (count < SHOWN) {
			append_name(names, sizeof names, pr->m->feat[j]);
			cols[count] = j;
		}
		count++;
	}
	if (count == 0)
		return FIN_OK;
	leave_out(hint, sizeof hint, pr, cols, count < SHOWN ? count : SHOWN);
	return fin_fail(err, FIN_EDATA,
			"%s %s%s %s constant in the training rows: the unpenalised fit has no unique "
			"optimum; leave %s out (%s) or give --l2",
			count == 1 ? "column" : "columns", names, count > SHOWN ? ", ..." : "",
			count == 1 ? "is" : "are", count == 1 ? "it" : "them", hint);
}

/* Refuses, naming them, a column that is a linear function of the
 * intercept and the columns before it, and those columns. The columns are
 * taken in order, growing the Cholesky factor L of the Gram matrix G of
 * the ones kept: column j adds the row l = L^-1 G[kept][j] and the pivot
 * G[j][j] - l.l, its variance left unexplained. GSL's pivoted
 * factorisations would find the rank too, but choose which columns to
 * keep by size, not by the order the user gave them in. */
static int check_collinear(struct problem *pr, fin_err *err)
{
	const size_t P = pr->P;
	gsl_matrix *gram = gsl_matrix_calloc(P, P), *l = gsl_matrix_calloc(P, P);
	gsl_vector *row = gsl_vector_alloc(P);
	size_t *kept = malloc(P * sizeof *kept), nkept = 1, at, i, j, first = 0, count = 0;
	char names[600] = "";
	int rc = FIN_OK;

	if (!gram || !l || !row || !kept) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (at = 0; at < pr->n; at += CHUNK) {
		size_t b = pr->n - at < CHUNK ? pr->n - at : CHUNK;
		gsl_matrix_view z = gsl_matrix_submatrix(pr->z, 0, 0, b, P);
		design(pr, at, b);
		gsl_blas_dsyrk(CblasLower, CblasTrans, 1 / (double)pr->n, &z.matrix, 1, gram);
	}
	/* The intercept's column is all ones: G[0][0] = 1. */
	kept[0] = 0;
	gsl_matrix_set(l, 0, 0, 1);
	for (j = 1; j < P; j++) {
		gsl_vector_view v = gsl_vector_subvector(row, 0, nkept);
		gsl_matrix_view lk = gsl_matrix_submatrix(l, 0, 0, nkept, nkept);
		double pivot, dot;
		for (i = 0; i < nkept; i++)
			gsl_vector_set(row, i, gsl_matrix_get(gram, j, kept[i]));
		gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &lk.matrix, &v.vector);
		gsl_blas_ddot(&v.vector, &v.vector, &dot);
		pivot = gsl_matrix_get(gram, j, j) - dot;
		if (pivot > DEPENDENT * gsl_matrix_get(gram, j, j)) {
			for (i = 0; i < nkept; i++)
				gsl_matrix_set(l, nkept, i, gsl_vector_get(row, i));
			gsl_matrix_set(l, nkept, nkept, sqrt(pivot));
			kept[nkept++] = j;
			continue;
		}
		if (count++ == 0) {
			/* Its coefficients on the columns kept, G[kept]^-1 G[kept][j]
			 * = L^-T l: the columns it is made of. */
			double largest = 0;
			first = j;
			gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, &lk.matrix, &v.vector);
			for (i = 1; i < nkept; i++)
				largest = fmax(largest, fabs(gsl_vector_get(row, i)));
			for (i = 1; i < nkept; i++)
				if (fabs(gsl_vector_get(row, i)) > 1e-6 * largest)
					append_name(names, sizeof names, pr->m->feat[kept[i] - 1]);
		}
	}
	if (count) {
		char shown[200], more[96] = "", hint[440];
		const char *name = pr->m->feat[first - 1];
		const size_t col = first - 1;
		fin_quote_field(shown, sizeof shown, name, strlen(name));
		leave_out(hint, sizeof hint, pr, &col, 1);
		if (count > 1)
			snprintf(more, sizeof more, " (%zu columns in all are linear functions of others)",
				 count);
		rc = fin_fail(err, FIN_EDATA,
			      "column '%s' is a linear function of %s in the training rows%s: the "
			      "unpenalised fit has no unique optimum; leave it out (%s) or give --l2",
			      shown, names, more, hint);
	}
done:
	gsl_matrix_free(gram);
	gsl_matrix_free(l);
	gsl_vector_free(row);
	free(kept);
	return rc;
}

/* Why Newton's method could not go on, or FIN_OK when it was only slow:
 * in an unpenalised fit that rules classes out for some rows, the
 * features separate those classes, and there is no optimum. */
static int separated(const struct problem *pr, int stuck, fin_err *err)
{
	if (pr->l2 == 0 && pr->certain == pr->n)
		return fin_fail(err, FIN_EDATA,
				"the features separate the classes of the training rows completely: "
				"every row is fitted with probability 1 and the likelihood grows without "
				"bound with the weights, so the unpenalised fit has no optimum; give --l2 "
				"(for example --l2 0.01)");
	if (pr->l2 == 0 && pr->excluded)
		return fin_fail(err, FIN_EDATA,
				"the features separate classes in the training rows (quasi-complete "
				"separation): %zu of the %zu rows are fitted with probability 0 for a "
				"class they are not, and the likelihood grows without bound with the "
				"weights, so the unpenalised fit has no optimum; give --l2 (for example "
				"--l2 0.01), or leave out the columns that set those rows apart",
				pr->excluded, pr->n);
	if (stuck)
		return fin_fail(err, FIN_EDATA,
				"the Hessian of the objective is singular at the current weights, so "
				"Newton's method cannot go on; give --l2");
	return FIN_OK;
}

/* ---- solving ---- */

/* Newton's method from theta = 0, each step halved until the objective
 * falls; the objective of least squares is quadratic, and its one step is
 * its minimum. On return g and h are those of the final theta. */
static int newton(struct problem *pr, gsl_matrix *theta, gsl_matrix *g, gsl_matrix *h,
		  fin_glm_fit *fit, fin_err *err)
{
	const size_t m = pr->nout * pr->P;
	gsl_matrix *factor = gsl_matrix_alloc(m, m), *trial = gsl_matrix_alloc(pr->nout, pr->P);
	gsl_vector *step = gsl_vector_alloc(m);
	gsl_vector_view grad = gsl_vector_view_array(g->data, m);
	gsl_vector_view flat = gsl_vector_view_array(theta->data, m);
	int done = 0, rc = FIN_OK;

	if (!factor || !trial || !step) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto out;
	}
	gsl_matrix_set_zero(theta);
	for (;;) {
		double f = evaluate(pr, theta, g, h), scale = 1, largest, size;
		size_t halvings;

		if (done || fit->iterations == FIN_GLM_MAX_ITER)
			break;
		gsl_matrix_memcpy(factor, h);
		if (gsl_linalg_cholesky_decomp1(factor) != GSL_SUCCESS) {
			rc = separated(pr, 1, err);
			goto out;
		}
		gsl_linalg_cholesky_solve(factor, &grad.vector, step);
		gsl_vector_scale(step, -1);
		fit->iterations++;
		largest = fmax(gsl_vector_max(step), -gsl_vector_min(step));
		size = fmax(gsl_vector_max(&flat.vector), -gsl_vector_min(&flat.vector));
		if (pr->kind == LINEAR || largest <= STEP_TOL * (1 + size)) {
			gsl_vector_add(&flat.vector, step);
			done = 1;
			continue;
		}
		/* Near the optimum a step changes the objective by less than its
		 * rounding: a rise within that is no rise. */
		for (halvings = 0; halvings < 60; halvings++, scale /= 2) {
			gsl_vector_view t = gsl_vector_view_array(trial->data, m);
			gsl_vector_memcpy(&t.vector, &flat.vector);
			gsl_blas_daxpy(scale, step, &t.vector);
			if (evaluate(pr, trial, NULL, NULL) <= f + 1e-13 * fabs(f))
				break;
		}
		if (halvings == 60) {
			/* No step lowers the objective: stuck short of the optimum. */
			evaluate(pr, theta, g, h);
			break;
		}
		gsl_matrix_memcpy(theta, trial);
	}
	fit->converged = done;
	if (!done)
		rc = separated(pr, 0, err);
out:
	gsl_matrix_free(factor);
	gsl_matrix_free(trial);
	gsl_vector_free(step);
	return rc;
}

/* The covariance of the standardised coefficients of an unpenalised fit,
 * into h (the Hessian at the optimum, overwritten), and the factor it
 * takes: statsmodels' nonrobust sigma^2 (Z^T Z)^-1 for least squares,
 * sigma^2 = RSS / (n - P), and the inverse of the observed information,
 * n h, for the likelihoods. 0 when there is none: no residual degrees of
 * freedom, or h singular. */
static double covariance(const struct problem *pr, gsl_matrix *h)
{
	const double n = (double)pr->n;

	if (pr->l2 > 0 || (pr->kind == LINEAR && pr->n <= pr->P) ||
	    gsl_linalg_cholesky_decomp1(h) != GSL_SUCCESS ||
	    gsl_linalg_cholesky_invert(h) != GSL_SUCCESS)
		return 0;
	/* least squares: h = 2 Z^T Z / n */
	return pr->kind == LINEAR ? 2 * pr->loss / (n - (double)pr->P) / n : 1 / n;
}

/* The coefficients in the features' own units, beta = A b with A the map
 * that undoes the standardisation (the intercept takes up every feature's
 * mean), and their standard errors, the root of the diagonal of A S A^T for
 * the covariance S of b: A's first row is dense, each other holds one
 * value. Then the standardised coefficients go into the dense layer, as
 * float32. */
static int results(struct problem *pr, fin_model *m, const gsl_matrix *theta,
		   const gsl_matrix *g, gsl_matrix *h, fin_glm_fit *fit, fin_err *err)
{
	const size_t P = pr->P;
	const double sy = pr->kind == LINEAR ? m->y_sd : 1, cy = pr->kind == LINEAR ? m->y_mean : 0;
	const fin_layer *layer = &m->net.layers[0];
	gsl_vector_const_view grad = gsl_vector_const_view_array(g->data, pr->nout * P);
	gsl_vector *a = gsl_vector_alloc(P), *sa = gsl_vector_alloc(P);
	float *w = m->net.params + layer->w, *bias = m->net.params + layer->b;
	double factor;
	size_t k, j;
	int rc = FIN_OK;

	fit->method = pr->kind == LINEAR ? FIN_GLM_LEAST_SQUARES : FIN_GLM_NEWTON;
	fit->l2 = pr->l2;
	fit->rows = pr->n;
	fit->gradient_norm = gsl_blas_dnrm2(&grad.vector);
	fit->rss = pr->kind == LINEAR ? pr->loss * sy * sy : NAN;
	fit->log_likelihood = pr->kind == LINEAR ? NAN : -pr->loss;
	fit->nout = pr->nout;
	fit->nterms = P;
	fit->coef = malloc(pr->nout * P * sizeof *fit->coef);
	factor = covariance(pr, h);
	if (factor > 0)
		fit->se = malloc(pr->nout * P * sizeof *fit->se);
	if (!a || !sa || !fit->coef || (factor > 0 && !fit->se)) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	memset(m->net.params, 0, m->net.nparams * sizeof *m->net.params);
	for (k = 0; k < pr->nout; k++) {
		const double *b = gsl_matrix_const_ptr(theta, k, 0);
		double *beta = fit->coef + k * P, var;
		size_t unit = k + (size_t)pr->reference;

		gsl_vector_set(a, 0, sy);
		beta[0] = b[0];
		for (j = 1; j < P; j++) {
			const double mean = m->mean[j - 1], sd = m->sd[j - 1];
			beta[j] = sy * b[j] / sd;
			beta[0] -= b[j] * mean / sd;
			gsl_vector_set(a, j, -sy * mean / sd);
			w[unit * pr->p + j - 1] = (float)b[j];
		}
		beta[0] = cy + sy * beta[0];
		bias[unit] = (float)b[0];
		if (!fit->se)
			continue;
		{
			gsl_matrix_const_view s = gsl_matrix_const_submatrix(h, k * P, k * P, P, P);
			gsl_blas_dsymv(CblasLower, 1, &s.matrix, a, 0, sa);
			gsl_blas_ddot(a, sa, &var);
			fit->se[k * P] = sqrt(factor * var);
			for (j = 1; j < P; j++)
				fit->se[k * P + j] =
					sy / m->sd[j - 1] * sqrt(factor * gsl_matrix_get(&s.matrix, j, j));
		}
	}
done:
	gsl_vector_free(a);
	gsl_vector_free(sa);
	return rc;
}

int fin_glm_train(fin_model *m, const fin_table *t, size_t ntrain, double l2, fin_err *err)
{
	struct problem pr = { .m = m, .t = t, .n = ntrain, .p = m->nfeat, .P = m->nfeat + 1,
			      .K = m->nlabels, .l2 = l2 };
	const fin_layer *layer = &m->net.layers[0];
	fin_glm_fit *fit = calloc(1, sizeof *fit);
	gsl_matrix *theta = NULL, *g = NULL, *h = NULL;
	size_t i;
	int rc;

	pr.kind = m->task == FIN_TASK_REGRESSION ? LINEAR
		  : m->task == FIN_TASK_BINARY   ? LOGISTIC
						 : SOFTMAX;
	pr.reference = pr.kind == SOFTMAX && l2 == 0;
	pr.nout = pr.kind == SOFTMAX ? pr.K - (size_t)pr.reference : 1;
	if (m->net.nlayers != 1 || layer->kind != FIN_L_DENSE || layer->act != FIN_ACT_LINEAR ||
	    layer->units != pr.nout + (size_t)pr.reference) {
		rc = fin_fail(err, FIN_EUSAGE, "an exact fit is of one dense layer");
		goto done;
	}
	if (pr.nout * pr.P > FIN_GLM_MAX_COEF) {
		rc = fin_fail(err, FIN_EUSAGE,
			      "%zu coefficients are more than an exact fit solves for (%d): train the "
			      "same layer by gradient with --arch 'dense(%zu)'",
			      pr.nout * pr.P, FIN_GLM_MAX_COEF, layer->units);
		goto done;
	}
	/* GSL's default handler aborts; its status codes are checked here. */
	gsl_set_error_handler_off();
	pr.y = malloc(ntrain * sizeof *pr.y);
	pr.z = gsl_matrix_alloc(CHUNK, pr.P);
	pr.wz = gsl_matrix_alloc(CHUNK, pr.P);
	pr.eta = gsl_matrix_alloc(CHUNK, pr.nout);
	pr.r = gsl_matrix_alloc(CHUNK, pr.nout);
	pr.mu = gsl_matrix_alloc(CHUNK, pr.nout);
	pr.logit = malloc((pr.K ? pr.K : 1) * sizeof *pr.logit);
	theta = gsl_matrix_alloc(pr.nout, pr.P);
	g = gsl_matrix_alloc(pr.nout, pr.P);
	h = gsl_matrix_alloc(pr.nout * pr.P, pr.nout * pr.P);
	if (!fit || !pr.y || !pr.z || !pr.wz || !pr.eta || !pr.r || !pr.mu || !pr.logit || !theta ||
	    !g || !h) {
		rc = fin_fail(err, FIN_EDATA, "out of memory");
		goto done;
	}
	for (i = 0; i < ntrain; i++)
		pr.y[i] = pr.kind == LINEAR ? (t->y[i] - m->y_mean) / m->y_sd
					    : (double)fin_model_target(m, t, i);
	if (l2 == 0 && ((rc = check_constant(&pr, err)) != FIN_OK ||
			(rc = check_collinear(&pr, err)) != FIN_OK))
		goto done;
	if ((rc = newton(&pr, theta, g, h, fit, err)) != FIN_OK ||
	    (rc = results(&pr, m, theta, g, h, fit, err)) != FIN_OK)
		goto done;
	m->fit = fit;
	fit = NULL;
done:
	fin_glm_fit_free(fit);
	free(pr.y);
	free(pr.logit);
	gsl_matrix_free(pr.z);
	gsl_matrix_free(pr.wz);
	gsl_matrix_free(pr.eta);
	gsl_matrix_free(pr.r);
	gsl_matrix_free(pr.mu);
	gsl_matrix_free(theta);
	gsl_matrix_free(g);
	gsl_matrix_free(h);
	return rc;
}

/* ---- reading the fit ---- */

const char *fin_glm_output(const fin_model *m, size_t k)
{
	if (m->task == FIN_TASK_REGRESSION)
		return m->target ? m->target : "prediction";
	if (m->task == FIN_TASK_BINARY)
		return m->labels[1];
	return m->labels[k + (m->fit && m->fit->nout < m->nlabels)];
}

const char *fin_glm_reference(const fin_model *m)
{
	if (m->task == FIN_TASK_BINARY ||
	    (m->task == FIN_TASK_MULTICLASS && m->fit && m->fit->nout < m->nlabels))
		return m->labels[0];
	return NULL;
}

void fin_glm_test(const fin_glm_fit *f, size_t k, size_t j, double *stat, double *p)
{
	*stat = *p = NAN;
	if (!f->se)
		return;
	*stat = f->coef[k * f->nterms + j] / f->se[k * f->nterms + j];
	*p = f->method == FIN_GLM_LEAST_SQUARES
		     ? 2 * gsl_cdf_tdist_Q(fabs(*stat), (double)(f->rows - f->nterms))
		     : 2 * gsl_cdf_ugaussian_Q(fabs(*stat));
}

/* ---- the file ---- */

static cJSON *rows_json(const double *v, size_t rows, size_t cols)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < rows; i++)
		if (!cJSON_AddItemToArray(a, fin_json_doubles(v + i * cols, cols))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

cJSON *fin_glm_fit_to_json(const fin_glm_fit *f)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddStringToObject(o, "method", method_names[f->method]) &&
		 fin_json_add_float(o, "l2", f->l2) &&
		 cJSON_AddNumberToObject(o, "rows", (double)f->rows) &&
		 cJSON_AddNumberToObject(o, "iterations", (double)f->iterations) &&
		 cJSON_AddBoolToObject(o, "converged", f->converged) &&
		 fin_json_add_exact(o, "gradient_norm", f->gradient_norm) &&
		 (f->method == FIN_GLM_LEAST_SQUARES ? fin_json_add_exact(o, "rss", f->rss)
						     : fin_json_add_exact(o, "log_likelihood",
									  f->log_likelihood)) &&
		 cJSON_AddItemToObject(o, "coefficients", rows_json(f->coef, f->nout, f->nterms)) &&
		 (!f->se || cJSON_AddItemToObject(o, "se", rows_json(f->se, f->nout, f->nterms)));

	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* rows lists of cols numbers from lo to hi, into a new array: every size
 * checked before it is allocated. */
static int read_rows(const fin_json_reader *r, const cJSON *a, const char *what, size_t rows,
		     size_t cols, double lo, double hi, double **out)
{
	const cJSON *row, *e;
	size_t i = 0;
	int rc;

	if ((rc = fin_json_list(r, a, what, rows)) != FIN_OK)
		return rc;
	cJSON_ArrayForEach(row, a)
		if ((rc = fin_json_list(r, row, what, cols)) != FIN_OK)
			return rc;
	if (!(*out = malloc(rows * cols * sizeof **out)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(row, a)
		cJSON_ArrayForEach(e, row)
		{
			if (!cJSON_IsNumber(e) || !(e->valuedouble >= lo && e->valuedouble <= hi))
				return fin_json_bad(r, what, " hold a value that is not a finite number "
							     "in range");
			(*out)[i++] = e->valuedouble;
		}
	return FIN_OK;
}

static int fit_from_json(fin_glm_fit *f, const cJSON *o, const fin_model *m,
			 const fin_json_reader *r)
{
	const size_t most = (size_t)1 << 53;
	const cJSON *coef = fin_json_field(o, "coefficients"), *v;
	const fin_layer *layer = m->net.nlayers == 1 ? &m->net.layers[0] : NULL;
	const char *score = "log_likelihood";
	double lo = -DBL_MAX, hi = 0;
	int method, rc;

	if (!cJSON_IsObject(o))
		return fin_json_bad(r, "fit", " is not an object");
	if (!layer || layer->kind != FIN_L_DENSE || layer->act != FIN_ACT_LINEAR ||
	    (m->task != FIN_TASK_REGRESSION && m->task != FIN_TASK_BINARY &&
	     m->task != FIN_TASK_MULTICLASS))
		return fin_json_bad(r, "fit", " belongs to a model of one linear dense layer");
	v = fin_json_field(o, "method");
	method = cJSON_IsString(v) ? fin_word_index(v->valuestring, method_names, 2) : -1;
	if (method < 0 || (method == FIN_GLM_LEAST_SQUARES) != (m->task == FIN_TASK_REGRESSION))
		return fin_json_bad(r, "fit method", " is missing, unknown or not the task's");
	f->method = (enum fin_glm_method)method;
	/* One output, or a multiclass model's every label or all but the
	 * first, which the others are measured against. */
	f->nout = cJSON_IsArray(coef) ? (size_t)cJSON_GetArraySize(coef) : 0;
	f->nterms = m->nfeat + 1;
	if (m->task == FIN_TASK_MULTICLASS ? f->nout != m->nlabels && f->nout + 1 != m->nlabels
					   : f->nout != 1)
		return fin_json_bad(r, "fit coefficients", " do not match the task and the labels");
	if (f->method == FIN_GLM_LEAST_SQUARES) {
		score = "rss";
		lo = 0;
		hi = DBL_MAX;
	}
	v = fin_json_field(o, "converged");
	if (!cJSON_IsBool(v))
		return fin_json_bad(r, "fit converged", " is missing or not true or false");
	f->converged = cJSON_IsTrue(v);
	if ((rc = fin_json_real_or(r, o, "l2", 0, FLT_MAX, 0, &f->l2)) != FIN_OK ||
	    (rc = fin_json_count(r, fin_json_field(o, "rows"), "fit rows", most, &f->rows)) != FIN_OK ||
	    (rc = fin_json_count_or(r, o, "iterations", most, 0, &f->iterations)) != FIN_OK ||
	    (rc = fin_json_real_or(r, o, "gradient_norm", 0, DBL_MAX, NAN, &f->gradient_norm)) !=
		    FIN_OK ||
	    (rc = fin_json_real_or(r, o, score, lo, hi, NAN,
				   f->method == FIN_GLM_LEAST_SQUARES ? &f->rss : &f->log_likelihood)) !=
		    FIN_OK ||
	    (rc = read_rows(r, coef, "fit coefficients", f->nout, f->nterms, -DBL_MAX, DBL_MAX,
			    &f->coef)) != FIN_OK)
		return rc;
	if (f->method == FIN_GLM_LEAST_SQUARES)
		f->log_likelihood = NAN;
	else
		f->rss = NAN;
	v = fin_json_field(o, "se");
	if (!v)
		return FIN_OK;
	/* A t test needs residual degrees of freedom. */
	if (f->method == FIN_GLM_LEAST_SQUARES && f->rows <= f->nterms)
		return fin_json_bad(r, "fit se", " come with no more rows than coefficients");
	return read_rows(r, v, "fit se", f->nout, f->nterms, 0, DBL_MAX, &f->se);
}

int fin_glm_fit_from_json(fin_glm_fit **f, const cJSON *o, const fin_model *m,
			  const fin_json_reader *r)
{
	int rc;

	*f = NULL;
	if (!o)
		return FIN_OK;
	if (!(*f = calloc(1, sizeof **f)))
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	if ((rc = fit_from_json(*f, o, m, r)) != FIN_OK) {
		fin_glm_fit_free(*f);
		*f = NULL;
	}
	return rc;
}
