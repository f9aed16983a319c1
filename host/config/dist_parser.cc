#include "host/config/dist_parser.h"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/distributions/uniform.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <string_view>

#include "host/config/config_diagnostics.h"
#include "host/config/scenario.h"

namespace chipcast::config {
namespace {

// Support of a distribution: [lo, hi] with either end possibly open.
struct Support {
  double lo = -INFINITY, hi = INFINITY;
  bool lo_open = true, hi_open = true;
};

std::string support_text(const Support& s) {
  return std::string(s.lo_open ? "(" : "[") + number_text(s.lo) + ", " + number_text(s.hi) + (s.hi_open ? ")" : "]");
}

bool within(const Support& s, Domain d) {
  switch (d) {
    case Domain::positive:
      return s.lo > 0 || (s.lo == 0 && s.lo_open);
    case Domain::nonnegative:
      return s.lo >= 0;
    case Domain::unit:
      return s.lo >= 0 && s.hi <= 1;
    case Domain::real:
    default:
      return true;
  }
}

bool value_within(double x, Domain d) {
  switch (d) {
    case Domain::positive:
      return x > 0;
    case Domain::nonnegative:
      return x >= 0;
    case Domain::unit:
      return x >= 0 && x <= 1;
    case Domain::real:
    default:
      return true;
  }
}

// How the support leaves the domain, e.g. "can be <= 0".
std::string violation_text(const Support& s, Domain d) {
  switch (d) {
    case Domain::positive:
      return "can be <= 0";
    case Domain::nonnegative:
      return "can be < 0";
    case Domain::unit:
      return s.lo < 0 ? (s.hi > 1 ? "can be < 0 and > 1" : "can be < 0") : "can exceed 1";
    case Domain::real:
    default:
      return "";
  }
}

std::string fix_text(Domain d) {
  switch (d) {
    case Domain::positive:
      return "truncate it with min > 0, or use a lognormal";
    case Domain::nonnegative:
      return "truncate it with min = 0, or use a lognormal";
    case Domain::unit:
      return "truncate it with min >= 0 and max <= 1, or use a beta";
    case Domain::real:
    default:
      return "";
  }
}

struct DistTable {
  const toml::table& table;
  const std::string& key;
  const std::string& file;
  const std::string& fallback;

  const toml::node* find(std::string_view name) const { return table.get(name); }

  double required(std::string_view name, std::string_view kind, std::string_view all) const {
    const toml::node* n = find(name);
    if (!n) {
      fail(file, key, value_text(table), std::string(kind) + " needs " + std::string(name),
           "write { dist = \"" + std::string(kind) + "\", " + std::string(all) + " }");
    }
    return finite(*n, name);
  }
  double optional(std::string_view name, double fallback_value) const {
    const toml::node* n = find(name);
    return n ? finite(*n, name) : fallback_value;
  }
  double finite(const toml::node& n, std::string_view name) const {
    const std::string k = key + "." + std::string(name);
    const double x = read_number(n, k, fallback);
    if (!std::isfinite(x))
      fail(file_of(n, file), k, value_text(n), "not a finite number", std::string(name) + " must be finite");
    return x;
  }
  // A check on one field of the table, e.g. sd > 0.
  void require(bool ok, std::string_view name, const std::string& problem, const std::string& valid) const {
    if (ok) return;
    const toml::node* n = find(name);
    const std::string k = key + "." + std::string(name);
    fail(n ? file_of(*n, file) : file, k, n ? value_text(*n) : std::string("(absent)"), problem, valid);
  }
};

}  // namespace

std::string domain_text(Domain domain) {
  switch (domain) {
    case Domain::positive:
      return "must be > 0";
    case Domain::nonnegative:
      return "must be >= 0";
    case Domain::unit:
      return "must be in [0, 1]";
    case Domain::real:
    default:
      return "may be any real number";
  }
}

int BetaTables::table_for(double a, double b) {
  for (size_t i = 0; i < shapes_.size(); ++i) {
    if (shapes_[i].first == a && shapes_[i].second == b) return static_cast<int>(i);
  }
  if (static_cast<int>(shapes_.size()) >= kMaxTables) return -1;
  const int t = static_cast<int>(shapes_.size());
  double* q = storage_.q[t];
  q[0] = 0.0;
  q[kTableSize - 1] = 1.0;
  for (int i = 1; i < kTableSize - 1; ++i) {
    q[i] = boost::math::ibeta_inv(a, b, static_cast<double>(i) / (kTableSize - 1));
  }
  shapes_.emplace_back(a, b);
  return t;
}

Dist parse_dist(const toml::node& node, const ParamSpec& spec, const std::string& fallback_file, BetaTables& betas) {
  const std::string file = file_of(node, fallback_file);
  const std::string& name = spec.name;
  Dist d;

  // A number: fixed.
  if (node.is_number()) {
    const double x = read_number(node, spec.key, fallback_file);
    const bool inf_ok = spec.allow_infinite && x == INFINITY;
    if (std::isnan(x) || (std::isinf(x) && !inf_ok)) {
      fail(file, spec.key, value_text(node), "not a finite number",
           name + " " + domain_text(spec.domain) + (spec.allow_infinite ? " (inf means no limit)" : ""));
    }
    if (!value_within(x, spec.domain))
      fail(file, spec.key, value_text(node), "out of range", name + " " + domain_text(spec.domain));
    d.kind = DistKind::fixed;
    d.p0 = x;
    return d;
  }

  const toml::table* table = node.as_table();
  if (!table || !table->contains("dist")) {
    fail(file, spec.key, value_text(node), table ? "a table without dist" : "expected a number or a distribution",
         "write a number, or a table like { dist = \"normal\", mean = ..., sd = ... } "
         "(dist: normal, lognormal, uniform, triangular, beta)");
  }
  const DistTable t{*table, spec.key, file, fallback_file};
  const std::string kind = read_string(*table->get("dist"), spec.key + ".dist", file);

  Support s;
  double a = 0, b = 0;  // beta shape
  // The untruncated CDF, defined on the whole real line.
  auto cdf = [&](double x) -> double {
    if (x <= s.lo) return 0.0;
    if (x >= s.hi) return 1.0;
    switch (d.kind) {
      case DistKind::normal:
        return boost::math::cdf(boost::math::normal_distribution<double>(d.p0, d.p1), x);
      case DistKind::lognormal:
        return boost::math::cdf(boost::math::lognormal_distribution<double>(d.p0, d.p1), x);
      case DistKind::uniform:
        return boost::math::cdf(boost::math::uniform_distribution<double>(d.p0, d.p1), x);
      case DistKind::triangular:
        return boost::math::cdf(boost::math::triangular_distribution<double>(d.p0, d.p1, d.p2), x);
      case DistKind::beta:
      default:
        return boost::math::cdf(boost::math::beta_distribution<double>(a, b), (x - d.p0) / (d.p1 - d.p0));
    }
  };

  if (kind == "normal") {
    check_keys(*table, {"dist", "mean", "sd", "min", "max"}, spec.key, file);
    d.kind = DistKind::normal;
    d.p0 = t.required("mean", kind, "mean = ..., sd = ...");
    d.p1 = t.required("sd", kind, "mean = ..., sd = ...");
    t.require(d.p1 > 0, "sd", "must be > 0", "sd is the normal's standard deviation");
  } else if (kind == "lognormal") {
    check_keys(*table, {"dist", "median", "gsd", "min", "max"}, spec.key, file);
    d.kind = DistKind::lognormal;
    const double median = t.required("median", kind, "median = ..., gsd = ...");
    const double gsd = t.required("gsd", kind, "median = ..., gsd = ...");
    t.require(median > 0, "median", "must be > 0", "median is the lognormal's median");
    t.require(gsd > 1, "gsd", "must be > 1", "gsd is the geometric standard deviation, exp(sd of log x)");
    d.p0 = std::log(median);
    d.p1 = std::log(gsd);
    s.lo = 0;
  } else if (kind == "uniform") {
    check_keys(*table, {"dist", "low", "high", "min", "max"}, spec.key, file);
    d.kind = DistKind::uniform;
    d.p0 = t.required("low", kind, "low = ..., high = ...");
    d.p1 = t.required("high", kind, "low = ..., high = ...");
    t.require(d.p0 < d.p1, "low", "low >= high (" + number_text(d.p1) + ")", "a uniform needs low < high");
    s = {d.p0, d.p1, false, false};
  } else if (kind == "triangular") {
    check_keys(*table, {"dist", "low", "mode", "high", "min", "max"}, spec.key, file);
    d.kind = DistKind::triangular;
    const char* all = "low = ..., mode = ..., high = ...";
    d.p0 = t.required("low", kind, all);
    d.p1 = t.required("mode", kind, all);
    d.p2 = t.required("high", kind, all);
    t.require(d.p0 < d.p2, "low", "low >= high (" + number_text(d.p2) + ")", "a triangular needs low < high");
    t.require(d.p0 <= d.p1 && d.p1 <= d.p2, "mode",
              "outside [low, high] = [" + number_text(d.p0) + ", " + number_text(d.p2) + "]",
              "a triangular needs low <= mode <= high");
    s = {d.p0, d.p2, false, false};
  } else if (kind == "beta") {
    check_keys(*table, {"dist", "a", "b", "low", "high", "min", "max"}, spec.key, file);
    d.kind = DistKind::beta;
    a = t.required("a", kind, "a = ..., b = ... (optional low = 0, high = 1)");
    b = t.required("b", kind, "a = ..., b = ... (optional low = 0, high = 1)");
    t.require(a > 0, "a", "must be > 0", "a and b are the beta's shape parameters, both > 0");
    t.require(b > 0, "b", "must be > 0", "a and b are the beta's shape parameters, both > 0");
    d.p0 = t.optional("low", 0.0);
    d.p1 = t.optional("high", 1.0);
    t.require(d.p0 < d.p1, "low", "low >= high (" + number_text(d.p1) + ")", "a beta on [low, high] needs low < high");
    s = {d.p0, d.p1, false, false};
  } else {
    const toml::node& dn = *table->get("dist");
    fail(file_of(dn, file), spec.key + ".dist", value_text(dn), "unknown distribution",
         "dist must be one of normal, lognormal, uniform, triangular, beta");
  }

  // Truncation to [min, max]; infinite bounds mean no truncation on that side.
  const toml::node* min_node = table->get("min");
  const toml::node* max_node = table->get("max");
  double min = -INFINITY, max = INFINITY;
  if (min_node) {
    min = read_number(*min_node, spec.key + ".min", file);
    if (std::isnan(min) || min == INFINITY)
      t.require(false, "min", "not a valid lower bound", "min must be a finite number");
  }
  if (max_node) {
    max = read_number(*max_node, spec.key + ".max", file);
    if (std::isnan(max) || max == -INFINITY)
      t.require(false, "max", "not a valid upper bound", "max must be a finite number");
  }
  if (min_node && max_node) {
    t.require(min < max, "min", "min >= max (" + number_text(max) + ")", "truncation needs min < max");
  }
  try {
    d.u_lo = min_node ? cdf(min) : 0.0;
    d.u_hi = max_node ? cdf(max) : 1.0;
  } catch (const std::exception& e) {
    fail(file, spec.key, value_text(node), std::string("cannot evaluate its CDF (") + e.what() + ")",
         "check the distribution's parameters");
  }
  if (min_node || max_node) {
    if (!(d.u_hi > d.u_lo)) {
      fail(file, spec.key, value_text(node),
           "truncation to [" + number_text(min) + ", " + number_text(max) + "] leaves no probability mass",
           "min and max must bracket part of the distribution's support " + support_text(s));
    }
    d.lo = min;
    d.hi = max;
    if (min > s.lo) s = {min, s.hi, false, s.hi_open};
    if (max < s.hi) s = {s.lo, max, s.lo_open, false};
  }
  if (!within(s, spec.domain)) {
    fail(file, spec.key, value_text(node), violation_text(s, spec.domain) + " (support " + support_text(s) + ")",
         name + " " + domain_text(spec.domain) + ": " + fix_text(spec.domain));
  }

  if (d.kind == DistKind::beta) {
    try {
      d.table = betas.table_for(a, b);
    } catch (const std::exception& e) {
      fail(file, spec.key, value_text(node), std::string("cannot tabulate its quantile (") + e.what() + ")",
           "check a and b");
    }
    if (d.table < 0) {
      fail(file, spec.key, value_text(node),
           "more than " + std::to_string(kMaxTables) + " beta distributions with distinct (a, b)",
           "a scenario may use at most " + std::to_string(kMaxTables) +
               " distinct beta shapes; reuse (a, b) or use another distribution");
    }
  }
  return d;
}

}  // namespace chipcast::config
