// A drawn parameter's quantiles from the histogram of its uniforms (parameter_quantiles.h).
#include "host/stats/parameter_quantiles.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "kernels/tally/uniform_bins.h"

namespace chipcast {

double parameter_quantile(const uint64_t* counts, const Dist& d, const QuantileTables& tables, double q) {
  if (!(q > 0.0 && q < 1.0)) throw std::invalid_argument("parameter_quantile: q must lie in (0, 1)");
  uint64_t total = 0;
  for (int b = 0; b < kUniformBins; ++b) total += counts[b];
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  const double target = q * static_cast<double>(total);
  uint64_t below = 0;
  int b = 0;
  while (b < kUniformBins - 1 && static_cast<double>(below + counts[b]) < target) below += counts[b++];
  // Within the bin, the fraction of its count the target needs.
  const double f = counts[b] == 0 ? 0.5 : (target - static_cast<double>(below)) / static_cast<double>(counts[b]);
  double u = (b + f) / kUniformBins;
  // dist_quantile takes u in the open interval (0, 1).
  const double lo = 0.5 / 4294967296.0, hi = 1.0 - lo;
  u = u < lo ? lo : (u > hi ? hi : u);
  return dist_quantile(d, tables, u);
}

double interval_shrink(double prior_q05, double prior_q95, double post_q05, double post_q95) {
  const double prior = prior_q95 - prior_q05;
  if (!(prior > 0.0)) return 0.0;
  return 1.0 - (post_q95 - post_q05) / prior;
}

}  // namespace chipcast
