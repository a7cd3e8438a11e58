/* Running other programs as child processes, without a shell, and the
 * private directories their files live in. */
#ifndef FIN_COMMAND_H
#define FIN_COMMAND_H

#include <stddef.h>

#include "core/err.h"

/* Where the program a command's first word names is: a word with a slash
 * is a path; otherwise the directory of the running executable is tried
 * first, so that the fin tools built or installed together are used
 * together, then the word is left for a PATH lookup. A new string, NULL
 * when out of memory. */
char *fin_command_find(const char *word);

/* The program's name in a path: what follows the last slash. */
const char *fin_command_name(const char *path);

/* What becomes of the lines a command writes: each, without its line end,
 * goes to line(), which passes it on, changed or not. */
typedef struct fin_command_lines {
	void (*line)(void *ctx, const char *line, size_t len);
	void *ctx;
} fin_command_lines;

/* Runs argv[0] (a path, or a name looked up on PATH) with standard input
 * from /dev/null and standard output sent to standard error, so that the
 * caller's standard output carries only its own data; waits for it. With
 * lines, the command's standard output and error go through lines->line
 * instead. The command is killed when the caller dies, however it dies.
 * FIN_OK when it exits with status 0, otherwise FIN_EDATA saying what
 * happened. */
int fin_command_run(char *const *argv, const fin_command_lines *lines, fin_err *err);

/* For a signal handler (async-signal-safe): stops the run. The command
 * running gets the same signal, and fin_command_run starts no other. */
void fin_command_interrupt(int sig);

/* The signal given to fin_command_interrupt, or 0. */
int fin_command_interrupted(void);

/* A new private directory for a run's files: mkdtemp under $TMPDIR, or
 * /tmp. path holds at least size bytes. */
int fin_tempdir_make(char *path, size_t size, const char *prefix, fin_err *err);

/* Removes the directory and every file in it. */
void fin_tempdir_remove(const char *path);

#endif
