// Sobol first-order and total indices from Saltelli designs, on plain arrays, with bootstrap intervals.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/stats/summary.h"

namespace chipcast::analysis {

// Point estimates from the outputs of one Saltelli design: f_a[j], f_b[j] and
// f_ab[i][j] (j < n) are the output of sample j of matrix A, of matrix B, and
// of A with factor i's columns taken from B.
//   first[i] = mean_j (f_B - m) (f_ABi - f_A) / V        (Saltelli et al. 2010, eq. (b))
//   total[i] = mean_j (f_A - f_ABi)^2 / 2 / V            (Jansen 1999)
// with m and V the mean and variance (divisor 2n - 1) over A and B together.
// Centring f_B on m leaves the estimator's expectation unchanged but removes
// the m (f_ABi - f_A) term, whose variance swamps the estimate when the output
// sits far from 0 (parity years are ~2040). V = 0 gives NaN indices.
struct SobolPoint {
  std::vector<double> first, total;
  double mean = 0, variance = 0;
};

// `idx` (n entries, each < n), when given, is a resample: sample j of the
// estimate is row idx[j] of every matrix (the bootstrap resamples rows, so A,
// B and AB_i stay paired).
SobolPoint sobol_indices(const double* f_a, const double* f_b, const std::vector<const double*>& f_ab, size_t n,
                         const uint32_t* idx = nullptr);

struct SobolResult {
  SobolPoint point;
  // Bootstrap over rows: standard deviation of the replicates and the
  // percentile 95 % interval (2.5 % and 97.5 % replicate quantiles, linear
  // interpolation between order statistics). NaN replicates (V = 0) are left out.
  std::vector<double> first_stderr, total_stderr;
  std::vector<Interval> first_ci95, total_ci95;
  int bootstrap = 0;
};

// The point estimates and `resamples` bootstrap replicates. Resample r draws
// its n row indices from Philox4x32-10 keyed by `seed` with counter
// (r, kBootstrapPeriod, word block), so the result is the same for any thread
// count. threads = 0: OpenMP's default. Requires n < 2^32.
SobolResult sobol_with_bootstrap(const double* f_a, const double* f_b, const std::vector<const double*>& f_ab, size_t n,
                                 int resamples, uint64_t seed, int threads = 0);

// The q-quantile (type 7: linear between order statistics) of `v` (sorted in place); NaN when empty.
double sample_quantile(std::vector<double>& v, double q);

}  // namespace chipcast::analysis
