// CSV number and field formatting and backend provenance of the analyses.
#include "host/analysis/analysis_output.h"

#include <fmt/format.h>

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

AnalysisInfo analysis_info(RunSession& session) {
  AnalysisInfo info;
  info.backend = session.backend_name();
  info.backend_detail = session.backend_detail();
  info.threads = session.threads();
  info.started_utc = utc_now();
  return info;
}

void add_analysis_info(nlohmann::ordered_json& j, const AnalysisInfo& info) {
  j["backend"] = info.backend;
  j["backend_detail"] = info.backend_detail;
  j["threads"] = info.threads;
  j["seconds"] = info.seconds;
  j["started_utc"] = info.started_utc;
}

}  // namespace chipcast::analysis
