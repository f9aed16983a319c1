// Sets of trajectory indices as sorted, disjoint half-open ranges: what a run or a checkpoint has done.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace chipcast {

struct TrajectoryRange {
  uint64_t first = 0;  // first index
  uint64_t end = 0;    // one past the last index
  uint64_t count() const { return end - first; }
  bool operator==(const TrajectoryRange& o) const { return first == o.first && end == o.end; }
};

using TrajectoryRanges = std::vector<TrajectoryRange>;

// Trajectories in a set.
uint64_t count_of(const TrajectoryRanges& set);
// Adds `r` to a sorted disjoint set, joining neighbours (r must not overlap the set).
void add_range(TrajectoryRanges& set, TrajectoryRange r);
// [0, total) minus `done`.
TrajectoryRanges complement(const TrajectoryRanges& done, uint64_t total);
// Removes the first `n` trajectories of `from` (in index order) and returns them.
TrajectoryRanges take_front(TrajectoryRanges& from, uint64_t n);
// Trajectories number lo .. hi-1 of `set`, counting in index order.
TrajectoryRanges slice(const TrajectoryRanges& set, uint64_t lo, uint64_t hi);
// Empty when `set` is sorted, disjoint, non-empty ranges within [0, total); else what is wrong.
std::string check_ranges(const TrajectoryRanges& set, uint64_t total);
// "[0, 4096) [8192, 10000)" for messages.
std::string describe(const TrajectoryRanges& set);

}  // namespace chipcast
