/* Linear, logistic and softmax regression solved to their optimum: the
 * linear, logistic and softmax presets of fin-train, fitted by least
 * squares and by Newton's method (IRLS) on the standardised design, with
 * --l2 as a ridge penalty on the weights, then placed in the preset's dense
 * layer. The objective and the file's "fit" object: fin-train(1), EXACT
 * FITS, and fin-model(5). */
#ifndef FIN_GLM_H
#define FIN_GLM_H

#include <stddef.h>

#include "core/err.h"
#include "nn/model.h"

/* The most coefficients an exact fit solves for: Newton's method holds a
 * square matrix of as many rows. */
#define FIN_GLM_MAX_COEF 2048
/* Newton iterations before a fit is reported as not converged. */
#define FIN_GLM_MAX_ITER 50

enum fin_glm_method { FIN_GLM_LEAST_SQUARES, FIN_GLM_NEWTON };

typedef struct fin_glm_fit {
	enum fin_glm_method method;
	double l2;             /* the penalty, as --l2 */
	size_t rows;           /* training rows */
	size_t iterations;
	int converged;
	double gradient_norm;  /* of the objective at the end, in standardised units */
	double rss;            /* least squares: residual sum of squares, in the target's units */
	double log_likelihood; /* Newton: of the training rows */
	size_t nout, nterms;   /* coefficient rows (outputs) and terms (intercept, features) */
	double *coef;          /* [nout][nterms] in the features' own units, intercept first */
	double *se;            /* the same shape, standard errors; NULL for a penalised fit */
} fin_glm_fit;

/* Whether fin-train's --model name is one fitted exactly. */
int fin_glm_preset(const char *name);

const char *fin_glm_method_name(enum fin_glm_method method);

/* Fits m to the first ntrain rows of t with penalty l2 (see fin-train(1)):
 * m comes from fin_model_setup on t for regression, binary or multiclass,
 * with one dense layer as its network; the solution goes into that layer
 * and m->fit. An unpenalised fit refuses a constant column and a column
 * that is a linear function of earlier ones, naming them, and classes the
 * features separate (FIN_EDATA); beyond FIN_GLM_MAX_COEF coefficients is
 * FIN_EUSAGE. A fit that does not converge is kept, marked so. */
struct fin_table;
int fin_glm_train(fin_model *m, const struct fin_table *t, size_t ntrain, double l2,
		  fin_err *err);

void fin_glm_fit_free(fin_glm_fit *f);

/* The output row k of a fit stands for: the target (regression), a label
 * (its log-odds against the reference label for binary and an
 * unpenalised multiclass fit, its logit otherwise). */
const char *fin_glm_output(const fin_model *m, size_t k);
/* The label every output is measured against, or NULL. */
const char *fin_glm_reference(const fin_model *m);

/* The Wald test of coefficient j of output k: t with rows - nterms
 * degrees of freedom for least squares, z for Newton's fits, and its
 * two-sided p-value; NaN without standard errors. */
void fin_glm_test(const fin_glm_fit *f, size_t k, size_t j, double *stat, double *p);

/* The fit as the "fit" object of a model file, and back: o may be NULL
 * (no fit, *f NULL); anything unusable is FIN_EMODEL. m is the model read
 * so far: its task, network, features and labels. */
struct cJSON;
struct fin_json_reader;
struct cJSON *fin_glm_fit_to_json(const fin_glm_fit *f);
int fin_glm_fit_from_json(fin_glm_fit **f, const struct cJSON *o, const fin_model *m,
			  const struct fin_json_reader *r);

#endif
