// Writes a run's output folder (summary.json, crossing.csv, bands.csv, resolved.toml) and the terminal headline.
#pragma once
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "host/config/scenario.h"
#include "host/run/write_file_atomic.h"  // write_outputs' file writing, for report's callers too
#include "host/stats/summary.h"

namespace chipcast {

// Provenance of a run that the tally and the scenario do not carry.
struct RunInfo {
  std::string backend;
  std::string backend_detail;
  std::string version;  // empty: this build's CHIPCAST_VERSION
  double seconds = 0;
  std::string started_utc;
  std::string command_line;
  int ranks = 1;
  int threads = 0;
};

// Sets summary.json's provenance keys on `j` (backend, backend_detail, config_sha256,
// config_path, version, seconds, started_utc, command_line, ranks, threads, isa), in that
// order: every output that names its run (summary.json, calibration.json) writes the same.
void add_provenance(nlohmann::ordered_json& j, const Scenario& scenario, const RunInfo& info);

// Writes summary.json, crossing.csv, bands.csv, annual.csv (when the grid has
// calendar years) and resolved.toml (the scenario's resolved config) into `dir`, creating it if needed. Each file is
// written atomically (write_file_atomic); `chipcast run` passes an OutputSet's
// path() so that the four become the output folder together. The same inputs
// give byte-identical files. Throws std::runtime_error naming the path on failure.
void write_outputs(const std::filesystem::path& dir, const Scenario& scenario, const Summary& summary,
                   const RunInfo& info);

// The summary.json document, as write_outputs writes it (2-space indent, trailing newline).
std::string summary_json(const Scenario& scenario, const Summary& summary, const RunInfo& info);
// crossing.csv: metric,year,p_crossed,stderr,lo95,hi95 — one row per metric and period end.
std::string crossing_csv(const Summary& summary);
// bands.csv: metric,series,year,q05,q25,q50,q75,q95 — series ratio|domestic|foreign.
std::string bands_csv(const Summary& summary);
// annual.csv: the same columns for calendar-year totals (year: the calendar
// year, e.g. 2026). write_outputs writes it only when summary.annual_years > 0.
std::string annual_csv(const Summary& summary);
// One "warning: ..." line per anomaly kind counted (empty when none).
std::string anomaly_warnings(const AnomalyCounts& anomalies);

// Lines for the terminal: per metric the median and 90 % band of the parity
// year ("after <horizon>" where a quantile is null) and P(no parity by the
// horizon), e.g.
//   units    median 2041.25  90% band 2033.50 – after 2060   P(no parity by 2060) = 0.12
std::string headline(const Scenario& scenario, const Summary& summary);

// The current time as ISO 8601 UTC, e.g. 2026-11-23T07:25:39Z (provenance).
std::string utc_now();

}  // namespace chipcast
