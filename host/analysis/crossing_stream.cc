// Chunked calls of RunSession::crossing_times into one metric-major buffer.
#include "host/analysis/crossing_stream.h"

#include <algorithm>
#include <cstring>

namespace chipcast::analysis {

void crossing_times_of(RunSession& session, const parity::ModelParams& params, uint64_t first, uint64_t count,
                       std::vector<float>& out, uint64_t chunk) {
  constexpr int kMetrics = 3;
  out.assign(static_cast<size_t>(kMetrics * count), -1.0f);
  if (count <= chunk) {
    session.crossing_times(params, first, count, out.data());
    return;
  }
  std::vector<float> part(static_cast<size_t>(kMetrics * chunk));
  for (uint64_t done = 0; done < count; done += chunk) {
    const uint64_t n = std::min(chunk, count - done);
    session.crossing_times(params, first + done, n, part.data());
    for (int m = 0; m < kMetrics; ++m)
      std::memcpy(out.data() + m * count + done, part.data() + m * n, static_cast<size_t>(n) * sizeof(float));
  }
}

}  // namespace chipcast::analysis
