// Host-side scheduling of the GPU backend: the split of a trajectory range across devices and the batch
// shrinking on out-of-memory. Plain C++ with no runtime calls, so the tests run it on any machine.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace chipcast::gpu {

// Device d's contiguous share of [first, first + count) among `devices`:
// shares differ by at most one trajectory, the larger ones first, and in
// device order they tile the range exactly.
struct Share {
  uint64_t first = 0, count = 0;
};
inline Share device_share(size_t devices, size_t d, uint64_t first, uint64_t count) {
  const uint64_t n = devices, base = count / n, extra = count % n;
  const uint64_t before = d * base + std::min<uint64_t>(d, extra);
  return Share{first + before, base + (d < extra ? 1 : 0)};
}

// Runs fn(d, share first, share count) for every device with a non-empty
// share, each on its own host thread (one device needs none). Every thread
// finishes before this returns; then the failure of the lowest-numbered
// failing device, if any, is rethrown.
template <class Fn>
void split_across(size_t devices, uint64_t first, uint64_t count, Fn fn) {
  if (devices == 1) {
    fn(size_t{0}, first, count);
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(devices);
  for (size_t d = 0; d < devices; ++d) {
    const Share s = device_share(devices, d, first, count);
    if (s.count == 0) continue;
    threads.emplace_back([&fn, &errors, d, s] {
      try {
        fn(d, s.first, s.count);
      } catch (...) {
        errors[d] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Allocates for `cap` trajectories with alloc(cap); while that throws an
// `Error` whose out_of_memory() is true, calls release() and tries again with
// half the capacity, down to min_cap. Returns the capacity that fitted. Any
// other error, and out-of-memory at min_cap, propagate (after release()).
template <class Error, class Alloc, class Release>
int64_t allocate_shrinking(int64_t cap, int64_t min_cap, Alloc alloc, Release release) {
  cap = std::max(cap, min_cap);
  while (true) {
    try {
      alloc(cap);
      return cap;
    } catch (const Error& e) {
      release();
      if (!e.out_of_memory() || cap <= min_cap) throw;
      cap = std::max(min_cap, cap / 2);
    }
  }
}

}  // namespace chipcast::gpu
