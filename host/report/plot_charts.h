// The report's charts as SVG documents, from a run's data (see plot_data.h).
#pragma once
#include <string>

#include "host/report/plot_data.h"

namespace chipcast::plot {

// Human-readable name of a metric with its unit, e.g. "Units (accelerators)".
std::string metric_label(const std::string& metric);

// Fan chart of the domestic / foreign ratio of metric `m` over time: the 5–95 % and 25–75 %
// bands, the median, the parity line at the threshold, log y-axis with decade ticks. Zero and
// infinite quantiles (and values beyond the plotting range) are drawn at the edges and a note
// says so.
std::string fan_chart(const RunData& run, const MetricData& m);

// P(parity by year) with its 95 % Wilson band, the q05 / q50 / q95 parity years marked where
// they lie before the horizon, and P(no parity by the horizon).
std::string cdf_chart(const RunData& run, const MetricData& m);

// Tornado: per output, bars from the base value to the output with the parameter at its 10th
// and 90th percentile, sorted by swing. Empty string when there are no tornado entries.
std::string tornado_chart(const RunData& run, const SensitivityData& s);

// Sobol first-order and total indices per parameter as grouped bars with 95 % CI whiskers,
// sorted by total index. Empty string when there are no Sobol entries.
std::string sobol_chart(const RunData& run, const SensitivityData& s);

}  // namespace chipcast::plot
