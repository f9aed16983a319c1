// Philox4x32-10 through our stream wrapper against Random123's published known-answer vectors.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace chipcast
