// CUDA/HIP backend: one thread per trajectory, bin buffers counted by privatised histogram kernels, merged on the host.
//
// Compiled by nvcc (CUDA) or by hipcc as HIP (`-x hip`); gpu_runtime.h maps
// the runtime names. Per device and batch piece:
//   1. simulate_kernel: one trajectory per thread (LaneState<1>), writing a
//      uint16 level bin per (period, series) and an int32 crossing bin per
//      metric into batch buffers (or, with CHIPCAST_GPU_AGGREGATION=atomic,
//      adding straight into the uint32 histograms);
//   2. level_histogram_kernel: a block per (row chunk, row) counts its codes
//      into a shared-memory histogram and adds the non-zero bins to the row;
//   3. crossing bins: cub::DeviceHistogram::HistogramEven (CUDA) or
//      rocprim::histogram_even (HIP), added into the crossing histogram.
// The uint32 device histograms accumulate over the pieces of one run() call
// (fewer than 2^31 trajectories between copies) and are copied to the host
// once, then merged with Tally::add.

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

#if CHIPCAST_HIP
#include <rocprim/device/device_histogram.hpp>
#else
#include <cub/device/device_histogram.cuh>
#endif

namespace chipcast {
namespace gpu {
namespace {

constexpr int kSimulateThreads = 128;
constexpr int kHistogramThreads = 256;
// Codes per histogram block: 16 passes of 8 codes (one 16-byte load) per thread.
constexpr int64_t kHistogramChunk = 16 * 8 * kHistogramThreads;
constexpr int64_t kMaxGridY = 65535;
// Trajectories counted into the uint32 device histograms between host merges.
constexpr uint64_t kFlushLimit = uint64_t{1} << 31;
// Bounds of a device piece: CUB/rocPRIM take 32-bit sizes; below the minimum
// an out-of-memory is reported rather than retried.
constexpr int64_t kMaxPiece = int64_t{1} << 30;
constexpr int64_t kMinPiece = 4096;
// Share of free device memory the bin buffers may take.
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

// Counts rows [row0, row0 + gridDim.y) of the level-bin buffer; block x counts
// codes [x * chunk, (x + 1) * chunk) of its row. Rows start 128-byte aligned
// (BatchBuffers::kStrideAlign) and chunk is a multiple of 8, so each thread
// reads 8 codes per 16-byte load.
__global__ void __launch_bounds__(kHistogramThreads)
    level_histogram_kernel(const uint16_t* codes, int64_t stride, int64_t count, int64_t chunk, int64_t row0,
                           uint32_t* level, uint32_t* anomalies) {
  __shared__ uint32_t hist[kLevelBins];
  __shared__ uint32_t nan_total;
  for (int b = threadIdx.x; b < kLevelBins; b += blockDim.x) hist[b] = 0;
  if (threadIdx.x == 0) nan_total = 0;
  __syncthreads();

  const int64_t row = row0 + blockIdx.y;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < count ? begin + chunk : count;
  const uint16_t* v = codes + row * stride;
  uint32_t nan = 0;
  auto add = [&](uint32_t c) {
    if (is_level_code(c))
      atomicAdd(hist + c, 1u);
    else
      ++nan;
  };
  for (int64_t j = begin + 8 * static_cast<int64_t>(threadIdx.x); j < end; j += 8 * static_cast<int64_t>(blockDim.x)) {
    if (j + 8 <= end) {
      const uint4 w = *reinterpret_cast<const uint4*>(v + j);
      add(w.x & 0xFFFFu);
      add(w.x >> 16);
      add(w.y & 0xFFFFu);
      add(w.y >> 16);
      add(w.z & 0xFFFFu);
      add(w.z >> 16);
      add(w.w & 0xFFFFu);
      add(w.w >> 16);
    } else {
      for (int64_t e = j; e < end; ++e) add(v[e]);
    }
  }
  if (nan) atomicAdd(&nan_total, nan);
  __syncthreads();

  uint32_t* out = level + row * kLevelBins;
  for (int b = threadIdx.x; b < kLevelBins; b += blockDim.x) {
    const uint32_t c = hist[b];
    if (c) atomicAdd(out + b, c);
  }
  if (threadIdx.x == 0 && nan_total) atomicAdd(anomalies + kAnomalyNanRatio, nan_total);
}

__global__ void add_kernel(uint32_t* dst, const uint32_t* src, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += src[i];
}

// Histogram of int32 crossing bins 0..bins-1 (one level per bin); it
// overwrites `hist`. temp == nullptr queries temp_bytes.
Error crossing_histogram(void* temp, size_t& temp_bytes, const int32_t* samples, uint32_t* hist, int bins, int64_t n,
                         Stream stream) {
#if CHIPCAST_HIP
  return rocprim::histogram_even(temp, temp_bytes, samples, static_cast<unsigned int>(n), hist,
                                 static_cast<unsigned int>(bins + 1), 0, bins, stream);
#else
  return cub::DeviceHistogram::HistogramEven(temp, temp_bytes, samples, hist, bins + 1, 0, bins, static_cast<int>(n),
                                             stream);
#endif
}

int64_t blocks_for(int64_t n, int threads) { return (n + threads - 1) / threads; }

void check_launch(const char* kernel, const char* file, int line) {
  check(CC_GPU(GetLastError)(), kernel, file, line);
}
#define CC_GPU_CHECK_LAUNCH(kernel) check_launch(kernel " launch", __FILE__, __LINE__)

template <class T>
void device_free(T*& p) {
  if (p) (void)CC_GPU(Free)(p);
  p = nullptr;
}

// ---------------------------------------------------------------- settings

Aggregation parse_aggregation(std::string s) {
  if (s.empty()) {
    const char* env = std::getenv("CHIPCAST_GPU_AGGREGATION");
    // Atomic is the default: on an H100 it ran the baseline 20 % faster than the
    // buffer + shared-memory histogram path (bench/RESULTS.md, 2026-11-23).
    s = env ? env : "atomic";
  }
  if (s == "buffer") return Aggregation::buffer;
  if (s == "atomic") return Aggregation::atomic;
  throw std::runtime_error("CHIPCAST_GPU_AGGREGATION='" + s +
                           "' is not an aggregation mode (valid: atomic, the default, or buffer)");
}

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

const char* aggregation_name(Aggregation a) {
  return a == Aggregation::atomic ? "atomic" : a == Aggregation::buffer ? "buffer" : "times";
}

// ---------------------------------------------------------------- profiling

// CHIPCAST_GPU_PROFILE=1: per-phase device times (events), printed to stderr
// when the backend is destroyed. Off by default (the events synchronise).
struct PhaseTimes {
  bool on = false;
  double simulate = 0, level_hist = 0, crossing_hist = 0, flush = 0;
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
  uint32_t* cross_scratch = nullptr;
  std::unique_ptr<PartialTally> host;
  // Bin buffers (buffer mode) or crossing times (times mode) for `capacity` trajectories.
  Aggregation buffer_mode = Aggregation::buffer;
  int64_t capacity = 0;
  int64_t limit = 0;  // largest capacity worth allocating (memory or CHIPCAST_GPU_BATCH)
  uint16_t* level_bins = nullptr;
  int32_t* cross_bins = nullptr;
  float* times = nullptr;
  void* temp = nullptr;
  size_t temp_bytes = 0;
  PhaseTimes times_;
  CC_GPU(Event_t) events_[4] = {};

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
                   "chipcast gpu profile, device %d: %llu trajectories in %llu pieces: simulate %.3f s, level "
                   "histograms %.3f s, crossing histograms %.3f s, %llu copies + merges %.3f s\n",
                   device, static_cast<unsigned long long>(times_.trajectories),
                   static_cast<unsigned long long>(times_.pieces), times_.simulate, times_.level_hist,
                   times_.crossing_hist, static_cast<unsigned long long>(times_.flushes), times_.flush);
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
    device_free(cross_scratch);
  }
  void free_buffers() {
    device_free(level_bins);
    device_free(cross_bins);
    device_free(times);
    if (temp) (void)CC_GPU(Free)(temp);
    temp = nullptr;
    temp_bytes = 0;
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
    CC_GPU_CHECK(CC_GPU(Malloc)(&cross_scratch, crossing_count() * sizeof(uint32_t)));
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
    CC_GPU_CHECK(CC_GPU(MemcpyAsync)(h.level, level, level_count() * sizeof(uint32_t), CC_GPU(MemcpyDeviceToHost), stream));
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

  // Buffers in `mode` for min(want, what fits in free memory) trajectories,
  // kept across calls; halves the request on out-of-memory. Returns the capacity.
  int64_t ensure_buffers(Aggregation mode, int64_t want, uint64_t fixed_batch) {
    want = std::max<int64_t>(want, 1);
    if (capacity > 0 && buffer_mode == mode && (capacity >= want || capacity >= limit)) return capacity;
    free_buffers();
    buffer_mode = mode;
    const int64_t per = mode == Aggregation::times ? kNumMetrics * static_cast<int64_t>(sizeof(float))
                                                   : BatchBuffers::bytes_per_trajectory(shape.periods);
    limit = std::min<int64_t>(static_cast<int64_t>(fixed_batch), kMaxPiece);
    if (limit == 0) {
      size_t free_bytes = 0, total = 0;
      CC_GPU_CHECK(CC_GPU(MemGetInfo)(&free_bytes, &total));
      limit = static_cast<int64_t>(kMemoryShare * static_cast<double>(free_bytes)) / per;
      limit = std::min<int64_t>(std::max<int64_t>(limit, kMinPiece), kMaxPiece);
    }
    const int64_t asked = std::min(limit, BatchBuffers::stride_for(want));
    const int64_t cap = allocate_shrinking<GpuError>(
        asked, kMinPiece, [&](int64_t c) { allocate_buffers(mode, c); }, [&] { free_buffers(); });
    if (cap < asked) limit = cap;  // what fits now; later calls do not try larger
    capacity = cap;
    return cap;
  }

  void allocate_buffers(Aggregation mode, int64_t cap) {
    if (mode == Aggregation::times) {
      CC_GPU_CHECK(CC_GPU(Malloc)(&times, static_cast<size_t>(kNumMetrics) * cap * sizeof(float)));
      return;
    }
    const int64_t stride = BatchBuffers::stride_for(cap);
    const int64_t rows = static_cast<int64_t>(shape.periods) * kNumSeries;
    CC_GPU_CHECK(CC_GPU(Malloc)(&level_bins, static_cast<size_t>(rows * stride) * sizeof(uint16_t)));
    CC_GPU_CHECK(CC_GPU(Malloc)(&cross_bins, static_cast<size_t>(kNumMetrics * stride) * sizeof(int32_t)));
    size_t bytes = 0;
    CC_GPU_CHECK(crossing_histogram(nullptr, bytes, cross_bins, cross_scratch, shape.crossing_bins(), cap,
                                    stream));
    CC_GPU_CHECK(CC_GPU(Malloc)(&temp, std::max<size_t>(bytes, 1)));
    temp_bytes = bytes;
  }

  // Simulates and counts trajectories [first, first + n) (n <= capacity).
  void run_piece(Aggregation mode, uint64_t first, int64_t n) {
    BatchSink sink;
    sink.mode = mode;
    sink.hist = hist_view();
    if (mode == Aggregation::buffer) sink.buffers = BatchBuffers{level_bins, cross_bins, BatchBuffers::stride_for(n)};
    SimulateBlocks<1> f{params, first, n, sink};
    mark(0);
    simulate_kernel<<<static_cast<unsigned>(blocks_for(n, kSimulateThreads)), kSimulateThreads, 0, stream>>>(f);
    CC_GPU_CHECK_LAUNCH("simulate_kernel");
    mark(1);
    if (mode != Aggregation::buffer) return record_phases(n, false);

    const int64_t stride = sink.buffers.stride;
    const int64_t rows = static_cast<int64_t>(shape.periods) * kNumSeries;
    const int64_t chunks = blocks_for(n, static_cast<int>(kHistogramChunk));
    for (int64_t row0 = 0; row0 < rows; row0 += kMaxGridY) {
      const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(std::min(kMaxGridY, rows - row0)));
      level_histogram_kernel<<<grid, kHistogramThreads, 0, stream>>>(level_bins, stride, n, kHistogramChunk, row0,
                                                                     level, anomalies);
      CC_GPU_CHECK_LAUNCH("level_histogram_kernel");
    }
    mark(2);
    const int cbins = shape.crossing_bins();
    for (int m = 0; m < kNumMetrics; ++m) {
      size_t bytes = temp_bytes;
      CC_GPU_CHECK(crossing_histogram(temp, bytes, cross_bins + m * stride, cross_scratch + m * cbins, cbins, n, stream));
    }
    const int64_t total = static_cast<int64_t>(kNumMetrics) * cbins;
    add_kernel<<<static_cast<unsigned>(blocks_for(total, 256)), 256, 0, stream>>>(crossing, cross_scratch, total);
    CC_GPU_CHECK_LAUNCH("add_kernel");
    mark(3);
    record_phases(n, true);
  }

  void mark(int i) {
    if (times_.on) CC_GPU_CHECK(CC_GPU(EventRecord)(events_[i], stream));
  }
  void record_phases(int64_t n, bool buffer) {
    if (!times_.on) return;
    times_.simulate += elapsed(events_[0], events_[1]);
    if (buffer) {
      times_.level_hist += elapsed(events_[1], events_[2]);
      times_.crossing_hist += elapsed(events_[2], events_[3]);
    }
    times_.trajectories += static_cast<uint64_t>(n);
    ++times_.pieces;
  }

  void upload(const parity::ModelParams& p) {
    CC_GPU_CHECK(CC_GPU(MemcpyAsync)(params, &p, sizeof p, CC_GPU(MemcpyHostToDevice), stream));
    // `p` may change after run() returns: the copy must be complete.
    CC_GPU_CHECK(CC_GPU(StreamSynchronize)(stream));
  }

  // run() for this device's share [first, first + count).
  void run(const parity::ModelParams& p, Aggregation mode, uint64_t fixed_batch, uint64_t first, uint64_t count,
           Tally& tally, std::mutex& tally_mutex) {
    CC_GPU_CHECK(CC_GPU(SetDevice)(device));
    ensure_histograms(p);
    upload(p);
    zero_histograms();
    const int64_t cap = mode == Aggregation::buffer
                            ? ensure_buffers(mode, static_cast<int64_t>(std::min<uint64_t>(count, kMaxPiece)), fixed_batch)
                            : (fixed_batch ? std::min<int64_t>(static_cast<int64_t>(fixed_batch), kMaxPiece) : kMaxPiece);
    uint64_t done = 0, pending = 0;
    while (done < count) {
      const int64_t n = static_cast<int64_t>(std::min<uint64_t>(count - done, static_cast<uint64_t>(cap)));
      if (pending + static_cast<uint64_t>(n) > kFlushLimit) {
        flush(pending, tally, tally_mutex);
        pending = 0;
      }
      run_piece(mode, first + done, n);
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
    const int64_t cap =
        ensure_buffers(Aggregation::times, static_cast<int64_t>(std::min<uint64_t>(count, kMaxPiece)), fixed_batch);
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
      : aggregation_(parse_aggregation(settings.aggregation)), fixed_batch_(parse_device_batch(settings.device_batch)) {
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
    s += std::string("; ") + aggregation_name(aggregation_) + " aggregation";
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
      devices_[d]->run(p, aggregation_, fixed_batch_, f, n, tally, tally_mutex);
    });
  }

  void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) override {
    if (count == 0) return;
    split_across(devices_.size(), first, count, [&](size_t d, uint64_t f, uint64_t n) {
      devices_[d]->crossing_times(p, fixed_batch_, f, n, out, count, f - first);
    });
  }

 private:
  Aggregation aggregation_;
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
