/* Running a test step in a child process with little memory to spare, so
 * that an allocation a loader should never make fails there. */
#ifndef FIN_TEST_BOUNDED_MEMORY_H
#define FIN_TEST_BOUNDED_MEMORY_H

#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit status of fn run in a child whose address space may grow by
 * 1 GiB at most: an allocation beyond that fails there, even one never
 * touched. */
static int in_bounded_memory(int (*fn)(void))
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	pid_t pid;
	int status;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pages), 1);
	fclose(f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rlim_t most = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
		struct rlimit rl = { most, most };
		_exit(setrlimit(RLIMIT_AS, &rl) == 0 ? fn() : 100);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
