// Tests of host/config/observation_table: validated observations -> the kernels' ModelParams::observations.
#include "host/config/observation_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "host/config/scenario.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;

// minimal.toml simulates 2026.0-2036.0 quarterly: calendar years 2026..2035 in full.
class ObservationTableTest : public testing::ScenarioFileTest {
 protected:
  std::unique_ptr<Scenario> load(const std::string& body) {
    return load_scenario(write("s.toml", "extends = \"" + kMinimalToml + "\"\n" + body));
  }
  static std::string obs(int year, const std::string& bloc, const std::string& metric, const std::string& value) {
    return "[[observations]]\nyear = " + std::to_string(year) + "\nbloc = \"" + bloc + "\"\nmetric = \"" + metric +
           "\"\n" + value + "\nsource = \"test\"\n";
  }
};

TEST_F(ObservationTableTest, EachObservationBecomesItsYearRowQuantityAndLogValue) {
  const auto s = load(obs(2028, "ratio", "compute", "value = 0.02\nsd_log = 0.3") +
                      obs(2026, "foreign", "hbm", "low = 1e9\nhigh = 4e9") +
                      obs(2027, "domestic", "wafers", "value = 5e4\nsd_log = 0.2"));
  // A plain run carries no table: the loader leaves it empty.
  EXPECT_EQ(s->params.num_observations, 0);
  EXPECT_EQ(s->params.observed_periods, 0);
  parity::ModelParams p = s->params;
  set_observation_table(s->observations, s->run, s->path, p);
  ASSERT_EQ(p.num_observations, 3);
  EXPECT_EQ(p.observed_periods, 3 * 4);  // through 2028, quarterly
  const parity::ObservationSpec& a = p.observations[0];
  EXPECT_EQ(a.year, 2);
  EXPECT_EQ(a.bloc, parity::kObservedRatio);
  EXPECT_EQ(a.quantity, parity::kCompute);
  EXPECT_DOUBLE_EQ(a.log_value, std::log(0.02));
  EXPECT_DOUBLE_EQ(a.sd_log, 0.3);
  const parity::ObservationSpec& b = p.observations[1];
  EXPECT_EQ(b.year, 0);
  EXPECT_EQ(b.bloc, parity::kForeign);
  EXPECT_EQ(b.quantity, kNumMetrics + parity::kSupplyHbm);
  // MODEL-v2.md section 7: value = sqrt(low high), sd_log = ln(high / low) / (2 * 1.6449).
  EXPECT_NEAR(b.log_value, 0.5 * (std::log(1e9) + std::log(4e9)), 1e-12);
  EXPECT_NEAR(b.sd_log, std::log(4.0) / (2 * 1.6449), 1e-15);
  const parity::ObservationSpec& c = p.observations[2];
  EXPECT_EQ(c.year, 1);
  EXPECT_EQ(c.bloc, parity::kDomestic);
  EXPECT_EQ(c.quantity, kNumMetrics + parity::kSupplyWafers);

  set_observation_table({}, s->run, s->path, p);
  EXPECT_EQ(p.num_observations, 0);
  EXPECT_EQ(p.observed_periods, 0);
}

TEST_F(ObservationTableTest, MoreThanTheKernelsHoldIsAnErrorNamingTheFirstOneLeftOut) {
  std::string body;
  for (int i = 0; i < parity::kMaxObservations + 1; ++i)
    body += obs(2026 + i % 10, "domestic", "units", "value = 1e5\nsd_log = 0.5");
  const auto s = load(body);
  parity::ModelParams p = s->params;
  try {
    set_observation_table(s->observations, s->run, s->path, p);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("observations[" + std::to_string(parity::kMaxObservations) + "]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at most 32"), std::string::npos) << msg;
    EXPECT_NE(msg.find("s.toml"), std::string::npos) << msg;
  }
}

// An --observations file's year is checked against the run it is used with.
TEST_F(ObservationTableTest, AYearOutsideTheRunIsAnError) {
  const auto s = load("");
  Observation o;
  o.year = 2036;  // minimal.toml ends at 2036.0: 2035 is its last full year
  o.value = 1e5;
  o.sd_log = 0.5;
  o.source = "test";
  o.file = "obs.toml";
  o.key = "observations[0]";
  parity::ModelParams p = s->params;
  try {
    set_observation_table({o}, s->run, s->path, p);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("obs.toml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("observations[0].year"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2036"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace chipcast
