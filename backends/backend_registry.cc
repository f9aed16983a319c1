// Which backends this binary has, and creating one by name.
#include <stdexcept>

#include "chipcast_config.h"

#include "backends/backend.h"
#include "backends/openmp/openmp_backend.h"

#if CHIPCAST_HAVE_GPU
#include "backends/cuda/gpu_backend.h"
#endif
#if CHIPCAST_HAVE_KOKKOS
#include "backends/kokkos/kokkos_backend.h"
#endif

namespace chipcast {

std::vector<std::string> compiled_backends() {
  std::vector<std::string> names{"openmp"};
#if CHIPCAST_HAVE_GPU
  names.push_back(gpu_backend_name());
#endif
#if CHIPCAST_HAVE_KOKKOS
  names.push_back("kokkos");
#endif
  return names;
}

std::vector<std::string> backend_info_lines() {
  std::vector<std::string> lines;
  lines.push_back("openmp: " + std::to_string(openmp_max_threads()) + " threads available");
#if CHIPCAST_HAVE_GPU
  for (const auto& l : gpu_info_lines()) lines.push_back(l);
#endif
#if CHIPCAST_HAVE_KOKKOS
  lines.push_back(kokkos_info_line());
#endif
  return lines;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "openmp") return make_openmp_backend(options);
#if CHIPCAST_HAVE_GPU
  if (name == gpu_backend_name()) return make_gpu_backend(options);
  if (name == "auto" && gpu_device_count() > 0) return make_gpu_backend(options);
#endif
#if CHIPCAST_HAVE_KOKKOS
  if (name == "kokkos") return make_kokkos_backend(options);
#endif
  if (name == "auto") return make_openmp_backend(options);
  std::string have;
  for (const auto& n : compiled_backends()) have += (have.empty() ? "" : ", ") + n;
  throw std::invalid_argument("backend '" + name + "' is not compiled into this chipcast (compiled: " + have +
                              ", or auto); rebuild with the matching CMake preset (cuda, hip, kokkos)");
}

}  // namespace chipcast
