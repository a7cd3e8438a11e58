#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int fin_fail(fin_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

/* Writes the escaped form of byte c into out (at least 5 bytes); returns
 * its length, 1 for a byte that needs no escape. */
static size_t escape_byte(char *out, unsigned char c)
{
	const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;

	if (c >= 0x20 && c != 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	if (named) {
		memcpy(out, named, 2);
		return 2;
	}
	return (size_t)snprintf(out, 5, "\\x%02x", c);
}

/* At most shown bytes of s, escaped, into dst; "..." when cut. */
static const char *escape_text(char *dst, size_t dstlen, const char *s, size_t len,
			       size_t shown)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < shown && o + 8 < dstlen; i++)
		o += escape_byte(dst + o, (unsigned char)s[i]);
	if (i < len && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

const char *fin_quote_field(char *dst, size_t dstlen, const char *s, size_t len)
{
	return escape_text(dst, dstlen, s, len, 40);
}

const char *fin_escape(char *dst, size_t dstlen, const char *s, size_t len)
{
	return escape_text(dst, dstlen, s, len, len);
}

void fin_report(const char *prog, const char *msg)
{
	char line[4 * sizeof ((fin_err *)0)->msg + 8];
	size_t o = 0;

	for (; *msg && o + 8 < sizeof line; msg++)
		o += escape_byte(line + o, (unsigned char)*msg);
	line[o] = '\0';
	fprintf(stderr, "%s: %s\n", prog, line);
}

void fin_note(const char *prog, const char *fmt, ...)
{
	char msg[sizeof ((fin_err *)0)->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fin_report(prog, msg);
}

void fin_notes_print(const char *prog, char *const *notes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fin_report(prog, notes[i]);
}

void fin_notes_flush(const char *prog, char **notes, size_t n)
{
	size_t i;

	fin_notes_print(prog, notes, n);
	for (i = 0; i < n; i++)
		free(notes[i]);
	free(notes);
}
