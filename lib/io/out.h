/* Buffered CSV output on a file descriptor. A reader that went away
 * (a closed pipe, as with `| head`) ends the process quietly by SIGPIPE,
 * as it does for other filters. */
#ifndef FIN_OUT_H
#define FIN_OUT_H

#include <stddef.h>
#include <string.h>

#include "core/err.h"
#include "io/numio.h"

enum { FIN_OUT_BUF = 1 << 16 };

typedef struct fin_out {
	int fd;
	int failed; /* errno of the first failed write, or 0 */
	size_t len;
	char buf[FIN_OUT_BUF];
} fin_out;

void fin_out_init(fin_out *o, int fd);
/* Writes out the buffer; remembers a write error for fin_out_finish. */
void fin_out_drain(fin_out *o);
/* Flushes; returns FIN_OK or FIN_EDATA with the write error in err. */
int fin_out_finish(fin_out *o, const char *name, fin_err *err);

static inline void fin_out_bytes(fin_out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof o->buf) {
		fin_out_drain(o);
		if (n > sizeof o->buf) {
			size_t done = 0;
			while (done < n) {
				size_t k = n - done < sizeof o->buf ? n - done : sizeof o->buf;
				memcpy(o->buf, s + done, k);
				o->len = k;
				fin_out_drain(o);
				done += k;
			}
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void fin_out_char(fin_out *o, char c)
{
	if (o->len == sizeof o->buf)
		fin_out_drain(o);
	o->buf[o->len++] = c;
}

static inline void fin_out_double(fin_out *o, double v)
{
	if (o->len + FIN_NUM_MAX > sizeof o->buf)
		fin_out_drain(o);
	o->len += fin_format_double(o->buf + o->len, v);
}

static inline void fin_out_float(fin_out *o, float v)
{
	if (o->len + FIN_NUM_MAX > sizeof o->buf)
		fin_out_drain(o);
	o->len += fin_format_float(o->buf + o->len, v);
}

/* Writes a field, quoted as RFC 4180 asks when it holds a comma, a quote
 * or a line break. */
void fin_out_field(fin_out *o, const char *s, size_t n);

/* Writes n fields stored one after another, each NUL-ended, each as a
 * field followed by a comma (the pass-through columns before results). */
void fin_out_fields(fin_out *o, const char *text, size_t n);

#endif
