// CSV number and field formatting and the UTC timestamp of the analysis commands.
#include "host/analysis/analysis_output.h"

#include <fmt/format.h>

#include <omp.h>

#include <ctime>

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

}  // namespace chipcast::analysis
