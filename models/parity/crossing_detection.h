// Parity crossing detection per metric and lane: the first run of `sustain` periods with r >= threshold.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/lane_state.h"
#include "models/parity/log_ratio.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// The crossing rule of a run in the form the lane loops use.
struct CrossingRule {
  float log_thr;  // log threshold
  int sub;        // crossing-time bins per period (tally_layout.h)
  int sustain;    // periods a run must last
};

CC_FUNCTION CrossingRule crossing_rule(const ModelParams& p) {
  return {static_cast<float>(log(p.threshold)), p.sub_bins, p.sustain};
}

// Lane l before its first period: no run, no crossing (period 0 is dated
// T_0 whatever the previous ratio holds).
template <int L>
CC_FUNCTION void reset_crossing(int l, LaneState<L>& s) {
  for (int m = 0; m < kNumMetrics; ++m) {
    s.prev_log_r[m][l] = 0.0f;
    s.prev_zero[m][l] = 0;
    s.run[m][l] = 0;
    s.crossed[m][l] = 0;
    s.cand_bin[m][l] = 0;
    s.cand_t[m][l] = 0.0f;
  }
}

// Period k's ratio r of metric m in lane l (dt: the period's length in
// years). The crossing is the first period starting a run of `sustain`
// periods with r >= threshold, dated by log-interpolation between period
// ends; its candidate bin and time are kept from the run's first period and
// new_cross says whether the run was confirmed in this one.
// In two parts: crossing_run, in every period, advances the run and keeps
// what the candidate needs (CrossingStart); crossing_candidate dates the
// lanes that start a run, in periods where some lane does (rare), so the
// interpolation's division and rounding are not computed in every period.
template <int L>
// (This period's log ratio is s.prev_log_r once crossing_run has run.)
struct CrossingStart {
  float prev_lr[L];    // the previous period's log ratio and zero flag
  int32_t prev_zero[L];
  int32_t inf[L];      // r = +inf
  int32_t starts[L];   // a run starts here
};

template <int L>
CC_FUNCTION void crossing_run(int m, int l, const CrossingRule& rule, const LogRatio& r, LaneState<L>& s,
                              CrossingStart<L>& c) {
  const float lr = r.log_r;
  const bool above = (!r.nan) & (r.inf | ((!r.zero) & (lr >= rule.log_thr)));
  const int run_before = s.run[m][l];
  const bool starts = above & (run_before == 0);
  c.prev_lr[l] = s.prev_log_r[m][l];
  c.prev_zero[l] = s.prev_zero[m][l];
  c.inf[l] = r.inf ? 1 : 0;
  c.starts[l] = starts ? 1 : 0;
  const int run_now = above ? run_before + 1 : 0;
  s.run[m][l] = run_now;
  const bool confirm = above & (run_now == rule.sustain) & (s.crossed[m][l] == 0);
  s.new_cross[m][l] = confirm ? 1 : 0;
  s.crossed[m][l] = s.crossed[m][l] | (confirm ? 1 : 0);
  s.prev_log_r[m][l] = lr;
  s.prev_zero[m][l] = r.zero ? 1 : 0;
}

template <int L>
CC_FUNCTION void crossing_candidate(int m, int l, int k, float dt, const CrossingRule& rule,
                                    const CrossingStart<L>& c, LaneState<L>& s) {
  const float lr = s.prev_log_r[m][l];  // this period's, stored by crossing_run
  const float prev_lr = c.prev_lr[l];
  float frac = (rule.log_thr - prev_lr) / (lr - prev_lr);
  frac = frac > 1.0f ? 1.0f : frac;
  // Below 0 is unreachable in exact arithmetic (r_{k-1} < thr). NaN (a NaN or
  // infinite previous log ratio, e.g. inf - inf) also goes to 0, the period's
  // start: the comparisons are written so that NaN fails them, which keeps j
  // and the crossing bin in range whatever the inputs (a NaN converted to int
  // is undefined and gave INT_MIN - 1, an index ~8 GiB outside the tally).
  frac = frac >= 0.0f ? frac : 0.0f;
  int j = static_cast<int>(ceilf(frac * rule.sub)) - 1;
  j = j < 0 ? 0 : j;
  CC_ASSERT(j >= 0 && j < rule.sub);
  float t = static_cast<float>(k) * dt + dt * frac;
  int cbin = k * rule.sub + j;
  // Special cases of MODEL.md: k = 0 -> T_0; r_{k-1} = 0 -> T_k; r_k = inf -> T_{k-1}.
  const bool prev_zero = c.prev_zero[l] != 0;
  cbin = prev_zero ? k * rule.sub + rule.sub - 1 : cbin;
  t = prev_zero ? static_cast<float>(k + 1) * dt : t;
  const bool inf = c.inf[l] != 0;
  cbin = inf ? k * rule.sub - 1 : cbin;
  t = inf ? static_cast<float>(k) * dt : t;
  cbin = k == 0 ? rule.sub - 1 : cbin;
  t = k == 0 ? dt : t;
  const bool starts = c.starts[l] != 0;
  s.cand_bin[m][l] = starts ? cbin : s.cand_bin[m][l];
  s.cand_t[m][l] = starts ? t : s.cand_t[m][l];
}

}  // namespace chipcast::parity
