#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/records.h"

/* s as a JSON string: quotes, backslashes and control characters escaped. */
static void json_string(fin_out *o, const char *s, size_t len)
{
	size_t i;

	fin_out_char(o, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fin_out_char(o, '\\');
			fin_out_char(o, (char)c);
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", c);
			fin_out_bytes(o, esc, 6);
		} else {
			fin_out_char(o, (char)c);
		}
	}
	fin_out_char(o, '"');
}

void fin_records_start(fin_records *r, fin_out *out, int json, char *const *names, size_t n)
{
	size_t j;

	r->out = out;
	r->json = json;
	r->names = names;
	r->n = n;
	r->at = 0;
	for (j = 0; !json && j < n; j++) {
		fin_out_field(out, names[j], strlen(names[j]));
		fin_out_char(out, j + 1 < n ? ',' : '\n');
	}
}

/* What comes before a field: the object's opening and the name. */
static void before(fin_records *r)
{
	if (!r->json)
		return;
	fin_out_char(r->out, r->at ? ',' : '{');
	json_string(r->out, r->names[r->at], strlen(r->names[r->at]));
	fin_out_char(r->out, ':');
}

/* And after it: a separator, or the end of the row. */
static void after(fin_records *r)
{
	if (++r->at < r->n) {
		if (!r->json)
			fin_out_char(r->out, ',');
		return;
	}
	if (r->json)
		fin_out_char(r->out, '}');
	fin_out_char(r->out, '\n');
	r->at = 0;
}

void fin_records_text(fin_records *r, const char *s, size_t len)
{
	before(r);
	if (r->json)
		json_string(r->out, s, len);
	else
		fin_out_field(r->out, s, len);
	after(r);
}

void fin_records_missing(fin_records *r)
{
	before(r);
	if (r->json)
		fin_out_bytes(r->out, "null", 4);
	after(r);
}

void fin_records_number(fin_records *r, double v)
{
	before(r);
	if (r->json && !isfinite(v))
		fin_out_bytes(r->out, "null", 4);
	else
		fin_out_double(r->out, v);
	after(r);
}

void fin_records_float(fin_records *r, float v)
{
	char num[FIN_NUM_MAX];

	before(r);
	if (r->json && !isfinite(v))
		fin_out_bytes(r->out, "null", 4);
	else
		fin_out_bytes(r->out, num, fin_format_float(num, v));
	after(r);
}
