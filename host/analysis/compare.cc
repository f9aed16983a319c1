// Scenario comparison with common random numbers: paired shifts of the median parity year and of P(parity by Y).
#include "host/analysis/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "host/report/report.h"
#include "host/stats/summary.h"

namespace chipcast {
namespace analysis {
namespace {

constexpr int kMetrics = 3;
// Median bins: a tenth of the run's crossing bins (dt / sub_bins <= 0.01 year),
// so the median is read within 0.001 year of the sample median.
constexpr int kFinePerBin = 10;

// Crossing-time histograms of one scenario, per metric and trajectory group:
// counts[(metric * groups + g) * (bins + 1) + b], the last bin censored.
struct GroupHistograms {
  int groups = 0, bins = 0;
  std::vector<uint32_t> counts;
  std::vector<uint64_t> group_size;
  uint32_t* row(int m, int g) { return counts.data() + (static_cast<size_t>(m) * groups + g) * (bins + 1); }
  const uint32_t* row(int m, int g) const { return counts.data() + (static_cast<size_t>(m) * groups + g) * (bins + 1); }
};

// Per pair (scenario vs the first) and metric: discordant counts per period
// as difference arrays, and the earlier/later/unchanged counts.
struct PairCounts {
  std::vector<int64_t> d01, d10;  // b crossed by T_k and a not / a and b not
  uint64_t earlier = 0, later = 0, unchanged = 0;
};

// The q-quantile as the upper edge of the first bin whose cumulative count
// reaches q * n (summary.h's rule, on the finer bins of `g`); nullopt after
// the horizon. The edge is the bin's period start plus (j+1) bin widths, not
// TimeGrid::bin_upper_edge: for some dt (0.1, 0.05) the two round apart in the
// last bit, and compare.json keeps the digits it always had.
std::optional<double> histogram_quantile_year(const std::vector<uint64_t>& counts, uint64_t n, const TimeGrid& g,
                                              double q) {
  uint64_t cum = 0;
  for (int b = 0; b < g.time_bins(); ++b) {
    cum += counts[b];
    if (counts[b] > 0 && static_cast<double>(cum) / static_cast<double>(n) >= q)
      return g.period_start(b / g.sub_bins) + g.bin_width() * (b % g.sub_bins + 1);
  }
  return std::nullopt;
}

std::optional<double> quantile_of(const GroupHistograms& h, int m, int group /* -1: all */, const TimeGrid& g,
                                  double q) {
  std::vector<uint64_t> c(static_cast<size_t>(h.bins) + 1, 0);
  uint64_t n = 0;
  for (int k = 0; k < h.groups; ++k) {
    if (group >= 0 && k != group) continue;
    const uint32_t* r = h.row(m, k);
    for (int b = 0; b <= h.bins; ++b) c[b] += r[b];
    n += h.group_size[k];
  }
  if (n == 0) return std::nullopt;
  return histogram_quantile_year(c, n, g, q);
}

void check_same_design(const Scenario& a, const Scenario& b) {
  const auto& pa = a.params;
  const auto& pb = b.params;
  auto mismatch = [&](const std::string& what, const std::string& va, const std::string& vb) {
    throw std::invalid_argument(fmt::format(
        "{}: {} is {}, but {} has {}; compared scenarios must share the time grid and the seed (common random "
        "numbers pair trajectory i's period k across scenarios)",
        b.path, what, vb, a.path, va));
  };
  if (pa.start_year != pb.start_year)
    mismatch("run.start_year", fmt::format("{}", pa.start_year), fmt::format("{}", pb.start_year));
  if (pa.dt != pb.dt) mismatch("run.dt", fmt::format("{}", pa.dt), fmt::format("{}", pb.dt));
  if (pa.periods != pb.periods)
    mismatch("run.horizon_year", fmt::format("{}", a.run.horizon_year), fmt::format("{}", b.run.horizon_year));
  if (pa.seed != pb.seed) mismatch("run.seed", fmt::format("{}", pa.seed), fmt::format("{}", pb.seed));
}

}  // namespace

Comparison compare_scenarios(const std::vector<const Scenario*>& scenarios, RunSession& session, uint64_t n,
                             uint64_t chunk, const std::function<void(uint64_t)>& progress) {
  if (scenarios.size() < 2) throw std::invalid_argument("compare needs at least two scenarios");
  const int groups = kCompareGroups;
  if (n < static_cast<uint64_t>(2 * groups))
    throw std::invalid_argument(fmt::format("compare needs at least {} trajectories (got {})", 2 * groups, n));
  for (size_t s = 1; s < scenarios.size(); ++s) check_same_design(*scenarios[0], *scenarios[s]);
  const parity::ModelParams& p0 = scenarios[0]->params;
  // Median bins: the run's crossing bins refined kFinePerBin times.
  const TimeGrid grid = parity::time_grid(p0).refined(kFinePerBin);
  const size_t S = scenarios.size();
  const int periods = grid.periods;

  std::vector<GroupHistograms> hist(S);
  for (auto& h : hist) {
    h.groups = groups;
    h.bins = grid.time_bins();
    h.counts.assign(static_cast<size_t>(kMetrics) * groups * (h.bins + 1), 0);
    h.group_size.assign(groups, 0);
    // Trajectory j is in group floor(j K / n), i.e. group g is [ceil(g n / K), ceil((g+1) n / K)).
    auto start = [&](uint64_t g) { return (g * n + groups - 1) / groups; };
    for (uint64_t g = 0; g < static_cast<uint64_t>(groups); ++g) h.group_size[g] = start(g + 1) - start(g);
  }
  std::vector<std::array<PairCounts, kMetrics>> pairs(S);
  for (auto& pm : pairs)
    for (auto& pc : pm) {
      pc.d01.assign(periods + 1, 0);
      pc.d10.assign(periods + 1, 0);
    }

  std::vector<float> ta, tb;
  std::vector<int> bin_a;
  const int per = grid.sub_bins;
  for (uint64_t first = 0; first < n; first += chunk) {
    const uint64_t len = std::min(chunk, n - first);
    crossing_times_of(session, scenarios[0]->params, first, len, ta, len);
    bin_a.resize(static_cast<size_t>(kMetrics * len));
    for (int m = 0; m < kMetrics; ++m)
      for (uint64_t i = 0; i < len; ++i) {
        const int b = grid.bin_of(ta[m * len + i]);
        bin_a[m * len + i] = b;
        const int g = static_cast<int>((first + i) * groups / n);
        ++hist[0].row(m, g)[b];
      }
    for (size_t s = 1; s < S; ++s) {
      crossing_times_of(session, scenarios[s]->params, first, len, tb, len);
      for (int m = 0; m < kMetrics; ++m) {
        PairCounts& pc = pairs[s][m];
        for (uint64_t i = 0; i < len; ++i) {
          const float t_b = tb[m * len + i];
          const int b = grid.bin_of(t_b);
          const int g = static_cast<int>((first + i) * groups / n);
          ++hist[s].row(m, g)[b];
          // Period of the crossing (periods = censored): crossed by T_k iff k >= it.
          const int ka = bin_a[m * len + i] / per, kb = b / per;
          if (kb < ka) {
            ++pc.d01[kb];
            --pc.d01[ka];
          } else if (ka < kb) {
            ++pc.d10[ka];
            --pc.d10[kb];
          }
          const double xa = crossing_or_inf(ta[m * len + i]), xb = crossing_or_inf(t_b);
          if (xb < xa) {
            ++pc.earlier;
          } else if (xb > xa) {
            ++pc.later;
          } else {
            ++pc.unchanged;
          }
        }
      }
    }
    if (progress) progress(first + len);
  }

  Comparison out;
  out.trajectories = n;
  out.seed = p0.seed;
  out.groups = groups;
  out.median_bin_width = grid.bin_width();
  out.baseline_path = scenarios[0]->path;
  out.baseline_sha256 = scenarios[0]->sha256;
  const double nd = static_cast<double>(n);
  for (size_t s = 1; s < S; ++s) {
    ScenarioShift ss;
    ss.config_path = scenarios[s]->path;
    ss.config_sha256 = scenarios[s]->sha256;
    for (int m = 0; m < kMetrics; ++m) {
      MetricShift& ms = ss.metrics[m];
      const PairCounts& pc = pairs[s][m];
      for (const double q : kCompareQuantiles) {
        QuantileShift qs;
        qs.q = q;
        qs.year_a = quantile_of(hist[0], m, -1, grid, q);
        qs.year_b = quantile_of(hist[s], m, -1, grid, q);
        if (qs.year_a && qs.year_b) {
          qs.shift = *qs.year_b - *qs.year_a;
          // Batch means: the K group shifts are independent (disjoint trajectory
          // ranges), each with the variance of a shift from N/K pairs, so the
          // full-sample shift's variance is about var(group shifts) / K.
          std::vector<double> d;
          for (int g = 0; g < groups; ++g) {
            const auto a = quantile_of(hist[0], m, g, grid, q), b = quantile_of(hist[s], m, g, grid, q);
            if (!a || !b) break;
            d.push_back(*b - *a);
          }
          if (static_cast<int>(d.size()) == groups) {
            double mean = 0;
            for (double x : d) mean += x;
            mean /= groups;
            double ss2 = 0;
            for (double x : d) ss2 += (x - mean) * (x - mean);
            qs.shift_stderr = std::sqrt(ss2 / (groups - 1.0) / groups);
          }
        }
        if (q == 0.5) {
          ms.median_a = qs.year_a;
          ms.median_b = qs.year_b;
          ms.median_shift = qs.shift;
          ms.median_shift_stderr = qs.shift_stderr;
        }
        ms.quantiles.push_back(qs);
      }
      ms.share_earlier = pc.earlier / nd;
      ms.share_later = pc.later / nd;
      ms.share_unchanged = pc.unchanged / nd;
      // Crossed-by-period counts from the histograms (fine bins nest in periods).
      std::vector<uint64_t> by_a(periods, 0), by_b(periods, 0);
      for (int g = 0; g < groups; ++g) {
        const uint32_t* ra = hist[0].row(m, g);
        const uint32_t* rb = hist[s].row(m, g);
        for (int b = 0; b < grid.time_bins(); ++b) {
          by_a[b / per] += ra[b];
          by_b[b / per] += rb[b];
        }
      }
      uint64_t ca = 0, cb = 0;
      int64_t n01 = 0, n10 = 0;
      for (int k = 0; k < periods; ++k) {
        ca += by_a[k];
        cb += by_b[k];
        n01 += pc.d01[k];
        n10 += pc.d10[k];
        PeriodShift row;
        row.year = grid.period_end(k);
        row.p_a = ca / nd;
        row.p_b = cb / nd;
        // Per trajectory D = 1{T_b <= Y} - 1{T_a <= Y} is +1 n01 times, -1 n10
        // times, else 0: mean (n01 - n10) / N = p_b - p_a, sample variance
        // ((n01 + n10) - N mean^2) / (N - 1), standard error sqrt(var / N).
        row.shift = static_cast<double>(n01 - n10) / nd;
        const double var = std::max(0.0, (static_cast<double>(n01 + n10) - nd * row.shift * row.shift) / (nd - 1.0));
        row.shift_stderr = std::sqrt(var / nd);
        row.shift_stderr_unpaired = std::sqrt(row.p_a * (1 - row.p_a) / nd + row.p_b * (1 - row.p_b) / nd);
        ms.p_parity_by.push_back(row);
      }
    }
    out.scenarios.push_back(std::move(ss));
  }
  return out;
}

std::string compare_json(const Comparison& c, const AnalysisInfo& info) {
  using json = nlohmann::ordered_json;
  json j;
  j["command"] = "compare";
  j["version"] = CHIPCAST_VERSION;
  j["trajectories"] = c.trajectories;
  j["seed"] = c.seed;
  add_analysis_info(j, info);
  j["baseline"] = json{{"config_path", c.baseline_path}, {"config_sha256", c.baseline_sha256}};
  j["method"] = json{
      {"common_random_numbers",
       "every scenario runs trajectories [0, N) with the same seed; a trajectory's random numbers depend only on "
       "(seed, trajectory, period, slot), so scenario b's trajectory i sees the same parameter uniforms and noise "
       "as scenario a's trajectory i, and differences are paired"},
      {"median_year",
       fmt::format("sample q-quantile of the parity year (q = 0.5 for the median; censored = after the horizon), "
                   "read as the upper edge of the first {:.6g}-year bin where the crossed share reaches q (the rule "
                   "of summary.json's crossing_year, on 10x finer bins); null when after the horizon",
                   c.median_bin_width)},
      {"median_shift_stderr",
       fmt::format("batch means: the quantile shift in each of {} contiguous trajectory groups, standard error = "
                   "sd(group shifts) / sqrt({}); null when some group's quantile is after the horizon",
                   c.groups, c.groups)},
      {"p_parity_by_shift_stderr",
       "paired: per trajectory D = 1{T_b <= Y} - 1{T_a <= Y}; stderr = sqrt(((n01 + n10) - N shift^2) / (N - 1) / N) "
       "with n01, n10 the discordant counts"},
      {"shift_stderr_unpaired", "sqrt(p_a (1 - p_a) / N + p_b (1 - p_b) / N): what independent runs would give"},
      {"shares", "share of trajectories whose parity year is earlier / later / identical in b (censored = +inf)"}};
  json comps = json::array();
  for (const ScenarioShift& ss : c.scenarios) {
    json e;
    e["config_path"] = ss.config_path;
    e["config_sha256"] = ss.config_sha256;
    json metrics = json::object();
    for (int m = 0; m < kMetrics; ++m) {
      const MetricShift& ms = ss.metrics[m];
      json mj;
      mj["median_year_a"] = json_number(ms.median_a);
      mj["median_year_b"] = json_number(ms.median_b);
      mj["median_shift"] = json_number(ms.median_shift);
      mj["median_shift_stderr"] = json_number(ms.median_shift_stderr);
      json qj = json::array();
      for (const QuantileShift& qs : ms.quantiles)
        qj.push_back(json{{"q", qs.q},
                          {"year_a", json_number(qs.year_a)},
                          {"year_b", json_number(qs.year_b)},
                          {"shift", json_number(qs.shift)},
                          {"shift_stderr", json_number(qs.shift_stderr)}});
      mj["quantiles"] = std::move(qj);
      mj["share_earlier"] = ms.share_earlier;
      mj["share_later"] = ms.share_later;
      mj["share_unchanged"] = ms.share_unchanged;
      json rows = json::array();
      for (const PeriodShift& r : ms.p_parity_by)
        rows.push_back(json{{"year", r.year},
                            {"p_a", r.p_a},
                            {"p_b", r.p_b},
                            {"shift", r.shift},
                            {"shift_stderr", r.shift_stderr},
                            {"shift_stderr_unpaired", r.shift_stderr_unpaired}});
      mj["p_parity_by"] = std::move(rows);
      metrics[kMetricNames[m]] = std::move(mj);
    }
    e["metrics"] = std::move(metrics);
    comps.push_back(std::move(e));
  }
  j["comparisons"] = std::move(comps);
  return j.dump(2) + "\n";
}

std::string compare_csv(const Comparison& c) {
  std::string out = "scenario,metric,quantity,year,a,b,shift,shift_stderr,shift_stderr_unpaired\n";
  for (const ScenarioShift& ss : c.scenarios) {
    const std::string name = csv_field(ss.config_path);
    for (int m = 0; m < kMetrics; ++m) {
      const MetricShift& ms = ss.metrics[m];
      for (const QuantileShift& qs : ms.quantiles)
        out += fmt::format("{},{},{},,{},{},{},{},\n", name, kMetricNames[m],
                           qs.q == 0.5 ? std::string("median_year") : fmt::format("year_q{:02.0f}", 100 * qs.q),
                           csv_number(qs.year_a), csv_number(qs.year_b), csv_number(qs.shift),
                           csv_number(qs.shift_stderr));
      for (const PeriodShift& r : ms.p_parity_by)
        out += fmt::format("{},{},p_parity_by,{:.4f},{},{},{},{},{}\n", name, kMetricNames[m], r.year,
                           csv_number(r.p_a), csv_number(r.p_b), csv_number(r.shift), csv_number(r.shift_stderr),
                           csv_number(r.shift_stderr_unpaired));
    }
  }
  return out;
}

std::string compare_headline(const Comparison& c, double horizon_year) {
  auto year = [&](const std::optional<double>& y) {
    return y ? fmt::format("{:.2f}", *y) : fmt::format("after {:g}", horizon_year);
  };
  std::string out = fmt::format("Compared with {} ({} trajectories, seed {}, common random numbers):\n",
                                c.baseline_path, c.trajectories, c.seed);
  for (const ScenarioShift& ss : c.scenarios) {
    out += ss.config_path + "\n";
    for (int m = 0; m < kMetrics; ++m) {
      const MetricShift& ms = ss.metrics[m];
      const PeriodShift& h = ms.p_parity_by.back();
      out += fmt::format(
          "  {:<8} P(parity by {:g}) {:.4f} -> {:.4f} ({:+.4f}, SE {:.4f}); earlier {:.1f}%, later {:.1f}%, "
          "unchanged {:.1f}%\n",
          kMetricNames[m], horizon_year, h.p_a, h.p_b, h.shift, h.shift_stderr, 100 * ms.share_earlier,
          100 * ms.share_later, 100 * ms.share_unchanged);
      std::string years;
      for (const QuantileShift& qs : ms.quantiles) {
        years += fmt::format("{}{} {} -> {}", years.empty() ? "" : "; ",
                             qs.q == 0.5 ? std::string("median") : fmt::format("q{:02.0f}", 100 * qs.q),
                             year(qs.year_a), year(qs.year_b));
        if (qs.shift)
          years += fmt::format(" ({:+.3f}, SE {})", *qs.shift,
                               qs.shift_stderr ? fmt::format("{:.3f}", *qs.shift_stderr) : "n/a");
      }
      out += fmt::format("  {:<8} parity year {}\n", "", years);
    }
  }
  return out;
}

std::vector<std::shared_ptr<const Scenario>> load_compared_scenarios(const RunSession& session,
                                                                     const std::vector<std::string>& configs,
                                                                     const Overrides& overrides) {
  if (configs.size() < 2)
    throw std::invalid_argument(
        fmt::format("compare needs at least two configs (the first is the reference), got {}", configs.size()));
  std::vector<std::shared_ptr<const Scenario>> loaded;
  Overrides o = overrides;
  loaded.push_back(session.load(configs[0], o));
  // Every scenario runs with the first one's seed and trajectory count.
  o.seed = loaded[0]->run.seed;
  o.trajectories = loaded[0]->run.trajectories;
  for (size_t i = 1; i < configs.size(); ++i) loaded.push_back(session.load(configs[i], o));
  return loaded;
}

void write_compare_outputs(const std::filesystem::path& dir, const Comparison& c, const AnalysisInfo& info) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "compare.csv", compare_csv(c));
  write_file_atomic(dir / "compare.json", compare_json(c, info));
}

}  // namespace analysis
}  // namespace chipcast
