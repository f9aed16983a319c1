// A calibrate run's output folder: prior/, posterior/, calibration.json, calibration.csv, parameter_quantiles.csv.
#pragma once
#include <filesystem>
#include <string>

#include "host/report/output_set.h"
#include "host/run/run_session.h"

namespace chipcast {

// The quantiles parameter_quantiles.csv lists per drawn parameter: 0.01, 0.02, ..., 0.99.
constexpr int kParameterQuantileSteps = 99;

// Writes, into `dir` (an OutputSet's path(), OutputKind::calibrate):
//   prior/                  write_outputs of the prior (summary.json, crossing.csv, bands.csv, annual.csv, resolved.toml)
//   posterior/              the same for the accepted trajectories; not written when none was accepted
//   calibration.json        counts, warning, observations' and parameters' prior and posterior quantiles, headline, provenance
//   calibration.csv         one row per observation, then one per parameter (calibration_csv)
//   parameter_quantiles.csv name,q,prior,posterior for q = 0.01 ... 0.99 per drawn parameter
// `r` must be a completed run's rank-0 result. Throws std::runtime_error naming the path.
void write_calibration(const std::filesystem::path& dir, const CalibrateResult& r);
// The same into an open set (its path()).
inline void write_calibration(OutputSet& set, const CalibrateResult& r) { write_calibration(set.path(), r); }

// The documents write_calibration writes, as it writes them.
std::string calibration_json(const CalibrateResult& r);
std::string calibration_csv(const CalibrateResult& r);
std::string parameter_quantiles_csv(const CalibrateResult& r);

// Lines for the terminal: per metric the prior's and the posterior's median
// parity year and 90 % band side by side, the accepted count and share.
std::string calibration_headline(const CalibrateResult& r);

}  // namespace chipcast
