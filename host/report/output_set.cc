// OutputSet: lock, debris removal, carried files and the atomic folder swap (see output_set.h).
#include "host/report/output_set.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28, _GNU_SOURCE)
#include <optional>
#include <system_error>
#include <vector>

#include "host/report/plot.h"

namespace chipcast {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// True for "<digits>-<digits>", the PID-counter suffix of the temporary names.
bool pid_counter(const std::string& s) {
  const size_t dash = s.find('-');
  return dash != std::string::npos && all_digits(s.substr(0, dash)) && all_digits(s.substr(dash + 1));
}

// A process with this PID exists (EPERM: it exists but is not ours).
bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// The PID in a write_file_atomic temporary name ".<file>.tmp-PID-N" (or the
// checkpoint probe ".<file>.tmp-probe-PID"); -1 if `name` is not one.
long temp_file_pid(const std::string& name) {
  if (name.empty() || name[0] != '.') return -1;
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos || at == 0) return -1;
  std::string rest = name.substr(at + 5);
  const bool probe = rest.compare(0, 6, "probe-") == 0;
  if (probe) rest = rest.substr(6);
  const size_t dash = rest.find('-');
  const std::string pid = rest.substr(0, dash);
  if (!all_digits(pid) || pid.size() > 9) return -1;
  // write_file_atomic's names end in -PID-N, the probe's in -PID: nothing else is taken for one.
  if (probe ? dash != std::string::npos : dash == std::string::npos || !all_digits(rest.substr(dash + 1))) return -1;
  return std::stol(pid);
}

// The files a set of `kind` replaces as a whole (output_set.h), written or not.
bool superseded(OutputKind kind, const std::string& name) {
  switch (kind) {
    case OutputKind::run:
      return name == "summary.json" || name == "crossing.csv" || name == "bands.csv" || name == "annual.csv" ||
             name == "resolved.toml" || is_plot_file(name);
    case OutputKind::sensitivity:
      return name == "sensitivity.json" || name == "sensitivity.csv" || is_plot_file(name);
    case OutputKind::compare:
      return name == "compare.json" || name == "compare.csv" || is_plot_file(name);
    case OutputKind::score:
      return name == "score.json" || name == "score.csv" || is_plot_file(name);
    case OutputKind::plot:
      return is_plot_file(name);
    case OutputKind::calibrate:
      return name == "calibration.json" || name == "calibration.csv" || name == "parameter_quantiles.csv" ||
             name == "prior" || name == "posterior" || is_plot_file(name);
  }
  return false;
}

void fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: some file systems refuse fsync on folders
  ::close(fd);
}

struct stat stat_of(const fs::path& p, bool* ok) {
  struct stat st {};
  *ok = ::lstat(p.c_str(), &st) == 0;
  return st;
}

// Moves the sub-folders of `from` (old contents of the output folder) into
// `into` where it has none of that name, then removes `from`. Sub-folders are
// never in a set before the swap, so this is also how debris of a run killed
// between the swap and this step is recovered.
// Sub-folders the set of `kind` replaces (a calibrate set's prior/ and posterior/) are not moved.
void move_folders_and_remove(const fs::path& from, const fs::path& into,
                             std::optional<OutputKind> kind = std::nullopt) {
  std::error_code ec;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!it->is_directory(e2) || it->is_symlink(e2)) continue;
    if (kind && superseded(*kind, it->path().filename().string())) continue;
    const fs::path dest = into / it->path().filename();
    if (!fs::exists(fs::symlink_status(dest, e2))) ::rename(it->path().c_str(), dest.c_str());
  }
  fs::remove_all(from, ec);
}

long read_holder_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return all_digits(s) && s.size() < 10 ? std::stol(s) : -1;
}

}  // namespace

OutputSet OutputSet::open(const fs::path& dir, OutputKind kind) {
  static std::atomic<unsigned> counter{0};
  auto refuse = [&](const std::string& why) {
    throw OutputFolderRefused(fmt::format("output folder {}: {}", dir.string(), why));
  };
  if (dir.empty()) refuse("empty path");
  std::error_code ec;
  fs::path target = fs::absolute(dir, ec).lexically_normal();
  if (ec) refuse(ec.message());
  if (!target.has_filename()) target = target.parent_path();  // "out/x/"
  // Resolve symbolic links (a parent on linked scratch storage, a link to the
  // folder): every spelling of a folder takes the same lock, and the swap
  // replaces the real folder, not a link to it.
  if (fs::path real = fs::weakly_canonical(target, ec); !ec && !real.empty()) target = real.lexically_normal();
  ec.clear();
  if (!target.has_filename()) target = target.parent_path();
  if (target == target.root_path() || !target.has_filename()) refuse("the root folder cannot be an output folder");
  const fs::path parent = target.parent_path();
  const std::string name = target.filename().string();

  bool exists = false;
  struct stat tst = stat_of(target, &exists);
  if (exists && !S_ISDIR(tst.st_mode)) refuse("exists and is not a folder");
  bool parent_there = false;
  const struct stat pre = stat_of(parent, &parent_there);
  if (parent_there && !S_ISDIR(pre.st_mode)) refuse(fmt::format("its parent {} is not a folder", parent.string()));
  if (!parent_there && kind == OutputKind::plot) refuse("no such folder (plot draws the charts of an output folder)");
  fs::create_directories(parent, ec);
  if (ec) refuse(fmt::format("cannot create its parent folder {}: {}", parent.string(), ec.message()));
  bool parent_ok = false;
  const struct stat pst = stat_of(parent, &parent_ok);
  if (!parent_ok || !S_ISDIR(pst.st_mode)) refuse(fmt::format("its parent {} is not a folder", parent.string()));

  OutputSet set;
  set.given_ = dir;
  set.target_ = target;
  set.kind_ = kind;
  set.lock_path_ = parent / ("." + name + ".chipcast-lock");
  // Lock, then check that the lock file is still the one at the path: a holder
  // unlinks it when done, and a lock on an unlinked file would guard nothing.
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(set.lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      refuse(fmt::format("cannot write in its parent folder {}: {}", parent.string(), errno_text(err)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const long holder = read_holder_pid(fd);
      ::close(fd);
      if (err == EWOULDBLOCK)
        refuse(fmt::format("in use by another chipcast command ({}); wait for it to finish or give another folder",
                           holder > 0 ? fmt::format("pid {}", holder) : std::string("pid unknown")));
      refuse(fmt::format("cannot lock {}: {}", set.lock_path_.string(), errno_text(err)));
    }
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(set.lock_path_.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      set.lock_fd_ = fd;
      break;
    }
    ::close(fd);
    if (attempt > 100) refuse(fmt::format("cannot lock {}: it keeps being replaced", set.lock_path_.string()));
  }
  const std::string pid_line = fmt::format("{}\n", static_cast<long>(::getpid()));
  if (::ftruncate(set.lock_fd_, 0) != 0 ||
      ::pwrite(set.lock_fd_, pid_line.data(), pid_line.size(), 0) != static_cast<ssize_t>(pid_line.size())) {
    const int err = errno;
    refuse(fmt::format("cannot write {}: {}", set.lock_path_.string(), errno_text(err)));
  }

  // Debris. Siblings: only a holder of the lock makes them, so any there now
  // was left by a killed command. An "-old-" sibling with no folder is the old
  // set of a swap that fell back to two renames and was cut between them.
  const std::string set_prefix = "." + name + ".chipcast-set-";
  const std::string old_prefix = "." + name + ".chipcast-old-";
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    const bool is_set = n.compare(0, set_prefix.size(), set_prefix) == 0 && pid_counter(n.substr(set_prefix.size()));
    const bool is_old = n.compare(0, old_prefix.size(), old_prefix) == 0 && pid_counter(n.substr(old_prefix.size()));
    if (!is_set && !is_old) continue;
    std::error_code e2;
    if (is_old && !fs::exists(fs::symlink_status(target, e2))) {
      ::rename(it->path().c_str(), target.c_str());
      continue;
    }
    if (fs::is_directory(fs::symlink_status(target, e2)))
      move_folders_and_remove(it->path(), target);
    else
      fs::remove_all(it->path(), e2);
  }
  // Inside the folder: write_file_atomic temporaries of processes that are gone.
  ec.clear();
  if (fs::is_directory(fs::symlink_status(target, ec)))
    for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
      const long pid = temp_file_pid(it->path().filename().string());
      std::error_code e2;
      if (pid > 0 && !process_alive(pid) && it->is_regular_file(e2)) fs::remove(it->path(), e2);
    }

  // After the debris: a swap cut short may just have been undone.
  tst = stat_of(target, &exists);
  if (exists && !S_ISDIR(tst.st_mode)) refuse("exists and is not a folder");
  if (!exists && kind == OutputKind::plot) refuse("no such folder (plot draws the charts of an output folder)");
  if (exists) {
    // The swap renames the folder: it must be an ordinary entry of its parent.
    if (tst.st_dev != pst.st_dev) refuse("is a mount point; chipcast swaps its output folder as a whole");
    // Swapping the current folder away would leave this process (and the
    // shell it was started from) in a removed folder.
    const fs::path cwd = fs::weakly_canonical(fs::current_path(ec), ec);
    if (!ec && std::mismatch(target.begin(), target.end(), cwd.begin(), cwd.end()).first == target.end())
      refuse(
          "is (or holds) the current folder; chipcast replaces its output folder as a whole, which would leave "
          "you in a removed folder: run it from another folder");
  }

  set.work_ = parent / fmt::format("{}{}-{}", set_prefix, static_cast<long>(::getpid()), counter.fetch_add(1));
  const mode_t mode = exists ? (tst.st_mode & 07777) : 0777;
  if (::mkdir(set.work_.c_str(), mode) != 0) {
    const int err = errno;
    set.work_.clear();
    refuse(fmt::format("cannot create a folder in its parent {}: {}", parent.string(), errno_text(err)));
  }
  if (exists) ::chmod(set.work_.c_str(), mode);  // mkdir applied the umask; keep the folder's own mode
  try {
    set.carry_over();
  } catch (const std::exception& e) {
    refuse(e.what());
  }
  return set;
}

// Hard-links into work_ the folder's entries that the set does not replace
// (copies regular files where the file system refuses links). Called at open
// and again at commit, so a file that changed meanwhile (a checkpoint kept in
// the folder) is carried as it is at the swap; a carried name the set has
// rewritten itself is the set's.
void OutputSet::carry_over() {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(target_, ec))) return;
  std::map<std::string, bool> seen;
  for (fs::directory_iterator it(target_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    std::error_code e2;
    if (superseded(kind_, n) || temp_file_pid(n) > 0) continue;
    if (it->is_directory(e2) && !it->is_symlink(e2)) continue;  // moved after the swap
    seen[n] = true;
    const fs::path dest = work_ / n;
    bool have = false;
    const struct stat dst = stat_of(dest, &have);
    bool src_ok = false;
    const struct stat sst = stat_of(it->path(), &src_ok);
    if (!src_ok) continue;
    auto found = carried_.find(n);
    if (have) {
      if (found == carried_.end() || found->second != std::make_pair(dst.st_dev, dst.st_ino)) {
        carried_.erase(n);  // the set wrote this name itself
        continue;
      }
      if (dst.st_dev == sst.st_dev && dst.st_ino == sst.st_ino) continue;  // the same file still
      ::unlink(dest.c_str());
    }
    if (::linkat(AT_FDCWD, it->path().c_str(), AT_FDCWD, dest.c_str(), 0) != 0) {
      const int err = errno;
      if (S_ISREG(sst.st_mode)) {
        fs::copy_file(it->path(), dest, fs::copy_options::overwrite_existing, e2);
        if (e2) throw std::runtime_error(fmt::format("cannot carry {} over: {}", it->path().string(), e2.message()));
      } else if (S_ISLNK(sst.st_mode)) {
        fs::copy_symlink(it->path(), dest, e2);
        if (e2) throw std::runtime_error(fmt::format("cannot carry {} over: {}", it->path().string(), e2.message()));
      } else {
        throw std::runtime_error(fmt::format("cannot carry {} over: {}", it->path().string(), errno_text(err)));
      }
    }
    bool linked = false;
    const struct stat lst = stat_of(dest, &linked);
    if (linked) carried_[n] = {lst.st_dev, lst.st_ino};
  }
  // Carried files that have left the folder since.
  for (auto it = carried_.begin(); it != carried_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    ::unlink((work_ / it->first).c_str());
    it = carried_.erase(it);
  }
}

void OutputSet::commit() {
  if (work_.empty()) throw std::logic_error("OutputSet::commit: the set is not open");
  auto fail = [&](const std::string& what, int err) {
    throw std::runtime_error(fmt::format("cannot write output folder {}: {}: {} (the folder was left as it was)",
                                         given_.string(), what, errno_text(err)));
  };
  carry_over();
  // Make the new files durable before they become the folder.
  std::error_code ec;
  for (fs::directory_iterator it(work_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!carried_.count(it->path().filename().string()) && it->is_regular_file(e2)) fsync_path(it->path(), O_RDONLY);
  }
  fsync_path(work_, O_RDONLY | O_DIRECTORY);

  const fs::path parent = target_.parent_path();
  bool exists = false;
  const struct stat now = stat_of(target_, &exists);
  // An exchange would swap a file put there meanwhile into the removal below.
  if (exists && !S_ISDIR(now.st_mode)) fail("it was replaced by a file meanwhile", ENOTDIR);
  if (!exists) {
    if (::rename(work_.c_str(), target_.c_str()) != 0) fail("rename", errno);
    fsync_path(parent, O_RDONLY | O_DIRECTORY);
  } else if (::renameat2(AT_FDCWD, work_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
    fsync_path(parent, O_RDONLY | O_DIRECTORY);
    move_folders_and_remove(work_, target_, kind_);  // work_ now holds the old set
    fsync_path(target_, O_RDONLY | O_DIRECTORY);
  } else if (errno == ENOSYS || errno == EINVAL || errno == ENOTSUP) {
    // No exchange on this file system: two renames. A kill between them
    // leaves only the -old- sibling, which the next open() puts back.
    const std::string n = work_.filename().string();
    const fs::path old =
        parent / ("." + target_.filename().string() + ".chipcast-old-" + n.substr(n.rfind("-set-") + 5));
    if (::rename(target_.c_str(), old.c_str()) != 0) fail("rename", errno);
    if (::rename(work_.c_str(), target_.c_str()) != 0) {
      const int err = errno;
      ::rename(old.c_str(), target_.c_str());
      fail("rename", err);
    }
    fsync_path(parent, O_RDONLY | O_DIRECTORY);
    move_folders_and_remove(old, target_, kind_);
    fsync_path(target_, O_RDONLY | O_DIRECTORY);
  } else {
    fail("renameat2(RENAME_EXCHANGE)", errno);
  }
  work_.clear();
  carried_.clear();
  release();
}

void OutputSet::release() noexcept {
  if (!work_.empty()) {
    std::error_code ec;
    fs::remove_all(work_, ec);  // before the swap it holds only files (new ones and links)
    work_.clear();
  }
  if (lock_fd_ >= 0) {
    // Unlink while still holding the lock: open() re-checks the path after locking.
    ::unlink(lock_path_.c_str());
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

OutputSet::OutputSet(OutputSet&& other) noexcept { *this = std::move(other); }

OutputSet& OutputSet::operator=(OutputSet&& other) noexcept {
  if (this == &other) return *this;
  release();
  given_ = std::move(other.given_);
  target_ = std::move(other.target_);
  work_ = std::move(other.work_);
  lock_path_ = std::move(other.lock_path_);
  kind_ = other.kind_;
  lock_fd_ = other.lock_fd_;
  carried_ = std::move(other.carried_);
  other.work_.clear();
  other.lock_fd_ = -1;
  return *this;
}

OutputSet::~OutputSet() { release(); }

}  // namespace chipcast
