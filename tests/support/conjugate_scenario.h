// The conjugate calibration scenario (issue 12) shared by the CLI and the simulation-based calibration tests.
#pragma once
#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast::testing {

// Domestic wafers0 ~ lognormal(ln 2e4, 0.6), everything else of the domestic
// bloc fixed, no growth, no noise, yield 1, no ceiling, HBM and packaging far
// from binding: domestic units of a calendar year are exactly c W, c = 4
// periods x 12 dt x 50 dies = 600. The minimal scenario's horizon becomes
// `horizon_year` (e.g. "2029.0").
constexpr double kConjugateMu0 = 9.903487552536127;  // ln 2e4
constexpr double kConjugateS0 = 0.6, kConjugateC = 600.0;

inline std::string conjugate_scenario(const std::string& horizon_year) {
  std::string t = read_text(kMinimalToml);
  const size_t a = t.find("[domestic]"), b = t.find("[foreign]");
  t = t.substr(0, a) +
      "[domestic]\n"
      "wafers0 = { dist = \"lognormal\", median = 20000, gsd = 1.8221188003905089 }\n"  // exp(0.6)
      "wafer_growth = 0.0\nwafer_vol = 0.0\nwafer_cap = 1.0e12\ndies_per_wafer = 50\nyield0 = 1.0\n"
      "yield_max = 1.0\nlearning_rate = 0.0\nyield_noise = 0.0\nperf0 = 0.5\nperf_growth = 0.25\n"
      "hbm0 = 1.0e15\nhbm_growth = 0.0\nhbm_vol = 0.0\nhbm_per_chip0 = 1\nhbm_per_chip_growth = 0.0\n"
      "packaging0 = inf\npackaging_growth = 0.0\n\n" +
      t.substr(b);
  const std::string from = "horizon_year = 2036.0";
  t.replace(t.find(from), from.size(), "horizon_year = " + horizon_year);
  return t;
}

}  // namespace chipcast::testing
