// chipcast._core: the run session, the output writers and the analyses for the chipcast Python package.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/analysis/compare.h"
#include "host/analysis/score_run.h"
#include "host/analysis/sensitivity.h"
#include "host/config/observations.h"
#include "host/config/scenario.h"
#include "host/report/calibration_output.h"
#include "host/report/output_set.h"
#include "host/report/report.h"
#include "host/report/score_output.h"
#include "host/run/run_session.h"
#include "python_observer.h"

namespace chipcast::python {
namespace {

namespace py = pybind11;
namespace fs = std::filesystem;

// The Python classes (defined in chipcast/__init__.py) that the RunError kinds
// become; set once by the package's import. Leaked on purpose: a py::object
// destroyed after the interpreter has finalised would crash at exit.
struct ErrorTypes {
  py::object config, runtime, checkpoint;
};
ErrorTypes* error_types = nullptr;

// Sets the Python error; a translator returns after it. (Throwing
// error_already_set instead would be lost: pybind11 2.10 hands the global
// translators the original exception, not one a local translator threw.)
void raise_as(const py::object& type, const char* message) { PyErr_SetString(type.ptr(), message); }

// Exceptions to the package's classes with the message the CLI prints after
// "error: ", and the same split as its exit statuses (host/cli/error_report.cc):
// a refused output folder and a bad argument are config errors, like a bad config.
void translate(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const py::error_already_set&) {
    throw;
  } catch (const py::builtin_exception&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const RunError& e) {
    if (!error_types) throw;
    switch (e.kind()) {
      case RunErrorKind::config:
        return raise_as(error_types->config, e.what());
      case RunErrorKind::checkpoint:
        return raise_as(error_types->checkpoint, e.what());
      case RunErrorKind::runtime:
        break;
    }
    raise_as(error_types->runtime, e.what());
  } catch (const std::exception& e) {
    if (!error_types) throw;
    const bool config = dynamic_cast<const ConfigError*>(&e) || dynamic_cast<const OutputFolderRefused*>(&e) ||
                        dynamic_cast<const std::invalid_argument*>(&e);
    raise_as(config ? error_types->config : error_types->runtime, e.what());
  }
}

Overrides make_overrides(std::optional<uint64_t> trajectories, std::optional<uint64_t> seed,
                         std::optional<std::string> sampling) {
  return Overrides{trajectories, seed, std::move(sampling)};
}

SessionOptions session_options(const std::string& backend, int threads) {
  if (threads < 0) throw std::invalid_argument("threads " + std::to_string(threads) + ": must be >= 0");
  SessionOptions so;
  so.backend = backend;
  so.threads = threads;
  return so;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) throw std::runtime_error(p.string() + ": cannot read it back");
  return ss.str();
}

// Every file `write` writes into a folder, by its path relative to it ("summary.json",
// "prior/bands.csv"), with its exact bytes: the DataFrames are parsed from the same text the
// CLI writes, and a file the writers gain (annual.csv) reaches Python without a binding
// change. Written into a private temporary folder, removed before returning.
template <class Write>
std::map<std::string, std::string> files_written_by(Write&& write) {
  std::string tmpl = (fs::temp_directory_path() / "chipcast-python-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error(tmpl + ": cannot create a temporary folder");
  const fs::path dir = tmpl;
  std::map<std::string, std::string> files;
  try {
    write(dir);
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file())
        files[entry.path().lexically_relative(dir).generic_string()] = read_file(entry.path());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return files;
}

// The files write_outputs writes for a run.
std::map<std::string, std::string> output_files(const Scenario& sc, const Summary& summary, const RunInfo& info) {
  return files_written_by([&](const fs::path& dir) { write_outputs(dir, sc, summary, info); });
}

py::dict bytes_dict(const std::map<std::string, std::string>& files) {
  py::dict d;
  for (const auto& [name, text] : files) d[py::str(name)] = py::bytes(text);
  return d;
}

// A completed run: what the CLI writes comes from these three.
struct RunRecord {
  std::shared_ptr<const Scenario> scenario;
  Summary summary;
  RunInfo info;
  std::map<std::string, std::string> files;
  std::vector<std::string> notes;

  void save(const fs::path& dir) const {
    OutputSet set = OutputSet::open(dir, OutputKind::run);
    write_outputs(set.path(), *scenario, summary, info);
    set.commit();
  }
};

struct CompareRecord {
  analysis::Comparison comparison;
  analysis::AnalysisInfo info;
  std::vector<std::shared_ptr<const Scenario>> scenarios;
  std::string json, csv, headline;

  void save(const fs::path& dir) const {
    OutputSet set = OutputSet::open(dir, OutputKind::compare);
    analysis::write_compare_outputs(set.path(), comparison, info);
    set.commit();
  }
};

struct SensitivityRecord {
  analysis::SensitivityResult result;
  analysis::AnalysisInfo info;
  std::shared_ptr<const Scenario> scenario;
  std::string json, csv, headline;

  void save(const fs::path& dir) const {
    OutputSet set = OutputSet::open(dir, OutputKind::sensitivity);
    analysis::write_sensitivity_outputs(set.path(), result, *scenario, info);
    set.commit();
  }
};

// A scored run (chipcast score): the scores, their files' exact bytes, and the re-run itself.
struct ScoreRecord {
  std::vector<Observation> observations;  // `scores` point into it (moved in whole: the buffer stays)
  std::vector<ObservationScore> scores;
  ScoreTotals totals;
  ScoreProvenance provenance;
  std::string json, csv;
  std::shared_ptr<RunRecord> run;

  void save(const fs::path& dir) const {
    OutputSet set = OutputSet::open(dir, OutputKind::score);
    write_score_outputs(set.path(), provenance, scores, totals);
    set.commit();
  }
};

// A completed calibrate run: what write_calibration writes comes from `result` (its tallies
// dropped: the summaries, decision counts and quantiles are all the writer reads).
struct CalibrateRecord {
  CalibrateResult result;
  std::map<std::string, std::string> files;  // by path relative to the output folder
  std::shared_ptr<RunRecord> prior, posterior;
  std::string headline;

  void save(const fs::path& dir) const {
    OutputSet set = OutputSet::open(dir, OutputKind::calibrate);
    write_calibration(set, result);
    set.commit();
  }
};

std::shared_ptr<RunRecord> run_record(const RunResult& r, const std::string& prefix,
                                      const std::map<std::string, std::string>& files) {
  auto rec = std::make_shared<RunRecord>();
  rec->scenario = r.scenario;
  rec->summary = *r.summary;
  rec->info = r.info;
  for (const auto& [name, text] : files)
    if (name.rfind(prefix, 0) == 0) rec->files[name.substr(prefix.size())] = text;
  return rec;
}

std::shared_ptr<const Scenario> load(const std::string& path, std::optional<uint64_t> trajectories,
                                     std::optional<uint64_t> seed, std::optional<std::string> sampling) {
  py::gil_scoped_release nogil;
  // Loading needs no backend: the session only adds its error kinds.
  RunSession session(SessionOptions{});
  return session.load(path, make_overrides(trajectories, seed, std::move(sampling)));
}

std::shared_ptr<RunRecord> run(std::shared_ptr<const Scenario> scenario, const std::string& backend, int threads,
                               uint64_t batch, const std::string& command_line, py::object reporter) {
  PythonObserver observer(std::move(reporter));
  std::shared_ptr<RunRecord> rec;
  {
    py::gil_scoped_release nogil;
    RunSession session(session_options(backend, threads));
    RunOptions ro;
    ro.batch = batch;
    ro.command_line = command_line;
    RunResult r = session.run(std::move(scenario), ro, &observer);
    if (r.outcome == RunOutcome::complete) {
      rec = std::make_shared<RunRecord>();
      rec->scenario = r.scenario;
      rec->summary = std::move(*r.summary);
      rec->info = std::move(r.info);
      rec->files = output_files(*rec->scenario, rec->summary, rec->info);
    }
  }
  observer.rethrow_if_stopped();
  // Only a stop request ends a run without checkpoints early, and that raised above.
  if (!rec) throw std::runtime_error("the run stopped early without a stop request");
  rec->notes = observer.notes();
  return rec;
}

std::shared_ptr<CompareRecord> compare(const std::vector<std::string>& configs, std::optional<uint64_t> trajectories,
                                       std::optional<uint64_t> seed, std::optional<std::string> sampling,
                                       const std::string& backend, int threads, py::object reporter) {
  using namespace analysis;
  if (configs.size() < 2)
    throw std::invalid_argument("compare needs at least two configs (the first is the reference), got " +
                                std::to_string(configs.size()));
  PythonObserver observer(std::move(reporter));
  auto rec = std::make_shared<CompareRecord>();
  {
    py::gil_scoped_release nogil;
    RunSession session(session_options(backend, threads));
    rec->scenarios = load_compared_scenarios(session, configs, make_overrides(trajectories, seed, std::move(sampling)));
    std::vector<const Scenario*> scenarios;
    for (const auto& s : rec->scenarios) scenarios.push_back(s.get());
    rec->info = analysis_info(session);
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t n = scenarios[0]->run.trajectories;
    observer.start(n, 0, "compare " + std::to_string(scenarios.size()) + " scenarios");
    // The analyses have no stop request: a pending Ctrl-C unwinds them as the
    // Python error itself, after the chunk that saw it (nothing is written).
    const auto progress = [&](uint64_t done) {
      if (observer.update(done)) observer.rethrow_if_stopped();
    };
    rec->comparison = compare_scenarios(scenarios, session, n, kCrossingChunk, progress);
    rec->info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rec->json = compare_json(rec->comparison, rec->info);
    rec->csv = compare_csv(rec->comparison);
    rec->headline = compare_headline(rec->comparison, scenarios[0]->run.horizon_year);
  }
  observer.rethrow_if_stopped();
  return rec;
}

std::shared_ptr<SensitivityRecord> sensitivity(const std::string& config, const std::string& output,
                                               uint64_t base_samples, int bootstrap, bool group_policy,
                                               const std::vector<std::string>& parameters,
                                               uint64_t tornado_trajectories, std::optional<uint64_t> seed,
                                               std::optional<std::string> sampling, const std::string& backend,
                                               int threads, py::object reporter) {
  using namespace analysis;
  PythonObserver observer(std::move(reporter));
  auto rec = std::make_shared<SensitivityRecord>();
  {
    py::gil_scoped_release nogil;
    RunSession session(session_options(backend, threads));
    SensitivityRequest request;
    request.output = output;
    request.base_samples = base_samples;
    request.bootstrap = bootstrap;
    request.group_policy = group_policy;
    request.parameters = parameters;
    request.tornado_trajectories = tornado_trajectories;
    // As the CLI: trajectories = N, so that latin sampling stratifies over the N rows of each matrix.
    rec->scenario = session.load(config, make_overrides(base_samples, seed, std::move(sampling)));
    const SensitivityPlan plan = plan_sensitivity(*rec->scenario, request, threads);
    rec->info = analysis_info(session);
    const auto t0 = std::chrono::steady_clock::now();
    bool opened = false;
    const auto progress = [&](int done, int all) {
      if (!opened) observer.start(static_cast<uint64_t>(all), 0, "sensitivity designs");
      opened = true;
      if (observer.update(static_cast<uint64_t>(done))) observer.rethrow_if_stopped();
    };
    rec->result = run_sensitivity(*rec->scenario, session, plan, progress);
    rec->info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rec->json = sensitivity_json(rec->result, *rec->scenario, rec->info);
    rec->csv = sensitivity_csv(rec->result);
    rec->headline = sensitivity_headline(rec->result);
  }
  observer.rethrow_if_stopped();
  return rec;
}

// `chipcast score`: the scenario of a run folder (run_dir set) or a given one
// (a RunResult's), re-run and scored through analysis::score_run, the files
// made by the CLI's writer. `run_label` is score.json's "run" (the folder as
// the caller named it; empty: null).
std::shared_ptr<ScoreRecord> score(std::shared_ptr<const Scenario> scenario, const std::string& run_dir,
                                   const std::string& run_label, const std::string& observations,
                                   const std::string& backend, int threads, const std::string& command_line,
                                   py::object reporter) {
  PythonObserver observer(std::move(reporter));
  std::shared_ptr<ScoreRecord> rec;
  {
    py::gil_scoped_release nogil;
    RunSession session(session_options(backend, threads));
    if (!run_dir.empty()) scenario = analysis::load_scored_run(session, run_dir);
    std::vector<Observation> obs = analysis::scored_observations(*scenario, observations);
    RunOptions ro;
    ro.command_line = command_line;
    analysis::ScoredRun s = analysis::score_run(session, scenario, std::move(obs), ro, &observer);
    if (s.run.outcome == RunOutcome::complete) {
      rec = std::make_shared<ScoreRecord>();
      rec->observations = std::move(s.observations);
      rec->scores = std::move(s.scores);
      rec->totals = s.totals;
      rec->provenance = ScoreProvenance{run_label, scenario->run.trajectories, scenario->run.seed};
      rec->json = score_json(rec->provenance, rec->scores, rec->totals);
      rec->csv = score_csv(rec->scores);
      rec->run = std::make_shared<RunRecord>();
      rec->run->scenario = s.run.scenario;
      rec->run->summary = std::move(*s.run.summary);
      rec->run->info = std::move(s.run.info);
      rec->run->files = output_files(*rec->run->scenario, rec->run->summary, rec->run->info);
    }
  }
  observer.rethrow_if_stopped();
  if (!rec) throw std::runtime_error("the run stopped early without a stop request");
  rec->run->notes = observer.notes();
  return rec;
}

// `chipcast calibrate`: RunSession::calibrate over the scenario with the observations of
// `observations` (a file; empty: the scenario's own), its files made by write_calibration.
std::shared_ptr<CalibrateRecord> calibrate(std::shared_ptr<const Scenario> scenario, const std::string& observations,
                                           const std::string& backend, int threads, uint64_t batch,
                                           const std::string& command_line, py::object reporter) {
  PythonObserver observer(std::move(reporter));
  std::shared_ptr<CalibrateRecord> rec;
  {
    py::gil_scoped_release nogil;
    // As `chipcast calibrate --observations`: a file replaces the scenario's observations
    // (load_observations_file refuses one without any).
    const std::vector<Observation> obs =
        observations.empty() ? std::vector<Observation>{} : load_observations_file(observations);
    RunSession session(session_options(backend, threads));
    RunOptions ro;
    ro.batch = batch;
    ro.command_line = command_line;
    CalibrateResult r = session.calibrate(std::move(scenario), obs, ro, &observer);
    if (r.prior.outcome == RunOutcome::complete) {
      rec = std::make_shared<CalibrateRecord>();
      r.prior.tally = Tally{};
      if (r.posterior) r.posterior->tally = Tally{};
      rec->result = std::move(r);
      const CalibrateResult& c = rec->result;
      rec->files = files_written_by([&](const fs::path& dir) { write_calibration(dir, c); });
      rec->prior = run_record(c.prior, "prior/", rec->files);
      if (c.posterior) rec->posterior = run_record(*c.posterior, "posterior/", rec->files);
      rec->headline = calibration_headline(c);
    }
  }
  observer.rethrow_if_stopped();
  if (!rec) throw std::runtime_error("the calibrate run stopped early without a stop request");
  rec->prior->notes = observer.notes();
  return rec;
}

}  // namespace
}  // namespace chipcast::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace chipcast;
  using namespace chipcast::python;
  m.doc() = "chipcast's C++ engine (private: use the chipcast package's functions).";
  m.attr("__version__") = CHIPCAST_VERSION;

  m.def(
      "set_error_types",
      [](py::object config, py::object runtime, py::object checkpoint) {
        if (!error_types) error_types = new ErrorTypes;
        *error_types = ErrorTypes{std::move(config), std::move(runtime), std::move(checkpoint)};
      },
      "The exception classes for RunError's kinds config, runtime and checkpoint.");
  py::register_local_exception_translator(&translate);

  m.def(
      "backends", [] { return build_info().backends; }, "Backends compiled into this build.");
  m.def(
      "build_lines", [] { return build_info().device_lines; }, "Devices and runtimes, one line each.");

  py::class_<Scenario, std::shared_ptr<Scenario>>(m, "Scenario", "A loaded, validated scenario (host/config).")
      .def_property_readonly("path", [](const Scenario& s) { return s.path; })
      .def_property_readonly("sha256", [](const Scenario& s) { return s.sha256; })
      .def_property_readonly("resolved_toml", [](const Scenario& s) { return s.resolved_toml; })
      .def_property_readonly("trajectories", [](const Scenario& s) { return s.run.trajectories; })
      .def_property_readonly("seed", [](const Scenario& s) { return s.run.seed; })
      .def_property_readonly("sampling", [](const Scenario& s) { return s.run.sampling; })
      .def_property_readonly("start_year", [](const Scenario& s) { return s.run.start_year; })
      .def_property_readonly("horizon_year", [](const Scenario& s) { return s.run.horizon_year; })
      .def_property_readonly("dt", [](const Scenario& s) { return s.run.dt; })
      .def_property_readonly("periods", [](const Scenario& s) { return s.params.periods; })
      .def_property_readonly("warnings", [](const Scenario& s) { return s.warnings; })
      .def_property_readonly("parameters", [](const Scenario& s) {
        std::vector<std::string> names;
        for (const auto& n : s.param_names)
          if (!n.empty()) names.push_back(n);
        return names;
      });

  py::class_<RunRecord, std::shared_ptr<RunRecord>>(m, "RunRecord", "A completed run: scenario, summary, provenance.")
      .def_property_readonly("files", [](const RunRecord& r) { return bytes_dict(r.files); })
      .def_property_readonly("headline", [](const RunRecord& r) { return headline(*r.scenario, r.summary); })
      .def_property_readonly("seconds", [](const RunRecord& r) { return r.info.seconds; })
      .def_property_readonly("backend_detail", [](const RunRecord& r) { return r.info.backend_detail; })
      .def_property_readonly("notes", [](const RunRecord& r) { return r.notes; })
      .def_property_readonly("scenario",
                             [](const RunRecord& r) { return std::const_pointer_cast<Scenario>(r.scenario); })
      .def("save", &RunRecord::save, py::arg("dir"), py::call_guard<py::gil_scoped_release>());

  py::class_<CompareRecord, std::shared_ptr<CompareRecord>>(m, "CompareRecord", "A comparison of scenarios.")
      .def_readonly("json", &CompareRecord::json)
      .def_property_readonly("csv", [](const CompareRecord& r) { return py::bytes(r.csv); })
      .def_readonly("headline", &CompareRecord::headline)
      .def_property_readonly("seconds", [](const CompareRecord& r) { return r.info.seconds; })
      .def_property_readonly("backend_detail", [](const CompareRecord& r) { return r.info.backend_detail; })
      .def_property_readonly("scenarios",
                             [](const CompareRecord& r) {
                               std::vector<std::shared_ptr<Scenario>> v;
                               for (const auto& s : r.scenarios) v.push_back(std::const_pointer_cast<Scenario>(s));
                               return v;
                             })
      .def("save", &CompareRecord::save, py::arg("dir"), py::call_guard<py::gil_scoped_release>());

  py::class_<SensitivityRecord, std::shared_ptr<SensitivityRecord>>(m, "SensitivityRecord", "A sensitivity study.")
      .def_readonly("json", &SensitivityRecord::json)
      .def_property_readonly("csv", [](const SensitivityRecord& r) { return py::bytes(r.csv); })
      .def_readonly("headline", &SensitivityRecord::headline)
      .def_property_readonly("seconds", [](const SensitivityRecord& r) { return r.info.seconds; })
      .def_property_readonly("backend_detail", [](const SensitivityRecord& r) { return r.info.backend_detail; })
      .def_property_readonly("scenario",
                             [](const SensitivityRecord& r) { return std::const_pointer_cast<Scenario>(r.scenario); })
      .def("save", &SensitivityRecord::save, py::arg("dir"), py::call_guard<py::gil_scoped_release>());

  py::class_<ScoreRecord, std::shared_ptr<ScoreRecord>>(m, "ScoreRecord", "A run scored against observations.")
      .def_property_readonly("json", [](const ScoreRecord& r) { return py::bytes(r.json); })
      .def_property_readonly("csv", [](const ScoreRecord& r) { return py::bytes(r.csv); })
      .def_readonly("run", &ScoreRecord::run)
      .def("save", &ScoreRecord::save, py::arg("dir"), py::call_guard<py::gil_scoped_release>());

  py::class_<CalibrateRecord, std::shared_ptr<CalibrateRecord>>(m, "CalibrateRecord", "A completed calibrate run.")
      .def_property_readonly("files", [](const CalibrateRecord& r) { return bytes_dict(r.files); })
      .def_readonly("prior", &CalibrateRecord::prior)
      .def_readonly("posterior", &CalibrateRecord::posterior)
      .def_readonly("headline", &CalibrateRecord::headline)
      .def_property_readonly("accepted", [](const CalibrateRecord& r) { return r.result.accepted; })
      .def_property_readonly("seconds", [](const CalibrateRecord& r) { return r.result.prior.info.seconds; })
      .def("save", &CalibrateRecord::save, py::arg("dir"), py::call_guard<py::gil_scoped_release>());

  m.def(
      "load",
      [](const std::string& path, std::optional<uint64_t> trajectories, std::optional<uint64_t> seed,
         std::optional<std::string> sampling) {
        return std::const_pointer_cast<Scenario>(load(path, trajectories, seed, std::move(sampling)));
      },
      py::arg("path"), py::arg("trajectories"), py::arg("seed"), py::arg("sampling"));
  m.def(
      "run",
      [](std::shared_ptr<Scenario> sc, const std::string& backend, int threads, uint64_t batch,
         const std::string& command_line, py::object reporter) {
        return run(std::move(sc), backend, threads, batch, command_line, std::move(reporter));
      },
      py::arg("scenario"), py::arg("backend"), py::arg("threads"), py::arg("batch"), py::arg("command_line"),
      py::arg("reporter"));
  m.def(
      "score",
      [](std::shared_ptr<Scenario> sc, const std::string& run_dir, const std::string& run_label,
         const std::string& observations, const std::string& backend, int threads, const std::string& command_line,
         py::object reporter) {
        return score(std::move(sc), run_dir, run_label, observations, backend, threads, command_line,
                     std::move(reporter));
      },
      py::arg("scenario"), py::arg("run_dir"), py::arg("run_label"), py::arg("observations"), py::arg("backend"),
      py::arg("threads"), py::arg("command_line"), py::arg("reporter"));
  m.def(
      "calibrate",
      [](std::shared_ptr<Scenario> sc, const std::string& observations, const std::string& backend, int threads,
         uint64_t batch, const std::string& command_line, py::object reporter) {
        return calibrate(std::move(sc), observations, backend, threads, batch, command_line, std::move(reporter));
      },
      py::arg("scenario"), py::arg("observations"), py::arg("backend"), py::arg("threads"), py::arg("batch"),
      py::arg("command_line"), py::arg("reporter"));
  m.def("compare", &compare, py::arg("configs"), py::arg("trajectories"), py::arg("seed"), py::arg("sampling"),
        py::arg("backend"), py::arg("threads"), py::arg("reporter"));
  m.def("sensitivity", &sensitivity, py::arg("config"), py::arg("output"), py::arg("base_samples"),
        py::arg("bootstrap"), py::arg("group_policy"), py::arg("parameters"), py::arg("tornado_trajectories"),
        py::arg("seed"), py::arg("sampling"), py::arg("backend"), py::arg("threads"), py::arg("reporter"));
}
