// A metric's domestic/foreign ratio in logs, with its zero, infinite and NaN cases (MODEL.md).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/macros.h"

namespace chipcast::parity {

// NaN test on the bit pattern (vectorises where `x != x` may not).
CC_FUNCTION bool is_nan_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x7fffffffu) > 0x7f800000u;
}

// r = domestic / foreign of one metric from the levels ld = log domestic and
// lf = log foreign, branch-free. log 0 = -inf marks an empty bloc: both 0 is
// r = 0; foreign 0 alone is r = +inf; log_r is 0 in both cases.
struct LogRatio {
  float log_r;
  bool zero;  // r = 0
  bool inf;   // r = +inf
  bool nan;   // r undefined: a NaN level, or both levels +inf

  // A constructor rather than a function returning the struct: g++ 12 then
  // keeps the lane loop around it free of branches (it vectorises).
  CC_FUNCTION LogRatio(float ld, float lf) {
    zero = ld == -INFINITY;
    inf = (!zero) & (lf == -INFINITY);
    log_r = (zero | inf) ? 0.0f : ld - lf;
    // log_r is NaN exactly when either level is, or both are +inf (written on
    // the levels: g++ does not vectorise a NaN test on the select's result).
    nan = is_nan_bits(ld) | is_nan_bits(lf) | ((ld == INFINITY) & (lf == INFINITY));
  }
  // The same for levels known finite (FiniteLevels: no lane of the block has
  // a zero, infinite, NaN or precision-losing level): none of the cases.
  struct FiniteLevels {};
  CC_FUNCTION LogRatio(float ld, float lf, FiniteLevels) : log_r(ld - lf), zero(false), inf(false), nan(false) {}
};

}  // namespace chipcast::parity
