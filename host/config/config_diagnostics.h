// Shared helpers of the config loader: ConfigError messages, value text, typed reads of TOML nodes.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace chipcast::config {

// Names a message lists before "... and N more" (name_list).
constexpr size_t kNamesShown = 10;

// The file a node was parsed from (kept through extends merging), or
// `fallback` for nodes made by the loader (overrides, defaults).
std::string file_of(const toml::node& node, const std::string& fallback);

// The value as written, on one line: numbers in shortest round-trip form,
// strings quoted, tables as { k = v, ... }; cut to ~160 characters.
std::string value_text(const toml::node& node);
std::string number_text(double x);

// Throws ConfigError "<file>: <key>: <value> — <problem>; <valid>".
[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& value,
                       const std::string& problem, const std::string& valid);

// "a, b, c": at most `shown` names, then "... and N more", so that a message
// about a config with a thousand regimes stays a line long.
std::string name_list(const std::vector<std::string>& names, size_t shown = kNamesShown);

// "a.b" + "c" -> "a.b.c" (no dot when `prefix` is empty).
std::string join_key(const std::string& prefix, std::string_view key);

// A table with a `dist` key: replaces the parent's value whole when merging.
bool is_distribution_table(const toml::node& node);

// Rejects any key of `table` outside `allowed`, naming it and listing the valid ones.
// `prefix` is the table's dotted key ("" at the top level).
void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, const std::string& prefix,
                const std::string& fallback_file);

// Typed reads of a leaf; each throws ConfigError naming the key and value.
// A number is a TOML integer or float.
double read_number(const toml::node& node, const std::string& key, const std::string& fallback_file);
// A TOML integer, or a float with an integral value, within [lo, hi].
int64_t read_integer(const toml::node& node, const std::string& key, int64_t lo, int64_t hi,
                     const std::string& fallback_file);
std::string read_string(const toml::node& node, const std::string& key, const std::string& fallback_file);
const toml::table& read_table(const toml::node& node, const std::string& key, const std::string& fallback_file);

}  // namespace chipcast::config
