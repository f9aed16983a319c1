// Tally merging and partial-tally storage.
#include "host/run/tally.h"

#include <algorithm>
#include <stdexcept>

namespace chipcast {

Tally::Tally(int periods_, int sub_bins_)
    : periods(periods_),
      sub_bins(sub_bins_),
      level(static_cast<size_t>(periods_) * kNumSeries * kLevelBins, 0),
      crossing(static_cast<size_t>(kNumMetrics) * crossing_bins(periods_, sub_bins_), 0) {}

void Tally::merge(const Tally& o) {
  if (o.periods != periods || o.sub_bins != sub_bins || o.level.size() != level.size() ||
      o.crossing.size() != crossing.size())
    throw std::invalid_argument("cannot merge tallies of different shapes");
  for (size_t i = 0; i < level.size(); ++i) level[i] += o.level[i];
  for (size_t i = 0; i < crossing.size(); ++i) crossing[i] += o.crossing[i];
  for (size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += o.anomalies[i];
  trajectories += o.trajectories;
}

void Tally::add(const HistView& p, uint64_t n) {
  if (p.periods != periods || p.sub_bins != sub_bins)
    throw std::invalid_argument("cannot add a partial tally of a different shape");
  for (size_t i = 0; i < level.size(); ++i) level[i] += p.level[i];
  for (size_t i = 0; i < crossing.size(); ++i) crossing[i] += p.crossing[i];
  for (size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += p.anomalies[i];
  trajectories += n;
}

bool Tally::operator==(const Tally& o) const {
  return periods == o.periods && sub_bins == o.sub_bins && trajectories == o.trajectories &&
         level == o.level && crossing == o.crossing && anomalies == o.anomalies;
}

std::string Tally::inconsistency() const {
  if (periods <= 0 || sub_bins <= 0) return "periods and sub-bins must be positive";
  if (level.size() != static_cast<size_t>(periods) * kNumSeries * kLevelBins ||
      crossing.size() != static_cast<size_t>(kNumMetrics) * crossing_bin_count())
    return "histogram sizes do not match the tally's periods and sub-bins";
  for (int m = 0; m < kNumMetrics; ++m) {
    const uint64_t* row = crossing_row(m);
    uint64_t sum = 0;
    for (int b = 0; b < crossing_bin_count(); ++b) sum += row[b];
    if (sum != trajectories)
      return "crossing histogram of metric " + std::to_string(m) + " counts " + std::to_string(sum) +
             " trajectories, the tally says " + std::to_string(trajectories);
  }
  return {};
}

PartialTally::PartialTally(int periods, int sub_bins)
    : level_(static_cast<size_t>(periods) * kNumSeries * kLevelBins, 0),
      crossing_(static_cast<size_t>(kNumMetrics) * crossing_bins(periods, sub_bins), 0),
      anomalies_(kNumAnomalies, 0) {
  view_.level = level_.data();
  view_.crossing = crossing_.data();
  view_.anomalies = anomalies_.data();
  view_.periods = periods;
  view_.sub_bins = sub_bins;
}

void PartialTally::clear() {
  std::fill(level_.begin(), level_.end(), 0u);
  std::fill(crossing_.begin(), crossing_.end(), 0u);
  std::fill(anomalies_.begin(), anomalies_.end(), 0u);
}

}  // namespace chipcast
