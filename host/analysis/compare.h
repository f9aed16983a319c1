// Scenarios against the first with common random numbers and paired standard errors (`chipcast compare`).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/analysis/analysis_output.h"
#include "host/analysis/crossing_stream.h"
#include "host/config/scenario.h"
#include "host/run/run_session.h"

namespace chipcast {

namespace analysis {

// Contiguous trajectory groups for the batch-means standard error of the median shift.
constexpr int kCompareGroups = 32;

// P(parity by one period end) in both scenarios and its paired shift.
struct PeriodShift {
  double year = 0;  // period end T_k
  double p_a = 0, p_b = 0;
  double shift = 0;                  // p_b - p_a
  double shift_stderr = 0;           // paired: from the discordant counts
  double shift_stderr_unpaired = 0;  // sqrt(p_a (1 - p_a) / N + p_b (1 - p_b) / N), for reference
};

// A quantile of the parity year in both scenarios (nullopt: after the
// horizon) and its shift b - a, with the shift's batch-means standard error
// (nullopt when the quantile of some trajectory group is after the horizon).
struct QuantileShift {
  double q = 0.5;
  std::optional<double> year_a, year_b, shift, shift_stderr;
};

// The quantile levels compared: summary.json's q05, q50 (the median), q95.
inline constexpr double kCompareQuantiles[3] = {0.05, 0.5, 0.95};

struct MetricShift {
  // The median parity year and its shift (= quantiles[1]).
  std::optional<double> median_a, median_b, median_shift, median_shift_stderr;
  std::vector<QuantileShift> quantiles;  // one per kCompareQuantiles
  // Share of trajectories whose parity year moves earlier / later / not at all
  // in b (censored = +inf, so censored in both is unchanged).
  double share_earlier = 0, share_later = 0, share_unchanged = 0;
  std::vector<PeriodShift> p_parity_by;  // one per period end
};

struct ScenarioShift {
  std::string config_path, config_sha256;
  std::array<MetricShift, 3> metrics;
};

struct Comparison {
  uint64_t trajectories = 0;
  uint64_t seed = 0;
  int groups = kCompareGroups;
  double median_bin_width = 0;  // years
  std::string baseline_path, baseline_sha256;
  std::vector<ScenarioShift> scenarios;  // scenarios[1..] against scenarios[0], in order
};

// Loads every config with the first one's seed and trajectory count (after
// `overrides`, which apply to the first, and its sampling to all), so that
// the scenarios run on the same trajectory indices: each trajectory sees the
// same random numbers for the same purpose in every scenario (common random
// numbers). Throws RunError(config) for a bad config, std::invalid_argument
// for fewer than two. Warnings stay in each scenario's `warnings`.
std::vector<std::shared_ptr<const Scenario>> load_compared_scenarios(const RunSession& session,
                                                                     const std::vector<std::string>& configs,
                                                                     const Overrides& overrides);

// The comparison of scenarios[1..] with scenarios[0] over trajectories [0, n).
// Every scenario must have the same seed (params.seed) and time grid (start,
// dt, periods); throws std::invalid_argument naming the mismatch otherwise.
// `progress`, if set, is called with the trajectories done after each chunk.
Comparison compare_scenarios(const std::vector<const Scenario*>& scenarios, RunSession& session, uint64_t n,
                             uint64_t chunk = kCrossingChunk, const std::function<void(uint64_t)>& progress = {});

std::string compare_json(const Comparison& c, const AnalysisInfo& info);
// compare.csv: scenario,metric,quantity,year,a,b,shift,shift_stderr,shift_stderr_unpaired
// (quantity year_q05, median_year, year_q95 with the year column empty; or
// p_parity_by, one row per period end).
std::string compare_csv(const Comparison& c);
std::string compare_headline(const Comparison& c, double horizon_year);
// Writes compare.csv and compare.json into `dir` (created if needed), each
// atomically. Throws std::runtime_error naming the path.
void write_compare_outputs(const std::filesystem::path& dir, const Comparison& c, const AnalysisInfo& info);

}  // namespace analysis
}  // namespace chipcast
