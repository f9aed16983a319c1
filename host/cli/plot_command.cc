// cmd_plot: write_plots with its files listed on stdout.
#include "host/cli/plot_command.h"

#include <iostream>
#include <stdexcept>

#include "host/cli/exit_status.h"
#include "host/report/output_set.h"
#include "host/report/plot.h"

namespace chipcast::cli {

int cmd_plot(const std::string& dir) {
  try {
    for (const auto& path : write_plots(dir)) std::cout << path.string() << '\n';
    std::cout.flush();
    return kExitOk;
  } catch (const PlotToolsMissing& e) {  // like a backend this build lacks: nothing written
    std::cerr << "error: " << e.what() << '\n';
    return kExitConfig;
  } catch (const OutputFolderRefused& e) {  // missing, unusable or held by another command: like a bad flag
    std::cerr << "error: " << e.what() << '\n';
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitRuntime;
  }
}

}  // namespace chipcast::cli
