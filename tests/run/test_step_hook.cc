// Tests of the test-only step hook: its grammar, the environment variable, and each action at its step only.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/run/signals.h"
#include "host/run/step_hook.h"

namespace chipcast {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_step_hook(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << text << " parsed";
  return "";
}

TEST(StepHookTest, ParsesTheFourActions) {
  StepHook h = parse_step_hook("2:wait-signal");
  EXPECT_EQ(h.step, 2u);
  EXPECT_EQ(h.action, StepHook::Action::wait_signal);
  h = parse_step_hook("1:sleep=0.25");
  EXPECT_EQ(h.step, 1u);
  EXPECT_EQ(h.action, StepHook::Action::sleep);
  EXPECT_EQ(h.seconds, 0.25);
  h = parse_step_hook("17:raise=SIGUSR1");
  EXPECT_EQ(h.step, 17u);
  EXPECT_EQ(h.action, StepHook::Action::raise_signal);
  EXPECT_EQ(h.signal, SIGUSR1);
  EXPECT_EQ(parse_step_hook("3:raise=SIGKILL").signal, SIGKILL);
  h = parse_step_hook("5:handshake=/tmp/a:b");
  EXPECT_EQ(h.step, 5u);
  EXPECT_EQ(h.action, StepHook::Action::handshake);
  EXPECT_EQ(h.path, "/tmp/a:b");
}

TEST(StepHookTest, RefusesWhatDoesNotParseQuotingIt) {
  for (const char* bad :
       {"", "wait-signal", "0:wait-signal", "-1:sleep=1", "x:sleep=1", "2 :wait-signal", "2:nap", "2:raise=SIGHUP",
        "2:sleep=abc", "2:sleep=-1", "2:sleep=1e9", "2:sleep=1s", "2:handshake=", "2:handshake"}) {
    const std::string e = parse_error(bad);
    EXPECT_NE(e.find(std::string("\"") + bad + "\""), std::string::npos) << e;
    EXPECT_NE(e.find("STEP:wait-signal"), std::string::npos) << e;
  }
}

TEST(StepHookTest, ReadsTheEnvironmentVariable) {
  ::unsetenv(kStepHookVariable);
  EXPECT_FALSE(step_hook_from_environment().has_value());
  ::setenv(kStepHookVariable, "", 1);
  EXPECT_FALSE(step_hook_from_environment().has_value());
  ::setenv(kStepHookVariable, "4:sleep=0", 1);
  ASSERT_TRUE(step_hook_from_environment().has_value());
  EXPECT_EQ(step_hook_from_environment()->step, 4u);
  ::setenv(kStepHookVariable, "4:snooze", 1);
  try {
    step_hook_from_environment();
    ADD_FAILURE() << "4:snooze parsed";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(std::string(kStepHookVariable) + ": ", 0), 0u) << e.what();
  }
  ::unsetenv(kStepHookVariable);
}

TEST(StepHookTest, SleepsAtItsStep) {
  const StepHook h = parse_step_hook("2:sleep=0.05");
  using Clock = std::chrono::steady_clock;
  // sleep_for sleeps at least as long as asked: a lower bound only, whatever the machine's speed.
  const auto t0 = Clock::now();
  run_step_hook(h, 2);
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 0.05);
}

// The handshake creates its file at its step only, and returns once another
// thread has seen the file and removed it (no timing: the order is forced).
TEST(StepHookTest, HandshakeHoldsItsStepUntilTheFileIsRemoved) {
  const std::filesystem::path flag =
      std::filesystem::temp_directory_path() / ("chipcast_handshake_" + std::to_string(::getpid()));
  std::filesystem::remove(flag);
  const StepHook h = parse_step_hook("2:handshake=" + flag.string());
  run_step_hook(h, 1);
  EXPECT_FALSE(std::filesystem::exists(flag));
  std::atomic<bool> seen{false}, returned{false};
  std::thread other([&] {
    while (!returned && !std::filesystem::exists(flag)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (returned) return;  // the hook returned without its file: the test fails below
    seen = true;
    std::filesystem::remove(flag);
  });
  EXPECT_NO_THROW(run_step_hook(h, 2));
  returned = true;
  EXPECT_TRUE(seen.load());
  EXPECT_FALSE(std::filesystem::exists(flag));
  other.join();
}

TEST(StepHookTest, HandshakeSaysWhenItCannotCreateItsFile) {
  const StepHook h = parse_step_hook("1:handshake=/nonexistent-dir/flag");
  try {
    run_step_hook(h, 1);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create /nonexistent-dir/flag at step 1"), std::string::npos)
        << e.what();
  }
}

// The last test of the file: the stop signal it records stays for the process.
TEST(StepHookTest, RaisesAtItsStepAndThenWaitSignalReturns) {
  install_stop_handlers();
  ASSERT_EQ(stop_signal(), 0);
  const StepHook raise = parse_step_hook("3:raise=SIGUSR1");
  run_step_hook(raise, 1);
  run_step_hook(raise, 2);
  EXPECT_EQ(stop_signal(), 0);
  run_step_hook(raise, 3);
  EXPECT_EQ(stop_signal(), SIGUSR1);
  // A signal already recorded: wait-signal does not wait.
  run_step_hook(parse_step_hook("1:wait-signal"), 1);
  EXPECT_EQ(stop_signal(), SIGUSR1);
}

}  // namespace
}  // namespace chipcast
