// Device-side samplers: inverse CDFs of MODEL.md's distributions, with truncation.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/simd_math.h"

namespace chipcast {

enum class DistKind : int32_t { fixed = 0, normal, lognormal, uniform, triangular, beta };

// Inverse-CDF tables for distributions without a closed-form quantile (beta).
// Filled on the host with Boost.Math's ibeta_inv at kTableSize equally spaced
// probabilities and interpolated linearly; the sampled CDF then differs from
// the exact one by less than one table step in probability (1/4096), far
// below what any of our Kolmogorov-Smirnov tests (or a forecast) can see.
constexpr int kMaxTables = 12;
constexpr int kTableSize = 4097;

struct QuantileTables {
  double q[kMaxTables][kTableSize];
};

// One distribution, resolved on the host into what the quantile needs.
// Truncation to [lo, hi] is done in probability space: u is mapped into
// [cdf(lo), cdf(hi)] (computed on the host with Boost.Math), then the result is
// clamped to [lo, hi] against rounding.
struct Dist {
  DistKind kind = DistKind::fixed;
  double p0 = 0, p1 = 0, p2 = 0;         // fixed: value | normal: mean, sd | lognormal: log median, log gsd
                                         // uniform: low, high | triangular: low, mode, high
                                         // beta: low, high (scale of the table's [0,1] quantile)
  double u_lo = 0, u_hi = 1;             // truncation in probability space
  double lo = -INFINITY, hi = INFINITY;  // truncation bounds (clamp)
  int32_t table = -1;                    // beta: index into QuantileTables
};

// A parameter fixed at v (no draw).
CC_FUNCTION Dist fixed_dist(double v) {
  Dist d;
  d.kind = DistKind::fixed;
  d.p0 = v;
  return d;
}

// Standard normal quantile, Wichura's AS241 (PPND16), relative accuracy ~1e-16,
// in pieces: the central rational approximation for |q| <= 0.425 (q = p - 0.5),
// the tails' radius r = sqrt(-log(min(p, 1 - p))) and the two tail
// approximations (r <= 5, and r > 5 for p below ~1.4e-11). normal_quantile
// evaluates all of them and selects one, without branches, so that host lane
// loops vectorise; normal_quantile_lanes does the same per lane with fewer
// evaluations. Both give the same bits.
CC_FUNCTION double nq_central(double q) {
  const double rc = 0.180625 - q * q;
  return q *
         (((((((2509.0809287301226727 * rc + 33430.575583588128105) * rc + 67265.770927008700853) * rc +
              45921.953931549871457) *
                 rc +
             13731.693765509461125) *
                rc +
            1971.5909503065514427) *
               rc +
           133.14166789178437745) *
              rc +
          3.387132872796366608) /
         (((((((5226.495278852545925 * rc + 28729.085735721942674) * rc + 39307.89580009271061) * rc +
              21213.794301586595867) *
                 rc +
             5394.1960214247511077) *
                rc +
            687.1870074920579083) *
               rc +
           42.313330701600911252) *
              rc +
          1.0);
}
CC_FUNCTION double nq_radius(double p, double q) {
  const double tail_p = q < 0 ? p : 1.0 - p;
  // Guard the argument so the unused tail branch stays finite in the centre.
  return sqrt(-log(tail_p > 0 ? (tail_p < 0.5 ? tail_p : 0.5) : 1e-300));
}
CC_FUNCTION double nq_near_tail(double r) {
  const double r1 = r - 1.6;
  return (((((((7.7454501427834140764e-4 * r1 + 0.0227238449892691845833) * r1 + 0.24178072517745061177) * r1 +
              1.27045825245236838258) *
                 r1 +
             3.64784832476320460504) *
                r1 +
            5.7694972214606914055) *
               r1 +
           4.6303378461565452959) *
              r1 +
          1.42343711074968357734) /
         (((((((1.05075007164441684324e-9 * r1 + 5.475938084995344946e-4) * r1 + 0.0151986665636164571966) * r1 +
              0.14810397642748007459) *
                 r1 +
             0.68976733498510000455) *
                r1 +
            1.6763848301838038494) *
               r1 +
           2.05319162663775882187) *
              r1 +
          1.0);
}
CC_FUNCTION double nq_far_tail(double r) {
  const double r2 = r - 5.0;
  return (((((((2.01033439929228813265e-7 * r2 + 2.71155556874348757815e-5) * r2 + 0.0012426609473880784386) * r2 +
              0.026532189526576123093) *
                 r2 +
             0.29656057182850489123) *
                r2 +
            1.7848265399172913358) *
               r2 +
           5.4637849111641143699) *
              r2 +
          6.6579046435011037772) /
         (((((((2.04426310338993978564e-15 * r2 + 1.4215117583164458887e-7) * r2 + 1.8463183175100546818e-5) * r2 +
              7.868691311456132591e-4) *
                 r2 +
             0.0148753612908506148525) *
                r2 +
            0.13692988092273580531) *
               r2 +
           0.59983220655588793769) *
              r2 +
          1.0);
}
CC_FUNCTION bool nq_in_tail(double q) { return !(fabs(q) <= 0.425); }  // true for a NaN, as the select below
CC_FUNCTION bool nq_far(double r) { return !(r <= 5.0); }
CC_FUNCTION double nq_select(double q, double central, double tail) {
  const double signed_tail = q < 0 ? -tail : tail;
  return nq_in_tail(q) ? signed_tail : central;
}

CC_FUNCTION double normal_quantile(double p) {
  const double q = p - 0.5;
  const double r = nq_radius(p, q);
  return nq_select(q, nq_central(q), nq_far(r) ? nq_far_tail(r) : nq_near_tail(r));
}

// normal_quantile of L lanes: the tails' radius and approximation only in a
// block where some lane is in a tail (|q| > 0.425: 15 % of draws, so 7 % of
// 16-lane blocks have none), the far tail's only where some lane needs it
// (almost never). Each lane's result comes from the same operations as
// normal_quantile's, so it has the same bits.
template <int L>
CC_FUNCTION void normal_quantile_lanes(const double (&p)[L], double (&z)[L]) {
  double q[L];
  int64_t tails = 0;  // 64-bit flags: with double lanes, 32-bit ones stop g++ vectorising
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    q[l] = p[l] - 0.5;
    z[l] = nq_central(q[l]);
    tails |= nq_in_tail(q[l]) ? 1 : 0;
  }
  if (!tails) return;
  double r[L], tail[L];
  int64_t far = 0;
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    r[l] = nq_radius(p[l], q[l]);
    tail[l] = nq_near_tail(r[l]);
  }
  CC_SIMD
  for (int l = 0; l < L; ++l) far |= nq_far(r[l]) ? 1 : 0;
  if (far) {
    CC_SIMD
    for (int l = 0; l < L; ++l) tail[l] = nq_far(r[l]) ? nq_far_tail(r[l]) : tail[l];
  }
  CC_SIMD
  for (int l = 0; l < L; ++l) z[l] = nq_select(q[l], z[l], tail[l]);
}

CC_FUNCTION double table_quantile(const double* t, double u) {
  const double pos = u * (kTableSize - 1);
  int i = static_cast<int>(pos);
  i = i < 0 ? 0 : (i > kTableSize - 2 ? kTableSize - 2 : i);
  const double f = pos - i;
  return t[i] + f * (t[i + 1] - t[i]);
}

CC_FUNCTION double clamp_to(const Dist& d, double x) {
  x = x < d.lo ? d.lo : x;
  return x > d.hi ? d.hi : x;
}

CC_FUNCTION double triangular_quantile(double a, double c, double b, double v) {
  const double fc = (c - a) / (b - a);
  const double left = a + sqrt(v * (b - a) * (c - a));
  const double right = b - sqrt((1.0 - v) * (b - a) * (b - c));
  return v < fc ? left : right;
}

// Quantile of `d` at u in (0, 1), truncation included.
CC_FUNCTION double dist_quantile(const Dist& d, const QuantileTables& tables, double u) {
  const double v = d.u_lo + u * (d.u_hi - d.u_lo);
  switch (d.kind) {
    case DistKind::fixed:
      return d.p0;
    case DistKind::normal:
      return clamp_to(d, d.p0 + d.p1 * normal_quantile(v));
    case DistKind::lognormal:
      return clamp_to(d, exp(d.p0 + d.p1 * normal_quantile(v)));
    case DistKind::uniform:
      return clamp_to(d, d.p0 + v * (d.p1 - d.p0));
    case DistKind::triangular:
      return clamp_to(d, triangular_quantile(d.p0, d.p1, d.p2, v));
    case DistKind::beta:
    default:
      return clamp_to(d, d.p0 + (d.p1 - d.p0) * table_quantile(tables.q[d.table], v));
  }
}

// The same for L lanes at once, with the distribution's kind decided outside
// the lane loop so that the host compiler vectorises each case.
template <int L>
CC_FUNCTION void dist_quantile_lanes(const Dist& d, const QuantileTables& tables, const double (&u)[L],
                                     double (&out)[L]) {
  const double ulo = d.u_lo, width = d.u_hi - d.u_lo;
  switch (d.kind) {
    case DistKind::fixed:
      CC_SIMD
      for (int l = 0; l < L; ++l) out[l] = d.p0;
      break;
    case DistKind::normal:
    case DistKind::lognormal: {
      double v[L], z[L];
      CC_SIMD
      for (int l = 0; l < L; ++l) v[l] = ulo + u[l] * width;
      normal_quantile_lanes<L>(v, z);
      if (d.kind == DistKind::normal) {
        CC_SIMD
        for (int l = 0; l < L; ++l) out[l] = clamp_to(d, d.p0 + d.p1 * z[l]);
      } else {
        CC_SIMD
        for (int l = 0; l < L; ++l) out[l] = clamp_to(d, exp(d.p0 + d.p1 * z[l]));
      }
      break;
    }
    case DistKind::uniform:
      CC_SIMD
      for (int l = 0; l < L; ++l) out[l] = clamp_to(d, d.p0 + (ulo + u[l] * width) * (d.p1 - d.p0));
      break;
    case DistKind::triangular:
      CC_SIMD
      for (int l = 0; l < L; ++l) out[l] = clamp_to(d, triangular_quantile(d.p0, d.p1, d.p2, ulo + u[l] * width));
      break;
    case DistKind::beta:
    default: {
      const double* t = tables.q[d.table];
      CC_SIMD
      for (int l = 0; l < L; ++l) out[l] = clamp_to(d, d.p0 + (d.p1 - d.p0) * table_quantile(t, ulo + u[l] * width));
      break;
    }
  }
}

}  // namespace chipcast
