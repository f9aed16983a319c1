// Tests of host/report/plot: charts (SVG) and report.html written from a run folder — from a real
// run of the chipcast binary and from fixture files with zero / infinite quantiles and a
// sensitivity.json; well-formed XML, expected elements, escaping, rendering with rsvg-convert,
// determinism, and errors that name the bad file.
#include "host/cli/plot_command.h"
#include "host/report/plot.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "host/report/html_report.h"
#include "host/report/plot_data.h"
#include "host/report/svg.h"
#include "tests/support/cli_runner.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_command;
using testing::ScratchDir;
using testing::write_text;

// ---------------------------------------------------------------------------------------------
// A small XML well-formedness checker: balanced and properly nested tags, quoted attributes
// without '<', valid entity references, one root element. Enough to catch what a hand-written
// SVG or XHTML-style page could get wrong.

struct XmlCheck {
  std::string error;  // empty: well-formed
  std::multiset<std::string> elements;
  std::map<std::string, std::string> root_attrs;
  std::string root;
  std::string text;  // all character data, entities left as written
};

bool valid_entity(const std::string& s, size_t amp, size_t& end) {
  end = s.find(';', amp);
  if (end == std::string::npos || end - amp > 10) return false;
  const std::string name = s.substr(amp + 1, end - amp - 1);
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") return true;
  return std::regex_match(name, std::regex("#[0-9]+|#x[0-9a-fA-F]+"));
}

XmlCheck check_xml(const std::string& doc) {
  XmlCheck r;
  std::vector<std::string> stack;
  size_t i = 0;
  bool root_closed = false;
  auto fail = [&](const std::string& what) {
    r.error = what + " at offset " + std::to_string(i);
    return r;
  };
  while (i < doc.size()) {
    if (doc[i] != '<') {
      if (doc[i] == '&') {
        size_t end;
        if (!valid_entity(doc, i, end)) return fail("bad entity");
      }
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(doc[i]))) return fail("text outside the root");
      r.text += doc[i];
      ++i;
      continue;
    }
    if (doc.compare(i, 4, "<!--") == 0) {
      const size_t end = doc.find("-->", i);
      if (end == std::string::npos) return fail("unclosed comment");
      i = end + 3;
      continue;
    }
    if (doc.compare(i, 2, "<?") == 0 || doc.compare(i, 2, "<!") == 0) {
      if (!stack.empty()) return fail("declaration inside an element");
      const size_t end = doc.find('>', i);
      if (end == std::string::npos) return fail("unclosed declaration");
      i = end + 1;
      continue;
    }
    const bool closing = doc.compare(i, 2, "</") == 0;
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < doc.size() &&
           (std::isalnum(static_cast<unsigned char>(doc[j])) || doc[j] == '-' || doc[j] == ':' || doc[j] == '_'))
      ++j;
    const std::string name = doc.substr(name_start, j - name_start);
    if (name.empty()) return fail("empty tag name");
    if (closing) {
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      if (j >= doc.size() || doc[j] != '>') return fail("bad closing tag " + name);
      if (stack.empty() || stack.back() != name)
        return fail("</" + name + "> closes <" + (stack.empty() ? std::string("nothing") : stack.back()) + ">");
      stack.pop_back();
      if (stack.empty()) root_closed = true;
      i = j + 1;
      continue;
    }
    if (root_closed || (stack.empty() && !r.root.empty())) return fail("second root element " + name);
    std::map<std::string, std::string> attrs;
    bool self_closing = false;
    while (true) {
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      if (j >= doc.size()) return fail("unclosed tag " + name);
      if (doc[j] == '>') {
        ++j;
        break;
      }
      if (doc.compare(j, 2, "/>") == 0) {
        self_closing = true;
        j += 2;
        break;
      }
      const size_t an = j;
      while (j < doc.size() && doc[j] != '=' && doc[j] != '>' && !std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      const std::string attr = doc.substr(an, j - an);
      if (attr.empty() || j >= doc.size() || doc[j] != '=') return fail("attribute without value in " + name);
      ++j;
      if (j >= doc.size() || (doc[j] != '"' && doc[j] != '\'')) return fail("unquoted attribute " + attr);
      const char q = doc[j];
      const size_t end = doc.find(q, j + 1);
      if (end == std::string::npos) return fail("unterminated attribute " + attr);
      const std::string value = doc.substr(j + 1, end - j - 1);
      if (value.find('<') != std::string::npos) return fail("'<' in attribute " + attr);
      for (size_t k = value.find('&'); k != std::string::npos; k = value.find('&', k + 1)) {
        size_t e;
        if (!valid_entity(value, k, e)) return fail("bad entity in attribute " + attr);
      }
      if (attrs.count(attr)) return fail("duplicate attribute " + attr);
      attrs[attr] = value;
      j = end + 1;
    }
    if (r.root.empty()) {
      r.root = name;
      r.root_attrs = attrs;
    }
    r.elements.insert(name);
    if (!self_closing)
      stack.push_back(name);
    else if (stack.empty())
      root_closed = true;
    i = j;
  }
  if (!stack.empty()) return fail("unclosed <" + stack.back() + ">");
  if (r.root.empty()) return fail("no root element");
  return r;
}

// ---------------------------------------------------------------------------------------------
// Fixture run folder: 2026..2040 in 1-year periods; units has zero and infinite quantiles,
// compute spans 30 decades, memory never reaches parity. Text fields carry markup to escape.

std::string fixture_summary() {
  return R"({
  "trajectories": 5000,
  "seed": 7,
  "backend": "openmp",
  "backend_detail": "openmp: 4 threads",
  "config_sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "config_path": "configs/fixture <&> \"x\".toml",
  "version": "0.1.0",
  "seconds": 1.25,
  "started_utc": "2026-01-02T03:04:05Z",
  "command_line": "chipcast run 'configs/fixture <&> \"x\".toml' --out <dir>",
  "ranks": 1,
  "threads": 4,
  "run": { "start_year": 2026.0, "horizon_year": 2040.0, "dt": 1.0, "threshold": 1.0, "sustain": 2, "periods": 14 },
  "metrics": {
    "memory": { "p_parity_by_horizon": 0.0, "p_no_parity_by_horizon": 1.0, "p_parity_by_horizon_stderr": 0.0,
                "crossing_year": { "q05": null, "q50": null, "q95": null } },
    "units": { "p_parity_by_horizon": 0.7, "p_no_parity_by_horizon": 0.3, "p_parity_by_horizon_stderr": 0.0065,
               "crossing_year": { "q05": 2029.5, "q50": 2034.25, "q95": null } },
    "compute": { "p_parity_by_horizon": 0.97, "p_no_parity_by_horizon": 0.03, "p_parity_by_horizon_stderr": 0.0024,
                 "crossing_year": { "q05": 2027.0, "q50": 2031.0, "q95": 2039.5 } }
  },
  "anomalies": { "nan_ratios": 0 },
  "notes": ["band quantile clamped to 1e18 <sic> & so on"],
  "warnings": ["<script>alert('x')</script> & friends"],
  "quantile_method": "see MODEL.md"
})";
}

std::string fmt_csv_row(const std::string& metric, double year, double p, double se) {
  return fmt::format("{},{:.4f},{:.10g},{:.10g},{:.10g},{:.10g}\n", metric, year, p, se,
                     std::max(0.0, p - 2 * se - 0.01), std::min(1.0, p + 2 * se + 0.01));
}

void write_fixture(const fs::path& dir, bool with_sensitivity) {
  write_text(dir / "summary.json", fixture_summary());
  std::string crossing = "metric,year,p_crossed,stderr,lo95,hi95\n";
  std::string bands = "metric,series,year,q05,q25,q50,q75,q95\n";
  for (int k = 1; k <= 14; ++k) {
    const double year = 2026 + k;
    const double pu = 0.7 / (1 + std::exp(-(year - 2033) / 1.5));
    const double pc = std::min(0.97, 0.07 * k);
    for (const auto& [m, p] :
         std::vector<std::pair<std::string, double>>{{"units", pu}, {"compute", pc}, {"memory", 0.0}}) {
      const double se = std::sqrt(p * (1 - p) / 5000);
      crossing += fmt_csv_row(m, year, p, se);
    }
    // units: q05 = 0 early, q95 = inf late.
    const double mid = 0.1 * std::pow(1.35, k);
    bands += "units,ratio," + std::to_string(year) + "," + (k <= 3 ? std::string("0") : std::to_string(mid / 20)) +
             "," + std::to_string(mid / 3) + "," + std::to_string(mid) + "," + std::to_string(mid * 3) + "," +
             (k >= 11 ? std::string("inf") : std::to_string(mid * 20)) + "\n";
    bands += "compute,ratio," + std::to_string(year) + ",1e-12," + std::to_string(0.3 * k / 10) + "," +
             std::to_string(0.6 * k / 5) + "," + std::to_string(2.0 * k) + ",1e+18\n";
    bands += "memory,ratio," + std::to_string(year) + ",0.5,0.5,0.5,0.5,0.5\n";
    for (const char* m : {"units", "compute", "memory"}) {
      bands += std::string(m) + ",domestic," + std::to_string(year) + ",1,2,3,4,5\n";
      bands += std::string(m) + ",foreign," + std::to_string(year) + ",10,20,30,40,nan\n";
    }
  }
  write_text(dir / "crossing.csv", crossing);
  write_text(dir / "bands.csv", bands);
  write_text(dir / "resolved.toml", "[run]\nseed = 7\nname = \"<b>&amp; 'x'</b>\"\n");
  if (with_sensitivity)
    write_text(dir / "sensitivity.json", R"({
  "method": "Saltelli / Jansen",
  "samples": 4096,
  "output": "parity_year:units",
  "indices": [
    { "parameter": "domestic.wafers0", "first": 0.42, "first_ci95": [0.38, 0.46], "total": 0.51, "total_ci95": [0.47, 0.55] },
    { "parameter": "domestic.wafer_growth", "first": 0.21, "first_ci95": [0.18, 0.24], "total": 0.30, "total_ci95": [0.26, 0.34] },
    { "parameter": "foreign.perf_growth", "first": 0.08, "first_ci95": [0.05, 0.11], "total": 0.12, "total_ci95": [0.09, 0.15] },
    { "parameter": "policy.<export> & \"controls\"", "first": -0.01, "first_ci95": [-0.03, 0.01], "total": 0.02, "total_ci95": [0.0, 0.04] },
    { "parameter": "domestic.yield_max", "first": 0.05, "first_ci95": null, "total": 0.07 }
  ],
  "tornado": [
    { "parameter": "domestic.wafers0", "low": 2037.5, "high": 2031.0, "base": 2034.25, "output": "parity_year:units" },
    { "parameter": "domestic.wafer_growth", "low": null, "high": 2032.0, "base": 2034.25, "output": "parity_year:units" },
    { "parameter": "foreign.perf_growth", "low": 2033.0, "high": 2035.5, "base": 2034.25, "output": "parity_year:units" },
    { "parameter": "domestic.yield_max", "low": 2034.0, "high": 2034.0, "base": 2034.25, "output": "parity_year:units" },
    { "parameter": "domestic.wafers0", "low": 2033.0, "high": 2029.5, "base": 2031.0, "output": "parity_year:compute" },
    { "parameter": "foreign.perf_growth", "low": 2030.0, "high": 2032.75, "base": 2031.0, "output": "parity_year:compute" }
  ]
})");
}

// Keeps the folder's files when CHIPCAST_PLOT_KEEP names a folder (to look at the charts).
void keep(const fs::path& dir, const std::string& name) {
  const char* to = std::getenv("CHIPCAST_PLOT_KEEP");
  if (!to || !*to) return;
  const fs::path dest = fs::path(to) / name;
  fs::remove_all(dest);
  fs::create_directories(dest);
  fs::copy(dir, dest, fs::copy_options::recursive);
}

std::set<std::string> names(const std::vector<fs::path>& files) {
  std::set<std::string> out;
  for (const auto& f : files) out.insert(f.filename().string());
  return out;
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Common checks of one chart file: well-formed SVG root with a viewBox and a title.
XmlCheck check_svg(const fs::path& file) {
  const std::string doc = read_text(file);
  EXPECT_GT(doc.size(), 1000u) << file;
  XmlCheck x = check_xml(doc);
  EXPECT_EQ(x.error, "") << file;
  EXPECT_EQ(x.root, "svg") << file;
  EXPECT_EQ(x.root_attrs["xmlns"], "http://www.w3.org/2000/svg") << file;
  EXPECT_TRUE(std::regex_match(x.root_attrs["viewBox"], std::regex("0 0 [0-9.]+ [0-9.]+"))) << file;
  EXPECT_EQ(x.elements.count("title"), 1u) << file;
  EXPECT_GE(x.elements.count("text"), 10u) << file;
  EXPECT_NE(doc.find("Source: chipcast 0.1.0"), std::string::npos) << file;  // provenance line
  return x;
}

// ---------------------------------------------------------------------------------------------

TEST(PlotTest, ChartsAndReportFromARealRun) {
  ScratchDir dir("plot-real");
  const auto run = run_command(std::string(CHIPCAST_EXE) +
                               " run " CHIPCAST_SOURCE_DIR "/tests/config/data/minimal.toml -n 3000 -q --out " +
                               dir.path().string());
  ASSERT_EQ(run.status, 0) << run.output;
  const auto files = write_plots(dir.path());
  EXPECT_EQ(names(files), (std::set<std::string>{"fan_units.svg", "cdf_units.svg", "fan_compute.svg", "cdf_compute.svg",
                                                 "fan_memory.svg", "cdf_memory.svg", "report.html"}));
  EXPECT_EQ(files.back().filename(), "report.html");
  for (const auto& f : files) {
    EXPECT_TRUE(fs::is_regular_file(f)) << f;
    EXPECT_GT(fs::file_size(f), 0u) << f;
    EXPECT_EQ(f.parent_path(), dir.path());
  }
  EXPECT_FALSE(fs::exists(dir / "tornado.svg"));
  EXPECT_FALSE(fs::exists(dir / "sobol.svg"));

  for (const char* metric : {"units", "compute", "memory"}) {
    const fs::path fan = dir / (std::string("fan_") + metric + ".svg");
    const XmlCheck x = check_svg(fan);
    const std::string doc = read_text(fan);
    EXPECT_EQ(count(doc, "class=\"band\""), 2) << fan;  // 5-95 and 25-75
    EXPECT_EQ(count(doc, "class=\"median\""), 1) << fan;
    EXPECT_EQ(count(doc, "class=\"parity\""), 1) << fan;
    EXPECT_EQ(x.elements.count("polygon"), 2u) << fan;
    EXPECT_NE(x.text.find("year (end of period)"), std::string::npos) << fan;
    EXPECT_NE(x.text.find("domestic / foreign (log scale)"), std::string::npos) << fan;
    EXPECT_NE(x.text.find("parity: ratio = 1"), std::string::npos) << fan;
    EXPECT_NE(x.text.find("2030"), std::string::npos) << fan;   // a year tick label
    EXPECT_EQ(doc.find("top edge"), std::string::npos) << fan;  // nothing clipped in this run

    const fs::path cdf = dir / (std::string("cdf_") + metric + ".svg");
    const XmlCheck y = check_svg(cdf);
    const std::string cdoc = read_text(cdf);
    EXPECT_EQ(count(cdoc, "class=\"band\""), 1) << cdf;
    EXPECT_EQ(count(cdoc, "class=\"cdf\""), 1) << cdf;
    EXPECT_NE(y.text.find("P(no parity by 2036) = "), std::string::npos) << cdf;
    EXPECT_NE(y.text.find("q50 after 2036"), std::string::npos) << cdf;  // no metric reaches parity's median
  }

  const std::string html = read_text(dir / "report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(check_xml(html).error, "");
  EXPECT_EQ(count(html, "<svg "), 6);
  EXPECT_NE(html.find("<details id=\"resolved\">"), std::string::npos);
  EXPECT_NE(html.find("Provenance"), std::string::npos);
  EXPECT_NE(html.find("3,000"), std::string::npos);
  EXPECT_NE(html.find(read_text(dir / "resolved.toml").substr(0, 20)), std::string::npos);
  keep(dir.path(), "real");
}

TEST(PlotTest, FixtureWithZeroAndInfiniteQuantilesAndSensitivity) {
  ScratchDir dir("plot-fixture");
  write_fixture(dir.path(), true);
  const auto files = write_plots(dir.path());
  EXPECT_EQ(names(files),
            (std::set<std::string>{"fan_units.svg", "cdf_units.svg", "fan_compute.svg", "cdf_compute.svg",
                                   "fan_memory.svg", "cdf_memory.svg", "tornado.svg", "sobol.svg", "report.html"}));
  // Metrics in the order units, compute, memory whatever the order in summary.json.
  EXPECT_EQ(files[0].filename(), "fan_units.svg");
  EXPECT_EQ(files[2].filename(), "fan_compute.svg");
  EXPECT_EQ(files[4].filename(), "fan_memory.svg");
  for (const auto& f : files)
    if (f.extension() == ".svg") check_svg(f);

  // Zero and infinite quantiles are clipped to the edges and said so.
  const XmlCheck fu = check_xml(read_text(dir / "fan_units.svg"));
  EXPECT_NE(fu.text.find("drawn at the bottom edge"), std::string::npos);
  EXPECT_NE(fu.text.find("q05 in 3 periods"), std::string::npos);
  EXPECT_NE(fu.text.find("drawn at the top edge"), std::string::npos);
  EXPECT_NE(fu.text.find("q95 in 4 periods"), std::string::npos);
  EXPECT_NE(fu.text.find("median parity year 2034.25"), std::string::npos);
  // 30 decades of compute quantiles: the axis keeps at most 12 and notes the clipping.
  const XmlCheck fc = check_xml(read_text(dir / "fan_compute.svg"));
  EXPECT_NE(fc.text.find("outside the plotting range"), std::string::npos);
  EXPECT_EQ(read_text(dir / "fan_compute.svg").find("nan"), std::string::npos);
  // A constant ratio still gets a usable axis.
  EXPECT_NE(check_xml(read_text(dir / "fan_memory.svg")).text.find("parity: ratio = 1"), std::string::npos);

  const XmlCheck cu = check_xml(read_text(dir / "cdf_units.svg"));
  EXPECT_NE(cu.text.find("q05 = 2029.50"), std::string::npos);
  EXPECT_NE(cu.text.find("q50 = 2034.25"), std::string::npos);
  EXPECT_NE(cu.text.find("q95 after 2040"), std::string::npos);
  EXPECT_NE(cu.text.find("P(no parity by 2040) = 0.300"), std::string::npos);
  EXPECT_EQ(count(read_text(dir / "cdf_units.svg"), "class=\"quantile\""), 2);
  EXPECT_EQ(count(read_text(dir / "cdf_compute.svg"), "class=\"quantile\""), 3);
  EXPECT_EQ(count(read_text(dir / "cdf_memory.svg"), "class=\"quantile\""), 0);

  // Tornado: both outputs, sorted by swing, null drawn to the horizon.
  const std::string tornado = read_text(dir / "tornado.svg");
  const XmlCheck t = check_xml(tornado);
  EXPECT_NE(t.text.find("parity year (units)"), std::string::npos);
  EXPECT_NE(t.text.find("parity year (compute)"), std::string::npos);
  EXPECT_NE(t.text.find("after 2040"), std::string::npos);
  EXPECT_EQ(count(tornado, "class=\"low\""), 6);
  EXPECT_EQ(count(tornado, "class=\"high\""), 6);
  const size_t growth = tornado.find(">domestic.wafer_growth<"), wafers = tornado.find(">domestic.wafers0<"),
               yield = tornado.find(">domestic.yield_max<");
  ASSERT_NE(growth, std::string::npos);
  EXPECT_LT(growth, wafers);  // swing 8 (to the horizon) before 6.5
  EXPECT_LT(wafers, yield);   // ... before 0

  // Sobol: grouped bars with whiskers where CIs are given; markup in names escaped.
  const std::string sobol = read_text(dir / "sobol.svg");
  const XmlCheck s = check_xml(sobol);
  EXPECT_EQ(count(sobol, "class=\"first\""), 5);
  EXPECT_EQ(count(sobol, "class=\"total\""), 5);
  EXPECT_EQ(count(sobol, "class=\"whisker\""), 3 * 8);  // 8 intervals, 3 lines each
  EXPECT_NE(sobol.find("policy.&lt;export&gt; &amp; &quot;controls&quot;"), std::string::npos);
  EXPECT_NE(s.text.find("sum of first-order indices = 0.75"), std::string::npos);
  EXPECT_LT(sobol.find(">domestic.wafers0<"), sobol.find(">domestic.wafer_growth<"));

  // The report: escaped text, inlined charts, headline, provenance, resolved.toml.
  const std::string html = read_text(dir / "report.html");
  EXPECT_EQ(check_xml(html).error, "");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends"), std::string::npos);
  EXPECT_NE(html.find("band quantile clamped to 1e18 &lt;sic&gt; &amp; so on"), std::string::npos);
  EXPECT_NE(html.find("name = &quot;&lt;b&gt;&amp;amp; &#39;x&#39;&lt;/b&gt;&quot;"), std::string::npos);
  EXPECT_NE(html.find("configs/fixture &lt;&amp;&gt; &quot;x&quot;.toml"), std::string::npos);
  EXPECT_EQ(count(html, "<svg "), 8);
  EXPECT_NE(html.find("2034.25"), std::string::npos);
  EXPECT_NE(html.find("2029.50 \u2013 after 2040"), std::string::npos);
  EXPECT_EQ(html.find("after 2040 \u2013 after 2040"), std::string::npos);  // memory: "after 2040"
  EXPECT_NE(html.find("<td>openmp: 4 threads</td>"), std::string::npos);
  EXPECT_NE(html.find("This run reported 1 warning"), std::string::npos);
  EXPECT_NE(html.find("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), std::string::npos);
  EXPECT_NE(html.find("2026-01-02T03:04:05Z"), std::string::npos);
  EXPECT_NE(html.find("Saltelli / Jansen"), std::string::npos);
  for (const char* key : {"Trajectories", "Seed", "Backend", "Config SHA-256", "chipcast version", "Run time",
                          "Started (UTC)", "Command line"})
    EXPECT_NE(html.find(std::string("<td>") + key + "</td>"), std::string::npos) << key;
  // Ids of inlined charts do not collide.
  std::set<std::string> ids;
  const std::regex id_re("id=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id_re); it != std::sregex_iterator(); ++it)
    EXPECT_TRUE(ids.insert((*it)[1]).second) << "duplicate id " << (*it)[1];
  keep(dir.path(), "fixture");
}

// report.html names each anomaly kind summary.json counts, one warning each.
TEST(PlotTest, ReportNamesEachAnomalyKind) {
  ScratchDir dir("plot-anomalies");
  write_fixture(dir.path(), false);
  std::string summary = fixture_summary();
  const std::string none = R"("anomalies": { "nan_ratios": 0 })";
  ASSERT_NE(summary.find(none), std::string::npos);
  summary.replace(summary.find(none), none.size(),
                  R"("anomalies": { "nan_ratios": 7, "nan_levels": 11, "lost_precision": 13 })");
  write_text(dir / "summary.json", summary);
  const plot::RunData run = plot::load_run(dir.path());
  EXPECT_EQ(run.nan_ratios, 7);
  EXPECT_EQ(run.nan_levels, 11);
  EXPECT_EQ(run.lost_precision, 13);
  const std::string html = plot::html_report(run, {});
  EXPECT_NE(html.find("7 ratio values were NaN while both levels were not (anomalies.nan_ratios"), std::string::npos);
  EXPECT_NE(html.find("11 bloc level values were NaN (anomalies.nan_levels"), std::string::npos);
  EXPECT_NE(html.find("13 ratio values lost single precision"), std::string::npos);
  EXPECT_NE(html.find("This run reported 4 warnings"), std::string::npos)
      << "the fixture's one warning and three kinds";
}

TEST(PlotTest, SensitivityChartsOnlyForWhatTheFileHolds) {
  ScratchDir dir("plot-sens");
  write_fixture(dir.path(), false);
  // A bare list of indices (no tornado).
  write_text(
      dir / "sensitivity.json",
      R"([{ "parameter": "domestic.wafers0", "first": 0.4, "first_ci95": [0.3, 0.5], "total": 0.5, "total_ci95": [0.4, 0.6] }])");
  auto files = names(write_plots(dir.path()));
  EXPECT_TRUE(files.count("sobol.svg"));
  EXPECT_FALSE(files.count("tornado.svg"));
  fs::remove(dir / "sobol.svg");
  write_text(
      dir / "sensitivity.json",
      R"({ "tornado": [ { "parameter": "a", "low": 2030, "high": 2035, "base": 2032, "output": "parity_year:units" } ] })");
  files = names(write_plots(dir.path()));
  EXPECT_TRUE(files.count("tornado.svg"));
  EXPECT_FALSE(files.count("sobol.svg"));
  EXPECT_FALSE(fs::exists(dir / "sobol.svg"));
}

TEST(PlotTest, RendersWithRsvgConvert) {
  ScratchDir dir("plot-render");
  write_fixture(dir.path(), true);
  const auto files = write_plots(dir.path());
  if (run_command("command -v rsvg-convert").status != 0)
    GTEST_SKIP() << "rsvg-convert not installed (Debian package librsvg2-bin): rendering not checked";
  for (const auto& f : files) {
    if (f.extension() != ".svg") continue;
    const fs::path png = dir / (f.stem().string() + ".png");
    const auto r = run_command("rsvg-convert -o '" + png.string() + "' '" + f.string() + "'");
    ASSERT_EQ(r.status, 0) << f << ": " << r.output;
    // A one-colour 820-px-wide PNG compresses to well under 5 KB; charts are tens of KB.
    ASSERT_TRUE(fs::is_regular_file(png)) << png;
    EXPECT_GT(fs::file_size(png), 8000u) << png;
    const std::string bytes = read_text(png);
    ASSERT_GE(bytes.size(), 24u);
    EXPECT_EQ(bytes.substr(1, 3), "PNG");
    const auto be32 = [&](size_t at) {
      return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
             (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
             (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
             static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
    };
    EXPECT_EQ(be32(16), 820u) << png;  // IHDR width: the SVG's width
    EXPECT_GT(be32(20), 300u) << png;  // IHDR height
  }
}

TEST(PlotTest, DeterministicAndAtomic) {
  ScratchDir dir("plot-det");
  write_fixture(dir.path(), true);
  const auto files = write_plots(dir.path());
  std::map<fs::path, std::string> first;
  for (const auto& f : files) first[f] = read_text(f);
  EXPECT_EQ(write_plots(dir.path()), files);
  for (const auto& f : files) EXPECT_EQ(read_text(f), first[f]) << f;
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

// Runs write_plots on a broken folder and returns the error message ("" if none).
std::string error_of(const fs::path& dir) {
  try {
    write_plots(dir);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(PlotTest, ErrorsNameTheBadFile) {
  ScratchDir dir("plot-err");
  EXPECT_NE(error_of(dir / "nope").find("nope"), std::string::npos);

  write_fixture(dir.path(), false);
  fs::remove(dir / "summary.json");
  std::string e = error_of(dir.path());
  EXPECT_NE(e.find("summary.json"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;

  write_text(dir / "summary.json", "{ not json");
  e = error_of(dir.path());
  EXPECT_NE(e.find("summary.json: not valid JSON"), std::string::npos) << e;

  std::string s = fixture_summary();
  s.replace(s.find("\"threshold\": 1.0, "), 18, "");
  write_text(dir / "summary.json", s);
  e = error_of(dir.path());
  EXPECT_NE(e.find("summary.json: missing key run.threshold"), std::string::npos) << e;

  s = fixture_summary();
  s.replace(s.find("\"q50\": 2034.25"), 14, "\"q50\": \"soon\"");
  write_text(dir / "summary.json", s);
  e = error_of(dir.path());
  EXPECT_NE(e.find("metrics.units.crossing_year.q50"), std::string::npos) << e;

  write_text(dir / "summary.json", fixture_summary());
  std::string bands = read_text(dir / "bands.csv");
  const std::string good = bands;
  const size_t third_line = bands.find('\n', bands.find('\n') + 1) + 1;
  bands.replace(bands.find(",0.5,", third_line), 5, ",zero,");
  write_text(dir / "bands.csv", bands);
  e = error_of(dir.path());
  EXPECT_NE(e.find("bands.csv"), std::string::npos) << e;
  EXPECT_NE(e.find("'zero' is not a number"), std::string::npos) << e;
  EXPECT_NE(e.find("line "), std::string::npos) << e;

  write_text(dir / "bands.csv", "metric,series,year,q05,q25,q50,q75\n");
  e = error_of(dir.path());
  EXPECT_NE(e.find("bands.csv: no column 'q95'"), std::string::npos) << e;

  write_text(dir / "bands.csv", good);
  std::string crossing = read_text(dir / "crossing.csv");
  std::string no_memory;
  for (size_t p = 0; p < crossing.size();) {
    const size_t n = crossing.find('\n', p);
    const std::string line = crossing.substr(p, n - p + 1);
    if (line.rfind("memory,", 0) != 0) no_memory += line;
    p = n + 1;
  }
  write_text(dir / "crossing.csv", no_memory);
  e = error_of(dir.path());
  EXPECT_NE(e.find("crossing.csv: no rows for metric memory"), std::string::npos) << e;
  write_text(dir / "crossing.csv", crossing);

  write_text(dir / "sensitivity.json", R"({ "tornado": [ { "low": 1 } ] })");
  e = error_of(dir.path());
  EXPECT_NE(e.find("sensitivity.json"), std::string::npos) << e;
  EXPECT_NE(e.find("tornado[0].parameter"), std::string::npos) << e;
  write_text(dir / "sensitivity.json", R"([ { "parameter": "a", "first": "big" } ])");
  e = error_of(dir.path());
  EXPECT_NE(e.find("sensitivity.json"), std::string::npos) << e;

  // Nothing was written by the failed calls.
  EXPECT_FALSE(fs::exists(dir / "report.html"));
  EXPECT_FALSE(fs::exists(dir / "fan_units.svg"));

  fs::remove(dir / "sensitivity.json");
  EXPECT_EQ(error_of(dir.path()), "");
}

TEST(PlotTest, CmdPlotPrintsFilesOrError) {
  ScratchDir dir("plot-cmd");
  write_fixture(dir.path(), false);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(cli::cmd_plot(dir.path().string()), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find((dir / "report.html").string() + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find((dir / "fan_units.svg").string() + "\n"), std::string::npos) << out;

  fs::remove(dir / "crossing.csv");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cli::cmd_plot(dir.path().string()), 3);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
  EXPECT_NE(err.find("crossing.csv"), std::string::npos) << err;
}

TEST(PlotTest, XmlCheckerCatchesMistakes) {
  EXPECT_EQ(check_xml("<svg a=\"1\"><g/><text>x &amp; y</text></svg>").error, "");
  for (const char* bad : {"<svg><g></svg>", "<svg a=1/>", "<svg>&foo;</svg>", "<svg>a < b</svg>", "<svg/><svg/>",
                          "<svg a=\"<\"/>", "<svg><g>", "text"})
    EXPECT_NE(check_xml(bad).error, "") << bad;
}

TEST(PlotTest, NumbersEscapingAndTicks) {
  double v = 0;
  EXPECT_TRUE(plot::parse_number("inf", v));
  EXPECT_TRUE(std::isinf(v) && v > 0);
  EXPECT_TRUE(plot::parse_number("-Inf", v));
  EXPECT_TRUE(std::isinf(v) && v < 0);
  EXPECT_TRUE(plot::parse_number("nan", v));
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(plot::parse_number(" 1.5e-3\r", v));
  EXPECT_DOUBLE_EQ(v, 1.5e-3);
  EXPECT_TRUE(plot::parse_number("+2", v));
  EXPECT_DOUBLE_EQ(v, 2);
  EXPECT_TRUE(plot::parse_number("0", v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(plot::parse_number("1e999", v));
  EXPECT_TRUE(std::isinf(v));
  for (const char* bad : {"", "abc", "1.2.3", "1,5", "--1", "inff"}) EXPECT_FALSE(plot::parse_number(bad, v)) << bad;

  EXPECT_EQ(svg::escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(svg::escape("x\x01y\rz\n"), "xyz\n");            // control characters dropped
  EXPECT_EQ(svg::escape("ok \xff!"), "ok \xEF\xBF\xBD!");    // invalid UTF-8 replaced
  EXPECT_EQ(svg::escape("\u2013 \u00B7"), "\u2013 \u00B7");  // valid UTF-8 kept

  EXPECT_EQ(svg::decade_label(-2, true), "0.01");
  EXPECT_EQ(svg::decade_label(3, true), "1000");
  EXPECT_EQ(svg::decade_label(0, false), "1");
  EXPECT_EQ(svg::decade_label(-6, false), "10\u207B\u2076");
  EXPECT_EQ(svg::decade_label(12, false), "10\u00B9\u00B2");

  const auto t = svg::nice_ticks(2026, 2060, 8);
  EXPECT_EQ(t.step, 5);
  EXPECT_EQ(t.values.front(), 2030);
  EXPECT_EQ(t.values.back(), 2060);
  EXPECT_EQ(svg::tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(svg::tick_label(2040, 5), "2040");
  EXPECT_EQ(svg::group_digits(1234567), "1,234,567");
  EXPECT_EQ(svg::num(1.0 / 3), "0.33");
  EXPECT_EQ(svg::num(-0.001), "0");
}

}  // namespace
}  // namespace chipcast
