// Parsing a config value (a number or a { dist = ... } table) into a kernel Dist, with domain checks.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "kernels/distributions.h"

namespace chipcast::config {

// Where a parameter's values must lie.
enum class Domain { real, positive, nonnegative, unit };

struct ParamSpec {
  std::string key;   // dotted key, e.g. "domestic.wafers0"
  std::string name;  // short name for messages, e.g. "wafers0"
  Domain domain = Domain::real;
  bool allow_infinite = false;  // a fixed +inf is valid (ceilings: "no limit")
};

// Quantile tables of the beta distributions of one scenario, shared by equal (a, b).
class BetaTables {
 public:
  explicit BetaTables(QuantileTables& storage) : storage_(storage) {}
  // Index of beta(a, b)'s table, filled on first use; -1 when all kMaxTables are taken.
  int table_for(double a, double b);
  int used() const { return static_cast<int>(shapes_.size()); }

 private:
  QuantileTables& storage_;
  std::vector<std::pair<double, double>> shapes_;
};

// Resolves `node` into a Dist (MODEL.md "Distributions"): checks the
// distribution's own parameters, computes truncation in probability space with
// Boost.Math, and checks that the support after truncation lies within
// `spec.domain`. Throws ConfigError naming the file, key and value.
Dist parse_dist(const toml::node& node, const ParamSpec& spec, const std::string& fallback_file, BetaTables& betas);

// "must be > 0" etc.
std::string domain_text(Domain domain);

}  // namespace chipcast::config
