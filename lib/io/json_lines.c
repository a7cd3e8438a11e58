#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/decompress.h"
#include "io/json_lines.h"

struct fin_json_lines {
	int fd;
	const char *name;
	fin_decompress *src;
	char *buf;          /* [FIN_JSON_LINE_MAX + 1]: the text not yet taken */
	size_t start, len;  /* of that text in buf */
	int eof;
	long line;
};

fin_json_lines *fin_json_lines_open(const char *path, fin_err *err)
{
	fin_json_lines *r = calloc(1, sizeof *r);
	int std = strcmp(path, "-") == 0;

	if (!r || !(r->buf = malloc(FIN_JSON_LINE_MAX + 1))) {
		free(r);
		fin_fail(err, FIN_EUSAGE, "out of memory");
		return NULL;
	}
	r->name = std ? "<stdin>" : path;
	r->fd = std ? STDIN_FILENO : open(path, O_RDONLY);
	if (r->fd < 0) {
		fin_fail(err, FIN_EUSAGE, "%s: %s", path, strerror(errno));
		fin_json_lines_close(r);
		return NULL;
	}
	if (!(r->src = fin_decompress_open(r->fd, r->name))) {
		fin_fail(err, FIN_EUSAGE, "out of memory");
		fin_json_lines_close(r);
		return NULL;
	}
	return r;
}

void fin_json_lines_close(fin_json_lines *r)
{
	if (!r)
		return;
	fin_decompress_close(r->src);
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	free(r->buf);
	free(r);
}

const char *fin_json_lines_name(const fin_json_lines *r)
{
	return r->name;
}

long fin_json_lines_line(const fin_json_lines *r)
{
	return r->line;
}

int fin_json_lines_is_tty(const fin_json_lines *r)
{
	return r->fd == STDIN_FILENO && isatty(STDIN_FILENO);
}

/* The next line, without its line break, NUL-ended in place: 1, 0 at the
 * end of the input, or an error negated. */
static int next_line(fin_json_lines *r, char **line, size_t *len, fin_err *err)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->len);
		size_t got;
		int rc;

		if (nl || (r->eof && r->len)) {
			size_t n = nl ? (size_t)(nl - (r->buf + r->start)) : r->len;
			*line = r->buf + r->start;
			*len = n;
			(*line)[n] = '\0';
			r->start += nl ? n + 1 : n;
			r->len -= nl ? n + 1 : n;
			r->line++;
			return 1;
		}
		if (r->eof)
			return 0;
		if (r->len >= FIN_JSON_LINE_MAX)
			return -fin_fail(err, FIN_EDATA, "%s:%ld: a line longer than %zu bytes", r->name,
					 r->line + 1, FIN_JSON_LINE_MAX);
		memmove(r->buf, r->buf + r->start, r->len);
		r->start = 0;
		if ((rc = fin_decompress_read(r->src, r->buf + r->len, FIN_JSON_LINE_MAX - r->len,
					      &got, err)) != FIN_OK)
			return -rc;
		r->len += got;
		r->eof = got == 0;
	}
}

static int blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int fin_json_lines_next(fin_json_lines *r, cJSON **value, fin_err *err)
{
	char *line = NULL;
	size_t len = 0;
	int got;

	*value = NULL;
	while ((got = next_line(r, &line, &len, err)) > 0) {
		const char *end = NULL;
		if (blank(line, len))
			continue;
		*value = cJSON_ParseWithLengthOpts(line, len, &end, 0);
		if (!*value || !blank(end, (size_t)(line + len - end))) {
			cJSON_Delete(*value);
			*value = NULL;
			return -fin_fail(err, FIN_EDATA, "%s:%ld: not one JSON value", r->name,
					 r->line);
		}
		return 1;
	}
	return got;
}
