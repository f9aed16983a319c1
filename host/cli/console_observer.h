// Prints what a run session reports to stderr: warnings, notes, a progress bar or log lines, a rank's failure.
#pragma once
#include <memory>
#include <string>

#include "host/cli/progress.h"
#include "host/run/run_observer.h"

namespace chipcast::cli {

class ConsoleObserver : public RunObserver {
 public:
  // quiet: no notes and no progress; warnings too unless `warn_when_quiet`
  // (`chipcast run` always warns, as a job log should show them).
  ConsoleObserver(bool quiet, bool warn_when_quiet) : quiet_(quiet), warn_when_quiet_(warn_when_quiet) {}

  void warning(const std::string& text) override;
  void note(const std::string& text) override;
  void started(const RunStart& start) override;
  void progress(uint64_t done) override;
  void finished() override;
  void failed(const RunError& error) override;

 private:
  bool quiet_, warn_when_quiet_;
  std::unique_ptr<Progress> progress_;
};

}  // namespace chipcast::cli
