// Tests of host/stats/observation_scores: a run's calendar-year histograms scored against observations.
#include "host/stats/observation_scores.h"

#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "backends/backend.h"
#include "tests/support/model_fixtures.h"
#include "tests/support/reference_model.h"

namespace chipcast {
namespace {

constexpr int kSeriesDomesticUnits = 1;  // metric 0 (units), series 1 (domestic)

// rich_params over 2026-2030 (4 calendar years, quarterly), its tally of n
// trajectories on the OpenMP backend and the matching run settings.
struct ScoredRun {
  std::unique_ptr<parity::ModelParams> p = testing::rich_params(23, 16);
  Tally tally{parity::tally_shape(*p)};
  RunSettings settings;
  explicit ScoredRun(uint64_t n) {
    make_backend("openmp", BackendOptions{2, {}})->run(*p, 0, n, tally);
    settings.start_year = 2026;
    settings.horizon_year = 2030;
    settings.dt = 0.25;
  }
};

// ln of trajectory t's year total of series q (the reference model's periods summed).
double reference_year_log(const parity::ModelParams& p, uint64_t t, int series, int year) {
  const testing::ReferenceTrajectory r = testing::simulate_reference(p, t);
  double sum = 0;
  for (int k = 4 * year; k < 4 * year + 4; ++k) sum += std::exp(r.log_value[k * kNumSeries + series]);
  return std::log(sum);
}

Observation observation(int year, ObservedBloc bloc, ObservedQuantity q, double value, double sd) {
  Observation o;
  o.year = year;
  o.bloc = bloc;
  o.quantity = q;
  o.value = value;
  o.sd_log = sd;
  o.source = "test";
  o.file = "obs.toml";
  o.key = "observations[0]";
  return o;
}

// The PIT from the histogram against the exact one from the same trajectories
// on the scalar reference model, (1/N) sum_i Phi((ln y - ln sim_i) / sd): the
// histogram puts each sim at its bin's centre, within half a bin (0.005
// decade = 0.0115 in ln), which moves Phi by at most 0.0115 / (sd sqrt(2 pi));
// the float kernels' own rounding is far below that (reference_model.h).
TEST(ObservationScores, PitMatchesTheReferenceModelsExactMixture) {
  const uint64_t n = 4000;
  ScoredRun run(n);
  const double sd = 0.3;
  std::vector<double> sims(n);
  for (uint64_t i = 0; i < n; ++i) sims[i] = reference_year_log(*run.p, i, kSeriesDomesticUnits, 1);
  const boost::math::normal_distribution<double> n01;
  for (double y : {5e3, 1.5e4, 4e4}) {
    double exact = 0;
    for (double x : sims) exact += boost::math::cdf(n01, (std::log(y) - x) / sd);
    exact /= n;
    const std::vector<Observation> obs = {observation(2027, ObservedBloc::domestic, ObservedQuantity::units, y, sd)};
    const auto scores = score_observations(run.tally, run.settings, obs);
    ASSERT_EQ(scores.size(), 1u);
    EXPECT_NEAR(scores[0].score.pit, exact, 0.0115 / (sd * std::sqrt(2 * M_PI)) + 1e-9) << y;
    EXPECT_LE(scores[0].q05, scores[0].q50);
    EXPECT_LE(scores[0].q50, scores[0].q95);
  }
}

// Observations drawn from the model itself (other trajectories' year totals
// times their lognormal error): the 50 % and 90 % bands cover them at those
// rates within 5 binomial sigma, and the mean PIT is 1/2 within 5 sigma.
TEST(ObservationScores, SelfDrawnObservationsAreCalibrated) {
  ScoredRun run(20000);
  std::mt19937_64 rng(11);
  const double sd = 0.25;
  std::normal_distribution<double> err(0.0, sd);
  std::vector<Observation> obs;
  const int m = 600;
  for (int i = 0; i < m; ++i) {
    const uint64_t t = 1000000 + i;
    if (i % 2 == 0) {
      obs.push_back(observation(2027, ObservedBloc::domestic, ObservedQuantity::units,
                                std::exp(reference_year_log(*run.p, t, kSeriesDomesticUnits, 1) + err(rng)), sd));
    } else {
      // The compute ratio in 2028: domestic total over foreign total.
      const double lr = reference_year_log(*run.p, t, 3 + 1, 2) - reference_year_log(*run.p, t, 3 + 2, 2);
      obs.push_back(observation(2028, ObservedBloc::ratio, ObservedQuantity::compute, std::exp(lr + err(rng)), sd));
    }
  }
  const auto scores = score_observations(run.tally, run.settings, obs);
  const ScoreTotals totals = score_totals(scores);
  EXPECT_EQ(totals.observations, m);
  EXPECT_NEAR(totals.coverage50, 0.5, 5 * std::sqrt(0.25 / m));
  EXPECT_NEAR(totals.coverage90, 0.9, 5 * std::sqrt(0.09 / m));
  double pit = 0;
  for (const auto& s : scores) pit += s.score.pit;
  EXPECT_NEAR(pit / m, 0.5, 5 * std::sqrt(1.0 / 12 / m));
  EXPECT_GT(totals.mean_crps, 0.0);
  EXPECT_TRUE(std::isfinite(totals.mean_crps));
}

TEST(ObservationScores, SupplyQuantitiesAndYearsOutsideTheTallyAreRefused) {
  ScoredRun run(64);
  EXPECT_THROW(score_observations(run.tally, run.settings,
                                  {observation(2027, ObservedBloc::domestic, ObservedQuantity::wafers, 1e4, 0.2)}),
               std::invalid_argument);
  EXPECT_THROW(score_observations(run.tally, run.settings,
                                  {observation(2030, ObservedBloc::domestic, ObservedQuantity::units, 1e4, 0.2)}),
               std::invalid_argument);
}

}  // namespace
}  // namespace chipcast
