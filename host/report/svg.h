// A small hand-written SVG builder for the report charts: escaping, number formatting, "nice" axis
// ticks, text measuring and wrapping. No external libraries.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chipcast::svg {

// Text for XML or HTML content and attribute values: & < > " ' become entities, invalid UTF-8
// bytes become U+FFFD and control characters other than tab and newline are dropped (they are
// not allowed in XML 1.0).
std::string escape(std::string_view text);

// A coordinate or length: at most 2 decimals, trailing zeros removed ("12.5", "300", "-0.25").
std::string num(double v);

// Evenly spaced round ticks (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi],
// about `target` of them. `values` are the ticks inside [lo, hi] (to a small tolerance).
struct Ticks {
  double step = 1;
  std::vector<double> values;
};
Ticks nice_ticks(double lo, double hi, int target);

// A tick label for the value `v` on an axis whose ticks are `step` apart: as many decimals as
// the step needs ("2040", "0.25", "-0.1").
std::string tick_label(double v, double step);

// The label of the decade tick 10^k: "0.01", "1", "1000" when `plain`, else "10⁻⁶", "10⁸" (Unicode
// superscripts; "1" for k = 0).
std::string decade_label(int k, bool plain);

// Approximate advance width in px of `text` set in DejaVu Sans at `font_size` px (used to lay out
// labels and to wrap notes; errs on the wide side).
double text_width(std::string_view text, double font_size);

// Splits `text` at spaces into lines no wider than `max_width` px at `font_size` (a single word
// wider than that gets a line of its own).
std::vector<std::string> wrap(std::string_view text, double font_size, double max_width);

// Thousands separators: 1234567 -> "1,234,567".
std::string group_digits(long long v);

using Points = std::vector<std::pair<double, double>>;

// An SVG document built element by element. Attribute strings are passed through as written
// (`attrs` like `fill="#eee" stroke="none"`); text content is escaped here.
class Canvas {
 public:
  // `id` prefixes the ids of clip paths so that several charts can be inlined in one HTML page.
  Canvas(double width, std::string id, std::string title, std::string description);

  double width() const { return width_; }
  const std::string& id() const { return id_; }

  void line(double x1, double y1, double x2, double y2, std::string_view attrs);
  void rect(double x, double y, double w, double h, std::string_view attrs);
  void circle(double cx, double cy, double r, std::string_view attrs);
  void polygon(const Points& pts, std::string_view attrs);
  void polyline(const Points& pts, std::string_view attrs);
  // One text element at (x, y) (y is the baseline); `attrs` e.g. `text-anchor="end"`.
  void text(double x, double y, std::string_view content, std::string_view attrs = {});
  // Text rotated by -90 degrees around (x, y), for a y-axis title.
  void vertical_text(double x, double y, std::string_view content, std::string_view attrs = {});
  // Defines a rectangular clip path and returns its id (use as clip-path="url(#id)").
  std::string clip_rect(const std::string& name, double x, double y, double w, double h);
  // Opens and closes a group <g attrs>.
  void begin_group(std::string_view attrs);
  void end_group();

  // The complete document, `height` px tall (known only once the chart is laid out).
  std::string finish(double height) const;

 private:
  double width_;
  std::string id_;
  std::string title_;
  std::string description_;
  std::string defs_;
  std::string body_;
  int open_groups_ = 0;
};

}  // namespace chipcast::svg
