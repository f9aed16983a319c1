// The report's charts, hand-written SVG (see plot_charts.h).
#include "host/report/plot_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "host/report/svg.h"

namespace chipcast::plot {

namespace {

using svg::Canvas;
using svg::Points;

constexpr double kWidth = 820;
constexpr double kMarginX = 16;  // title, notes and provenance start here
constexpr double kLeft = 84;     // plot area of the time charts
constexpr double kRight = 30;
constexpr double kMaxDecades = 12;  // the fan chart's y-axis spans at most this many decades

const char* const kMuted = "#555555";
const char* const kGrid = "#e4e4e4";
const char* const kAxis = "#444444";
const char* const kParity = "#c62828";
// White outline behind text drawn over data, so it stays legible.
const char* const kHalo = "stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\"";

struct Area {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

std::string year2(double y) { return fmt::format("{:.2f}", y); }

std::string prob_text(double p) {
  if (std::isnan(p)) return "n/a";
  if (p > 0 && p < 0.001) return "<0.001";
  if (p < 1 && p > 0.999) return ">0.999";
  return fmt::format("{:.3f}", p);
}

std::string traj_text(const RunData& run) {
  return run.trajectories > 0 ? svg::group_digits(run.trajectories) : std::string("?");
}

// Title (bold) and wrapped subtitle; returns the y below them.
double header(Canvas& c, const std::string& title, const std::string& subtitle) {
  c.text(kMarginX, 28, title, "font-size=\"17\" font-weight=\"bold\" fill=\"#111\"");
  double y = 28;
  for (const auto& line : svg::wrap(subtitle, 12, c.width() - 2 * kMarginX)) {
    y += 17;
    c.text(kMarginX, y, line, fmt::format("font-size=\"12\" fill=\"{}\"", kMuted));
  }
  return y + 8;
}

struct LegendItem {
  enum Kind { kBand, kLine, kMarker } kind;
  std::string style;  // fill for kBand; stroke attributes for kLine; circle attributes for kMarker
  std::string label;
};

// One or more rows of legend items starting at (x, y); returns the y below them.
double legend(Canvas& c, double x0, double y, const std::vector<LegendItem>& items) {
  const double font = 11.5, swatch = 24, gap = 18, row_h = 18;
  const double max_x = c.width() - kMarginX;
  double x = x0;
  y += 12;
  for (const auto& it : items) {
    const double w = swatch + 6 + svg::text_width(it.label, font);
    if (x > x0 && x + w > max_x) {
      x = x0;
      y += row_h;
    }
    switch (it.kind) {
      case LegendItem::kBand:
        c.rect(x, y - 9, swatch, 11, fmt::format("fill=\"{}\" stroke=\"none\"", it.style));
        break;
      case LegendItem::kLine:
        c.line(x, y - 3.5, x + swatch, y - 3.5, it.style);
        break;
      case LegendItem::kMarker:
        c.circle(x + swatch / 2, y - 3.5, 4, it.style);
        break;
    }
    c.text(x + swatch + 6, y, it.label, fmt::format("font-size=\"{}\"", font));
    x += w + gap;
  }
  return y + 8;
}

// Notes (wrapped, one bullet each) and the provenance line; returns the document height.
double footer(Canvas& c, double y, const std::vector<std::string>& notes, const std::string& provenance) {
  const double width = c.width() - 2 * kMarginX - 12;
  for (const auto& note : notes) {
    bool first = true;
    for (const auto& line : svg::wrap(note, 11, width)) {
      y += 15;
      if (first) c.text(kMarginX, y, "\u2022", fmt::format("font-size=\"11\" fill=\"{}\"", kMuted));
      c.text(kMarginX + 12, y, line, "font-size=\"11\" fill=\"#333\"");
      first = false;
    }
  }
  y += 8;
  c.line(kMarginX, y, c.width() - kMarginX, y, "stroke=\"#dddddd\" stroke-width=\"1\"");
  for (const auto& line : svg::wrap(provenance, 10, c.width() - 2 * kMarginX)) {
    y += 14;
    c.text(kMarginX, y, line, "font-size=\"10\" fill=\"#777\"");
  }
  return y + 10;
}

// Vertical grid lines, ticks and labels of a year axis under `a`, plus its title.
void year_axis(Canvas& c, const Area& a, double x0, double x1, const std::string& title) {
  const auto ticks = svg::nice_ticks(x0, x1, 8);
  for (const double t : ticks.values) {
    const double x = a.left + (t - x0) / (x1 - x0) * a.width;
    c.line(x, a.top, x, a.bottom(), fmt::format("stroke=\"{}\" stroke-width=\"1\"", kGrid));
    c.line(x, a.bottom(), x, a.bottom() + 5, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kAxis));
    c.text(x, a.bottom() + 18, svg::tick_label(t, ticks.step), "text-anchor=\"middle\" font-size=\"11\"");
  }
  c.text(a.left + a.width / 2, a.bottom() + 36, title, "text-anchor=\"middle\" font-size=\"12\"");
}

// The plot frame's left and bottom axis lines.
void axis_lines(Canvas& c, const Area& a) {
  const std::string s = fmt::format("stroke=\"{}\" stroke-width=\"1.2\"", kAxis);
  c.line(a.left, a.top, a.left, a.bottom(), s);
  c.line(a.left, a.bottom(), a.right(), a.bottom(), s);
}

std::string plural(long long n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// Truncates a label to fit `max_width` px, ending it with an ellipsis.
std::string fit_label(const std::string& s, double font, double max_width) {
  if (svg::text_width(s, font) <= max_width) return s;
  std::string out = s;
  while (!out.empty() && svg::text_width(out + "\u2026", font) > max_width) {
    out.pop_back();
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  }
  return out + "\u2026";
}

}  // namespace

std::string metric_label(const std::string& metric) {
  if (metric == "units") return "Units (accelerators)";
  if (metric == "compute") return "Compute (H100-equivalents)";
  if (metric == "memory") return "Memory (GB of HBM)";
  std::string s = metric;
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Fan chart of the ratio.

std::string fan_chart(const RunData& run, const MetricData& m) {
  const std::string thr = fmt::format("{:g}", run.threshold);
  const std::string title = metric_label(m.name) + ": domestic / foreign output";
  const std::string subtitle = fmt::format(
      "Ratio of domestic to foreign {} output per period: pointwise quantiles over {} trajectories at each "
      "period end (log scale). Parity: ratio \u2265 {}{}.",
      m.name, traj_text(run), thr,
      run.sustain > 1 ? fmt::format(" for {} consecutive periods", run.sustain) : std::string());
  Canvas c(kWidth, "fan-" + m.name, title,
           "Fan chart of the domestic/foreign ratio of " + m.name + " over time with 5-95 % and 25-75 % bands.");
  double y = header(c, title, subtitle);

  std::vector<LegendItem> items = {
      {LegendItem::kBand, "#c6dbef", "5\u201395 % band"},
      {LegendItem::kBand, "#6baed6", "25\u201375 % band"},
      {LegendItem::kLine, "stroke=\"#08306b\" stroke-width=\"2.2\"", "median"},
      {LegendItem::kLine, fmt::format("stroke=\"{}\" stroke-width=\"1.6\" stroke-dasharray=\"7 4\"", kParity),
       fmt::format("parity (ratio = {})", thr)},
  };
  if (m.q50)
    items.push_back(
        {LegendItem::kLine, "stroke=\"#555\" stroke-width=\"1.3\" stroke-dasharray=\"2 3\"", "median parity year"});
  y = legend(c, kMarginX, y, items);

  const Area a{kLeft, y + 10, kWidth - kLeft - kRight, 330};
  const double x0 = run.start_year, x1 = run.horizon_year;

  // The y range in decades: what holds the 25-75 % band, the median and the parity line, widened
  // to the 5-95 % band up to kMaxDecades.
  const double inf = std::numeric_limits<double>::infinity();
  double core_min = std::log10(run.threshold), core_max = core_min, full_min = inf, full_max = -inf;
  for (const auto& r : m.ratio)
    for (int i = 0; i < 5; ++i) {
      const double v = r.q[i];
      if (!(v > 0) || !std::isfinite(v)) continue;
      const double l = std::log10(v);
      full_min = std::min(full_min, l);
      full_max = std::max(full_max, l);
      if (i >= 1 && i <= 3) {
        core_min = std::min(core_min, l);
        core_max = std::max(core_max, l);
      }
    }
  full_min = std::min(full_min, core_min);
  full_max = std::max(full_max, core_max);
  int lo = static_cast<int>(std::floor(core_min - 0.03)), hi = static_cast<int>(std::ceil(core_max + 0.03));
  const int want_lo = static_cast<int>(std::floor(full_min - 0.03)),
            want_hi = static_cast<int>(std::ceil(full_max + 0.03));
  while ((lo > want_lo || hi < want_hi) && hi - lo < kMaxDecades) {
    if (lo > want_lo) --lo;
    if (hi < want_hi && hi - lo < kMaxDecades) ++hi;
  }
  while (hi - lo < 2) {
    --lo;
    if (hi - lo < 2) ++hi;
  }
  const double dlo = lo, dhi = hi;
  auto px = [&](double year) { return a.left + (std::clamp(year, x0, x1) - x0) / (x1 - x0) * a.width; };
  auto py_log = [&](double l) { return a.bottom() - (std::clamp(l, dlo, dhi) - dlo) / (dhi - dlo) * a.height; };
  auto py = [&](double v) {
    if (std::isnan(v) || v <= 0) return py_log(dlo);
    if (std::isinf(v)) return py_log(dhi);
    return py_log(std::log10(v));
  };

  // Clipping census for the note.
  static const char* const kQ[5] = {"q05", "q25", "q50", "q75", "q95"};
  std::array<long long, 5> zeros{}, infs{}, nans{};
  long long beyond = 0;
  for (const auto& r : m.ratio)
    for (int i = 0; i < 5; ++i) {
      const double v = r.q[i];
      if (std::isnan(v))
        ++nans[i];
      else if (v <= 0)
        ++zeros[i];
      else if (std::isinf(v))
        ++infs[i];
      else if (std::log10(v) < dlo - 1e-9 || std::log10(v) > dhi + 1e-9)
        ++beyond;
    }
  auto census = [&](const std::array<long long, 5>& counts) {
    std::string s;
    for (int i = 0; i < 5; ++i)
      if (counts[i] > 0)
        s += fmt::format("{}{} in {}", s.empty() ? "" : ", ", kQ[i], plural(counts[i], "period", "periods"));
    return s;
  };

  // Grid and decade ticks.
  const bool plain = lo >= -3 && hi <= 4;
  const int label_every = hi - lo > 8 ? 2 : 1;
  for (int k = lo; k <= hi; ++k) {
    const double yy = py_log(k);
    c.line(a.left, yy, a.right(), yy, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kGrid));
    c.line(a.left - 6, yy, a.left, yy, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kAxis));
    if (((k % label_every) + label_every) % label_every == 0)
      c.text(a.left - 9, yy + 4, svg::decade_label(k, plain), "text-anchor=\"end\" font-size=\"11\"");
    if (hi - lo <= 6 && k < hi)
      for (int d = 2; d <= 9; ++d) {
        const double ym = py_log(k + std::log10(d));
        c.line(a.left - 3, ym, a.left, ym, fmt::format("stroke=\"{}\" stroke-width=\"0.8\"", kAxis));
      }
  }
  year_axis(c, a, x0, x1, "year (end of period)");
  c.vertical_text(24, a.top + a.height / 2, "domestic / foreign (log scale)",
                  "text-anchor=\"middle\" font-size=\"12\"");

  // Bands and median, clipped to the plot area.
  const std::string clip = c.clip_rect("plot", a.left, a.top, a.width, a.height);
  c.begin_group(fmt::format("clip-path=\"url(#{})\"", svg::escape(clip)));
  auto band = [&](int lo_i, int hi_i, const char* fill) {
    Points pts;
    for (const auto& r : m.ratio) pts.emplace_back(px(r.year), py(r.q[hi_i]));
    for (auto it = m.ratio.rbegin(); it != m.ratio.rend(); ++it) pts.emplace_back(px(it->year), py(it->q[lo_i]));
    c.polygon(pts, fmt::format("fill=\"{}\" stroke=\"none\" class=\"band\"", fill));
  };
  band(0, 4, "#c6dbef");
  band(1, 3, "#6baed6");
  Points med;
  for (const auto& r : m.ratio) med.emplace_back(px(r.year), py(r.q[2]));
  if (med.size() == 1) med.emplace_back(med[0].first + 0.01, med[0].second);
  c.polyline(med, "stroke=\"#08306b\" stroke-width=\"2.2\" stroke-linejoin=\"round\" class=\"median\"");
  c.end_group();

  // Parity line and the median parity year.
  const double y_thr = py(run.threshold);
  c.line(a.left, y_thr, a.right(), y_thr,
         fmt::format("stroke=\"{}\" stroke-width=\"1.6\" stroke-dasharray=\"7 4\" class=\"parity\"", kParity));
  // Label the parity line at an end where it is clear of the 5-95 % band, else at the right.
  auto clear_at = [&](const BandRow& r) { return run.threshold < r.q[0] || run.threshold > r.q[4]; };
  const bool label_left = !m.ratio.empty() && clear_at(m.ratio.front()) && !clear_at(m.ratio.back());
  c.text(
      label_left ? a.left + 6 : a.right() - 6, y_thr - 6, fmt::format("parity: ratio = {}", thr),
      fmt::format("text-anchor=\"{}\" font-size=\"11\" fill=\"{}\" {}", label_left ? "start" : "end", kParity, kHalo));
  if (m.q50) {
    const double xq = px(*m.q50);
    c.line(xq, a.top, xq, a.bottom(), "stroke=\"#555\" stroke-width=\"1.3\" stroke-dasharray=\"2 3\"");
    const bool right_side = xq < a.right() - 190;
    c.text(right_side ? xq + 6 : xq - 6, a.top + 14, fmt::format("median parity year {}", year2(*m.q50)),
           fmt::format("text-anchor=\"{}\" font-size=\"11\" fill=\"#333\" {}", right_side ? "start" : "end", kHalo));
  }
  axis_lines(c, a);

  std::vector<std::string> notes;
  const std::string range =
      fmt::format("{}\u2009\u2013\u2009{}", svg::decade_label(lo, plain), svg::decade_label(hi, plain));
  if (const auto s = census(zeros); !s.empty())
    notes.push_back(
        fmt::format("Quantiles equal to 0 (domestic output 0) are drawn at the bottom edge ({}): {}.", range, s));
  if (const auto s = census(infs); !s.empty())
    notes.push_back(
        fmt::format("Quantiles equal to +inf (foreign output 0) are drawn at the top edge ({}): {}.", range, s));
  if (beyond > 0)
    notes.push_back(fmt::format("{} outside the plotting range {} {} clipped to its edges.",
                                plural(beyond, "quantile value", "quantile values"), range,
                                beyond == 1 ? "is" : "are"));
  if (const auto s = census(nans); !s.empty())
    notes.push_back(fmt::format("NaN quantiles are drawn at the bottom edge: {}.", s));
  if (m.q50)
    notes.push_back(
        "The median parity year is the median of each trajectory's first crossing; it need not be where the "
        "median line meets the parity line (a trajectory can cross and fall back, and the bands are pointwise).");
  return c.finish(footer(c, a.bottom() + 48, notes, run.provenance_line));
}

// ---------------------------------------------------------------------------------------------
// CDF of the parity year.

std::string cdf_chart(const RunData& run, const MetricData& m) {
  const std::string h = year_text(run.horizon_year);
  const std::string title = metric_label(m.name) + ": P(parity by year)";
  const std::string subtitle = fmt::format(
      "Share of the {} trajectories whose domestic / foreign {} ratio has reached {:g}{} by each period end; "
      "trajectories without parity by {} never count.",
      traj_text(run), m.name, run.threshold,
      run.sustain > 1 ? fmt::format(" (sustained {} periods)", run.sustain) : std::string(), h);
  Canvas c(kWidth, "cdf-" + m.name, title,
           "Cumulative probability of parity by each year for " + m.name + ", with its 95 % Wilson band.");
  double y = header(c, title, subtitle);
  y = legend(c, kMarginX, y,
             {{LegendItem::kLine, "stroke=\"#a63603\" stroke-width=\"2.2\"", "P(parity by year)"},
              {LegendItem::kBand, "#fdd0a2", "95 % Wilson interval"},
              {LegendItem::kMarker, "fill=\"#ffffff\" stroke=\"#222\" stroke-width=\"1.5\"",
               "parity-year quantiles q05 / q50 / q95"}});

  const Area a{kLeft, y + 10, kWidth - kLeft - kRight, 300};
  const double x0 = run.start_year, x1 = run.horizon_year;
  auto px = [&](double year) { return a.left + (std::clamp(year, x0, x1) - x0) / (x1 - x0) * a.width; };
  auto py = [&](double p) { return a.bottom() - (std::isnan(p) ? 0.0 : std::clamp(p, 0.0, 1.0)) * a.height; };

  for (int k = 0; k <= 10; ++k) {
    const double yy = py(k / 10.0);
    c.line(a.left, yy, a.right(), yy, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kGrid));
    c.line(a.left - (k % 2 == 0 ? 6 : 3), yy, a.left, yy, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kAxis));
    if (k % 2 == 0) c.text(a.left - 9, yy + 4, fmt::format("{:.1f}", k / 10.0), "text-anchor=\"end\" font-size=\"11\"");
  }
  year_axis(c, a, x0, x1, "year (end of period)");
  c.vertical_text(24, a.top + a.height / 2, "P(parity by year)", "text-anchor=\"middle\" font-size=\"12\"");

  const std::string clip = c.clip_rect("plot", a.left - 1, a.top - 6, a.width + 2, a.height + 7);
  c.begin_group(fmt::format("clip-path=\"url(#{})\"", svg::escape(clip)));
  Points band, curve;
  for (const auto& r : m.crossing) band.emplace_back(px(r.year), py(r.hi95));
  for (auto it = m.crossing.rbegin(); it != m.crossing.rend(); ++it) band.emplace_back(px(it->year), py(it->lo95));
  c.polygon(band, "fill=\"#fdd0a2\" stroke=\"none\" class=\"band\"");
  for (const auto& r : m.crossing) curve.emplace_back(px(r.year), py(r.p));
  if (curve.size() == 1) curve.emplace_back(curve[0].first + 0.01, curve[0].second);
  c.polyline(curve, "stroke=\"#a63603\" stroke-width=\"2.2\" stroke-linejoin=\"round\" class=\"cdf\"");
  c.end_group();

  // Quantile markers, or for a quantile after the horizon a faint line at its level.
  struct Q {
    const char* name;
    double level;
    std::optional<double> year;
  };
  const Q qs[3] = {{"q05", 0.05, m.q05}, {"q50", 0.5, m.q50}, {"q95", 0.95, m.q95}};
  std::vector<std::string> after;
  for (const auto& q : qs) {
    const double yy = py(q.level);
    if (!q.year) {
      after.push_back(q.name);
      c.line(a.left, yy, a.right(), yy, "stroke=\"#999\" stroke-width=\"1\" stroke-dasharray=\"3 4\"");
      c.text(a.right() - 6, yy - 5, fmt::format("{} after {}", q.name, h),
             fmt::format("text-anchor=\"end\" font-size=\"11\" fill=\"{}\" {}", kMuted, kHalo));
      continue;
    }
    const double xq = px(*q.year);
    const std::string guide = "stroke=\"#444\" stroke-width=\"1\" stroke-dasharray=\"2 3\"";
    c.line(a.left, yy, xq, yy, guide);
    c.line(xq, yy, xq, a.bottom(), guide);
    c.circle(xq, yy, 4.5, "fill=\"#ffffff\" stroke=\"#222\" stroke-width=\"1.5\" class=\"quantile\"");
    // The curve rises, so above-left of a point on it is clear; near the left edge, right of it
    // (below the curve).
    const std::string label = fmt::format("{} = {}", q.name, year2(*q.year));
    const bool left_side = xq - a.left > svg::text_width(label, 11) + 14;
    c.text(
        left_side ? xq - 8 : xq + 9, left_side ? yy - 7 : yy + 4, label,
        fmt::format("text-anchor=\"{}\" font-size=\"11\" font-weight=\"bold\" {}", left_side ? "end" : "start", kHalo));
  }
  axis_lines(c, a);

  std::vector<std::string> notes;
  std::string se = m.p_parity_stderr ? fmt::format(", Monte Carlo s.e. {:.2g}", *m.p_parity_stderr) : std::string();
  notes.push_back(fmt::format("P(no parity by {}) = {}   (P(parity by {}) = {}{}).", h, prob_text(m.p_no_parity), h,
                              prob_text(m.p_parity), se));
  auto q_text = [&](const std::optional<double>& v) { return v ? year2(*v) : "after " + h; };
  notes.push_back(
      m.q05
          ? fmt::format("Parity year: median {}, 90 % band {} \u2013 {}.", q_text(m.q50), q_text(m.q05), q_text(m.q95))
          : fmt::format("Parity year: median and the whole 90 % band after {} (P(parity by {}) < 0.05).", h, h));
  double widest = 0;
  for (const auto& r : m.crossing)
    if (std::isfinite(r.hi95 - r.lo95)) widest = std::max(widest, r.hi95 - r.lo95);
  notes.push_back(fmt::format(
      "Shaded: 95 % Wilson score interval of each probability (Monte Carlo error only, not model uncertainty){}.",
      widest * a.height < 3 ? fmt::format("; here at most {:.2g} wide, thinner than the line", widest)
                            : std::string()));
  return c.finish(footer(c, a.bottom() + 48, notes, run.provenance_line));
}

// ---------------------------------------------------------------------------------------------
// Sensitivity charts.

namespace {

constexpr size_t kMaxRows = 25;

// "parity_year:units" -> "parity year (units)".
std::string output_title(const std::string& output) {
  if (output.empty()) return "output";
  const auto colon = output.find(':');
  std::string head = output.substr(0, colon), tail = colon == std::string::npos ? "" : output.substr(colon + 1);
  std::replace(head.begin(), head.end(), '_', ' ');
  return tail.empty() ? head : head + " (" + tail + ")";
}

bool is_year_output(const std::string& output) { return output.empty() || output.rfind("parity_year", 0) == 0; }

template <class T>
std::vector<std::pair<std::string, std::vector<const T*>>> group_by_output(const std::vector<T>& entries) {
  std::vector<std::pair<std::string, std::vector<const T*>>> groups;
  for (const auto& e : entries) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == e.output; });
    if (it == groups.end()) {
      groups.emplace_back(e.output, std::vector<const T*>{});
      it = groups.end() - 1;
    }
    it->second.push_back(&e);
  }
  return groups;
}

// An x axis under a horizontal-bar panel (ticks, labels, grid across the panel, title).
struct Scale {
  double lo, hi;
  Area a;
  double x(double v) const { return a.left + (std::clamp(v, lo, hi) - lo) / (hi - lo) * a.width; }
};

void value_axis(Canvas& c, const Scale& s, const svg::Ticks& ticks, const std::string& title) {
  for (const double t : ticks.values) {
    if (t < s.lo - 1e-12 || t > s.hi + 1e-12) continue;
    const double x = s.x(t);
    c.line(x, s.a.top, x, s.a.bottom(), fmt::format("stroke=\"{}\" stroke-width=\"1\"", kGrid));
    c.line(x, s.a.bottom(), x, s.a.bottom() + 5, fmt::format("stroke=\"{}\" stroke-width=\"1\"", kAxis));
    c.text(x, s.a.bottom() + 18, svg::tick_label(t, ticks.step), "text-anchor=\"middle\" font-size=\"11\"");
  }
  c.line(s.a.left, s.a.bottom(), s.a.right(), s.a.bottom(), fmt::format("stroke=\"{}\" stroke-width=\"1.2\"", kAxis));
  c.text(s.a.left + s.a.width / 2, s.a.bottom() + 36, title, "text-anchor=\"middle\" font-size=\"12\"");
}

}  // namespace

std::string tornado_chart(const RunData& run, const SensitivityData& s) {
  if (s.tornado.empty()) return {};
  const std::string h = year_text(run.horizon_year);
  const std::string title = "Sensitivity: one parameter at a time (tornado)";
  const std::string subtitle =
      "Output with one parameter at its 10th and 90th percentile (bars, drawn from the base value: the output with "
      "that parameter at its median), parameters sorted by swing |high \u2212 low|.";
  Canvas c(kWidth, "tornado", title, "Tornado chart of one-at-a-time parameter sensitivity.");
  double y = header(c, title, subtitle);
  y = legend(c, kMarginX, y,
             {{LegendItem::kBand, "#4393c3", "parameter at its 10th percentile"},
              {LegendItem::kBand, "#d6604d", "at its 90th percentile"},
              {LegendItem::kLine, "stroke=\"#111\" stroke-width=\"2\"", "base (at its median)"}});

  const auto groups = group_by_output(s.tornado);
  double label_w = 0;
  for (const auto& e : s.tornado) label_w = std::max(label_w, svg::text_width(e.parameter, 11.5));
  const double left = std::clamp(kMarginX + label_w + 14, 130.0, 300.0);
  const double row_h = 26, bar_h = 9;
  std::vector<std::string> notes;
  bool any_after = false;

  for (const auto& [output, entries] : groups) {
    const bool years = is_year_output(output);
    auto value = [&](const std::optional<double>& v) -> std::optional<double> {
      if (v) return v;
      if (years) return run.horizon_year;
      return std::nullopt;
    };
    struct Row {
      const TornadoEntry* e;
      std::optional<double> low, high, base;
      double swing;
    };
    std::vector<Row> rows;
    for (const auto* e : entries) {
      Row r{e, value(e->low), value(e->high), value(e->base), 0};
      const double b = r.base.value_or(std::nan(""));
      if (r.low && r.high)
        r.swing = std::fabs(*r.high - *r.low);
      else if (r.low)
        r.swing = std::fabs(*r.low - b);
      else if (r.high)
        r.swing = std::fabs(*r.high - b);
      if (std::isnan(r.swing)) r.swing = 0;
      rows.push_back(r);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& z) { return x.swing > z.swing; });
    const size_t hidden = rows.size() > kMaxRows ? rows.size() - kMaxRows : 0;
    rows.resize(std::min(rows.size(), kMaxRows));

    double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
    for (const auto& r : rows)
      for (const auto& v : {r.low, r.high, r.base})
        if (v && std::isfinite(*v)) {
          vmin = std::min(vmin, *v);
          vmax = std::max(vmax, *v);
        }
    if (!std::isfinite(vmin)) {
      vmin = 0;
      vmax = 1;
    }
    const double span = vmax > vmin ? vmax - vmin : std::max(1.0, std::fabs(vmin) * 0.1);
    double lo = vmin - 0.12 * span, hi = vmax + 0.12 * span;
    if (years) hi = std::min(hi, std::max(run.horizon_year, vmax) + 0.12 * span);
    const auto ticks = svg::nice_ticks(lo, hi, 7);

    if (groups.size() > 1) {
      y += 18;
      c.text(kMarginX, y, output_title(output), "font-size=\"13\" font-weight=\"bold\"");
    }
    const Area a{left, y + 10, kWidth - left - kRight, row_h * static_cast<double>(rows.size())};
    const Scale sc{lo, hi, a};
    value_axis(c, sc, ticks, output_title(output));
    if (years && run.horizon_year <= hi) {
      const double xh = sc.x(run.horizon_year);
      c.line(xh, a.top, xh, a.bottom(), "stroke=\"#999\" stroke-width=\"1\" stroke-dasharray=\"4 3\"");
      c.text(xh, a.top - 3, fmt::format("horizon {}", h),
             fmt::format("text-anchor=\"middle\" font-size=\"10\" fill=\"{}\"", kMuted));
    }
    auto vlabel = [&](double v) { return years ? fmt::format("{:.1f}", v) : fmt::format("{:.3g}", v); };
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      const double cy = a.top + row_h * (static_cast<double>(i) + 0.5);
      if (i % 2 == 1)
        c.rect(kMarginX - 4, cy - row_h / 2, a.right() - kMarginX + 4, row_h,
               "fill=\"#f6f6f6\" stroke=\"none\" opacity=\"0.7\"");
      c.text(left - 10, cy + 4, fit_label(r.e->parameter, 11.5, left - kMarginX - 14),
             "text-anchor=\"end\" font-size=\"11.5\"");
      const double xb = r.base ? sc.x(*r.base) : std::nan("");
      auto bar = [&](const std::optional<double>& v, const std::optional<double>& raw, double top, const char* fill,
                     const char* cls) {
        if (!v || std::isnan(xb)) return;
        const double xv = sc.x(*v);
        c.rect(std::min(xb, xv), top, std::max(std::fabs(xv - xb), 1.0), bar_h,
               fmt::format("fill=\"{}\" stroke=\"none\" class=\"{}\"", fill, cls));
        const bool right = xv >= xb;
        const std::string label = raw ? vlabel(*raw) : "after " + h;
        if (!raw) any_after = true;
        c.text(right ? xv + 4 : xv - 4, top + bar_h - 1, label,
               fmt::format("text-anchor=\"{}\" font-size=\"9.5\" fill=\"#333\"", right ? "start" : "end"));
      };
      bar(r.low, r.e->low, cy - bar_h - 0.5, "#4393c3", "low");
      bar(r.high, r.e->high, cy + 0.5, "#d6604d", "high");
      if (!std::isnan(xb)) c.line(xb, cy - row_h / 2 + 3, xb, cy + row_h / 2 - 3, "stroke=\"#111\" stroke-width=\"2\"");
    }
    if (hidden > 0)
      notes.push_back(fmt::format("{}: {} with smaller swings not shown.", output_title(output),
                                  plural(static_cast<long long>(hidden), "parameter", "parameters")));
    y = a.bottom() + 48;
  }
  if (any_after)
    notes.push_back(fmt::format(
        "\"after {0}\": no parity by the horizon {0} (null in sensitivity.json); such bars end at the horizon.", h));
  return c.finish(footer(c, y - 4, notes, run.provenance_line));
}

std::string sobol_chart(const RunData& run, const SensitivityData& s) {
  if (s.sobol.empty()) return {};
  const std::string title = "Sensitivity: Sobol indices";
  const std::string subtitle =
      "Share of the output's variance due to each parameter alone (first-order) and including its interactions "
      "(total), with 95 % confidence intervals; sorted by total index.";
  Canvas c(kWidth, "sobol", title, "Sobol first-order and total sensitivity indices per parameter.");
  double y = header(c, title, subtitle);
  y = legend(c, kMarginX, y,
             {{LegendItem::kBand, "#4c78a8", "first-order index"},
              {LegendItem::kBand, "#f58518", "total index"},
              {LegendItem::kLine, "stroke=\"#222\" stroke-width=\"1.2\"", "95 % confidence interval"}});

  const auto groups = group_by_output(s.sobol);
  double label_w = 0;
  for (const auto& e : s.sobol) label_w = std::max(label_w, svg::text_width(e.parameter, 11.5));
  const double left = std::clamp(kMarginX + label_w + 14, 130.0, 300.0);
  const double row_h = 28, bar_h = 10;
  std::vector<std::string> notes;

  for (const auto& [output, entries] : groups) {
    std::vector<const SobolEntry*> rows(entries.begin(), entries.end());
    auto key = [](const SobolEntry* e) { return std::isnan(e->total) ? -1e300 : e->total; };
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const SobolEntry* x, const SobolEntry* z) { return key(x) > key(z); });
    const size_t hidden = rows.size() > kMaxRows ? rows.size() - kMaxRows : 0;
    double sum_first = 0;
    bool have_sum = true;
    for (const auto* e : rows) {
      if (std::isnan(e->first))
        have_sum = false;
      else
        sum_first += e->first;
    }
    rows.resize(std::min(rows.size(), kMaxRows));

    double vmin = 0, vmax = 0.1;
    for (const auto* e : rows) {
      for (const double v : {e->first, e->total})
        if (std::isfinite(v)) {
          vmin = std::min(vmin, v);
          vmax = std::max(vmax, v);
        }
      for (const auto& ci : {e->first_ci, e->total_ci})
        if (ci && std::isfinite(ci->first) && std::isfinite(ci->second)) {
          vmin = std::min(vmin, std::min(ci->first, ci->second));
          vmax = std::max(vmax, std::max(ci->first, ci->second));
        }
    }
    vmin = std::max(vmin, -1.0);
    vmax = std::min(vmax, 2.0);
    const auto probe = svg::nice_ticks(vmin, vmax, 6);
    const double lo = std::floor(vmin / probe.step - 1e-9) * probe.step;
    const double hi = std::ceil(vmax * 1.08 / probe.step - 1e-9) * probe.step;
    const auto ticks = svg::nice_ticks(lo, hi, 6);

    if (groups.size() > 1) {
      y += 18;
      c.text(kMarginX, y, output_title(output), "font-size=\"13\" font-weight=\"bold\"");
    }
    const Area a{left, y + 10, kWidth - left - kRight, row_h * static_cast<double>(rows.size())};
    const Scale sc{lo, hi, a};
    value_axis(c, sc, ticks, "Sobol index" + (output.empty() ? std::string() : " of " + output_title(output)));
    if (lo < 0)
      c.line(sc.x(0), a.top, sc.x(0), a.bottom(), fmt::format("stroke=\"{}\" stroke-width=\"1.2\"", kAxis));
    else
      c.line(a.left, a.top, a.left, a.bottom(), fmt::format("stroke=\"{}\" stroke-width=\"1.2\"", kAxis));
    for (size_t i = 0; i < rows.size(); ++i) {
      const SobolEntry& e = *rows[i];
      const double cy = a.top + row_h * (static_cast<double>(i) + 0.5);
      if (i % 2 == 1)
        c.rect(kMarginX - 4, cy - row_h / 2, a.right() - kMarginX + 4, row_h,
               "fill=\"#f6f6f6\" stroke=\"none\" opacity=\"0.7\"");
      c.text(left - 10, cy + 4, fit_label(e.parameter, 11.5, left - kMarginX - 14),
             "text-anchor=\"end\" font-size=\"11.5\"");
      auto bar = [&](double v, const std::optional<std::pair<double, double>>& ci, double top, const char* fill,
                     const char* cls) {
        if (std::isnan(v)) return;
        const double x0 = sc.x(0), xv = sc.x(v);
        c.rect(std::min(x0, xv), top, std::max(std::fabs(xv - x0), 1.0), bar_h,
               fmt::format("fill=\"{}\" stroke=\"none\" class=\"{}\"", fill, cls));
        double end = std::max(x0, xv);
        if (ci && std::isfinite(ci->first) && std::isfinite(ci->second)) {
          const double xl = sc.x(std::min(ci->first, ci->second)), xh = sc.x(std::max(ci->first, ci->second));
          const double ym = top + bar_h / 2;
          const std::string st = "stroke=\"#222\" stroke-width=\"1.2\" class=\"whisker\"";
          c.line(xl, ym, xh, ym, st);
          c.line(xl, ym - 4, xl, ym + 4, st);
          c.line(xh, ym - 4, xh, ym + 4, st);
          end = std::max(end, xh);
        }
        c.text(end + 4, top + bar_h - 1, fmt::format("{:.2f}", v), "font-size=\"9.5\" fill=\"#333\"");
      };
      bar(e.first, e.first_ci, cy - bar_h - 1, "#4c78a8", "first");
      bar(e.total, e.total_ci, cy + 1, "#f58518", "total");
    }
    const std::string prefix = groups.size() > 1 ? output_title(output) + ": " : std::string();
    if (have_sum)
      notes.push_back(fmt::format(
          "{}sum of first-order indices = {:.2f}; 1 \u2212 sum \u2248 the share of variance from interactions.", prefix,
          sum_first));
    if (hidden > 0)
      notes.push_back(fmt::format("{}{} with smaller total indices not shown.", prefix,
                                  plural(static_cast<long long>(hidden), "parameter", "parameters")));
    y = a.bottom() + 48;
  }
  return c.finish(footer(c, y - 4, notes, run.provenance_line));
}

}  // namespace chipcast::plot
