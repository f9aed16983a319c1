# CUDA backend: backends/cuda/gpu_backend.cu built by nvcc against the CUDA runtime.
# Included by the top-level CMakeLists.txt when -DCHIPCAST_ENABLE_CUDA=ON, after chipcast_backends exists.

# Find nvcc where CUDA usually lives when neither CMAKE_CUDA_COMPILER nor CUDACXX names it.
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(CHIPCAST_NVCC nvcc HINTS ENV CUDA_PATH ENV CUDA_HOME /usr/local/cuda PATH_SUFFIXES bin)
  if(CHIPCAST_NVCC)
    set(CMAKE_CUDA_COMPILER "${CHIPCAST_NVCC}")
  endif()
endif()
# Without a GPU here, CMake cannot detect one ("native" fails): default to A100 and H100.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)

add_library(chipcast_gpu STATIC backends/cuda/gpu_backend.cu)
target_link_libraries(chipcast_gpu PUBLIC chipcast_tally CUDA::cudart_static PRIVATE chipcast_kernels)
target_compile_options(chipcast_gpu PRIVATE
  # The model's constexpr index helpers are called from device code; without
  # this flag nvcc only warns (#20013-D) and emits a broken kernel.
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>
  # Line tables for profilers (no effect on the generated code).
  $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)

target_link_libraries(chipcast_backends PUBLIC chipcast_gpu)
message(STATUS "chipcast: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
