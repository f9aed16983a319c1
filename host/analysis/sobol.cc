// Saltelli/Jansen estimators and a row bootstrap, parallel over replicates and deterministic.
#include "host/analysis/sobol.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "kernels/philox_stream.h"

namespace chipcast::analysis {
namespace {

constexpr uint32_t kBootstrapPeriod = 0xB0075u;  // counter word reserved for the bootstrap's indices

inline size_t row(const uint32_t* idx, size_t j) { return idx ? idx[j] : j; }

}  // namespace

SobolPoint sobol_indices(const double* f_a, const double* f_b, const std::vector<const double*>& f_ab, size_t n,
                         const uint32_t* idx) {
  const size_t d = f_ab.size();
  SobolPoint out;
  out.first.assign(d, std::numeric_limits<double>::quiet_NaN());
  out.total.assign(d, std::numeric_limits<double>::quiet_NaN());
  if (n < 2) return out;
  double sum = 0;
  for (size_t j = 0; j < n; ++j) {
    const size_t r = row(idx, j);
    sum += f_a[r] + f_b[r];
  }
  const double m = sum / (2.0 * n);
  double ss = 0;
  std::vector<double> first(d, 0.0), total(d, 0.0);
  for (size_t j = 0; j < n; ++j) {
    const size_t r = row(idx, j);
    const double a = f_a[r], b = f_b[r] - m;
    ss += (a - m) * (a - m) + b * b;
    for (size_t i = 0; i < d; ++i) {
      const double ab = f_ab[i][r];
      first[i] += b * (ab - a);
      total[i] += (a - ab) * (a - ab);
    }
  }
  out.mean = m;
  out.variance = ss / (2.0 * n - 1.0);
  if (!(out.variance > 0)) return out;
  for (size_t i = 0; i < d; ++i) {
    out.first[i] = first[i] / n / out.variance;
    out.total[i] = total[i] / (2.0 * n) / out.variance;
  }
  return out;
}

double sample_quantile(std::vector<double>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double h = (v.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

SobolResult sobol_with_bootstrap(const double* f_a, const double* f_b, const std::vector<const double*>& f_ab, size_t n,
                                 int resamples, uint64_t seed, int threads) {
  if (n >= (size_t{1} << 32)) throw std::invalid_argument("sobol_with_bootstrap: n must be < 2^32");
  const size_t d = f_ab.size();
  SobolResult res;
  res.point = sobol_indices(f_a, f_b, f_ab, n);
  res.bootstrap = std::max(resamples, 0);
  const int reps = res.bootstrap;
  std::vector<double> rep_first(static_cast<size_t>(reps) * d), rep_total(static_cast<size_t>(reps) * d);
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel num_threads(nt)
  {
    std::vector<uint32_t> idx(n);
#pragma omp for schedule(static)
    for (int r = 0; r < reps; ++r) {
      for (size_t j = 0; j < n; j += 4) {
        const Words4 w = philox_words(seed, static_cast<uint64_t>(r), kBootstrapPeriod, static_cast<uint32_t>(j / 4));
        const uint32_t words[4] = {w.w0, w.w1, w.w2, w.w3};
        for (size_t k = 0; k < 4 && j + k < n; ++k)
          idx[j + k] = static_cast<uint32_t>((static_cast<uint64_t>(words[k]) * n) >> 32);  // uniform on [0, n)
      }
      const SobolPoint p = sobol_indices(f_a, f_b, f_ab, n, idx.data());
      for (size_t i = 0; i < d; ++i) {
        rep_first[r * d + i] = p.first[i];
        rep_total[r * d + i] = p.total[i];
      }
    }
  }
  auto summarise = [&](const std::vector<double>& reps_all, std::vector<double>& se, std::vector<Interval>& ci) {
    se.assign(d, std::numeric_limits<double>::quiet_NaN());
    ci.assign(d, Interval{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()});
    for (size_t i = 0; i < d; ++i) {
      std::vector<double> v;
      for (int r = 0; r < reps; ++r)
        if (std::isfinite(reps_all[r * d + i])) v.push_back(reps_all[r * d + i]);
      if (v.size() < 2) continue;
      double mean = 0;
      for (double x : v) mean += x;
      mean /= v.size();
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      se[i] = std::sqrt(ss / (v.size() - 1));
      ci[i].lo = sample_quantile(v, 0.025);
      ci[i].hi = sample_quantile(v, 0.975);
    }
  };
  summarise(rep_first, res.first_stderr, res.first_ci95);
  summarise(rep_total, res.total_stderr, res.total_ci95);
  return res;
}

}  // namespace chipcast::analysis
