// Reading and checking `[[observations]]` (MODEL-v2.md section 7) from a scenario or an --observations file.
#pragma once
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "host/config/observation.h"

namespace chipcast {

struct RunSettings;

// Reads an array of `[[observations]]` tables (the node under key `observations`),
// checking every key and value; throws ConfigError naming file, key and value.
std::vector<Observation> read_observations(const toml::node& node, const std::string& fallback_file);

// Reads an `--observations` file: it holds `[[observations]]` and nothing else
// (the same size and nesting bounds as a scenario file).
std::vector<Observation> load_observations_file(const std::string& path);

// Checks that every observation's year is fully simulated by `run` (MODEL-v2.md
// section 7), which needs whole periods per year and a start on a year boundary.
void check_observation_years(const std::vector<Observation>& obs, const RunSettings& run,
                             const std::string& scenario_path);

}  // namespace chipcast
