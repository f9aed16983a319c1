// The mergeable result of any set of trajectories: 64-bit histograms and counts.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/tally/hist_view.h"
#include "kernels/tally/tally_layout.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

// Integer counts only, so merging (threads, devices, MPI ranks, resumed
// checkpoints) is exact and order-free.
struct Tally {
  TallyShape shape;
  uint64_t trajectories = 0;
  std::vector<uint64_t> level;     // [shape.level_entries()]: [period][series][kLevelBins]
  std::vector<uint64_t> crossing;  // [shape.crossing_entries()]: [metric][shape.crossing_bins()]
  std::array<uint64_t, kNumAnomalies> anomalies{};

  Tally() = default;
  explicit Tally(TallyShape shape);
  Tally(int periods, int sub_bins) : Tally(TallyShape{periods, sub_bins}) {}

  const uint64_t* level_row(int k, int series) const { return level.data() + shape.level_offset(k, series); }
  const uint64_t* crossing_row(int metric) const { return crossing.data() + shape.crossing_offset(metric); }
  // Adds another tally of the same shape (throws std::invalid_argument otherwise).
  void merge(const Tally& other);
  // Adds a 32-bit partial tally held in host memory, covering `trajectories`.
  void add(const HistView& partial, uint64_t trajectories);
  // Only the crossings, anomalies and trajectories of add (the levels merged elsewhere: tally/batch_merge.h).
  void add_all_but_levels(const HistView& partial, uint64_t trajectories);
  bool operator==(const Tally& o) const;
  // Empty when the counts agree with `trajectories` (every trajectory lands in
  // exactly one crossing bin per metric, the last bin being "censored") and
  // the vectors have this shape's sizes; else what is wrong. Catches a tally
  // that lost or doubled a rank's or a batch's contribution.
  std::string inconsistency() const;
};

}  // namespace chipcast
