// One metric of every lane in a period: its ratio, the level bins of its three series and crossing detection.
#pragma once
#include <math.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/crossing_detection.h"
#include "models/parity/lane_state.h"
#include "models/parity/log_ratio.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Metric m of period k from both blocs' levels (bloc_step's log_metric):
// writes the bins of its ratio, domestic and foreign series (kNanLevelBin for a NaN
// ratio) and advances its crossing detection. One lane loop for all three,
// small enough for the host compiler to vectorise.
template <int L>
CC_FUNCTION void metric_step(int m, int k, float dt, const CrossingRule& rule,
                             const float (&log_metric)[kNumMetrics][kNumBlocs][L], LaneState<L>& s) {
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    const float ld = log_metric[m][kDomestic][l];
    const float lf = log_metric[m][kForeign][l];
    const LogRatio r(ld, lf);
    s.bin[m * kSeriesPerMetric + 0][l] = r.nan ? kNanLevelBin : level_bin(r.log_r, r.zero, r.inf);
    s.bin[m * kSeriesPerMetric + 1][l] = level_bin(ld, ld == -INFINITY, ld == INFINITY);
    s.bin[m * kSeriesPerMetric + 2][l] = level_bin(lf, lf == -INFINITY, lf == INFINITY);
    detect_crossing<L>(m, l, k, dt, rule, r, s);
  }
}

}  // namespace chipcast::parity
