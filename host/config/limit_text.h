// Limits written short in messages: 2^63 - 1 rather than its 19 digits, and never DBL_MAX in full.
#pragma once
#include <cstdint>
#include <string>

namespace chipcast::config {

// An integer bound: in full up to 10 digits, as 2^k or 2^k - 1 when it is
// one (the usual type limits), otherwise to 3 significant digits ("about
// 1.23e+12"), so that a message stays one readable line.
std::string limit_text(int64_t v);

// A real bound: %g (6 significant digits; DBL_MAX is "1.8e+308").
std::string real_limit_text(double v);

}  // namespace chipcast::config
