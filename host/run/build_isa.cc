// The kernels' ISA from the compiler's predefined macros (this file gets the kernels' -march flag).
#include "host/run/build_isa.h"

#ifndef CHIPCAST_MARCH
#error "CHIPCAST_MARCH (the kernels' -march setting) is set by CMakeLists.txt for this file"
#endif

namespace chipcast {
namespace {

BuildIsa detect() {
  BuildIsa isa;
  isa.march = CHIPCAST_MARCH;
#if defined(__x86_64__) || defined(_M_X64)
  isa.arch = "x86_64";
#elif defined(__aarch64__)
  isa.arch = "aarch64";
#elif defined(__powerpc64__)
  isa.arch = "ppc64";
#else
  isa.arch = "other";
#endif
  auto& f = isa.features;
#if defined(__SSE2__)
  f.push_back("sse2");
#endif
#if defined(__SSE3__)
  f.push_back("sse3");
#endif
#if defined(__SSSE3__)
  f.push_back("ssse3");
#endif
#if defined(__SSE4_1__)
  f.push_back("sse4.1");
#endif
#if defined(__SSE4_2__)
  f.push_back("sse4.2");
#endif
#if defined(__AVX__)
  f.push_back("avx");
#endif
#if defined(__AVX2__)
  f.push_back("avx2");
#endif
#if defined(__FMA__)
  f.push_back("fma");
#endif
#if defined(__F16C__)
  f.push_back("f16c");
#endif
#if defined(__AVX512F__)
  f.push_back("avx512f");
#endif
#if defined(__AVX512CD__)
  f.push_back("avx512cd");
#endif
#if defined(__AVX512DQ__)
  f.push_back("avx512dq");
#endif
#if defined(__AVX512BW__)
  f.push_back("avx512bw");
#endif
#if defined(__AVX512VL__)
  f.push_back("avx512vl");
#endif
#if defined(__AVX512VNNI__)
  f.push_back("avx512vnni");
#endif
#if defined(__AVX512BF16__)
  f.push_back("avx512bf16");
#endif
#if defined(__AVX512FP16__)
  f.push_back("avx512fp16");
#endif
#if defined(__ARM_NEON)
  f.push_back("neon");
#endif
#if defined(__ARM_FEATURE_SVE)
  f.push_back("sve");
#endif
#if defined(__ARM_FEATURE_SVE2)
  f.push_back("sve2");
#endif
#if defined(__VSX__)
  f.push_back("vsx");
#endif
  return isa;
}

}  // namespace

std::string BuildIsa::text() const {
  std::string s = march + " " + arch + ":";
  for (const std::string& x : features) s += " " + x;
  if (features.empty()) s += " (no SIMD extensions)";
  return s;
}

const BuildIsa& build_isa() {
  static const BuildIsa isa = detect();
  return isa;
}

}  // namespace chipcast
