// Kokkos backend: 16-lane blocks and per-worker tallies on host spaces, one lane per thread and atomics on devices.
//
// Kokkos API used, all present in Kokkos 3.4 and 4.x (none of it in
// Kokkos::Experimental): initialize(int&, char**), is_initialized, finalize,
// parallel_for with RangePolicy<Space, IndexType<int64_t>>, View with
// view_alloc(WithoutInitializing, label) and MemoryTraits<Unmanaged>,
// deep_copy, create_mirror_view_and_copy, atomic_add, SpaceAccessibility,
// DefaultExecutionSpace::name(), ExecSpace().concurrency() (an instance call:
// concurrency() is static in 3.x and a member in 4.x) and KOKKOS_VERSION.
// Functors rather than lambdas, so a CUDA Kokkos 3.x needs no
// Kokkos_ENABLE_CUDA_LAMBDA.

// The kernels get Kokkos' function markup (kernels/macros.h), so a Kokkos
// built for CUDA, HIP or SYCL compiles them for its device.
#define CHIPCAST_KOKKOS_FUNCTION_MACROS 1
#include "kernels/macros.h"
// (KOKKOS_FORCEINLINE_FUNCTION: with plain KOKKOS_INLINE_FUNCTION g++ 12
// inlined less into the lane loops and vectorised fewer of them, and the
// noinline kernel templates, weak symbols shared with the OpenMP backend,
// would differ between the two files while the linker keeps one copy.)

#include "backends/kokkos/kokkos_backend.h"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/host_blocks.h"
#include "kernels/tally/sinks.h"
#include "models/parity/trajectory.h"
#include "tally/batch_merge.h"
#include "tally/hot_levels.h"
#include "tally/partial_tally.h"

namespace chipcast {
namespace kokkos_detail {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using HostExecSpace = Kokkos::DefaultHostExecutionSpace;
using Index = Kokkos::IndexType<int64_t>;

template <class Space>
constexpr bool on_host() {
  return Kokkos::SpaceAccessibility<Space, Kokkos::HostSpace>::accessible;
}

std::string version_string() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) + "." +
         std::to_string(KOKKOS_VERSION % 100);
}

// ---------------------------------------------------------------------------
// Runtime: initialise once on first use, finalise once at exit.
//
// Kokkos::finalize is registered with std::atexit right after
// Kokkos::initialize returns. The C++ rules for exit() then run it
//  - before the destructor of every static object constructed after that
//    moment (function-local statics, say), and after those constructed
//    before it; the backend keeps no View beyond a call to run(), so no View
//    is alive at finalize whatever order the program uses;
//  - before every handler registered earlier, such as one a device runtime
//    may register while Kokkos::initialize starts it, so device memory is
//    released while that runtime still exists;
//  - on every exit() path: main returning 0 or an error status after a
//    failed run, or exit() called anywhere. Only abnormal ends (abort,
//    an uncaught exception, _Exit) skip it, as they skip every destructor.
// A program that initialises Kokkos itself (a ScopeGuard in its main) keeps
// that ownership: we then neither initialise nor finalise.

struct Runtime {
  std::mutex mutex;
  std::vector<std::string> args;  // the "--kokkos-*" flags given to kokkos_set_args
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;  // what Kokkos::initialize saw (kept alive until exit)
  bool initialized_here = false;
  bool finalized = false;
};

// Never destroyed, so the atexit handler may use it whatever the order of
// static destructors.
Runtime& runtime() {
  static Runtime* r = new Runtime;
  return *r;
}

void finalize_at_exit() {
  Runtime& r = runtime();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.initialized_here && Kokkos::is_initialized()) Kokkos::finalize();
  r.finalized = true;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool has_flag(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const auto& a : args)
    for (const char* n : names)
      if (starts_with(a, n)) return true;
  return false;
}

// --kokkos-num-threads is the spelling since Kokkos 3.7 (--kokkos-threads is
// deprecated there); 3.4 knows only --kokkos-threads.
#if KOKKOS_VERSION >= 30700
constexpr const char* kThreadsFlag = "--kokkos-num-threads=";
#else
constexpr const char* kThreadsFlag = "--kokkos-threads=";
#endif

std::string translate_flag(const std::string& a) {
#if KOKKOS_VERSION < 30700
  if (starts_with(a, "--kokkos-num-threads=")) return kThreadsFlag + a.substr(std::strlen("--kokkos-num-threads="));
#endif
  return a;
}

void ensure_initialized(const BackendOptions& o) {
  Runtime& r = runtime();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.finalized)
    throw std::runtime_error(
        "kokkos backend: Kokkos was already finalized in this process (at exit) and cannot be initialized "
        "again; create Kokkos backends before exit begins");
  if (Kokkos::is_initialized()) return;
  if (o.devices.size() > 1)
    throw std::invalid_argument("kokkos backend: one device per process (" + std::to_string(o.devices.size()) +
                                " given); run one MPI rank per device instead");
  std::vector<std::string> args;
  for (const auto& a : r.args) args.push_back(translate_flag(a));
#if defined(KOKKOS_ENABLE_OPENMP) || defined(KOKKOS_ENABLE_THREADS) || defined(KOKKOS_ENABLE_HPX)
  // --threads N of the CLI, unless a Kokkos flag says otherwise.
  if (o.threads > 0 && !has_flag(args, {"--kokkos-threads=", "--kokkos-num-threads="}))
    args.push_back(kThreadsFlag + std::to_string(o.threads));
#endif
  if (!o.devices.empty() && !has_flag(args, {"--kokkos-device-id=", "--kokkos-device="}))
    args.push_back("--kokkos-device-id=" + std::to_string(o.devices.front()));
  r.argv_storage.assign(1, "chipcast");
  r.argv_storage.insert(r.argv_storage.end(), args.begin(), args.end());
  r.argv.clear();
  for (auto& s : r.argv_storage) r.argv.push_back(&s[0]);
  r.argv.push_back(nullptr);
  int argc = static_cast<int>(r.argv_storage.size());
  Kokkos::initialize(argc, r.argv.data());
  r.initialized_here = true;
  std::atexit(finalize_at_exit);
}

void require_alive() {
  if (!Kokkos::is_initialized())
    throw std::runtime_error("kokkos backend: Kokkos is not initialized (already finalized at exit?)");
}

// ---------------------------------------------------------------------------
// Host execution spaces (Serial, OpenMP, Threads, HPX): exactly the OpenMP
// backend's computation. The same LaneState<kHostLanes> blocks
// (backends/host_blocks.h), compiled with the same flags, so the tallies are
// byte-identical to it; chunks of kHostBlocksPerChunk blocks advance period by
// period; each worker counts into its own partial tally without atomics
// (levels through 16-bit HotLevels, as OpenMP does).
//
// Kokkos gives a range functor no portable thread id (UniqueToken is
// Kokkos::Experimental), so the parallel_for runs one work item per worker
// slot (concurrency() of them); slot w owns partials[w] and states[w] and
// takes chunks from a shared counter, like OpenMP's schedule(dynamic, 1). The
// result does not depend on how Kokkos maps slots to threads.

using HostState = parity::LaneState<kHostLanes>;

// Claims chunks of kHostChunk trajectories from a shared counter until none is
// left, running each through the kHostLanes-lane kernels into `sink`, after
// before(chunk size).
template <class Sink, class Before>
void run_claimed_chunks(const parity::ModelParams& params, uint64_t first, int64_t count,
                        std::atomic<int64_t>& next_chunk, HostState* state, Sink& sink, Before before) {
  const int64_t chunks = (count + kHostChunk - 1) / kHostChunk;
  for (int64_t c = next_chunk.fetch_add(1); c < chunks; c = next_chunk.fetch_add(1)) {
    const int64_t begin = c * kHostChunk;
    const int64_t n = std::min<int64_t>(kHostChunk, count - begin);
    before(n);
    parity::run_blocks<kHostLanes>(params, first + begin, n, begin, state, sink);
  }
}

// Slot w's counts start at zero (batch_merge keeps them so between batches).
struct HostBlocksTally {
  const parity::ModelParams* params;
  uint64_t first;
  int64_t count;
  std::atomic<int64_t>* next_chunk;
  const WorkerCounts* workers;
  HostState* const* states;

  void operator()(const int64_t w) const {
    HotLevels* hot = workers[w].hot;
    HotSink sink = hot->sink(workers[w].partial->view());
    run_claimed_chunks(*params, first, count, *next_chunk, states[w], sink,
                       [&](int64_t n) { hot->before_chunk(n, sink.counters.view.level); });
  }
};

// Slice s of the workers' level counts into the tally (merge_level_slice),
// after every slot's HostBlocksTally has finished.
struct HostMergeSlices {
  const WorkerCounts* workers;
  int n;
  Tally* tally;
  void operator()(const int64_t s) const { merge_level_slice(static_cast<int>(s), n, workers, n, *tally); }
};

struct HostBlocksCrossing {
  const parity::ModelParams* params;
  uint64_t first;
  int64_t count;
  std::atomic<int64_t>* next_chunk;
  float* times;
  HostState* const* states;

  void operator()(const int64_t w) const {
    CrossingTimeSink sink{times, count};  // chunks write disjoint indices
    run_claimed_chunks(*params, first, count, *next_chunk, states[w], sink, [](int64_t) {});
  }
};

// ---------------------------------------------------------------------------
// Device execution spaces: one trajectory per thread (LaneState<1>, which
// stays in registers and local memory), every count an atomic increment of
// one 32-bit tally in device memory. Per-thread or per-team copies of the
// tally do not fit: it is ~15 MB for the baseline's 136 periods, against
// 100-200 KB of shared memory per multiprocessor and 10^5 resident threads.
// Atomics are also what a ScatterView does on a device, without
// Kokkos::Experimental. Counts are integers, so the order of the atomics
// cannot change the result.

// ViewCounters (kernels/tally/sinks.h) with Kokkos atomics; the counting
// rules are CountSink's.
struct AtomicViewCounters {
  HistView view;
  KOKKOS_INLINE_FUNCTION void add_level(int k, int series, int bin) const {
    Kokkos::atomic_add(&view.level_row(k, series)[bin], uint32_t{1});
  }
  KOKKOS_INLINE_FUNCTION void add_anomaly(int a) const { Kokkos::atomic_add(&view.anomalies[a], uint32_t{1}); }
  KOKKOS_INLINE_FUNCTION void add_crossing(int metric, int bin) const {
    Kokkos::atomic_add(&view.crossing_row(metric)[bin], uint32_t{1});
  }
  KOKKOS_INLINE_FUNCTION TallyShape shape() const { return view.shape; }
};
using AtomicHistSink = CountSink<AtomicViewCounters>;

template <class Mem>
using ParamsView = Kokkos::View<const parity::ModelParams*, Mem>;

template <class Mem>
struct SingleLaneTally {
  ParamsView<Mem> params;  // ~400 KB with the quantile tables: too big for a kernel argument
  HistView view;
  uint64_t first;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    parity::LaneState<1> s;
    AtomicHistSink sink{AtomicViewCounters{view}};
    parity::run_blocks<1>(params(0), first + static_cast<uint64_t>(i), 1, i, &s, sink);
  }
};

template <class Mem>
struct SingleLaneCrossing {
  ParamsView<Mem> params;
  float* times;
  int64_t count;
  uint64_t first;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    parity::LaneState<1> s;
    CrossingTimeSink sink{times, count};
    parity::run_blocks<1>(params(0), first + static_cast<uint64_t>(i), 1, i, &s, sink);
  }
};

// The parameters, copied into the space's memory.
template <class Space>
ParamsView<typename Space::memory_space> params_in(const parity::ModelParams& p) {
  using Mem = typename Space::memory_space;
  Kokkos::View<parity::ModelParams*, Mem> d(Kokkos::view_alloc(Kokkos::WithoutInitializing, "chipcast::params"), 1);
  Kokkos::View<const parity::ModelParams*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(&p, 1);
  Kokkos::deep_copy(d, h);
  return d;
}

template <class Space>
void single_lane_run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) {
  using Mem = typename Space::memory_space;
  const TallyShape shape = parity::tally_shape(p);
  Kokkos::View<uint32_t*, Mem> counts("chipcast::counts",
                                      static_cast<size_t>(HistView::block_entries(shape)));  // zeroed
  Kokkos::parallel_for("chipcast::single_lane_tally", Kokkos::RangePolicy<Space, Index>(0, static_cast<int64_t>(count)),
                       SingleLaneTally<Mem>{params_in<Space>(p), HistView::of_block(counts.data(), shape), first});
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), counts);  // fences
  tally.add(HistView::of_block(host.data(), shape), count);
}

template <class Space>
void single_lane_crossing(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) {
  using Mem = typename Space::memory_space;
  const size_t n = static_cast<size_t>(kNumMetrics) * count;
  Kokkos::View<float*, Mem> times(Kokkos::view_alloc(Kokkos::WithoutInitializing, "chipcast::times"), n);
  Kokkos::parallel_for("chipcast::single_lane_crossing",
                       Kokkos::RangePolicy<Space, Index>(0, static_cast<int64_t>(count)),
                       SingleLaneCrossing<Mem>{params_in<Space>(p), times.data(), static_cast<int64_t>(count), first});
  Kokkos::View<float*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> host(out, n);
  Kokkos::deep_copy(host, times);
}

// ---------------------------------------------------------------------------

// kBlocks: the host algorithm (16-lane blocks, per-worker tallies); else the
// device algorithm (one lane per thread, atomics), on any Space.
template <class Space, bool kBlocks>
class KokkosBackend final : public Backend {
  static_assert(!kBlocks || on_host<Space>(), "lane blocks and per-worker tallies need a host space");

 public:
  explicit KokkosBackend(const BackendOptions& o) {
    ensure_initialized(o);
    workers_ = std::max(1, Space().concurrency());
  }

  std::string name() const override { return kBlocks || !on_host<Space>() ? "kokkos" : "kokkos-single-lane"; }
  std::string describe() const override {
    std::string d = "kokkos " + version_string() + ": " + Space::name() + ", ";
    if (kBlocks)
      return d + std::to_string(workers_) + (workers_ == 1 ? " thread, " : " threads, ") + std::to_string(kHostLanes) +
             " trajectories per SIMD block";
    return d + (on_host<Space>() ? std::to_string(workers_) + " threads, " : std::string()) +
           "1 trajectory per thread, atomic tally";
  }
  uint64_t preferred_batch() const override { return on_host<Space>() ? uint64_t{1} << 18 : uint64_t{1} << 22; }

  void run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) override {
    if (count >= (uint64_t{1} << 32)) throw std::invalid_argument("kokkos backend: batch must be < 2^32 trajectories");
    require_alive();
    if (count == 0) return;
    if constexpr (kBlocks) {
      ensure_workers(p);
      std::atomic<int64_t> next{0};
      std::vector<WorkerCounts> counts;
      std::vector<HostState*> states;
      for (int w = 0; w < workers_; ++w) {
        counts.push_back(WorkerCounts{partials_[w].get(), &hot_[w]});
        states.push_back(states_[w].data());
      }
      check_mergeable(counts.data(), workers_, tally);
      Kokkos::parallel_for(
          "chipcast::host_blocks_tally", Kokkos::RangePolicy<Space, Index>(0, workers_),
          HostBlocksTally{&p, first, static_cast<int64_t>(count), &next, counts.data(), states.data()});
      Space().fence();
      Kokkos::parallel_for("chipcast::host_merge_slices", Kokkos::RangePolicy<Space, Index>(0, workers_),
                           HostMergeSlices{counts.data(), workers_, &tally});
      Space().fence();
      merge_rest(counts.data(), workers_, count, tally);
    } else {
      single_lane_run<Space>(p, first, count, tally);
    }
  }

  void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) override {
    require_alive();
    if (count == 0) return;
    if constexpr (kBlocks) {
      std::atomic<int64_t> next{0};
      std::vector<std::vector<HostState>> states(workers_, std::vector<HostState>(kHostBlocksPerChunk));
      std::vector<HostState*> state_ptrs;
      for (auto& s : states) state_ptrs.push_back(s.data());
      Kokkos::parallel_for("chipcast::host_blocks_crossing", Kokkos::RangePolicy<Space, Index>(0, workers_),
                           HostBlocksCrossing{&p, first, static_cast<int64_t>(count), &next, out, state_ptrs.data()});
      Space().fence();
    } else {
      single_lane_crossing<Space>(p, first, count, out);
    }
  }

 private:
  // Per-worker partial tallies and lane states, kept between batches of the same shape.
  void ensure_workers(const parity::ModelParams& p) {
    const TallyShape shape = parity::tally_shape(p);
    if (!partials_.empty() && shape_ == shape) return;
    partials_.clear();
    states_.assign(workers_, std::vector<HostState>(kHostBlocksPerChunk));
    for (int w = 0; w < workers_; ++w) partials_.push_back(std::make_unique<PartialTally>(shape));
    hot_.assign(workers_, HotLevels(shape));
    shape_ = shape;
  }

  int workers_ = 1;
  TallyShape shape_{-1, -1};
  std::vector<std::unique_ptr<PartialTally>> partials_;
  std::vector<HotLevels> hot_;
  std::vector<std::vector<HostState>> states_;
};

}  // namespace kokkos_detail

std::unique_ptr<Backend> make_kokkos_backend(const BackendOptions& options) {
  using namespace kokkos_detail;
  return std::make_unique<KokkosBackend<ExecSpace, on_host<ExecSpace>()>>(options);
}

std::unique_ptr<Backend> make_kokkos_single_lane_backend_for_testing(const BackendOptions& options) {
  using namespace kokkos_detail;
  return std::make_unique<KokkosBackend<HostExecSpace, false>>(options);
}

std::string kokkos_info_line() {
  using namespace kokkos_detail;
  return "kokkos: " + version_string() + ", " + ExecSpace::name() + (on_host<ExecSpace>() ? " (host)" : " (device)");
}

void kokkos_set_args(int argc, char** argv) {
  using namespace kokkos_detail;
  Runtime& r = runtime();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.initialized_here || r.finalized)
    throw std::logic_error("kokkos_set_args: Kokkos is already initialized; call it before the first Kokkos backend");
  r.args.clear();
  for (int i = 1; i < argc; ++i)
    if (argv[i] && starts_with(argv[i], "--kokkos-")) r.args.emplace_back(argv[i]);
}

int kokkos_remove_args(int argc, char** argv) {
  int out = argc > 0 ? 1 : 0;
  for (int i = 1; i < argc; ++i)
    if (!(argv[i] && std::strncmp(argv[i], "--kokkos-", 9) == 0)) argv[out++] = argv[i];
  if (out < argc) argv[out] = nullptr;
  return out;
}

}  // namespace chipcast
