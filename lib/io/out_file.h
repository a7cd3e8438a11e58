/* Every file a tool writes (-o, and each other option that names an
 * output) goes through here, so that an error or a signal never leaves a
 * half-written file and never loses the previous one; see fin(7), OUTPUT
 * FILES. */
#ifndef FIN_OUT_FILE_H
#define FIN_OUT_FILE_H

#include "core/err.h"
#include "io/input.h"
#include "io/out.h"

typedef struct fin_out_file fin_out_file;

/* Opens an output, before the work that fills it; NULL or "-" is standard
 * output. A regular file, or a path that is not there yet, is written to a
 * new temporary file beside it (with the old file's mode, and its owner
 * when that may be given, or 0666 & ~umask), which fin_out_file_commit
 * renames over it; a symbolic link is followed and its target replaced. A
 * character device, a FIFO (opening waits for its reader) or a socket is
 * written to directly. Refused with FIN_EUSAGE, before anything is
 * written: a directory, a block device, a path that cannot be written, and
 * a file the run reads, by any name: one of in's (in may be NULL), or one
 * of the nfiles paths of files (a model, a second input; NULL entries are
 * skipped, "-" is standard input). NULL on failure, with err filled. */
fin_out_file *fin_out_file_open(const char *path, const fin_input *in, char *const *files,
				size_t nfiles, fin_err *err);

/* The buffered writer onto the output. */
fin_out *fin_out_file_writer(fin_out_file *f);

/* The output's name in messages: the path as given, or "<stdout>". */
const char *fin_out_file_name(const fin_out_file *f);

/* Flushes the writer and makes the output final: a temporary file is
 * synced to disk and renamed into place. FIN_EDATA on a write error, and
 * then the old file is as it was. Frees f. */
int fin_out_file_commit(fin_out_file *f, fin_err *err);

/* Gives the output up: a temporary file is removed, the old file stays
 * as it was; what is written directly is flushed, as a stream's rows
 * before an error are. Frees f; NULL is ignored. */
void fin_out_file_discard(fin_out_file *f);

/* Removes every temporary file not yet committed or discarded, then ends
 * the process by sig, as its default action does. Async-signal-safe: it
 * is the handler fin_out_file_open installs for SIGINT, SIGTERM, SIGHUP
 * and SIGPIPE, each that was left to its default action; a program that
 * catches one of them itself calls it where it would end. */
void fin_out_file_on_signal(int sig);

#endif
