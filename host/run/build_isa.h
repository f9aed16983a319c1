// The CPU instruction set the kernels were compiled for (-march and the SIMD extensions it enables), for summary.json and checkpoints.
#pragma once
#include <string>
#include <vector>

namespace chipcast {

// Results are byte-identical per build: the same code compiled for another
// ISA (AVX2 instead of AVX-512, say) can round differently in the vectorised
// lane loops. This records which one a run used.
struct BuildIsa {
  std::string march;                  // "native" (CHIPCAST_NATIVE=ON) or "default" (the compiler's baseline)
  std::string arch;                   // "x86_64", "aarch64", ...
  std::vector<std::string> features;  // SIMD extensions compiled in: "sse4.2", "avx2", "fma", "avx512f", ...
  // One line: "native x86_64: sse2 sse3 ... avx512vl".
  std::string text() const;
};

// What this binary's kernels were compiled for. build_isa.cc is compiled with
// the kernels' -march flag (CMakeLists.txt), so its predefined macros are theirs.
const BuildIsa& build_isa();

}  // namespace chipcast
