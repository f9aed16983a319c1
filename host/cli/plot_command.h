// `chipcast plot DIR`: the charts and report.html of an output folder (run, compare or sensitivity).
#pragma once
#include <string>

namespace chipcast::cli {

// write_plots(dir), then prints the files written (one per line) and returns 0. On failure
// prints "error: ..." to stderr and returns kExitConfig (2) when the folder is refused or the
// chart tools (Python, the chipcast package, matplotlib) are missing, else kExitRuntime (3).
int cmd_plot(const std::string& dir);

}  // namespace chipcast::cli
