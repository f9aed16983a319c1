// Output folder writers (JSON via nlohmann, CSV via fmt) and the terminal headline.
#include "host/report/report.h"

#include <ctime>

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "host/run/build_isa.h"

#ifndef CHIPCAST_VERSION
#define CHIPCAST_VERSION "unknown"
#endif

namespace chipcast {

namespace {

namespace fs = std::filesystem;

// Numbers in the CSV files: 10 significant digits, `inf` / `nan` spelled out,
// independent of locale.
std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.10g}", v);
}

std::string year(double y) { return fmt::format("{:.4f}", y); }

nlohmann::ordered_json optional_year(const std::optional<double>& y) {
  return y ? nlohmann::ordered_json(*y) : nlohmann::ordered_json(nullptr);
}

// Horizon as a reader writes it: 2060, 2060.5.
std::string horizon_text(double h) { return fmt::format("{:g}", h); }

std::string probability_text(double p) {
  if (std::isnan(p)) return "nan";
  if (p > 0.0 && p < 0.005) return "<0.01";
  if (p < 1.0 && p >= 0.995) return ">0.99";
  return fmt::format("{:.2f}", p);
}

}  // namespace

void add_provenance(nlohmann::ordered_json& j, const Scenario& scenario, const RunInfo& info) {
  using json = nlohmann::ordered_json;
  j["backend"] = info.backend;
  j["backend_detail"] = info.backend_detail;
  j["config_sha256"] = scenario.sha256;
  j["config_path"] = scenario.path;
  j["version"] = info.version.empty() ? std::string(CHIPCAST_VERSION) : info.version;
  j["seconds"] = info.seconds;
  j["started_utc"] = info.started_utc;
  j["command_line"] = info.command_line;
  j["ranks"] = info.ranks;
  j["threads"] = info.threads;
  // The kernels' instruction set: results are byte-identical per build (ISA).
  const BuildIsa& isa = build_isa();
  j["isa"] = json{{"march", isa.march}, {"arch", isa.arch}, {"features", isa.features}};
}

std::string summary_json(const Scenario& scenario, const Summary& summary, const RunInfo& info) {
  using json = nlohmann::ordered_json;
  json j;
  j["trajectories"] = summary.trajectories;
  j["seed"] = scenario.run.seed;
  add_provenance(j, scenario, info);
  const RunSettings& run = scenario.run;
  j["run"] = json{{"start_year", run.start_year},
                  {"horizon_year", run.horizon_year},
                  {"dt", run.dt},
                  {"threshold", run.threshold},
                  {"sustain", run.sustain},
                  {"periods", summary.metrics[0].crossing.size()}};
  json metrics = json::object();
  const double n = static_cast<double>(summary.trajectories);
  for (const MetricSummary& m : summary.metrics) {
    const double p = m.p_parity_by_horizon;
    json entry;
    entry["p_parity_by_horizon"] = p;
    entry["p_no_parity_by_horizon"] = m.p_no_parity_by_horizon;
    entry["p_parity_by_horizon_stderr"] = summary.trajectories ? std::sqrt(p * (1.0 - p) / n) : 0.0;
    entry["crossing_year"] =
        json{{"q05", optional_year(m.q05)}, {"q50", optional_year(m.q50)}, {"q95", optional_year(m.q95)}};
    metrics[m.name] = std::move(entry);
  }
  j["metrics"] = std::move(metrics);
  // Calendar-year totals: where annual.csv is, or why there is none.
  if (summary.annual_years > 0 && !summary.annual.empty())
    j["annual"] = json{{"file", "annual.csv"},
                       {"years", summary.annual_years},
                       {"first_year", summary.annual.front().year},
                       {"last_year", summary.annual.front().year + summary.annual_years - 1}};
  else
    j["annual"] = nullptr;
  if (!summary.annual_reason.empty()) j["annual_reason"] = summary.annual_reason;
  j["anomalies"] = json{{"nan_ratios", summary.anomalies.nan_ratios},
                        {"nan_levels", summary.anomalies.nan_levels},
                        {"lost_precision", summary.anomalies.lost_precision}};
  j["notes"] = summary.notes;
  j["warnings"] = scenario.warnings;
  j["quantile_method"] = kQuantileMethod;
  return j.dump(2) + "\n";
}

std::string crossing_csv(const Summary& summary) {
  std::string out = "metric,year,p_crossed,stderr,lo95,hi95\n";
  for (const MetricSummary& m : summary.metrics)
    for (const CrossingRow& r : m.crossing)
      out += fmt::format("{},{},{},{},{},{}\n", m.name, year(r.year), num(r.p_crossed), num(r.stderr_mc), num(r.lo95),
                         num(r.hi95));
  return out;
}

namespace {

// bands.csv's and annual.csv's table, years written by `year_text`.
template <class YearText>
std::string band_table(const std::vector<BandRow>& rows, YearText year_text) {
  std::string out = "metric,series,year,q05,q25,q50,q75,q95\n";
  for (const BandRow& b : rows)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", kMetricNames.at(b.metric), kSeriesNames.at(b.series),
                       year_text(b.year), num(b.q[0]), num(b.q[1]), num(b.q[2]), num(b.q[3]), num(b.q[4]));
  return out;
}

}  // namespace

std::string bands_csv(const Summary& summary) { return band_table(summary.bands, year); }

std::string annual_csv(const Summary& summary) {
  return band_table(summary.annual, [](double y) { return fmt::format("{:.0f}", y); });
}

void write_outputs(const fs::path& dir, const Scenario& scenario, const Summary& summary, const RunInfo& info) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create output folder {}: {}", dir.string(), ec.message()));
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(fmt::format("output path {} is not a folder", dir.string()));
  // The resolved config first: summary.json names its digest.
  write_file_atomic(dir / "resolved.toml", scenario.resolved_toml);
  write_file_atomic(dir / "crossing.csv", crossing_csv(summary));
  write_file_atomic(dir / "bands.csv", bands_csv(summary));
  if (summary.annual_years > 0) write_file_atomic(dir / "annual.csv", annual_csv(summary));
  write_file_atomic(dir / "summary.json", summary_json(scenario, summary, info));
}

std::string headline(const Scenario& scenario, const Summary& summary) {
  const std::string horizon = horizon_text(scenario.run.horizon_year);
  const std::string after = "after " + horizon;
  auto when = [&](const std::optional<double>& y) { return y ? fmt::format("{:.2f}", *y) : after; };
  std::string out =
      fmt::format("Parity year (domestic/foreign >= {:g}{}), {} trajectories:\n", scenario.run.threshold,
                  scenario.run.sustain > 1 ? fmt::format(" for {} periods", scenario.run.sustain) : std::string(),
                  summary.trajectories);
  for (const MetricSummary& m : summary.metrics)
    out += fmt::format("{:<8} median {:<10}  90% band {:>10} \u2013 {:<10}  P(no parity by {}) = {}\n", m.name,
                       when(m.q50), when(m.q05), when(m.q95), horizon, probability_text(m.p_no_parity_by_horizon));
  out += anomaly_warnings(summary.anomalies);
  return out;
}

std::string anomaly_warnings(const AnomalyCounts& a) {
  std::string out;
  if (a.nan_ratios > 0)
    out += fmt::format("warning: {} ratio values were NaN while both levels were not (anomalies.nan_ratios)\n",
                       a.nan_ratios);
  if (a.nan_levels > 0)
    out += fmt::format("warning: {} bloc level values were NaN (anomalies.nan_levels)\n", a.nan_levels);
  if (a.lost_precision > 0)
    out += fmt::format(
        "warning: {} ratio values lost single precision: levels beyond e^{:g} (anomalies.lost_precision); crossings "
        "from them are noise\n",
        a.lost_precision, static_cast<double>(kLostPrecisionLog));
  return out;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace chipcast
