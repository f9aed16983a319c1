// The run session: launcher check, checkpoint read/validate/broadcast, resume, the distributed run, outputs.
#include "host/run/run_session.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <utility>

#include "backends/backend.h"
#include "chipcast_config.h"
#include "host/config/observation_table.h"
#include "host/report/calibration_output.h"
#include "host/report/output_set.h"
#include "host/report/plot.h"
#include "host/report/report.h"
#include "host/run/checkpoint.h"
#include "host/run/mpi_context.h"
#include "host/run/runner.h"
#include "host/run/signals.h"
#include "host/run/trajectory_ranges.h"
#include "host/stats/observation_scores.h"
#include "host/stats/parameter_quantiles.h"

#if CHIPCAST_HAVE_KOKKOS
#include "backends/kokkos/kokkos_backend.h"
#endif

namespace chipcast {
namespace {

// Trajectories per thread below which a batch's fixed cost (clearing and
// merging a partial tally per thread) is about its work: measured with
// configs/baseline.toml on one thread, -n 20000, 36 ms per batch against
// 80 us per trajectory (batch 1: 744 s, 16: 45 s, 128: 7.2 s, 1024: 2.1 s,
// default: 1.6 s).
constexpr uint64_t kSmallBatchPerWorker = 512;

// The process's MPI world: MPI_Init may run once per process, so every
// session shares one context, finalised at exit.
MpiContext& process_mpi(int* argc, char*** argv) {
  static int no_argc = 0;
  static char** no_argv = nullptr;
  static MpiContext context(argc ? argc : &no_argc, argv ? argv : &no_argv);
  return context;
}

std::vector<uint64_t> flatten(const TrajectoryRanges& set) {
  std::vector<uint64_t> v;
  for (const auto& r : set) {
    v.push_back(r.first);
    v.push_back(r.end);
  }
  return v;
}

TrajectoryRanges unflatten(const std::vector<uint64_t>& v) {
  TrajectoryRanges set;
  for (size_t i = 0; i + 1 < v.size(); i += 2) set.push_back({v[i], v[i + 1]});
  return set;
}

// An observation's predictive quantiles: a metric's from the tally's
// calendar-year rows (score_observations), a supply quantity's from the
// decision counts' histogram of it (`supply_row`); none when that is empty
// (no trajectory accepted).
std::optional<PredictiveQuantiles> predictive(const Tally& tally, const RunSettings& run, const Observation& o,
                                              const uint64_t* supply_row) {
  ObservationScore s;
  if (o.quantity == ObservedQuantity::wafers || o.quantity == ObservedQuantity::hbm ||
      o.quantity == ObservedQuantity::packaging) {
    uint64_t n = 0;
    for (int b = 0; b < kLevelBins; ++b) n += supply_row[b];
    if (n == 0) return std::nullopt;
    s = score_against_histogram(supply_row, o);
  } else {
    s = score_observations(tally, run, std::vector<Observation>{o}).at(0);
  }
  return PredictiveQuantiles{s.q05, s.q50, s.q95, s.score.pit};
}

ParameterQuantiles parameter_quantiles(const uint64_t* row, const Dist& d, const QuantileTables& tables) {
  return ParameterQuantiles{parameter_quantile(row, d, tables, 0.05), parameter_quantile(row, d, tables, 0.5),
                            parameter_quantile(row, d, tables, 0.95)};
}

// The rest of a completed calibrate run's result on rank 0, from its merged tallies.
void finish_calibration(const Scenario& sc, CalibrateTallies&& tallies, CalibrateResult& r) {
  const CalibrationTally& d = tallies.decisions;
  r.accepted = d.accepted;
  r.accepted_share = d.trajectories ? static_cast<double>(d.accepted) / static_cast<double>(d.trajectories) : 0.0;
  if (d.accepted > 0) {
    RunResult post;
    post.scenario = r.prior.scenario;
    post.done = d.accepted;
    post.summary = summarize(tallies.posterior, sc.run);
    post.tally = std::move(tallies.posterior);
    post.info = r.prior.info;
    r.posterior = std::move(post);
  }
  for (size_t j = 0; j < r.observations.size(); ++j) {
    ObservationCalibration oc;
    oc.observation = r.observations[j];
    oc.rejects = j < d.rejects.size() ? d.rejects[j] : 0;
    oc.prior = predictive(r.prior.tally, sc.run, oc.observation, d.prior_observed_row(j));
    if (r.posterior) oc.posterior = predictive(r.posterior->tally, sc.run, oc.observation, d.posterior_observed_row(j));
    r.observation_quantiles.push_back(std::move(oc));
  }
  for (size_t j = 0; j < d.params.size(); ++j) {
    const int i = d.params[j];
    ParameterCalibration pc;
    pc.index = i;
    pc.name = static_cast<size_t>(i) < sc.param_names.size() ? sc.param_names[i] : std::string();
    const Dist& dist = sc.params.params[i];
    pc.prior = parameter_quantiles(d.prior_row(j), dist, sc.params.tables);
    if (r.posterior) {
      pc.posterior = parameter_quantiles(d.posterior_row(j), dist, sc.params.tables);
      pc.shrink90 = interval_shrink(pc.prior.q05, pc.prior.q95, pc.posterior->q05, pc.posterior->q95);
    }
    r.parameter_quantiles.push_back(std::move(pc));
  }
  // The observation rejecting the most trajectories on its own (first of equals).
  size_t most = 0;
  for (size_t j = 1; j < r.observation_quantiles.size(); ++j)
    if (r.observation_quantiles[j].rejects > r.observation_quantiles[most].rejects) most = j;
  if (!r.observation_quantiles.empty() && r.observation_quantiles[most].rejects > 0)
    r.most_rejecting = r.observation_quantiles[most].observation.label();
  if (d.accepted < kFewAccepted) {
    const std::string why =
        r.most_rejecting ? fmt::format("; the observation that rejects the most is {} (it alone rejects {} of {})",
                                       *r.most_rejecting, r.observation_quantiles[most].rejects, d.trajectories)
                         : std::string();
    r.warning = d.accepted == 0
                    ? fmt::format(
                          "no trajectory of {} was accepted: there is no posterior (no posterior/ folder){}; "
                          "widen the observations' intervals, run more trajectories, or check the "
                          "observations against the prior's predictive quantiles",
                          d.trajectories, why)
                    : fmt::format(
                          "only {} of {} trajectories were accepted (fewer than {}): the posterior's "
                          "quantiles rest on few draws{}; run more trajectories",
                          d.accepted, d.trajectories, kFewAccepted, why);
  }
  r.decisions = std::move(tallies.decisions);
}

// How rank 0 tells the others that the run cannot start (an MPI broadcast of one int).
enum StartStatus : int { kStartOk = 0, kStartRuntime = 1, kStartCheckpoint = 2, kStartConfig = 3 };

}  // namespace

RunSession::RunSession(SessionOptions options, int* argc, char*** argv)
    : options_(std::move(options)), mpi_(&process_mpi(argc, argv)) {
  if (mpi_->size() == 1 && MpiContext::launcher_tasks() > 1)
    throw RunError(
        RunErrorKind::config,
        fmt::format("this process is one of {} tasks the launcher started, but its MPI world has one rank: {}; "
                    "each task would run the whole job",
                    MpiContext::launcher_tasks(),
                    MpiContext::compiled_with_mpi()
                        ? "the MPI library does not match the launcher (with Slurm, try srun --mpi=pmix or pmi2)"
                        : "this chipcast was built without MPI (configure with --preset mpi)"));
}

RunSession::~RunSession() = default;

int RunSession::rank() const { return mpi_->rank(); }
int RunSession::ranks() const { return mpi_->size(); }
int RunSession::threads() const { return options_.threads > 0 ? options_.threads : omp_get_max_threads(); }

Backend& RunSession::backend() {
  if (!backend_) {
    BackendOptions bo;
    bo.threads = options_.threads;
    bo.devices = options_.devices;
    // One rank per GPU: the node-local rank picks the device.
    if (mpi_->size() > 1 && options_.backend != "openmp" && options_.devices.empty())
      bo.devices = {device_for_local_rank(mpi_->local_rank())};
    try {
      backend_ = make_backend(options_.backend, bo);
    } catch (const std::invalid_argument& e) {
      // A name this build does not have is a bad flag (exit 2 in the CLI), not
      // a runtime failure: nothing was tried. Every rank finds it alike.
      throw RunError(RunErrorKind::config, e.what(), mpi_->is_root(), -1);
    } catch (const std::exception& e) {
      throw RunError(RunErrorKind::runtime, e.what(), true, mpi_->size() > 1 ? mpi_->rank() : -1);
    }
    backend_name_ = backend_->name();
    backend_detail_ = backend_->describe();
  }
  return *backend_;
}

const std::string& RunSession::backend_name() {
  backend();
  return backend_name_;
}

const std::string& RunSession::backend_detail() {
  backend();
  return backend_detail_;
}

std::shared_ptr<const Scenario> RunSession::load(const std::string& config, const Overrides& overrides,
                                                 RunObserver* observer) const {
  std::shared_ptr<const Scenario> sc;
  try {
    sc = load_scenario(config, overrides);
  } catch (const ConfigError& e) {
    throw RunError(RunErrorKind::config, e.what(), speaks_for_job());
  }
  if (observer && speaks_for_job())
    for (const auto& w : sc->warnings) observer->warning(w);
  return sc;
}

RunResult RunSession::run(const std::string& config, const Overrides& overrides, const RunOptions& options,
                          RunObserver* observer) {
  return run(load(config, overrides, observer), options, observer);
}

RunResult RunSession::run(std::shared_ptr<const Scenario> scenario, const RunOptions& options, RunObserver* observer) {
  return std::move(run_session(std::move(scenario), nullptr, options, observer).prior);
}

CalibrateResult RunSession::calibrate(std::shared_ptr<const Scenario> scenario,
                                      const std::vector<Observation>& observations, const RunOptions& options,
                                      RunObserver* observer) {
  if (!scenario) throw std::invalid_argument("RunSession::calibrate: no scenario");
  const std::vector<Observation>& obs = observations.empty() ? scenario->observations : observations;
  if (obs.empty())
    throw RunError(RunErrorKind::config,
                   fmt::format("{}: observations: none to calibrate against (add [[observations]] to the scenario "
                               "or give an observations file)",
                               scenario->path),
                   speaks_for_job());
  // The scenario with its kernels' observation table: a copy, as the caller's stays a plain run's.
  auto with_table = std::make_shared<Scenario>(*scenario);
  try {
    set_observation_table(obs, with_table->run, with_table->path, with_table->params);
  } catch (const ConfigError& e) {
    throw RunError(RunErrorKind::config, e.what(), speaks_for_job());
  }
  CalibrateResult r = run_session(with_table, &obs, options, observer);
  r.prior.scenario = scenario;
  if (r.posterior) r.posterior->scenario = scenario;
  return r;
}

CalibrateResult RunSession::run_session(std::shared_ptr<const Scenario> scenario,
                                        const std::vector<Observation>* observations, const RunOptions& options,
                                        RunObserver* observer) {
  const bool calibrating = observations != nullptr;
  CalibrateResult cal;
  if (calibrating) cal.observations = *observations;
  RunResult& out = cal.prior;
  MpiContext& mpi = *mpi_;
  const bool root = mpi.is_root();
  RunObserver* const root_observer = root ? observer : nullptr;
  const bool checkpointing = !options.checkpoint.empty();
  if (!checkpointing && (options.resume || options.deadline))
    throw RunError(RunErrorKind::config,
                   fmt::format("{} needs a checkpoint folder (the folder the run is saved in and resumed from)",
                               options.resume ? "resuming" : "a time limit"),
                   root);
  if (!scenario) throw std::invalid_argument("RunSession::run: no scenario");
  {
    // Before anything is allocated: a tally that cannot fit is a bad config,
    // not an out-of-memory kill with no message.
    const int workers = std::max<int>(threads(), static_cast<int>(options_.devices.size()));
    // A calibrate run keeps a posterior tally beside the prior, alike in size.
    const uint64_t need = run_memory_bytes(parity::tally_shape(scenario->params), workers) * (calibrating ? 2 : 1);
    const uint64_t limit = options.memory_limit_bytes ? options.memory_limit_bytes : default_memory_limit();
    if (need > limit) {
      const RunSettings& r = scenario->run;
      throw RunError(
          RunErrorKind::config,
          fmt::format("{}: the run's tallies need about {:.3g} GiB ({} periods: horizon_year {} - start_year {} at "
                      "dt {}; {} threads or devices, each with its own partial tally), more than the {:.3g} GiB "
                      "allowed ({}); shorten the horizon, lengthen dt, use fewer threads, or raise the limit",
                      scenario->path, static_cast<double>(need) / (1u << 30), scenario->params.periods, r.horizon_year,
                      r.start_year, r.dt, workers, static_cast<double>(limit) / (1u << 30),
                      options.memory_limit_bytes ? "the memory limit given" : "half of this machine's memory"),
          root);
    }
  }
  std::optional<StepHook> hook = options.step_hook;
  if (!hook) {
    try {
      hook = step_hook_from_environment();
    } catch (const std::invalid_argument& e) {
      throw RunError(RunErrorKind::config, e.what(), root);
    }
  }

  const Scenario& sc = *scenario;
  const std::filesystem::path& ckdir = options.checkpoint;
  const std::string ckpath = checkpoint_path(ckdir).string();
  out.speaks_for_job = root;
  out.scenario = scenario;
  if (checkpointing) out.checkpoint_file = ckpath;

  // A rank's own failure ends a multi-rank job: the others may wait for it in a collective.
  auto fail = [&](const std::string& what) -> RunError {
    const RunError e(RunErrorKind::runtime, what, true, mpi.size() > 1 ? mpi.rank() : -1);
    if (mpi.size() > 1) {
      if (observer) observer->failed(e);
      mpi.abort(options_.abort_exit_status);
    }
    return e;
  };
  try {
    Backend& bk = backend();
    if (root_observer && options.batch > 0) {
      const int workers = std::max<int>(threads(), static_cast<int>(options_.devices.size()));
      if (options.batch < kSmallBatchPerWorker * static_cast<uint64_t>(workers))
        root_observer->warning(fmt::format(
            "a batch of {} trajectories is small for {} threads or devices: each batch clears and merges every "
            "thread's partial tally, which takes about as long as simulating {} trajectories (on one thread "
            "batch 1 ran about 460 times and batch 128 about 4 times slower than the default); leave the batch "
            "unset (--batch 0) for the backend's default of {}",
            options.batch, workers, kSmallBatchPerWorker, bk.preferred_batch()));
    }

    // Rank 0 reads the checkpoint and tells the others what is done.
    int status = kStartOk;
    std::string why;
    Tally base;
    std::optional<CalibrateTallies> calibrate_base;
    TrajectoryRanges done;
    double prior_seconds = 0;
    // Rank 0 writes the output folder: lock and check it before any trajectory runs.
    std::optional<OutputSet> outputs;
    if (root && !options.out.empty()) {
      try {
        outputs = OutputSet::open(options.out, calibrating ? OutputKind::calibrate : OutputKind::run);
      } catch (const OutputFolderRefused& e) {
        why = e.what();
        status = kStartConfig;
      }
    }
    // The charts' Python tools are checked before any trajectory runs, not found missing after.
    if (root && calibrating && options.plot && status == kStartOk) {
      why = "a calibrate run draws no charts (plot: the Python package's chipcast.calibrate charts)";
      status = kStartConfig;
    }
    if (root && outputs && options.plot && status == kStartOk) {
      try {
        check_plot_tools();
      } catch (const PlotToolsMissing& e) {
        why = e.what();
        status = kStartConfig;
      }
    }
    if (root && checkpointing && status == kStartOk) {
      try {
        check_checkpoint_folder_writable(ckdir);
      } catch (const std::exception& e) {
        why = e.what();
        status = kStartRuntime;
      }
    }
    if (root && checkpointing && status == kStartOk) {
      try {
        std::optional<Checkpoint> c = read_checkpoint(ckdir);
        if (c && !options.resume) {
          throw CheckpointError(
              fmt::format("{} exists ({} of {} trajectories done); pass --resume to continue it, or remove it or give "
                          "--checkpoint another folder to start afresh. It was left untouched.",
                          ckpath, count_of(c->done), c->total));
        }
        if (c) {
          CheckpointIdentity want{sc.sha256,           sc.path,           sc.run.seed,
                                  sc.run.trajectories, sc.params.periods, sc.params.sub_bins,
                                  sc.params.years,     std::nullopt};
          if (calibrating) want.observations = observation_table_text(sc.params);
          check_checkpoint_matches(*c, want, ckpath);
          if (root_observer)
            for (const std::string& w : checkpoint_resume_warnings(*c, bk.name(), ckpath)) root_observer->warning(w);
          base = std::move(c->tally);
          calibrate_base = std::move(c->calibrate);
          done = std::move(c->done);
          prior_seconds = c->seconds;
          remove_stale_checkpoint_temporaries(ckdir);
          if (root_observer)
            root_observer->note(fmt::format("resuming from {}: {} of {} trajectories done", ckpath, count_of(done),
                                            sc.run.trajectories));
        } else if (options.resume && root_observer) {
          root_observer->note(fmt::format("no checkpoint in {} yet: starting from the beginning", ckdir.string()));
        }
      } catch (const CheckpointError& e) {
        why = e.what();
        status = kStartCheckpoint;
      }
    }
    mpi.broadcast(status);
    if (status != kStartOk)
      throw RunError(status == kStartCheckpoint ? RunErrorKind::checkpoint
                     : status == kStartConfig   ? RunErrorKind::config
                                                : RunErrorKind::runtime,
                     why, root);
    std::vector<uint64_t> flat = flatten(done);
    mpi.broadcast(flat);
    done = unflatten(flat);
    if (root && base.level.empty()) base = Tally(parity::tally_shape(sc.params));

    RunInfo info;
    info.backend = bk.name();
    info.backend_detail = bk.describe();
    info.version = CHIPCAST_VERSION;
    info.started_utc = utc_now();
    info.command_line = options.command_line;
    info.threads = threads();
    info.ranks = mpi.size();
    if (root_observer) root_observer->started(RunStart{sc.run.trajectories, count_of(done), bk.name(), mpi.size()});

    DistributedPlan plan;
    plan.total = sc.run.trajectories;
    plan.batch = options.batch;
    plan.done = done;
    plan.checkpoint_every_s = checkpointing ? options.checkpoint_every_s : -1.0;
    plan.deadline = options.deadline;
    plan.calibrate = calibrating;
    if (checkpointing) install_stop_handlers();

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    TalliesCheckpointSink sink;
    if (root && checkpointing) {
      sink = [&](const Tally& merged, const CalibrateTallies* merged_cal, const TrajectoryRanges& covered) {
        Checkpoint c;
        c.config_sha256 = sc.sha256;
        c.config_path = sc.path;
        c.seed = sc.run.seed;
        c.total = sc.run.trajectories;
        c.backend = bk.name();
        c.seconds = prior_seconds + elapsed();
        c.done = covered;
        if (calibrating) c.observations = observation_table_text(sc.params);
        write_checkpoint(ckdir, c, merged, merged_cal);
      };
    }
    uint64_t steps = 0;
    const StopPoll poll = [&] {
      if (hook) run_step_hook(*hook, ++steps);
      if (const int sig = stop_signal(); sig != 0) return sig;
      return root_observer && root_observer->stop_requested() ? SIGINT : 0;
    };
    DistributedResult result = run_distributed(bk, sc.params, plan, base, calibrate_base ? &*calibrate_base : nullptr,
                                               mpi, root_observer, sink, poll);
    out.done = count_of(result.done);
    if (result.status == RunStatus::stopped) {
      out.outcome = RunOutcome::stopped;
      out.stop_reason = result.stop_reason;
      return cal;
    }
    if (root) {
      info.seconds = prior_seconds + elapsed();
      out.summary = summarize(result.tally, sc.run);
      if (calibrating) {
        out.info = info;
        out.tally = std::move(result.tally);
        finish_calibration(sc, std::move(*result.calibrate), cal);
        if (outputs) write_calibration(outputs->path(), cal);
        if (outputs) outputs->commit();
        out.checkpoints = result.checkpoints;
        out.checkpoint_seconds = result.checkpoint_seconds;
        out.sync_seconds = result.sync_seconds;
        return cal;
      }
      if (outputs) {
        write_outputs(outputs->path(), sc, *out.summary, info);
        if (options.plot)
          for (const auto& f : write_plot_files(outputs->path(), outputs->path(), options.out))
            if (f.extension() == ".svg") ++out.charts;
        outputs->commit();
      }
      out.tally = std::move(result.tally);
      out.info = std::move(info);
      out.checkpoints = result.checkpoints;
      out.checkpoint_seconds = result.checkpoint_seconds;
      out.sync_seconds = result.sync_seconds;
    }
  } catch (const RunError& e) {
    // Errors every rank raised alike (rank() < 0) leave every rank by itself.
    if (e.kind() != RunErrorKind::runtime || mpi.size() == 1 || e.rank() < 0) throw;
    throw fail(e.what());
  } catch (const std::exception& e) {
    throw fail(e.what());
  }
  return cal;
}

void RunSession::crossing_times(const parity::ModelParams& params, uint64_t first, uint64_t count, float* out) {
  if (mpi_->size() > 1)
    throw RunError(RunErrorKind::config,
                   fmt::format("per-trajectory crossing times (compare, sensitivity) are computed on one rank, but "
                               "this job has {} ranks: start it without mpirun or srun",
                               mpi_->size()),
                   speaks_for_job());
  backend().crossing_times(params, first, count, out);
}

uint64_t run_memory_bytes(const TallyShape& shape, int workers) {
  // In long double: the shapes a hostile config asks for overflow 64 bits.
  const long double level = static_cast<long double>(shape.level_entries());
  const long double crossing = static_cast<long double>(shape.crossing_entries());
  const long double w = static_cast<long double>(std::max(workers, 1));
  const long double bytes = 3 * 8 * (level + crossing) + w * (4 * (level + crossing) + 2 * level);
  return bytes >= 1.8e19L ? UINT64_MAX : static_cast<uint64_t>(bytes);
}

uint64_t default_memory_limit() { return default_checkpoint_tally_limit(); }

BuildInfo build_info() {
  BuildInfo b;
  b.version = CHIPCAST_VERSION;
  b.backends = compiled_backends();
  b.device_lines = backend_info_lines();
  b.mpi = MpiContext::compiled_with_mpi();
  if (b.mpi) b.mpi_library = MpiContext::library_version();
  return b;
}

int take_backend_arguments(int argc, char** argv) {
#if CHIPCAST_HAVE_KOKKOS
  kokkos_set_args(argc, argv);
  return kokkos_remove_args(argc, argv);
#else
  (void)argv;
  return argc;
#endif
}

}  // namespace chipcast
