// Validators of numeric flag values with messages a person can read.
#include "host/cli/flag_validators.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "host/config/limit_text.h"

namespace chipcast::cli {

CLI::Validator whole_number(int64_t lo, int64_t hi, const std::string& note) {
  const std::string valid =
      fmt::format("give a whole number from {} to {}{}", config::limit_text(lo), config::limit_text(hi), note);
  return CLI::Validator(
      [lo, hi, valid](std::string& text) -> std::string {
        int64_t v = 0;
        const char* begin = text.data();
        const char* end = begin + text.size();
        const auto [ptr, ec] = std::from_chars(begin, end, v);
        if (text.empty() || ptr != end || ec == std::errc::invalid_argument)
          return fmt::format("{} is not a whole number; {}", text, valid);
        if (ec == std::errc::result_out_of_range || v < lo || v > hi)
          return fmt::format("{} is out of range; {}", text, valid);
        return std::string();
      },
      fmt::format("[{}, {}]", config::limit_text(lo), config::limit_text(hi)));
}

CLI::Validator real_number(double lo, bool lo_open, double hi, const std::string& unit) {
  std::string valid =
      fmt::format("give a finite number of {} {} {}", unit, lo_open ? ">" : ">=", config::real_limit_text(lo));
  if (std::isfinite(hi)) valid += fmt::format(" and at most {}", config::real_limit_text(hi));
  return CLI::Validator(
      [lo, lo_open, hi, valid](std::string& text) -> std::string {
        // strtod: the syntax CLI11 then converts the value with.
        char* end = nullptr;
        const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size())
          return fmt::format("{} is not a number; {}", text, valid);
        if (!std::isfinite(v)) return fmt::format("{} is not finite; {}", text, valid);
        const bool above_lo = lo_open ? v > lo : v >= lo;
        if (!above_lo || v > hi) return fmt::format("{} is out of range; {}", text, valid);
        return std::string();
      },
      fmt::format("NUMBER {} {}", lo_open ? ">" : ">=", config::real_limit_text(lo)));
}

}  // namespace chipcast::cli
