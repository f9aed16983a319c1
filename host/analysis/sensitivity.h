// One-at-a-time tornado and Sobol indices (Saltelli designs) of one output of a scenario (`chipcast sensitivity`).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/analysis/analysis_output.h"
#include "host/analysis/sobol.h"
#include "host/config/scenario.h"
#include "host/run/run_session.h"

namespace chipcast {

namespace analysis {

// The scalar studied, per trajectory:
//   parity_year:METRIC        the parity year, censored trajectories set to
//                             the horizon year (a floor on their true year)
//   p_parity_by:YEAR:METRIC   1 if parity by YEAR (start < YEAR <= horizon), else 0
struct OutputSpec {
  enum class Kind { parity_year, p_parity_by };
  Kind kind = Kind::parity_year;
  int metric = 0;  // 0 units, 1 compute, 2 memory
  double year = 0;
  std::string text;
};

// Throws std::invalid_argument naming the spec and what is valid.
OutputSpec parse_output_spec(const std::string& text, const RunSettings& run);

// out[i] = the output of the trajectory whose crossing time for spec.metric is
// t[i] (years since start_year, -1 = censored).
void output_values(const OutputSpec& spec, const RunSettings& run, const float* t, size_t n, double* out);

// A factor of the Sobol analysis: one uncertain parameter, or a group whose
// members are resampled together (parameters joined by a correlation, and with
// --group-policy every regime effect and shock rate, "policy_and_shocks").
struct Factor {
  std::string name;
  std::vector<int> members;  // parameter-table indices, ascending
};

// The factors of a scenario, in parameter-table order; `selected` (names of
// factors or of their members) keeps only those. Throws std::invalid_argument
// for a name that is not an uncertain parameter or group.
std::vector<Factor> sensitivity_factors(const Scenario& scenario, bool group_policy,
                                        const std::vector<std::string>& selected);

// A copy of `base` whose parameters in `from_b` draw from stream 1 (matrix B's
// columns) and every other one from stream 0 (matrix A's).
parity::ModelParams saltelli_design(const parity::ModelParams& base, const std::vector<int>& from_b);

struct TornadoRow {
  std::string parameter;
  double low = 0, base = 0, high = 0;  // the parameter's 10th, 50th and 90th percentiles
  double output_low = 0, output_low_stderr = 0, output_high = 0, output_high_stderr = 0;
  double swing = 0, swing_stderr = 0;  // output_high - output_low, paired (same trajectories)
};

struct SensitivityPlan {
  OutputSpec output;
  uint64_t base_samples = uint64_t{1} << 14;
  int bootstrap = 200;
  uint64_t bootstrap_seed = 0;
  std::vector<Factor> factors;
  uint64_t tornado_trajectories = 4096;
  int threads = 0;  // for the bootstrap
};

// What a user asks of a sensitivity analysis (the `chipcast sensitivity` flags).
struct SensitivityRequest {
  std::string output = "parity_year:units";   // see parse_output_spec
  uint64_t base_samples = uint64_t{1} << 14;  // N: rows of the Saltelli matrices
  int bootstrap = 200;                        // bootstrap replicates for the intervals
  bool group_policy = false;                  // all regime effects and shock rates as one factor
  std::vector<std::string> parameters;        // factors to index (empty: all); the rest still vary
  uint64_t tornado_trajectories = 4096;       // M per tornado setting
};

// The plan for `scenario` (loaded with trajectories = request.base_samples,
// so that latin sampling stratifies over the N rows): output spec, factors,
// the bootstrap seed derived from the scenario's seed. Throws
// std::invalid_argument naming the bad spec, parameter or count.
SensitivityPlan plan_sensitivity(const Scenario& scenario, const SensitivityRequest& request, int threads);

struct SensitivityResult {
  SensitivityPlan plan;
  double censored_share = 0;  // of the metric, over the A and B rows
  SobolResult sobol;          // indices in plan.factors order
  double tornado_base = 0, tornado_base_stderr = 0;
  std::vector<TornadoRow> tornado;  // sorted by |swing|, largest first
  uint64_t trajectories_run = 0;
  // Wall seconds of the Saltelli runs, the bootstrap and the tornado runs.
  double seconds_sobol_runs = 0, seconds_bootstrap = 0, seconds_tornado = 0;
};

// `progress`, if set, is called with (designs done, designs in all).
SensitivityResult run_sensitivity(const Scenario& scenario, RunSession& session, const SensitivityPlan& plan,
                                  const std::function<void(int, int)>& progress = {});

std::string sensitivity_json(const SensitivityResult& r, const Scenario& scenario, const AnalysisInfo& info);
// sensitivity.csv, long format: section,parameter,quantity,value,stderr,lo95,hi95
std::string sensitivity_csv(const SensitivityResult& r);
std::string sensitivity_headline(const SensitivityResult& r);
// Writes sensitivity.csv and sensitivity.json into `dir` (created if
// needed), each atomically. Throws std::runtime_error naming the path.
void write_sensitivity_outputs(const std::filesystem::path& dir, const SensitivityResult& r, const Scenario& scenario,
                               const AnalysisInfo& info);

}  // namespace analysis
}  // namespace chipcast
