// The regime of every lane: its effects, the Markov walk of a period and the scheduled events.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "models/parity/extra_slots.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Bloc b's regime effects for every regime, from the drawn parameters `all`
// (adjustment * dt, the learning decay per period, log hbm_mult).
template <int L>
CC_FUNCTION void init_regime_effects(const ModelParams& p, const double (&all)[kMaxParams][L], int b, LaneState<L>& s) {
  const double(*v)[L] = &all[bloc_param_index(b, 0)];
  for (int r = 0; r < p.num_regimes; ++r) {
    const double* adj = all[effect_param_index(r, b, kWaferGrowthAdj)];
    const double* learn = all[effect_param_index(r, b, kLearningMult)];
    const double* hbm = all[effect_param_index(r, b, kHbmMult)];
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      s.eff_adj_dt[r][b][l] = static_cast<float>(adj[l] * p.dt);
      s.eff_decay[r][b][l] = static_cast<float>(exp(-v[kLearningRate][l] * learn[l] * p.dt));
      s.eff_log_hbm[r][b][l] = static_cast<float>(log(hbm[l]));
    }
  }
}

// Bloc b's MODEL-v2.md regime effects for every regime (adjustments * dt,
// log packaging_mult, log wafer_cap_mult). Called only when p.v2.
template <int L>
CC_FUNCTION void init_regime_effects_v2(const ModelParams& p, const double (&all)[kMaxParams][L], int b,
                                        LaneState<L>& s) {
  for (int r = 0; r < p.num_regimes; ++r) {
    const double* hbm_adj = all[effect_v2_index(r, b, kHbmGrowthAdj)];
    const double* pack_adj = all[effect_v2_index(r, b, kPackagingGrowthAdj)];
    const double* perf_adj = all[effect_v2_index(r, b, kPerfGrowthAdj)];
    const double* pack_mult = all[effect_v2_index(r, b, kPackagingMult)];
    const double* cap_mult = all[effect_v2_index(r, b, kWaferCapMult)];
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      s.eff_hbm_adj_dt[r][b][l] = static_cast<float>(hbm_adj[l] * p.dt);
      s.eff_pack_adj_dt[r][b][l] = static_cast<float>(pack_adj[l] * p.dt);
      s.eff_perf_adj_dt[r][b][l] = static_cast<float>(perf_adj[l] * p.dt);
      s.eff_log_pack_mult[r][b][l] = static_cast<float>(log(pack_mult[l]));
      s.eff_log_cap_mult[r][b][l] = static_cast<float>(log(cap_mult[l]));
    }
  }
}

// The effect arrays a regime selects, per bloc (bit kNumEffectArrays * b + e
// of LaneState::varying_effects): v1's three, then MODEL-v2.md's five.
enum EffectArray : int {
  kEffAdj = 0,
  kEffDecay,
  kEffLogHbm,
  kEffHbmAdj,
  kEffPackAdj,
  kEffPerfAdj,
  kEffLogPackMult,
  kEffLogCapMult,
  kNumEffectArrays
};
CC_FUNCTION constexpr int32_t effect_bit(int b, int e) { return int32_t{1} << (kNumEffectArrays * b + e); }

// Bloc b's effect array `eff` (one of LaneState's eff_*) and its cur_* twin.
template <int L>
struct EffectPair {
  float (*eff)[kNumBlocs][L];  // [kMaxRegimes][kNumBlocs][L]
  float (*cur)[L];             // [kNumBlocs][L]
};
template <int L>
CC_FUNCTION EffectPair<L> effect_pair(LaneState<L>& s, int e) {
  switch (e) {
    case kEffAdj: return {s.eff_adj_dt, s.cur_adj_dt};
    case kEffDecay: return {s.eff_decay, s.cur_decay};
    case kEffLogHbm: return {s.eff_log_hbm, s.cur_log_hbm};
    case kEffHbmAdj: return {s.eff_hbm_adj_dt, s.cur_hbm_adj_dt};
    case kEffPackAdj: return {s.eff_pack_adj_dt, s.cur_pack_adj_dt};
    case kEffPerfAdj: return {s.eff_perf_adj_dt, s.cur_perf_adj_dt};
    case kEffLogPackMult: return {s.eff_log_pack_mult, s.cur_log_pack_mult};
    default: return {s.eff_log_cap_mult, s.cur_log_cap_mult};
  }
}

// Bit (b, e) of the result: effect array e of bloc b holds, in some lane, a
// value in some regime whose bits differ from regime 0's. An array without
// it has every lane's value the same in every regime, so its cur_* never
// changes after init_lanes' first selection, and select_effects skips it.
template <int L>
CC_FUNCTION int32_t varying_effects(const ModelParams& p, LaneState<L>& s) {
  int32_t mask = 0;
  const int na = p.v2 ? kNumEffectArrays : kEffHbmAdj;
  for (int b = 0; b < kNumBlocs; ++b)
    for (int e = 0; e < na; ++e) {
      const EffectPair<L> a = effect_pair<L>(s, e);
      int32_t differs = 0;
      for (int r = 1; r < p.num_regimes; ++r) {
        CC_SIMD
        for (int l = 0; l < L; ++l) {
          uint32_t x, y;
          memcpy(&x, &a.eff[r][b][l], sizeof x);
          memcpy(&y, &a.eff[0][b][l], sizeof y);
          differs |= x != y ? 1 : 0;
        }
      }
      mask |= differs ? effect_bit(b, e) : 0;
    }
  return mask;
}

// cur = eff of each lane's current regime, for bloc b.
template <int L>
CC_FUNCTION void select_effect(int nreg, const int32_t (&regime)[L], const float (*eff)[kNumBlocs][L], int b,
                               float (*cur)[L]) {
  CC_SIMD
  for (int l = 0; l < L; ++l) cur[b][l] = eff[0][b][l];
  for (int r = 1; r < nreg; ++r) {
    CC_SIMD
    for (int l = 0; l < L; ++l) cur[b][l] = regime[l] == r ? eff[r][b][l] : cur[b][l];
  }
}

// The current regime's effects for every lane: the arrays of bit mask
// `which` (effect_bit), all of them in init_lanes, later only those whose
// values differ between regimes (LaneState::varying_effects). Called only when
// some lane's regime changed: the effect tables are indexed by a run-time
// regime, which a GPU keeps in (slow) local memory, so the period loop reads
// only cur_*.
template <int L>
CC_FUNCTION void select_effects(const ModelParams& p, LaneState<L>& s, int32_t which) {
  const int nreg = p.num_regimes;
  const int na = p.v2 ? kNumEffectArrays : kEffHbmAdj;
  CC_UNROLL
  for (int b = 0; b < kNumBlocs; ++b)
    for (int e = 0; e < na; ++e) {
      if (!(which & effect_bit(b, e))) continue;
      const EffectPair<L> a = effect_pair<L>(s, e);
      select_effect<L>(nreg, s.regime, a.eff, b, a.cur);
    }
}

// The regime walk's word thresholds (LaneState::walk_last, walk_to) from p.q:
// the same for every block, computed once per block in init_lanes instead of
// in every period.
template <int L>
CC_FUNCTION void init_walk(const ModelParams& p, LaneState<L>& s) {
  uint32_t most = 0;  // the largest threshold of any move (walk_most)
  for (int from = 0; from < kMaxRegimes; ++from) {
    int32_t to = 0;
    double cum = 0.0;
    for (int j = 0; j < kMaxRegimes; ++j) {
      s.walk_last[from][j] = 0;
      if (from >= p.num_regimes || j >= p.num_regimes || j == from || p.q[from][j] <= 0.0) continue;
      cum += p.q[from][j];
      // Lanes in `from` whose uniform falls below the running sum, and that
      // have not picked an earlier destination, move to j. The uniform test
      // is on the raw word, as w <= thr - 1 (a 32-bit compare); no word
      // passes a zero threshold, so j is then no destination.
      const uint64_t thr = uniform_threshold(cum);
      if (thr == 0) continue;
      s.walk_last[from][j] = static_cast<uint32_t>(thr - 1);
      to |= int32_t{1} << j;
      most = s.walk_last[from][j] > most ? s.walk_last[from][j] : most;
    }
    s.walk_to[from] = to;
  }
  s.walk_most = most;
}

// The Markov walk of one period: walk destinations in name order with one
// uniform per lane (slot B, word 2: w_regime), against init_walk's
// thresholds. The outer loop is over source regimes so that every threshold
// is a broadcast constant inside the lane loop (no gathers). Sets `changed`
// if some lane moved. nreg = p.num_regimes.
template <int L>
CC_FUNCTION void regime_walk(int nreg, const uint32_t (&w_regime)[L], LaneState<L>& s,
                             int32_t& changed) {
  if (nreg > 1) {
    // Most periods no lane's word is below any move's threshold (walk_most):
    // then no lane moves, and the walk is skipped. (Without any move,
    // walk_most is 0 and walk_to all 0: a zero word finds nothing to pick.)
    int32_t may = 0;
    const uint32_t most = s.walk_most;
    CC_SIMD
    for (int l = 0; l < L; ++l) may |= w_regime[l] <= most ? 1 : 0;
    if (!may) return;
    int32_t next[L];
    CC_SIMD
    for (int l = 0; l < L; ++l) next[l] = s.regime[l];
    for (int from = 0; from < nreg; ++from) {
      const int32_t to = s.walk_to[from];
      for (int j = 0; j < nreg; ++j) {
        if (!(to & (int32_t{1} << j))) continue;
        const uint32_t last = s.walk_last[from][j];
        CC_SIMD
        for (int l = 0; l < L; ++l) {
          const bool pick = (s.regime[l] == from) & (next[l] == from) & (w_regime[l] <= last);
          next[l] = pick ? j : next[l];
        }
      }
    }
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      changed |= next[l] != s.regime[l] ? 1 : 0;
      s.regime[l] = next[l];
    }
  }
}

// The scheduled events of period k, in config order: each moves a lane to
// its regime with its probability (its own extra-slot word). Sets `changed`
// if some lane moved.
template <int L>
CC_FUNCTION void scheduled_events(const ModelParams& p, int k, uint64_t seed, uint64_t first, LaneState<L>& s,
                                  int32_t& changed) {
  const uint32_t period = static_cast<uint32_t>(k);
  for (int e = 0; e < p.num_events; ++e) {
    if (p.events[e].period != k) continue;
    const uint64_t thr = uniform_threshold(p.events[e].probability);
    const int target = p.events[e].regime;
    const int ui = event_uniform_index(e);
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      const TrajectoryHalves t = trajectory_halves(first, l);
      const uint32_t w = word_at(philox_words(seed, t.lo, t.hi, period, kSlotExtraBase + ui / 4), ui % 4);
      const int to = word_below(w, thr) ? target : s.regime[l];
      changed |= to != s.regime[l] ? 1 : 0;
      s.regime[l] = to;
    }
  }
}

// The regime step of period k: the Markov walk, then the scheduled events
// (after the walk, so an event wins). Returns 1 if some lane's regime changed
// (its effects must then be selected again), else 0. nreg = p.num_regimes,
// seed = p.seed and first = s.first, read by the caller before its lane
// loops store into s (a store to an int32_t member may alias p's ints).
template <int L>
CC_FUNCTION int32_t regime_step(const ModelParams& p, int k, int nreg, uint64_t seed, uint64_t first,
                                const uint32_t (&w_regime)[L], LaneState<L>& s) {
  int32_t changed = 0;
  regime_walk<L>(nreg, w_regime, s, changed);
  scheduled_events<L>(p, k, seed, first, s, changed);
  return changed;
}

}  // namespace chipcast::parity
