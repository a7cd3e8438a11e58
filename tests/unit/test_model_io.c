/* Model files: float32 weights read back bit for bit, predictions too (and
 * a GAN's samples), and unusable files are refused. */
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
#include <unistd.h>

#include "model.h"

static char *const feat[] = { "a_2", "a_1", "a_0", "b_2", "b_1", "b_0" };

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
	assert_int_equal(fin_model_save(&a, path, &err), FIN_OK);
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
	assert_int_equal(fin_model_save(&a, path, &err), FIN_OK);
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
	fin_model_free(&a);
	fin_model_free(&b);
	unlink(path);
}

/* Writes text to a file and expects it to be refused with message part. */
static void expect_refused(const char *text, const char *part)
{
	char path[] = "/tmp/fin-model-XXXXXX";
	int fd = mkstemp(path);
	fin_model m;
	fin_err err = { 0 };

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(fin_model_load(&m, path, &err), FIN_EMODEL);
	if (!strstr(err.msg, part)) {
		print_error("message '%s' lacks '%s'\n", err.msg, part);
		fail();
	}
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
	assert_int_equal(fin_model_save(&m, path, &err), FIN_OK);
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
	refused_after(make_model, "\"input_shape\":[2,3]", "\"input_shape\":[2,4]", "");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_bit_exact),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_gan_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
