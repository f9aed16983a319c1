// Scenarios and comparisons shared by the GPU-path tests (GPU backend, Thrust OMP path) against the OpenMP backend.
#pragma once
#include <gtest/gtest.h>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/run/runner.h"
#include "host/stats/summary.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/params.h"
#include "tests/support/model_fixtures.h"

namespace chipcast::testing {

// A normal truncated to [lo, hi] and a lognormal to [lo, inf), probability bounds from Boost.Math.
inline Dist gpu_normal(double mean, double sd, double lo = -INFINITY, double hi = INFINITY) {
  Dist d = normal_dist(mean, sd);
  boost::math::normal n(mean, sd);
  d.lo = lo;
  d.hi = hi;
  d.u_lo = std::isfinite(lo) ? cdf(n, lo) : 0.0;
  d.u_hi = std::isfinite(hi) ? cdf(n, hi) : 1.0;
  return d;
}
inline Dist gpu_lognormal(double median, double gsd, double lo = 0.0) {
  Dist d = lognormal_dist(median, gsd);
  if (lo > 0) {
    d.lo = lo;
    d.u_lo = cdf(boost::math::normal(d.p0, d.p1), std::log(lo));
  }
  return d;
}
// beta(a, b) on [0, 1], its quantile table in slot `table` (Boost.Math's ibeta_inv).
inline Dist gpu_beta(parity::ModelParams& p, int table, double a, double b) {
  boost::math::beta_distribution<double> dist(a, b);
  for (int i = 0; i < kTableSize; ++i) {
    const double u = static_cast<double>(i) / (kTableSize - 1);
    p.tables.q[table][i] = i == 0 ? 0.0 : i == kTableSize - 1 ? 1.0 : quantile(dist, u);
  }
  Dist d;
  d.kind = DistKind::beta;
  d.p0 = 0.0;
  d.p1 = 1.0;
  d.lo = 0.0;
  d.hi = 1.0;
  d.table = table;
  return d;
}

// A baseline-like scenario exercising every distribution kind (with
// truncation), three Markov regimes with drawn effects, a scheduled event and
// shocks on both blocs, with crossings spread over the horizon.
inline std::unique_ptr<parity::ModelParams> rich_scenario(uint64_t seed = 20261123, int periods = 136,
                                                          double dt = 0.25) {
  using namespace parity;
  auto p = base_params(dt, periods, seed);
  p->sustain = 2;
  for (int b = 0; b < kNumBlocs; ++b) {
    const bool dom = b == kDomestic;
    auto set = [&](int k, Dist d) { p->params[bloc_param_index(b, k)] = d; };
    set(kWafers0, dom ? gpu_lognormal(4500, 1.8) : gpu_lognormal(34000, 1.2));
    set(kWaferGrowth, dom ? gpu_normal(0.30, 0.12, -0.2, 0.8) : gpu_normal(0.10, 0.05));
    set(kWaferVol, fixed_dist(dom ? 0.15 : 0.08));
    set(kWaferCap, dom ? gpu_lognormal(1e5, 2.0, 2e4) : gpu_lognormal(3e5, 1.5));
    set(kDiesPerWafer, dom ? triangular_dist(30, 42, 60) : fixed_dist(43));
    set(kYield0, dom ? gpu_beta(*p, 0, 4, 6) : fixed_dist(0.7));
    set(kYieldMax, dom ? gpu_beta(*p, 1, 7, 4) : uniform_dist(0.85, 0.95));
    set(kLearningRate, gpu_lognormal(0.4, 1.6));
    set(kYieldNoise, fixed_dist(0.15));
    set(kPerf0, dom ? gpu_lognormal(0.6, 1.3) : fixed_dist(2.0));
    set(kPerfGrowth, gpu_normal(dom ? 0.25 : 0.30, 0.1, -0.05, INFINITY));
    set(kHbm0, dom ? gpu_lognormal(2.6e7, 1.5) : gpu_lognormal(2.1e9, 1.2));
    set(kHbmGrowth, gpu_normal(dom ? 0.35 : 0.2, 0.1));
    set(kHbmVol, fixed_dist(0.1));
    set(kHbmPerChip0, dom ? uniform_dist(80, 128) : fixed_dist(188));
    set(kHbmPerChipGrowth, fixed_dist(0.15));
    set(kPackaging0, dom ? gpu_lognormal(1e6, 1.5) : gpu_lognormal(1.25e7, 1.2));
    set(kPackagingGrowth, gpu_normal(dom ? 0.3 : 0.2, 0.05));
  }
  // Regimes in name order: loosened (0), status_quo (1), tightened (2).
  p->num_regimes = 3;
  p->initial_regime = 1;
  const double annual[3][3] = {{0, 0.2, 0.05}, {0.05, 0, 0.15}, {0.02, 0.1, 0}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) p->q[i][j] = i == j ? 0.0 : 1.0 - std::pow(1.0 - annual[i][j], dt);
  p->params[effect_param_index(0, kDomestic, kHbmMult)] = uniform_dist(1.2, 1.8);
  p->params[effect_param_index(0, kForeign, kWaferGrowthAdj)] = fixed_dist(-0.02);
  p->params[effect_param_index(2, kDomestic, kWaferGrowthAdj)] = gpu_normal(-0.10, 0.03);
  p->params[effect_param_index(2, kDomestic, kLearningMult)] = fixed_dist(0.7);
  p->params[effect_param_index(2, kDomestic, kHbmMult)] = uniform_dist(0.3, 0.7);
  p->num_events = 1;
  p->events[0].period = 4;
  p->events[0].regime = 2;
  p->events[0].probability = 0.3;
  p->num_shocks = 2;
  p->shocks[0].bloc = kForeign;
  p->shocks[0].loss = uniform_dist(0.3, 0.9);
  p->params[shock_rate_index(0)] = gpu_lognormal(0.02, 1.5);
  p->shocks[1].bloc = kDomestic;
  p->shocks[1].loss = gpu_beta(*p, 2, 2, 5);
  p->params[shock_rate_index(1)] = fixed_dist(0.05);
  return p;
}

// Every level is +inf in both blocs, so every ratio is NaN (an anomaly, never binned), the calendar years' too.
inline std::unique_ptr<parity::ModelParams> nan_ratio_scenario(uint64_t seed = 5) {
  auto p = rich_scenario(seed, 12, 0.25);
  p->num_regimes = 1;
  p->initial_regime = 0;
  p->num_events = 0;
  p->num_shocks = 0;
  for (int b = 0; b < parity::kNumBlocs; ++b)
    for (int k : {parity::kWafers0, parity::kWaferCap, parity::kHbm0, parity::kPackaging0})
      p->params[parity::bloc_param_index(b, k)] = fixed_dist(INFINITY);
  return p;
}

inline RunSettings run_settings_for(const parity::ModelParams& p) {
  RunSettings r;
  r.start_year = p.start_year;
  r.dt = p.dt;
  r.horizon_year = p.start_year + p.periods * p.dt;
  r.seed = p.seed;
  r.threshold = p.threshold;
  r.sustain = p.sustain;
  return r;
}

inline Tally run_tally(Backend& backend, const parity::ModelParams& p, uint64_t n, uint64_t batch = 0) {
  return run_batches(backend, p, RunPlan{0, n, batch}, nullptr);
}

// First difference between two tallies, for a readable failure.
inline std::string first_difference(const Tally& a, const Tally& b) {
  if (a.shape != b.shape) return "shapes differ";
  if (a.trajectories != b.trajectories)
    return "trajectories " + std::to_string(a.trajectories) + " vs " + std::to_string(b.trajectories);
  size_t diffs = 0;
  std::string first;
  for (size_t i = 0; i < a.level.size(); ++i)
    if (a.level[i] != b.level[i] && diffs++ == 0) {
      const size_t row = i / kLevelBins;
      first = "level row (period, or year after the periods) " + std::to_string(row / kNumSeries) + " series " +
              std::to_string(row % kNumSeries) + " bin " + std::to_string(i % kLevelBins) + ": " +
              std::to_string(a.level[i]) + " vs " + std::to_string(b.level[i]);
    }
  for (size_t i = 0; i < a.crossing.size(); ++i)
    if (a.crossing[i] != b.crossing[i] && diffs++ == 0)
      first = "crossing entry " + std::to_string(i) + ": " + std::to_string(a.crossing[i]) + " vs " +
              std::to_string(b.crossing[i]);
  if (a.anomalies != b.anomalies && diffs++ == 0)
    first = "anomalies " + std::to_string(a.anomalies[0]) + "/" + std::to_string(a.anomalies[1]) + "/" +
            std::to_string(a.anomalies[2]) + " vs " + std::to_string(b.anomalies[0]) + "/" +
            std::to_string(b.anomalies[1]) + "/" + std::to_string(b.anomalies[2]);
  return diffs ? std::to_string(diffs) + " differing counts, first: " + first : "";
}

// Per-trajectory crossing times of two backends: counts the trajectories
// where some metric differs by more than `tol` years (or is censored in one
// only), printing the first few; returns that count.
inline uint64_t count_differing_trajectories(const std::vector<float>& a, const std::vector<float>& b, uint64_t n,
                                             float tol, int print = 10) {
  uint64_t differing = 0;
  for (uint64_t i = 0; i < n; ++i) {
    bool differs = false;
    for (int m = 0; m < kNumMetrics; ++m) {
      const float x = a[m * n + i], y = b[m * n + i];
      if ((x < 0) != (y < 0) || std::fabs(x - y) > tol) differs = true;
    }
    if (differs && static_cast<int>(differing++) < print)
      std::printf("  trajectory %llu: units %.6f vs %.6f, compute %.6f vs %.6f, memory %.6f vs %.6f\n",
                  static_cast<unsigned long long>(i), a[i], b[i], a[n + i], b[n + i], a[2 * n + i], b[2 * n + i]);
  }
  return differing;
}

// Level quantiles agree within one 0.01-decade bin; special values exactly.
inline bool within_one_level_bin(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  if (!(a > 0 && b > 0) || std::isinf(a) || std::isinf(b)) return false;
  return std::fabs(std::log10(a) - std::log10(b)) <= kLog10Width * (1 + 1e-6);
}

// Every crossing-year quantile within one crossing bin and every band
// quantile within one level bin of the reference; returns the mismatches.
inline int compare_summaries(const Summary& got, const Summary& ref, double dt, int sub_bins) {
  int bad = 0;
  const double bin = dt / sub_bins + 1e-9;
  for (int m = 0; m < kNumMetrics; ++m) {
    const auto& g = got.metrics[m];
    const auto& r = ref.metrics[m];
    const std::optional<double> gq[3] = {g.q05, g.q50, g.q95}, rq[3] = {r.q05, r.q50, r.q95};
    for (int i = 0; i < 3; ++i) {
      const bool ok = gq[i].has_value() == rq[i].has_value() && (!gq[i] || std::fabs(*gq[i] - *rq[i]) <= bin);
      if (!ok) {
        ++bad;
        ADD_FAILURE() << kMetricNames[m] << " crossing quantile " << i << ": " << (gq[i] ? *gq[i] : -1.0) << " vs "
                      << (rq[i] ? *rq[i] : -1.0);
      }
    }
  }
  if (got.bands.size() != ref.bands.size()) {
    ADD_FAILURE() << "band rows " << got.bands.size() << " vs " << ref.bands.size();
    return bad + 1;
  }
  for (size_t i = 0; i < got.bands.size(); ++i)
    for (int q = 0; q < 5; ++q)
      if (!within_one_level_bin(got.bands[i].q[q], ref.bands[i].q[q]) && bad++ < 20)
        ADD_FAILURE() << kMetricNames[got.bands[i].metric] << " " << kSeriesNames[got.bands[i].series] << " year "
                      << got.bands[i].year << " q" << kBandQuantiles[q] << ": " << got.bands[i].q[q] << " vs "
                      << ref.bands[i].q[q];
  return bad;
}

}  // namespace chipcast::testing
