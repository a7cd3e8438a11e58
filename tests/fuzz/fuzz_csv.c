/* The CSV reader, column selection, the <base>_<lag> layout and the table
 * reader. The input's first line is a column list as -c takes it (empty:
 * every numeric column); the rest is the CSV. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/table.h"
#include "io/columns.h"
#include "io/csv_reader.h"
#include "io/input.h"

#include "fuzz_file.h"

static void read_rows(int fd, const fin_csv_opts *opts, char *spec)
{
	fin_csv *r;
	fin_row *row;
	fin_err err;
	char **names;
	size_t n, *idx, count, *order, c, t;

	if (lseek(fd, 0, SEEK_SET) != 0 || !(r = fin_csv_open(fd, "fuzz", opts)))
		abort();
	if (fin_csv_header(r, &names, &n, &err) == FIN_OK) {
		if (fin_columns_select(&spec, 1, names, n, &idx, &count, &err) == FIN_OK)
			free(idx);
		if (!(order = malloc((n ? n : 1) * sizeof *order)))
			abort();
		fin_sequence_layout(names, n, order, &c, &t);
		free(order);
		while (fin_csv_next(r, &row, &err) > 0)
			;
	}
	fin_csv_close(r);
}

static void read_table(char *path, char *spec)
{
	fin_table_spec ts = { .columns = &spec, .ncolumns = spec[0] != '\0', .keep_all = 1,
			      .na = FIN_NA_FFILL, .encode = { .min_count = 2, .max_levels = 8 } };
	fin_csv_opts opts = { 0 };
	fin_input *in;
	fin_table t;
	fin_err err;

	if (!(in = fin_input_open(&path, 1, &opts, &err)))
		abort();
	if (fin_table_read(&t, in, &ts, &err) == FIN_OK) {
		/* Text columns: levels from the first rows, the rest encoded. */
		fin_table_encode(&t, t.rows - t.rows / 5, &err);
		fin_table_free(&t);
	}
	fin_input_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t speclen = nl ? (size_t)(nl - data) : size, skip = nl ? speclen + 1 : size;
	static const fin_csv_opts plain = { 0 }, semicolon_no_header = { ';', 1 };
	char *spec = strndup((const char *)data, speclen), path[64];
	int fd;

	if (!spec)
		abort();
	fd = fuzz_file(data + skip, size - skip, path, sizeof path);
	read_rows(fd, &plain, spec);
	read_rows(fd, &semicolon_no_header, spec);
	read_table(path, spec);
	close(fd);
	free(spec);
	return 0;
}
