// The GPU path's simulate step and atomic histograms on the CPU through Thrust's OMP system, so CI checks them without a GPU.
#pragma once
#include <cstdint>
#include <memory>

#include "backends/backend.h"

namespace chipcast {

struct ThrustOmpSettings {
  // Trajectories per simulate functor call: 1 as on a GPU thread (scalar libm,
  // so results match the OpenMP backend to float rounding), or 16, the OpenMP
  // backend's lane width (libmvec, so results match it bit for bit).
  int lanes = 16;
  uint64_t piece = 1 << 15;  // trajectories per simulate launch (the GPU's device piece)
};

// A Backend named "thrust-omp" that runs the GPU path's functors
// (backends/cuda/batch_functors.h) with thrust::for_each on the OMP system.
// Throws std::invalid_argument for a bad setting.
std::unique_ptr<Backend> make_thrust_omp_backend(const ThrustOmpSettings& settings);

}  // namespace chipcast
