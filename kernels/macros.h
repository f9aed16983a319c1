// Portability macros: one spelling for host/device functions on every backend.
#pragma once

// Feature macros are always defined as 0 or 1 and tested with #if.
#if defined(__CUDACC__) || defined(__HIPCC__)
#define CHIPCAST_GPU_COMPILER 1
#else
#define CHIPCAST_GPU_COMPILER 0
#endif

#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
#define CHIPCAST_DEVICE_PASS 1
#else
#define CHIPCAST_DEVICE_PASS 0
#endif

#if defined(__HIPCC__)
#define CHIPCAST_HIP 1
// hipcc defines __host__, __device__ and __forceinline__ only in its runtime header.
#include <hip/hip_runtime.h>
#else
#define CHIPCAST_HIP 0
#endif

#if defined(CHIPCAST_KOKKOS_FUNCTION_MACROS) && CHIPCAST_KOKKOS_FUNCTION_MACROS
// The Kokkos backend compiles the kernels with Kokkos' own markup, so a site
// Kokkos built for CUDA/HIP/SYCL gets the right attributes.
#include <Kokkos_Macros.hpp>
// The force-inlining kind, like the other branches: a call left in a lane
// loop stops it vectorising, and the out-of-line kernel templates must compile
// to the same code here as in the OpenMP backend (the linker keeps one copy).
#define CC_FUNCTION KOKKOS_FORCEINLINE_FUNCTION
#elif CHIPCAST_GPU_COMPILER
#define CC_FUNCTION __host__ __device__ __forceinline__
#elif defined(__GNUC__)
// Always inlined: a call left inside a lane loop stops it vectorising.
#define CC_FUNCTION inline __attribute__((always_inline))
#else
#define CC_FUNCTION inline
#endif

// Loops across the lanes of a trajectory block: vectorised on the host
// (OpenMP simd), a single lane on a GPU thread where the pragma is pointless.
#if !CHIPCAST_DEVICE_PASS && defined(_OPENMP) || !CHIPCAST_DEVICE_PASS && defined(CHIPCAST_OPENMP_SIMD)
#define CC_SIMD _Pragma("omp simd")
#else
#define CC_SIMD
#endif

// A function kept out of line on the host: some lane loops stop vectorising
// when certain other loops are inlined next to them (seen with g++ 12).
#if !CHIPCAST_GPU_COMPILER && defined(__GNUC__)
#define CC_SEPARATE inline __attribute__((noinline))
#else
#define CC_SEPARATE CC_FUNCTION
#endif

// A rarely taken path kept out of line on a GPU, so that its registers do
// not add to those of the loop around it: the simulate kernel's register
// count decides how many threads an SM holds (the shock draws inlined took
// it from 128 to 137 registers on sm_90, 108 out of line). Inlined elsewhere.
#if CHIPCAST_GPU_COMPILER && !(defined(CHIPCAST_KOKKOS_FUNCTION_MACROS) && CHIPCAST_KOKKOS_FUNCTION_MACROS)
#define CC_COLD __host__ __device__ __noinline__
#else
#define CC_COLD CC_FUNCTION
#endif

// Fixed-count loops over blocs, metrics and series: unrolled on a GPU, so that
// the arrays they index have constant indices and stay in registers (a
// run-time index puts an array in slow local memory). The host vectorises the
// lane loops inside them instead.
#if CHIPCAST_GPU_COMPILER
#define CC_UNROLL _Pragma("unroll")
#else
#define CC_UNROLL
#endif

// CC_ASSUME(cond): tells the host compiler that cond holds, so that a test of
// it in code inlined after it is dropped (the record loops' fast path, whose
// bins are known to be >= 0); nothing on a GPU compiler.
#if !CHIPCAST_GPU_COMPILER && defined(__GNUC__)
#define CC_ASSUME(cond)                 \
  do {                                  \
    if (!(cond)) __builtin_unreachable(); \
  } while (0)
#else
#define CC_ASSUME(cond) \
  do {                  \
  } while (0)
#endif

// CC_ASSERT(cond): a kernel precondition, checked in debug builds only (no
// NDEBUG) and compiled to nothing in release, where the lane loops must stay
// branch-free to vectorise. A failure names the file, line and condition,
// then stops: a device-side printf and trap on CUDA/HIP (the launch fails
// with an error the backend reports), a message on stderr and abort() on the
// host. For indices computed from data (a bin from a ratio, a crossing's
// sub-bin): an out-of-range one would write outside the tally.
#if defined(NDEBUG)
#define CC_ASSERT(cond) ((void)0)
#elif CHIPCAST_DEVICE_PASS
#if CHIPCAST_HIP
#define CC_TRAP() __builtin_trap()
#else
#define CC_TRAP() __trap()
#endif
#define CC_ASSERT(cond) \
  ((cond) ? (void)0 : (printf("%s:%d: kernel precondition failed: %s\n", __FILE__, __LINE__, #cond), CC_TRAP()))
#else
#include <cstdio>
#include <cstdlib>
namespace chipcast::detail {
// Out of line and cold, so that the check costs a compare and a branch.
[[noreturn]] __attribute__((noinline, cold)) inline void kernel_assert_failed(const char* cond, const char* file,
                                                                              int line) {
  std::fprintf(stderr, "%s:%d: kernel precondition failed: %s\n", file, line, cond);
  std::abort();
}
}  // namespace chipcast::detail
#define CC_ASSERT(cond) ((cond) ? (void)0 : ::chipcast::detail::kernel_assert_failed(#cond, __FILE__, __LINE__))
#endif
