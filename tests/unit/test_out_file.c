/* The output routine of every tool: a file is replaced only by a complete
 * one, with its mode; links are followed; devices, FIFOs and sockets are
 * written to as they are; directories and inputs are refused; a signal
 * leaves no temporary file. Each case in a directory of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/out_file.h"

static char dir[] = "/tmp/fin-out-file-XXXXXX";

/* DIR/name, in a static buffer (one at a time). */
static const char *in_dir(const char *name)
{
	static char path[4][256];
	static int next;

	next = (next + 1) % 4;
	snprintf(path[next], sizeof path[next], "%s/%s", dir, name);
	return path[next];
}

static void put(const char *name, const char *text, mode_t mode)
{
	int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void assert_holds(const char *name, const char *text)
{
	char buf[256] = { 0 };
	int fd = open(in_dir(name), O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_true(n >= 0);
	assert_string_equal(buf, text);
}

/* The names in the directory, sorted, joined by spaces. */
static const char *listing(void)
{
	static char names[1024];
	struct dirent **e;
	int n = scandir(dir, &e, NULL, alphasort), i;

	assert_true(n >= 0);
	names[0] = '\0';
	for (i = 0; i < n; i++) {
		if (e[i]->d_name[0] != '.') {
			if (names[0])
				strcat(names, " ");
			strcat(names, e[i]->d_name);
		}
		free(e[i]);
	}
	free(e);
	return names;
}

static void write_text(fin_out_file *f, const char *text)
{
	fin_out_bytes(fin_out_file_writer(f), text, strlen(text));
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/fin-out-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_new_file_appears_on_commit(void **state)
{
	fin_err err = { 0 };
	fin_out_file *f;
	struct stat st;
	mode_t old = umask(027);
	(void)state;

	f = fin_out_file_open(in_dir("out.csv"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "a,b\n1,2\n");
	/* Only a temporary file beside it, until the commit. */
	assert_int_equal(strncmp(listing(), "out.csv.", 8), 0);
	assert_int_equal(strlen(listing()), strlen("out.csv.XXXXXX"));
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	umask(old);
	assert_string_equal(listing(), "out.csv");
	assert_holds("out.csv", "a,b\n1,2\n");
	assert_int_equal(stat(in_dir("out.csv"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_discard_keeps_the_old_file(void **state)
{
	fin_err err = { 0 };
	fin_out_file *f;
	struct stat st;
	(void)state;

	put("model.json", "old\n", 0600);
	f = fin_out_file_open(in_dir("model.json"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "half");
	fin_out_file_discard(f);
	assert_string_equal(listing(), "model.json");
	assert_holds("model.json", "old\n");

	f = fin_out_file_open(in_dir("model.json"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "new\n");
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	assert_holds("model.json", "new\n");
	assert_int_equal(stat(in_dir("model.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_links_are_followed(void **state)
{
	fin_err err = { 0 };
	fin_out_file *f;
	char target[256];
	ssize_t n;
	(void)state;

	put("target.csv", "old\n", 0644);
	assert_int_equal(symlink("target.csv", in_dir("link.csv")), 0);
	assert_int_equal(symlink("link.csv", in_dir("link2.csv")), 0);
	f = fin_out_file_open(in_dir("link2.csv"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "new\n");
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	assert_string_equal(listing(), "link.csv link2.csv target.csv");
	assert_holds("target.csv", "new\n");
	n = readlink(in_dir("link.csv"), target, sizeof target - 1);
	assert_int_equal(n, 10);

	/* A link to nothing yet: its target is made. */
	assert_int_equal(symlink("made.csv", in_dir("dangling.csv")), 0);
	f = fin_out_file_open(in_dir("dangling.csv"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "made\n");
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	assert_holds("made.csv", "made\n");

	/* A loop is an error, not a hang. */
	assert_int_equal(symlink("loop.csv", in_dir("loop.csv")), 0);
	assert_null(fin_out_file_open(in_dir("loop.csv"), NULL, NULL, 0, &err));
	assert_int_equal(err.code, FIN_EUSAGE);
}

static void test_refusals(void **state)
{
	fin_err err = { 0 };
	fin_csv_opts opts = { 0 };
	char in_path[256], *files[2] = { NULL, NULL };
	fin_input *in;
	(void)state;

	assert_int_equal(mkdir(in_dir("sub"), 0755), 0);
	assert_null(fin_out_file_open(in_dir("sub"), NULL, NULL, 0, &err));
	assert_int_equal(err.code, FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "cannot write: Is a directory"));

	assert_null(fin_out_file_open(in_dir("no/such.csv"), NULL, NULL, 0, &err));
	assert_int_equal(err.code, FIN_EUSAGE);
	assert_null(fin_out_file_open("", NULL, NULL, 0, &err));
	assert_int_equal(err.code, FIN_EUSAGE);

	/* An input, by its name, another name or a link. */
	put("in.csv", "x\n1\n", 0644);
	assert_int_equal(link(in_dir("in.csv"), in_dir("hard.csv")), 0);
	assert_int_equal(symlink("in.csv", in_dir("soft.csv")), 0);
	snprintf(in_path, sizeof in_path, "%s", in_dir("in.csv"));
	in = fin_input_open((char *const[]){ in_path }, 1, &opts, &err);
	assert_non_null(in);
	assert_null(fin_out_file_open(in_dir("in.csv"), in, NULL, 0, &err));
	assert_int_equal(err.code, FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "it is also an input"));
	assert_null(fin_out_file_open(in_dir("hard.csv"), in, NULL, 0, &err));
	assert_null(fin_out_file_open(in_dir("soft.csv"), in, NULL, 0, &err));
	fin_input_close(in);

	/* A file read by path, such as a model; NULL entries skipped. */
	files[1] = in_path;
	assert_null(fin_out_file_open(in_dir("soft.csv"), NULL, files, 2, &err));
	assert_int_equal(err.code, FIN_EUSAGE);
	assert_string_equal(listing(), "hard.csv in.csv soft.csv sub");
	assert_holds("in.csv", "x\n1\n");
}

static void test_fifo_is_written_through(void **state)
{
	fin_err err = { 0 };
	fin_out_file *f;
	char buf[64] = { 0 };
	struct stat st;
	int reader;
	(void)state;

	assert_int_equal(mkfifo(in_dir("fifo"), 0600), 0);
	/* Read and write ends at once: opening for writing does not wait. */
	reader = open(in_dir("fifo"), O_RDWR);
	assert_true(reader >= 0);
	f = fin_out_file_open(in_dir("fifo"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "through\n");
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	assert_int_equal(read(reader, buf, sizeof buf - 1), 8);
	assert_string_equal(buf, "through\n");
	close(reader);
	assert_int_equal(lstat(in_dir("fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_string_equal(listing(), "fifo");
}

static void test_socket_is_written_through(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	fin_err err = { 0 };
	fin_out_file *f;
	char buf[64] = { 0 };
	struct stat st;
	int server = socket(AF_UNIX, SOCK_STREAM, 0), conn;
	(void)state;

	assert_true(server >= 0);
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", in_dir("sock"));
	assert_int_equal(bind(server, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(server, 1), 0);
	f = fin_out_file_open(in_dir("sock"), NULL, NULL, 0, &err);
	assert_non_null(f);
	write_text(f, "through\n");
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	conn = accept(server, NULL, NULL);
	assert_true(conn >= 0);
	assert_int_equal(read(conn, buf, sizeof buf - 1), 8);
	assert_string_equal(buf, "through\n");
	close(conn);
	close(server);
	assert_int_equal(lstat(in_dir("sock"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

/* Runs a child that opens DIR/out.json over an old one, writes, and then
 * gets sig (ignored from its start, with ignore); its wait status. */
static int child_signalled(int sig, int ignore)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fin_err err = { 0 };
		fin_out_file *f;
		if (ignore)
			signal(sig, SIG_IGN);
		f = fin_out_file_open(in_dir("out.json"), NULL, NULL, 0, &err);
		if (!f)
			_exit(100);
		write_text(f, "new\n");
		raise(sig);
		_exit(fin_out_file_commit(f, &err) == FIN_OK ? 0 : 101);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_signal_removes_the_temporary_file(void **state)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	size_t i;
	int status;
	(void)state;

	for (i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		put("out.json", "old\n", 0644);
		status = child_signalled(sigs[i], 0);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), sigs[i]);
		assert_string_equal(listing(), "out.json");
		assert_holds("out.json", "old\n");
	}
	/* A signal ignored by whoever started us (nohup) stays ignored. */
	status = child_signalled(SIGHUP, 1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(listing(), "out.json");
	assert_holds("out.json", "new\n");
}

static void test_standard_output(void **state)
{
	fin_err err = { 0 };
	fin_out_file *f = fin_out_file_open("-", NULL, NULL, 0, &err);
	(void)state;

	assert_non_null(f);
	assert_string_equal(fin_out_file_name(f), "<stdout>");
	assert_int_equal(fin_out_file_writer(f)->fd, STDOUT_FILENO);
	fin_out_file_discard(f);
	f = fin_out_file_open(NULL, NULL, NULL, 0, &err);
	assert_non_null(f);
	assert_int_equal(fin_out_file_commit(f, &err), FIN_OK);
	assert_string_equal(listing(), "");
}

int main(void)
{
	/* First, so that each child is the first in its process to make a
	 * temporary file, and decides then which signals to catch. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signal_removes_the_temporary_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_file_appears_on_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_keeps_the_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_are_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_is_written_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_is_written_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standard_output, setup, teardown),
	};

	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	size_t i;

	/* As a terminal would start us, whatever runs the tests. */
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		signal(sigs[i], SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
