// Charts (SVG) and the HTML report of a finished run, drawn from its output folder.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace chipcast {

// Reads the run's files in `dir` (summary.json, crossing.csv, bands.csv, and resolved.toml and
// sensitivity.json when present) and adds the charts to it as one set (OutputSet, kind plot:
// the folder's earlier charts are replaced as a whole, its other files kept):
//   fan_<metric>.svg   the domestic / foreign ratio over time (5–95 %, 25–75 % bands, median,
//                      parity line; log scale)
//   cdf_<metric>.svg   P(parity by year) with its 95 % Wilson band and the q05/q50/q95 years
//   tornado.svg, sobol.svg   when sensitivity.json holds tornado / Sobol entries
//   report.html        one self-contained page: headline, the charts inlined, notes and
//                      warnings, provenance, resolved.toml
// Returns the files written (in `dir`), in that order. The same inputs give byte-identical files.
// Throws std::runtime_error naming the missing or malformed file (and the line or key), or
// OutputFolderRefused when the folder is missing or held by another command.
std::vector<std::filesystem::path> write_plots(const std::filesystem::path& dir);

// The same charts, for a set being written: reads the run's files in `from`, writes the charts
// into `into` (an OutputSet's path()) and names the run after `dir` in report.html. Returns the
// files written (in `into`).
std::vector<std::filesystem::path> write_plot_files(const std::filesystem::path& from,
                                                    const std::filesystem::path& into,
                                                    const std::filesystem::path& dir);

}  // namespace chipcast
