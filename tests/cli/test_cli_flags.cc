// Bad numeric flags (issue 14, item 6): exit 2 before anything runs, with a message naming the flag, the value
// and what is valid, and no wrapped or DBL_MAX-long numbers.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;
using testing::run_chipcast;
using testing::ScratchDir;

struct BadFlag {
  const char* name;     // test name
  const char* command;  // "run", "compare" or "sensitivity"
  const char* flags;    // the bad flag and its value
  const char* flag;     // the flag the message must name
  const char* value;    // the value it must echo
  const char* valid;    // what it must say is valid
};

class CliBadFlag : public ::testing::TestWithParam<BadFlag> {};

// Before these checks: --seed -1 ran with seed 18446744073709551615 refused by
// the config layer with that number in the message; -n -1 and --threads -1
// printed "not in range 0.000000 to 1797693134862315...000000" (310
// characters); --batch 4294967296 was accepted (a run of 2^32 or more
// trajectories then failed in its first batch, exit 3); --time-limit nan, --checkpoint-every nan and --memory-limit nan were
// accepted (NaN passes CLI11's range checks); --time-limit 1e300 overflowed
// the clock's duration (UB).
TEST_P(CliBadFlag, ExitsTwoNamingFlagValueAndRangeAndWritesNothing) {
  const BadFlag& b = GetParam();
  ScratchDir dir(std::string("flag-") + b.name);
  const std::string out = (dir / "out").string();
  const std::string cmd = b.command;
  std::string args = cmd + " " + kMinimalToml;
  if (cmd == "compare") args += " " + kMinimalToml;
  if (cmd == "run") args += " -n 200 --checkpoint " + (dir / "ck").string();
  if (cmd == "sensitivity") args += " --base-samples 16 --tornado-trajectories 16 --bootstrap 2";
  const auto r = run_chipcast(args + " -q --out " + out + " " + b.flags);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(b.flag), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(b.value), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(b.valid), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("18446744073709551615"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("179769"), std::string::npos) << r.output;
  EXPECT_LT(r.output.size(), 400u) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "ck" / "chipcast.ckpt")) << r.output;
}

constexpr const char* kCounts = "from 1 to 2^63 - 1";
constexpr const char* kSeeds = "from 0 to 2^63 - 1";
constexpr const char* kThreads = "from 0 to 2147483647";

INSTANTIATE_TEST_SUITE_P(
    Flags, CliBadFlag,
    ::testing::Values(
        BadFlag{"seed_negative", "run", "--seed -1", "--seed", "-1", kSeeds},
        BadFlag{"seed_overflowing", "run", "--seed 99999999999999999999", "--seed", "99999999999999999999", kSeeds},
        BadFlag{"seed_past_int64", "run", "--seed 9223372036854775808", "--seed", "9223372036854775808", kSeeds},
        BadFlag{"trajectories_negative", "run", "-n -1", "--trajectories", "-1", kCounts},
        BadFlag{"trajectories_zero", "run", "-n 0", "--trajectories", "0", kCounts},
        BadFlag{"trajectories_fraction", "run", "-n 2.5", "--trajectories", "2.5", kCounts},
        BadFlag{"trajectories_overflowing", "run", "-n 18446744073709551616", "--trajectories", "18446744073709551616",
                kCounts},
        BadFlag{"batch_negative", "run", "--batch -1", "--batch", "-1", "from 0 to 4294967295"},
        BadFlag{"batch_past_32_bits", "run", "--batch 4294967296", "--batch", "4294967296", "from 0 to 4294967295"},
        BadFlag{"threads_negative", "run", "--threads -1", "--threads", "-1", kThreads},
        BadFlag{"threads_overflowing", "run", "--threads 99999999999", "--threads", "99999999999", kThreads},
        BadFlag{"devices_negative", "run", "--devices 0,-1", "--devices", "-1", "from 0 to 2147483647"},
        BadFlag{"checkpoint_every_nan", "run", "--checkpoint-every nan", "--checkpoint-every", "nan",
                "finite number of seconds >= 0"},
        BadFlag{"checkpoint_every_negative", "run", "--checkpoint-every -5", "--checkpoint-every", "-5",
                "finite number of seconds >= 0"},
        BadFlag{"time_limit_nan", "run", "--time-limit nan", "--time-limit", "nan",
                "finite number of minutes > 0 and at most 1e+08"},
        BadFlag{"time_limit_huge", "run", "--time-limit 1e300", "--time-limit", "1e300",
                "finite number of minutes > 0 and at most 1e+08"},
        BadFlag{"time_limit_zero", "run", "--time-limit 0", "--time-limit", "0", "finite number of minutes > 0"},
        BadFlag{"memory_limit_nan", "run", "--memory-limit nan", "--memory-limit", "nan",
                "finite number of GiB > 0 and at most 1e+09"},
        BadFlag{"memory_limit_inf", "run", "--memory-limit inf", "--memory-limit", "inf", "finite number of GiB > 0"},
        BadFlag{"memory_limit_word", "run", "--memory-limit lots", "--memory-limit", "lots", "finite number of GiB"},
        BadFlag{"compare_trajectories_negative", "compare", "-n -1", "--trajectories", "-1", kCounts},
        BadFlag{"compare_seed_negative", "compare", "--seed -1", "--seed", "-1", kSeeds},
        BadFlag{"compare_threads_negative", "compare", "--threads -2", "--threads", "-2", kThreads},
        BadFlag{"sensitivity_base_samples_one", "sensitivity", "--base-samples 1", "--base-samples", "1",
                "from 2 to 4294967295"},
        BadFlag{"sensitivity_base_samples_negative", "sensitivity", "--base-samples -5", "--base-samples", "-5",
                "from 2 to 4294967295"},
        BadFlag{"sensitivity_bootstrap_negative", "sensitivity", "--bootstrap -1", "--bootstrap", "-1",
                "from 0 to 2147483647"},
        BadFlag{"sensitivity_tornado_past_2_40", "sensitivity", "--tornado-trajectories 1099511627777",
                "--tornado-trajectories", "1099511627777", "from 2 to 2^40"},
        BadFlag{"sensitivity_seed_overflowing", "sensitivity", "--seed 18446744073709551616", "--seed",
                "18446744073709551616", kSeeds},
        BadFlag{"sensitivity_threads_negative", "sensitivity", "--threads -1", "--threads", "-1", kThreads}),
    [](const ::testing::TestParamInfo<BadFlag>& i) { return std::string(i.param.name); });

// The largest values the flags accept still run: the checks do not refuse
// what the config itself allows (run.seed = 2^63 - 1 is valid).
TEST(CliFlags, TheLimitsThemselvesAreAccepted) {
  ScratchDir dir("flag-limits");
  const auto r = run_chipcast("run " + kMinimalToml + " -n 300 -q --seed 9223372036854775807 --threads 1 --out " +
                              (dir / "o").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "o" / "summary.json"));
}

// --batch 1 ran about 460 times slower than the default, with no word; a
// batch below 512 trajectories per thread now warns once, saying why and
// what to use, and still runs (a legal value).
TEST(CliFlags, ASmallBatchWarnsOnceSayingWhyAndWhatDefaultToUse) {
  ScratchDir dir("flag-small-batch");
  const auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  const std::string common = "run " + kMinimalToml + " -n 64 -q --threads 1 --out ";
  const auto small = run_chipcast(common + (dir / "a").string() + " --batch 1");
  EXPECT_EQ(small.status, 0) << small.output;
  EXPECT_EQ(count(small.output, "warning: a batch of 1 trajectories is small"), 1u) << small.output;
  EXPECT_NE(small.output.find("clears and merges every thread's partial tally"), std::string::npos) << small.output;
  EXPECT_NE(small.output.find("the backend's default of 262144"), std::string::npos) << small.output;
  // At the threshold, and unset: no warning.
  for (const char* batch : {" --batch 512", " --batch 0", ""}) {
    const auto r = run_chipcast(common + (dir / "b").string() + batch);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("is small"), std::string::npos) << batch << ": " << r.output;
  }
  // Per thread: 512 is small for two.
  const auto two =
      run_chipcast("run " + kMinimalToml + " -n 64 -q --threads 2 --batch 512 --out " + (dir / "c").string());
  EXPECT_NE(two.output.find("a batch of 512 trajectories is small for 2 threads"), std::string::npos) << two.output;
}

}  // namespace
}  // namespace chipcast
