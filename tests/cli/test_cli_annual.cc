// annual.csv end to end: calendar-year totals equal the sums of their periods, and grids without whole years give none.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/cli_runner.h"

namespace chipcast {
namespace {

using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;
using testing::write_text;

// A zero-noise scenario with every parameter fixed, where only wafers bind
// (yield 1, HBM and packaging unlimited): period k (ending t = (k+1) dt years
// after start) has, per bloc,
//   units   = wafers0 e^{wafer_growth t} * 12 dt dies_per_wafer
//   compute = units * perf0 e^{perf_growth t}
//   memory  = units * hbm_per_chip0 e^{hbm_per_chip_growth t}
struct Bloc {
  double wafers0, wafer_growth, perf0, perf_growth, hpc0, hpc_growth;
};
constexpr Bloc kDomestic{1e4, 0.3, 1.0, 0.2, 32.0, 0.1};
constexpr Bloc kForeign{2e4, 0.1, 4.0, 0.0, 96.0, 0.0};
constexpr double kDies = 50;

std::string bloc_toml(const char* name, const Bloc& b) {
  std::ostringstream o;
  o.precision(17);
  o << "[" << name << "]\nwafers0 = " << b.wafers0 << "\nwafer_growth = " << b.wafer_growth
    << "\nwafer_vol = 0.0\nwafer_cap = 1.0e30\ndies_per_wafer = " << kDies
    << "\nyield0 = 1.0\nyield_max = 1.0\nlearning_rate = 0.0\nyield_noise = 0.0\nperf0 = " << b.perf0
    << "\nperf_growth = " << b.perf_growth
    << "\nhbm0 = 1.0e30\nhbm_growth = 0.0\nhbm_vol = 0.0\nhbm_per_chip0 = " << b.hpc0
    << "\nhbm_per_chip_growth = " << b.hpc_growth << "\npackaging0 = inf\npackaging_growth = 0.0\n\n";
  return o.str();
}

std::string scenario(double start, double horizon, double dt) {
  std::ostringstream o;
  o.precision(17);
  o << "[run]\nstart_year = " << start << "\nhorizon_year = " << horizon << "\ndt = " << dt << "\n\n";
  return o.str() + bloc_toml("domestic", kDomestic) + bloc_toml("foreign", kForeign);
}

// Metric m of bloc b in the period ending t years after the start.
double level(const Bloc& b, int m, double t, double dt) {
  const double units = b.wafers0 * std::exp(b.wafer_growth * t) * 12 * dt * kDies;
  if (m == 0) return units;
  if (m == 1) return units * b.perf0 * std::exp(b.perf_growth * t);
  return units * b.hpc0 * std::exp(b.hpc_growth * t);
}

using Rows = std::map<std::tuple<std::string, std::string, int>, std::vector<double>>;

// annual.csv's rows by (metric, series, year): q05..q95.
Rows parse_annual(const std::string& text, std::string* header) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, *header);
  Rows rows;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string metric, series, year, q;
    std::getline(f, metric, ',');
    std::getline(f, series, ',');
    std::getline(f, year, ',');
    std::vector<double> qs;
    while (std::getline(f, q, ',')) qs.push_back(std::stod(q));
    rows[{metric, series, std::stoi(year)}] = qs;
  }
  return rows;
}

// 18 quarters from 2026: years 2026-2029 are whole, half of 2030 is not
// tallied. Every trajectory is the same, so each quantile is read from the
// one bin holding the exact year sum: within one bin (0.01 decade) of it, plus
// float rounding of the kernels' log state (< 1e-5 decade here).
TEST(CliAnnual, AnnualTotalsAreTheSumsOfTheirPeriods) {
  ScratchDir dir("annual-sums");
  const double dt = 0.25;
  write_text(dir / "s.toml", scenario(2026, 2030.5, dt));
  const auto r =
      run_chipcast("run " + (dir / "s.toml").string() + " -n 64 --threads 2 -q --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  std::string header;
  const Rows rows = parse_annual(read_text(dir / "o" / "annual.csv"), &header);
  EXPECT_EQ(header, "metric,series,year,q05,q25,q50,q75,q95");
  ASSERT_EQ(rows.size(), 3u * 3u * 4u) << "3 metrics x 3 series x 4 whole years";
  const char* metrics[3] = {"units", "compute", "memory"};
  for (int m = 0; m < 3; ++m)
    for (int y = 0; y < 4; ++y) {
      double dom = 0, forn = 0;
      for (int k = 4 * y; k < 4 * y + 4; ++k) {
        dom += level(kDomestic, m, (k + 1) * dt, dt);
        forn += level(kForeign, m, (k + 1) * dt, dt);
      }
      const double expect[3] = {dom / forn, dom, forn};
      const char* series[3] = {"ratio", "domestic", "foreign"};
      for (int s = 0; s < 3; ++s) {
        const auto it = rows.find({metrics[m], series[s], 2026 + y});
        ASSERT_NE(it, rows.end()) << metrics[m] << " " << series[s] << " " << 2026 + y;
        ASSERT_EQ(it->second.size(), 5u);
        for (double q : it->second)
          EXPECT_LE(std::fabs(std::log10(q / expect[s])), 0.01 + 1e-5)
              << metrics[m] << " " << series[s] << " " << 2026 + y << ": " << q << " vs " << expect[s];
      }
    }
  EXPECT_EQ(rows.count({"units", "ratio", 2030}), 0u) << "the half year 2030 is not a whole year";
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "summary.json"));
  EXPECT_EQ(j["annual"]["years"], 4);
  EXPECT_EQ(j["annual"]["first_year"], 2026.0);
  EXPECT_EQ(j["annual"]["file"], "annual.csv");
  EXPECT_FALSE(j.contains("annual_reason"));
}

// A non-integer 1/dt or a mid-year start: no annual.csv (not even one left by
// an earlier run into the same folder), and summary.json says why.
TEST(CliAnnual, NoWholeYearsNoAnnualCsv) {
  ScratchDir dir("annual-none");
  write_text(dir / "ok.toml", scenario(2026, 2030, 0.25));
  write_text(dir / "third.toml", scenario(2026, 2029, 0.3));
  write_text(dir / "mid.toml", scenario(2026.5, 2030.5, 0.25));
  const std::string out = (dir / "o").string();
  auto r = run_chipcast("run " + (dir / "ok.toml").string() + " -n 16 -q --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(std::filesystem::exists(dir / "o" / "annual.csv"));
  for (const auto& [file, why] : {std::pair<std::string, std::string>{"third.toml", "1/dt"},
                                  std::pair<std::string, std::string>{"mid.toml", "start_year 2026.5"}}) {
    r = run_chipcast("run " + (dir / file).string() + " -n 16 -q --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "o" / "annual.csv")) << file;
    EXPECT_TRUE(std::filesystem::exists(dir / "o" / "bands.csv")) << file;
    const auto j = nlohmann::json::parse(read_text(dir / "o" / "summary.json"));
    EXPECT_TRUE(j["annual"].is_null()) << file;
    ASSERT_TRUE(j.contains("annual_reason")) << file;
    EXPECT_NE(j["annual_reason"].get<std::string>().find(why), std::string::npos) << j["annual_reason"];
  }
}

}  // namespace
}  // namespace chipcast
