// The end of a batch on the CPU backends: every worker's counts into the 64-bit tally, in parallel.
#pragma once
#include "tally/hot_levels.h"
#include "tally/partial_tally.h"
#include "tally/tally.h"

namespace chipcast {

// One worker's counts of a batch: its 32-bit partial tally, with the 16-bit
// level counters in front of it (HotLevels).
struct WorkerCounts {
  PartialTally* partial;
  HotLevels* hot;
};

// Throws std::invalid_argument unless every worker's counts have the tally's
// shape; called before the parallel merge, which cannot throw.
void check_mergeable(const WorkerCounts* workers, int n, const Tally& tally);

// Adds slice `slice` of `slices` of the level entries of every worker's
// counts (16-bit and 32-bit) into `tally`, and zeroes them there. Once all
// workers have finished the batch, each of `slices` threads merges one slice:
// the merge is parallel, and every entry is read once (the serial
// Tally::add of one partial after another took T times one partial's time
// per batch with T threads, as long as the batch's simulation at 16 threads).
// A slice is cut into runs of 4096 entries, so the tally's run stays in
// cache while each worker's counts are added to it.
void merge_level_slice(int slice, int slices, const WorkerCounts* workers, int n, Tally& tally);

// After every slice is merged: adds the crossings and anomalies (few) and
// `trajectories` to the tally, zeroes them, and marks each worker's 16-bit
// counters empty. So a worker's counts are zero between batches, as made:
// a batch needs no clearing first.
void merge_rest(const WorkerCounts* workers, int n, uint64_t trajectories, Tally& tally);

}  // namespace chipcast
