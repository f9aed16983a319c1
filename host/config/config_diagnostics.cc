#include "host/config/config_diagnostics.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "host/config/limit_text.h"
#include "host/config/scenario.h"

namespace chipcast::config {
namespace {

constexpr size_t kMaxValueText = 160;

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

bool is_bare_key(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void append_node(std::string& out, const toml::node& node) {
  if (out.size() > kMaxValueText) return;
  if (const auto* t = node.as_table()) {
    if (t->empty()) {
      out += "{}";
      return;
    }
    // `dist` first, as distributions are written; the rest in key order.
    out += "{ ";
    bool first = true;
    auto entry = [&](std::string_view k, const toml::node& v) {
      if (!first) out += ", ";
      first = false;
      if (is_bare_key(k)) {
        out += k;
      } else {
        append_string(out, k);
      }
      out += " = ";
      append_node(out, v);
    };
    if (const toml::node* d = t->get("dist")) entry("dist", *d);
    for (auto&& [k, v] : *t) {
      if (k.str() != "dist") entry(k.str(), v);
    }
    out += " }";
  } else if (const auto* a = node.as_array()) {
    out += "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) out += ", ";
      append_node(out, *a->get(i));
    }
    out += "]";
  } else if (const auto* s = node.as_string()) {
    append_string(out, s->get());
  } else if (const auto* i = node.as_integer()) {
    out += std::to_string(i->get());
  } else if (const auto* f = node.as_floating_point()) {
    out += number_text(f->get());
  } else if (const auto* b = node.as_boolean()) {
    out += b->get() ? "true" : "false";
  } else {
    std::ostringstream os;
    node.visit([&](const auto& n) { os << n; });
    out += os.str();
  }
}

}  // namespace

std::string file_of(const toml::node& node, const std::string& fallback) {
  const auto& path = node.source().path;
  return path && !path->empty() ? *path : fallback;
}

std::string number_text(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string value_text(const toml::node& node) {
  std::string out;
  append_node(out, node);
  if (out.size() > kMaxValueText) out = out.substr(0, kMaxValueText) + " ...";
  return out;
}

void fail(const std::string& file, const std::string& key, const std::string& value, const std::string& problem,
          const std::string& valid) {
  std::string msg = file + ": " + key + ": " + value + " \u2014 " + problem;
  if (!valid.empty()) msg += "; " + valid;
  throw ConfigError(msg);
}

std::string name_list(const std::vector<std::string>& names, size_t shown) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += fmt::format(", ... and {} more", names.size() - shown);
  return out;
}

std::string join_key(const std::string& prefix, std::string_view key) {
  std::string k = is_bare_key(key) ? std::string(key) : [&] {
    std::string q;
    append_string(q, key);
    return q;
  }();
  return prefix.empty() ? k : prefix + "." + k;
}

bool is_distribution_table(const toml::node& node) {
  const auto* t = node.as_table();
  return t && t->contains("dist");
}

void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, const std::string& prefix,
                const std::string& fallback_file) {
  for (auto&& [k, v] : table) {
    bool known = false;
    for (const auto a : allowed) known = known || k.str() == a;
    if (known) continue;
    std::string list;
    for (const auto a : allowed) {
      if (!list.empty()) list += ", ";
      list += a;
    }
    fail(file_of(v, file_of(table, fallback_file)), join_key(prefix, k.str()), value_text(v), "unknown key",
         (prefix.empty() ? std::string("valid top-level keys are: ") : "valid keys in " + prefix + " are: ") + list);
  }
}

double read_number(const toml::node& node, const std::string& key, const std::string& fallback_file) {
  if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
  if (const auto* f = node.as_floating_point()) return f->get();
  fail(file_of(node, fallback_file), key, value_text(node), "expected a number", "write e.g. " + key + " = 1.5");
}

int64_t read_integer(const toml::node& node, const std::string& key, int64_t lo, int64_t hi,
                     const std::string& fallback_file) {
  const std::string file = file_of(node, fallback_file);
  const std::string range = "an integer in [" + limit_text(lo) + ", " + limit_text(hi) + "]";
  int64_t v = 0;
  if (const auto* i = node.as_integer()) {
    v = i->get();
  } else if (const auto* f = node.as_floating_point()) {
    const double x = f->get();
    // 2^63 is the first double past int64's range.
    if (!(std::floor(x) == x) || x < -9223372036854775808.0 || x >= 9223372036854775808.0) {
      fail(file, key, value_text(node), "not an integer", key + " must be " + range);
    }
    v = static_cast<int64_t>(x);
  } else {
    fail(file, key, value_text(node), "expected an integer", key + " must be " + range);
  }
  if (v < lo || v > hi) fail(file, key, value_text(node), "out of range", key + " must be " + range);
  return v;
}

std::string read_string(const toml::node& node, const std::string& key, const std::string& fallback_file) {
  if (const auto* s = node.as_string()) return s->get();
  fail(file_of(node, fallback_file), key, value_text(node), "expected a string", "write e.g. " + key + " = \"...\"");
}

const toml::table& read_table(const toml::node& node, const std::string& key, const std::string& fallback_file) {
  if (const auto* t = node.as_table()) return *t;
  fail(file_of(node, fallback_file), key, value_text(node), "expected a table",
       "write [" + key + "] or " + key + " = { ... }");
}

}  // namespace chipcast::config
