#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

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

const char *fin_quote_field(char *dst, size_t dstlen, const char *s, size_t len)
{
	enum { MAX_SHOWN = 40 };
	size_t o = 0, shown = 0, i;

	for (i = 0; i < len && shown < MAX_SHOWN && o + 8 < dstlen; i++, shown++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}
