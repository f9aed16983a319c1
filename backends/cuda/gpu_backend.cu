// CUDA/HIP backend: one thread per trajectory, atomic adds into device histograms, merged on the host.
//
// Compiled by nvcc (CUDA) or by hipcc as HIP (`-x hip`); gpu_runtime.h maps
// the runtime names. Per device and batch piece, simulate_kernel runs one
// trajectory per thread (LaneState<1>) and adds each level bin per (period,
// series) and each crossing bin per metric straight into the uint32 device
// histograms with atomicAdd. They accumulate over the pieces of one run()
// call (fewer than 2^31 trajectories between copies) and are copied to the
// host once, then merged with Tally::add.

// The runtime header first: under hipcc it defines __forceinline__, which
// kernels/macros.h uses (nvcc includes its runtime header implicitly).
#include "backends/cuda/gpu_runtime.h"

#include "backends/cuda/gpu_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/cuda/batch_functors.h"
#include "backends/cuda/batch_sink.h"
#include "backends/cuda/device_work.h"
#include "tally/partial_tally.h"

namespace chipcast {
namespace gpu {
namespace {

constexpr int kSimulateThreads = 128;
// Trajectories counted into the uint32 device histograms between host merges.
constexpr uint64_t kFlushLimit = uint64_t{1} << 31;
// Bounds of a device piece (a grid of 32-bit size); below the minimum an
// out-of-memory is reported rather than retried.
constexpr int64_t kMaxPiece = int64_t{1} << 30;
constexpr int64_t kMinPiece = 4096;
// Share of free device memory the crossing-times buffer may take.
constexpr double kMemoryShare = 0.75;

// ---------------------------------------------------------------- kernels

// Minimum resident blocks per SM for the simulate kernel: caps its registers
// (65536 / (threads * blocks)); what does not fit spills to L1-cached local memory.
#ifndef CHIPCAST_GPU_MIN_BLOCKS
#define CHIPCAST_GPU_MIN_BLOCKS 1
#endif
__global__ void __launch_bounds__(kSimulateThreads, CHIPCAST_GPU_MIN_BLOCKS) simulate_kernel(SimulateBlocks<1> f) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < f.count) f(i);
}

int64_t blocks_for(int64_t n, int threads) { return (n + threads - 1) / threads; }

void check_launch(const char* kernel, const char* file, int line) { check(CC_GPU(GetLastError)(), kernel, file, line); }
#define CC_GPU_CHECK_LAUNCH(kernel) check_launch(kernel " launch", __FILE__, __LINE__)

template <class T>
void device_free(T*& p) {
  if (p) (void)CC_GPU(Free)(p);
  p = nullptr;
}

// ---------------------------------------------------------------- settings

uint64_t parse_device_batch(uint64_t b) {
  if (b) return b;
  const char* env = std::getenv("CHIPCAST_GPU_BATCH");
  if (!env || !*env) return 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (*end != '\0' || v == 0)
    throw std::runtime_error(std::string("CHIPCAST_GPU_BATCH='") + env +
                             "' is not a positive number of trajectories (unset it to size batches from free memory)");
  return v;
}

// ---------------------------------------------------------------- profiling

// CHIPCAST_GPU_PROFILE=1: per-phase device times (events), printed to stderr
// when the backend is destroyed. Off by default (the events synchronise).
struct PhaseTimes {
  bool on = false;
  double simulate = 0, flush = 0;
  uint64_t trajectories = 0, pieces = 0, flushes = 0;
};

bool profile_requested() {
  const char* env = std::getenv("CHIPCAST_GPU_PROFILE");
  return env && *env && std::string(env) != "0";
}

// Seconds between two events recorded on one stream.
double elapsed(CC_GPU(Event_t) a, CC_GPU(Event_t) b) {
  CC_GPU_CHECK(CC_GPU(EventSynchronize)(b));
  float ms = 0;
  CC_GPU_CHECK(CC_GPU(EventElapsedTime)(&ms, a, b));
  return ms * 1e-3;
}

// ---------------------------------------------------------------- one device

// Everything one device holds; used by one host thread at a time.
struct DeviceContext {
  int device = 0;
  std::string label;  // "NVIDIA H100 80GB HBM3 (sm_90)"
  Stream stream = nullptr;
  parity::ModelParams* params = nullptr;
  // One uint32 partial tally on the device, and its host copy.
  TallyShape shape{-1, -1};
  uint32_t* level = nullptr;
  uint32_t* crossing = nullptr;
  uint32_t* anomalies = nullptr;
  std::unique_ptr<PartialTally> host;
  // Crossing times (Backend::crossing_times) for `capacity` trajectories.
  int64_t capacity = 0;
  int64_t limit = 0;  // largest capacity worth allocating (memory or CHIPCAST_GPU_BATCH)
  float* times = nullptr;
  PhaseTimes times_;
  CC_GPU(Event_t) events_[2] = {};

  DeviceContext(int dev) : device(dev) {
    CC_GPU_CHECK(CC_GPU(SetDevice)(device));
    DeviceProp prop;
    CC_GPU_CHECK(CC_GPU(GetDeviceProperties)(&prop, device));
#if CHIPCAST_HIP
    label = std::string(prop.name) + " (" + prop.gcnArchName + ")";
#else
    label = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
#endif
    CC_GPU_CHECK(CC_GPU(StreamCreate)(&stream));
    times_.on = profile_requested();
    if (times_.on)
      for (auto& e : events_) CC_GPU_CHECK(CC_GPU(EventCreate)(&e));
    CC_GPU_CHECK(CC_GPU(Malloc)(&params, sizeof(parity::ModelParams)));
  }
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;
  ~DeviceContext() {
    if (times_.on)
      std::fprintf(stderr,
                   "chipcast gpu profile, device %d: %llu trajectories in %llu pieces: simulate %.3f s, "
                   "%llu copies + merges %.3f s\n",
                   device, static_cast<unsigned long long>(times_.trajectories),
                   static_cast<unsigned long long>(times_.pieces), times_.simulate,
                   static_cast<unsigned long long>(times_.flushes), times_.flush);
    if (CC_GPU(SetDevice)(device) != CC_GPU(Success)) return;
    if (times_.on)
      for (auto& e : events_) (void)CC_GPU(EventDestroy)(e);
    free_histograms();
    free_buffers();
    device_free(params);
    if (stream) (void)CC_GPU(StreamDestroy)(stream);
  }

  HistView hist_view() const {
    HistView v;
    v.level = level;
    v.crossing = crossing;
    v.anomalies = anomalies;
    v.shape = shape;
    return v;
  }
  size_t level_count() const { return static_cast<size_t>(shape.level_entries()); }
  size_t crossing_count() const { return static_cast<size_t>(shape.crossing_entries()); }

  void free_histograms() {
    device_free(level);
    device_free(crossing);
    device_free(anomalies);
  }
  void free_buffers() {
    device_free(times);
    capacity = 0;
  }

  // Histograms for this shape; buffers sized for another shape are dropped.
  void ensure_histograms(const parity::ModelParams& p) {
    if (shape == parity::tally_shape(p)) return;
    free_histograms();
    free_buffers();
    shape = parity::tally_shape(p);
    CC_GPU_CHECK(CC_GPU(Malloc)(&level, level_count() * sizeof(uint32_t)));
    CC_GPU_CHECK(CC_GPU(Malloc)(&crossing, crossing_count() * sizeof(uint32_t)));
    CC_GPU_CHECK(CC_GPU(Malloc)(&anomalies, kNumAnomalies * sizeof(uint32_t)));
    host = std::make_unique<PartialTally>(shape);
  }

  void zero_histograms() {
    CC_GPU_CHECK(CC_GPU(MemsetAsync)(level, 0, level_count() * sizeof(uint32_t), stream));
    CC_GPU_CHECK(CC_GPU(MemsetAsync)(crossing, 0, crossing_count() * sizeof(uint32_t), stream));
    CC_GPU_CHECK(CC_GPU(MemsetAsync)(anomalies, 0, kNumAnomalies * sizeof(uint32_t), stream));
  }

  // One copy of the histograms to the host, merged into `tally`; then zeroed.
  void flush(uint64_t trajectories, Tally& tally, std::mutex& tally_mutex) {
    const auto t0 = std::chrono::steady_clock::now();
    const HistView h = host->view();
    CC_GPU_CHECK(
        CC_GPU(MemcpyAsync)(h.level, level, level_count() * sizeof(uint32_t), CC_GPU(MemcpyDeviceToHost), stream));
    CC_GPU_CHECK(CC_GPU(MemcpyAsync)(h.crossing, crossing, crossing_count() * sizeof(uint32_t),
                                     CC_GPU(MemcpyDeviceToHost), stream));
    CC_GPU_CHECK(CC_GPU(MemcpyAsync)(h.anomalies, anomalies, kNumAnomalies * sizeof(uint32_t),
                                     CC_GPU(MemcpyDeviceToHost), stream));
    CC_GPU_CHECK(CC_GPU(StreamSynchronize)(stream));
    {
      std::lock_guard<std::mutex> lock(tally_mutex);
      tally.add(h, trajectories);
    }
    zero_histograms();
    if (times_.on) {
      times_.flush += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++times_.flushes;
    }
  }

  // A crossing-times buffer for min(want, what fits in free memory)
  // trajectories, kept across calls; halves the request on out-of-memory.
  // Returns the capacity.
  int64_t ensure_buffers(int64_t want, uint64_t fixed_batch) {
    want = std::max<int64_t>(want, 1);
    if (capacity > 0 && (capacity >= want || capacity >= limit)) return capacity;
    free_buffers();
    const int64_t per = kNumMetrics * static_cast<int64_t>(sizeof(float));
    limit = std::min<int64_t>(static_cast<int64_t>(fixed_batch), kMaxPiece);
    if (limit == 0) {
      size_t free_bytes = 0, total = 0;
      CC_GPU_CHECK(CC_GPU(MemGetInfo)(&free_bytes, &total));
      limit = static_cast<int64_t>(kMemoryShare * static_cast<double>(free_bytes)) / per;
      limit = std::min<int64_t>(std::max<int64_t>(limit, kMinPiece), kMaxPiece);
    }
    const int64_t asked = std::min(limit, want);
    const int64_t cap = allocate_shrinking<GpuError>(
        asked, kMinPiece,
        [&](int64_t c) { CC_GPU_CHECK(CC_GPU(Malloc)(&times, static_cast<size_t>(kNumMetrics) * c * sizeof(float))); },
        [&] { free_buffers(); });
    if (cap < asked) limit = cap;  // what fits now; later calls do not try larger
    capacity = cap;
    return cap;
  }

  // Simulates and counts trajectories [first, first + n) (n <= kMaxPiece).
  void run_piece(uint64_t first, int64_t n) {
    BatchSink sink;
    sink.mode = Aggregation::atomic;
    sink.hist = hist_view();
    SimulateBlocks<1> f{params, first, n, sink};
    mark(0);
    simulate_kernel<<<static_cast<unsigned>(blocks_for(n, kSimulateThreads)), kSimulateThreads, 0, stream>>>(f);
    CC_GPU_CHECK_LAUNCH("simulate_kernel");
    mark(1);
    record_phases(n);
  }

  void mark(int i) {
    if (times_.on) CC_GPU_CHECK(CC_GPU(EventRecord)(events_[i], stream));
  }
  void record_phases(int64_t n) {
    if (!times_.on) return;
    times_.simulate += elapsed(events_[0], events_[1]);
    times_.trajectories += static_cast<uint64_t>(n);
    ++times_.pieces;
  }

  void upload(const parity::ModelParams& p) {
    CC_GPU_CHECK(CC_GPU(MemcpyAsync)(params, &p, sizeof p, CC_GPU(MemcpyHostToDevice), stream));
    // `p` may change after run() returns: the copy must be complete.
    CC_GPU_CHECK(CC_GPU(StreamSynchronize)(stream));
  }

  // run() for this device's share [first, first + count).
  void run(const parity::ModelParams& p, uint64_t fixed_batch, uint64_t first, uint64_t count, Tally& tally,
           std::mutex& tally_mutex) {
    CC_GPU_CHECK(CC_GPU(SetDevice)(device));
    ensure_histograms(p);
    upload(p);
    zero_histograms();
    const int64_t cap = fixed_batch ? std::min<int64_t>(static_cast<int64_t>(fixed_batch), kMaxPiece) : kMaxPiece;
    uint64_t done = 0, pending = 0;
    while (done < count) {
      const int64_t n = static_cast<int64_t>(std::min<uint64_t>(count - done, static_cast<uint64_t>(cap)));
      if (pending + static_cast<uint64_t>(n) > kFlushLimit) {
        flush(pending, tally, tally_mutex);
        pending = 0;
      }
      run_piece(first + done, n);
      done += static_cast<uint64_t>(n);
      pending += static_cast<uint64_t>(n);
    }
    flush(pending, tally, tally_mutex);
  }

  void crossing_times(const parity::ModelParams& p, uint64_t fixed_batch, uint64_t first, uint64_t count, float* out,
                      uint64_t out_count, uint64_t out_offset) {
    CC_GPU_CHECK(CC_GPU(SetDevice)(device));
    ensure_histograms(p);
    upload(p);
    const int64_t cap = ensure_buffers(static_cast<int64_t>(std::min<uint64_t>(count, kMaxPiece)), fixed_batch);
    uint64_t done = 0;
    while (done < count) {
      const int64_t n = static_cast<int64_t>(std::min<uint64_t>(count - done, static_cast<uint64_t>(cap)));
      BatchSink sink;
      sink.mode = Aggregation::times;
      sink.hist = hist_view();
      sink.times = CrossingTimeSink{times, n};
      SimulateBlocks<1> f{params, first + done, n, sink};
      simulate_kernel<<<static_cast<unsigned>(blocks_for(n, kSimulateThreads)), kSimulateThreads, 0, stream>>>(f);
      CC_GPU_CHECK_LAUNCH("simulate_kernel");
      for (int m = 0; m < kNumMetrics; ++m)
        CC_GPU_CHECK(CC_GPU(MemcpyAsync)(out + m * out_count + out_offset + done, times + m * n, n * sizeof(float),
                                         CC_GPU(MemcpyDeviceToHost), stream));
      CC_GPU_CHECK(CC_GPU(StreamSynchronize)(stream));
      done += static_cast<uint64_t>(n);
    }
  }
};

std::string no_device_reason() {
  int n = 0;
  const Error e = CC_GPU(GetDeviceCount)(&n);
  if (e != CC_GPU(Success)) {
    (void)CC_GPU(GetLastError)();
    return CC_GPU(GetErrorString)(e);
  }
  return n == 0 ? "the runtime reports 0 devices" : "";
}

// ---------------------------------------------------------------- backend

class GpuBackend final : public Backend {
 public:
  GpuBackend(const BackendOptions& options, const GpuSettings& settings)
      : fixed_batch_(parse_device_batch(settings.device_batch)) {
    const int count = gpu_device_count();
    if (count == 0)
      throw std::runtime_error(std::string("no ") + CC_GPU_RUNTIME_NAME + " device found (" + no_device_reason() +
                               "): the " + CC_GPU_BACKEND_NAME + " backend needs one; " +
                               advice_for(CC_GPU(ErrorNoDevice)));
    std::vector<int> ids = options.devices.empty() ? std::vector<int>{0} : options.devices;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= count)
        throw std::runtime_error("device " + std::to_string(ids[i]) + " does not exist: this process sees " +
                                 std::to_string(count) + " " + CC_GPU_RUNTIME_NAME + " device(s), ids 0.." +
                                 std::to_string(count - 1) + "; `chipcast info` lists them");
      for (size_t j = 0; j < i; ++j)
        if (ids[j] == ids[i])
          throw std::runtime_error("device " + std::to_string(ids[i]) + " is listed twice; list each device once");
    }
    for (int id : ids) devices_.push_back(std::make_unique<DeviceContext>(id));
  }

  std::string name() const override { return CC_GPU_BACKEND_NAME; }
  std::string describe() const override {
    std::string s = std::string(CC_GPU_BACKEND_NAME) + ": " + std::to_string(devices_.size()) + " device(s): ";
    for (size_t i = 0; i < devices_.size(); ++i)
      s += (i ? ", " : "") + std::to_string(devices_[i]->device) + " " + devices_[i]->label;
    if (fixed_batch_) s += ", " + std::to_string(fixed_batch_) + " trajectories per launch";
    return s;
  }
  // Large batches: each run() call ends with one histogram copy and host merge
  // per device (~15 MB for the baseline), so fewer, larger calls are cheaper.
  uint64_t preferred_batch() const override { return (uint64_t{1} << 26) * devices_.size(); }

  void run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) override {
    if (tally.shape != parity::tally_shape(p))
      throw std::invalid_argument(name() + " backend: the tally's shape does not match the parameters");
    if (count == 0) return;
    std::mutex tally_mutex;
    split_across(devices_.size(), first, count, [&](size_t d, uint64_t f, uint64_t n) {
      devices_[d]->run(p, fixed_batch_, f, n, tally, tally_mutex);
    });
  }

  void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) override {
    if (count == 0) return;
    split_across(devices_.size(), first, count, [&](size_t d, uint64_t f, uint64_t n) {
      devices_[d]->crossing_times(p, fixed_batch_, f, n, out, count, f - first);
    });
  }

 private:
  uint64_t fixed_batch_;
  std::vector<std::unique_ptr<DeviceContext>> devices_;
};

std::string version_string(int v) {
#if CHIPCAST_HIP
  return std::to_string(v);
#else
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
#endif
}

}  // namespace
}  // namespace gpu

std::string gpu_backend_name() { return CC_GPU_BACKEND_NAME; }

int gpu_device_count() {
  int n = 0;
  if (CC_GPU(GetDeviceCount)(&n) != CC_GPU(Success)) {
    (void)CC_GPU(GetLastError)();
    return 0;
  }
  return n;
}

std::vector<std::string> gpu_info_lines() {
  using namespace gpu;
  const std::string prefix = std::string(CC_GPU_BACKEND_NAME) + ": ";
  std::vector<std::string> lines;
  const int n = gpu_device_count();
  if (n == 0) {
    lines.push_back(prefix + "no " + CC_GPU_RUNTIME_NAME + " device found (" + no_device_reason() + ")");
    return lines;
  }
  int driver = 0, runtime = 0;
  (void)CC_GPU(DriverGetVersion)(&driver);
  (void)CC_GPU(RuntimeGetVersion)(&runtime);
  lines.push_back(prefix + std::to_string(n) + " device(s); driver " + version_string(driver) + ", runtime " +
                  version_string(runtime));
  for (int d = 0; d < n; ++d) {
    DeviceProp prop;
    if (CC_GPU(GetDeviceProperties)(&prop, d) != CC_GPU(Success)) {
      (void)CC_GPU(GetLastError)();
      lines.push_back(prefix + "device " + std::to_string(d) + ": properties unavailable");
      continue;
    }
    char mem[64];
    std::snprintf(mem, sizeof mem, "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
#if CHIPCAST_HIP
    const std::string arch = std::string("gcnArchName ") + prop.gcnArchName;
#else
    const std::string arch = "compute capability " + std::to_string(prop.major) + "." + std::to_string(prop.minor);
#endif
    lines.push_back(prefix + "device " + std::to_string(d) + ": " + prop.name + ", " + mem + ", " + arch + ", " +
                    std::to_string(prop.multiProcessorCount) + " multiprocessors");
  }
  return lines;
}

std::unique_ptr<Backend> make_gpu_backend(const BackendOptions& options) {
  return make_gpu_backend(options, GpuSettings{});
}

std::unique_ptr<Backend> make_gpu_backend(const BackendOptions& options, const GpuSettings& settings) {
  return std::make_unique<gpu::GpuBackend>(options, settings);
}

}  // namespace chipcast
