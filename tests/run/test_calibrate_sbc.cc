// Simulation-based calibration (Talts et al. 2018) of RunSession::calibrate on the conjugate scenario.
#include <gtest/gtest.h>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/tally/uniform_bins.h"
#include "tests/support/cli_runner.h"
#include "tests/support/conjugate_scenario.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

class CalibrateSbc : public testing::ScenarioRunTest {};

// 200 replications: a true wafers0 drawn from the prior (std::mt19937_64, seed 20260),
// one observation of 2027's domestic units simulated from it (600 W_true e^(s eps), s = 0.3,
// exactly the likelihood's model), a calibrate of 5000 prior trajectories with its own seed, and
// the rank of the truth among the accepted draws, read from the posterior histogram of wafers0's
// uniform (draws in the truth's own bin count half: 1/4096 of u, far below the 1/10 rank bins).
// For an exact posterior the normalised ranks are uniform: chi-square over 10 bins (9 dof) below
// its 0.999 quantile (27.9). A likelihood with sd_log 0.5 where the data have 0.3 (the posterior
// too wide) gives ranks piled in the middle and fails it (tried: rank counts 4 26 27 36 26 20 24 12 17 8,
// chi-square 43.3); this one gives 14.2.
TEST_F(CalibrateSbc, RanksOfTheTruthAmongPosteriorDrawsAreUniform) {
  const auto base = session_->load(write("conjugate.toml", testing::conjugate_scenario("2028.0")),
                                   Overrides{uint64_t{5000}, std::nullopt, std::nullopt});
  const int index = 0;  // domestic wafers0: parameter-table index bloc_param_index(kDomestic, kWafers0)
  ASSERT_EQ(base->param_names[index], "domestic.wafers0");
  const double mu0 = std::log(2e4), s0 = 0.6, s = 0.3, c = 600.0;
  std::mt19937_64 rng(20260);
  std::normal_distribution<double> n01;
  const boost::math::normal_distribution<double> normal;
  constexpr int kReplications = 200, kRankBins = 10;
  std::vector<int> counts(kRankBins, 0);
  for (int rep = 0; rep < kReplications; ++rep) {
    const double z = n01(rng), eps = n01(rng);
    const double y = c * std::exp(mu0 + s0 * z) * std::exp(s * eps);
    auto sc = std::make_shared<Scenario>(*base);
    sc->run.seed = sc->params.seed = 1000 + static_cast<uint64_t>(rep);
    Observation o;
    o.year = 2027;
    o.bloc = ObservedBloc::domestic;
    o.quantity = ObservedQuantity::units;
    o.value = y;
    o.sd_log = s;
    o.source = "simulated from the prior (SBC)";
    o.file = sc->path;
    o.key = "observations[0]";
    const CalibrateResult r = session_->calibrate(sc, {o}, RunOptions{});
    ASSERT_GT(r.accepted, 0u) << rep;
    ASSERT_EQ(r.decisions.params.size(), 1u);
    ASSERT_EQ(r.decisions.params[0], index);
    const uint64_t* row = r.decisions.posterior_row(0);
    const int truth_bin = uniform_bin(boost::math::cdf(normal, z));
    double rank = 0.5 * static_cast<double>(row[truth_bin]);
    for (int b = 0; b < truth_bin; ++b) rank += static_cast<double>(row[b]);
    const double q = rank / static_cast<double>(r.accepted);
    ++counts[std::min(kRankBins - 1, static_cast<int>(q * kRankBins))];
  }
  const double expected = static_cast<double>(kReplications) / kRankBins;
  double chi2 = 0;
  std::string table;
  for (int k : counts) {
    chi2 += (k - expected) * (k - expected) / expected;
    table += std::to_string(k) + " ";
  }
  const double limit = boost::math::quantile(boost::math::chi_squared_distribution<double>(kRankBins - 1), 0.999);
  EXPECT_LT(chi2, limit) << "rank counts " << table;
  RecordProperty("chi2", std::to_string(chi2));
}

}  // namespace
}  // namespace chipcast
