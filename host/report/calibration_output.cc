// A calibrate run's output folder and its terminal headline (calibration_output.h).
#include "host/report/calibration_output.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "host/report/report.h"
#include "host/stats/parameter_quantiles.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// JSON has no infinity or NaN: such a number is written as null.
json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

// CSV numbers as the run's files write them (10 significant digits, inf/nan spelled out).
std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.10g}", v);
}

// A text cell as RFC 4180 quotes it (sources hold commas).
std::string csv_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

json predictive_json(const std::optional<PredictiveQuantiles>& q) {
  if (!q) return nullptr;
  return json{
      {"q05", number(q->q05)}, {"q50", number(q->q50)}, {"q95", number(q->q95)}, {"percentile", number(q->percentile)}};
}

json parameter_json(const std::optional<ParameterQuantiles>& q) {
  if (!q) return nullptr;
  return json{{"q05", number(q->q05)}, {"q50", number(q->q50)}, {"q95", number(q->q95)}};
}

// summary.json's per-metric entry (p_parity_by_horizon, ..., crossing_year).
json metric_json(const MetricSummary& m, uint64_t trajectories) {
  auto year = [](const std::optional<double>& y) { return y ? json(*y) : json(nullptr); };
  const double p = m.p_parity_by_horizon;
  const double n = static_cast<double>(trajectories);
  return json{{"p_parity_by_horizon", p},
              {"p_no_parity_by_horizon", m.p_no_parity_by_horizon},
              {"p_parity_by_horizon_stderr", trajectories ? std::sqrt(p * (1.0 - p) / n) : 0.0},
              {"crossing_year", json{{"q05", year(m.q05)}, {"q50", year(m.q50)}, {"q95", year(m.q95)}}}};
}

const Scenario& scenario_of(const CalibrateResult& r) {
  if (!r.prior.scenario || !r.prior.summary)
    throw std::invalid_argument("write_calibration: not a completed calibrate run's rank-0 result");
  return *r.prior.scenario;
}

std::string cell(const std::optional<double>& v) { return v ? num(*v) : std::string(); }

}  // namespace

std::string calibration_json(const CalibrateResult& r) {
  const Scenario& sc = scenario_of(r);
  const RunInfo& info = r.prior.info;
  json j;
  j["trajectories"] = r.prior.summary->trajectories;
  j["seed"] = sc.run.seed;
  j["accepted"] = r.accepted;
  j["accepted_share"] = r.accepted_share;
  j["warning"] = r.warning ? json(*r.warning) : json(nullptr);
  j["most_rejecting"] = r.most_rejecting ? json(*r.most_rejecting) : json(nullptr);
  j["rejects_definition"] =
      "per observation, the prior trajectories whose own factor L_j = exp(-(ln sim - ln value)^2 / (2 sd_log^2)) "
      "alone rejects them (u >= L_j, u the trajectory's acceptance uniform); most_rejecting has the most";
  json obs = json::array();
  for (const ObservationCalibration& oc : r.observation_quantiles) {
    const Observation& o = oc.observation;
    json e;
    e["label"] = o.label();
    e["year"] = o.year;
    e["bloc"] = observed_bloc_name(o.bloc);
    e["metric"] = quantity_name(o.quantity);
    e["value"] = o.value;
    e["sd_log"] = o.sd_log;
    if (o.interval) e["interval"] = json::array({o.low, o.high});
    e["source"] = o.source;
    e["rejects"] = oc.rejects;
    e["prior"] = predictive_json(oc.prior);
    e["posterior"] = predictive_json(oc.posterior);
    obs.push_back(std::move(e));
  }
  j["observations"] = std::move(obs);
  json params = json::array();
  for (const ParameterCalibration& pc : r.parameter_quantiles) {
    params.push_back(json{{"name", pc.name},
                          {"prior", parameter_json(pc.prior)},
                          {"posterior", parameter_json(pc.posterior)},
                          {"shrink90", pc.shrink90 ? number(*pc.shrink90) : json(nullptr)}});
  }
  j["parameters"] = std::move(params);
  json head = json::object();
  for (size_t m = 0; m < r.prior.summary->metrics.size(); ++m) {
    const MetricSummary& pm = r.prior.summary->metrics[m];
    head[pm.name] = json{
        {"prior", metric_json(pm, r.prior.summary->trajectories)},
        {"posterior", r.posterior ? metric_json(r.posterior->summary->metrics[m], r.posterior->summary->trajectories)
                                  : json(nullptr)}};
  }
  j["headline"] = std::move(head);
  j["prior"] = "prior/";
  j["posterior"] = r.posterior ? json("posterior/") : json(nullptr);
  // Provenance, as summary.json writes it.
  add_provenance(j, sc, info);
  return j.dump(2) + "\n";
}

std::string calibration_csv(const CalibrateResult& r) {
  scenario_of(r);
  std::string out =
      "kind,name,year,bloc,metric,value,low,high,sd_log,prior_q05,prior_q50,prior_q95,prior_percentile,"
      "posterior_q05,posterior_q50,posterior_q95,posterior_percentile,shrink90,rejects,source\n";
  auto quantiles = [](const std::optional<PredictiveQuantiles>& q) {
    return q ? fmt::format("{},{},{},{}", num(q->q05), num(q->q50), num(q->q95), num(q->percentile))
             : std::string(",,,");
  };
  for (const ObservationCalibration& oc : r.observation_quantiles) {
    const Observation& o = oc.observation;
    out += fmt::format("observation,{},{},{},{},{},{},{},{},{},{},,{},{}\n", csv_text(o.label()), o.year,
                       observed_bloc_name(o.bloc), quantity_name(o.quantity), num(o.value),
                       o.interval ? num(o.low) : std::string(), o.interval ? num(o.high) : std::string(), num(o.sd_log),
                       quantiles(oc.prior), quantiles(oc.posterior), oc.rejects, csv_text(o.source));
  }
  for (const ParameterCalibration& pc : r.parameter_quantiles) {
    const std::string post =
        pc.posterior ? fmt::format("{},{},{},", num(pc.posterior->q05), num(pc.posterior->q50), num(pc.posterior->q95))
                     : std::string(",,,");
    out += fmt::format("parameter,{},,,,,,,,{},{},{},,{},{},,\n", csv_text(pc.name), num(pc.prior.q05),
                       num(pc.prior.q50), num(pc.prior.q95), post, cell(pc.shrink90));
  }
  return out;
}

std::string parameter_quantiles_csv(const CalibrateResult& r) {
  const Scenario& sc = scenario_of(r);
  const CalibrationTally& d = r.decisions;
  std::string out = "name,q,prior,posterior\n";
  for (size_t j = 0; j < d.params.size(); ++j) {
    const int i = d.params[j];
    const Dist& dist = sc.params.params[i];
    const std::string& name = sc.param_names.at(static_cast<size_t>(i));
    for (int k = 1; k <= kParameterQuantileSteps; ++k) {
      const double q = k / 100.0;
      const std::string post =
          r.posterior ? num(parameter_quantile(d.posterior_row(j), dist, sc.params.tables, q)) : std::string();
      out += fmt::format("{},{:.2f},{},{}\n", csv_text(name), q,
                         num(parameter_quantile(d.prior_row(j), dist, sc.params.tables, q)), post);
    }
  }
  return out;
}

void write_calibration(const fs::path& dir, const CalibrateResult& r) {
  const Scenario& sc = scenario_of(r);
  write_outputs(dir / "prior", sc, *r.prior.summary, r.prior.info);
  if (r.posterior) write_outputs(dir / "posterior", sc, *r.posterior->summary, r.posterior->info);
  write_file_atomic(dir / "calibration.csv", calibration_csv(r));
  write_file_atomic(dir / "parameter_quantiles.csv", parameter_quantiles_csv(r));
  write_file_atomic(dir / "calibration.json", calibration_json(r));
}

std::string calibration_headline(const CalibrateResult& r) {
  const Scenario& sc = scenario_of(r);
  const std::string horizon = fmt::format("after {:g}", sc.run.horizon_year);
  auto y = [&](const std::optional<double>& v) { return v ? fmt::format("{:.2f}", *v) : horizon; };
  auto band = [&](const MetricSummary& m) { return fmt::format("{:<10} {} – {}", y(m.q50), y(m.q05), y(m.q95)); };
  std::string out = fmt::format("{} of {} trajectories accepted ({:.3g} %) by {} observations\n", r.accepted,
                                r.prior.summary->trajectories, 100.0 * r.accepted_share, r.observations.size());
  out += fmt::format("{:<8} {:<40} {}\n", "", "prior: median, 90% band", "posterior: median, 90% band");
  for (size_t m = 0; m < r.prior.summary->metrics.size(); ++m) {
    const MetricSummary& pm = r.prior.summary->metrics[m];
    out += fmt::format("{:<8} {:<40} {}\n", pm.name, band(pm),
                       r.posterior ? band(r.posterior->summary->metrics[m]) : std::string("(no posterior)"));
  }
  return out;
}

}  // namespace chipcast
