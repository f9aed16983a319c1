// Progress of a long run on stderr: a bar with rate and ETA on a terminal, periodic log lines otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace chipcast {

enum class ProgressMode { automatic, bar, lines, quiet };

class Progress {
 public:
  Progress(ProgressMode mode, uint64_t total, std::string label);
  // Called after each batch with the number of trajectories done so far.
  void update(uint64_t done);
  // A resumed run starts with `done` trajectories already counted: the rate
  // and ETA cover only what this process runs.
  void resume_from(uint64_t done);
  void finish();

 private:
  ProgressMode mode_;
  uint64_t total_;
  uint64_t resumed_ = 0;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  bool finished_ = false;
};

}  // namespace chipcast
