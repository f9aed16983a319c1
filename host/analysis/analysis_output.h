// Shared pieces of the analysis commands' outputs: provenance, number formatting, exit statuses.
#pragma once
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/backend.h"
#include "host/report/report.h"

namespace chipcast::analysis {

// Exit statuses, as `chipcast run` uses them.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;    // bad scenario, flags or output spec; nothing written
constexpr int kExitRuntime = 3;  // backend or I/O failure

// How and where an analysis ran (written into its JSON).
struct AnalysisInfo {
  std::string backend;
  std::string backend_detail;
  int threads = 0;
  double seconds = 0;
  std::string started_utc;
};

// The backend an analysis runs on, with its provenance filled into `info`.
std::unique_ptr<Backend> make_analysis_backend(const std::string& name, int threads, AnalysisInfo& info);
// Writes `info` into an analysis's JSON (backend, backend_detail, threads, seconds, started_utc, in that order).
void add_analysis_info(nlohmann::ordered_json& j, const AnalysisInfo& info);

// Runs the part of an analysis command that follows loading its inputs and returns the command's exit status:
// kExitOk, or, with "error: ..." on stderr, kExitUsage for std::invalid_argument (a bad spec found only now) and
// OutputFolderRefused (the output folder is held by another command or unusable) and kExitRuntime for any other
// std::exception (backend or I/O).
int run_reporting_errors(const std::function<void()>& body);

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
