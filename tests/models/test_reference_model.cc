// Every backend against the double-precision reference model (trajectory by trajectory, tallies) and against closed forms.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "chipcast_config.h"
#include "host/run/runner.h"
#include "tests/backends/test_gpu_scenario.h"
#include "tests/support/model_fixtures.h"
#include "tests/support/reference_model.h"

#if CHIPCAST_HAVE_THRUST_OMP
#include "backends/cuda/thrust_omp_path.h"
#define CHIPCAST_TEST_THRUST_OMP 1
#else
#define CHIPCAST_TEST_THRUST_OMP 0
#endif

// Tolerances, all from the reference's float32 bound (reference_model.h):
// - a log level or log ratio: e_k, the rounding bound propagated through the
//   period recursion (worst case linear in k: each of log C, log H and the
//   learning clock adds one rounding per operation per period, u = 2^-24
//   times the magnitudes involved, 8u per libm call), doubled;
// - a crossing decision "r_k >= threshold": may differ from the reference's
//   when |log r_k - log threshold| <= e_k + u |log threshold|; trajectories
//   with such a period up to their confirmation are counted, not compared;
// - a crossing time T = T_{k-1} + dt f, f = (log thr - a) / (b - a): with
//   a = log r_{k-1}, b = log r_k, |df| <= (e_a + e_thr + u|n| + f (e_a + e_b
//   + u|d|)) / (d - e_a - e_b) + u f (n, d the numerator and denominator),
//   at most 1, so |dT| <= dt |df| + 4u (k + 1) dt;
// - a histogram count: a trajectory whose level lies within its bound of a
//   0.01-decade edge (in float position units: the bound times
//   log10(e)/0.01 plus 4 roundings of the position), or whose crossing time
//   lies within its bound of a sub-bin edge, may be counted in the bin across
//   that edge; each bin may lose the reference's movable trajectories and
//   gain those across its edges, and no more (near-threshold trajectories
//   may be in any crossing bin).
// On these scenarios the median crossing-time bound is about 2e-3 years and
// the backends stay within 0.15 of it (the bound is worst-case).

namespace chipcast {
namespace {

using namespace chipcast::testing;
using parity::ModelParams;

// Every backend this build can run, plus the GPU path's functors on the
// CPU (Thrust's OMP system) one lane per call as on a GPU thread (scalar
// libm) and sixteen (the OpenMP backend's vector math).
std::vector<std::string> backends_under_test() {
  std::vector<std::string> names = runnable_backends();
#if CHIPCAST_TEST_THRUST_OMP
  names.push_back("thrust_omp_1lane");
  names.push_back("thrust_omp_16lanes");
#endif
  return names;
}

std::unique_ptr<Backend> backend_named(const std::string& name) {
#if CHIPCAST_TEST_THRUST_OMP
  if (name == "thrust_omp_1lane" || name == "thrust_omp_16lanes") {
    ThrustOmpSettings s;
    s.lanes = name == "thrust_omp_1lane" ? 1 : 16;
    s.piece = 1777;  // pieces that leave partial lane blocks
    return make_thrust_omp_backend(s);
  }
#endif
  return make_backend(name, BackendOptions{});
}

// ---------------------------------------------------------------------------
// Rich scenarios, where every limit of step 6 binds in some periods.

// rich_scenario() of the GPU tests (every distribution kind, three Markov
// regimes with drawn effects, an event, shocks on both blocs, sustain 2),
// with the domestic wafer cap and packaging low enough to bind in many
// trajectories.
std::unique_ptr<ModelParams> limits_scenario() {
  using namespace parity;
  auto p = rich_scenario(20261201, 136, 0.25);
  p->params[bloc_param_index(kDomestic, kWaferCap)] = gpu_lognormal(4e4, 1.6, 1e4);
  p->params[bloc_param_index(kDomestic, kPackaging0)] = gpu_lognormal(3e5, 2.0);
  return p;
}

// Half-year periods (50 crossing sub-bins), parity at a ratio of 0.5
// sustained 3 periods, drawn yield noise, and HBM per chip growing faster
// at home than abroad so that the memory metric parts from units.
std::unique_ptr<ModelParams> growth_scenario() {
  using namespace parity;
  auto p = rich_scenario(777, 68, 0.5);
  p->threshold = 0.5;
  p->sustain = 3;
  p->params[bloc_param_index(kDomestic, kYieldNoise)] = gpu_lognormal(0.3, 1.5);
  p->params[bloc_param_index(kForeign, kYieldNoise)] = uniform_dist(0.05, 0.2);
  p->params[bloc_param_index(kDomestic, kHbmPerChipGrowth)] = gpu_normal(0.25, 0.05);
  p->params[bloc_param_index(kForeign, kHbmPerChipGrowth)] = fixed_dist(0.1);
  p->params[bloc_param_index(kDomestic, kHbm0)] = gpu_lognormal(1e7, 2.0);
  p->params[bloc_param_index(kForeign, kPackaging0)] = gpu_lognormal(6e6, 1.5);
  return p;
}

// The reference's view of n trajectories: per-trajectory crossings and,
// per level-histogram row, each trajectory's bin and the neighbour a float
// evaluation may reach instead.
struct ReferenceRun {
  uint64_t n = 0;
  int periods = 0, sub_bins = 0;
  std::vector<ReferenceCrossing> crossing;  // [metric * n + i]
  std::vector<uint8_t> draw_ambiguous;      // [i]
  std::vector<int16_t> bin, neighbour;      // [(k * kNumSeries + q) * n + i]; neighbour -1: none
  // Scenario coverage (fractions of trajectory-periods per bloc).
  double limit_share[parity::kNumBlocs][3] = {};
  double capped_share[parity::kNumBlocs] = {};
  uint64_t regime_periods[parity::kMaxRegimes] = {};
  uint64_t shock_periods = 0;
  uint64_t near_edge = 0;   // level entries within rounding of a bin edge
  uint64_t nan_ratios = 0;  // NaN ratios (anomalies; none in these scenarios, binned as 0 here)
};

ReferenceRun run_reference(const ModelParams& p, uint64_t n) {
  ReferenceRun r;
  r.n = n;
  r.periods = p.periods;
  r.sub_bins = p.sub_bins;
  const size_t rows = static_cast<size_t>(p.periods) * kNumSeries;
  r.crossing.resize(kNumMetrics * n);
  r.draw_ambiguous.resize(n);
  r.bin.resize(rows * n);
  r.neighbour.resize(rows * n);
  for (uint64_t i = 0; i < n; ++i) {
    const ReferenceTrajectory t = simulate_reference(p, i);
    r.draw_ambiguous[i] = t.draw_ambiguous;
    for (int m = 0; m < kNumMetrics; ++m) r.crossing[m * n + i] = t.crossing[m];
    for (size_t row = 0; row < rows; ++row) {
      const ReferenceBin b = reference_level_bin(t.log_value[row], t.log_error[row]);
      r.nan_ratios += b.bin < 0;
      r.bin[row * n + i] = static_cast<int16_t>(b.bin < 0 ? kBinZero : b.bin);
      r.neighbour[row * n + i] = static_cast<int16_t>(b.near_edge ? b.neighbour : -1);
      r.near_edge += b.near_edge;
    }
    for (int k = 0; k < p.periods; ++k) {
      ++r.regime_periods[t.regime[k]];
      bool shock = false;
      for (int b = 0; b < parity::kNumBlocs; ++b) {
        const size_t kb = static_cast<size_t>(k) * parity::kNumBlocs + b;
        r.limit_share[b][static_cast<int>(t.limit[kb])] += 1;
        r.capped_share[b] += t.capped[kb];
        shock |= t.jump[kb] != 0;
      }
      r.shock_periods += shock;
    }
  }
  const double total = static_cast<double>(n) * p.periods;
  for (int b = 0; b < parity::kNumBlocs; ++b) {
    for (double& s : r.limit_share[b]) s /= total;
    r.capped_share[b] /= total;
  }
  return r;
}

// The scenario exercises what the comparison is meant to check (else
// agreement would prove little): each limit binds in at least 2 % of a
// bloc's periods, the domestic wafer cap binds, regimes and shocks occur,
// and every metric has both crossings and censored trajectories.
void expect_rich(const ReferenceRun& r, int num_regimes) {
  for (int b = 0; b < parity::kNumBlocs; ++b)
    std::printf("bloc %d: dies %.3f, hbm %.3f, packaging %.3f of periods; wafer cap %.3f\n", b, r.limit_share[b][0],
                r.limit_share[b][1], r.limit_share[b][2], r.capped_share[b]);
  for (int l = 0; l < 3; ++l)
    EXPECT_GE(std::max(r.limit_share[0][l], r.limit_share[1][l]), 0.02) << "limit " << l << " rarely binds";
  EXPECT_GE(r.capped_share[parity::kDomestic], 0.02);
  for (int g = 0; g < num_regimes; ++g) EXPECT_GT(r.regime_periods[g], 0u) << "regime " << g;
  EXPECT_GT(r.shock_periods, 0u);
  for (int m = 0; m < kNumMetrics; ++m) {
    uint64_t crossed = 0;
    for (uint64_t i = 0; i < r.n; ++i) crossed += r.crossing[m * r.n + i].crossed;
    EXPECT_GT(crossed, r.n / 20) << kMetricNames[m];
    EXPECT_LT(crossed, r.n - r.n / 20) << kMetricNames[m];
  }
}

class ReferenceModel : public ::testing::TestWithParam<std::string> {
 protected:
  // Per-trajectory crossing times of the backend against the reference:
  // within the reference's derived bound, censored exactly when it is; a
  // trajectory whose crossing decision lies within rounding of the
  // threshold in some period is not compared (and counted).
  void expect_crossing_times(const ModelParams& p, uint64_t n) {
    const ReferenceRun ref = run_reference(p, n);
    expect_rich(ref, p.num_regimes);
    std::vector<float> got(kNumMetrics * n);
    backend_named(GetParam())->crossing_times(p, 0, n, got.data());
    uint64_t compared = 0, skipped = 0, bad = 0;
    double worst = 0;  // largest |difference| / bound
    std::vector<double> bounds;
    for (uint64_t i = 0; i < n; ++i)
      for (int m = 0; m < kNumMetrics; ++m) {
        const ReferenceCrossing& c = ref.crossing[m * n + i];
        if (c.decision_ambiguous || ref.draw_ambiguous[i]) {
          ++skipped;
          continue;
        }
        ++compared;
        const double g = got[m * n + i];
        const bool ok = c.crossed ? (g >= 0 && std::fabs(g - c.time) <= c.time_error) : g == -1.0;
        if (c.crossed && g >= 0) worst = std::max(worst, std::fabs(g - c.time) / c.time_error);
        if (c.crossed) bounds.push_back(c.time_error);
        if (!ok && bad++ < 10)
          ADD_FAILURE() << "trajectory " << i << " " << kMetricNames[m] << ": " << GetParam() << " " << g
                        << ", reference " << c.time << " +- " << c.time_error << " (period " << c.period << ")";
      }
    std::sort(bounds.begin(), bounds.end());
    std::printf(
        "%llu crossings compared (%llu near the threshold left out); bound median %.2g, 99th percentile "
        "%.2g years; largest difference %.3f of its bound\n",
        static_cast<unsigned long long>(compared), static_cast<unsigned long long>(skipped),
        bounds.empty() ? 0.0 : bounds[bounds.size() / 2], bounds.empty() ? 0.0 : bounds[bounds.size() * 99 / 100],
        worst);
    EXPECT_EQ(bad, 0u) << "trajectory-metric pairs outside the bound";
    EXPECT_LE(skipped, compared / 20) << "the bound leaves too many trajectories uncompared to prove much";
  }

  // The backend's tally against the reference's: each level-histogram row
  // and crossing histogram holds the reference's counts, up to the
  // trajectories that rounding may move into a neighbouring bin.
  void expect_tally(const ModelParams& p, uint64_t n) {
    const ReferenceRun ref = run_reference(p, n);
    ASSERT_EQ(ref.nan_ratios, 0u) << "the comparison below assumes no NaN ratio";
    const Tally got = run_tally(*backend_named(GetParam()), p, n, 1001);
    ASSERT_EQ(got.trajectories, n);
    EXPECT_EQ(got.anomalies[kAnomalyNanRatio], 0u);
    uint64_t free_count = 0;  // trajectories with an ambiguous random decision: may be anywhere
    for (uint64_t i = 0; i < n; ++i) free_count += ref.draw_ambiguous[i];

    std::vector<int64_t> expect(kLevelBins), out(kLevelBins), in(kLevelBins);
    int bad_rows = 0;
    uint64_t moved = 0;
    for (int k = 0; k < p.periods; ++k)
      for (int q = 0; q < kNumSeries; ++q) {
        std::fill(expect.begin(), expect.end(), 0);
        std::fill(out.begin(), out.end(), 0);
        std::fill(in.begin(), in.end(), 0);
        const size_t row = static_cast<size_t>(k) * kNumSeries + q;
        int64_t movable = 0;
        for (uint64_t i = 0; i < n; ++i) {
          const int b = ref.bin[row * n + i], nb = ref.neighbour[row * n + i];
          ++expect[b];
          if (nb >= 0 || ref.draw_ambiguous[i]) ++out[b];
          if (nb >= 0) ++in[nb];
          movable += nb >= 0 || ref.draw_ambiguous[i];
        }
        const uint64_t* g = got.level_row(k, q);
        int64_t l1 = 0;
        bool ok = true;
        for (int b = 0; b < kLevelBins; ++b) {
          const int64_t gb = static_cast<int64_t>(g[b]);
          l1 += std::llabs(gb - expect[b]);
          ok &= gb >= expect[b] - out[b] && gb <= expect[b] + in[b] + static_cast<int64_t>(free_count);
        }
        ok &= l1 <= 2 * movable;
        moved += l1 / 2;
        if (!ok && bad_rows++ < 10)
          ADD_FAILURE() << "period " << k << " " << kMetricNames[q / kSeriesPerMetric] << " "
                        << kSeriesNames[q % kSeriesPerMetric] << ": " << l1 / 2
                        << " trajectories in other bins than the reference's, " << movable
                        << " within rounding of an edge";
      }
    EXPECT_EQ(bad_rows, 0) << "level rows outside what rounding explains";

    const int cb = got.shape.crossing_bins();
    for (int m = 0; m < kNumMetrics; ++m) {
      std::vector<int64_t> ce(cb), co(cb), ci(cb);
      int64_t movable = 0, anywhere = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const ReferenceCrossing& c = ref.crossing[m * n + i];
        ++ce[c.bin];
        const bool free = c.decision_ambiguous || ref.draw_ambiguous[i];
        if (free) {
          ++co[c.bin];
          ++anywhere;
        } else if (c.bin_ambiguous) {
          ++co[c.bin];
          ++ci[c.bin_neighbour];
        }
        movable += free || c.bin_ambiguous;
      }
      const uint64_t* g = got.crossing_row(m);
      int64_t l1 = 0;
      int bad_bins = 0;
      for (int b = 0; b < cb; ++b) {
        const int64_t gb = static_cast<int64_t>(g[b]);
        l1 += std::llabs(gb - ce[b]);
        if ((gb < ce[b] - co[b] || gb > ce[b] + ci[b] + anywhere) && bad_bins++ < 5)
          ADD_FAILURE() << kMetricNames[m] << " crossing bin " << b << ": " << gb << ", reference " << ce[b]
                        << " (may lose " << co[b] << ", gain " << ci[b] << " + " << anywhere << ")";
      }
      EXPECT_LE(l1, 2 * movable) << kMetricNames[m] << " crossing histogram";
      std::printf("%s crossings: %lld trajectories moved, %lld may (%lld of them near the threshold)\n",
                  kMetricNames[m], static_cast<long long>(l1 / 2), static_cast<long long>(movable),
                  static_cast<long long>(anywhere));
    }
    std::printf(
        "levels: %llu trajectory-entries in another bin than the reference's, %llu within rounding of an edge\n",
        static_cast<unsigned long long>(moved), static_cast<unsigned long long>(ref.near_edge));
  }
};

constexpr uint64_t kTrajectories = 3001;  // a partial last lane block

TEST_P(ReferenceModel, LimitsScenarioCrossingTimesPerTrajectory) {
  auto p = limits_scenario();
  expect_crossing_times(*p, kTrajectories);
}

TEST_P(ReferenceModel, LimitsScenarioTallyWithinRounding) {
  auto p = limits_scenario();
  expect_tally(*p, kTrajectories);
}

TEST_P(ReferenceModel, GrowthScenarioCrossingTimesPerTrajectory) {
  auto p = growth_scenario();
  expect_crossing_times(*p, kTrajectories);
}

TEST_P(ReferenceModel, GrowthScenarioTallyWithinRounding) {
  auto p = growth_scenario();
  expect_tally(*p, kTrajectories);
}

// ---------------------------------------------------------------------------
// Zero-noise scenarios with closed forms: every trajectory is the same path.

// Both blocs 1e4 wafers/month, 50 dies per wafer, yield 1, performance 1,
// 64 GB per chip, unlimited HBM and packaging, nothing growing, no noise:
// 1.5e6 chips per quarter each. Tests change what they need.
std::unique_ptr<ModelParams> still_params(int periods, double dt = 0.25) {
  // brownian_params with no gap, drift or volatility is this scenario but for performance 2.
  auto p = brownian_params(0.0, 0.0, 0.0, dt, periods, 4242);
  for (int b = 0; b < parity::kNumBlocs; ++b)
    p->params[parity::bloc_param_index(b, parity::kPerf0)] = fixed_dist(1.0);
  return p;
}
void set_param(ModelParams& p, int bloc, int key, double v) {
  p.params[parity::bloc_param_index(bloc, key)] = fixed_dist(v);
}

// Closed-form per-period log levels: level[k][metric][bloc], natural log.
using ClosedLevels = std::vector<std::array<std::array<double, parity::kNumBlocs>, kNumMetrics>>;

// The closed-form checks of one zero-noise scenario on one backend (and on
// the reference itself): every trajectory's level in every period and series
// lands in the closed form's bin (or across an edge the float bound reaches),
// and the crossing time of each metric is `expect_time[m]` (years since
// start, -1 censored) within the float bound.
void expect_closed_form(Backend& backend, const ModelParams& p, const ClosedLevels& levels,
                        const std::array<double, kNumMetrics>& expect_time) {
  const uint64_t n = 37;  // identical trajectories; a partial lane block
  const ReferenceTrajectory ref = simulate_reference(p, 0);
  const Tally t = run_tally(backend, p, n);
  for (int k = 0; k < p.periods; ++k)
    for (int m = 0; m < kNumMetrics; ++m) {
      const double ld = levels[k][m][0], lf = levels[k][m][1];
      const double closed[3] = {ld - lf, ld, lf};
      for (int s = 0; s < kSeriesPerMetric; ++s) {
        const size_t row = static_cast<size_t>(k) * kNumSeries + m * kSeriesPerMetric + s;
        // The reference agrees with the closed form to double rounding (zeros and infinities exactly).
        if (std::isfinite(closed[s]))
          EXPECT_NEAR(ref.log_value[row], closed[s], 1e-9)
              << "reference, period " << k << " metric " << m << " series " << s;
        else
          EXPECT_EQ(ref.log_value[row], closed[s]) << "reference, period " << k << " metric " << m << " series " << s;
        const ReferenceBin b = reference_level_bin(closed[s], ref.log_error[row]);
        const uint64_t* g = t.level_row(k, m * kSeriesPerMetric + s);
        const uint64_t here = g[b.bin] + (b.near_edge ? g[b.neighbour] : 0);
        EXPECT_EQ(here, n) << "period " << k << " " << kMetricNames[m] << " " << kSeriesNames[s] << ": log "
                           << closed[s] << " should be in bin " << b.bin;
      }
    }
  std::vector<float> got(kNumMetrics * n);
  backend.crossing_times(p, 0, n, got.data());
  for (int m = 0; m < kNumMetrics; ++m) {
    const ReferenceCrossing& c = ref.crossing[m];
    ASSERT_FALSE(c.decision_ambiguous) << "the scenario should stay clear of the threshold";
    if (expect_time[m] < 0) {
      EXPECT_FALSE(c.crossed) << "reference " << kMetricNames[m];
    } else {
      EXPECT_NEAR(c.time, expect_time[m], 1e-9) << "reference " << kMetricNames[m];
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (expect_time[m] < 0)
        EXPECT_EQ(got[m * n + i], -1.0f) << kMetricNames[m] << " should be censored";
      else
        EXPECT_NEAR(got[m * n + i], expect_time[m], c.time_error) << kMetricNames[m] << " trajectory " << i;
    }
  }
}

// Parity by log-linear interpolation within period k of a log ratio that is
// linear in time, -a + g t: the crossing is where it reaches 0, t = a / g.
double linear_crossing(double a, double g) { return a / g; }

// Step 2: y(t) = yield_max - (yield_max - yield0) exp(-learning_rate
// learning_mult t), the learning clock running learning_mult times faster
// (a regime effect), against a foreign yield fixed at 0.6. The log ratio is
// not linear, so the crossing is log-interpolated between the period ends
// around y = 0.6, at ln 2 / 0.75 = 0.924 years.
TEST_P(ReferenceModel, YieldLearningClosedForm) {
  using namespace parity;
  const int periods = 40;
  auto p = still_params(periods);
  set_param(*p, kDomestic, kYield0, 0.3);
  set_param(*p, kDomestic, kYieldMax, 0.9);
  set_param(*p, kDomestic, kLearningRate, 0.5);
  set_param(*p, kDomestic, kYieldNoise, 0.0);
  p->params[effect_param_index(0, kDomestic, kLearningMult)] = fixed_dist(1.5);
  set_param(*p, kForeign, kYield0, 0.6);
  set_param(*p, kForeign, kYieldMax, 0.6);
  const double chips_per_yield = std::log(1e4 * 12 * 0.25 * 50);
  auto y = [](double t) { return 0.9 - 0.6 * std::exp(-0.5 * 1.5 * t); };
  ClosedLevels lv(periods);
  for (int k = 0; k < periods; ++k) {
    const double t = (k + 1) * 0.25;
    for (int m = 0; m < kNumMetrics; ++m) {
      const double extra = m == kMemory ? std::log(64.0) : 0.0;
      lv[k][m] = {chips_per_yield + std::log(y(t)) + extra, chips_per_yield + std::log(0.6) + extra};
    }
  }
  // First period end with y >= 0.6 is t = 1.0 (k = 3); interpolate log r from t = 0.75.
  const double a = std::log(y(0.75) / 0.6), b = std::log(y(1.0) / 0.6);
  ASSERT_LT(a, 0.0);
  ASSERT_GT(b, 0.0);
  const double time = 0.75 + 0.25 * (0 - a) / (b - a);
  expect_closed_form(*backend_named(GetParam()), *p, lv, {time, time, time});
}

// Step 1's ceiling: domestic capacity 1e4 e^{0.4 t} wafers/month up to a cap
// of 3e4 (reached at t = ln 3 / 0.4 = 2.75 years), foreign 2e4: parity at
// t = ln 2 / 0.4 for every metric; levels flat at the cap afterwards.
TEST_P(ReferenceModel, WaferCapClosedForm) {
  using namespace parity;
  const int periods = 24;
  auto p = still_params(periods);
  set_param(*p, kDomestic, kWaferGrowth, 0.4);
  set_param(*p, kDomestic, kWaferCap, 3e4);
  set_param(*p, kForeign, kWafers0, 2e4);
  const double per_wafer = std::log(12 * 0.25 * 50);
  ClosedLevels lv(periods);
  for (int k = 0; k < periods; ++k) {
    const double t = (k + 1) * 0.25;
    const double ld = std::min(std::log(1e4) + 0.4 * t, std::log(3e4)) + per_wafer;
    const double lf = std::log(2e4) + per_wafer;
    for (int m = 0; m < kNumMetrics; ++m) {
      const double extra = m == kMemory ? std::log(64.0) : 0.0;
      lv[k][m] = {ld + extra, lf + extra};
    }
  }
  const double time = linear_crossing(std::log(2.0), 0.4);
  expect_closed_form(*backend_named(GetParam()), *p, lv, {time, time, time});
}

// Step 6's HBM term: domestic HBM 2e8 e^{0.3 t} GB/year times hbm_mult 0.8
// (a regime effect) per quarter, over 80 e^{0.1 t} GB per chip: 5e5 e^{0.2 t}
// chips per quarter until the 1.5e6 dies take over at t = ln 3 / 0.2; foreign
// 1e6 chips from dies. Units and compute cross at ln 2 / 0.2; memory
// (domestic chips times 80 e^{0.1 t} GB against 64 GB) at ln 1.6 / 0.3.
TEST_P(ReferenceModel, HbmLimitClosedForm) {
  using namespace parity;
  const int periods = 32;
  auto p = still_params(periods);
  set_param(*p, kDomestic, kHbm0, 2e8);
  set_param(*p, kDomestic, kHbmGrowth, 0.3);
  set_param(*p, kDomestic, kHbmPerChip0, 80);
  set_param(*p, kDomestic, kHbmPerChipGrowth, 0.1);
  p->params[effect_param_index(0, kDomestic, kHbmMult)] = fixed_dist(0.8);
  set_param(*p, kForeign, kWafers0, 1e4 / 1.5);
  ClosedLevels lv(periods);
  for (int k = 0; k < periods; ++k) {
    const double t = (k + 1) * 0.25;
    const double ld = std::min(std::log(5e5) + 0.2 * t, std::log(1.5e6));
    const double lf = std::log(1e6);
    lv[k][kUnits] = {ld, lf};
    lv[k][kCompute] = {ld, lf};
    lv[k][kMemory] = {ld + std::log(80.0) + 0.1 * t, lf + std::log(64.0)};
  }
  const double units = linear_crossing(std::log(2.0), 0.2);
  const double memory = linear_crossing(std::log(1.6), 0.3);
  expect_closed_form(*backend_named(GetParam()), *p, lv, {units, units, memory});
}

// Step 6's packaging term: domestic packaging 2e6 e^{0.25 t} chips/year,
// 5e5 e^{0.25 t} per quarter, until the 1.5e6 dies take over at
// t = ln 3 / 0.25; foreign 1e6 chips from dies. Units cross at ln 2 / 0.25;
// compute, with domestic performance 0.5 e^{0.3 t} against foreign
// e^{0.1 t}, at 2 ln 2 / 0.45.
TEST_P(ReferenceModel, PackagingLimitClosedForm) {
  using namespace parity;
  const int periods = 32;
  auto p = still_params(periods);
  set_param(*p, kDomestic, kPackaging0, 2e6);
  set_param(*p, kDomestic, kPackagingGrowth, 0.25);
  set_param(*p, kDomestic, kPerf0, 0.5);
  set_param(*p, kDomestic, kPerfGrowth, 0.3);
  set_param(*p, kForeign, kPerfGrowth, 0.1);
  set_param(*p, kForeign, kWafers0, 1e4 / 1.5);
  ClosedLevels lv(periods);
  for (int k = 0; k < periods; ++k) {
    const double t = (k + 1) * 0.25;
    const double ld = std::min(std::log(5e5) + 0.25 * t, std::log(1.5e6));
    const double lf = std::log(1e6);
    lv[k][kUnits] = {ld, lf};
    lv[k][kCompute] = {ld + std::log(0.5) + 0.3 * t, lf + 0.1 * t};
    lv[k][kMemory] = {ld + std::log(64.0), lf + std::log(64.0)};
  }
  const double units = linear_crossing(std::log(2.0), 0.25);
  const double compute = linear_crossing(2 * std::log(2.0), 0.45);
  expect_closed_form(*backend_named(GetParam()), *p, lv, {units, compute, units});
}

// `sustain`: the domestic log ratio rises 0.1 a period from -0.55 (regime 0),
// falls 0.2 a period in regime 1 (wafer_growth_adj -1.2, switched on by a
// certain event in period 8 and off by one in period 12), then rises again:
// r >= 1 in periods 5..8 (a run of 4) and from period 17 on. Sustain 1 to 4
// date parity in period 5 (log r -0.05 -> 0.05: 1.375 years), sustain 5 in
// period 17 (4.375 years); with the horizon after period 19 the second run
// is cut off for sustain 5 and the trajectory is censored.
std::unique_ptr<ModelParams> sustain_params(int sustain, int periods) {
  using namespace parity;
  auto p = still_params(periods);
  p->sustain = sustain;
  set_param(*p, kDomestic, kWafers0, 1e4 * std::exp(-0.55));
  set_param(*p, kDomestic, kWaferGrowth, 0.4);
  p->num_regimes = 2;
  p->params[effect_param_index(1, kDomestic, kWaferGrowthAdj)] = fixed_dist(-1.2);
  p->num_events = 2;
  p->events[0] = EventSpec{8, 1, 1.0};
  p->events[1] = EventSpec{12, 0, 1.0};
  return p;
}
ClosedLevels sustain_levels(int periods) {
  ClosedLevels lv(periods);
  double log_r = -0.55;
  const double base = std::log(1e4 * 12 * 0.25 * 50);
  for (int k = 0; k < periods; ++k) {
    log_r += (k >= 8 && k < 12) ? -0.2 : 0.1;
    for (int m = 0; m < kNumMetrics; ++m) {
      const double extra = m == parity::kMemory ? std::log(64.0) : 0.0;
      lv[k][m] = {base + log_r + extra, base + extra};
    }
  }
  return lv;
}

TEST_P(ReferenceModel, SustainDatesTheFirstPeriodOfTheRun) {
  auto backend = backend_named(GetParam());
  for (int sustain : {1, 4}) {
    SCOPED_TRACE("sustain " + std::to_string(sustain));
    expect_closed_form(*backend, *sustain_params(sustain, 24), sustain_levels(24), {1.375, 1.375, 1.375});
  }
  {
    SCOPED_TRACE("sustain 5");
    expect_closed_form(*backend, *sustain_params(5, 24), sustain_levels(24), {4.375, 4.375, 4.375});
  }
  {
    SCOPED_TRACE("sustain 5, horizon after period 19");
    expect_closed_form(*backend, *sustain_params(5, 20), sustain_levels(20), {-1, -1, -1});
  }
}

// The crossing rule's special cases, with a bloc's output exactly 0 while
// a regime sets its hbm_mult to 0 (regime 1: domestic, regime 2: foreign),
// the regimes switched by certain events: parity in period 0 is dated T_0;
// after r_{k-1} = 0 (domestic 0) it is dated T_k; at r_k = +inf (foreign 0)
// T_{k-1}. Domestic 1.2e4 or 0.8e4 wafers against foreign 1e4.
std::unique_ptr<ModelParams> zero_output_params(double domestic_wafers, int initial, int event_regime) {
  using namespace parity;
  auto p = still_params(12);
  set_param(*p, kDomestic, kWafers0, domestic_wafers);
  p->num_regimes = 3;
  p->initial_regime = initial;
  p->params[effect_param_index(1, kDomestic, kHbmMult)] = fixed_dist(0.0);
  p->params[effect_param_index(2, kForeign, kHbmMult)] = fixed_dist(0.0);
  p->num_events = 1;
  p->events[0] = EventSpec{5, event_regime, 1.0};
  return p;
}
ClosedLevels zero_output_levels(double domestic_wafers, int initial, int event_regime) {
  ClosedLevels lv(12);
  const double per_wafer = std::log(12 * 0.25 * 50);
  for (int k = 0; k < 12; ++k) {
    const int regime = k < 5 ? initial : event_regime;
    const double ld = regime == 1 ? -INFINITY : std::log(domestic_wafers) + per_wafer;
    const double lf = regime == 2 ? -INFINITY : std::log(1e4) + per_wafer;
    for (int m = 0; m < kNumMetrics; ++m) {
      const double extra = m == parity::kMemory ? std::log(64.0) : 0.0;
      lv[k][m] = {ld + extra, lf + extra};
    }
  }
  return lv;
}

TEST_P(ReferenceModel, CrossingSpecialCasesClosedForm) {
  auto backend = backend_named(GetParam());
  {
    SCOPED_TRACE("parity from period 0: T_0");
    expect_closed_form(*backend, *zero_output_params(1.2e4, 0, 0), zero_output_levels(1.2e4, 0, 0), {0.25, 0.25, 0.25});
  }
  {
    SCOPED_TRACE("domestic 0 until period 5, then above: T_5");
    expect_closed_form(*backend, *zero_output_params(1.2e4, 1, 0), zero_output_levels(1.2e4, 1, 0), {1.5, 1.5, 1.5});
  }
  {
    SCOPED_TRACE("below until period 5, then foreign 0: T_4");
    expect_closed_form(*backend, *zero_output_params(0.8e4, 0, 2), zero_output_levels(0.8e4, 0, 2), {1.25, 1.25, 1.25});
  }
  {
    SCOPED_TRACE("below throughout: censored");
    expect_closed_form(*backend, *zero_output_params(0.8e4, 0, 0), zero_output_levels(0.8e4, 0, 0), {-1, -1, -1});
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ReferenceModel, ::testing::ValuesIn(backends_under_test()), backend_test_name);

}  // namespace
}  // namespace chipcast
