// Tornado (one at a time) and Sobol indices (Saltelli designs through parameter streams) of one scenario output.
#include "host/analysis/sensitivity.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <stdexcept>

#include "host/analysis/crossing_stream.h"
#include "host/report/report.h"
#include "host/stats/summary.h"
#include "kernels/distributions.h"

namespace chipcast {
namespace analysis {
namespace {

constexpr int kFirstPolicyParam = parity::kNumBlocs * parity::kNumBlocParams;  // regime effects, shock rates (and v2's)
constexpr const char* kPolicyGroup = "policy_and_shocks";
// Bootstrap indices come from Philox keyed by the run's seed mixed with this.
constexpr uint64_t kBootstrapSeedMix = 0x5EB5171u;

// MODEL-v2.md's per-bloc parameters sit between v1's shock rates and v2's
// regime effects in the table; they are bloc inputs, never in the policy group.
bool is_v2_bloc_param(int i) {
  return i >= parity::kNumParamsV1 && i < parity::kNumParamsV1 + parity::kNumBlocs * parity::kNumBlocParamsV2;
}

std::string metric_list() { return "units, compute or memory"; }

int metric_index(const std::string& name) {
  for (int m = 0; m < 3; ++m)
    if (name == kMetricNames[m]) return m;
  return -1;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return parts;
}

struct MeanSe {
  double mean = 0, stderr_ = 0;
};
MeanSe mean_se(const std::vector<double>& v) {
  MeanSe r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= v.size();
  if (v.size() < 2) return r;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.stderr_ = std::sqrt(ss / (v.size() - 1) / v.size());
  return r;
}

// Outputs of trajectories [0, n) of `params` for the plan's output.
std::vector<double> outputs_of(RunSession& session, const parity::ModelParams& params, const RunSettings& run,
                               const OutputSpec& spec, uint64_t n, uint64_t* censored = nullptr) {
  std::vector<double> f(n);
  std::vector<float> t;
  for (uint64_t first = 0; first < n; first += kCrossingChunk) {
    const uint64_t len = std::min(kCrossingChunk, n - first);
    crossing_times_of(session, params, first, len, t, len);
    const float* tm = t.data() + spec.metric * len;
    output_values(spec, run, tm, len, f.data() + first);
    if (censored)
      for (uint64_t i = 0; i < len; ++i) *censored += tm[i] < 0.0f ? 1 : 0;
  }
  return f;
}

}  // namespace

OutputSpec parse_output_spec(const std::string& text, const RunSettings& run) {
  const std::string valid = fmt::format(
      "valid: parity_year:METRIC (censored trajectories at the horizon) or p_parity_by:YEAR:METRIC with METRIC {} "
      "and YEAR in ({:g}, {:g}]",
      metric_list(), run.start_year, run.horizon_year);
  const std::vector<std::string> parts = split(text, ':');
  OutputSpec spec;
  spec.text = text;
  if (parts.size() == 2 && parts[0] == "parity_year") {
    spec.kind = OutputSpec::Kind::parity_year;
  } else if (parts.size() == 3 && parts[0] == "p_parity_by") {
    spec.kind = OutputSpec::Kind::p_parity_by;
    size_t used = 0;
    double y = NAN;
    try {
      y = std::stod(parts[1], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != parts[1].size() || !(y > run.start_year && y <= run.horizon_year))
      throw std::invalid_argument(fmt::format("--output {}: the year '{}' is not a number in ({:g}, {:g}]; {}", text,
                                              parts[1], run.start_year, run.horizon_year, valid));
    spec.year = y;
  } else {
    throw std::invalid_argument(fmt::format("--output {}: unknown output; {}", text, valid));
  }
  spec.metric = metric_index(parts.back());
  if (spec.metric < 0)
    throw std::invalid_argument(fmt::format("--output {}: unknown metric '{}'; {}", text, parts.back(), valid));
  return spec;
}

void output_values(const OutputSpec& spec, const RunSettings& run, const float* t, size_t n, double* out) {
  if (spec.kind == OutputSpec::Kind::parity_year) {
    for (size_t i = 0; i < n; ++i) out[i] = t[i] < 0.0f ? run.horizon_year : run.start_year + t[i];
  } else {
    // A crossing exactly at YEAR counts (MODEL.md: P(parity by T) includes T);
    // the tolerance absorbs the float rounding of period ends.
    const double limit = spec.year - run.start_year + 1e-6;
    for (size_t i = 0; i < n; ++i) out[i] = (t[i] >= 0.0f && static_cast<double>(t[i]) <= limit) ? 1.0 : 0.0;
  }
}

std::vector<Factor> sensitivity_factors(const Scenario& scenario, bool group_policy,
                                        const std::vector<std::string>& selected) {
  const auto& names = scenario.param_names;
  // Union-find over the uncertain parameters.
  std::vector<int> parent(parity::kMaxParams);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> root = [&](int i) { return parent[i] == i ? i : parent[i] = root(parent[i]); };
  auto join = [&](int a, int b) {
    a = root(a);
    b = root(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  };
  // Correlated parameters are resampled together: with the Gaussian copula a
  // parameter's value depends on the normals of those it is correlated with,
  // so only whole connected components are independent inputs.
  for (const CorrelationPair& c : scenario.correlations) join(c.a, c.b);
  int first_policy = -1;
  if (group_policy) {
    for (int i = kFirstPolicyParam; i < parity::kMaxParams; ++i) {
      if (names[i].empty() || is_v2_bloc_param(i)) continue;
      if (first_policy < 0) first_policy = i;
      join(first_policy, i);
    }
  }
  std::map<int, Factor> by_root;
  std::vector<int> roots;
  for (int i = 0; i < parity::kMaxParams; ++i) {
    if (names[i].empty()) continue;
    const int r = root(i);
    if (!by_root.count(r)) roots.push_back(r);
    by_root[r].members.push_back(i);
  }
  std::vector<Factor> all;
  for (int r : roots) {
    Factor f = by_root[r];
    const bool policy = first_policy >= 0 && root(first_policy) == r;
    if (policy) {
      f.name = kPolicyGroup;
    } else {
      for (int i : f.members) f.name += (f.name.empty() ? "" : "+") + names[i];
    }
    all.push_back(std::move(f));
  }
  if (selected.empty()) return all;
  std::vector<bool> keep(all.size(), false);
  for (const std::string& want : selected) {
    bool found = false;
    for (size_t k = 0; k < all.size() && !found; ++k) {
      if (all[k].name == want) found = true;
      for (int i : all[k].members) found = found || names[i] == want;
      if (found) keep[k] = true;
    }
    if (!found) {
      std::string list;
      for (const Factor& f : all) list += (list.empty() ? "" : ", ") + f.name;
      throw std::invalid_argument(
          fmt::format("--parameters: '{}' is not an uncertain parameter of {}{}; valid: {}", want, scenario.path,
                      want == kPolicyGroup ? " (the group exists with --group-policy only)" : "", list));
    }
  }
  std::vector<Factor> out;
  for (size_t k = 0; k < all.size(); ++k)
    if (keep[k]) out.push_back(all[k]);
  return out;
}

parity::ModelParams saltelli_design(const parity::ModelParams& base, const std::vector<int>& from_b) {
  parity::ModelParams p = base;
  std::fill(std::begin(p.design.stream), std::end(p.design.stream), 0u);
  for (int i : from_b) p.design.stream[i] = 1;
  return p;
}

SensitivityResult run_sensitivity(const Scenario& scenario, RunSession& session, const SensitivityPlan& plan,
                                  const std::function<void(int, int)>& progress) {
  if (plan.factors.empty()) throw std::invalid_argument(scenario.path + ": no uncertain parameters to study");
  if (plan.base_samples < 2 || plan.base_samples >= (uint64_t{1} << 32))
    throw std::invalid_argument(fmt::format("--base-samples {}: must be in [2, 2^32)", plan.base_samples));
  if (plan.tornado_trajectories < 2)
    throw std::invalid_argument(fmt::format("--tornado-trajectories {}: must be >= 2", plan.tornado_trajectories));
  const RunSettings& run = scenario.run;
  const parity::ModelParams& base = scenario.params;
  const OutputSpec& spec = plan.output;
  const uint64_t n = plan.base_samples;
  const uint64_t m = plan.tornado_trajectories;

  SensitivityResult res;
  res.plan = plan;

  // Tornado parameters: every member of the studied factors.
  std::vector<int> tornado_params;
  for (const Factor& f : plan.factors) tornado_params.insert(tornado_params.end(), f.members.begin(), f.members.end());
  std::sort(tornado_params.begin(), tornado_params.end());
  const int d = static_cast<int>(plan.factors.size());
  const int designs = d + 2 + 1 + 2 * static_cast<int>(tornado_params.size());
  int done = 0;
  auto step = [&] {
    ++done;
    if (progress) progress(done, designs);
  };

  // --- Sobol: matrices A (stream 0), B (stream 1), AB_i (factor i from B) on
  // trajectories [0, N): the same trajectory indices, hence the same noise.
  std::vector<int> all_uncertain;
  for (int i = 0; i < parity::kMaxParams; ++i)
    if (!scenario.param_names[i].empty()) all_uncertain.push_back(i);
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
  auto t0 = clock::now();
  uint64_t censored = 0;
  const std::vector<double> f_a = outputs_of(session, saltelli_design(base, {}), run, spec, n, &censored);
  step();
  const std::vector<double> f_b = outputs_of(session, saltelli_design(base, all_uncertain), run, spec, n, &censored);
  step();
  res.censored_share = static_cast<double>(censored) / (2.0 * n);
  std::vector<std::vector<double>> f_ab;
  for (const Factor& f : plan.factors) {
    f_ab.push_back(outputs_of(session, saltelli_design(base, f.members), run, spec, n));
    step();
  }
  std::vector<const double*> ab;
  for (const auto& v : f_ab) ab.push_back(v.data());
  res.seconds_sobol_runs = seconds_since(t0);
  t0 = clock::now();
  res.sobol = sobol_with_bootstrap(f_a.data(), f_b.data(), ab, n, plan.bootstrap, plan.bootstrap_seed, plan.threads);

  // --- Tornado: every uncertain parameter fixed at its median, then one at a
  // time at its 10th and 90th percentile; the noise (and regime, event and
  // shock draws) still varies, over the same M trajectories for every setting.
  res.seconds_bootstrap = seconds_since(t0);
  t0 = clock::now();
  parity::ModelParams medians = base;
  medians.design = parity::SamplingDesign{};
  for (int i : all_uncertain) medians.params[i] = fixed_dist(dist_quantile(base.params[i], base.tables, 0.5));
  const std::vector<double> f_base = outputs_of(session, medians, run, spec, m);
  step();
  const MeanSe base_ms = mean_se(f_base);
  res.tornado_base = base_ms.mean;
  res.tornado_base_stderr = base_ms.stderr_;
  for (int i : tornado_params) {
    TornadoRow row;
    row.parameter = scenario.param_names[i];
    row.low = dist_quantile(base.params[i], base.tables, 0.1);
    row.base = medians.params[i].p0;
    row.high = dist_quantile(base.params[i], base.tables, 0.9);
    parity::ModelParams p = medians;
    p.params[i] = fixed_dist(row.low);
    const std::vector<double> lo = outputs_of(session, p, run, spec, m);
    step();
    p.params[i] = fixed_dist(row.high);
    const std::vector<double> hi = outputs_of(session, p, run, spec, m);
    step();
    const MeanSe l = mean_se(lo), h = mean_se(hi);
    std::vector<double> diff(m);
    for (uint64_t j = 0; j < m; ++j) diff[j] = hi[j] - lo[j];
    const MeanSe sw = mean_se(diff);
    row.output_low = l.mean;
    row.output_low_stderr = l.stderr_;
    row.output_high = h.mean;
    row.output_high_stderr = h.stderr_;
    row.swing = sw.mean;
    row.swing_stderr = sw.stderr_;
    res.tornado.push_back(row);
  }
  res.seconds_tornado = seconds_since(t0);
  std::stable_sort(res.tornado.begin(), res.tornado.end(),
                   [](const TornadoRow& a, const TornadoRow& b) { return std::fabs(a.swing) > std::fabs(b.swing); });
  res.trajectories_run = static_cast<uint64_t>(d + 2) * n + (1 + 2 * tornado_params.size()) * m;
  return res;
}

namespace {

std::string output_description(const OutputSpec& s, const RunSettings& run) {
  if (s.kind == OutputSpec::Kind::parity_year)
    return fmt::format(
        "parity year of {} (domestic/foreign >= {:g}); trajectories without parity by the horizon are set to {:g} "
        "(the horizon: a lower bound on their parity year), which understates the spread the censored tail "
        "contributes; see censored_share",
        kMetricNames[s.metric], run.threshold, run.horizon_year);
  return fmt::format("1 if {} parity (domestic/foreign >= {:g}) is reached by {:g}, else 0; its variance is p (1 - p)",
                     kMetricNames[s.metric], run.threshold, s.year);
}

// Indices in order of total index, largest first (undefined ones last).
std::vector<size_t> by_total(const SensitivityResult& r) {
  std::vector<size_t> order(r.plan.factors.size());
  std::iota(order.begin(), order.end(), 0);
  const auto& t = r.sobol.point.total;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = std::isfinite(t[a]) ? t[a] : -INFINITY, y = std::isfinite(t[b]) ? t[b] : -INFINITY;
    return x > y;
  });
  return order;
}

}  // namespace

std::string sensitivity_json(const SensitivityResult& r, const Scenario& scenario, const AnalysisInfo& info) {
  using json = nlohmann::ordered_json;
  const SensitivityPlan& plan = r.plan;
  json j;
  j["command"] = "sensitivity";
  j["version"] = CHIPCAST_VERSION;
  j["config_path"] = scenario.path;
  j["config_sha256"] = scenario.sha256;
  j["seed"] = scenario.run.seed;
  j["sampling"] = scenario.run.sampling;
  add_analysis_info(j, info);
  j["seconds_sobol_runs"] = r.seconds_sobol_runs;
  j["seconds_bootstrap"] = r.seconds_bootstrap;
  j["seconds_tornado"] = r.seconds_tornado;
  j["output"] = plan.output.text;
  j["output_description"] = output_description(plan.output, scenario.run);
  j["base_samples"] = plan.base_samples;
  j["bootstrap"] = plan.bootstrap;
  j["trajectories_run"] = r.trajectories_run;
  j["censored_share"] = r.censored_share;
  j["output_mean"] = json_number(r.sobol.point.mean);
  j["output_variance"] = json_number(r.sobol.point.variance);
  double first_sum = 0;
  for (double s : r.sobol.point.first) first_sum += s;
  j["first_sum"] = json_number(first_sum);
  j["method"] = json{
      {"design",
       fmt::format("Saltelli: matrices A (parameter stream 0), B (stream 1) and AB_i (factor i from stream 1, the "
                   "rest from stream 0), each run on trajectories [0, {}): (d + 2) N = {} trajectories for d = {} "
                   "factors. Factors not listed with --parameters still vary (A's values in AB_i)",
                   plan.base_samples, (plan.factors.size() + 2) * plan.base_samples, plan.factors.size())},
      {"first", "Saltelli et al. (2010): mean(f_B' (f_ABi - f_A)) / V, f_B' = f_B - mean over A and B"},
      {"total", "Jansen (1999): mean((f_A - f_ABi)^2) / 2 / V"},
      {"variance", "V: variance of the output over the rows of A and B together (epistemic and aleatoric)"},
      {"noise",
       "row j of every matrix is trajectory j, so the per-period noise, regime switches and shocks are common "
       "random numbers across A, B and AB_i: the indices apportion the total variance to the epistemic parameters; "
       "a first-order index includes the factor's interaction with the noise, a total index is the usual total "
       "effect, and 1 - first_sum is the share left to the noise and to interactions"},
      {"intervals",
       fmt::format("bootstrap over rows ({} replicates, Philox-keyed, reproducible): stderr = sd of the replicates, "
                   "ci95 = their 2.5 % and 97.5 % quantiles",
                   plan.bootstrap)},
      {"correlations", "parameters joined by [[correlations]] form one factor (the copula mixes their draws)"},
      {"tornado",
       fmt::format("every uncertain parameter at its median, then one at a time at its 10th and 90th percentile; "
                   "low / high / base = mean output over the same {} trajectories per setting (the noise still "
                   "varies), stderr = sd / sqrt(M); value_low / value_high / value_base = the parameter's 10th / "
                   "90th percentile and median; swing = high - low with a paired stderr; sorted by |swing|",
                   plan.tornado_trajectories)}};
  json indices = json::array();
  for (size_t k : by_total(r)) {
    const Factor& f = plan.factors[k];
    json e;
    e["parameter"] = f.name;
    json members = json::array();
    for (int i : f.members) members.push_back(scenario.param_names[i]);
    e["members"] = std::move(members);
    e["first"] = json_number(r.sobol.point.first[k]);
    e["first_ci95"] = json::array({json_number(r.sobol.first_ci95[k].lo), json_number(r.sobol.first_ci95[k].hi)});
    e["first_stderr"] = json_number(r.sobol.first_stderr[k]);
    e["total"] = json_number(r.sobol.point.total[k]);
    e["total_ci95"] = json::array({json_number(r.sobol.total_ci95[k].lo), json_number(r.sobol.total_ci95[k].hi)});
    e["total_stderr"] = json_number(r.sobol.total_stderr[k]);
    indices.push_back(std::move(e));
  }
  j["indices"] = std::move(indices);
  j["tornado_trajectories"] = plan.tornado_trajectories;
  json tornado = json::array();
  for (const TornadoRow& t : r.tornado) {
    // low / high / base are the OUTPUT at the parameter's 10th / 90th
    // percentile and at the medians (what a tornado chart draws, and what
    // host/report's tornado.svg reads); the parameter's values are value_*.
    tornado.push_back(json{{"parameter", t.parameter},
                           {"output", plan.output.text},
                           {"low", json_number(t.output_low)},
                           {"high", json_number(t.output_high)},
                           {"base", json_number(r.tornado_base)},
                           {"low_stderr", json_number(t.output_low_stderr)},
                           {"high_stderr", json_number(t.output_high_stderr)},
                           {"base_stderr", json_number(r.tornado_base_stderr)},
                           {"swing", json_number(t.swing)},
                           {"swing_stderr", json_number(t.swing_stderr)},
                           {"value_low", json_number(t.low)},
                           {"value_high", json_number(t.high)},
                           {"value_base", json_number(t.base)}});
  }
  j["tornado"] = std::move(tornado);
  return j.dump(2) + "\n";
}

std::string sensitivity_csv(const SensitivityResult& r) {
  std::string out = "section,parameter,quantity,value,stderr,lo95,hi95\n";
  for (size_t k : by_total(r)) {
    const std::string name = csv_field(r.plan.factors[k].name);
    out += fmt::format("sobol,{},first,{},{},{},{}\n", name, csv_number(r.sobol.point.first[k]),
                       csv_number(r.sobol.first_stderr[k]), csv_number(r.sobol.first_ci95[k].lo),
                       csv_number(r.sobol.first_ci95[k].hi));
    out += fmt::format("sobol,{},total,{},{},{},{}\n", name, csv_number(r.sobol.point.total[k]),
                       csv_number(r.sobol.total_stderr[k]), csv_number(r.sobol.total_ci95[k].lo),
                       csv_number(r.sobol.total_ci95[k].hi));
  }
  for (const TornadoRow& t : r.tornado) {
    const std::string name = csv_field(t.parameter);
    out += fmt::format("tornado,{},value_low,{},,,\n", name, csv_number(t.low));
    out += fmt::format("tornado,{},value_base,{},,,\n", name, csv_number(t.base));
    out += fmt::format("tornado,{},value_high,{},,,\n", name, csv_number(t.high));
    out +=
        fmt::format("tornado,{},output_low,{},{},,\n", name, csv_number(t.output_low), csv_number(t.output_low_stderr));
    out += fmt::format("tornado,{},output_base,{},{},,\n", name, csv_number(r.tornado_base),
                       csv_number(r.tornado_base_stderr));
    out += fmt::format("tornado,{},output_high,{},{},,\n", name, csv_number(t.output_high),
                       csv_number(t.output_high_stderr));
    out += fmt::format("tornado,{},swing,{},{},,\n", name, csv_number(t.swing), csv_number(t.swing_stderr));
  }
  return out;
}

std::string sensitivity_headline(const SensitivityResult& r) {
  auto num = [](double v) { return std::isfinite(v) ? fmt::format("{:6.3f}", v) : std::string("   n/a"); };
  std::string out = fmt::format(
      "Sensitivity of {} ({} base samples, {} factors; censored share {:.3f}; mean {:.4g}, variance {:.4g}):\n",
      r.plan.output.text, r.plan.base_samples, r.plan.factors.size(), r.censored_share, r.sobol.point.mean,
      r.sobol.point.variance);
  size_t width = 9;
  for (const Factor& f : r.plan.factors) width = std::max(width, f.name.size());
  out +=
      fmt::format("  {:<{}}  {:>6} {:>17}  {:>6} {:>17}\n", "parameter", width, "first", "95% CI", "total", "95% CI");
  for (size_t k : by_total(r))
    out += fmt::format("  {:<{}}  {} [{}, {}]  {} [{}, {}]\n", r.plan.factors[k].name, width,
                       num(r.sobol.point.first[k]), num(r.sobol.first_ci95[k].lo), num(r.sobol.first_ci95[k].hi),
                       num(r.sobol.point.total[k]), num(r.sobol.total_ci95[k].lo), num(r.sobol.total_ci95[k].hi));
  out +=
      fmt::format("Tornado (others at their medians; output {:.4g} at the medians), largest swings:\n", r.tornado_base);
  for (size_t k = 0; k < r.tornado.size() && k < 10; ++k) {
    const TornadoRow& t = r.tornado[k];
    out += fmt::format("  {:<{}}  p10 {:<10.4g} -> {:<8.6g}  p90 {:<10.4g} -> {:<8.6g}  swing {:+.4g} (SE {:.2g})\n",
                       t.parameter, width, t.low, t.output_low, t.high, t.output_high, t.swing, t.swing_stderr);
  }
  return out;
}

SensitivityPlan plan_sensitivity(const Scenario& scenario, const SensitivityRequest& request, int threads) {
  SensitivityPlan plan;
  plan.output = parse_output_spec(request.output, scenario.run);
  plan.factors = sensitivity_factors(scenario, request.group_policy, request.parameters);
  if (plan.factors.empty()) throw std::invalid_argument(scenario.path + ": no uncertain parameters to study");
  if (request.bootstrap < 0)
    throw std::invalid_argument(fmt::format("--bootstrap {}: must be >= 0", request.bootstrap));
  plan.base_samples = request.base_samples;
  plan.bootstrap = request.bootstrap;
  plan.bootstrap_seed = scenario.run.seed ^ kBootstrapSeedMix;
  plan.tornado_trajectories = request.tornado_trajectories;
  plan.threads = threads;
  return plan;
}

void write_sensitivity_outputs(const std::filesystem::path& dir, const SensitivityResult& r, const Scenario& scenario,
                               const AnalysisInfo& info) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "sensitivity.csv", sensitivity_csv(r));
  write_file_atomic(dir / "sensitivity.json", sensitivity_json(r, scenario, info));
}

}  // namespace analysis
}  // namespace chipcast
