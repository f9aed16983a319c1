// print_error and report_error: exceptions to messages and exit statuses.
#include "host/cli/error_report.h"

#include <fmt/core.h>

#include <stdexcept>

#include "host/cli/exit_status.h"
#include "host/config/scenario.h"
#include "host/report/output_set.h"

namespace chipcast::cli {

void print_error(const RunError& error) {
  if (!error.report_here()) return;
  if (error.rank() >= 0)
    fmt::print(stderr, "error (rank {}): {}\n", error.rank(), error.what());
  else
    fmt::print(stderr, "error: {}\n", error.what());
}

int report_error(const std::exception& e) {
  if (const auto* r = dynamic_cast<const RunError*>(&e)) {
    print_error(*r);
    switch (r->kind()) {
      case RunErrorKind::config:
        return kExitConfig;
      case RunErrorKind::checkpoint:
        return kExitCheckpoint;
      case RunErrorKind::runtime:
        return kExitRuntime;
    }
    return kExitRuntime;
  }
  fmt::print(stderr, "error: {}\n", e.what());
  // A refused output folder is found before the work starts: like a bad flag.
  if (dynamic_cast<const ConfigError*>(&e) || dynamic_cast<const OutputFolderRefused*>(&e) ||
      dynamic_cast<const std::invalid_argument*>(&e))
    return kExitConfig;
  return kExitRuntime;
}

}  // namespace chipcast::cli
