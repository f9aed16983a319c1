// CSV number and field formatting, backend provenance and error reporting of the analysis commands.
#include "host/analysis/analysis_output.h"

#include <fmt/format.h>

#include <omp.h>

#include <ctime>
#include <stdexcept>

#include "host/report/output_set.h"

namespace chipcast::analysis {

std::string csv_number(double v) {
  if (!std::isfinite(v)) return std::string();
  return fmt::format("{:.10g}", v);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::unique_ptr<Backend> make_analysis_backend(const std::string& name, int threads, AnalysisInfo& info) {
  BackendOptions options;
  options.threads = threads;
  auto backend = make_backend(name, options);
  info.backend = backend->name();
  info.backend_detail = backend->describe();
  info.threads = threads > 0 ? threads : omp_get_max_threads();
  info.started_utc = utc_now();
  return backend;
}

void add_analysis_info(nlohmann::ordered_json& j, const AnalysisInfo& info) {
  j["backend"] = info.backend;
  j["backend_detail"] = info.backend_detail;
  j["threads"] = info.threads;
  j["seconds"] = info.seconds;
  j["started_utc"] = info.started_utc;
}

int run_reporting_errors(const std::function<void()>& body) {
  try {
    body();
  } catch (const OutputFolderRefused& e) {  // found before the work started: like a bad flag
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace chipcast::analysis
