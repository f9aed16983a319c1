// Progress reporting to stderr.
#include "host/cli/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>

namespace chipcast {
namespace {
std::string format_eta(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const auto t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60)
                   : fmt::format("{:02}:{:02}", t / 60, t % 60);
}
}  // namespace

Progress::Progress(ProgressMode mode, uint64_t total, std::string label)
    : mode_(mode), total_(total), label_(std::move(label)) {
  if (mode_ == ProgressMode::automatic) mode_ = isatty(fileno(stderr)) ? ProgressMode::bar : ProgressMode::lines;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(uint64_t done) {
  if (mode_ == ProgressMode::quiet) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const double rate = elapsed > 0 && done > resumed_ ? (done - resumed_) / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : -1.0;
  const double frac = total_ ? static_cast<double>(done) / total_ : 1.0;
  if (mode_ == ProgressMode::bar) {
    if (since_last < 0.1 && done < total_) return;
    const int width = 30;
    const int filled = static_cast<int>(frac * width);
    fmt::print(stderr, "\r{} [{}{}] {:5.1f}%  {:.3g} traj/s  ETA {}  ", label_, std::string(filled, '#'),
               std::string(width - filled, '.'), 100 * frac, rate, format_eta(eta));
    std::fflush(stderr);
  } else {
    if (since_last < 10.0 && done < total_) return;
    fmt::print(stderr, "{}: {}/{} trajectories ({:.1f}%), {:.3g} traj/s, ETA {}\n", label_, done, total_, 100 * frac,
               rate, format_eta(eta));
  }
  last_ = now;
}

void Progress::resume_from(uint64_t done) {
  resumed_ = done;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::bar) fmt::print(stderr, "\n");
}

}  // namespace chipcast
