// Limits written short in messages.
#include "host/config/limit_text.h"

#include <fmt/format.h>

#include <cfloat>
#include <cmath>

namespace chipcast::config {

std::string limit_text(int64_t v) {
  const uint64_t m = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const std::string sign = v < 0 ? "-" : "";
  if (m < 10'000'000'000ull) return sign + std::to_string(m);
  for (int k = 34; k <= 63; ++k) {
    const uint64_t p = uint64_t{1} << k;
    if (m == p) return sign + fmt::format("2^{}", k);
    if (m == p - 1) return v < 0 ? fmt::format("-(2^{} - 1)", k) : fmt::format("2^{} - 1", k);
  }
  return fmt::format("about {}{:.3g}", sign, static_cast<double>(m));
}

std::string real_limit_text(double v) {
  // DBL_MAX as %.2g: "1.8e+308" (%g would print 1.79769e+308).
  if (std::fabs(v) == DBL_MAX) return v < 0 ? "-1.8e+308" : "1.8e+308";
  return fmt::format("{:g}", v);
}

}  // namespace chipcast::config
