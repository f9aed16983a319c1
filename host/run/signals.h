// Stop requests from the scheduler or the user (SIGTERM, SIGUSR1, SIGINT): recorded, acted on between batches.
#pragma once

namespace chipcast {

// Installs handlers for SIGTERM, SIGUSR1 and SIGINT that only record the
// signal (async-signal-safe: one store to a volatile sig_atomic_t). The run
// loop polls stop_signal() after each batch, agrees with the other ranks,
// writes a checkpoint and exits with kExitCheckpointed. A second SIGINT
// while a stop is pending ends the process at once (Ctrl-C twice); further
// SIGTERMs or SIGUSR1s are ignored so a scheduler's SIGTERM that follows its
// warning signal cannot cut the checkpoint short.
void install_stop_handlers();
// The first stop signal received, 0 when none.
int stop_signal();
// "SIGTERM", "SIGUSR1", ... for messages.
const char* signal_name(int sig);

}  // namespace chipcast
