// MODEL.md's and MODEL-v2.md's period equations in double precision, with a float32 rounding bound carried beside each value.
#include "tests/support/reference_model.h"

#include <Random123/uniform.hpp>
#include <algorithm>
#include <cmath>

#include "kernels/distributions.h"
#include "kernels/philox_stream.h"
#include "models/parity/trajectory.h"  // draw_all_parameters only: the parameter sampler, not under test here

namespace chipcast::testing {
namespace {

using namespace parity;

constexpr double kU = kFloatRoundoff;
constexpr double kPi = 3.14159265358979323846;
// A decision "uniform < probability" closer than this to its probability
// could go either way between two double evaluations of the probability.
constexpr double kDecisionMargin = 1e-12;

double mag(double x) { return std::fabs(x); }

// A standard normal from two words and the bound on a float32 Box–Muller's
// error in it. Draw contract (kernels/philox_stream.h): r = sqrt(-2 log
// u01(b)), angle = pi * uneg11(a), first normal r sin(angle), second r cos.
struct Normal {
  double z = 0, error = 0;
};
void box_muller_reference(uint32_t a, uint32_t b, Normal& first, Normal& second) {
  const double v = r123::u01<double>(b);
  const double x = r123::uneg11<double>(a);
  const double log_v = std::log(v);
  const double r2 = -2.0 * log_v;
  const double r = std::sqrt(r2);
  // r^2 in float: v is rounded twice on the way to float (2u relative, so
  // 2u absolute on log v), logf adds 8u of |log v|, the product u.
  const double d_r2 = 2.0 * (2 * kU + kFloatLibm * mag(log_v)) + kU * r2;
  // |sqrt(p) - sqrt(q)| <= min(|p - q| / sqrt(q), sqrt(|p - q|)): the second
  // matters when v is within float rounding of 1 (r near 0).
  const double d_r = std::min(r > 0 ? d_r2 / r : INFINITY, std::sqrt(d_r2)) + kU * r;
  // The float angle: uneg11 rounded twice (2u), pi rounded (u), the product
  // (u), each relative to |angle| <= pi; then sinf/cosf within 8u.
  const double d_trig = 4 * kPi * kU + kFloatLibm;
  first.z = r * std::sin(kPi * x);
  second.z = r * std::cos(kPi * x);
  first.error = d_r + r * d_trig + kU * mag(first.z);
  second.error = d_r + r * d_trig + kU * mag(second.z);
}

// log(logistic(x)) without overflow for either sign of x.
double log_logistic(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

// uniform_open(word i % 4 of (period, kSlotExtraBase + i / 4)): the
// event and shock uniforms, four to a slot (kernels/philox_stream.h).
double extra_uniform(uint64_t seed, uint64_t index, uint32_t period, int i) {
  const Words4 w = philox_words(seed, index, period, kSlotExtraBase + static_cast<uint32_t>(i / 4));
  return uniform_open(word_at(w, i % 4));
}
// The extra-slot indices: event e, then shock k's occurrence, then its loss.
int event_uniform(int e) { return e; }
int shock_uniform(int k) { return kMaxEvents + k; }
int loss_uniform(int k) { return kMaxEvents + kMaxShocks + k; }

// Per-trajectory values of one bloc (MODEL.md's parameter table, then MODEL-v2.md's).
struct BlocValues {
  double wafers0, wafer_growth, wafer_vol, wafer_cap, dies_per_wafer, yield0, yield_max, learning_rate, yield_noise,
      perf0, perf_growth, hbm0, hbm_growth, hbm_vol, hbm_per_chip0, hbm_per_chip_growth, packaging0, packaging_growth;
  double g[kNumRates], g_long[kNumRates];  // each growth rate at start and long-run (g_long = g when it does not relax)
  bool relaxes[kNumRates];
  double halflife, die_stock0, hbm_stock0, perf_lag, perf_lag_drift;
};

// G(t) of one rate of a bloc, and the bound on a float32 evaluation's
// error in it: g_long t (2 roundings), g - g_long (1), h / ln 2 (2), the
// decay 2^(-t/h) (its argument's 2 roundings through the derivative ln 2
// d t/h, then 8u of libm), 1 - decay (u; the decay's absolute error passes
// through unscaled), the product (2u) and the sum (u). Without relaxation
// G = g t exactly as v1's g * t_k (the v1 bound terms are kept by the caller).
struct Integral {
  double value = 0, error = 0;
};
Integral growth_integral_bounded(const BlocValues& q, int rate, double t) {
  Integral r;
  const double g = q.g[rate], gl = q.g_long[rate];
  if (!q.relaxes[rate]) {
    r.value = g * t;
    return r;
  }
  const double h = q.halflife, scale = h / std::log(2.0);
  const double decay = std::exp2(-t / h);
  const double diff = g - gl;
  r.value = gl * t + diff * scale * (1 - decay);
  const double err_decay = decay * (kFloatLibm + 2 * kU * std::log(2.0) * (t / h) + kU);
  const double rel = (err_decay + kU * (1 - decay)) / std::max(1 - decay, 1e-300);
  const double term = mag(diff * scale * (1 - decay));
  r.error = 2 * kU * mag(gl * t) + kU * (mag(g) + mag(gl)) * scale * (1 - decay) +
            (decay < 1 ? mag(diff) * scale * err_decay : 0.0) + term * (2 * kU + 2 * kU) +
            (decay < 1 ? 0.0 : term * rel) + kU * (mag(r.value) + mag(gl * t) + term);
  return r;
}

// The state of one bloc and the float32 error bounds on it.
struct BlocState {
  double log_c = 0, err_c = 0;  // step 1: log wafer capacity
  double tau = 0;               // step 2: learning clock
  double gap = 0, err_gap = 0;  // step 2: yield_max - y before noise, and its absolute bound
  double log_h = 0, err_h = 0;  // step 3: log HBM supply
  // MODEL-v2.md: G(t_{k-1}) of the two random walks (wafers, HBM), the log
  // ceiling with its wafer_cap shocks, the running sums of the packaging and
  // perf growth adjustments and of the packaging shocks, and the stocks
  // (levels, with absolute bounds).
  Integral g_prev[2];
  double log_cap = 0, err_cap = 0;
  double s_pack = 0, err_s_pack = 0, s_perf = 0, err_s_perf = 0, j_pack = 0, err_j_pack = 0;
  double die_stock = 0, err_ds = 0, hbm_stock = 0, err_hs = 0;
};

// The absolute bound on a positive level x from the bound e on its log.
double level_error(double x, double e) { return x > 0 ? x * std::expm1(e) : 0.0; }

}  // namespace

int growth_rate_index(int bloc, int rate) {
  static constexpr int kV1[kNumRates] = {kWaferGrowth, kHbmGrowth, kPackagingGrowth, kPerfGrowth, kHbmPerChipGrowth};
  return bloc_param_index(bloc, kV1[rate]);
}
int growth_long_index(int bloc, int rate) {
  static constexpr int kV2[kNumRates] = {kWaferGrowthLong, kHbmGrowthLong, kPackagingGrowthLong, kPerfGrowthLong,
                                         kHbmPerChipGrowthLong};
  return bloc_param_v2_index(bloc, kV2[rate]);
}

double growth_integral(double g, double g_long, double halflife, double t) {
  return g_long * t + (g - g_long) * (halflife / std::log(2.0)) * (1 - std::exp2(-t / halflife));
}

ReferenceV2 reference_v2_of(const ModelParams& p) {
  ReferenceV2 v2;
  if (!p.v2) return v2;
  for (int b = 0; b < kNumBlocs; ++b)
    for (int r = 0; r < kNumRates; ++r) v2.relaxes[b][r] = p.v2_growth[b] && (p.v2_long[b] >> r & 1);
  v2.lag_bloc = p.perf_lag_bloc;
  return v2;
}

ReferenceTrajectory simulate_reference(const ModelParams& p, uint64_t index) {
  return simulate_reference(p, index, reference_v2_of(p));
}

ReferenceTrajectory simulate_reference(const ModelParams& p, uint64_t index, const ReferenceV2& v2) {
  ReferenceTrajectory out;
  const int S = p.periods;
  out.periods = S;
  out.log_value.assign(static_cast<size_t>(S) * kNumSeries, 0.0);
  out.log_error.assign(static_cast<size_t>(S) * kNumSeries, 0.0);
  out.regime.assign(S, 0);
  out.limit.assign(static_cast<size_t>(S) * kNumBlocs, Limit::dies);
  out.capped.assign(static_cast<size_t>(S) * kNumBlocs, 0);
  out.yield.assign(static_cast<size_t>(S) * kNumBlocs, 0.0);
  out.jump.assign(static_cast<size_t>(S) * kNumBlocs, 0.0);
  for (auto* v : {&out.die_stock, &out.hbm_stock, &out.log_capacity, &out.log_ceiling, &out.chips})
    v->assign(static_cast<size_t>(S) * kNumBlocs, 0.0);

  double drawn[kMaxParams][1];
  draw_all_parameters<1>(p, index, drawn);
  auto value = [&](int i) { return drawn[i][0]; };
  BlocValues bv[kNumBlocs];
  for (int b = 0; b < kNumBlocs; ++b) {
    auto v = [&](int k) { return value(bloc_param_index(b, k)); };
    bv[b] = BlocValues{v(kWafers0),
                       v(kWaferGrowth),
                       v(kWaferVol),
                       v(kWaferCap),
                       v(kDiesPerWafer),
                       v(kYield0),
                       v(kYieldMax),
                       v(kLearningRate),
                       v(kYieldNoise),
                       v(kPerf0),
                       v(kPerfGrowth),
                       v(kHbm0),
                       v(kHbmGrowth),
                       v(kHbmVol),
                       v(kHbmPerChip0),
                       v(kHbmPerChipGrowth),
                       v(kPackaging0),
                       v(kPackagingGrowth),
                       {},
                       {},
                       {},
                       0,
                       0,
                       0,
                       0,
                       0};
    // "yield_max: if drawn below yield0, use yield0".
    if (bv[b].yield_max < bv[b].yield0) bv[b].yield_max = bv[b].yield0;
    auto w = [&](int k) { return value(bloc_param_v2_index(b, k)); };
    for (int r = 0; r < kNumRates; ++r) {
      bv[b].relaxes[r] = v2.relaxes[b][r];
      bv[b].g[r] = value(growth_rate_index(b, r));
      bv[b].g_long[r] = bv[b].relaxes[r] ? value(growth_long_index(b, r)) : bv[b].g[r];
    }
    bv[b].halflife = w(kGrowthHalflife);
    bv[b].die_stock0 = w(kDieStock0);
    bv[b].hbm_stock0 = w(kHbmStock0);
    bv[b].perf_lag = w(kPerfLag);
    bv[b].perf_lag_drift = w(kPerfLagDrift);
  }
  const double dt = p.dt;
  const double sqrt_dt = std::sqrt(dt);

  // Shocks: shock k occurs in a period with probability 1 - exp(-rate_k dt),
  // independently. The kernels draw this with fewer words (trajectory.h,
  // shock_jumps): one uniform (slot B, word 3) against tail_0 = P(some
  // shock occurs), then, in order, shock k with probability p_k / tail_k
  // while none has occurred (tail_k = P(some shock j >= k occurs)) and p_k
  // after one has; the same independent Bernoullis, written here from that
  // description so that the same words make the same decisions.
  const int ns = p.num_shocks;
  double shock_p[kMaxShocks], tail[kMaxShocks + 1];
  for (int k = 0; k < ns; ++k) shock_p[k] = 1.0 - std::exp(-value(shock_rate_index(k)) * dt);
  for (int k = 0; k <= ns; ++k) {
    double none = 1.0;
    for (int j = k; j < ns; ++j) none *= 1.0 - shock_p[j];
    tail[k] = 1.0 - none;
  }
  auto decide = [&](double u, double prob) {
    if (std::fabs(u - prob) < kDecisionMargin) out.draw_ambiguous = true;
    return u < prob;
  };

  BlocState st[kNumBlocs];
  for (int b = 0; b < kNumBlocs; ++b) {
    st[b].log_c = std::log(bv[b].wafers0);
    st[b].err_c = kU * mag(st[b].log_c);
    st[b].gap = bv[b].yield_max - bv[b].yield0;
    st[b].err_gap = kU * (bv[b].yield_max + bv[b].yield0 + st[b].gap);
    st[b].log_h = std::log(bv[b].hbm0);
    st[b].err_h = kU * mag(st[b].log_h);
    st[b].log_cap = std::log(bv[b].wafer_cap);
    st[b].err_cap = kU * mag(st[b].log_cap);
    st[b].die_stock = bv[b].die_stock0;
    st[b].err_ds = kU * bv[b].die_stock0;
    st[b].hbm_stock = bv[b].hbm_stock0;
    st[b].err_hs = kU * bv[b].hbm_stock0;
  }
  // The frontier a lagging bloc follows: the other bloc's perf0 exp(G(s)),
  // no regime effects, G(s) = g s before the start (s < 0).
  auto frontier_log = [&](int other, double s, double& error) {
    const BlocValues& o = bv[other];
    const Integral gi = s >= 0 ? growth_integral_bounded(o, kRatePerf, s) : Integral{o.g[kRatePerf] * s, 0.0};
    const double log_perf0 = std::log(o.perf0);
    // Rounding of perf0, of G's terms, and of the sum; plus G's own bound.
    error = kU * mag(log_perf0) + gi.error + 3 * kU * mag(gi.value) + 2 * kU * (mag(log_perf0) + mag(gi.value));
    return log_perf0 + gi.value;
  };

  int regime = p.initial_regime;
  for (int k = 0; k < S; ++k) {
    const uint32_t period = static_cast<uint32_t>(k);
    const Words4 wa = philox_words(p.seed, index, period, kSlotNormalsA);
    const Words4 wb = philox_words(p.seed, index, period, kSlotNormalsB);
    // Normals Z1, Z2, Z3 per bloc: domestic Z1,Z2 from (A0, A1); domestic Z3
    // and foreign Z1 from (A2, A3); foreign Z2, Z3 from (B0, B1).
    Normal z[kNumBlocs][3];
    box_muller_reference(wa.w0, wa.w1, z[kDomestic][0], z[kDomestic][1]);
    box_muller_reference(wa.w2, wa.w3, z[kDomestic][2], z[kForeign][0]);
    box_muller_reference(wb.w0, wb.w1, z[kForeign][1], z[kForeign][2]);

    // Regime: the Markov step at the start of the period (destinations in
    // name order, one uniform: slot B word 2), then this period's events in
    // config order (one uniform each), the event winning.
    if (p.num_regimes > 1) {
      const double u = uniform_open(wb.w2);
      double cum = 0;
      for (int j = 0; j < p.num_regimes; ++j) {
        if (j == regime) continue;
        cum += p.q[regime][j];
        if (decide(u, cum)) {
          regime = j;
          break;
        }
      }
    }
    for (int e = 0; e < p.num_events; ++e)
      if (p.events[e].period == k &&
          decide(extra_uniform(p.seed, index, period, event_uniform(e)), p.events[e].probability))
        regime = p.events[e].regime;
    out.regime[k] = regime;

    // Shock jumps log(1 - loss), summed per bloc and target, and the sum of their magnitudes.
    double jump_t[kNumBlocs][4] = {}, jump_mag_t[kNumBlocs][4] = {};
    if (ns > 0 && decide(uniform_open(wb.w3), tail[0])) {
      bool occurred = false;
      for (int s = 0; s < ns; ++s) {
        const double prob = occurred ? shock_p[s] : (s == ns - 1 ? 1.0 : shock_p[s] / tail[s]);
        if (!decide(extra_uniform(p.seed, index, period, shock_uniform(s)), prob)) continue;
        occurred = true;
        const double loss =
            dist_quantile(p.shocks[s].loss, p.tables, extra_uniform(p.seed, index, period, loss_uniform(s)));
        const double j = std::log(1.0 - loss);
        jump_t[p.shocks[s].bloc][p.shocks[s].target] += j;
        jump_mag_t[p.shocks[s].bloc][p.shocks[s].target] += mag(j);
      }
    }
    double jump[kNumBlocs], jump_mag[kNumBlocs];  // on wafer capacity (v1)
    for (int b = 0; b < kNumBlocs; ++b) {
      jump[b] = jump_t[b][kTargetWafers];
      jump_mag[b] = jump_mag_t[b][kTargetWafers];
    }

    const double t_k = (k + 1) * dt;  // time since start at the period's end
    double log_metric[kNumMetrics][kNumBlocs], err_metric[kNumMetrics][kNumBlocs];
    for (int b = 0; b < kNumBlocs; ++b) {
      const BlocValues& q = bv[b];
      BlocState& s = st[b];
      const size_t kb = static_cast<size_t>(k) * kNumBlocs + b;
      const double adj = value(effect_param_index(regime, b, kWaferGrowthAdj));
      const double learning_mult = value(effect_param_index(regime, b, kLearningMult));
      const double hbm_mult = value(effect_param_index(regime, b, kHbmMult));
      auto effect2 = [&](int e) { return value(effect_v2_index(regime, b, e)); };
      const double hbm_adj = effect2(kHbmGrowthAdj), pack_adj = effect2(kPackagingGrowthAdj),
                   perf_adj = effect2(kPerfGrowthAdj), pack_mult = effect2(kPackagingMult),
                   cap_mult = effect2(kWaferCapMult);
      // The bound on a float log of a multiplier (its rounding, then libm); 0 for an exact 1.
      auto log_mult_error = [](double m) { return m == 1.0 ? 0.0 : kU + kFloatLibm * mag(std::log(m)); };

      // A random walk's drift over the period: v1's g dt, or with relaxation
      // (MODEL-v2.md section 1) G(t_k) - G(t_{k-1}), whose two bounds add.
      auto walk_drift = [&](int rate, int walk, double& extra_error) {
        if (!q.relaxes[rate]) {
          extra_error = 0;
          return q.g[rate] * dt;
        }
        const Integral now = growth_integral_bounded(q, rate, t_k);
        const double d = now.value - s.g_prev[walk].value;
        extra_error = now.error + s.g_prev[walk].error + kU * (mag(now.value) + mag(s.g_prev[walk].value));
        s.g_prev[walk] = now;
        return d;
      };

      // 1. logC += drift + adj dt + wafer_vol sqrt(dt) Z1 + jumps; logC = min(logC, log ceiling), the
      //    ceiling log(wafer_cap) + its wafer_cap shocks (permanent) + log(wafer_cap_mult[r]) (v2).
      double err_drift_v2 = 0;
      const double drift = walk_drift(kRateWafer, 0, err_drift_v2), adj_dt = adj * dt, vol = q.wafer_vol * sqrt_dt;
      const double noise = vol * z[b][0].z;
      const double uncapped = s.log_c + drift + adj_dt + noise + jump[b];
      double err_uncapped = s.err_c + kU * (mag(drift) + mag(adj_dt) + mag(noise) + (1 + ns) * jump_mag[b]) +
                            mag(vol) * z[b][0].error + kU * (mag(vol) * mag(z[b][0].z)) +
                            4 * kU * (mag(s.log_c) + mag(drift) + mag(adj_dt) + mag(noise) + jump_mag[b]) +
                            err_drift_v2;
      if (jump_mag_t[b][kTargetWaferCap] > 0) {
        s.log_cap += jump_t[b][kTargetWaferCap];
        s.err_cap += kU * ((1 + ns) * jump_mag_t[b][kTargetWaferCap] + 2 * mag(s.log_cap));
      }
      const double log_cap = s.log_cap + std::log(cap_mult);
      const double err_cap = s.err_cap + log_mult_error(cap_mult) + (cap_mult == 1.0 ? 0.0 : kU * mag(log_cap));
      s.log_c = std::min(uncapped, log_cap);
      out.capped[kb] = uncapped > log_cap ? 1 : 0;
      // A min takes the error of the side it picks; either side when the two are within their errors.
      if (std::fabs(uncapped - log_cap) <= err_uncapped + err_cap)
        s.err_c = std::max(err_uncapped, err_cap);
      else
        s.err_c = uncapped > log_cap ? err_cap : err_uncapped;
      out.jump[kb] = jump[b] + jump_t[b][kTargetHbm] + jump_t[b][kTargetPackaging] + jump_t[b][kTargetWaferCap];
      out.log_capacity[kb] = s.log_c;
      out.log_ceiling[kb] = log_cap;

      // 2. tau += learning_mult dt; y = yield_max - (yield_max - yield0) exp(-learning_rate tau);
      //    y = logistic(logit(y) + yield_noise Z2), skipped when y is 0 or 1.
      s.tau += learning_mult * dt;
      const double gap = (q.yield_max - q.yield0) * std::exp(-q.learning_rate * s.tau);
      // Float error of the gap, whether a kernel multiplies it by a rounded
      // per-period decay (2u per period) or accumulates tau in float (its
      // rounding u tau per period times learning_rate).
      s.err_gap = s.err_gap * (s.gap > 0 ? gap / s.gap : 1.0) + gap * kU * (2 + q.learning_rate * s.tau);
      s.gap = gap;
      const double y_clean = q.yield_max - gap;
      const double err_y = s.err_gap + kU * (q.yield_max + y_clean);
      double log_y, err_log_y;
      if (y_clean > 0 && y_clean < 1) {
        const double logit = std::log(y_clean / (1 - y_clean));
        const double rel = err_y / y_clean + (err_y + kU * (1 - y_clean)) / (1 - y_clean) + kU;
        const double err_logit = rel + kFloatLibm * mag(logit);
        const double shift = q.yield_noise * z[b][1].z;
        const double x = logit + shift;
        const double err_x = err_logit + mag(q.yield_noise) * z[b][1].error + 2 * kU * mag(shift) + kU * mag(x);
        log_y = log_logistic(x);
        // log logistic is increasing and at most 0: a float x within err_x
        // gives a value in [log_logistic(x - err_x), min(0, log_logistic(x + err_x))],
        // plus the evaluation's own rounding.
        err_log_y = std::max(log_y - log_logistic(x - err_x), std::min(0.0, log_logistic(x + err_x)) - log_y) +
                    20 * kU + 2 * kU * mag(log_y);
      } else {
        log_y = y_clean >= 1 ? 0.0 : -INFINITY;
        err_log_y = 0;
      }
      out.yield[kb] = std::exp(log_y);

      // 3. logH += drift + hbm_growth_adj dt + hbm_vol sqrt(dt) Z3 + HBM shock jumps;
      //    the flow usable = exp(logH) hbm_mult dt.
      double err_drift_h_v2 = 0;
      const double drift_h = walk_drift(kRateHbm, 1, err_drift_h_v2), vol_h = q.hbm_vol * sqrt_dt;
      const double hbm_adj_dt = hbm_adj * dt, jump_h = jump_t[b][kTargetHbm], jump_h_mag = jump_mag_t[b][kTargetHbm];
      const double noise_h = vol_h * z[b][2].z;
      s.err_h += kU * mag(drift_h) + mag(vol_h) * z[b][2].error + 2 * kU * mag(noise_h) +
                 2 * kU * (mag(s.log_h) + mag(drift_h) + mag(noise_h)) + err_drift_h_v2;
      if (hbm_adj_dt != 0 || jump_h_mag > 0)
        s.err_h += kU * (2 * mag(hbm_adj_dt) + (1 + ns) * jump_h_mag) + 2 * kU * (mag(s.log_h) + jump_h_mag);
      s.log_h += drift_h + noise_h + hbm_adj_dt + jump_h;
      const double hbm_usable = std::exp(s.log_h) * hbm_mult * dt;
      const double err_log_usable = s.err_h + kU * mag(std::log(hbm_mult)) + kFloatLibm * mag(std::log(dt)) +
                                    2 * kU * (mag(s.log_h) + mag(std::log(hbm_mult)) + mag(std::log(dt)));

      // 4. hbm_per_chip = hbm_per_chip0 exp(G(t_k)); packaging = packaging0 exp(G(t_k) + S + shocks)
      //    packaging_mult[r] dt, S the running sum of packaging_growth_adj dt including this period.
      const Integral g_hpc = growth_integral_bounded(q, kRateHbmPerChip, t_k);
      const Integral g_pack = growth_integral_bounded(q, kRatePackaging, t_k);
      s.s_pack += pack_adj * dt;
      if (pack_adj != 0) s.err_s_pack += kU * (2 * mag(pack_adj * dt) + mag(s.s_pack));
      if (jump_mag_t[b][kTargetPackaging] > 0) {
        s.j_pack += jump_t[b][kTargetPackaging];
        s.err_j_pack += kU * ((1 + ns) * jump_mag_t[b][kTargetPackaging] + mag(s.j_pack));
      }
      const double pack_log_extra = s.s_pack + s.j_pack + std::log(pack_mult);
      const double hbm_per_chip = q.hbm_per_chip0 * std::exp(g_hpc.value);
      const double packaging = q.packaging0 * std::exp(g_pack.value + s.s_pack + s.j_pack) * pack_mult * dt;
      auto grown_error = [](double log0, double growth_t) {
        return kU * (mag(log0) + 3 * mag(growth_t) + mag(log0 + growth_t));
      };
      const double err_log_hpc = grown_error(std::log(q.hbm_per_chip0), g_hpc.value) + g_hpc.error;
      double err_log_pack = grown_error(std::log(q.packaging0 * dt), g_pack.value) + g_pack.error;
      if (pack_log_extra != 0)
        err_log_pack += s.err_s_pack + s.err_j_pack + log_mult_error(pack_mult) +
                        2 * kU *
                            (mag(s.s_pack) + mag(s.j_pack) + mag(std::log(pack_mult)) + mag(g_pack.value) +
                             mag(std::log(q.packaging0 * dt)));

      // 5. good_dies = exp(logC) 12 dt dies_per_wafer y.
      const double good_dies = std::exp(s.log_c) * 12 * dt * q.dies_per_wafer * std::exp(log_y);
      const double log_die_rate = std::log(12 * dt * q.dies_per_wafer);
      const double err_log_good = s.err_c + kU * mag(log_die_rate) + err_log_y +
                                  2 * kU * (mag(s.log_c) + mag(log_die_rate) + (std::isfinite(log_y) ? mag(log_y) : 0));

      // 6. chips = min(good_dies + die_stock, (HBM_usable + hbm_stock) / hbm_per_chip, packaging)
      //    (MODEL-v2.md section 2; v1 when both stocks are 0).
      const double dies_avail = good_dies + s.die_stock;
      const double hbm_avail = hbm_usable + s.hbm_stock;
      const double abs_good = level_error(good_dies, err_log_good),
                   abs_usable = level_error(hbm_usable, err_log_usable);
      double err_log_dies = err_log_good, err_log_avail = err_log_usable;
      if (s.die_stock > 0 || s.err_ds > 0)
        err_log_dies = dies_avail > 0 ? (abs_good + s.err_ds + kU * dies_avail) / dies_avail : 0.0;
      if (s.hbm_stock > 0 || s.err_hs > 0)
        err_log_avail = hbm_avail > 0 ? (abs_usable + s.err_hs + kU * hbm_avail) / hbm_avail : 0.0;
      const double hbm_chips = hbm_avail / hbm_per_chip;
      const double err_log_hbm_chips =
          err_log_avail + err_log_hpc + kU * mag(std::log(hbm_avail) - std::log(hbm_per_chip));
      double chips = dies_avail;
      Limit limit = Limit::dies;
      if (hbm_chips < chips) {
        chips = hbm_chips;
        limit = Limit::hbm;
      }
      if (packaging < chips) {
        chips = packaging;
        limit = Limit::packaging;
      }
      out.limit[kb] = limit;
      const double err_log_chips = chips > 0 ? std::max({err_log_dies, err_log_hbm_chips, err_log_pack}) : 0.0;
      out.chips[kb] = chips;

      // Draw-down: flows first, a stock gives the rest and never grows or
      // goes below 0. Each max is 1-Lipschitz, so in general the absolute
      // bounds of chips and of the flow add to the stock's. Two cases are
      // tighter and keep the bound from growing period after period: where
      // the available amount clearly binds (beyond the terms' bounds), the
      // stock is emptied in both evaluations up to the residue of rounding
      // chips (computed from that same amount; a libm round trip through logs
      // included); where chips clearly fall short of the flow, nothing is drawn.
      const double l_dies = std::log(dies_avail), l_hbm = std::log(hbm_chips), l_pack = std::log(packaging);
      const bool dies_bind =
          l_hbm - l_dies > err_log_dies + err_log_hbm_chips && l_pack - l_dies > err_log_dies + err_log_pack;
      const bool hbm_binds =
          l_dies - l_hbm > err_log_dies + err_log_hbm_chips && l_pack - l_hbm > err_log_hbm_chips + err_log_pack;
      constexpr double kResidue = 2 * kFloatLibm + 6 * kU;
      if (s.die_stock > 0 || s.err_ds > 0) {
        const double abs_chips = level_error(chips, err_log_chips);
        const double taken = std::max(0.0, chips - good_dies);
        if (dies_bind)
          s.err_ds = kResidue * dies_avail;
        else if (!(std::log(good_dies) - std::log(chips) > err_log_good + err_log_chips))
          s.err_ds += abs_chips + abs_good + kU * (mag(chips - good_dies) + s.die_stock);
        s.die_stock = std::max(0.0, s.die_stock - taken);
      }
      if (s.hbm_stock > 0 || s.err_hs > 0) {
        const double need = chips * hbm_per_chip;
        const double err_log_need = err_log_chips + err_log_hpc + kU;
        const double taken = std::max(0.0, need - hbm_usable);
        if (hbm_binds)
          s.err_hs = kResidue * hbm_avail;
        else if (!(std::log(hbm_usable) - std::log(need) > err_log_usable + err_log_need))
          s.err_hs += level_error(need, err_log_need) + abs_usable + kU * (mag(need - hbm_usable) + s.hbm_stock);
        s.hbm_stock = std::max(0.0, s.hbm_stock - taken);
      }
      out.die_stock[kb] = s.die_stock;
      out.hbm_stock[kb] = s.hbm_stock;

      // 7. units = chips; compute = chips perf; memory = chips hbm_per_chip. perf = perf0 exp(G(t_k) + S)
      //    with S the running sum of perf_growth_adj dt, or, for a lagging bloc (MODEL-v2.md section 4),
      //    the other bloc's frontier at t_k - L(t_k) times exp(S).
      s.s_perf += perf_adj * dt;
      if (perf_adj != 0) s.err_s_perf += kU * (2 * mag(perf_adj * dt) + mag(s.s_perf));
      double log_perf, err_log_perf;
      if (b == v2.lag_bloc) {
        const double lag = std::max(0.0, q.perf_lag + q.perf_lag_drift * t_k);
        const double at = t_k - lag;
        // The float s: perf_lag, drift t_k and their sum, then t_k - L; it
        // moves log perf by at most the frontier's largest rate times its error.
        const double err_at = kU * (mag(q.perf_lag) + 3 * mag(q.perf_lag_drift * t_k) + mag(lag) + mag(at) + t_k);
        const BlocValues& o = bv[1 - b];
        const double rate_max = std::max(mag(o.g[kRatePerf]), mag(o.g_long[kRatePerf]));
        double err_frontier = 0;
        log_perf = frontier_log(1 - b, at, err_frontier) + s.s_perf;
        err_log_perf = err_frontier + rate_max * err_at + s.err_s_perf + 2 * kU * (mag(log_perf) + mag(s.s_perf));
      } else {
        const Integral gp = growth_integral_bounded(q, kRatePerf, t_k);
        const double log_perf0 = std::log(q.perf0);
        log_perf = log_perf0 + gp.value + s.s_perf;
        // v1's terms (perf0's rounding, the product g t_k, the sum), then G's bound and S's.
        err_log_perf = kU * (mag(log_perf0) + 3 * mag(gp.value)) + gp.error + s.err_s_perf +
                       2 * kU * (mag(log_perf0) + mag(gp.value) + mag(s.s_perf));
      }
      const double log_chips = std::log(chips);
      log_metric[kUnits][b] = log_chips;
      log_metric[kCompute][b] = log_chips + log_perf;
      log_metric[kMemory][b] = std::log(chips * hbm_per_chip);
      err_metric[kUnits][b] = err_log_chips;
      err_metric[kCompute][b] = err_log_chips + err_log_perf + 2 * kU * mag(log_chips);
      err_metric[kMemory][b] = err_log_chips + err_log_hpc + kU * mag(log_metric[kMemory][b]);
      for (int m = 0; m < kNumMetrics; ++m)
        if (!std::isfinite(log_metric[m][b])) err_metric[m][b] = 0;  // an exact 0 (or inf) carries no rounding
    }

    // Ratio per metric: domestic / foreign; foreign 0 with domestic > 0 is
    // +inf, domestic 0 is 0 (also when both are 0).
    for (int m = 0; m < kNumMetrics; ++m) {
      const double ld = log_metric[m][kDomestic], lf = log_metric[m][kForeign];
      double lr;
      if (std::isnan(ld) || std::isnan(lf) || (ld == INFINITY && lf == INFINITY))
        lr = NAN;
      else if (ld == -INFINITY)
        lr = -INFINITY;
      else if (lf == -INFINITY)
        lr = INFINITY;
      else
        lr = ld - lf;
      const double err_r = std::isfinite(lr) ? err_metric[m][kDomestic] + err_metric[m][kForeign] + kU * mag(lr) : 0.0;
      const size_t base = static_cast<size_t>(k) * kNumSeries + m * kSeriesPerMetric;
      out.log_value[base + 0] = lr;
      out.log_value[base + 1] = ld;
      out.log_value[base + 2] = lf;
      out.log_error[base + 0] = kBoundMargin * err_r;
      out.log_error[base + 1] = kBoundMargin * err_metric[m][kDomestic];
      out.log_error[base + 2] = kBoundMargin * err_metric[m][kForeign];
    }
  }

  // Crossing: the first period k starting a run of `sustain` periods with
  // r >= threshold, dated in k by log interpolation between period ends
  // (T_0 when k = 0, T_k when r_{k-1} = 0, T_{k-1} when r_k = +inf; MODEL.md
  // leaves r_{k-1} = 0 with r_k = +inf open, and this takes T_{k-1}).
  const double log_thr = std::log(p.threshold);
  const double err_thr = kU * mag(log_thr);
  const int sub = p.sub_bins;
  for (int m = 0; m < kNumMetrics; ++m) {
    ReferenceCrossing c;
    int run = 0;
    ReferenceCrossing candidate;
    for (int k = 0; k < S && !c.crossed; ++k) {
      const size_t at = static_cast<size_t>(k) * kNumSeries + m * kSeriesPerMetric;
      const double lr = out.log_value[at], err = out.log_error[at];
      if (std::isfinite(lr) && std::fabs(lr - log_thr) <= err + err_thr) c.decision_ambiguous = true;
      const bool above = lr == INFINITY || (std::isfinite(lr) && lr >= log_thr);
      if (above && run == 0) {
        candidate = ReferenceCrossing{};
        candidate.period = k;
        const double prev = k > 0 ? out.log_value[at - kNumSeries] : 0.0;
        double frac_error = 0;
        if (k == 0) {
          candidate.frac = 1.0;
        } else if (lr == INFINITY) {
          candidate.frac = 0.0;
        } else if (prev == -INFINITY) {
          candidate.frac = 1.0;
        } else {
          const double err_prev = out.log_error[at - kNumSeries];
          const double num = log_thr - prev, den = lr - prev;
          candidate.frac = num / den;
          const double err_num = err_prev + err_thr + kU * mag(num);
          const double err_den = err_prev + err + kU * mag(den);
          frac_error =
              den > err_den ? (err_num + candidate.frac * err_den) / (den - err_den) + kU * candidate.frac : 1.0;
          frac_error = std::min(frac_error, 1.0);
          // Another sub-bin when frac * sub_bins is within rounding of an
          // interior integer (the period's own ends stay in its bins).
          const double x = candidate.frac * sub;
          const double edge = std::round(x);
          if (edge >= 1 && edge <= sub - 1 && std::fabs(x - edge) <= sub * frac_error + 2 * kU * sub) {
            candidate.bin_ambiguous = true;
            candidate.bin_neighbour = k * sub + static_cast<int>(edge) - (x > edge ? 1 : 0);
          }
        }
        candidate.time = (k + candidate.frac) * dt;
        candidate.time_error = dt * frac_error + 4 * kU * (k + 1) * dt;
        candidate.bin = k * sub + static_cast<int>(std::ceil(candidate.frac * sub)) - 1;
      }
      run = above ? run + 1 : 0;
      if (above && run == p.sustain) {
        const bool ambiguous = c.decision_ambiguous;
        c = candidate;
        c.crossed = true;
        c.decision_ambiguous = ambiguous;
      }
    }
    if (!c.crossed) {
      c.period = -1;
      c.time = -1;
      c.bin = S * sub;  // MODEL.md: after the S * sub time bins, one bin for the censored
    }
    out.crossing[m] = c;
  }
  return out;
}

ReferenceBin reference_level_bin(double log_value, double log_error) {
  ReferenceBin r;
  if (std::isnan(log_value)) return r;
  if (log_value == -INFINITY) {
    r.bin = kBinZero;
    return r;
  }
  if (log_value == INFINITY) {
    r.bin = kBinInfinite;
    return r;
  }
  // Position in bins: log10(value) from kLog10Low in steps of kLog10Width,
  // edges at the integers 0..kRegularBins (below 0: under; from kRegularBins: over).
  const double log10e = 0.43429448190325182765;
  const double low = static_cast<double>(kLog10Low), width = static_cast<double>(kLog10Width);
  const double scaled = log_value * log10e;
  const double pos = (scaled - low) / width;
  auto bin_at = [](double x) {
    return x < 0 ? kBinUnder : (x >= kRegularBins ? kBinOver : kBinFirstRegular + static_cast<int>(std::floor(x)));
  };
  r.bin = bin_at(pos);
  // The float position: the log value's bound, the rounded log10(e) and the
  // product (2u), the shift (u) and the scale (u).
  const double err_pos = (log_error * log10e + 2 * kU * mag(scaled) + kU * mag(scaled - low)) / width + kU * mag(pos);
  const double edge = std::min(std::max(std::round(pos), 0.0), static_cast<double>(kRegularBins));
  if (std::fabs(pos - edge) <= err_pos) {
    r.near_edge = true;
    r.neighbour = bin_at(pos >= edge ? edge - 0.5 : edge + 0.5);
  }
  return r;
}

}  // namespace chipcast::testing
