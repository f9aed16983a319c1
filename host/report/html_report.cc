// The run's HTML report page (see html_report.h).
#include "host/report/html_report.h"

#include <fmt/format.h>

#include "host/report/plot_charts.h"
#include "host/report/svg.h"

namespace chipcast::plot {

namespace {

using svg::escape;

const char* const kStyle = R"css(
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #222; background: #fff; margin: 0 auto; max-width: 900px; padding: 24px 20px 48px; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 22px 0 8px; }
p.lede { color: #444; margin-top: 4px; }
.muted { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.95em; }
th, td { border: 1px solid #d8d8d8; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.prov td:first-child { white-space: nowrap; color: #444; }
table.prov td code { word-break: break-all; }
figure { margin: 12px 0 28px; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #666; margin-top: 4px; }
.warn { background: #fff4e5; border: 1px solid #f0b76b; padding: 8px 14px; border-radius: 4px; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 10px 12px; overflow-x: auto; font-size: 0.85em; }
details { margin: 10px 0; }
summary { cursor: pointer; font-weight: 600; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
)css";

std::string year2(double y) { return fmt::format("{:.2f}", y); }

std::string prob_text(double p) {
  if (p > 0 && p < 0.001) return "&lt;0.001";
  if (p < 1 && p > 0.999) return "&gt;0.999";
  return fmt::format("{:.3f}", p);
}

// Strips anything before the <svg element (an XML declaration, a doctype) for inlining.
std::string inline_svg(const std::string& doc) {
  const auto pos = doc.find("<svg");
  return pos == std::string::npos ? std::string() : doc.substr(pos);
}

void figure(std::string& out, const std::map<std::string, std::string>& charts, const std::string& file,
            const std::string& caption) {
  const auto it = charts.find(file);
  if (it == charts.end() || it->second.empty()) return;
  out += "<figure>\n" + inline_svg(it->second);
  out += fmt::format("<figcaption>{} (<a href=\"{}\">{}</a>)</figcaption>\n</figure>\n", escape(caption), escape(file),
                     escape(file));
}

}  // namespace

std::string html_report(const RunData& run, const std::map<std::string, std::string>& charts) {
  const std::string h = year_text(run.horizon_year);
  const std::string name = run.config_name.empty() ? run.dir.filename().string() : run.config_name;
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n";
  out += fmt::format("<title>chipcast forecast: {}</title>\n", escape(name));
  out += fmt::format("<style>{}</style>\n</head>\n<body>\n", kStyle);

  out += fmt::format("<h1>Parity forecast: {}</h1>\n", escape(name));
  std::string parity = fmt::format("domestic / foreign \u2265 {:g}", run.threshold);
  if (run.sustain > 1) parity += fmt::format(" for {} consecutive periods", run.sustain);
  out += fmt::format(
      "<p class=\"lede\">When does domestic AI-chip output match foreign output ({})? Monte Carlo over {} "
      "trajectories from {} to the horizon {}.</p>\n",
      escape(parity), run.trajectories > 0 ? svg::group_digits(run.trajectories) : std::string("?"),
      escape(year_text(run.start_year)), escape(h));

  // Headline.
  out +=
      "<h2 id=\"headline\">Headline</h2>\n<table class=\"headline\">\n<thead><tr><th>metric</th>"
      "<th>median parity year</th><th>90 % band (q05 \u2013 q95)</th>";
  out += fmt::format("<th>P(parity by {0})</th><th>P(no parity by {0})</th></tr></thead>\n<tbody>\n", escape(h));
  auto when = [&](const std::optional<double>& y) { return y ? year2(*y) : "after " + h; };
  for (const auto& m : run.metrics) {
    // A band wholly after the horizon reads "after H", not "after H – after H".
    const std::string band = m.q05 ? when(m.q05) + " \u2013 " + when(m.q95) : when(m.q05);
    const std::string se = m.p_parity_stderr && *m.p_parity_stderr > 0
                               ? fmt::format(" <span class=\"muted\">\u00B1 {:.2g}</span>", *m.p_parity_stderr)
                               : std::string();
    out += fmt::format(
        "<tr><td><a href=\"#metric-{}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}{}</td><td class=\"num\">{}</td></tr>\n",
        escape(m.name), escape(metric_label(m.name)), escape(when(m.q50)), escape(band), prob_text(m.p_parity), se,
        prob_text(m.p_no_parity));
  }
  out += "</tbody>\n</table>\n";
  out += fmt::format(
      "<p class=\"muted\">Parity year quantiles count trajectories without parity by {0} as never reaching it; "
      "\u201cafter {0}\u201d means the quantile lies beyond the horizon. \u00B1 is the Monte Carlo standard "
      "error.</p>\n",
      escape(h));

  // One warning per anomaly kind counted, naming the kind.
  std::vector<std::string> anomaly_lines;
  if (run.nan_ratios > 0)
    anomaly_lines.push_back(fmt::format(
        "{} ratio values were NaN while both levels were not (anomalies.nan_ratios in summary.json).", run.nan_ratios));
  if (run.nan_levels > 0)
    anomaly_lines.push_back(
        fmt::format("{} bloc level values were NaN (anomalies.nan_levels in summary.json).", run.nan_levels));
  if (run.lost_precision > 0)
    anomaly_lines.push_back(
        fmt::format("{} ratio values lost single precision, their levels being too large to mean anything; "
                    "crossings from them are noise (anomalies.lost_precision in summary.json).",
                    run.lost_precision));
  const size_t n_warnings = run.warnings.size() + anomaly_lines.size();
  if (n_warnings > 0)
    out += fmt::format(
        "<p class=\"warn\"><strong>This run reported {} warning{}</strong>: see "
        "<a href=\"#notes\">Notes and warnings</a>.</p>\n",
        n_warnings, n_warnings == 1 ? "" : "s");

  // Charts per metric.
  for (const auto& m : run.metrics) {
    out += fmt::format("<h2 id=\"metric-{}\">{}</h2>\n", escape(m.name), escape(metric_label(m.name)));
    figure(out, charts, "fan_" + m.name + ".svg",
           "Domestic / foreign ratio over time: pointwise 5\u201395 % and 25\u201375 % bands and the median.");
    figure(out, charts, "cdf_" + m.name + ".svg", "Probability of parity by each year, with its 95 % Wilson band.");
  }

  // Sensitivity.
  if (run.sensitivity) {
    out += "<h2 id=\"sensitivity\">Sensitivity</h2>\n";
    if (!run.sensitivity->info.empty()) {
      out += "<table class=\"prov\">\n<tbody>\n";
      for (const auto& [k, v] : run.sensitivity->info)
        out += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", escape(k), escape(v));
      out += "</tbody>\n</table>\n";
    }
    figure(out, charts, "tornado.svg", "One-at-a-time sensitivity (from sensitivity.json).");
    figure(out, charts, "sobol.svg", "Sobol first-order and total indices (from sensitivity.json).");
    if (run.sensitivity->tornado.empty() && run.sensitivity->sobol.empty())
      out += "<p class=\"muted\">sensitivity.json holds no tornado or Sobol entries.</p>\n";
  }

  // Notes.
  out += "<h2 id=\"notes\">Notes and warnings</h2>\n";
  if (run.notes.empty() && run.warnings.empty() && anomaly_lines.empty()) {
    out += "<p>None: the run reported no notes or warnings.</p>\n";
  } else {
    out += "<ul>\n";
    for (const auto& w : run.warnings) out += "<li><strong>warning:</strong> " + escape(w) + "</li>\n";
    for (const auto& a : anomaly_lines) out += "<li><strong>warning:</strong> " + escape(a) + "</li>\n";
    for (const auto& n : run.notes) out += "<li>" + escape(n) + "</li>\n";
    out += "</ul>\n";
  }
  if (!run.quantile_method.empty())
    out += "<details><summary>How the quantiles are computed</summary>\n<p>" + escape(run.quantile_method) +
           "</p>\n</details>\n";

  // Provenance.
  out += "<h2 id=\"provenance\">Provenance</h2>\n<table class=\"prov\">\n<tbody>\n";
  for (const auto& [k, v] : run.provenance) {
    const bool code = k == "Command line" || k == "Config SHA-256" || k == "Config";
    out += fmt::format("<tr><td>{}</td><td>{}{}{}</td></tr>\n", escape(k), code ? "<code>" : "", escape(v),
                       code ? "</code>" : "");
  }
  out += "</tbody>\n</table>\n";

  if (run.resolved_toml) {
    out +=
        "<details id=\"resolved\"><summary>Resolved config (<a href=\"resolved.toml\">resolved.toml</a>)</summary>\n";
    out += "<pre>" + escape(*run.resolved_toml) + "</pre>\n</details>\n";
  } else {
    out += "<p class=\"muted\">resolved.toml is missing from this folder.</p>\n";
  }

  out += "<p class=\"muted\">Files: ";
  bool first = true;
  for (const char* f : {"summary.json", "crossing.csv", "bands.csv", "resolved.toml"}) {
    out += fmt::format("{}<a href=\"{}\">{}</a>", first ? "" : ", ", f, f);
    first = false;
  }
  if (run.sensitivity) out += ", <a href=\"sensitivity.json\">sensitivity.json</a>";
  for (const auto& [file, doc] : charts)
    if (!doc.empty()) out += fmt::format(", <a href=\"{0}\">{0}</a>", escape(file));
  out += ".</p>\n";
  out += "<p class=\"muted\">" + escape(run.provenance_line) + "</p>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace chipcast::plot
