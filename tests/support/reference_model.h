// A scalar, double-precision transcription of MODEL.md and MODEL-v2.md sections 1-5: the oracle every backend is checked against.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/tally/tally_layout.h"
#include "models/parity/params.h"

namespace chipcast::testing {

// The reference is written from MODEL.md's text (steps 1-7, regimes, events,
// shocks, the crossing rule), not from models/parity/trajectory.h, and reads
// the same Philox words for the same purposes (the draw contract of
// kernels/philox_stream.h). Alongside every value it carries a bound on how
// far a float32 evaluation of the same equations can be from it, so that a
// backend can be compared trajectory by trajectory with a tolerance derived
// from rounding rather than seen.
//
// How the bound is derived (reference_model.cc has the per-step terms):
// u = 2^-24 is float32's unit roundoff. Each float operation (a rounded
// parameter, an addition, a multiplication) adds at most u times the
// magnitude of its result; a float libm function (logf, expf, sinf, cosf)
// adds at most 4 ulp = 8u relative and propagates its argument's error by
// its derivative. The state recursions of MODEL.md (log C in step 1, log H
// in step 3, the learning clock tau in step 2) carry their error from
// period to period, so the bound grows linearly with the period (the worst
// case, not the random-walk sqrt(k) typical case). Levels are bounded in
// natural-log units (an absolute error on log x is the relative error on x);
// the min of step 6 is 1-Lipschitz, so it takes the largest of its terms'
// bounds. The whole bound is doubled (kBoundMargin) so that it does not rest
// on the exact count of operations a kernel uses for one equation.
//
// MODEL-v2.md adds: G(t) of a relaxing rate (its terms' roundings, the decay
// 2^(-t/h) through libm; a random walk's drift G(t_k) - G(t_{k-1}) carries
// both ends' bounds, so the walk's bound still grows linearly); running sums
// (growth adjustments, packaging shocks, the ceiling's shocks) one rounding
// per period; and the stocks, which are levels rather than logs: they carry
// absolute bounds, to which each period's draw-down adds the bounds of chips
// and of the flow it is netted against (the max of the draw-down and the
// floor at 0 are 1-Lipschitz), and a stock's share of an available amount
// enters that amount's log bound divided by the amount.
constexpr double kFloatRoundoff = 1.0 / 16777216.0;  // 2^-24
constexpr double kFloatLibm = 8 * kFloatRoundoff;    // 4 ulp of a float32 libm function
constexpr double kBoundMargin = 2.0;

// Which term of step 6's min gives a bloc's chips in a period.
enum class Limit : int8_t { dies = 0, hbm = 1, packaging = 2 };

// Crossing of one metric (MODEL.md "Crossing time").
struct ReferenceCrossing {
  bool crossed = false;
  int period = -1;        // k: the first period of the confirmed run
  double frac = 0;        // time since start = (period + frac) * dt
  double time = -1;       // years since start_year; -1 when censored
  double time_error = 0;  // bound on |float32 crossing time - time|
  int bin = -1;           // crossing-histogram bin (tally_layout.h); the last bin when censored
  // A float evaluation may reach a different decision "r >= threshold" in
  // some period up to the confirmation (or the horizon, if censored): the
  // log ratio lies within its bound of log(threshold) there. Such a
  // trajectory's crossing may differ from the reference's.
  bool decision_ambiguous = false;
  // The time lies within time_error of a sub-bin edge inside the period, so
  // the bin may be the neighbouring one (bin_neighbour).
  bool bin_ambiguous = false;
  int bin_neighbour = -1;
};

// What MODEL-v2.md's keys switch on that the drawn parameter table cannot
// say by its values: which growth rates have a `<name>_long` partner (an
// absent one means g_long = g, whatever the table holds at its index) and
// which bloc's performance is a lag behind the other's frontier (a perf_lag
// of 0 is a valid lag, so presence is not a value). Everything else of v2 is
// read from the table: stocks (0: none), regime effects (adjustments 0 and
// multipliers 1: none) and each shock's target.
// The growth rates in the order of their `_long` partners (BlocParamV2, the bits of ModelParams::v2_long).
enum GrowthRate : int {
  kRateWafer = parity::kWaferGrowthLong,
  kRateHbm = parity::kHbmGrowthLong,
  kRatePackaging = parity::kPackagingGrowthLong,
  kRatePerf = parity::kPerfGrowthLong,
  kRateHbmPerChip = parity::kHbmPerChipGrowthLong,
  kNumRates
};
struct ReferenceV2 {
  bool relaxes[parity::kNumBlocs][kNumRates] = {};  // <name>_long given (the bloc's growth_halflife then applies)
  int lag_bloc = -1;                                // the bloc with perf_lag; -1: none
};
// The v1 and v2 table index of each growth rate: g and g_long.
int growth_rate_index(int bloc, int rate);
int growth_long_index(int bloc, int rate);

// One trajectory of the reference.
struct ReferenceTrajectory {
  int periods = 0;
  // Per period k and series q = metric * kSeriesPerMetric + {0 ratio, 1
  // domestic, 2 foreign}: the natural log of the value (-inf for 0, +inf for
  // an infinite ratio, NaN for a NaN ratio) and the bound on a float32
  // kernel's error in it (kBoundMargin included).
  std::vector<double> log_value;  // [k * kNumSeries + q]
  std::vector<double> log_error;
  std::vector<int> regime;     // [k]: the regime in force during period k
  std::vector<Limit> limit;    // [k * kNumBlocs + b]: the binding term of step 6
  std::vector<int8_t> capped;  // [k * kNumBlocs + b]: 1 if step 1's wafer cap bound
  std::vector<double> yield;   // [k * kNumBlocs + b]: y of step 2 after its noise
  std::vector<double> jump;    // [k * kNumBlocs + b]: shock jumps log(1 - loss) of period k, any target
  // MODEL-v2.md state at the end of period k, [k * kNumBlocs + b]: the stocks
  // after the period's draw-down, log capacity after the ceiling and the log
  // ceiling itself (with wafer_cap_mult), and the period's chips.
  std::vector<double> die_stock, hbm_stock, log_capacity, log_ceiling, chips;
  ReferenceCrossing crossing[kNumMetrics];
  // Some Bernoulli or regime decision's uniform lies within 1e-12 of its
  // probability, where two double evaluations of the probability might
  // decide differently (in practice never: the uniforms are 2^-32 apart).
  bool draw_ambiguous = false;
};

// Runs trajectory `index` of the scenario `p` (parameters drawn by the
// portable sampler of models/parity/trajectory.h, which is not what is under
// test here; every period equation is the reference's own).
// The structure is what the config recorded in p (reference_v2_of) unless given.
ReferenceTrajectory simulate_reference(const parity::ModelParams& p, uint64_t index);
ReferenceTrajectory simulate_reference(const parity::ModelParams& p, uint64_t index, const ReferenceV2& v2);

// The v2 structure the config layer records in ModelParams: a rate relaxes
// when the bloc has a growth_halflife and gives that rate's `_long` (bit r of
// v2_long, in BlocParamV2 order, the order of GrowthRate); the lagging bloc.
// All off when p.v2 is 0 (a version-1 run).
ReferenceV2 reference_v2_of(const parity::ModelParams& p);

// MODEL-v2.md section 1: G(t) = g_long t + (g - g_long) (h / ln 2) (1 - 2^(-t/h)).
double growth_integral(double g, double g_long, double halflife, double t);

// A level-histogram bin (tally_layout.h) for a natural-log value, and where a
// float32 evaluation whose log value is within `log_error` of it may land.
struct ReferenceBin {
  int bin = -1;            // -1: NaN (an anomaly, never binned)
  bool near_edge = false;  // within the bound of a bin edge
  int neighbour = -1;      // the bin across that edge
};
ReferenceBin reference_level_bin(double log_value, double log_error);

}  // namespace chipcast::testing
