// Checkpoint files: the merged tallies of a partial run, what they cover, and the run they belong to.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/run/build_isa.h"
#include "host/run/trajectory_ranges.h"
#include "models/parity/params.h"
#include "tally/calibration_tally.h"
#include "tally/tally.h"

namespace chipcast {

// Format version written by this build; files of other versions are refused.
// Version 3 added the calendar-year rows to the tally (TallyShape::years):
// a version 1 or 2 tally has none, so it cannot be resumed into a run that
// tallies them. Version 4 added the kind (run or calibrate) and, for a
// calibrate run, its observation table, posterior tally and decision counts
// after the tally; a version 3 file reads as a run's.
constexpr uint32_t kCheckpointVersion = 4;
constexpr uint32_t kCheckpointOldestReadable = 3;
// The file inside the --checkpoint folder.
constexpr const char* kCheckpointFileName = "chipcast.ckpt";

// Layout (all integers little-endian, fixed width; see host/run/README-hpc.md):
//   header   "CHIPCKPT" | u32 version | u32 flags (0) | u64 payload bytes P
//   payload  P bytes: run identity (with the kernels' ISA after the
//            backend), the tally shape (periods, sub-bins, years), trajectory
//            ranges done, the merged tally (histograms as runs of zeros and
//            LEB128 varints); version 4: u8 kind (0 run, 1 calibrate) and for
//            a calibrate run the observation table's text, the posterior
//            tally as the tally, the decision counts (parameters, counts,
//            sparse histograms of parameter uniforms and observed values)
//   trailer  SHA-256 of header + payload (32 bytes)
// A file that is shorter or longer than 24 + P + 32 bytes, or whose digest
// does not match, is corrupt.
struct Checkpoint {
  std::string config_sha256;  // hex SHA-256 of the resolved config (Scenario::sha256)
  std::string config_path;    // for messages only
  uint64_t seed = 0;
  uint64_t total = 0;                    // trajectories of the whole run
  std::string backend;                   // backend that wrote it (a different one only warns)
  std::string isa = build_isa().text();  // kernels' ISA that wrote it (BuildIsa::text)
  double seconds = 0;                    // run time of all segments so far
  TrajectoryRanges done;                 // trajectories included in `tally`
  Tally tally;                           // merged over all ranks
  // A calibrate run's: its other tallies, and observation_table_text of the
  // observations it conditions on (a resume must condition on the same).
  std::optional<CalibrateTallies> calibrate;
  std::string observations;
};

// The kernels' observation table of `p` as text (one line per observation:
// year row, bloc, quantity, ln value and sd_log in hexadecimal floating point),
// what a calibrate checkpoint records.
std::string observation_table_text(const parity::ModelParams& p);

// A checkpoint that cannot be used: unreadable, corrupt, another version,
// or another run. The message names the file and what is wrong or differs.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The largest tally (bytes of its 64-bit histograms) a checkpoint may declare: half of this
// machine's physical memory. The reader checks it before allocating the tally, as the sparse
// histograms can describe any number of bins in a few bytes (a run whose tally is larger could
// not be resumed here anyway).
uint64_t default_checkpoint_tally_limit();

std::string encode_checkpoint(const Checkpoint& c);
// The same with the tally given apart (c.tally is ignored): no copy of a large tally.
std::string encode_checkpoint(const Checkpoint& c, const Tally& tally);
// And a calibrate run's other tallies apart too (c.calibrate ignored; null: a run's checkpoint).
std::string encode_checkpoint(const Checkpoint& c, const Tally& tally, const CalibrateTallies* calibrate);
// Throws CheckpointError("<path>: ...") when `bytes` is not a valid checkpoint or its tally
// would take more than `max_tally_bytes`.
Checkpoint decode_checkpoint(const std::string& bytes, const std::string& path,
                             uint64_t max_tally_bytes = default_checkpoint_tally_limit());

std::filesystem::path checkpoint_path(const std::filesystem::path& dir);
// Writes dir/chipcast.ckpt atomically (write_file_atomic: temporary file,
// fsync, rename, fsync of the folder), creating `dir` if needed. Throws
// std::runtime_error naming the path.
void write_checkpoint(const std::filesystem::path& dir, const Checkpoint& c);
void write_checkpoint(const std::filesystem::path& dir, const Checkpoint& c, const Tally& tally);
void write_checkpoint(const std::filesystem::path& dir, const Checkpoint& c, const Tally& tally,
                      const CalibrateTallies* calibrate);
// Reads dir/chipcast.ckpt: nullopt when there is none; throws CheckpointError
// when it cannot be read or is corrupt. Never modifies the file.
std::optional<Checkpoint> read_checkpoint(const std::filesystem::path& dir,
                                          uint64_t max_tally_bytes = default_checkpoint_tally_limit());
// Creates `dir` if needed and checks that a file can be created in it, so a
// run learns at its start, not at its first checkpoint, that it cannot save
// its work. Throws std::runtime_error naming the folder.
void check_checkpoint_folder_writable(const std::filesystem::path& dir);
// Removes temporary files a killed writer left in `dir` (".chipcast.ckpt.tmp-*").
void remove_stale_checkpoint_temporaries(const std::filesystem::path& dir);

// What a resumed run must match.
struct CheckpointIdentity {
  std::string config_sha256;
  std::string config_path;
  uint64_t seed = 0;
  uint64_t total = 0;
  int32_t periods = 0;
  int32_t sub_bins = 0;
  int32_t years = 0;
  // A calibrate run: observation_table_text of its params; nullopt: a plain run.
  std::optional<std::string> observations;
};
// Throws CheckpointError listing every difference between `c` and `want`
// (seed, trajectories, config digest, tally shape), e.g.
//   out/ck/chipcast.ckpt belongs to another run: seed 7 in the checkpoint, 8 now; ...
void check_checkpoint_matches(const Checkpoint& c, const CheckpointIdentity& want, const std::string& path);

// Differences a resume accepts but should tell about: another backend, or
// kernels compiled for another ISA (byte-identity with an uninterrupted run
// holds per backend and build). One message per difference, naming `path`.
std::vector<std::string> checkpoint_resume_warnings(const Checkpoint& c, const std::string& backend,
                                                    const std::string& path);

}  // namespace chipcast
