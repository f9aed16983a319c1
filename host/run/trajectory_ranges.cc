// Range-set arithmetic for run plans and checkpoints.
#include "host/run/trajectory_ranges.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace chipcast {

uint64_t count_of(const TrajectoryRanges& set) {
  uint64_t n = 0;
  for (const auto& r : set) n += r.count();
  return n;
}

void add_range(TrajectoryRanges& set, TrajectoryRange r) {
  if (r.count() == 0) return;
  auto it = std::lower_bound(set.begin(), set.end(), r,
                             [](const TrajectoryRange& a, const TrajectoryRange& b) { return a.first < b.first; });
  if ((it != set.end() && it->first < r.end) || (it != set.begin() && std::prev(it)->end > r.first))
    throw std::logic_error(fmt::format("trajectory range [{}, {}) overlaps ranges already done", r.first, r.end));
  it = set.insert(it, r);
  // Join with the next, then with the previous neighbour.
  if (std::next(it) != set.end() && std::next(it)->first == it->end) {
    it->end = std::next(it)->end;
    set.erase(std::next(it));
  }
  if (it != set.begin() && std::prev(it)->end == it->first) {
    std::prev(it)->end = it->end;
    set.erase(it);
  }
}

TrajectoryRanges complement(const TrajectoryRanges& done, uint64_t total) {
  TrajectoryRanges out;
  uint64_t at = 0;
  for (const auto& r : done) {
    if (r.first > at) out.push_back({at, std::min(r.first, total)});
    at = std::max(at, r.end);
    if (at >= total) break;
  }
  if (at < total) out.push_back({at, total});
  return out;
}

TrajectoryRanges take_front(TrajectoryRanges& from, uint64_t n) {
  TrajectoryRanges out;
  size_t used = 0;
  while (n > 0 && used < from.size()) {
    TrajectoryRange& r = from[used];
    const uint64_t k = std::min(n, r.count());
    out.push_back({r.first, r.first + k});
    r.first += k;
    n -= k;
    if (r.count() == 0) ++used;
  }
  from.erase(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(used));
  return out;
}

TrajectoryRanges slice(const TrajectoryRanges& set, uint64_t lo, uint64_t hi) {
  TrajectoryRanges out;
  uint64_t at = 0;  // position of r.first in the flattened order
  for (const auto& r : set) {
    const uint64_t a = std::max(lo, at), b = std::min(hi, at + r.count());
    if (a < b) out.push_back({r.first + (a - at), r.first + (b - at)});
    at += r.count();
    if (at >= hi) break;
  }
  return out;
}

std::string check_ranges(const TrajectoryRanges& set, uint64_t total) {
  uint64_t at = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    const auto& r = set[i];
    if (r.end <= r.first) return fmt::format("range {} [{}, {}) is empty or reversed", i, r.first, r.end);
    if (i > 0 && r.first <= at)
      return fmt::format("range {} [{}, {}) overlaps or touches the one before it", i, r.first, r.end);
    if (r.end > total) return fmt::format("range {} [{}, {}) goes past the {} trajectories", i, r.first, r.end, total);
    at = r.end;
  }
  return {};
}

std::string describe(const TrajectoryRanges& set) {
  if (set.empty()) return "none";
  std::string s;
  for (const auto& r : set) s += fmt::format("{}[{}, {})", s.empty() ? "" : " ", r.first, r.end);
  return s;
}

}  // namespace chipcast
