// Histogram bins of a parameter's inverse-CDF uniform u (calibration's parameter marginals).
#pragma once

#include "kernels/macros.h"

namespace chipcast {

// A drawn parameter's value is a monotone function of its uniform u
// (dist_quantile), so the histogram of u in kUniformBins equal bins gives
// every quantile of the value exactly through that function, to within one
// bin of u: integer counts, mergeable like the level histograms.
constexpr int kUniformBins = 4096;

// The bin of u in (0, 1): floor(u * kUniformBins), kept in range.
CC_FUNCTION int uniform_bin(double u) {
  const int b = static_cast<int>(u * kUniformBins);
  return b < 0 ? 0 : (b >= kUniformBins ? kUniformBins - 1 : b);
}

}  // namespace chipcast
