// The CUDA/HIP backend (one source, built by nvcc or hipcc): what the registry and tests see.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace chipcast {

// "cuda" or "hip", whichever runtime this binary was built for.
std::string gpu_backend_name();
// One line per device (name, memory, compute capability or gcnArchName,
// multiprocessors) plus the driver and runtime versions; or one line saying
// that no device was found and why. Never throws.
std::vector<std::string> gpu_info_lines();
// Devices this process can see; 0 when there is none or no driver. Never throws.
int gpu_device_count();

// Tuning knob, defaulted from the environment:
//   CHIPCAST_GPU_BATCH = trajectories per device launch (default: 2^30; crossing
//                        times in pieces sized from free device memory)
struct GpuSettings {
  uint64_t device_batch = 0;  // 0 = environment or the default
};

// Throws std::runtime_error (saying why and what to do) when no device is
// usable or a requested device id does not exist.
std::unique_ptr<Backend> make_gpu_backend(const BackendOptions& options);
std::unique_ptr<Backend> make_gpu_backend(const BackendOptions& options, const GpuSettings& settings);

}  // namespace chipcast
