// PythonObserver: progress to the Python reporter, Ctrl-C to a stop at the next step boundary.
#include "python_observer.h"

#include <utility>

namespace chipcast::python {

namespace py = pybind11;

// A bar left open by an error (the session threw) is closed; its own errors then go unreported.
PythonObserver::~PythonObserver() {
  try {
    close();
  } catch (...) {
  }
}

template <class F>
void PythonObserver::guarded(F&& f) {
  py::gil_scoped_acquire gil;
  if (error_) return;  // already stopping: no more Python calls
  try {
    f();
  } catch (py::error_already_set& e) {
    error_.emplace(std::move(e));
  }
}

void PythonObserver::start(uint64_t total, uint64_t initial, const std::string& label) {
  guarded([&] {
    if (reporter_.is_none()) return;
    reporter_.attr("start")(total, initial, label);
    open_ = true;
  });
}

bool PythonObserver::update(uint64_t done) {
  guarded([&] {
    if (open_) reporter_.attr("update")(done);
    // Python's SIGINT handler runs here, in the main thread that waits for the
    // session: KeyboardInterrupt (or whatever a user's handler raises).
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  });
  return error_.has_value();
}

void PythonObserver::close() {
  py::gil_scoped_acquire gil;
  if (!open_) return;
  open_ = false;
  try {
    reporter_.attr("close")();
  } catch (py::error_already_set& e) {
    if (!error_) error_.emplace(std::move(e));
  }
}

void PythonObserver::started(const RunStart& s) {
  start(s.total, s.already_done, s.ranks > 1 ? s.backend + " x" + std::to_string(s.ranks) : s.backend);
}

void PythonObserver::progress(uint64_t done) { update(done); }

void PythonObserver::finished() { close(); }

bool PythonObserver::stop_requested() {
  guarded([&] {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  });
  return error_.has_value();
}

void PythonObserver::rethrow_if_stopped() {
  close();
  if (!error_) return;
  py::error_already_set e = std::move(*error_);
  error_.reset();
  throw e;
}

}  // namespace chipcast::python
