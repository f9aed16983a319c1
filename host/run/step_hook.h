// A test-only action at one step of a distributed run, so that tests of stopping and killing runs do not depend on the machine's speed.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace chipcast {

// The environment variable a session reads its step hook from when
// RunOptions::step_hook is unset: "STEP:ACTION", e.g. "2:wait-signal". For
// tests only (tests/cli/test_hpc_cli.cc); documented in host/run/README-hpc.md.
constexpr const char* kStepHookVariable = "CHIPCAST_TEST_STEP_HOOK";

// After its `step`-th step (1 = the first of this process), before the ranks
// agree on stopping, every rank does the action:
//   wait-signal     block until a stop signal (SIGTERM, SIGUSR1, SIGINT) is
//                   recorded, so a test can signal or kill a run that cannot
//                   finish meanwhile (at most 300 s, then a runtime error);
//   sleep=SECONDS   sleep, as a slow step would (a time limit shorter than
//                   SECONDS then always stops the run after this step);
//   raise=SIGNAL    raise SIGTERM, SIGUSR1, SIGINT or SIGKILL in this process,
//                   as if it arrived at that moment;
//   handshake=PATH  create the empty file PATH and block until it is removed
//                   (at most 300 s, then a runtime error), so a test can act
//                   while the run is held at a known step (PATH may hold ':').
// wait-signal and raise of a stop signal need the run's stop handlers, which
// a checkpointed run installs; without them the signal ends the process.
struct StepHook {
  enum class Action { wait_signal, sleep, raise_signal, handshake };
  uint64_t step = 1;
  Action action = Action::wait_signal;
  double seconds = 0;  // sleep
  int signal = 0;      // raise_signal
  std::string path;    // handshake
};

// Parses "STEP:wait-signal", "STEP:sleep=SECONDS", "STEP:raise=SIGNAL" or
// "STEP:handshake=PATH" (STEP >= 1). Throws std::invalid_argument quoting the text and the forms.
StepHook parse_step_hook(const std::string& text);
// The hook in CHIPCAST_TEST_STEP_HOOK; nullopt when unset or empty. Throws
// std::invalid_argument naming the variable when it does not parse.
std::optional<StepHook> step_hook_from_environment();
// Does the hook's action when `step` is its step (see StepHook). Throws
// std::runtime_error when wait-signal or handshake waited in vain, or the
// handshake's file cannot be created.
void run_step_hook(const StepHook& hook, uint64_t step);

}  // namespace chipcast
