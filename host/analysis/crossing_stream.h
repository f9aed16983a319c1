// Per-trajectory crossing times of a trajectory range, computed chunk by chunk to bound memory.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "host/run/run_session.h"
#include "models/parity/params.h"

namespace chipcast::analysis {

// Trajectories per RunSession::crossing_times call: 3 floats each, so 12 MiB per chunk.
constexpr uint64_t kCrossingChunk = uint64_t{1} << 20;

// Crossing times (years since start_year, -1 = censored) of trajectories
// [first, first + count), out[metric * count + i]; count must fit in memory
// (3 floats per trajectory): callers split larger ranges themselves.
void crossing_times_of(RunSession& session, const parity::ModelParams& params, uint64_t first, uint64_t count,
                       std::vector<float>& out, uint64_t chunk = kCrossingChunk);

// The crossing time as a year offset with censored trajectories at +inf.
inline double crossing_or_inf(float t) { return t < 0.0f ? INFINITY : static_cast<double>(t); }

}  // namespace chipcast::analysis
