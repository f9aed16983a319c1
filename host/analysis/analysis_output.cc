// CSV number and field formatting and the UTC timestamp of the analysis commands.
#include "host/analysis/analysis_output.h"

#include <fmt/format.h>

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

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace chipcast::analysis
