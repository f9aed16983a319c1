// Hand-built model parameters for kernel and backend tests (no TOML involved).
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "kernels/tally/time_grid.h"
#include "models/parity/params.h"

namespace chipcast::testing {

// Distributions by their usual parameters, untruncated (fixed_dist is in kernels/distributions.h).
inline Dist normal_dist(double mean, double sd) {
  Dist d;
  d.kind = DistKind::normal;
  d.p0 = mean;
  d.p1 = sd;
  return d;
}
inline Dist lognormal_dist(double median, double gsd) {
  Dist d;
  d.kind = DistKind::lognormal;
  d.p0 = std::log(median);
  d.p1 = std::log(gsd);
  return d;
}
inline Dist uniform_dist(double low, double high) {
  Dist d;
  d.kind = DistKind::uniform;
  d.p0 = low;
  d.p1 = high;
  return d;
}
inline Dist triangular_dist(double low, double mode, double high) {
  Dist d;
  d.kind = DistKind::triangular;
  d.p0 = low;
  d.p1 = mode;
  d.p2 = high;
  return d;
}

// The time grid from 2026 (with its calendar-year totals where 1/dt is whole, as the config layer sets
// them), parity at a ratio of 1 sustained one period, and one regime whose effects change nothing; every
// bloc parameter is left for the caller to set.
inline std::unique_ptr<parity::ModelParams> base_params(double dt, int periods, uint64_t seed) {
  using namespace parity;
  auto p = std::make_unique<ModelParams>();
  p->seed = seed;
  p->periods = periods;
  p->dt = dt;
  p->start_year = 2026.0;
  p->threshold = 1.0;
  p->sustain = 1;
  p->sub_bins = sub_bins_for(dt);
  const AnnualGrid annual = annual_grid(p->start_year, dt, periods);
  p->periods_per_year = annual.per_year;
  p->years = annual.years;
  p->num_regimes = 1;
  p->initial_regime = 0;
  for (int r = 0; r < kMaxRegimes; ++r)
    for (int b = 0; b < kNumBlocs; ++b) {
      p->params[effect_param_index(r, b, kWaferGrowthAdj)] = fixed_dist(0.0);
      p->params[effect_param_index(r, b, kLearningMult)] = fixed_dist(1.0);
      p->params[effect_param_index(r, b, kHbmMult)] = fixed_dist(1.0);
    }
  return p;
}

// A scenario where nothing binds but wafer capacity and every parameter is
// fixed: domestic log capacity is Brownian motion with drift `nu` and
// volatility `sigma` starting `a` below the foreign one, foreign constant, so
// the log ratio of every metric is log(thr) - a + nu t + sigma W_t.
inline std::unique_ptr<parity::ModelParams> brownian_params(double a, double nu, double sigma, double dt, int periods,
                                                            uint64_t seed) {
  using namespace parity;
  auto p = base_params(dt, periods, seed);
  for (int b = 0; b < kNumBlocs; ++b) {
    auto set = [&](int k, double v) { p->params[bloc_param_index(b, k)] = fixed_dist(v); };
    set(kWafers0, b == kDomestic ? 1e4 * std::exp(-a) : 1e4);
    set(kWaferGrowth, b == kDomestic ? nu : 0.0);
    set(kWaferVol, b == kDomestic ? sigma : 0.0);
    set(kWaferCap, 1e30);
    set(kDiesPerWafer, 50);
    set(kYield0, 1.0);  // y = 1: no yield noise, log y = 0
    set(kYieldMax, 1.0);
    set(kLearningRate, 0.0);
    set(kYieldNoise, 0.0);
    set(kPerf0, 2.0);  // equal, so every metric's ratio is the same walk
    set(kPerfGrowth, 0.0);
    set(kHbm0, 1e30);
    set(kHbmGrowth, 0.0);
    set(kHbmVol, 0.0);
    set(kHbmPerChip0, 64);
    set(kHbmPerChipGrowth, 0.0);
    set(kPackaging0, 1e30);
    set(kPackagingGrowth, 0.0);
  }
  return p;
}

// Every feature at once: distributions (incl. a beta via its quantile table),
// three regimes with transitions and effects, an event, two shocks.
inline std::unique_ptr<parity::ModelParams> rich_params(uint64_t seed, int periods = 60) {
  using namespace parity;
  auto p = brownian_params(2.5, 0.05, 0.2, 0.25, periods, seed);
  // Beta(2, 5) on [0, 1] through a table of its quantiles at i/(n-1),
  // computed here by bisection on the regularised incomplete beta written
  // as the closed-form CDF of Beta(2, 5): 1 - (1-x)^5 (1 + 5x).
  for (int i = 0; i < kTableSize; ++i) {
    const double u = static_cast<double>(i) / (kTableSize - 1);
    double lo = 0, hi = 1;
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (lo + hi);
      const double cdf = 1 - std::pow(1 - mid, 5) * (1 + 5 * mid);
      (cdf < u ? lo : hi) = mid;
    }
    p->tables.q[0][i] = 0.5 * (lo + hi);
  }
  Dist beta;
  beta.kind = DistKind::beta;
  beta.table = 0;
  beta.p0 = 0.1;
  beta.p1 = 0.9;
  p->params[bloc_param_index(kDomestic, kWaferGrowth)] = normal_dist(0.1, 0.05);
  p->params[bloc_param_index(kForeign, kWaferGrowth)] = normal_dist(0.05, 0.03);
  p->params[bloc_param_index(kDomestic, kHbm0)] = lognormal_dist(1e6, 1.5);
  p->params[bloc_param_index(kDomestic, kHbmPerChip0)] = fixed_dist(64);
  p->params[bloc_param_index(kDomestic, kYield0)] = beta;
  p->params[bloc_param_index(kDomestic, kYieldMax)] = fixed_dist(0.95);
  p->params[bloc_param_index(kDomestic, kLearningRate)] = lognormal_dist(0.3, 1.3);
  p->params[bloc_param_index(kDomestic, kYieldNoise)] = fixed_dist(0.2);
  p->num_regimes = 3;
  p->q[0][1] = 0.03;
  p->q[0][2] = 0.01;
  p->q[1][0] = 0.05;
  p->q[2][1] = 0.1;
  p->params[effect_param_index(1, kDomestic, kWaferGrowthAdj)] = normal_dist(-0.1, 0.02);
  p->params[effect_param_index(1, kDomestic, kHbmMult)] = fixed_dist(0.5);
  p->params[effect_param_index(2, kDomestic, kLearningMult)] = fixed_dist(1.5);
  p->num_events = 1;
  p->events[0] = EventSpec{4, 1, 0.3};
  p->num_shocks = 2;
  p->shocks[0].bloc = kForeign;
  p->shocks[0].loss = beta;
  p->params[shock_rate_index(0)] = lognormal_dist(0.05, 2.0);
  p->shocks[1].bloc = kDomestic;
  p->shocks[1].loss = fixed_dist(0.2);
  p->params[shock_rate_index(1)] = fixed_dist(0.1);
  return p;
}

// Backends compiled into this build that can run here (GPU ones need a device).
inline std::vector<std::string> runnable_backends() {
  std::vector<std::string> out;
  for (const auto& n : compiled_backends()) {
    try {
      make_backend(n, BackendOptions{});
      out.push_back(n);
    } catch (const std::exception&) {
    }
  }
  return out;
}

inline std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace chipcast::testing
