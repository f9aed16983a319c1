// The run's one-page HTML report: headline numbers, the charts inlined, notes and warnings,
// provenance and the resolved config.
#pragma once
#include <map>
#include <string>

#include "host/report/plot_data.h"

namespace chipcast::plot {

// `charts` maps a chart's file name (fan_<metric>.svg, cdf_<metric>.svg, tornado.svg,
// sobol.svg) to its SVG document; those present are inlined in the page. Every text taken from
// the run is escaped. The page is self-contained (no scripts, no external resources) and is
// well-formed XML apart from its <!DOCTYPE html> line.
std::string html_report(const RunData& run, const std::map<std::string, std::string>& charts);

}  // namespace chipcast::plot
