#include <gsl/gsl_sf_erf.h>
#include <math.h>

#include "privacy/dp_accountant.h"

const double fin_dp_orders[FIN_DP_NORDERS] = {
	1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
	5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
	45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
	128, 256, 512,
};

/* A sum of positive terms given by their logarithms, held as
 * exp(max) * scaled so that neither huge nor tiny terms leave the range of
 * a double. */
typedef struct log_sum {
	double max, scaled;
} log_sum;

#define LOG_SUM_EMPTY ((log_sum){ -INFINITY, 0 })

static void log_sum_add(log_sum *s, double log_term)
{
	if (log_term == -INFINITY || s->max == INFINITY)
		return;
	if (log_term == INFINITY) {
		s->max = INFINITY;
		s->scaled = 1;
	} else if (log_term <= s->max) {
		s->scaled += exp(log_term - s->max);
	} else {
		s->scaled = s->scaled * exp(s->max - log_term) + 1;
		s->max = log_term;
	}
}

static double log_sum_value(const log_sum *s)
{
	return s->max + log(s->scaled);
}

/* log(exp(x) - 1) for x >= 0, accurate for small and large x alike. */
static double log_expm1(double x)
{
	return x > 1 ? x + log1p(-exp(-x)) : log(expm1(x));
}

/* log(1 + exp(x)). */
static double log1p_exp(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* log P(Z <= x) for a standard normal Z, accurate far into either tail.
 * gsl_sf_log_erfc gives NaN for arguments beyond 1e100: past 40, P(Z > x)
 * is below the smallest double, and far below -40 the first term of the
 * asymptotic series is exact to a double. */
static double log_normal_cdf(double x)
{
	if (x > 40)
		return 0;
	if (x < -1e10)
		return -0.5 * x * x - log(-x) - 0.5 * log(2 * M_PI);
	return gsl_sf_log_erfc(-x / M_SQRT2) - M_LN2;
}

/* The RDP of one step is log(A) / (alpha - 1) with
 *   A = E_{z ~ N(0, sigma^2)} [((1 - q) + q r(z))^alpha],
 *   r(z) = exp((2z - 1) / (2 sigma^2)),
 * the likelihood ratio of N(1, sigma^2) to N(0, sigma^2). A - 1 is of the
 * order of q^2 for the small sampling rates of DP-SGD, so the functions
 * below compute log(A - 1) from terms that are themselves of that order.
 * Taking log(A) from a sum of terms near 1, as TensorFlow Privacy does,
 * leaves a relative error near 1e-16 / log(A): 1e-8 when A - 1 is 1e-8. */

/* log(A - 1) for an integer alpha, by the binomial expansion
 *   A = sum_i C(alpha, i) q^i (1 - q)^(alpha - i) exp((i^2 - i) / (2 sigma^2)),
 * whose terms without the exponential sum to 1: hence
 *   A - 1 = sum_{i >= 2} C(alpha, i) q^i (1 - q)^(alpha - i) (exp((i^2 - i) / (2 sigma^2)) - 1),
 * every term positive. 0 < q < 1. */
static double log_excess_integer(double q, double sigma, double alpha)
{
	const double log_q = log(q), log_1q = log1p(-q), two_var = 2 * sigma * sigma;
	log_sum sum = LOG_SUM_EMPTY;
	double log_binom = log(alpha * (alpha - 1) / 2), i;

	for (i = 2; i <= alpha; i++) {
		log_sum_add(&sum, log_binom + i * log_q + (alpha - i) * log_1q
				  + log_expm1(i * (i - 1) / two_var));
		log_binom += log((alpha - i) / (i + 1));
	}
	return log_sum_value(&sum);
}

/* log((1 - q)^alpha - 1 + alpha q), which is positive for alpha > 1. While
 * alpha q is small the difference would be mostly rounding error, so it is
 * the series sum_{k >= 2} C(alpha, k) (-q)^k, whose terms then shrink by
 * a factor alpha q or more from one to the next. */
static double log_linear_excess(double q, double alpha)
{
	double term = alpha * (alpha - 1) / 2, sum = 0, k;

	if (alpha * q > 0.5)
		return log(expm1(alpha * log1p(-q)) + alpha * q);
	for (k = 2; fabs(term) > 0x1p-54 * fabs(sum); k++) {
		sum += term;
		term *= -q * (alpha - k) / (k + 1);
	}
	return 2 * log(q) + log(sum);
}

/* Sum_{m >= 0} (-1)^m a[m] for a moment sequence a[m] = integral of x^m
 * against a positive measure on [0, 1], by Algorithm 1 of Cohen, Rodriguez
 * Villegas and Zagier 2000, "Convergence acceleration of alternating
 * series": its first n terms give the sum to a relative 2 / (3 + sqrt 8)^n,
 * where summing them one after another would leave an error of the order
 * of the last term, which here falls only like a power of m. */
static double alternating_sum(const double *a, int n)
{
	double d = pow(3 + sqrt(8), n), b = -1, c, s = 0;
	int k;

	d = (d + 1 / d) / 2;
	c = -d;
	for (k = 0; k < n; k++) {
		c = b - c;
		s += c * a[k];
		b = (double)(k + n) * (double)(k - n) * b / ((k + 0.5) * (k + 1));
	}
	return s / d;
}

/* Terms of the alternating tail taken: 2 / (3 + sqrt 8)^48 < 1e-36. */
#define TAIL_TERMS 48

/* The most bits of precision the difference of the positive and the
 * negative terms' sums may lose, leaving it good to about 2^-32. */
#define LOST_BITS 20

/* log(A - 1) for a fractional alpha, by the series of Mironov, Talwar and
 * Zhang, Section 3.3, which TensorFlow Privacy's _compute_log_a_frac sums.
 * A splits at z0, where q r(z0) = 1 - q, into the integrals below and above
 * z0; on each side ((1 - q) + q r)^alpha expands binomially in the smaller
 * of the two parts, and the integral of r^k against the N(0, sigma^2)
 * density up to or from z0 is exp((k^2 - k) / (2 sigma^2)) times a normal
 * probability. Term i of the two series, with j = alpha - i:
 *   below: C(alpha, i) q^i (1 - q)^j exp((i^2 - i) / (2 sigma^2)) P(N(i, sigma^2) <= z0)
 *   above: C(alpha, i) q^j (1 - q)^i exp((j^2 - j) / (2 sigma^2)) P(N(j, sigma^2) > z0)
 * To get A - 1 without cancelling against 1, the integrand less the
 * function 1 + alpha q (r - 1), whose expectation is exactly 1, is
 * integrated instead: that takes (1 - alpha q) + alpha q r off each side,
 * leaving (1 - q)^alpha - 1 + alpha q and alpha q ((1 - q)^(alpha - 1) - 1)
 * as the first two terms below, both of the order of q^2. What cancels
 * then is of the order of q^2 / sigma^2 less than each term, so the
 * relative error grows like sigma^2: about 1e-13 at sigma 5, 1e-10 at
 * 100. NaN when more than LOST_BITS bits cancel, which happens for sigma
 * in the hundreds or thousands.
 *
 * From i = floor(alpha) + 1 on, C(alpha, i) alternates in sign, and the
 * terms' sizes (|C(alpha, i)|, a Beta integral in i, times an integral of
 * the i-th power of a ratio below 1) form a moment sequence, which
 * alternating_sum sums to full precision in a few dozen terms, where TF
 * Privacy's loop stops at terms below e^-30, far from the precision of a
 * double when A - 1 is small. 0 < q < 1. */
static double log_excess_fractional(double q, double sigma, double alpha)
{
	const double log_q = log(q), log_1q = log1p(-q), two_var = 2 * sigma * sigma;
	const double z0 = sigma * sigma * (log_1q - log_q) + 0.5, aq = alpha * q;
	const double first_alternating = floor(alpha) + 1;
	log_sum pos = LOG_SUM_EMPTY, neg = LOG_SUM_EMPTY;
	double log_tail[TAIL_TERMS], log_binom = 0, i, p, n, log_excess;

	log_sum_add(&pos, log_linear_excess(q, alpha) + log_normal_cdf(z0 / sigma));
	log_sum_add(&neg, log(aq) + log(-expm1((alpha - 1) * log_1q))
			  + log_normal_cdf((z0 - 1) / sigma));
	log_sum_add(aq < 1 ? &neg : &pos, log(fabs(1 - aq)) + log_normal_cdf(-z0 / sigma));
	log_sum_add(&neg, log(aq) + log_normal_cdf((1 - z0) / sigma));

	for (i = 0; i < first_alternating + TAIL_TERMS; i++) {
		double j = alpha - i;
		double below = log_binom + i * log_q + j * log_1q + i * (i - 1) / two_var;
		double above = log_binom + j * log_q + i * log_1q + j * (j - 1) / two_var;
		log_sum both = LOG_SUM_EMPTY;

		if (i >= 2)
			log_sum_add(&both, below + log_normal_cdf((z0 - i) / sigma));
		log_sum_add(&both, above + log_normal_cdf((j - z0) / sigma));
		if (i < first_alternating)
			log_sum_add(&pos, log_sum_value(&both));
		else
			log_tail[(int)(i - first_alternating)] = log_sum_value(&both);
		log_binom += log(fabs(j) / (i + 1));
	}
	if (log_tail[0] > -INFINITY) {
		double tail[TAIL_TERMS];
		int m;
		for (m = 0; m < TAIL_TERMS; m++)
			tail[m] = exp(log_tail[m] - log_tail[0]);
		log_sum_add(&pos, log_tail[0] + log(alternating_sum(tail, TAIL_TERMS)));
	}
	p = log_sum_value(&pos);
	n = log_sum_value(&neg);
	log_excess = p + log1p(-exp(n - p));
	return log_excess >= p - LOST_BITS * M_LN2 ? log_excess : NAN;
}

double fin_dp_rdp_step(double q, double sigma, double alpha)
{
	double log_excess;

	if (!(q >= 0 && q <= 1) || !(sigma >= 0) || !(alpha > 1))
		return NAN;
	if (q == 0)
		return 0;
	/* With noise so small that the exponents overflow, as with none. */
	if (alpha * alpha / (2 * sigma * sigma) == INFINITY)
		return INFINITY;
	if (q == 1)
		return alpha / (2 * sigma * sigma);
	if (isinf(alpha))
		return INFINITY;
	if (isinf(sigma))
		return 0;
	if (alpha == floor(alpha)) {
		log_excess = log_excess_integer(q, sigma, alpha);
	} else {
		log_excess = log_excess_fractional(q, sigma, alpha);
		/* Past the series' precision, the RDP at the next integer order,
		 * which bounds it: a Renyi divergence does not decrease with its
		 * order (van Erven and Harremoes 2014, Theorem 3). Fractional
		 * orders never give the least epsilon with that much noise. */
		if (isnan(log_excess))
			return fin_dp_rdp_step(q, sigma, ceil(alpha));
	}
	return log1p_exp(log_excess) / (alpha - 1);
}

static int check_arguments(double q, double sigma, size_t steps, double delta, fin_err *err)
{
	if (!(q > 0 && q <= 1))
		return fin_fail(err, FIN_EUSAGE, "sampling rate %g: must be in (0, 1]", q);
	if (!(sigma >= 0))
		return fin_fail(err, FIN_EUSAGE, "noise multiplier %g: must be 0 or more", sigma);
	if (steps == 0)
		return fin_fail(err, FIN_EUSAGE, "steps: must be 1 or more");
	if (!(delta > 0 && delta < 1))
		return fin_fail(err, FIN_EUSAGE, "delta %g: must be in (0, 1)", delta);
	return FIN_OK;
}

/* Mironov 2017, Proposition 3. */
static double classic_epsilon(double rdp, double alpha, double delta)
{
	return rdp - log(delta) / (alpha - 1);
}

/* Balle et al. 2020, Theorem 21, with TensorFlow Privacy's guard: the
 * total variation distance is at most sqrt(1 - exp(-KL)) (Bretagnolle and
 * Huber), and the Kullback-Leibler divergence KL at most the RDP at any
 * order above 1, so when 1 - exp(-rdp) <= delta^2 epsilon 0 already
 * holds. */
static double tight_epsilon(double rdp, double alpha, double delta)
{
	if (delta * delta + expm1(-rdp) >= 0)
		return 0;
	return rdp + log1p(-1 / alpha) - (log(delta) + log(alpha)) / (alpha - 1);
}

/* The least epsilon over the orders, and its order; the first order on a
 * tie. */
static fin_dp_budget least_epsilon(double q, double sigma, size_t steps, double delta,
				   double (*convert)(double, double, double))
{
	fin_dp_budget best = { INFINITY, delta, fin_dp_orders[0] };
	size_t k;

	for (k = 0; k < FIN_DP_NORDERS; k++) {
		double alpha = fin_dp_orders[k];
		double e = convert((double)steps * fin_dp_rdp_step(q, sigma, alpha), alpha, delta);
		if (e < best.epsilon) {
			best.epsilon = e;
			best.order = alpha;
		}
	}
	return best;
}

int fin_dp_epsilon(double q, double sigma, size_t steps, double delta, fin_dp_budget *out,
		   fin_err *err)
{
	int rc = check_arguments(q, sigma, steps, delta, err);

	if (rc == FIN_OK)
		*out = least_epsilon(q, sigma, steps, delta, classic_epsilon);
	return rc;
}

int fin_dp_epsilon_tight(double q, double sigma, size_t steps, double delta, fin_dp_budget *out,
			 fin_err *err)
{
	int rc = check_arguments(q, sigma, steps, delta, err);

	if (rc == FIN_OK) {
		*out = least_epsilon(q, sigma, steps, delta, tight_epsilon);
		out->epsilon = fmax(out->epsilon, 0);
	}
	return rc;
}

/* The classic epsilon alone. */
static double classic_least(double q, double sigma, size_t steps, double delta)
{
	return least_epsilon(q, sigma, steps, delta, classic_epsilon).epsilon;
}

/* Noise multipliers the search tries, at most; far beyond any useful
 * training. */
#define MAX_SIGMA 0x1p30
#define SIGMA_PRECISION 1e-5

int fin_dp_noise_for(double q, size_t steps, double delta, double epsilon, double *sigma,
		     fin_err *err)
{
	double lo, hi, floor_epsilon;
	int rc = check_arguments(q, 1, steps, delta, err); /* any valid sigma */

	if (rc != FIN_OK)
		return rc;
	if (!(epsilon > 0 && isfinite(epsilon)))
		return fin_fail(err, FIN_EUSAGE, "epsilon %g: must be a number above 0", epsilon);
	/* However large the noise, the RDP only falls towards 0, so epsilon
	 * only falls towards log(1/delta) / (alpha - 1) at the largest order. */
	floor_epsilon = classic_epsilon(0, fin_dp_orders[FIN_DP_NORDERS - 1], delta);
	if (epsilon <= floor_epsilon)
		return fin_fail(err, FIN_EUSAGE,
				"epsilon %g at delta %g: out of reach, no noise gives less "
				"than %.6g", epsilon, delta, floor_epsilon);

	/* Epsilon falls as sigma grows: bracket the target between lo, which
	 * misses it (0 gives infinity), and hi, which meets it, then halve. */
	lo = 0;
	hi = 1;
	while (classic_least(q, hi, steps, delta) > epsilon) {
		lo = hi;
		hi *= 2;
		if (hi > MAX_SIGMA)
			return fin_fail(err, FIN_EUSAGE,
					"epsilon %g at delta %g: out of reach, it needs a noise "
					"multiplier above %g", epsilon, delta, MAX_SIGMA);
	}
	if (lo == 0)
		for (lo = hi / 2; classic_least(q, lo, steps, delta) <= epsilon; lo /= 2)
			hi = lo;
	while (hi - lo > SIGMA_PRECISION * hi) {
		double mid = lo + (hi - lo) / 2;
		if (classic_least(q, mid, steps, delta) <= epsilon)
			hi = mid;
		else
			lo = mid;
	}
	*sigma = hi;
	return FIN_OK;
}
