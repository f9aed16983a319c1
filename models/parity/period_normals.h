// A period's two fixed Philox slots for every lane: six normals, the regime word and the "any shock" word.
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Slot A gives Z1, Z2, Z3 domestic and Z1 foreign, slot B Z2, Z3 foreign, the
// regime walk's uniform (word 2, into w_regime) and the "any shock" word
// (word 3, into s.w_any). z[bloc][j] is the normal of that bloc's step j+1 of
// MODEL.md's three random steps (capacity, yield, HBM). `first` and `seed`
// come as values so the lane loop needs no 64-bit loads.
template <int L>
CC_FUNCTION void period_normals(uint64_t seed, uint64_t first, uint32_t period, float (&z)[kNumBlocs][3][L],
                                uint32_t (&w_regime)[L], LaneState<L>& s) {
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    const TrajectoryHalves th = trajectory_halves(first, l);
    const Words4 wa = philox_words(seed, th.lo, th.hi, period, kSlotNormalsA);
    const Words4 wb = philox_words(seed, th.lo, th.hi, period, kSlotNormalsB);
    float z0, z1, z2, z3, z4, z5;
    box_muller(wa.w0, wa.w1, z0, z1);
    box_muller(wa.w2, wa.w3, z2, z3);
    box_muller(wb.w0, wb.w1, z4, z5);
    z[kDomestic][0][l] = z0;
    z[kDomestic][1][l] = z1;
    z[kDomestic][2][l] = z2;
    z[kForeign][0][l] = z3;
    z[kForeign][1][l] = z4;
    z[kForeign][2][l] = z5;
    w_regime[l] = wb.w2;
    s.w_any[l] = wb.w3;
  }
}

}  // namespace chipcast::parity
