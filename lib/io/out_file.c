#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/out_file.h"

struct fin_out_file {
	char *name;   /* as given, for messages; NULL for standard output */
	char *target; /* the file replaced: name with its symbolic links followed */
	char *temp;   /* renamed over target on commit; NULL when written directly */
	int slot;     /* temp's place among the files a signal removes */
	fin_out out;
};

/* ---- the temporary files a signal removes ----
 *
 * The main flow claims a slot, with the signals blocked in its thread,
 * while it creates the file (CREATING); the file is LIVE until the main
 * flow takes the slot back (FREE) or a handler takes it to remove the file
 * (GONE), whichever comes first. A handler may run in another thread
 * (OpenBLAS starts some): it waits out a CREATING slot, and reads a path
 * only from a slot it took, whose path the main flow then never frees. */

enum { FREE, CREATING, LIVE, GONE };
enum { MAX_TEMPS = 16 };

static atomic_int temp_state[MAX_TEMPS];
static char *temp_path[MAX_TEMPS];
static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
enum { NCAUGHT = sizeof caught / sizeof *caught };

void fin_out_file_on_signal(int sig)
{
	sigset_t set;
	int slot;

	for (slot = 0; slot < MAX_TEMPS; slot++) {
		int state;
		while ((state = atomic_load(&temp_state[slot])) == CREATING)
			;
		if (state == LIVE && atomic_compare_exchange_strong(&temp_state[slot], &state, GONE))
			unlink(temp_path[slot]);
	}
	signal(sig, SIG_DFL);
	raise(sig);
	/* In a handler the signal waits until it returns: it ends us now. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Once: a signal that ends the process removes the temporary files
 * first. One that was ignored when we started (nohup, a background job)
 * stays ignored, and one the program catches itself stays its own. */
static void catch_signals(void)
{
	static int done;
	struct sigaction sa = { 0 }, old;
	size_t i;

	if (done)
		return;
	done = 1;
	sa.sa_handler = fin_out_file_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NCAUGHT; i++)
		sigaddset(&sa.sa_mask, caught[i]);
	for (i = 0; i < NCAUGHT; i++)
		if (sigaction(caught[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(caught[i], &sa, NULL);
}

/* Creates f->temp from its template, registered for the handlers from
 * the moment it exists; its descriptor, or -1 with errno set. */
static int create_temp(fin_out_file *f)
{
	sigset_t block, saved;
	int slot, fd = -1, saved_errno = EMFILE;
	size_t i;

	catch_signals();
	sigemptyset(&block);
	for (i = 0; i < NCAUGHT; i++)
		sigaddset(&block, caught[i]);
	sigprocmask(SIG_BLOCK, &block, &saved);
	for (slot = 0; slot < MAX_TEMPS; slot++) {
		int state = FREE;
		if (atomic_compare_exchange_strong(&temp_state[slot], &state, CREATING))
			break;
	}
	if (slot < MAX_TEMPS) {
		temp_path[slot] = f->temp;
		fd = mkostemp(f->temp, O_CLOEXEC);
		saved_errno = errno;
		atomic_store(&temp_state[slot], fd >= 0 ? LIVE : FREE);
		f->slot = slot;
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	errno = saved_errno;
	return fd;
}

/* Takes f's slot back from the handlers, once its file is renamed or
 * removed. When a handler took it first, the handler holds its path. */
static void release_temp(fin_out_file *f)
{
	int live = LIVE;

	if (!atomic_compare_exchange_strong(&temp_state[f->slot], &live, FREE))
		f->temp = NULL;
}

/* ---- opening ---- */

/* path with the symbolic links of its last part followed, in a new
 * string: the name of the file an output replaces, or creates when
 * *exists is 0. *st is that file's. NULL with errno set on failure. */
static char *follow_links(const char *path, struct stat *st, int *exists)
{
	char *cur = strdup(path), link[PATH_MAX];
	int hops, saved;

	/* As many links as the kernel follows. */
	for (hops = 0; cur && hops <= 40; hops++) {
		char *next = NULL, *slash;
		ssize_t n;
		if (lstat(cur, st) != 0) {
			if (errno != ENOENT)
				break;
			*exists = 0;
			return cur;
		}
		*exists = 1;
		if (!S_ISLNK(st->st_mode))
			return cur;
		if ((n = readlink(cur, link, sizeof link - 1)) < 0)
			break;
		link[n] = '\0';
		/* A relative link is relative to the link's directory. */
		slash = strrchr(cur, '/');
		if (link[0] == '/' || !slash)
			next = strdup(link);
		else if (asprintf(&next, "%.*s/%s", (int)(slash - cur), cur, link) < 0)
			next = NULL;
		free(cur);
		cur = next;
	}
	saved = !cur ? ENOMEM : hops > 40 ? ELOOP : errno;
	free(cur);
	errno = saved;
	return NULL;
}

/* A connection to the stream socket at path; -1 with errno set. */
static int connect_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(path) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)&addr, sizeof addr) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

/* True when st, a regular file, is one the run reads. */
static int is_read(const struct stat *st, const fin_input *in, char *const *files, size_t nfiles)
{
	struct stat r;
	size_t i;

	if (in && fin_input_has_file(in, st))
		return 1;
	for (i = 0; i < nfiles; i++)
		if (files[i] &&
		    (strcmp(files[i], "-") == 0 ? fstat(STDIN_FILENO, &r) : stat(files[i], &r)) == 0 &&
		    r.st_dev == st->st_dev && r.st_ino == st->st_ino)
			return 1;
	return 0;
}

static fin_out_file *fail_open(fin_out_file *f, fin_err *err, const char *path, const char *why)
{
	fin_fail(err, FIN_EUSAGE, "%s: cannot write: %s", path, why);
	free(f->name);
	free(f->target);
	free(f->temp);
	free(f);
	return NULL;
}

/* A new temporary file for f->target with mode (and owner, when old is
 * given and that is permitted). */
static int open_temp(fin_out_file *f, mode_t mode, const struct stat *old)
{
	int fd, saved;

	if (asprintf(&f->temp, "%s.XXXXXX", f->target) < 0) {
		f->temp = NULL;
		errno = ENOMEM;
		return -1;
	}
	if ((fd = create_temp(f)) < 0)
		return -1;
	/* Only root may give a file away: anyone else's copy stays theirs. */
	if ((!old || fchown(fd, old->st_uid, old->st_gid) == 0 || errno == EPERM) &&
	    fchmod(fd, mode) == 0)
		return fd;
	saved = errno;
	close(fd);
	unlink(f->temp);
	release_temp(f);
	errno = saved;
	return -1;
}

fin_out_file *fin_out_file_open(const char *path, const fin_input *in, char *const *files,
				size_t nfiles, fin_err *err)
{
	fin_out_file *f = calloc(1, sizeof *f);
	struct stat st, link_st;
	mode_t umask_bits;
	int fd, exists, link_exists;

	if (!f) {
		fin_fail(err, FIN_EUSAGE, "out of memory");
		return NULL;
	}
	if (!path || strcmp(path, "-") == 0) {
		fin_out_init(&f->out, STDOUT_FILENO);
		return f;
	}
	if (!(f->name = strdup(path)))
		return fail_open(f, err, path, strerror(ENOMEM));
	/* An empty name would make a temporary file with nowhere to go. */
	if (!*path)
		return fail_open(f, err, path, strerror(ENOENT));
	exists = stat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return fail_open(f, err, path, strerror(errno));
	if (exists && S_ISDIR(st.st_mode))
		return fail_open(f, err, path, strerror(EISDIR));
	/* Devices, FIFOs and sockets are written to as they are: replacing
	 * one with a file would break what reads it. Opening by the path
	 * given also follows /dev/stdout to a pipe. */
	if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		fd = S_ISSOCK(st.st_mode) ? connect_socket(path)
					  : open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return fail_open(f, err, path, strerror(errno));
		fin_out_init(&f->out, fd);
		return f;
	}
	if (exists && !S_ISREG(st.st_mode))
		return fail_open(f, err, path, "not a regular file, a character device, a FIFO or "
					       "a socket");
	if (exists && is_read(&st, in, files, nfiles))
		return fail_open(f, err, path, "it is also an input");
	if (!(f->target = follow_links(path, &link_st, &link_exists)))
		return fail_open(f, err, path, strerror(errno));
	if (link_exists != exists ||
	    (exists && (link_st.st_dev != st.st_dev || link_st.st_ino != st.st_ino)))
		return fail_open(f, err, path, "it changed while it was opened");
	umask_bits = umask(0);
	umask(umask_bits);
	fd = exists ? open_temp(f, st.st_mode & 07777, &st) : open_temp(f, 0666 & ~umask_bits, NULL);
	if (fd < 0)
		return fail_open(f, err, path, strerror(errno));
	fin_out_init(&f->out, fd);
	return f;
}

fin_out *fin_out_file_writer(fin_out_file *f)
{
	return &f->out;
}

const char *fin_out_file_name(const fin_out_file *f)
{
	return f->name ? f->name : "<stdout>";
}

/* ---- closing ---- */

/* The rename is part of the directory: synced too, so that it survives a
 * crash. Not every file system can; the file is in place either way. */
static void sync_directory(const char *target)
{
	const char *slash = strrchr(target, '/');
	char *dir = slash ? strndup(target, (size_t)(slash - target) + 1) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static void free_file(fin_out_file *f)
{
	free(f->name);
	free(f->target);
	free(f->temp);
	free(f);
}

int fin_out_file_commit(fin_out_file *f, fin_err *err)
{
	const char *name = fin_out_file_name(f);
	int fd = f->out.fd, rc = fin_out_finish(&f->out, name, err);

	if (f->temp && rc == FIN_OK && fsync(fd) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", name, strerror(errno));
	if (fd != STDOUT_FILENO && close(fd) != 0 && rc == FIN_OK)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", name, strerror(errno));
	if (f->temp) {
		if (rc == FIN_OK && rename(f->temp, f->target) != 0)
			rc = fin_fail(err, FIN_EDATA, "%s: cannot write: %s", name, strerror(errno));
		if (rc == FIN_OK)
			sync_directory(f->target);
		else
			unlink(f->temp);
		release_temp(f);
	}
	free_file(f);
	return rc;
}

void fin_out_file_discard(fin_out_file *f)
{
	if (!f)
		return;
	if (f->temp) {
		close(f->out.fd);
		unlink(f->temp);
		release_temp(f);
	} else {
		fin_out_drain(&f->out);
		if (f->out.fd != STDOUT_FILENO)
			close(f->out.fd);
	}
	free_file(f);
}
