#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "io/out.h"
#include "io/out_file.h"

void fin_out_init(fin_out *o, int fd)
{
	o->fd = fd;
	o->failed = 0;
	o->len = 0;
}

void fin_out_drain(fin_out *o)
{
	size_t done = 0;

	while (done < o->len && !o->failed) {
		ssize_t w = write(o->fd, o->buf + done, o->len - done);
		if (w >= 0) {
			done += (size_t)w;
		} else if (errno == EPIPE) {
			/* SIGPIPE was ignored by whoever started us: end as if it
			 * had not been, temporary files removed. */
			fin_out_file_on_signal(SIGPIPE);
			o->failed = EPIPE;
		} else if (errno != EINTR) {
			o->failed = errno;
		}
	}
	o->len = 0;
}

int fin_out_finish(fin_out *o, const char *name, fin_err *err)
{
	fin_out_drain(o);
	if (o->failed)
		return fin_fail(err, FIN_EDATA, "%s: write error: %s", name, strerror(o->failed));
	return FIN_OK;
}

void fin_out_field(fin_out *o, const char *s, size_t n)
{
	size_t i;

	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
		fin_out_bytes(o, s, n);
		return;
	}
	fin_out_char(o, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			fin_out_char(o, '"');
		fin_out_char(o, s[i]);
	}
	fin_out_char(o, '"');
}

void fin_out_fields(fin_out *o, const char *text, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++) {
		size_t len = strlen(text);
		fin_out_field(o, text, len);
		fin_out_char(o, ',');
		text += len + 1;
	}
}
