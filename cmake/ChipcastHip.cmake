# HIP backend: the same backends/cuda/gpu_backend.cu compiled as HIP by hipcc.
# Included by the top-level CMakeLists.txt when -DCHIPCAST_ENABLE_HIP=ON, after chipcast_backends exists.
# Needs CMAKE_CXX_COMPILER=hipcc (CMake's own HIP language does not configure
# with Debian's ROCm layout); GPU_TARGETS selects the architectures (preset hip: gfx90a;gfx940).

if(NOT CMAKE_CXX_COMPILER MATCHES "hipcc")
  message(FATAL_ERROR "CHIPCAST_ENABLE_HIP needs hipcc as the C++ compiler (found ${CMAKE_CXX_COMPILER}); "
                      "configure with --preset hip or -DCMAKE_CXX_COMPILER=hipcc")
endif()
if(NOT GPU_TARGETS AND NOT AMDGPU_TARGETS)
  set(GPU_TARGETS "gfx90a;gfx940" CACHE STRING "AMD GPU targets to compile for")
endif()
find_package(hip CONFIG REQUIRED HINTS /opt/rocm $ENV{ROCM_PATH})

add_library(chipcast_gpu STATIC backends/cuda/gpu_backend.cu)
# A .cu file is C++ to CMake here; hip::device adds `-x hip` and --offload-arch.
set_source_files_properties(backends/cuda/gpu_backend.cu PROPERTIES LANGUAGE CXX)
target_link_libraries(chipcast_gpu PUBLIC chipcast_tally hip::host PRIVATE chipcast_kernels hip::device)

target_link_libraries(chipcast_backends PUBLIC chipcast_gpu)
message(STATUS "chipcast: HIP backend on (hip ${hip_VERSION}, GPU targets ${GPU_TARGETS})")
