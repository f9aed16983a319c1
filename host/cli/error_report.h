// Turns what the session and the libraries throw into "error: ..." on stderr and an exit status.
#pragma once
#include <exception>

#include "host/run/run_error.h"

namespace chipcast::cli {

// "error: MESSAGE" or, for one rank's failure in a multi-rank job, "error (rank R): MESSAGE" on stderr; nothing
// when the error is another rank's to report (RunError::report_here).
void print_error(const RunError& error);

// Prints `e` (as print_error for a RunError, else "error: MESSAGE") and
// returns its exit status: RunError by kind (config 2, runtime 3,
// checkpoint 4); ConfigError and std::invalid_argument (a bad spec found
// only now) 2; any other exception (backend, I/O) 3.
int report_error(const std::exception& e);

}  // namespace chipcast::cli
