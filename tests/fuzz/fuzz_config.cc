// libFuzzer harness for the config loader: each input is a scenario file next to copies of the real configs.
//
// The scratch folder holds configs/*.toml and tests/config/data/minimal.toml, so an input with
// `extends = "baseline.toml"` resolves against a real, valid parent and the fuzzer reaches the
// validation and resolution code, not only the TOML parser. ConfigError is the expected outcome of
// a bad input; any other exception is a finding (reported and aborted, so libFuzzer keeps the input),
// as are crashes, sanitizer reports, leaks and timeouts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "host/config/scenario.h"

namespace {

namespace fs = std::filesystem;

fs::path g_scenario;  // the file each input is written to

// A fresh folder under $TMPDIR (tests/fuzz/run.sh points it into its work folder).
fs::path make_scratch_folder(const char* stem) {
  std::string pattern = (fs::temp_directory_path() / (std::string(stem) + "XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

void copy_into(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::copy_file(file, dir / file.filename(), fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::fprintf(stderr, "fuzz_config: cannot copy %s: %s\n", file.c_str(), ec.message().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const fs::path scratch = make_scratch_folder("chipcast_fuzz_config_");
  const fs::path source(CHIPCAST_SOURCE_DIR);
  for (const auto& entry : fs::directory_iterator(source / "configs"))
    if (entry.path().extension() == ".toml") copy_into(entry.path(), scratch);
  copy_into(source / "tests/config/data/minimal.toml", scratch);
  g_scenario = scratch / "fuzz.toml";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(g_scenario, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
      std::fprintf(stderr, "fuzz_config: cannot write %s\n", g_scenario.c_str());
      std::abort();
    }
  }
  try {
    chipcast::load_scenario(g_scenario.string());
  } catch (const chipcast::ConfigError&) {
    // the expected answer to a bad config
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: load_scenario threw %s (not ConfigError): %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz_config: load_scenario threw a non-std exception\n");
    std::abort();
  }
  return 0;
}
