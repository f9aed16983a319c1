// An output folder as one set: locked while a command writes it, built in a temporary sibling and swapped in whole.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace chipcast {

// Which command writes the set. A set replaces, as a whole, the files its
// command owns and the charts drawn from them (they would describe another
// run); every other file in the folder is carried over unchanged:
//   run          summary.json crossing.csv bands.csv annual.csv resolved.toml + plot's files
//   sensitivity  sensitivity.json sensitivity.csv + plot's files
//   compare      compare.json compare.csv + plot's files
//   score        score.json score.csv + plot's files
//   calibrate    calibration.json calibration.csv parameter_quantiles.csv and the sub-folders prior/ and
//                posterior/ (an earlier run's posterior/ is never kept beside a set that has none) + plot's files
//   plot         report.html and, as .svg and .png, fan_* cdf_* annual_* shift_* tornado sobol marginals
//                (is_plot_file, host/report/plot.h)
// (a run folder keeps the sensitivity.json that `chipcast plot` draws from,
// a checkpoint kept in the same folder, notes of the user).
enum class OutputKind { run, sensitivity, compare, score, plot, calibrate };

// Open refused the folder: another live command holds it, or it cannot be an
// output folder (its parent is not a writable folder, it is a file, a mount
// point, the current folder, ...). Nothing was written. Commands exit 2.
class OutputFolderRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Protocol (see README "Outputs"):
//   OutputSet set = OutputSet::open(dir, OutputKind::run);  // before any work
//   write files into set.path() ...
//   set.commit();                                            // swap in
// open() takes an flock(2) on the sibling lock file <parent>/.<name>.chipcast-lock
// (the kernel drops it when the holder dies, so a killed run leaves no stuck
// lock), removes what killed writers left behind (temporary sibling folders,
// .<file>.tmp-PID-N files of dead processes), and creates the temporary
// sibling <parent>/.<name>.chipcast-set-PID-N on the same file system, into
// which the files of the folder that the set carries over are hard-linked.
// commit() fsyncs the new files, exchanges the sibling with the folder in one
// renameat2(RENAME_EXCHANGE) (a plain rename when the folder does not exist
// yet), fsyncs the parent, then moves sub-folders of the old folder into the
// new one and removes the old contents. Readers see the whole old set or the
// whole new one; a set that is never committed (error, kill) leaves the
// folder as it was. Destroying an uncommitted set removes its sibling.
class OutputSet {
 public:
  // Throws OutputFolderRefused (naming the folder, and the holder's PID when
  // it is busy). kind plot needs the folder to exist; the others create its
  // parent folders now and the folder itself at commit.
  static OutputSet open(const std::filesystem::path& dir, OutputKind kind);

  OutputSet(OutputSet&& other) noexcept;
  OutputSet& operator=(OutputSet&& other) noexcept;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  ~OutputSet();

  // The temporary folder to write the set's files into.
  const std::filesystem::path& path() const { return work_; }
  // The output folder as given to open (for messages).
  const std::filesystem::path& target() const { return given_; }

  // Swaps the set in (above) and releases the lock. Throws std::runtime_error
  // naming the folder when the swap fails; the folder is then as it was.
  void commit();

 private:
  OutputSet() = default;
  void carry_over();
  void release() noexcept;

  std::filesystem::path given_;   // as the caller spelled it
  std::filesystem::path target_;  // absolute, normalised
  std::filesystem::path work_;    // the temporary sibling
  std::filesystem::path lock_path_;
  OutputKind kind_ = OutputKind::run;
  int lock_fd_ = -1;
  // Files hard-linked (or copied) from the folder: name -> (device, inode) of the link in work_.
  std::map<std::string, std::pair<dev_t, ino_t>> carried_;
};

}  // namespace chipcast
