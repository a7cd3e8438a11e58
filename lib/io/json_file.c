#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/json_file.h"
#include "io/numio.h"

enum { MAX_NAMES = 1 << 20 };

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

/* v in the fewest digits that a reader of JSON numbers, parsing a
 * double and rounding it to float, takes back as v; its length. */
static size_t json_float_text(char *buf, float v)
{
	size_t n = fin_format_float(buf, v);

	/* Rounding twice (to double, then float) could in principle land a
	 * shortest float decimal on the wrong neighbour. */
	if ((float)strtod(buf, NULL) != v)
		n = (size_t)snprintf(buf, FIN_NUM_MAX, "%.17g", (double)v);
	return n;
}

cJSON *fin_json_float(float v)
{
	char buf[FIN_NUM_MAX];

	json_float_text(buf, v);
	return cJSON_CreateRaw(buf);
}

/* The array is written as one raw text: a model's weights would be a
 * node of their own each. */
cJSON *fin_json_floats(const float *v, size_t n)
{
	size_t cap = n * (FIN_NUM_MAX + 1) + 3, len = 0, i;
	char *text;
	cJSON *a;

	if (n == 0)
		return cJSON_CreateArray();
	if (n > (SIZE_MAX - 3) / (FIN_NUM_MAX + 1) || !(text = malloc(cap)))
		return NULL;
	text[len++] = '[';
	for (i = 0; i < n; i++) {
		if (i)
			text[len++] = ',';
		len += json_float_text(text + len, v[i]);
	}
	text[len++] = ']';
	text[len] = '\0';
	a = cJSON_CreateRaw(text);
	free(text);
	return a;
}

int fin_json_save(const cJSON *o, fin_out_file *f, fin_err *err)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	fin_out *out = fin_out_file_writer(f);

	if (!text)
		return fin_fail(err, FIN_EDATA, "out of memory writing %s", fin_out_file_name(f));
	fin_out_bytes(out, text, strlen(text));
	fin_out_char(out, '\n');
	free(text);
	return FIN_OK;
}

/* ---- reading: the file is untrusted, every size is checked first ---- */

int fin_json_bad(const fin_json_reader *r, const char *what, const char *detail)
{
	return fin_fail(r->err, FIN_EMODEL, "%s: unusable %s file: %s%s", r->path, r->kind, what,
			detail);
}

static int out_of_memory(const fin_json_reader *r)
{
	return fin_fail(r->err, FIN_EMODEL, "%s: out of memory", r->path);
}

const cJSON *fin_json_field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

int fin_json_list(const fin_json_reader *r, const cJSON *a, const char *what, size_t n)
{
	char detail[64];

	if (!cJSON_IsArray(a))
		return fin_json_bad(r, what, " is missing or not a list");
	if ((size_t)cJSON_GetArraySize(a) != n) {
		snprintf(detail, sizeof detail, " holds %d values, not %zu", cJSON_GetArraySize(a), n);
		return fin_json_bad(r, what, detail);
	}
	return FIN_OK;
}

int fin_json_as_count(const cJSON *v, size_t max, size_t *out)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

	/* Below 2^64 first, so that the conversion is defined; then exact. */
	if (!(d >= 0 && d < 0x1p64 && d == floor(d) && (uint64_t)d <= max))
		return -1;
	*out = (size_t)d;
	return 0;
}

int fin_json_count(const fin_json_reader *r, const cJSON *v, const char *what, size_t max,
		   size_t *out)
{
	char detail[80];

	if (fin_json_as_count(v, max, out) == 0)
		return FIN_OK;
	snprintf(detail, sizeof detail, " is missing or not a whole number from 0 to %zu", max);
	return fin_json_bad(r, what, detail);
}

int fin_json_real(const fin_json_reader *r, const cJSON *v, const char *what, double lo,
		  double hi, double *out)
{
	char detail[80];

	if (cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi) {
		*out = v->valuedouble;
		return FIN_OK;
	}
	snprintf(detail, sizeof detail, " is missing or not a number from %g to %g", lo, hi);
	return fin_json_bad(r, what, detail);
}

int fin_json_count_or(const fin_json_reader *r, const cJSON *o, const char *key, size_t max,
		      size_t fallback, size_t *out)
{
	const cJSON *v = fin_json_field(o, key);

	*out = fallback;
	return v ? fin_json_count(r, v, key, max, out) : FIN_OK;
}

int fin_json_real_or(const fin_json_reader *r, const cJSON *o, const char *key, double lo,
		     double hi, double fallback, double *out)
{
	const cJSON *v = fin_json_field(o, key);

	*out = fallback;
	return v && !cJSON_IsNull(v) ? fin_json_real(r, v, key, lo, hi, out) : FIN_OK;
}

int fin_json_as_float(const cJSON *v, float *out)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	/* Below FLT_MAX and half its last place, a double rounds to a finite
	 * float: 3.4028235e+38, the shortest text of FLT_MAX, is above
	 * FLT_MAX itself. Those are rounded here, every other is converted. */
	if (!(fabs(d) < 0x1.ffffffp127))
		return -1;
	*out = fabs(d) <= FLT_MAX ? (float)d : d > 0 ? FLT_MAX : -FLT_MAX;
	return 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first of n strings that comes twice, or NULL; sorts a copy, so that
 * a long list costs n log n. *oom is set without memory. */
static const char *repeated(const char *const *v, size_t n, int *oom)
{
	const char **sorted;
	const char *twice = NULL;
	size_t i;

	*oom = 0;
	if (n < 2)
		return NULL;
	if (!(sorted = malloc(n * sizeof *sorted))) {
		*oom = 1;
		return NULL;
	}
	memcpy(sorted, v, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_text);
	for (i = 1; i < n && !twice; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			twice = sorted[i];
	free(sorted);
	return twice;
}

/* FIN_EMODEL naming a text of the file that comes twice, escaped and cut
 * short. */
static int twice(const fin_json_reader *r, const char *what, const char *text)
{
	char shown[200], detail[sizeof shown + 32];

	fin_quote_field(shown, sizeof shown, text, strlen(text));
	snprintf(detail, sizeof detail, " hold '%s' twice", shown);
	return fin_json_bad(r, what, detail);
}

int fin_json_names(const fin_json_reader *r, const cJSON *a, const char *what, char ***out, size_t *n)
{
	const cJSON *e;
	const char *dup;
	size_t len, i = 0;
	int oom;

	if (!cJSON_IsArray(a))
		return fin_json_bad(r, what, " is missing or not a list");
	len = (size_t)cJSON_GetArraySize(a);
	if (len > MAX_NAMES)
		return fin_json_bad(r, what, " is too long");
	*out = calloc(len ? len : 1, sizeof **out);
	if (!*out)
		return out_of_memory(r);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			return fin_json_bad(r, what, " holds something other than text");
		if (!((*out)[i++] = strdup(e->valuestring)))
			return out_of_memory(r);
		*n = i;
	}
	/* Names are matched to columns by name, each exactly once. */
	if ((dup = repeated((const char *const *)*out, len, &oom)))
		return twice(r, what, dup);
	return oom ? out_of_memory(r) : FIN_OK;
}

int fin_json_read_doubles(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			  double lo, double hi, double **out)
{
	const cJSON *e;
	char detail[80];
	size_t i = 0;
	int rc;

	if ((rc = fin_json_list(r, a, what, n)) != FIN_OK)
		return rc;
	*out = malloc((n ? n : 1) * sizeof **out);
	if (!*out)
		return out_of_memory(r);
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e) || !(e->valuedouble >= lo && e->valuedouble <= hi)) {
			snprintf(detail, sizeof detail,
				 " holds a value that is not a number from %g to %g", lo, hi);
			return fin_json_bad(r, what, detail);
		}
		(*out)[i++] = e->valuedouble;
	}
	return FIN_OK;
}

int fin_json_read_floats(const fin_json_reader *r, const cJSON *a, const char *what, size_t n,
			 float *out)
{
	const cJSON *e;
	size_t i = 0;
	int rc;

	if ((rc = fin_json_list(r, a, what, n)) != FIN_OK)
		return rc;
	cJSON_ArrayForEach(e, a)
		if (fin_json_as_float(e, &out[i++]) != 0)
			return fin_json_bad(r, what, " hold a value that is not a finite float");
	return FIN_OK;
}

/* ---- the file ---- */

/* What fin_json_load knows of the text read so far: a lexer of JSON that
 * only tells strings apart from the rest, enough to hold the limits before
 * the text is parsed. */
struct scan {
	enum { OUTSIDE, IN_STRING, ESCAPE, UNICODE } state;
	size_t at;         /* bytes scanned */
	size_t string_len; /* bytes of the open string so far */
	unsigned code, digits; /* of a \uXXXX escape */
	size_t depth, values;
};

/* Scans n more bytes of text; NULL, or why the file is refused (s->at is
 * then the offset of the byte at fault). */
static const char *scan(struct scan *s, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + n;

	for (; p < end; p++, s->at++) {
		unsigned c = *p;
		switch (s->state) {
		case OUTSIDE:
			if (c == '"') {
				s->state = IN_STRING;
				s->string_len = 0;
			} else if (c == '[' || c == '{') {
				if (++s->depth > FIN_JSON_MAX_DEPTH)
					return "nested more than 32 deep";
			} else if (c == ']' || c == '}') {
				s->depth -= s->depth > 0;
			} else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
				return "not JSON: a control character";
			}
			/* A value after each comma and each opening bracket: with
			 * the first, at least as many as the parser makes. */
			if ((c == ',' || c == '[' || c == '{') && ++s->values >= FIN_JSON_MAX_VALUES)
				return "more than 2^26 values";
			continue;
		case IN_STRING:
			if (c == '"') {
				s->state = OUTSIDE;
				continue;
			}
			if (c == '\\')
				s->state = ESCAPE;
			else if (c < 0x20)
				return "not JSON: a control character inside a string";
			break;
		case ESCAPE:
			s->state = c == 'u' ? UNICODE : IN_STRING;
			s->code = s->digits = 0;
			break;
		case UNICODE:
			if (!isxdigit(c)) {
				s->state = IN_STRING; /* the parser refuses it */
				break;
			}
			s->code = s->code << 4 | (unsigned)(isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
			if (++s->digits == 4) {
				/* \u0000 would end the text where the parser puts it. */
				if (s->code == 0)
					return "a string holds \\u0000";
				s->state = IN_STRING;
			}
			break;
		}
		if (++s->string_len > FIN_JSON_MAX_STRING)
			return "a string longer than 65536 bytes";
	}
	return NULL;
}

/* The whole file in a new buffer, NUL-terminated, its length in *len: read
 * a piece at a time, each piece scanned before the next is read, so that a
 * hostile file costs no more than the part of it read before its fault. */
static char *read_scanned(const fin_json_reader *r, int fd, size_t *len)
{
	enum { PIECE = 1 << 16 };
	struct scan s = { 0 };
	char *text = NULL, detail[96];
	size_t cap = 0;
	const char *why;

	*len = 0;
	for (;;) {
		ssize_t got;
		if (cap - *len < PIECE + 1) {
			char *grown = realloc(text, cap = cap ? 2 * cap : 4 * PIECE);
			if (!grown)
				break;
			text = grown;
		}
		got = read(fd, text + *len, PIECE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fin_fail(r->err, FIN_EMODEL, "%s: cannot read: %s", r->path, strerror(errno));
			free(text);
			return NULL;
		}
		if (got == 0) {
			text[*len] = '\0';
			return text;
		}
		if ((why = scan(&s, text + *len, (size_t)got))) {
			snprintf(detail, sizeof detail, " (near byte %zu)", s.at);
			fin_json_bad(r, why, detail);
			free(text);
			return NULL;
		}
		*len += (size_t)got;
		if (*len > FIN_JSON_MAX_BYTES)
			break;
	}
	free(text);
	if (*len > FIN_JSON_MAX_BYTES)
		fin_json_bad(r, "larger than 1 GiB", "");
	else
		out_of_memory(r);
	return NULL;
}

/* Refuses an object anywhere in o that holds a key twice. The scan bounds
 * the depth of the recursion. */
static int unique_keys(const fin_json_reader *r, const cJSON *o)
{
	const cJSON *e;
	int rc;

	if (cJSON_IsObject(o) && o->child && o->child->next) {
		size_t n = (size_t)cJSON_GetArraySize(o), i = 0;
		const char **keys = malloc(n * sizeof *keys), *dup;
		int oom;

		if (!keys)
			return out_of_memory(r);
		cJSON_ArrayForEach(e, o)
			keys[i++] = e->string;
		dup = repeated(keys, n, &oom);
		rc = dup ? twice(r, "an object's keys", dup) : oom ? out_of_memory(r) : FIN_OK;
		free(keys);
		if (rc != FIN_OK)
			return rc;
	}
	cJSON_ArrayForEach(e, o)
		if ((rc = unique_keys(r, e)) != FIN_OK)
			return rc;
	return FIN_OK;
}

cJSON *fin_json_load(const fin_json_reader *r)
{
	struct stat st;
	char *text, detail[64];
	const char *end = NULL;
	cJSON *o;
	size_t len;
	int fd, flags;

	/* Without O_NONBLOCK, opening a FIFO waits for a writer, forever,
	 * before fstat can tell that it is not a file. */
	fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fin_fail(r->err, FIN_EMODEL, "%s: %s", r->path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		fin_json_bad(r, "not a regular file", "");
		return NULL;
	}
	if ((size_t)st.st_size > FIN_JSON_MAX_BYTES) {
		close(fd);
		fin_json_bad(r, "larger than 1 GiB", "");
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		fin_fail(r->err, FIN_EMODEL, "%s: %s", r->path, strerror(errno));
		close(fd);
		return NULL;
	}
	text = read_scanned(r, fd, &len);
	close(fd);
	if (!text)
		return NULL;
	o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!o) {
		const char *at = cJSON_GetErrorPtr();
		snprintf(detail, sizeof detail, " (near byte %td)",
			 at && at >= text && at <= text + len ? at - text : (ptrdiff_t)0);
		free(text);
		fin_json_bad(r, "not JSON", detail);
		return NULL;
	}
	/* Blanks may follow the value, nothing else (the scan refused every
	 * other control character). */
	end += strspn(end, " \t\n\r");
	if (end != text + len) {
		snprintf(detail, sizeof detail, " (at byte %td)", end - text);
		free(text);
		cJSON_Delete(o);
		fin_json_bad(r, "text after the JSON value", detail);
		return NULL;
	}
	free(text);
	if (unique_keys(r, o) != FIN_OK) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fin_json_header(const fin_json_reader *r, const cJSON *o, const char *format, int schema)
{
	const cJSON *v = fin_json_field(o, "format");
	size_t version = 0;
	int rc;

	if (!cJSON_IsString(v) || strcmp(v->valuestring, format) != 0)
		return fin_fail(r->err, FIN_EMODEL, "%s: unusable %s file: not a %s file", r->path,
				r->kind, format);
	if ((rc = fin_json_count(r, fin_json_field(o, "schema_version"), "schema_version",
				 (size_t)1 << 53, &version)) != FIN_OK)
		return rc;
	if (version < 1)
		return fin_json_bad(r, "schema_version", " is 0");
	if (version > (size_t)schema)
		return fin_fail(r->err, FIN_EMODEL,
				"%s: schema version %zu is newer than this fin understands (%d): "
				"use a newer fin",
				r->path, version, schema);
	return FIN_OK;
}
