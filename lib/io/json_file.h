/* JSON files of the fin family (models, detectors): exact numbers, writes
 * through an output file, and checked reading of untrusted files. */
#ifndef FIN_JSON_FILE_H
#define FIN_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/err.h"
#include "io/out_file.h"

/* ---- writing ---- */

cJSON *fin_json_strings(char *const *v, size_t n);
/* cJSON prints doubles with 15 digits when they are merely close: these
 * write the shortest text that reads back exactly (null when not finite). */
cJSON *fin_json_exact(double v);
int fin_json_add_exact(cJSON *o, const char *key, double v);
cJSON *fin_json_doubles(const double *v, size_t n);
/* Options given as float32 read best in their float32 form: 0.001, not
 * 0.0010000000474974513. */
int fin_json_add_float(cJSON *o, const char *key, double v);
/* float32 values in their shortest text, checked to read back exactly
 * through a double as every JSON reader parses them. */
cJSON *fin_json_float(float v);
cJSON *fin_json_floats(const float *v, size_t n);

/* Writes o, on one line, to f, opened before the work that made o;
 * fin_out_file_commit makes the file final. A NULL o (its making ran out
 * of memory) is FIN_EDATA. */
int fin_json_save(const cJSON *o, fin_out_file *f, fin_err *err);

/* ---- reading: the file is untrusted ---- */

/* Limits of every file of the family, checked as it is read, before it is
 * parsed (see fin-model(5)): a regular file of at most 1 GiB, strings of
 * at most 64 KiB as written, nesting at most 32 deep, at most 2^26 values
 * (two networks of the largest size, FIN_NET_MAX_PARAMS, and as many
 * other numbers). */
#define FIN_JSON_MAX_BYTES ((size_t)1 << 30)
#define FIN_JSON_MAX_STRING ((size_t)1 << 16)
#define FIN_JSON_MAX_DEPTH 32
#define FIN_JSON_MAX_VALUES ((size_t)1 << 26)

/* The standardisations a file may hold (a model's scaler, a detector's
 * centre and scale, a segmentation's mean and sd): see fin-model(5). */
#define FIN_CENTRE_MAX 1e30
#define FIN_SPREAD_MIN 1e-30
#define FIN_SPREAD_MAX 1e30

typedef struct fin_json_reader {
	const char *path;
	const char *kind; /* "model", "detector": for messages */
	fin_err *err;
} fin_json_reader;

/* The parsed file, or NULL with err filled (FIN_EMODEL): refused when it
 * is not a regular file, breaks a limit above, is not one JSON value with
 * nothing but blanks after it, or holds an object with a key twice. */
cJSON *fin_json_load(const fin_json_reader *r);
/* Checks "format" and refuses a newer "schema_version". */
int fin_json_header(const fin_json_reader *r, const cJSON *o, const char *format, int schema);
/* FIN_EMODEL with "PATH: unusable KIND file: WHAT DETAIL". */
int fin_json_bad(const fin_json_reader *r, const char *what, const char *detail);
const cJSON *fin_json_field(const cJSON *o, const char *key);

/* Every reader below converts a number only once it is known to fit, and
 * refuses anything else with FIN_EMODEL, naming what. */

/* A list of exactly n values. */
int fin_json_list(const fin_json_reader *r, const cJSON *a, const char *what, size_t n);
/* A whole number from 0 to max. */
int fin_json_count(const fin_json_reader *r, const cJSON *v, const char *what, size_t max,
		   size_t *out);
/* A number from lo to hi. */
int fin_json_real(const fin_json_reader *r, const cJSON *v, const char *what, double lo,
		  double hi, double *out);
/* Optional fields of object o, fallback when key is absent (a real's
 * also when it is null, as a NaN is written). */
int fin_json_count_or(const fin_json_reader *r, const cJSON *o, const char *key, size_t max,
		      size_t fallback, size_t *out);
int fin_json_real_or(const fin_json_reader *r, const cJSON *o, const char *key, double lo,
		     double hi, double fallback, double *out);
/* For readers with messages of their own: a whole number from 0 to max,
 * or the float32 a number rounds to; -1 when there is none. */
int fin_json_as_count(const cJSON *v, size_t max, size_t *out);
int fin_json_as_float(const cJSON *v, float *out);
/* A list of distinct strings, copied. */
int fin_json_names(const fin_json_reader *r, const cJSON *a, const char *what, char ***out,
		   size_t *n);
/* A list of n numbers from lo to hi, into a new array. */
int fin_json_read_doubles(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			  double lo, double hi, double **out);
/* A list of n numbers that round to finite float32 values, into out. */
int fin_json_read_floats(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			 float *out);

#endif
