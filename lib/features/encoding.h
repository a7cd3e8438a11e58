/* How the input columns a model reads become its numeric features: a
 * number column is one feature; a text (categorical) column is one-hot
 * encoded over the levels learned from the training rows. Stored in model,
 * detector and segmentation files (fin-model(5)). */
#ifndef FIN_ENCODING_H
#define FIN_ENCODING_H

#include <stddef.h>

#include "core/err.h"
#include "features/dict.h"

/* Most levels a text column keeps (the bound of --max-levels). */
#define FIN_LEVELS_MAX 4096

typedef struct fin_category {
	char **levels;      /* kept levels, in byte order */
	size_t nlevels;
	int other;          /* a feature for the levels pooled at training:
			     * rarer than --min-count or beyond --max-levels;
			     * unseen levels go there too */
	int missing;        /* --na level: a feature for a missing value */
	int reference;      /* levels[0] has no feature: reference coding */
} fin_category;

typedef struct fin_encoding {
	size_t ncols;       /* input columns, in order */
	char **cols;        /* their names */
	fin_category **cat; /* [ncols]: NULL for a number column */
	size_t nfeat;       /* features they make, in column order */
} fin_encoding;

/* Options of learning an encoding. */
typedef struct fin_encoding_opts {
	size_t min_count;   /* levels with fewer training rows are pooled */
	size_t max_levels;  /* the most frequent this many are kept */
	int na_level;       /* --na level */
	int reference;      /* drop the first level (unpenalised linear fits) */
} fin_encoding_opts;

/* Features a column makes. */
size_t fin_category_width(const fin_category *c);

/* Where a value of a text column goes, relative to the column's first
 * feature: FIN_LEVEL_KNOWN with *slot (-1 for the reference level, which has
 * no feature), FIN_LEVEL_UNSEEN (*slot the other feature, or -1 when there
 * is none: every feature 0), FIN_LEVEL_MISSING (*slot the missing feature,
 * or -1 when there is none: the value is missing). */
enum fin_level { FIN_LEVEL_KNOWN, FIN_LEVEL_UNSEEN, FIN_LEVEL_MISSING };
enum fin_level fin_category_slot(const fin_category *c, const char *s, size_t len, int missing,
				 long *slot);

/* Learns a column's category from its distinct values (dict) and how many
 * training rows hold each (count[dict->n]), nmissing rows with a missing
 * value; *pooled is set to the number of distinct values pooled into
 * "other". NULL when out of memory. */
fin_category *fin_category_learn(const fin_dict *dict, const size_t *count, size_t nmissing,
				 const fin_encoding_opts *o, size_t *pooled);
void fin_category_free(fin_category *c);

/* The feature names: a number column's own name, "name=level" for a
 * level, "name=(other)" and "name=(missing)". */
int fin_encoding_feature_names(const fin_encoding *e, char ***names, fin_err *err);

/* Where feature j comes from: its input column, and for a text column the
 * level it marks ("(other)", "(missing)"), else NULL. */
void fin_encoding_source(const fin_encoding *e, size_t j, const char **column, const char **level);

/* True when some column is text. */
int fin_encoding_has_text(const fin_encoding *e);

void fin_encoding_free(fin_encoding *e);

/* A deep copy; -1 (dst empty) when out of memory. */
int fin_encoding_copy(fin_encoding *dst, const fin_encoding *src);

/* The encoding as the JSON list "inputs", and back (as part of a file
 * read by r, nfeat features expected). */
struct cJSON;
struct fin_json_reader;
struct cJSON *fin_encoding_to_json(const fin_encoding *e);
int fin_encoding_from_json(fin_encoding *e, const struct cJSON *a, size_t nfeat,
			   const struct fin_json_reader *r);

/* Adds "inputs" to a file's object o when e has text columns; 0 when out
 * of memory. */
int fin_encoding_add(struct cJSON *o, const fin_encoding *e);

/* Reads the optional "inputs" of a file's object o, whose features are
 * feat[0..nfeat): they must be what the inputs make. Left empty when
 * absent (every feature is a number column). */
int fin_encoding_read(fin_encoding *e, const struct cJSON *o, char *const *feat, size_t nfeat,
		      const struct fin_json_reader *r);

#endif
