// The one interface every backend implements: run a range of trajectory indices into a tally.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/parity/params.h"
#include "tally/calibration_tally.h"
#include "tally/tally.h"

namespace chipcast {

struct BackendOptions {
  int threads = 0;           // CPU backends: 0 = OpenMP default
  std::vector<int> devices;  // GPU backends: empty = device 0
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // One line for `chipcast info` and provenance (threads, device, version).
  virtual std::string describe() const = 0;
  // A batch size that keeps this backend busy between progress reports.
  virtual uint64_t preferred_batch() const = 0;
  // Runs trajectories [first, first + count) and adds their counts to `tally`.
  virtual void run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) = 0;
  // A calibrate run's batch (MODEL-v2.md section 8; p carries observations):
  // every trajectory into `prior` exactly as run() counts it, the accepted
  // ones (parity::accept_trajectory) also into `posterior`, and each
  // trajectory's decision into `decisions` (a CalibrationTally of p: its
  // parameter uniforms and rejecting observations, the counts); returns how
  // many were accepted. This default decides on the host (the portable kernel up
  // to p.observed_periods, OpenMP threads over blocks of 16) and re-runs each
  // contiguous range of accepted trajectories with run(): exact for every
  // backend, but slow where run() has a large fixed cost per call (a GPU's
  // launch and copies). The OpenMP backend fuses both passes per block
  // instead (parity::run_blocks_calibrated).
  virtual uint64_t run_calibrated(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& prior,
                                  Tally& posterior, CalibrationTally& decisions);
  // Per-trajectory crossing times (years since start, -1 = censored) into
  // out[metric * count + i], for cross-backend checks only.
  virtual void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) = 0;
};

// Backends compiled into this binary, e.g. {"openmp", "cuda"}.
std::vector<std::string> compiled_backends();
// Lines describing devices and runtimes, for `chipcast info`.
std::vector<std::string> backend_info_lines();
// Creates a backend by name ("auto" picks a GPU backend when one is built and
// a device is present, else openmp). Throws std::invalid_argument naming the
// backend and what is available when this build has no such backend, and
// std::runtime_error when it has it but cannot start it (no device, ...).
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options);

}  // namespace chipcast
