/* What a model, detector or cluster file holds, for fin-inspect: the file
 * read by its own untrusted-file loader, then described as one JSON
 * object (see fin-inspect(1)). */
#ifndef FIN_INSPECT_H
#define FIN_INSPECT_H

#include "core/err.h"

/* The term of a coefficient table that stands for the intercept. */
#define FIN_INSPECT_INTERCEPT "(intercept)"

/* Reads path, a fin-model, fin-detector or fin-cluster file told apart by
 * its format, and describes it in *out: its facts as fields (nested
 * objects for groups of them), and its tables as lists of objects with the
 * same fields, "features" (one per feature, in order) and, for a linear,
 * logistic or softmax fit, "coefficients". Anything unusable is
 * FIN_EMODEL. */
struct cJSON;
int fin_inspect(const char *path, struct cJSON **out, fin_err *err);

#endif
