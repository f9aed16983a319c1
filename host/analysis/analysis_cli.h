// Registers the analysis subcommands (compare, sensitivity) on the chipcast command line.
#pragma once

namespace CLI {
class App;
}

namespace chipcast {

// Adds `compare` and `sensitivity` to `app` with their options. When either is
// parsed, its callback (run by app.parse) executes the command and stores its
// exit status (0, 2 = bad config/flags, 3 = backend or I/O) in `exit_status`;
// otherwise `exit_status` is left untouched. `exit_status` must outlive
// app.parse. In main():
//
//   int analysis_status = -1;
//   add_analysis_commands(app, analysis_status);
//   ... app.parse(argc, argv) ...
//   if (analysis_status >= 0) return analysis_status;
void add_analysis_commands(CLI::App& app, int& exit_status);

}  // namespace chipcast
