// Runs the chipcast binary from tests and captures its exit status and output.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "host/report/plot.h"

namespace chipcast::testing {

struct CommandResult {
  int status = -1;     // exit status (or -1 if killed)
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

inline CommandResult run_chipcast(const std::string& args) {
  return run_command(std::string(CHIPCAST_EXE) + " " + args);
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// A fresh scratch folder per test, removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("chipcast-test-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

// Empty when `chipcast plot` can draw here (this build's Python package imports, with matplotlib,
// pandas and NumPy); else why not, for a GTEST_SKIP (the asan preset builds no package).
inline std::string chart_tools_missing() {
  const std::string py = (std::filesystem::path(CHIPCAST_EXE).parent_path() / "python").string();
  const CommandResult r = run_command("PYTHONPATH=" + py + " " + plot_python() + " -c 'import chipcast.plotting' 2>&1");
  if (r.status == 0) return "";
  return plot_python() + " cannot import chipcast.plotting from " + py +
         " (a build without the Python package, or no python3-matplotlib, python3-pandas, python3-numpy): " + r.output;
}

}  // namespace chipcast::testing
