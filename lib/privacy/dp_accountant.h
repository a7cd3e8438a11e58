/* The privacy accountant of DP-SGD (Abadi et al. 2016): each row's gradient
 * clipped to L2 norm C, Gaussian noise of standard deviation sigma C added
 * to each batch's summed gradient, batches drawn by Poisson sampling with
 * rate q = batch / rows. Each step is the sampled Gaussian mechanism, whose
 * Renyi differential privacy (RDP) is that of Mironov, Talwar and Zhang
 * 2019, "Renyi Differential Privacy of the Sampled Gaussian Mechanism", as
 * TensorFlow Privacy's compute_rdp and Opacus' analysis/rdp.py compute it;
 * T steps compose to T times one step's RDP at every order, and the RDP at
 * the orders of fin_dp_orders converts to (epsilon, delta)-DP:
 *
 *   fin_dp_epsilon        the classic conversion, Mironov 2017 ("Renyi
 *                         Differential Privacy"), Proposition 3:
 *                         epsilon = min over orders of
 *                         rdp(alpha) + log(1/delta) / (alpha - 1).
 *                         fin reports this one: it is the one behind the
 *                         figures TensorFlow Privacy's tutorials publish.
 *   fin_dp_epsilon_tight  the tighter conversion of Balle et al. 2020
 *                         ("Hypothesis testing interpretations and Renyi
 *                         differential privacy"), Theorem 21, which newer
 *                         Opacus and TensorFlow Privacy versions use.
 *
 * Both hold for the add-or-remove-one-row neighbouring relation. */
#ifndef FIN_DP_ACCOUNTANT_H
#define FIN_DP_ACCOUNTANT_H

#include <stddef.h>

#include "core/err.h"

/* The orders epsilon is minimised over, those of TensorFlow Privacy's
 * compute_dp_sgd_privacy: 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
 * the integers 5 to 63, then 128, 256 and 512. */
#define FIN_DP_NORDERS 72
extern const double fin_dp_orders[FIN_DP_NORDERS];

/* The RDP at order alpha of one step of the sampled Gaussian mechanism with
 * sampling rate q and noise multiplier sigma: 0 when q is 0, alpha / (2
 * sigma^2) when q is 1, infinity when sigma is 0 (and q is not). Integer
 * orders are summed exactly, in time that grows with alpha; fractional
 * ones by a series good to about 1e-14 sigma^2 relative, and once sigma
 * is so large (hundreds or more) that it would lose more, they take the
 * next integer order's RDP, an upper bound. NaN for q outside [0, 1],
 * sigma below 0 or alpha not above 1. */
double fin_dp_rdp_step(double q, double sigma, double alpha);

typedef struct fin_dp_budget {
	double epsilon; /* infinity when sigma is 0 */
	double delta;
	double order;   /* the order of fin_dp_orders that gives epsilon */
} fin_dp_budget;

/* The epsilon at delta of steps steps with sampling rate q and noise
 * multiplier sigma, by the classic conversion. FIN_EUSAGE for q outside
 * (0, 1], sigma below 0, steps 0 or delta outside (0, 1). */
int fin_dp_epsilon(double q, double sigma, size_t steps, double delta, fin_dp_budget *out,
		   fin_err *err);

/* The same by the conversion of Balle et al. 2020. */
int fin_dp_epsilon_tight(double q, double sigma, size_t steps, double delta, fin_dp_budget *out,
			 fin_err *err);

/* The smallest noise multiplier, to a relative 1e-5, whose classic epsilon
 * at delta after steps steps with sampling rate q is at most epsilon; the
 * sigma returned does meet it. FIN_EUSAGE for arguments out of range as
 * fin_dp_epsilon says, epsilon not above 0, or an epsilon no noise
 * multiplier up to 2^30 reaches (with orders up to 512, epsilon cannot go
 * below log(1/delta) / 511 however large the noise). */
int fin_dp_noise_for(double q, size_t steps, double delta, double epsilon, double *sigma,
		     fin_err *err);

#endif
