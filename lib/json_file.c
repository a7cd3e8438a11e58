#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_file.h"
#include "numio.h"

enum { MAX_FILE_BYTES = 1 << 30, MAX_NAMES = 1 << 20 };

/* ---- writing ---- */

cJSON *fin_json_strings(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

cJSON *fin_json_exact(double v)
{
	char buf[FIN_NUM_MAX];

	if (!isfinite(v))
		return cJSON_CreateNull();
	fin_format_double(buf, v);
	return cJSON_CreateRaw(buf);
}

int fin_json_add_exact(cJSON *o, const char *key, double v)
{
	return cJSON_AddItemToObject(o, key, fin_json_exact(v));
}

int fin_json_add_float(cJSON *o, const char *key, double v)
{
	char buf[FIN_NUM_MAX];

	fin_format_float(buf, (float)v);
	return cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

cJSON *fin_json_doubles(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, fin_json_exact(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

cJSON *fin_json_float(float v)
{
	char buf[FIN_NUM_MAX];

	fin_format_float(buf, v);
	if ((float)strtod(buf, NULL) != v)
		snprintf(buf, sizeof buf, "%.17g", (double)v);
	return cJSON_CreateRaw(buf);
}

cJSON *fin_json_floats(const float *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, fin_json_float(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int fin_json_check_writable(const char *path, fin_err *err)
{
	char *tmp = NULL;
	int fd;

	if (strcmp(path, "-") == 0)
		return FIN_OK;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return fin_fail(err, FIN_EUSAGE, "out of memory");
	fd = mkstemp(tmp);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	if (fd < 0)
		return fin_fail(err, FIN_EUSAGE, "%s: cannot write: %s", path, strerror(errno));
	return FIN_OK;
}

int fin_json_save(const cJSON *o, const char *path, fin_err *err)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL, *tmp = NULL;
	size_t len;
	int fd = -1, rc = FIN_OK;

	if (!text)
		return fin_fail(err, FIN_EDATA, "out of memory writing %s", path ? path : "<stdout>");
	len = strlen(text);
	text[len] = '\n';
	if (!path || strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, text, len + 1) != 0)
			rc = fin_fail(err, FIN_EDATA, "<stdout>: write error: %s", strerror(errno));
		free(text);
		return rc;
	}
	/* A temporary name in the same directory, renamed over the target
	 * only once complete: a failed run never leaves a broken file. */
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		free(text);
		return fin_fail(err, FIN_EDATA, "out of memory");
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		rc = fin_fail(err, FIN_EUSAGE, "%s: cannot write: %s", path, strerror(errno));
	else if (fchmod(fd, 0644) != 0 || write_all(fd, text, len + 1) != 0 || fsync(fd) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == FIN_OK)
		rc = fin_fail(err, FIN_EDATA, "%s: write error: %s", path, strerror(errno));
	if (rc == FIN_OK && rename(tmp, path) != 0)
		rc = fin_fail(err, FIN_EDATA, "%s: cannot write: %s", path, strerror(errno));
	if (rc != FIN_OK && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(text);
	return rc;
}

/* ---- reading: the file is untrusted, every size is checked first ---- */

int fin_json_bad(const fin_json_reader *r, const char *what, const char *detail)
{
	return fin_fail(r->err, FIN_EMODEL, "%s: unusable %s file: %s%s", r->path, r->kind, what,
			detail);
}

const cJSON *fin_json_field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

int fin_json_count(const fin_json_reader *r, const cJSON *v, const char *what, size_t max, size_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > (double)max ||
	    v->valuedouble != floor(v->valuedouble))
		return fin_json_bad(r, what, " is missing or not a whole number in range");
	*out = (size_t)v->valuedouble;
	return FIN_OK;
}

int fin_json_names(const fin_json_reader *r, const cJSON *a, const char *what, char ***out, size_t *n)
{
	const cJSON *e;
	size_t len, i = 0;

	if (!cJSON_IsArray(a))
		return fin_json_bad(r, what, " is missing or not a list");
	len = (size_t)cJSON_GetArraySize(a);
	if (len > MAX_NAMES)
		return fin_json_bad(r, what, " is too long");
	*out = calloc(len ? len : 1, sizeof **out);
	if (!*out)
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return fin_json_bad(r, what, " holds something other than text");
		if (!((*out)[i++] = strdup(e->valuestring)))
			return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
		*n = i;
	}
	return FIN_OK;
}

int fin_json_read_doubles(const fin_json_reader *r, const cJSON *a, const char *what, size_t n, double **out)
{
	const cJSON *e;
	size_t i = 0;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return fin_json_bad(r, what, " is missing or has the wrong length");
	*out = malloc((n ? n : 1) * sizeof **out);
	if (!*out)
		return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
			return fin_json_bad(r, what, " holds a value that is not a finite number");
		(*out)[i++] = e->valuedouble;
	}
	return FIN_OK;
}

double fin_json_number_or(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = fin_json_field(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

cJSON *fin_json_load(const fin_json_reader *r)
{
	const char *path = r->path;
	fin_err *err = r->err;
	struct stat st;
	char *text = NULL;
	cJSON *o;
	int fd;
	size_t got = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fin_fail(err, FIN_EMODEL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
		close(fd);
		fin_json_bad(r, "not a regular file of a sensible size", "");
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	while (text && got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!text || got != (size_t)st.st_size) {
		free(text);
		fin_fail(err, FIN_EMODEL, "%s: cannot read", path);
		return NULL;
	}
	text[got] = '\0';
	o = cJSON_ParseWithLength(text, got);
	if (!o) {
		const char *at = cJSON_GetErrorPtr();
		long off = at && at >= text && at <= text + got ? (long)(at - text) : -1;
		free(text);
		fin_fail(err, FIN_EMODEL, "%s: unusable %s file: not JSON (near byte %ld)", path,
			 r->kind, off);
		return NULL;
	}
	free(text);
	return o;
}

int fin_json_header(const fin_json_reader *r, const cJSON *o, const char *format, int schema)
{
	const cJSON *v = fin_json_field(o, "format");

	if (!cJSON_IsString(v) || strcmp(v->valuestring, format) != 0)
		return fin_fail(r->err, FIN_EMODEL, "%s: unusable %s file: not a %s file", r->path,
				r->kind, format);
	v = fin_json_field(o, "schema_version");
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1)
		return fin_json_bad(r, "schema_version", " is missing");
	if (v->valuedouble > schema)
		return fin_fail(r->err, FIN_EMODEL,
				"%s: schema version %.0f is newer than this fin understands (%d): "
				"use a newer fin",
				r->path, v->valuedouble, schema);
	return FIN_OK;
}
