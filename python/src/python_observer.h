// A RunObserver that forwards progress to a Python reporter and turns a pending Ctrl-C into a stop request.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/run/run_observer.h"

namespace chipcast::python {

// The session calls it with the GIL released (trajectories run without it);
// every method takes the GIL for the few Python calls it makes. `reporter` is
// None (no progress display) or an object with start(total, initial, label),
// update(done) and close() (chipcast's tqdm bar). A pending signal (Ctrl-C:
// PyErr_CheckSignals runs Python's handler, which raises KeyboardInterrupt)
// or a reporter that raises is kept and asks the session to stop at the
// step boundary; the caller raises it again once the session has returned.
class PythonObserver : public RunObserver {
 public:
  explicit PythonObserver(pybind11::object reporter) : reporter_(std::move(reporter)) {}
  ~PythonObserver() override;
  PythonObserver(const PythonObserver&) = delete;
  PythonObserver& operator=(const PythonObserver&) = delete;

  void warning(const std::string& text) override { warnings_.push_back(text); }
  void note(const std::string& text) override { notes_.push_back(text); }
  void started(const RunStart& start) override;
  void progress(uint64_t done) override;
  void finished() override;
  bool stop_requested() override;

  // start() and progress() for callers that are not the run session (the
  // analyses' progress callbacks): true when the caller should stop.
  void start(uint64_t total, uint64_t initial, const std::string& label);
  bool update(uint64_t done);

  // The Python error that stopped the run (KeyboardInterrupt, or the
  // reporter's), if any; rethrow_if_stopped() raises it (with the GIL held).
  bool stopped() const { return error_.has_value(); }
  void rethrow_if_stopped();

  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  // Runs `f` with the GIL; a Python error is kept, not thrown (the session's
  // loop must not unwind through a Python exception).
  template <class F>
  void guarded(F&& f);
  void close();

  pybind11::object reporter_;
  std::optional<pybind11::error_already_set> error_;
  bool open_ = false;
  std::vector<std::string> warnings_, notes_;
};

}  // namespace chipcast::python
