// Rank correlations to the Gaussian copula: Spearman -> normal-scale correlation, and its Cholesky factor.
#pragma once
#include <vector>

namespace chipcast::config {

// The normal-scale (Pearson) correlation whose Gaussian copula has Spearman
// rank correlation `spearman`: r = 2 sin(pi * rho_S / 6) (Pearson 1907).
double normal_scale_correlation(double spearman);

// Lower Cholesky factor L (row-major, n x n, L L^T = r) of the symmetric
// matrix `r` (row-major, n x n). Returns -1 on success, or the row i at which
// the pivot r_ii - sum_k L_ik^2 is not above `min_pivot`: the leading
// (i+1) x (i+1) block is then not (numerically) positive definite while the
// leading i x i block is. `l` is resized and zero-filled.
int cholesky_lower(const std::vector<double>& r, int n, std::vector<double>& l, double min_pivot = 1e-10);

}  // namespace chipcast::config
