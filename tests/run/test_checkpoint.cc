// Tests of host/run range sets and checkpoint files: round trip, corruption, truncation, mismatch, untouched files.
#include "host/run/checkpoint.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "host/run/build_isa.h"
#include "tests/support/cli_runner.h"

#include <fstream>
#include <sstream>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/run/runner.h"
#include "host/run/trajectory_ranges.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) { return testing::read_text(p); }

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// ---- range sets ----

TEST(TrajectoryRanges, AddJoinsNeighboursAndRefusesOverlap) {
  TrajectoryRanges s;
  add_range(s, {10, 20});
  add_range(s, {30, 40});
  add_range(s, {0, 5});
  EXPECT_EQ(describe(s), "[0, 5) [10, 20) [30, 40)");
  add_range(s, {20, 30});
  EXPECT_EQ(describe(s), "[0, 5) [10, 40)");
  add_range(s, {5, 10});
  EXPECT_EQ(describe(s), "[0, 40)");
  EXPECT_EQ(count_of(s), 40u);
  EXPECT_THROW(add_range(s, {39, 41}), std::logic_error);
  EXPECT_TRUE(check_ranges(s, 40).empty());
  EXPECT_FALSE(check_ranges(s, 39).empty());
}

TEST(TrajectoryRanges, ComplementTakeFrontAndSlice) {
  const TrajectoryRanges done{{0, 10}, {20, 25}};
  TrajectoryRanges left = complement(done, 40);
  EXPECT_EQ(describe(left), "[10, 20) [25, 40)");
  EXPECT_EQ(describe(complement({}, 7)), "[0, 7)");
  EXPECT_TRUE(complement({{0, 7}}, 7).empty());

  const TrajectoryRanges step = take_front(left, 12);
  EXPECT_EQ(describe(step), "[10, 20) [25, 27)");
  EXPECT_EQ(describe(left), "[27, 40)");
  // Shares of a step in index order, as the ranks take them.
  EXPECT_EQ(describe(slice(step, 0, 4)), "[10, 14)");
  EXPECT_EQ(describe(slice(step, 8, 12)), "[18, 20) [25, 27)");
  EXPECT_EQ(describe(slice(step, 10, 11)), "[25, 26)");
  EXPECT_TRUE(slice(step, 5, 5).empty());
}

TEST(TrajectoryRanges, CheckNamesWhatIsWrong) {
  EXPECT_NE(check_ranges({{5, 5}}, 10).find("empty"), std::string::npos);
  EXPECT_NE(check_ranges({{0, 5}, {5, 8}}, 10).find("touches"), std::string::npos);
  EXPECT_NE(check_ranges({{0, 5}, {3, 8}}, 10).find("overlaps"), std::string::npos);
  EXPECT_NE(check_ranges({{0, 11}}, 10).find("past"), std::string::npos);
}

// ---- checkpoint files ----

// A real (small) partial run of the minimal scenario.
class CheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/tests/config/data/minimal.toml",
                              Overrides{uint64_t{6000}, uint64_t{11}, std::nullopt})
                    .release();
    BackendOptions bo;
    bo.threads = 1;
    auto backend = make_backend("openmp", bo);
    partial_ = new Tally(run_batches(*backend, scenario_->params, RunPlan{0, 2500, 1000}, nullptr));
  }
  static void TearDownTestSuite() {
    delete partial_;
    delete scenario_;
  }
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("chipcast_ckpt_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Checkpoint sample() {
    Checkpoint c;
    c.config_sha256 = scenario_->sha256;
    c.config_path = scenario_->path;
    c.seed = scenario_->run.seed;
    c.total = scenario_->run.trajectories;
    c.backend = "openmp";
    c.seconds = 1.25;
    c.done = {{0, 2500}};
    c.tally = *partial_;
    return c;
  }
  static CheckpointIdentity identity() {
    return CheckpointIdentity{scenario_->sha256,         scenario_->path,
                              scenario_->run.seed,       scenario_->run.trajectories,
                              scenario_->params.periods, scenario_->params.sub_bins,
                              scenario_->params.years,   std::nullopt};
  }

  static Scenario* scenario_;
  static Tally* partial_;
  fs::path dir_;
};
Scenario* CheckpointTest::scenario_ = nullptr;
Tally* CheckpointTest::partial_ = nullptr;

TEST_F(CheckpointTest, RoundTripsEveryField) {
  ASSERT_TRUE(partial_->inconsistency().empty()) << partial_->inconsistency();
  const Checkpoint c = sample();
  const std::string bytes = encode_checkpoint(c);
  // Sparse histograms: far smaller than the raw 64-bit counts.
  EXPECT_LT(bytes.size(), c.tally.level.size() * sizeof(uint64_t) / 4);
  EXPECT_EQ(bytes.substr(0, 8), "CHIPCKPT");
  const Checkpoint d = decode_checkpoint(bytes, "mem");
  EXPECT_EQ(d.config_sha256, c.config_sha256);
  EXPECT_EQ(d.config_path, c.config_path);
  EXPECT_EQ(d.seed, c.seed);
  EXPECT_EQ(d.total, c.total);
  EXPECT_EQ(d.backend, c.backend);
  EXPECT_FALSE(c.isa.empty());
  EXPECT_EQ(c.isa, build_isa().text());
  EXPECT_EQ(d.isa, c.isa);
  EXPECT_EQ(d.seconds, c.seconds);
  EXPECT_EQ(d.done, c.done);
  EXPECT_TRUE(d.tally == c.tally);
  EXPECT_EQ(encode_checkpoint(d), bytes);  // deterministic
}

TEST_F(CheckpointTest, WritesAtomicallyAndReadsBack) {
  EXPECT_FALSE(read_checkpoint(dir_).has_value());  // none yet (folder missing)
  write_checkpoint(dir_, sample());
  ASSERT_TRUE(fs::exists(checkpoint_path(dir_)));
  const auto c = read_checkpoint(dir_);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->tally == *partial_);
  // A killed writer's temporary file is cleaned up on resume, the checkpoint kept.
  spit(dir_ / ".chipcast.ckpt.tmp-123-0", "half a checkpoint");
  remove_stale_checkpoint_temporaries(dir_);
  EXPECT_FALSE(fs::exists(dir_ / ".chipcast.ckpt.tmp-123-0"));
  EXPECT_TRUE(fs::exists(checkpoint_path(dir_)));
}

TEST_F(CheckpointTest, AnyFlippedByteIsCaught) {
  const std::string bytes = encode_checkpoint(sample());
  // Every byte of the header and trailer, and a spread through the payload.
  std::vector<size_t> at;
  for (size_t i = 0; i < 40; ++i) at.push_back(i);
  for (size_t i = 40; i < bytes.size(); i += bytes.size() / 97 + 1) at.push_back(i);
  for (size_t i = bytes.size() - 32; i < bytes.size(); ++i) at.push_back(i);
  for (size_t i : at) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_THROW(decode_checkpoint(bad, "mem"), CheckpointError) << "byte " << i;
  }
  std::string bad = bytes;
  bad[bytes.size() / 2] ^= 1;
  try {
    decode_checkpoint(bad, "some/dir/chipcast.ckpt");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("some/dir/chipcast.ckpt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, TruncatedOrExtendedFilesAreRefused) {
  const std::string bytes = encode_checkpoint(sample());
  for (size_t n : {size_t{0}, size_t{7}, size_t{24}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      decode_checkpoint(bytes.substr(0, n), "mem");
      FAIL() << n;
    } catch (const CheckpointError& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("truncated") != std::string::npos || what.find("CHIPCKPT") != std::string::npos)
          << n << ": " << what;
    }
  }
  EXPECT_THROW(decode_checkpoint(bytes + "x", "mem"), CheckpointError);
}

TEST_F(CheckpointTest, OtherVersionsAreRefusedByName) {
  // Versions 1 and 2 (before the calendar-year rows) are refused as older, 5 as newer.
  for (char v : {char{0}, char{1}, char{2}, char{5}}) {
    std::string bytes = encode_checkpoint(sample());
    bytes[8] = v;  // the digest no longer matters: the version is checked first
    try {
      decode_checkpoint(bytes, "mem");
      FAIL() << int{v};
    } catch (const CheckpointError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("version " + std::to_string(v)), std::string::npos) << what;
      EXPECT_NE(what.find("reads versions 3 to 4"), std::string::npos) << what;
      EXPECT_EQ(what.find("newer chipcast") != std::string::npos, v == 5) << what;
      EXPECT_EQ(what.find("older chipcast") != std::string::npos, v != 5) << what;
    }
  }
}

// A calibrate run's checkpoint (format 4) round-trips its posterior and decision counts, and
// the kinds do not resume into each other: a calibrate identity refuses a run's, and the other
// way round, naming why; another observation table is another run.
TEST_F(CheckpointTest, CalibrateCheckpointsRoundTripAndKindsAreKeptApart) {
  parity::ModelParams p = scenario_->params;
  p.params[parity::bloc_param_index(parity::kDomestic, parity::kWafers0)] = Dist{DistKind::uniform, 1e4, 3e4};
  p.num_observations = 1;
  p.observations[0] = parity::ObservationSpec{1, parity::kDomestic, parity::kUnits, std::log(2.4e4), 0.2};
  p.observed_periods = 8;
  BackendOptions bo;
  bo.threads = 1;
  auto backend = make_backend("openmp", bo);
  Tally prior(parity::tally_shape(p));
  CalibrateTallies cal(p);
  backend->run_calibrated(p, 0, 2500, prior, cal.posterior, cal.decisions);
  ASSERT_GT(cal.decisions.accepted, 0u);
  ASSERT_LT(cal.decisions.accepted, 2500u);
  Checkpoint c = sample();
  c.tally = prior;
  c.calibrate = cal;
  c.observations = observation_table_text(p);
  const Checkpoint d = decode_checkpoint(encode_checkpoint(c), "mem");
  ASSERT_TRUE(d.calibrate.has_value());
  EXPECT_TRUE(*d.calibrate == cal);
  EXPECT_EQ(d.observations, c.observations);
  EXPECT_TRUE(d.tally == prior);

  CheckpointIdentity want = identity();
  EXPECT_THROW(check_checkpoint_matches(d, want, "ck"), CheckpointError);  // a plain run
  try {
    check_checkpoint_matches(d, want, "ck");
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("calibrate run's checkpoint"), std::string::npos) << e.what();
  }
  want.observations = c.observations;
  EXPECT_NO_THROW(check_checkpoint_matches(d, want, "ck"));
  want.observations = "0 0 0 0x1p+0 0x1p+0\n";
  EXPECT_THROW(check_checkpoint_matches(d, want, "ck"), CheckpointError);
  // A run's checkpoint into a calibrate.
  const Checkpoint r = decode_checkpoint(encode_checkpoint(sample()), "mem");
  try {
    check_checkpoint_matches(r, want, "ck");
    FAIL() << "a calibrate resumed a plain run's checkpoint";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("plain run's checkpoint"), std::string::npos) << e.what();
  }
  // One posterior count too many is corrupt (the decision counts no longer match it).
  c.calibrate->posterior.crossing[0] += 1;
  c.calibrate->posterior.trajectories += 1;
  EXPECT_THROW(decode_checkpoint(encode_checkpoint(c), "mem"), CheckpointError);
}

// The calendar-year rows are part of the tally a checkpoint holds (minimal.toml:
// quarters from 2026 to 2036, 10 years): they round-trip, and a checkpoint
// whose years differ from the run's is refused as another run's.
TEST_F(CheckpointTest, CalendarYearRowsRoundTripAndMustMatch) {
  const Checkpoint c = sample();
  ASSERT_EQ(c.tally.shape.years, 10);
  uint64_t in_year = 0;
  for (int b = 0; b < kLevelBins; ++b) in_year += c.tally.level_row(c.tally.shape.annual_row(9), 1)[b];
  ASSERT_EQ(in_year, 2500u) << "the last year's domestic units row holds every trajectory run";
  const Checkpoint d = decode_checkpoint(encode_checkpoint(c), "mem");
  EXPECT_TRUE(d.tally == c.tally);
  CheckpointIdentity want{c.config_sha256,       c.config_path,          c.seed, c.total,
                          c.tally.shape.periods, c.tally.shape.sub_bins, 0,      std::nullopt};
  try {
    check_checkpoint_matches(d, want, "ck");
    FAIL() << "a checkpoint with calendar-year rows resumed into a run without";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("10 years in the checkpoint"), std::string::npos) << e.what();
  }
  want.years = 10;
  EXPECT_NO_THROW(check_checkpoint_matches(d, want, "ck"));
}

TEST_F(CheckpointTest, ResumeWarnsOfAnotherBackendOrIsa) {
  Checkpoint c = sample();
  EXPECT_TRUE(checkpoint_resume_warnings(c, "openmp", "ck").empty());
  auto w = checkpoint_resume_warnings(c, "kokkos", "ck/chipcast.ckpt");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("ck/chipcast.ckpt was written by the openmp backend, this run uses kokkos"), std::string::npos)
      << w[0];
  c.isa = "native x86_64: sse2 avx2 (another machine)";
  w = checkpoint_resume_warnings(c, "openmp", "ck/chipcast.ckpt");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("compiled for native x86_64: sse2 avx2 (another machine), this one for " + build_isa().text()),
            std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("per build"), std::string::npos) << w[0];
  EXPECT_EQ(checkpoint_resume_warnings(c, "kokkos", "ck").size(), 2u);
}

TEST_F(CheckpointTest, InconsistentContentIsRefusedEvenWithAValidDigest) {
  Checkpoint c = sample();
  c.done = {{0, 2400}};  // ranges say 2400, the tally 2500
  EXPECT_THROW(decode_checkpoint(encode_checkpoint(c), "mem"), CheckpointError);
  c = sample();
  c.tally.crossing[0] += 1;  // one count too many in a crossing histogram
  EXPECT_THROW(decode_checkpoint(encode_checkpoint(c), "mem"), CheckpointError);
  c = sample();
  c.done = {{5000, 7500}};  // past the 6000 trajectories of the run
  EXPECT_THROW(decode_checkpoint(encode_checkpoint(c), "mem"), CheckpointError);
}

// Found by tests/fuzz/fuzz_checkpoint: a file with a valid digest and an absurd tally shape made the
// reader allocate the tally first (std::bad_alloc or an OOM kill instead of a refusal; at 2^20 x 2^16
// the crossing bin count overflowed an int). The shape alone is declared here, with no bins.
Checkpoint with_shape(Checkpoint c, int32_t periods, int32_t sub_bins) {
  c.tally = Tally();
  c.tally.shape.periods = periods;
  c.tally.shape.sub_bins = sub_bins;
  c.tally.trajectories = 2500;
  return c;
}

TEST_F(CheckpointTest, HugeTallyShapeIsRefusedBeforeAllocating) {
  // 2^20 periods x 27,036 level bins x 8 bytes: 227 GB.
  try {
    decode_checkpoint(encode_checkpoint(with_shape(sample(), 1 << 20, 1)), "big/chipcast.ckpt");
    FAIL() << "decoded";
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("big/chipcast.ckpt"), std::string::npos) << what;
    EXPECT_NE(what.find("1048576 periods x 1 sub-bins"), std::string::npos) << what;
    EXPECT_NE(what.find("227 GB"), std::string::npos) << what;
  }
}

TEST_F(CheckpointTest, CrossingBinsBeyondAnIntAreRefused) {
  try {
    decode_checkpoint(encode_checkpoint(with_shape(sample(), 1 << 20, 1 << 16)), "mem", UINT64_MAX);
    FAIL() << "decoded";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("68719476737 crossing bins"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, TallyLimitIsTheDecodersAndDefaultsToHalfTheMemory) {
  const std::string bytes = encode_checkpoint(sample());
  const uint64_t need = (partial_->level.size() + partial_->crossing.size()) * sizeof(uint64_t);
  EXPECT_TRUE(decode_checkpoint(bytes, "mem", need).tally == *partial_);
  EXPECT_THROW(decode_checkpoint(bytes, "mem", need - 1), CheckpointError);
  const uint64_t memory =
      static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE));
  EXPECT_EQ(default_checkpoint_tally_limit(), memory / 2);
}

TEST_F(CheckpointTest, MismatchNamesEveryDifference) {
  const Checkpoint c = sample();
  EXPECT_NO_THROW(check_checkpoint_matches(c, identity(), "p"));
  CheckpointIdentity want = identity();
  want.seed = 12;
  want.total = 7000;
  want.config_sha256 = std::string(64, 'a');
  try {
    check_checkpoint_matches(c, want, "ck/chipcast.ckpt");
    FAIL();
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("ck/chipcast.ckpt"), std::string::npos) << what;
    EXPECT_NE(what.find("seed 11 in the checkpoint, 12 now"), std::string::npos) << what;
    EXPECT_NE(what.find("trajectories 6000 in the checkpoint, 7000 now"), std::string::npos) << what;
    EXPECT_NE(what.find("sha256"), std::string::npos) << what;
    EXPECT_NE(what.find("untouched"), std::string::npos) << what;
  }
}

TEST_F(CheckpointTest, ReadingNeverModifiesTheFile) {
  write_checkpoint(dir_, sample());
  std::string bytes = slurp(checkpoint_path(dir_));
  bytes[bytes.size() / 3] ^= 4;
  spit(checkpoint_path(dir_), bytes);
  const auto mtime = fs::last_write_time(checkpoint_path(dir_));
  EXPECT_THROW(read_checkpoint(dir_), CheckpointError);
  EXPECT_EQ(slurp(checkpoint_path(dir_)), bytes);
  EXPECT_EQ(fs::last_write_time(checkpoint_path(dir_)), mtime);
}

}  // namespace
}  // namespace chipcast
