// SVG building blocks for the report charts (see svg.h).
#include "host/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chipcast::svg {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n;
  unsigned cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;  // overlong / too big
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;                                           // surrogates
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;                                           // not XML chars
  return n;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out += c;
        break;
      case '\r':
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
    }
    ++i;
  }
  return out;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

Ticks nice_ticks(double lo, double hi, int target) {
  Ticks t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return t;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 0) {
    t.step = 1;
    t.values = {lo};
    return t;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw * 0.999) {
      step = m * mag;
      break;
    }
  }
  t.step = step;
  const double eps = step * 1e-6;
  for (double k = std::ceil((lo - eps) / step); k * step <= hi + eps; k += 1) {
    double v = k * step;
    if (std::fabs(v) < eps) v = 0;
    t.values.push_back(v);
  }
  return t;
}

std::string tick_label(double v, double step) {
  int decimals = 0;
  for (double s = step; decimals < 6 && std::fabs(s - std::round(s)) > 1e-9 * std::max(1.0, std::fabs(s)); s *= 10)
    ++decimals;
  std::string out = fmt::format("{:.{}f}", v, decimals);
  if (out.rfind("-0", 0) == 0 && std::stod(out) == 0.0) out.erase(0, 1);
  return out;
}

std::string decade_label(int k, bool plain) {
  if (plain) {
    if (k >= 0) return "1" + std::string(static_cast<size_t>(k), '0');
    return "0." + std::string(static_cast<size_t>(-k - 1), '0') + "1";
  }
  if (k == 0) return "1";
  static const char* const kSup[10] = {"\u2070", "\u00B9", "\u00B2", "\u00B3", "\u2074",
                                       "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
  std::string out = "10";
  if (k < 0) out += "\u207B";
  for (const char d : std::to_string(std::abs(k))) out += kSup[d - '0'];
  return out;
}

double text_width(std::string_view text, double font_size) {
  double em = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {  // one non-ASCII character: skip its continuation bytes
      size_t n = utf8_length(text, i);
      i += n == 0 ? 1 : n;
      em += 0.65;
      continue;
    }
    ++i;
    if (c == ' ')
      em += 0.32;
    else if (std::string_view("iljtfr.,:;|!'()[]").find(static_cast<char>(c)) != std::string_view::npos)
      em += 0.36;
    else if (c == 'm' || c == 'w' || c == 'M' || c == 'W')
      em += 0.98;
    else if (c >= 'A' && c <= 'Z')
      em += 0.72;
    else if (c >= '0' && c <= '9')
      em += 0.64;
    else
      em += 0.62;
  }
  return em * font_size;
}

std::vector<std::string> wrap(std::string_view text, double font_size, double max_width) {
  std::vector<std::string> lines;
  std::string current;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    const std::string_view word = text.substr(i, j - i);
    const std::string candidate = current.empty() ? std::string(word) : current + " " + std::string(word);
    if (!current.empty() && text_width(candidate, font_size) > max_width) {
      lines.push_back(current);
      current = std::string(word);
    } else {
      current = candidate;
    }
    i = j;
  }
  if (!current.empty()) lines.push_back(current);
  return lines;
}

std::string group_digits(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

Canvas::Canvas(double width, std::string id, std::string title, std::string description)
    : width_(width), id_(std::move(id)), title_(std::move(title)), description_(std::move(description)) {}

void Canvas::line(double x1, double y1, double x2, double y2, std::string_view attrs) {
  body_ +=
      fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {}/>\n", num(x1), num(y1), num(x2), num(y2), attrs);
}

void Canvas::rect(double x, double y, double w, double h, std::string_view attrs) {
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}/>\n", num(x), num(y),
                       num(std::max(0.0, w)), num(std::max(0.0, h)), attrs);
}

void Canvas::circle(double cx, double cy, double r, std::string_view attrs) {
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {}/>\n", num(cx), num(cy), num(r), attrs);
}

namespace {
std::string points_text(const Points& pts) {
  std::string out;
  out.reserve(pts.size() * 14);
  for (const auto& [x, y] : pts) {
    if (!out.empty()) out += ' ';
    out += num(x);
    out += ',';
    out += num(y);
  }
  return out;
}
}  // namespace

void Canvas::polygon(const Points& pts, std::string_view attrs) {
  if (pts.size() < 3) return;
  body_ += fmt::format("<polygon points=\"{}\" {}/>\n", points_text(pts), attrs);
}

void Canvas::polyline(const Points& pts, std::string_view attrs) {
  if (pts.size() < 2) return;
  body_ += fmt::format("<polyline points=\"{}\" fill=\"none\" {}/>\n", points_text(pts), attrs);
}

void Canvas::text(double x, double y, std::string_view content, std::string_view attrs) {
  body_ += fmt::format("<text x=\"{}\" y=\"{}\"{}{}>{}</text>\n", num(x), num(y), attrs.empty() ? "" : " ", attrs,
                       escape(content));
}

void Canvas::vertical_text(double x, double y, std::string_view content, std::string_view attrs) {
  body_ += fmt::format("<text x=\"{0}\" y=\"{1}\" transform=\"rotate(-90 {0} {1})\"{2}{3}>{4}</text>\n", num(x), num(y),
                       attrs.empty() ? "" : " ", attrs, escape(content));
}

std::string Canvas::clip_rect(const std::string& name, double x, double y, double w, double h) {
  const std::string cid = id_ + "-" + name;
  defs_ += fmt::format("<clipPath id=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n",
                       escape(cid), num(x), num(y), num(w), num(h));
  return cid;
}

void Canvas::begin_group(std::string_view attrs) {
  body_ += fmt::format("<g {}>\n", attrs);
  ++open_groups_;
}

void Canvas::end_group() {
  if (open_groups_ == 0) throw std::logic_error("svg::Canvas: end_group without begin_group");
  body_ += "</g>\n";
  --open_groups_;
}

std::string Canvas::finish(double height) const {
  if (open_groups_ != 0) throw std::logic_error("svg::Canvas: unclosed group");
  const std::string w = num(width_), h = num(std::ceil(height));
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-labelledby=\"{2}-title {2}-desc\" "
      "font-family=\"DejaVu Sans, Verdana, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#222\">\n"
      "<title id=\"{2}-title\">{3}</title>\n<desc id=\"{2}-desc\">{4}</desc>\n",
      w, h, escape(id_), escape(title_), escape(description_));
  if (!defs_.empty()) out += "<defs>\n" + defs_ + "</defs>\n";
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", w, h);
  out += body_;
  out += "</svg>\n";
  return out;
}

}  // namespace chipcast::svg
