// `chipcast plot DIR`: the charts and report.html of a finished run's output folder.
#pragma once
#include <string>

namespace chipcast::cli {

// write_plots(dir), then prints the files written (one per line) and returns
// 0; on failure prints "error: ..." to stderr and returns kExitRuntime (3).
int cmd_plot(const std::string& dir);

}  // namespace chipcast::cli
