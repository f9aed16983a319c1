// The mergeable result of any set of trajectories: 64-bit histograms and counts.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/hist_sink.h"
#include "kernels/tally_layout.h"

namespace chipcast {

// Integer counts only, so merging (threads, devices, MPI ranks, resumed
// checkpoints) is exact and order-free.
struct Tally {
  int32_t periods = 0;
  int32_t sub_bins = 0;
  uint64_t trajectories = 0;
  std::vector<uint64_t> level;     // [period][series][kLevelBins]
  std::vector<uint64_t> crossing;  // [metric][crossing_bins]
  std::array<uint64_t, kNumAnomalies> anomalies{};

  Tally() = default;
  Tally(int periods, int sub_bins);

  int crossing_bin_count() const { return crossing_bins(periods, sub_bins); }
  const uint64_t* level_row(int k, int series) const {
    return level.data() + (static_cast<size_t>(k) * kNumSeries + series) * kLevelBins;
  }
  const uint64_t* crossing_row(int metric) const {
    return crossing.data() + static_cast<size_t>(metric) * crossing_bin_count();
  }
  // Adds another tally of the same shape (throws std::invalid_argument otherwise).
  void merge(const Tally& other);
  // Adds a 32-bit partial tally held in host memory, covering `trajectories`.
  void add(const HistView& partial, uint64_t trajectories);
  bool operator==(const Tally& o) const;
  // Empty when the counts agree with `trajectories` (every trajectory lands in
  // exactly one crossing bin per metric, the last bin being "censored") and
  // the vectors have this shape's sizes; else what is wrong. Catches a tally
  // that lost or doubled a rank's or a batch's contribution.
  std::string inconsistency() const;
};

// Host-owned storage for one 32-bit partial tally (a thread's or a copy of a device's).
class PartialTally {
 public:
  PartialTally(int periods, int sub_bins);
  HistView view() { return view_; }
  void clear();

 private:
  std::vector<uint32_t> level_, crossing_, anomalies_;
  HistView view_;
};

}  // namespace chipcast
