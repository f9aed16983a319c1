// The predictive distribution of an observation and its scores (predictive_score.h).
#include "host/stats/predictive_score.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/tally/tally_layout.h"

namespace chipcast {
namespace {

constexpr double kLn10 = 2.30258509299404568402;
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

double phi(double z) { return kInvSqrt2Pi * std::exp(-0.5 * z * z); }
double big_phi(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

// Grimit et al. (2006)'s A(mu, v) = E|X| for X ~ N(mu, v).
double abs_moment(double mu, double v) {
  const double s = std::sqrt(v);
  const double z = mu / s;
  return 2.0 * s * phi(z) + mu * (2.0 * big_phi(z) - 1.0);
}

}  // namespace

LogNormalMixture predictive_mixture(const uint64_t* counts, double sd_log) {
  if (!(sd_log > 0.0) || !std::isfinite(sd_log))
    throw std::invalid_argument("predictive_mixture: sd_log must be positive and finite, got " +
                                std::to_string(sd_log));
  uint64_t total = 0;
  for (int b = 0; b < kLevelBins; ++b) total += counts[b];
  if (total == 0) throw std::invalid_argument("predictive_mixture: the histogram is empty");
  LogNormalMixture m;
  m.sd = sd_log;
  const double n = static_cast<double>(total);
  for (int b = 0; b < kLevelBins; ++b) {
    if (counts[b] == 0) continue;
    const double w = static_cast<double>(counts[b]) / n;
    if (b == kBinZero) {
      m.minus_inf = w;
    } else if (b == kBinInfinite) {
      m.plus_inf = w;
    } else {
      const double log10_value =
          b == kBinUnder ? kLowDecade : (b == kBinOver ? kHighDecade : regular_bin_log10(b, 0.5));
      m.weight.push_back(w);
      m.mean.push_back(kLn10 * log10_value);
    }
  }
  return m;
}

double mixture_cdf(const LogNormalMixture& m, double x) {
  if (std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  double c = m.minus_inf;
  if (x == std::numeric_limits<double>::infinity()) return c + (1.0 - m.minus_inf - m.plus_inf);
  for (size_t i = 0; i < m.weight.size(); ++i) c += m.weight[i] * big_phi((x - m.mean[i]) / m.sd);
  return c;
}

double mixture_quantile(const LogNormalMixture& m, double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("mixture_quantile: p must lie in (0, 1)");
  if (p <= m.minus_inf) return -std::numeric_limits<double>::infinity();
  if (p > 1.0 - m.plus_inf) return std::numeric_limits<double>::infinity();
  // Every finite component lies within [min mean, max mean]; 40 sd beyond
  // them each Phi is 1 or 0 to double precision, so the quantile is inside.
  double lo = m.mean.front(), hi = m.mean.front();
  for (double mu : m.mean) {
    lo = std::fmin(lo, mu);
    hi = std::fmax(hi, mu);
  }
  lo -= 40.0 * m.sd;
  hi += 40.0 * m.sd;
  while (hi - lo > 1e-12 * std::fmax(1.0, std::fabs(lo) + std::fabs(hi))) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (mixture_cdf(m, mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double mixture_spread(const LogNormalMixture& m) {
  if (m.minus_inf > 0.0 || m.plus_inf > 0.0) return std::numeric_limits<double>::infinity();
  const double v2 = 2.0 * m.sd * m.sd;
  // The double sum is symmetric with A(0, 2v) on the diagonal: the diagonal once, each pair twice.
  const double a0 = abs_moment(0.0, v2);
  double spread = 0.0;
  for (size_t i = 0; i < m.weight.size(); ++i) {
    spread += m.weight[i] * m.weight[i] * a0;
    for (size_t j = i + 1; j < m.weight.size(); ++j)
      spread += 2.0 * m.weight[i] * m.weight[j] * abs_moment(m.mean[i] - m.mean[j], v2);
  }
  return spread;
}

namespace {

double crps_with_spread(const LogNormalMixture& m, double log_y, double spread) {
  if (m.minus_inf > 0.0 || m.plus_inf > 0.0) return std::numeric_limits<double>::infinity();
  const double v = m.sd * m.sd;
  double first = 0.0;
  for (size_t i = 0; i < m.weight.size(); ++i) first += m.weight[i] * abs_moment(log_y - m.mean[i], v);
  return first - 0.5 * spread;
}

}  // namespace

double mixture_crps(const LogNormalMixture& m, double log_y) { return crps_with_spread(m, log_y, mixture_spread(m)); }

PredictiveScore score_observation(const LogNormalMixture& m, double log_y) {
  return score_observation(m, log_y, mixture_spread(m));
}

PredictiveScore score_observation(const LogNormalMixture& m, double log_y, double spread) {
  PredictiveScore s;
  s.pit = mixture_cdf(m, log_y);
  const double off = std::fabs(s.pit - 0.5);
  s.covered50 = off <= 0.25;
  s.covered90 = off <= 0.45;
  s.crps = crps_with_spread(m, log_y, spread);
  return s;
}

}  // namespace chipcast
