// The CPU backends' (OpenMP; Kokkos on a host execution space) SIMD block and chunk sizes.
#pragma once
#include <stdint.h>

namespace chipcast {

// Trajectories per SIMD block (LaneState<kHostLanes>): each lane loop of the
// kernels is four AVX-512 vectors of floats (eight AVX2 ones), so the
// per-loop overhead, the registers saved around each libmvec call and the
// latency of one vector's chain are shared by four independent vectors.
// 64 lanes ran the v2 baseline 8 % faster than 16 (bench/RESULTS.md,
// 2026-12-02); 128 were no faster. The lanes are independent trajectories
// computed by the same operations whatever L is, so the outputs do not
// depend on it (the same bytes at 16, 32 and 64).
constexpr int kHostLanes = 64;
// Blocks per chunk: a chunk's 512 trajectories advance period by period
// together, so the current period's histogram rows stay in cache while every
// block adds to them (the blocks' states, 8 x 89 KiB, in a core's L2).
constexpr int kHostBlocksPerChunk = 8;
constexpr int64_t kHostChunk = static_cast<int64_t>(kHostLanes) * kHostBlocksPerChunk;

}  // namespace chipcast
