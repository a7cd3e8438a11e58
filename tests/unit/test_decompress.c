/* The decompressing byte source: plain text passed through, gzip members
 * and zstd frames read as one stream, truncated and corrupt data refused,
 * magic numbers that arrive a byte at a time. The compressed data is made
 * here by zlib's deflate and libzstd's compressor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "io/csv_reader.h"
#include "io/decompress.h"

/* Bytes built up by the helpers below. */
struct bytes {
	unsigned char *p;
	size_t n;
};

static void append(struct bytes *b, const void *s, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	assert_non_null(b->p);
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* Appends text as one gzip member. */
static void gzip_member(struct bytes *b, const char *text)
{
	unsigned char out[1 << 16];
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = sizeof out;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	append(b, out, sizeof out - z.avail_out);
	deflateEnd(&z);
}

/* Appends text as one zstd frame, with a checksum of its content. */
static void zstd_frame(struct bytes *b, const char *text)
{
	size_t cap = ZSTD_compressBound(strlen(text)), n;
	void *out = malloc(cap);
	ZSTD_CCtx *c = ZSTD_createCCtx();

	assert_non_null(out);
	assert_non_null(c);
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
	n = ZSTD_compress2(c, out, cap, text, strlen(text));
	assert_false(ZSTD_isError(n));
	append(b, out, n);
	ZSTD_freeCCtx(c);
	free(out);
}

/* Appends a skippable frame of n bytes (magic variant 7): a little-endian
 * magic number and size, then the bytes, which a reader passes over. */
static void zstd_skippable(struct bytes *b, const char *s, uint32_t n)
{
	uint32_t magic = ZSTD_MAGIC_SKIPPABLE_START + 7;
	unsigned char head[8];
	int i;

	for (i = 0; i < 4; i++) {
		head[i] = (unsigned char)(magic >> 8 * i);
		head[4 + i] = (unsigned char)(n >> 8 * i);
	}
	append(b, head, 8);
	append(b, s, n);
}

/* A descriptor that reads p[0..n) in pieces of at most piece bytes, each
 * read returning one piece, as from a slow pipe: a writer process sends
 * them as messages of a sequenced-packet socket. */
static int pieces(const unsigned char *p, size_t n, size_t piece, pid_t *writer)
{
	int sv[2];
	size_t at;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	*writer = fork();
	assert_true(*writer >= 0);
	if (*writer == 0) {
		close(sv[0]);
		for (at = 0; at < n; at += piece)
			if (write(sv[1], p + at, n - at < piece ? n - at : piece) < 0)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

/* Reads everything through fin_decompress from p[0..n), delivered in
 * pieces; returns the status, the text in *text (NUL-terminated) and the
 * message in err. */
static int read_all(const unsigned char *p, size_t n, size_t piece, struct bytes *text,
		    fin_err *err)
{
	pid_t writer;
	int fd = pieces(p, n, piece, &writer), rc, status;
	fin_decompress *d = fin_decompress_open(fd, "t.gz");
	char buf[100];
	size_t got;

	assert_non_null(d);
	memset(text, 0, sizeof *text);
	append(text, "", 0);
	while ((rc = fin_decompress_read(d, buf, sizeof buf, &got, err)) == FIN_OK && got)
		append(text, buf, got);
	text->p[text->n] = '\0';
	fin_decompress_close(d);
	close(fd);
	assert_int_equal(waitpid(writer, &status, 0), writer);
	return rc;
}

static void expect_text(const struct bytes *in, size_t piece, const char *want)
{
	struct bytes text;
	fin_err err = { 0 };

	assert_int_equal(read_all(in->p, in->n, piece, &text, &err), FIN_OK);
	assert_int_equal(text.n, strlen(want));
	assert_memory_equal(text.p, want, text.n);
	free(text.p);
}

static void expect_failure(const unsigned char *p, size_t n, size_t piece, const char *msg)
{
	struct bytes text;
	fin_err err = { 0 };

	assert_int_equal(read_all(p, n, piece, &text, &err), FIN_EDATA);
	assert_string_equal(err.msg, msg);
	free(text.p);
}

static const char CSV[] = "date,close\n2020-01-02,1.5\n2020-01-03,2\n";

static void test_plain(void **state)
{
	/* Short files too, and the start of a zstd magic number that is not
	 * a whole one. */
	static const char *const texts[] = { "", "a", "a\n", "1,2", "(\xb5/", "\x1f", CSV };
	size_t i, piece;
	(void)state;
	for (i = 0; i < sizeof texts / sizeof *texts; i++)
		for (piece = 1; piece <= 5; piece += 4) {
			struct bytes b = { 0 };
			append(&b, texts[i], strlen(texts[i]));
			expect_text(&b, piece, texts[i]);
			free(b.p);
		}
}

static void test_gzip_members(void **state)
{
	struct bytes b = { 0 };
	size_t piece;
	(void)state;
	/* as from cat a.gz b.gz c.gz, an empty member among them */
	gzip_member(&b, "date,close\n2020-01-02,1.5\n");
	gzip_member(&b, "");
	gzip_member(&b, "2020-01-03,2\n");
	for (piece = 1; piece <= 1000; piece *= 10)
		expect_text(&b, piece, CSV);
	free(b.p);
}

static void test_zstd_frames(void **state)
{
	struct bytes b = { 0 };
	size_t piece;
	(void)state;
	zstd_skippable(&b, "metadata", 8);
	zstd_frame(&b, "date,close\n2020-01-02,1.5\n");
	zstd_skippable(&b, "", 0);
	zstd_frame(&b, "2020-01-03,2\n");
	for (piece = 1; piece <= 1000; piece *= 10)
		expect_text(&b, piece, CSV);
	free(b.p);
}

/* Output far larger than the reader's buffer, from little input, the end
 * of the text filling a read exactly. */
static void test_long_output(void **state)
{
	enum { N = 300000 };
	char *text = malloc(N + 1);
	struct bytes gz = { 0 }, zst = { 0 };
	size_t i;
	(void)state;
	assert_non_null(text);
	for (i = 0; i < N; i++)
		text[i] = i % 10 == 9 ? '\n' : (char)('0' + i % 7);
	text[N] = '\0';
	gzip_member(&gz, text);
	zstd_frame(&zst, text);
	expect_text(&gz, 4096, text);
	expect_text(&zst, 4096, text);
	free(gz.p);
	free(zst.p);
	free(text);
}

/* Every proper prefix is truncated data, from the shortest that has the
 * whole magic number: never a shorter text read as if it were all. Only
 * a cut between members or frames leaves whole data, the first part. */
static void test_truncated(void **state)
{
	static const char first[] = "date,close\n2020-01-02,1.5\n", second[] = "2020-01-03,2\n";
	struct bytes gz = { 0 }, zst = { 0 }, part = { 0 };
	size_t n, gz_first, zst_first, zst_skip;
	(void)state;
	gzip_member(&gz, first);
	gz_first = gz.n;
	gzip_member(&gz, second);
	zstd_frame(&zst, first);
	zst_first = zst.n;
	zstd_skippable(&zst, "skip", 4);
	zst_skip = zst.n;
	zstd_frame(&zst, second);
	for (n = 2; n < gz.n; n++) {
		part.p = gz.p;
		part.n = n;
		if (n == gz_first)
			expect_text(&part, 1 + n % 3, first);
		else
			expect_failure(gz.p, n, 1 + n % 3, "t.gz: truncated gzip data");
	}
	for (n = 4; n < zst.n; n++) {
		part.p = zst.p;
		part.n = n;
		if (n == zst_first || n == zst_skip)
			expect_text(&part, 1 + n % 3, first);
		else
			expect_failure(zst.p, n, 1 + n % 3, "t.gz: truncated zstd data");
	}
	free(gz.p);
	free(zst.p);
}

static void test_corrupt(void **state)
{
	struct bytes gz = { 0 }, zst = { 0 };
	(void)state;
	gzip_member(&gz, CSV);
	/* the CRC-32 of the text, in the member's trailer */
	gz.p[gz.n - 8] ^= 1;
	expect_failure(gz.p, gz.n, 100, "t.gz: corrupt gzip data: incorrect data check");
	gz.p[gz.n - 8] ^= 1;
	/* a member followed by bytes that are no member */
	append(&gz, "x,y\n", 4);
	expect_failure(gz.p, gz.n, 100, "t.gz: corrupt gzip data: incorrect header check");

	zstd_frame(&zst, CSV);
	/* the checksum of the content, the frame's last 4 bytes */
	zst.p[zst.n - 1] ^= 1;
	expect_failure(zst.p, zst.n, 100, "t.gz: corrupt zstd data: Restored data doesn't match "
					  "checksum");
	zst.p[zst.n - 1] ^= 1;
	append(&zst, "x,y\n", 4);
	expect_failure(zst.p, zst.n, 100, "t.gz: corrupt zstd data: Unknown frame descriptor");
	free(gz.p);
	free(zst.p);
}

/* Through the CSV reader: the byte order mark of the text is dropped, and
 * lines are those of the text. */
static void test_csv_lines(void **state)
{
	struct bytes gz = { 0 };
	pid_t writer;
	int fd, status;
	fin_csv *r;
	fin_row *row;
	fin_err err = { 0 };
	char **names;
	size_t n;
	(void)state;
	gzip_member(&gz, "\xEF\xBB\xBF" "date,close\r\n2020-01-02,1.5\r\n\r\n");
	gzip_member(&gz, "2020-01-03,\"two\nlines\"\n2020-01-06,3\n");
	fd = pieces(gz.p, gz.n, 1, &writer);
	r = fin_csv_open(fd, "t.csv.gz", NULL);
	assert_non_null(r);
	assert_int_equal(fin_csv_header(r, &names, &n, &err), FIN_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "date");
	assert_int_equal(fin_csv_next(r, &row, &err), 1);
	assert_int_equal(row->line, 2);
	assert_int_equal(fin_csv_next(r, &row, &err), 1);
	assert_int_equal(row->line, 4);
	assert_string_equal(row->fields[1], "two\nlines");
	assert_int_equal(fin_csv_next(r, &row, &err), 1);
	assert_int_equal(row->line, 6);
	assert_string_equal(row->fields[1], "3");
	assert_int_equal(fin_csv_next(r, &row, &err), 0);
	fin_csv_close(r);
	close(fd);
	assert_int_equal(waitpid(writer, &status, 0), writer);
	free(gz.p);
}

/* A truncated file gives the rows before the cut, then the error: the
 * last row, which the end of the text would have ended, is not handed
 * out. */
static void test_csv_truncated(void **state)
{
	struct bytes gz = { 0 };
	pid_t writer;
	int fd, status;
	fin_csv *r;
	fin_row *row;
	fin_err err = { 0 };
	char **names;
	size_t n, rows = 0;
	int got;
	(void)state;
	gzip_member(&gz, "a\n1\n2\n");
	gzip_member(&gz, "3");
	/* the second member without its 8-byte trailer: its text is whole */
	fd = pieces(gz.p, gz.n - 8, 1, &writer);
	r = fin_csv_open(fd, "-", NULL);
	assert_non_null(r);
	assert_int_equal(fin_csv_header(r, &names, &n, &err), FIN_OK);
	while ((got = fin_csv_next(r, &row, &err)) > 0)
		rows++;
	assert_int_equal(got, -FIN_EDATA);
	assert_string_equal(err.msg, "<stdin>: truncated gzip data");
	assert_int_equal(rows, 2);
	fin_csv_close(r);
	close(fd);
	assert_int_equal(waitpid(writer, &status, 0), writer);
	free(gz.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_zstd_frames),
		cmocka_unit_test(test_long_output),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_csv_lines),
		cmocka_unit_test(test_csv_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
