// Charts and report.html of an output folder, drawn by the Python package (chipcast.plotting, matplotlib).
#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace chipcast {

// The chart tools cannot run: the interpreter, the chipcast package or matplotlib / pandas /
// NumPy is missing. what() says which and how to get it. Commands exit 2 (nothing was written).
class PlotToolsMissing : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The interpreter and package folder the charts run with: env CHIPCAST_PYTHON, else the
// Python3_EXECUTABLE found at configure time; env CHIPCAST_PYTHONPATH, else <build>/python.
std::string plot_python();
std::string plot_pythonpath();

// Checks that `<python> -m chipcast.plotting --check` runs (so `run --plot` can refuse before any
// trajectory runs). Throws PlotToolsMissing.
void check_plot_tools();

// Runs `<python> -m chipcast.plotting FROM INTO --name DIR`: reads the output folder's files in
// `from` (a run's summary.json, crossing.csv, bands.csv, annual.csv; sensitivity.json;
// compare.json; a score's score.json and score.csv with its run's annual.csv; a calibrate
// folder's calibration.json, calibration.csv, parameter_quantiles.csv, prior/ and posterior/)
// and writes into `into` (an OutputSet's path()) each chart as .svg and .png (fan_<metric>,
// cdf_<metric>, annual_<metric>, tornado, sobol, shift_<metric>, annual_observed_<metric>,
// marginals) and report.html,
// naming the folder `dir` in the report. Returns the files written (in `into`), in order.
// Throws PlotToolsMissing, or std::runtime_error with the package's message when it fails (a
// missing or malformed file) or is killed.
std::vector<std::filesystem::path> write_plot_files(const std::filesystem::path& from,
                                                    const std::filesystem::path& into,
                                                    const std::filesystem::path& dir);

// write_plot_files into an OutputSet of kind plot on `dir`, committed when the package succeeded:
// the folder's earlier charts are replaced as a whole and its other files kept; on any failure
// the folder is left as it was. Returns the files written (in `dir`). Throws as
// write_plot_files, or OutputFolderRefused when the folder is missing or held by another command.
std::vector<std::filesystem::path> write_plots(const std::filesystem::path& dir);

// Whether `name` is one of the files write_plot_files writes (the output set's kind plot).
bool is_plot_file(const std::string& name);

}  // namespace chipcast
