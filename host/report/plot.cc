// write_plots: the run folder's charts and report (see plot.h).
#include "host/report/plot.h"

#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "host/report/html_report.h"
#include "host/report/output_set.h"
#include "host/report/plot_charts.h"
#include "host/report/plot_data.h"
#include "host/report/report.h"

namespace chipcast {

std::vector<std::filesystem::path> write_plot_files(const std::filesystem::path& from,
                                                    const std::filesystem::path& into,
                                                    const std::filesystem::path& dir) {
  plot::RunData run = plot::load_run(from);
  run.dir = dir;

  // Build everything first, then write: a bad input leaves the folder untouched.
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& m : run.metrics) {
    files.emplace_back("fan_" + m.name + ".svg", plot::fan_chart(run, m));
    files.emplace_back("cdf_" + m.name + ".svg", plot::cdf_chart(run, m));
  }
  if (run.sensitivity) {
    if (auto doc = plot::tornado_chart(run, *run.sensitivity); !doc.empty())
      files.emplace_back("tornado.svg", std::move(doc));
    if (auto doc = plot::sobol_chart(run, *run.sensitivity); !doc.empty())
      files.emplace_back("sobol.svg", std::move(doc));
  }
  const std::map<std::string, std::string> charts(files.begin(), files.end());
  files.emplace_back("report.html", plot::html_report(run, charts));

  std::vector<std::filesystem::path> written;
  for (const auto& [name, content] : files) {
    write_file_atomic(into / name, content);
    written.push_back(into / name);
  }
  return written;
}

std::vector<std::filesystem::path> write_plots(const std::filesystem::path& dir) {
  OutputSet set = OutputSet::open(dir, OutputKind::plot);
  std::vector<std::filesystem::path> written = write_plot_files(dir, set.path(), dir);
  set.commit();
  for (auto& path : written) path = dir / path.filename();
  return written;
}

}  // namespace chipcast
