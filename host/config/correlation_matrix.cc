// Cholesky-Banachiewicz factorisation of a small correlation matrix, reporting the row where it fails.
#include "host/config/correlation_matrix.h"

#include <cmath>

namespace chipcast::config {

double normal_scale_correlation(double spearman) { return 2.0 * std::sin(M_PI * spearman / 6.0); }

int cholesky_lower(const std::vector<double>& r, int n, std::vector<double>& l, double min_pivot) {
  l.assign(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) {
      double s = r[i * n + j];
      for (int k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / l[j * n + j];
    }
    double d = r[i * n + i];
    for (int k = 0; k < i; ++k) d -= l[i * n + k] * l[i * n + k];
    if (!(d > min_pivot)) return i;
    l[i * n + i] = std::sqrt(d);
  }
  return -1;
}

}  // namespace chipcast::config
