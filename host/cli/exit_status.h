// The exit statuses of the chipcast command line, which scripts and schedulers tell apart (host/run/README-hpc.md).
#pragma once

namespace chipcast::cli {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;         // bad scenario, flags or output spec; nothing run or written
constexpr int kExitRuntime = 3;        // backend, MPI or I/O failure (a checkpointed run resumes from its checkpoint)
constexpr int kExitCheckpoint = 4;     // checkpoint refused (corrupt, another run's, or exists without --resume)
constexpr int kExitNoPosterior = 5;    // calibrate: done, but no trajectory accepted (no posterior written)
constexpr int kExitCheckpointed = 75;  // EX_TEMPFAIL: stopped early with a checkpoint written; resume (requeue) me

}  // namespace chipcast::cli
