// read_observations, load_observations_file, check_observation_years: MODEL-v2.md section 7's rules.
#include "host/config/observations.h"

#include <cmath>
#include <string>
#include <vector>

#include "host/config/config_diagnostics.h"
#include "host/config/merged_config.h"
#include "host/config/scenario.h"

namespace chipcast {
namespace {

using config::fail;
using config::file_of;
using config::join_key;
using config::number_text;
using config::value_text;

constexpr const char* kNeeds =
    "an observation needs year, bloc, metric, source and either low and high (a 90 % interval) or value and sd_log";

struct Named {
  const char* name;
  int value;
};
constexpr Named kQuantities[] = {{"units", 0},  {"compute", 1}, {"memory", 2},
                                 {"wafers", 3}, {"hbm", 4},     {"packaging", 5}};
constexpr Named kBlocs[] = {{"domestic", 0}, {"foreign", 1}, {"ratio", 2}};

template <size_t N>
int pick(const toml::node& n, const std::string& key, const Named (&names)[N], const char* valid,
         const std::string& file) {
  const std::string s = config::read_string(n, key, file);
  for (const Named& x : names)
    if (s == x.name) return x.value;
  fail(file_of(n, file), key, value_text(n), "unknown value", valid);
}

// A positive, finite number.
double positive(const toml::node& n, const std::string& key, const std::string& file, const char* what) {
  const double x = config::read_number(n, key, file);
  if (!(std::isfinite(x) && x > 0)) fail(file_of(n, file), key, value_text(n), "must be a finite number > 0", what);
  return x;
}

Observation read_one(const toml::node& node, const std::string& key, const std::string& file) {
  const toml::table& t = config::read_table(node, key, file);
  config::check_keys(t, {"year", "bloc", "metric", "low", "high", "value", "sd_log", "source"}, key, file);
  Observation o;
  o.key = key;
  o.file = file_of(t, file);
  auto required = [&](const char* k) -> const toml::node& {
    const toml::node* n = t.get(k);
    if (!n) fail(o.file, join_key(key, k), "(missing)", "missing key", kNeeds);
    return *n;
  };
  o.year = static_cast<int>(config::read_integer(required("year"), join_key(key, "year"), -100000, 100000, file));
  o.bloc =
      static_cast<ObservedBloc>(pick(required("bloc"), join_key(key, "bloc"), kBlocs,
                                     "bloc must be \"domestic\", \"foreign\" or \"ratio\" (domestic / foreign)", file));
  o.quantity = static_cast<ObservedQuantity>(
      pick(required("metric"), join_key(key, "metric"), kQuantities,
           "metric must be units, compute or memory (the year's output) or wafers, hbm or packaging", file));
  const toml::node& src = required("source");
  o.source = config::read_string(src, join_key(key, "source"), file);
  if (o.source.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(file_of(src, file), join_key(key, "source"), value_text(src), "empty source",
         "name the publisher, the date and the figure, e.g. \"TechInsights, Jun 2024: 3.76M\"");

  const bool has_low = t.get("low") || t.get("high");
  const bool has_value = t.get("value") || t.get("sd_log");
  if (has_low && has_value) {
    const toml::node& n = t.get("value") ? *t.get("value") : *t.get("sd_log");
    fail(file_of(n, file), join_key(key, t.get("value") ? "value" : "sd_log"), value_text(n),
         "given together with low/high", "give either low and high (a 90 % interval) or value and sd_log, not both");
  }
  if (has_low) {
    o.interval = true;
    o.low = positive(required("low"), join_key(key, "low"), file, "low is the 90 % interval's lower end, > 0");
    o.high = positive(required("high"), join_key(key, "high"), file, "high is the 90 % interval's upper end");
    if (!(o.high > o.low))
      fail(file_of(*t.get("high"), file), join_key(key, "high"), value_text(*t.get("high")),
           "not above low (" + number_text(o.low) + ")", "the 90 % interval needs low < high");
    o.value = std::sqrt(o.low * o.high);
    o.sd_log = std::log(o.high / o.low) / (2 * kObservationIntervalZ);
  } else if (has_value) {
    o.value = positive(required("value"), join_key(key, "value"), file, "value is the observed figure, > 0");
    o.sd_log = positive(required("sd_log"), join_key(key, "sd_log"), file,
                        "sd_log is the s.d. of the log measurement error, > 0");
  } else {
    fail(o.file, key, value_text(node), "no value", kNeeds);
  }
  return o;
}

}  // namespace

const char* quantity_name(ObservedQuantity q) { return kQuantities[static_cast<int>(q)].name; }
const char* observed_bloc_name(ObservedBloc b) { return kBlocs[static_cast<int>(b)].name; }

std::string Observation::label() const {
  return std::to_string(year) + " " + observed_bloc_name(bloc) + " " + quantity_name(quantity);
}

std::vector<Observation> read_observations(const toml::node& node, const std::string& fallback_file) {
  const toml::array* arr = node.as_array();
  if (!arr)
    fail(file_of(node, fallback_file), "observations", value_text(node), "expected an array of tables",
         "write [[observations]] tables with year, bloc, metric, low/high or value/sd_log, source");
  std::vector<Observation> out;
  out.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i)
    out.push_back(read_one(*arr->get(i), "observations[" + std::to_string(i) + "]", fallback_file));
  return out;
}

std::vector<Observation> load_observations_file(const std::string& path) {
  const toml::table root = config::read_toml_file(path);
  config::check_keys(root, {"observations"}, "", path);
  const toml::node* n = root.get("observations");
  if (!n)
    fail(path, "observations", "(missing)", "no observations",
         "an observations file holds [[observations]] tables and nothing else");
  std::vector<Observation> obs = read_observations(*n, path);
  // A file replaces the scenario's observations, so an empty one would silently mean "none";
  // refused here once for every reader (calibrate, score, Python).
  if (obs.empty())
    fail(path, "observations", "[]", "no observations",
         "an observations file holds at least one [[observations]] table");
  return obs;
}

void check_observation_years(const std::vector<Observation>& obs, const RunSettings& run,
                             const std::string& scenario_path) {
  if (obs.empty()) return;
  const double per_year = 1.0 / run.dt;
  const bool whole_periods = std::fabs(per_year - std::round(per_year)) <= 1e-9 * per_year;
  const bool on_boundary = std::fabs(run.start_year - std::round(run.start_year)) <= 1e-9;
  if (!whole_periods || !on_boundary)
    fail(scenario_path, "run", "start_year = " + number_text(run.start_year) + ", dt = " + number_text(run.dt),
         "observations are annual totals, which need a whole number of periods per year and a start on a year "
         "boundary",
         "use e.g. start_year = 2022.0 and dt = 0.25");
  const int first = static_cast<int>(std::round(run.start_year));
  // A calendar year Y is fully simulated when [Y, Y + 1) lies in [start, horizon].
  const int last = static_cast<int>(std::floor(run.horizon_year + 1e-9)) - 1;
  for (const Observation& o : obs) {
    if (o.year < first || o.year > last)
      fail(o.file, join_key(o.key, "year"), std::to_string(o.year), "not a fully simulated calendar year",
           "the run simulates the calendar years " + std::to_string(first) + " to " + std::to_string(last) +
               " in full (start_year " + number_text(run.start_year) + ", horizon_year " +
               number_text(run.horizon_year) + ")");
  }
}

}  // namespace chipcast
