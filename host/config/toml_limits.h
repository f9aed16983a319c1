// Bounds a scenario file must keep before toml++ parses it (size, dotted-key parts, nesting, the non-ASCII characters toml++ 3.3 mishandles).
#pragma once
#include <cstddef>
#include <string>

namespace chipcast::config {

// toml++ 3.3 recurses once per dotted-key part and per nested array or inline
// table, so a small hostile file (a header of 40,000 parts is 80 KB) would
// overflow the stack. A scenario is a few KB with keys of two or three parts;
// these limits are far above any real one and far below what overflows.
struct TomlLimits {
  size_t max_bytes = size_t{1} << 20;  // 1 MiB
  int max_key_parts = 64;              // parts of one dotted key or table header
  int max_nesting = 64;                // arrays and inline tables inside each other
};

// Empty when `text` keeps `limits`; else "line L: <what> (<limit>)" for the
// first limit it breaks. A lexical scan only (strings and comments skipped),
// so it is cheap and cannot recurse.
std::string toml_limit_violation(const std::string& text, const TomlLimits& limits = {});

}  // namespace chipcast::config
