// Plain-data parameters of the parity model (MODEL.md v1, MODEL-v2.md v2), resolved on the host and read by kernels.
#pragma once
#include <stdint.h>

#include "kernels/distributions.h"
#include "kernels/tally/tally_shape.h"
#include "kernels/tally/time_grid.h"

namespace chipcast::parity {

enum Bloc : int { kDomestic = 0, kForeign = 1, kNumBlocs = 2 };

// Per-bloc parameters, in MODEL.md's table order. The config layer maps the
// TOML keys (bloc_param_name) to these indices.
enum BlocParam : int {
  kWafers0 = 0,
  kWaferGrowth,
  kWaferVol,
  kWaferCap,
  kDiesPerWafer,
  kYield0,
  kYieldMax,
  kLearningRate,
  kYieldNoise,
  kPerf0,
  kPerfGrowth,
  kHbm0,
  kHbmGrowth,
  kHbmVol,
  kHbmPerChip0,
  kHbmPerChipGrowth,
  kPackaging0,
  kPackagingGrowth,
  kNumBlocParams
};

enum RegimeEffect : int { kWaferGrowthAdj = 0, kLearningMult, kHbmMult, kNumEffects };

enum Metric : int { kUnits = 0, kCompute = 1, kMemory = 2 };

constexpr int kMaxRegimes = 8;
constexpr int kMaxShocks = 8;
constexpr int kMaxEvents = 16;

// Index of a bloc parameter, a regime effect and a shock rate in the flat parameter table.
// The parameter table's uniform i is word i%4 of the Philox call with period
// kParameterPeriod and slot i/4, so the layout is part of the random-number contract.
CC_FUNCTION constexpr int bloc_param_index(int bloc, int param) { return bloc * kNumBlocParams + param; }
CC_FUNCTION constexpr int effect_param_index(int regime, int bloc, int effect) {
  return kNumBlocs * kNumBlocParams + (regime * kNumBlocs + bloc) * kNumEffects + effect;
}
CC_FUNCTION constexpr int shock_rate_index(int shock) {
  return kNumBlocs * kNumBlocParams + kMaxRegimes * kNumBlocs * kNumEffects + shock;
}

// MODEL-v2.md's per-bloc parameters, appended after v1's table so v1's draws do not move.
enum BlocParamV2 : int {
  kWaferGrowthLong = 0,
  kHbmGrowthLong,
  kPackagingGrowthLong,
  kPerfGrowthLong,
  kHbmPerChipGrowthLong,
  kGrowthHalflife,
  kDieStock0,
  kHbmStock0,
  kPerfLag,
  kPerfLagDrift,
  kNumBlocParamsV2
};
// MODEL-v2.md's regime effects.
enum RegimeEffectV2 : int {
  kHbmGrowthAdj = 0,
  kPackagingGrowthAdj,
  kPerfGrowthAdj,
  kPackagingMult,
  kWaferCapMult,
  kNumEffectsV2
};
// Every per-trajectory (epistemic) scalar: v1's bloc parameters, regime
// effects and shock rates, then v2's bloc parameters and regime effects.
constexpr int kNumParamsV1 = kNumBlocs * kNumBlocParams + kMaxRegimes * kNumBlocs * kNumEffects + kMaxShocks;
constexpr int kMaxParams = kNumParamsV1 + kNumBlocs * kNumBlocParamsV2 + kMaxRegimes * kNumBlocs * kNumEffectsV2;
CC_FUNCTION constexpr int bloc_param_v2_index(int bloc, int param) {
  return kNumParamsV1 + bloc * kNumBlocParamsV2 + param;
}
CC_FUNCTION constexpr int effect_v2_index(int regime, int bloc, int effect) {
  return kNumParamsV1 + kNumBlocs * kNumBlocParamsV2 + (regime * kNumBlocs + bloc) * kNumEffectsV2 + effect;
}

// The quantity a shock's loss cuts (MODEL-v2.md section 5); v1 shocks hit wafers.
enum ShockTarget : int32_t { kTargetWafers = 0, kTargetHbm, kTargetPackaging, kTargetWaferCap, kNumTargets };

struct ShockSpec {
  int32_t bloc = kForeign;
  int32_t target = kTargetWafers;
  Dist loss;  // drawn each time the shock occurs, support within [0, 1]
};

struct EventSpec {
  int32_t period = 0;  // floor((at - start_year) / dt), within [0, periods)
  int32_t regime = 0;
  double probability = 0;
};

// How the per-trajectory uniforms of the parameters are produced. The
// defaults are MODEL.md v1 (one independent uniform per parameter); the rest
// are extensions that keep v1 reachable: Latin hypercube over the run's
// trajectory indices, a Gaussian copula for rank correlations, and alternative
// independent streams per parameter for Saltelli (Sobol) designs.
constexpr int kMaxCorrelated = 16;

struct SamplingDesign {
  int32_t latin = 0;  // 1: Latin hypercube over trajectory indices [0, latin_n)
  uint64_t latin_n = 0;
  int32_t num_correlated = 0;
  int32_t corr_index[kMaxCorrelated] = {};           // parameter-table indices
  double chol[kMaxCorrelated][kMaxCorrelated] = {};  // lower Cholesky factor (normal scale)
  uint32_t stream[kMaxParams] = {};                  // 0: the usual stream; s > 0: period kParameterPeriod - s
};

// ---- Observations (MODEL-v2.md sections 7-8; observation_step.h) ----
// The observation table a calibrate or score run carries (a plain run has
// none). An observed quantity is a metric (Metric: units, compute, memory) or,
// from kNumMetrics on, a supply quantity of bloc_step (ObservedSupply).
constexpr int kMaxObservations = 32;
enum ObservedSupply : int { kSupplyWafers = 0, kSupplyHbm, kSupplyPackaging, kNumSupply };
constexpr int kNumObservedQuantities = kNumMetrics + kNumSupply;
// An observation's bloc: kDomestic, kForeign, or the ratio domestic / foreign.
constexpr int32_t kObservedRatio = kNumBlocs;

struct ObservationSpec {
  int32_t year = 0;      // calendar year index from the start (annual_grid's rows)
  int32_t bloc = 0;      // kDomestic, kForeign or kObservedRatio
  int32_t quantity = 0;  // Metric, or kNumMetrics + ObservedSupply
  double log_value = 0;  // ln of the observed value
  double sd_log = 1;     // its lognormal error, > 0
};
// ---- end observations ----

struct ModelParams {
  uint64_t seed = 2026;
  // Time: periods k = 0..periods-1 of dt years from start_year (time_grid()).
  int32_t periods = 0;
  double dt = 0.25;
  double start_year = 2026.0;
  // Parity: first run of `sustain` periods with ratio >= threshold.
  double threshold = 1.0;
  int32_t sustain = 1;
  int32_t sub_bins = 25;  // crossing-time bins per period (sub_bins_for(dt), time_grid.h)

  // Every epistemic scalar; unused slots stay fixed at 0.
  Dist params[kMaxParams];

  // Regimes: per-period transition probabilities q[i][j] (i != j), already
  // converted from annual ones and scaled to sum <= 1 per row; regimes are
  // numbered in name order so the walk over destinations is in name order.
  int32_t num_regimes = 1;
  int32_t initial_regime = 0;
  double q[kMaxRegimes][kMaxRegimes] = {};

  int32_t num_shocks = 0;
  ShockSpec shocks[kMaxShocks];
  int32_t num_events = 0;
  EventSpec events[kMaxEvents];  // in config order; applied in that order

  SamplingDesign design;

  // MODEL-v2.md's mechanisms, selected per run so that a config without v2
  // keys runs v1's float operations unchanged (uniform branches only).
  int32_t v2 = 0;                     // 1: some v2 key is in use (the v2 bloc step)
  int32_t v2_growth[kNumBlocs] = {};  // 1: the bloc has a growth_halflife (relaxing rates)
  int32_t v2_stock[kNumBlocs] = {};   // 1: the bloc has a die_stock0 or hbm_stock0
  int32_t v2_long[kNumBlocs] = {};    // bit BlocParamV2 r: the bloc gives that <name>_long
  int32_t perf_lag_bloc = -1;         // the bloc whose perf lags the other's frontier, or -1

  QuantileTables tables;

  // ---- Calendar-year totals (MODEL-v2.md section 6) ----
  // annual_grid(start_year, dt, periods) (time_grid.h); per_year = 0: none.
  int32_t periods_per_year = 0;
  int32_t years = 0;
  // ---- end calendar-year totals ----

  // ---- Observations (MODEL-v2.md sections 7-8) ----
  // In year order (ties in config order). observed_periods: the periods up
  // to the end of the last observed year, 0 without observations.
  int32_t num_observations = 0;
  int32_t observed_periods = 0;
  ObservationSpec observations[kMaxObservations];
  // ---- end observations ----
};

// The time grid and the tally shape these parameters run on.
CC_FUNCTION TimeGrid time_grid(const ModelParams& p) { return TimeGrid{p.start_year, p.dt, p.periods, p.sub_bins}; }
CC_FUNCTION TallyShape tally_shape(const ModelParams& p) { return TallyShape{p.periods, p.sub_bins, p.years}; }

}  // namespace chipcast::parity
