// A drawn parameter's quantiles from the histogram of its uniforms, through its own inverse CDF.
#pragma once
#include <cstdint>

#include "kernels/distributions.h"

namespace chipcast {

// The q-quantile (q in (0, 1)) of a parameter whose uniforms u were counted in
// kUniformBins bins (kernels/tally/uniform_bins.h): the u of the
// ceil(q N)-th smallest draw read from the first bin whose cumulative count
// reaches q N, linearly interpolated inside it (so within one bin, 1/4096, of
// the sample's), mapped through dist_quantile(d, tables, u). dist_quantile is
// non-decreasing in u, so this is the value's own quantile. NaN for an empty
// histogram; throws std::invalid_argument for q outside (0, 1).
double parameter_quantile(const uint64_t* counts, const Dist& d, const QuantileTables& tables, double q);

// How much a posterior narrowed a 90 % interval: 1 - (post q95 - post q05) /
// (prior q95 - prior q05); 0 for a prior interval of width 0.
double interval_shrink(double prior_q05, double prior_q95, double post_q05, double post_q95);

}  // namespace chipcast
