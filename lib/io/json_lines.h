/* JSON Lines input (fin-train's --log): one JSON value a line, from a file
 * or standard input, decompressed when it is gzip or zstd; blank lines
 * are skipped. Memory is bounded by FIN_JSON_LINE_MAX. */
#ifndef FIN_JSON_LINES_H
#define FIN_JSON_LINES_H

#include <cjson/cJSON.h>

#include "core/err.h"

/* The longest line taken, in bytes. */
#define FIN_JSON_LINE_MAX ((size_t)1 << 16)

typedef struct fin_json_lines fin_json_lines;

/* Opens path ("-" is standard input); NULL with err filled (FIN_EUSAGE)
 * when it cannot be opened. */
fin_json_lines *fin_json_lines_open(const char *path, fin_err *err);
void fin_json_lines_close(fin_json_lines *r);

/* The next value: 1 with *value set (the caller deletes it), 0 at the end
 * of the input, or FIN_EDATA negated with a message naming the file and
 * line, for a line that is not one JSON value or is too long, and for
 * input that cannot be read or decompressed. The last line may lack its
 * line break. */
int fin_json_lines_next(fin_json_lines *r, cJSON **value, fin_err *err);

/* The input's name in messages ("<stdin>" for standard input), and the
 * line of the last value (1-based). */
const char *fin_json_lines_name(const fin_json_lines *r);
long fin_json_lines_line(const fin_json_lines *r);

/* True when the input is standard input on a terminal. */
int fin_json_lines_is_tty(const fin_json_lines *r);

#endif
