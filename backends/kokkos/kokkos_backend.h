// Kokkos backend: the portable kernels on whatever Kokkos::DefaultExecutionSpace the site's Kokkos has.
#pragma once
#include <memory>
#include <string>

#include "backends/backend.h"

// No Kokkos header here: only kokkos_backend.cc sees Kokkos, so with a CUDA or
// HIP Kokkos the rest of chipcast is still compiled by the host compiler.

namespace chipcast {

// Creates the backend, initialising Kokkos on first use (see kokkos_set_args).
// Throws std::runtime_error when Kokkos was already finalised in this process.
std::unique_ptr<Backend> make_kokkos_backend(const BackendOptions& options);

// "kokkos: <version>, <DefaultExecutionSpace> (host|device)", e.g.
// "kokkos: 3.4.1, Serial (host)"; does not initialise Kokkos.
std::string kokkos_info_line();

// Remembers the Kokkos runtime flags among argv[1..argc) (every argument that
// starts with "--kokkos-", e.g. --kokkos-num-threads=8, --kokkos-device-id=1,
// --kokkos-tools-libs=...) for the Kokkos::initialize that happens on first
// use. Call it before the first make_kokkos_backend; a later call throws
// std::logic_error because the runtime is already configured. Kokkos reads its
// environment variables (KOKKOS_NUM_THREADS, KOKKOS_DEVICE_ID, ...) as well.
// On Kokkos < 3.7, --kokkos-num-threads=N is passed as --kokkos-threads=N.
void kokkos_set_args(int argc, char** argv);

// Removes the "--kokkos-*" arguments from argv in place (argv[0] kept, the
// order of the rest kept, argv[new argc] set to nullptr) and returns the new
// argc, so a command-line parser that rejects unknown flags never sees them.
int kokkos_remove_args(int argc, char** argv);

// For tests: a backend that runs the device algorithm (one trajectory per work
// item, counts added with atomics to one shared tally) on
// Kokkos::DefaultHostExecutionSpace, so CI without a GPU still exercises it.
std::unique_ptr<Backend> make_kokkos_single_lane_backend_for_testing(const BackendOptions& options);

}  // namespace chipcast
