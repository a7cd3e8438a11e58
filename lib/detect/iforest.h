/* Isolation forest (Liu, Ting and Zhou 2008): anomalies are few and
 * different, so random axis-parallel splits isolate them in fewer steps
 * than normal points. The engine behind fin-anomaly. */
#ifndef FIN_IFOREST_H
#define FIN_IFOREST_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "core/err.h"

struct cJSON;

/* The most trees, and the largest subsample, a forest may have. */
#define FIN_IFOREST_MAX_TREES (1 << 20)
#define FIN_IFOREST_MAX_SAMPLE ((size_t)1 << 30)

/* One node, 16 bytes so a tree of psi = 256 fits in a few kilobytes. A row
 * at an internal node goes to left when x[feature] < split, else to
 * left + 1. An external node loops to itself (left is its own index, split
 * is NaN so the comparison is false for every x, feature is 0): scoring
 * then takes the same number of steps for every row and tree, with no
 * branch to mispredict. */
struct fin_inode {
	float split;
	uint32_t feature;
	uint32_t left;
	uint32_t size; /* external: subsample rows that reached it; internal: 0 */
};

typedef struct fin_iforest {
	size_t ntrees, sample, d;   /* trees, subsample size psi actually used, features */
	size_t *root;               /* [ntrees] index of each tree's root in nodes */
	struct fin_inode *nodes;    /* all trees' nodes, contiguous, tree by tree */
	size_t nnodes;
	double *path;   /* [nnodes] at an external node: its depth + c(size) */
	size_t height;  /* depth of the deepest external node: the steps scoring takes */
} fin_iforest;

/* Fits ntrees trees on x [n][d] (float32, row-major, finite), each on a
 * subsample of min(sample, n) rows drawn without replacement, height limit
 * ceil(log2(psi)), from GSL's MT19937 seeded with seed (bit-identical
 * forests for the same seed): every tree's rows are drawn first, then the
 * trees are grown (fin_iforest_plan_draw, fin_iforest_grow). Needs n >= 2 and sample >= 2: one row cannot
 * be told apart from anything. Returns FIN_OK, FIN_ENOROWS (n = 0),
 * FIN_EDATA (one row, a value not finite, out of memory) or FIN_EUSAGE (a
 * size out of range); f is then left empty. */
int fin_iforest_fit(fin_iforest *f, const float *x, size_t n, size_t d, size_t ntrees,
		    size_t sample, unsigned long seed, fin_err *err);

/* The rows of each tree's subsample, drawn before any tree is grown: the
 * trees then grow from rows gathered in one pass over the data, which need
 * not be in memory (detect/detector_stream.c). */
typedef struct fin_iforest_plan {
	size_t n, d, ntrees, psi;
	uint32_t *rows;          /* [ntrees][psi] row indices, in the order drawn */
	gsl_rng *rng;            /* where the draws left MT19937: the splits go on */
} fin_iforest_plan;

/* Draws the subsample of each of ntrees trees, min(sample, n) rows of n
 * without replacement (Floyd's algorithm), from MT19937 seeded with seed.
 * The checks and errors of fin_iforest_fit, but for the values. */
int fin_iforest_plan_draw(fin_iforest_plan *p, size_t n, size_t d, size_t ntrees, size_t sample,
			  unsigned long seed, fin_err *err);

/* Grows the trees of plan p from x [p->n][d], indexed by the plan's rows.
 * A pass over data not in memory gathers the distinct rows wanted, renumbers
 * the plan's rows to index them and sets p->n to their count: the same
 * values in the same order grow the same forest, bit for bit. A value not
 * finite is FIN_EDATA. */
int fin_iforest_grow(fin_iforest *f, fin_iforest_plan *p, const float *x, fin_err *err);
void fin_iforest_plan_free(fin_iforest_plan *p);

/* Anomaly scores s(x, psi) = 2^(-E[h(x)] / c(psi)) of the n rows of x
 * [n][d] into score[n], in (0, 1]: higher is more anomalous; near 1 marks
 * an anomaly, well below 0.5 a normal row. h(x) is the number of edges from
 * a tree's root to the external node x reaches, plus c(size) of that node;
 * E[h] is its mean over the trees. A row at a split value goes right, and
 * a NaN goes left. A row's score does not depend on the rows scored with
 * it. */
void fin_iforest_score(const fin_iforest *f, const float *x, size_t n, double *score);

/* Frees what f holds and leaves it empty; an empty f may be freed again. */
void fin_iforest_free(fin_iforest *f);

/* c(n): average path length of an unsuccessful search in a binary search
 * tree of n points, 2 H(n-1) - 2 (n-1)/n with H(i) = ln(i) + Euler's
 * constant; c(2) = 1, and 0 for n <= 1. */
double fin_iforest_c(double n);

/* The forest as a cJSON object, for the detector file:
 *   {"ntrees": T, "sample": psi, "features": d, "trees": [tree, ...]}
 * where a tree is its list of nodes, the root first: an internal node is
 * [feature, split, left] (left indexes the tree's list, the right child
 * follows it), an external node is [size]. Splits are raw number text, the
 * shortest that reads back to the float32 exactly: print the object and
 * parse it again before loading. NULL when out of memory. */
struct cJSON *fin_iforest_to_json(const fin_iforest *f);

/* Reads such an object, for d features, treating it as untrusted: counts
 * and sizes are checked against the nodes present before allocation, so
 * that memory follows the file, not the sizes it claims; every child is
 * within its tree
 * and indexed after its parent, every node but the root is the child of
 * exactly one node, split features are below d, splits are finite float32,
 * external sizes are at least 1 and add up to the sample size, and no tree
 * is deeper than the height limit. Anything else is refused with
 * FIN_EMODEL and a message, leaving f empty. */
int fin_iforest_from_json(fin_iforest *f, const struct cJSON *o, size_t d, fin_err *err);

#endif
