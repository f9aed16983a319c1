// Test fixtures for tests that write scenario files and load or run them.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "host/config/scenario.h"
#include "host/run/run_session.h"

namespace chipcast::testing {

class ScenarioFileTest : public ::testing::Test {
 protected:
  // A fresh folder per test, named after the process and the test so that tests run in parallel never share one.
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("chipcast_test_" + std::string(info->test_suite_name()) + "_" +
                                                     std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to `name` in the test's folder (creating subfolders) and returns its path.
  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  // The ConfigError message of loading `path`; fails the test when it loads.
  static std::string error_of(const std::string& path, const Overrides& o = {}) {
    try {
      load_scenario(path, o);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << path << " loaded without error";
    return "";
  }

  std::filesystem::path dir_;
};

// ScenarioFileTest with a run session on a two-thread OpenMP backend to run the scenarios on.
class ScenarioRunTest : public ScenarioFileTest {
 protected:
  void SetUp() override {
    ScenarioFileTest::SetUp();
    SessionOptions o;
    o.threads = 2;
    session_ = std::make_unique<RunSession>(o);
  }

  std::unique_ptr<RunSession> session_;
};

}  // namespace chipcast::testing
