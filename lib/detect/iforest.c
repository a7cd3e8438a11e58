#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/iforest.h"
#include "io/json_file.h"

#define EULER 0.57721566490153286060651209008240243

/* Rows are scored in blocks of about 32 KB of features, tree by tree, so
 * that the block stays in L1 while a tree is walked for all of its rows.
 * Measured on 1e6 rows: 1024 rows beat 256 by 3% at 8 features, 128 rows
 * beat 1024 by 15% at 64. */
enum { SCORE_BYTES = 32768, SCORE_MIN = 32, SCORE_MAX = 1024 };

/* Bounds that keep node indices in uint32_t and allocations sane. */
enum { MAX_FEATURES = 1 << 24 };
#define MAX_TREES FIN_IFOREST_MAX_TREES
#define MAX_SAMPLE FIN_IFOREST_MAX_SAMPLE

double fin_iforest_c(double n)
{
	if (n <= 1)
		return 0;
	if (n <= 2)
		return 1;
	return 2 * (log(n - 1) + EULER) - 2 * (n - 1) / n;
}

void fin_iforest_free(fin_iforest *f)
{
	free(f->root);
	free(f->nodes);
	free(f->path);
	memset(f, 0, sizeof *f);
}

/* ceil(log2(psi)) */
static size_t height_limit(size_t psi)
{
	size_t l = 0;

	while (l < 64 && ((size_t)1 << l) < psi)
		l++;
	return l;
}

static void make_external(fin_iforest *f, size_t node, size_t size, size_t depth)
{
	f->nodes[node] = (struct fin_inode){ NAN, 0, (uint32_t)node, (uint32_t)size };
	f->path[node] = (double)depth + fin_iforest_c((double)size);
	if (depth > f->height)
		f->height = depth;
}

/* ---- fitting ---- */

struct builder {
	const float *x;
	size_t d, limit;
	uint32_t *feat; /* a permutation of the features, reshuffled as drawn */
	gsl_rng *rng;
	fin_iforest *f;
};

/* Draws a feature uniformly among those not constant over rows[0..m) and
 * a split strictly above its minimum and at most its maximum. Features are
 * tried in the order of a partial Fisher-Yates shuffle: the first
 * non-constant one met is uniform over the non-constant ones, and only
 * features tried are scanned, one in most nodes, rather than all d.
 * Returns 0 when every feature is constant. */
static int draw_split(struct builder *b, const uint32_t *rows, size_t m, uint32_t *feature,
		      float *split)
{
	size_t i, j, r;

	for (i = 0; i < b->d; i++) {
		uint32_t f, t;
		float lo, hi, s;

		j = i + gsl_rng_uniform_int(b->rng, b->d - i);
		t = b->feat[i];
		b->feat[i] = b->feat[j];
		b->feat[j] = t;
		f = b->feat[i];
		lo = hi = b->x[rows[0] * b->d + f];
		for (r = 1; r < m; r++) {
			float v = b->x[rows[r] * b->d + f];
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		if (lo == hi)
			continue;
		/* Uniform in (lo, hi) in double, then rounded to the float32 the
		 * data is compared with; rounding down onto lo would leave the
		 * left side empty, so that case takes the next float up. */
		s = (float)(lo + gsl_rng_uniform_pos(b->rng) * ((double)hi - lo));
		if (!(s > lo))
			s = nextafterf(lo, hi);
		*feature = f;
		*split = s;
		return 1;
	}
	return 0;
}

/* Grows the subtree of rows[0..m) at node, which is allocated. Children
 * are allocated in pairs after every node already there, so a child's
 * index is always above its parent's. The depth is at most the height
 * limit, so the recursion is shallow. */
static void grow(struct builder *b, size_t node, uint32_t *rows, size_t m, size_t depth)
{
	fin_iforest *f = b->f;
	uint32_t feature;
	float split;
	size_t left, k, r;

	if (m <= 1 || depth >= b->limit || !draw_split(b, rows, m, &feature, &split)) {
		make_external(f, node, m, depth);
		return;
	}
	for (k = r = 0; r < m; r++)
		if (b->x[rows[r] * b->d + feature] < split) {
			uint32_t t = rows[k];
			rows[k++] = rows[r];
			rows[r] = t;
		}
	left = f->nnodes;
	f->nnodes += 2;
	f->nodes[node] = (struct fin_inode){ split, feature, (uint32_t)left, 0 };
	f->path[node] = 0;
	grow(b, left, rows, k, depth + 1);
	grow(b, left + 1, rows + k, m - k, depth + 1);
}

/* A set of row indices for Floyd's sampling: open addressing in a table
 * of at least twice psi slots, so a draw costs O(1) expected and a tree
 * O(psi), however many rows there are. */
struct rowset {
	uint32_t *slot; /* row + 1, 0 when empty */
	size_t bits;    /* the table has 2^bits slots */
};

/* Adds row; returns 0 when it was there already. */
static int rowset_add(struct rowset *s, uint32_t row)
{
	size_t mask = ((size_t)1 << s->bits) - 1;
	/* Fibonacci hashing: the top bits of the product mix every bit of row. */
	size_t i = (size_t)((row * 0x9E3779B97F4A7C15ull) >> (64 - s->bits));

	for (; s->slot[i]; i = (i + 1) & mask)
		if (s->slot[i] == row + 1)
			return 0;
	s->slot[i] = row + 1;
	return 1;
}

/* Floyd's algorithm: psi distinct rows of n, every subset equally likely,
 * with psi draws and no pass over all n rows. Row j is never in the set
 * when it is added: only rows below j have been drawn. */
static void draw_rows(gsl_rng *rng, struct rowset *s, size_t n, size_t psi, uint32_t *rows)
{
	size_t j, k = 0;

	memset(s->slot, 0, ((size_t)1 << s->bits) * sizeof *s->slot);
	for (j = n - psi; j < n; j++) {
		uint32_t t = (uint32_t)gsl_rng_uniform_int(rng, j + 1);
		if (!rowset_add(s, t)) {
			t = (uint32_t)j;
			rowset_add(s, t);
		}
		rows[k++] = t;
	}
}

static int plan_checks(size_t n, size_t d, size_t ntrees, size_t sample, fin_err *err)
{
	if (n == 0)
		return fin_fail(err, FIN_ENOROWS, "no rows to fit the isolation forest on");
	if (n == 1)
		return fin_fail(err, FIN_EDATA, "one row is not enough to isolate anything: "
						"at least 2 are needed");
	if (n > UINT32_MAX - 1)
		return fin_fail(err, FIN_EUSAGE, "%zu rows are too many for the isolation forest",
				n);
	if (d == 0 || d > MAX_FEATURES)
		return fin_fail(err, FIN_EUSAGE, "the isolation forest needs 1 to %d features, "
						 "not %zu", MAX_FEATURES, d);
	if (ntrees == 0 || ntrees > MAX_TREES)
		return fin_fail(err, FIN_EUSAGE, "the number of trees must be 1 to %d, not %zu",
				MAX_TREES, ntrees);
	if (sample < 2 || sample > MAX_SAMPLE)
		return fin_fail(err, FIN_EUSAGE, "the subsample size must be 2 to %zu, not %zu",
				MAX_SAMPLE, sample);
	if (ntrees * (2 * (sample < n ? sample : n) - 1) > UINT32_MAX)
		return fin_fail(err, FIN_EUSAGE, "%zu trees of %zu rows are too many nodes",
				ntrees, sample < n ? sample : n);
	return FIN_OK;
}

/* Makes room for one more tree of psi rows, 2 psi - 1 nodes at most (psi
 * external nodes and one fewer internal), growing the arrays by doubling
 * so that memory follows the trees actually grown. */
static int reserve_tree(fin_iforest *f, size_t psi, size_t *cap)
{
	size_t need = f->nnodes + 2 * psi - 1, want = 2 * *cap;
	struct fin_inode *nodes;
	double *path;

	if (need <= *cap)
		return 0;
	want = want > need ? want : need;
	if (!(nodes = realloc(f->nodes, want * sizeof *nodes)))
		return -1;
	f->nodes = nodes;
	if (!(path = realloc(f->path, want * sizeof *path)))
		return -1;
	f->path = path;
	*cap = want;
	return 0;
}

void fin_iforest_plan_free(fin_iforest_plan *p)
{
	free(p->rows);
	if (p->rng)
		gsl_rng_free(p->rng);
	memset(p, 0, sizeof *p);
}

int fin_iforest_plan_draw(fin_iforest_plan *p, size_t n, size_t d, size_t ntrees, size_t sample,
			  unsigned long seed, fin_err *err)
{
	struct rowset set = { NULL, 0 };
	size_t t, i;
	int rc;

	memset(p, 0, sizeof *p);
	if ((rc = plan_checks(n, d, ntrees, sample, err)) != FIN_OK)
		return rc;
	p->n = n;
	p->d = d;
	p->ntrees = ntrees;
	p->psi = sample < n ? sample : n;
	set.bits = height_limit(p->psi) + 1;
	p->rows = malloc(ntrees * p->psi * sizeof *p->rows);
	set.slot = p->psi < n ? malloc(((size_t)1 << set.bits) * sizeof *set.slot) : NULL;
	p->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!p->rows || (p->psi < n && !set.slot) || !p->rng) {
		free(set.slot);
		fin_iforest_plan_free(p);
		return fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
	}
	gsl_rng_set(p->rng, seed);
	for (t = 0; t < ntrees; t++) {
		uint32_t *rows = p->rows + t * p->psi;
		if (p->psi < n) {
			draw_rows(p->rng, &set, n, p->psi, rows);
		} else {
			for (i = 0; i < n; i++)
				rows[i] = (uint32_t)i;
		}
	}
	free(set.slot);
	return FIN_OK;
}

int fin_iforest_grow(fin_iforest *f, fin_iforest_plan *p, const float *x, fin_err *err)
{
	size_t d = p->d, psi = p->psi, cap = 0, t, i;
	struct builder b = { x, d, height_limit(psi), NULL, p->rng, f };
	uint32_t *rows;
	int ok;

	memset(f, 0, sizeof *f);
	for (i = 0; i < p->n * d; i++)
		if (!isfinite(x[i]))
			return fin_fail(err, FIN_EDATA, "row %zu, feature %zu: not a finite number",
					i / d + 1, i % d + 1);
	f->ntrees = p->ntrees;
	f->sample = psi;
	f->d = d;
	f->root = malloc(p->ntrees * sizeof *f->root);
	rows = malloc(psi * sizeof *rows);
	b.feat = malloc(d * sizeof *b.feat);
	ok = f->root && rows && b.feat;
	for (i = 0; ok && i < d; i++)
		b.feat[i] = (uint32_t)i;
	for (t = 0; ok && t < p->ntrees; t++) {
		if (!(ok = reserve_tree(f, psi, &cap) == 0))
			break;
		memcpy(rows, p->rows + t * psi, psi * sizeof *rows);
		f->root[t] = f->nnodes++;
		grow(&b, f->root[t], rows, psi, 0);
	}
	if (ok) {
		/* Give back what the last doubling reserved beyond the nodes grown. */
		struct fin_inode *nodes = realloc(f->nodes, f->nnodes * sizeof *nodes);
		double *path = realloc(f->path, f->nnodes * sizeof *path);
		if (nodes)
			f->nodes = nodes;
		if (path)
			f->path = path;
	}
	free(b.feat);
	free(rows);
	if (!ok) {
		fin_iforest_free(f);
		return fin_fail(err, FIN_EDATA, "out of memory fitting the isolation forest");
	}
	return FIN_OK;
}

int fin_iforest_fit(fin_iforest *f, const float *x, size_t n, size_t d, size_t ntrees,
		    size_t sample, unsigned long seed, fin_err *err)
{
	fin_iforest_plan p;
	int rc;

	memset(f, 0, sizeof *f);
	if ((rc = fin_iforest_plan_draw(&p, n, d, ntrees, sample, seed, err)) == FIN_OK)
		rc = fin_iforest_grow(f, &p, x, err);
	fin_iforest_plan_free(&p);
	return rc;
}

/* ---- scoring ---- */

/* Walks one tree for a block of m rows, adding each row's path length to
 * h. Every row takes height steps (external nodes loop to themselves), so
 * the rows' walks are independent and the loop over them overlaps their
 * memory accesses. */
static void walk_tree(const fin_iforest *f, size_t root, const float *x, size_t m, double *h)
{
	const struct fin_inode *nodes = f->nodes;
	uint32_t at[SCORE_MAX];
	size_t i, step, d = f->d;

	for (i = 0; i < m; i++)
		at[i] = (uint32_t)root;
	for (step = 0; step < f->height; step++)
		for (i = 0; i < m; i++) {
			const struct fin_inode *nd = &nodes[at[i]];
			at[i] = nd->left + (x[i * d + nd->feature] >= nd->split);
		}
	for (i = 0; i < m; i++)
		h[i] += f->path[at[i]];
}

void fin_iforest_score(const fin_iforest *f, const float *x, size_t n, double *score)
{
	double h[SCORE_MAX], scale = -1 / ((double)f->ntrees * fin_iforest_c((double)f->sample));
	size_t block = SCORE_BYTES / sizeof *x / f->d, r, i, t, m;

	block = block < SCORE_MIN ? SCORE_MIN : block > SCORE_MAX ? SCORE_MAX : block;
	for (r = 0; r < n; r += m) {
		m = n - r < block ? n - r : block;
		for (i = 0; i < m; i++)
			h[i] = 0;
		for (t = 0; t < f->ntrees; t++)
			walk_tree(f, f->root[t], x + r * f->d, m, h);
		for (i = 0; i < m; i++)
			score[r + i] = exp2(h[i] * scale);
	}
}

/* ---- the detector file ---- */

static cJSON *node_json(const fin_iforest *f, size_t root, size_t i)
{
	const struct fin_inode *nd = &f->nodes[i];
	cJSON *a = cJSON_CreateArray();
	int ok;

	if (nd->left == i)
		ok = a && cJSON_AddItemToArray(a, cJSON_CreateNumber(nd->size));
	else
		ok = a && cJSON_AddItemToArray(a, cJSON_CreateNumber(nd->feature)) &&
		     cJSON_AddItemToArray(a, fin_json_float(nd->split)) &&
		     cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(nd->left - root)));
	if (!ok) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

cJSON *fin_iforest_to_json(const fin_iforest *f)
{
	cJSON *o = cJSON_CreateObject(), *trees = cJSON_CreateArray(), *tree;
	size_t t, i, end;
	int ok;

	ok = o && trees && cJSON_AddNumberToObject(o, "ntrees", (double)f->ntrees) &&
	     cJSON_AddNumberToObject(o, "sample", (double)f->sample) &&
	     cJSON_AddNumberToObject(o, "features", (double)f->d) &&
	     cJSON_AddItemToObject(o, "trees", trees);
	if (!ok)
		cJSON_Delete(trees);
	/* Trees are contiguous, so tree t ends where tree t + 1 starts. */
	for (t = 0; ok && t < f->ntrees; t++) {
		end = t + 1 < f->ntrees ? f->root[t + 1] : f->nnodes;
		ok = (tree = cJSON_CreateArray()) && cJSON_AddItemToArray(trees, tree);
		for (i = f->root[t]; ok && i < end; i++)
			ok = cJSON_AddItemToArray(tree, node_json(f, f->root[t], i));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int refuse(fin_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(fin_err *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fin_fail(err, FIN_EMODEL, "isolation forest: %s", msg);
}

/* A whole number from lo to hi into *out, or -1 (converted only once it
 * is known to fit). */
static int whole(const cJSON *v, size_t lo, size_t hi, size_t *out)
{
	return fin_json_as_count(v, hi, out) == 0 && *out >= lo ? 0 : -1;
}

/* Room for one tree's bookkeeping while it is read, for the largest tree
 * of the file. */
struct tree_scratch {
	uint32_t *parent; /* UINT32_MAX until a node names it as a child */
	uint32_t *depth;
};

/* Reads tree t into f->nodes from f->nnodes on. Parents come before their
 * children, so one pass in index order finds each node's parent (and so
 * its depth) already known. */
static int read_tree(fin_iforest *f, const cJSON *tree, size_t t, size_t limit,
		     struct tree_scratch *s, fin_err *err)
{
	size_t m = (size_t)cJSON_GetArraySize(tree), base = f->nnodes, i, total = 0;
	const cJSON *node;

	for (i = 0; i < m; i++)
		s->parent[i] = UINT32_MAX;
	s->depth[0] = 0;
	i = 0;
	cJSON_ArrayForEach(node, tree)
	{
		int len = cJSON_IsArray(node) ? cJSON_GetArraySize(node) : 0;

		if (i > 0 && s->parent[i] == UINT32_MAX)
			return refuse(err, "tree %zu, node %zu: no node has it as a child", t + 1, i);
		if (i > 0)
			s->depth[i] = s->depth[s->parent[i]] + 1;
		if (s->depth[i] > limit)
			return refuse(err, "tree %zu, node %zu: deeper than the height limit %zu",
				      t + 1, i, limit);
		if (len == 1) {
			size_t size;
			if (whole(cJSON_GetArrayItem(node, 0), 1, f->sample, &size) != 0)
				return refuse(err, "tree %zu, node %zu: size is not a count from 1 "
						   "to the sample size", t + 1, i);
			total += size;
			make_external(f, base + i, size, s->depth[i]);
		} else if (len == 3) {
			float split;
			size_t feature, l;

			if (whole(cJSON_GetArrayItem(node, 0), 0, f->d - 1, &feature) != 0)
				return refuse(err, "tree %zu, node %zu: split feature is not one of "
						   "the features", t + 1, i);
			if (fin_json_as_float(cJSON_GetArrayItem(node, 1), &split) != 0)
				return refuse(err, "tree %zu, node %zu: split is not a finite float",
					      t + 1, i);
			/* Both children within the tree: left from i + 1 to m - 2. */
			if (m < 2 || whole(cJSON_GetArrayItem(node, 2), i + 1, m - 2, &l) != 0)
				return refuse(err, "tree %zu, node %zu: its children are not later "
						   "nodes of the tree", t + 1, i);
			if (s->parent[l] != UINT32_MAX || s->parent[l + 1] != UINT32_MAX)
				return refuse(err, "tree %zu, node %zu: a child of it has another "
						   "parent", t + 1, i);
			s->parent[l] = s->parent[l + 1] = (uint32_t)i;
			f->nodes[base + i] = (struct fin_inode){ split, (uint32_t)feature,
								 (uint32_t)(base + l), 0 };
			f->path[base + i] = 0;
		} else {
			return refuse(err, "tree %zu, node %zu: neither [size] nor "
					   "[feature, split, left]", t + 1, i);
		}
		i++;
	}
	if (total != f->sample)
		return refuse(err, "tree %zu: external node sizes add up to %zu, not the sample "
				   "size %zu", t + 1, total, f->sample);
	f->nnodes += m;
	return FIN_OK;
}

int fin_iforest_from_json(fin_iforest *f, const cJSON *o, size_t d, fin_err *err)
{
	const cJSON *trees = cJSON_GetObjectItemCaseSensitive(o, "trees"), *tree;
	struct tree_scratch s = { NULL, NULL };
	size_t ntrees, sample, features, total = 0, widest = 0, limit, t = 0;
	int rc = FIN_OK;

	memset(f, 0, sizeof *f);
	if (!cJSON_IsObject(o))
		return refuse(err, "not an object");
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "ntrees"), 1, MAX_TREES, &ntrees) != 0)
		return refuse(err, "ntrees is missing or not a count from 1 to %d", MAX_TREES);
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "sample"), 2, MAX_SAMPLE, &sample) != 0)
		return refuse(err, "sample is missing or not a count from 2 to %zu", MAX_SAMPLE);
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "features"), 1, MAX_FEATURES, &features) != 0)
		return refuse(err, "features is missing or not a count from 1 to %d",
			      MAX_FEATURES);
	if (features != d)
		return refuse(err, "made for %zu features, not %zu", features, d);
	if (!cJSON_IsArray(trees) || (size_t)cJSON_GetArraySize(trees) != ntrees)
		return refuse(err, "trees is missing or does not hold ntrees = %zu trees", ntrees);
	/* Sizes before allocation, from the nodes the file holds: a tree of
	 * psi rows has at most 2 psi - 1 nodes, and node indices are
	 * uint32_t. The sample size alone allocates nothing. */
	cJSON_ArrayForEach(tree, trees)
	{
		size_t m = cJSON_IsArray(tree) ? (size_t)cJSON_GetArraySize(tree) : 0;
		if (m == 0 || m > 2 * sample - 1)
			return refuse(err, "tree %zu is not a list of 1 to 2 sample - 1 = %zu nodes",
				      t + 1, 2 * sample - 1);
		total += m;
		widest = m > widest ? m : widest;
		t++;
	}
	if (total > UINT32_MAX - 1)
		return refuse(err, "%zu nodes are too many", total);
	f->ntrees = ntrees;
	f->sample = sample;
	f->d = d;
	limit = height_limit(f->sample);
	f->root = malloc(f->ntrees * sizeof *f->root);
	f->nodes = malloc(total * sizeof *f->nodes);
	f->path = malloc(total * sizeof *f->path);
	s.parent = malloc(widest * sizeof *s.parent);
	s.depth = malloc(widest * sizeof *s.depth);
	if (!f->root || !f->nodes || !f->path || !s.parent || !s.depth) {
		rc = fin_fail(err, FIN_EMODEL, "isolation forest: out of memory");
		goto done;
	}
	t = 0;
	cJSON_ArrayForEach(tree, trees)
	{
		f->root[t] = f->nnodes;
		if ((rc = read_tree(f, tree, t, limit, &s, err)) != FIN_OK)
			goto done;
		t++;
	}
done:
	free(s.parent);
	free(s.depth);
	if (rc != FIN_OK)
		fin_iforest_free(f);
	return rc;
}
