// Parsing and running the test-only step hook (CHIPCAST_TEST_STEP_HOOK).
#include "host/run/step_hook.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "host/run/signals.h"

namespace chipcast {
namespace {

// Long enough for any test to send its signal, short enough that a test that
// forgets to ends with an error instead of hanging until ctest's timeout.
constexpr double kMaxWaitSeconds = 300;

[[noreturn]] void bad_hook(const std::string& text, const std::string& why) {
  throw std::invalid_argument(
      fmt::format("step hook \"{}\": {}; expected STEP:wait-signal, STEP:sleep=SECONDS, STEP:raise=SIGNAL or "
                  "STEP:handshake=PATH (STEP >= 1; SIGNAL SIGTERM, SIGUSR1, SIGINT or SIGKILL)",
                  text, why));
}

int signal_number(const std::string& name) {
  if (name == "SIGTERM") return SIGTERM;
  if (name == "SIGUSR1") return SIGUSR1;
  if (name == "SIGINT") return SIGINT;
  if (name == "SIGKILL") return SIGKILL;
  return 0;
}

// Polls `done` every millisecond for at most kMaxWaitSeconds; then throws
// std::runtime_error "<variable>: <what> at step <step>".
template <class Done>
void wait_for(Done done, const std::string& what, uint64_t step) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(kMaxWaitSeconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end)
      throw std::runtime_error(fmt::format("{}: {} at step {}", kStepHookVariable, what, step));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

StepHook parse_step_hook(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) bad_hook(text, "no ':'");
  const std::string step = text.substr(0, colon), action = text.substr(colon + 1);
  StepHook hook;
  size_t used = 0;
  try {
    hook.step = std::stoull(step, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != step.size() || step[0] == '-' || hook.step == 0)
    bad_hook(text, "STEP is not a positive integer");
  if (action == "wait-signal") {
    hook.action = StepHook::Action::wait_signal;
  } else if (action.rfind("sleep=", 0) == 0) {
    hook.action = StepHook::Action::sleep;
    const std::string s = action.substr(6);
    try {
      hook.seconds = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || !(hook.seconds >= 0) || hook.seconds > kMaxWaitSeconds)
      bad_hook(text, fmt::format("SECONDS is not a number in [0, {}]", kMaxWaitSeconds));
  } else if (action.rfind("raise=", 0) == 0) {
    hook.action = StepHook::Action::raise_signal;
    hook.signal = signal_number(action.substr(6));
    if (hook.signal == 0) bad_hook(text, "unknown SIGNAL");
  } else if (action.rfind("handshake=", 0) == 0) {
    hook.action = StepHook::Action::handshake;
    hook.path = action.substr(10);
    if (hook.path.empty()) bad_hook(text, "no PATH");
  } else {
    bad_hook(text, "unknown action");
  }
  return hook;
}

std::optional<StepHook> step_hook_from_environment() {
  const char* v = std::getenv(kStepHookVariable);
  if (!v || !*v) return std::nullopt;
  try {
    return parse_step_hook(v);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(kStepHookVariable) + ": " + e.what());
  }
}

void run_step_hook(const StepHook& hook, uint64_t step) {
  if (step != hook.step) return;
  switch (hook.action) {
    case StepHook::Action::wait_signal:
      wait_for([] { return stop_signal() != 0; }, fmt::format("no stop signal within {} s", kMaxWaitSeconds), step);
      break;
    case StepHook::Action::sleep:
      std::this_thread::sleep_for(std::chrono::duration<double>(hook.seconds));
      break;
    case StepHook::Action::raise_signal:
      std::raise(hook.signal);
      break;
    case StepHook::Action::handshake: {
      if (!std::ofstream(hook.path))
        throw std::runtime_error(fmt::format("{}: cannot create {} at step {}", kStepHookVariable, hook.path, step));
      std::error_code ec;
      wait_for([&] { return !std::filesystem::exists(hook.path, ec); },
               fmt::format("{} not removed within {} s", hook.path, kMaxWaitSeconds), step);
      break;
    }
  }
}

}  // namespace chipcast
