// Running the Python chart package (chipcast.plotting) in a child process (see plot.h).
#include "host/report/plot.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "host/report/output_set.h"

extern char** environ;

namespace chipcast {

namespace {

namespace fs = std::filesystem;

// python/chipcast/plotting.py's exit status when NumPy, pandas or matplotlib do not import.
constexpr int kExitToolsMissing = 69;

struct ChildResult {
  bool exec_failed = false;
  int exec_errno = 0;
  bool exited = false;
  int status = 0;  // exit status, or the signal when !exited
  std::string out, err;
};

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The package's own "error: ..." line without its prefix (the CLI adds its own).
std::string package_message(const std::string& err) {
  std::string s = trimmed(err);
  const size_t at = s.rfind("error: ");
  if (at != std::string::npos && (at == 0 || s[at - 1] == '\n')) return s.substr(at + 7);
  return s;
}

// Runs `<python> -m chipcast.plotting args...` with the package folder first on PYTHONPATH,
// collecting its stdout and stderr. The child dies with us (PR_SET_PDEATHSIG), so a killed
// command leaves no python writing into a set that will never be committed.
ChildResult run_plotting(const std::vector<std::string>& args) {
  const std::string python = plot_python();
  std::vector<std::string> argv_s = {python, "-m", "chipcast.plotting"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "PYTHONPATH=", 11) != 0) env_s.emplace_back(*e);
  const char* old = std::getenv("PYTHONPATH");
  env_s.push_back("PYTHONPATH=" + plot_pythonpath() + (old && *old ? ":" + std::string(old) : std::string()));
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("cannot start {}: pipe: {}", python, std::strerror(errno)));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("cannot start {}: fork: {}", python, std::strerror(errno)));
  if (pid == 0) {  // only async-signal-safe calls from here to exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);

  ChildResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int e = 0;
  if (::read(exec_pipe[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e)) {
    r.exec_failed = true;
    r.exec_errno = e;
  }
  ::close(exec_pipe[0]);
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
  }
  r.exited = WIFEXITED(raw);
  r.status = r.exited ? WEXITSTATUS(raw) : (WIFSIGNALED(raw) ? WTERMSIG(raw) : 0);
  return r;
}

// PlotToolsMissing for the ways the tools can be absent; nothing for other results.
void throw_if_missing(const ChildResult& r) {
  const std::string python = plot_python();
  if (r.exec_failed)
    throw PlotToolsMissing(fmt::format(
        "the charts need Python 3, and '{}' cannot be run ({}): install it (Debian/Ubuntu: sudo apt-get install "
        "python3 python3-matplotlib python3-pandas python3-numpy) or set CHIPCAST_PYTHON to a Python 3 interpreter",
        python, std::strerror(r.exec_errno)));
  if (r.exited && r.status == kExitToolsMissing) throw PlotToolsMissing(package_message(r.err));
  if (r.exited && r.status != 0 &&
      (r.err.find("No module named chipcast") != std::string::npos ||
       r.err.find("No module named 'chipcast") != std::string::npos))
    throw PlotToolsMissing(fmt::format(
        "the charts need the chipcast Python package, and {} does not find it in {}: build it with `cmake --build "
        "build --target chipcast_python`, or set CHIPCAST_PYTHONPATH to the folder that holds chipcast/ ({})",
        python, plot_pythonpath(), package_message(r.err)));
}

}  // namespace

std::string plot_python() {
  const char* env = std::getenv("CHIPCAST_PYTHON");
  return env && *env ? std::string(env) : std::string(CHIPCAST_PYTHON_DEFAULT);
}

std::string plot_pythonpath() {
  const char* env = std::getenv("CHIPCAST_PYTHONPATH");
  return env && *env ? std::string(env) : std::string(CHIPCAST_PYTHONPATH_DEFAULT);
}

bool is_plot_file(const std::string& name) {
  if (name == "report.html") return true;
  if (!ends_with(name, ".svg") && !ends_with(name, ".png")) return false;
  const std::string stem = name.substr(0, name.size() - 4);
  return stem == "tornado" || stem == "sobol" || stem == "marginals" || starts_with(stem, "fan_") ||
         starts_with(stem, "cdf_") || starts_with(stem, "annual_") || starts_with(stem, "shift_");
}

void check_plot_tools() {
  const ChildResult r = run_plotting({"--check"});
  throw_if_missing(r);
  if (!r.exited || r.status != 0)
    throw PlotToolsMissing(fmt::format(
        "the chart tools do not start ({} -m chipcast.plotting --check: {}): {}", plot_python(),
        r.exited ? "exit status " + std::to_string(r.status) : "signal " + std::to_string(r.status), trimmed(r.err)));
}

std::vector<fs::path> write_plot_files(const fs::path& from, const fs::path& into, const fs::path& dir) {
  const ChildResult r = run_plotting({from.string(), into.string(), "--name", dir.string()});
  throw_if_missing(r);
  if (!r.exited)
    throw std::runtime_error(
        fmt::format("drawing the charts of {}: {} -m chipcast.plotting was killed by signal {}; nothing was written",
                    dir.string(), plot_python(), r.status));
  if (r.status != 0) {
    const std::string msg = package_message(r.err);
    throw std::runtime_error(msg.empty() ? fmt::format("drawing the charts of {}: {} -m chipcast.plotting exited {}",
                                                       dir.string(), plot_python(), r.status)
                                         : msg);
  }
  std::vector<fs::path> written;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    const std::string name = trimmed(r.out.substr(start, end - start));
    start = end + 1;
    if (name.empty()) continue;
    // The package prints bare file names; anything else would be written outside the set.
    if (!is_plot_file(name) || !fs::is_regular_file(into / name))
      throw std::runtime_error(
          fmt::format("drawing the charts of {}: the package reported '{}', not a chart it wrote", dir.string(), name));
    written.push_back(into / name);
  }
  return written;
}

std::vector<fs::path> write_plots(const fs::path& dir) {
  OutputSet set = OutputSet::open(dir, OutputKind::plot);
  std::vector<fs::path> written = write_plot_files(dir, set.path(), dir);
  set.commit();
  for (auto& path : written) path = dir / path.filename();
  return written;
}

}  // namespace chipcast
