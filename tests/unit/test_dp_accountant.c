/* The privacy accountant of DP-SGD: the epsilons TensorFlow Privacy
 * publishes, the RDP of the sampled Gaussian mechanism and the epsilons of
 * a few settings against high-precision values made by
 * tests/fixtures/make_dp_fixture.py (mpmath), closed forms worked out
 * below, the properties every accountant must have (monotone in the noise,
 * the steps and the order), the search for a noise multiplier, and the
 * refusal of arguments out of range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "privacy/dp_accountant.h"

#define FIXTURE "tests/fixtures/dp_rdp.json"

/* |got - want| <= rtol |want| + atol */
static void assert_near(double got, double want, double rtol, double atol)
{
	if (!(fabs(got - want) <= rtol * fabs(want) + atol)) {
		print_error("got %.17g, want %.17g (rtol %g, atol %g)\n", got, want, rtol, atol);
		fail();
	}
}

static fin_dp_budget epsilon_ok(double q, double sigma, size_t steps, double delta)
{
	fin_dp_budget b;
	fin_err err = { 0 };

	if (fin_dp_epsilon(q, sigma, steps, delta, &b, &err) != FIN_OK) {
		print_error("fin_dp_epsilon: %s\n", err.msg);
		fail();
	}
	assert_true(b.delta == delta);
	return b;
}

static fin_dp_budget tight_ok(double q, double sigma, size_t steps, double delta)
{
	fin_dp_budget b;
	fin_err err = { 0 };

	if (fin_dp_epsilon_tight(q, sigma, steps, delta, &b, &err) != FIN_OK) {
		print_error("fin_dp_epsilon_tight: %s\n", err.msg);
		fail();
	}
	return b;
}

/* Steps of training over rows rows in batches of batch for epochs epochs,
 * counted as TensorFlow Privacy's compute_dp_sgd_privacy counts them,
 * ceil(epochs rows / batch): the tool behind the published figures, and
 * the count that does not leave out a last, partial batch. */
static size_t steps_of(size_t rows, size_t batch, size_t epochs)
{
	return (epochs * rows + batch - 1) / batch;
}

/* TensorFlow Privacy's tutorials/README.md ("Using Command-Line Interface
 * for Privacy Budgeting", in the repository since February 2019): for
 * the MNIST tutorial's defaults,
 *   compute_dp_sgd_privacy.py --N=60000 --batch_size=256
 *     --noise_multiplier=1.1 --epochs=60 --delta=1e-5
 * "satisfies differential privacy with eps = 3.01 and delta = 1e-05",
 * with the classic conversion of that time. The script prints epsilon
 * with '{:.3g}', so the figure holds any value in [3.005, 3.015). Its
 * steps are ceil(60 * 60000 / 256) = 14063; the tutorial's own loop,
 * which counts 60 * 60000 // 256 = 14062, printed 3.01 too. */
static void test_published_mnist_tutorial(void **state)
{
	size_t steps = steps_of(60000, 256, 60);
	fin_dp_budget b;

	(void)state;
	assert_int_equal(steps, 14063);
	b = epsilon_ok(256.0 / 60000, 1.1, steps, 1e-5);
	assert_true(b.epsilon >= 3.005 && b.epsilon < 3.015);
	b = epsilon_ok(256.0 / 60000, 1.1, 60 * 60000 / 256, 1e-5);
	assert_true(b.epsilon >= 3.005 && b.epsilon < 3.015);
}

/* TensorFlow Privacy's tensorflow_privacy/privacy/analysis/
 * compute_dp_sgd_privacy_test.py: compute_dp_sgd_privacy(n, batch_size,
 * noise_multiplier, epochs, delta) with its orders (fin's) and steps
 * ceil(epochs n / batch_size), checked with assertAlmostEqual. The classic
 * figures are those of the file as written in October 2019 (commit
 * 2007aac), the tight ones those of December 2020 (commit be8175b), when
 * the Balle et al. conversion replaced the classic one. Each is compared
 * within half a unit of its last published digit, plus 1e-12 relative:
 * TensorFlow Privacy sums terms near 1 in log space and takes log(A) from
 * that sum, which leaves relative errors near 1e-16 / log(A), up to 5e-13
 * here. (A revision of April 2024 changed the third tight figure to
 * 5907982.3113984, 3e-12 away from both the 2020 figure and mpmath's
 * value, 5907982.311382007.) */
struct published {
	size_t rows, batch;
	double sigma;
	size_t epochs;
	double delta;
	double classic, classic_digit, classic_order;
	double tight, tight_digit, tight_order;
};

static const struct published tf_privacy_tests[] = {
	{ 60000, 150, 1.3, 15, 1e-5, 0.941870567, 1e-9, 19, 0.7242234026109595, 1e-16, 19 },
	{ 100000, 100, 1.0, 30, 1e-7, 1.70928734, 1e-8, 13, 1.4154988495444845, 1e-16, 13 },
	{ 100000000, 1024, 0.1, 10, 1e-7, 5907984.81339406, 1e-8, 1.25, 5907982.31138195, 1e-8,
	  1.25 },
};

static void test_published_tf_privacy_tests(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < sizeof tf_privacy_tests / sizeof *tf_privacy_tests; k++) {
		const struct published *p = &tf_privacy_tests[k];
		double q = (double)p->batch / (double)p->rows;
		size_t steps = steps_of(p->rows, p->batch, p->epochs);
		fin_dp_budget c = epsilon_ok(q, p->sigma, steps, p->delta);
		fin_dp_budget t = tight_ok(q, p->sigma, steps, p->delta);

		assert_near(c.epsilon, p->classic, 1e-12, p->classic_digit / 2);
		assert_true(c.order == p->classic_order);
		assert_near(t.epsilon, p->tight, 1e-12, p->tight_digit / 2);
		assert_true(t.order == p->tight_order);
	}
}

static cJSON *load_fixture(void)
{
	return fixture_load(FIXTURE);
}

static double number(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* The orders are TensorFlow Privacy's list, as the fixture's script
 * writes it. */
static void test_orders(void **state)
{
	cJSON *root = load_fixture(), *orders = cJSON_GetObjectItem(root, "orders"), *a;
	size_t k = 0;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(orders), FIN_DP_NORDERS);
	cJSON_ArrayForEach(a, orders) {
		assert_true(fin_dp_orders[k] == a->valuedouble);
		k++;
	}
	cJSON_Delete(root);
}

/* The RDP of one step against mpmath, on a grid of sampling rates from
 * 1e-3 to 0.9, noise multipliers from 0.5 to 100 and orders from 1.25 to
 * 512, to a relative 1e-9. */
static void test_rdp_reference(void **state)
{
	cJSON *root = load_fixture(), *c;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "rdp")) {
		double q = number(c, "q"), sigma = number(c, "sigma"), alpha = number(c, "alpha");
		double got = fin_dp_rdp_step(q, sigma, alpha), want = number(c, "rdp");
		if (!(fabs(got - want) <= 1e-9 * want)) {
			print_error("q %g sigma %g alpha %g: ", q, sigma, alpha);
			assert_near(got, want, 1e-9, 0);
		}
		n++;
	}
	assert_true(n >= 900);
	cJSON_Delete(root);
}

/* Epsilons and their orders against mpmath, both conversions, to a
 * relative 1e-9. */
static void test_epsilon_reference(void **state)
{
	cJSON *root = load_fixture(), *c;

	(void)state;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "epsilon")) {
		double q = number(c, "q"), sigma = number(c, "sigma"), delta = number(c, "delta");
		size_t steps = (size_t)number(c, "steps");
		fin_dp_budget e = epsilon_ok(q, sigma, steps, delta);
		fin_dp_budget t = tight_ok(q, sigma, steps, delta);

		print_message("%s: epsilon %.17g at order %g, tight %.17g at order %g\n",
			      cJSON_GetObjectItem(c, "name")->valuestring, e.epsilon, e.order,
			      t.epsilon, t.order);
		assert_near(e.epsilon, number(c, "epsilon"), 1e-9, 0);
		assert_true(e.order == number(c, "order"));
		assert_near(t.epsilon, number(c, "epsilon_tight"), 1e-9, 0);
		assert_true(t.order == number(c, "order_tight"));
	}
	cJSON_Delete(root);
}

/* Orders 2 and 3 by hand. With the binomial expansion,
 *   alpha 2: A = (1-q)^2 + 2q(1-q) + q^2 e^(1/s^2) = 1 + q^2 (e^(1/s^2) - 1)
 *   alpha 3: A = (1-q)^3 + 3q(1-q)^2 + 3q^2(1-q) e^(1/s^2) + q^3 e^(3/s^2)
 *              = 1 + 3q^2(1-q)(e^(1/s^2) - 1) + q^3 (e^(3/s^2) - 1)
 * and rdp = log(A) / (alpha - 1). Sampling rates down to 1e-8, where
 * A - 1 is below 1e-16 and only a sum that never forms A keeps digits. */
static void test_closed_forms(void **state)
{
	static const double qs[] = { 1e-8, 1e-5, 256.0 / 60000, 0.1, 0.6 };
	static const double sigmas[] = { 0.7, 1.1, 4, 30 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof qs / sizeof *qs; i++)
		for (j = 0; j < sizeof sigmas / sizeof *sigmas; j++) {
			double q = qs[i], s2 = sigmas[j] * sigmas[j];
			double two = log1p(q * q * expm1(1 / s2));
			double three = log1p(3 * q * q * (1 - q) * expm1(1 / s2)
					     + q * q * q * expm1(3 / s2)) / 2;
			assert_near(fin_dp_rdp_step(q, sigmas[j], 2), two, 1e-13, 0);
			assert_near(fin_dp_rdp_step(q, sigmas[j], 3), three, 1e-13, 0);
		}
}

/* Without sampling each step is the Gaussian mechanism, of RDP alpha /
 * (2 sigma^2) (Mironov 2017, Proposition 7); then with sigma 10 and 100
 * steps, epsilon = min over orders of alpha / 2 + log(1e5) / (alpha - 1),
 * at order 6: 3 + log(1e5) / 5 (order 5 gives 5.378, order 7 5.419). */
static void test_full_batch(void **state)
{
	static const double sigmas[] = { 0.3, 1, 1.1, 7 };
	fin_dp_budget b;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof sigmas / sizeof *sigmas; i++)
		for (k = 0; k < FIN_DP_NORDERS; k++) {
			double s = sigmas[i], alpha = fin_dp_orders[k];
			assert_true(fin_dp_rdp_step(1, s, alpha) == alpha / (2 * s * s));
		}
	b = epsilon_ok(1, 10, 100, 1e-5);
	assert_near(b.epsilon, 3 + log(1e5) / 5, 1e-15, 0);
	assert_true(b.order == 6);
}

static void test_edge_values(void **state)
{
	fin_dp_budget b;

	(void)state;
	assert_true(fin_dp_rdp_step(0, 1.1, 2) == 0);
	assert_true(fin_dp_rdp_step(0, 1.1, 1.5) == 0);
	assert_true(fin_dp_rdp_step(0.01, 0, 2) == INFINITY);
	assert_true(fin_dp_rdp_step(0.01, 0, 1.5) == INFINITY);
	assert_true(fin_dp_rdp_step(1, 0, 2) == INFINITY);
	assert_true(fin_dp_rdp_step(0.01, INFINITY, 2) == 0);
	assert_true(isnan(fin_dp_rdp_step(0.01, 1, 1)));
	assert_true(isnan(fin_dp_rdp_step(0.01, 1, 0.5)));
	assert_true(isnan(fin_dp_rdp_step(-0.1, 1, 2)));
	assert_true(isnan(fin_dp_rdp_step(1.1, 1, 2)));
	assert_true(isnan(fin_dp_rdp_step(0.01, -1, 2)));
	assert_true(isnan(fin_dp_rdp_step(NAN, 1, 2)));
	b = epsilon_ok(0.01, 0, 100, 1e-5);
	assert_true(b.epsilon == INFINITY);
	b = tight_ok(0.01, 0, 100, 1e-5);
	assert_true(b.epsilon == INFINITY);
}

/* More noise, less epsilon; more steps, more epsilon. */
static void test_monotone_in_noise_and_steps(void **state)
{
	static const double sigmas[] = { 0.4, 0.6, 0.8, 1, 1.1, 1.5, 2, 4, 8, 16 };
	static const size_t steps[] = { 1, 10, 100, 1000, 14063, 100000 };
	double last = INFINITY, last_tight = INFINITY;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sigmas / sizeof *sigmas; i++) {
		double e = epsilon_ok(0.01, sigmas[i], 1000, 1e-5).epsilon;
		double t = tight_ok(0.01, sigmas[i], 1000, 1e-5).epsilon;
		assert_true(e < last);
		assert_true(t < last_tight);
		last = e;
		last_tight = t;
	}
	last = last_tight = 0;
	for (i = 0; i < sizeof steps / sizeof *steps; i++) {
		double e = epsilon_ok(256.0 / 60000, 1.1, steps[i], 1e-5).epsilon;
		double t = tight_ok(256.0 / 60000, 1.1, steps[i], 1e-5).epsilon;
		assert_true(e > last);
		assert_true(t > last_tight);
		last = e;
		last_tight = t;
	}
}

static const double monotone_qs[] = { 1e-4, 256.0 / 60000, 0.1, 0.5, 0.9 };

/* A Renyi divergence does not decrease with its order: the RDP over the
 * orders in turn. */
static void test_monotone_in_order(void **state)
{
	static const double sigmas[] = { 0.5, 1.1, 5, 20, 100 };
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof monotone_qs / sizeof *monotone_qs; i++)
		for (j = 0; j < sizeof sigmas / sizeof *sigmas; j++) {
			double q = monotone_qs[i], s = sigmas[j], last = 0;
			for (k = 0; k < FIN_DP_NORDERS; k++) {
				double r = fin_dp_rdp_step(q, s, fin_dp_orders[k]);
				if (!(r > last && r < INFINITY)) {
					print_error("q %g sigma %g order %g: %.17g after %.17g\n",
						    q, s, fin_dp_orders[k], r, last);
					fail();
				}
				last = r;
			}
		}
}

/* With noise multipliers in the hundreds and beyond, where the series
 * for fractional orders gives way to the next integer order's RDP, every
 * fractional order's RDP still lies between those of the integer orders
 * around it (above 0 below order 2). */
static void test_fractional_between_integers(void **state)
{
	static const double sigmas[] = { 1.1, 300, 1000, 1e4, 1e7 };
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof monotone_qs / sizeof *monotone_qs; i++)
		for (j = 0; j < sizeof sigmas / sizeof *sigmas; j++)
			for (k = 0; k < FIN_DP_NORDERS; k++) {
				double q = monotone_qs[i], s = sigmas[j], alpha = fin_dp_orders[k];
				double r = fin_dp_rdp_step(q, s, alpha);
				double low = alpha < 2 ? 0 : fin_dp_rdp_step(q, s, floor(alpha));
				double high = fin_dp_rdp_step(q, s, ceil(alpha));
				if (!(r > 0 && r >= low && r <= high)) {
					print_error("q %g sigma %g order %g: rdp %.17g not in "
						    "[%.17g, %.17g]\n", q, s, alpha, r, low, high);
					fail();
				}
			}
}

/* Balle et al.'s conversion subtracts log(alpha / (alpha - 1)) + log(alpha)
 * / (alpha - 1) > 0 from the classic one at every order. */
static void test_tight_below_classic(void **state)
{
	static const double sigmas[] = { 0.5, 1.1, 3, 20 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sigmas / sizeof *sigmas; i++) {
		double e = epsilon_ok(0.02, sigmas[i], 500, 1e-6).epsilon;
		double t = tight_ok(0.02, sigmas[i], 500, 1e-6).epsilon;
		assert_true(t < e);
	}
}

/* The noise multiplier found meets the target, within 1e-3 of it, and is
 * the smallest that does to its precision, 1e-5. */
static void test_noise_for(void **state)
{
	static const struct {
		double q;
		size_t steps;
		double delta, epsilon;
	} cases[] = {
		{ 256.0 / 60000, 14063, 1e-5, 3.01 },
		{ 256.0 / 60000, 14063, 1e-5, 0.5 },
		{ 0.01, 1000, 1e-6, 8 },
		{ 0.1, 50, 1e-5, 1 },
		{ 0.5, 100, 1e-5, 1 },
		{ 1, 10, 1e-5, 2 },
		{ 0.001, 1, 1e-5, 100 },
		{ 256.0 / 60000, 14063, 1e-5, 0.03 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		double sigma = 0, target = cases[i].epsilon;
		fin_err err = { 0 };
		fin_dp_budget at, below;

		if (fin_dp_noise_for(cases[i].q, cases[i].steps, cases[i].delta, target, &sigma,
				     &err) != FIN_OK) {
			print_error("fin_dp_noise_for: %s\n", err.msg);
			fail();
		}
		at = epsilon_ok(cases[i].q, sigma, cases[i].steps, cases[i].delta);
		below = epsilon_ok(cases[i].q, sigma * (1 - 2e-5), cases[i].steps, cases[i].delta);
		print_message("q %g, %zu steps, delta %g, epsilon %g: sigma %.8g gives %.8g\n",
			      cases[i].q, cases[i].steps, cases[i].delta, target, sigma,
			      at.epsilon);
		assert_true(at.epsilon <= target);
		assert_true(at.epsilon >= target * (1 - 1e-3));
		assert_true(below.epsilon > target);
	}
	/* The published setting: noise 1.1 gives 3.0092, within 3.01. */
	{
		double sigma = 0;
		assert_int_equal(fin_dp_noise_for(256.0 / 60000, 14063, 1e-5, 3.01, &sigma, NULL),
				 FIN_OK);
		assert_true(sigma <= 1.1 && sigma > 1.09);
	}
}

/* With orders up to 512, no noise brings epsilon to log(1/delta) / 511 or
 * below; one double above it needs noise beyond any search. */
static void test_noise_for_out_of_reach(void **state)
{
	double least = log(1e5) / 511, sigma = -1;
	fin_err err = { 0 };

	(void)state;
	assert_int_equal(fin_dp_noise_for(256.0 / 60000, 14063, 1e-5, least, &sigma, &err),
			 FIN_EUSAGE);
	assert_int_equal(err.code, FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "out of reach"));
	assert_true(sigma == -1);
	memset(&err, 0, sizeof err);
	assert_int_equal(fin_dp_noise_for(256.0 / 60000, 14063, 1e-5, 0.01, &sigma, &err),
			 FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "out of reach"));
	memset(&err, 0, sizeof err);
	assert_int_equal(fin_dp_noise_for(256.0 / 60000, 14063, 1e-5, nextafter(least, 1), &sigma,
					  &err), FIN_EUSAGE);
	assert_non_null(strstr(err.msg, "noise multiplier above"));
	assert_true(sigma == -1);
}

static void expect_usage(int rc, const fin_err *err)
{
	assert_int_equal(rc, FIN_EUSAGE);
	assert_int_equal(err->code, FIN_EUSAGE);
	assert_true(err->msg[0] != '\0');
}

static void test_bad_arguments(void **state)
{
	static const double bad_q[] = { 0, -0.1, 1.5, NAN, INFINITY };
	static const double bad_delta[] = { 0, 1, -1e-5, 2, NAN };
	static const double bad_epsilon[] = { 0, -1, NAN, INFINITY };
	fin_dp_budget b = { -1, -1, -1 };
	double sigma = -1;
	fin_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad_q / sizeof *bad_q; i++) {
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_epsilon(bad_q[i], 1, 100, 1e-5, &b, &err), &err);
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_epsilon_tight(bad_q[i], 1, 100, 1e-5, &b, &err), &err);
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_noise_for(bad_q[i], 100, 1e-5, 1, &sigma, &err), &err);
	}
	for (i = 0; i < sizeof bad_delta / sizeof *bad_delta; i++) {
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_epsilon(0.01, 1, 100, bad_delta[i], &b, &err), &err);
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_epsilon_tight(0.01, 1, 100, bad_delta[i], &b, &err), &err);
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_noise_for(0.01, 100, bad_delta[i], 1, &sigma, &err), &err);
	}
	for (i = 0; i < sizeof bad_epsilon / sizeof *bad_epsilon; i++) {
		memset(&err, 0, sizeof err);
		expect_usage(fin_dp_noise_for(0.01, 100, 1e-5, bad_epsilon[i], &sigma, &err), &err);
	}
	memset(&err, 0, sizeof err);
	expect_usage(fin_dp_epsilon(0.01, 1, 0, 1e-5, &b, &err), &err);
	memset(&err, 0, sizeof err);
	expect_usage(fin_dp_epsilon_tight(0.01, 1, 0, 1e-5, &b, &err), &err);
	memset(&err, 0, sizeof err);
	expect_usage(fin_dp_noise_for(0.01, 0, 1e-5, 1, &sigma, &err), &err);
	memset(&err, 0, sizeof err);
	expect_usage(fin_dp_epsilon(0.01, -1, 100, 1e-5, &b, &err), &err);
	memset(&err, 0, sizeof err);
	expect_usage(fin_dp_epsilon(0.01, NAN, 100, 1e-5, &b, &err), &err);
	/* Nothing is written on failure, and a NULL err is allowed. */
	assert_true(b.epsilon == -1 && b.delta == -1 && b.order == -1);
	assert_true(sigma == -1);
	assert_int_equal(fin_dp_epsilon(0, 1, 100, 1e-5, &b, NULL), FIN_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_mnist_tutorial),
		cmocka_unit_test(test_published_tf_privacy_tests),
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_rdp_reference),
		cmocka_unit_test(test_epsilon_reference),
		cmocka_unit_test(test_closed_forms),
		cmocka_unit_test(test_full_batch),
		cmocka_unit_test(test_edge_values),
		cmocka_unit_test(test_monotone_in_noise_and_steps),
		cmocka_unit_test(test_monotone_in_order),
		cmocka_unit_test(test_fractional_between_integers),
		cmocka_unit_test(test_tight_below_classic),
		cmocka_unit_test(test_noise_for),
		cmocka_unit_test(test_noise_for_out_of_reach),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
