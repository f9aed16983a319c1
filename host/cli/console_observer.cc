// ConsoleObserver: a run session's messages on stderr.
#include "host/cli/console_observer.h"

#include <fmt/core.h>

#include "host/cli/error_report.h"

namespace chipcast::cli {

void ConsoleObserver::warning(const std::string& text) {
  if (!quiet_ || warn_when_quiet_) fmt::print(stderr, "warning: {}\n", text);
}

void ConsoleObserver::note(const std::string& text) {
  if (!quiet_) fmt::print(stderr, "{}\n", text);
}

void ConsoleObserver::started(const RunStart& start) {
  progress_ = std::make_unique<Progress>(
      quiet_ ? ProgressMode::quiet : ProgressMode::automatic, start.total,
      "chipcast " + start.backend + (start.ranks > 1 ? fmt::format(" x{} ranks", start.ranks) : ""));
  progress_->resume_from(start.already_done);
}

void ConsoleObserver::progress(uint64_t done) {
  if (progress_) progress_->update(done);
}

void ConsoleObserver::finished() {
  if (progress_) progress_->finish();
}

void ConsoleObserver::failed(const RunError& error) { print_error(error); }

}  // namespace chipcast::cli
