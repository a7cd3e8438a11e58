/* JSON files of the fin family (models, detectors): exact numbers, atomic
 * writes, and checked reading of untrusted files. */
#ifndef FIN_JSON_FILE_H
#define FIN_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "err.h"

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

/* Checks that path can be written (before any heavy work). */
int fin_json_check_writable(const char *path, fin_err *err);
/* Writes o to path through a temporary file renamed into place, or to
 * standard output when path is NULL or "-". */
int fin_json_save(const cJSON *o, const char *path, fin_err *err);

/* ---- reading ---- */

typedef struct fin_json_reader {
	const char *path;
	const char *kind; /* "model", "detector": for messages */
	fin_err *err;
} fin_json_reader;

/* The parsed file, or NULL with err filled (FIN_EMODEL). */
cJSON *fin_json_load(const fin_json_reader *r);
/* Checks "format" and refuses a newer "schema_version". */
int fin_json_header(const fin_json_reader *r, const cJSON *o, const char *format, int schema);
/* FIN_EMODEL with "PATH: unusable KIND file: WHAT DETAIL". */
int fin_json_bad(const fin_json_reader *r, const char *what, const char *detail);
const cJSON *fin_json_field(const cJSON *o, const char *key);
int fin_json_count(const fin_json_reader *r, const cJSON *v, const char *what, size_t max,
		   size_t *out);
int fin_json_names(const fin_json_reader *r, const cJSON *a, const char *what, char ***out,
		   size_t *n);
int fin_json_read_doubles(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			  double **out);
double fin_json_number_or(const cJSON *o, const char *key, double fallback);

#endif
