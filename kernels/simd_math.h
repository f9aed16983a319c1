// Declares glibc's vector math (libmvec) variants so host lane loops vectorise without -ffast-math.
#pragma once
#include <math.h>

#include "chipcast_config.h"
#include "kernels/macros.h"

// glibc only announces its `omp declare simd` variants under __FAST_MATH__,
// which would also let the compiler assume there are no infinities or NaNs.
// The model relies on IEEE semantics (log 0 = -inf marks an empty bloc), so we
// announce the same libmvec entry points ourselves and build with plain
// -fno-math-errno. Only for x86-64 glibc hosts; elsewhere loops stay scalar.
// The vector variants never set errno, so they are announced only to the
// lane-loop translation units, the ones built with -fno-math-errno
// (CHIPCAST_KERNEL_HOST_FLAGS; g++ then defines __NO_MATH_ERRNO__).
#if !CHIPCAST_GPU_COMPILER && CHIPCAST_HAVE_LIBMVEC && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(__FAST_MATH__) && !defined(__clang__) && defined(__NO_MATH_ERRNO__)
extern "C" {
#pragma omp declare simd notinbranch
float logf(float) noexcept;
#pragma omp declare simd notinbranch
float expf(float) noexcept;
#pragma omp declare simd notinbranch
float sinf(float) noexcept;
#pragma omp declare simd notinbranch
float cosf(float) noexcept;
#pragma omp declare simd notinbranch
float log1pf(float) noexcept;
#pragma omp declare simd notinbranch
double log(double) noexcept;
#pragma omp declare simd notinbranch
double exp(double) noexcept;
#pragma omp declare simd notinbranch
double log1p(double) noexcept;
#pragma omp declare simd notinbranch
double expm1(double) noexcept;
#pragma omp declare simd notinbranch
double erfc(double) noexcept;
}
#define CHIPCAST_LIBMVEC_DECLARED 1
#else
#define CHIPCAST_LIBMVEC_DECLARED 0
#endif

// log(1 + x) for x >= 0 from one logf, by the classic correction
// u = 1 + x, log1p(x) = log(u) * x / (u - 1) (Goldberg, "What every computer
// scientist should know about floating-point arithmetic", 1991, Theorem 4):
// a few ulp, like log1pf, at a quarter of the cost of glibc 2.36's vector
// log1pf, and the same formula on every backend.
CC_FUNCTION float log1p_from_log(float x) {
  const float u = 1.0f + x;
  return u == 1.0f ? x : logf(u) * (x / (u - 1.0f));
}
