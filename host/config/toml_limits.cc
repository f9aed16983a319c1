// The pre-parse scan of a scenario file against TomlLimits.
#include "host/config/toml_limits.h"

namespace chipcast::config {
namespace {

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string toml_limit_violation(const std::string& text, const TomlLimits& limits) {
  if (text.size() > limits.max_bytes)
    return std::to_string(text.size()) + " bytes, more than the " + std::to_string(limits.max_bytes) +
           " a scenario file may have";
  const size_t n = text.size();
  size_t line = 1;
  int depth = 0;
  int parts = 0;           // parts of the dotted sequence being read
  bool after_dot = false;  // the last token of that sequence was a '.'
  size_t i = 0;
  // A segment (bare key or quoted string) ends at `i`; count it as a part
  // of the current sequence if a '.' joined it, else start a new sequence.
  auto segment = [&] {
    parts = after_dot ? parts + 1 : 1;
    after_dot = false;
  };
  auto too_many_parts = [&] {
    return "line " + std::to_string(line) + ": a dotted key or table header with more than " +
           std::to_string(limits.max_key_parts) + " parts";
  };
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      parts = 0;
      after_dot = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      const bool multi = i + 2 < n && text[i + 1] == c && text[i + 2] == c;
      const std::string close = multi ? std::string(3, c) : std::string(1, c);
      size_t j = i + close.size();
      while (j < n) {
        if (c == '"' && text[j] == '\\') {
          j += 2;
          continue;
        }
        if (text.compare(j, close.size(), close) == 0) break;
        if (text[j] == '\n') {
          if (!multi) break;  // an unterminated string: toml++ reports it
          ++line;
        }
        ++j;
      }
      i = j < n ? j + close.size() : n;
      segment();
      if (parts > limits.max_key_parts) return too_many_parts();
      continue;
    }
    if (is_bare_key_char(c)) {
      while (i < n && is_bare_key_char(text[i])) ++i;
      segment();
      if (parts > limits.max_key_parts) return too_many_parts();
      continue;
    }
    if (c == '.') {
      after_dot = true;
      ++i;
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > limits.max_nesting)
        return "line " + std::to_string(line) + ": arrays, inline tables or table headers nested more than " +
               std::to_string(limits.max_nesting) + " deep";
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
    parts = 0;
    after_dot = false;
    ++i;
  }
  return {};
}

}  // namespace chipcast::config
