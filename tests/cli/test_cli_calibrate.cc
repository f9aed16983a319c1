// `chipcast calibrate`: the conjugate case against its closed forms, the prior as `run`, determinism, resume, refusals.
#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "chipcast_config.h"
#include "tests/support/cli_runner.h"
#include "tests/support/conjugate_scenario.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_chipcast;
using testing::run_command;
using testing::ScratchDir;
using testing::write_text;

// The conjugate case (issue 12), tests/support/conjugate_scenario.h: domestic units of a
// calendar year are exactly c W with W = wafers0 ~ lognormal(mu0, s0).
constexpr double kMu0 = testing::kConjugateMu0, kS0 = testing::kConjugateS0, kC = testing::kConjugateC;

std::string conjugate_scenario(const std::string& observations) {
  return testing::conjugate_scenario("2029.0") + "\n" + observations;
}

std::string units_observation(int year, double value, double sd_log) {
  return "[[observations]]\nyear = " + std::to_string(year) +
         "\nbloc = \"domestic\"\nmetric = \"units\"\nvalue = " + std::to_string(value) +
         "\nsd_log = " + std::to_string(sd_log) + "\nsource = \"synthetic, for the test\"\n";
}

nlohmann::json json_of(const fs::path& p) { return nlohmann::json::parse(read_text(p)); }

// calibration.json without what names the process (time, command line, threads).
nlohmann::json without_provenance(nlohmann::json j) {
  for (const char* k : {"seconds", "started_utc", "command_line", "threads", "backend_detail"}) j.erase(k);
  return j;
}

class CliCalibrate : public ::testing::Test {
 protected:
  ScratchDir dir{"calibrate"};
  std::string scenario(const std::string& obs) {
    const fs::path p = dir / "conjugate.toml";
    write_text(p, conjugate_scenario(obs));
    return p.string();
  }
};

// Posterior of ln W: N(m, v), v = 1 / (1/s0^2 + 1/s^2), m = v (mu0/s0^2 + (ln y - ln c)/s^2);
// P(accept) = s / sqrt(s^2 + s0^2) exp(-(mu0 + ln c - ln y)^2 / (2 (s^2 + s0^2))). The share
// within 5 binomial sigma; each posterior quantile of wafers0 within 5 sigma of a sample quantile
// (sqrt(q(1-q)/n) / phi(z_q) sqrt(v) in ln W) plus one uniform bin (1/4096 in u: s0 / (4096
// phi(z_prior)) in ln W). One observation, so the trajectories it rejects are all rejected ones.
TEST_F(CliCalibrate, ConjugateLognormalMatchesTheClosedForms) {
  const double y = 2e7, s = 0.3;
  const uint64_t n = 60000;
  const auto r = run_chipcast("calibrate " + scenario(units_observation(2027, y, s)) + " -n " + std::to_string(n) +
                              " --seed 99 --threads 2 --quiet --out " + (dir / "c").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json j = json_of(dir / "c" / "calibration.json");
  const double tv = s * s + kS0 * kS0;
  const double share = s / std::sqrt(tv) * std::exp(-std::pow(kMu0 + std::log(kC) - std::log(y), 2) / (2 * tv));
  const uint64_t accepted = j["accepted"];
  EXPECT_NEAR(j["accepted_share"].get<double>(), share, 5 * std::sqrt(share * (1 - share) / n));
  EXPECT_EQ(j["observations"][0]["rejects"].get<uint64_t>(), n - accepted);
  EXPECT_EQ(j["most_rejecting"], "2027 domestic units");
  EXPECT_TRUE(j["warning"].is_null());

  const double v = 1 / (1 / (kS0 * kS0) + 1 / (s * s));
  const double m = v * (kMu0 / (kS0 * kS0) + (std::log(y) - std::log(kC)) / (s * s));
  ASSERT_EQ(j["parameters"].size(), 1u);
  const nlohmann::json& w = j["parameters"][0];
  EXPECT_EQ(w["name"], "domestic.wafers0");
  const boost::math::normal_distribution<double> n01;
  const std::pair<const char*, double> qs[] = {{"q05", 0.05}, {"q50", 0.5}, {"q95", 0.95}};
  for (const auto& [key, q] : qs) {
    const double z = boost::math::quantile(n01, q);
    const double want = m + z * std::sqrt(v);
    const double se = std::sqrt(q * (1 - q) / accepted) / boost::math::pdf(n01, z) * std::sqrt(v);
    const double bin = kS0 / (4096 * boost::math::pdf(n01, (want - kMu0) / kS0));
    EXPECT_NEAR(std::log(w["posterior"][key].get<double>()), want, 5 * se + bin) << key;
    // The prior's: ln W ~ N(mu0, s0^2) over all n.
    const double se0 = std::sqrt(q * (1 - q) / n) / boost::math::pdf(n01, z) * kS0;
    EXPECT_NEAR(std::log(w["prior"][key].get<double>()), kMu0 + z * kS0,
                5 * se0 + kS0 / (4096 * boost::math::pdf(n01, z)))
        << key;
  }
  // The 90 % interval of W (not of ln W) shrinks by 1 - e^m sinh(z sqrt(v)) / (e^mu0 sinh(z s0)), z = 1.6449;
  // 0.03 covers the four quantiles' errors above (each a few per cent of its width at most).
  const double z95 = boost::math::quantile(n01, 0.95);
  EXPECT_NEAR(w["shrink90"].get<double>(),
              1 - std::exp(m - kMu0) * std::sinh(z95 * std::sqrt(v)) / std::sinh(z95 * kS0), 0.03);
  EXPECT_TRUE(fs::is_regular_file(dir / "c" / "posterior" / "annual.csv"));
  // parameter_quantiles.csv: 99 rows per parameter, posterior filled.
  const std::string pq = read_text(dir / "c" / "parameter_quantiles.csv");
  EXPECT_EQ(std::count(pq.begin(), pq.end(), '\n'), 100);
  EXPECT_NE(pq.find("\"domestic.wafers0\",0.50,"), std::string::npos) << pq.substr(0, 200);
}

// prior/ is `chipcast run`'s output set with the same config, seed and N (but for the command line in summary.json).
TEST_F(CliCalibrate, PriorIsThePlainRunAndOutputsDoNotDependOnThreadsOrBatch) {
  const std::string sc = scenario(units_observation(2027, 2e7, 0.3) + units_observation(2028, 2.5e7, 0.4));
  const std::string common = sc + " -n 20000 --seed 7 --quiet";
  ASSERT_EQ(run_chipcast("run " + common + " --threads 2 --out " + (dir / "run").string()).status, 0);
  auto r = run_chipcast("calibrate " + common + " --threads 2 --out " + (dir / "a").string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"crossing.csv", "bands.csv", "annual.csv", "resolved.toml"})
    EXPECT_EQ(read_text(dir / "a" / "prior" / f), read_text(dir / "run" / f)) << f;
  // One thread and a batch of 1500 (several steps, a partial last one): the same bytes.
  r = run_chipcast("calibrate " + common + " --threads 1 --batch 1500 --out " + (dir / "b").string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"calibration.csv", "parameter_quantiles.csv", "prior/crossing.csv", "prior/bands.csv",
                        "prior/annual.csv", "posterior/crossing.csv", "posterior/bands.csv", "posterior/annual.csv"})
    EXPECT_EQ(read_text(dir / "a" / f), read_text(dir / "b" / f)) << f;
  EXPECT_EQ(without_provenance(json_of(dir / "a" / "calibration.json")),
            without_provenance(json_of(dir / "b" / "calibration.json")));
  EXPECT_GT(json_of(dir / "a" / "calibration.json")["accepted"].get<uint64_t>(), 1000u);
}

// The Kokkos backend decides on the host and re-runs the accepted ranges with
// its own run() (Backend::run_calibrated's default), the OpenMP one fuses both
// passes per block: the same bytes, prior, posterior and calibration files.
TEST_F(CliCalibrate, KokkosGivesTheOpenMPOutputs) {
#if !CHIPCAST_HAVE_KOKKOS
  GTEST_SKIP() << "the Kokkos backend is not compiled into this build (configure with --preset kokkos)";
#else
  const std::string sc = scenario(units_observation(2027, 2e7, 0.3) + units_observation(2028, 2.5e7, 0.4));
  const std::string common = "calibrate " + sc + " -n 6000 --seed 5 --quiet --batch 2500";
  auto r = run_chipcast(common + " --backend openmp --out " + (dir / "omp").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_chipcast(common + " --backend kokkos --out " + (dir / "kokkos").string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"calibration.csv", "parameter_quantiles.csv", "prior/crossing.csv", "prior/bands.csv",
                        "prior/annual.csv", "posterior/crossing.csv", "posterior/bands.csv", "posterior/annual.csv"})
    EXPECT_EQ(read_text(dir / "omp" / f), read_text(dir / "kokkos" / f)) << f;
  nlohmann::json a = without_provenance(json_of(dir / "omp" / "calibration.json"));
  nlohmann::json b = without_provenance(json_of(dir / "kokkos" / "calibration.json"));
  a.erase("backend");
  b.erase("backend");
  EXPECT_EQ(a, b);
  EXPECT_GT(json_of(dir / "omp" / "calibration.json")["accepted"].get<uint64_t>(), 100u);
#endif
}

// Killed after its second step (SIGKILL: no checkpoint of that step), resumed: the outputs of an uninterrupted run.
TEST_F(CliCalibrate, KillAndResumeGivesTheUninterruptedOutputs) {
  const std::string sc = scenario(units_observation(2027, 2e7, 0.3));
  const std::string common = sc + " -n 12000 --seed 3 --threads 2 --batch 2000 --quiet";
  ASSERT_EQ(run_chipcast("calibrate " + common + " --out " + (dir / "whole").string()).status, 0);
  const std::string ck = (dir / "ck").string();
  const auto killed =
      run_command("CHIPCAST_TEST_STEP_HOOK=3:raise=SIGKILL " + std::string(CHIPCAST_EXE) + " calibrate " + common +
                  " --checkpoint " + ck + " --checkpoint-every 0 --out " + (dir / "part").string());
  ASSERT_TRUE(killed.status == -1 || killed.status == 128 + 9) << killed.status << killed.output;
  ASSERT_FALSE(fs::exists(dir / "part" / "calibration.json"));
  // A plain run refuses the calibrate checkpoint, naming why.
  const auto refused =
      run_chipcast("run " + common + " --checkpoint " + ck + " --resume --out " + (dir / "x").string());
  EXPECT_EQ(refused.status, 4) << refused.output;
  EXPECT_NE(refused.output.find("calibrate run's checkpoint"), std::string::npos) << refused.output;
  const auto resumed =
      run_chipcast("calibrate " + common + " --checkpoint " + ck + " --resume --out " + (dir / "part").string());
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  for (const char* f : {"calibration.csv", "parameter_quantiles.csv", "prior/bands.csv", "prior/annual.csv",
                        "posterior/crossing.csv", "posterior/bands.csv", "posterior/annual.csv"})
    EXPECT_EQ(read_text(dir / "whole" / f), read_text(dir / "part" / f)) << f;
  EXPECT_EQ(without_provenance(json_of(dir / "whole" / "calibration.json")),
            without_provenance(json_of(dir / "part" / "calibration.json")));
}

// And a calibrate refuses a plain run's checkpoint.
TEST_F(CliCalibrate, CalibrateRefusesARunCheckpoint) {
  const std::string sc = scenario(units_observation(2027, 2e7, 0.3));
  const std::string common = sc + " -n 3000 --seed 3 --quiet --checkpoint " + (dir / "ck").string();
  ASSERT_EQ(run_chipcast("run " + common + " --out " + (dir / "r").string()).status, 0);
  const auto r = run_chipcast("calibrate " + common + " --resume --out " + (dir / "c").string());
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find("plain run's checkpoint"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "c"));
}

// No simulated total comes near 1e30 within sd_log 0.01: nothing accepted, the warning names the
// observation, exit status 5, no posterior/ (and an earlier run's posterior/ does not survive).
TEST_F(CliCalibrate, ImpossibleObservationsAcceptNothingAndWriteNoPosterior) {
  const std::string out = (dir / "c").string();
  auto r = run_chipcast("calibrate " + scenario(units_observation(2027, 2e7, 0.3)) + " -n 3000 --quiet --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::is_directory(dir / "c" / "posterior"));
  r = run_chipcast("calibrate " + scenario(units_observation(2027, 2e7, 0.3) + units_observation(2028, 1e30, 0.01)) +
                   " -n 3000 --quiet --out " + out);
  EXPECT_EQ(r.status, 5) << r.output;
  EXPECT_NE(r.output.find("warning: no trajectory of 3000 was accepted"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2028 domestic units"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "c" / "posterior"));
  EXPECT_TRUE(fs::is_regular_file(dir / "c" / "prior" / "summary.json"));
  const nlohmann::json j = json_of(dir / "c" / "calibration.json");
  EXPECT_EQ(j["accepted"], 0);
  EXPECT_TRUE(j["posterior"].is_null());
  EXPECT_EQ(j["most_rejecting"], "2028 domestic units");
  EXPECT_EQ(j["observations"][1]["rejects"], 3000);
  EXPECT_TRUE(j["observations"][0]["posterior"].is_null());
  EXPECT_TRUE(j["parameters"][0]["posterior"].is_null());
  EXPECT_TRUE(j["parameters"][0]["shrink90"].is_null());
  EXPECT_TRUE(j["warning"].is_string());
}

// Between 1 and 999 accepted: a posterior, and the warning (on stderr even with --quiet, and in
// calibration.json) naming the observation that rejects the most: 2028's, ten times narrower.
TEST_F(CliCalibrate, FewAcceptedWarnsNamingTheMostRejectingObservation) {
  const auto r =
      run_chipcast("calibrate " + scenario(units_observation(2027, 1.2e7, 0.6) + units_observation(2028, 1.2e7, 0.06)) +
                   " -n 2000 --seed 5 --quiet --out " + (dir / "c").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json j = json_of(dir / "c" / "calibration.json");
  const uint64_t accepted = j["accepted"];
  ASSERT_GT(accepted, 0u);
  ASSERT_LT(accepted, 1000u);
  EXPECT_NE(r.output.find("warning: only " + std::to_string(accepted) + " of 2000 trajectories were accepted"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(j["most_rejecting"], "2028 domestic units");
  EXPECT_GT(j["observations"][1]["rejects"].get<uint64_t>(), j["observations"][0]["rejects"].get<uint64_t>());
  EXPECT_TRUE(j["warning"].is_string());
  EXPECT_TRUE(fs::is_regular_file(dir / "c" / "posterior" / "summary.json"));
}

// Supply quantities (MODEL-v2.md section 7) have predictive quantiles from the decision counts'
// histograms. In the conjugate scenario 2027's mean domestic wafers are W itself, so with y = 2e4 =
// e^mu0 and error s: prior predictive ln ~ N(mu0, s0^2 + s^2), posterior predictive ln ~ N(mu0, v +
// s^2), v = 1 / (1/s0^2 + 1/s^2) (the posterior mean is mu0). Each q05/q50/q95 within 5 sigma of a
// sample quantile plus the histogram's bin (0.01 decade, 0.023 in ln); the prior PIT of the median
// is 1/2 within 5 sigma (sqrt(1/4 / n)). `score` reads the same histogram: its PIT is the prior's.
TEST_F(CliCalibrate, SupplyObservationsHavePredictiveQuantiles) {
  const double s = 0.3;
  const uint64_t n = 40000;
  const std::string wafers =
      "[[observations]]\nyear = 2027\nbloc = \"domestic\"\nmetric = \"wafers\"\n"
      "value = 20000.0\nsd_log = 0.3\nsource = \"synthetic, for the test\"\n";
  const std::string sc = scenario(wafers);
  auto r =
      run_chipcast("calibrate " + sc + " -n " + std::to_string(n) + " --seed 4 --quiet --out " + (dir / "c").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json j = json_of(dir / "c" / "calibration.json");
  const uint64_t accepted = j["accepted"];
  const nlohmann::json& o = j["observations"][0];
  const boost::math::normal_distribution<double> n01;
  const double v = 1 / (1 / (kS0 * kS0) + 1 / (s * s));
  const std::pair<const char*, double> qs[] = {{"q05", 0.05}, {"q50", 0.5}, {"q95", 0.95}};
  for (const auto& [key, q] : qs) {
    const double z = boost::math::quantile(n01, q);
    for (const auto& [side, sd, count] : {std::tuple<const char*, double, uint64_t>{"prior", std::hypot(kS0, s), n},
                                          {"posterior", std::sqrt(v + s * s), accepted}}) {
      const double se = std::sqrt(q * (1 - q) / count) / boost::math::pdf(n01, z) * sd;
      EXPECT_NEAR(std::log(o[side][key].get<double>()), kMu0 + z * sd, 5 * se + 0.023) << side << " " << key;
    }
  }
  EXPECT_NEAR(o["prior"]["percentile"].get<double>(), 0.5, 5 * std::sqrt(0.25 / n));

  // score of a run of the same scenario: the same predictive distribution.
  ASSERT_EQ(
      run_chipcast("run " + sc + " -n " + std::to_string(n) + " --seed 4 --quiet --out " + (dir / "r").string()).status,
      0);
  r = run_chipcast("score " + (dir / "r").string() + " --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json score = json_of(dir / "r" / "score" / "score.json");
  EXPECT_DOUBLE_EQ(score["observations"][0]["pit"].get<double>(), o["prior"]["percentile"].get<double>());
  EXPECT_DOUBLE_EQ(score["observations"][0]["q50"].get<double>(), o["prior"]["q50"].get<double>());
}

// Config errors name file, key and value, and nothing is written.
TEST_F(CliCalibrate, BadObservationsAreConfigErrorsNamingFileKeyAndValue) {
  const std::string sc = scenario("");
  const fs::path obs = dir / "obs.toml";
  struct Case {
    std::string body, expect;
  };
  const std::string head = "[[observations]]\nyear = 2027\nbloc = \"domestic\"\n";
  const Case cases[] = {
      {"[[observations]]\nyear = 2040\nbloc = \"domestic\"\nmetric = \"units\"\nvalue = 1e6\nsd_log = 0.3\n"
       "source = \"s\"\n",
       "observations[0].year"},
      {head + "metric = \"units\"\nvalue = 1e6\nsd_log = 0.3\n", "observations[0].source"},
      {head + "metric = \"units\"\nlow = 2e6\nhigh = 1e6\nsource = \"s\"\n", "observations[0].high"},
      {head + "metric = \"chips\"\nvalue = 1e6\nsd_log = 0.3\nsource = \"s\"\n", "observations[0].metric"},
  };
  for (const Case& c : cases) {
    write_text(obs, c.body);
    const auto r = run_chipcast("calibrate " + sc + " -n 100 --quiet --observations " + obs.string() + " --out " +
                                (dir / "c").string());
    EXPECT_EQ(r.status, 2) << c.body << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
    EXPECT_TRUE(r.output.find(obs.string()) != std::string::npos || r.output.find(sc) != std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir / "c"));
  }
  // No observations at all.
  const auto r = run_chipcast("calibrate " + sc + " -n 100 --quiet --out " + (dir / "c").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("observations"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace chipcast
