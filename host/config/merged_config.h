// Reading a scenario file and the chain of files it `extends`, merged into one TOML table.
#pragma once
#include <string>

#include <toml++/toml.h>

namespace chipcast::config {

// Parses one TOML file; every node's source().path is `path`.
// Throws ConfigError "<path>: cannot open (...)" or "<path>:<line>:<column>: <description>".
toml::table read_toml_file(const std::string& path);

// MODEL.md's merge rule: tables merge key by key, recursively; a distribution
// table (one with a `dist` key), an array (of tables or not) and any other
// value in `overlay` replace the base's value whole. Nodes are moved, so each
// keeps the file it came from for error messages.
void merge_tables(toml::table& base, toml::table&& overlay);

// Reads `path` and, recursively, the file its `extends` names (relative to the
// file that names it), merged parent first; the `extends` key is dropped.
// A cycle is a ConfigError naming the file whose `extends` closes it.
toml::table load_merged_config(const std::string& path);

}  // namespace chipcast::config
