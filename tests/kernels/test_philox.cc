// Philox4x32-10 through our stream wrapper against Random123's published known-answer vectors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/philox_stream.h"

namespace chipcast {
namespace {

struct Kat {
  uint32_t ctr[4];
  uint32_t key[2];
  uint32_t expect[4];
};

// Random123 tests/kat_vectors, the three "philox4x32 10" lines, and the
// vector measured in ../shared/design/TOOLCHAIN.md.
const Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    {{0, 1, 2, 3}, {4, 5}, {0xc427af5d, 0xe75eea3a, 0x47c2b122, 0x5ffb03c7}},
};

TEST(Philox, KnownAnswerVectorsThroughStreamLayout) {
  for (const Kat& k : kKats) {
    // Our counter is {trajectory lo, trajectory hi, period, slot}, key {seed lo, seed hi}.
    const uint64_t trajectory = (uint64_t{k.ctr[1]} << 32) | k.ctr[0];
    const uint64_t seed = (uint64_t{k.key[1]} << 32) | k.key[0];
    const Words4 w = philox_words(seed, trajectory, k.ctr[2], k.ctr[3]);
    EXPECT_EQ(w.w0, k.expect[0]);
    EXPECT_EQ(w.w1, k.expect[1]);
    EXPECT_EQ(w.w2, k.expect[2]);
    EXPECT_EQ(w.w3, k.expect[3]);
  }
}

TEST(Philox, UniformsStayInsideOpenInterval) {
  EXPECT_GT(uniform_open(0u), 0.0);
  EXPECT_LT(uniform_open(0xffffffffu), 1.0);
  EXPECT_GT(uniform_float(0u), 0.0f);
  EXPECT_LE(uniform_float(0xffffffffu), 1.0f);
}

// The integer test w < uniform_threshold(p) must decide exactly as the double
// test uniform_open(w) < p: at every word next to the threshold, for
// probabilities on and next to the uniforms' own values, and at the ends.
TEST(Philox, UniformThresholdDecidesExactlyAsTheDoubleTest) {
  std::vector<double> ps = {0.0,
                            -0.5,
                            1.0,
                            1.5,
                            std::nan(""),
                            1e-300,
                            1.0 / 8589934592.0,
                            0.5,
                            0.25,
                            0.05,
                            0.1 + 0.12,
                            1.0 - 1e-12,
                            std::nextafter(1.0, 0.0)};
  for (uint32_t w : {0u, 1u, 2u, 12345u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu}) {
    const double u = uniform_open(w);
    ps.push_back(u);
    ps.push_back(std::nextafter(u, 0.0));
    ps.push_back(std::nextafter(u, 2.0));
  }
  for (int i = 0; i < 2000; ++i) {  // Philox-drawn probabilities in (0, 1)
    const Words4 x = philox_words(7, static_cast<uint64_t>(i), 0u, 0u);
    ps.push_back((static_cast<double>(x.w0) * 4294967296.0 + x.w1) / 18446744073709551616.0);
  }
  for (double p : ps) {
    const uint64_t t = uniform_threshold(p);
    ASSERT_LE(t, uint64_t{1} << 32) << p;
    // The decision flips exactly at the threshold: check the words on either side.
    for (int64_t d = -2; d <= 1; ++d) {
      const int64_t w = static_cast<int64_t>(t) + d;
      if (w < 0 || w > 0xffffffffLL) continue;
      const uint32_t word = static_cast<uint32_t>(w);
      EXPECT_EQ(word_below(word, t), uniform_open(word) < p) << "p=" << p << " w=" << w;
    }
    for (uint32_t word : {0u, 0xffffffffu}) EXPECT_EQ(word_below(word, t), uniform_open(word) < p) << p;
  }
}

// log1p_from_log against the double-precision log1p (an independent oracle)
// over the range the model uses it on, x = exp(-|logit|) in (0, 1].
TEST(SimdMath, Log1pFromLogIsAccurateToAFewUlp) {
  double worst = 0.0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = std::exp(-static_cast<float>(i) * 0.0005f);  // 1 .. e^-100
    const double exact = std::log1p(static_cast<double>(x));
    const double got = log1p_from_log(x);
    const double ulp = std::nextafter(static_cast<float>(exact), 2.0f) - static_cast<float>(exact);
    worst = std::max(worst, std::fabs(got - exact) / ulp);
  }
  EXPECT_LT(worst, 4.0);
  EXPECT_EQ(log1p_from_log(0.0f), 0.0f);
}

}  // namespace
}  // namespace chipcast
