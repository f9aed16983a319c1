// Why a run session could not do what it was asked: a bad config, a refused checkpoint or a runtime failure.
#pragma once
#include <stdexcept>
#include <string>

namespace chipcast {

enum class RunErrorKind {
  config,      // bad scenario or options (or a misconfigured launch); nothing was run or written
  runtime,     // backend, MPI or I/O failure; a checkpoint written before it stays valid
  checkpoint,  // the checkpoint is refused (corrupt, another run's, or exists without resume); left untouched
};

// Thrown by RunSession. Errors every rank meets alike (a bad config, a
// refused checkpoint) are raised on every rank and reported by rank 0 only
// (report_here()); a rank's own failure names the rank (rank() >= 0).
class RunError : public std::runtime_error {
 public:
  RunError(RunErrorKind kind, const std::string& message, bool report_here = true, int rank = -1)
      : std::runtime_error(message), kind_(kind), report_here_(report_here), rank_(rank) {}
  RunErrorKind kind() const { return kind_; }
  // False on the ranks other than 0 for an error that every rank raised alike.
  bool report_here() const { return report_here_; }
  // The rank that failed in a multi-rank job, -1 otherwise.
  int rank() const { return rank_; }

 private:
  RunErrorKind kind_;
  bool report_here_;
  int rank_;
};

}  // namespace chipcast
