# Kokkos backend (-DCHIPCAST_ENABLE_KOKKOS=ON): the portable kernels through
# the site's Kokkos, found the way a site build is consumed: find_package with
# Kokkos_ROOT or CMAKE_PREFIX_PATH (spack load kokkos sets the latter).
# Included by the top-level CMakeLists.txt once chipcast_backends exists.

# Kokkos' package config sets CMAKE_CXX_EXTENSIONS=OFF in the cache (FORCE,
# with a warning) when it is unset or ON, which changes -std=gnu++17 to
# -std=c++17 only for the targets created after this point, and for all of
# them from the second configure on. Say OFF here instead, for the whole
# project, so that every configure compiles every target the same way and
# the Kokkos and OpenMP backends get identical flags (their tallies are
# compared byte for byte).
set(CMAKE_CXX_EXTENSIONS OFF)
# The targets created before this point; the later ones take CMAKE_CXX_EXTENSIONS.
set_target_properties(chipcast_tally chipcast_backends PROPERTIES CXX_EXTENSIONS OFF)

find_package(Kokkos CONFIG)
if(NOT Kokkos_FOUND)
  message(FATAL_ERROR
    "CHIPCAST_ENABLE_KOKKOS=ON but no Kokkos package config was found (KokkosConfig.cmake). "
    "Point CMake at a Kokkos >= 3.4 install with -DKokkos_ROOT=<prefix> or CMAKE_PREFIX_PATH "
    "(Spack: spack load kokkos), or on Debian/Ubuntu: apt-get install libtrilinos-kokkos-dev.")
endif()
# No version in find_package: Kokkos' config accepts only its own major
# version, and chipcast supports 3.4 and 4.x alike.
if(Kokkos_VERSION VERSION_LESS 3.4)
  message(FATAL_ERROR "chipcast's Kokkos backend needs Kokkos >= 3.4; ${Kokkos_DIR} is ${Kokkos_VERSION}")
endif()

# Debian/Ubuntu's Kokkos (libtrilinos-kokkos-dev, built by Trilinos' TriBITS)
# installs its config in lib/<multiarch>/cmake/Kokkos but computes the
# Kokkos::kokkos include directory as if it were lib/cmake/Kokkos: four
# levels up from KokkosConfig.cmake is /usr/lib, so it lists /usr/lib/include
# and CMake refuses the target. The headers are in <prefix>/include/trilinos,
# which the same config also reports correctly in Kokkos_INCLUDE_DIRS. Only a
# listed directory that does not exist is replaced; a correct install is
# used unchanged.
get_target_property(_chipcast_kokkos_includes Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
set(_chipcast_kokkos_missing "")
set(_chipcast_kokkos_kept "")
foreach(_dir IN LISTS _chipcast_kokkos_includes)
  if(_dir AND NOT _dir MATCHES "\\$<" AND NOT EXISTS "${_dir}")
    list(APPEND _chipcast_kokkos_missing "${_dir}")
  elseif(_dir)
    list(APPEND _chipcast_kokkos_kept "${_dir}")
  endif()
endforeach()
if(_chipcast_kokkos_missing)
  find_path(CHIPCAST_KOKKOS_INCLUDE_DIR Kokkos_Core.hpp
    HINTS ${Kokkos_INCLUDE_DIRS} "${Kokkos_DIR}/../../../../include" "${Kokkos_DIR}/../../../include"
    PATH_SUFFIXES trilinos
    DOC "Directory of Kokkos_Core.hpp, when Kokkos::kokkos lists one that does not exist")
  if(NOT CHIPCAST_KOKKOS_INCLUDE_DIR)
    message(FATAL_ERROR "Kokkos::kokkos (${Kokkos_DIR}) lists the include directory ${_chipcast_kokkos_missing}, "
      "which does not exist, and Kokkos_Core.hpp was not found elsewhere; "
      "set -DCHIPCAST_KOKKOS_INCLUDE_DIR=<directory of Kokkos_Core.hpp>")
  endif()
  message(STATUS "Kokkos::kokkos lists ${_chipcast_kokkos_missing}, which does not exist "
    "(Debian's multiarch layout); using ${CHIPCAST_KOKKOS_INCLUDE_DIR}")
  set_target_properties(Kokkos::kokkos PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_chipcast_kokkos_kept};${CHIPCAST_KOKKOS_INCLUDE_DIR}")
endif()

# Host or device default execution space, from the devices the install was built with.
set(_chipcast_kokkos_on_device OFF)
foreach(_dev IN LISTS Kokkos_DEVICES)
  string(TOUPPER "${_dev}" _dev)
  if(_dev MATCHES "^(CUDA|HIP|SYCL|OPENMPTARGET)$")
    set(_chipcast_kokkos_on_device ON)
  endif()
endforeach()
message(STATUS "Kokkos ${Kokkos_VERSION} from ${Kokkos_DIR}: devices ${Kokkos_DEVICES}")

# Only this library sees Kokkos (and, with a CUDA Kokkos, Kokkos' compiler
# launcher or nvcc_wrapper): the rest of chipcast stays host-compiled.
add_library(chipcast_kokkos STATIC ${PROJECT_SOURCE_DIR}/backends/kokkos/kokkos_backend.cc)
target_link_libraries(chipcast_kokkos PUBLIC chipcast_tally PRIVATE Kokkos::kokkos)
# A Kokkos 4 built with Kokkos_ENABLE_COMPILE_AS_CMAKE_LANGUAGE wants its
# consumers' sources compiled as that language (CUDA or HIP).
if(Kokkos_COMPILE_LANGUAGE AND NOT Kokkos_COMPILE_LANGUAGE STREQUAL "CXX")
  enable_language(${Kokkos_COMPILE_LANGUAGE})
  set_source_files_properties(${PROJECT_SOURCE_DIR}/backends/kokkos/kokkos_backend.cc
    TARGET_DIRECTORY chipcast_kokkos PROPERTIES LANGUAGE ${Kokkos_COMPILE_LANGUAGE})
endif()
if(_chipcast_kokkos_on_device)
  target_link_libraries(chipcast_kokkos PRIVATE chipcast_kernels)
else()
  # The OpenMP backend's vectorisation flags (omp simd, libmvec, -O3,
  # -march=native): the same code from the same flags gives byte-identical
  # tallies. (Kokkos' own OpenMP space, if any, needs -fopenmp anyway.)
  target_link_libraries(chipcast_kokkos PRIVATE chipcast_kernels_host)
endif()

target_link_libraries(chipcast_backends PRIVATE chipcast_kokkos)
