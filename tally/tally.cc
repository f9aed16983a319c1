// Tally merging and consistency checks.
#include "tally/tally.h"

#include <stdexcept>

namespace chipcast {

Tally::Tally(TallyShape s)
    : shape(s),
      level(static_cast<size_t>(s.level_entries()), 0),
      crossing(static_cast<size_t>(s.crossing_entries()), 0) {}

void Tally::merge(const Tally& o) {
  if (o.shape != shape || o.level.size() != level.size() || o.crossing.size() != crossing.size())
    throw std::invalid_argument("cannot merge tallies of different shapes");
  for (size_t i = 0; i < level.size(); ++i) level[i] += o.level[i];
  for (size_t i = 0; i < crossing.size(); ++i) crossing[i] += o.crossing[i];
  for (size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += o.anomalies[i];
  trajectories += o.trajectories;
}

void Tally::add(const HistView& p, uint64_t n) {
  if (p.shape != shape) throw std::invalid_argument("cannot add a partial tally of a different shape");
  for (size_t i = 0; i < level.size(); ++i) level[i] += p.level[i];
  add_all_but_levels(p, n);
}

void Tally::add_all_but_levels(const HistView& p, uint64_t n) {
  if (p.shape != shape) throw std::invalid_argument("cannot add a partial tally of a different shape");
  for (size_t i = 0; i < crossing.size(); ++i) crossing[i] += p.crossing[i];
  for (size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += p.anomalies[i];
  trajectories += n;
}

bool Tally::operator==(const Tally& o) const {
  return shape == o.shape && trajectories == o.trajectories && level == o.level && crossing == o.crossing &&
         anomalies == o.anomalies;
}

std::string Tally::inconsistency() const {
  if (!shape.valid()) return "periods and sub-bins must be positive";
  if (level.size() != static_cast<size_t>(shape.level_entries()) ||
      crossing.size() != static_cast<size_t>(shape.crossing_entries()))
    return "histogram sizes do not match the tally's periods and sub-bins";
  for (int m = 0; m < kNumMetrics; ++m) {
    const uint64_t* row = crossing_row(m);
    uint64_t sum = 0;
    for (int b = 0; b < shape.crossing_bins(); ++b) sum += row[b];
    if (sum != trajectories)
      return "crossing histogram of metric " + std::to_string(m) + " counts " + std::to_string(sum) +
             " trajectories, the tally says " + std::to_string(trajectories);
  }
  return {};
}

}  // namespace chipcast
