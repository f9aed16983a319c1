// What a run session tells its caller while it works: progress, warnings, notes and a rank's fatal failure.
#pragma once
#include <cstdint>
#include <string>

namespace chipcast {

class RunError;

// How a run starts, for a progress display.
struct RunStart {
  uint64_t total = 0;         // trajectories of the whole run
  uint64_t already_done = 0;  // counted in a resumed checkpoint: rates and ETAs cover only the rest
  std::string backend;        // the backend's name, e.g. "openmp"
  int ranks = 1;              // MPI ranks sharing the run
};

// The session never prints: it calls these instead (the CLI prints them; a
// Python binding forwards them). Every call but failed() comes from the rank
// that speaks for the job (rank 0) only, from the calling thread, so an
// observer needs no locking. Every method does nothing by default.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // A config warning, or a caveat about a resumed checkpoint.
  virtual void warning(const std::string& /*text*/) {}
  // What the session decided, e.g. "resuming from out/ck/chipcast.ckpt: 2048 of 100000 trajectories done".
  virtual void note(const std::string& /*text*/) {}
  // The distributed run begins; then progress() after every step, and finished() once.
  virtual void started(const RunStart& /*start*/) {}
  // Trajectories done so far, those of a resumed checkpoint included.
  virtual void progress(uint64_t /*done*/) {}
  virtual void finished() {}
  // Asked after every step, where the session polls stop signals: true stops
  // the run at this step boundary as SIGINT would (RunOutcome::stopped, a
  // checkpoint when checkpointing, no outputs). How a caller without signal
  // handlers of the session's (the Python package, whose interpreter owns
  // SIGINT) turns a Ctrl-C into a clean stop.
  virtual bool stop_requested() { return false; }
  // This rank failed a multi-rank job; the session then ends every rank of
  // the job (MPI_Abort with SessionOptions::abort_exit_status), as the other
  // ranks may wait for it in a collective. Called on the failing rank.
  virtual void failed(const RunError& /*error*/) {}
};

}  // namespace chipcast
