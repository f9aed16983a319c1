// Hand-built model parameters for kernel and backend tests (no TOML involved).
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "kernels/tally_layout.h"
#include "models/parity/params.h"

namespace chipcast::testing {

inline Dist fixed(double v) {
  Dist d;
  d.kind = DistKind::fixed;
  d.p0 = v;
  return d;
}

// A scenario where nothing binds but wafer capacity and every parameter is
// fixed: domestic log capacity is Brownian motion with drift `nu` and
// volatility `sigma` starting `a` below the foreign one, foreign constant, so
// the log ratio of every metric is log(thr) - a + nu t + sigma W_t.
inline std::unique_ptr<parity::ModelParams> brownian_params(double a, double nu, double sigma, double dt,
                                                            int periods, uint64_t seed) {
  using namespace parity;
  auto p = std::make_unique<ModelParams>();
  p->seed = seed;
  p->periods = periods;
  p->dt = dt;
  p->start_year = 2026.0;
  p->threshold = 1.0;
  p->sustain = 1;
  p->sub_bins = sub_bins_for(dt);
  for (int b = 0; b < kNumBlocs; ++b) {
    auto set = [&](int k, double v) { p->params[bloc_param_index(b, k)] = fixed(v); };
    set(kWafers0, b == kDomestic ? 1e4 * std::exp(-a) : 1e4);
    set(kWaferGrowth, b == kDomestic ? nu : 0.0);
    set(kWaferVol, b == kDomestic ? sigma : 0.0);
    set(kWaferCap, 1e30);
    set(kDiesPerWafer, 50);
    set(kYield0, 1.0);  // y = 1: no yield noise, log y = 0
    set(kYieldMax, 1.0);
    set(kLearningRate, 0.0);
    set(kYieldNoise, 0.0);
    set(kPerf0, 2.0);  // equal, so every metric's ratio is the same walk
    set(kPerfGrowth, 0.0);
    set(kHbm0, 1e30);
    set(kHbmGrowth, 0.0);
    set(kHbmVol, 0.0);
    set(kHbmPerChip0, 64);
    set(kHbmPerChipGrowth, 0.0);
    set(kPackaging0, 1e30);
    set(kPackagingGrowth, 0.0);
  }
  p->num_regimes = 1;
  p->initial_regime = 0;
  for (int r = 0; r < kMaxRegimes; ++r)
    for (int b = 0; b < kNumBlocs; ++b) {
      p->params[effect_param_index(r, b, kWaferGrowthAdj)] = fixed(0.0);
      p->params[effect_param_index(r, b, kLearningMult)] = fixed(1.0);
      p->params[effect_param_index(r, b, kHbmMult)] = fixed(1.0);
    }
  return p;
}

// Backends compiled into this build that can run here (GPU ones need a device).
inline std::vector<std::string> runnable_backends() {
  std::vector<std::string> out;
  for (const auto& n : compiled_backends()) {
    try {
      make_backend(n, BackendOptions{});
      out.push_back(n);
    } catch (const std::exception&) {
    }
  }
  return out;
}

inline std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace chipcast::testing
