// Shared pieces of the analyses' outputs: provenance and number formatting.
#pragma once
#include <cmath>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "host/report/report.h"
#include "host/run/run_session.h"

namespace chipcast::analysis {

// How and where an analysis ran (written into its JSON).
struct AnalysisInfo {
  std::string backend;
  std::string backend_detail;
  int threads = 0;
  double seconds = 0;
  std::string started_utc;
};

// The session's backend and threads, started now (seconds left 0). Makes the
// backend: RunError(runtime) when it cannot be made.
AnalysisInfo analysis_info(RunSession& session);
// Writes `info` into an analysis's JSON (backend, backend_detail, threads, seconds, started_utc, in that order).
void add_analysis_info(nlohmann::ordered_json& j, const AnalysisInfo& info);

// A finite number, or JSON null (NaN, inf and "after the horizon" are null).
inline nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}
inline nlohmann::ordered_json json_number(const std::optional<double>& v) {
  return v ? json_number(*v) : nlohmann::ordered_json(nullptr);
}

// CSV numbers: 10 significant digits; an empty field for NaN / absent.
std::string csv_number(double v);
inline std::string csv_number(const std::optional<double>& v) { return v ? csv_number(*v) : std::string(); }
// A CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

}  // namespace chipcast::analysis
