#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/columns.h"
#include "io/input.h"

struct fin_input {
	fin_csv **csv;
	int *fds;
	struct stat *files; /* of each fd, for fin_input_has_file */
	char **paths;       /* as given, to open a file again for another pass */
	unsigned char *spooled; /* [n] the fd is a copy in $TMPDIR (fin_input_spool) */
	fin_csv_opts opts;  /* the options it was opened with, */
	int has_opts;       /* unless they were the defaults (NULL) */
	size_t n, cur;
	char **names;
	size_t nnames;
	/* a row looked at by fin_input_peek, still to be given */
	int peeked, peek_got;
	fin_row *peek_row;
	fin_err peek_err;
};

static char *const stdin_path[] = { "-" };

fin_input *fin_input_open(char *const *paths, size_t npaths, const fin_csv_opts *opts,
			  fin_err *err)
{
	return fin_input_open_copies(paths, npaths, NULL, opts, err);
}

fin_input *fin_input_open_copies(char *const *paths, size_t npaths, const int *copies,
				 const fin_csv_opts *opts, fin_err *err)
{
	fin_input *in = calloc(1, sizeof *in);
	size_t i;

	if (npaths == 0) {
		paths = stdin_path;
		npaths = 1;
	}
	if (!in || !(in->csv = calloc(npaths, sizeof *in->csv)) ||
	    !(in->fds = malloc(npaths * sizeof *in->fds)) ||
	    !(in->files = calloc(npaths, sizeof *in->files)) ||
	    !(in->paths = calloc(npaths, sizeof *in->paths)) ||
	    !(in->spooled = calloc(npaths, 1))) {
		for (i = 0; copies && i < npaths; i++)
			if (copies[i] >= 0)
				close(copies[i]);
		fin_input_close(in);
		fin_fail(err, FIN_EUSAGE, "out of memory");
		return NULL;
	}
	/* The copies are the input's from here, to close with it. */
	for (i = 0; i < npaths; i++) {
		in->fds[i] = copies && copies[i] >= 0 ? copies[i] : -1;
		in->spooled[i] = in->fds[i] >= 0;
	}
	in->n = npaths;
	if ((in->has_opts = opts != NULL))
		in->opts = *opts;
	for (i = 0; i < npaths; i++) {
		int fd;
		if (!(in->paths[i] = strdup(paths[i]))) {
			fin_fail(err, FIN_EUSAGE, "out of memory");
			fin_input_close(in);
			return NULL;
		}
		if (in->spooled[i])
			fd = in->fds[i];
		else
			fd = strcmp(paths[i], "-") == 0 ? STDIN_FILENO : open(paths[i], O_RDONLY);
		if (fd < 0) {
			fin_fail(err, FIN_EUSAGE, "%s: %s", paths[i], strerror(errno));
			fin_input_close(in);
			return NULL;
		}
		in->fds[i] = fd;
		if (fstat(fd, &in->files[i]) != 0)
			in->files[i].st_mode = 0;
		in->csv[i] = fin_csv_open(fd, paths[i], opts);
		if (!in->csv[i]) {
			fin_fail(err, FIN_EUSAGE, "out of memory");
			fin_input_close(in);
			return NULL;
		}
	}
	return in;
}

void fin_input_close(fin_input *in)
{
	size_t i;

	if (!in)
		return;
	for (i = 0; i < in->n; i++) {
		fin_csv_close(in->csv[i]);
		if (in->fds && in->fds[i] > STDIN_FILENO)
			close(in->fds[i]);
		if (in->paths)
			free(in->paths[i]);
	}
	free(in->paths);
	free(in->spooled);
	for (i = 0; in->names && i < in->nnames; i++)
		free(in->names[i]);
	free(in->names);
	free(in->csv);
	free(in->fds);
	free(in->files);
	free(in);
}

int fin_input_has_file(const fin_input *in, const struct stat *st)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (S_ISREG(in->files[i].st_mode) && in->files[i].st_dev == st->st_dev &&
		    in->files[i].st_ino == st->st_ino)
			return 1;
	return 0;
}

int fin_input_rereadable(const fin_input *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->fds[i] == STDIN_FILENO || in->spooled[i] || !S_ISREG(in->files[i].st_mode))
			return 0;
	return 1;
}

/* The same file, unchanged: device and inode, size and modification time. */
static int same_file(const struct stat *x, const struct stat *y)
{
	return x->st_dev == y->st_dev && x->st_ino == y->st_ino && x->st_size == y->st_size &&
	       x->st_mtim.tv_sec == y->st_mtim.tv_sec && x->st_mtim.tv_nsec == y->st_mtim.tv_nsec;
}

int fin_input_same_files(const fin_input *a, const fin_input *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!same_file(&a->files[i], &b->files[i]))
			return 0;
	return 1;
}

int fin_input_temp(fin_err *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int out;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof path, "%s/fin-spool-XXXXXX", dir) >= sizeof path) {
		fin_fail(err, FIN_EUSAGE, "TMPDIR is too long");
		return -1;
	}
	if ((out = mkstemp(path)) < 0) {
		fin_fail(err, FIN_EDATA, "%s: %s (set TMPDIR to a writable directory)", path,
			 strerror(errno));
		return -1;
	}
	unlink(path);
	return out;
}

int fin_input_temp_write(int fd, const void *buf, size_t len, const char *name, fin_err *err)
{
	const char *dir = getenv("TMPDIR"), *p = buf;
	size_t put = 0;

	while (put < len) {
		ssize_t w = write(fd, p + put, len - put);
		if (w >= 0)
			put += (size_t)w;
		else if (errno != EINTR)
			return fin_fail(err, FIN_EDATA, "copying %s to %s: %s", name,
					dir && *dir ? dir : "/tmp", strerror(errno));
	}
	return FIN_OK;
}

/* Copies what is left of fd to an unlinked file in $TMPDIR (or /tmp) and
 * gives that file's descriptor, at its start; -1 with err filled. */
static int spool(int fd, const char *name, fin_err *err)
{
	const char *dir = getenv("TMPDIR");
	char buf[1 << 16];
	int out;
	ssize_t got;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((out = fin_input_temp(err)) < 0)
		return -1;
	while ((got = read(fd, buf, sizeof buf)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fin_fail(err, FIN_EDATA, "%s: %s", name, strerror(errno));
			close(out);
			return -1;
		}
		if (fin_input_temp_write(out, buf, (size_t)got, name, err) != FIN_OK) {
			close(out);
			return -1;
		}
	}
	if (lseek(out, 0, SEEK_SET) != 0) {
		fin_fail(err, FIN_EDATA, "%s: %s", dir, strerror(errno));
		close(out);
		return -1;
	}
	return out;
}

int fin_input_spool(fin_input *in, fin_err *err)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		fin_csv *csv;
		int fd;
		if (S_ISREG(in->files[i].st_mode) && in->fds[i] != STDIN_FILENO)
			continue;
		if ((fd = spool(in->fds[i], in->paths[i], err)) < 0)
			return err->code;
		if (!(csv = fin_csv_open(fd, fin_csv_name(in->csv[i]), in->has_opts ? &in->opts : NULL))) {
			close(fd);
			return fin_fail(err, FIN_EDATA, "out of memory");
		}
		fin_csv_close(in->csv[i]);
		if (in->fds[i] > STDIN_FILENO)
			close(in->fds[i]);
		in->csv[i] = csv;
		in->fds[i] = fd;
		in->spooled[i] = 1;
		if (fstat(fd, &in->files[i]) != 0)
			in->files[i].st_mode = 0;
	}
	return FIN_OK;
}

int fin_input_rewind(fin_input *in, fin_err *err)
{
	size_t i, n;
	char **names;
	int rc;

	for (i = 0; i < in->n; i++) {
		const char *name = fin_csv_name(in->csv[i]);
		struct stat st;
		fin_csv *csv;
		int fd;
		if (in->spooled[i]) {
			fd = in->fds[i];
			if (lseek(fd, 0, SEEK_SET) != 0)
				return fin_fail(err, FIN_EDATA, "%s: %s", name, strerror(errno));
		} else {
			if (in->fds[i] == STDIN_FILENO || !S_ISREG(in->files[i].st_mode))
				return fin_fail(err, FIN_EUSAGE, "%s: cannot be read twice", name);
			if ((fd = open(in->paths[i], O_RDONLY)) < 0)
				return fin_fail(err, FIN_EDATA, "%s: %s", name, strerror(errno));
			if (fstat(fd, &st) != 0 || !same_file(&st, &in->files[i])) {
				close(fd);
				return fin_fail(err, FIN_EDATA,
						"%s: the input changed since the first pass over it",
						name);
			}
		}
		if (!(csv = fin_csv_open(fd, name, in->has_opts ? &in->opts : NULL))) {
			if (!in->spooled[i])
				close(fd);
			return fin_fail(err, FIN_EDATA, "out of memory");
		}
		/* The first file's header again, compared with the one kept,
		 * before the reader that holds it is closed. */
		if (i == 0 && in->names) {
			size_t j;
			rc = fin_csv_header(csv, &names, &n, err);
			for (j = 0; rc == FIN_OK && j < n && j < in->nnames &&
				    strcmp(names[j], in->names[j]) == 0; j++)
				;
			if (rc == FIN_OK && (n != in->nnames || j < n))
				rc = fin_fail(err, FIN_EDATA,
					      "%s: the input changed since the first pass over it",
					      name);
			if (rc != FIN_OK) {
				fin_csv_close(csv);
				if (!in->spooled[i])
					close(fd);
				return rc;
			}
		}
		fin_csv_close(in->csv[i]);
		if (!in->spooled[i])
			close(in->fds[i]);
		in->csv[i] = csv;
		in->fds[i] = fd;
	}
	in->cur = 0;
	in->peeked = 0;
	return FIN_OK;
}

int fin_input_is_tty(const fin_input *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->fds[i] == STDIN_FILENO && isatty(STDIN_FILENO))
			return 1;
	return 0;
}

int fin_input_header(fin_input *in, char ***names, size_t *n, fin_err *err)
{
	char **read;
	size_t nread, i;
	int rc = FIN_OK;

	/* A copy of its own, which outlives the reader: a pass after the
	 * first reads the header again (fin_input_rewind). */
	if (!in->names && (rc = fin_csv_header(in->csv[0], &read, &nread, err)) == FIN_OK) {
		if (!(in->names = calloc(nread ? nread : 1, sizeof *in->names)))
			return fin_fail(err, FIN_EDATA, "out of memory");
		in->nnames = nread;
		for (i = 0; i < nread; i++)
			if (!(in->names[i] = strdup(read[i])))
				return fin_fail(err, FIN_EDATA, "out of memory");
	}

	if (rc == FIN_OK)
		rc = fin_columns_check_unique(in->names, in->nnames, fin_csv_name(in->csv[0]), err);
	if (rc == FIN_OK) {
		*names = in->names;
		*n = in->nnames;
	}
	return rc;
}

void fin_input_columns(const fin_input *in, char ***names, size_t *n)
{
	*names = in->names;
	*n = in->nnames;
}

/* Moves to the next input and checks that its header matches the first. */
static int next_file(fin_input *in, fin_err *err)
{
	fin_csv *c = in->csv[++in->cur];
	char **names;
	size_t n, i;
	int rc = fin_csv_header(c, &names, &n, err);

	if (rc == FIN_ENOROWS)
		return FIN_OK; /* an empty later file adds no rows */
	if (rc != FIN_OK)
		return rc;
	if (n != in->nnames)
		return fin_fail(err, FIN_EDATA, "%s:1: %zu columns, but %s has %zu", fin_csv_name(c),
				n, fin_csv_name(in->csv[0]), in->nnames);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], in->names[i]) != 0)
			return fin_fail(err, FIN_EDATA, "%s:1: column %zu is '%s', but in %s it is '%s'",
					fin_csv_name(c), i + 1, names[i], fin_csv_name(in->csv[0]),
					in->names[i]);
	return FIN_OK;
}

int fin_input_skip_to(fin_input *in, size_t file, fin_err *err)
{
	int rc = FIN_OK;

	if (file >= in->n)
		return fin_fail(err, FIN_EDATA, "no input file %zu", file);
	in->peeked = 0;
	if (file > in->cur) {
		in->cur = file - 1;
		rc = next_file(in, err);
	}
	return rc;
}

size_t fin_input_files(const fin_input *in)
{
	return in->n;
}

size_t fin_input_file(const fin_input *in)
{
	return in->cur;
}

int fin_input_next(fin_input *in, fin_row **row, fin_err *err)
{
	if (in->peeked) {
		in->peeked = 0;
		*row = in->peek_row;
		if (in->peek_got < 0 && err)
			*err = in->peek_err;
		return in->peek_got;
	}
	for (;;) {
		int got = fin_csv_next(in->csv[in->cur], row, err);
		int rc;

		if (got != 0 || in->cur + 1 == in->n)
			return got;
		rc = next_file(in, err);
		if (rc != FIN_OK)
			return -rc;
	}
}

int fin_input_peek(fin_input *in, fin_row **row, fin_err *err)
{
	if (!in->peeked) {
		in->peek_got = fin_input_next(in, &in->peek_row, &in->peek_err);
		in->peeked = 1;
	}
	*row = in->peek_row;
	if (in->peek_got < 0 && err)
		*err = in->peek_err;
	return in->peek_got;
}

const char *fin_input_name(const fin_input *in)
{
	return fin_csv_name(in->csv[in->cur]);
}
