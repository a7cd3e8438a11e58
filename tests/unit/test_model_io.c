/* Model files: float32 weights read back bit for bit, predictions too (and
 * a GAN's samples), and unusable files are refused: what is not a file,
 * what breaks a limit of the reader, malformed JSON, numbers that do not
 * fit, extreme scalers, repeated names and sizes beyond reason; messages
 * quote the file's text escaped and short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/json_file.h"
#include "nn/model.h"

static char *const feat[] = { "a_2", "a_1", "a_0", "b_2", "b_1", "b_0" };

/* Saves m to path as the tools do, through an output file made final. */
static int save(const fin_model *m, const char *path, fin_err *err)
{
	fin_out_file *f = fin_out_file_open(path, NULL, NULL, 0, err);
	int rc = f ? fin_model_save(m, f, err) : err->code;

	if (rc == FIN_OK)
		return fin_out_file_commit(f, err);
	fin_out_file_discard(f);
	return rc;
}

/* The bytes of the file at path, NUL-ended; *len their count. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	text = malloc(*len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, *len, f), *len);
	text[*len] = '\0';
	fclose(f);
	return text;
}

/* A regression model on 2 channels of 3 steps, with awkward weights. */
static void make_model(fin_model *m)
{
	fin_err err = { 0 };
	size_t i;
	uint32_t x = 2463534242u;

	memset(m, 0, sizeof *m);
	assert_int_equal(fin_net_build(&m->net, "conv1d(4,2,tanh) flatten dense(3,relu) dense(1)", 2,
				       3, &err),
			 FIN_OK);
	fin_net_init(&m->net, 7);
	/* Extremes of float32 among ordinary values. */
	m->net.params[0] = FLT_MIN / 8; /* subnormal */
	m->net.params[1] = FLT_MAX;
	m->net.params[2] = -0.0f;
	m->net.params[3] = 1.0f / 3.0f;
	for (i = 4; i < 12; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		m->net.params[i] = (float)((int32_t)x) * 1e-9f;
	}
	m->task = FIN_TASK_REGRESSION;
	m->loss = FIN_LOSS_MSE;
	m->nfeat = 6;
	m->feat = calloc(6, sizeof *m->feat);
	m->mean = calloc(6, sizeof *m->mean);
	m->sd = calloc(6, sizeof *m->sd);
	for (i = 0; i < 6; i++) {
		m->feat[i] = strdup(feat[i]);
		m->mean[i] = 0.1 * (double)i;
		m->sd[i] = 1 + 0.01 * (double)i;
	}
	m->target = strdup("y");
	m->keys = calloc(1, sizeof *m->keys);
	m->y_mean = 0.5;
	m->y_sd = 2;
	m->facts.val_loss = NAN;
}

/* A GAN on samples of 1 channel of 6 steps, from 3 latent values. */
static void make_gan(fin_model *m)
{
	fin_err err = { 0 };
	size_t i;

	memset(m, 0, sizeof *m);
	assert_int_equal(fin_gan_build(&m->gan, "dense(5,tanh) dense(6)", "dense(4,leaky_relu) dense(1)",
				       3, 1, 6, 11, &err),
			 FIN_OK);
	m->gan.g.params[0] = FLT_MIN / 8;
	m->gan.d.params[1] = -0.0f;
	m->task = FIN_TASK_GAN;
	m->loss = FIN_LOSS_BCE;
	m->nfeat = 6;
	m->feat = calloc(6, sizeof *m->feat);
	m->mean = calloc(6, sizeof *m->mean);
	m->sd = calloc(6, sizeof *m->sd);
	for (i = 0; i < 6; i++) {
		char name[8];
		snprintf(name, sizeof name, "r_%zu", 5 - i);
		m->feat[i] = strdup(name);
		m->mean[i] = 1e-4 * (double)i;
		m->sd[i] = 0.01 + 1e-3 * (double)i;
	}
	m->keys = calloc(1, sizeof *m->keys);
	m->facts.train_loss = m->facts.val_loss = NAN;
	m->facts.loss_g = 0.75;
	m->facts.loss_d = 1.25;
	m->facts.d_steps = 2;
}

/* n samples in standardised units, from latent draws seeded with 3. */
static void sample(fin_model *m, size_t n, float *out)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	fin_err err = { 0 };

	gsl_rng_set(rng, 3);
	assert_int_equal(fin_gan_sample(&m->gan, n, rng, out, &err), FIN_OK);
	gsl_rng_free(rng);
}

static void test_gan_round_trip(void **state)
{
	char path[] = "/tmp/fin-model-XXXXXX";
	fin_model a, b;
	fin_err err = { 0 };
	float sa[5 * 6], sb[5 * 6], x[2 * 6] = { 0 };
	double raw[6];
	float pa[2];
	size_t i;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	make_gan(&a);
	assert_int_equal(save(&a, path, &err), FIN_OK);
	assert_int_equal(fin_model_load(&b, path, &err), FIN_OK);
	assert_int_equal(b.task, FIN_TASK_GAN);
	assert_int_equal(b.gan.latent, 3);
	assert_int_equal(b.gan.sample, 6);
	assert_int_equal(b.net.nparams, 0);
	assert_int_equal(b.gan.g.nparams, a.gan.g.nparams);
	assert_int_equal(b.gan.d.nparams, a.gan.d.nparams);
	assert_memory_equal(a.gan.g.params, b.gan.g.params, a.gan.g.nparams * sizeof(float));
	assert_memory_equal(a.gan.d.params, b.gan.d.params, a.gan.d.nparams * sizeof(float));
	assert_true(b.facts.loss_g == 0.75 && b.facts.loss_d == 1.25 && b.facts.d_steps == 2);
	sample(&a, 5, sa);
	sample(&b, 5, sb);
	assert_memory_equal(sa, sb, sizeof sa);
	x[7] = 1.5f;
	assert_int_equal(fin_net_reserve(&a.gan.d, 2), 0);
	assert_int_equal(fin_net_reserve(&b.gan.d, 2), 0);
	memcpy(pa, fin_net_forward(&a.gan.d, x, 2, 0), sizeof pa);
	assert_memory_equal(pa, fin_net_forward(&b.gan.d, x, 2, 0), sizeof pa);
	/* Back in the data's units: z sd + mean. */
	fin_model_unscale(&b, sa, 1, raw);
	for (i = 0; i < 6; i++)
		assert_true(raw[i] == (double)sa[i] * (0.01 + 1e-3 * (double)i) + 1e-4 * (double)i);
	fin_model_free(&a);
	fin_model_free(&b);
	unlink(path);
}

static void test_round_trip_bit_exact(void **state)
{
	char path[] = "/tmp/fin-model-XXXXXX";
	fin_model a, b;
	fin_err err = { 0 };
	float x[4 * 6];
	const float *ya, *yb;
	float keep[4];
	size_t i;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	make_model(&a);
	assert_int_equal(save(&a, path, &err), FIN_OK);
	assert_int_equal(fin_model_load(&b, path, &err), FIN_OK);
	assert_int_equal(b.net.nparams, a.net.nparams);
	assert_memory_equal(a.net.params, b.net.params, a.net.nparams * sizeof *a.net.params);
	for (i = 0; i < 6; i++) {
		assert_string_equal(a.feat[i], b.feat[i]);
		assert_true(a.mean[i] == b.mean[i] && a.sd[i] == b.sd[i]);
	}
	assert_true(b.y_mean == 0.5 && b.y_sd == 2);
	for (i = 0; i < 24; i++)
		x[i] = (float)sin((double)i);
	/* the huge weight would dominate: predictions compare bits anyway */
	assert_int_equal(fin_net_reserve(&a.net, 4), 0);
	assert_int_equal(fin_net_reserve(&b.net, 4), 0);
	ya = fin_net_forward(&a.net, x, 4, 0);
	memcpy(keep, ya, sizeof keep);
	yb = fin_net_forward(&b.net, x, 4, 0);
	assert_memory_equal(keep, yb, sizeof keep);
	/* written again, the model read back gives the same bytes */
	{
		char again[] = "/tmp/fin-model-XXXXXX";
		char *first, *second;
		size_t n1, n2;
		fd = mkstemp(again);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(save(&b, again, &err), FIN_OK);
		first = slurp(path, &n1);
		second = slurp(again, &n2);
		assert_int_equal(n1, n2);
		assert_memory_equal(first, second, n1);
		free(first);
		free(second);
		unlink(again);
	}
	fin_model_free(&a);
	fin_model_free(&b);
	unlink(path);
}

/* Expects the file at path to be refused with message part, in one short
 * line with no control character. */
static void expect_path_refused(const char *path, const char *part)
{
	fin_model m;
	fin_err err = { 0 };
	size_t i;

	assert_int_equal(fin_model_load(&m, path, &err), FIN_EMODEL);
	/* An empty text is in every message: it would check nothing. */
	assert_true(part[0] != '\0');
	if (!strstr(err.msg, part)) {
		print_error("message '%s' lacks '%s'\n", err.msg, part);
		fail();
	}
	assert_true(strlen(err.msg) < 400);
	for (i = 0; err.msg[i]; i++)
		assert_true((unsigned char)err.msg[i] >= 0x20);
}

/* Writes len bytes of text to a file and expects it to be refused with
 * message part. */
static void expect_bytes_refused(const char *text, size_t len, const char *part)
{
	char path[] = "/tmp/fin-model-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	expect_path_refused(path, part);
	unlink(path);
}

static void expect_refused(const char *text, const char *part)
{
	expect_bytes_refused(text, strlen(text), part);
}

/* Writes text to a file and expects it to load. */
static void expect_loaded(const char *text)
{
	char path[] = "/tmp/fin-model-XXXXXX";
	int fd = mkstemp(path);
	fin_model m;
	fin_err err = { 0 };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (fin_model_load(&m, path, &err) != FIN_OK) {
		print_error("refused: %s\n", err.msg);
		fail();
	}
	fin_model_free(&m);
	unlink(path);
}

/* The saved text of the test model with one substitution made. */
static char *saved_of(void (*make)(fin_model *), const char *from, const char *to)
{
	char path[] = "/tmp/fin-model-XXXXXX", *text, *at, *out;
	fin_model m;
	fin_err err = { 0 };
	FILE *f;
	long len;
	int fd = mkstemp(path);

	close(fd);
	make(&m);
	assert_int_equal(save(&m, path, &err), FIN_OK);
	fin_model_free(&m);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc((size_t)len + 1, 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	at = strstr(text, from);
	assert_non_null(at);
	out = calloc((size_t)len + strlen(to) + 1, 1);
	memcpy(out, text, (size_t)(at - text));
	strcat(out, to);
	strcat(out, at + strlen(from));
	free(text);
	return out;
}

/* A saved model with one substitution made is refused, saying why. */
static void refused_after(void (*make)(fin_model *), const char *from, const char *to,
			  const char *why)
{
	char *text = saved_of(make, from, to);

	expect_refused(text, why);
	free(text);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("", "not JSON");
	expect_refused("{\"format\":\"fin-model\"", "not JSON");
	expect_refused("[1,2]", "not a fin-model file");
	refused_after(make_model, "\"schema_version\":1", "\"schema_version\":2", "newer");
	refused_after(make_model, "\"format\":\"fin-model\"", "\"format\":\"other\"",
		      "not a fin-model file");
	refused_after(make_model, "\"input_shape\":[2,3]", "\"input_shape\":[3,2]", "arch");
	refused_after(make_model, "\"input_shape\":[2,3]", "\"input_shape\":[2,4]",
		      "features do not match input_shape");
	refused_after(make_model, "\"weights\":[", "\"weights\":[1e999,", "weights");
	refused_after(make_model, "\"weights\":[", "\"weights\":[0.5,", "weights");
	refused_after(make_model, "\"weights\":[", "\"weightz\":[", "weights");
	refused_after(make_model, "\"sd\":[", "\"sd\":[0,", "scaler");
	refused_after(make_model, "\"task\":\"regression\"", "\"task\":\"guessing\"", "task");
	refused_after(make_model, "\"arch\":\"conv1d(4,2,tanh,valid)",
		      "\"arch\":\"conv1d(4,9,tanh,valid)", "arch");
	/* A GAN's generator is checked as closely as its discriminator. */
	refused_after(make_gan, "\"latent\":3", "\"latent\":0", "latent");
	refused_after(make_gan, "\"latent\":3", "\"latentt\":3", "latent");
	refused_after(make_gan, "dense(6,linear)", "dense(7,linear)", "generator");
	refused_after(make_gan, "\"generator\":{\"arch\"", "\"generator\":{\"arc\"", "generator");
	refused_after(make_gan, "dense(6,linear)\",\"weights\":[", "dense(6,linear)\",\"weights\":[0.5,",
		      "generator weights");
	refused_after(make_gan, "\"arch\":\"dense(4,leaky_relu) dense(1,linear)\"",
		      "\"arch\":\"dense(4,leaky_relu) dense(2,linear)\"", "discriminator");
}


/* The saved test model with one substitution made loads. */
static void loaded_after(void (*make)(fin_model *), const char *from, const char *to)
{
	char *text = saved_of(make, from, to);

	expect_loaded(text);
	free(text);
}

/* The saved test model with one substitution made loads, and once saved
 * again loads again. */
static void resaved_after(void (*make)(fin_model *), const char *from, const char *to)
{
	char *text = saved_of(make, from, to), path[] = "/tmp/fin-model-XXXXXX";
	int fd = mkstemp(path);
	fin_model m;
	fin_err err = { 0 };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(fin_model_load(&m, path, &err), FIN_OK);
	assert_int_equal(save(&m, path, &err), FIN_OK);
	fin_model_free(&m);
	if (fin_model_load(&m, path, &err) != FIN_OK) {
		print_error("saved again, refused: %s\n", err.msg);
		fail();
	}
	fin_model_free(&m);
	unlink(path);
	free(text);
}

/* n copies of byte c, NUL-terminated. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A FIFO with no writer would block open() forever; a directory is no
 * file either. */
static void test_not_a_file(void **state)
{
	char dir[] = "/tmp/fin-model-XXXXXX", fifo[sizeof dir + 8];
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	expect_path_refused(fifo, "not a regular file");
	alarm(0);
	expect_path_refused(dir, "not a regular file");
	unlink(fifo);
	rmdir(dir);
}

/* The reader's limits hold before anything is parsed; the message never
 * quotes what broke them. */
static void test_reader_limits(void **state)
{
	char *name = repeat('n', FIN_JSON_MAX_STRING), *quoted, *text, *deep;
	size_t n;
	(void)state;

	/* a feature named with 65536 bytes is the longest string */
	quoted = malloc(FIN_JSON_MAX_STRING + 16);
	sprintf(quoted, "\"%s\"", name);
	loaded_after(make_model, "\"a_2\"", quoted);
	/* one more byte, in a feature, a key or an escape, is refused */
	sprintf(quoted, "\"%sn\"", name);
	refused_after(make_model, "\"a_2\"", quoted, "a string longer than 65536 bytes");
	sprintf(quoted, "\"%sn\":1,", name);
	refused_after(make_model, "\"format\"", quoted, "a string longer than 65536 bytes");
	name[0] = '\\';
	sprintf(quoted, "\"%s\\\"", name);
	refused_after(make_model, "\"a_2\"", quoted, "a string longer than 65536 bytes");
	free(quoted);
	free(name);

	/* nested 32 deep is the deepest: the model's object, then 31 lists */
	deep = calloc(200, 1);
	strcpy(deep, "\"extra\":");
	n = strlen(deep);
	memset(deep + n, '[', 31);
	memset(deep + n + 31, ']', 31);
	strcat(deep, ",\"format\"");
	loaded_after(make_model, "\"format\"", deep);
	memmove(deep + n + 1, deep + n, strlen(deep + n) + 1);
	deep[n] = '[';
	memmove(deep + n + 33, deep + n + 32, strlen(deep + n + 32) + 1);
	deep[n + 32] = ']';
	refused_after(make_model, "\"format\"", deep, "nested more than 32 deep");
	free(deep);

	/* a value after every comma: counted before the parser sees them */
	n = FIN_JSON_MAX_VALUES + 2;
	text = repeat(',', n);
	text[0] = '[';
	text[n - 1] = ']';
	expect_bytes_refused(text, n, "more than 2^26 values");
	free(text);

	/* control characters: only blanks outside strings, none inside, and
	 * no \u0000 to cut a name short */
	expect_bytes_refused("{\"a\":1}\0x", 9, "control character");
	refused_after(make_model, "\"format\"", "\001\"format\"", "control character");
	refused_after(make_model, "\"a_2\"", "\"a\033_2\"", "control character inside a string");
	refused_after(make_model, "\"a_2\"", "\"a_\\u0000\"", "\\u0000");
	loaded_after(make_model, "\"a_2\"", "\"a_\\u0001\"");
}

/* One JSON value, blanks after it at most, and no key twice in an object,
 * at any depth, even among a million keys. */
static void test_one_value_unique_keys(void **state)
{
	enum { KEYS = 1000000 };
	char *text, *at;
	size_t i;
	(void)state;

	text = saved_of(make_model, "}", "} \t\r\n");
	expect_loaded(text);
	free(text);
	refused_after(make_model, "\"weights\"", "\"weights\":[]}x{\"weights\"", "text after");
	text = saved_of(make_model, "\"format\"", "\"format\"");
	at = text + strlen(text) - 1; /* the newline after the value */
	strcpy(at, "\n{}\n");
	expect_refused(text, "text after the JSON value");
	free(text);

	refused_after(make_model, "\"format\"", "\"task\":\"binary\",\"format\"",
		      "an object's keys hold 'task' twice");
	refused_after(make_model, "\"seed\":0", "\"seed\":0,\"seed\":1", "'seed' twice");
	refused_after(make_model, "\"mean\":[0,", "\"mean\":[{\"a\":1,\"a\":1},", "'a' twice");

	/* a million keys, the first again at the end: sorted, not compared
	 * pairwise (alarm: pairwise takes hours) */
	text = malloc((size_t)KEYS * 16 + 64);
	at = text + sprintf(text, "\"extra\":{");
	for (i = 0; i < KEYS; i++)
		at += sprintf(at, "\"k%zu\":0,", i);
	strcpy(at, "\"k0\":1},\"format\"");
	alarm(60);
	refused_after(make_model, "\"format\"", text, "'k0' twice");
	alarm(0);
	free(text);
}

/* Numbers become integers and floats only once they are known to fit. */
static void test_numbers_checked(void **state)
{
	static const char *const bad_counts[] = { "1e300", "-1", "1.5", "\"1\"", "true",
						  "18446744073709551616", "{}" };
	static const char *const facts[] = { "seed", "batch", "epochs", "rows_train", "best_epoch",
					     "kept_epoch" };
	char from[64], to[64];
	size_t i, j;
	(void)state;

	for (j = 0; j < sizeof facts / sizeof *facts; j++)
		for (i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
			snprintf(from, sizeof from, "\"%s\":0", facts[j]);
			snprintf(to, sizeof to, "\"%s\":%s", facts[j], bad_counts[i]);
			refused_after(make_model, from, to, facts[j]);
		}
	refused_after(make_model, "\"threads\":0", "\"threads\":4294967296", "threads");
	refused_after(make_model, "\"lr\":0", "\"lr\":1e300", "lr");
	refused_after(make_model, "\"lr\":0", "\"lr\":-1", "lr");
	refused_after(make_model, "\"clip\":0", "\"clip\":\"x\"", "clip");
	refused_after(make_model, "\"val_loss\":null", "\"val_loss\":\"x\"", "val_loss");
	refused_after(make_model, "\"optimizer\":\"\"", "\"optimizer\":7", "optimizer");
	refused_after(make_model, "\"schema_version\":1", "\"schema_version\":1e300",
		      "schema_version");
	/* a fact that is null takes its default, and is written back as JSON */
	resaved_after(make_model, "\"lr\":0", "\"lr\":null");
	resaved_after(make_gan, "\"smooth\":0", "\"smooth\":null");
	/* the largest seed, and a missing fact, are fine */
	loaded_after(make_model, "\"seed\":0", "\"seed\":18446744073709549568");
	loaded_after(make_model, "\"seed\":0,", "");
	/* files written before kept_epoch and last_val_loss load as they did */
	loaded_after(make_model, "\"kept_epoch\":0,", "");
	loaded_after(make_model, "\"last_val_loss\":0,", "");
	/* float32 weights: what rounds to FLT_MAX is one, what rounds to
	 * infinity is not */
	loaded_after(make_model, "3.4028235e+38", "3.4028235677973362e+38");
	refused_after(make_model, "3.4028235e+38", "3.4028235677973366e+38", "weights");
	refused_after(make_model, "3.4028235e+38", "-1e39", "weights");
}

/* Scalers within 1e30 of 0, spreads from 1e-30 to 1e30: beyond them no
 * prediction would be finite. */
static void test_scaler_bounds(void **state)
{
	(void)state;

	refused_after(make_model, "\"mean\":[0,", "\"mean\":[1e308,", "scaler mean");
	refused_after(make_model, "\"mean\":[0,", "\"mean\":[-1.1e30,", "scaler mean");
	refused_after(make_model, "\"sd\":[1,", "\"sd\":[1e-308,", "scaler sd");
	refused_after(make_model, "\"sd\":[1,", "\"sd\":[9e-31,", "scaler sd");
	refused_after(make_model, "\"sd\":[1,", "\"sd\":[1.1e30,", "scaler sd");
	refused_after(make_model, "\"sd\":[1,", "\"sd\":[1e999,", "scaler sd");
	refused_after(make_model, "\"sd\":[1,", "\"sd\":[null,", "scaler sd");
	loaded_after(make_model, "\"mean\":[0,", "\"mean\":[-1e30,");
	loaded_after(make_model, "\"sd\":[1,", "\"sd\":[1e-30,");
	loaded_after(make_model, "\"sd\":[1,", "\"sd\":[1e30,");
	refused_after(make_model, "\"target_scaler\":{\"mean\":0.5", "\"target_scaler\":{\"mean\":1e308",
		      "target_scaler mean");
	refused_after(make_model, "\"target_scaler\":{\"mean\":0.5,\"sd\":2",
		      "\"target_scaler\":{\"mean\":0.5,\"sd\":1e-308", "target_scaler sd");
	refused_after(make_gan, "\"sd\":[0.01,", "\"sd\":[1e-300,", "scaler sd");
}

/* Features are matched to columns by name, each once. */
static void test_names_once(void **state)
{
	(void)state;

	refused_after(make_model, "\"a_1\"", "\"a_2\"", "features hold 'a_2' twice");
	refused_after(make_model, "\"keys\":[]", "\"keys\":[\"t\",\"t\"]", "keys hold 't' twice");
	refused_after(make_gan, "\"r_4\"", "\"r_5\"", "features hold 'r_5' twice");
}

/* Every size is checked against the others and against limits before
 * anything is allocated for it. */
static void test_sizes(void **state)
{
	static const char *const huge[] = { "2147483648", "1099511627776", "4611686018427387904" };
	fin_net net;
	fin_err err = { 0 };
	char to[128];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof huge / sizeof *huge; i++) {
		snprintf(to, sizeof to, "\"input_shape\":[%s,3]", huge[i]);
		refused_after(make_model, "\"input_shape\":[2,3]", to, "input_shape");
		snprintf(to, sizeof to, "\"input_shape\":[2,%s]", huge[i]);
		refused_after(make_model, "\"input_shape\":[2,3]", to, "input_shape");
		snprintf(to, sizeof to, "dense(%s,relu)", huge[i]);
		refused_after(make_model, "dense(3,relu)", to, "1 to 65536 units");
		snprintf(to, sizeof to, "conv1d(%s,2,tanh,valid)", huge[i]);
		refused_after(make_model, "conv1d(4,2,tanh,valid)", to, "1 to 65536 filters");
		snprintf(to, sizeof to, "conv1d(4,%s,tanh,valid)", huge[i]);
		refused_after(make_model, "conv1d(4,2,tanh,valid)", to, "a kernel of 1 to 4096");
		snprintf(to, sizeof to, "\"latent\":%s", huge[i]);
		refused_after(make_gan, "\"latent\":3", to, "latent");
	}
	/* more than 2^24 parameters in a network, the generator's too */
	refused_after(make_model, "dense(3,relu)", "dense(4096,relu) dense(4096,relu)",
		      "more than 16777216 parameters");
	refused_after(make_gan, "dense(5,tanh)", "dense(4096,tanh) dense(4096,tanh)",
		      "more than 16777216 parameters");
	/* a layer of more than 2^22 values per sample */
	assert_int_equal(fin_net_build(&net, "conv1d(65536,1,linear,same)", 1, 128, &err),
			 FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "values per sample"));
	assert_int_equal(fin_net_build(&net, "lstm(16384,seq)", 1, 128, &err), FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "values per sample"));
	assert_int_equal(fin_net_build(&net, "dense(1)", (size_t)1 << 40, (size_t)1 << 40, &err),
			 FIN_EUSAGE);
	assert_int_equal(fin_net_build(&net, "conv1d(64,3,relu) flatten dense(1)", 8, 512, &err),
			 FIN_OK);
	fin_net_free(&net);
}

/* Text of the file shows in a message escaped and cut short. */
static void test_messages_escaped(void **state)
{
	char *long_arch;
	(void)state;

	refused_after(make_model, "dense(3,relu)", "dense(\\u001b[31m)", "'dense(\\x1b[31m)'");
	refused_after(make_model, "dense(3,relu)", "dense(3,\\u001b)", "activation '\\x1b'");
	refused_after(make_model, "dense(3,relu)", "dense(3,relu,\\n)", "layer 3");
	refused_after(make_model, "\"format\"", "\"\\u001b\":1,\"\\u001b\":2,\"format\"",
		      "'\\x1b' twice");
	long_arch = calloc(70000, 1);
	strcpy(long_arch, "dense(3,");
	memset(long_arch + 8, 'x', 60000);
	strcat(long_arch, ")");
	refused_after(make_model, "dense(3,relu)", long_arch, "...");
	free(long_arch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_bit_exact),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_gan_round_trip),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_one_value_unique_keys),
		cmocka_unit_test(test_numbers_checked),
		cmocka_unit_test(test_scaler_bounds),
		cmocka_unit_test(test_names_once),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_messages_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
