// A run of chipcast as one library call: MPI world, backend, checkpoint and resume, the distributed run, outputs.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/config/scenario.h"
#include "host/report/report.h"
#include "host/run/run_error.h"
#include "host/run/run_observer.h"
#include "host/run/step_hook.h"
#include "host/stats/summary.h"
#include "models/parity/params.h"
#include "tally/calibration_tally.h"
#include "tally/tally.h"

namespace chipcast {

class Backend;
class MpiContext;

// Default minimum seconds between checkpoints: an interval, not every batch,
// keeps the cost (an MPI reduction of ~30 MB of histograms and one fsynced
// write of a few MB for the baseline) far below 2 % of the run.
constexpr double kDefaultCheckpointEvery = 60.0;

// What every run of a session shares.
struct SessionOptions {
  std::string backend = "openmp";  // openmp, cuda, hip, kokkos or auto
  int threads = 0;                 // CPU threads; 0 = OpenMP's default
  std::vector<int> devices;        // GPUs to split a run across; empty = the node-local rank's (MPI) or 0
  // Exit status of the job when one rank of a multi-rank run fails and the
  // session ends every rank (MPI_Abort); the CLI passes its runtime status.
  int abort_exit_status = 1;
};

// One run of a scenario.
struct RunOptions {
  // Folder for summary.json, crossing.csv, bands.csv and resolved.toml,
  // written by rank 0 when the run completes; empty: write nothing (the
  // result still holds the tally and the summary).
  std::filesystem::path out;
  // Folder of the checkpoint (chipcast.ckpt), written atomically as the run
  // goes; empty: no checkpoints, no stop handlers, no resume.
  std::filesystem::path checkpoint;
  bool resume = false;  // continue the checkpoint in `checkpoint` (start afresh when there is none yet)
  // Minimum seconds between checkpoints (0 = after every step); one is
  // always written when the run completes or stops early.
  double checkpoint_every_s = kDefaultCheckpointEvery;
  // Stop at a step boundary before this moment, checkpointed (needs `checkpoint`).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  uint64_t batch = 0;        // trajectories per rank and step; 0 = the backend's preferred batch
  std::string command_line;  // provenance written into summary.json
  // Also the charts and report.html (host/report/plot.h: the Python package, checked before any
  // trajectory runs: missing tools are a config refusal), in the same output set as the run's files.
  bool plot = false;
  // Refuse (RunErrorKind::config) a run whose tallies (run_memory_bytes) exceed
  // this many bytes; 0: default_memory_limit().
  uint64_t memory_limit_bytes = 0;
  // Test-only (step_hook.h); unset: the one in CHIPCAST_TEST_STEP_HOOK, if any.
  std::optional<StepHook> step_hook;
};

enum class RunOutcome {
  complete,  // every trajectory counted; outputs written when RunOptions::out is set
  stopped,   // stopped early by a stop signal or the deadline, checkpoint written; resume it
};

struct RunResult {
  RunOutcome outcome = RunOutcome::complete;
  // True on rank 0, whose outcome is the job's. The other ranks get the same
  // outcome but nothing else, and should leave quietly (a launcher may end
  // the job as soon as one rank exits with a failure status).
  bool speaks_for_job = true;
  std::shared_ptr<const Scenario> scenario;  // as loaded (run from a path) or given
  std::string stop_reason;                   // stopped: e.g. "SIGUSR1 on rank 0", "the time limit"
  uint64_t done = 0;                         // trajectories counted, resumed ones included
  std::filesystem::path checkpoint_file;     // dir/chipcast.ckpt when checkpointing, else empty
  // The rest on rank 0 of a completed run only:
  Tally tally;                     // merged over all ranks (and the resumed checkpoint)
  std::optional<Summary> summary;  // of `tally`
  RunInfo info;                    // provenance; seconds include the resumed segments
  int checkpoints = 0;             // checkpoints written by this segment
  double checkpoint_seconds = 0;   // time in their reductions and writes
  double sync_seconds = 0;         // rank 0's wait for the other ranks at step ends
  size_t charts = 0;               // charts written with RunOptions::plot (each as .svg and .png; report.html not counted)
};

// Prior or posterior predictive quantiles of one observation (MODEL-v2.md
// section 9: the simulated annual total times its lognormal error) and the
// percentile (PIT) of the observed value in that distribution.
struct PredictiveQuantiles {
  double q05 = 0, q50 = 0, q95 = 0;
  double percentile = 0;  // in [0, 1]
};

struct ObservationCalibration {
  Observation observation;  // as given (value, interval, source)
  uint64_t rejects = 0;     // trajectories whose own factor of this observation alone rejects them (u >= L_j)
  // A metric's from the tally's calendar-year row, a supply quantity's
  // (wafers, hbm, packaging) from CalibrationTally's histogram of it; the
  // posterior absent when none accepted.
  std::optional<PredictiveQuantiles> prior;
  std::optional<PredictiveQuantiles> posterior;
};

// Quantiles of a drawn parameter's value (from its uniform histogram, parameter_quantile).
struct ParameterQuantiles {
  double q05 = 0, q50 = 0, q95 = 0;
};

struct ParameterCalibration {
  std::string name;   // MODEL-v2.md section 8: "domestic.hbm_growth", "policy.regimes.<r>.<bloc>.<effect>", "shocks.<name>.rate"
  int index = -1;     // its slot in ModelParams::params
  ParameterQuantiles prior;
  std::optional<ParameterQuantiles> posterior;  // absent when none accepted
  std::optional<double> shrink90;               // interval_shrink of the 90 % intervals; absent with no posterior
};

// Below this many accepted trajectories a calibrate run warns (MODEL-v2.md section 8).
constexpr uint64_t kFewAccepted = 1000;

// A calibrate run (MODEL-v2.md section 8): the prior, exactly the plain run's,
// and the posterior, the accepted trajectories' (exact rejection sampling).
struct CalibrateResult {
  RunResult prior;                     // outcome, scenario, checkpoint, tally, summary, info: as run()'s
  std::optional<RunResult> posterior;  // tally and summary of the accepted trajectories; absent when 0 accepted
  uint64_t accepted = 0;
  double accepted_share = 0;  // accepted / prior trajectories
  std::vector<Observation> observations;  // those conditioned on (the file's, or the scenario's)
  CalibrationTally decisions;             // the merged decision counts (rank 0 of a completed run)
  // Rank 0 of a completed run only:
  std::vector<ObservationCalibration> observation_quantiles;  // in the order of `observations`
  std::vector<ParameterCalibration> parameter_quantiles;      // drawn parameters in table order
  // Set when accepted < kFewAccepted (including 0): the message printed and written to calibration.json.
  std::optional<std::string> warning;
  // The observation with the most rejections (ObservationCalibration::rejects), its label; absent with none.
  std::optional<std::string> most_rejecting;
};

// A process's chipcast session. Every rank of an MPI job makes one and calls
// the same methods in the same order. The session prints nothing: it tells
// its RunObserver and throws RunError (RunErrorKind says which exit status a
// command line should give). Several sessions may follow each other in one
// process; the first one initialises MPI, which is finalised at exit.
class RunSession {
 public:
  // Joins the process's MPI world (argc/argv may be null) and refuses a
  // process that one launcher started as one of several tasks but whose MPI
  // world has one rank (a build without MPI, or an MPI library that does not
  // match the launcher), where every task would run the whole job:
  // RunError(config). The backend is made on first use.
  explicit RunSession(SessionOptions options, int* argc = nullptr, char*** argv = nullptr);
  ~RunSession();
  RunSession(const RunSession&) = delete;
  RunSession& operator=(const RunSession&) = delete;

  int rank() const;
  int ranks() const;
  // True on rank 0: the rank whose messages and status speak for the job.
  bool speaks_for_job() const { return rank() == 0; }

  // Loads a config with overrides; its warnings go to the observer.
  // RunError(config) naming file, key and value when it is invalid.
  std::shared_ptr<const Scenario> load(const std::string& config, const Overrides& overrides,
                                       RunObserver* observer = nullptr) const;

  // Runs the scenario's [run] trajectories, split across the ranks, with
  // the checkpoints, resume and stop rules of `options`, and writes the
  // outputs on rank 0 when it completes. Throws RunError: config (bad
  // options), checkpoint (refused; left untouched) or runtime (backend,
  // MPI, I/O). On a multi-rank job a rank's runtime failure ends the job
  // (RunObserver::failed, then MPI_Abort) instead of throwing.
  RunResult run(std::shared_ptr<const Scenario> scenario, const RunOptions& options, RunObserver* observer = nullptr);
  // load() then run(): the result's `scenario` is the loaded one.
  RunResult run(const std::string& config, const Overrides& overrides, const RunOptions& options,
                RunObserver* observer = nullptr);

  // A calibrate run (MODEL-v2.md section 8): the scenario's trajectories
  // with `observations` (empty: the scenario's own) conditioned on, through
  // the same batch loop, progress, stop, deadline, checkpoint and memory
  // rules as run(). With options.out set, rank 0 writes the output set of
  // write_calibration (host/report/calibration_output.h) when it completes.
  // RunError(config) when there are no observations or one is invalid for
  // this run (year outside the simulated calendar years, more than
  // parity::kMaxObservations), naming file, key and value; RunError(checkpoint)
  // for a run's checkpoint (and run() refuses a calibrate's).
  CalibrateResult calibrate(std::shared_ptr<const Scenario> scenario, const std::vector<Observation>& observations,
                            const RunOptions& options, RunObserver* observer = nullptr);

  // Crossing times (years since start_year, -1 = censored) of trajectories
  // [first, first + count) into out[metric * count + i]: what compare and
  // sensitivity pair trajectory by trajectory across designs. One rank only
  // (RunError config on a multi-rank job); RunError runtime when the backend
  // cannot be made or fails.
  void crossing_times(const parity::ModelParams& params, uint64_t first, uint64_t count, float* out);

  // The backend, made on first use (RunError runtime when it cannot be).
  const std::string& backend_name();
  const std::string& backend_detail();  // Backend::describe(): threads, device, version
  int threads() const;                  // the threads the CPU backend uses

 private:
  Backend& backend();
  // run()'s and calibrate()'s one body: with `observations` non-null a calibrate run.
  CalibrateResult run_session(std::shared_ptr<const Scenario> scenario, const std::vector<Observation>* observations,
                              const RunOptions& options, RunObserver* observer);

  SessionOptions options_;
  MpiContext* mpi_;  // the process's, never null
  std::unique_ptr<Backend> backend_;
  std::string backend_name_, backend_detail_;
};

// What this binary was built with, for `chipcast info`.
struct BuildInfo {
  std::string version;                    // CHIPCAST_VERSION
  std::vector<std::string> backends;      // compiled in, e.g. {"openmp", "cuda"}
  std::vector<std::string> device_lines;  // devices and runtimes, one line each
  bool mpi = false;                       // built with MPI
  std::string mpi_library;                // "Open MPI v4.1.4, ..." when built with MPI
};
BuildInfo build_info();

// Host memory a run's tallies take: the merged, resumed and rank-local 64-bit
// tallies plus, per worker (CPU thread or GPU device), a 32-bit partial tally
// and 16-bit level counters (tally/hot_levels.h). The rest of a run is small.
uint64_t run_memory_bytes(const TallyShape& shape, int workers);
// Half of this machine's physical memory (UINT64_MAX when unknown).
uint64_t default_memory_limit();

// Takes the backends' own command-line flags out of argv (Kokkos'
// --kokkos-num-threads=N, --kokkos-device-id=N, ...: kept for
// Kokkos::initialize) so that a flag parser does not reject them; returns
// the new argc. A no-op without the Kokkos backend.
int take_backend_arguments(int argc, char** argv);

}  // namespace chipcast
