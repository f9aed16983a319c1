// [[observations]] (MODEL-v2.md section 7): an interval's lognormal error, and every bad key refused by name.
#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "host/config/observations.h"
#include "host/config/scenario.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;

// minimal.toml simulates 2026.0-2036.0 quarterly: calendar years 2026..2035 in full.
class ObservationsTest : public testing::ScenarioFileTest {
 protected:
  std::string scenario(const std::string& body, const std::string& run = "") {
    return write("s.toml", "extends = \"" + kMinimalToml + "\"\n" + run + body);
  }
  // Loading fails with a message that names the file and contains every part.
  void expect_error(const std::string& body, const std::vector<std::string>& parts, const std::string& run = "") {
    const std::string path = scenario(body, run);
    const std::string msg = error_of(path);
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
  }
  static std::string obs(const std::string& fields) { return "[[observations]]\n" + fields + "\n"; }
};

const std::string kGood = "year = 2027\nbloc = \"domestic\"\nmetric = \"units\"\nsource = \"FT, Feb 2025\"\n";

TEST_F(ObservationsTest, AnIntervalIsANinetyPercentLognormalError) {
  const auto s = load_scenario(scenario(obs(kGood + "low = 1.5e5\nhigh = 3.0e5") +
                                        obs("year = 2030\nbloc = \"ratio\"\nmetric = \"memory\"\nvalue = 0.014\n"
                                            "sd_log = 0.3\nsource = \"IFP via NYT, 2026\"")));
  ASSERT_EQ(s->observations.size(), 2u);
  const Observation& a = s->observations[0];
  EXPECT_EQ(a.year, 2027);
  EXPECT_EQ(a.bloc, ObservedBloc::domestic);
  EXPECT_EQ(a.quantity, ObservedQuantity::units);
  EXPECT_TRUE(a.interval);
  EXPECT_DOUBLE_EQ(a.value, std::sqrt(1.5e5 * 3.0e5));
  // Oracle: the lognormal with this sd_log puts 5 % below low and 5 % above high
  // (to the 4 digits of MODEL-v2.md's 1.6449).
  const boost::math::normal z;
  EXPECT_NEAR(boost::math::cdf(z, (std::log(1.5e5) - std::log(a.value)) / a.sd_log), 0.05, 1e-5);
  EXPECT_NEAR(boost::math::cdf(z, (std::log(3.0e5) - std::log(a.value)) / a.sd_log), 0.95, 1e-5);
  EXPECT_EQ(a.label(), "2027 domestic units");
  const Observation& b = s->observations[1];
  EXPECT_EQ(b.bloc, ObservedBloc::ratio);
  EXPECT_EQ(b.quantity, ObservedQuantity::memory);
  EXPECT_FALSE(b.interval);
  EXPECT_EQ(b.value, 0.014);
  EXPECT_EQ(b.sd_log, 0.3);
  EXPECT_EQ(b.source, "IFP via NYT, 2026");
}

TEST_F(ObservationsTest, EveryQuantityAndBlocNameIsAccepted) {
  for (const char* q : {"units", "compute", "memory", "wafers", "hbm", "packaging"})
    for (const char* b : {"domestic", "foreign", "ratio"}) {
      const auto s = load_scenario(scenario(obs(std::string("year = 2026\nbloc = \"") + b + "\"\nmetric = \"" + q +
                                                "\"\nvalue = 2\nsd_log = 0.1\nsource = \"x, 2025\"")));
      ASSERT_EQ(s->observations.size(), 1u);
      EXPECT_STREQ(quantity_name(s->observations[0].quantity), q);
      EXPECT_STREQ(observed_bloc_name(s->observations[0].bloc), b);
    }
}

TEST_F(ObservationsTest, BadEntriesAreRefusedByKeyAndValue) {
  expect_error(obs(kGood + "low = 3e5\nhigh = 1.5e5"), {"observations[0].high", "150000", "low < high"});
  expect_error(obs(kGood + "low = 0\nhigh = 1.5e5"), {"observations[0].low", "> 0"});
  expect_error(obs(kGood + "low = 1e5"), {"observations[0].high", "(missing)"});
  expect_error(obs(kGood + "value = 1e5\nsd_log = 0"), {"observations[0].sd_log", "> 0"});
  expect_error(obs(kGood + "value = inf\nsd_log = 0.2"), {"observations[0].value", "inf"});
  expect_error(obs(kGood + "low = 1e5\nhigh = 2e5\nvalue = 1.4e5"), {"observations[0].value", "not both"});
  expect_error(obs(kGood), {"observations[0]", "no value"});
  expect_error(obs(kGood + "low = 1e5\nhigh = 2e5\nweight = 2"), {"observations[0]", "weight"});
  expect_error(obs("year = 2027\nbloc = \"domestic\"\nmetric = \"units\"\nlow = 1\nhigh = 2"),
               {"observations[0].source", "(missing)"});
  expect_error(obs("year = 2027\nbloc = \"domestic\"\nmetric = \"units\"\nlow = 1\nhigh = 2\nsource = \"  \""),
               {"observations[0].source", "empty source"});
  expect_error(obs("year = 2027\nbloc = \"china\"\nmetric = \"units\"\nlow = 1\nhigh = 2\nsource = \"s\""),
               {"observations[0].bloc", "\"china\"", "ratio"});
  expect_error(obs("year = 2027\nbloc = \"foreign\"\nmetric = \"dies\"\nlow = 1\nhigh = 2\nsource = \"s\""),
               {"observations[0].metric", "\"dies\"", "packaging"});
  expect_error(obs("year = 2027.5\nbloc = \"foreign\"\nmetric = \"units\"\nlow = 1\nhigh = 2\nsource = \"s\""),
               {"observations[0].year", "2027.5"});
  expect_error("observations = 3\n", {"observations", "array of tables"});
}

TEST_F(ObservationsTest, YearsMustBeFullySimulatedCalendarYears) {
  // 2026..2035 are simulated in full; 2025 and 2036 are not.
  for (int year : {2026, 2035}) {
    const std::string f = "year = " + std::to_string(year) + "\nbloc = \"foreign\"\nmetric = \"units\"\n";
    EXPECT_EQ(load_scenario(scenario(obs(f + "value = 1e6\nsd_log = 0.2\nsource = \"s\"")))->observations.size(), 1u);
  }
  for (int year : {2025, 2036}) {
    const std::string f = "year = " + std::to_string(year) + "\nbloc = \"foreign\"\nmetric = \"units\"\n";
    expect_error(obs(f + "value = 1e6\nsd_log = 0.2\nsource = \"s\""),
                 {"observations[0].year", std::to_string(year), "2026 to 2035"});
  }
  // Annual totals need whole periods per year and a start on a year boundary.
  const std::string ok = obs(kGood + "value = 1e6\nsd_log = 0.2");
  expect_error(ok, {"dt = 0.3", "whole number of periods per year"},
               "[run]\nstart_year = 2026.0\nhorizon_year = 2035.0\ndt = 0.3\n");
  expect_error(ok, {"start_year = 2026.5", "year boundary"},
               "[run]\nstart_year = 2026.5\nhorizon_year = 2036.0\ndt = 0.25\n");
}

TEST_F(ObservationsTest, AnObservationsFileHoldsObservationsOnly) {
  const std::string good = write("obs.toml", obs(kGood + "value = 1e6\nsd_log = 0.2"));
  const auto v = load_observations_file(good);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].file, good);
  auto message = [](const std::string& path) -> std::string {
    try {
      load_observations_file(path);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  const std::string extra = write("extra.toml", "[run]\ndt = 0.25\n" + obs(kGood + "value = 1e6\nsd_log = 0.2"));
  EXPECT_NE(message(extra).find("run"), std::string::npos) << message(extra);
  const std::string empty = write("empty.toml", "# nothing\n");
  EXPECT_NE(message(empty).find("no observations"), std::string::npos) << message(empty);
  // An empty array would replace the scenario's observations by none: refused as well.
  const std::string none = write("none.toml", "observations = []\n");
  EXPECT_NE(message(none).find("observations: []"), std::string::npos) << message(none);
  EXPECT_NE(message(none).find("at least one"), std::string::npos) << message(none);
  EXPECT_NE(message(dir_.string()).find("not a regular file"), std::string::npos);
}

// The shipped history (configs/observations/history.toml) is a valid --observations file of 2022-2026.
TEST(ShippedObservations, HistoryLoadsAndLiesIn2022To2026) {
  const auto v = load_observations_file(testing::kSourceDir + "/configs/observations/history.toml");
  ASSERT_GE(v.size(), 10u);
  for (const Observation& o : v) {
    EXPECT_GE(o.year, 2022) << o.label();
    EXPECT_LE(o.year, 2026) << o.label();
    EXPECT_GE(o.source.size(), 10u) << o.label();
  }
}

}  // namespace
}  // namespace chipcast
