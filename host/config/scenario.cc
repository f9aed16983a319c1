// load_scenario: the resolved config (extends, overrides) checked and turned into parity::ModelParams.
#include "host/config/scenario.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "host/config/config_diagnostics.h"
#include "host/config/correlation_matrix.h"
#include "host/config/dist_parser.h"
#include "host/config/limit_text.h"
#include "host/config/merged_config.h"
#include "host/config/observations.h"
#include "kernels/tally/tally_layout.h"

namespace chipcast {
namespace {

using config::Domain;
using config::fail;
using config::file_of;
using config::join_key;
using config::number_text;
using config::value_text;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr const char* kSamplingValid =
    "sampling must be \"independent\" (one independent uniform per parameter, MODEL.md v1) or \"latin\" (a Latin "
    "hypercube over the run's trajectories)";

struct BlocParamRule {
  const char* key;
  Domain domain;
  bool allow_infinite;
};

// MODEL.md's parameter table, in parity::BlocParam order.
constexpr BlocParamRule kBlocParams[parity::kNumBlocParams] = {
    {"wafers0", Domain::positive, false},        {"wafer_growth", Domain::real, false},
    {"wafer_vol", Domain::nonnegative, false},   {"wafer_cap", Domain::positive, true},
    {"dies_per_wafer", Domain::positive, false}, {"yield0", Domain::unit, false},
    {"yield_max", Domain::unit, false},          {"learning_rate", Domain::nonnegative, false},
    {"yield_noise", Domain::nonnegative, false}, {"perf0", Domain::positive, false},
    {"perf_growth", Domain::real, false},        {"hbm0", Domain::positive, false},
    {"hbm_growth", Domain::real, false},         {"hbm_vol", Domain::nonnegative, false},
    {"hbm_per_chip0", Domain::positive, false},  {"hbm_per_chip_growth", Domain::real, false},
    {"packaging0", Domain::positive, true},      {"packaging_growth", Domain::real, false},
};

// MODEL-v2.md's per-bloc keys, in parity::BlocParamV2 order, with their defaults.
struct BlocParamV2Rule {
  const char* key;
  Domain domain;
  double fallback;
};
constexpr BlocParamV2Rule kBlocParamsV2[parity::kNumBlocParamsV2] = {
    {"wafer_growth_long", Domain::real, 0.0},        {"hbm_growth_long", Domain::real, 0.0},
    {"packaging_growth_long", Domain::real, 0.0},    {"perf_growth_long", Domain::real, 0.0},
    {"hbm_per_chip_growth_long", Domain::real, 0.0}, {"growth_halflife", Domain::positive, 1.0},
    {"die_stock0", Domain::nonnegative, 0.0},        {"hbm_stock0", Domain::nonnegative, 0.0},
    {"perf_lag", Domain::nonnegative, 0.0},          {"perf_lag_drift", Domain::real, 0.0},
};
// The v1 rate each <name>_long (BlocParamV2 0..4) relaxes.
constexpr parity::BlocParam kLongOf[parity::kGrowthHalflife] = {
    parity::kWaferGrowth, parity::kHbmGrowth, parity::kPackagingGrowth, parity::kPerfGrowth, parity::kHbmPerChipGrowth};

struct EffectRule {
  const char* key;
  Domain domain;
  double fallback;
};

// parity::RegimeEffect order, with MODEL.md's defaults.
constexpr EffectRule kEffects[parity::kNumEffects] = {
    {"wafer_growth_adj", Domain::real, 0.0},
    {"learning_mult", Domain::nonnegative, 1.0},
    {"hbm_mult", Domain::nonnegative, 1.0},
};

// MODEL-v2.md's regime effects, in parity::RegimeEffectV2 order, with their defaults.
constexpr EffectRule kEffectsV2[parity::kNumEffectsV2] = {
    {"hbm_growth_adj", Domain::real, 0.0},     {"packaging_growth_adj", Domain::real, 0.0},
    {"perf_growth_adj", Domain::real, 0.0},    {"packaging_mult", Domain::positive, 1.0},
    {"wafer_cap_mult", Domain::positive, 1.0},
};

// ShockSpec::target values, in parity::ShockTarget order.
constexpr const char* kShockTargets[parity::kNumTargets] = {"wafers", "hbm", "packaging", "wafer_cap"};

constexpr const char* kBlocNames[parity::kNumBlocs] = {"domestic", "foreign"};

std::string sha256_hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw ConfigError("internal error: SHA-256 of the resolved config failed");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

class Resolver {
 public:
  Resolver(Scenario& s, const toml::table& root)
      : s_(s), p_(s.params), root_(root), path_(s.path), betas_(s.params.tables) {
    s_.param_names.assign(parity::kMaxParams, std::string());
    all_names_.assign(parity::kMaxParams, std::string());
  }

  void resolve() {
    config::check_keys(root_,
                       {"extends", "run", "domestic", "foreign", "policy", "shocks", "correlations", "observations"},
                       "", path_);
    resolve_run();
    for (int b = 0; b < parity::kNumBlocs; ++b) resolve_bloc(b);
    if (const toml::node* policy = root_.get("policy")) {
      resolve_policy(config::read_table(*policy, "policy", path_));
    } else {
      s_.regime_names = {"none"};
      p_.num_regimes = 1;
      p_.initial_regime = 0;
      for (int b = 0; b < parity::kNumBlocs; ++b) {
        for (int e = 0; e < parity::kNumEffects; ++e) {
          p_.params[parity::effect_param_index(0, b, e)] = fixed_dist(kEffects[e].fallback);
        }
        for (int e = 0; e < parity::kNumEffectsV2; ++e) {
          p_.params[parity::effect_v2_index(0, b, e)] = fixed_dist(kEffectsV2[e].fallback);
        }
      }
    }
    if (const toml::node* shocks = root_.get("shocks")) resolve_shocks(*shocks);
    check_perf_lag();
    if (const toml::node* correlations = root_.get("correlations")) resolve_correlations(*correlations);
    if (const toml::node* obs = root_.get("observations")) {
      s_.observations = read_observations(*obs, path_);
      check_observation_years(s_.observations, s_.run, path_);
    }
  }

 private:
  // A required key of a table that the merged config must provide.
  const toml::node& required(const toml::table& t, const char* key, const std::string& prefix,
                             const std::string& valid) const {
    const toml::node* n = t.get(key);
    if (!n) fail(file_of(t, path_), join_key(prefix, key), "(missing)", "missing key", valid);
    return *n;
  }

  // A parameter slot of params.params, named in param_names when not fixed.
  void set_param(int index, const toml::node& node, const config::ParamSpec& spec) {
    const Dist d = config::parse_dist(node, spec, path_, betas_);
    p_.params[index] = d;
    all_names_[index] = spec.key;
    if (d.kind != DistKind::fixed) s_.param_names[index] = spec.key;
  }

  double finite_number(const toml::node& n, const std::string& key) const {
    const double x = config::read_number(n, key, path_);
    if (!std::isfinite(x)) fail(file_of(n, path_), key, value_text(n), "not a finite number", key + " must be finite");
    return x;
  }

  double probability(const toml::node& n, const std::string& key) const {
    const double x = config::read_number(n, key, path_);
    if (!(x >= 0 && x <= 1)) {
      fail(file_of(n, path_), key, value_text(n), "probability outside [0, 1]", "a probability must be in [0, 1]");
    }
    return x;
  }

  void resolve_run() {
    RunSettings& r = s_.run;
    const toml::table empty;
    const toml::node* node = root_.get("run");
    const toml::table& t = node ? config::read_table(*node, "run", path_) : empty;
    config::check_keys(t,
                       {"start_year", "horizon_year", "dt", "trajectories", "seed", "threshold", "sustain", "sampling"},
                       "run", path_);
    if (const auto* n = t.get("start_year")) r.start_year = finite_number(*n, "run.start_year");
    if (const auto* n = t.get("horizon_year")) r.horizon_year = finite_number(*n, "run.horizon_year");
    if (const auto* n = t.get("dt")) r.dt = finite_number(*n, "run.dt");
    if (const auto* n = t.get("trajectories")) {
      r.trajectories = static_cast<uint64_t>(config::read_integer(*n, "run.trajectories", 1, kInt64Max, path_));
    }
    if (const auto* n = t.get("seed"))
      r.seed = static_cast<uint64_t>(config::read_integer(*n, "run.seed", 0, kInt64Max, path_));
    if (const auto* n = t.get("threshold")) r.threshold = finite_number(*n, "run.threshold");
    if (const auto* n = t.get("sustain"))
      r.sustain = static_cast<int>(config::read_integer(*n, "run.sustain", 1, INT32_MAX, path_));
    if (const auto* n = t.get("sampling")) {
      r.sampling = config::read_string(*n, "run.sampling", path_);
      if (r.sampling != "independent" && r.sampling != "latin")
        fail(file_of(*n, path_), "run.sampling", value_text(*n), "unknown sampling design", kSamplingValid);
    }

    auto where = [&](const char* key) { return t.get(key) ? file_of(*t.get(key), path_) : path_; };
    auto shown = [&](const char* key, double v) {
      return t.get(key) ? value_text(*t.get(key)) : number_text(v) + " (default)";
    };
    if (!(r.dt > 0))
      fail(where("dt"), "run.dt", shown("dt", r.dt), "must be > 0", "dt is the period length in years, e.g. 0.25");
    if (!(r.horizon_year > r.start_year)) {
      fail(where("horizon_year"), "run.horizon_year", shown("horizon_year", r.horizon_year),
           "not after start_year (" + number_text(r.start_year) + ")", "horizon_year must be > start_year");
    }
    if (!(r.threshold > 0)) {
      fail(where("threshold"), "run.threshold", shown("threshold", r.threshold), "must be > 0",
           "threshold is the domestic/foreign ratio that counts as parity, e.g. 1.0");
    }
    const double n = (r.horizon_year - r.start_year) / r.dt;
    const double whole = std::round(n);
    if (whole < 1 || std::fabs(n - whole) > 1e-9 * whole) {
      fail(where("dt"), "run.dt", shown("dt", r.dt),
           "horizon_year - start_year = " + number_text(r.horizon_year - r.start_year) + " is " + number_text(n) +
               " periods, not a whole number",
           "choose dt so that (horizon_year - start_year) / dt is a whole number >= 1");
    }
    const int sub_bins = sub_bins_for(r.dt);
    if (whole * sub_bins + 1 > static_cast<double>(INT32_MAX)) {
      fail(where("dt"), "run.dt", shown("dt", r.dt), "too many periods (" + number_text(whole) + ")",
           "use a larger dt or a shorter horizon");
    }
    p_.periods = static_cast<int32_t>(whole);
    p_.dt = r.dt;
    p_.start_year = r.start_year;
    p_.threshold = r.threshold;
    p_.sustain = r.sustain;
    p_.seed = r.seed;
    p_.sub_bins = sub_bins;
    // Calendar-year totals where the grid has whole years (time_grid.h).
    const AnnualGrid annual = annual_grid(r.start_year, r.dt, p_.periods);
    p_.periods_per_year = annual.per_year;
    p_.years = annual.years;
    // Latin hypercube over the run's trajectory indices [0, trajectories).
    if (r.sampling == "latin") {
      p_.design.latin = 1;
      p_.design.latin_n = r.trajectories;
    }
  }

  void resolve_bloc(int b) {
    const char* bloc = kBlocNames[b];
    std::string all;
    for (const auto& rule : kBlocParams) all += (all.empty() ? "" : ", ") + std::string(rule.key);
    const toml::node* node = root_.get(bloc);
    if (!node) {
      fail(path_, bloc, "(missing)", std::string("missing table [") + bloc + "]",
           "every scenario needs [domestic] and [foreign], each with: " + all);
    }
    const toml::table& t = config::read_table(*node, bloc, path_);
    config::check_keys(t,
                       {"wafers0",
                        "wafer_growth",
                        "wafer_vol",
                        "wafer_cap",
                        "dies_per_wafer",
                        "yield0",
                        "yield_max",
                        "learning_rate",
                        "yield_noise",
                        "perf0",
                        "perf_growth",
                        "hbm0",
                        "hbm_growth",
                        "hbm_vol",
                        "hbm_per_chip0",
                        "hbm_per_chip_growth",
                        "packaging0",
                        "packaging_growth",
                        "wafer_growth_long",
                        "hbm_growth_long",
                        "packaging_growth_long",
                        "perf_growth_long",
                        "hbm_per_chip_growth_long",
                        "growth_halflife",
                        "die_stock0",
                        "hbm_stock0",
                        "perf_lag",
                        "perf_lag_drift"},
                       bloc, path_);
    // MODEL-v2.md section 4: under perf_lag the bloc's own perf0 and
    // perf_growth are not used (check_perf_lag warns when they are given), so
    // they are not required; their slots then hold 1 and 0, never read.
    const bool lagging = t.get("perf_lag") != nullptr;
    for (int k = 0; k < parity::kNumBlocParams; ++k) {
      const BlocParamRule& rule = kBlocParams[k];
      const std::string key = join_key(bloc, rule.key);
      const toml::node* v = t.get(rule.key);
      if (!v && lagging && (k == parity::kPerf0 || k == parity::kPerfGrowth)) {
        p_.params[parity::bloc_param_index(b, k)] = fixed_dist(k == parity::kPerf0 ? 1.0 : 0.0);
        continue;
      }
      if (!v) {
        fail(path_, key, "(missing)", "missing parameter",
             std::string("every parameter is required in [") + bloc + "]: " + all +
                 (k == parity::kPerf0 || k == parity::kPerfGrowth ? " (perf0 and perf_growth unless perf_lag is given)"
                                                                  : ""));
      }
      set_param(parity::bloc_param_index(b, k), *v, {key, rule.key, rule.domain, rule.allow_infinite});
    }
    resolve_bloc_v2(b, t);
  }

  // MODEL-v2.md sections 1, 2 and 4: the optional per-bloc keys.
  void resolve_bloc_v2(int b, const toml::table& t) {
    const char* bloc = kBlocNames[b];
    for (int k = 0; k < parity::kNumBlocParamsV2; ++k) {
      const BlocParamV2Rule& rule = kBlocParamsV2[k];
      const std::string key = join_key(bloc, rule.key);
      const int index = parity::bloc_param_v2_index(b, k);
      const toml::node* v = t.get(rule.key);
      if (!v) {
        p_.params[index] = fixed_dist(rule.fallback);
        all_names_[index] = key;
        continue;
      }
      set_param(index, *v, {key, rule.key, rule.domain, false});
      p_.v2 = 1;
      if (k < parity::kGrowthHalflife) p_.v2_long[b] |= int32_t{1} << k;
    }
    const toml::node* half = t.get("growth_halflife");
    p_.v2_growth[b] = half ? 1 : 0;
    p_.v2_stock[b] = t.get("die_stock0") || t.get("hbm_stock0") ? 1 : 0;
    for (int k = 0; k < parity::kGrowthHalflife; ++k) {
      const toml::node* v = t.get(kBlocParamsV2[k].key);
      if (v && !half) {
        fail(file_of(*v, path_), join_key(bloc, kBlocParamsV2[k].key), value_text(*v),
             std::string("a long-run rate without the bloc's growth_halflife"),
             std::string("give [") + bloc + "] growth_halflife = H (years, > 0), the half-life over which " +
                 kBlocParams[kLongOf[k]].key + " relaxes to " + kBlocParamsV2[k].key + "; or drop " +
                 kBlocParamsV2[k].key);
      }
    }
    const toml::node* drift = t.get("perf_lag_drift");
    if (drift && !t.get("perf_lag")) {
      fail(file_of(*drift, path_), join_key(bloc, "perf_lag_drift"), value_text(*drift),
           "perf_lag_drift without perf_lag",
           std::string("give [") + bloc +
               "] perf_lag = L0 (years behind the other bloc's frontier), or drop perf_lag_drift");
    }
  }

  // MODEL-v2.md section 4: at most one bloc lags; the lagging bloc's own perf
  // keys are ignored, with one warning naming them.
  void check_perf_lag() {
    const toml::table* t[parity::kNumBlocs];
    for (int b = 0; b < parity::kNumBlocs; ++b) t[b] = root_.get(kBlocNames[b])->as_table();
    const toml::node* lag0 = t[0]->get("perf_lag");
    const toml::node* lag1 = t[1]->get("perf_lag");
    if (lag0 && lag1) {
      fail(file_of(*lag1, path_), "foreign.perf_lag", value_text(*lag1),
           "perf_lag for both blocs (domestic.perf_lag = " + value_text(*lag0) + ")",
           "a bloc's perf lags the other bloc's frontier, so only one bloc may give perf_lag");
    }
    p_.perf_lag_bloc = lag0 ? 0 : (lag1 ? 1 : -1);
    if (p_.perf_lag_bloc < 0) return;
    const int b = p_.perf_lag_bloc;
    std::string ignored;
    std::string where;
    for (const char* key : {"perf0", "perf_growth", "perf_growth_long"}) {
      if (const toml::node* n = t[b]->get(key)) {
        ignored += (ignored.empty() ? "" : ", ") + join_key(kBlocNames[b], key) + " = " + value_text(*n);
        if (where.empty()) where = file_of(*n, path_);
      }
    }
    if (!ignored.empty()) {
      s_.warnings.push_back(where + ": " + ignored + ": ignored, because " + kBlocNames[b] +
                            ".perf_lag is given (its perf follows the " + kBlocNames[1 - b] +
                            " frontier, MODEL-v2.md section 4)");
    }
  }

  int regime_index(const std::string& name) const {
    const auto it = std::find(s_.regime_names.begin(), s_.regime_names.end(), name);
    return it == s_.regime_names.end() ? -1 : static_cast<int>(it - s_.regime_names.begin());
  }

  std::string regime_list() const { return config::name_list(s_.regime_names); }

  void resolve_policy(const toml::table& policy) {
    config::check_keys(policy, {"initial", "regimes", "transitions", "events"}, "policy", path_);
    const toml::table& regimes = config::read_table(
        required(policy, "regimes", "policy", "[policy] needs at least one [policy.regimes.NAME] table"),
        "policy.regimes", path_);
    for (auto&& [name, v] : regimes) s_.regime_names.emplace_back(name.str());
    std::sort(s_.regime_names.begin(), s_.regime_names.end());
    if (s_.regime_names.empty()) {
      fail(file_of(regimes, path_), "policy.regimes", value_text(regimes), "no regimes",
           "define at least one [policy.regimes.NAME] table");
    }
    if (static_cast<int>(s_.regime_names.size()) > parity::kMaxRegimes) {
      fail(file_of(regimes, path_), "policy.regimes", regime_list(),
           std::to_string(s_.regime_names.size()) + " regimes",
           "at most " + std::to_string(parity::kMaxRegimes) + " regimes are supported");
    }
    p_.num_regimes = static_cast<int32_t>(s_.regime_names.size());

    const toml::node& initial =
        required(policy, "initial", "policy", "name the starting regime, one of: " + regime_list());
    const std::string initial_name = config::read_string(initial, "policy.initial", path_);
    p_.initial_regime = regime_index(initial_name);
    if (p_.initial_regime < 0) {
      fail(file_of(initial, path_), "policy.initial", value_text(initial), "unknown regime",
           "defined regimes: " + regime_list());
    }

    for (int r = 0; r < p_.num_regimes; ++r) {
      const std::string& name = s_.regime_names[r];
      const std::string rkey = join_key("policy.regimes", name);
      const toml::table& rt = config::read_table(*regimes.get(name), rkey, path_);
      config::check_keys(rt, {"domestic", "foreign"}, rkey, path_);
      for (int b = 0; b < parity::kNumBlocs; ++b) {
        const std::string bkey = join_key(rkey, kBlocNames[b]);
        const toml::node* bn = rt.get(kBlocNames[b]);
        const toml::table* bt = bn ? &config::read_table(*bn, bkey, path_) : nullptr;
        if (bt)
          config::check_keys(*bt,
                             {"wafer_growth_adj", "learning_mult", "hbm_mult", "hbm_growth_adj", "packaging_growth_adj",
                              "perf_growth_adj", "packaging_mult", "wafer_cap_mult"},
                             bkey, path_);
        for (int e = 0; e < parity::kNumEffects; ++e) {
          const int index = parity::effect_param_index(r, b, e);
          const toml::node* en = bt ? bt->get(kEffects[e].key) : nullptr;
          if (en) {
            set_param(index, *en, {join_key(bkey, kEffects[e].key), kEffects[e].key, kEffects[e].domain, false});
          } else {
            p_.params[index] = fixed_dist(kEffects[e].fallback);
            all_names_[index] = join_key(bkey, kEffects[e].key);
          }
        }
        for (int e = 0; e < parity::kNumEffectsV2; ++e) {
          const int index = parity::effect_v2_index(r, b, e);
          const toml::node* en = bt ? bt->get(kEffectsV2[e].key) : nullptr;
          if (en) {
            set_param(index, *en, {join_key(bkey, kEffectsV2[e].key), kEffectsV2[e].key, kEffectsV2[e].domain, false});
            p_.v2 = 1;
          } else {
            p_.params[index] = fixed_dist(kEffectsV2[e].fallback);
            all_names_[index] = join_key(bkey, kEffectsV2[e].key);
          }
        }
      }
    }

    if (const toml::node* tn = policy.get("transitions"))
      resolve_transitions(config::read_table(*tn, "policy.transitions", path_));
    if (const toml::node* en = policy.get("events")) resolve_events(*en);
  }

  void resolve_transitions(const toml::table& transitions) {
    const double dt = p_.dt;
    for (auto&& [from_key, row_node] : transitions) {
      const std::string from = std::string(from_key.str());
      const std::string fkey = join_key("policy.transitions", from);
      const int i = regime_index(from);
      if (i < 0)
        fail(file_of(row_node, path_), fkey, value_text(row_node), "unknown regime",
             "defined regimes: " + regime_list());
      const toml::table& row = config::read_table(row_node, fkey, path_);
      double sum = 0;
      for (auto&& [to_key, pn] : row) {
        const std::string to = std::string(to_key.str());
        const std::string key = join_key(fkey, to);
        const int j = regime_index(to);
        if (j < 0) fail(file_of(pn, path_), key, value_text(pn), "unknown regime", "defined regimes: " + regime_list());
        if (j == i) {
          fail(file_of(pn, path_), key, value_text(pn), "a transition from a regime to itself",
               "list only moves to other regimes; staying is what is left over");
        }
        const double p = probability(pn, key);
        p_.q[i][j] = 1.0 - std::pow(1.0 - p, dt);
        sum += p_.q[i][j];
      }
      if (sum > 1.0) {
        for (int j = 0; j < p_.num_regimes; ++j) p_.q[i][j] /= sum;
      }
      p_.q[i][i] = 0.0;
    }
  }

  void resolve_events(const toml::node& node) {
    const toml::array* events = node.as_array();
    if (!events) {
      fail(file_of(node, path_), "policy.events", value_text(node), "expected an array of tables",
           "write [[policy.events]] with at, regime, probability");
    }
    for (size_t idx = 0; idx < events->size(); ++idx) {
      const toml::node& en = *events->get(idx);
      const std::string key = "policy.events[" + std::to_string(idx) + "]";
      const toml::table& et = config::read_table(en, key, path_);
      config::check_keys(et, {"at", "regime", "probability"}, key, path_);
      const double at = finite_number(
          required(et, "at", key, "an event needs at = YEAR, regime = NAME, probability = P"), key + ".at");
      const toml::node& rn = required(et, "regime", key, "an event needs at = YEAR, regime = NAME, probability = P");
      const int regime = regime_index(config::read_string(rn, key + ".regime", path_));
      if (regime < 0)
        fail(file_of(rn, path_), key + ".regime", value_text(rn), "unknown regime",
             "defined regimes: " + regime_list());
      const toml::node* pn = et.get("probability");
      const double prob = pn ? probability(*pn, key + ".probability") : 1.0;
      // A small tolerance so that years on a period boundary (2026.3 at dt 0.1) land in their period.
      const double k = std::floor((at - p_.start_year) / p_.dt + 1e-9);
      if (!(k >= 0 && k < p_.periods)) {
        s_.warnings.push_back(file_of(et, path_) + ": " + key + ": at = " + number_text(at) +
                              " is outside the simulated years [" + number_text(p_.start_year) + ", " +
                              number_text(s_.run.horizon_year) + "); this event never fires");
        continue;
      }
      if (p_.num_events >= parity::kMaxEvents) {
        fail(file_of(et, path_), key, value_text(et), "too many events",
             "at most " + std::to_string(parity::kMaxEvents) + " events within the simulated years are supported");
      }
      parity::EventSpec& ev = p_.events[p_.num_events++];
      ev.period = static_cast<int32_t>(k);
      ev.regime = regime;
      ev.probability = prob;
    }
  }

  void resolve_shocks(const toml::node& node) {
    const toml::array* shocks = node.as_array();
    if (!shocks) {
      fail(file_of(node, path_), "shocks", value_text(node), "expected an array of tables",
           "write [[shocks]] with name, bloc, rate, loss");
    }
    if (static_cast<int>(shocks->size()) > parity::kMaxShocks) {
      fail(file_of(node, path_), "shocks", std::to_string(shocks->size()) + " shocks", "too many shocks",
           "at most " + std::to_string(parity::kMaxShocks) + " shocks are supported");
    }
    std::vector<std::string> names;
    const char* needs = "a shock needs name, bloc (\"domestic\" or \"foreign\"), rate, loss";
    for (size_t idx = 0; idx < shocks->size(); ++idx) {
      const toml::node& sn = *shocks->get(idx);
      const std::string ikey = "shocks[" + std::to_string(idx) + "]";
      const toml::table& st = config::read_table(sn, ikey, path_);
      config::check_keys(st, {"name", "bloc", "rate", "loss", "target"}, ikey, path_);
      const toml::node& nn = required(st, "name", ikey, needs);
      const std::string name = config::read_string(nn, ikey + ".name", path_);
      if (name.empty()) fail(file_of(nn, path_), ikey + ".name", value_text(nn), "empty name", "give the shock a name");
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        fail(file_of(nn, path_), ikey + ".name", value_text(nn), "duplicate shock name", "shock names must be unique");
      }
      names.push_back(name);
      const std::string key = join_key("shocks", name);
      const toml::node& bn = required(st, "bloc", key, needs);
      const std::string bloc = config::read_string(bn, key + ".bloc", path_);
      parity::ShockSpec& spec = p_.shocks[idx];
      if (bloc == "domestic") {
        spec.bloc = parity::kDomestic;
      } else if (bloc == "foreign") {
        spec.bloc = parity::kForeign;
      } else {
        fail(file_of(bn, path_), key + ".bloc", value_text(bn), "unknown bloc",
             "bloc must be \"domestic\" or \"foreign\"");
      }
      if (const toml::node* tn = st.get("target")) {
        const std::string target = config::read_string(*tn, key + ".target", path_);
        const auto* it = std::find_if(std::begin(kShockTargets), std::end(kShockTargets),
                                      [&](const char* known) { return target == known; });
        if (it == std::end(kShockTargets)) {
          fail(file_of(*tn, path_), key + ".target", value_text(*tn), "unknown shock target",
               "target must be \"wafers\" (the default), \"hbm\", \"packaging\" or \"wafer_cap\"");
        }
        spec.target = static_cast<int32_t>(it - std::begin(kShockTargets));
        if (spec.target != parity::kTargetWafers) p_.v2 = 1;
      }
      set_param(parity::shock_rate_index(static_cast<int>(idx)), required(st, "rate", key, needs),
                {key + ".rate", "rate", Domain::nonnegative, false});
      spec.loss = config::parse_dist(required(st, "loss", key, needs), {key + ".loss", "loss", Domain::unit, false},
                                     path_, betas_);
    }
    p_.num_shocks = static_cast<int32_t>(shocks->size());
  }

  std::string uncertain_list() const {
    std::vector<std::string> names;
    for (const auto& n : s_.param_names)
      if (!n.empty()) names.push_back(n);
    return names.empty() ? std::string("(none: every parameter is a number)") : config::name_list(names);
  }

  // A parameter named by a correlation entry: it must exist and be uncertain.
  int correlated_param(const toml::node& n, const std::string& key) const {
    const std::string name = config::read_string(n, key, path_);
    const auto it = std::find(all_names_.begin(), all_names_.end(), name);
    if (name.empty() || it == all_names_.end()) {
      fail(file_of(n, path_), key, value_text(n), "unknown parameter",
           "name an uncertain parameter (one given as a distribution): " + uncertain_list());
    }
    const int index = static_cast<int>(it - all_names_.begin());
    if (s_.param_names[index].empty()) {
      fail(file_of(n, path_), key, value_text(n),
           "a fixed parameter (a number, not a distribution) cannot be correlated",
           "correlate uncertain parameters only: " + uncertain_list());
    }
    return index;
  }

  // [[correlations]]: Spearman rank correlations imposed by a Gaussian copula
  // (params.design): normal-scale r = 2 sin(pi rho_S / 6), Cholesky-factored;
  // parameters are ordered by first mention, so a matrix that is not positive
  // definite is reported at the first parameter whose correlations with the
  // ones before it are impossible together.
  void resolve_correlations(const toml::node& node) {
    const toml::array* entries = node.as_array();
    const char* needs = "write [[correlations]] with a = \"bloc.param\", b = \"bloc.param\", rank = r (-1 < r < 1)";
    if (!entries) fail(file_of(node, path_), "correlations", value_text(node), "expected an array of tables", needs);
    std::vector<int> order;  // parameter-table indices by first mention
    std::vector<const toml::table*> tables;
    auto position = [&](int index) {
      const auto it = std::find(order.begin(), order.end(), index);
      if (it != order.end()) return static_cast<int>(it - order.begin());
      order.push_back(index);
      return static_cast<int>(order.size()) - 1;
    };
    for (size_t idx = 0; idx < entries->size(); ++idx) {
      const toml::node& en = *entries->get(idx);
      const std::string key = "correlations[" + std::to_string(idx) + "]";
      const toml::table& et = config::read_table(en, key, path_);
      config::check_keys(et, {"a", "b", "rank"}, key, path_);
      const int ia = correlated_param(required(et, "a", key, needs), key + ".a");
      const int ib = correlated_param(required(et, "b", key, needs), key + ".b");
      if (ia == ib) {
        fail(file_of(et, path_), key, value_text(et), "a parameter correlated with itself",
             "a and b must name two different parameters");
      }
      const toml::node& rn = required(et, "rank", key, needs);
      const double rank = config::read_number(rn, key + ".rank", path_);
      if (!(std::fabs(rank) < 1.0)) {
        fail(file_of(rn, path_), key + ".rank", value_text(rn), "a rank correlation must lie strictly between -1 and 1",
             "give a Spearman rank correlation with |rank| < 1 (+-1 would make one parameter a function of the other)");
      }
      for (size_t j = 0; j < s_.correlations.size(); ++j) {
        const CorrelationPair& c = s_.correlations[j];
        if ((c.a == ia && c.b == ib) || (c.a == ib && c.b == ia)) {
          fail(file_of(et, path_), key, value_text(et),
               "this pair is already correlated by correlations[" + std::to_string(j) + "]",
               "give each pair of parameters once");
        }
      }
      position(ia);
      position(ib);
      s_.correlations.push_back({ia, ib, rank});
      tables.push_back(&et);
    }
    const int n = static_cast<int>(order.size());
    if (n > parity::kMaxCorrelated) {
      fail(file_of(node, path_), "correlations", std::to_string(n) + " correlated parameters",
           "too many correlated parameters",
           "at most " + std::to_string(parity::kMaxCorrelated) + " parameters may be correlated");
    }
    if (n == 0) return;
    std::vector<double> r(static_cast<size_t>(n) * n, 0.0), l;
    for (int i = 0; i < n; ++i) r[i * n + i] = 1.0;
    for (const CorrelationPair& c : s_.correlations) {
      const int i = position(c.a), j = position(c.b);
      r[i * n + j] = r[j * n + i] = config::normal_scale_correlation(c.rank);
    }
    const int bad = config::cholesky_lower(r, n, l);
    if (bad >= 0) {
      // Name the strongest correlation of the failing parameter with those before it.
      size_t worst = 0;
      double worst_abs = -1;
      std::string partners;
      for (size_t e = 0; e < s_.correlations.size(); ++e) {
        const CorrelationPair& c = s_.correlations[e];
        const int i = position(c.a), j = position(c.b);
        if (std::max(i, j) != bad || std::min(i, j) >= bad) continue;
        partners += (partners.empty() ? "" : ", ") + s_.param_names[i == bad ? c.b : c.a];
        if (std::fabs(c.rank) >= worst_abs) {
          worst_abs = std::fabs(c.rank);
          worst = e;
        }
      }
      const std::string key = "correlations[" + std::to_string(worst) + "]";
      fail(file_of(*tables[worst], path_), key, value_text(*tables[worst]),
           "the rank correlations cannot hold together: the normal-scale correlation matrix (r = 2 sin(pi rank / 6)) "
           "is not positive definite once " +
               s_.param_names[order[bad]] + " is added (its correlations with " + partners +
               " contradict those declared among them)",
           "use smaller correlations, or drop one of the pairs (e.g. with a-b and b-c both at rank 0.9, a-c must "
           "be at least about 0.63)");
    }
    parity::SamplingDesign& d = p_.design;
    d.num_correlated = n;
    for (int i = 0; i < n; ++i) {
      d.corr_index[i] = order[i];
      for (int j = 0; j <= i; ++j) d.chol[i][j] = l[i * n + j];
    }
  }

  Scenario& s_;
  parity::ModelParams& p_;
  const toml::table& root_;
  const std::string& path_;
  config::BetaTables betas_;
  // Dotted name of every parameter slot the config defines, fixed or not.
  std::vector<std::string> all_names_;
};

void apply_overrides(toml::table& root, const Overrides& o, const std::string& path) {
  if (!o.trajectories && !o.seed && !o.sampling) return;
  if (!root.contains("run")) root.insert("run", toml::table{});
  toml::table* run = root.get_as<toml::table>("run");
  if (!run) return;  // not a table: reported by validation
  auto set = [&](const char* key, uint64_t v, uint64_t lo) {
    if (v < lo || v > static_cast<uint64_t>(kInt64Max)) {
      fail(path, std::string("run.") + key, std::to_string(v) + " (command line)", "out of range",
           std::string(key) + " must be in [" + config::limit_text(static_cast<int64_t>(lo)) + ", " +
               config::limit_text(kInt64Max) + "]");
    }
    run->insert_or_assign(key, static_cast<int64_t>(v));
  };
  if (o.trajectories) set("trajectories", *o.trajectories, 1);
  if (o.seed) set("seed", *o.seed, 0);
  if (o.sampling) {
    if (*o.sampling != "independent" && *o.sampling != "latin")
      fail(path, "run.sampling", "\"" + *o.sampling + "\" (command line)", "unknown sampling design", kSamplingValid);
    run->insert_or_assign("sampling", *o.sampling);
  }
}

}  // namespace

std::unique_ptr<Scenario> load_scenario(const std::string& path, const Overrides& overrides) {
  auto scenario = std::make_unique<Scenario>();
  scenario->path = path;
  toml::table root = config::load_merged_config(path);
  apply_overrides(root, overrides, path);
  std::ostringstream text;
  text << root << '\n';  // a text file ends with a newline
  scenario->resolved_toml = text.str();
  scenario->sha256 = sha256_hex(scenario->resolved_toml);
  Resolver(*scenario, root).resolve();
  return scenario;
}

}  // namespace chipcast
