/* fin-inspect: what a model, detector or cluster file holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "explain/inspect.h"
#include "io/json_file.h"
#include "io/out_file.h"

static const char usage[] =
	"Usage: fin-inspect [OPTION]... FILE\n"
	"Print what a model (fin-train), detector (fin-anomaly) or cluster file\n"
	"(fin-cluster) holds: its task, architecture, features and their scaling, labels,\n"
	"training facts, and for a linear, logistic or softmax fit its coefficients in the\n"
	"features' own units, with standard errors and tests when unpenalised.\n"
	"\n"
	"      --format F         table|csv|json (default table); csv writes the\n"
	"                         coefficients, or the features when there are none\n"
	FIN_HELP_OUTPUT
	FIN_HELP_HELP_VERSION
	"\n"
	"Exit status: 0 success, 2 usage error, 3 unusable file. See fin-inspect(1).\n";

enum { OPT_FORMAT = 256 };
enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

static const struct option long_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ NULL, 0, NULL, 0 },
};

/* A list of objects: one of the description's tables. */
static int is_table(const cJSON *v)
{
	return cJSON_IsArray(v) && cJSON_IsObject(v->child);
}

static int is_number(const cJSON *v)
{
	return cJSON_IsNumber(v) || cJSON_IsRaw(v);
}

/* A value as a table shows it: text escaped (it comes from the file),
 * exact numbers to 6 digits, counts whole, lists joined by commas. */
static void cell(char *buf, size_t len, const cJSON *v)
{
	const cJSON *e;
	size_t at = 0;

	if (cJSON_IsString(v))
		fin_escape(buf, len, v->valuestring, strlen(v->valuestring));
	else if (cJSON_IsRaw(v))
		snprintf(buf, len, "%.6g", strtod(v->valuestring, NULL));
	else if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.0f", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, len, "NA");
	else if (cJSON_IsArray(v)) {
		buf[0] = '\0';
		cJSON_ArrayForEach(e, v)
		{
			if (at + 2 >= len)
				break;
			if (at)
				buf[at++] = ',';
			cell(buf + at, len - at, e);
			at += strlen(buf + at);
		}
	}
}

static void pad(fin_out *out, size_t n)
{
	while (n--)
		fin_out_char(out, ' ');
}

/* The facts as "name value" lines, nested names joined by dots, aligned
 * as fin-eval's table: with out NULL, only measures the longest name. */
static void fact_lines(fin_out *out, const cJSON *o, const char *prefix, size_t width,
		       size_t *longest)
{
	char name[1024], value[1 << 16];
	const cJSON *v;

	cJSON_ArrayForEach(v, o)
	{
		size_t len;
		if (is_table(v))
			continue;
		len = (size_t)snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", v->string);
		if (len >= sizeof name)
			len = sizeof name - 1;
		if (cJSON_IsObject(v)) {
			fact_lines(out, v, name, width, longest);
			continue;
		}
		if (!out) {
			*longest = len > *longest ? len : *longest;
			continue;
		}
		cell(value, sizeof value, v);
		fin_out_bytes(out, name, len);
		pad(out, width + 2 - len);
		fin_out_bytes(out, value, strlen(value));
		fin_out_char(out, '\n');
	}
}

/* The text of column c of row (the header when row is NULL). */
static void row_cell(char *buf, size_t len, const cJSON *row, const cJSON *field)
{
	if (row)
		cell(buf, len, cJSON_GetObjectItemCaseSensitive(row, field->string));
	else
		fin_escape(buf, len, field->string, strlen(field->string));
}

/* A table of rows with the fields of its first row, a blank line before
 * it: columns as wide as their widest cell, numbers to the right. Cells
 * are made twice, to measure and to write, rather than kept. */
static int write_rows(fin_out *out, const cJSON *rows, fin_err *err)
{
	const cJSON *first = rows->child, *f, *row;
	size_t ncol = (size_t)cJSON_GetArraySize(first), c;
	size_t *width = calloc(ncol ? ncol : 1, sizeof *width);
	char text[256];
	int pass;

	if (!width)
		return fin_fail(err, FIN_EDATA, "out of memory");
	fin_out_char(out, '\n');
	for (pass = 0; pass < 2; pass++)
		for (row = NULL;; row = row ? row->next : rows->child) {
			for (c = 0, f = first->child; f; f = f->next, c++) {
				size_t len;
				row_cell(text, sizeof text, row, f);
				len = strlen(text);
				if (pass == 0) {
					width[c] = len > width[c] ? len : width[c];
					continue;
				}
				if (is_number(f))
					pad(out, width[c] - len);
				fin_out_bytes(out, text, len);
				if (f->next)
					pad(out, (is_number(f) ? 0 : width[c] - len) + 2);
			}
			if (pass == 1)
				fin_out_char(out, '\n');
			if (row && !row->next)
				break;
		}
	free(width);
	return FIN_OK;
}

/* The facts, then every table, each under a blank line. */
static int write_table(const cJSON *d, fin_out *out, fin_err *err)
{
	const cJSON *v;
	size_t width = 0;
	int rc = FIN_OK;

	fact_lines(NULL, d, "", 0, &width);
	fact_lines(out, d, "", width, &width);
	cJSON_ArrayForEach(v, d)
		if (rc == FIN_OK && is_table(v))
			rc = write_rows(out, v, err);
	return rc;
}

/* One table as CSV: the coefficients, or else the features. Exact numbers
 * are written as the file holds them, so that they read back exactly. */
static void write_csv(const cJSON *d, fin_out *out)
{
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(d, "coefficients"), *f, *row;

	if (!is_table(rows))
		rows = cJSON_GetObjectItemCaseSensitive(d, "features");
	if (!is_table(rows))
		return;
	for (f = rows->child->child; f; f = f->next) {
		fin_out_field(out, f->string, strlen(f->string));
		fin_out_char(out, f->next ? ',' : '\n');
	}
	cJSON_ArrayForEach(row, rows)
		for (f = rows->child->child; f; f = f->next) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, f->string);
			char num[32];
			if (cJSON_IsString(v))
				fin_out_field(out, v->valuestring, strlen(v->valuestring));
			else if (cJSON_IsRaw(v))
				fin_out_bytes(out, v->valuestring, strlen(v->valuestring));
			else if (cJSON_IsNumber(v))
				fin_out_bytes(out, num, (size_t)snprintf(num, sizeof num, "%.0f", v->valuedouble));
			fin_out_char(out, f->next ? ',' : '\n');
		}
}

int main(int argc, char **argv)
{
	static const char *const formats[] = { "table", "csv", "json" };
	fin_err err = { 0 };
	fin_out_file *file = NULL;
	cJSON *d = NULL;
	fin_cli cli;
	int opt, format = FORMAT_TABLE;
	int rc = fin_cli_init(&cli, "fin-inspect", usage, FIN_CLI_OUTPUT, long_options, &err);

	while (rc == FIN_OK && (opt = fin_cli_next(&cli, argc, argv)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			rc = fin_cli_word("--format", optarg, fin_word_index(optarg, formats, 3), &format,
					  &err);
			break;
		default: rc = fin_cli_option(&cli, opt, optarg, &err); break;
		}
	}
	if (rc == FIN_CLI_EXIT)
		return 0;
	if (rc == FIN_OK && argc - optind != 1)
		rc = fin_fail(&err, FIN_EUSAGE, "expected one model, detector or cluster file, not %d",
			      argc - optind);
	if (rc == FIN_OK && !(file = fin_out_file_open(cli.output, NULL, argv + optind, 1, &err)))
		rc = err.code;
	if (rc == FIN_OK)
		rc = fin_inspect(argv[optind], &d, &err);
	if (rc == FIN_OK && format == FORMAT_JSON)
		rc = fin_json_save(d, file, &err);
	else if (rc == FIN_OK && format == FORMAT_CSV)
		write_csv(d, fin_out_file_writer(file));
	else if (rc == FIN_OK)
		rc = write_table(d, fin_out_file_writer(file), &err);
	if (rc == FIN_OK) {
		rc = fin_out_file_commit(file, &err);
		file = NULL;
	}
	if (rc != FIN_OK && err.msg[0])
		fin_report("fin-inspect", err.msg);
	fin_out_file_discard(file);
	cJSON_Delete(d);
	return rc;
}
