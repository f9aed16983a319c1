// Reads a run's output folder (summary.json, crossing.csv, bands.csv, resolved.toml and, when a
// sensitivity run wrote it, sensitivity.json) into the structures the charts and the report use.
#pragma once
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chipcast::plot {

// One row of bands.csv: the 5, 25, 50, 75 and 95 % quantiles at a period end (may be 0 or inf).
struct BandRow {
  double year = 0;
  std::array<double, 5> q{};
};

// One row of crossing.csv.
struct CrossingRow {
  double year = 0;
  double p = 0;
  double stderr_mc = 0;
  double lo95 = 0;
  double hi95 = 0;
};

struct MetricData {
  std::string name;
  double p_parity = 0;  // P(parity by the horizon)
  std::optional<double> p_parity_stderr;
  double p_no_parity = 1;               // P(no parity by the horizon)
  std::optional<double> q05, q50, q95;  // parity-year quantiles; empty = after the horizon
  std::vector<BandRow> ratio, domestic, foreign;
  std::vector<CrossingRow> crossing;
};

struct SobolEntry {
  std::string parameter;
  std::string output;  // may be empty
  double first = 0;
  double total = 0;
  std::optional<std::pair<double, double>> first_ci, total_ci;
};

struct TornadoEntry {
  std::string parameter;
  std::string output;                     // e.g. "parity_year:units"; may be empty
  std::optional<double> low, high, base;  // empty (null): after the horizon for a parity year
};

struct SensitivityData {
  std::vector<SobolEntry> sobol;
  std::vector<TornadoEntry> tornado;
  std::vector<std::pair<std::string, std::string>> info;  // other top-level scalars (method, samples, ...)
};

struct RunData {
  std::filesystem::path dir;
  double start_year = 0;
  double horizon_year = 0;
  double dt = 0;
  double threshold = 1;
  int sustain = 1;
  long long trajectories = 0;
  std::vector<MetricData> metrics;  // units, compute, memory first, then any others
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  // summary.json anomalies, per kind (0 where the file has no such field).
  long long nan_ratios = 0;
  long long nan_levels = 0;
  long long lost_precision = 0;
  std::string quantile_method;
  // Provenance table rows (label, value) and the one-line provenance printed under each chart.
  std::vector<std::pair<std::string, std::string>> provenance;
  std::string provenance_line;
  std::string config_name;  // file name of the config, e.g. "baseline.toml"
  std::optional<std::string> resolved_toml;
  std::optional<SensitivityData> sensitivity;
};

// Throws std::runtime_error naming the file (and line or key) that is missing or malformed.
// resolved.toml and sensitivity.json are optional.
RunData load_run(const std::filesystem::path& dir);

// Parses one number of the CSV files: decimal or exponent notation, "inf", "-inf", "nan"
// (any case), surrounding blanks allowed. Returns false if `text` is not a number.
bool parse_number(std::string_view text, double& value);

// Horizon as a reader writes it: 2060, 2060.5.
std::string year_text(double y);

}  // namespace chipcast::plot
