// Tests of models/parity/observation_step.h: each lane's log-likelihood of the observations and its accept decision.
#include "models/parity/observation_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/philox_stream.h"
#include "models/parity/trajectory.h"
#include "tests/support/model_fixtures.h"
#include "tests/support/reference_model.h"

namespace chipcast {
namespace {

using parity::LaneState;
using parity::ModelParams;
using parity::ObservationSpec;

constexpr int kL = 16;
constexpr double kU = 1.0 / 16777216.0;  // float32's unit roundoff, 2^-24

// Runs lanes [first, first + kL) through every period.
std::unique_ptr<LaneState<kL>> run_block(const ModelParams& p, uint64_t first) {
  auto s = std::make_unique<LaneState<kL>>();
  parity::init_lanes<kL>(p, first, *s);
  for (int k = 0; k < p.periods; ++k) parity::step_lanes<kL, true>(p, k, *s);
  return s;
}

void add_observation(ModelParams& p, int year, int bloc, int quantity, double value, double sd_log) {
  ObservationSpec& o = p.observations[p.num_observations++];
  o.year = year;
  o.bloc = bloc;
  o.quantity = quantity;
  o.log_value = std::log(value);
  o.sd_log = sd_log;
  const int end = (year + 1) * p.periods_per_year;
  if (end > p.observed_periods) p.observed_periods = end;
}

// The reference model's (tests/support/reference_model.h) year total of a
// series: ln of the sum of exp(log value) over the year's periods, and a
// bound on a float kernel's error in it: the largest period bound (ln of a
// sum of values each within relative e is within e), plus the running
// log-sum-exp's roundings (one expf, one multiply-add and a logf per period:
// 12u each at most, relative), doubled as the reference's own bounds are.
struct YearTotal {
  double log_value, error;
};
YearTotal reference_year(const testing::ReferenceTrajectory& r, int series, int year, int per_year) {
  double sum = 0, err = 0;
  for (int k = year * per_year; k < (year + 1) * per_year; ++k) {
    sum += std::exp(r.log_value[k * kNumSeries + series]);
    err = std::fmax(err, r.log_error[k * kNumSeries + series]);
  }
  return {std::log(sum), err + 2.0 * 12.0 * kU * per_year};
}

// The metrics' observations against the scalar double-precision reference
// model, lane by lane: ln L = -sum (ln sim - ln value)^2 / (2 sd^2), within
// the propagated bound sum (|d| e + e^2 / 2) / sd^2 (plus the double sum's own rounding).
TEST(ObservationStep, MetricLikelihoodsMatchTheReferenceModel) {
  auto p = testing::rich_params(41, 16);  // 4 calendar years, 2026-2029
  ASSERT_EQ(p->periods_per_year, 4);
  add_observation(*p, 1, parity::kDomestic, parity::kUnits, 3e5, 0.4);
  add_observation(*p, 2, parity::kObservedRatio, parity::kCompute, 0.05, 0.7);
  add_observation(*p, 3, parity::kForeign, parity::kMemory, 2e9, 0.3);
  int compared = 0;
  for (uint64_t first = 0; first < 256; first += kL) {
    auto s = run_block(*p, first);
    for (int l = 0; l < kL; ++l) {
      const testing::ReferenceTrajectory r = testing::simulate_reference(*p, first + l);
      if (r.draw_ambiguous) continue;
      double expected = 0, bound = 1e-12;
      for (int j = 0; j < p->num_observations; ++j) {
        const ObservationSpec& o = p->observations[j];
        const int metric_base = o.quantity * kSeriesPerMetric;
        double lv, e;
        if (o.bloc == parity::kObservedRatio) {
          const YearTotal d = reference_year(r, metric_base + 1, o.year, 4);
          const YearTotal f = reference_year(r, metric_base + 2, o.year, 4);
          lv = d.log_value - f.log_value;
          e = d.error + f.error;
        } else {
          const YearTotal t = reference_year(r, metric_base + 1 + o.bloc, o.year, 4);
          lv = t.log_value;
          e = t.error;
        }
        const double diff = lv - o.log_value;
        expected -= diff * diff / (2 * o.sd_log * o.sd_log);
        bound += (std::fabs(diff) * e + e * e / 2) / (o.sd_log * o.sd_log);
      }
      ASSERT_TRUE(std::isfinite(expected));
      EXPECT_NEAR(s->log_lik[l], expected, bound) << "trajectory " << first + l;
      ++compared;
    }
  }
  EXPECT_GT(compared, 250);
}

// The supply quantities on a scenario without noise, where each has a closed
// form: capacity w0 e^(g t_k) (no ceiling binds), usable HBM h0 e^(gh t_k) dt,
// packaging P0 dt e^(gp t_k), with t_k = (k + 1) dt. Tolerance: the kernel's
// float logs (below 30 in magnitude) take 4 roundings per period, 12 periods
// at most, each 30u, then the year sum's 12u per period, doubled.
TEST(ObservationStep, SupplyLikelihoodsHaveTheirClosedForms) {
  using namespace parity;
  const double dt = 0.25;
  auto p = testing::brownian_params(0.5, 0.1, 0.0, dt, 12, 5);  // 3 calendar years
  const double w0 = 1e4 * std::exp(-0.5), gh = 0.3, h0 = 1e9, gp = 0.2, p0 = 1e7;
  p->params[bloc_param_index(kDomestic, kHbm0)] = fixed_dist(h0);
  p->params[bloc_param_index(kDomestic, kHbmGrowth)] = fixed_dist(gh);
  p->params[bloc_param_index(kDomestic, kPackaging0)] = fixed_dist(p0);
  p->params[bloc_param_index(kDomestic, kPackagingGrowth)] = fixed_dist(gp);
  auto year_sum = [&](int year, auto f) {
    double sum = 0;
    for (int k = year * 4; k < year * 4 + 4; ++k) sum += f((k + 1) * dt);
    return sum;
  };
  const double wafers1 = year_sum(1, [&](double t) { return w0 * std::exp(0.1 * t); }) / 4;  // mean
  const double hbm0 = year_sum(0, [&](double t) { return h0 * std::exp(gh * t) * dt; });
  const double pack2 = year_sum(2, [&](double t) { return p0 * dt * std::exp(gp * t); });
  const double wafers_ratio = wafers1 / 1e4;  // foreign capacity stays 1e4
  const double sd = 0.2;
  add_observation(*p, 1, kDomestic, kNumMetrics + kSupplyWafers, 5000, sd);
  add_observation(*p, 0, kDomestic, kNumMetrics + kSupplyHbm, 4e8, sd);
  add_observation(*p, 2, kDomestic, kNumMetrics + kSupplyPackaging, 3e6, sd);
  add_observation(*p, 1, kObservedRatio, kNumMetrics + kSupplyWafers, 0.5, sd);
  double expected = 0, bound = 0;
  const double e = 2.0 * (12 * 4 * 30 * kU + 12 * 4 * kU);
  for (auto [sim, value] : {std::pair{wafers1, 5000.0}, {hbm0, 4e8}, {pack2, 3e6}, {wafers_ratio, 0.5}}) {
    const double d = std::log(sim) - std::log(value);
    expected -= d * d / (2 * sd * sd);
    bound += (std::fabs(d) * 2 * e + 2 * e * e) / (sd * sd);
  }
  auto s = run_block(*p, 0);
  for (int l = 0; l < kL; ++l) EXPECT_NEAR(s->log_lik[l], expected, bound) << l;
}

// A simulated 0 makes L = 0 (ln L = -inf), never accepted; observations
// leave the simulated path itself alone (every bin the same as without them).
TEST(ObservationStep, AZeroIsImpossibleAndObservationsChangeNoBin) {
  using namespace parity;
  auto p = testing::rich_params(3, 16);
  auto plain = run_block(*p, 32);
  p->params[bloc_param_index(kDomestic, kPackaging0)] = fixed_dist(0.0);  // no domestic chips
  auto zero_plain = run_block(*p, 32);
  add_observation(*p, 2, kDomestic, kUnits, 1e5, 0.5);
  auto zero = run_block(*p, 32);
  for (int l = 0; l < kL; ++l) {
    EXPECT_EQ(zero->log_lik[l], -std::numeric_limits<double>::infinity());
    EXPECT_FALSE(accept_trajectory(p->seed, 32 + l, zero->log_lik[l]));
    for (int q = 0; q < kNumSeries; ++q) EXPECT_EQ(zero->bin[q][l], zero_plain->bin[q][l]);
    EXPECT_EQ(plain->log_lik[l], 0.0);  // no observations: L = 1
  }
}

// P(accept) = L exactly for the trajectory's own uniform: the accepted share
// of 400,000 trajectories with ln L = ln 0.3 is 0.3 within 5 binomial sigma;
// L = 1 accepts all, L = 0 and NaN none. u_i is independent of the
// parameter draws: among accepted trajectories the first parameter uniform
// (kParameterPeriod, slot 0, word 0) has mean 1/2 within 5 sigma.
TEST(ObservationStep, AcceptanceShareIsTheLikelihood) {
  const uint64_t seed = 2026;
  const int n = 400000;
  int accepted = 0;
  double u_sum = 0;
  for (int i = 0; i < n; ++i) {
    if (parity::accept_trajectory(seed, i, std::log(0.3))) {
      ++accepted;
      u_sum += uniform_open(philox_words(seed, i, kParameterPeriod, 0).w0);
    }
    ASSERT_TRUE(parity::accept_trajectory(seed, i, 0.0));
    ASSERT_FALSE(parity::accept_trajectory(seed, i, -std::numeric_limits<double>::infinity()));
    ASSERT_FALSE(parity::accept_trajectory(seed, i, std::numeric_limits<double>::quiet_NaN()));
  }
  EXPECT_NEAR(accepted / double(n), 0.3, 5 * std::sqrt(0.3 * 0.7 / n));
  EXPECT_NEAR(u_sum / accepted, 0.5, 5 * std::sqrt(1.0 / 12 / accepted));
}

// Every call a sink receives, in order.
struct RecordingSink {
  struct Call {
    int kind, a, b, bin;
    int64_t i;
    float t;
    bool operator==(const Call& o) const {
      return kind == o.kind && a == o.a && b == o.b && bin == o.bin && i == o.i && t == o.t;
    }
  };
  std::vector<Call> calls;
  void level(int k, int series, int64_t i, int bin) { calls.push_back({0, k, series, bin, i, 0.0f}); }
  void crossing(int metric, int64_t i, int bin, float t) { calls.push_back({1, metric, 0, bin, i, t}); }
  void censored(int metric, int64_t i) { calls.push_back({2, metric, 0, 0, i, 0.0f}); }
};

// The two passes: the prior sink receives exactly what run_blocks gives a
// plain run (the observations and the first pass change nothing), and the
// posterior sink exactly the calls of the accepted trajectories, where a
// trajectory is accepted when accept_trajectory holds for the ln L of its own
// one-pass simulation (a separate run of its block). 50 trajectories, a
// partial last block included, starting at trajectory 1000 with batch-local base 7.
TEST(ObservationStep, TwoPassesGiveThePlainPriorAndTheAcceptedPosterior) {
  auto p = testing::rich_params(17, 16);
  auto plain = testing::rich_params(17, 16);
  RecordingSink expected_prior;
  const int64_t n = 50, base = 7;
  const uint64_t first = 1000;
  std::vector<LaneState<kL>> states((n + kL - 1) / kL);
  parity::run_blocks<kL>(*plain, first, n, base, states.data(), expected_prior);

  add_observation(*p, 1, parity::kDomestic, parity::kUnits, 1.6e4, 0.5);
  add_observation(*p, 2, parity::kObservedRatio, parity::kCompute, 2e-3, 0.5);
  std::vector<int> accept(n);
  int64_t expected_count = 0;
  for (int64_t j = 0; j < n; j += kL) {
    auto s = run_block(*p, first + j);
    for (int l = 0; l < kL && j + l < n; ++l) {
      accept[j + l] = parity::accept_trajectory(p->seed, first + j + l, s->log_lik[l]);
      expected_count += accept[j + l];
    }
  }
  RecordingSink expected_post;
  for (const auto& c : expected_prior.calls)
    if (accept[c.i - base]) expected_post.calls.push_back(c);

  RecordingSink prior, post;
  int64_t count = -1;
  parity::run_blocks_calibrated<kL>(*p, first, n, base, states.data(), prior, post, count);
  EXPECT_TRUE(prior.calls == expected_prior.calls);
  EXPECT_TRUE(post.calls == expected_post.calls);
  EXPECT_EQ(count, expected_count);
  // Neither none nor all accepted, or the routing is not tested.
  EXPECT_GT(count, 0);
  EXPECT_LT(count, n);
}

}  // namespace
}  // namespace chipcast
