// The Poisson shocks of every lane: their per-period thresholds and a period's jumps.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/distributions.h"
#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "models/parity/extra_slots.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// The shock thresholds of every lane from the drawn rates in `all` (see
// LaneState::thr_shock): computed in double, kept as word thresholds.
template <int L>
CC_FUNCTION void init_shock_thresholds(const ModelParams& p, const double (&all)[kMaxParams][L], LaneState<L>& s) {
  double tail[L];
  CC_SIMD
  for (int l = 0; l < L; ++l) tail[l] = 0.0;
  for (int k = p.num_shocks - 1; k >= 0; --k) {
    const double* rate = all[shock_rate_index(k)];
    for (int l = 0; l < L; ++l) {
      // tail[l] holds tail_{k+1} here, then tail_k.
      const double p_k = -expm1(-rate[l] * p.dt);
      const double tail_k = 1.0 - (1.0 - tail[l]) * (1.0 - p_k);
      s.thr_shock[k][l] = uniform_threshold(p_k);
      s.thr_shock_cond[k][l] = uniform_threshold(k == p.num_shocks - 1 ? 1.0 : p_k / tail_k);
      tail[l] = tail_k;
    }
  }
  for (int l = 0; l < L; ++l) s.thr_shock_any[l] = uniform_threshold(tail[l]);
}

// The shocks of lane l in a period where at least one shock occurs (the
// lane's "any shock" event fired): shock by shock conditionally, shock k
// occurring with probability p_k / tail_k while none before it has occurred,
// and p_k after. Occurrence words come four to a slot, loss words from other
// slots (drawn only when needed). Writes the lane's jumps log(1 - loss).
// Out of line on a GPU (CC_COLD): it runs in a few percent of the periods.
template <int L>
CC_COLD void lane_shocks(const ModelParams& p, uint32_t period, int l, LaneState<L>& s) {
  const TrajectoryHalves t = trajectory_halves(s.first, l);
  const uint64_t seed = p.seed;
  bool occurred = false;
  float jump_dom = 0.0f, jump_for = 0.0f;  // wafers (v1)
  // MODEL-v2.md section 5's other targets, per bloc.
  float hbm_dom = 0.0f, hbm_for = 0.0f, pack_dom = 0.0f, pack_for = 0.0f, cap_dom = 0.0f, cap_for = 0.0f;
  for (int g = 0; 4 * g < p.num_shocks; ++g) {
    const uint32_t slot = kSlotExtraBase + static_cast<uint32_t>(shock_uniform_index(4 * g) / 4);
    const uint32_t loss_slot = kSlotExtraBase + static_cast<uint32_t>(shock_loss_uniform_index(4 * g) / 4);
    const Words4 w = philox_words(seed, t.lo, t.hi, period, slot);
    Words4 lw{0, 0, 0, 0};
    bool have_loss_words = false;
    for (int k2 = 4 * g; k2 < 4 * g + 4 && k2 < p.num_shocks; ++k2) {
      const uint64_t thr = occurred ? s.thr_shock[k2][l] : s.thr_shock_cond[k2][l];
      if (!word_below(word_at(w, shock_uniform_index(k2) % 4), thr)) continue;
      occurred = true;
      if (!have_loss_words) {
        lw = philox_words(seed, t.lo, t.hi, period, loss_slot);
        have_loss_words = true;
      }
      const double loss =
          dist_quantile(p.shocks[k2].loss, p.tables, uniform_open(word_at(lw, shock_loss_uniform_index(k2) % 4)));
      const float j = static_cast<float>(log1p(-loss));
      const int32_t target = p.shocks[k2].target;
      const bool dom = p.shocks[k2].bloc == kDomestic;
      const bool fgn = p.shocks[k2].bloc == kForeign;
      jump_dom += (dom & (target == kTargetWafers)) ? j : 0.0f;
      jump_for += (fgn & (target == kTargetWafers)) ? j : 0.0f;
      hbm_dom += (dom & (target == kTargetHbm)) ? j : 0.0f;
      hbm_for += (fgn & (target == kTargetHbm)) ? j : 0.0f;
      pack_dom += (dom & (target == kTargetPackaging)) ? j : 0.0f;
      pack_for += (fgn & (target == kTargetPackaging)) ? j : 0.0f;
      cap_dom += (dom & (target == kTargetWaferCap)) ? j : 0.0f;
      cap_for += (fgn & (target == kTargetWaferCap)) ? j : 0.0f;
    }
  }
  s.jump[kDomestic][l] = jump_dom;
  s.jump[kForeign][l] = jump_for;
  if (p.v2) {
    s.jump_hbm[kDomestic][l] = hbm_dom;
    s.jump_hbm[kForeign][l] = hbm_for;
    s.jump_pack[kDomestic][l] = pack_dom;
    s.jump_pack[kForeign][l] = pack_for;
    s.jump_cap[kDomestic][l] = cap_dom;
    s.jump_cap[kForeign][l] = cap_for;
  }
}

// Poisson shocks of period `period`: permanent jumps log C += log(1 - loss)
// (v2: of the shock's target's log level).
// Shocks are independent Bernoulli(p_k) per period. They are sampled exactly
// but cheaply: one word (slot B, word 3, drawn with the normals) decides
// whether any shock occurs (probability tail_0); only for the few lanes where
// one does are the shocks drawn, one lane at a time (lane_shocks), so a block
// pays for the rare shock only in the lanes that have one.
template <int L>
CC_SEPARATE void shock_jumps(const ModelParams& p, uint32_t period, LaneState<L>& s) {
  int32_t any = 0;
  int32_t forced[L];
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    forced[l] = word_below(s.w_any[l], s.thr_shock_any[l]) ? 1 : 0;
    any |= forced[l];
  }
  // The jumps of a period without shocks are zero: the arrays are zeroed
  // only when the last period's shocks wrote them (live_jumps; 1 after
  // init_lanes), not in every period.
  if (s.live_jumps) {
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      s.jump[kDomestic][l] = 0.0f;
      s.jump[kForeign][l] = 0.0f;
    }
    if (p.v2) {
      CC_SIMD
      for (int l = 0; l < L; ++l) {
        CC_UNROLL
        for (int b = 0; b < kNumBlocs; ++b) {
          s.jump_hbm[b][l] = 0.0f;
          s.jump_pack[b][l] = 0.0f;
          s.jump_cap[b][l] = 0.0f;
        }
      }
    }
  }
  s.live_jumps = any;
  if (!any) return;
  for (int l = 0; l < L; ++l)
    if (forced[l]) lane_shocks<L>(p, period, l, s);
}

}  // namespace chipcast::parity
