/* The bytes of a file descriptor, decompressed when they are gzip or zstd
 * data, recognised by their magic bytes (not by a file name, which stdin
 * lacks). Concatenated gzip members and zstd frames, skippable frames
 * among them, read as one stream. Memory is bounded by the compressor's
 * window, not by the length of the input. */
#ifndef FIN_DECOMPRESS_H
#define FIN_DECOMPRESS_H

#include <stddef.h>

#include "core/err.h"

typedef struct fin_decompress fin_decompress;

/* Reads from fd, which stays open; name is used in messages and must
 * outlive the reader. Nothing is read yet. NULL when out of memory. */
fin_decompress *fin_decompress_open(int fd, const char *name);
void fin_decompress_close(fin_decompress *d);

/* Reads up to cap bytes of plain text into buf; *got is 0 only at the end
 * of the input. FIN_OK, or FIN_EDATA for a read error and for compressed
 * data that is truncated or corrupt. */
int fin_decompress_read(fin_decompress *d, char *buf, size_t cap, size_t *got, fin_err *err);

#endif
