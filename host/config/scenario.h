// A loaded, validated scenario: run settings, model parameters and the resolved config text.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/config/observation.h"
#include "models/parity/params.h"

namespace chipcast {

// The [run] table after defaults (MODEL.md "Config").
struct RunSettings {
  double start_year = 2026.0;
  double horizon_year = 2060.0;
  double dt = 0.25;
  uint64_t trajectories = 1'000'000;
  uint64_t seed = 2026;
  double threshold = 1.0;
  int sustain = 1;
  std::string sampling = "independent";  // or "latin"
};

// Command-line overrides of the [run] table, applied before validation and
// before the resolved config is written and hashed.
struct Overrides {
  std::optional<uint64_t> trajectories;
  std::optional<uint64_t> seed;
  std::optional<std::string> sampling;  // [run] sampling: "independent" or "latin"
};

// One `[[correlations]]` entry after validation: a Spearman rank correlation
// between two uncertain parameters (indices into params.params).
struct CorrelationPair {
  int a = -1, b = -1;
  double rank = 0;
};

struct Scenario {
  std::string path;  // the file named on the command line
  RunSettings run;
  parity::ModelParams params;
  std::vector<std::string> regime_names;  // index = regime number (name order)
  // Name of each non-fixed entry of params.params, e.g. "domestic.wafers0",
  // "policy.regimes.tightened.domestic.hbm_mult", "shocks.taiwan_strait_disruption.rate";
  // empty for unused or fixed slots.
  std::vector<std::string> param_names;
  // The [[correlations]] entries, in config order; params.design holds the
  // copula (parameters in order of first mention, lower Cholesky factor).
  std::vector<CorrelationPair> correlations;
  // The scenario's [[observations]] (MODEL-v2.md section 7), in config order; read by
  // calibrate and score, ignored by run. An --observations file replaces them.
  std::vector<Observation> observations;
  std::string resolved_toml;  // merged config (extends applied, overrides in [run])
  std::string sha256;         // hex SHA-256 of resolved_toml
  std::vector<std::string> warnings;
};

// Every problem with a config: the message names the file, the key, the value
// and what would be valid, e.g.
//   configs/x.toml: domestic.wafers0: normal(mean=2e4, sd=5e3) can be <= 0 (wafers0 must be > 0);
//   truncate it with min = ... or use lognormal
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `path` (following `extends`), applies overrides, validates everything,
// and resolves it into model parameters. Throws ConfigError.
std::unique_ptr<Scenario> load_scenario(const std::string& path, const Overrides& overrides = {});

}  // namespace chipcast
