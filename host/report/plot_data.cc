// Reading a run's output folder for the charts and the HTML report (see plot_data.h).
#include "host/report/plot_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "host/report/svg.h"

namespace chipcast::plot {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", file.string(), what));
}

std::string read_file(const fs::path& path, bool& exists) {
  std::error_code ec;
  exists = fs::is_regular_file(path, ec);
  if (!exists) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return ss.str();
}

std::string read_required(const fs::path& path) {
  bool exists = false;
  std::string text = read_file(path, exists);
  if (!exists) fail(path, "missing (is this a chipcast run folder?)");
  return text;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = line.find(sep, start);
    out.push_back(trim(line.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// A CSV file with a header naming its columns; rows as string_views into `text`.
struct Csv {
  std::string text;
  std::vector<std::string_view> header;
  std::vector<std::pair<int, std::vector<std::string_view>>> rows;  // (line number, fields)

  int column(const fs::path& file, const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    fail(file, fmt::format("no column '{}' in the header", name));
  }
};

Csv read_csv(const fs::path& file) {
  Csv csv;
  csv.text = read_required(file);
  std::string_view all(csv.text);
  int line_no = 0;
  bool have_header = false;
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = trim(all.substr(start, end - start));
    ++line_no;
    start = end + 1;
    if (line.empty()) {
      if (end == all.size()) break;
      continue;
    }
    auto fields = split(line, ',');
    if (!have_header) {
      csv.header = std::move(fields);
      have_header = true;
    } else {
      if (fields.size() != csv.header.size())
        fail(file, fmt::format("line {}: {} fields, the header has {}", line_no, fields.size(), csv.header.size()));
      csv.rows.emplace_back(line_no, std::move(fields));
    }
    if (end == all.size()) break;
  }
  if (!have_header) fail(file, "empty file");
  return csv;
}

double field_number(const fs::path& file, int line_no, std::string_view field, const std::string& column) {
  double v = 0;
  if (!parse_number(field, v))
    fail(file, fmt::format("line {}: column {}: '{}' is not a number", line_no, column, std::string(field)));
  return v;
}

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number_unsigned()) return std::to_string(v.get<unsigned long long>());
  if (v.is_number_float()) return fmt::format("{:g}", v.get<double>());
  return v.dump();
}

const json& require(const fs::path& file, const json& obj, const std::string& key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) fail(file, fmt::format("missing key {}{}", where, key));
  return obj.at(key);
}

double require_number(const fs::path& file, const json& obj, const std::string& key, const std::string& where) {
  const json& v = require(file, obj, key, where);
  if (!v.is_number()) fail(file, fmt::format("{}{} is {}, not a number", where, key, v.dump()));
  return v.get<double>();
}

std::optional<double> optional_number(const fs::path& file, const json& obj, const std::string& key,
                                      const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return std::nullopt;
  const json& v = obj.at(key);
  if (!v.is_number()) fail(file, fmt::format("{}{} is {}, not a number or null", where, key, v.dump()));
  return v.get<double>();
}

std::vector<std::string> string_list(const json& obj, const std::string& key) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key)) return out;
  const json& v = obj.at(key);
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(value_text(e));
  } else if (!v.is_null()) {
    out.push_back(value_text(v));
  }
  return out;
}

bool valid_metric_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void read_summary(const fs::path& file, RunData& run) {
  const std::string text = read_required(file);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(file, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) fail(file, "not a JSON object");

  const json& grid = require(file, j, "run", "");
  run.start_year = require_number(file, grid, "start_year", "run.");
  run.horizon_year = require_number(file, grid, "horizon_year", "run.");
  run.threshold = require_number(file, grid, "threshold", "run.");
  if (!(run.horizon_year > run.start_year))
    fail(file, fmt::format("run.horizon_year {} is not after run.start_year {}", run.horizon_year, run.start_year));
  if (!(run.threshold > 0) || !std::isfinite(run.threshold))
    fail(file, fmt::format("run.threshold {} is not a positive number", run.threshold));
  run.dt = optional_number(file, grid, "dt", "run.").value_or(0);
  run.sustain = static_cast<int>(optional_number(file, grid, "sustain", "run.").value_or(1));
  if (j.contains("trajectories") && j["trajectories"].is_number())
    run.trajectories = j["trajectories"].get<long long>();

  const json& metrics = require(file, j, "metrics", "");
  if (!metrics.is_object() || metrics.empty()) fail(file, "metrics is empty or not an object");
  std::vector<std::string> names;
  for (const char* known : {"units", "compute", "memory"})
    if (metrics.contains(known)) names.emplace_back(known);
  for (const auto& [name, _] : metrics.items())
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::vector<std::string> metric_notes, metric_warnings;
  for (const auto& name : names) {
    if (!valid_metric_name(name))
      fail(file, fmt::format("metric name '{}' is not made of letters, digits, _ and -", name));
    const json& m = metrics.at(name);
    const std::string where = "metrics." + name + ".";
    MetricData md;
    md.name = name;
    md.p_parity = require_number(file, m, "p_parity_by_horizon", where);
    md.p_parity_stderr = optional_number(file, m, "p_parity_by_horizon_stderr", where);
    md.p_no_parity = optional_number(file, m, "p_no_parity_by_horizon", where).value_or(1.0 - md.p_parity);
    const json& cy = require(file, m, "crossing_year", where);
    if (!cy.is_object()) fail(file, where + "crossing_year is not an object");
    md.q05 = optional_number(file, cy, "q05", where + "crossing_year.");
    md.q50 = optional_number(file, cy, "q50", where + "crossing_year.");
    md.q95 = optional_number(file, cy, "q95", where + "crossing_year.");
    for (const auto& n : string_list(m, "notes")) metric_notes.push_back(name + ": " + n);
    for (const auto& w : string_list(m, "warnings")) metric_warnings.push_back(name + ": " + w);
    run.metrics.push_back(std::move(md));
  }
  run.notes = string_list(j, "notes");
  run.notes.insert(run.notes.end(), metric_notes.begin(), metric_notes.end());
  run.warnings = string_list(j, "warnings");
  run.warnings.insert(run.warnings.end(), metric_warnings.begin(), metric_warnings.end());
  if (j.contains("anomalies") && j["anomalies"].is_object()) {
    const auto& a = j["anomalies"];
    auto count = [&](const char* key, long long& into) {
      if (a.contains(key) && a[key].is_number()) into = a[key].get<long long>();
    };
    count("nan_ratios", run.nan_ratios);
    count("nan_levels", run.nan_levels);
    count("lost_precision", run.lost_precision);
  }
  if (j.contains("quantile_method") && j["quantile_method"].is_string())
    run.quantile_method = j["quantile_method"].get<std::string>();

  // Provenance.
  auto has = [&](const char* k) { return j.contains(k) && !j[k].is_null(); };
  auto text_of = [&](const char* k) { return has(k) ? value_text(j[k]) : std::string(); };
  auto& p = run.provenance;
  if (has("trajectories"))
    p.emplace_back("Trajectories", j["trajectories"].is_number_integer() ? svg::group_digits(run.trajectories)
                                                                         : text_of("trajectories"));
  if (has("seed")) p.emplace_back("Seed", text_of("seed"));
  if (has("backend")) {
    std::string b = text_of("backend");
    const std::string detail = text_of("backend_detail");
    if (!detail.empty()) b = detail.rfind(b, 0) == 0 ? detail : b + " (" + detail + ")";
    p.emplace_back("Backend", b);
  }
  if (has("threads")) p.emplace_back("Threads", text_of("threads"));
  if (has("ranks")) p.emplace_back("MPI ranks", text_of("ranks"));
  if (has("config_path")) p.emplace_back("Config", text_of("config_path"));
  if (has("config_sha256")) p.emplace_back("Config SHA-256", text_of("config_sha256"));
  if (has("version")) p.emplace_back("chipcast version", text_of("version"));
  if (has("seconds") && j["seconds"].is_number())
    p.emplace_back("Run time", fmt::format("{:.3g} s", j["seconds"].get<double>()));
  if (has("started_utc")) p.emplace_back("Started (UTC)", text_of("started_utc"));
  if (has("command_line")) p.emplace_back("Command line", text_of("command_line"));
  {
    std::string grid_text = fmt::format("{} to {}", year_text(run.start_year), year_text(run.horizon_year));
    if (run.dt > 0) {
      grid_text += fmt::format(", dt = {:g} year", run.dt);
      if (grid.contains("periods") && grid["periods"].is_number())
        grid_text += fmt::format(" ({} periods)", value_text(grid["periods"]));
    }
    p.emplace_back("Time grid", grid_text);
    p.emplace_back("Parity", fmt::format("domestic / foreign \u2265 {:g} for {} consecutive period{}", run.threshold,
                                         run.sustain, run.sustain == 1 ? "" : "s"));
  }

  const std::string config_path = text_of("config_path");
  run.config_name = config_path.empty() ? std::string() : fs::path(config_path).filename().string();
  std::vector<std::string> parts;
  parts.push_back("chipcast " + (has("version") ? text_of("version") : std::string("?")));
  if (!run.config_name.empty()) parts.push_back(run.config_name);
  if (has("trajectories")) parts.push_back(svg::group_digits(run.trajectories) + " trajectories");
  if (has("seed")) parts.push_back("seed " + text_of("seed"));
  if (has("backend")) parts.push_back(text_of("backend"));
  if (has("config_sha256")) {
    const std::string sha = text_of("config_sha256");
    parts.push_back("config sha256 " + (sha.size() > 12 ? sha.substr(0, 12) + "\u2026" : sha));
  }
  if (has("started_utc")) parts.push_back(text_of("started_utc"));
  std::string line;
  for (const auto& s : parts) line += (line.empty() ? "" : " \u00B7 ") + s;
  run.provenance_line = "Source: " + line;
}

void read_crossing(const fs::path& file, RunData& run) {
  const Csv csv = read_csv(file);
  const int c_metric = csv.column(file, "metric"), c_year = csv.column(file, "year"),
            c_p = csv.column(file, "p_crossed"), c_se = csv.column(file, "stderr"), c_lo = csv.column(file, "lo95"),
            c_hi = csv.column(file, "hi95");
  std::map<std::string, std::vector<CrossingRow>> by_metric;
  for (const auto& [line_no, f] : csv.rows) {
    CrossingRow r;
    r.year = field_number(file, line_no, f[c_year], "year");
    r.p = field_number(file, line_no, f[c_p], "p_crossed");
    r.stderr_mc = field_number(file, line_no, f[c_se], "stderr");
    r.lo95 = field_number(file, line_no, f[c_lo], "lo95");
    r.hi95 = field_number(file, line_no, f[c_hi], "hi95");
    if (!std::isfinite(r.year)) fail(file, fmt::format("line {}: year is not finite", line_no));
    by_metric[std::string(f[c_metric])].push_back(r);
  }
  for (auto& m : run.metrics) {
    auto it = by_metric.find(m.name);
    if (it == by_metric.end() || it->second.empty()) fail(file, fmt::format("no rows for metric {}", m.name));
    m.crossing = std::move(it->second);
    std::stable_sort(m.crossing.begin(), m.crossing.end(),
                     [](const CrossingRow& a, const CrossingRow& b) { return a.year < b.year; });
  }
}

void read_bands(const fs::path& file, RunData& run) {
  const Csv csv = read_csv(file);
  const int c_metric = csv.column(file, "metric"), c_series = csv.column(file, "series"),
            c_year = csv.column(file, "year");
  static const char* const kQ[5] = {"q05", "q25", "q50", "q75", "q95"};
  int c_q[5];
  for (int i = 0; i < 5; ++i) c_q[i] = csv.column(file, kQ[i]);
  std::map<std::pair<std::string, std::string>, std::vector<BandRow>> rows;
  for (const auto& [line_no, f] : csv.rows) {
    BandRow r;
    r.year = field_number(file, line_no, f[c_year], "year");
    if (!std::isfinite(r.year)) fail(file, fmt::format("line {}: year is not finite", line_no));
    for (int i = 0; i < 5; ++i) r.q[i] = field_number(file, line_no, f[c_q[i]], kQ[i]);
    const std::string series(f[c_series]);
    if (series != "ratio" && series != "domestic" && series != "foreign")
      fail(file, fmt::format("line {}: series '{}' is not ratio, domestic or foreign", line_no, series));
    rows[{std::string(f[c_metric]), series}].push_back(r);
  }
  auto take = [&](const std::string& metric, const char* series, bool required) {
    auto it = rows.find({metric, series});
    if (it == rows.end() || it->second.empty()) {
      if (required) fail(file, fmt::format("no {} rows for metric {}", series, metric));
      return std::vector<BandRow>{};
    }
    auto v = std::move(it->second);
    std::stable_sort(v.begin(), v.end(), [](const BandRow& a, const BandRow& b) { return a.year < b.year; });
    return v;
  };
  for (auto& m : run.metrics) {
    m.ratio = take(m.name, "ratio", true);
    m.domestic = take(m.name, "domestic", false);
    m.foreign = take(m.name, "foreign", false);
  }
}

std::optional<std::pair<double, double>> ci_pair(const fs::path& file, const json& e, const std::string& key,
                                                 const std::string& where) {
  if (!e.contains(key) || e[key].is_null()) return std::nullopt;
  const json& v = e[key];
  if (!v.is_array() || v.size() != 2) fail(file, fmt::format("{}{} is {}, not [low, high]", where, key, v.dump()));
  if (v[0].is_null() || v[1].is_null()) return std::nullopt;
  if (!v[0].is_number() || !v[1].is_number())
    fail(file, fmt::format("{}{} is {}, not two numbers", where, key, v.dump()));
  return std::make_pair(v[0].get<double>(), v[1].get<double>());
}

std::string entry_parameter(const fs::path& file, const json& e, const std::string& where) {
  if (!e.is_object()) fail(file, fmt::format("{} is not an object", where));
  const json& p = require(file, e, "parameter", where + ".");
  if (!p.is_string() || p.get<std::string>().empty())
    fail(file, fmt::format("{}.parameter is {}, not a name", where, p.dump()));
  return p.get<std::string>();
}

std::string entry_output(const fs::path& file, const json& e, const std::string& where, const std::string& fallback) {
  if (!e.contains("output") || e["output"].is_null()) return fallback;
  if (!e["output"].is_string()) fail(file, fmt::format("{}.output is {}, not a string", where, e["output"].dump()));
  return e["output"].get<std::string>();
}

bool looks_like_sobol_list(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const auto& e : v)
    if (!e.is_object() || !e.contains("parameter") || !(e.contains("first") || e.contains("total"))) return false;
  return true;
}

SensitivityData read_sensitivity(const fs::path& file, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(file, fmt::format("not valid JSON: {}", e.what()));
  }
  SensitivityData s;
  std::string default_output;
  std::vector<std::pair<std::string, const json*>> sobol_lists;
  const json* tornado = nullptr;
  if (j.is_array()) {
    sobol_lists.emplace_back("", &j);
  } else if (j.is_object()) {
    if (j.contains("output") && j["output"].is_string()) default_output = j["output"].get<std::string>();
    for (const auto& [key, v] : j.items()) {
      if (key == "tornado") {
        if (!v.is_array()) fail(file, "tornado is not a list");
        tornado = &v;
      } else if (v.is_array() && !v.empty() && v[0].is_object() && v[0].contains("parameter")) {
        if (!looks_like_sobol_list(v)) fail(file, fmt::format("{}: every entry needs parameter and first/total", key));
        sobol_lists.emplace_back(key, &v);
      } else if (v.is_primitive() && !v.is_null()) {
        s.info.emplace_back(key, value_text(v));
      }
    }
  } else {
    fail(file, "neither a list nor an object");
  }
  for (const auto& [key, list] : sobol_lists) {
    for (size_t i = 0; i < list->size(); ++i) {
      const json& e = (*list)[i];
      const std::string where = fmt::format("{}[{}]", key.empty() ? std::string("entry") : key, i);
      SobolEntry se;
      se.parameter = entry_parameter(file, e, where);
      se.output = entry_output(file, e, where, default_output);
      se.first = optional_number(file, e, "first", where + ".").value_or(std::nan(""));
      se.total = optional_number(file, e, "total", where + ".").value_or(std::nan(""));
      se.first_ci = ci_pair(file, e, "first_ci95", where + ".");
      se.total_ci = ci_pair(file, e, "total_ci95", where + ".");
      s.sobol.push_back(std::move(se));
    }
  }
  if (tornado) {
    for (size_t i = 0; i < tornado->size(); ++i) {
      const json& e = (*tornado)[i];
      const std::string where = fmt::format("tornado[{}]", i);
      TornadoEntry te;
      te.parameter = entry_parameter(file, e, where);
      te.output = entry_output(file, e, where, default_output);
      te.low = optional_number(file, e, "low", where + ".");
      te.high = optional_number(file, e, "high", where + ".");
      te.base = optional_number(file, e, "base", where + ".");
      s.tornado.push_back(std::move(te));
    }
  }
  return s;
}

}  // namespace

bool parse_number(std::string_view text, double& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool negative = false;
  std::string_view body(lower);
  if (body.front() == '-') {
    negative = true;
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (body == "nan") {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* first = lower.data();
  const char* last = lower.data() + lower.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range) {  // keep the sign and magnitude class
    value = negative ? -0.0 : 0.0;
    if (std::string_view(lower).find('e') != std::string_view::npos && lower.find("e-") == std::string::npos)
      value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return ptr == last;
  }
  return ec == std::errc() && ptr == last;
}

std::string year_text(double y) { return fmt::format("{:g}", y); }

RunData load_run(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(fmt::format("{}: not a folder", dir.string()));
  RunData run;
  run.dir = dir;
  read_summary(dir / "summary.json", run);
  read_crossing(dir / "crossing.csv", run);
  read_bands(dir / "bands.csv", run);
  bool exists = false;
  std::string toml = read_file(dir / "resolved.toml", exists);
  if (exists) run.resolved_toml = std::move(toml);
  std::string sens = read_file(dir / "sensitivity.json", exists);
  if (exists) run.sensitivity = read_sensitivity(dir / "sensitivity.json", sens);
  return run;
}

}  // namespace chipcast::plot
