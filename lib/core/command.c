#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/command.h"

char *fin_command_find(const char *word)
{
	char exe[4096], *slash, *path;
	ssize_t n;

	if (strchr(word, '/'))
		return strdup(word);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			slash[1] = '\0';
			if (asprintf(&path, "%s%s", exe, word) < 0)
				return NULL;
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return strdup(word);
}

/* Written by a signal handler, read by the main flow: the signal that
 * stops the run, and the child to pass it to. */
static volatile sig_atomic_t stop_signal, child_pid;

void fin_command_interrupt(int sig)
{
	int saved = errno;

	stop_signal = sig;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

int fin_command_interrupted(void)
{
	return stop_signal;
}

/* In the child, before exec: a signal must act as it will on the program,
 * not run the parent's handler on the parent's state. */
static void default_handlers(void)
{
	struct sigaction sa;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
}

const char *fin_command_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Passes what the command writes on fd to lines->line, a line at a
 * time, until every writer has closed it. A line longer than any message
 * of the tools goes on in pieces. */
static void relay(int fd, const fin_command_lines *lines)
{
	char buf[4096], line[8192];
	size_t len = 0;
	ssize_t got, i;

	for (;;) {
		got = read(fd, buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < got; i++) {
			if (buf[i] != '\n')
				line[len++] = buf[i];
			if (buf[i] == '\n' || len == sizeof line) {
				lines->line(lines->ctx, line, len);
				len = 0;
			}
		}
	}
	if (len)
		lines->line(lines->ctx, line, len);
}

int fin_command_run(char *const *argv, const fin_command_lines *lines, fin_err *err)
{
	sigset_t all, old;
	int report[2], said[2] = { -1, -1 }, exec_errno = 0, status, rc = FIN_OK;
	siginfo_t info;
	ssize_t got;
	pid_t pid, parent = getpid();

	if (pipe2(report, O_CLOEXEC) != 0)
		return fin_fail(err, FIN_EDATA, "cannot run %s: %s", fin_command_name(argv[0]),
				strerror(errno));
	if (lines && pipe2(said, O_CLOEXEC) != 0) {
		close(report[0]);
		close(report[1]);
		return fin_fail(err, FIN_EDATA, "cannot run %s: %s", fin_command_name(argv[0]),
				strerror(errno));
	}
	/* Signals wait while the child is started and while it is reaped, so
	 * that a handler never sees a child that is not (or no longer) ours. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (stop_signal) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(report[0]);
		close(report[1]);
		if (lines) {
			close(said[0]);
			close(said[1]);
		}
		return fin_fail(err, FIN_EDATA, "interrupted");
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY), to = lines ? said[1] : STDERR_FILENO;
		default_handlers();
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* The command dies with us, even by SIGKILL, which leaves no
		 * handler to pass a signal on; a parent gone before this took
		 * effect is seen by getppid. SIGKILL, as a command may catch
		 * or ignore any other. */
		if (null >= 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent &&
		    dup2(null, STDIN_FILENO) >= 0 && dup2(to, STDOUT_FILENO) >= 0 &&
		    (!lines || dup2(to, STDERR_FILENO) >= 0) &&
		    (null == STDIN_FILENO || close(null) == 0))
			execvp(argv[0], argv);
		exec_errno = errno;
		/* The status tells the parent only when the report could not. */
		if (write(report[1], &exec_errno, sizeof exec_errno) != (ssize_t)sizeof exec_errno)
			_exit(126);
		_exit(127);
	}
	if (pid > 0)
		child_pid = pid;
	else
		exec_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	if (lines)
		close(said[1]);
	if (pid < 0) {
		close(report[0]);
		if (lines)
			close(said[0]);
		return fin_fail(err, FIN_EDATA, "cannot run %s: %s", fin_command_name(argv[0]),
				strerror(exec_errno));
	}
	while ((got = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (lines) {
		relay(said[0], lines);
		close(said[0]);
	}
	/* Waits without reaping: until it is reaped, the child's pid cannot
	 * be reused, so a handler passing a signal on cannot hit another
	 * process. */
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR)
		;
	sigprocmask(SIG_BLOCK, &all, &old);
	child_pid = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (got == (ssize_t)sizeof exec_errno)
		rc = fin_fail(err, FIN_EDATA, "cannot run %s: %s", argv[0], strerror(exec_errno));
	else if (WIFSIGNALED(status))
		rc = fin_fail(err, FIN_EDATA, "%s was killed by signal %d (%s)", fin_command_name(argv[0]),
			      WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s exited with status %d", fin_command_name(argv[0]),
			      WEXITSTATUS(status));
	return rc;
}

int fin_tempdir_make(char *path, size_t size, const char *prefix, fin_err *err)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(path, size, "%s/%s.XXXXXX", tmp, prefix);
	if (n < 0 || (size_t)n >= size)
		return fin_fail(err, FIN_EUSAGE, "TMPDIR is too long");
	if (!mkdtemp(path))
		return fin_fail(err, FIN_EUSAGE, "cannot make a directory in %s: %s", tmp,
				strerror(errno));
	return FIN_OK;
}

void fin_tempdir_remove(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(path);
}
