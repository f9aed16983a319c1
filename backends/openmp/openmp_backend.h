// CPU backend: OpenMP threads over blocks of 16 trajectories vectorised with omp simd.
#pragma once
#include <memory>

#include "backends/backend.h"

namespace chipcast {

std::unique_ptr<Backend> make_openmp_backend(const BackendOptions& options);
// Threads the OpenMP runtime would use by default.
int openmp_max_threads();

}  // namespace chipcast
