#include "host/config/merged_config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "host/config/config_diagnostics.h"
#include "host/config/scenario.h"
#include "host/config/toml_limits.h"

namespace chipcast::config {
namespace fs = std::filesystem;
namespace {

// Identity of a file for cycle detection: its canonical path when it exists.
std::string file_identity(const std::string& path) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(fs::path(path), ec);
  return ec ? fs::absolute(fs::path(path)).lexically_normal().string() : c.string();
}

toml::table load_chain(const std::string& path, std::vector<std::string>& chain_ids,
                       std::vector<std::string>& chain_paths) {
  toml::table table = read_toml_file(path);
  chain_ids.push_back(file_identity(path));
  chain_paths.push_back(path);
  toml::node* ext = table.get("extends");
  if (!ext) return table;

  const std::string rel = read_string(*ext, "extends", path);
  if (rel.empty())
    fail(path, "extends", value_text(*ext), "empty path",
         "name the parent scenario file, e.g. extends = \"baseline.toml\"");
  const fs::path rel_path(rel);
  const std::string parent = rel_path.is_absolute()
                                 ? rel_path.string()
                                 : (fs::path(path).parent_path() / rel_path).lexically_normal().string();
  const std::string parent_id = file_identity(parent);
  for (size_t i = 0; i < chain_ids.size(); ++i) {
    if (chain_ids[i] != parent_id) continue;
    std::string cycle;
    for (size_t j = i; j < chain_paths.size(); ++j) cycle += chain_paths[j] + " -> ";
    cycle += parent;
    fail(path, "extends", value_text(*ext), "extends cycle (" + cycle + ")",
         "a scenario may not extend itself, directly or through other files");
  }
  {
    std::error_code ec;
    const fs::file_status st = fs::status(parent, ec);
    if (fs::exists(st) && !fs::is_regular_file(st))
      fail(path, "extends", value_text(*ext), "names " + parent + ", which is not a regular file",
           "name the parent scenario's .toml file");
    std::ifstream probe(parent, std::ios::binary);
    if (!probe) {
      throw ConfigError(parent + ": cannot open (" + std::strerror(errno) + "; named by extends in " + path + ")");
    }
  }
  toml::table base = load_chain(parent, chain_ids, chain_paths);
  table.erase("extends");
  merge_tables(base, std::move(table));
  return base;
}

}  // namespace

toml::table read_toml_file(const std::string& path) {
  {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (fs::exists(st) && !fs::is_regular_file(st))
      throw ConfigError(path + ": cannot read (not a regular file; a scenario is a .toml file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot open (read error)");
  const std::string doc = text.str();
  if (const std::string why = toml_limit_violation(doc); !why.empty())
    throw ConfigError(path + ": refused before parsing: " + why);
  try {
    return toml::parse(doc, std::string(path));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                      std::string(e.description()));
  }
}

void merge_tables(toml::table& base, toml::table&& overlay) {
  for (auto&& [key, value] : overlay) {
    toml::node* old = base.get(key.str());
    if (old && old->is_table() && value.is_table() && !is_distribution_table(value)) {
      merge_tables(*old->as_table(), std::move(*value.as_table()));
    } else {
      base.insert_or_assign(key, std::move(value));
    }
  }
}

toml::table load_merged_config(const std::string& path) {
  std::vector<std::string> ids, paths;
  return load_chain(path, ids, paths);
}

}  // namespace chipcast::config
