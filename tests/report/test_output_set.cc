// Tests of OutputSet: the lock (held, released by death), debris removal, swaps as a whole, carried files, refusals.
#include "host/report/output_set.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "host/report/report.h"
#include "tests/support/cli_runner.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::ScratchDir;
using testing::write_text;

const char* const kRunFiles[] = {"summary.json", "crossing.csv", "bands.csv", "resolved.toml"};

// A complete run folder whose every file says which run wrote it.
void write_run(const fs::path& dir, const std::string& run) {
  fs::create_directories(dir);
  for (const char* f : kRunFiles) write_text(dir / f, run + " " + f);
}

std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_text(e.path());
  return out;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

// The message of the OutputFolderRefused that open() throws ("" if it opens).
std::string refusal(const fs::path& dir, OutputKind kind = OutputKind::run) {
  try {
    OutputSet set = OutputSet::open(dir, kind);
  } catch (const OutputFolderRefused& e) {
    return e.what();
  }
  return "";
}

// A PID that no process has: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(OutputSet, SecondSetIsRefusedWhileTheFirstIsOpen) {
  ScratchDir dir("outset-busy");
  write_run(dir / "o", "old");
  {
    OutputSet first = OutputSet::open(dir / "o", OutputKind::run);
    const std::string e = refusal(dir / "o");
    EXPECT_NE(e.find((dir / "o").string()), std::string::npos) << e;
    EXPECT_NE(e.find("in use"), std::string::npos) << e;
    EXPECT_NE(e.find("pid " + std::to_string(::getpid())), std::string::npos) << e;
    // Another command's set into the same folder too, and the same folder by another spelling.
    EXPECT_NE(refusal(dir / "o", OutputKind::compare), "");
    EXPECT_NE(refusal(dir.path() / "." / "o" / ""), "");
    // Other folders are free.
    EXPECT_EQ(refusal(dir / "p"), "");
  }
  EXPECT_EQ(refusal(dir / "o"), "");
  EXPECT_EQ(contents(dir / "o").size(), 4u);
  // Nothing left beside the folder: no lock file, no temporary sibling.
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
}

// A child opens a set, writes half of it and dies without committing: by
// _exit (no destructors) or by SIGKILL while it holds the set.
void check_killed_holder(bool sigkill) {
  ScratchDir dir(sigkill ? "outset-kill" : "outset-exit");
  write_run(dir / "o", "old");
  const auto before = contents(dir / "o");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
    write_file_atomic(set.path() / "resolved.toml", "new resolved.toml");
    write_text(set.path() / "crossing.csv", "half a crossing");
    const char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(3);
    if (sigkill)
      for (;;) ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  if (sigkill) {
    const std::string e = refusal(dir / "o");
    EXPECT_NE(e.find("pid " + std::to_string(child)), std::string::npos) << e;
    ::kill(child, SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(contents(dir / "o"), before);      // the folder as it was
  EXPECT_GT(names_in(dir.path()).size(), 1u);  // the dead child's lock file and half set
  {
    OutputSet next = OutputSet::open(dir / "o", OutputKind::run);  // not stuck
    // The half set is gone; only this set's sibling and lock file are there.
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o", next.path().filename().string(), ".o.chipcast-lock"}));
    EXPECT_EQ(contents(dir / "o"), before);
  }
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
}

TEST(OutputSet, LockOfAProcessThatExitedIsNotStuck) { check_killed_holder(false); }
TEST(OutputSet, LockOfAKilledProcessIsNotStuck) { check_killed_holder(true); }

TEST(OutputSet, UncommittedSetLeavesTheFolderAsItWas) {
  ScratchDir dir("outset-abandon");
  write_run(dir / "o", "old");
  const auto before = contents(dir / "o");
  {
    OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
    write_file_atomic(set.path() / "resolved.toml", "new");
    write_file_atomic(set.path() / "crossing.csv", "new");
    // e.g. the disk filled up before bands.csv: the writer throws, the set is dropped.
  }
  EXPECT_EQ(contents(dir / "o"), before);
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
  // A new folder that was never committed does not appear at all.
  {
    OutputSet set = OutputSet::open(dir / "fresh", OutputKind::run);
    write_file_atomic(set.path() / "summary.json", "new");
  }
  EXPECT_FALSE(fs::exists(dir / "fresh"));
}

TEST(OutputSet, CommitReplacesTheRunsFilesAsAWhole) {
  ScratchDir dir("outset-commit");
  write_run(dir / "o", "old");
  write_text(dir / "o" / "fan_units.svg", "chart of the old run");
  write_text(dir / "o" / "report.html", "report of the old run");
  write_text(dir / "o" / "sensitivity.json", "sensitivity");
  write_text(dir / "o" / "notes.txt", "the user's notes");
  fs::create_directories(dir / "o" / "ckpt");
  write_text(dir / "o" / "ckpt" / "chipcast.ckpt", "a checkpoint");
  const ino_t old_folder = inode_of(dir / "o");

  OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
  EXPECT_NE(set.path().parent_path(), dir / "o");
  EXPECT_EQ(set.path().parent_path(), dir.path());  // a sibling: same file system, so the swap is a rename
  for (const char* f : kRunFiles) write_file_atomic(set.path() / f, std::string("new ") + f);
  const ino_t new_folder = inode_of(set.path());
  set.commit();

  // The new folder became the folder in one step (not file by file into the old one).
  EXPECT_EQ(inode_of(dir / "o"), new_folder);
  EXPECT_NE(inode_of(dir / "o"), old_folder);
  const auto after = contents(dir / "o");
  for (const char* f : kRunFiles) EXPECT_EQ(after.at(f), std::string("new ") + f) << f;
  // Charts of the old run are not left beside the new one; other files are carried over.
  EXPECT_FALSE(after.count("fan_units.svg"));
  EXPECT_FALSE(after.count("report.html"));
  EXPECT_EQ(after.at("sensitivity.json"), "sensitivity");
  EXPECT_EQ(after.at("notes.txt"), "the user's notes");
  EXPECT_EQ(after.at("ckpt/chipcast.ckpt"), "a checkpoint");
  EXPECT_EQ(after.size(), 4u + 3u);
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
}

TEST(OutputSet, CreatesTheFolderAndItsParents) {
  ScratchDir dir("outset-new");
  OutputSet set = OutputSet::open(dir / "a" / "b" / "o", OutputKind::compare);
  EXPECT_TRUE(fs::is_directory(dir / "a" / "b"));
  EXPECT_FALSE(fs::exists(dir / "a" / "b" / "o"));
  write_file_atomic(set.path() / "compare.csv", "c");
  set.commit();
  EXPECT_EQ(contents(dir / "a" / "b" / "o"), (std::map<std::string, std::string>{{"compare.csv", "c"}}));
  EXPECT_EQ(names_in(dir / "a" / "b"), (std::set<std::string>{"o"}));
}

TEST(OutputSet, EachCommandReplacesOnlyWhatItOwns) {
  ScratchDir dir("outset-kinds");
  write_run(dir / "o", "run");
  write_text(dir / "o" / "tornado.svg", "stale chart");
  write_text(dir / "o" / "compare.json", "old compare");
  write_text(dir / "o" / "sensitivity.csv", "old sensitivity");
  {
    OutputSet set = OutputSet::open(dir / "o", OutputKind::plot);
    write_file_atomic(set.path() / "fan_units.svg", "new chart");
    set.commit();
  }
  auto c = contents(dir / "o");
  EXPECT_EQ(c.at("fan_units.svg"), "new chart");
  EXPECT_FALSE(c.count("tornado.svg"));  // the old chart set is replaced as a whole
  EXPECT_EQ(c.at("summary.json"), "run summary.json");
  {
    OutputSet set = OutputSet::open(dir / "o", OutputKind::compare);
    write_file_atomic(set.path() / "compare.csv", "new compare");
    set.commit();
  }
  c = contents(dir / "o");
  EXPECT_FALSE(c.count("compare.json"));  // compare.json of the earlier comparison goes with it
  EXPECT_EQ(c.at("compare.csv"), "new compare");
  EXPECT_FALSE(c.count("fan_units.svg"));  // the charts (shift_*, report.html) were drawn from it too
  write_text(dir / "o" / "fan_units.png", "new chart");
  {
    OutputSet set = OutputSet::open(dir / "o", OutputKind::sensitivity);
    write_file_atomic(set.path() / "sensitivity.json", "new sensitivity");
    set.commit();
  }
  c = contents(dir / "o");
  EXPECT_FALSE(c.count("sensitivity.csv"));
  EXPECT_FALSE(c.count("fan_units.png"));  // drawn from the replaced results
  EXPECT_EQ(c.at("sensitivity.json"), "new sensitivity");
  EXPECT_EQ(c.at("summary.json"), "run summary.json");
  EXPECT_EQ(c.at("compare.csv"), "new compare");
}

TEST(OutputSet, CarriesFilesAsTheyAreAtTheCommit) {
  ScratchDir dir("outset-carry");
  write_run(dir / "o", "old");
  write_text(dir / "o" / "chipcast.ckpt", "checkpoint 1");
  write_text(dir / "o" / "gone.txt", "removed during the run");
  write_text(dir / "o" / "mine.txt", "the folder's");
  OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
  // While the run goes on, its checkpoint (kept in the output folder) is rewritten.
  write_file_atomic(dir / "o" / "chipcast.ckpt", "checkpoint 2");
  fs::remove(dir / "o" / "gone.txt");
  // A name the folder has that the set writes itself: the set's wins.
  write_file_atomic(set.path() / "mine.txt", "the set's");
  for (const char* f : kRunFiles) write_file_atomic(set.path() / f, "new");
  set.commit();
  const auto c = contents(dir / "o");
  EXPECT_EQ(c.at("chipcast.ckpt"), "checkpoint 2");
  EXPECT_FALSE(c.count("gone.txt"));
  EXPECT_EQ(c.at("mine.txt"), "the set's");
}

TEST(OutputSet, OpenRemovesDebrisOfKilledRuns) {
  ScratchDir dir("outset-debris");
  write_run(dir / "o", "old");
  const std::string dead = std::to_string(dead_pid());
  const std::string live = std::to_string(::getpid());
  // Left by write_file_atomic of a killed run (before output sets) and a checkpoint probe.
  write_text(dir / "o" / (".crossing.csv.tmp-" + dead + "-0"), "half");
  write_text(dir / "o" / (".chipcast.ckpt.tmp-probe-" + dead), "");
  // A live writer's temporary file stays (and is not carried into the set).
  write_text(dir / "o" / (".chipcast.ckpt.tmp-" + live + "-5"), "being written");
  // A half-built set of a killed run, and the old contents of a swap cut before they were removed
  // (with a sub-folder not yet moved back).
  write_run(dir / (".o.chipcast-set-" + dead + "-0"), "half");
  write_run(dir / (".o.chipcast-set-" + dead + "-1"), "old2");
  fs::create_directories(dir / (".o.chipcast-set-" + dead + "-1") / "keep");
  write_text(dir / (".o.chipcast-set-" + dead + "-1") / "keep" / "f", "sub-folder");
  // Names that are not debris of this folder or of write_file_atomic.
  write_text(dir / "o" / (".draft.tmp-" + dead), "the user's");
  write_text(dir / "o" / (".draft.tmp-" + dead + "-v2"), "the user's");
  fs::create_directories(dir / ".o.chipcast-set-notes");
  fs::create_directories(dir / (".o.chipcast-set-x.chipcast-set-" + dead + "-0"));
  {
    OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
    EXPECT_EQ(names_in(dir / "o"), (std::set<std::string>{"summary.json", "crossing.csv", "bands.csv", "resolved.toml",
                                                          ".chipcast.ckpt.tmp-" + live + "-5", ".draft.tmp-" + dead,
                                                          ".draft.tmp-" + dead + "-v2", "keep"}));
    EXPECT_EQ(read_text(dir / "o" / "keep" / "f"), "sub-folder");
    // The run's own files are not carried, temporaries neither; the user's files are.
    EXPECT_EQ(names_in(set.path()), (std::set<std::string>{".draft.tmp-" + dead, ".draft.tmp-" + dead + "-v2"}));
    EXPECT_EQ(names_in(dir.path()),
              (std::set<std::string>{"o", ".o.chipcast-lock", set.path().filename().string(), ".o.chipcast-set-notes",
                                     ".o.chipcast-set-x.chipcast-set-" + dead + "-0"}));
  }
  // A swap by two renames cut between them: only the old folder, under its -old- name.
  fs::remove_all(dir / "o");
  write_run(dir / (".o.chipcast-old-" + dead + "-0"), "old3");
  { OutputSet set = OutputSet::open(dir / "o", OutputKind::run); }
  EXPECT_EQ(read_text(dir / "o" / "summary.json"), "old3 summary.json");
  EXPECT_FALSE(fs::exists(dir / (".o.chipcast-old-" + dead + "-0")));
}

TEST(OutputSet, UnusableFoldersAreRefusedAtOpen) {
  ScratchDir dir("outset-refuse");
  write_text(dir / "file", "a regular file");
  // Fails for root too (chmod would not stop root): a parent that is a regular file.
  std::string e = refusal(dir / "file" / "o");
  EXPECT_NE(e.find((dir / "file" / "o").string()), std::string::npos) << e;
  EXPECT_NE(e.find("parent"), std::string::npos) << e;
  e = refusal(dir / "file" / "a" / "o");
  EXPECT_NE(e.find("parent"), std::string::npos) << e;
  e = refusal(dir / "file");
  EXPECT_NE(e.find("not a folder"), std::string::npos) << e;
  EXPECT_NE(refusal("/"), "");
  EXPECT_NE(refusal(""), "");
  e = refusal(dir / "missing", OutputKind::plot);
  EXPECT_NE(e.find("no such folder"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir / "missing"));
  // The current folder (or one holding it) would be swapped away from under the shell.
  write_run(dir / "o", "old");
  fs::create_directories(dir / "o" / "sub");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir / "o" / "sub");
  const std::string here = refusal(".");
  const std::string above = refusal("..");
  fs::current_path(cwd);
  EXPECT_NE(here.find("current folder"), std::string::npos) << here;
  EXPECT_NE(above.find("current folder"), std::string::npos) << above;
  // Nothing was created by the refusals.
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"file", "o"}));
  EXPECT_EQ(names_in(dir / "o" / "sub"), std::set<std::string>{});
}

TEST(OutputSet, KeepsTheFoldersMode) {
  ScratchDir dir("outset-mode");
  write_run(dir / "o", "old");
  ASSERT_EQ(::chmod((dir / "o").c_str(), 0750), 0);
  OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
  set.commit();
  struct stat st {};
  ASSERT_EQ(::stat((dir / "o").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST(OutputSet, SymbolicLinksLeadToTheRealFolder) {
  ScratchDir dir("outset-links");
  fs::create_directories(dir / "scratch" / "out");
  fs::create_directory_symlink(dir / "scratch" / "out", dir / "out");  // out -> scratch/out
  write_run(dir / "scratch" / "out" / "o", "old");
  fs::create_directory_symlink(dir / "scratch" / "out" / "o", dir / "o-link");
  {
    OutputSet set = OutputSet::open(dir / "out" / "o", OutputKind::run);
    // The same folder by a link to it or to its parent: the same lock.
    EXPECT_NE(refusal(dir / "o-link"), "");
    EXPECT_NE(refusal(dir / "scratch" / "out" / "o"), "");
    for (const char* f : kRunFiles) write_file_atomic(set.path() / f, "new");
    set.commit();
  }
  // The real folder was replaced; the links still lead to it.
  EXPECT_TRUE(fs::is_symlink(dir / "out"));
  EXPECT_TRUE(fs::is_symlink(dir / "o-link"));
  EXPECT_EQ(read_text(dir / "o-link" / "summary.json"), "new");
  EXPECT_EQ(names_in(dir / "scratch" / "out"), (std::set<std::string>{"o"}));
}

TEST(OutputSet, CommitRefusesAFolderReplacedByAFile) {
  ScratchDir dir("outset-replaced");
  write_run(dir / "o", "old");
  OutputSet set = OutputSet::open(dir / "o", OutputKind::run);
  fs::remove_all(dir / "o");
  write_text(dir / "o", "someone's file");
  EXPECT_THROW(set.commit(), std::runtime_error);
  EXPECT_EQ(read_text(dir / "o"), "someone's file");
}

}  // namespace
}  // namespace chipcast
