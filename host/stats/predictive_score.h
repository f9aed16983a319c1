// The predictive distribution of an observation (simulated value times its lognormal error) and its scores.
#pragma once
#include <cstdint>
#include <vector>

namespace chipcast {

// The predictive distribution of ln(observed) (MODEL-v2.md section 9): the
// simulated value's log, read from a level histogram, plus a N(0, sd^2)
// measurement error. So it is a mixture of normals in log space, one per
// non-empty histogram bin, all with the same sd. A regular bin's component
// sits at the bin's centre (a bin is 0.01 decade = 0.023 in ln, so the
// centre's error adds at most 0.023^2 / 12 to a variance of sd^2); kBinUnder
// and kBinOver sit at the range's ends (1e-12, 1e18), as histogram_quantile
// reports them. A simulated 0 is an atom at -inf (every observation lies
// above it) and a simulated +inf an atom at +inf.
struct LogNormalMixture {
  std::vector<double> weight;  // of the finite components, summing to 1 - minus_inf - plus_inf
  std::vector<double> mean;    // ln of each component's simulated value
  double sd = 0;               // the observation's sd_log, > 0
  double minus_inf = 0;        // mass of simulated zeros
  double plus_inf = 0;         // mass of simulated +inf
};

// The mixture of a level histogram of kLevelBins counts (kernels/tally/tally_layout.h)
// with measurement error sd_log. Throws std::invalid_argument for an empty
// histogram or sd_log <= 0 (or not finite).
LogNormalMixture predictive_mixture(const uint64_t* counts, double sd_log);

// P(ln observed <= x): minus_inf + sum_b w_b Phi((x - mean_b) / sd).
double mixture_cdf(const LogNormalMixture& m, double x);

// The p-quantile (p in (0, 1)) in log space, by bisection on mixture_cdf to
// 1e-12 in x; -inf / +inf when an atom holds it. Throws for p outside (0, 1).
double mixture_quantile(const LogNormalMixture& m, double p);

// The scores of one observation ln y.
struct PredictiveScore {
  double pit = 0;          // mixture_cdf(ln y): uniform on (0, 1) for a calibrated model
  bool covered50 = false;  // ln y inside the central 50 % band [q25, q75]
  bool covered90 = false;  // ... and the central 90 % band [q05, q95]
  double crps = 0;         // CRPS of ln y (+inf when an atom at +-inf has mass)
};

// PIT, coverage and CRPS of log_y. The mixture's CDF is continuous and
// strictly increasing (sd > 0), so ln y lies in the central band of level c
// exactly when |PIT - 1/2| <= c / 2: coverage is read from the PIT, with no
// quantile search.
// `spread` is mixture_spread(m), which does not depend on the observation:
// computed once, it serves every draw scored against the same mixture.
PredictiveScore score_observation(const LogNormalMixture& m, double log_y);
PredictiveScore score_observation(const LogNormalMixture& m, double log_y, double spread);

// CRPS(F, y) = integral (F(x) - 1{x >= y})^2 dx of the normal mixture in
// closed form (Grimit, Gneiting, Berrocal and Johnson 2006):
//   sum_i w_i A(y - mu_i, s^2) - 1/2 sum_i sum_j w_i w_j A(mu_i - mu_j, 2 s^2),
//   A(mu, v) = 2 sqrt(v) phi(mu / sqrt(v)) + mu (2 Phi(mu / sqrt(v)) - 1).
// +inf when an atom at +-inf has mass (the integral diverges).
double mixture_crps(const LogNormalMixture& m, double log_y);

// The double sum above, E|X - X'| for X, X' independent draws of the
// mixture: O(components^2), the costly part of the CRPS.
double mixture_spread(const LogNormalMixture& m);

}  // namespace chipcast
