# The GPU path's functors run on the CPU through Thrust's OMP system (CI checks them without a GPU).
# Built in every configuration where CCCL (CUDA toolkit's Thrust) is found; skipped with a message otherwise.
option(CHIPCAST_ENABLE_THRUST_OMP "Build the Thrust-OMP (CPU) run of the GPU path when CCCL is found" ON)
if(NOT CHIPCAST_ENABLE_THRUST_OMP)
  return()
endif()

find_package(CCCL CONFIG QUIET
  HINTS /usr/local/cuda/lib64/cmake $ENV{CUDA_PATH}/lib64/cmake $ENV{CUDA_HOME}/lib64/cmake)
if(NOT CCCL_FOUND OR NOT COMMAND thrust_create_target)
  message(STATUS "chipcast: CCCL (Thrust) not found: the Thrust-OMP run of the GPU path is skipped "
                 "(install the CUDA toolkit or pass -DCCCL_DIR=<cuda>/lib64/cmake/cccl)")
  return()
endif()
# HOST CPP, DEVICE OMP: "device" memory and algorithms are host memory and
# OpenMP threads. (Not combined with CCCL::Thrust or -DTHRUST_DEVICE_SYSTEM.)
thrust_create_target(ChipcastThrustOmp HOST CPP DEVICE OMP)

add_library(chipcast_thrust_omp STATIC backends/cuda/thrust_omp_path.cc)
# Same kernel flags as the OpenMP backend, so its 16-lane run matches it bit for bit.
target_link_libraries(chipcast_thrust_omp PUBLIC chipcast_tally PRIVATE ChipcastThrustOmp chipcast_kernels_host)
target_link_libraries(chipcast_backends PUBLIC chipcast_thrust_omp)
set(CHIPCAST_HAVE_THRUST_OMP ON)  # chipcast_config.h
message(STATUS "chipcast: Thrust-OMP run of the GPU path on (CCCL ${CCCL_VERSION})")
