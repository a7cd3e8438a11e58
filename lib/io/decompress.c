#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "io/decompress.h"

enum { IN_SIZE = 1 << 16, MAGIC_SIZE = 4 };

enum kind { UNKNOWN, PLAIN, GZIP, ZSTD };

struct fin_decompress {
	int fd;
	const char *name;
	enum kind kind;
	unsigned char *in; /* compressed bytes read, or for plain text the
			    * first bytes, looked at for a magic number */
	size_t in_len, in_pos;
	int eof;

	z_stream z;
	int in_member;     /* gzip: bytes of a member read, its end not yet */

	ZSTD_DCtx *zs;
	ZSTD_inBuffer zin;
	size_t zs_left;    /* zstd: 0 when the last frame is complete */
	int zs_full;       /* zstd: the output filled up in a frame: more may be
			    * held back */
};

fin_decompress *fin_decompress_open(int fd, const char *name)
{
	fin_decompress *d = calloc(1, sizeof *d);

	if (!d || !(d->in = malloc(IN_SIZE))) {
		free(d);
		return NULL;
	}
	d->fd = fd;
	d->name = name;
	return d;
}

void fin_decompress_close(fin_decompress *d)
{
	if (!d)
		return;
	if (d->kind == GZIP)
		inflateEnd(&d->z);
	ZSTD_freeDCtx(d->zs);
	free(d->in);
	free(d);
}

/* read(2) into buf, retried when interrupted; *got is 0 at the end. */
static int read_fd(fin_decompress *d, void *buf, size_t cap, size_t *got, fin_err *err)
{
	ssize_t n;

	do
		n = read(d->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	*got = n > 0 ? (size_t)n : 0;
	if (n < 0)
		return fin_fail(err, FIN_EDATA, "%s: %s", d->name, strerror(errno));
	d->eof = n == 0;
	return FIN_OK;
}

/* Refills the buffer of compressed bytes; in_len is 0 at the end. */
static int refill(fin_decompress *d, fin_err *err)
{
	d->in_pos = 0;
	return read_fd(d, d->in, IN_SIZE, &d->in_len, err);
}

static int truncated(const fin_decompress *d, fin_err *err)
{
	return fin_fail(err, FIN_EDATA, "%s: truncated %s data", d->name,
			d->kind == GZIP ? "gzip" : "zstd");
}

/* Reads the first bytes (a pipe may deliver them one at a time) and sets
 * up what their magic number asks for. A file shorter than a magic number
 * is plain text, unless it is the start of gzip data. */
static int detect(fin_decompress *d, fin_err *err)
{
	uint32_t magic;
	size_t got;
	int rc;

	while (d->in_len < MAGIC_SIZE && !d->eof) {
		if ((rc = read_fd(d, d->in + d->in_len, IN_SIZE - d->in_len, &got, err)) != FIN_OK)
			return rc;
		d->in_len += got;
	}
	d->kind = PLAIN;
	if (d->in_len >= 2 && d->in[0] == 0x1f && d->in[1] == 0x8b) {
		/* 16 + 15: gzip wrapping and the largest window. */
		if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
			return fin_fail(err, FIN_EDATA, "%s: out of memory", d->name);
		d->kind = GZIP;
		d->z.next_in = d->in;
		d->z.avail_in = (uInt)d->in_len;
		d->in_member = 1;
		return FIN_OK;
	}
	if (d->in_len < MAGIC_SIZE)
		return FIN_OK;
	magic = (uint32_t)d->in[0] | (uint32_t)d->in[1] << 8 | (uint32_t)d->in[2] << 16 |
		(uint32_t)d->in[3] << 24;
	if (magic == ZSTD_MAGICNUMBER ||
	    (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START) {
		if (!(d->zs = ZSTD_createDCtx()))
			return fin_fail(err, FIN_EDATA, "%s: out of memory", d->name);
		d->kind = ZSTD;
		d->zin.src = d->in;
		d->zin.size = d->in_len;
		d->zin.pos = 0;
		d->zs_left = 1;
	}
	return FIN_OK;
}

static int read_plain(fin_decompress *d, char *buf, size_t cap, size_t *got, fin_err *err)
{
	if (d->in_pos < d->in_len) {
		*got = d->in_len - d->in_pos < cap ? d->in_len - d->in_pos : cap;
		memcpy(buf, d->in + d->in_pos, *got);
		d->in_pos += *got;
		return FIN_OK;
	}
	*got = 0;
	return d->eof ? FIN_OK : read_fd(d, buf, cap, got, err);
}

static int read_gzip(fin_decompress *d, char *buf, size_t cap, size_t *got, fin_err *err)
{
	uInt room = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
	int rc, zr;

	d->z.next_out = (Bytef *)buf;
	d->z.avail_out = room;
	while (d->z.avail_out == room) {
		if (d->z.avail_in == 0) {
			if ((rc = refill(d, err)) != FIN_OK)
				return rc;
			if (d->in_len == 0) {
				if (d->in_member)
					return truncated(d, err);
				break;
			}
			d->z.next_in = d->in;
			d->z.avail_in = (uInt)d->in_len;
		}
		d->in_member = 1;
		zr = inflate(&d->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Another member may follow, as from `cat a.gz b.gz`. */
			d->in_member = 0;
			inflateReset(&d->z);
		} else if (zr == Z_MEM_ERROR) {
			return fin_fail(err, FIN_EDATA, "%s: out of memory", d->name);
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return fin_fail(err, FIN_EDATA, "%s: corrupt gzip data: %s", d->name,
					d->z.msg ? d->z.msg : zError(zr));
		}
	}
	*got = room - d->z.avail_out;
	return FIN_OK;
}

static int read_zstd(fin_decompress *d, char *buf, size_t cap, size_t *got, fin_err *err)
{
	ZSTD_outBuffer out = { buf, cap, 0 };
	size_t left;
	int rc;

	while (out.pos == 0) {
		if (d->zin.pos == d->zin.size && !d->zs_full) {
			if ((rc = refill(d, err)) != FIN_OK)
				return rc;
			if (d->in_len == 0) {
				if (d->zs_left)
					return truncated(d, err);
				break;
			}
			d->zin.size = d->in_len;
			d->zin.pos = 0;
		}
		/* Moves on to the next frame by itself. */
		left = ZSTD_decompressStream(d->zs, &out, &d->zin);
		if (ZSTD_isError(left))
			return fin_fail(err, FIN_EDATA, "%s: corrupt zstd data: %s", d->name,
					ZSTD_getErrorName(left));
		d->zs_left = left;
		/* A frame decoded and flushed holds nothing back; another call
		 * without input would start on the next frame. */
		d->zs_full = out.pos == out.size && left != 0;
	}
	*got = out.pos;
	return FIN_OK;
}

int fin_decompress_read(fin_decompress *d, char *buf, size_t cap, size_t *got, fin_err *err)
{
	int rc;

	*got = 0;
	if (d->kind == UNKNOWN && (rc = detect(d, err)) != FIN_OK)
		return rc;
	switch (d->kind) {
	case GZIP:
		return read_gzip(d, buf, cap, got, err);
	case ZSTD:
		return read_zstd(d, buf, cap, got, err);
	default:
		return read_plain(d, buf, cap, got, err);
	}
}
