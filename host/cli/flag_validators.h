// Validators of numeric flag values (CLI11) whose messages name the value and what is valid.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace chipcast::cli {

// A whole number in [lo, hi], in digits (a '-' only where lo < 0). CLI11's own
// conversion reads "-1" into an unsigned flag as 2^64 - 1 and an overflowing
// value as the type's maximum, and its PositiveNumber prints DBL_MAX in full;
// this refuses both before any conversion. `note` follows the range in the
// message, e.g. " (0: the backend's default)".
CLI::Validator whole_number(int64_t lo, int64_t hi, const std::string& note = "");

// A finite number of `unit` above lo (lo_open) or from lo, and at most hi
// (hi = INFINITY: any finite number). NaN and inf are refused: a NaN passes
// every comparison-based range check and reaches the run as a silent answer.
CLI::Validator real_number(double lo, bool lo_open, double hi, const std::string& unit);

}  // namespace chipcast::cli
