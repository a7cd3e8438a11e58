/* Rows of named fields written as CSV (a header line, then one line a row)
 * or as JSON Lines (one object a row, its keys the fields' names, in
 * order): the two output formats of a tool whose rows are a report. */
#ifndef FIN_RECORDS_H
#define FIN_RECORDS_H

#include <stddef.h>

#include "io/out.h"

typedef struct fin_records {
	fin_out *out;
	int json;
	char *const *names; /* the fields, borrowed */
	size_t n;
	size_t at;          /* the field of the row being written next */
} fin_records;

/* Starts the output of rows of the n fields names (kept until the last
 * row), and writes the CSV header. */
void fin_records_start(fin_records *r, fin_out *out, int json, char *const *names, size_t n);

/* The next field of the row, as text (a JSON string) or as a number (empty,
 * or null, when not finite); the row ends after its last field. */
void fin_records_text(fin_records *r, const char *s, size_t len);
void fin_records_number(fin_records *r, double v);
/* A field with no value: empty, or null. */
void fin_records_missing(fin_records *r);
/* A float32 value, in the shortest text that reads back to it. */
void fin_records_float(fin_records *r, float v);

#endif
