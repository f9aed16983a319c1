// Thrust (OMP device system) version of the GPU backend's batch: the same functor and sink, run by thrust::for_each on the CPU.
#include "backends/cuda/thrust_omp_path.h"

#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <stdexcept>

#include "backends/cuda/batch_functors.h"
#include "backends/cuda/batch_sink.h"
#include "tally/partial_tally.h"

namespace chipcast {
namespace {

using gpu::Aggregation;
using gpu::BatchSink;

template <class T>
T* raw(thrust::device_vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}

// Calls f(i) for i in [0, n) on the device system (here: OpenMP threads).
template <class F>
void for_each_index(int64_t n, const F& f) {
  thrust::for_each(thrust::device, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n), f);
}

class ThrustOmpBackend final : public Backend {
 public:
  explicit ThrustOmpBackend(const ThrustOmpSettings& s) : lanes_(s.lanes), piece_(static_cast<int64_t>(s.piece)) {
    if (lanes_ != 1 && lanes_ != 16) throw std::invalid_argument("thrust-omp: lanes must be 1 or 16");
    if (piece_ <= 0) throw std::invalid_argument("thrust-omp: piece must be positive");
  }

  std::string name() const override { return "thrust-omp"; }
  std::string describe() const override {
    return "thrust-omp: GPU-path functors on Thrust's OMP system, " + std::to_string(lanes_) + " lane(s), " +
           std::to_string(piece_) + " trajectories per piece";
  }
  uint64_t preferred_batch() const override { return uint64_t{1} << 18; }

  void run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) override {
    if (count >= (uint64_t{1} << 32)) throw std::invalid_argument("thrust-omp: batch must be < 2^32 trajectories");
    if (count == 0) return;
    prepare(p);
    thrust::fill(level_.begin(), level_.end(), 0u);
    thrust::fill(crossing_.begin(), crossing_.end(), 0u);
    thrust::fill(anomalies_.begin(), anomalies_.end(), 0u);
    BatchSink sink;
    sink.mode = Aggregation::atomic;
    sink.hist = device_view(p);
    for (uint64_t done = 0; done < count;) {
      const int64_t n = std::min<int64_t>(piece_, static_cast<int64_t>(count - done));
      simulate(first + done, n, sink);
      done += static_cast<uint64_t>(n);
    }
    // The GPU backend's one copy of the histograms to the host, then the merge.
    const HistView h = host_->view();
    thrust::copy(level_.begin(), level_.end(), h.level);
    thrust::copy(crossing_.begin(), crossing_.end(), h.crossing);
    thrust::copy(anomalies_.begin(), anomalies_.end(), h.anomalies);
    tally.add(h, count);
  }

  void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) override {
    if (count == 0) return;
    prepare(p);
    for (uint64_t done = 0; done < count;) {
      const int64_t n = std::min<int64_t>(piece_, static_cast<int64_t>(count - done));
      times_.resize(static_cast<size_t>(kNumMetrics * n));
      BatchSink sink;
      sink.mode = Aggregation::times;
      sink.hist = device_view(p);
      sink.times = CrossingTimeSink{raw(times_), n};
      simulate(first + done, n, sink);
      for (int m = 0; m < kNumMetrics; ++m)
        thrust::copy(times_.begin() + m * n, times_.begin() + (m + 1) * n, out + m * count + done);
      done += static_cast<uint64_t>(n);
    }
  }

 private:
  void prepare(const parity::ModelParams& p) {
    // The device copy of the parameters, as bytes (as cudaMemcpy would), once per call.
    params_.resize(sizeof p);
    thrust::copy_n(reinterpret_cast<const unsigned char*>(&p), sizeof p, params_.begin());
    const TallyShape shape = parity::tally_shape(p);
    if (shape_ == shape) return;
    shape_ = shape;
    level_.assign(static_cast<size_t>(shape.level_entries()), 0u);
    crossing_.assign(static_cast<size_t>(shape.crossing_entries()), 0u);
    anomalies_.assign(kNumAnomalies, 0u);
    host_ = std::make_unique<PartialTally>(shape);
  }

  HistView device_view(const parity::ModelParams& p) {
    HistView v;
    v.level = raw(level_);
    v.crossing = raw(crossing_);
    v.anomalies = raw(anomalies_);
    v.shape = parity::tally_shape(p);
    return v;
  }

  void simulate(uint64_t first, int64_t n, const BatchSink& sink) {
    const auto* params = reinterpret_cast<const parity::ModelParams*>(raw(params_));
    if (lanes_ == 16)
      for_each_index((n + 15) / 16, gpu::SimulateBlocks<16>{params, first, n, sink});
    else
      for_each_index(n, gpu::SimulateBlocks<1>{params, first, n, sink});
  }

  int lanes_;
  int64_t piece_;
  TallyShape shape_{-1, -1};
  thrust::device_vector<unsigned char> params_;  // one ModelParams (malloc-aligned)
  thrust::device_vector<uint32_t> level_, crossing_, anomalies_;
  thrust::device_vector<float> times_;
  std::unique_ptr<PartialTally> host_;
};

}  // namespace

std::unique_ptr<Backend> make_thrust_omp_backend(const ThrustOmpSettings& settings) {
  return std::make_unique<ThrustOmpBackend>(settings);
}

}  // namespace chipcast
