/* The fuzz input as a file that loaders open by name: an anonymous memory
 * file, named /proc/self/fd/N, so nothing is written to disk. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Returns the descriptor (close it after use) and its name in path. */
static int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", 0);
	size_t at = 0;

	if (fd < 0)
		abort();
	while (at < size) {
		ssize_t n = write(fd, data + at, size - at);
		if (n <= 0)
			abort();
		at += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
